//! Tests of the histogram chunk decoder, with a small test-only encoder written from the
//! format description.

use super::*;
use proptest::prelude::*;

#[derive(Default)]
struct BitWriter {
    bytes: Vec<u8>,
    nbits: u64,
}

impl BitWriter {
    fn bit(&mut self, b: bool) {
        if self.nbits.is_multiple_of(8) {
            self.bytes.push(0);
        }
        if b {
            let last = self.bytes.last_mut().unwrap();
            *last |= 1 << (7 - self.nbits % 8);
        }
        self.nbits += 1;
    }
    fn bits(&mut self, v: u64, n: u32) {
        for i in (0..n).rev() {
            self.bit((v >> i) & 1 == 1);
        }
    }
    fn prefix(&mut self, k: usize) {
        // k+1 one-bits then a zero, except the widest class (8 ones, no zero).
        for _ in 0..(k + 1).min(8) {
            self.bit(true);
        }
        if k < 7 {
            self.bit(false);
        }
    }
    fn varbit_int(&mut self, v: i64) {
        if v == 0 {
            return self.bit(false);
        }
        for (k, w) in [3u32, 6, 9, 12, 18, 25, 56].into_iter().enumerate() {
            let hi = 1i64 << (w - 1);
            if v >= -(hi - 1) && v <= hi {
                self.prefix(k);
                return self.bits(v as u64 & ((1u64 << w) - 1), w);
            }
        }
        self.prefix(7);
        self.bits(v as u64, 64);
    }
    fn varbit_uint(&mut self, v: u64) {
        if v == 0 {
            return self.bit(false);
        }
        for (k, w) in [3u32, 6, 9, 12, 18, 25, 56].into_iter().enumerate() {
            if v < (1u64 << w) {
                self.prefix(k);
                return self.bits(v, w);
            }
        }
        self.prefix(7);
        self.bits(v, 64);
    }
    fn xor(&mut self, st: &mut (u64, u32, u32), v: f64) {
        let x = st.0 ^ v.to_bits();
        st.0 = v.to_bits();
        if x == 0 {
            return self.bit(false);
        }
        self.bit(true);
        let lead = x.leading_zeros().min(31);
        let trail = x.trailing_zeros();
        if st.1 + st.2 > 0 && lead >= st.1 && trail >= st.2 {
            self.bit(false);
            return self.bits(x >> st.2, 64 - st.1 - st.2);
        }
        self.bit(true);
        let m = 64 - lead - trail;
        self.bits(u64::from(lead), 5);
        self.bits(u64::from(m % 64), 6);
        self.bits(x >> trail, m);
        st.1 = lead;
        st.2 = trail;
    }
    fn zero_threshold(&mut self, z: f64) {
        let bits = z.to_bits();
        let e = ((bits >> 52) & 0x7ff) as i64 - 1023 + 1; // frexp exponent
        if z == 0.0 {
            self.bits(0, 8);
        } else if z > 0.0 && bits & ((1 << 52) - 1) == 0 && (-242..=11).contains(&e) {
            self.bits((e + 243) as u64, 8);
        } else {
            self.bits(255, 8);
            self.bits(bits, 64);
        }
    }
    fn layout(&mut self, l: &Layout) {
        self.zero_threshold(l.zero_threshold);
        self.varbit_int(i64::from(l.schema));
        for spans in [&l.positive_spans, &l.negative_spans] {
            self.varbit_uint(spans.len() as u64);
            for s in spans.iter() {
                self.varbit_uint(u64::from(s.length));
                self.varbit_int(i64::from(s.offset));
            }
        }
        if l.schema == CUSTOM_BUCKETS_SCHEMA {
            self.varbit_uint(l.custom_values.len() as u64);
            for &c in &l.custom_values {
                let m = c * 1000.0;
                if (0.0..=33_554_430.0).contains(&m) && m == m.round() {
                    self.varbit_uint(m as u64 + 1);
                } else {
                    self.bit(false);
                    self.bits(c.to_bits(), 64);
                }
            }
        }
    }
}

