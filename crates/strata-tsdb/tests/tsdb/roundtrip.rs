//! Append and query round trips: head only, blocks only, head plus overlapping blocks,
//! restarts through WAL replay, and the staleness marker.

use strata_model::{Labels, Matcher, stale_nan};
use strata_tsdb::block_writer::BlockWriter;

use crate::common::*;

/// Three series, `n` samples each, every 15 s from `start`, value = i * 1000 + k.
fn data(start: i64, n: usize) -> Vec<(Labels, Vec<(i64, f64)>)> {
    (0..3)
        .map(|i| {
            let s = (0..n)
                .map(|k| (start + k as i64 * 15_000, (i * 1000 + k) as f64))
                .collect();
            (series(i), s)
        })
        .collect()
}

fn ingest(db: &strata_tsdb::Db, d: &[(Labels, Vec<(i64, f64)>)]) {
    let n = d[0].1.len();
    // One commit per "scrape": one sample of every series.
    for k in 0..n {
        let batch: Vec<_> = d.iter().map(|(l, s)| (l.clone(), s[k].0, s[k].1)).collect();
        append_all(db, &batch);
    }
}

#[test]
fn head_only_round_trip_with_ranges_and_matchers() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path(), &opts(H2, 0));
    let d = data(1_000, 500);
    ingest(&db, &d);
    assert!(db.blocks().is_empty());
    assert_eq!(select_all(&db), expect(d.clone()));

    // An inner range keeps exactly the samples inside it (bounds inclusive).
    let (lo, hi) = (1_000 + 15_000 * 10, 1_000 + 15_000 * 20);
    let inner: Vec<_> = d
        .iter()
        .map(|(l, s)| {
            let s = s
                .iter()
                .copied()
                .filter(|(t, _)| *t >= lo && *t <= hi)
                .collect();
            (l.clone(), s)
        })
        .collect();
    assert_eq!(select(&db, lo, hi, &[]), expect(inner.clone()));
    assert_eq!(
        select(&db, lo, hi, &[Matcher::equal("i", "1")]),
        expect(vec![inner[1].clone()])
    );
    // A range with no data selects nothing.
    assert!(select(&db, 0, 999, &[]).is_empty());
}

#[test]
fn flush_moves_everything_to_blocks_and_queries_are_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path(), &opts(H2, 0));
    // 500 samples * 15 s > 2 h: spans two block ranges.
    let d = data(1_000, 500);
    ingest(&db, &d);
    let metas = db.flush().unwrap();
    assert_eq!(metas.len(), 2, "{metas:?}");
    for m in &metas {
        assert_eq!(m.min_time.rem_euclid(H2), 0);
        assert_eq!(m.max_time - m.min_time, H2);
    }
    assert_eq!(metas.iter().map(|m| m.stats.num_samples).sum::<u64>(), 1500);
    assert_eq!(db.head().num_series(), 0);
    assert_eq!(db.head().min_time(), None);
    assert_eq!(select_all(&db), expect(d.clone()));
    drop(db);
    let db = open(dir.path(), &opts(H2, 0));
    assert_eq!(db.blocks().len(), 2);
    assert_eq!(db.head().num_series(), 0);
    assert_eq!(select_all(&db), expect(d));
}

