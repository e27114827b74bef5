//! One remote-write queue (Prometheus' `QueueManager`): the watcher thread, the shard
//! sender tasks, dynamic resharding from the incoming and outgoing sample rates, and the
//! progress file.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use strata_config::{QueueConfig, RemoteWriteConfig};
use strata_relabel::RelabelConfig;
use tokio::runtime::Handle;
use tokio::sync::watch;

use super::client::WriteClient;
use super::ewma::EwmaRate;
use super::progress::{AckTracker, ProgressFile, WalPosition};
use super::qmetrics::QueueMetrics;
use super::shards::{Mode, ShardSet};
use super::{RemoteWriteOptions, sender, watcher};
use crate::error::Result;
use crate::storage::AgentStorage;

const EWMA_WEIGHT: f64 = 0.2;
/// Prometheus' `shardToleranceFraction`.
const SHARD_TOLERANCE: f64 = 0.3;

pub(crate) fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn positive(v: i64) -> usize {
    usize::try_from(v).unwrap_or(1).max(1)
}

/// `queue_config` in the units the queue uses.
pub(crate) struct QueueSettings {
    pub capacity: usize,
    pub min_shards: usize,
    pub max_shards: usize,
    pub max_samples_per_send: usize,
    pub batch_send_deadline: Duration,
    pub min_backoff: Duration,
    pub max_backoff: Duration,
    /// Zero: no limit.
    pub sample_age_limit: Duration,
}

impl QueueSettings {
    pub fn from_config(q: &QueueConfig) -> Self {
        QueueSettings {
            capacity: positive(q.capacity),
            min_shards: positive(q.min_shards),
            max_shards: positive(q.max_shards).max(positive(q.min_shards)),
            max_samples_per_send: positive(q.max_samples_per_send),
            batch_send_deadline: q.batch_send_deadline.to_std().max(Duration::from_millis(1)),
            min_backoff: q.min_backoff.to_std(),
            max_backoff: q.max_backoff.to_std(),
            sample_age_limit: q.sample_age_limit.to_std(),
        }
    }
}

/// State shared by the watcher, the senders and the control tasks of one queue.
pub(crate) struct QueueCore {
    pub name: String,
    /// The URL with any password redacted (the `url` label).
    pub url: String,
    pub settings: QueueSettings,
    pub storage: AgentStorage,
    pub client: WriteClient,
    pub shards: ShardSet,
    pub tracker: AckTracker,
    pub progress: ProgressFile,
    pub progress_notify: tokio::sync::Notify,
    pub metrics: QueueMetrics,
    pub relabel: Vec<RelabelConfig>,
    /// External labels, sorted by name.
    pub external: Vec<(String, String)>,
    /// Stops the watcher and the control loops.
    pub stop: AtomicBool,
    /// The same, for the async control loops.
    stopping: watch::Sender<bool>,
    /// Cancels sends in flight (hard stop).
    pub abort: watch::Sender<bool>,
    pub num_shards: AtomicUsize,
    pub data_in: EwmaRate,
    pub data_out: EwmaRate,
    pub data_dropped: EwmaRate,
    pub data_out_duration: EwmaRate,
    pub last_send_unix: AtomicI64,
    reshard_disabled_until: Mutex<Option<Instant>>,
    shard_update_interval: Duration,
    tasks: tokio::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

impl QueueCore {
    /// External labels for the encoder: none when relabeling already applied them.
    pub fn encode_external(&self) -> Vec<(String, String)> {
        if self.relabel.is_empty() {
            self.external.clone()
        } else {
            Vec::new()
        }
    }

    pub fn disable_resharding_for(&self, d: Duration) {
        let until = Instant::now() + d;
        let mut g = self.reshard_disabled_until.lock();
        if g.is_none_or(|cur| cur < until) {
            *g = Some(until);
        }
    }

    /// Advances the acknowledged position and stores it.
    pub fn update_progress(&self, sync: bool) {
        let pos = self.tracker.advance(self.shards.oldest_pending());
        if let Err(e) = self.progress.store(pos, sync) {
            tracing::warn!(queue = %self.name, path = %self.progress.path().display(), error = %e, "cannot write remote-write progress");
        }
    }

