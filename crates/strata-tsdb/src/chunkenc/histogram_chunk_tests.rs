//! Tests of the histogram chunk appenders (integer and float) against the decoder.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use proptest::prelude::*;
use strata_model::histogram::{CounterResetHint, FloatHistogram, Histogram, Span};

use super::*;
use crate::chunkenc::FloatHistogramChunk;
use crate::chunkenc::histogram::{
    ENC_FLOAT_HISTOGRAM, ENC_HISTOGRAM, HEADER_UNKNOWN_COUNTER_RESET, decode_histogram_chunk,
};

fn span(offset: i32, length: u32) -> Span {
    Span { offset, length }
}

/// Delta-encodes absolute counts.
fn deltas(abs: &[i64]) -> Vec<i64> {
    let mut prev = 0;
    abs.iter()
        .map(|&a| {
            let d = a - prev;
            prev = a;
            d
        })
        .collect()
}

/// A histogram with the given spans and absolute counts; count = zero count + buckets.
fn hist(
    schema: i32,
    pos: (&[Span], &[i64]),
    neg: (&[Span], &[i64]),
    zc: u64,
    sum: f64,
) -> Histogram {
    let total: i64 = pos.1.iter().chain(neg.1).sum();
    Histogram {
        schema,
        zero_threshold: 0.001,
        zero_count: zc,
        count: zc + total as u64,
        sum,
        positive_spans: pos.0.to_vec(),
        negative_spans: neg.0.to_vec(),
        positive_deltas: deltas(pos.1),
        negative_deltas: deltas(neg.1),
        ..Histogram::default()
    }
}

/// Bucket index → count for the non-empty buckets.
fn bucket_map(spans: &[Span], counts: &[f64]) -> BTreeMap<i64, u64> {
    let mut out = BTreeMap::new();
    let mut idx = 0i64;
    let mut k = 0;
    for s in spans {
        // The first offset is an index, later ones are gaps after the previous span.
        idx += i64::from(s.offset);
        for _ in 0..s.length {
            let c = counts[k];
            if c != 0.0 {
                out.insert(idx, c.to_bits());
            }
            idx += 1;
            k += 1;
        }
    }
    out
}

/// What must survive a round trip: everything but the exact layout and the hint.
fn essence(t: i64, h: &FloatHistogram) -> String {
    format!(
        "t={t} schema={} zt={} zc={} c={} sum={:x} pos={:?} neg={:?} cv={:?}",
        h.schema,
        h.zero_threshold,
        h.zero_count,
        h.count,
        h.sum.to_bits(),
        bucket_map(&h.positive_spans, &h.positive_buckets),
        bucket_map(&h.negative_spans, &h.negative_buckets),
        h.custom_values
    )
}

/// Appends every histogram, following the outcomes; returns the finished chunks.
fn append_all_int(samples: &[(i64, Histogram)]) -> Vec<HistogramChunk> {
    let mut done: Vec<HistogramChunk> = Vec::new();
    let mut cur = HistogramChunk::new();
    for (t, h) in samples {
        match cur.append(*t, h, None).unwrap() {
            HistogramAppend::Appended => {}
            HistogramAppend::Recoded(c) => cur = c,
            HistogramAppend::NewChunk(c) => done.push(std::mem::replace(&mut cur, c)),
        }
    }
    done.push(cur);
    done
}

fn append_all_float(samples: &[(i64, FloatHistogram)]) -> Vec<FloatHistogramChunk> {
    let mut done = Vec::new();
    let mut cur = FloatHistogramChunk::new();
    for (t, h) in samples {
        match cur.append(*t, h, None).unwrap() {
            HistogramAppend::Appended => {}
            HistogramAppend::Recoded(c) => cur = c,
            HistogramAppend::NewChunk(c) => done.push(std::mem::replace(&mut cur, c)),
        }
    }
    done.push(cur);
    done
}

fn decoded(enc: u8, chunks: &[&[u8]]) -> Vec<(i64, FloatHistogram)> {
    chunks
        .iter()
        .flat_map(|c| decode_histogram_chunk(enc, c).unwrap())
        .map(|s| (s.t, s.h))
        .collect()
}

