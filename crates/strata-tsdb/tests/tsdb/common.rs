//! Helpers shared by the integration tests.

use std::path::Path;

use strata_model::storage::{Queryable, SelectHints};
use strata_model::{Labels, Matcher};
use strata_tsdb::{Db, DbOptions, HeadOptions};

/// Two hours in ms, Prometheus' default block range.
pub const H2: i64 = 2 * 3600 * 1000;

/// Samples of one series with values as bits, so NaNs compare exactly.
pub type Bits = Vec<(i64, u64)>;

pub fn lbl(pairs: &[(&str, &str)]) -> Labels {
    Labels::new(pairs).unwrap()
}

/// `{__name__="m", i="<i>"}`.
pub fn series(i: usize) -> Labels {
    lbl(&[("__name__", "m"), ("i", &i.to_string())])
}

pub fn opts(chunk_range: i64, ooo_window: i64) -> DbOptions {
    DbOptions {
        head: HeadOptions {
            chunk_range,
            out_of_order_window: ooo_window,
            ..HeadOptions::default()
        },
        ..DbOptions::default()
    }
}

pub fn open(dir: &Path, o: &DbOptions) -> Db {
    Db::open(dir, o.clone()).unwrap()
}

/// Appends and commits; panics on any rejection.
pub fn append_all(db: &Db, samples: &[(Labels, i64, f64)]) {
    let mut app = db.appender();
    for (l, t, v) in samples {
        app.append(l, *t, *v).unwrap();
    }
    let out = app.commit().unwrap();
    assert!(out.rejected.is_empty(), "rejected: {:?}", out.rejected);
    assert_eq!(out.appended + out.duplicates_ignored, samples.len());
}

/// Every series matching `ms` with its samples in `[mint, maxt]`, values as bits.
pub fn select(q: &dyn Queryable, mint: i64, maxt: i64, ms: &[Matcher]) -> Vec<(Labels, Bits)> {
    let querier = q.querier(mint, maxt).unwrap();
    let hints = SelectHints {
        start: mint,
        end: maxt,
        ..SelectHints::default()
    };
    querier
        .select(ms, &hints)
        .unwrap()
        .map(|s| {
            let (l, v) = s.unwrap().collect_samples().unwrap();
            (l, v.into_iter().map(|(t, v)| (t, v.to_bits())).collect())
        })
        .collect()
}

/// Everything in the database.
pub fn select_all(q: &dyn Queryable) -> Vec<(Labels, Bits)> {
    select(q, i64::MIN, i64::MAX, &[])
}

/// Expected query result from (labels, samples) pairs: sorted by labels.
pub fn expect(mut v: Vec<(Labels, Vec<(i64, f64)>)>) -> Vec<(Labels, Bits)> {
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v.into_iter()
        .map(|(l, s)| (l, s.into_iter().map(|(t, v)| (t, v.to_bits())).collect()))
        .collect()
}

/// Names of the block directories (ULIDs) in `dir`.
pub fn block_dirs(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.len() == 26)
        .collect();
    v.sort();
    v
}

/// Asserts equal query results, reporting the first difference instead of everything.
#[track_caller]
pub fn assert_same(got: &[(Labels, Bits)], want: &[(Labels, Bits)], ctx: &str) {
    for (g, w) in got.iter().zip(want) {
        assert_eq!(g.0, w.0, "{ctx}: series differ");
        if g.1 != w.1 {
            let i = g.1.iter().zip(&w.1).position(|(a, b)| a != b);
            let i = i.unwrap_or(g.1.len().min(w.1.len()));
            panic!(
                "{ctx}: {} differs at sample {i}: got {:?} (of {}), want {:?} (of {})",
                g.0,
                g.1.get(i),
                g.1.len(),
                w.1.get(i),
                w.1.len()
            );
        }
    }
    assert_eq!(got.len(), want.len(), "{ctx}: number of series");
}