/// An integer histogram as the encoder takes it: buckets as deltas between neighbours.
#[derive(Clone, Debug)]
struct IntHist {
    count: u64,
    zero_count: u64,
    sum: f64,
    pos: Vec<i64>,
    neg: Vec<i64>,
}

fn encode_int(flags: u8, l: &Layout, samples: &[(i64, IntHist)]) -> Vec<u8> {
    let mut w = BitWriter::default();
    let (mut pt, mut pdt, mut pc, mut pdc, mut pz, mut pdz) = (0i64, 0i64, 0i64, 0i64, 0i64, 0i64);
    let mut sum = (0u64, 0u32, 0u32);
    let mut prev: Vec<i64> = Vec::new();
    let mut prev_d: Vec<i64> = Vec::new();
    for (i, (t, h)) in samples.iter().enumerate() {
        let buckets: Vec<i64> = h.pos.iter().chain(&h.neg).copied().collect();
        if i == 0 {
            w.layout(l);
            w.varbit_int(*t);
            w.varbit_uint(h.count);
            w.varbit_uint(h.zero_count);
            w.bits(h.sum.to_bits(), 64);
            sum.0 = h.sum.to_bits();
            for &b in &buckets {
                w.varbit_int(b);
            }
            prev_d = vec![0; buckets.len()];
        } else {
            let (dt, dc, dz) = (t - pt, h.count as i64 - pc, h.zero_count as i64 - pz);
            w.varbit_int(dt - pdt);
            w.varbit_int(dc - pdc);
            w.varbit_int(dz - pdz);
            (pdt, pdc, pdz) = (dt, dc, dz);
            w.xor(&mut sum, h.sum);
            for (j, &b) in buckets.iter().enumerate() {
                let d = b - prev[j];
                w.varbit_int(d - prev_d[j]);
                prev_d[j] = d;
            }
        }
        (pt, pc, pz) = (*t, h.count as i64, h.zero_count as i64);
        prev = buckets;
    }
    let mut out = (samples.len() as u16).to_be_bytes().to_vec();
    out.push(flags);
    out.extend_from_slice(&w.bytes);
    out
}

fn encode_float(flags: u8, l: &Layout, samples: &[(i64, FloatHistogram)]) -> Vec<u8> {
    let mut w = BitWriter::default();
    let (mut pt, mut pdt) = (0i64, 0i64);
    let mut st: Vec<(u64, u32, u32)> = Vec::new();
    for (i, (t, h)) in samples.iter().enumerate() {
        let vals: Vec<f64> = [h.count, h.zero_count, h.sum]
            .into_iter()
            .chain(h.positive_buckets.iter().copied())
            .chain(h.negative_buckets.iter().copied())
            .collect();
        if i == 0 {
            w.layout(l);
            w.varbit_int(*t);
            for v in &vals {
                w.bits(v.to_bits(), 64);
            }
            st = vals.iter().map(|v| (v.to_bits(), 0, 0)).collect();
        } else {
            let dt = t - pt;
            w.varbit_int(dt - pdt);
            pdt = dt;
            for (s, v) in st.iter_mut().zip(&vals) {
                w.xor(s, *v);
            }
        }
        pt = *t;
    }
    let mut out = (samples.len() as u16).to_be_bytes().to_vec();
    out.push(flags);
    out.extend_from_slice(&w.bytes);
    out
}

fn exp_layout() -> Layout {
    Layout {
        schema: 3,
        zero_threshold: 2f64.powi(-128),
        positive_spans: vec![
            Span {
                offset: -2,
                length: 2,
            },
            Span {
                offset: 3,
                length: 1,
            },
        ],
        negative_spans: vec![Span {
            offset: 0,
            length: 1,
        }],
        custom_values: vec![],
    }
}

fn int_hist(i: i64) -> IntHist {
    IntHist {
        count: 10 + 3 * i as u64,
        zero_count: 1 + i as u64,
        sum: 1.5 * i as f64 + 0.25,
        pos: vec![2 + i, -1, 3 * i],
        neg: vec![i * i],
    }
}

