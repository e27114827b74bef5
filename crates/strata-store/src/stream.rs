//! The `Series` response pipeline: select, sort and merge by labels, check the limits,
//! then load and send chunks one batch of series at a time through a bounded channel,
//! so a response never holds more than a few batches of chunk data.

use std::sync::Arc;

use strata_model::Labels;
use strata_proto::hintspb::{Block, SeriesResponseHints};
use strata_proto::labelpb::labels_to_proto;
use strata_proto::storepb::{AggrChunk, Series, SeriesBatch, SeriesResponse, series_response};
use tokio::sync::mpsc;
use tonic::Status;

use crate::chunks::{merge_chunks, num_samples, to_proto};
use crate::error::{Error, Result};
use crate::limits::{LimitTracker, SeriesLimits};
use crate::source::{Candidate, SeriesQuery, SeriesSource};

/// Series whose chunks are loaded together.
pub(crate) const LOAD_BATCH: usize = 128;
/// A series with more chunk bytes than this is sent in several messages with the same
/// labels (Thanos' TSDB store splits at 1 MiB per frame too); clients merge them.
pub(crate) const FRAME_BYTES: usize = 1 << 20;

/// Per-call parameters of the pipeline.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StreamParams {
    /// The request's `limit` on series; 0 for none.
    pub limit: usize,
    /// The request's `response_batch_size`; 0 or 1 sends one series per message.
    pub batch_size: usize,
    pub limits: SeriesLimits,
}

pub(crate) type Tx = mpsc::Sender<std::result::Result<SeriesResponse, Status>>;

/// Runs the pipeline; a failure is sent as the stream's final status.
pub(crate) async fn produce<S: SeriesSource>(
    source: Arc<S>,
    q: Arc<SeriesQuery>,
    p: StreamParams,
    tx: Tx,
) {
    if let Err(e) = run(source, q, p, &tx).await {
        if matches!(e, Error::Internal(ref m) if m == CLIENT_GONE) {
            return;
        }
        let _ = tx.send(Err(e.to_status())).await;
    }
}

const CLIENT_GONE: &str = "client went away";

async fn run<S: SeriesSource>(
    source: Arc<S>,
    q: Arc<SeriesQuery>,
    p: StreamParams,
    tx: &Tx,
) -> Result<()> {
    let sel = source.select(q.clone()).await?;
    let groups = group_sorted(sel.series, p.limit);
    let mut tracker = LimitTracker::new(p.limits);
    tracker.add_series(groups.len() as u64)?;
    let mut out = Outbox::new(tx, p.batch_size);
    let mut it = groups.into_iter();
    loop {
        let batch: Vec<(Labels, Vec<S::Handle>)> = it.by_ref().take(LOAD_BATCH).collect();
        if batch.is_empty() {
            break;
        }
        if q.skip_chunks {
            for (l, _) in batch {
                out.push(series(&l, Vec::new())).await?;
            }
            continue;
        }
        let (labels, handles): (Vec<Labels>, Vec<Vec<S::Handle>>) = batch.into_iter().unzip();
        let loaded = source.load(q.clone(), handles).await?;
        if loaded.len() != labels.len() {
            return Err(Error::Internal(format!(
                "source loaded {} chunk lists for {} series",
                loaded.len(),
                labels.len()
            )));
        }
        for (l, chunks) in labels.iter().zip(loaded) {
            let chunks = merge_chunks(chunks);
            if chunks.is_empty() {
                continue;
            }
            let mut frame: Vec<AggrChunk> = Vec::new();
            let mut frame_bytes = 0;
            for c in chunks {
                tracker.add_chunk(num_samples(&c), c.data.len() as u64)?;
                frame_bytes += c.data.len();
                frame.push(to_proto(c)?);
                if frame_bytes >= FRAME_BYTES {
                    out.push(series(l, std::mem::take(&mut frame))).await?;
                    frame_bytes = 0;
                }
            }
            if !frame.is_empty() {
                out.push(series(l, frame)).await?;
            }
        }
    }
    out.flush().await?;
    if let Some(blocks) = sel.queried_blocks {
        let hints = SeriesResponseHints {
            queried_blocks: blocks.into_iter().map(|id| Block { id }).collect(),
            query_stats: None,
        };
        let any = prost_types::Any::from_msg(&hints)
            .map_err(|e| Error::Internal(format!("encoding series hints: {e}")))?;
        out.send(series_response::Result::Hints(any)).await?;
    }
    Ok(())
}

fn series(l: &Labels, chunks: Vec<AggrChunk>) -> Series {
    Series {
        labels: labels_to_proto(l),
        chunks,
    }
}

/// Sorts candidates by labels (stable, so a source's order among equal labels stays)
/// and groups equal labels; stops after `limit` groups when `limit > 0`.
pub(crate) fn group_sorted<H>(mut v: Vec<Candidate<H>>, limit: usize) -> Vec<(Labels, Vec<H>)> {
    if !v.is_sorted_by(|a, b| a.labels <= b.labels) {
        v.sort_by(|a, b| a.labels.cmp(&b.labels));
    }
    let mut out: Vec<(Labels, Vec<H>)> = Vec::new();
    for c in v {
        match out.last_mut() {
            Some((l, hs)) if *l == c.labels => hs.push(c.handle),
            _ => {
                if limit > 0 && out.len() >= limit {
                    break;
                }
                out.push((c.labels, vec![c.handle]));
            }
        }
    }
    out
}

/// Sends series one per message, or in `SeriesBatch`es of the requested size.
struct Outbox<'a> {
    tx: &'a Tx,
    batch_size: usize,
    pending: Vec<Series>,
}

impl<'a> Outbox<'a> {
    fn new(tx: &'a Tx, batch_size: usize) -> Self {
        Outbox {
            tx,
            batch_size,
            pending: Vec::new(),
        }
    }

    async fn send(&self, r: series_response::Result) -> Result<()> {
        self.tx
            .send(Ok(SeriesResponse { result: Some(r) }))
            .await
            .map_err(|_| Error::Internal(CLIENT_GONE.into()))
    }

    async fn push(&mut self, s: Series) -> Result<()> {
        if self.batch_size <= 1 {
            return self.send(series_response::Result::Series(s)).await;
        }
        self.pending.push(s);
        if self.pending.len() >= self.batch_size {
            self.flush().await?;
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let series = std::mem::take(&mut self.pending);
        self.send(series_response::Result::Batch(SeriesBatch { series }))
            .await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn c(name: &str, h: u32) -> Candidate<u32> {
        Candidate {
            labels: Labels::new(&[("__name__", name)]).unwrap(),
            handle: h,
        }
    }

    #[test]
    fn groups_equal_labels_in_source_order_and_limits() {
        let g = group_sorted(vec![c("b", 1), c("a", 2), c("b", 3), c("c", 4)], 0);
        let got: Vec<(String, Vec<u32>)> = g
            .into_iter()
            .map(|(l, h)| (l.metric_name().unwrap().to_owned(), h))
            .collect();
        assert_eq!(
            got,
            vec![
                ("a".into(), vec![2]),
                ("b".into(), vec![1, 3]),
                ("c".into(), vec![4])
            ]
        );
        let g = group_sorted(vec![c("b", 1), c("a", 2), c("b", 3), c("c", 4)], 2);
        assert_eq!(g.len(), 2);
        assert_eq!(g[1].1, vec![1, 3]);
    }
}
