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
    /// Something is wrong inside the request's `index`-th time series (0-based, in wire
    /// order).
    #[error("time series {index}: {source}")]
    Series { index: usize, source: Box<Error> },
    /// Something is wrong inside a series' `index`-th exemplar.
    #[error("exemplar {index}: {source}")]
    Exemplar { index: usize, source: Box<Error> },
    /// Something is wrong inside a series' `index`-th histogram.
    #[error("histogram {index}: {source}")]
    Histogram { index: usize, source: Box<Error> },
    /// Something is wrong inside the `index`-th 1.0 `MetricMetadata` entry.
    #[error("metadata {index}: {source}")]
    Metadata { index: usize, source: Box<Error> },
    /// A 2.0 reference (`labels_refs`, `help_ref`, `unit_ref`) past the symbols table.
    #[error("{what} {reference} is outside of the symbols table (size {symbols})")]
    SymbolRef {
        what: &'static str,
        reference: u32,
        symbols: usize,
    },
    /// A 2.0 `labels_refs` list whose length is odd (refs come in name/value pairs).
    #[error("{what} has an odd number of references ({len}); they must be name/value pairs")]
    OddLabelRefs { what: &'static str, len: usize },
    /// A 2.0 request with time series whose symbols table is empty.
    #[error("the symbols table is empty; it must start with the empty string")]
    EmptySymbolTable,
    /// A 2.0 request whose first symbol is not the empty string, as the spec requires.
    #[error("the symbols table must start with the empty string, but starts with {first:?}")]
    FirstSymbolNotEmpty { first: String },
}

impl Error {
    /// The index of the time series an error is about, if it is about one.
    pub fn series_index(&self) -> Option<usize> {
        match self {
            Error::Series { index, .. } => Some(*index),
            _ => None,
        }
    }

    pub(crate) fn in_series(self, index: usize) -> Error {
        Error::Series {
            index,
            source: Box::new(self),
        }
    }
}
