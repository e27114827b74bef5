//! The bulk decoder against the encoder's input and the per-sample decoder
//! (`XorIter::next_sample`): same samples, same range cuts, same errors.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;

use crate::chunkenc::{XorChunk, XorIter};

/// How the next value derives from the previous one.
#[derive(Debug, Clone)]
enum ValueOp {
    Repeat,
    /// A counter's increment.
    Add(u32),
    Set(f64),
}

fn value_op() -> impl Strategy<Value = ValueOp> {
    prop_oneof![
        3 => Just(ValueOp::Repeat),
        3 => (0u32..500).prop_map(ValueOp::Add),
        2 => any::<f64>().prop_map(ValueOp::Set),
        1 => any::<u64>().prop_map(|b| ValueOp::Set(f64::from_bits(b))),
        1 => prop_oneof![
            Just(f64::NAN),
            Just(strata_model::stale_nan()),
            Just(f64::INFINITY),
            Just(f64::NEG_INFINITY),
            Just(0.0),
            Just(-0.0),
            (0u32..1000).prop_map(|x| f64::from(x) / 100.0),
        ]
        .prop_map(ValueOp::Set),
    ]
}

/// Delta-of-deltas of every encoded width (0, 14, 17, 20 and 64 bits), their edges
/// included.
fn dod() -> impl Strategy<Value = i64> {
    prop_oneof![
        6 => Just(0i64),
        1 => -8191i64..=8192,
        1 => -65535i64..=65536,
        1 => -524_287i64..=524_288,
        1 => any::<i64>(),
        1 => prop::sample::select(vec![
            -8192i64, -8191, 8192, 8193, -65536, -65535, 65536, 65537, -524_288, -524_287,
            524_288, 524_289, i64::MIN, i64::MAX,
        ]),
    ]
}

/// Samples as the encoder takes them (timestamps wrap; the encoder does not check order).
fn samples() -> impl Strategy<Value = Vec<(i64, f64)>> {
    (
        any::<i64>(),
        any::<i64>(),
        any::<f64>(),
        proptest::collection::vec((dod(), value_op()), 0..=300),
    )
        .prop_map(|(t0, d0, v0, steps)| {
            let (mut t, mut d, mut v) = (t0, d0, v0);
            steps
                .into_iter()
                .enumerate()
                .map(|(i, (dod, op))| {
                    if i > 0 {
                        // The first delta is d0; later ones change by `dod`.
                        if i > 1 {
                            d = d.wrapping_add(dod);
                        }
                        t = t.wrapping_add(d);
                    }
                    v = match op {
                        ValueOp::Repeat => v,
                        ValueOp::Add(x) => v + f64::from(x),
                        ValueOp::Set(x) => x,
                    };
                    (t, v)
                })
                .collect()
        })
}

fn encode(input: &[(i64, f64)]) -> Vec<u8> {
    let mut c = XorChunk::new();
    for (t, v) in input {
        c.append(*t, *v);
    }
    c.bytes().to_vec()
}

/// Samples as (timestamp, value bits), so that NaNs compare.
type Bits = Vec<(i64, u64)>;

fn as_bits(s: &[(i64, f64)]) -> Bits {
    s.iter().map(|(t, v)| (*t, v.to_bits())).collect()
}

/// Everything `next_sample` yields, and its error.
fn per_sample(it: &mut XorIter<&[u8]>) -> (Bits, Option<String>) {
    let mut out = Vec::new();
    loop {
        match it.next_sample() {
            Ok(Some((t, v))) => out.push((t, v.to_bits())),
            Ok(None) => return (out, None),
            Err(e) => return (out, Some(e.to_string())),
        }
    }
}

/// What `drain_range` does, spelled with `next_sample`.
fn per_sample_range(it: &mut XorIter<&[u8]>, mint: i64, maxt: i64) -> (Bits, Result<bool, String>) {
    let mut out = Vec::new();
    loop {
        match it.next_sample() {
            Ok(Some((t, _))) if t < mint => {}
            Ok(Some((t, _))) if t > maxt => return (out, Ok(true)),
            Ok(Some((t, v))) => out.push((t, v.to_bits())),
            Ok(None) => return (out, Ok(false)),
            Err(e) => return (out, Err(e.to_string())),
        }
    }
}

