//! Service discovery as Prometheus does it: each provider (static, file, Kubernetes)
//! produces target groups; the scrape manager relabels them into targets.

use std::collections::BTreeMap;

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

/// Updates from one provider: each message carries changed groups (full replacement by
/// `source`).
pub type Updates = tokio::sync::mpsc::Sender<Vec<TargetGroup>>;
