//! Reading the tenants' TSDBs as one store: each tenant's series carry the receiver's
//! external labels and the tenant label (Thanos attaches them the same way), and
//! matchers on those labels choose tenants instead of being passed down.

use std::collections::BTreeSet;
use std::sync::Arc;

use strata_model::storage::{Querier, Queryable, SelectHints, Series, SeriesSet};
use strata_model::{Labels, Matcher};

use crate::multitsdb::MultiTsdb;

/// All tenants (or one) of a [`MultiTsdb`] as a [`Queryable`].
pub struct TenantsQueryable {
    tsdb: Arc<MultiTsdb>,
    tenant_label: String,
    external: Labels,
    only: Option<String>,
}

impl TenantsQueryable {
    /// Every tenant; `tenant_label` empty attaches no tenant label.
    pub fn new(tsdb: Arc<MultiTsdb>, tenant_label: &str, external: Labels) -> Self {
        TenantsQueryable {
            tsdb,
            tenant_label: tenant_label.to_owned(),
            external,
            only: None,
        }
    }

    /// Only `tenant`'s data (tenancy enforcement).
    pub fn for_tenant(mut self, tenant: &str) -> Self {
        self.only = Some(tenant.to_owned());
        self
    }

    /// The labels attached to `tenant`'s series.
    pub fn tenant_labels(&self, tenant: &str) -> Labels {
        let mut b = self.external.to_builder();
        if !self.tenant_label.is_empty() {
            b.set(&self.tenant_label, tenant);
        }
        b.build().unwrap_or_else(|_| self.external.clone())
    }
}

impl Queryable for TenantsQueryable {
    fn querier(&self, mint: i64, maxt: i64) -> strata_model::Result<Box<dyn Querier>> {
        let mut parts = Vec::new();
        for t in self.tsdb.tenants() {
            if self.only.as_ref().is_some_and(|o| *o != t.tenant) {
                continue;
            }
            parts.push(Part {
                ext: self.tenant_labels(&t.tenant),
                querier: t.db.querier(mint, maxt)?,
            });
        }
        Ok(Box::new(TenantsQuerier { parts }))
    }
}

struct Part {
    ext: Labels,
    querier: Box<dyn Querier>,
}

impl Part {
    /// The matchers to pass down, or `None` when an external-label matcher excludes
    /// this tenant.
    fn pushdown(&self, ms: &[Matcher]) -> Option<Vec<Matcher>> {
        let mut rest = Vec::with_capacity(ms.len());
        for m in ms {
            match self.ext.get(&m.name) {
                Some(v) if !m.matches(v) => return None,
                Some(_) => {}
                None => rest.push(m.clone()),
            }
        }
        Some(rest)
    }
}

struct TenantsQuerier {
    parts: Vec<Part>,
}

fn with_external(labels: &Labels, ext: &Labels) -> Labels {
    if ext.is_empty() {
        return labels.clone();
    }
    let mut b = labels.to_builder();
    for (n, v) in ext.iter() {
        b.set(n, v);
    }
    b.build().unwrap_or_else(|_| labels.clone())
}

impl Querier for TenantsQuerier {
    fn select(&self, ms: &[Matcher], hints: &SelectHints) -> strata_model::Result<SeriesSet> {
        let mut all: Vec<Series> = Vec::new();
        for p in &self.parts {
            let Some(rest) = p.pushdown(ms) else { continue };
            for s in p.querier.select(&rest, hints)? {
                let s = s?;
                all.push(Series {
                    labels: with_external(&s.labels, &p.ext),
                    samples: s.samples,
                });
            }
        }
        if hints.sorted && !all.is_sorted_by(|a, b| a.labels <= b.labels) {
            all.sort_by(|a, b| a.labels.cmp(&b.labels));
        }
        Ok(Box::new(all.into_iter().map(Ok)))
    }

    fn label_names(&self, ms: &[Matcher]) -> strata_model::Result<Vec<String>> {
        let mut names = BTreeSet::new();
        for p in &self.parts {
            let Some(rest) = p.pushdown(ms) else { continue };
            let found = p.querier.label_names(&rest)?;
            if !found.is_empty() {
                names.extend(found);
                names.extend(p.ext.iter().map(|(n, _)| n.to_owned()));
            }
        }
        Ok(names.into_iter().collect())
    }

    fn label_values(&self, name: &str, ms: &[Matcher]) -> strata_model::Result<Vec<String>> {
        let mut values = BTreeSet::new();
        for p in &self.parts {
            let Some(rest) = p.pushdown(ms) else { continue };
            match p.ext.get(name) {
                Some(v) => {
                    if !p.querier.label_names(&rest)?.is_empty() {
                        values.insert(v.to_owned());
                    }
                }
                None => values.extend(p.querier.label_values(name, &rest)?),
            }
        }
        Ok(values.into_iter().collect())
    }
}
