//! Checks on incoming native histograms, with Prometheus' rules (`Histogram.Validate`,
//! `FloatHistogram.Validate`) and its notion of equality (`Equals`) used to recognise
//! duplicates.

use strata_model::histogram::{FloatHistogram, Histogram, Span};

use crate::chunkenc::histogram::CUSTOM_BUCKETS_SCHEMA;
use crate::chunkenc::histogram_layout::{count_buckets, spans_match};

/// Exponential schemas Prometheus accepts on ingestion.
const EXP_SCHEMA_MIN: i32 = -4;
const EXP_SCHEMA_MAX: i32 = 8;

fn check_spans(side: &str, spans: &[Span], n: usize) -> Result<(), String> {
    if let Some((i, s)) = spans.iter().enumerate().skip(1).find(|(_, s)| s.offset < 0) {
        return Err(format!(
            "{side} side: span number {} with offset {}: histogram has a span whose offset is negative",
            i + 1,
            s.offset
        ));
    }
    let want = count_buckets(spans);
    if want != n {
        return Err(format!(
            "{side} side: spans need {want} buckets, have {n} buckets: histogram spans specify different number of buckets than provided"
        ));
    }
    Ok(())
}

fn check_custom(bounds: &[f64], spans: &[Span], n: usize) -> Result<(), String> {
    let mut prev = f64::NEG_INFINITY;
    for (i, &b) in bounds.iter().enumerate() {
        if b.is_nan() {
            return Err("custom buckets: histogram custom bounds must not be NaN".into());
        }
        if i > 0 && b <= prev {
            return Err(format!(
                "custom buckets: previous bound is {prev} and current is {b}: histogram custom bounds must be in strictly increasing order"
            ));
        }
        prev = b;
    }
    if prev == f64::INFINITY {
        return Err("custom buckets: last +Inf bound must not be explicitly defined".into());
    }
    let mut total_len: i64 = 0;
    for (i, s) in spans.iter().enumerate() {
        if s.offset < 0 {
            return Err(format!(
                "custom buckets: span number {} with offset {}: histogram has a span whose offset is negative",
                i + 1,
                s.offset
            ));
        }
        total_len += i64::from(s.length) + i64::from(s.offset);
    }
    let want = count_buckets(spans);
    if want != n {
        return Err(format!(
            "custom buckets: spans need {want} buckets, have {n} buckets"
        ));
    }
    if (bounds.len() as i64) + 1 < total_len {
        return Err(format!(
            "custom buckets: only {} custom bounds defined which is insufficient to cover total span length of {total_len}",
            bounds.len()
        ));
    }
    Ok(())
}

/// The layout checks shared by both kinds; `neg` is the number of negative buckets.
fn check_layout(
    schema: i32,
    zero_threshold: f64,
    nonzero_zero_count: bool,
    spans: [&[Span]; 2],
    n: [usize; 2],
    custom_values: &[f64],
) -> Result<(), String> {
    if schema == CUSTOM_BUCKETS_SCHEMA {
        check_custom(custom_values, spans[0], n[0])?;
        if nonzero_zero_count {
            return Err("custom buckets: must have zero count of 0".into());
        }
        if zero_threshold != 0.0 {
            return Err("custom buckets: must have zero threshold of 0".into());
        }
        if !spans[1].is_empty() || n[1] > 0 {
            return Err("custom buckets: must not have negative buckets".into());
        }
        return Ok(());
    }
    if !(EXP_SCHEMA_MIN..=EXP_SCHEMA_MAX).contains(&schema) {
        return Err(format!(
            "histogram has an invalid schema, which must be between {EXP_SCHEMA_MIN} and {EXP_SCHEMA_MAX} for exponential buckets, or {CUSTOM_BUCKETS_SCHEMA} for custom buckets, got schema {schema}"
        ));
    }
    check_spans("positive", spans[0], n[0])?;
    check_spans("negative", spans[1], n[1])?;
    if !custom_values.is_empty() {
        return Err("histogram with exponential schema must not have custom bounds".into());
    }
    Ok(())
}

/// Prometheus' `Histogram.Validate`.
pub fn validate_histogram(h: &Histogram) -> Result<(), String> {
    check_layout(
        h.schema,
        h.zero_threshold,
        h.zero_count != 0,
        [&h.positive_spans, &h.negative_spans],
        [h.positive_deltas.len(), h.negative_deltas.len()],
        &h.custom_values,
    )?;
    let mut observed: u64 = h.zero_count;
    for (side, deltas) in [
        ("negative", &h.negative_deltas),
        ("positive", &h.positive_deltas),
    ] {
        let mut cur: i64 = 0;
        for (i, d) in deltas.iter().enumerate() {
            cur = cur.wrapping_add(*d);
            if cur < 0 {
                return Err(format!(
                    "{side} side: bucket number {} has observation count of {cur}: histogram has a bucket whose observation count is negative",
                    i + 1
                ));
            }
            observed = observed.wrapping_add(cur as u64);
        }
    }
    if h.sum.is_nan() {
        if observed > h.count {
            return Err(format!(
                "{observed} observations found in buckets, but the Count field is {}: histogram's observation count should be at least the number of observations found in the buckets",
                h.count
            ));
        }
    } else if observed != h.count {
        return Err(format!(
            "{observed} observations found in buckets, but the Count field is {}: histogram's observation count should equal the number of observations found in the buckets (in absence of NaN)",
            h.count
        ));
    }
    Ok(())
}

