//! A Prometheus-compatible time-series database.
//!
//! Blocks on disk are Prometheus' block format (index v2, `chunks/NNNNNN`, `tombstones`,
//! `meta.json`), the write-ahead log is Prometheus' WAL format, so Prometheus' and Thanos'
//! tools read what we write and we read what they write.

pub mod encoding;
pub mod error;
pub mod index;
pub mod mmap;

pub use error::{Error, Result};
