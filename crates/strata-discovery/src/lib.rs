//! Service discovery as Prometheus does it: each provider (static, file, Kubernetes)
//! produces target groups; the scrape manager relabels them into targets.
//!
//! - [`file::FileDiscovery`]: `file_sd_configs` (JSON/YAML files, globs, polling).
//! - [`kubernetes::KubernetesDiscovery`]: `kubernetes_sd_configs` (list + watch against
//!   the API server, roles pod, service, endpoints, endpointslice, node, ingress).
//! - [`JobDiscovery`] / [`run_providers`]: everything of one scrape job behind one
//!   channel, with sources made unique per provider.
//!
//! Every provider sends *changed* groups: a group replaces the earlier group with the
//! same `source`, and a group without targets removes it.

pub mod error;
pub mod file;
pub mod kubernetes;
mod providers;

use std::collections::BTreeMap;

pub use error::{Error, Result};
pub use providers::{JobDiscovery, run_providers, static_groups};

/// A label set before relabeling (discovered `__address__`, `__meta_*`, ...), sorted by
/// name. Plain strings: discovered labels are not validated until relabeling.
pub type LabelSet = BTreeMap<String, String>;

/// A group of targets sharing labels, as a discovery provider reports it (Prometheus'
/// `targetgroup.Group`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TargetGroup {
    /// Identifies the group within its provider; a later group with the same source
    /// replaces it, and an empty group removes it.
    pub source: String,
    /// One label set per target; each has at least `__address__`.
    pub targets: Vec<LabelSet>,
    /// Labels common to every target of the group.
    pub labels: LabelSet,
}

impl TargetGroup {
    /// The group that removes `source`: no targets, no labels.
    pub fn empty(source: impl Into<String>) -> Self {
        TargetGroup {
            source: source.into(),
            ..TargetGroup::default()
        }
    }
}

/// Updates from one provider: each message carries changed groups (full replacement by
/// `source`).
pub type Updates = tokio::sync::mpsc::Sender<Vec<TargetGroup>>;

/// The label every target carries: where to scrape.
pub const ADDRESS_LABEL: &str = "__address__";