#[test]
fn same_layout_round_trip_and_hints() {
    let sp = [span(0, 2), span(1, 2)];
    let nsp = [span(1, 1), span(2, 3)];
    let samples: Vec<(i64, Histogram)> = (0..20)
        .map(|i| {
            let p = [1 + i, 2 + 2 * i, 1, 1 + i * i];
            let n = [2, 3 + i, 2, 1];
            (
                1_000 + i * 15_000,
                hist(1, (&sp, &p), (&nsp, &n), 2 + i as u64, 18.4 * i as f64),
            )
        })
        .collect();
    let chunks = append_all_int(&samples);
    assert_eq!(chunks.len(), 1);
    assert_eq!(chunks[0].num_samples(), 20);
    assert_eq!(chunks[0].last_t(), samples[19].0);
    let ints = decode_integer_histograms(chunks[0].bytes()).unwrap();
    for (i, ((t, h), (wt, want))) in ints.iter().zip(&samples).enumerate() {
        assert_eq!(t, wt);
        let mut want = want.clone();
        want.counter_reset_hint = if i == 0 {
            CounterResetHint::Unknown
        } else {
            CounterResetHint::NotCounterReset
        };
        assert_eq!(h, &want, "sample {i}");
    }
}

#[test]
fn new_buckets_recode_the_chunk() {
    // The layout change described by Prometheus' expandIntSpansAndBuckets.
    let sp1 = [span(0, 2), span(2, 1), span(3, 2), span(3, 1), span(1, 1)];
    let h1 = Histogram {
        positive_deltas: vec![6, -3, 0, -1, 2, 1, -4],
        ..hist(1, (&sp1, &[]), (&[span(1, 1)], &[1]), 2, 18.4)
    };
    let h1 = Histogram { count: 27, ..h1 };
    let sp2 = [span(0, 3), span(1, 1), span(1, 4), span(3, 3)];
    let h2 = Histogram {
        positive_spans: sp2.to_vec(),
        negative_spans: vec![span(0, 2)],
        positive_deltas: vec![7, -2, -4, 2, -2, -1, 2, 3, 0, -5, 1],
        negative_deltas: vec![2, -1],
        count: 35,
        zero_count: 3,
        sum: 30.0,
        ..h1.clone()
    };
    let mut c = HistogramChunk::new();
    assert!(matches!(
        c.append(1, &h1, None).unwrap(),
        HistogramAppend::Appended
    ));
    let HistogramAppend::Recoded(c) = c.append(2, &h2, None).unwrap() else {
        panic!("expected a recode");
    };
    let got = decode_integer_histograms(c.bytes()).unwrap();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].1.positive_spans, sp2);
    assert_eq!(
        got[0].1.positive_deltas,
        vec![6, -3, -3, 3, -3, 0, 2, 2, 1, -5, 1]
    );
    assert_eq!(got[0].1.negative_deltas, vec![0, 1]);
    assert_eq!(got[1].1.positive_deltas, h2.positive_deltas);
}

#[test]
fn missing_empty_buckets_are_filled_in() {
    // The chunk has buckets 0..3 with bucket 1 empty; the new histogram omits bucket 1.
    let h1 = hist(0, (&[span(0, 3)], &[1, 0, 2]), (&[], &[]), 0, 1.0);
    let h2 = hist(0, (&[span(0, 1), span(1, 1)], &[2, 3]), (&[], &[]), 0, 2.0);
    let mut c = HistogramChunk::new();
    c.append(1, &h1, None).unwrap();
    assert!(matches!(
        c.append(2, &h2, None).unwrap(),
        HistogramAppend::Appended
    ));
    let got = decode_integer_histograms(c.bytes()).unwrap();
    assert_eq!(got[1].1.positive_spans, vec![span(0, 3)]);
    assert_eq!(got[1].1.to_float().positive_buckets, vec![2.0, 0.0, 3.0]);

    // Losing a bucket that held observations is a counter reset.
    let h3 = hist(0, (&[span(0, 1)], &[9]), (&[], &[]), 0, 3.0);
    let HistogramAppend::NewChunk(n) = c.append(3, &h3, None).unwrap() else {
        panic!("expected a new chunk");
    };
    assert_eq!(n.counter_reset_header(), HEADER_COUNTER_RESET);
}

