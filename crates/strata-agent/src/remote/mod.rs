//! Remote write from the agent's WAL: one queue per `remote_write` entry.
//!
//! Each queue tails the WAL with its own watcher thread and remembers, in
//! `<data>/remote/<queue>`, the WAL position up to which everything has been
//! acknowledged (or dropped on purpose: relabeling, non-recoverable errors). Positions are
//! stored after acknowledged sends, so after a crash a queue resends only what had not
//! been acknowledged; since shards send in parallel, that is at most what was in flight.
//! A queue started for the first time begins at the end of the WAL, as in Prometheus.
//!
//! Shards follow Prometheus' `queue_config`: `capacity` samples per shard, `min_shards`
//! to `max_shards` with resharding every 10 s from the incoming and outgoing rates,
//! batches of `max_samples_per_send` or whatever is there after `batch_send_deadline`,
//! retries from `min_backoff` doubling to `max_backoff` on network errors and 5xx
//! (`Retry-After` honoured), 429 retried only with `retry_on_http_429`, other statuses
//! dropped and counted in `samples_failed_total`.

mod client;
mod encode;
mod ewma;
mod progress;
mod qmetrics;
mod queue;
mod reconfigure;
mod sender;
mod shards;
mod tail;
mod watcher;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use parking_lot::RwLock;

use strata_config::RemoteWriteConfig;
use strata_model::Labels;

use crate::error::{Error, Result};
use crate::storage::{AgentStorage, WalConsumers};
use client::WriteClient;
pub use progress::WalPosition;
use queue::QueueManager;

/// Options of [`RemoteWrite`] that are flags rather than configuration.
#[derive(Debug, Clone)]
pub struct RemoteWriteOptions {
    /// How long [`RemoteWrite::shutdown`] keeps sending what is queued
    /// (`--storage.remote.flush-deadline`, default 1m).
    pub flush_deadline: Duration,
    /// How often the desired number of shards is computed (Prometheus: 10 s).
    pub shard_update_interval: Duration,
}

impl Default for RemoteWriteOptions {
    fn default() -> Self {
        RemoteWriteOptions {
            flush_deadline: Duration::from_secs(60),
            shard_update_interval: Duration::from_secs(10),
        }
    }
}

/// The name of a queue: the configured `name`, or (as Prometheus names unnamed queues
/// by a hash) six hex digits of a hash of the URL.
pub fn queue_name(cfg: &RemoteWriteConfig) -> String {
    if !cfg.name.is_empty() {
        return cfg.name.clone();
    }
    // FNV-1a: stable across versions and platforms.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in cfg.url.0.as_str().bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{:06x}", h & 0xff_ffff)
}

/// A file name for a queue name: unsafe bytes become `_`, plus a hash when changed.
fn progress_file_name(name: &str) -> String {
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if safe == name && !name.starts_with('.') {
        return safe;
    }
    let mut h: u32 = 0x811c_9dc5;
    for b in name.bytes() {
        h = (h ^ u32::from(b)).wrapping_mul(0x0100_0193);
    }
    format!("{safe}-{h:08x}")
}

/// A configured queue: running, or not buildable (then the WAL is kept for it from
/// `pin` on, and the next [`RemoteWrite::apply_config`] tries again).
pub(crate) enum Slot {
    Running {
        cfg: Box<RemoteWriteConfig>,
        external: Vec<(String, String)>,
        queue: Arc<QueueManager>,
    },
    Failed {
        name: String,
        error: String,
        /// The WAL segment kept for it.
        pin: u32,
    },
}

impl Slot {
    pub(crate) fn name(&self) -> &str {
        match self {
            Slot::Running { queue, .. } => &queue.core.name,
            Slot::Failed { name, .. } => name,
        }
    }

    fn running(&self) -> Option<&Arc<QueueManager>> {
        match self {
            Slot::Running { queue, .. } => Some(queue),
            Slot::Failed { .. } => None,
        }
    }
}

/// All remote-write queues of the agent.
pub struct RemoteWrite {
    storage: AgentStorage,
    opts: RemoteWriteOptions,
    rt: tokio::runtime::Handle,
    /// In configuration order.
    slots: RwLock<Vec<Slot>>,
    /// Serialises [`RemoteWrite::apply_config`] and [`RemoteWrite::shutdown`].
    applying: tokio::sync::Mutex<()>,
    closed: AtomicBool,
}

/// External labels as the queues keep them: sorted (name, value) pairs.
fn external_pairs(external_labels: &Labels) -> Vec<(String, String)> {
    external_labels
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
}

/// The queue names of `configs`, rejecting duplicates.
fn unique_names(configs: &[RemoteWriteConfig]) -> Result<Vec<String>> {
    let mut seen = BTreeSet::new();
    let mut names = Vec::with_capacity(configs.len());
    for cfg in configs {
        let name = queue_name(cfg);
        if !seen.insert(name.clone()) {
            return Err(Error::RemoteConfig {
                name,
                reason: "duplicate remote write queue name (set distinct `name`s)".into(),
            });
        }
        names.push(name);
    }
    Ok(names)
}

