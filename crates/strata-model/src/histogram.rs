//! Native histograms with float counts (Prometheus' `FloatHistogram`): the value that
//! histogram chunks decode to and that PromQL evaluates. Exponential schemas -4..8 and
//! the custom-buckets schema -53.

/// A native histogram; bucket counts are absolute (not deltas).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FloatHistogram {
    pub counter_reset_hint: CounterResetHint,
    pub schema: i32,
    pub zero_threshold: f64,
    pub zero_count: f64,
    pub count: f64,
    pub sum: f64,
    pub positive_spans: Vec<Span>,
    pub negative_spans: Vec<Span>,
    pub positive_buckets: Vec<f64>,
    pub negative_buckets: Vec<f64>,
    pub custom_values: Vec<f64>,
}

impl FloatHistogram {
    /// True for the staleness marker (a histogram whose sum is the stale NaN).
    pub fn is_stale(&self) -> bool {
        crate::sample::is_stale_nan(self.sum)
    }
}

/// A run of consecutive buckets: `offset` is the gap to the previous span's end (or the
/// index of the first bucket for the first span).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    pub offset: i32,
    pub length: u32,
}

/// What a histogram says about counter resets since the previous one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CounterResetHint {
    #[default]
    Unknown,
    CounterReset,
    NotCounterReset,
    Gauge,
}