    /// Prometheus' `calculateDesiredShards`.
    fn calculate_desired_shards(&self) -> usize {
        self.data_out.tick();
        self.data_dropped.tick();
        self.data_out_duration.tick();
        let num = self.num_shards.load(Ordering::Relaxed);
        let in_rate = self.data_in.rate();
        let out_rate = self.data_out.rate();
        let kept_ratio = out_rate / (self.data_dropped.rate() + out_rate);
        let out_duration = self.data_out_duration.rate() / 1e9;
        let highest_sent = self.metrics.highest_sent.get();
        let highest_recv = self
            .storage
            .highest_timestamp()
            .map_or(0.0, |t| t.div_euclid(1000) as f64);
        let delay = highest_recv - highest_sent;
        let pending = delay * in_rate * kept_ratio;
        if out_rate <= 0.0 {
            return num;
        }
        let backlog_catchup = 0.05 * pending;
        let time_per_sample = out_duration / out_rate;
        let desired = time_per_sample * (in_rate * kept_ratio + backlog_catchup);
        self.metrics.shards_desired.set(desired);
        tracing::debug!(
            queue = %self.name, in_rate, out_rate, kept_ratio, pending, out_duration,
            time_per_sample, desired, highest_sent, highest_recv,
            "calculated desired shards"
        );
        let lower = num as f64 * (1.0 - SHARD_TOLERANCE);
        let upper = num as f64 * (1.0 + SHARD_TOLERANCE);
        let desired = desired.ceil();
        if lower <= desired && desired <= upper {
            return num;
        }
        let n = if desired.is_finite() && desired > 0.0 {
            desired as usize
        } else {
            0
        };
        if n < num && delay > 10.0 {
            return num;
        }
        n.clamp(self.settings.min_shards, self.settings.max_shards)
    }

    /// Prometheus' `shouldReshard`.
    fn should_reshard(&self, desired: usize) -> bool {
        if desired == self.num_shards.load(Ordering::Relaxed) {
            return false;
        }
        let min_send = unix_now() - self.shard_update_interval.as_secs().max(1) as i64;
        if self.last_send_unix.load(Ordering::Relaxed) < min_send {
            tracing::warn!(queue = %self.name, "Skipping resharding, last successful send was beyond threshold");
            return false;
        }
        if self
            .reshard_disabled_until
            .lock()
            .is_some_and(|u| Instant::now() < u)
        {
            tracing::warn!(queue = %self.name, "Skipping resharding, resharding is disabled while waiting for recoverable errors");
            return false;
        }
        true
    }
}

fn spawn_shards(core: &Arc<QueueCore>, rt: &Handle) -> Vec<tokio::task::JoinHandle<()>> {
    core.shards
        .current()
        .iter()
        .map(|s| {
            s.wake.notify_one();
            rt.spawn(sender::run_shard(core.clone(), s.clone()))
        })
        .collect()
}

async fn reshard(core: &Arc<QueueCore>, n: usize) {
    let from = core.num_shards.load(Ordering::Relaxed);
    tracing::info!(queue = %core.name, from, to = n, "Remote storage resharding");
    core.shards.begin_reshard();
    let mut tasks = core.tasks.lock().await;
    for h in tasks.drain(..) {
        let _ = h.await;
    }
    core.shards.finish_reshard(n);
    core.num_shards.store(n, Ordering::Relaxed);
    core.metrics.shards.set(n as f64);
    *tasks = spawn_shards(core, &Handle::current());
}

async fn reshard_loop(core: Arc<QueueCore>) {
    let mut abort = core.abort.subscribe();
    let mut stopping = core.stopping.subscribe();
    let mut last_in = core.storage.samples_appended();
    loop {
        tokio::select! {
            _ = tokio::time::sleep(core.shard_update_interval) => {}
            _ = abort.wait_for(|v| *v) => return,
            _ = stopping.wait_for(|v| *v) => return,
        }
        if core.stop.load(Ordering::Relaxed) {
            return;
        }
        let now_in = core.storage.samples_appended();
        core.data_in
            .incr(i64::try_from(now_in.saturating_sub(last_in)).unwrap_or(i64::MAX));
        last_in = now_in;
        core.data_in.tick();
        let desired = core.calculate_desired_shards();
        if core.should_reshard(desired) {
            reshard(&core, desired).await;
        }
    }
}

async fn progress_loop(core: Arc<QueueCore>) {
    let mut abort = core.abort.subscribe();
    loop {
        tokio::select! {
            _ = core.progress_notify.notified() => {}
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = abort.wait_for(|v| *v) => return,
        }
        core.update_progress(false);
    }
}

/// A running queue. Dropping it without [`QueueManager::shutdown`] stops it like a
/// crash would: nothing more is acknowledged, so a restart resends what was in flight.
pub(crate) struct QueueManager {
    pub core: Arc<QueueCore>,
    watcher: Mutex<Option<JoinHandle<()>>>,
    control: Mutex<Vec<tokio::task::JoinHandle<()>>>,
    flush_deadline: Duration,
}

impl QueueManager {
    /// Starts the queue with `client` (built from `cfg` by [`WriteClient::new`], so a
    /// reload can check it before stopping the queue it replaces).
    #[allow(clippy::too_many_arguments)]
    pub fn start(
        storage: &AgentStorage,
        cfg: &RemoteWriteConfig,
        client: WriteClient,
        name: String,
        progress_file: std::path::PathBuf,
        external: Vec<(String, String)>,
        opts: &RemoteWriteOptions,
        rt: &Handle,
    ) -> Result<QueueManager> {
        let settings = QueueSettings::from_config(&cfg.queue_config);
        let progress = ProgressFile::new(progress_file);
        let end = storage.wal_end()?;
        let first = storage.first_segment();
        let start = match progress.load() {
            Some(p) if p > end => {
                tracing::warn!(queue = %name, "remote-write progress is beyond the end of the WAL; starting at the end");
                end
            }
            Some(p) if p.segment < first => {
                tracing::warn!(queue = %name, segment = p.segment, first, "remote-write progress points to truncated WAL segments; starting at the oldest segment");
                WalPosition {
                    segment: first,
                    offset: 0,
                }
            }
            Some(p) => p,
            // A new queue sends what is written from now on (as Prometheus does).
            None => end,
        };
        progress
            .store(start, true)
            .map_err(|e| crate::Error::io("write remote-write progress", progress.path(), e))?;
        tracing::info!(queue = %name, url = %cfg.url.redacted(), segment = start.segment, offset = start.offset, "starting remote-write queue");
        let metrics = QueueMetrics::new();
        metrics.shards.set(settings.min_shards as f64);
        metrics.shards_desired.set(settings.min_shards as f64);
        let interval = opts.shard_update_interval.max(Duration::from_millis(100));
        let core = Arc::new(QueueCore {
            url: cfg.url.redacted(),
            shards: ShardSet::new(
                settings.min_shards,
                settings.capacity,
                settings.max_samples_per_send,
            ),
            num_shards: AtomicUsize::new(settings.min_shards),
            settings,
            storage: storage.clone(),
            client,
            tracker: AckTracker::new(start),
            progress,
            progress_notify: tokio::sync::Notify::new(),
            metrics,
            relabel: cfg.write_relabel_configs.clone(),
            external,
            stop: AtomicBool::new(false),
            stopping: watch::Sender::new(false),
            abort: watch::Sender::new(false),
            data_in: EwmaRate::new(EWMA_WEIGHT, interval),
            data_out: EwmaRate::new(EWMA_WEIGHT, interval),
            data_dropped: EwmaRate::new(EWMA_WEIGHT, interval),
            data_out_duration: EwmaRate::new(EWMA_WEIGHT, interval),
            last_send_unix: AtomicI64::new(0),
            reshard_disabled_until: Mutex::new(None),
            shard_update_interval: interval,
            tasks: tokio::sync::Mutex::new(Vec::new()),
            name,
        });
        if let Ok(mut t) = core.tasks.try_lock() {
            *t = spawn_shards(&core, rt);
        }
        let control = vec![
            rt.spawn(reshard_loop(core.clone())),
            rt.spawn(progress_loop(core.clone())),
        ];
        let wcore = core.clone();
        let watcher = std::thread::Builder::new()
            .name(format!("wal-watcher-{}", core.name))
            .spawn(move || watcher::run(wcore, start))
            .map_err(|e| crate::Error::io("spawn WAL watcher", storage.wal_dir(), e))?;
        Ok(QueueManager {
            core,
            watcher: Mutex::new(Some(watcher)),
            control: Mutex::new(control),
            flush_deadline: opts.flush_deadline,
        })
    }

