//! Integration tests of strata-discovery: Kubernetes SD against a scripted API server
//! serving recorded responses (expectations from Prometheus' `discovery/kubernetes`
//! tests), file SD against temporary files, and the job-level runner.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "discovery/fake_api.rs"]
mod fake_api;
#[path = "discovery/file_sd.rs"]
mod file_sd;
#[path = "discovery/k8s_client.rs"]
mod k8s_client;
#[path = "discovery/k8s_endpoints.rs"]
mod k8s_endpoints;
#[path = "discovery/k8s_endpointslice.rs"]
mod k8s_endpointslice;
#[path = "discovery/k8s_node_ingress.rs"]
mod k8s_node_ingress;
#[path = "discovery/k8s_pod.rs"]
mod k8s_pod;
#[path = "discovery/k8s_service.rs"]
mod k8s_service;
#[path = "discovery/providers.rs"]
mod providers;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use strata_config::discovery::ServiceDiscovery;
use strata_config::discovery::kubernetes::KubernetesSdConfig;
use strata_discovery::kubernetes::KubernetesDiscovery;
use strata_discovery::{LabelSet, TargetGroup};
use tokio::sync::mpsc;

/// How long a test waits for an expected state.
const WAIT: Duration = Duration::from_secs(10);

/// The text of a file under `tests/fixtures`.
pub fn fixture_text(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A label set from literal pairs.
pub fn ls(pairs: &[(&str, &str)]) -> LabelSet {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// A group as Prometheus' tests write it.
pub fn group(source: &str, labels: LabelSet, targets: Vec<LabelSet>) -> TargetGroup {
    TargetGroup {
        source: source.to_owned(),
        targets,
        labels,
    }
}

/// The expected state: the last group seen per source.
pub fn state(groups: Vec<TargetGroup>) -> BTreeMap<String, TargetGroup> {
    groups.into_iter().map(|g| (g.source.clone(), g)).collect()
}

/// Receives updates and keeps the last group per source (empty groups included, as
/// Prometheus' tests keep them).
pub struct Collector {
    rx: mpsc::Receiver<Vec<TargetGroup>>,
    pub groups: BTreeMap<String, TargetGroup>,
    pub messages: Vec<Vec<TargetGroup>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Collector {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Collector {
    /// Runs `fut` (a provider feeding `tx`) in a task and collects what it sends.
    pub fn spawn<F>(make: impl FnOnce(strata_discovery::Updates) -> F) -> Collector
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        let (tx, rx) = mpsc::channel(16);
        let task = tokio::spawn(make(tx));
        Collector {
            rx,
            groups: BTreeMap::new(),
            messages: Vec::new(),
            task,
        }
    }

    /// Waits until the collected state equals `expected`.
    pub async fn wait_for(&mut self, expected: &BTreeMap<String, TargetGroup>) {
        let deadline = tokio::time::Instant::now() + WAIT;
        while &self.groups != expected {
            match tokio::time::timeout_at(deadline, self.rx.recv()).await {
                Ok(Some(groups)) => {
                    for g in &groups {
                        self.groups.insert(g.source.clone(), g.clone());
                    }
                    self.messages.push(groups);
                }
                Ok(None) => panic!("provider ended; state: {:#?}", self.groups),
                Err(_) => {
                    for (k, want) in expected {
                        match self.groups.get(k) {
                            Some(got) if got == want => {}
                            got => eprintln!("source {k}:\n  want {want:#?}\n  got  {got:#?}"),
                        }
                    }
                    for k in self.groups.keys().filter(|k| !expected.contains_key(*k)) {
                        eprintln!("unexpected source {k}: {:#?}", self.groups[k]);
                    }
                    panic!("timed out waiting for the expected target groups");
                }
            }
        }
    }

    /// Asserts that nothing arrives for a short while.
    pub async fn assert_quiet(&mut self) {
        if let Ok(Some(groups)) =
            tokio::time::timeout(Duration::from_millis(300), self.rx.recv()).await
        {
            panic!("unexpected update: {groups:#?}");
        }
    }
}

/// The service discovery of a one-job configuration.
pub fn job_sd(yaml_job_body: &str) -> ServiceDiscovery {
    let yaml = format!("scrape_configs:\n- job_name: test\n{yaml_job_body}");
    let mut cfg = strata_config::parse_with_env(&yaml, |_| String::new())
        .unwrap_or_else(|e| panic!("{e}\n{yaml}"));
    cfg.scrape_configs.remove(0).service_discovery
}

/// One `kubernetes_sd_configs` entry pointing at `api` (`extra` is indented YAML of
/// further keys).
pub fn k8s_config(api: &str, role: &str, extra: &str) -> KubernetesSdConfig {
    let body =
        format!("  kubernetes_sd_configs:\n  - api_server: {api}\n    role: {role}\n{extra}");
    job_sd(&body).kubernetes_sd_configs.remove(0)
}

/// Starts the discovery of `cfg` and collects its updates.
pub fn start_k8s(cfg: &KubernetesSdConfig) -> Collector {
    let d = KubernetesDiscovery::new(cfg)
        .unwrap()
        .with_retry_delay(Duration::from_millis(20));
    Collector::spawn(|tx| d.run(tx))
}
