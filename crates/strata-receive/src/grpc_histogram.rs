//! Native histograms between the forwarding wire (`prometheus_copy.Histogram`) and the
//! receiver's [`HistogramSample`].

use strata_model::histogram::{CounterResetHint, FloatHistogram, Histogram, Span};
use strata_proto::prompb::{self, BucketSpan, histogram};

use crate::error::{Error, Result};
use crate::forward_series::HistogramSample;

fn hint_to_wire(h: CounterResetHint) -> i32 {
    let v = match h {
        CounterResetHint::Unknown => histogram::ResetHint::Unknown,
        CounterResetHint::CounterReset => histogram::ResetHint::Yes,
        CounterResetHint::NotCounterReset => histogram::ResetHint::No,
        CounterResetHint::Gauge => histogram::ResetHint::Gauge,
    };
    v as i32
}

fn hint_from_wire(v: i32) -> CounterResetHint {
    match histogram::ResetHint::try_from(v) {
        Ok(histogram::ResetHint::Yes) => CounterResetHint::CounterReset,
        Ok(histogram::ResetHint::No) => CounterResetHint::NotCounterReset,
        Ok(histogram::ResetHint::Gauge) => CounterResetHint::Gauge,
        _ => CounterResetHint::Unknown,
    }
}

fn spans_to_wire(s: &[Span]) -> Vec<BucketSpan> {
    s.iter()
        .map(|s| BucketSpan {
            offset: s.offset,
            length: s.length,
        })
        .collect()
}

fn spans_from_wire(s: &[BucketSpan]) -> Vec<Span> {
    s.iter()
        .map(|s| Span {
            offset: s.offset,
            length: s.length,
        })
        .collect()
}

/// The wire form of a histogram sample.
pub fn to_wire(h: &HistogramSample) -> prompb::Histogram {
    match h {
        HistogramSample::Int(t, x) => prompb::Histogram {
            count: Some(histogram::Count::CountInt(x.count)),
            sum: x.sum,
            schema: x.schema,
            zero_threshold: x.zero_threshold,
            zero_count: Some(histogram::ZeroCount::ZeroCountInt(x.zero_count)),
            negative_spans: spans_to_wire(&x.negative_spans),
            negative_deltas: x.negative_deltas.clone(),
            positive_spans: spans_to_wire(&x.positive_spans),
            positive_deltas: x.positive_deltas.clone(),
            reset_hint: hint_to_wire(x.counter_reset_hint),
            timestamp: *t,
            custom_values: x.custom_values.clone(),
            ..Default::default()
        },
        HistogramSample::Float(t, x) => prompb::Histogram {
            count: Some(histogram::Count::CountFloat(x.count)),
            sum: x.sum,
            schema: x.schema,
            zero_threshold: x.zero_threshold,
            zero_count: Some(histogram::ZeroCount::ZeroCountFloat(x.zero_count)),
            negative_spans: spans_to_wire(&x.negative_spans),
            negative_counts: x.negative_buckets.clone(),
            positive_spans: spans_to_wire(&x.positive_spans),
            positive_counts: x.positive_buckets.clone(),
            reset_hint: hint_to_wire(x.counter_reset_hint),
            timestamp: *t,
            custom_values: x.custom_values.clone(),
            ..Default::default()
        },
    }
}

/// A histogram sample from the wire: float counts make a float histogram.
pub fn from_wire(h: &prompb::Histogram) -> Result<HistogramSample> {
    let hint = hint_from_wire(h.reset_hint);
    match h.count {
        Some(histogram::Count::CountFloat(count)) => {
            let zero_count = match h.zero_count {
                Some(histogram::ZeroCount::ZeroCountFloat(z)) => z,
                _ => 0.0,
            };
            Ok(HistogramSample::Float(
                h.timestamp,
                FloatHistogram {
                    counter_reset_hint: hint,
                    schema: h.schema,
                    zero_threshold: h.zero_threshold,
                    zero_count,
                    count,
                    sum: h.sum,
                    positive_spans: spans_from_wire(&h.positive_spans),
                    negative_spans: spans_from_wire(&h.negative_spans),
                    positive_buckets: h.positive_counts.clone(),
                    negative_buckets: h.negative_counts.clone(),
                    custom_values: h.custom_values.clone(),
                },
            ))
        }
        ref c => {
            let count = match c {
                Some(histogram::Count::CountInt(n)) => *n,
                _ => 0,
            };
            let zero_count = match h.zero_count {
                Some(histogram::ZeroCount::ZeroCountInt(z)) => z,
                Some(histogram::ZeroCount::ZeroCountFloat(_)) => {
                    return Err(Error::InvalidRequest(
                        "histogram mixes integer and float counts".into(),
                    ));
                }
                None => 0,
            };
            Ok(HistogramSample::Int(
                h.timestamp,
                Histogram {
                    counter_reset_hint: hint,
                    schema: h.schema,
                    zero_threshold: h.zero_threshold,
                    zero_count,
                    count,
                    sum: h.sum,
                    positive_spans: spans_from_wire(&h.positive_spans),
                    negative_spans: spans_from_wire(&h.negative_spans),
                    positive_deltas: h.positive_deltas.clone(),
                    negative_deltas: h.negative_deltas.clone(),
                    custom_values: h.custom_values.clone(),
                },
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn round_trips_both_kinds() {
        let i = HistogramSample::Int(
            5,
            Histogram {
                count: 3,
                sum: 2.5,
                zero_count: 1,
                positive_spans: vec![Span {
                    offset: 1,
                    length: 2,
                }],
                positive_deltas: vec![1, 0],
                counter_reset_hint: CounterResetHint::Gauge,
                ..Default::default()
            },
        );
        assert_eq!(from_wire(&to_wire(&i)).unwrap(), i);
        let f = HistogramSample::Float(
            7,
            match &i {
                HistogramSample::Int(_, h) => h.to_float(),
                HistogramSample::Float(..) => unreachable!(),
            },
        );
        assert_eq!(from_wire(&to_wire(&f)).unwrap(), f);
    }
}
