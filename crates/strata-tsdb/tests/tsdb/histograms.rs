//! Native histograms end to end: append rules, the head, WAL replay (also of a directory
//! copied mid-flight, as a crash leaves it), checkpoints, blocks, and Prometheus' own
//! tools reading the blocks.

use std::collections::BTreeMap;
use std::path::Path;

use strata_model::histogram::{CounterResetHint, FloatHistogram, Histogram, Span};
use strata_model::{Labels, Matcher};
use strata_tsdb::Db;
use strata_tsdb::error::Error;

use crate::common::*;

fn span(offset: i32, length: u32) -> Span {
    Span { offset, length }
}

/// The `i`-th sample of an evolving counter histogram: buckets fill up, a new bucket
/// appears every 7 samples, a bucket empties out every 11, the counter resets every 40.
pub fn hist(i: u64) -> Histogram {
    let k = i % 40;
    let nb = 2 + (k / 7) as i64;
    let mut counts: BTreeMap<i64, i64> = (0..nb)
        .map(|b| (b * 2 - 3, (k as i64 + 1) * (b + 1)))
        .collect();
    if k % 11 == 5 {
        // An empty bucket the layout still lists.
        counts.insert(nb * 2, 0);
    }
    let mut spans: Vec<Span> = Vec::new();
    let mut deltas = Vec::new();
    let (mut next, mut prev) = (0i64, 0i64);
    for (&idx, &c) in &counts {
        match spans.last_mut() {
            Some(s) if idx == next => s.length += 1,
            _ => {
                let off = if spans.is_empty() { idx } else { idx - next };
                spans.push(span(off as i32, 1));
            }
        }
        deltas.push(c - prev);
        prev = c;
        next = idx + 1;
    }
    // Zero bucket k, one negative bucket k.
    let total: i64 = counts.values().sum::<i64>() + 2 * k as i64;
    Histogram {
        schema: 2,
        zero_threshold: 2f64.powi(-128),
        zero_count: k,
        count: total as u64,
        sum: (i as f64) * 1.25,
        positive_spans: spans,
        positive_deltas: deltas,
        negative_spans: vec![span(0, 1)],
        negative_deltas: vec![k as i64],
        ..Histogram::default()
    }
}

/// A gauge float histogram that goes up and down.
pub fn float_hist(i: u64) -> FloatHistogram {
    let mut f = hist(i % 17).to_float();
    f.counter_reset_hint = CounterResetHint::Gauge;
    f.sum = -(i as f64) / 3.0;
    f
}

/// What a query must return for a histogram, whatever layout a chunk gave it: time,
/// counts, sum bits and the non-empty buckets by index.
pub fn essence(t: i64, h: &FloatHistogram) -> String {
    fn buckets(spans: &[Span], counts: &[f64]) -> Vec<(i64, f64)> {
        let mut out = Vec::new();
        let (mut idx, mut k) = (0i64, 0usize);
        for s in spans {
            idx += i64::from(s.offset);
            for _ in 0..s.length {
                if counts[k] != 0.0 {
                    out.push((idx, counts[k]));
                }
                idx += 1;
                k += 1;
            }
        }
        out
    }
    if h.is_stale() {
        return format!("{t} stale");
    }
    format!(
        "{t} s={} zt={} zc={} c={} sum={:x} +{:?} -{:?} cv={:?}",
        h.schema,
        h.zero_threshold,
        h.zero_count,
        h.count,
        h.sum.to_bits(),
        buckets(&h.positive_spans, &h.positive_buckets),
        buckets(&h.negative_spans, &h.negative_buckets),
        h.custom_values
    )
}

type HistSeries = Vec<(Labels, Vec<String>)>;
type FloatSeries = Vec<(Labels, Vec<(i64, f64)>)>;

fn select_hists(db: &Db, ms: &[Matcher]) -> HistSeries {
    db.select_histograms(ms, i64::MIN, i64::MAX)
        .unwrap()
        .into_iter()
        .map(|(l, hs)| (l, hs.iter().map(|(t, h)| essence(*t, h)).collect()))
        .collect()
}