/// Parses "0101 1..." into bytes, padding the last byte with zeros.
fn bits_to_bytes(s: &str) -> Vec<u8> {
    let mut w = BitWriter::default();
    for c in s.chars().filter(|c| !c.is_whitespace()) {
        w.bit(c == '1');
    }
    w.bytes
}

#[test]
fn hand_assembled_integer_chunk() {
    // One sample, counter reset header, schema 3, zero threshold 2^-128, one positive
    // span {offset -1, length 2}, no negative spans, t=1000, count 5, zero count 1,
    // sum 2.5, buckets 2 and 4 (deltas 2, 2).
    let bits = format!(
        "01110100 10011 10001 10010 10111 0 11110001111101000 10101 10001 {:064b} 10010 10010",
        2.5f64.to_bits()
    );
    let mut chunk = vec![0, 1, 0b1000_0000];
    chunk.extend(bits_to_bytes(&bits));
    let got = decode_histogram_chunk(ENC_HISTOGRAM, &chunk).unwrap();
    assert_eq!(
        got,
        vec![HistogramSample {
            t: 1000,
            h: FloatHistogram {
                counter_reset_hint: HINT_COUNTER_RESET,
                schema: 3,
                zero_threshold: 2f64.powi(-128),
                zero_count: 1.0,
                count: 5.0,
                sum: 2.5,
                positive_spans: vec![Span {
                    offset: -1,
                    length: 2
                }],
                negative_spans: vec![],
                positive_buckets: vec![2.0, 4.0],
                negative_buckets: vec![],
                custom_values: vec![],
            },
        }]
    );
    // The test encoder produces the same bytes.
    let l = Layout {
        schema: 3,
        zero_threshold: 2f64.powi(-128),
        positive_spans: vec![Span {
            offset: -1,
            length: 2,
        }],
        ..Layout::default()
    };
    let h = IntHist {
        count: 5,
        zero_count: 1,
        sum: 2.5,
        pos: vec![2, 2],
        neg: vec![],
    };
    assert_eq!(encode_int(0b1000_0000, &l, &[(1000, h)]), chunk);
}

#[test]
fn header_parsing() {
    for enc in [ENC_HISTOGRAM, ENC_FLOAT_HISTOGRAM] {
        for short in [&[][..], &[0], &[0, 1]] {
            let e = decode_histogram_chunk(enc, short).unwrap_err().to_string();
            assert!(e.contains("header"), "{e}");
        }
        assert!(decode_histogram_chunk(enc, &[0, 0, 0]).unwrap().is_empty());
        assert!(decode_histogram_chunk(enc, &[0, 1, 0]).is_err());
    }
    assert_eq!(histogram_chunk_num_samples(&[1, 2, 0]).unwrap(), 258);
    assert!(decode_histogram_chunk(1, &[0, 0, 0]).is_err());
}

