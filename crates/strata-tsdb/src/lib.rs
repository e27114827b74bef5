//! A Prometheus-compatible time-series database.
//!
//! Blocks on disk are Prometheus' block format (index v2, `chunks/NNNNNN`, `tombstones`,
//! `meta.json`), the write-ahead log is Prometheus' WAL format, so Prometheus' and Thanos'
//! tools read what we write and we read what they write.
//!
//! - [`head`]: in-memory series, appends, WAL replay;
//! - [`wal`]: segmented write-ahead log, records, checkpoints;
//! - [`chunkenc`], [`chunks`]: chunk encodings and chunk segment files;
//! - [`index`]: the index file (symbols, series, postings) and postings selection;
//! - [`block`], [`block_writer`], [`meta`], [`tombstones`]: persisted blocks;
//! - [`db`]: the directory of blocks plus head, compaction and retention.

pub mod block;
pub mod block_writer;
pub mod chunkenc;
pub mod chunks;
pub mod db;
pub mod encoding;
pub mod error;
pub mod fsutil;
pub mod head;
pub mod index;
pub mod meta;
pub mod mmap;
pub mod series_iter;
pub mod tombstones;
pub mod wal;

pub use block::{Block, BlockQuerier};
pub use db::{Db, DbOptions, HistogramSeries, RetentionGuard};
pub use error::{Error, Result};
pub use head::{Head, HeadOptions};
