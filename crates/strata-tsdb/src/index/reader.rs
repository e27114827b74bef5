//! Reads index files of format versions 1 and 2 from a shared (usually memory-mapped)
//! buffer. Opening checks the header, the TOC, the symbol table and the postings offset
//! table; series entries and postings lists are checked when they are read.

use std::path::Path;
use std::sync::Arc;

use strata_model::{Labels, Matcher};

use super::offset_table::PostingsTable;
use super::postings::{PostingsSource, postings_for_matchers};
use super::section::decode_postings;
use super::series::decode_series;
use super::symbols::Symbols;
use super::toc::Toc;
use super::{ChunkMeta, FORMAT_V1, FORMAT_V2, MAGIC, SERIES_ALIGN, TOC_LEN};
use crate::encoding::DecBuf;
use crate::error::{Error, Result};
use crate::mmap::SharedBytes;

struct Inner {
    bytes: SharedBytes,
    version: u8,
    symbols: Symbols,
    postings: PostingsTable,
}

/// A read-only view of one index file; cheap to clone and share between threads.
#[derive(Clone)]
pub struct IndexReader {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for IndexReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IndexReader")
            .field("version", &self.inner.version)
            .field("size", &self.inner.bytes.len())
            .field("symbols", &self.inner.symbols.len())
            .finish()
    }
}

impl IndexReader {
    /// Maps and opens the index file at `path`.
    pub fn open(path: &Path) -> Result<Self> {
        Self::from_bytes(SharedBytes::open(path)?)
    }

    /// Opens an index held in `b`.
    pub fn from_bytes(b: SharedBytes) -> Result<Self> {
        if b.len() < 5 + TOC_LEN {
            return Err(Error::corruption(
                "index header",
                0,
                format!("file of {} bytes is too short", b.len()),
            ));
        }
        let mut d = DecBuf::new(&b, "index header", 0);
        let magic = d.be32()?;
        if magic != MAGIC {
            return Err(Error::corruption(
                "index header",
                0,
                format!("invalid magic number {magic:#x}"),
            ));
        }
        let version = d.byte()?;
        if version != FORMAT_V1 && version != FORMAT_V2 {
            return Err(Error::corruption(
                "index header",
                4,
                format!("unknown index format version {version}"),
            ));
        }
        let toc = Toc::decode(&b)?;
        let symbols = Symbols::load(&b, toc.symbols, version)?;
        let postings = PostingsTable::load(&b, toc.postings_table)?;
        Ok(IndexReader {
            inner: Arc::new(Inner {
                bytes: b,
                version,
                symbols,
                postings,
            }),
        })
    }

    fn file(&self) -> &[u8] {
        &self.inner.bytes
    }

    /// The format version, 1 or 2.
    pub fn version(&self) -> u32 {
        u32::from(self.inner.version)
    }

    /// Size of the index in bytes.
    pub fn size(&self) -> u64 {
        self.inner.bytes.len() as u64
    }

    /// All symbols, in table order.
    pub fn symbols(&self) -> Result<Vec<String>> {
        let s = &self.inner.symbols;
        (0..s.len())
            .map(|i| s.at(self.file(), i).map(str::to_owned))
            .collect()
    }

    /// Label names that have postings, sorted, without the all-postings name `""`.
    pub fn label_names(&self) -> Result<Vec<String>> {
        Ok(self
            .inner
            .postings
            .names()
            .filter(|n| !n.is_empty())
            .map(str::to_owned)
            .collect())
    }

    /// The values of label `name`, sorted.
    pub fn label_values(&self, name: &str) -> Result<Vec<String>> {
        self.inner.postings.label_values(self.file(), name)
    }

    /// Sorted references of the series with `name="value"`; empty if there are none.
    pub fn postings(&self, name: &str, value: &str) -> Result<Vec<u64>> {
        match self
            .inner
            .postings
            .postings_offset(self.file(), name, value)
        {
            Some(off) => decode_postings(self.file(), off),
            None => Ok(Vec::new()),
        }
    }

    /// References of all series, sorted.
    pub fn all_postings(&self) -> Result<Vec<u64>> {
        self.postings("", "")
    }

    /// The labels and chunk metas of the series `series_ref`.
    pub fn series(&self, series_ref: u64) -> Result<(Labels, Vec<ChunkMeta>)> {
        let offset = if self.inner.version == FORMAT_V1 {
            series_ref
        } else {
            series_ref.checked_mul(SERIES_ALIGN).ok_or_else(|| {
                Error::corruption("index series", series_ref, "series reference too large")
            })?
        };
        decode_series(self.file(), offset, &self.inner.symbols)
    }

    /// Sorted references of the series selected by all of `ms`.
    pub fn postings_for_matchers(&self, ms: &[Matcher]) -> Result<Vec<u64>> {
        postings_for_matchers(self, ms)
    }
}

impl PostingsSource for IndexReader {
    fn label_values(&self, name: &str) -> Result<Vec<String>> {
        IndexReader::label_values(self, name)
    }
    fn postings(&self, name: &str, value: &str) -> Result<Vec<u64>> {
        IndexReader::postings(self, name, value)
    }
    fn all_postings(&self) -> Result<Vec<u64>> {
        IndexReader::all_postings(self)
    }
}
