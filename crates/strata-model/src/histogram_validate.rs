//! Validation of native histograms with Prometheus' rules (`model/histogram`
//! `Histogram.Validate` / `FloatHistogram.Validate`), as a receiver applies them before
//! appending: schema range, spans against bucket counts, negative counts, the
//! observation count against the buckets, and the custom-buckets (schema -53) rules.
//!
//! Like Prometheus, nothing here checks `zero_threshold` of exponential histograms; for
//! custom buckets it must be 0. Schemas 9..=52 are invalid here: Prometheus' receiver
//! reduces them to 8 before validating, which is the caller's business.

use crate::histogram::{FloatHistogram, Histogram, Span};

/// The smallest and largest exponential schema.
pub const EXPONENTIAL_SCHEMA_MIN: i32 = -4;
pub const EXPONENTIAL_SCHEMA_MAX: i32 = 8;
/// The schema of histograms with custom bucket bounds.
pub const CUSTOM_BUCKETS_SCHEMA: i32 = -53;

/// True for schema -53 (custom bucket bounds).
pub fn is_custom_buckets_schema(schema: i32) -> bool {
    schema == CUSTOM_BUCKETS_SCHEMA
}

/// True for the exponential schemas -4..=8.
pub fn is_exponential_schema(schema: i32) -> bool {
    (EXPONENTIAL_SCHEMA_MIN..=EXPONENTIAL_SCHEMA_MAX).contains(&schema)
}

/// Which part of a histogram an error is about; displayed as Prometheus prefixes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Positive,
    Negative,
    /// The positive spans and bounds of a custom-buckets histogram.
    CustomBuckets,
}

impl std::fmt::Display for Side {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Side::Positive => "positive side",
            Side::Negative => "negative side",
            Side::CustomBuckets => "custom buckets",
        })
    }
}

/// Why a histogram is invalid. The messages follow Prometheus' wording.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum HistogramError {
    #[error(
        "histogram has an invalid schema, which must be between {EXPONENTIAL_SCHEMA_MIN} and {EXPONENTIAL_SCHEMA_MAX} for exponential buckets, or {CUSTOM_BUCKETS_SCHEMA} for custom buckets, got schema {schema}"
    )]
    InvalidSchema { schema: i32 },
    #[error(
        "{side}: span number {span} with offset {offset}: histogram has a span whose offset is negative"
    )]
    SpanNegativeOffset {
        side: Side,
        span: usize,
        offset: i32,
    },
    #[error(
        "{side}: spans need {spans} buckets, have {buckets} buckets: histogram spans specify different number of buckets than provided"
    )]
    SpansBucketsMismatch {
        side: Side,
        spans: u64,
        buckets: usize,
    },
    /// `count` is the bucket's absolute count (deltas already accumulated).
    #[error(
        "{side}: bucket number {bucket} has observation count of {count}: histogram has a bucket whose observation count is negative"
    )]
    NegativeBucketCount {
        side: Side,
        bucket: usize,
        count: f64,
    },
    #[error(
        "zero bucket has observation count of {count}: histogram has a bucket whose observation count is negative"
    )]
    NegativeZeroCount { count: f64 },
    #[error("observation count is {count}: histogram's observation count is negative")]
    NegativeCount { count: f64 },
    #[error(
        "{buckets} observations found in buckets, but the Count field is {count}: histogram's observation count should be at least the number of observations found in the buckets"
    )]
    CountNotBigEnough { buckets: u64, count: u64 },
    #[error(
        "{buckets} observations found in buckets, but the Count field is {count}: histogram's observation count should equal the number of observations found in the buckets (in absence of NaN)"
    )]
    CountMismatch { buckets: u64, count: u64 },
    #[error("custom buckets: histogram custom bounds must not be NaN")]
    CustomBoundNaN,
    #[error(
        "custom buckets: previous bound is {previous} and current is {current}: histogram custom bounds must be in strictly increasing order"
    )]
    CustomBoundsNotIncreasing { previous: f64, current: f64 },
    #[error(
        "custom buckets: last +Inf bound must not be explicitly defined: histogram custom bounds must be finite"
    )]
    CustomBoundInfinite,
    #[error(
        "custom buckets: only {bounds} custom bounds defined which is insufficient to cover total span length of {span_length}: histogram custom bounds are too few"
    )]
    CustomBoundsTooFew { bounds: usize, span_length: u64 },
    #[error("custom buckets: must have zero count of 0")]
    CustomBucketsZeroCount,
    #[error("custom buckets: must have zero threshold of 0")]
    CustomBucketsZeroThreshold,
    #[error("custom buckets: must not have negative spans")]
    CustomBucketsNegativeSpans,
    #[error("custom buckets: must not have negative buckets")]
    CustomBucketsNegativeBuckets,
    #[error("histogram with exponential schema must not have custom bounds")]
    ExponentialWithCustomBounds,
}

