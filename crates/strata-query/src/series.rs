//! Turning the stores' series into the querier's result: series with equal labels (after
//! replica labels are removed) are grouped, and each group's chunks are decoded lazily,
//! on the first sample read, into one sample stream limited to the selected range.
//!
//! Chunks: XOR chunks are decoded; native histogram chunks (wire encodings HISTOGRAM
//! and FLOAT_HISTOGRAM) are skipped with a warning naming the store, since the storage
//! trait carries float samples only; aggregated (downsampled) chunks without a raw chunk
//! are skipped with a warning too.

use std::collections::HashSet;
use std::sync::Arc;

use strata_model::storage::{SampleIterator, Warnings};
use strata_model::{Labels, Result as ModelResult};
use strata_proto::storepb::chunk::Encoding;
use strata_proto::storepb::{AggrChunk, Chunk};
use strata_tsdb::chunkenc::XorIter;

use crate::dedup::{Sample, merge_replicas, sort_dedup, split_overlapping};
use crate::error::Error;
use crate::options::DedupFunc;

/// What every group of one selection shares.
pub(crate) struct Decode {
    pub start: i64,
    pub end: i64,
    pub dedup: bool,
    pub func: DedupFunc,
    pub warnings: Warnings,
}

/// One store's chunks of a series.
pub(crate) struct Member {
    pub store: Arc<str>,
    pub chunks: Vec<AggrChunk>,
}

/// Series from one or more stores that share `labels`.
pub(crate) struct Group {
    pub labels: Labels,
    pub members: Vec<Member>,
}

/// A chunk with the store it came from.
struct Owned<'a> {
    store: &'a str,
    min_t: i64,
    max_t: i64,
    raw: &'a Chunk,
}

