//! Tests of the histogram WAL records.

#![allow(clippy::unwrap_used)]

use super::*;
use proptest::prelude::*;

fn span_strategy() -> impl Strategy<Value = Vec<Span>> {
    proptest::collection::vec((any::<i32>(), any::<u32>()), 0..4).prop_map(|v| {
        v.into_iter()
            .map(|(offset, length)| Span { offset, length })
            .collect()
    })
}

fn hint_strategy() -> impl Strategy<Value = CounterResetHint> {
    prop_oneof![
        Just(CounterResetHint::Unknown),
        Just(CounterResetHint::CounterReset),
        Just(CounterResetHint::NotCounterReset),
        Just(CounterResetHint::Gauge),
    ]
}

fn schema_strategy() -> impl Strategy<Value = i32> {
    prop_oneof![-4i32..=8, Just(CUSTOM_BUCKETS_SCHEMA)]
}

fn hist_strategy() -> impl Strategy<Value = Histogram> {
    (
        (
            hint_strategy(),
            schema_strategy(),
            any::<f64>(),
            any::<u64>(),
            any::<u64>(),
            any::<f64>(),
        ),
        (span_strategy(), span_strategy()),
        (
            proptest::collection::vec(any::<i64>(), 0..5),
            proptest::collection::vec(any::<i64>(), 0..5),
            proptest::collection::vec(any::<f64>(), 0..5),
        ),
    )
        .prop_map(
            |((hint, schema, zt, zc, c, sum), (ps, ns), (pd, nd, cv))| Histogram {
                counter_reset_hint: hint,
                schema,
                zero_threshold: zt,
                zero_count: zc,
                count: c,
                sum,
                positive_spans: ps,
                negative_spans: ns,
                positive_deltas: pd,
                negative_deltas: nd,
                custom_values: if schema == CUSTOM_BUCKETS_SCHEMA {
                    cv
                } else {
                    vec![]
                },
            },
        )
}

/// Compares with float bits so that NaNs compare equal.
fn int_key(s: &RefHistogramSample) -> String {
    let h = &s.h;
    format!(
        "{} {} {:?} {} {:x} {} {} {:x} {:?} {:?} {:?} {:?} {:?}",
        s.series_ref,
        s.t,
        h.counter_reset_hint,
        h.schema,
        h.zero_threshold.to_bits(),
        h.zero_count,
        h.count,
        h.sum.to_bits(),
        h.positive_spans,
        h.negative_spans,
        h.positive_deltas,
        h.negative_deltas,
        h.custom_values
            .iter()
            .map(|v| v.to_bits())
            .collect::<Vec<_>>()
    )
}

fn float_key(s: &RefFloatHistogramSample) -> String {
    let h = &s.h;
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    format!(
        "{} {} {:?} {} {:x} {:x} {:x} {:x} {:?} {:?} {:?} {:?} {:?}",
        s.series_ref,
        s.t,
        h.counter_reset_hint,
        h.schema,
        h.zero_threshold.to_bits(),
        h.zero_count.to_bits(),
        h.count.to_bits(),
        h.sum.to_bits(),
        h.positive_spans,
        h.negative_spans,
        bits(&h.positive_buckets),
        bits(&h.negative_buckets),
        bits(&h.custom_values)
    )
}

