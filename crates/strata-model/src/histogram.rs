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

/// A native histogram with integer counts, as instrumented code and remote write 1.0/2.0
/// send it and histogram chunks (encoding 2) store it. Bucket counts are deltas: each
/// bucket's count is the previous bucket's (in span order) plus its delta; the first
/// delta of each side is absolute.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Histogram {
    pub counter_reset_hint: CounterResetHint,
    pub schema: i32,
    pub zero_threshold: f64,
    pub zero_count: u64,
    pub count: u64,
    pub sum: f64,
    pub positive_spans: Vec<Span>,
    pub negative_spans: Vec<Span>,
    pub positive_deltas: Vec<i64>,
    pub negative_deltas: Vec<i64>,
    pub custom_values: Vec<f64>,
}

impl Histogram {
    /// The same histogram with float counts (absolute bucket counts).
    pub fn to_float(&self) -> FloatHistogram {
        fn absolute(deltas: &[i64]) -> Vec<f64> {
            let mut cur: i64 = 0;
            deltas
                .iter()
                .map(|d| {
                    cur = cur.wrapping_add(*d);
                    cur as f64
                })
                .collect()
        }
        FloatHistogram {
            counter_reset_hint: self.counter_reset_hint,
            schema: self.schema,
            zero_threshold: self.zero_threshold,
            zero_count: self.zero_count as f64,
            count: self.count as f64,
            sum: self.sum,
            positive_spans: self.positive_spans.clone(),
            negative_spans: self.negative_spans.clone(),
            positive_buckets: absolute(&self.positive_deltas),
            negative_buckets: absolute(&self.negative_deltas),
            custom_values: self.custom_values.clone(),
        }
    }

    /// True for the staleness marker (a histogram whose sum is the stale NaN).
    pub fn is_stale(&self) -> bool {
        crate::sample::is_stale_nan(self.sum)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn to_float_accumulates_deltas() {
        let h = Histogram {
            count: 6,
            positive_spans: vec![Span {
                offset: 0,
                length: 3,
            }],
            positive_deltas: vec![1, 2, -2],
            ..Default::default()
        };
        assert_eq!(h.to_float().positive_buckets, vec![1.0, 3.0, 1.0]);
    }
}