fn bulk_range(it: &mut XorIter<&[u8]>, mint: i64, maxt: i64) -> (Bits, Result<bool, String>) {
    let mut out = Vec::new();
    let r = it.drain_range(&mut out, mint, maxt);
    (as_bits(&out), r.map_err(|e| e.to_string()))
}

/// Bulk and per-sample decoding of `data` agree on everything: with `skip` samples read
/// one at a time first, over `[mint, maxt]`, and for what `next_sample` yields after.
fn assert_same(data: &[u8], skip: usize, mint: i64, maxt: i64) -> Result<(), TestCaseError> {
    let (mut bulk, mut slow) = (XorIter::new(data), XorIter::new(data));
    for _ in 0..skip {
        let (a, b) = (bulk.next_sample(), slow.next_sample());
        prop_assert_eq!(format!("{a:?}"), format!("{b:?}"));
    }
    prop_assert_eq!(
        bulk_range(&mut bulk, mint, maxt),
        per_sample_range(&mut slow, mint, maxt)
    );
    prop_assert_eq!(per_sample(&mut bulk), per_sample(&mut slow));
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn bulk_yields_the_encoded_samples(input in samples()) {
        let data = encode(&input);
        let got = XorIter::new(&data[..]).collect_all().unwrap();
        prop_assert_eq!(as_bits(&got), as_bits(&input));
        let (slow, err) = per_sample(&mut XorIter::new(&data[..]));
        prop_assert_eq!(err, None);
        prop_assert_eq!(as_bits(&got), slow);
    }

    #[test]
    fn range_cuts_match_per_sample(
        input in samples(),
        skip in 0usize..4,
        a in any::<prop::sample::Index>(),
        b in any::<prop::sample::Index>(),
        wide in any::<bool>(),
    ) {
        let data = encode(&input);
        // Bounds on sample timestamps (cuts inside the chunk) or anywhere.
        let (mint, maxt) = if input.is_empty() || wide {
            (a.index(usize::MAX) as i64, b.index(usize::MAX) as i64)
        } else {
            (input[a.index(input.len())].0, input[b.index(input.len())].0)
        };
        assert_same(&data, skip, mint, maxt)?;
        assert_same(&data, skip, mint.min(maxt), mint.max(maxt))?;
    }

    #[test]
    fn successive_windows_continue(input in samples(), cuts in proptest::collection::vec(any::<i64>(), 1..5)) {
        let data = encode(&input);
        let (mut bulk, mut slow) = (XorIter::new(&data[..]), XorIter::new(&data[..]));
        let mut cuts = cuts;
        cuts.sort_unstable();
        let mut mint = i64::MIN;
        for maxt in cuts {
            prop_assert_eq!(bulk_range(&mut bulk, mint, maxt), per_sample_range(&mut slow, mint, maxt));
            mint = maxt;
        }
        prop_assert_eq!(bulk_range(&mut bulk, mint, i64::MAX), per_sample_range(&mut slow, mint, i64::MAX));
    }

    #[test]
    fn truncated_chunks_fail_in_both(input in samples(), cut in any::<prop::sample::Index>()) {
        let data = encode(&input);
        let len = cut.index(data.len());
        let short = &data[..len];
        assert_same(short, 0, i64::MIN, i64::MAX)?;
        if len >= 2 && !input.is_empty() {
            prop_assert!(XorIter::new(short).collect_all().is_err());
            prop_assert!(per_sample(&mut XorIter::new(short)).1.is_some());
        }
    }

    #[test]
    fn corrupted_chunks_match_per_sample(
        input in samples(),
        flips in proptest::collection::vec(any::<prop::sample::Index>(), 1..4),
        count in proptest::option::of(any::<u16>()),
        skip in 0usize..3,
    ) {
        let mut data = encode(&input);
        if data.len() > 2 {
            for f in flips {
                let bit = f.index((data.len() - 2) * 8) + 16;
                data[bit / 8] ^= 0x80 >> (bit % 8);
            }
        }
        if let Some(n) = count {
            data[..2].copy_from_slice(&n.to_be_bytes());
        }
        assert_same(&data, skip, i64::MIN, i64::MAX)?;
    }

    #[test]
    fn garbage_matches_per_sample(data in proptest::collection::vec(any::<u8>(), 0..300)) {
        assert_same(&data, 0, i64::MIN, i64::MAX)?;
    }
}

