//! Replica deduplication, as Thanos' querier does it (`pkg/dedup/iter.go`).
//!
//! After the replica labels are removed, the series of all replicas that now share a
//! label set are one group. Their chunks go through three steps:
//! 1. identical chunks are kept once (receivers' replicas usually hold the same bytes);
//! 2. the rest, sorted by time, are split into chains of non-overlapping chunks
//!    (Thanos' `NewOverlapSplit`), each chain standing for one replica;
//! 3. the chains' samples are merged: by default with the *penalty* algorithm, which
//!    follows one replica and switches only after a gap longer than twice the last
//!    sample interval (HA Prometheus pairs scrape at different times, and mixing their
//!    samples would double the sample rate); with [`DedupFunc::Chain`] all samples are
//!    merged 1:1, each timestamp once.
//!
//! Thanos also corrects counter values when switching replicas under `rate()` and
//! friends; the storage trait does not say which function reads a selection, so that
//! correction is not applied.

use crate::options::DedupFunc;

/// A sample: timestamp in milliseconds and value.
pub type Sample = (i64, f64);

/// Thanos' penalty before the first sample interval is known, in milliseconds.
const INITIAL_PENALTY: i64 = 5000;

/// The first index at or after `i` whose timestamp is at least `t`.
fn seek(s: &[Sample], mut i: usize, t: i64) -> usize {
    while i < s.len() && s[i].0 < t {
        i += 1;
    }
    i
}

/// Penalty deduplication of two sorted sample lists (Thanos' `dedupSeriesIterator`):
/// take the earlier sample of the two; the list not taken may only contribute a sample
/// after twice the last interval has passed.
pub fn penalty_merge(a: &[Sample], b: &[Sample]) -> Vec<Sample> {
    let mut out = Vec::with_capacity(a.len().max(b.len()));
    let (mut ia, mut ib) = (0, 0);
    let (mut a_ok, mut b_ok) = (!a.is_empty(), !b.is_empty());
    let (mut pen_a, mut pen_b) = (0i64, 0i64);
    let mut last_t = i64::MIN;
    loop {
        if a_ok {
            ia = seek(a, ia, last_t.saturating_add(1).saturating_add(pen_a));
            a_ok = ia < a.len();
        }
        if b_ok {
            ib = seek(b, ib, last_t.saturating_add(1).saturating_add(pen_b));
            b_ok = ib < b.len();
        }
        let take_a = match (a_ok, b_ok) {
            (false, false) => break,
            (false, true) => {
                pen_b = 0;
                false
            }
            (true, false) => {
                pen_a = 0;
                true
            }
            (true, true) => {
                let (ta, tb) = (a[ia].0, b[ib].0);
                let take_a = ta <= tb;
                let t = if take_a { ta } else { tb };
                let penalty = if last_t == i64::MIN {
                    INITIAL_PENALTY
                } else {
                    t.saturating_sub(last_t).saturating_mul(2)
                };
                if take_a {
                    (pen_a, pen_b) = (0, penalty);
                } else {
                    (pen_a, pen_b) = (penalty, 0);
                }
                take_a
            }
        };
        let s = if take_a { a[ia] } else { b[ib] };
        last_t = s.0;
        out.push(s);
    }
    out
}

/// All samples of all lists by timestamp, each timestamp once: the earliest list wins.
pub fn chain_merge(lists: Vec<Vec<Sample>>) -> Vec<Sample> {
    let mut it = lists.into_iter();
    let Some(mut all) = it.next() else {
        return Vec::new();
    };
    for l in it {
        all.extend(l);
    }
    sort_dedup(&mut all);
    all
}

/// Sorts by timestamp (stable) and keeps the first sample of each timestamp; cheap when
/// already sorted.
pub fn sort_dedup(s: &mut Vec<Sample>) {
    if !s.windows(2).all(|w| w[0].0 < w[1].0) {
        s.sort_by_key(|x| x.0);
        s.dedup_by_key(|x| x.0);
    }
}

/// Merges the replicas' samples with `func`.
pub fn merge_replicas(mut replicas: Vec<Vec<Sample>>, func: DedupFunc) -> Vec<Sample> {
    if replicas.len() <= 1 {
        return replicas.pop().unwrap_or_default();
    }
    match func {
        DedupFunc::Chain => chain_merge(replicas),
        DedupFunc::Penalty => {
            let mut it = replicas.into_iter();
            let first = it.next().unwrap_or_default();
            it.fold(first, |acc, r| penalty_merge(&acc, &r))
        }
    }
}

