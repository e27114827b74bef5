//! `kubernetes_sd_configs`: target groups from the Kubernetes API (Prometheus'
//! `discovery/kubernetes`), over plain HTTP list + watch.
//!
//! One discovery runs a watcher per watched kind and namespace (the role's own kind,
//! the kinds whose labels it attaches: services and pods for endpoints/endpointslice,
//! nodes, namespaces, replica sets and jobs per `attach_metadata`). Watchers feed one
//! task that keeps the objects, works out which groups a change affects, and, once
//! every watcher has listed, sends the rebuilt groups in one message per burst of
//! events. Sources and labels are Prometheus': `pod/<ns>/<name>`, `svc/<ns>/<name>`,
//! `endpoints/<ns>/<name>`, `endpointslice/<ns>/<name>`, `node/<name>`,
//! `ingress/<ns>/<name>`.

mod cache;
mod client;
mod connect;
mod kubeconfig;
mod labels;
mod objects;
mod roles;
mod state;
mod watch;

use std::time::Duration;

use strata_config::discovery::kubernetes::{AttachMetadata, KubernetesRole, KubernetesSdConfig};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use self::cache::Kind;
use self::client::ApiClient;
use self::state::State;
use self::watch::{Timing, WatchSpec};
use crate::Updates;
use crate::error::Result;

/// Events buffered between the watchers and the discovery task.
const EVENT_BUFFER: usize = 1024;
/// At most this many events are applied before the changed groups are sent.
const MAX_BATCH: usize = 4096;

/// One `kubernetes_sd_configs` entry, connected (not yet running).
#[derive(Debug)]
pub struct KubernetesDiscovery {
    role: KubernetesRole,
    attach: AttachMetadata,
    client: ApiClient,
    watchers: Vec<WatchSpec>,
    timing: Timing,
}

impl KubernetesDiscovery {
    /// Prepares the discovery of `cfg`: reads the kubeconfig, the in-cluster service
    /// account or the HTTP client settings and builds the client. Fails as Prometheus'
    /// `kubernetes.New` does (no in-cluster environment, unreadable files, bad
    /// certificates) and on what is not supported (OAuth2, secret references,
    /// kubeconfig exec plugins).
    pub fn new(cfg: &KubernetesSdConfig) -> Result<Self> {
        let (settings, own_namespace) = connect::settings(cfg)?;
        let client = ApiClient::new(settings)?;
        let namespaces = namespaces(cfg, own_namespace);
        let mut watchers = Vec::new();
        for kind in roles::watched_kinds(cfg.role, &cfg.attach_metadata) {
            let (label_selector, field_selector) = selectors(cfg, kind);
            let scopes: Vec<String> = if kind.cluster_scoped() {
                vec![String::new()]
            } else {
                namespaces.clone()
            };
            for namespace in scopes {
                let spec = WatchSpec {
                    kind,
                    namespace,
                    label_selector: label_selector.clone(),
                    field_selector: field_selector.clone(),
                };
                if !watchers.contains(&spec) {
                    watchers.push(spec);
                }
            }
        }
        Ok(KubernetesDiscovery {
            role: cfg.role,
            attach: cfg.attach_metadata.clone(),
            client,
            watchers,
            timing: Timing::default(),
        })
    }

    /// Changes the first delay after a failed request (default 800ms, doubling up to
    /// 30s).
    pub fn with_retry_delay(mut self, delay: Duration) -> Self {
        self.timing.min_backoff = delay;
        self.timing.max_backoff = self.timing.max_backoff.max(delay);
        self
    }

    /// Lists and watches until the receiver of `tx` is gone (or the future is dropped,
    /// which stops every watcher).
    pub async fn run(self, tx: Updates) {
        let (events_tx, mut events) = mpsc::channel(EVENT_BUFFER);
        let mut tasks = JoinSet::new();
        let scopes: Vec<(Kind, String)> = self
            .watchers
            .iter()
            .map(|w| (w.kind, w.namespace.clone()))
            .collect();
        for spec in self.watchers {
            tasks.spawn(watch::run(
                self.client.clone(),
                spec,
                self.timing,
                events_tx.clone(),
            ));
        }
        drop(events_tx);
        let mut state = State::new(self.role, self.attach, &scopes);
        loop {
            let ev = tokio::select! {
                ev = events.recv() => ev,
                _ = tx.closed() => return,
            };
            let Some(ev) = ev else {
                return;
            };
            state.apply(ev);
            for _ in 1..MAX_BATCH {
                match events.try_recv() {
                    Ok(ev) => state.apply(ev),
                    Err(_) => break,
                }
            }
            let groups = state.flush();
            if !groups.is_empty() && tx.send(groups).await.is_err() {
                return;
            }
        }
    }
}

/// Prometheus' `getNamespaces`: the listed names (plus the own namespace), or all.
fn namespaces(cfg: &KubernetesSdConfig, own: Option<String>) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for n in cfg.namespaces.names.iter().cloned().chain(own) {
        if !names.contains(&n) {
            names.push(n);
        }
    }
    if names.is_empty() {
        // All namespaces (also when own_namespace is set but unknown).
        names.push(String::new());
    }
    names
}

/// The label and field selectors configured for the role matching `kind`.
fn selectors(cfg: &KubernetesSdConfig, kind: Kind) -> (String, String) {
    use KubernetesRole as R;
    let role = match kind {
        Kind::Pod => R::Pod,
        Kind::Service => R::Service,
        Kind::Endpoints => R::Endpoints,
        Kind::EndpointSlice => R::EndpointSlice,
        Kind::Node => R::Node,
        Kind::Ingress => R::Ingress,
        Kind::Namespace | Kind::ReplicaSet | Kind::Job => return Default::default(),
    };
    cfg.selectors
        .iter()
        .find(|s| s.role == role)
        .map(|s| {
            (
                s.label.clone().unwrap_or_default(),
                s.field.clone().unwrap_or_default(),
            )
        })
        .unwrap_or_default()
}
