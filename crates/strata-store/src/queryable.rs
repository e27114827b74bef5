//! [`QueryableSource`]: the Store API over any [`Queryable`] (Thanos' `TSDBStore`),
//! for receivers (a `TenantsQueryable`, whose series already carry tenant and external
//! labels) and for `strata up` (a `Db`, with external labels attached here).
//!
//! Samples are re-encoded into XOR chunks of at most 120 samples, trimmed to the
//! requested range. Queryables read floats only, so native histograms are not served.

use std::collections::BTreeSet;
use std::sync::Arc;

use strata_model::storage::{Queryable, SelectHints, Series};
use strata_model::{Labels, Matcher};
use strata_tsdb::Db;

use crate::chunks::encode_xor;
use crate::error::{Error, Result};
use crate::extlabels::{finalize, split_external};
use crate::source::{
    Candidate, LabelAnswer, LabelQuery, RawChunk, Selection, SeriesQuery, SeriesSource, SourceInfo,
    TsdbInfo,
};

type LabelSetsFn = Arc<dyn Fn() -> Vec<Labels> + Send + Sync>;
type TimeRangeFn = Arc<dyn Fn() -> (i64, i64) + Send + Sync>;

/// A [`Queryable`] served over the Store API.
pub struct QueryableSource {
    queryable: Arc<dyn Queryable>,
    external: Labels,
    label_sets: Option<LabelSetsFn>,
    time_range: TimeRangeFn,
}

impl std::fmt::Debug for QueryableSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueryableSource")
            .field("external", &self.external)
            .finish_non_exhaustive()
    }
}

impl QueryableSource {
    /// Serves `queryable`, attaching `external` to every series (an external label
    /// replaces a series label of the same name). Matchers on external labels select or
    /// deselect the whole source and are not passed down. Announces `external` as the
    /// one label set (none when empty) and the time range `[i64::MIN, i64::MAX]` until
    /// [`QueryableSource::with_time_range`] says better.
    pub fn new(queryable: Arc<dyn Queryable>, external: Labels) -> Self {
        QueryableSource {
            queryable,
            external,
            label_sets: None,
            time_range: Arc::new(|| (i64::MIN, i64::MAX)),
        }
    }

    /// Announces the label sets `f` returns (called on every Info request) instead of
    /// the external labels. For a queryable whose series carry their own external labels,
    /// such as a receiver's `TenantsQueryable` (one set per tenant); matchers are then
    /// passed down unchanged.
    pub fn with_label_sets(mut self, f: impl Fn() -> Vec<Labels> + Send + Sync + 'static) -> Self {
        self.label_sets = Some(Arc::new(f));
        self
    }

    /// Announces the time range `f` returns (see [`db_time_range`]).
    pub fn with_time_range(mut self, f: impl Fn() -> (i64, i64) + Send + Sync + 'static) -> Self {
        self.time_range = Arc::new(f);
        self
    }

    fn label_sets(&self) -> Vec<Labels> {
        match &self.label_sets {
            Some(f) => f(),
            None if self.external.is_empty() => Vec::new(),
            None => vec![self.external.clone()],
        }
    }

    /// The matchers to pass down, `Ok(None)` when external labels exclude this source.
    /// As Thanos' TSDB store, a request whose matchers all name external labels is
    /// refused.
    fn pushdown(&self, ms: &[Matcher], for_series: bool) -> Result<Option<Vec<Matcher>>> {
        let Some(rest) = split_external(ms, &self.external) else {
            return Ok(None);
        };
        if for_series {
            let sets = self.label_sets();
            let only_external = rest.iter().all(|m| sets.iter().any(|s| s.has(&m.name)));
            if only_external {
                return Err(Error::InvalidArgument(
                    "no matchers specified (excluding external labels)".into(),
                ));
            }
        }
        Ok(Some(rest))
    }
}

/// Thanos' `TSDBStore` time range for a local TSDB: from the oldest block's (or else the
/// head's) first sample to `i64::MAX`; `i64::MAX` twice when the database is empty.
pub fn db_time_range(db: &Db) -> (i64, i64) {
    let blocks = db.blocks().iter().map(|b| b.meta().min_time).min();
    let min = blocks.or_else(|| db.head().min_time()).unwrap_or(i64::MAX);
    (min, i64::MAX)
}

