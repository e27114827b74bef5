//! Chunk encodings.

pub mod histogram;