impl Decode {
    /// Appends the samples of `c` within the range to `out`.
    fn chunk(&self, labels: &Labels, c: &Owned<'_>, out: &mut Vec<Sample>) -> ModelResult<()> {
        if c.max_t < self.start || c.min_t > self.end {
            return Ok(());
        }
        match Encoding::try_from(c.raw.r#type) {
            Ok(Encoding::Xor) => {
                let mut it = XorIter::new(c.raw.data.as_ref());
                it.drain_range(out, self.start, self.end)
                    .map_err(|e| Error::BadChunk {
                        store: c.store.to_owned(),
                        series: labels.to_string(),
                        reason: e.to_string(),
                    })?;
                Ok(())
            }
            Ok(Encoding::Histogram | Encoding::FloatHistogram) => {
                self.warnings.push(format!(
                    "store {}: native histogram chunks skipped: the distributed querier reads float samples only",
                    c.store
                ));
                Ok(())
            }
            Err(_) => Err(Error::BadChunk {
                store: c.store.to_owned(),
                series: labels.to_string(),
                reason: format!("unknown chunk encoding {}", c.raw.r#type),
            }
            .into()),
        }
    }

    /// The chunks of `members` that carry raw data, warning about the others.
    fn raw_chunks<'a>(&self, members: &'a [Member]) -> Vec<Owned<'a>> {
        let mut out = Vec::new();
        for m in members {
            for c in &m.chunks {
                match &c.raw {
                    Some(raw) => out.push(Owned {
                        store: &m.store,
                        min_t: c.min_time,
                        max_t: c.max_time,
                        raw,
                    }),
                    None => self.warnings.push(format!(
                        "store {}: aggregated (downsampled) chunks skipped: the distributed querier reads raw data only",
                        m.store
                    )),
                }
            }
        }
        out.sort_by_key(|c| (c.min_t, c.max_t));
        out
    }

    /// Decodes chunks in order and sorts the result if they overlapped.
    fn decode_all(&self, labels: &Labels, chunks: &[&Owned<'_>]) -> ModelResult<Vec<Sample>> {
        let mut out = Vec::new();
        for c in chunks {
            self.chunk(labels, c, &mut out)?;
        }
        sort_dedup(&mut out);
        Ok(out)
    }

    /// The group's samples: merged by timestamp, or deduplicated across replicas.
    pub fn samples(&self, g: &Group) -> ModelResult<Vec<Sample>> {
        if !self.dedup {
            // Each store's samples in time order; equal timestamps: the first store wins.
            let mut lists = Vec::with_capacity(g.members.len());
            for m in &g.members {
                let cs = self.raw_chunks(std::slice::from_ref(m));
                let refs: Vec<&Owned<'_>> = cs.iter().collect();
                lists.push(self.decode_all(&g.labels, &refs)?);
            }
            return Ok(crate::dedup::chain_merge(lists));
        }
        let mut chunks = self.raw_chunks(&g.members);
        // Identical chunks once, then chains of non-overlapping chunks as replicas.
        let mut seen: HashSet<(i32, &[u8])> = HashSet::new();
        chunks.retain(|c| seen.insert((c.raw.r#type, c.raw.data.as_ref())));
        let ranges: Vec<(i64, i64)> = chunks.iter().map(|c| (c.min_t, c.max_t)).collect();
        let mut replicas = Vec::new();
        for chain in split_overlapping(&ranges) {
            let cs: Vec<&Owned<'_>> = chain.iter().map(|&i| &chunks[i]).collect();
            replicas.push(self.decode_all(&g.labels, &cs)?);
        }
        Ok(merge_replicas(replicas, self.func))
    }
}

/// A group's samples, decoded on the first read.
pub(crate) struct GroupSamples {
    group: Option<Group>,
    decode: Arc<Decode>,
    samples: Vec<Sample>,
    pos: usize,
}

impl GroupSamples {
    pub fn new(group: Group, decode: Arc<Decode>) -> Self {
        GroupSamples {
            group: Some(group),
            decode,
            samples: Vec::new(),
            pos: 0,
        }
    }

    fn load(&mut self) -> ModelResult<()> {
        if let Some(g) = self.group.take() {
            self.samples = self.decode.samples(&g)?;
        }
        Ok(())
    }
}

impl SampleIterator for GroupSamples {
    fn next_sample(&mut self) -> ModelResult<Option<(i64, f64)>> {
        self.load()?;
        let s = self.samples.get(self.pos).copied();
        self.pos += usize::from(s.is_some());
        Ok(s)
    }

    fn drain_into(&mut self, out: &mut Vec<(i64, f64)>) -> ModelResult<()> {
        self.load()?;
        out.extend_from_slice(self.samples.get(self.pos..).unwrap_or_default());
        self.pos = self.samples.len();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use strata_tsdb::chunkenc::XorChunk;

    fn xor(samples: &[Sample]) -> AggrChunk {
        let mut c = XorChunk::new();
        for &(t, v) in samples {
            c.append(t, v);
        }
        AggrChunk {
            min_time: samples.first().map_or(0, |s| s.0),
            max_time: samples.last().map_or(0, |s| s.0),
            raw: Some(Chunk {
                r#type: Encoding::Xor as i32,
                data: c.bytes().to_vec().into(),
                hash: 0,
            }),
            ..AggrChunk::default()
        }
    }

    fn decode(dedup: bool) -> Decode {
        Decode {
            start: 0,
            end: 1_000_000,
            dedup,
            func: DedupFunc::Penalty,
            warnings: Warnings::default(),
        }
    }

    fn group(members: Vec<(&str, Vec<AggrChunk>)>) -> Group {
        Group {
            labels: Labels::new(&[("a", "1")]).unwrap(),
            members: members
                .into_iter()
                .map(|(s, chunks)| Member {
                    store: s.into(),
                    chunks,
                })
                .collect(),
        }
    }

    #[test]
    fn identical_chunks_are_kept_once_and_replicas_fill_gaps() {
        let a: Vec<Sample> = (0..10).map(|i| (i * 10_000, i as f64)).collect();
        let first = xor(&a[..5]);
        let g = group(vec![
            ("s1", vec![first.clone(), xor(&a[8..])]),
            ("s2", vec![first, xor(&a[5..])]),
        ]);
        assert_eq!(decode(true).samples(&g).unwrap(), a);
        // Without dedup, both stores' samples merge by timestamp.
        assert_eq!(decode(false).samples(&g).unwrap(), a);
    }

    #[test]
    fn samples_are_limited_to_the_range_and_histograms_warned() {
        let d = Decode {
            start: 20_000,
            end: 40_000,
            ..decode(false)
        };
        let mut h = xor(&[(30_000, 0.)]);
        if let Some(r) = h.raw.as_mut() {
            r.r#type = Encoding::Histogram as i32;
        }
        let agg = AggrChunk {
            raw: None,
            ..xor(&[(0, 0.)])
        };
        let a: Vec<Sample> = (0..10).map(|i| (i * 10_000, i as f64)).collect();
        let g = group(vec![("s1", vec![xor(&a), h, agg])]);
        assert_eq!(
            d.samples(&g).unwrap(),
            vec![(20_000, 2.), (30_000, 3.), (40_000, 4.)]
        );
        let w = d.warnings.snapshot();
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(w[0].starts_with("store s1: aggregated (downsampled) chunks skipped"));
        assert!(w[1].starts_with("store s1: native histogram chunks skipped"));
    }

    #[test]
    fn corrupt_and_unknown_chunks_are_errors_naming_store_and_series() {
        let mut c = xor(&[(0, 1.), (10, 2.)]);
        if let Some(r) = c.raw.as_mut() {
            r.data = r.data.slice(..3);
        }
        let e = decode(false)
            .samples(&group(vec![("s9", vec![c])]))
            .unwrap_err();
        assert!(
            e.to_string().contains(r#"series {a="1"} from store s9"#),
            "{e}"
        );
        let mut c = xor(&[(0, 1.)]);
        if let Some(r) = c.raw.as_mut() {
            r.r#type = 7;
        }
        let e = decode(false)
            .samples(&group(vec![("s9", vec![c])]))
            .unwrap_err();
        assert!(e.to_string().contains("unknown chunk encoding 7"), "{e}");
    }

    #[test]
    fn group_samples_decode_lazily() {
        let g = group(vec![("s1", vec![xor(&[(1, 1.), (2, 2.)])])]);
        let mut it = GroupSamples::new(g, Arc::new(decode(false)));
        assert_eq!(it.next_sample().unwrap(), Some((1, 1.)));
        let mut rest = Vec::new();
        it.drain_into(&mut rest).unwrap();
        assert_eq!(rest, vec![(2, 2.)]);
        assert_eq!(it.next_sample().unwrap(), None);
    }
}
