//! The Store API over the gateway's blocks, with Thanos' `BucketStore` semantics:
//! blocks are chosen by time range, external labels and block matchers; matchers on
//! external labels are not passed to the index; a request with only external-label
//! matchers selects no series; chunks are returned whole, as stored.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use strata_model::{MatchType, Matcher};

use super::block::BucketBlock;
use super::chunk_reader::ChunkReader;
use super::{BlockMap, StoreGateway};
use crate::error::{Error, Result};
use crate::extlabels::{matches_all, split_external};
use crate::source::{
    Candidate, LabelAnswer, LabelQuery, RawChunk, Selection, SeriesQuery, SeriesSource, SourceInfo,
    TsdbInfo,
};

/// A series of one block: the gateway's [`SeriesSource::Handle`].
pub type BlockSeries = (Arc<BucketBlock>, u64);

/// Chosen blocks, each with the matchers to run against its index.
type Parts = Vec<(Arc<BucketBlock>, Vec<Matcher>)>;

/// The blocks for a request and the ids of those queried.
fn choose(
    blocks: &BlockMap,
    mint: i64,
    maxt: i64,
    ms: &[Matcher],
    block_matchers: &[Matcher],
) -> (Parts, Vec<String>) {
    let mut out = Vec::new();
    let mut queried = Vec::new();
    if mint > maxt {
        return (out, queried);
    }
    for b in blocks.values() {
        if !b.overlaps(mint, maxt) || !matches_all(block_matchers, &b.relabel) {
            continue;
        }
        let Some(rest) = split_external(ms, &b.ext) else {
            continue;
        };
        queried.push(b.id.clone());
        out.push((b.clone(), rest));
    }
    (out, queried)
}

/// Runs `f` on every chosen block in the blocking pool, all at once.
async fn per_block<T, F>(parts: Parts, f: F) -> Result<Vec<T>>
where
    T: Send + 'static,
    F: Fn(&BucketBlock, &[Matcher]) -> Result<T> + Send + Sync + Clone + 'static,
{
    let tasks: Vec<_> = parts
        .into_iter()
        .map(|(b, ms)| {
            let f = f.clone();
            tokio::task::spawn_blocking(move || f(&b, &ms))
        })
        .collect();
    let mut out = Vec::with_capacity(tasks.len());
    for t in futures::future::join_all(tasks).await {
        out.push(t??);
    }
    Ok(out)
}

impl StoreGateway {
    /// Reads the chunks of `refs` (series of `block`) that overlap `[mint, maxt]`.
    async fn load_block(
        &self,
        block: &Arc<BucketBlock>,
        refs: Vec<u64>,
        mint: i64,
        maxt: i64,
    ) -> Result<Vec<Vec<RawChunk>>> {
        let b = block.clone();
        let metas = tokio::task::spawn_blocking(move || {
            refs.iter()
                .map(|&r| b.chunk_metas(r, mint, maxt))
                .collect::<Result<Vec<_>>>()
        })
        .await??;
        let all: Vec<u64> = metas.iter().flatten().map(|m| m.chunk_ref).collect();
        let mut reader = ChunkReader::new(
            &self.bucket,
            &block.id,
            block.key,
            &block.segments,
            &self.cache,
        );
        let mut data = reader.read(&all).await?.into_iter();
        let mut out = Vec::with_capacity(metas.len());
        for ms in metas {
            let mut chunks = Vec::with_capacity(ms.len());
            for m in ms {
                let (encoding, data) = data.next().ok_or_else(|| {
                    Error::Internal("chunk reader returned too few chunks".into())
                })?;
                chunks.push(RawChunk {
                    min_time: m.mint,
                    max_time: m.maxt,
                    encoding,
                    data,
                });
            }
            out.push(chunks);
        }
        Ok(out)
    }
}

#[async_trait::async_trait]
impl SeriesSource for StoreGateway {
    type Handle = BlockSeries;

    fn info(&self) -> SourceInfo {
        let blocks = self.snapshot();
        let mut min_time = i64::MAX;
        let mut max_time = i64::MIN;
        let mut by_labels: std::collections::BTreeMap<String, Vec<TsdbInfo>> = Default::default();
        for b in blocks.values() {
            min_time = min_time.min(b.meta.min_time);
            max_time = max_time.max(b.meta.max_time);
            by_labels
                .entry(b.ext.to_string())
                .or_default()
                .push(TsdbInfo {
                    labels: b.ext.clone(),
                    min_time: b.meta.min_time,
                    max_time: b.meta.max_time,
                });
        }
        let mut label_sets = Vec::new();
        let mut tsdb_infos = Vec::new();
        for (_, mut infos) in by_labels {
            infos.sort_by_key(|i| i.min_time);
            // Adjacent or overlapping blocks join into one range, as in Thanos.
            let mut it = infos.into_iter();
            let Some(mut cur) = it.next() else { continue };
            label_sets.push(cur.labels.clone());
            for i in it {
                if i.min_time > cur.max_time {
                    tsdb_infos.push(std::mem::replace(&mut cur, i));
                } else {
                    cur.max_time = cur.max_time.max(i.max_time);
                }
            }
            tsdb_infos.push(cur);
        }
        label_sets.retain(|l: &strata_model::Labels| !l.is_empty());
        SourceInfo {
            label_sets,
            min_time,
            max_time,
            tsdb_infos,
        }
    }