/// Splits chunks, given as `(min_time, max_time)` sorted by `min_time`, into chains of
/// non-overlapping chunks (Thanos' `overlapSplitSet`): each chunk joins the first chain
/// whose last chunk ends before it starts, or starts a new chain. Returns indices.
pub fn split_overlapping(ranges: &[(i64, i64)]) -> Vec<Vec<usize>> {
    let mut chains: Vec<Vec<usize>> = Vec::new();
    for (i, &(min_t, _)) in ranges.iter().enumerate() {
        let free = chains
            .iter_mut()
            .find(|c| c.last().is_none_or(|&j| ranges[j].1 < min_t));
        match free {
            Some(c) => c.push(i),
            None => chains.push(vec![i]),
        }
    }
    chains
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[(i64, f64)]) -> Vec<Sample> {
        v.to_vec()
    }

    /// The cases of Thanos' `TestDedupSeriesIterator`.
    #[test]
    fn penalty_matches_thanos_cases() {
        let cases: &[(&[Sample], &[Sample], &[Sample])] = &[
            // Generally prefer the first series.
            (
                &[(10000, 10.), (20000, 11.), (30000, 12.), (40000, 13.)],
                &[(10000, 20.), (20000, 21.), (30000, 22.), (40000, 23.)],
                &[(10000, 10.), (20000, 11.), (30000, 12.), (40000, 13.)],
            ),
            // Prefer b if it starts earlier.
            (
                &[(10100, 1.), (20100, 1.), (30100, 1.), (40100, 1.)],
                &[(10000, 2.), (20000, 2.), (30000, 2.), (40000, 2.)],
                &[(10000, 2.), (20000, 2.), (30000, 2.), (40000, 2.)],
            ),
            // Don't switch series on a single delta sized gap.
            (
                &[(10000, 1.), (20000, 1.), (40000, 1.)],
                &[(10000, 2.), (20000, 2.), (30000, 2.), (40000, 2.)],
                &[(10000, 1.), (20000, 1.), (40000, 1.)],
            ),
            (
                &[(10000, 1.), (20000, 1.), (40000, 1.)],
                &[(15000, 2.), (25000, 2.), (35000, 2.), (45000, 2.)],
                &[(10000, 1.), (20000, 1.), (40000, 1.)],
            ),
            // Once the gap gets bigger than 2 deltas, switch and stay with the new series.
            (
                &[
                    (10000, 1.),
                    (20000, 1.),
                    (30000, 1.),
                    (60000, 1.),
                    (70000, 1.),
                ],
                &[
                    (10100, 2.),
                    (20100, 2.),
                    (30100, 2.),
                    (40100, 2.),
                    (50100, 2.),
                    (60100, 2.),
                ],
                &[
                    (10000, 1.),
                    (20000, 1.),
                    (30000, 1.),
                    (50100, 2.),
                    (60100, 2.),
                ],
            ),
        ];
        for (i, (a, b, want)) in cases.iter().enumerate() {
            assert_eq!(penalty_merge(a, b), want.to_vec(), "case {i}");
        }
    }

    #[test]
    fn penalty_with_an_empty_side_is_the_other() {
        let a = s(&[(1, 1.), (2, 2.)]);
        assert_eq!(penalty_merge(&a, &[]), a);
        assert_eq!(penalty_merge(&[], &a), a);
        assert!(penalty_merge(&[], &[]).is_empty());
    }

    #[test]
    fn penalty_fills_a_long_gap_from_the_other_replica() {
        // Replica a misses 100s..200s; b has everything at the same timestamps.
        let all: Vec<Sample> = (0..30).map(|i| (i * 10_000, i as f64)).collect();
        let gap: Vec<Sample> = all
            .iter()
            .copied()
            .filter(|(t, _)| !(100_000..=200_000).contains(t))
            .collect();
        // b is consulted only past the penalty (twice the interval after a's last
        // sample), so the gap is filled from 120s on, and b is followed from then.
        let want: Vec<Sample> = all
            .iter()
            .copied()
            .filter(|(t, _)| !(100_000..=110_000).contains(t))
            .collect();
        assert_eq!(penalty_merge(&gap, &all), want);
        assert_eq!(penalty_merge(&all, &gap), all);
    }

    #[test]
    fn chain_keeps_each_timestamp_once_first_wins() {
        let got = chain_merge(vec![s(&[(1, 1.), (3, 3.)]), s(&[(2, 20.), (3, 30.)])]);
        assert_eq!(got, s(&[(1, 1.), (2, 20.), (3, 3.)]));
        assert!(chain_merge(vec![]).is_empty());
    }

    #[test]
    fn merge_replicas_by_func() {
        let a = s(&[(10000, 1.), (20000, 1.), (40000, 1.)]);
        let b = s(&[(10000, 2.), (20000, 2.), (30000, 2.), (40000, 2.)]);
        assert_eq!(
            merge_replicas(vec![a.clone(), b.clone()], DedupFunc::Penalty),
            a
        );
        assert_eq!(
            merge_replicas(vec![a, b], DedupFunc::Chain),
            s(&[(10000, 1.), (20000, 1.), (30000, 2.), (40000, 1.)])
        );
        assert!(merge_replicas(vec![], DedupFunc::Penalty).is_empty());
    }

    #[test]
    fn overlapping_chunks_split_into_chains() {
        // Two replicas' chunks interleaved, plus a chunk that fits after the first.
        let r = [(0, 99), (0, 110), (100, 199), (111, 220), (300, 400)];
        assert_eq!(split_overlapping(&r), vec![vec![0, 2, 4], vec![1, 3]]);
        assert!(split_overlapping(&[]).is_empty());
        // Touching ranges overlap (max < min is required), as in Thanos.
        assert_eq!(
            split_overlapping(&[(0, 10), (10, 20)]),
            vec![vec![0], vec![1]]
        );
    }
}
