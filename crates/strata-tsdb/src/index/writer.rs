//! Writes an index file in format version 2, section by section: symbols, series (as
//! they are added), then in [`IndexWriter::finish`] the label indices, the postings, the
//! label offset table, the postings offset table and the TOC. Padding and TOC offsets
//! follow Prometheus so that the output is byte-identical to its writer's.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use strata_model::Labels;

use super::offset_table::encode_offset_table;
use super::section::{begin_section, encode_postings, end_section};
use super::series::{check_chunks, encode_series};
use super::symbols::encode_symbols;
use super::toc::Toc;
use super::{ChunkMeta, FORMAT_V2, MAGIC, SERIES_ALIGN, write_error};
use crate::encoding::EncBuf;
use crate::error::{Error, Result};

/// Streams an index file to disk. Symbols first, then series in label order, then
/// [`finish`](IndexWriter::finish).
pub struct IndexWriter {
    path: PathBuf,
    w: BufWriter<File>,
    pos: u64,
    buf: EncBuf,
    scratch: EncBuf,
    symbols: Vec<String>,
    symbols_written: bool,
    toc: Toc,
    last_series: Option<Labels>,
    /// Series references per (name, value) symbol index pair; ordered like the strings.
    postings: BTreeMap<(u32, u32), Vec<u32>>,
    all: Vec<u32>,
}

impl IndexWriter {
    /// Creates (truncates) the file at `path` and writes the header.
    pub fn create(path: &Path) -> Result<Self> {
        let f = File::create(path).map_err(|e| Error::io("create", path, e))?;
        let mut w = IndexWriter {
            path: path.to_owned(),
            w: BufWriter::with_capacity(1 << 20, f),
            pos: 0,
            buf: EncBuf::with_capacity(4096),
            scratch: EncBuf::with_capacity(256),
            symbols: Vec::new(),
            symbols_written: false,
            toc: Toc::default(),
            last_series: None,
            postings: BTreeMap::new(),
            all: Vec::new(),
        };
        let mut h = EncBuf::new();
        h.put_be32(MAGIC);
        h.put_byte(FORMAT_V2);
        w.write(h.get())?;
        Ok(w)
    }

    fn write(&mut self, b: &[u8]) -> Result<()> {
        self.w
            .write_all(b)
            .map_err(|e| Error::io("write", &self.path, e))?;
        self.pos += b.len() as u64;
        Ok(())
    }

    /// Writes `self.buf` and clears it.
    fn flush_buf(&mut self) -> Result<()> {
        let b = std::mem::take(&mut self.buf);
        let r = self.write(b.get());
        self.buf = b;
        self.buf.reset();
        r
    }

    fn pad(&mut self, align: u64) -> Result<()> {
        let rem = self.pos % align;
        if rem != 0 {
            let zeros = [0u8; 16];
            let n = (align - rem) as usize;
            self.write(zeros.get(..n).unwrap_or(&zeros))?;
        }
        Ok(())
    }

