//! [`ProxyQueryable`]: the storage trait over every store of an [`EndpointSet`].
//!
//! A selection goes to every queryable store whose time range overlaps the request and
//! whose external label sets can match its matchers (Thanos' `storeMatches`); the calls
//! run concurrently on the tokio runtime the queryable was created in, while the
//! calling (blocking) thread waits. Each store's series are read to the end, replica
//! labels are removed when deduplicating, and all series are merged in label order:
//! equal label sets from several stores become one series ([`crate::series`]).
//!
//! A failing store (error, timeout, or a warning it sends) becomes a warning naming it
//! when partial response is on, and the request's error when it is off.

use std::future::Future;
use std::sync::Arc;

use futures::FutureExt;
use strata_model::storage::{
    Querier, Queryable, ReadContext, SelectHints, Series, SeriesSet, Warnings,
};
use strata_model::{Labels, Matcher, Result as ModelResult};
use strata_proto::labelpb::labels_from_proto;
use strata_proto::storepb::{
    Aggr, LabelNamesRequest, LabelValuesRequest, PartialResponseStrategy, SeriesRequest,
    matchers_to_proto,
};
use tokio::runtime::Handle;
use tracing::warn;

use crate::endpoints::{EndpointSet, StoreTarget};
use crate::error::{Error, Result};
use crate::fanout;
use crate::options::QueryOptions;
use crate::series::{Decode, Group, GroupSamples, Member};
use crate::tenancy;

struct Shared {
    endpoints: EndpointSet,
    opts: QueryOptions,
    runtime: Handle,
}

/// The distributed querier's storage: implements [`Queryable`], honouring the
/// request's [`ReadContext`] (tenant, `dedup`, `partial_response`, `replicaLabels[]`)
/// and reporting store failures as its warnings. Cheap to clone.
#[derive(Clone)]
pub struct ProxyQueryable {
    shared: Arc<Shared>,
    tenant: Option<String>,
}

impl ProxyQueryable {
    /// A queryable over `endpoints`; its gRPC calls run on the current tokio runtime.
    pub fn new(endpoints: EndpointSet, opts: QueryOptions) -> Result<Self> {
        let runtime = Handle::try_current().map_err(|_| Error::NoRuntime)?;
        Ok(Self::with_runtime(endpoints, opts, runtime))
    }

    /// A queryable whose gRPC calls run on `runtime`.
    pub fn with_runtime(endpoints: EndpointSet, opts: QueryOptions, runtime: Handle) -> Self {
        ProxyQueryable {
            shared: Arc::new(Shared {
                endpoints,
                opts,
                runtime,
            }),
            tenant: None,
        }
    }

    /// The same storage bound to `tenant`: it takes precedence over the request's
    /// tenant, and with enforcement on every selection is limited to it.
    pub fn with_tenant(&self, tenant: &str) -> Self {
        ProxyQueryable {
            shared: self.shared.clone(),
            tenant: Some(tenant.to_owned()),
        }
    }

    /// The options it was built with.
    pub fn options(&self) -> &QueryOptions {
        &self.shared.opts
    }

    /// A querier over `[mint, maxt]` for one request.
    pub fn proxy_querier(&self, mint: i64, maxt: i64, ctx: &ReadContext) -> Result<ProxyQuerier> {
        let opts = &self.shared.opts;
        let tenant = opts.resolve_tenant(self.tenant.as_deref().or(ctx.tenant.as_deref()))?;
        let replica_labels = ctx
            .replica_labels
            .clone()
            .unwrap_or_else(|| opts.replica_labels.clone());
        let dedup = ctx.dedup.unwrap_or(true) && !replica_labels.is_empty();
        Ok(ProxyQuerier {
            shared: self.shared.clone(),
            mint,
            maxt,
            tenant,
            dedup,
            replica_labels: if dedup { replica_labels } else { Vec::new() },
            partial: ctx
                .partial_response
                .unwrap_or(opts.partial_response_default),
            warnings: ctx.warnings.clone(),
        })
    }
}

impl Queryable for ProxyQueryable {
    fn querier(&self, mint: i64, maxt: i64) -> ModelResult<Box<dyn Querier>> {
        self.querier_with(mint, maxt, &ReadContext::default())
    }

    fn querier_with(
        &self,
        mint: i64,
        maxt: i64,
        ctx: &ReadContext,
    ) -> ModelResult<Box<dyn Querier>> {
        Ok(Box::new(self.proxy_querier(mint, maxt, ctx)?))
    }
}

/// One request's view of the stores.
pub struct ProxyQuerier {
    shared: Arc<Shared>,
    mint: i64,
    maxt: i64,
    tenant: String,
    dedup: bool,
    /// Empty unless deduplicating.
    replica_labels: Vec<String>,
    partial: bool,
    warnings: Warnings,
}