#[test]
fn integer_round_trip_and_hints() {
    let l = exp_layout();
    let samples: Vec<(i64, IntHist)> = (0..50)
        .map(|i| (1_000 + i * 15_000 + (i % 3) * 7, int_hist(i)))
        .collect();
    for (flags, first, rest) in [
        (
            HEADER_UNKNOWN_COUNTER_RESET,
            HINT_UNKNOWN,
            HINT_NOT_COUNTER_RESET,
        ),
        (
            HEADER_COUNTER_RESET,
            HINT_COUNTER_RESET,
            HINT_NOT_COUNTER_RESET,
        ),
        (
            HEADER_NOT_COUNTER_RESET,
            HINT_UNKNOWN,
            HINT_NOT_COUNTER_RESET,
        ),
        (HEADER_GAUGE | 0x3f, HINT_GAUGE, HINT_GAUGE),
    ] {
        let chunk = encode_int(flags, &l, &samples);
        let got = decode_histogram_chunk(ENC_HISTOGRAM, &chunk).unwrap();
        assert_eq!(got.len(), samples.len());
        for (k, ((t, h), s)) in samples.iter().zip(&got).enumerate() {
            assert_eq!(s.t, *t);
            assert_eq!(s.h.counter_reset_hint, if k == 0 { first } else { rest });
            assert_eq!(s.h.count, h.count as f64);
            assert_eq!(s.h.zero_count, h.zero_count as f64);
            assert_eq!(s.h.sum, h.sum);
            assert_eq!(s.h.positive_spans, l.positive_spans);
            assert_eq!(s.h.negative_spans, l.negative_spans);
            let (a, b, c) = (
                h.pos[0],
                h.pos[0] + h.pos[1],
                h.pos[0] + h.pos[1] + h.pos[2],
            );
            assert_eq!(s.h.positive_buckets, vec![a as f64, b as f64, c as f64]);
            assert_eq!(s.h.negative_buckets, vec![h.neg[0] as f64]);
        }
        // Every strict prefix is an error, never a panic.
        for n in 0..chunk.len() {
            assert!(
                decode_histogram_chunk(ENC_HISTOGRAM, &chunk[..n]).is_err(),
                "prefix {n}"
            );
        }
    }
}

#[test]
fn extreme_values_and_custom_buckets() {
    let l = Layout {
        schema: CUSTOM_BUCKETS_SCHEMA,
        zero_threshold: 0.0,
        positive_spans: vec![Span {
            offset: 0,
            length: 3,
        }],
        negative_spans: vec![],
        custom_values: vec![0.005, 0.1, 2.5, 1e9, -3.0],
    };
    let big = |c: u64, d: i64| IntHist {
        count: c,
        zero_count: 0,
        sum: f64::MAX,
        pos: vec![d, -d, 1 << 40],
        neg: vec![],
    };
    let samples = vec![
        (i64::MIN / 4, big(u64::MAX / 4, 1 << 60)),
        (0, big(7, -5)),
        (i64::MAX / 4, big(1 << 50, 200_000)),
    ];
    let got = decode_histogram_chunk(ENC_HISTOGRAM, &encode_int(0, &l, &samples)).unwrap();
    assert_eq!(got[0].t, i64::MIN / 4);
    assert_eq!(got[2].t, i64::MAX / 4);
    assert_eq!(got[0].h.count, (u64::MAX / 4) as f64);
    assert_eq!(
        got[1].h.positive_buckets,
        vec![-5.0, 0.0, (1u64 << 40) as f64]
    );
    assert_eq!(got[2].h.custom_values, l.custom_values);
    assert_eq!(got[2].h.schema, CUSTOM_BUCKETS_SCHEMA);
    // A zero threshold that is no power of two takes the raw form.
    let l2 = Layout {
        zero_threshold: 0.3,
        ..exp_layout()
    };
    let got =
        decode_histogram_chunk(ENC_HISTOGRAM, &encode_int(0, &l2, &[(5, int_hist(1))])).unwrap();
    assert_eq!(got[0].h.zero_threshold, 0.3);
}