#[test]
fn head_and_overlapping_blocks_merge_sorted_without_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let o = opts(H2, 0);
    let db = open(dir.path(), &o);
    // Block A (flushed): series 0 at even seconds 0..100 s.
    let a: Vec<_> = (0..50).map(|k| (k * 2_000, k as f64)).collect();
    for &(t, v) in &a {
        append_all(&db, &[(series(0), t, v)]);
    }
    db.flush().unwrap();
    drop(db);
    // Block B (written directly, overlapping A): series 0 at odd seconds plus the
    // even second 10 s with another value (A's copy or B's, but only one), series 1.
    let mut b0: Vec<_> = (0..50).map(|k| (k * 2_000 + 1_000, -(k as f64))).collect();
    b0.push((10_000, 1e9));
    b0.sort_by_key(|s| s.0);
    let b1: Vec<_> = (0..10).map(|k| (k * 1_000, 7.0)).collect();
    let syms = ["0", "1", "__name__", "i", "m"];
    let mut w = BlockWriter::create(dir.path(), 0, H2, syms).unwrap();
    w.add_series(&series(0), &b0).unwrap();
    w.add_series(&series(1), &b1).unwrap();
    w.finish(1, vec![]).unwrap().unwrap();
    // Head: newer samples of series 0 and 2.
    let db = open(dir.path(), &o);
    assert_eq!(db.blocks().len(), 2);
    append_all(&db, &[(series(0), H2 + 5, 1.5), (series(2), H2 + 5, 2.5)]);

    let got = select_all(&db);
    assert_eq!(got.len(), 3);
    let s0 = &got[0].1;
    assert_eq!(got[0].0, series(0));
    assert_eq!(s0.len(), 50 + 50 + 1, "one sample per timestamp");
    assert!(s0.windows(2).all(|w| w[0].0 < w[1].0), "sorted, unique");
    let at = |t: i64| s0.iter().find(|s| s.0 == t).map(|s| f64::from_bits(s.1));
    assert!(at(10_000) == Some(5.0) || at(10_000) == Some(1e9));
    assert_eq!(at(3_000), Some(-1.0));
    assert_eq!(at(H2 + 5), Some(1.5));
    assert_eq!(got[1], expect(vec![(series(1), b1)])[0]);
    assert_eq!(got[2], expect(vec![(series(2), vec![(H2 + 5, 2.5)])])[0]);
    // A range inside block B only.
    let got = select(&db, 2_500, 3_500, &[Matcher::equal("i", "0")]);
    assert_eq!(got, expect(vec![(series(0), vec![(3_000, -1.0)])]));
}

#[test]
fn restart_replays_the_wal_to_identical_data() {
    let dir = tempfile::tempdir().unwrap();
    let o = opts(H2, 0);
    let d = data(0, 300);
    let before = {
        let db = open(dir.path(), &o);
        ingest(&db, &d);
        select_all(&db)
    };
    assert_eq!(before, expect(d.clone()));
    let db = open(dir.path(), &o);
    assert_eq!(select_all(&db), before);
    // Appends continue where the data left off, and a second restart keeps both.
    let next = data(300 * 15_000, 10);
    ingest(&db, &next);
    assert!(db.appender().commit().unwrap().rejected.is_empty());
    drop(db);
    let db = open(dir.path(), &o);
    let mut all = d;
    for (i, (_, s)) in next.into_iter().enumerate() {
        all[i].1.extend(s);
    }
    assert_eq!(select_all(&db), expect(all));
}

#[test]
fn stale_nan_round_trips_bit_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let o = opts(H2, 0);
    let stale = stale_nan();
    let other_nan = f64::from_bits(0x7ff8_0000_0000_0001);
    let s = vec![
        (1_000, 1.0),
        (2_000, -0.0),
        (3_000, other_nan),
        (4_000, stale),
    ];
    let want = expect(vec![(series(0), s.clone())]);
    let db = open(dir.path(), &o);
    for &(t, v) in &s {
        append_all(&db, &[(series(0), t, v)]);
    }
    assert_eq!(select_all(&db), want, "head");
    // Re-appending the same stale NaN is an identical duplicate, another NaN is not.
    let mut app = db.appender();
    app.append(&series(0), 4_000, stale).unwrap();
    app.append(&series(0), 4_000, other_nan).unwrap();
    let out = app.commit().unwrap();
    assert_eq!((out.appended, out.duplicates_ignored), (0, 1));
    assert_eq!(out.rejected.len(), 1, "{:?}", out.rejected);
    drop(db);
    let db = open(dir.path(), &o);
    assert_eq!(select_all(&db), want, "after WAL replay");
    db.flush().unwrap();
    assert_eq!(select_all(&db), want, "from a block");
    drop(db);
    let db = open(dir.path(), &o);
    assert_eq!(select_all(&db), want, "block after reopen");
    assert_eq!(
        strata_model::STALE_NAN_BITS,
        select_all(&db)[0].1[3].1,
        "stale marker bits"
    );
}
