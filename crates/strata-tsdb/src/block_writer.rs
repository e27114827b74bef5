//! Writing a block: chunks and index into `<ulid>.tmp-for-creation`, then `tombstones`
//! and `meta.json`, fsync, and an atomic rename to `<ulid>`.

use std::fs;
use std::path::{Path, PathBuf};

use strata_model::Labels;
use tracing::warn;
use ulid::Ulid;

use crate::chunkenc::{ENC_XOR, XorChunk};
use crate::chunks::ChunkWriter;
use crate::error::{Error, Result};
use crate::index::{ChunkMeta, IndexWriter};
use crate::meta::{BlockMeta, write_meta};
use crate::tombstones::{Tombstones, write_tombstones};

/// Suffix of a block directory still being written.
pub const TMP_CREATION_SUFFIX: &str = ".tmp-for-creation";
/// Suffix of a block directory being deleted.
pub const TMP_DELETION_SUFFIX: &str = ".tmp-for-deletion";

/// Samples per chunk in blocks we write. Prometheus' head cuts chunks at 120 samples;
/// persisted blocks use up to 240, which halves the per-chunk overhead (header, first
/// timestamp and value, index entry, CRC) at a small cost in decoding when a query starts
/// mid-chunk. Every Prometheus and Thanos reader accepts any count up to 65535.
pub const SAMPLES_PER_CHUNK: usize = 240;

pub use crate::fsutil::sync_dir;

/// A chunk already encoded, written as is.
#[derive(Debug, Clone, Copy)]
pub struct EncodedChunk<'a> {
    pub mint: i64,
    pub maxt: i64,
    pub encoding: u8,
    pub data: &'a [u8],
}

/// Streams sorted series into a new block.
pub struct BlockWriter {
    parent: PathBuf,
    tmp: PathBuf,
    ulid: Ulid,
    chunks: ChunkWriter,
    index: IndexWriter,
    mint: i64,
    maxt: i64,
    num_samples: u64,
    num_series: u64,
    num_chunks: u64,
}