#[test]
fn chunk_cuts_and_headers() {
    let sp = [span(0, 2)];
    let base = hist(2, (&sp, &[3, 4]), (&[], &[]), 1, 5.0);
    let cases: Vec<(&str, Histogram, u8)> = vec![
        (
            "count decrease",
            hist(2, (&sp, &[1, 1]), (&[], &[]), 1, 5.0),
            HEADER_COUNTER_RESET,
        ),
        (
            "bucket decrease",
            hist(2, (&sp, &[2, 9]), (&[], &[]), 1, 5.0),
            HEADER_COUNTER_RESET,
        ),
        (
            "zero count decrease",
            hist(2, (&sp, &[3, 5]), (&[], &[]), 0, 5.0),
            HEADER_COUNTER_RESET,
        ),
        (
            "schema change",
            hist(3, (&sp, &[3, 4]), (&[], &[]), 1, 5.0),
            HEADER_UNKNOWN_COUNTER_RESET,
        ),
        (
            "zero threshold change",
            Histogram {
                zero_threshold: 0.5,
                ..base.clone()
            },
            HEADER_UNKNOWN_COUNTER_RESET,
        ),
        (
            "explicit reset hint",
            Histogram {
                counter_reset_hint: CounterResetHint::CounterReset,
                ..base.clone()
            },
            HEADER_COUNTER_RESET,
        ),
        (
            "gauge into a counter chunk",
            Histogram {
                counter_reset_hint: CounterResetHint::Gauge,
                ..base.clone()
            },
            HEADER_GAUGE,
        ),
    ];
    for (what, h, header) in cases {
        let mut c = HistogramChunk::new();
        c.append(1, &base, None).unwrap();
        let HistogramAppend::NewChunk(n) = c.append(2, &h, None).unwrap() else {
            panic!("{what}: expected a new chunk");
        };
        assert_eq!(n.counter_reset_header(), header, "{what}");
        assert_eq!(n.num_samples(), 1, "{what}");
        // A first sample continuing `c` gets the same header from `prev` (except for the
        // hints, which decide by themselves).
        let mut fresh = HistogramChunk::new();
        fresh.append(2, &h, Some(&c)).unwrap();
        assert_eq!(fresh.counter_reset_header(), header, "{what} (prev)");

        // Float chunks: the same cuts, with unknown instead of not-a-reset headers.
        let mut fc = FloatHistogramChunk::new();
        fc.append(1, &base.to_float(), None).unwrap();
        let HistogramAppend::NewChunk(n) = fc.append(2, &h.to_float(), None).unwrap() else {
            panic!("{what}: expected a new float chunk");
        };
        assert_eq!(n.counter_reset_header(), header, "{what} (float)");
    }
    // Custom bounds changing is a counter reset.
    let nhcb = |cv: Vec<f64>| Histogram {
        schema: CUSTOM_BUCKETS_SCHEMA,
        zero_threshold: 0.0,
        custom_values: cv,
        ..hist(CUSTOM_BUCKETS_SCHEMA, (&sp, &[3, 4]), (&[], &[]), 0, 5.0)
    };
    let mut c = HistogramChunk::new();
    c.append(1, &nhcb(vec![0.5, 1.0]), None).unwrap();
    assert!(matches!(
        c.append(2, &nhcb(vec![0.5, 1.0]), None).unwrap(),
        HistogramAppend::Appended
    ));
    let HistogramAppend::NewChunk(n) = c.append(3, &nhcb(vec![0.5, 2.0]), None).unwrap() else {
        panic!("expected a new chunk");
    };
    assert_eq!(n.counter_reset_header(), HEADER_COUNTER_RESET);
    // A continuing chunk without reset says so.
    let mut fresh = HistogramChunk::new();
    fresh.append(4, &nhcb(vec![0.5, 2.0]), Some(&n)).unwrap();
    assert_eq!(fresh.counter_reset_header(), HEADER_NOT_COUNTER_RESET);
}