    async fn select(&self, q: Arc<SeriesQuery>) -> Result<Selection<BlockSeries>> {
        let (parts, queried) = choose(
            &self.snapshot(),
            q.min_time,
            q.max_time,
            &q.matchers,
            &q.block_matchers,
        );
        // Without series matchers Thanos' bucket store selects nothing.
        let parts: Vec<_> = parts.into_iter().filter(|(_, ms)| !ms.is_empty()).collect();
        let blocks: Vec<Arc<BucketBlock>> = parts.iter().map(|(b, _)| b.clone()).collect();
        let qq = q.clone();
        let found = per_block(parts, move |b, ms| {
            b.select(ms, qq.min_time, qq.max_time, &qq.without_replica_labels)
        })
        .await?;
        let mut series = Vec::with_capacity(found.iter().map(Vec::len).sum());
        for (b, refs) in blocks.iter().zip(found) {
            series.extend(refs.into_iter().map(|(labels, r)| Candidate {
                labels,
                handle: (b.clone(), r),
            }));
        }
        Ok(Selection {
            series,
            queried_blocks: Some(queried),
        })
    }

    async fn load(
        &self,
        q: Arc<SeriesQuery>,
        groups: Vec<Vec<BlockSeries>>,
    ) -> Result<Vec<Vec<RawChunk>>> {
        let n = groups.len();
        let mut by_block: HashMap<u128, (Arc<BucketBlock>, Vec<(usize, u64)>)> = HashMap::new();
        for (gi, g) in groups.into_iter().enumerate() {
            for (b, r) in g {
                by_block
                    .entry(b.key)
                    .or_insert_with(|| (b.clone(), Vec::new()))
                    .1
                    .push((gi, r));
            }
        }
        let loads = by_block.into_values().map(|(b, items)| {
            let q = q.clone();
            async move {
                let refs = items.iter().map(|(_, r)| *r).collect();
                let chunks = self.load_block(&b, refs, q.min_time, q.max_time).await?;
                Ok::<_, Error>((items, chunks))
            }
        });
        let mut out: Vec<Vec<RawChunk>> = (0..n).map(|_| Vec::new()).collect();
        for (items, chunks) in futures::future::try_join_all(loads).await? {
            for ((gi, _), cs) in items.into_iter().zip(chunks) {
                if let Some(slot) = out.get_mut(gi) {
                    slot.extend(cs);
                }
            }
        }
        Ok(out)
    }

    async fn label_names(&self, q: Arc<LabelQuery>) -> Result<LabelAnswer> {
        let (parts, queried) = choose(
            &self.snapshot(),
            q.start,
            q.end,
            &q.matchers,
            &q.block_matchers,
        );
        let qq = q.clone();
        let sets = per_block(parts, move |b, ms| {
            let remove = &qq.without_replica_labels;
            let mut names = BTreeSet::new();
            if ms.is_empty() {
                names.extend(b.index.label_names()?);
                names.extend(b.ext.iter().map(|(n, _)| n.to_owned()));
                names.retain(|n| !remove.contains(n));
            } else {
                for (l, _) in b.select(ms, qq.start, qq.end, remove)? {
                    names.extend(l.iter().map(|(n, _)| n.to_owned()));
                }
            }
            Ok(names)
        })
        .await?;
        Ok(LabelAnswer {
            values: sets
                .into_iter()
                .flatten()
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect(),
            queried_blocks: Some(queried),
        })
    }

    async fn label_values(&self, name: String, q: Arc<LabelQuery>) -> Result<LabelAnswer> {
        let (parts, queried) = choose(
            &self.snapshot(),
            q.start,
            q.end,
            &q.matchers,
            &q.block_matchers,
        );
        let has_name_eq = q
            .matchers
            .iter()
            .any(|m| m.name == strata_model::METRIC_NAME && m.kind == MatchType::Equal);
        let qq = q.clone();
        let sets = per_block(parts, move |b, ms| {
            let mut values = BTreeSet::new();
            if ms.is_empty() {
                values.extend(b.index.label_values(&name)?);
                if let Some(v) = b.ext.get(&name) {
                    values.insert(v.to_owned());
                }
                return Ok(values);
            }
            let mut ms = ms.to_vec();
            if !has_name_eq && !b.ext.has(&name) {
                // Only series that have the label.
                ms.push(Matcher::new(MatchType::NotEqual, name.as_str(), "")?);
            }
            for (labels, _) in b.select(&ms, qq.start, qq.end, &[])? {
                if let Some(v) = labels.get(&name) {
                    values.insert(v.to_owned());
                }
            }
            Ok(values)
        })
        .await?;
        Ok(LabelAnswer {
            values: sets
                .into_iter()
                .flatten()
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect(),
            queried_blocks: Some(queried),
        })
    }
}