impl BlockWriter {
    /// Starts a block covering `[mint, maxt)` in `parent`. `symbols` must hold every label
    /// name and value of the series to come, sorted and unique.
    pub fn create<'a>(
        parent: &Path,
        mint: i64,
        maxt: i64,
        symbols: impl IntoIterator<Item = &'a str>,
    ) -> Result<Self> {
        let ulid = Ulid::generate();
        let tmp = parent.join(format!("{ulid}{TMP_CREATION_SUFFIX}"));
        fs::create_dir_all(&tmp).map_err(|e| Error::io("create", &tmp, e))?;
        let chunks = ChunkWriter::create(&tmp.join("chunks"))?;
        let mut index = IndexWriter::create(&tmp.join("index"))?;
        index.add_symbols(symbols)?;
        Ok(BlockWriter {
            parent: parent.to_path_buf(),
            tmp,
            ulid,
            chunks,
            index,
            mint,
            maxt,
            num_samples: 0,
            num_series: 0,
            num_chunks: 0,
        })
    }

    /// The ULID the block will have.
    pub fn ulid(&self) -> Ulid {
        self.ulid
    }

    /// Adds a series (in label order) with its samples, which must be sorted and inside
    /// the block's range. A series without samples is skipped.
    pub fn add_series(&mut self, labels: &Labels, samples: &[(i64, f64)]) -> Result<()> {
        self.add_series_mixed(labels, samples, &[])
    }

    /// Adds a series (in label order) from float samples and already encoded chunks (the
    /// native histogram chunks of the head), all sorted and inside the block's range.
    /// Floats become XOR chunks that never straddle an encoded chunk, so the series'
    /// chunks are in time order; a float inside an encoded chunk's time range cannot be
    /// stored that way and is dropped with a warning.
    pub fn add_series_mixed(
        &mut self,
        labels: &Labels,
        floats: &[(i64, f64)],
        encoded: &[EncodedChunk<'_>],
    ) -> Result<()> {
        if floats.is_empty() && encoded.is_empty() {
            return Ok(());
        }
        let mut metas =
            Vec::with_capacity(floats.len().div_ceil(SAMPLES_PER_CHUNK) + encoded.len());
        let mut rest = floats;
        for c in encoded {
            let before = rest.partition_point(|s| s.0 < c.mint);
            self.write_floats(&rest[..before], &mut metas)?;
            let inside = rest[before..].partition_point(|s| s.0 <= c.maxt);
            if inside > 0 {
                warn!(series = %labels, mint = c.mint, maxt = c.maxt, dropped = inside, "float samples inside a native histogram chunk's range are not written");
            }
            rest = &rest[before + inside..];
            let chunk_ref = self.chunks.write_chunk(c.encoding, c.data)?;
            metas.push(ChunkMeta {
                mint: c.mint,
                maxt: c.maxt,
                chunk_ref,
            });
            self.num_samples += u64::from(crate::chunkenc::chunk_num_samples(c.data));
        }
        self.write_floats(rest, &mut metas)?;
        self.index.add_series(labels, &metas)?;
        self.num_chunks += metas.len() as u64;
        self.num_series += 1;
        Ok(())
    }

    /// Writes sorted floats as XOR chunks of at most [`SAMPLES_PER_CHUNK`] samples.
    fn write_floats(&mut self, samples: &[(i64, f64)], metas: &mut Vec<ChunkMeta>) -> Result<()> {
        for part in samples.chunks(SAMPLES_PER_CHUNK) {
            let mut c = XorChunk::new();
            for &(t, v) in part {
                c.append(t, v);
            }
            let chunk_ref = self.chunks.write_chunk(ENC_XOR, c.bytes())?;
            let (mint, maxt) = (part[0].0, part[part.len() - 1].0);
            metas.push(ChunkMeta {
                mint,
                maxt,
                chunk_ref,
            });
        }
        self.num_samples += samples.len() as u64;
        Ok(())
    }

    /// Adds a series from already encoded chunks `(mint, maxt, encoding, bytes)`.
    pub fn add_series_chunks(
        &mut self,
        labels: &Labels,
        chunks: &[(i64, i64, u8, &[u8])],
    ) -> Result<()> {
        if chunks.is_empty() {
            return Ok(());
        }
        let mut metas = Vec::with_capacity(chunks.len());
        for &(mint, maxt, enc, data) in chunks {
            let chunk_ref = self.chunks.write_chunk(enc, data)?;
            metas.push(ChunkMeta {
                mint,
                maxt,
                chunk_ref,
            });
            self.num_samples += u64::from(crate::chunkenc::chunk_num_samples(data));
        }
        self.index.add_series(labels, &metas)?;
        self.num_chunks += metas.len() as u64;
        self.num_series += 1;
        Ok(())
    }

    /// Completes the block. Returns `None` (and leaves nothing behind) when no series
    /// was added.
    pub fn finish(self, level: i64, sources: Vec<String>) -> Result<Option<BlockMeta>> {
        let BlockWriter {
            parent,
            tmp,
            ulid,
            chunks,
            index,
            mint,
            maxt,
            num_samples,
            num_series,
            num_chunks,
        } = self;
        chunks.finish()?;
        index.finish()?;
        if num_series == 0 {
            fs::remove_dir_all(&tmp).map_err(|e| Error::io("remove", &tmp, e))?;
            return Ok(None);
        }
        write_tombstones(&tmp, &Tombstones::default())?;
        let mut meta = BlockMeta::new(ulid.to_string(), mint, maxt);
        meta.stats.num_samples = num_samples;
        meta.stats.num_series = num_series;
        meta.stats.num_chunks = num_chunks;
        meta.compaction.level = level;
        meta.compaction.sources = if sources.is_empty() {
            vec![ulid.to_string()]
        } else {
            sources
        };
        write_meta(&tmp, &meta)?;
        sync_dir(&tmp)?;
        let dst = parent.join(ulid.to_string());
        fs::rename(&tmp, &dst).map_err(|e| Error::io("rename", &tmp, e))?;
        sync_dir(&parent)?;
        Ok(Some(meta))
    }
}