#[test]
fn gauges_merge_layouts() {
    let g = |sp: &[Span], c: &[i64]| Histogram {
        counter_reset_hint: CounterResetHint::Gauge,
        ..hist(0, (sp, c), (&[], &[]), 0, 1.0)
    };
    let mut c = HistogramChunk::new();
    c.append(1, &g(&[span(0, 2)], &[5, 5]), None).unwrap();
    assert_eq!(c.counter_reset_header(), HEADER_GAUGE);
    // Fewer buckets and lower counts: still the same chunk.
    assert!(matches!(
        c.append(2, &g(&[span(1, 1)], &[1]), None).unwrap(),
        HistogramAppend::Appended
    ));
    // A bucket on both sides of the layout: recoded with the union.
    let HistogramAppend::Recoded(c) = c
        .append(3, &g(&[span(-1, 1), span(2, 1)], &[1, 2]), None)
        .unwrap()
    else {
        panic!("expected a recode");
    };
    let got = decode_histogram_chunk(ENC_HISTOGRAM, c.bytes()).unwrap();
    let maps: Vec<_> = got
        .iter()
        .map(|s| bucket_map(&s.h.positive_spans, &s.h.positive_buckets))
        .collect();
    assert_eq!(
        maps[0],
        BTreeMap::from([(0, 5f64.to_bits()), (1, 5f64.to_bits())])
    );
    assert_eq!(maps[1], BTreeMap::from([(1, 1f64.to_bits())]));
    assert_eq!(
        maps[2],
        BTreeMap::from([(-1, 1f64.to_bits()), (2, 2f64.to_bits())])
    );
    assert!(
        got.iter()
            .all(|s| s.h.counter_reset_hint == CounterResetHint::Gauge)
    );
    // A counter histogram does not join a gauge chunk.
    let mut c = c;
    let HistogramAppend::NewChunk(n) = c
        .append(4, &hist(0, (&[], &[]), (&[], &[]), 0, 1.0), None)
        .unwrap()
    else {
        panic!("expected a new chunk");
    };
    assert_eq!(n.counter_reset_header(), HEADER_NOT_COUNTER_RESET);
}

#[test]
fn stale_markers() {
    let stale = Histogram {
        sum: f64::from_bits(STALE_NAN_BITS),
        ..Histogram::default()
    };
    let h = hist(0, (&[span(0, 2)], &[1, 2]), (&[], &[]), 0, 1.0);
    let mut c = HistogramChunk::new();
    c.append(1, &h, None).unwrap();
    assert!(matches!(
        c.append(2, &stale, None).unwrap(),
        HistogramAppend::Appended
    ));
    assert!(matches!(
        c.append(3, &stale, None).unwrap(),
        HistogramAppend::Appended
    ));
    // After a stale marker only stale markers share the chunk.
    let HistogramAppend::NewChunk(n) = c.append(4, &h, None).unwrap() else {
        panic!("expected a new chunk");
    };
    assert_eq!(n.counter_reset_header(), HEADER_UNKNOWN_COUNTER_RESET);
    let got = decode_histogram_chunk(ENC_HISTOGRAM, c.bytes()).unwrap();
    assert_eq!(got.len(), 3);
    assert!(!got[0].h.is_stale() && got[1].h.is_stale() && got[2].h.is_stale());
    // A chunk starting with a stale marker has an empty layout.
    let mut s = HistogramChunk::new();
    s.append(5, &stale, None).unwrap();
    let got = decode_histogram_chunk(ENC_HISTOGRAM, s.bytes()).unwrap();
    assert!(got[0].h.is_stale());

    // Float chunks alike.
    let fstale = stale.to_float();
    let mut f = FloatHistogramChunk::new();
    f.append(1, &h.to_float(), None).unwrap();
    assert!(matches!(
        f.append(2, &fstale, None).unwrap(),
        HistogramAppend::Appended
    ));
    assert!(matches!(
        f.append(3, &h.to_float(), None).unwrap(),
        HistogramAppend::NewChunk(_)
    ));
    let got = decode_histogram_chunk(ENC_FLOAT_HISTOGRAM, f.bytes()).unwrap();
    assert!(got[1].h.is_stale());
}

#[test]
fn matches_hand_assembled_chunk() {
    // The same chunk as `histogram_tests::hand_assembled_integer_chunk`, assembled bit by
    // bit from the format description.
    let h = Histogram {
        schema: 3,
        zero_threshold: 2f64.powi(-128),
        zero_count: 1,
        count: 5,
        sum: 2.5,
        positive_spans: vec![span(-1, 2)],
        positive_deltas: vec![2, 2],
        counter_reset_hint: CounterResetHint::CounterReset,
        ..Histogram::default()
    };
    let mut c = HistogramChunk::new();
    c.append(1000, &h, None).unwrap();
    let bits = format!(
        "01110100 10011 10001 10010 10111 0 11110001111101000 10101 10001 {:064b} 10010 10010",
        2.5f64.to_bits()
    );
    let mut w = crate::chunkenc::bstream::BitWriter::from_bytes(vec![0, 1, 0b1000_0000]);
    for bit in bits.chars().filter(|c| !c.is_whitespace()) {
        w.write_bit(bit == '1');
    }
    let want = w.bytes().to_vec();
    assert_eq!(c.bytes(), &want[..]);
}

