//! The block index file: Prometheus' index format, version 2 written, versions 1 and 2
//! read.
//!
//! Layout: magic `0xBAAAD700` (big-endian) and a version byte, then the symbol table, the
//! series (each entry 16-byte aligned in version 2; its reference is `offset / 16`), one
//! label index per label name, the postings lists (the first one lists all series under
//! the pair `("", "")`), the label offset table, the postings offset table and a 52-byte
//! table of contents at the very end. Sections start with a big-endian 32-bit length and
//! end with a CRC32C of the bytes that length covers. Version 1 differs in that symbols
//! are referenced by their file offset and series by their (unaligned) file offset.

mod offset_table;
pub mod postings;
mod reader;
mod section;
mod series;
mod symbols;
mod toc;
mod writer;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_compat;
#[cfg(test)]
mod tests_matchers;

pub use postings::{PostingsSource, intersect, merge, postings_for_matchers, without};
pub use reader::IndexReader;
pub use writer::IndexWriter;

/// Magic number at the start of an index file.
pub const MAGIC: u32 = 0xBAAA_D700;
/// Index format version 1 (Prometheus 2.0 – 2.x early): symbol and series references are
/// file offsets.
pub const FORMAT_V1: u8 = 1;
/// Index format version 2: symbols referenced by index, series by `offset / 16`.
pub const FORMAT_V2: u8 = 2;
/// Length of the table of contents, CRC included.
pub const TOC_LEN: usize = 6 * 8 + 4;
/// Alignment of series entries in version 2.
pub const SERIES_ALIGN: u64 = 16;

/// Where a chunk of a series lives and which time range it covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkMeta {
    pub mint: i64,
    pub maxt: i64,
    pub chunk_ref: u64,
}

/// An error for input the index cannot represent or that breaks the writer's contract.
pub(crate) fn write_error(detail: impl Into<String>) -> crate::error::Error {
    crate::error::Error::Unsupported {
        what: "index content",
        detail: detail.into(),
    }
}
