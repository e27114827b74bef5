//! Shared setup: configs, an appender thread, waiting, checks.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use strata_agent::{AgentOptions, AgentStorage};
use strata_config::RemoteWriteConfig;
use strata_model::Labels;

/// A `remote_write` entry for `url` with the given extra YAML (indented by 4).
pub fn rw_config(url: &str, extra: &str) -> RemoteWriteConfig {
    let yaml = format!("remote_write:\n  - url: {url}\n{extra}");
    let mut cfg = strata_config::parse(&yaml).unwrap();
    cfg.remote_write.remove(0)
}

/// Fast queue settings for tests.
pub const FAST_QUEUE: &str = "    name: test\n    queue_config:\n      batch_send_deadline: 50ms\n      min_backoff: 20ms\n      max_backoff: 200ms\n      max_samples_per_send: 100\n      capacity: 1000\n";

pub fn small_wal() -> AgentOptions {
    AgentOptions {
        wal_segment_size: 64 * 1024,
        ..AgentOptions::default()
    }
}

pub fn labels(job: &str, i: usize) -> Labels {
    Labels::new(&[
        ("__name__", "test_metric".to_string()),
        ("job", job.to_string()),
        ("series", i.to_string()),
    ])
    .unwrap()
}

/// Appends rounds of `series` samples at `t = round` from a thread, one commit per
/// round, recording what was committed.
pub struct Appender {
    stop: Arc<AtomicBool>,
    pub rounds: Arc<AtomicU64>,
    pub committed: Arc<Mutex<BTreeMap<String, Vec<i64>>>>,
    handle: Option<JoinHandle<()>>,
}

impl Appender {
    pub fn start(db: &AgentStorage, job: &str, series: usize, every: Duration) -> Appender {
        let stop = Arc::new(AtomicBool::new(false));
        let rounds = Arc::new(AtomicU64::new(0));
        let committed = Arc::new(Mutex::new(BTreeMap::new()));
        let (db, job) = (db.clone(), job.to_string());
        let (s, r, c) = (stop.clone(), rounds.clone(), committed.clone());
        let handle = std::thread::spawn(move || {
            let ls: Vec<Labels> = (0..series).map(|i| labels(&job, i)).collect();
            let mut refs: Vec<Option<u64>> = vec![None; series];
            let mut app = db.appender();
            let mut round = 0i64;
            while !s.load(Ordering::Relaxed) {
                round += 1;
                for (i, l) in ls.iter().enumerate() {
                    refs[i] = Some(app.append(refs[i], l, round, round as f64).unwrap());
                }
                app.commit().unwrap();
                {
                    let mut c = c.lock();
                    for l in &ls {
                        c.entry(l.to_string()).or_insert_with(Vec::new).push(round);
                    }
                }
                r.store(round as u64, Ordering::Relaxed);
                std::thread::sleep(every);
            }
        });
        Appender {
            stop,
            rounds,
            committed,
            handle: Some(handle),
        }
    }

    pub fn stop(&mut self) -> BTreeMap<String, Vec<i64>> {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            h.join().unwrap();
        }
        self.committed.lock().clone()
    }
}

impl Drop for Appender {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Polls `f` until true or `timeout` (then panics with `what`).
pub async fn wait_for(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        if start.elapsed() > timeout {
            panic!("timed out waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Every committed sample arrived exactly once, in order per series.
pub fn assert_exactly_once(
    committed: &BTreeMap<String, Vec<i64>>,
    received: &BTreeMap<String, Vec<i64>>,
) {
    assert_eq!(
        committed.keys().collect::<Vec<_>>(),
        received.keys().collect::<Vec<_>>(),
        "series differ"
    );
    for (s, want) in committed {
        let got = &received[s];
        assert_eq!(
            got.len(),
            want.len(),
            "{s}: {} sent, {} received",
            want.len(),
            got.len()
        );
        assert_eq!(got, want, "{s}: order or content differs");
    }
}

/// The value of the first sample line of `metric` in `text` whose labels contain `with`.
pub fn metric(text: &str, metric: &str, with: &str) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find(|l| {
            l.split(['{', ' '])
                .next()
                .is_some_and(|name| name == metric)
                && l.contains(with)
        })
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {metric} with {with} in\n{text}"))
}
