//! Chunk encodings, numbered as on disk: 1 = XOR floats, 2 = integer native histograms,
//! 3 = float native histograms.

pub mod bstream;
pub mod float_histogram_chunk;
pub mod histogram;
pub mod histogram_bits;
pub mod histogram_chunk;
pub mod histogram_clip;
pub mod histogram_layout;
pub mod xor;
mod xor_bulk;

pub use float_histogram_chunk::FloatHistogramChunk;
pub use histogram_chunk::{HistogramAppend, HistogramChunk};
pub use xor::{XorChunk, XorIter};

/// Encoding byte of a float (Gorilla XOR) chunk on disk.
pub const ENC_XOR: u8 = 1;
/// Encoding byte of an integer native-histogram chunk.
pub const ENC_HISTOGRAM: u8 = 2;
/// Encoding byte of a float native-histogram chunk.
pub const ENC_FLOAT_HISTOGRAM: u8 = 3;

/// Human-readable name of an encoding byte, for error messages and tools.
pub fn encoding_name(enc: u8) -> &'static str {
    match enc {
        0 => "none",
        ENC_XOR => "XOR",
        ENC_HISTOGRAM => "histogram",
        ENC_FLOAT_HISTOGRAM => "floathistogram",
        _ => "unknown",
    }
}

/// Number of samples recorded in a chunk's 2-byte header (all encodings share it).
pub fn chunk_num_samples(data: &[u8]) -> u16 {
    match data {
        [a, b, ..] => u16::from_be_bytes([*a, *b]),
        _ => 0,
    }
}
