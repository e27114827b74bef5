//! Errors of remote-write decoding.

pub type Result<T> = std::result::Result<T, Error>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("snappy: {0}")]
    Snappy(String),
    #[error("decompressed size {size} exceeds the limit of {limit} bytes")]
    TooLarge { size: usize, limit: usize },
    #[error("invalid protobuf at byte {offset}: {reason}")]
    Protobuf { offset: usize, reason: String },
    #[error("invalid UTF-8 in {what} at byte {offset}")]
    Utf8 { what: &'static str, offset: usize },
}