    fn stop_watcher(&self) -> Option<JoinHandle<()>> {
        self.core.stop.store(true, Ordering::SeqCst);
        self.core.stopping.send_replace(true);
        self.core.shards.notify_space();
        self.core.storage.notify().notify();
        self.watcher.lock().take()
    }

    /// Stops reading, sends what is queued within the flush deadline, then cancels the
    /// rest (which stays unacknowledged in the WAL) and stores the final progress.
    pub async fn shutdown(&self) {
        let core = &self.core;
        let deadline = tokio::time::Instant::now() + self.flush_deadline;
        if let Some(w) = self.stop_watcher() {
            let _ = tokio::task::spawn_blocking(move || w.join()).await;
        }
        let control: Vec<_> = std::mem::take(&mut *self.control.lock());
        let mut control = control.into_iter();
        // The reshard loop first: it may be moving samples between shards.
        if let Some(reshard) = control.next()
            && tokio::time::timeout_at(deadline, reshard).await.is_err()
        {
            core.abort.send_replace(true);
        }
        let mut tasks = core.tasks.lock().await;
        for s in core.shards.current().iter() {
            s.set_mode(Mode::Drain);
        }
        for h in tasks.drain(..) {
            let abort = h.abort_handle();
            if tokio::time::timeout_at(deadline, h).await.is_err() {
                let pending = core.metrics.pending.get();
                tracing::error!(queue = %core.name, pending, "flush deadline reached; the rest is resent after restart");
                core.abort.send_replace(true);
                abort.abort();
            }
        }
        core.abort.send_replace(true);
        for h in control {
            let _ = h.await;
        }
        core.update_progress(true);
        tracing::info!(queue = %core.name, "remote-write queue stopped");
    }
}

impl Drop for QueueManager {
    fn drop(&mut self) {
        self.core.abort.send_replace(true);
        for h in self.control.lock().drain(..) {
            h.abort();
        }
        if let Ok(mut t) = self.core.tasks.try_lock() {
            for h in t.drain(..) {
                h.abort();
            }
        }
        if let Some(w) = self.stop_watcher() {
            let _ = w.join();
        }
    }
}