impl RemoteWrite {
    /// Starts one queue per entry of `configs` over `storage`. `external_labels` are
    /// added to every series sent (series labels win; with `write_relabel_configs` they
    /// are added before relabeling, as Prometheus does). Must be called inside a tokio
    /// runtime, which runs the senders; every queue also has a watcher thread. Fails if
    /// any queue cannot be built.
    pub fn start(
        storage: &AgentStorage,
        configs: &[RemoteWriteConfig],
        external_labels: &Labels,
        opts: RemoteWriteOptions,
    ) -> Result<RemoteWrite> {
        let rt = tokio::runtime::Handle::try_current().map_err(|e| Error::RemoteConfig {
            name: String::new(),
            reason: format!("remote write needs a tokio runtime: {e}"),
        })?;
        let external = external_pairs(external_labels);
        let names = unique_names(configs)?;
        let rw = RemoteWrite {
            storage: storage.clone(),
            opts,
            rt,
            slots: RwLock::new(Vec::new()),
            applying: tokio::sync::Mutex::new(()),
            closed: AtomicBool::new(false),
        };
        let mut slots = Vec::with_capacity(configs.len());
        for (cfg, name) in configs.iter().zip(names) {
            let client = WriteClient::new(&name, cfg)?;
            slots.push(rw.start_queue(cfg, client, name, external.clone())?);
        }
        *rw.slots.write() = slots;
        Ok(rw)
    }

    fn start_queue(
        &self,
        cfg: &RemoteWriteConfig,
        client: WriteClient,
        name: String,
        external: Vec<(String, String)>,
    ) -> Result<Slot> {
        if cfg.round_robin_dns {
            tracing::warn!(queue = %name, "round_robin_dns is not supported; ignored");
        }
        let path = self.progress_path(&name);
        let queue = QueueManager::start(
            &self.storage,
            cfg,
            client,
            name,
            path,
            external.clone(),
            &self.opts,
            &self.rt,
        )?;
        Ok(Slot::Running {
            cfg: Box::new(cfg.clone()),
            external,
            queue: Arc::new(queue),
        })
    }

    fn progress_path(&self, name: &str) -> std::path::PathBuf {
        self.storage
            .dir()
            .join("remote")
            .join(progress_file_name(name))
    }

    fn running(&self) -> Vec<Arc<QueueManager>> {
        self.slots
            .read()
            .iter()
            .filter_map(|s| s.running().cloned())
            .collect()
    }

    /// The queue names, in configuration order (queues that could not be built too).
    pub fn queue_names(&self) -> Vec<String> {
        self.slots
            .read()
            .iter()
            .map(|s| s.name().to_string())
            .collect()
    }

    /// Queues that could not be built, with the reason.
    pub fn failed_queues(&self) -> Vec<(String, String)> {
        self.slots
            .read()
            .iter()
            .filter_map(|s| match s {
                Slot::Failed { name, error, .. } => Some((name.clone(), error.clone())),
                Slot::Running { .. } => None,
            })
            .collect()
    }

    fn find(&self, name: &str) -> Option<Arc<QueueManager>> {
        self.running().into_iter().find(|q| q.core.name == name)
    }

    /// The WAL position up to which queue `name` has everything acknowledged.
    pub fn acked_position(&self, name: &str) -> Option<WalPosition> {
        self.find(name).map(|q| q.core.tracker.acked())
    }

    /// Current number of shards of queue `name`.
    pub fn shards(&self, name: &str) -> Option<usize> {
        self.find(name).map(|q| q.core.shards.current().len())
    }

    /// Writes the queues' self metrics in the text format.
    pub fn render(&self, out: &mut String) {
        let running = self.running();
        let cores: Vec<&queue::QueueCore> = running.iter().map(|q| q.core.as_ref()).collect();
        qmetrics::render(out, &cores);
    }

    /// Stops every queue: no more reading, what is queued is sent within the flush
    /// deadline, the rest stays in the WAL for the next start. Idempotent.
    pub async fn shutdown(&self) {
        let _serial = self.applying.lock().await;
        self.closed.store(true, Ordering::SeqCst);
        let running = self.running();
        futures::future::join_all(running.iter().map(|q| q.shutdown())).await;
    }
}

impl WalConsumers for RemoteWrite {
    fn needed_segments(&self) -> Vec<(String, u32)> {
        let mut v = Vec::new();
        for s in self.slots.read().iter() {
            match s {
                Slot::Running { queue, .. } => {
                    v.push((queue.core.name.clone(), queue.core.tracker.acked().segment));
                }
                Slot::Failed { name, pin, .. } => v.push((name.clone(), *pin)),
            }
        }
        v
    }

    fn dropped_for_age(&self, name: &str, samples: u64) {
        if let Some(q) = self.find(name) {
            q.core.metrics.dropped_truncated.add(samples);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn file_names_are_safe_and_distinct() {
        assert_eq!(progress_file_name("central"), "central");
        let a = progress_file_name("a/b");
        let b = progress_file_name("a_b");
        assert!(a.starts_with("a_b-") && a != b, "{a}");
        assert!(progress_file_name("..").starts_with("..-"));
    }
}
