//! Chunk encodings.

pub mod histogram;
pub mod histogram_bits;