/// Thanos' `LabelSetsMatch`: no sets, or one set none of whose labels contradicts a
/// matcher on it.
fn label_sets_match(ms: &[Matcher], sets: &[Labels]) -> bool {
    sets.is_empty()
        || sets.iter().any(|ls| {
            ms.iter()
                .all(|m| ls.get(&m.name).is_none_or(|v| m.matches(v)))
        })
}

impl ProxyQuerier {
    /// The warnings so far (shared with the request's [`ReadContext`]).
    pub fn warnings(&self) -> Vec<String> {
        self.warnings.snapshot()
    }

    /// Runs `fut` on the runtime and waits for it on this thread.
    fn run<T: Send + 'static>(&self, fut: impl Future<Output = T> + Send + 'static) -> Result<T> {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        drop(self.shared.runtime.spawn(async move {
            let _ = tx.send(fut.await);
        }));
        rx.recv()
            .map_err(|_| Error::Fanout("the runtime stopped before the stores answered".into()))
    }

    /// A store failure: a warning with partial response, the error without.
    fn fail_or_warn(&self, msg: String) -> Result<()> {
        warn!(partial_response = self.partial, error = %msg, "store failed");
        if self.partial {
            self.warnings.push(msg);
            Ok(())
        } else {
            Err(Error::StoreFailed(msg))
        }
    }

    /// The request's matchers, with the tenant enforced when configured.
    fn matchers(&self, ms: &[Matcher]) -> Result<(Vec<Matcher>, Option<Matcher>)> {
        let opts = &self.shared.opts;
        if !opts.enforce_tenancy {
            return Ok((ms.to_vec(), None));
        }
        let (ms, tm) = tenancy::enforce(ms, &opts.tenant_label, &self.tenant)?;
        Ok((ms, Some(tm)))
    }

    /// The stores to ask about `[start, end]` and `ms`.
    fn pick(&self, start: i64, end: i64, ms: &[Matcher]) -> Result<Vec<StoreTarget>> {
        let all = self.shared.endpoints.queryable();
        if all.is_empty() && !self.partial {
            return Err(Error::NoStoresAvailable);
        }
        Ok(all
            .into_iter()
            .filter(|s| start <= s.max_time && end >= s.min_time)
            .filter(|s| label_sets_match(ms, &s.label_sets))
            .collect())
    }

    fn strategy(&self) -> i32 {
        if self.partial {
            PartialResponseStrategy::Warn as i32
        } else {
            PartialResponseStrategy::Abort as i32
        }
    }

    fn select_stores(&self, ms: &[Matcher], hints: &SelectHints) -> Result<SeriesSet> {
        let (ms, tenant_matcher) = self.matchers(ms)?;
        let (start, end) = (hints.start.max(self.mint), hints.end.min(self.maxt));
        let stores = self.pick(start, end, &ms)?;
        if stores.is_empty() || start > end {
            return Ok(Box::new(std::iter::empty()));
        }
        let req = SeriesRequest {
            min_time: start,
            max_time: end,
            matchers: matchers_to_proto(&ms),
            aggregates: vec![Aggr::Count as i32, Aggr::Sum as i32],
            partial_response_disabled: !self.partial,
            partial_response_strategy: self.strategy(),
            skip_chunks: hints.labels_only,
            without_replica_labels: self.replica_labels.clone(),
            ..SeriesRequest::default()
        };
        let timeout = self.shared.opts.store_timeout;
        let calls = stores.into_iter().map(|s| {
            let name: Arc<str> = s.describe().into();
            fanout::series(s, req.clone(), self.tenant.clone(), timeout).map(move |r| (name, r))
        });
        let results = self.run(futures::future::join_all(calls))?;

        let replicas: Vec<&str> = self.replica_labels.iter().map(String::as_str).collect();
        let mut entries = Vec::new();
        for (store, r) in results {
            let answer = match r {
                Ok(a) => a,
                Err(msg) => {
                    self.fail_or_warn(msg)?;
                    continue;
                }
            };
            for w in answer.warnings {
                self.fail_or_warn(format!("store {store}: {w}"))?;
            }
            for s in answer.series {
                let labels = labels_from_proto(&s.labels).map_err(|e| Error::BadLabels {
                    store: store.to_string(),
                    reason: e.to_string(),
                })?;
                if let Some(tm) = &tenant_matcher
                    && !tm.matches(labels.get(&tm.name).unwrap_or(""))
                {
                    continue;
                }
                let labels = if replicas.is_empty() {
                    labels
                } else {
                    labels.without(&replicas)
                };
                entries.push((labels, store.clone(), s.chunks));
            }
        }
        // Stable: equal label sets keep the stores' order.
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        let mut groups: Vec<Group> = Vec::new();
        for (labels, store, chunks) in entries {
            let member = Member { store, chunks };
            match groups.last_mut() {
                Some(g) if g.labels == labels => g.members.push(member),
                _ => groups.push(Group {
                    labels,
                    members: vec![member],
                }),
            }
        }
        let decode = Arc::new(Decode {
            start,
            end,
            dedup: self.dedup,
            func: self.shared.opts.dedup_func,
            warnings: self.warnings.clone(),
        });
        Ok(Box::new(groups.into_iter().map(move |g| {
            Ok(Series {
                labels: g.labels.clone(),
                samples: Box::new(GroupSamples::new(g, decode.clone())),
            })
        })))
    }

    /// Fans a label call out and merges the answers, sorted and unique.
    fn labels<F, Fut>(&self, ms: &[Matcher], call: F) -> Result<Vec<String>>
    where
        F: Fn(StoreTarget, Vec<strata_proto::storepb::LabelMatcher>, i32) -> Fut,
        Fut: Future<Output = std::result::Result<(Vec<String>, Vec<String>), String>>
            + Send
            + 'static,
    {
        let (ms, _) = self.matchers(ms)?;
        let stores = self.pick(self.mint, self.maxt, &ms)?;
        let wire = matchers_to_proto(&ms);
        let calls: Vec<_> = stores
            .into_iter()
            .map(|s| call(s, wire.clone(), self.strategy()))
            .collect();
        let results = self.run(futures::future::join_all(calls))?;
        let mut all = std::collections::BTreeSet::new();
        for r in results {
            match r {
                Ok((items, warnings)) => {
                    for w in warnings {
                        self.fail_or_warn(w)?;
                    }
                    all.extend(items);
                }
                Err(msg) => self.fail_or_warn(msg)?,
            }
        }
        Ok(all.into_iter().collect())
    }
}