#[async_trait::async_trait]
impl SeriesSource for QueryableSource {
    type Handle = Series;

    fn info(&self) -> SourceInfo {
        let (min_time, max_time) = (self.time_range)();
        let label_sets = self.label_sets();
        let tsdb_infos = label_sets
            .iter()
            .map(|l| TsdbInfo {
                labels: l.clone(),
                min_time,
                max_time,
            })
            .collect();
        SourceInfo {
            label_sets,
            min_time,
            max_time,
            tsdb_infos,
        }
    }

    async fn select(&self, q: Arc<SeriesQuery>) -> Result<Selection<Series>> {
        let Some(ms) = self.pushdown(&q.matchers, true)? else {
            return Ok(Selection::empty());
        };
        let queryable = self.queryable.clone();
        let ext = self.external.clone();
        tokio::task::spawn_blocking(move || {
            let querier = queryable.querier(q.min_time, q.max_time)?;
            let hints = SelectHints {
                start: q.min_time,
                end: q.max_time,
                sorted: true,
                labels_only: q.skip_chunks,
            };
            let mut series = Vec::new();
            for s in querier.select(&ms, &hints)? {
                let s = s?;
                series.push(Candidate {
                    labels: finalize(&s.labels, &ext, &q.without_replica_labels),
                    handle: s,
                });
            }
            Ok(Selection {
                series,
                queried_blocks: None,
            })
        })
        .await?
    }

    async fn load(
        &self,
        _q: Arc<SeriesQuery>,
        groups: Vec<Vec<Series>>,
    ) -> Result<Vec<Vec<RawChunk>>> {
        tokio::task::spawn_blocking(move || {
            groups
                .into_iter()
                .map(|g| {
                    let mut chunks = Vec::new();
                    for mut s in g {
                        chunks.extend(encode_xor(s.samples.as_mut())?);
                    }
                    Ok(chunks)
                })
                .collect()
        })
        .await?
    }

    async fn label_names(&self, q: Arc<LabelQuery>) -> Result<LabelAnswer> {
        let Some(ms) = self.pushdown(&q.matchers, false)? else {
            return Ok(LabelAnswer::default());
        };
        let queryable = self.queryable.clone();
        let ext = self.external.clone();
        tokio::task::spawn_blocking(move || {
            let querier = queryable.querier(q.start, q.end)?;
            let found = querier.label_names(&ms)?;
            let mut names: BTreeSet<String> = BTreeSet::new();
            if !found.is_empty() {
                names.extend(found);
                names.extend(ext.iter().map(|(n, _)| n.to_owned()));
            }
            let values = names
                .into_iter()
                .filter(|n| !q.without_replica_labels.contains(n))
                .collect();
            Ok(LabelAnswer {
                values,
                queried_blocks: None,
            })
        })
        .await?
    }

    async fn label_values(&self, name: String, q: Arc<LabelQuery>) -> Result<LabelAnswer> {
        let Some(ms) = self.pushdown(&q.matchers, false)? else {
            return Ok(LabelAnswer::default());
        };
        let queryable = self.queryable.clone();
        let ext = self.external.clone();
        tokio::task::spawn_blocking(move || {
            let querier = queryable.querier(q.start, q.end)?;
            let values = match ext.get(&name) {
                Some(v) if ms.is_empty() => vec![v.to_owned()],
                Some(v) => {
                    let hints = SelectHints {
                        start: q.start,
                        end: q.end,
                        sorted: false,
                        labels_only: true,
                    };
                    match querier.select(&ms, &hints)?.next() {
                        Some(s) => {
                            s?;
                            vec![v.to_owned()]
                        }
                        None => Vec::new(),
                    }
                }
                None => querier.label_values(&name, &ms)?,
            };
            Ok(LabelAnswer {
                values,
                queried_blocks: None,
            })
        })
        .await?
    }
}
