//! Property test: random commits (in order, out of order, duplicates, too old), flushes
//! and restarts against a model applying Prometheus' rules to a `BTreeMap` per series.

use std::collections::BTreeMap;

use proptest::prelude::*;
use strata_model::stale_nan;
use strata_tsdb::{Db, Error};

use crate::common::*;

const RANGE: i64 = 100_000;
const SERIES_N: usize = 2;

#[derive(Debug, Clone)]
enum Op {
    Commit(Vec<(usize, i64, f64)>),
    Flush,
    Restart,
}

/// What the model expects of a rejected sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reject {
    OutOfOrder(i64),
    Duplicate(i64),
    OutOfBounds(i64),
}

fn kind(e: &Error) -> Reject {
    match e {
        Error::OutOfOrder { t, .. } => Reject::OutOfOrder(*t),
        Error::DuplicateSample { t, .. } => Reject::Duplicate(*t),
        Error::OutOfBounds { t, .. } => Reject::OutOfBounds(*t),
        other => panic!("unexpected rejection {other:?}"),
    }
}

#[derive(Default)]
struct Model {
    window: i64,
    /// Everything stored (head and blocks), per series: t -> value bits.
    stored: Vec<BTreeMap<i64, u64>>,
    /// Newest timestamp per series in the head.
    last: Vec<Option<i64>>,
    head_max: Option<i64>,
    head_min: Option<i64>,
    /// Everything before this belongs to blocks.
    hard_min: Option<i64>,
}

impl Model {
    fn new(window: i64) -> Self {
        Model {
            window,
            stored: vec![BTreeMap::new(); SERIES_N],
            last: vec![None; SERIES_N],
            ..Model::default()
        }
    }

    /// Applies a commit; returns (appended, duplicates ignored, rejections in order).
    fn commit(&mut self, samples: &[(usize, i64, f64)]) -> (usize, usize, Vec<Reject>) {
        let hard_min = self.hard_min.unwrap_or(i64::MIN);
        let soft_min = self
            .head_max
            .map_or(hard_min, |m| hard_min.max(m - RANGE / 2));
        let ooo_min = self.head_max.map(|m| m - self.window);
        let (mut appended, mut dups, mut rejected) = (0, 0, Vec::new());
        let mut accepted = Vec::new();
        for &(s, t, v) in samples {
            let bits = v.to_bits();
            let in_window = self.window > 0 && t >= hard_min && ooo_min.is_some_and(|m| t >= m);
            match self.last[s] {
                Some(lt) if t == lt => {
                    if self.stored[s][&t] == bits {
                        dups += 1;
                    } else {
                        rejected.push(Reject::Duplicate(t));
                    }
                    continue;
                }
                Some(lt) if t < lt => {
                    if !in_window {
                        rejected.push(Reject::OutOfOrder(t));
                    } else if let Some(&b) = self.stored[s].get(&t) {
                        if b == bits {
                            dups += 1;
                        } else {
                            rejected.push(Reject::Duplicate(t));
                        }
                    } else {
                        self.stored[s].insert(t, bits);
                        accepted.push(t);
                        appended += 1;
                    }
                    continue;
                }
                _ => {}
            }
            if t < soft_min && !in_window {
                rejected.push(Reject::OutOfBounds(t));
                continue;
            }
            self.stored[s].insert(t, bits);
            self.last[s] = Some(t);
            accepted.push(t);
            appended += 1;
        }
        if let Some(&hi) = accepted.iter().max() {
            self.head_max = Some(self.head_max.map_or(hi, |m| m.max(hi)));
        }
        if let Some(&lo) = accepted.iter().min() {
            self.head_min = Some(self.head_min.map_or(lo, |m| m.min(lo)));
        }
        (appended, dups, rejected)
    }

    /// A head spanning less than one range becomes one block ending right after its
    /// newest sample; a longer one is cut at range boundaries.
    fn flush(&mut self) {
        if let (Some(lo), Some(hi)) = (self.head_min, self.head_max) {
            let end = if hi - lo < RANGE {
                hi + 1
            } else {
                (hi.div_euclid(RANGE) + 1) * RANGE
            };
            self.hard_min = Some(self.hard_min.map_or(end, |m| m.max(end)));
        }
        self.head_max = None;
        self.head_min = None;
        self.last = vec![None; SERIES_N];
    }

    fn expected(&self) -> Vec<(strata_model::Labels, Bits)> {
        let mut v: Vec<_> = self
            .stored
            .iter()
            .enumerate()
            .filter(|(_, m)| !m.is_empty())
            .map(|(i, m)| (series(i), m.iter().map(|(&t, &b)| (t, b)).collect()))
            .collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    }
}

fn sample() -> impl Strategy<Value = (usize, i64, f64)> {
    let value = prop_oneof![Just(0.0), Just(1.0), Just(2.5), Just(stale_nan())];
    (0..SERIES_N, 0i64..40, value).prop_map(|(s, k, v)| (s, k * 5_000, v))
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        14 => prop::collection::vec(sample(), 1..12).prop_map(Op::Commit),
        3 => Just(Op::Flush),
        3 => Just(Op::Restart),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("TSDB_MODEL_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(64),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn random_appends_flushes_and_restarts_match_the_model(
        window in prop_oneof![Just(0i64), Just(50_000i64)],
        ops in prop::collection::vec(op(), 1..24),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let o = opts(RANGE, window);
        let mut db: Option<Db> = Some(open(dir.path(), &o));
        let mut model = Model::new(window);
        for (i, op) in ops.iter().enumerate() {
            let d = db.as_ref().unwrap();
            match op {
                Op::Commit(samples) => {
                    let mut app = d.appender();
                    for &(s, t, v) in samples {
                        app.append(&series(s), t, v).unwrap();
                    }
                    let out = app.commit().unwrap();
                    let got = (
                        out.appended,
                        out.duplicates_ignored,
                        out.rejected.iter().map(kind).collect::<Vec<_>>(),
                    );
                    prop_assert_eq!(got, model.commit(samples), "op {}: {:?}", i, op);
                }
                Op::Flush => {
                    d.flush().unwrap();
                    model.flush();
                }
                Op::Restart => {
                    drop(db.take());
                    db = Some(open(dir.path(), &o));
                }
            }
            let got = select_all(db.as_ref().unwrap());
            prop_assert_eq!(got, model.expected(), "after op {}: {:?}", i, op);
        }
    }
}
