//! A persisted block: `meta.json`, `index`, `chunks/` and `tombstones` in a directory
//! named by the block's ULID, read through memory maps.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use strata_model::Matcher;
use strata_model::storage::{Querier, SelectHints, Series, SeriesSet};

use crate::chunks::ChunkReader;
use crate::error::{Error, Result};
use crate::index::IndexReader;
use crate::meta::{BlockMeta, read_meta};
use crate::mmap::SharedBytes;
use crate::series_iter::{ChunkData, ChunkSamples};
use crate::tombstones::{Tombstones, read_tombstones};

/// An open block. Clones share the memory maps; a deleted block's files stay readable
/// until the last clone is dropped.
pub struct Block {
    dir: PathBuf,
    meta: BlockMeta,
    index: IndexReader,
    chunks: ChunkReader,
    tombstones: Tombstones,
}

impl Block {
    /// Opens the block in `dir`, validating its meta, index and chunk headers.
    pub fn open(dir: &Path) -> Result<Self> {
        let meta = read_meta(dir)?;
        let index_path = dir.join("index");
        let index = IndexReader::open(&index_path).map_err(|e| in_file(e, &index_path))?;
        let chunks = ChunkReader::open(&dir.join("chunks"))?;
        let tombstones = read_tombstones(dir)?;
        Ok(Block {
            dir: dir.to_path_buf(),
            meta,
            index,
            chunks,
            tombstones,
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Names this block's index file in a corruption error read from it.
    fn index_err(&self, e: Error) -> Error {
        in_file(e, &self.dir.join("index"))
    }
    pub fn meta(&self) -> &BlockMeta {
        &self.meta
    }
    pub fn index(&self) -> &IndexReader {
        &self.index
    }
    pub fn chunks(&self) -> &ChunkReader {
        &self.chunks
    }
    pub fn tombstones(&self) -> &Tombstones {
        &self.tombstones
    }

    /// Inclusive time range of the block's samples (`maxTime` in meta.json is exclusive).
    pub fn time_range(&self) -> (i64, i64) {
        (self.meta.min_time, self.meta.max_time.saturating_sub(1))
    }

    /// Bytes on disk (index + chunks).
    pub fn size(&self) -> u64 {
        self.index.size() + self.chunks.size()
    }
}

/// Puts the file's path into a corruption error, which otherwise names only the section.
fn in_file(e: Error, path: &Path) -> Error {
    match e {
        Error::Corruption {
            what,
            offset,
            reason,
        } => Error::Corruption {
            what: format!("{what} of {}", path.display()),
            offset,
            reason,
        },
        other => other,
    }
}

/// A querier over one block.
pub struct BlockQuerier {
    block: Arc<Block>,
    mint: i64,
    maxt: i64,
}

impl BlockQuerier {
    pub fn new(block: Arc<Block>, mint: i64, maxt: i64) -> Self {
        BlockQuerier { block, mint, maxt }
    }

    fn refs(&self, ms: &[Matcher]) -> Result<Vec<u64>> {
        if ms.is_empty() {
            self.block.index.all_postings()
        } else {
            self.block.index.postings_for_matchers(ms)
        }
        .map_err(|e| self.block.index_err(e))
    }

    /// Whether unfiltered label names and values may come straight from the index: as in
    /// Prometheus, a block that overlaps the queried range answers with all of its
    /// names and values, without reading series.
    fn covers_block(&self) -> bool {
        let (lo, hi) = self.block.time_range();
        self.mint <= hi && self.maxt >= lo
    }

    /// Labels of matching series that have at least one chunk in range.
    fn matching_labels(&self, ms: &[Matcher]) -> Result<Vec<strata_model::Labels>> {
        let mut out = Vec::new();
        for r in self.refs(ms)? {
            let (labels, metas) = self
                .block
                .index
                .series(r)
                .map_err(|e| self.block.index_err(e))?;
            if metas
                .iter()
                .any(|c| c.maxt >= self.mint && c.mint <= self.maxt)
            {
                out.push(labels);
            }
        }
        Ok(out)
    }
}

impl Querier for BlockQuerier {
    fn select(&self, ms: &[Matcher], hints: &SelectHints) -> strata_model::Result<SeriesSet> {
        let mint = self.mint.max(hints.start);
        let maxt = self.maxt.min(hints.end);
        let refs = self.refs(ms)?;
        let block = self.block.clone();
        let labels_only = hints.labels_only;
        let iter = refs.into_iter().filter_map(move |r| {
            let res: Result<Option<Series>> = (|| {
                let (labels, metas) = block.index.series(r).map_err(|e| block.index_err(e))?;
                let metas: Vec<_> = metas
                    .into_iter()
                    .filter(|c| c.maxt >= mint && c.mint <= maxt)
                    .collect();
                if metas.is_empty() {
                    return Ok(None);
                }
                let mut chunks: Vec<ChunkData<SharedBytes>> = Vec::with_capacity(metas.len());
                if !labels_only {
                    for m in &metas {
                        let (encoding, data) = block.chunks.chunk(m.chunk_ref).map_err(|e| {
                            Error::Decode(format!(
                                "block {}: series {labels}: {e}",
                                block.meta.ulid
                            ))
                        })?;
                        chunks.push(ChunkData {
                            encoding,
                            mint: m.mint,
                            maxt: m.maxt,
                            data,
                        });
                    }
                }
                let deleted = block
                    .tombstones
                    .get(r)
                    .map(|iv| iv.to_vec())
                    .unwrap_or_default();
                let samples =
                    ChunkSamples::new(labels.clone(), chunks, mint, maxt, Vec::new(), deleted);
                Ok(Some(Series {
                    labels,
                    samples: Box::new(samples),
                }))
            })();
            res.map_err(Into::into).transpose()
        });
        Ok(Box::new(iter))
    }

    fn label_names(&self, ms: &[Matcher]) -> strata_model::Result<Vec<String>> {
        if ms.is_empty() && self.covers_block() {
            return Ok(self
                .block
                .index
                .label_names()
                .map_err(|e| self.block.index_err(e))?);
        }
        let mut names = std::collections::BTreeSet::new();
        for l in self.matching_labels(ms)? {
            names.extend(l.iter().map(|(n, _)| n.to_owned()));
        }
        Ok(names.into_iter().collect())
    }

    fn label_values(&self, name: &str, ms: &[Matcher]) -> strata_model::Result<Vec<String>> {
        if ms.is_empty() && self.covers_block() {
            return Ok(self
                .block
                .index
                .label_values(name)
                .map_err(|e| self.block.index_err(e))?);
        }
        let mut values = std::collections::BTreeSet::new();
        for l in self.matching_labels(ms)? {
            if let Some(v) = l.get(name) {
                values.insert(v.to_owned());
            }
        }
        Ok(values.into_iter().collect())
    }
}