#[test]
fn every_dod_width_and_window() {
    let mut input = vec![(1_000i64, 1.0f64), (16_000, 1.0)];
    let mut t = 16_000i64;
    let mut d = 15_000i64;
    for (i, dod) in [
        0i64,
        1,
        -8191,
        8192,
        -8192,
        65536,
        -65535,
        524_288,
        -524_288,
        1 << 40,
    ]
    .into_iter()
    .enumerate()
    {
        d += dod;
        t += d;
        // Repeats, same-window and new-window values, a full 64-bit window.
        let v = match i % 4 {
            0 => input[input.len() - 1].1,
            1 => input[input.len() - 1].1 + 1.0,
            2 => f64::from_bits(0x8000_0000_0000_0001),
            _ => std::f64::consts::PI * i as f64,
        };
        input.push((t, v));
    }
    let data = encode(&input);
    let got = XorIter::new(&data[..]).collect_all().unwrap();
    assert_eq!(as_bits(&got), as_bits(&input));
}

#[test]
fn an_error_ends_the_iterator() {
    let data = encode(&[(1, 1.0), (2, 2.0), (3, 3.0)]);
    let short = &data[..data.len() - 1];
    let mut it = XorIter::new(short);
    let mut out = Vec::new();
    let e = it.drain_range(&mut out, i64::MIN, i64::MAX).unwrap_err();
    assert_eq!(
        e.to_string(),
        "decode: XOR chunk with 3 samples: sample 2: decode: unexpected end of chunk data"
    );
    assert_eq!(as_bits(&out), as_bits(&[(1, 1.0), (2, 2.0)]));
    assert!(!it.drain_range(&mut out, i64::MIN, i64::MAX).unwrap());
    assert!(it.next_sample().unwrap().is_none());
}

#[test]
fn stops_after_maxt_and_goes_on() {
    let input: Vec<(i64, f64)> = (0..120).map(|i| (i * 15_000, (i * 7) as f64)).collect();
    let data = encode(&input);
    let mut it = XorIter::new(&data[..]);
    let mut out = Vec::new();
    assert!(it.drain_range(&mut out, 30_000, 60_000).unwrap());
    assert_eq!(as_bits(&out), as_bits(&input[2..5]));
    // The sample at 75 000 was consumed by the cut.
    assert_eq!(it.next_sample().unwrap(), Some(input[6]));
    out.clear();
    assert!(!it.drain_range(&mut out, i64::MIN, i64::MAX).unwrap());
    assert_eq!(as_bits(&out), as_bits(&input[7..]));
}

#[test]
fn constant_runs_stop_at_the_end_of_the_data() {
    let input: Vec<(i64, f64)> = (0..120).map(|i| (i * 15_000, 1.0)).collect();
    let mut data = encode(&input);
    // More samples announced than stored: the run of `00` pairs meets the end.
    data[..2].copy_from_slice(&200u16.to_be_bytes());
    let mut out = Vec::new();
    let err = XorIter::new(&data[..])
        .drain_range(&mut out, i64::MIN, i64::MAX)
        .unwrap_err();
    let (want, want_err) = per_sample(&mut XorIter::new(&data[..]));
    assert_eq!(Some(err.to_string()), want_err);
    assert_eq!(as_bits(&out), want);
    assert!(out.len() >= 120, "{}", out.len());
    // Cuts inside a run.
    for (mint, maxt) in [(15_000 * 7, 15_000 * 50), (15_000 * 60, 15_000 * 10)] {
        let (mut a, mut b) = (XorIter::new(&data[..]), XorIter::new(&data[..]));
        assert_eq!(
            bulk_range(&mut a, mint, maxt),
            per_sample_range(&mut b, mint, maxt)
        );
        assert_eq!(per_sample(&mut a), per_sample(&mut b));
    }
}
