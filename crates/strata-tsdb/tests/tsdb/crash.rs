//! Crash safety: a writer process is killed with SIGKILL at random moments while it
//! ingests, compacts and checkpoints; after every kill the directory must open with
//! every acknowledged sample present exactly once, nothing else damaged.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use strata_model::histogram::FloatHistogram;
use strata_model::storage::{Querier, Queryable, SelectHints};
use strata_model::{Labels, Matcher};
use strata_tsdb::head::HeadQuerier;
use strata_tsdb::{Block, Db};

use crate::common::{Bits, select_all};

#[path = "../../src/bin/tsdb-crash-writer/params.rs"]
#[allow(dead_code)]
mod params;

use params::{HIST_NAME, SERIES, batch_histogram, batch_time, batch_value, options};

fn labels(s: usize) -> Labels {
    Labels::new(&[("__name__", "crash_test"), ("s", &s.to_string())]).unwrap()
}

/// xorshift64*: enough randomness for kill delays, reproducible from the logged seed.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

/// Runs the writer from batch `first`, kills it `delay` after it reported `ready`.
/// Returns the acknowledged batches and the number of compactions it reported.
fn run_and_kill(dir: &Path, first: u64, delay: Duration) -> (Vec<u64>, usize) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tsdb-crash-writer"))
        .arg(dir)
        .arg(first.to_string())
        .arg("200")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut lines = Vec::new();
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if line == "ready" {
                let _ = tx.send(());
            }
            lines.push(line);
        }
        lines
    });
    rx.recv_timeout(Duration::from_secs(20))
        .expect("writer did not become ready");
    std::thread::sleep(delay);
    // Child::kill sends SIGKILL on Unix.
    let killed = child.kill();
    let status = child.wait().unwrap();
    let lines = reader.join().unwrap();
    assert!(
        killed.is_ok() && status.code().is_none(),
        "writer exited by itself ({status:?}) after {:?}",
        lines.last()
    );
    let mut acks = Vec::new();
    let mut compactions = 0;
    for l in &lines {
        if let Some(b) = l.strip_prefix("ack ") {
            acks.push(b.parse().unwrap());
        } else if l.starts_with("compacted ") {
            compactions += 1;
        }
    }
    (acks, compactions)
}

/// The head alone, as a queryable.
struct HeadOnly(std::sync::Arc<strata_tsdb::Head>);
impl Queryable for HeadOnly {
    fn querier(&self, mint: i64, maxt: i64) -> strata_model::Result<Box<dyn Querier>> {
        Ok(Box::new(HeadQuerier::new(self.0.clone(), mint, maxt)))
    }
}

fn hist_labels() -> Labels {
    Labels::new(&[("__name__", HIST_NAME)]).unwrap()
}

/// A histogram as a query must return it whatever the chunk layout: count, sum bits and
/// the non-empty buckets by index.
fn hist_key(h: &FloatHistogram) -> (u64, u64, Vec<(i64, u64)>) {
    let mut buckets = Vec::new();
    let (mut idx, mut k) = (0i64, 0usize);
    for s in &h.positive_spans {
        idx += i64::from(s.offset);
        for _ in 0..s.length {
            if h.positive_buckets[k] != 0.0 {
                buckets.push((idx, h.positive_buckets[k].to_bits()));
            }
            idx += 1;
            k += 1;
        }
    }
    (h.count.to_bits(), h.sum.to_bits(), buckets)
}

/// Histogram samples the head holds.
fn head_histograms(db: &Db) -> u64 {
    let q = HeadQuerier::new(db.head().clone(), i64::MIN, i64::MAX);
    let mut n = 0;
    for s in q.select(&[], &SelectHints::default()).unwrap() {
        let mut hs = Vec::new();
        s.unwrap().samples.drain_histograms_into(&mut hs).unwrap();
        n += hs.len() as u64;
    }
    n
}