type Result<T> = std::result::Result<T, HistogramError>;

impl Histogram {
    /// Checks the histogram with Prometheus' `Histogram.Validate` rules.
    pub fn validate(&self) -> Result<()> {
        validate_histogram(self)
    }
}

impl FloatHistogram {
    /// Checks the histogram with Prometheus' `FloatHistogram.Validate` rules.
    pub fn validate(&self) -> Result<()> {
        validate_float_histogram(self)
    }
}

/// Prometheus' `Histogram.Validate`: integer counts, bucket deltas.
pub fn validate_histogram(h: &Histogram) -> Result<()> {
    let mut negative_total = 0u64;
    if is_custom_buckets_schema(h.schema) {
        check_custom_bounds(&h.custom_values, &h.positive_spans, h.positive_deltas.len())?;
        if h.zero_count != 0 {
            return Err(HistogramError::CustomBucketsZeroCount);
        }
        check_custom_zero_and_negative(
            h.zero_threshold,
            &h.negative_spans,
            h.negative_deltas.len(),
        )?;
    } else if is_exponential_schema(h.schema) {
        check_spans(Side::Positive, &h.positive_spans, h.positive_deltas.len())?;
        check_spans(Side::Negative, &h.negative_spans, h.negative_deltas.len())?;
        negative_total = sum_delta_buckets(Side::Negative, &h.negative_deltas)?;
        if !h.custom_values.is_empty() {
            return Err(HistogramError::ExponentialWithCustomBounds);
        }
    } else {
        return Err(HistogramError::InvalidSchema { schema: h.schema });
    }
    let positive_total = sum_delta_buckets(Side::Positive, &h.positive_deltas)?;
    // Go adds uint64s, which wrap; so do we.
    let buckets = negative_total
        .wrapping_add(positive_total)
        .wrapping_add(h.zero_count);
    if h.sum.is_nan() {
        // A NaN observation lands in no bucket, so the count may exceed the buckets.
        if buckets > h.count {
            return Err(HistogramError::CountNotBigEnough {
                buckets,
                count: h.count,
            });
        }
    } else if buckets != h.count {
        return Err(HistogramError::CountMismatch {
            buckets,
            count: h.count,
        });
    }
    Ok(())
}