    /// Adds symbols; across all calls they must be strictly increasing. Every label name
    /// and value of the series to come must be among them.
    pub fn add_symbols<'a>(&mut self, symbols: impl IntoIterator<Item = &'a str>) -> Result<()> {
        if self.symbols_written {
            return Err(write_error("symbols added after the first series"));
        }
        for s in symbols {
            if self.symbols.last().is_some_and(|l| l.as_str() >= s) {
                return Err(write_error(format!(
                    "symbol {s:?} is not after {:?}",
                    self.symbols.last().map(String::as_str).unwrap_or_default()
                )));
            }
            self.symbols.push(s.to_owned());
        }
        Ok(())
    }

    fn write_symbols(&mut self) -> Result<()> {
        if self.symbols_written {
            return Ok(());
        }
        self.symbols_written = true;
        self.toc.symbols = self.pos;
        encode_symbols(&mut self.buf, &self.symbols)?;
        self.flush_buf()?;
        // Like Prometheus, the TOC points at the end of the symbols; each series entry
        // is padded to its 16-byte boundary when it is written.
        self.toc.series = self.pos;
        Ok(())
    }

    fn symbol(&self, s: &str) -> Result<u32> {
        let i = self
            .symbols
            .binary_search_by(|x| x.as_str().cmp(s))
            .map_err(|_| write_error(format!("{s:?} is not a symbol")))?;
        u32::try_from(i).map_err(|_| write_error("too many symbols"))
    }

    /// Adds a series; series must come in strictly increasing label order.
    pub fn add_series(&mut self, labels: &Labels, chunks: &[ChunkMeta]) -> Result<()> {
        if let Some(last) = &self.last_series
            && labels <= last
        {
            return Err(write_error(format!(
                "series {labels} added after {last}, out of order"
            )));
        }
        check_chunks(chunks)?;
        let mut refs = Vec::with_capacity(8);
        for (n, v) in labels.iter() {
            refs.push((self.symbol(n)?, self.symbol(v)?));
        }
        self.write_symbols()?;
        self.pad(SERIES_ALIGN)?;
        let sref = u32::try_from(self.pos / SERIES_ALIGN)
            .map_err(|_| write_error("series section exceeds 64GiB"))?;
        encode_series(&mut self.buf, &mut self.scratch, &refs, chunks);
        self.flush_buf()?;
        for r in refs {
            self.postings.entry(r).or_default().push(sref);
        }
        self.all.push(sref);
        self.last_series = Some(labels.clone());
        Ok(())
    }

    fn sym(&self, i: u32) -> &str {
        self.symbols.get(i as usize).map_or("", String::as_str)
    }

    /// Writes the remaining sections and the TOC, syncs the file and returns its size.
    pub fn finish(mut self) -> Result<u64> {
        self.write_symbols()?;
        let postings = std::mem::take(&mut self.postings);

        let mut by_name: Vec<(u32, Vec<u32>)> = Vec::new();
        for &(n, v) in postings.keys() {
            match by_name.last_mut() {
                Some((ln, vals)) if *ln == n => vals.push(v),
                _ => by_name.push((n, vec![v])),
            }
        }
        // Label indices, one per name (`len | #names=1 | #entries | value refs | crc`),
        // then the postings lists, each 4-byte aligned; the TOC points at where each run
        // of sections begins, before any padding.
        self.toc.label_indices = self.pos;
        let mut label_offsets = Vec::with_capacity(by_name.len());
        for (n, vals) in &by_name {
            self.pad(4)?;
            label_offsets.push((*n, self.pos));
            let at = begin_section(&mut self.buf);
            self.buf.put_be32(1);
            self.buf.put_be32(
                u32::try_from(vals.len()).map_err(|_| write_error("too many label values"))?,
            );
            for &v in vals {
                self.buf.put_be32(v);
            }
            end_section(&mut self.buf, at)?;
            self.flush_buf()?;
        }

        // Postings: all series under ("", ""), then every pair in order.
        self.toc.postings = self.pos;
        let mut offsets = Vec::with_capacity(postings.len() + 1);
        let all = std::mem::take(&mut self.all);
        self.pad(4)?;
        offsets.push(self.pos);
        encode_postings(&mut self.buf, &all)?;
        self.flush_buf()?;
        for refs in postings.values() {
            self.pad(4)?;
            offsets.push(self.pos);
            encode_postings(&mut self.buf, refs)?;
            self.flush_buf()?;
        }

        self.toc.label_indices_table = self.pos;
        let names: Vec<[&str; 1]> = label_offsets.iter().map(|(n, _)| [self.sym(*n)]).collect();
        let mut table = EncBuf::new();
        encode_offset_table(
            &mut table,
            names
                .iter()
                .zip(&label_offsets)
                .map(|(k, (_, off))| (&k[..], *off)),
        )?;
        self.write(table.get())?;

        self.toc.postings_table = self.pos;
        let mut keys: Vec<[&str; 2]> = Vec::with_capacity(offsets.len());
        keys.push(["", ""]);
        keys.extend(postings.keys().map(|&(n, v)| [self.sym(n), self.sym(v)]));
        let mut table = EncBuf::new();
        encode_offset_table(
            &mut table,
            keys.iter().zip(&offsets).map(|(k, off)| (&k[..], *off)),
        )?;
        self.write(table.get())?;

        let mut t = EncBuf::new();
        self.toc.encode(&mut t);
        self.write(t.get())?;

        self.w
            .flush()
            .map_err(|e| Error::io("write", &self.path, e))?;
        self.w
            .get_ref()
            .sync_all()
            .map_err(|e| Error::io("fsync", &self.path, e))?;
        Ok(self.pos)
    }
}