/// Checks the directory: every series holds exactly the batches `0..=p` for one `p` in
/// `max_acked..=max_acked + 1` (the batch in flight at the kill is all or nothing),
/// with exact values and no sample stored twice. Returns `p + 1`, the next batch.
fn verify(db: &Db, max_acked: Option<u64>, ctx: &str) -> u64 {
    let got = select_all(db);
    let mut present: BTreeMap<usize, &Bits> = BTreeMap::new();
    for (l, s) in &got {
        if *l == hist_labels() {
            assert!(s.is_empty(), "{ctx}: floats in the histogram series");
            continue;
        }
        let idx = (0..SERIES).find(|&i| labels(i) == *l);
        let idx = idx.unwrap_or_else(|| panic!("{ctx}: unexpected series {l}"));
        present.insert(idx, s);
    }
    let counts: Vec<usize> = (0..SERIES)
        .map(|i| present.get(&i).map_or(0, |s| s.len()))
        .collect();
    assert!(
        counts.iter().all(|&c| c == counts[0]),
        "{ctx}: a batch is partially present: samples per series {counts:?}"
    );
    let n = counts[0] as u64;
    let lo = max_acked.map_or(0, |a| a + 1);
    assert!(
        n == lo || n == lo + 1,
        "{ctx}: {n} batches present, {lo} acknowledged (one more may have been in flight)"
    );
    for (i, s) in &present {
        for (b, &(t, v)) in s.iter().enumerate() {
            let b = b as u64;
            assert_eq!(
                (t, v),
                (batch_time(b), batch_value(b, *i).to_bits()),
                "{ctx}: series {i} sample {b}"
            );
        }
    }
    // The histogram series holds the same batches, with their histograms.
    let hs = db
        .select_histograms(&[Matcher::equal("__name__", HIST_NAME)], i64::MIN, i64::MAX)
        .unwrap();
    let hs = hs.first().map(|s| s.1.as_slice()).unwrap_or_default();
    assert_eq!(hs.len() as u64, n, "{ctx}: histogram batches");
    for (b, (t, h)) in hs.iter().enumerate() {
        let b = b as u64;
        assert_eq!(*t, batch_time(b), "{ctx}: histogram {b}");
        assert_eq!(
            hist_key(h),
            hist_key(&batch_histogram(b).to_float()),
            "{ctx}: histogram {b}"
        );
    }
    // No sample is stored twice: blocks do not overlap, and blocks plus head hold
    // exactly as many samples as the merged query returns.
    let blocks = db.blocks();
    for w in blocks.windows(2) {
        assert!(
            w[0].meta().max_time <= w[1].meta().min_time,
            "{ctx}: overlapping blocks"
        );
    }
    let in_blocks: u64 = blocks.iter().map(|b| b.meta().stats.num_samples).sum();
    let in_head: u64 = select_all(&HeadOnly(db.head().clone()))
        .iter()
        .map(|(_, s)| s.len() as u64)
        .sum();
    assert_eq!(
        in_blocks + in_head + head_histograms(db),
        n * (SERIES as u64 + 1),
        "{ctx}: samples stored twice or lost"
    );
    n
}

#[test]
fn sigkill_during_ingestion_loses_no_acknowledged_sample() {
    let seed = std::env::var("TSDB_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        });
    eprintln!("crash test seed: {seed} (rerun with TSDB_CRASH_SEED={seed})");
    let mut rng = Rng(seed);
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let mut next = 0u64;
    let mut max_acked: Option<u64> = None;
    let mut compactions = 0;
    const ITERATIONS: usize = 24;
    for it in 0..ITERATIONS {
        let delay = Duration::from_millis(5 + rng.next() % 296);
        let (acks, c) = run_and_kill(dir.path(), next, delay);
        compactions += c;
        for w in acks.windows(2) {
            assert_eq!(w[1], w[0] + 1, "acks are consecutive");
        }
        if let Some(&a) = acks.last() {
            max_acked = Some(a);
        }
        let ctx = format!("seed {seed} iteration {it} (killed after {delay:?})");
        let db = Db::open(dir.path(), options()).unwrap_or_else(|e| panic!("{ctx}: open: {e}"));
        next = verify(&db, max_acked, &ctx);
    }
    eprintln!(
        "crash test: {ITERATIONS} kills, {next} batches, {compactions} compactions, {:?}",
        started.elapsed()
    );
    assert!(compactions > 0, "no compaction happened: raise the delays");

    // The survivor still works: appends, a flush into valid blocks, a clean reopen.
    let db = Db::open(dir.path(), options()).unwrap();
    let mut app = db.appender();
    for s in 0..SERIES {
        app.append(&labels(s), batch_time(next), batch_value(next, s))
            .unwrap();
    }
    app.append_histogram(&hist_labels(), batch_time(next), &batch_histogram(next))
        .unwrap();
    let out = app.commit().unwrap();
    assert_eq!(out.appended, SERIES, "{:?}", out.rejected);
    assert_eq!(out.histograms_appended, 1);
    let before = select_all(&db);
    let before_h = db.select_histograms(&[], i64::MIN, i64::MAX).unwrap();
    db.flush().unwrap();
    assert_eq!(db.head().num_series(), 0);
    for b in db.blocks() {
        Block::open(b.dir()).unwrap();
    }
    drop(db);
    let db = Db::open(dir.path(), options()).unwrap();
    assert_eq!(select_all(&db), before);
    assert_eq!(
        db.select_histograms(&[], i64::MIN, i64::MAX).unwrap(),
        before_h
    );
    assert_eq!(verify(&db, Some(next), "after flush"), next + 1);
}
