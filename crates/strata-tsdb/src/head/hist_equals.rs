//! Prometheus' equality of native histograms (`Histogram.Equals`,
//! `FloatHistogram.Equals`), which decides whether a sample at an existing timestamp is
//! a duplicate to ignore.

use strata_model::histogram::{FloatHistogram, Histogram};

use crate::chunkenc::histogram::CUSTOM_BUCKETS_SCHEMA;
use crate::chunkenc::histogram_layout::spans_match;

/// Prometheus' `Histogram.Equals` (the counter reset hint is ignored).
pub fn int_equals(a: &Histogram, b: &Histogram) -> bool {
    a.schema == b.schema
        && a.count == b.count
        && a.sum.to_bits() == b.sum.to_bits()
        && (a.schema != CUSTOM_BUCKETS_SCHEMA || a.custom_values == b.custom_values)
        && a.zero_threshold == b.zero_threshold
        && a.zero_count == b.zero_count
        && spans_match(&a.negative_spans, &b.negative_spans)
        && a.negative_deltas == b.negative_deltas
        && spans_match(&a.positive_spans, &b.positive_spans)
        && a.positive_deltas == b.positive_deltas
}

fn same_bits(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
}

/// Prometheus' `FloatHistogram.Equals` (the counter reset hint is ignored).
pub fn float_equals(a: &FloatHistogram, b: &FloatHistogram) -> bool {
    a.schema == b.schema
        && a.count.to_bits() == b.count.to_bits()
        && a.sum.to_bits() == b.sum.to_bits()
        && (a.schema != CUSTOM_BUCKETS_SCHEMA || a.custom_values == b.custom_values)
        && a.zero_threshold == b.zero_threshold
        && a.zero_count.to_bits() == b.zero_count.to_bits()
        && spans_match(&a.negative_spans, &b.negative_spans)
        && same_bits(&a.negative_buckets, &b.negative_buckets)
        && spans_match(&a.positive_spans, &b.positive_spans)
        && same_bits(&a.positive_buckets, &b.positive_buckets)
}

#[cfg(test)]
mod tests {
    use super::*;
    use strata_model::histogram::{CounterResetHint, Span};

    fn span(offset: i32, length: u32) -> Span {
        Span { offset, length }
    }

    fn h() -> Histogram {
        Histogram {
            schema: 1,
            zero_count: 1,
            count: 7,
            sum: 3.0,
            positive_spans: vec![span(-1, 2), span(1, 1)],
            positive_deltas: vec![1, 1, -1],
            negative_spans: vec![span(0, 1)],
            negative_deltas: vec![2],
            ..Histogram::default()
        }
    }

    #[test]
    fn equality_ignores_hints_and_empty_spans() {
        let f = h().to_float();
        assert!(float_equals(&f, &f.clone()));
        let mut hinted = f.clone();
        hinted.counter_reset_hint = CounterResetHint::Gauge;
        assert!(float_equals(&f, &hinted));
        let mut padded = h();
        padded.positive_spans.push(span(3, 0));
        assert!(int_equals(&h(), &padded));
        let mut other = h();
        other.sum = 4.0;
        assert!(!int_equals(&h(), &other));
        let mut nan = f.clone();
        nan.sum = f64::NAN;
        assert!(float_equals(&nan, &nan.clone()));
        let mut cv = h();
        cv.schema = CUSTOM_BUCKETS_SCHEMA;
        let mut cv2 = cv.clone();
        cv2.custom_values = vec![1.0];
        assert!(!int_equals(&cv, &cv2));
    }
}
