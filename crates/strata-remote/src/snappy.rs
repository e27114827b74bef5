//! Snappy block format (not the framed format), as remote write uses it.

use crate::error::{Error, Result};

/// Decompresses `input`, refusing outputs larger than `limit` bytes before allocating.
pub fn decompress(input: &[u8], limit: usize) -> Result<Vec<u8>> {
    let size = snap::raw::decompress_len(input).map_err(|e| Error::Snappy(e.to_string()))?;
    if size > limit {
        return Err(Error::TooLarge { size, limit });
    }
    snap::raw::Decoder::new()
        .decompress_vec(input)
        .map_err(|e| Error::Snappy(e.to_string()))
}

/// Compresses `input`.
pub fn compress(input: &[u8]) -> Vec<u8> {
    // Compression of an in-memory buffer cannot fail except for inputs over 4 GiB.
    snap::raw::Encoder::new()
        .compress_vec(input)
        .unwrap_or_default()
}