/// Prometheus' `FloatHistogram.Validate`: absolute float counts. NaN counts pass, as in
/// Prometheus (a NaN is not smaller than zero).
pub fn validate_float_histogram(h: &FloatHistogram) -> Result<()> {
    if is_custom_buckets_schema(h.schema) {
        check_custom_bounds(
            &h.custom_values,
            &h.positive_spans,
            h.positive_buckets.len(),
        )?;
        if h.zero_count != 0.0 {
            return Err(HistogramError::CustomBucketsZeroCount);
        }
        check_custom_zero_and_negative(
            h.zero_threshold,
            &h.negative_spans,
            h.negative_buckets.len(),
        )?;
    } else if is_exponential_schema(h.schema) {
        check_spans(Side::Positive, &h.positive_spans, h.positive_buckets.len())?;
        check_spans(Side::Negative, &h.negative_spans, h.negative_buckets.len())?;
        check_float_buckets(Side::Negative, &h.negative_buckets)?;
        if h.zero_count < 0.0 {
            return Err(HistogramError::NegativeZeroCount {
                count: h.zero_count,
            });
        }
        if !h.custom_values.is_empty() {
            return Err(HistogramError::ExponentialWithCustomBounds);
        }
    } else {
        return Err(HistogramError::InvalidSchema { schema: h.schema });
    }
    if h.count < 0.0 {
        return Err(HistogramError::NegativeCount { count: h.count });
    }
    check_float_buckets(Side::Positive, &h.positive_buckets)
}

fn check_custom_zero_and_negative(
    zero_threshold: f64,
    negative_spans: &[Span],
    negative_buckets: usize,
) -> Result<()> {
    if zero_threshold != 0.0 {
        return Err(HistogramError::CustomBucketsZeroThreshold);
    }
    if !negative_spans.is_empty() {
        return Err(HistogramError::CustomBucketsNegativeSpans);
    }
    if negative_buckets > 0 {
        return Err(HistogramError::CustomBucketsNegativeBuckets);
    }
    Ok(())
}

/// Every span but the first must have a non-negative offset, and the spans' lengths
/// must add up to the number of buckets.
fn check_spans(side: Side, spans: &[Span], buckets: usize) -> Result<()> {
    let mut need = 0u64;
    for (n, span) in spans.iter().enumerate() {
        if n > 0 && span.offset < 0 {
            return Err(HistogramError::SpanNegativeOffset {
                side,
                span: n + 1,
                offset: span.offset,
            });
        }
        need += u64::from(span.length);
    }
    if need != buckets as u64 {
        return Err(HistogramError::SpansBucketsMismatch {
            side,
            spans: need,
            buckets,
        });
    }
    Ok(())
}

/// Accumulates deltas to absolute counts; each must be non-negative. Returns their sum.
fn sum_delta_buckets(side: Side, deltas: &[i64]) -> Result<u64> {
    let mut cur = 0i64;
    let mut total = 0u64;
    for (i, d) in deltas.iter().enumerate() {
        cur = cur.wrapping_add(*d);
        if cur < 0 {
            return Err(HistogramError::NegativeBucketCount {
                side,
                bucket: i + 1,
                count: cur as f64,
            });
        }
        total = total.wrapping_add(cur as u64);
    }
    Ok(total)
}

fn check_float_buckets(side: Side, buckets: &[f64]) -> Result<()> {
    for (i, c) in buckets.iter().enumerate() {
        if *c < 0.0 {
            return Err(HistogramError::NegativeBucketCount {
                side,
                bucket: i + 1,
                count: *c,
            });
        }
    }
    Ok(())
}

