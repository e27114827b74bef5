//! Reloading the `remote_write` section (Prometheus' `WriteStorage.ApplyConfig`):
//! unchanged queues keep running; changed ones are stopped (flushing within the flush
//! deadline) and started again from their progress file, so nothing they had not sent is
//! lost; removed ones stop; new ones start at the end of the WAL.
//!
//! A queue whose new configuration cannot be built (missing TLS file, unsupported
//! option) keeps running with its old configuration; a new queue that cannot be built is
//! kept as failed: the WAL is kept for it from where it would have started, and the next
//! reload tries again.

use std::sync::Arc;

use strata_config::RemoteWriteConfig;
use strata_model::Labels;

use super::client::WriteClient;
use super::progress::ProgressFile;
use super::queue::QueueManager;
use super::{RemoteWrite, Slot, external_pairs, unique_names};
use crate::error::{Error, Result};

/// What happens to one configured queue.
enum Plan {
    /// Unchanged and running: the old slot (by index) is kept.
    Keep(usize),
    /// (Re)start with this client, after stopping the old queue if there is one.
    Start {
        client: WriteClient,
        old: Option<usize>,
    },
    /// Cannot be built: keep the old running queue (by index) or record the failure.
    Fail { error: String, old: Option<usize> },
}

impl RemoteWrite {
    /// Applies a reloaded `remote_write` section and external labels (see the module
    /// docs of `reconfigure`). Returns an error naming every queue that could not be
    /// (re)built; everything else is applied.
    pub async fn apply_config(
        &self,
        configs: &[RemoteWriteConfig],
        external_labels: &Labels,
    ) -> Result<()> {
        let _serial = self.applying.lock().await;
        if self.closed.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(Error::Closed);
        }
        let names = unique_names(configs)?;
        let external = external_pairs(external_labels);

        // Plan against the current slots.
        let (plans, stop): (Vec<Plan>, Vec<Arc<QueueManager>>) = {
            let slots = self.slots.read();
            let mut plans = Vec::with_capacity(configs.len());
            let mut kept = vec![false; slots.len()];
            for (cfg, name) in configs.iter().zip(&names) {
                let old = slots.iter().position(|s| s.name() == name);
                if let Some(i) = old {
                    kept[i] = true;
                }
                let unchanged = old.is_some_and(|i| {
                    matches!(&slots[i], Slot::Running { cfg: c, external: e, .. } if **c == *cfg && *e == external)
                });
                if let (true, Some(i)) = (unchanged, old) {
                    plans.push(Plan::Keep(i));
                    continue;
                }
                let old_running = old.filter(|&i| matches!(slots[i], Slot::Running { .. }));
                plans.push(match WriteClient::new(name, cfg) {
                    Ok(client) => Plan::Start { client, old },
                    Err(e) => Plan::Fail {
                        error: e.to_string(),
                        old: old_running,
                    },
                });
            }
            // Queues to stop: removed ones, and running ones that are restarted.
            let mut stop = Vec::new();
            for (i, s) in slots.iter().enumerate() {
                let restarted = plans
                    .iter()
                    .any(|p| matches!(p, Plan::Start { old: Some(o), .. } if *o == i));
                if (!kept[i] || restarted)
                    && let Some(q) = s.running()
                {
                    stop.push(q.clone());
                }
            }
            (plans, stop)
        };

        // Stopped queues stay in the slots (so truncation keeps what they need) until
        // the new slots replace them; their final progress is stored by `shutdown`.
        for q in &stop {
            tracing::info!(queue = %q.core.name, "stopping remote-write queue for reload");
        }
        futures::future::join_all(stop.iter().map(|q| q.shutdown())).await;

        let mut errors = Vec::new();
        let mut new_slots = Vec::with_capacity(configs.len());
        let old_slots: Vec<Option<Slot>> = {
            let mut slots = self.slots.write();
            std::mem::take(&mut *slots).into_iter().map(Some).collect()
        };
        let mut old_slots = old_slots;
        let mut take = |i: usize| old_slots.get_mut(i).and_then(Option::take);
        for ((plan, cfg), name) in plans.into_iter().zip(configs).zip(names) {
            match plan {
                Plan::Keep(i) => {
                    if let Some(s) = take(i) {
                        new_slots.push(s);
                    }
                }
                Plan::Start { client, old } => {
                    let previous_pin = old.and_then(&mut take).and_then(|s| match s {
                        Slot::Failed { pin, .. } => Some(pin),
                        Slot::Running { .. } => None,
                    });
                    match self.start_queue(cfg, client, name.clone(), external.clone()) {
                        Ok(s) => new_slots.push(s),
                        Err(e) => {
                            tracing::error!(queue = %name, error = %e, "cannot start remote-write queue");
                            errors.push(e.to_string());
                            let pin = previous_pin.unwrap_or_else(|| self.pin_failed(&name));
                            new_slots.push(Slot::Failed {
                                name,
                                error: e.to_string(),
                                pin,
                            });
                        }
                    }
                }
                Plan::Fail { error, old } => {
                    errors.push(error.clone());
                    match old.and_then(&mut take) {
                        Some(running) => {
                            tracing::error!(queue = %name, error = %error, "cannot apply the new remote-write configuration; the queue keeps its old one");
                            new_slots.push(running);
                        }
                        None => {
                            tracing::error!(queue = %name, error = %error, "cannot start remote-write queue; the WAL is kept for it until a reload succeeds or the max retention time passes");
                            let pin = self.pin_failed(&name);
                            new_slots.push(Slot::Failed { name, error, pin });
                        }
                    }
                }
            }
        }
        *self.slots.write() = new_slots;
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Error::Apply(errors.join("; ")))
        }
    }

    /// The segment to keep for a queue that cannot start: where its progress file
    /// says (written at the end of the WAL now if there is none, so the queue starts
    /// there once it can).
    fn pin_failed(&self, name: &str) -> u32 {
        let progress = ProgressFile::new(self.progress_path(name));
        if let Some(p) = progress.load() {
            return p.segment;
        }
        match self.storage.wal_end() {
            Ok(end) => {
                if let Err(e) = progress.store(end, true) {
                    tracing::warn!(queue = %name, error = %e, "cannot write remote-write progress");
                }
                end.segment
            }
            Err(_) => self.storage.first_segment(),
        }
    }
}
