//! Prometheus' append rules: out of order, duplicates, out of bounds, the out-of-order
//! window, invalid label sets.

use strata_model::Labels;
use strata_tsdb::{Db, Error};

use crate::common::*;

const MIN: i64 = 60_000;

fn commit(db: &Db, samples: &[(Labels, i64, f64)]) -> strata_tsdb::head::CommitOutcome {
    let mut app = db.appender();
    for (l, t, v) in samples {
        app.append(l, *t, *v).unwrap();
    }
    app.commit().unwrap()
}

#[test]
fn out_of_order_error_names_series_and_both_timestamps() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path(), &opts(H2, 0));
    append_all(&db, &[(series(0), 10_000, 1.0)]);
    let out = commit(&db, &[(series(0), 9_000, 2.0), (series(1), 9_000, 3.0)]);
    assert_eq!(out.appended, 1, "the other series' sample is accepted");
    assert_eq!(out.rejected.len(), 1);
    let e = &out.rejected[0];
    assert!(
        matches!(
            e,
            Error::OutOfOrder {
                t: 9_000,
                latest: 10_000,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.is_sample_rejection());
    let msg = e.to_string();
    for part in [r#"{__name__="m", i="0"}"#, "9000", "10000", "out of order"] {
        assert!(msg.contains(part), "{msg:?} lacks {part:?}");
    }
    // Out of order within one commit is judged against the commit's own samples.
    let out = commit(&db, &[(series(2), 5_000, 1.0), (series(2), 4_000, 1.0)]);
    assert_eq!((out.appended, out.rejected.len()), (1, 1));
    assert_eq!(
        select_all(&db),
        expect(vec![
            (series(0), vec![(10_000, 1.0)]),
            (series(1), vec![(9_000, 3.0)]),
            (series(2), vec![(5_000, 1.0)]),
        ])
    );
}

#[test]
fn duplicates_identical_ignored_different_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let o = opts(H2, 0);
    let db = open(dir.path(), &o);
    append_all(&db, &[(series(0), 1_000, 1.5)]);
    let out = commit(&db, &[(series(0), 1_000, 1.5)]);
    assert_eq!(
        (out.appended, out.duplicates_ignored, out.rejected.len()),
        (0, 1, 0)
    );
    let out = commit(&db, &[(series(0), 1_000, 2.5)]);
    assert_eq!((out.appended, out.duplicates_ignored), (0, 0));
    let msg = out.rejected[0].to_string();
    for part in [
        r#"{__name__="m", i="0"}"#,
        "1000",
        "1.5",
        "2.5",
        "duplicate",
    ] {
        assert!(msg.contains(part), "{msg:?} lacks {part:?}");
    }
    // Same within a single commit.
    let out = commit(
        &db,
        &[
            (series(1), 7, 1.0),
            (series(1), 7, 1.0),
            (series(1), 7, 2.0),
        ],
    );
    assert_eq!(
        (out.appended, out.duplicates_ignored, out.rejected.len()),
        (1, 1, 1)
    );
    let want = expect(vec![
        (series(0), vec![(1_000, 1.5)]),
        (series(1), vec![(7, 1.0)]),
    ]);
    assert_eq!(select_all(&db), want);
    drop(db);
    assert_eq!(
        select_all(&open(dir.path(), &o)),
        want,
        "WAL holds only accepted"
    );
}

