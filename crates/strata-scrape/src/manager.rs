//! The scrape manager: one pool per scrape config, fed by the configuration and by
//! service discovery (Prometheus' `scrape.Manager`).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use parking_lot::RwLock;
use strata_config::Config;
use strata_discovery::TargetGroup;
use strata_model::Labels;
use strata_model::clock::{SharedClock, system_clock};
use tokio::sync::{Mutex, watch};
use tokio::task::JoinSet;

use crate::appender::Appendable;
use crate::error::{Error, Result};
use crate::pool::{LoopEnv, ScrapePool};
use crate::target::{Target, fnv1a64};

/// Settings of a [`ScrapeManager`] that do not come from the configuration file.
#[derive(Debug, Clone)]
pub struct ScrapeOptions {
    /// Source of scrape timestamps.
    pub clock: SharedClock,
    /// Mixed into each target's jitter; `None` derives it from the host name and the
    /// external labels as Prometheus does, so replicas scrape at different times.
    pub offset_seed: Option<u64>,
    /// Start every loop's first scrape at once instead of at its jittered phase (tests).
    pub skip_jitter: bool,
    /// `User-Agent` of scrape requests.
    pub user_agent: String,
}

impl Default for ScrapeOptions {
    fn default() -> Self {
        ScrapeOptions {
            clock: system_clock(),
            offset_seed: None,
            skip_jitter: false,
            user_agent: format!("Strata/{}", env!("CARGO_PKG_VERSION")),
        }
    }
}

/// Active and dropped targets, per job (for `/api/v1/targets`).
#[derive(Debug, Clone, Default)]
pub struct TargetsSnapshot {
    /// Live handles: [`Target::status`] reflects the latest scrape.
    pub active: BTreeMap<String, Vec<Arc<Target>>>,
    /// Discovered labels of targets dropped by relabeling (at most
    /// `keep_dropped_targets` per job when that is set).
    pub dropped: BTreeMap<String, Vec<Labels>>,
    /// How many targets were dropped, kept or not.
    pub dropped_counts: BTreeMap<String, usize>,
}

struct State {
    pools: BTreeMap<String, ScrapePool>,
    /// Latest groups from discovery per job.
    discovered: HashMap<String, Vec<TargetGroup>>,
    tasks: JoinSet<()>,
    offset_seed: u64,
    stopped: bool,
}

/// Runs the scrape loops of every scrape config against one storage.
pub struct ScrapeManager {
    storage: Arc<dyn Appendable>,
    options: ScrapeOptions,
    shutdown_tx: watch::Sender<bool>,
    shutdown_rx: watch::Receiver<bool>,
    state: Mutex<State>,
    snapshot: RwLock<TargetsSnapshot>,
}

/// The host name as the kernel reports it (Prometheus uses the FQDN).
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_owned())
        .or_else(|_| std::env::var("HOSTNAME"))
        .unwrap_or_default()
}

/// Prometheus' `setOffsetSeed`: FNV-1a of the host name and the external labels.
pub fn offset_seed(host: &str, external_labels: &BTreeMap<String, String>) -> u64 {
    let pairs: Vec<(&str, &str)> = external_labels
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let labels = Labels::new(&pairs).unwrap_or_default();
    fnv1a64(&[host.as_bytes(), labels.to_string().as_bytes()])
}

impl ScrapeManager {
    /// A manager with no scrape configs; call [`ScrapeManager::apply_config`]. Must be
    /// created inside a tokio runtime (loops are spawned on it).
    pub fn new(storage: Arc<dyn Appendable>, options: ScrapeOptions) -> Self {
        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        ScrapeManager {
            storage,
            shutdown_tx,
            shutdown_rx,
            state: Mutex::new(State {
                pools: BTreeMap::new(),
                discovered: HashMap::new(),
                tasks: JoinSet::new(),
                offset_seed: options.offset_seed.unwrap_or(0),
                stopped: false,
            }),
            options,
            snapshot: RwLock::new(TargetsSnapshot::default()),
        }
    }

