//! Reading the head through the storage trait.

use std::sync::Arc;

use strata_model::storage::{Querier, SelectHints, Series, SeriesSet};
use strata_model::{Labels, Matcher};

use super::Head;
use crate::chunkenc::ENC_XOR;
use crate::error::Result;
use crate::index::postings::{PostingsSource, postings_for_matchers};
use crate::series_iter::{ChunkSamples, SharedChunk};

impl PostingsSource for Head {
    fn label_values(&self, name: &str) -> Result<Vec<String>> {
        Ok(self.postings.read().label_values(name))
    }
    fn postings(&self, name: &str, value: &str) -> Result<Vec<u64>> {
        Ok(self.postings.read().postings(name, value))
    }
    fn all_postings(&self) -> Result<Vec<u64>> {
        Ok(self.postings.read().all())
    }
}

/// Float samples of a head series.
pub(crate) type HeadSamples = ChunkSamples<Arc<[u8]>>;

/// A querier over the head's samples in `[mint, maxt]`.
pub struct HeadQuerier {
    head: Arc<Head>,
    mint: i64,
    maxt: i64,
}

impl HeadQuerier {
    pub fn new(head: Arc<Head>, mint: i64, maxt: i64) -> Self {
        HeadQuerier { head, mint, maxt }
    }

    /// Refs of the series matching `ms` that hold samples in the querier's range.
    fn matching(&self, ms: &[Matcher]) -> Result<Vec<(u64, Labels)>> {
        let refs = if ms.is_empty() {
            self.head.all_refs()
        } else {
            postings_for_matchers(&*self.head, ms)?
        };
        let mut out = Vec::with_capacity(refs.len());
        for r in refs {
            let hit = self.head.with_series(r, |s| {
                let overlaps = match (s.min_time(), s.max_time()) {
                    (Some(lo), Some(hi)) => hi >= self.mint && lo <= self.maxt,
                    _ => false,
                };
                overlaps.then(|| s.labels.clone())
            });
            if let Some(Some(l)) = hit {
                out.push((r, l));
            }
        }
        Ok(out)
    }
}

impl Querier for HeadQuerier {
    fn select(&self, ms: &[Matcher], hints: &SelectHints) -> strata_model::Result<SeriesSet> {
        let mint = self.mint.max(hints.start);
        let maxt = self.maxt.min(hints.end);
        let mut found = self.matching(ms)?;
        found.sort_by(|a, b| a.1.cmp(&b.1));
        let head = self.head.clone();
        let labels_only = hints.labels_only;
        let iter = found.into_iter().filter_map(move |(r, labels)| {
            let name = labels.clone();
            let samples = if labels_only {
                ChunkSamples::new(name, Vec::new(), mint, maxt, Vec::new(), Vec::new())
            } else {
                head.series_samples(r, name, mint, maxt)?
            };
            Some(Ok(Series {
                labels,
                samples: Box::new(samples),
            }))
        });
        Ok(Box::new(iter))
    }

    fn label_names(&self, ms: &[Matcher]) -> strata_model::Result<Vec<String>> {
        if ms.is_empty() && self.covers_all() {
            return Ok(self.head.postings.read().label_names());
        }
        let mut names = std::collections::BTreeSet::new();
        for (_, l) in self.matching(ms)? {
            for (n, _) in l.iter() {
                names.insert(n.to_owned());
            }
        }
        Ok(names.into_iter().collect())
    }

    fn label_values(&self, name: &str, ms: &[Matcher]) -> strata_model::Result<Vec<String>> {
        if ms.is_empty() && self.covers_all() {
            return Ok(self.head.postings.read().label_values(name));
        }
        let mut values = std::collections::BTreeSet::new();
        for (_, l) in self.matching(ms)? {
            if let Some(v) = l.get(name) {
                values.insert(v.to_owned());
            }
        }
        Ok(values.into_iter().collect())
    }
}

impl HeadQuerier {
    /// Whether unfiltered label names and values may come straight from the postings:
    /// as in Prometheus, a head that overlaps the queried range answers with all of its
    /// names and values.
    fn covers_all(&self) -> bool {
        match (self.head.min_time(), self.head.max_time()) {
            (Some(lo), Some(hi)) => self.mint <= hi && self.maxt >= lo,
            _ => true,
        }
    }
}

impl Head {
    /// The samples of series `r` in `[mint, maxt]` (chunks snapshotted now, out-of-order
    /// samples merged in); `None` when the series is gone. `name` labels errors.
    pub(crate) fn series_samples(
        &self,
        r: u64,
        name: strata_model::Labels,
        mint: i64,
        maxt: i64,
    ) -> Option<ChunkSamples<Arc<[u8]>>> {
        let (chunks, ooo) = self.with_series(r, |s| s.snapshot(mint, maxt))?;
        Some(ChunkSamples::new(name, chunks, mint, maxt, ooo, Vec::new()))
    }

    /// For writing a block: the float samples of series `r` in `[mint, maxt]` and its
    /// native histogram chunks overlapping that range, from one snapshot.
    pub(crate) fn series_block_data(
        &self,
        r: u64,
        name: strata_model::Labels,
        mint: i64,
        maxt: i64,
    ) -> Option<(HeadSamples, Vec<SharedChunk>)> {
        let (chunks, ooo) = self.with_series(r, |s| s.snapshot(mint, maxt))?;
        let (xor, hist): (Vec<_>, Vec<_>) = chunks.into_iter().partition(|c| c.encoding == ENC_XOR);
        Some((
            ChunkSamples::new(name, xor, mint, maxt, ooo, Vec::new()),
            hist,
        ))
    }
}