impl Querier for ProxyQuerier {
    fn select(&self, ms: &[Matcher], hints: &SelectHints) -> ModelResult<SeriesSet> {
        Ok(self.select_stores(ms, hints)?)
    }

    fn label_names(&self, ms: &[Matcher]) -> ModelResult<Vec<String>> {
        let (tenant, timeout) = (self.tenant.clone(), self.shared.opts.store_timeout);
        let base = LabelNamesRequest {
            partial_response_disabled: !self.partial,
            start: self.mint,
            end: self.maxt,
            without_replica_labels: self.replica_labels.clone(),
            ..LabelNamesRequest::default()
        };
        let mut names = self.labels(ms, |store, matchers, strategy| {
            let req = LabelNamesRequest {
                matchers,
                partial_response_strategy: strategy,
                ..base.clone()
            };
            fanout::label_names(store, req, tenant.clone(), timeout)
        })?;
        names.retain(|n| !self.replica_labels.contains(n));
        Ok(names)
    }

    fn label_values(&self, name: &str, ms: &[Matcher]) -> ModelResult<Vec<String>> {
        if self.replica_labels.iter().any(|r| r == name) {
            return Ok(Vec::new());
        }
        let (tenant, timeout) = (self.tenant.clone(), self.shared.opts.store_timeout);
        let base = LabelValuesRequest {
            label: name.to_owned(),
            partial_response_disabled: !self.partial,
            start: self.mint,
            end: self.maxt,
            without_replica_labels: self.replica_labels.clone(),
            ..LabelValuesRequest::default()
        };
        let mut values = self.labels(ms, |store, matchers, strategy| {
            let req = LabelValuesRequest {
                matchers,
                partial_response_strategy: strategy,
                ..base.clone()
            };
            fanout::label_values(store, req, tenant.clone(), timeout)
        })?;
        // Values of the tenant label itself cannot leak other tenants, whatever a store
        // answers.
        if self.shared.opts.enforce_tenancy && name == self.shared.opts.tenant_label {
            values.retain(|v| *v == self.tenant);
        }
        Ok(values)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use strata_model::MatchType;

    #[test]
    fn external_labels_select_stores_as_thanos_does() {
        let m = |k, n: &str, v: &str| Matcher::new(k, n, v).unwrap();
        let a = Labels::new(&[("cluster", "a"), ("replica", "0")]).unwrap();
        let b = Labels::new(&[("cluster", "b")]).unwrap();
        let eq_a = [m(MatchType::Equal, "cluster", "a")];
        assert!(label_sets_match(&eq_a, &[]));
        assert!(label_sets_match(&eq_a, std::slice::from_ref(&a)));
        assert!(!label_sets_match(&eq_a, std::slice::from_ref(&b)));
        assert!(label_sets_match(&eq_a, &[b.clone(), a.clone()]));
        // Matchers on labels the set lacks do not exclude it.
        assert!(label_sets_match(&[m(MatchType::Equal, "job", "x")], &[b]));
        assert!(!label_sets_match(
            &[m(MatchType::NotRegex, "replica", "0|1")],
            &[a]
        ));
    }
}