/// Custom bounds must be strictly increasing, not NaN, and not end in +Inf (the +Inf
/// bucket is implicit); spans may not have negative offsets (not even the first), must
/// match the bucket count, and may reach at most one past the last bound.
fn check_custom_bounds(bounds: &[f64], spans: &[Span], buckets: usize) -> Result<()> {
    let mut prev = f64::NEG_INFINITY;
    for (i, &cur) in bounds.iter().enumerate() {
        if cur.is_nan() {
            return Err(HistogramError::CustomBoundNaN);
        }
        if i > 0 && cur <= prev {
            return Err(HistogramError::CustomBoundsNotIncreasing {
                previous: prev,
                current: cur,
            });
        }
        prev = cur;
    }
    if prev == f64::INFINITY {
        return Err(HistogramError::CustomBoundInfinite);
    }
    let mut need = 0u64;
    let mut reach = 0u64;
    for (n, span) in spans.iter().enumerate() {
        let Ok(offset) = u64::try_from(span.offset) else {
            return Err(HistogramError::SpanNegativeOffset {
                side: Side::CustomBuckets,
                span: n + 1,
                offset: span.offset,
            });
        };
        need += u64::from(span.length);
        reach += u64::from(span.length) + offset;
    }
    if need != buckets as u64 {
        return Err(HistogramError::SpansBucketsMismatch {
            side: Side::CustomBuckets,
            spans: need,
            buckets,
        });
    }
    if (bounds.len() as u64) + 1 < reach {
        return Err(HistogramError::CustomBoundsTooFew {
            bounds: bounds.len(),
            span_length: reach,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::histogram::CounterResetHint;

    fn span(offset: i32, length: u32) -> Span {
        Span { offset, length }
    }

    fn valid_int() -> Histogram {
        // Buckets 2, 3, 1 on the positive side, 1 on the negative side, zero bucket 1.
        Histogram {
            counter_reset_hint: CounterResetHint::Unknown,
            schema: 0,
            zero_threshold: 0.001,
            zero_count: 1,
            count: 8,
            sum: 10.5,
            positive_spans: vec![span(-1, 2), span(3, 1)],
            positive_deltas: vec![2, 1, -2],
            negative_spans: vec![span(0, 1)],
            negative_deltas: vec![1],
            custom_values: vec![],
        }
    }

    fn valid_custom() -> FloatHistogram {
        FloatHistogram {
            schema: CUSTOM_BUCKETS_SCHEMA,
            count: 5.0,
            sum: 3.0,
            positive_spans: vec![span(0, 2), span(1, 1)],
            positive_buckets: vec![1.0, 2.0, 2.0],
            custom_values: vec![0.5, 1.0, 2.0],
            ..Default::default()
        }
    }

    #[test]
    fn accepts_valid_histograms() {
        assert_eq!(valid_int().validate(), Ok(()));
        assert_eq!(valid_int().to_float().validate(), Ok(()));
        assert_eq!(valid_custom().validate(), Ok(()));
        assert_eq!(Histogram::default().validate(), Ok(()));
    }

    #[test]
    fn schema_range() {
        for schema in [-5, 9, 52, -53 + 1] {
            let h = Histogram {
                schema,
                ..Default::default()
            };
            assert_eq!(h.validate(), Err(HistogramError::InvalidSchema { schema }));
        }
        let e = HistogramError::InvalidSchema { schema: 9 }.to_string();
        assert!(
            e.contains("between -4 and 8") && e.ends_with("got schema 9"),
            "{e}"
        );
    }

    #[test]
    fn spans_must_match_buckets() {
        let mut h = valid_int();
        h.positive_deltas.push(0);
        assert_eq!(
            h.validate(),
            Err(HistogramError::SpansBucketsMismatch {
                side: Side::Positive,
                spans: 3,
                buckets: 4
            })
        );
        assert_eq!(
            h.validate().unwrap_err().to_string(),
            "positive side: spans need 3 buckets, have 4 buckets: histogram spans specify different number of buckets than provided"
        );
    }

    #[test]
    fn only_the_first_span_may_have_a_negative_offset() {
        let mut h = valid_int();
        h.negative_spans = vec![span(0, 0), span(-2, 1)];
        assert_eq!(
            h.validate(),
            Err(HistogramError::SpanNegativeOffset {
                side: Side::Negative,
                span: 2,
                offset: -2
            })
        );
    }

    #[test]
    fn negative_bucket_counts() {
        let mut h = valid_int();
        h.positive_deltas = vec![2, -3, 4];
        let err = h.validate().unwrap_err();
        assert_eq!(
            err,
            HistogramError::NegativeBucketCount {
                side: Side::Positive,
                bucket: 2,
                count: -1.0
            }
        );
        assert!(
            err.to_string()
                .starts_with("positive side: bucket number 2 has observation count of -1:")
        );
        let mut f = valid_int().to_float();
        f.negative_buckets = vec![-0.5];
        assert!(matches!(
            f.validate(),
            Err(HistogramError::NegativeBucketCount {
                side: Side::Negative,
                bucket: 1,
                ..
            })
        ));
        let mut f = valid_int().to_float();
        f.zero_count = -1.0;
        assert_eq!(
            f.validate(),
            Err(HistogramError::NegativeZeroCount { count: -1.0 })
        );
        let mut f = valid_int().to_float();
        f.count = -3.0;
        assert_eq!(
            f.validate(),
            Err(HistogramError::NegativeCount { count: -3.0 })
        );
    }

    #[test]
    fn count_against_buckets_and_nan_sum() {
        let mut h = valid_int();
        h.count = 9;
        assert_eq!(
            h.validate(),
            Err(HistogramError::CountMismatch {
                buckets: 8,
                count: 9
            })
        );
        // With a NaN sum, a larger count is fine (NaN observations), a smaller is not.
        h.sum = f64::NAN;
        assert_eq!(h.validate(), Ok(()));
        h.count = 7;
        assert_eq!(
            h.validate(),
            Err(HistogramError::CountNotBigEnough {
                buckets: 8,
                count: 7
            })
        );
        // Float histograms do not compare the count with the buckets.
        let mut f = valid_int().to_float();
        f.count = 100.0;
        assert_eq!(f.validate(), Ok(()));
    }

    #[test]
    fn custom_bucket_rules() {
        let mut f = valid_custom();
        f.custom_values = vec![0.5, f64::NAN, 2.0];
        assert_eq!(f.validate(), Err(HistogramError::CustomBoundNaN));
        f.custom_values = vec![0.5, 0.5, 2.0];
        assert!(matches!(
            f.validate(),
            Err(HistogramError::CustomBoundsNotIncreasing { .. })
        ));
        f.custom_values = vec![0.5, 1.0, f64::INFINITY];
        assert_eq!(f.validate(), Err(HistogramError::CustomBoundInfinite));
        // Spans reach index 3 (the +Inf bucket), which needs at least 3 bounds.
        f.custom_values = vec![0.5, 1.0];
        assert_eq!(
            f.validate(),
            Err(HistogramError::CustomBoundsTooFew {
                bounds: 2,
                span_length: 4
            })
        );
        let mut f = valid_custom();
        f.positive_spans[0].offset = -1;
        assert!(matches!(
            f.validate(),
            Err(HistogramError::SpanNegativeOffset {
                side: Side::CustomBuckets,
                span: 1,
                ..
            })
        ));
        let mut f = valid_custom();
        f.zero_count = 1.0;
        assert_eq!(f.validate(), Err(HistogramError::CustomBucketsZeroCount));
        let mut f = valid_custom();
        f.zero_threshold = 0.1;
        assert_eq!(
            f.validate(),
            Err(HistogramError::CustomBucketsZeroThreshold)
        );
        let mut f = valid_custom();
        f.negative_spans = vec![span(0, 1)];
        assert_eq!(
            f.validate(),
            Err(HistogramError::CustomBucketsNegativeSpans)
        );
        let mut f = valid_custom();
        f.negative_buckets = vec![1.0];
        assert_eq!(
            f.validate(),
            Err(HistogramError::CustomBucketsNegativeBuckets)
        );
        let mut h = valid_int();
        h.custom_values = vec![1.0];
        assert_eq!(
            h.validate(),
            Err(HistogramError::ExponentialWithCustomBounds)
        );
    }

    #[test]
    fn custom_int_histogram_counts_buckets() {
        let h = Histogram {
            schema: CUSTOM_BUCKETS_SCHEMA,
            count: 3,
            sum: 1.0,
            positive_spans: vec![span(0, 2)],
            positive_deltas: vec![1, 1],
            custom_values: vec![1.0],
            ..Default::default()
        };
        assert_eq!(h.validate(), Ok(()));
    }
}
