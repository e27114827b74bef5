//! The agent's storage: no blocks and no queries, only a write-ahead log in Prometheus'
//! format plus the series refs and labels needed to keep writing it (Prometheus'
//! `tsdb/agent`). Remote-write queues read the log back (see [`crate::remote`]).
//!
//! Layout under the data directory: `lock` (flock'ed while open), `wal/` (segments and
//! checkpoints), `remote/` (one progress file per remote-write queue).

mod append;
mod pairs;
mod replay;
pub(crate) mod series;
mod truncate;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex, RwLock};
use strata_model::Labels;
use strata_tsdb::wal::{SyncPolicy, Wal, WalOptions};

use crate::error::{Error, Result};
use crate::metrics::{Counter, Gauge, header, sample};
pub use append::AgentAppender;
use append::Buffers;
use series::{IntMap, SeriesMap};
pub use truncate::{TruncateReport, TruncationTask, WalConsumers};

/// Options of [`AgentStorage`], with Prometheus' agent defaults.
#[derive(Debug, Clone)]
pub struct AgentOptions {
    /// Maximum WAL segment size (default 128 MiB; a multiple of 32 KiB).
    pub wal_segment_size: usize,
    /// Snappy-compress WAL records (`--storage.agent.wal-compression`, default true).
    pub wal_compression: bool,
    /// How often [`AgentStorage::spawn_truncation`] truncates
    /// (`--storage.agent.wal-truncate-frequency`, default 2h).
    pub truncate_frequency: Duration,
    /// Series without samples for this long are dropped from memory at truncation once
    /// their samples have left the WAL (`--storage.agent.retention.min-time`, default 5m).
    pub min_wal_time: Duration,
    /// Segments whose samples are all older than this are deleted at truncation even if a
    /// remote-write queue has not sent them (`--storage.agent.retention.max-time`,
    /// default 4h).
    pub max_wal_time: Duration,
}

impl Default for AgentOptions {
    fn default() -> Self {
        AgentOptions {
            wal_segment_size: strata_tsdb::wal::segment::DEFAULT_SEGMENT_SIZE,
            wal_compression: true,
            truncate_frequency: Duration::from_secs(2 * 3600),
            min_wal_time: Duration::from_secs(5 * 60),
            max_wal_time: Duration::from_secs(4 * 3600),
        }
    }
}

impl AgentOptions {
    /// Prometheus' `validateOptions`: max time at least min time and at least the
    /// truncation period.
    fn normalized(mut self) -> Self {
        if self.min_wal_time > self.max_wal_time {
            self.max_wal_time = self.min_wal_time;
        }
        if self.max_wal_time < self.truncate_frequency {
            self.max_wal_time = self.truncate_frequency;
        }
        self
    }
}

/// Samples and time range of one WAL segment, for truncation by age.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SegmentStats {
    pub samples: u64,
    pub min_t: i64,
    pub max_t: i64,
}

impl SegmentStats {
    pub(crate) fn add(&mut self, n: u64, min_t: i64, max_t: i64) {
        self.samples += n;
        self.min_t = self.min_t.min(min_t);
        self.max_t = self.max_t.max(max_t);
    }
}

impl Default for SegmentStats {
    fn default() -> Self {
        SegmentStats {
            samples: 0,
            min_t: i64::MAX,
            max_t: i64::MIN,
        }
    }
}

pub(crate) struct WalState {
    pub wal: Option<Wal>,
    pub segments: BTreeMap<u32, SegmentStats>,
}

/// Wakes WAL readers after a commit.
pub(crate) struct WalNotify {
    generation: AtomicU64,
    lock: Mutex<()>,
    cv: Condvar,
}

impl WalNotify {
    fn new() -> Self {
        WalNotify {
            generation: AtomicU64::new(0),
            lock: Mutex::new(()),
            cv: Condvar::new(),
        }
    }

    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    pub(crate) fn notify(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        let _g = self.lock.lock();
        self.cv.notify_all();
    }

    /// Waits until the generation differs from `seen` or `timeout` passes.
    pub(crate) fn wait(&self, seen: u64, timeout: Duration) {
        let mut g = self.lock.lock();
        if self.generation() == seen {
            let _ = self.cv.wait_for(&mut g, timeout);
        }
    }
}

pub(crate) struct StorageMetrics {
    pub appended: Counter,
    pub out_of_order: Counter,
    /// Highest committed timestamp in ms (`i64::MIN` before the first).
    pub highest_ts: AtomicI64,
    pub replay_seconds: Gauge,
    pub truncations: Counter,
    pub truncate_seconds: Gauge,
    pub checkpoints: Counter,
    pub checkpoint_failures: Counter,
    pub gc_series: Counter,
    pub dropped_for_age: Counter,
}

impl Default for StorageMetrics {
    fn default() -> Self {
        StorageMetrics {
            appended: Counter::default(),
            out_of_order: Counter::default(),
            highest_ts: AtomicI64::new(i64::MIN),
            replay_seconds: Gauge::default(),
            truncations: Counter::default(),
            truncate_seconds: Gauge::default(),
            checkpoints: Counter::default(),
            checkpoint_failures: Counter::default(),
            gc_series: Counter::default(),
            dropped_for_age: Counter::default(),
        }
    }
}