    fn env<'a>(&'a self, st: &'a mut State) -> (LoopEnv<'a>, &'a mut BTreeMap<String, ScrapePool>) {
        let env = LoopEnv {
            storage: &self.storage,
            clock: &self.options.clock,
            user_agent: &self.options.user_agent,
            offset_seed: st.offset_seed,
            skip_jitter: self.options.skip_jitter,
            shutdown: &self.shutdown_rx,
            tasks: &mut st.tasks,
        };
        (env, &mut st.pools)
    }

    /// Applies a (re)loaded configuration: pools of removed jobs stop (no stale markers,
    /// as in Prometheus), new jobs start with their static targets and any discovered
    /// groups, changed jobs reload (see [`crate`] docs). Jobs whose HTTP client cannot
    /// be built are reported in the error; the rest is applied.
    pub async fn apply_config(&self, cfg: &Config) -> Result<()> {
        let mut st = self.state.lock().await;
        if st.stopped {
            return Ok(());
        }
        if self.options.offset_seed.is_none() {
            st.offset_seed = offset_seed(&hostname(), &cfg.global.external_labels);
        }
        let wanted: BTreeMap<&str, &strata_config::ScrapeConfig> = cfg
            .scrape_configs
            .iter()
            .map(|c| (c.job_name.as_str(), c))
            .collect();
        let gone: Vec<String> = st
            .pools
            .keys()
            .filter(|j| !wanted.contains_key(j.as_str()))
            .cloned()
            .collect();
        for job in gone {
            if let Some(mut p) = st.pools.remove(&job) {
                p.stop_all().await;
            }
            st.discovered.remove(&job);
            tracing::info!(job = %job, "scrape pool stopped");
        }
        let mut failures = Vec::new();
        for (job, sc) in wanted {
            let sc = Arc::new(sc.clone());
            let discovered = st.discovered.get(job).cloned().unwrap_or_default();
            let (env, pools) = self.env(&mut st);
            match pools.get_mut(job) {
                Some(pool) => {
                    if let Err(e) = pool.reload(sc, env).await {
                        failures.push(Error::HttpClient {
                            job: job.to_owned(),
                            reason: e,
                        });
                    }
                }
                None => match ScrapePool::new(sc) {
                    Ok(mut pool) => {
                        pool.set_discovered(discovered);
                        pool.sync(env, None).await;
                        pools.insert(job.to_owned(), pool);
                    }
                    Err(e) => failures.push(Error::HttpClient {
                        job: job.to_owned(),
                        reason: e,
                    }),
                },
            }
        }
        self.publish(&mut st);
        if failures.is_empty() {
            Ok(())
        } else {
            for f in &failures {
                tracing::error!(err = %f, "error reloading scrape pool");
            }
            let msg: Vec<String> = failures.iter().map(|e| e.to_string()).collect();
            Err(Error::Apply(msg.join("; ")))
        }
    }

    /// Replaces the discovered target groups of `job` (the full set from every
    /// discovery mechanism but `static_configs`, which the manager takes from the
    /// config) and syncs its targets. Groups for unknown jobs are ignored.
    pub async fn update_targets(&self, job: &str, groups: Vec<TargetGroup>) {
        let mut st = self.state.lock().await;
        if st.stopped {
            return;
        }
        if !st.pools.contains_key(job) {
            tracing::warn!(job, "target groups for an unknown scrape pool ignored");
            return;
        }
        st.discovered.insert(job.to_owned(), groups.clone());
        let (env, pools) = self.env(&mut st);
        if let Some(pool) = pools.get_mut(job) {
            pool.set_discovered(groups);
            pool.sync(env, None).await;
        }
        self.publish(&mut st);
    }

    /// Stops every loop (no stale markers: the process is going away and will resume
    /// where it was) and waits for them.
    pub async fn stop(&self) {
        let _ = self.shutdown_tx.send(true);
        let mut st = self.state.lock().await;
        st.stopped = true;
        let pools = std::mem::take(&mut st.pools);
        for (_, mut p) in pools {
            p.stop_all().await;
        }
        while st.tasks.join_next().await.is_some() {}
        self.publish(&mut st);
    }

    /// The jobs with a running pool.
    pub fn scrape_pools(&self) -> Vec<String> {
        self.snapshot.read().active.keys().cloned().collect()
    }

    /// Active and dropped targets as of the last sync; statuses are live.
    pub fn targets(&self) -> TargetsSnapshot {
        self.snapshot.read().clone()
    }

    fn publish(&self, st: &mut State) {
        // Reap loops that have finished (end-of-run stale markers written).
        while st.tasks.try_join_next().is_some() {}
        let mut snap = TargetsSnapshot::default();
        for (job, p) in &st.pools {
            snap.active.insert(job.clone(), p.active());
            snap.dropped.insert(job.clone(), p.dropped.clone());
            snap.dropped_counts.insert(job.clone(), p.dropped_count);
        }
        *self.snapshot.write() = snap;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offset_seed_depends_on_host_and_external_labels() {
        let mut ext = BTreeMap::new();
        let a = offset_seed("host", &ext);
        ext.insert("replica".to_owned(), "1".to_owned());
        let b = offset_seed("host", &ext);
        assert_ne!(a, b);
        assert_eq!(a, fnv1a64(&[b"host{}"]));
        assert_eq!(b, fnv1a64(&[b"host{replica=\"1\"}"]));
    }
}

#[cfg(test)]
mod send_tests {
    use super::*;

    fn send<T: Send>(_: &T) {}
    fn send_sync<T: Send + Sync>() {}

    /// The agent shares the manager and spawns its futures.
    #[allow(dead_code)]
    fn futures_are_send(m: &ScrapeManager, cfg: &Config) {
        send_sync::<ScrapeManager>();
        send(&m.apply_config(cfg));
        send(&m.update_targets("job", Vec::new()));
        send(&m.stop());
    }
}
