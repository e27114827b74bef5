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
mod sender;
mod shards;
mod tail;
mod watcher;

use std::collections::BTreeSet;
use std::time::Duration;

use strata_config::RemoteWriteConfig;
use strata_model::Labels;

use crate::error::{Error, Result};
use crate::storage::{AgentStorage, WalConsumers};
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

/// All remote-write queues of the agent.
pub struct RemoteWrite {
    queues: Vec<QueueManager>,
}

impl RemoteWrite {
    /// Starts one queue per entry of `configs` over `storage`. `external_labels` are
    /// added to every series sent (series labels win; with `write_relabel_configs` they
    /// are added before relabeling, as Prometheus does). Must be called inside a tokio
    /// runtime, which runs the senders; every queue also has a watcher thread.
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
        let external: Vec<(String, String)> = external_labels
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        let mut names = BTreeSet::new();
        let mut queues = Vec::with_capacity(configs.len());
        for cfg in configs {
            let name = queue_name(cfg);
            if !names.insert(name.clone()) {
                return Err(Error::RemoteConfig {
                    name,
                    reason: "duplicate remote write queue name (set distinct `name`s)".into(),
                });
            }
            if cfg.round_robin_dns {
                tracing::warn!(queue = %name, "round_robin_dns is not supported; ignored");
            }
            let path = storage.dir().join("remote").join(progress_file_name(&name));
            queues.push(QueueManager::start(
                storage,
                cfg,
                name,
                path,
                external.clone(),
                &opts,
                &rt,
            )?);
        }
        Ok(RemoteWrite { queues })
    }

    /// The queue names, in configuration order.
    pub fn queue_names(&self) -> Vec<String> {
        self.queues.iter().map(|q| q.core.name.clone()).collect()
    }

    /// The WAL position up to which queue `name` has everything acknowledged.
    pub fn acked_position(&self, name: &str) -> Option<WalPosition> {
        self.queues
            .iter()
            .find(|q| q.core.name == name)
            .map(|q| q.core.tracker.acked())
    }

    /// Current number of shards of queue `name`.
    pub fn shards(&self, name: &str) -> Option<usize> {
        self.queues
            .iter()
            .find(|q| q.core.name == name)
            .map(|q| q.core.shards.current().len())
    }

    /// Writes the queues' self metrics in the text format.
    pub fn render(&self, out: &mut String) {
        let cores: Vec<&queue::QueueCore> = self.queues.iter().map(|q| q.core.as_ref()).collect();
        qmetrics::render(out, &cores);
    }

    /// Stops every queue: no more reading, what is queued is sent within the flush
    /// deadline, the rest stays in the WAL for the next start. Idempotent.
    pub async fn shutdown(&self) {
        futures::future::join_all(self.queues.iter().map(|q| q.shutdown())).await;
    }
}

impl WalConsumers for RemoteWrite {
    fn needed_segments(&self) -> Vec<(String, u32)> {
        self.queues
            .iter()
            .map(|q| (q.core.name.clone(), q.core.tracker.acked().segment))
            .collect()
    }

    fn dropped_for_age(&self, name: &str, samples: u64) {
        if let Some(q) = self.queues.iter().find(|q| q.core.name == name) {
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