pub(crate) struct Inner {
    pub dir: PathBuf,
    pub wal_dir: PathBuf,
    pub opts: AgentOptions,
    pub series: SeriesMap,
    /// Refs of duplicate Series records found at replay, mapped to the ref kept.
    pub dup_refs: RwLock<IntMap<u64>>,
    pub wal: Mutex<WalState>,
    /// Lowest segment still on disk; readers behind it skip ahead.
    pub first_segment: AtomicU32,
    pub notify: WalNotify,
    pub metrics: StorageMetrics,
    pub buffers: Mutex<Vec<Buffers>>,
    /// Serialises truncations.
    pub truncating: Mutex<()>,
    /// The flock'ed `lock` file; released by [`AgentStorage::close`].
    lock: Mutex<Option<fs::File>>,
}

/// The WAL-backed storage of `strata agent`; a cheap handle (clone it freely). Thread
/// safe: every scraper takes its own [`AgentAppender`].
#[derive(Clone)]
pub struct AgentStorage {
    pub(crate) inner: Arc<Inner>,
}

impl AgentStorage {
    /// Opens (creating) the storage in `dir`: takes `dir/lock`, repairs a torn WAL tail,
    /// replays the last checkpoint and the segments after it, and starts a new segment.
    pub fn open(dir: &Path, opts: AgentOptions) -> Result<AgentStorage> {
        let opts = opts.normalized();
        fs::create_dir_all(dir).map_err(|e| Error::io("create", dir, e))?;
        let lock_path = dir.join("lock");
        let lock = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| Error::io("open", &lock_path, e))?;
        lock.try_lock().map_err(|e| {
            Error::io(
                "lock (is another process using this data directory?)",
                &lock_path,
                std::io::Error::other(e),
            )
        })?;
        let wal_dir = dir.join("wal");
        fs::create_dir_all(&wal_dir).map_err(|e| Error::io("create", &wal_dir, e))?;

