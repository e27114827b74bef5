//! Metric metadata (type, help, unit) received with remote write — 1.0's `metadata`
//! field and 2.0's per-series metadata — kept per tenant and metric family, newest
//! wins, for `/api/v1/metadata`. Kept in memory: it is rebuilt as senders resend it
//! (Prometheus resends metadata every minute, 2.0 with every series).

use std::collections::{BTreeMap, HashMap};

use parking_lot::RwLock;
use strata_remote::MetricType;

/// One metric family's metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metadata {
    pub metric_type: String,
    pub help: String,
    pub unit: String,
}

/// Metadata by tenant and metric family.
#[derive(Debug, Default)]
pub struct MetadataStore {
    tenants: RwLock<HashMap<String, HashMap<String, Metadata>>>,
}

/// The bound on families kept per tenant, so a sender cannot grow memory unboundedly.
pub const MAX_FAMILIES_PER_TENANT: usize = 100_000;

impl MetadataStore {
    /// Records a family's metadata; an unknown type with no help and unit is ignored.
    pub fn record(&self, tenant: &str, family: &str, t: MetricType, help: &str, unit: &str) {
        if family.is_empty() || (t == MetricType::Unknown && help.is_empty() && unit.is_empty()) {
            return;
        }
        let md = Metadata {
            metric_type: t.as_str().to_owned(),
            help: help.to_owned(),
            unit: unit.to_owned(),
        };
        if self
            .tenants
            .read()
            .get(tenant)
            .and_then(|m| m.get(family))
            .is_some_and(|old| *old == md)
        {
            return;
        }
        let mut all = self.tenants.write();
        let m = all.entry(tenant.to_owned()).or_default();
        if m.len() >= MAX_FAMILIES_PER_TENANT && !m.contains_key(family) {
            return;
        }
        m.insert(family.to_owned(), md);
    }

    /// Every family's metadata (of `tenant`, or of all tenants), by family name.
    pub fn snapshot(&self, tenant: Option<&str>) -> BTreeMap<String, Vec<Metadata>> {
        let mut out: BTreeMap<String, Vec<Metadata>> = BTreeMap::new();
        for (t, m) in self.tenants.read().iter() {
            if tenant.is_some_and(|x| x != t) {
                continue;
            }
            for (family, md) in m {
                let v = out.entry(family.clone()).or_default();
                if !v.contains(md) {
                    v.push(md.clone());
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newest_wins_per_tenant() {
        let s = MetadataStore::default();
        s.record("a", "up", MetricType::Gauge, "old", "");
        s.record("a", "up", MetricType::Gauge, "new", "");
        s.record("b", "up", MetricType::Gauge, "b's", "");
        s.record("a", "x", MetricType::Unknown, "", "");
        let a = s.snapshot(Some("a"));
        assert_eq!(a.len(), 1);
        assert_eq!(a["up"][0].help, "new");
        assert_eq!(s.snapshot(None)["up"].len(), 2);
    }
}