#[test]
fn stale_markers() {
    let l = exp_layout();
    let stale = f64::from_bits(STALE_NAN_BITS);
    // Integer chunk: a stale second sample has zero count dods and no buckets.
    let mut bw = BitWriter::default();
    bw.layout(&l);
    bw.varbit_int(10);
    bw.varbit_uint(5);
    bw.varbit_uint(1);
    bw.bits(2.0f64.to_bits(), 64);
    for d in [1, 1, 1, 1] {
        bw.varbit_int(d);
    }
    bw.varbit_int(10); // t = 20
    bw.varbit_int(0);
    bw.varbit_int(0);
    let mut s = (2.0f64.to_bits(), 0, 0);
    bw.xor(&mut s, stale);
    let mut chunk = vec![0, 2, 0];
    chunk.extend(bw.bytes);
    let got = decode_histogram_chunk(ENC_HISTOGRAM, &chunk).unwrap();
    assert_eq!(got[0].h.positive_buckets, vec![1.0, 2.0, 3.0]);
    assert!(got[1].h.is_stale() && got[1].t == 20);
    assert_eq!(got[1].h.count, 0.0);
    assert!(got[1].h.positive_spans.is_empty());
    let fh = |v: f64| FloatHistogram {
        count: v,
        zero_count: 1.0,
        sum: v / 2.0,
        positive_buckets: vec![v, 2.0 * v, 0.5],
        negative_buckets: vec![v + 0.125],
        ..FloatHistogram::default()
    };
    let got = decode_histogram_chunk(
        ENC_FLOAT_HISTOGRAM,
        &encode_float(0, &l, &[(10, fh(3.0)), (20, fh(4.0))]),
    )
    .unwrap();
    assert_eq!(got[1].h.positive_buckets, vec![4.0, 8.0, 0.5]);
    // Hand-build a float chunk whose second sample is stale: after the sum no bucket
    // values follow.
    let mut bw = BitWriter::default();
    bw.layout(&l);
    bw.varbit_int(10);
    for v in [3.0f64, 1.0, 1.5, 3.0, 6.0, 0.5, 3.125] {
        bw.bits(v.to_bits(), 64);
    }
    bw.varbit_int(10); // t = 20
    let mut c = (3.0f64.to_bits(), 0, 0);
    bw.xor(&mut c, 3.0);
    let mut z = (1.0f64.to_bits(), 0, 0);
    bw.xor(&mut z, 1.0);
    let mut s = (1.5f64.to_bits(), 0, 0);
    bw.xor(&mut s, stale);
    let mut chunk = vec![0, 2, 0];
    chunk.extend(bw.bytes);
    let got = decode_histogram_chunk(ENC_FLOAT_HISTOGRAM, &chunk).unwrap();
    assert_eq!(got.len(), 2);
    assert!(got[1].h.is_stale());
    assert!(got[1].h.positive_buckets.is_empty());
    assert_eq!(got[1].t, 20);
    assert_eq!(got[0].h.positive_buckets, vec![3.0, 6.0, 0.5]);
}

#[test]
fn float_round_trip() {
    let l = exp_layout();
    let samples: Vec<(i64, FloatHistogram)> = (0..40)
        .map(|i| {
            let v = i as f64;
            (
                i * 60_000 - 5,
                FloatHistogram {
                    counter_reset_hint: HINT_NOT_COUNTER_RESET,
                    schema: l.schema,
                    zero_threshold: l.zero_threshold,
                    zero_count: 0.5 * v,
                    count: 10.0 + v * 1.1,
                    sum: -v / 3.0,
                    positive_spans: l.positive_spans.clone(),
                    negative_spans: l.negative_spans.clone(),
                    positive_buckets: vec![v, 1.0, v * v + 0.1],
                    negative_buckets: vec![f64::MAX / (v + 1.0)],
                    custom_values: vec![],
                },
            )
        })
        .collect();
    let chunk = encode_float(HEADER_NOT_COUNTER_RESET, &l, &samples);
    let got = decode_histogram_chunk(ENC_FLOAT_HISTOGRAM, &chunk).unwrap();
    assert_eq!(got.len(), samples.len());
    for (k, ((t, h), s)) in samples.iter().zip(&got).enumerate() {
        assert_eq!(s.t, *t);
        let mut want = h.clone();
        if k == 0 {
            want.counter_reset_hint = HINT_UNKNOWN;
        }
        assert_eq!(&s.h, &want);
    }
    for n in 0..chunk.len() {
        assert!(decode_histogram_chunk(ENC_FLOAT_HISTOGRAM, &chunk[..n]).is_err());
    }
}