/// A random evolution of one histogram: observations, new and vanished buckets, resets,
/// schema changes, stale markers.
#[derive(Debug, Clone)]
enum Step {
    Observe(Vec<(i64, i64)>),
    DropEmpty,
    Reset,
    Schema(i32),
    Stale,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => proptest::collection::vec((-6i64..6, 0i64..50), 0..4).prop_map(Step::Observe),
        1 => Just(Step::DropEmpty),
        1 => Just(Step::Reset),
        1 => (0i32..3).prop_map(Step::Schema),
        1 => Just(Step::Stale),
    ]
}

/// Spans and absolute counts from bucket index → count.
fn layout(m: &BTreeMap<i64, i64>) -> (Vec<Span>, Vec<i64>) {
    let mut spans: Vec<Span> = Vec::new();
    let mut counts = Vec::new();
    let mut next = 0i64;
    for (&idx, &c) in m {
        match spans.last_mut() {
            Some(s) if idx == next => s.length += 1,
            _ => {
                let offset = if spans.is_empty() { idx } else { idx - next };
                spans.push(span(offset as i32, 1));
            }
        }
        counts.push(c);
        next = idx + 1;
    }
    (spans, counts)
}

fn evolve(steps: &[Step]) -> Vec<(i64, Histogram)> {
    let mut pos: BTreeMap<i64, i64> = BTreeMap::new();
    let mut schema = 0;
    let mut out = Vec::new();
    let mut t = 1_000i64;
    for (k, s) in steps.iter().enumerate() {
        t += 10_000 + (k as i64 % 3);
        let mut stale = false;
        match s {
            Step::Observe(obs) => {
                for (idx, n) in obs {
                    *pos.entry(*idx).or_default() += n;
                }
            }
            Step::DropEmpty => pos.retain(|_, c| *c > 0),
            Step::Reset => pos.values_mut().for_each(|c| *c /= 3),
            Step::Schema(s) => schema = *s,
            Step::Stale => stale = true,
        }
        let (spans, counts) = layout(&pos);
        let mut h = hist(
            schema,
            (&spans, &counts),
            (&[], &[]),
            (k % 4) as u64,
            k as f64 * 0.7,
        );
        if stale {
            h.sum = f64::from_bits(STALE_NAN_BITS);
        }
        out.push((t, h));
    }
    out
}

proptest! {
    #[test]
    fn integer_chunks_keep_every_sample(steps in proptest::collection::vec(step(), 1..60)) {
        let samples = evolve(&steps);
        let chunks = append_all_int(&samples);
        let bytes: Vec<&[u8]> = chunks.iter().map(|c| c.bytes()).collect();
        let got = decoded(ENC_HISTOGRAM, &bytes);
        prop_assert_eq!(got.len(), samples.len());
        for ((t, g), (wt, w)) in got.iter().zip(&samples) {
            if w.is_stale() {
                prop_assert!(g.is_stale());
                continue;
            }
            prop_assert_eq!(essence(*t, g), essence(*wt, &w.to_float()));
        }
        // Within a chunk, counts never decrease (no hidden counter reset).
        for c in &chunks {
            let s = decode_histogram_chunk(ENC_HISTOGRAM, c.bytes()).unwrap();
            for w in s.windows(2) {
                if !w[1].h.is_stale() {
                    prop_assert!(w[1].h.count >= w[0].h.count);
                    prop_assert_eq!(w[1].h.counter_reset_hint, CounterResetHint::NotCounterReset);
                }
            }
        }
    }

    #[test]
    fn float_chunks_keep_every_sample(steps in proptest::collection::vec(step(), 1..60)) {
        let samples: Vec<(i64, FloatHistogram)> = evolve(&steps)
            .into_iter()
            .map(|(t, h)| {
                let mut f = h.to_float();
                f.sum *= 1.1;
                if h.is_stale() {
                    f.sum = h.sum;
                }
                (t, f)
            })
            .collect();
        let chunks = append_all_float(&samples);
        let bytes: Vec<&[u8]> = chunks.iter().map(|c| c.bytes()).collect();
        let got = decoded(ENC_FLOAT_HISTOGRAM, &bytes);
        prop_assert_eq!(got.len(), samples.len());
        for ((t, g), (wt, w)) in got.iter().zip(&samples) {
            if w.is_stale() {
                prop_assert!(g.is_stale());
                continue;
            }
            prop_assert_eq!(essence(*t, g), essence(*wt, w));
        }
    }
}
