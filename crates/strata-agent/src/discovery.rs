//! Service discovery of the agent: one task per scrape job with file or Kubernetes
//! discovery. Providers send only the groups that changed (replaced by `source`, an
//! empty group removes its source); the task keeps the job's full set and hands it to
//! [`ScrapeManager::update_targets`], at most once per update interval (Prometheus'
//! discovery manager sends every 5 s). Static targets come from the configuration
//! through the scrape manager.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use strata_config::Config;
use strata_config::discovery::ServiceDiscovery;
use strata_discovery::{TargetGroup, run_providers};
use strata_scrape::ScrapeManager;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Messages from a job's providers waiting to be merged.
const JOB_BUFFER: usize = 64;

/// The discovery a job runs: its service discovery without `static_configs`; `None`
/// when there is nothing to run.
fn dynamic(sd: &ServiceDiscovery) -> Option<ServiceDiscovery> {
    if sd.file_sd_configs.is_empty()
        && sd.kubernetes_sd_configs.is_empty()
        && sd.unsupported.is_empty()
    {
        return None;
    }
    Some(ServiceDiscovery {
        static_configs: Vec::new(),
        ..sd.clone()
    })
}

struct JobTask {
    sd: ServiceDiscovery,
    handle: JoinHandle<()>,
}

/// The running discovery tasks, by job.
#[derive(Default)]
pub(crate) struct DiscoveryTasks {
    jobs: HashMap<String, JobTask>,
}

impl DiscoveryTasks {
    /// Starts, restarts (changed discovery) and stops tasks to match `cfg`. Must run
    /// after the scrape manager has the config (it ignores updates for unknown jobs).
    pub async fn apply(&mut self, cfg: &Config, scrape: &Arc<ScrapeManager>, every: Duration) {
        let wanted: BTreeMap<&str, Option<ServiceDiscovery>> = cfg
            .scrape_configs
            .iter()
            .map(|c| (c.job_name.as_str(), dynamic(&c.service_discovery)))
            .collect();
        let gone: Vec<String> = self
            .jobs
            .keys()
            .filter(|j| !matches!(wanted.get(j.as_str()), Some(Some(_))))
            .cloned()
            .collect();
        for job in gone {
            if let Some(t) = self.jobs.remove(&job) {
                t.handle.abort();
                let _ = t.handle.await;
            }
            // A job that stays but no longer discovers anything keeps only its static
            // targets.
            if wanted.contains_key(job.as_str()) {
                scrape.update_targets(&job, Vec::new()).await;
            }
        }
        for (job, sd) in wanted {
            let Some(sd) = sd else { continue };
            if self.jobs.get(job).is_some_and(|t| t.sd == sd) {
                continue;
            }
            if let Some(old) = self.jobs.remove(job) {
                old.handle.abort();
                let _ = old.handle.await;
                tracing::info!(job, "service discovery changed; restarting its providers");
            }
            let handle = tokio::spawn(run_job(job.to_owned(), sd.clone(), scrape.clone(), every));
            self.jobs.insert(job.to_owned(), JobTask { sd, handle });
        }
    }

    /// Stops every task.
    pub async fn stop(&mut self) {
        for (_, t) in self.jobs.drain() {
            t.handle.abort();
            let _ = t.handle.await;
        }
    }
}

/// Applies changed groups to a job's full set.
fn merge(groups: &mut BTreeMap<String, TargetGroup>, update: Vec<TargetGroup>) {
    for g in update {
        if g.targets.is_empty() {
            groups.remove(&g.source);
        } else {
            groups.insert(g.source.clone(), g);
        }
    }
}

/// Runs the providers of one job and feeds the scrape manager.
async fn run_job(job: String, sd: ServiceDiscovery, scrape: Arc<ScrapeManager>, every: Duration) {
    let (tx, mut rx) = mpsc::channel::<Vec<TargetGroup>>(JOB_BUFFER);
    let providers = run_providers(&sd, tx);
    let feed = async move {
        let mut groups = BTreeMap::new();
        // The first set goes out when the first update arrives, or after one interval
        // even if none did: a restarted job then drops the groups of its old providers.
        let first = tokio::time::sleep(every);
        tokio::pin!(first);
        tokio::select! {
            update = rx.recv() => match update {
                Some(u) => merge(&mut groups, u),
                None => return,
            },
            () = &mut first => {}
        }
        loop {
            while let Ok(more) = rx.try_recv() {
                merge(&mut groups, more);
            }
            let n: usize = groups.values().map(|g| g.targets.len()).sum();
            tracing::debug!(job = %job, groups = groups.len(), targets = n, "discovered targets updated");
            scrape
                .update_targets(&job, groups.values().cloned().collect())
                .await;
            // At most one update per interval; what arrives meanwhile is merged.
            tokio::time::sleep(every).await;
            match rx.recv().await {
                Some(u) => merge(&mut groups, u),
                None => return,
            }
        }
    };
    tokio::join!(providers, feed);
}

#[cfg(test)]
mod tests {
    use super::*;
    use strata_discovery::LabelSet;

    fn group(source: &str, addrs: &[&str]) -> TargetGroup {
        TargetGroup {
            source: source.into(),
            targets: addrs
                .iter()
                .map(|a| LabelSet::from([("__address__".to_owned(), (*a).to_owned())]))
                .collect(),
            labels: LabelSet::new(),
        }
    }

    #[test]
    fn changed_groups_replace_by_source_and_empty_ones_remove() {
        let mut all = BTreeMap::new();
        merge(&mut all, vec![group("a", &["x:1"]), group("b", &["y:1"])]);
        merge(&mut all, vec![group("a", &["x:2", "x:3"])]);
        assert_eq!(all.len(), 2);
        assert_eq!(all["a"].targets.len(), 2);
        merge(&mut all, vec![TargetGroup::empty("b")]);
        assert_eq!(all.keys().collect::<Vec<_>>(), ["a"]);
    }

    #[test]
    fn static_only_jobs_run_no_discovery() {
        let sd = ServiceDiscovery::default();
        assert!(dynamic(&sd).is_none());
    }
}