#[test]
fn malformed_layouts_are_errors() {
    // Unknown schema 60.
    let l = Layout {
        schema: 60,
        ..Layout::default()
    };
    let chunk = encode_int(
        0,
        &l,
        &[(
            1,
            IntHist {
                count: 0,
                zero_count: 0,
                sum: 0.0,
                pos: vec![],
                neg: vec![],
            },
        )],
    );
    let e = decode_histogram_chunk(ENC_HISTOGRAM, &chunk)
        .unwrap_err()
        .to_string();
    assert!(e.contains("schema 60"), "{e}");
    // A span with 2^31 buckets does not fit the data.
    let mut w = BitWriter::default();
    w.bits(0, 8);
    w.varbit_int(0);
    w.varbit_uint(1);
    w.varbit_uint(1 << 31);
    w.varbit_int(0);
    w.varbit_uint(0);
    let mut chunk = vec![0, 1, 0];
    chunk.extend(w.bytes);
    let e = decode_histogram_chunk(ENC_HISTOGRAM, &chunk)
        .unwrap_err()
        .to_string();
    assert!(e.contains("buckets cannot fit"), "{e}");
    // Bad XOR control bits: 31 leading zeros and 63 significant bits.
    let mut w = BitWriter::default();
    w.layout(&Layout::default());
    w.varbit_int(0);
    for _ in 0..3 {
        w.bits(0, 64);
    }
    w.varbit_int(0);
    w.bits(0b11, 2);
    w.bits(31, 5);
    w.bits(63, 6);
    w.bits(0, 64);
    let mut chunk = vec![0, 2, 0];
    chunk.extend(w.bytes);
    let e = decode_histogram_chunk(ENC_FLOAT_HISTOGRAM, &chunk)
        .unwrap_err()
        .to_string();
    assert!(e.contains("XOR"), "{e}");
}

proptest! {
    #[test]
    fn random_bytes_never_panic(b in proptest::collection::vec(any::<u8>(), 0..200), enc in 2u8..4) {
        let _ = decode_histogram_chunk(enc, &b);
        let mut with_count = vec![0xff, 0xff, 0];
        with_count.extend_from_slice(&b);
        let _ = decode_histogram_chunk(enc, &with_count);
    }

    #[test]
    fn corrupted_chunks_never_panic(i in 0usize..10_000, x in 1u8..=255) {
        let chunk = encode_int(0, &exp_layout(), &(0..5).map(|i| (i * 10, int_hist(i))).collect::<Vec<_>>());
        let mut bad = chunk.clone();
        let n = bad.len();
        bad[i % n] ^= x;
        let _ = decode_histogram_chunk(ENC_HISTOGRAM, &bad);
        let _ = decode_histogram_chunk(ENC_FLOAT_HISTOGRAM, &bad);
    }

    #[test]
    fn integer_chunks_round_trip(
        ts in proptest::collection::vec(any::<i32>(), 1..20),
        deltas in proptest::collection::vec(-1_000_000i64..1_000_000, 3),
    ) {
        let l = Layout {
            positive_spans: vec![Span { offset: 0, length: 2 }],
            negative_spans: vec![Span { offset: 1, length: 1 }],
            ..exp_layout()
        };
        let samples: Vec<(i64, IntHist)> = ts.iter().enumerate().map(|(k, t)| {
            let k = k as i64;
            (i64::from(*t) * 1000, IntHist {
                count: (deltas[0].unsigned_abs() + k as u64) * 3,
                zero_count: k as u64,
                sum: deltas[1] as f64 / 7.0,
                pos: vec![deltas[0] + k, deltas[1] - k],
                neg: vec![deltas[2] * k],
            })
        }).collect();
        let got = decode_histogram_chunk(ENC_HISTOGRAM, &encode_int(0, &l, &samples)).unwrap();
        prop_assert_eq!(got.len(), samples.len());
        for ((t, h), s) in samples.iter().zip(&got) {
            prop_assert_eq!(s.t, *t);
            prop_assert_eq!(s.h.count, h.count as f64);
            prop_assert_eq!(s.h.sum, h.sum);
            prop_assert_eq!(&s.h.positive_buckets, &vec![h.pos[0] as f64, (h.pos[0] + h.pos[1]) as f64]);
            prop_assert_eq!(&s.h.negative_buckets, &vec![h.neg[0] as f64]);
        }
    }
}