const STEP: i64 = 15_000;

/// `int`: integer histograms of `hist`; `gauge`: float gauge histograms; `mixed`: floats,
/// then histograms, then floats again, some switches inside one commit.
fn ingest(db: &Db, n: u64) -> (HistSeries, FloatSeries) {
    let (int, gauge, mixed) = (series(1), series(2), series(3));
    let mut ints = Vec::new();
    let mut gauges = Vec::new();
    let mut mixed_h = Vec::new();
    let mut mixed_f = Vec::new();
    for i in 0..n {
        let t = 1_000 + i as i64 * STEP;
        let mut app = db.appender();
        app.append_histogram(&int, t, &hist(i)).unwrap();
        ints.push(essence(t, &hist(i).to_float()));
        app.append_float_histogram(&gauge, t, &float_hist(i))
            .unwrap();
        gauges.push(essence(t, &float_hist(i)));
        // The mixed series: a float and a histogram in one commit, alternating phases.
        let phase = (i / 10) % 2;
        if phase == 0 {
            app.append(&mixed, t, i as f64).unwrap();
            mixed_f.push((t, i as f64));
            app.append_histogram(&mixed, t + 1, &hist(i)).unwrap();
            mixed_h.push(essence(t + 1, &hist(i).to_float()));
        } else {
            app.append_histogram(&mixed, t, &hist(i)).unwrap();
            mixed_h.push(essence(t, &hist(i).to_float()));
            app.append(&mixed, t + 1, -(i as f64)).unwrap();
            mixed_f.push((t + 1, -(i as f64)));
        }
        let out = app.commit().unwrap();
        assert!(out.rejected.is_empty(), "{:?}", out.rejected);
        assert_eq!((out.appended, out.histograms_appended), (1, 3));
    }
    let hs = vec![
        (int.clone(), ints),
        (gauge.clone(), gauges),
        (mixed.clone(), mixed_h),
    ];
    // Float readers list the histogram-only series too, without samples.
    (hs, vec![(int, vec![]), (gauge, vec![]), (mixed, mixed_f)])
}

#[test]
fn head_wal_and_crash_copy_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let o = opts(H2, 0);
    let db = open(dir.path(), &o);
    let (want_h, want_f) = ingest(&db, 200);
    assert_eq!(select_hists(&db, &[]), want_h);
    // Float readers see only floats, and no error.
    assert_eq!(select_all(&db), expect(want_f.clone()));
    assert_eq!(
        select_hists(&db, &[Matcher::equal("i", "2")]),
        vec![want_h[1].clone()]
    );
    // A range query cuts by time.
    let ranged = db
        .select_histograms(
            &[Matcher::equal("i", "1")],
            1_000 + 10 * STEP,
            1_000 + 19 * STEP,
        )
        .unwrap();
    assert_eq!(ranged[0].1.len(), 10);

    // The directory as a crash leaves it (the database still open): the WAL has it all.
    let crash = tempfile::tempdir().unwrap();
    copy_dir(dir.path(), crash.path());
    let _ = std::fs::remove_file(crash.path().join("lock"));
    let copy = open(crash.path(), &o);
    assert_eq!(select_hists(&copy, &[]), want_h);
    assert_eq!(select_all(&copy), expect(want_f.clone()));
    // And appends continue on the replayed chunks.
    let mut app = copy.appender();
    let t = 1_000 + 200 * STEP;
    app.append_histogram(&series(1), t, &hist(200)).unwrap();
    assert_eq!(app.commit().unwrap().histograms_appended, 1);
    drop(copy);

    drop(db);
    let db = open(dir.path(), &o);
    assert_eq!(select_hists(&db, &[]), want_h);
    assert_eq!(select_all(&db), expect(want_f));
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
}