proptest! {
    #[test]
    fn histogram_records_round_trip(items in proptest::collection::vec((any::<u64>(), any::<i64>(), hist_strategy()), 0..10), custom in any::<bool>()) {
        let refs: Vec<(u64, i64, &Histogram)> = items.iter().map(|(r, t, h)| (*r, *t, h)).collect();
        let mut buf = Vec::new();
        encode_histogram_samples(&refs, custom, &mut buf);
        let want_type = if custom { RecordType::CustomBucketsHistogramSamples } else { RecordType::HistogramSamples };
        prop_assert_eq!(record_type(&buf), want_type);
        let mut out = Vec::new();
        decode_histogram_samples(&buf, &mut out).unwrap();
        let want: Vec<String> = items
            .iter()
            .map(|(r, t, h)| int_key(&RefHistogramSample { series_ref: *r, t: *t, h: h.clone() }))
            .collect();
        prop_assert_eq!(out.iter().map(int_key).collect::<Vec<_>>(), want);
    }

    #[test]
    fn float_histogram_records_round_trip(items in proptest::collection::vec((any::<u64>(), any::<i64>(), hist_strategy()), 0..10), custom in any::<bool>()) {
        let floats: Vec<(u64, i64, FloatHistogram)> = items
            .iter()
            .map(|(r, t, h)| {
                let mut f = h.to_float();
                f.counter_reset_hint = h.counter_reset_hint;
                (*r, *t, f)
            })
            .collect();
        let refs: Vec<(u64, i64, &FloatHistogram)> = floats.iter().map(|(r, t, h)| (*r, *t, h)).collect();
        let mut buf = Vec::new();
        encode_float_histogram_samples(&refs, custom, &mut buf);
        let mut out = Vec::new();
        decode_float_histogram_samples(&buf, &mut out).unwrap();
        let want: Vec<String> = floats
            .iter()
            .map(|(r, t, h)| float_key(&RefFloatHistogramSample { series_ref: *r, t: *t, h: h.clone() }))
            .collect();
        prop_assert_eq!(out.iter().map(float_key).collect::<Vec<_>>(), want);
    }

    #[test]
    fn decoders_never_panic(mut b in proptest::collection::vec(any::<u8>(), 0..200), ty in 7u8..11) {
        if let Some(first) = b.first_mut() {
            *first = ty;
        }
        let _ = decode_histogram_samples(&b, &mut Vec::new());
        let _ = decode_float_histogram_samples(&b, &mut Vec::new());
    }
}

#[test]
fn prometheus_layout() {
    let h = Histogram {
        counter_reset_hint: CounterResetHint::NotCounterReset,
        schema: 1,
        zero_threshold: 0.001,
        zero_count: 2,
        count: 7,
        sum: 3.5,
        positive_spans: vec![Span {
            offset: -1,
            length: 2,
        }],
        positive_deltas: vec![2, 1],
        ..Histogram::default()
    };
    let mut buf = Vec::new();
    encode_histogram_samples(&[(5, 1000, &h)], false, &mut buf);
    let mut want = vec![7u8];
    want.extend_from_slice(&5u64.to_be_bytes());
    want.extend_from_slice(&1000u64.to_be_bytes());
    want.extend_from_slice(&[0, 0, 2, 2]); // ref and t deltas, hint, schema (zig-zag 1)
    want.extend_from_slice(&0.001f64.to_bits().to_be_bytes());
    want.extend_from_slice(&[2, 7]); // zero count, count
    want.extend_from_slice(&3.5f64.to_bits().to_be_bytes());
    want.extend_from_slice(&[1, 1, 2, 0]); // one positive span (-1, 2), no negative spans
    want.extend_from_slice(&[2, 4, 2, 0]); // positive deltas 2 and 1, no negative ones
    assert_eq!(buf, want);

    // Schema -53 records carry the bounds at the end; an empty record is the type byte.
    let nhcb = Histogram {
        schema: CUSTOM_BUCKETS_SCHEMA,
        custom_values: vec![0.5],
        ..Histogram::default()
    };
    let mut buf = Vec::new();
    encode_histogram_samples(&[(1, 0, &nhcb)], true, &mut buf);
    assert_eq!(buf[0], 9);
    assert_eq!(
        &buf[buf.len() - 9..],
        &[&[1u8][..], &0.5f64.to_bits().to_be_bytes()].concat()[..]
    );
    let mut buf = Vec::new();
    encode_float_histogram_samples(&[], false, &mut buf);
    assert_eq!(buf, vec![8]);
    let mut out = Vec::new();
    decode_float_histogram_samples(&buf, &mut out).unwrap();
    assert!(out.is_empty());
    // The wrong record type is refused.
    assert!(decode_histogram_samples(&buf, &mut Vec::new()).is_err());
}

#[test]
fn unknown_schemas_are_skipped() {
    let odd = Histogram {
        schema: 60,
        ..Histogram::default()
    };
    let ok = Histogram::default();
    let mut buf = Vec::new();
    encode_histogram_samples(&[(1, 1, &odd), (2, 2, &ok)], false, &mut buf);
    let mut out = Vec::new();
    decode_histogram_samples(&buf, &mut out).unwrap();
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].series_ref, 2);
}