        let started = Instant::now();
        let series = SeriesMap::new();
        let replayed = replay::replay(&wal_dir, &series)?;
        let wal = Wal::open(
            &wal_dir,
            WalOptions {
                segment_size: opts.wal_segment_size,
                sync: SyncPolicy::Never,
                compress: opts.wal_compression,
            },
        )?;
        let first = Wal::segment_range(&wal_dir)?.map_or(0, |(f, _)| f);
        let metrics = StorageMetrics::default();
        metrics.replay_seconds.set(started.elapsed().as_secs_f64());
        metrics
            .highest_ts
            .store(replayed.highest_ts, Ordering::Relaxed);
        tracing::info!(
            dir = %wal_dir.display(),
            series = series.len(),
            samples = replayed.samples,
            duration_ms = started.elapsed().as_millis() as u64,
            "agent WAL replayed"
        );
        Ok(AgentStorage {
            inner: Arc::new(Inner {
                dir: dir.to_path_buf(),
                wal_dir,
                opts,
                series,
                dup_refs: RwLock::new(replayed.dup_refs),
                wal: Mutex::new(WalState {
                    wal: Some(wal),
                    segments: replayed.segments,
                }),
                first_segment: AtomicU32::new(first),
                notify: WalNotify::new(),
                metrics,
                buffers: Mutex::new(Vec::new()),
                truncating: Mutex::new(()),
                lock: Mutex::new(Some(lock)),
            }),
        })
    }

    /// A new appender (buffers are pooled, so taking one per scrape is cheap).
    pub fn appender(&self) -> AgentAppender {
        AgentAppender::new(self.inner.clone())
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// The WAL directory (`<dir>/wal`).
    pub fn wal_dir(&self) -> &Path {
        &self.inner.wal_dir
    }

    /// The options after normalisation.
    pub fn options(&self) -> &AgentOptions {
        &self.inner.opts
    }

    /// Number of series in memory.
    pub fn num_series(&self) -> usize {
        self.inner.series.len()
    }

    /// The labels of series `series_ref` (shared, not copied).
    pub fn series_labels(&self, series_ref: u64) -> Option<Labels> {
        if let Some(l) = self.inner.series.labels(series_ref) {
            return Some(l);
        }
        let alias = self.inner.dup_refs.read().get(&series_ref).copied()?;
        self.inner.series.labels(alias)
    }

    /// Total samples committed since open.
    pub fn samples_appended(&self) -> u64 {
        self.inner.metrics.appended.get()
    }

    /// Highest committed sample timestamp (ms) since open, `None` before the first.
    pub fn highest_timestamp(&self) -> Option<i64> {
        let t = self.inner.metrics.highest_ts.load(Ordering::Relaxed);
        (t != i64::MIN).then_some(t)
    }

    /// Index of the segment being written.
    pub fn current_segment(&self) -> Result<u32> {
        let st = self.inner.wal.lock();
        st.wal
            .as_ref()
            .map(Wal::current_segment)
            .ok_or(Error::Closed)
    }

    /// Writes buffered WAL data and fsyncs the current segment.
    pub fn sync(&self) -> Result<()> {
        let mut st = self.inner.wal.lock();
        st.wal.as_mut().ok_or(Error::Closed)?.sync()?;
        Ok(())
    }

    /// Closes the WAL cleanly (pads and fsyncs the segment) and releases the directory
    /// lock. Appends fail afterwards.
    pub fn close(&self) -> Result<()> {
        let wal = self.inner.wal.lock().wal.take();
        let res = match wal {
            Some(w) => w.close(),
            None => Ok(()),
        };
        self.inner.lock.lock().take();
        self.inner.notify.notify();
        Ok(res?)
    }

    /// The end of the last complete record: the current segment and its length (taken
    /// under the WAL lock, so no write is half done).
    pub(crate) fn wal_end(&self) -> Result<crate::remote::WalPosition> {
        let st = self.inner.wal.lock();
        let wal = st.wal.as_ref().ok_or(Error::Closed)?;
        let segment = wal.current_segment();
        let path = strata_tsdb::wal::segment::segment_path(&self.inner.wal_dir, segment);
        let offset = fs::metadata(&path)
            .map_err(|e| Error::io("stat", &path, e))?
            .len();
        Ok(crate::remote::WalPosition { segment, offset })
    }

    pub(crate) fn notify(&self) -> &WalNotify {
        &self.inner.notify
    }

    pub(crate) fn first_segment(&self) -> u32 {
        self.inner.first_segment.load(Ordering::SeqCst)
    }

    /// Writes the storage's self metrics (Prometheus' agent, WAL and remote-storage
    /// input metrics) in the text format.
    pub fn render(&self, out: &mut String) {
        let m = &self.inner.metrics;
        let g = |out: &mut String, name: &str, help: &str, typ: &str, v: f64| {
            header(out, name, help, typ);
            sample(out, name, &[], v);
        };
        g(
            out,
            "prometheus_agent_active_series",
            "Number of active series being tracked by the WAL storage",
            "gauge",
            self.num_series() as f64,
        );
        header(
            out,
            "prometheus_agent_samples_appended_total",
            "Total number of samples appended to the storage",
            "counter",
        );
        sample(
            out,
            "prometheus_agent_samples_appended_total",
            &[("type", "float")],
            m.appended.get() as f64,
        );
        g(
            out,
            "prometheus_agent_out_of_order_samples_total",
            "Total number of out of order samples ingestion failed attempts.",
            "counter",
            m.out_of_order.get() as f64,
        );
        g(
            out,
            "prometheus_agent_data_replay_duration_seconds",
            "Time taken to replay the data on disk.",
            "gauge",
            m.replay_seconds.get(),
        );
        header(
            out,
            "prometheus_agent_truncate_duration_seconds",
            "Duration of WAL truncation.",
            "summary",
        );
        sample(
            out,
            "prometheus_agent_truncate_duration_seconds_sum",
            &[],
            m.truncate_seconds.get(),
        );
        sample(
            out,
            "prometheus_agent_truncate_duration_seconds_count",
            &[],
            m.truncations.get() as f64,
        );
        g(
            out,
            "prometheus_agent_checkpoint_creations_total",
            "Total number of checkpoint creations attempted.",
            "counter",
            m.checkpoints.get() as f64,
        );
        g(
            out,
            "prometheus_agent_checkpoint_creations_failed_total",
            "Total number of checkpoint creations that failed.",
            "counter",
            m.checkpoint_failures.get() as f64,
        );
        g(
            out,
            "strata_agent_series_removed_total",
            "Series dropped from memory at truncation after being inactive.",
            "counter",
            m.gc_series.get() as f64,
        );
        g(
            out,
            "strata_agent_wal_samples_dropped_for_age_total",
            "Samples deleted from the WAL for being older than the max retention time before every remote-write queue sent them (counted per queue).",
            "counter",
            m.dropped_for_age.get() as f64,
        );
        let size = dir_size(&self.inner.wal_dir);
        g(
            out,
            "prometheus_tsdb_wal_storage_size_bytes",
            "Size of the write log directory.",
            "gauge",
            size as f64,
        );
        if let Ok(seg) = self.current_segment() {
            g(
                out,
                "prometheus_tsdb_wal_segment_current",
                "Write log segment index that TSDB is currently writing to.",
                "gauge",
                f64::from(seg),
            );
        }
        g(
            out,
            "prometheus_remote_storage_highest_timestamp_in_seconds",
            "Highest timestamp that has come into the remote storage via the Appender interface, in seconds since epoch. Initialized to 0 when no data has been received yet.",
            "gauge",
            self.highest_timestamp().map_or(0.0, |t| t as f64 / 1000.0),
        );
        g(
            out,
            "prometheus_remote_storage_samples_in_total",
            "Samples in to remote storage, compare to samples out for queue managers.",
            "counter",
            m.appended.get() as f64,
        );
    }
}

fn dir_size(dir: &Path) -> u64 {
    let Ok(entries) = fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_size(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}