#[test]
fn append_rules() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path(), &opts(H2, 3_600_000));
    let s = series(0);
    let f = series(1);
    let mut app = db.appender();
    app.append_histogram(&s, 100_000, &hist(3)).unwrap();
    // The same histogram twice in one commit: the second is a duplicate.
    app.append_histogram(&s, 100_000, &hist(3)).unwrap();
    app.append(&f, 100_000, 1.0).unwrap();
    let out = app.commit().unwrap();
    assert_eq!(
        (out.histograms_appended, out.histogram_duplicates_ignored),
        (1, 1)
    );

    let mut app = db.appender();
    // Identical again (hint ignored): ignored.
    let hinted = Histogram {
        counter_reset_hint: CounterResetHint::NotCounterReset,
        ..hist(3)
    };
    app.append_histogram(&s, 100_000, &hinted).unwrap();
    // A different histogram at the same time, a float there, a histogram where a float
    // is, and a histogram older than the newest (even inside the out-of-order window).
    app.append_histogram(&s, 100_000, &hist(4)).unwrap();
    app.append(&s, 100_000, 1.0).unwrap();
    app.append_histogram(&f, 100_000, &hist(3)).unwrap();
    app.append_histogram(&s, 99_000, &hist(3)).unwrap();
    // Out-of-order floats are not mixed into a series holding histograms.
    app.append(&s, 99_500, 2.0).unwrap();
    // Floats and histograms may follow each other.
    app.append(&s, 101_000, 5.0).unwrap();
    app.append_float_histogram(&s, 102_000, &float_hist(1))
        .unwrap();
    let out = app.commit().unwrap();
    assert_eq!(out.histogram_duplicates_ignored, 1);
    assert_eq!((out.appended, out.histograms_appended), (1, 1));
    let kinds: Vec<String> = out
        .rejected
        .iter()
        .map(|e| match e {
            Error::DuplicateHistogram { t, .. } => format!("dup {t}"),
            Error::OutOfOrder { t, .. } => format!("ooo {t}"),
            other => format!("{other}"),
        })
        .collect();
    assert_eq!(
        kinds,
        vec![
            "dup 100000",
            "dup 100000",
            "dup 100000",
            "ooo 99000",
            "ooo 99500"
        ]
    );
    assert!(out.rejected.iter().all(Error::is_sample_rejection));

    // Out of bounds: before the head's max - chunk_range/2 (and outside the window).
    let mut app = db.appender();
    app.append_histogram(&series(5), 102_000 + 3_600_000, &hist(1))
        .unwrap();
    app.commit().unwrap();
    let mut app = db.appender();
    app.append_histogram(&series(6), 1_000, &hist(1)).unwrap();
    let out = app.commit().unwrap();
    assert!(
        matches!(out.rejected[..], [Error::OutOfBounds { .. }]),
        "{:?}",
        out.rejected
    );

    // Invalid histograms are refused when staged.
    let mut app = db.appender();
    let bad = Histogram {
        count: 1,
        ..hist(2)
    };
    let e = app.append_histogram(&s, 200_000, &bad).unwrap_err();
    assert!(matches!(e, Error::InvalidHistogram { .. }), "{e}");
    assert!(e.to_string().contains("Count field"), "{e}");
    let r = app.append_histogram(&s, 200_000, &hist(1)).unwrap();
    let bad_f = FloatHistogram {
        schema: 42,
        ..float_hist(1)
    };
    assert!(app.append_float_histogram_ref(r, 200_001, &bad_f).is_err());
    assert!(app.append_histogram_ref(u64::MAX, 1, &hist(1)).is_err());
    assert_eq!(app.len(), 1);
}