/// Prometheus' `FloatHistogram.Validate`.
pub fn validate_float_histogram(h: &FloatHistogram) -> Result<(), String> {
    check_layout(
        h.schema,
        h.zero_threshold,
        h.zero_count != 0.0,
        [&h.positive_spans, &h.negative_spans],
        [h.positive_buckets.len(), h.negative_buckets.len()],
        &h.custom_values,
    )?;
    if h.zero_count < 0.0 {
        return Err(format!(
            "zero bucket has observation count of {}: histogram has a bucket whose observation count is negative",
            h.zero_count
        ));
    }
    if h.count < 0.0 {
        return Err(format!(
            "observation count is {}: histogram has an observation count that is negative",
            h.count
        ));
    }
    for (side, buckets) in [
        ("negative", &h.negative_buckets),
        ("positive", &h.positive_buckets),
    ] {
        if let Some((i, c)) = buckets.iter().enumerate().find(|(_, c)| **c < 0.0) {
            return Err(format!(
                "{side} side: bucket number {} has observation count of {c}: histogram has a bucket whose observation count is negative",
                i + 1
            ));
        }
    }
    Ok(())
}

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

    fn span(offset: i32, length: u32) -> Span {
        Span { offset, length }
    }

    fn valid() -> Histogram {
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
    fn integer_rules() {
        assert_eq!(validate_histogram(&valid()), Ok(()));
        let bad = [
            Histogram {
                count: 8,
                ..valid()
            },
            Histogram {
                schema: 9,
                ..valid()
            },
            Histogram {
                positive_deltas: vec![1, 1],
                ..valid()
            },
            Histogram {
                positive_spans: vec![span(0, 2), span(-1, 1)],
                ..valid()
            },
            Histogram {
                positive_deltas: vec![1, -2, 3],
                count: 7,
                ..valid()
            },
            Histogram {
                custom_values: vec![1.0],
                ..valid()
            },
        ];
        for h in &bad {
            assert!(validate_histogram(h).is_err(), "{h:?}");
        }
        // With a NaN sum, buckets may hold fewer observations than the count.
        let nan = Histogram {
            count: 9,
            sum: f64::NAN,
            ..valid()
        };
        assert_eq!(validate_histogram(&nan), Ok(()));
        // A stale marker is valid.
        let stale = Histogram {
            sum: strata_model::stale_nan(),
            ..Histogram::default()
        };
        assert_eq!(validate_histogram(&stale), Ok(()));
    }

    #[test]
    fn custom_bucket_rules() {
        let nhcb = Histogram {
            schema: CUSTOM_BUCKETS_SCHEMA,
            count: 3,
            sum: 1.0,
            positive_spans: vec![span(0, 2)],
            positive_deltas: vec![1, 1],
            custom_values: vec![0.5, 1.0],
            ..Histogram::default()
        };
        assert_eq!(validate_histogram(&nhcb), Ok(()));
        for h in [
            Histogram {
                custom_values: vec![1.0, 0.5],
                ..nhcb.clone()
            },
            Histogram {
                custom_values: vec![0.5, f64::INFINITY],
                ..nhcb.clone()
            },
            Histogram {
                positive_spans: vec![span(2, 2)],
                ..nhcb.clone()
            },
            Histogram {
                zero_threshold: 0.1,
                ..nhcb.clone()
            },
        ] {
            assert!(validate_histogram(&h).is_err(), "{h:?}");
        }
    }

    #[test]
    fn float_rules_and_equality() {
        let f = valid().to_float();
        assert_eq!(validate_float_histogram(&f), Ok(()));
        let mut neg = f.clone();
        neg.positive_buckets[0] = -1.0;
        assert!(validate_float_histogram(&neg).is_err());
        assert!(float_equals(&f, &f.clone()));
        let mut hinted = f.clone();
        hinted.counter_reset_hint = strata_model::histogram::CounterResetHint::Gauge;
        assert!(float_equals(&f, &hinted));
        let mut padded = valid();
        padded.positive_spans.push(span(3, 0));
        assert!(int_equals(&valid(), &padded));
        let mut other = valid();
        other.sum = 4.0;
        assert!(!int_equals(&valid(), &other));
    }
}