#[test]
fn out_of_bounds_before_head_max_minus_half_range_and_before_blocks() {
    let dir = tempfile::tempdir().unwrap();
    let o = opts(H2, 0);
    let db = open(dir.path(), &o);
    let max = 10 * H2;
    append_all(&db, &[(series(0), max, 1.0)]);
    let edge = max - H2 / 2;
    // A new series may start at head max - range/2, not before.
    let out = commit(&db, &[(series(1), edge - 1, 1.0), (series(2), edge, 1.0)]);
    assert_eq!(out.appended, 1);
    let e = &out.rejected[0];
    assert!(
        matches!(e, Error::OutOfBounds { t, min_valid, .. } if *t == edge - 1 && *min_valid == edge),
        "{e:?}"
    );
    let msg = e.to_string();
    assert!(
        msg.contains(r#"i="1""#) && msg.contains(&(edge - 1).to_string()),
        "{msg}"
    );
    // After a flush nothing up to the end of the flushed block is accepted any more (a
    // restart would skip it in the WAL as persisted); at the end it is. The head spans
    // less than one range, so the flush wrote one block ending right after its newest
    // sample, as Prometheus' snapshot does.
    db.flush().unwrap();
    let end = max + 1;
    let out = commit(&db, &[(series(3), max, 1.0), (series(3), end - 1, 1.0)]);
    assert_eq!(out.appended, 0);
    for e in &out.rejected {
        assert!(
            matches!(e, Error::OutOfBounds { min_valid, .. } if *min_valid == end),
            "{e:?}"
        );
    }
    let out = commit(&db, &[(series(3), end, 1.0), (series(4), end + 1, 1.0)]);
    assert_eq!(out.appended, 2, "{:?}", out.rejected);
    let want = select_all(&db);
    drop(db);
    let db = open(dir.path(), &o);
    assert_eq!(
        select_all(&db),
        want,
        "everything accepted survives a restart"
    );
    let out = commit(&db, &[(series(5), end - 1, 1.0)]);
    assert!(
        matches!(out.rejected[0], Error::OutOfBounds { .. }),
        "{:?}",
        out.rejected
    );
}

#[test]
fn out_of_order_window_merges_sorted_and_survives_restart_and_flush() {
    let dir = tempfile::tempdir().unwrap();
    let o = opts(H2, 30 * MIN);
    let db = open(dir.path(), &o);
    for k in [100, 101, 105] {
        append_all(&db, &[(series(0), k * MIN, k as f64)]);
    }
    // Inside the window (head max 105 min - 30 min = 75 min): accepted.
    append_all(
        &db,
        &[(series(0), 103 * MIN, 103.0), (series(0), 80 * MIN, 80.0)],
    );
    // A series whose first sample is older than the head max, inside the window.
    append_all(
        &db,
        &[(series(1), 90 * MIN, 90.0), (series(1), 85 * MIN, 85.0)],
    );
    // Outside the window: out of order.
    let out = commit(&db, &[(series(0), 70 * MIN, 70.0)]);
    assert!(
        matches!(out.rejected[..], [Error::OutOfOrder { .. }]),
        "{:?}",
        out.rejected
    );
    // Out-of-order duplicates: identical ignored, different rejected, whether the
    // stored sample is in order (101) or out of order (80), or staged in this commit.
    let out = commit(
        &db,
        &[
            (series(0), 101 * MIN, 101.0),
            (series(0), 80 * MIN, 80.0),
            (series(0), 101 * MIN, -1.0),
            (series(0), 80 * MIN, -1.0),
            (series(0), 90 * MIN, 90.0),
            (series(0), 90 * MIN, -1.0),
        ],
    );
    assert_eq!(out.appended, 1, "{:?}", out.rejected);
    assert_eq!(out.duplicates_ignored, 2);
    assert_eq!(out.rejected.len(), 3, "{:?}", out.rejected);
    for e in &out.rejected {
        assert!(
            matches!(e, Error::DuplicateSample { new, .. } if *new == -1.0),
            "{e:?}"
        );
    }
    let want = expect(vec![
        (
            series(0),
            [80, 90, 100, 101, 103, 105]
                .iter()
                .map(|&k| (k * MIN, k as f64))
                .collect(),
        ),
        (series(1), vec![(85 * MIN, 85.0), (90 * MIN, 90.0)]),
    ]);
    assert_eq!(select_all(&db), want);
    assert_eq!(
        select(
            &db,
            85 * MIN,
            101 * MIN,
            &[strata_model::Matcher::equal("i", "0")]
        ),
        expect(vec![(
            series(0),
            vec![(90 * MIN, 90.0), (100 * MIN, 100.0), (101 * MIN, 101.0)]
        )])
    );
    drop(db);
    let db = open(dir.path(), &opts(H2, 0));
    assert_eq!(select_all(&db), want, "after restart without a window");
    drop(db);
    let db = open(dir.path(), &o);
    assert_eq!(select_all(&db), want, "after restart");
    db.flush().unwrap();
    assert_eq!(db.head().num_series(), 0);
    assert_eq!(select_all(&db), want, "after flush");
    drop(db);
    assert_eq!(
        select_all(&open(dir.path(), &o)),
        want,
        "after flush + restart"
    );
}

#[test]
fn empty_label_set_is_rejected_and_nothing_else_is_affected() {
    let dir = tempfile::tempdir().unwrap();
    let o = opts(H2, 0);
    let db = open(dir.path(), &o);
    let mut app = db.appender();
    app.append(&series(0), 1_000, 1.0).unwrap();
    let e = app.append(&Labels::empty(), 1_000, 2.0).unwrap_err();
    assert!(matches!(e, Error::InvalidLabels(_)), "{e:?}");
    assert!(e.to_string().contains("empty label set"), "{e}");
    app.append(&series(1), 1_000, 3.0).unwrap();
    assert_eq!(app.len(), 2);
    let out = app.commit().unwrap();
    assert_eq!((out.appended, out.series_created), (2, 2));
    let want = expect(vec![
        (series(0), vec![(1_000, 1.0)]),
        (series(1), vec![(1_000, 3.0)]),
    ]);
    assert_eq!(select_all(&db), want);
    assert_eq!(db.head().num_series(), 2);
    drop(db);
    assert_eq!(select_all(&open(dir.path(), &o)), want);
}

#[test]
fn out_of_order_duplicates_of_samples_staged_in_order_in_the_same_commit() {
    let dir = tempfile::tempdir().unwrap();
    let o = opts(H2, 30 * MIN);
    let db = open(dir.path(), &o);
    append_all(&db, &[(series(0), 0, 0.0)]);
    let out = commit(
        &db,
        &[
            (series(0), 10 * MIN, 1.0),
            (series(0), 11 * MIN, 2.0),
            (series(0), 10 * MIN, 1.0),
            (series(0), 10 * MIN, 9.0),
        ],
    );
    assert_eq!((out.appended, out.duplicates_ignored), (2, 1));
    assert!(
        matches!(out.rejected[..], [Error::DuplicateSample { t, stored, new, .. }] if t == 10 * MIN && stored == 1.0 && new == 9.0),
        "{:?}",
        out.rejected
    );
    let want = expect(vec![(
        series(0),
        vec![(0, 0.0), (10 * MIN, 1.0), (11 * MIN, 2.0)],
    )]);
    assert_eq!(select_all(&db), want);
    drop(db);
    assert_eq!(select_all(&open(dir.path(), &o)), want);
}