#[test]
fn blocks_compaction_and_checkpoints_keep_histograms() {
    let dir = tempfile::tempdir().unwrap();
    // A block every 100 samples.
    let range = 100 * STEP;
    let o = opts(range, 0);
    let db = open(dir.path(), &o);
    let (want_h, want_f) = ingest(&db, 420);
    let made = db.compact().unwrap();
    assert!(made.len() >= 2, "{made:?}");
    assert!(
        std::fs::read_dir(dir.path().join("wal"))
            .unwrap()
            .flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with("checkpoint.")),
        "no checkpoint"
    );
    assert_eq!(select_hists(&db, &[]), want_h);
    assert_eq!(select_all(&db), expect(want_f.clone()));
    // Blocks hold histogram chunks (encodings 2 and 3) and count their samples.
    let mut encodings = std::collections::BTreeSet::new();
    for b in db.blocks() {
        let (lo, hi) = b.time_range();
        for r in b.index().all_postings().unwrap() {
            let (_, metas) = b.index().series(r).unwrap();
            for w in metas.windows(2) {
                assert!(w[0].maxt < w[1].mint, "chunks overlap");
            }
            for m in metas {
                assert!(m.mint >= lo && m.maxt <= hi, "chunk outside its block");
                encodings.insert(b.chunks().chunk(m.chunk_ref).unwrap().0);
            }
        }
        assert!(b.meta().stats.num_samples > 0);
    }
    assert_eq!(encodings.into_iter().collect::<Vec<_>>(), vec![1, 2, 3]);

    // The checkpoint kept the head's histograms: a reopen replays them.
    drop(db);
    let db = open(dir.path(), &o);
    assert_eq!(select_hists(&db, &[]), want_h);
    assert_eq!(select_all(&db), expect(want_f.clone()));
    let in_blocks: u64 = db.blocks().iter().map(|b| b.meta().stats.num_samples).sum();
    // Everything flushed: the blocks hold every sample once.
    db.flush().unwrap();
    let total: u64 = db.blocks().iter().map(|b| b.meta().stats.num_samples).sum();
    assert!(total > in_blocks);
    assert_eq!(total, 420 * 4);
    assert_eq!(select_hists(&db, &[]), want_h);
}

#[test]
fn promtool_reads_wal_and_blocks_with_histograms() {
    let Some(promtool) = strata_testkit::require_tool("promtool") else {
        return;
    };
    let run = |args: &[&str]| {
        let out = std::process::Command::new(&promtool)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "promtool {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let db = open(dir.path(), &opts(H2, 0));
    let (want_h, _) = ingest(&db, 150);
    // Stale markers too.
    let mut app = db.appender();
    let stale = Histogram {
        sum: strata_model::stale_nan(),
        ..Histogram::default()
    };
    app.append_histogram(&series(1), 1_000 + 150 * STEP, &stale)
        .unwrap();
    app.commit().unwrap();
    db.sync().unwrap();

    // promtool 2.42's dump prints float samples and stops at a series' first histogram
    // sample: the mixed series shows its first floats, histogram-only series nothing.
    // Here Prometheus replays our WAL (series, samples and histogram records).
    let check_dump = |dump: &str| {
        let mixed: Vec<&str> = dump.lines().filter(|l| l.contains("i=\"3\"")).collect();
        assert!(!mixed.is_empty(), "{dump}");
        assert!(mixed[0].ends_with(" 0 1000"), "{}", mixed[0]);
        assert!(
            !dump.contains("i=\"1\"") && !dump.contains("i=\"2\""),
            "{dump}"
        );
    };
    check_dump(&run(&["tsdb", "dump", d]));

    // And our blocks.
    let metas = db.flush().unwrap();
    assert_eq!(metas.len(), 1);
    let hs = select_hists(&db, &[Matcher::equal("i", "1")]);
    assert_eq!(hs[0].1.len(), want_h[0].1.len() + 1);
    assert!(hs[0].1.last().unwrap().ends_with("stale"));
    drop(db);
    let analyze = run(&["tsdb", "analyze", "--extended", d, &metas[0].ulid]);
    assert!(analyze.contains("Series: 3\n"), "{analyze}");
    assert!(analyze.contains("Compaction analysis"), "{analyze}");
    check_dump(&run(&["tsdb", "dump", d]));
}
