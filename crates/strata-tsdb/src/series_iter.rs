//! Sample iteration over a series' chunks, shared by the head and block queriers:
//! decodes XOR chunks lazily, keeps samples within `[mint, maxt]`, skips deleted
//! intervals, and merges in a sorted list of extra samples (the head's out-of-order
//! buffer), preferring the chunk's sample on equal timestamps. Native histogram chunks
//! are kept apart: the float samples skip them, `drain_histograms_into` decodes them.

use std::collections::VecDeque;

use strata_model::Labels;
use strata_model::histogram::FloatHistogram;
use strata_model::storage::SampleIterator;

use crate::chunkenc::histogram::decode_histogram_chunk;
use crate::chunkenc::{
    ENC_FLOAT_HISTOGRAM, ENC_HISTOGRAM, ENC_XOR, XorIter, chunk_num_samples, encoding_name,
};
use crate::error::Error;
use crate::tombstones::Interval;

/// One chunk to read: its encoding byte, time range and bytes.
pub struct ChunkData<B> {
    pub encoding: u8,
    pub mint: i64,
    pub maxt: i64,
    pub data: B,
}

/// A chunk held in memory by the head.
pub type SharedChunk = ChunkData<std::sync::Arc<[u8]>>;

/// Iterates the samples of one series.
pub struct ChunkSamples<B: AsRef<[u8]> + Send> {
    /// Names the series in error messages (formatted only then).
    series: Labels,
    chunks: VecDeque<ChunkData<B>>,
    /// Native histogram chunks, for `drain_histograms_into`.
    hist_chunks: Vec<ChunkData<B>>,
    cur: Option<XorIter<B>>,
    mint: i64,
    maxt: i64,
    extra: Vec<(i64, f64)>,
    extra_pos: usize,
    peeked: Option<(i64, f64)>,
    deleted: Vec<Interval>,
    done: bool,
}

impl<B: AsRef<[u8]> + Send> ChunkSamples<B> {
    /// `series` names the series in error messages.
    pub fn new(
        series: Labels,
        chunks: Vec<ChunkData<B>>,
        mint: i64,
        maxt: i64,
        extra: Vec<(i64, f64)>,
        deleted: Vec<Interval>,
    ) -> Self {
        let (hist_chunks, chunks): (Vec<_>, Vec<_>) = chunks
            .into_iter()
            .partition(|c| c.encoding == ENC_HISTOGRAM || c.encoding == ENC_FLOAT_HISTOGRAM);
        ChunkSamples {
            series,
            chunks: chunks.into(),
            hist_chunks,
            cur: None,
            mint,
            maxt,
            extra,
            extra_pos: 0,
            peeked: None,
            deleted,
            done: false,
        }
    }

    fn next_from_chunks(&mut self) -> strata_model::Result<Option<(i64, f64)>> {
        loop {
            if let Some(it) = self.cur.as_mut() {
                match it.next_sample() {
                    Ok(Some((t, v))) => {
                        if t < self.mint {
                            continue;
                        }
                        if t > self.maxt {
                            self.cur = None;
                            self.chunks.clear();
                            return Ok(None);
                        }
                        return Ok(Some((t, v)));
                    }
                    Ok(None) => self.cur = None,
                    Err(e) => {
                        self.cur = None;
                        return Err(Error::Decode(format!("series {}: {e}", self.series)).into());
                    }
                }
            }
            if !self.open_next_chunk()? {
                return Ok(None);
            }
        }
    }

    /// Makes the next chunk overlapping `[mint, maxt]` current; false when none is left.
    fn open_next_chunk(&mut self) -> strata_model::Result<bool> {
        loop {
            let Some(c) = self.chunks.pop_front() else {
                return Ok(false);
            };
            if c.maxt < self.mint || c.mint > self.maxt {
                continue;
            }
            if c.encoding != ENC_XOR {
                return Err(Error::Unsupported {
                    what: "chunk encoding",
                    detail: format!(
                        "series {}: {} chunk (encoding {}) with {} samples in [{}, {}]",
                        self.series,
                        encoding_name(c.encoding),
                        c.encoding,
                        chunk_num_samples(c.data.as_ref()),
                        c.mint,
                        c.maxt
                    ),
                }
                .into());
            }
            self.cur = Some(XorIter::new(c.data));
            return Ok(true);
        }
    }

    fn is_deleted(&self, t: i64) -> bool {
        self.deleted.iter().any(|iv| iv.mint <= t && t <= iv.maxt)
    }

    fn next_merged(&mut self) -> strata_model::Result<Option<(i64, f64)>> {
        if self.peeked.is_none() {
            self.peeked = self.next_from_chunks()?;
        }
        while let Some(&(et, _)) = self.extra.get(self.extra_pos) {
            if et < self.mint {
                self.extra_pos += 1;
            } else {
                break;
            }
        }
        let extra = self
            .extra
            .get(self.extra_pos)
            .copied()
            .filter(|s| s.0 <= self.maxt);
        match (self.peeked, extra) {
            (None, None) => Ok(None),
            (Some(c), None) => {
                self.peeked = None;
                Ok(Some(c))
            }
            (None, Some(e)) => {
                self.extra_pos += 1;
                Ok(Some(e))
            }
            (Some(c), Some(e)) => {
                if e.0 < c.0 {
                    self.extra_pos += 1;
                    Ok(Some(e))
                } else {
                    if e.0 == c.0 {
                        self.extra_pos += 1;
                    }
                    self.peeked = None;
                    Ok(Some(c))
                }
            }
        }
    }
}

impl<B: AsRef<[u8]> + Send> SampleIterator for ChunkSamples<B> {
    fn drain_into(&mut self, out: &mut Vec<(i64, f64)>) -> strata_model::Result<()> {
        if self.done {
            return Ok(());
        }
        if !(self.extra.is_empty() && self.deleted.is_empty() && self.peeked.is_none()) {
            while let Some(s) = self.next_sample()? {
                out.push(s);
            }
            return Ok(());
        }
        // Nothing to merge or skip: decode the chunks straight into `out`.
        // Reserve for the samples expected inside [mint, maxt]: each chunk's count scaled
        // by how much of its time range overlaps (reserving whole chunks for a short
        // lookback window would multiply a large query's memory).
        let (mint, maxt) = (self.mint, self.maxt);
        let announced: usize = self
            .chunks
            .iter()
            .map(|c| {
                let n = f64::from(chunk_num_samples(c.data.as_ref()));
                let span = (c.maxt as f64 - c.mint as f64).max(0.0) + 1.0;
                let overlap =
                    (maxt.min(c.maxt) as f64 - mint.max(c.mint) as f64 + 1.0).clamp(0.0, span);
                (n * overlap / span).ceil() as usize
            })
            .sum();
        out.reserve(announced.saturating_add(self.cur.as_ref().map_or(0, |c| c.len())));
        loop {
            if let Some(it) = self.cur.as_mut() {
                match it.drain_range(out, self.mint, self.maxt) {
                    Ok(false) => self.cur = None,
                    Ok(true) => {
                        self.cur = None;
                        self.chunks.clear();
                        self.done = true;
                        return Ok(());
                    }
                    Err(e) => {
                        self.cur = None;
                        self.done = true;
                        return Err(Error::Decode(format!("series {}: {e}", self.series)).into());
                    }
                }
            }
            match self.open_next_chunk() {
                Ok(true) => {}
                Ok(false) => {
                    self.done = true;
                    return Ok(());
                }
                Err(e) => {
                    self.done = true;
                    return Err(e);
                }
            }
        }
    }

    fn drain_histograms_into(
        &mut self,
        out: &mut Vec<(i64, FloatHistogram)>,
    ) -> strata_model::Result<()> {
        for c in std::mem::take(&mut self.hist_chunks) {
            if c.maxt < self.mint || c.mint > self.maxt {
                continue;
            }
            let samples = decode_histogram_chunk(c.encoding, c.data.as_ref())
                .map_err(|e| Error::Decode(format!("series {}: {e}", self.series)))?;
            for s in samples {
                if s.t >= self.mint && s.t <= self.maxt && !self.is_deleted(s.t) {
                    out.push((s.t, s.h));
                }
            }
        }
        Ok(())
    }

    fn next_sample(&mut self) -> strata_model::Result<Option<(i64, f64)>> {
        if self.done {
            return Ok(None);
        }
        loop {
            match self.next_merged() {
                Ok(Some((t, v))) => {
                    if !self.deleted.is_empty() && self.is_deleted(t) {
                        continue;
                    }
                    return Ok(Some((t, v)));
                }
                Ok(None) => {
                    self.done = true;
                    return Ok(None);
                }
                Err(e) => {
                    self.done = true;
                    return Err(e);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chunkenc::XorChunk;

    fn s_labels() -> Labels {
        Labels::from_sorted([("__name__", "s")])
    }

    fn chunk(samples: &[(i64, f64)]) -> ChunkData<Vec<u8>> {
        let mut c = XorChunk::new();
        for (t, v) in samples {
            c.append(*t, *v);
        }
        ChunkData {
            encoding: ENC_XOR,
            mint: samples[0].0,
            maxt: samples[samples.len() - 1].0,
            data: c.bytes().to_vec(),
        }
    }

    fn all(mut it: impl SampleIterator) -> Vec<(i64, f64)> {
        let mut v = Vec::new();
        while let Some(s) = it.next_sample().unwrap() {
            v.push(s);
        }
        v
    }

    #[test]
    fn drain_into_matches_sample_by_sample() {
        let mk = || {
            vec![
                chunk(&[(1, 1.0), (2, 2.5), (3, -3.0), (5, 0.1)]),
                chunk(&[(10, 10.0), (11, f64::NAN), (13, 1e300)]),
                chunk(&[(20, 7.0), (21, 7.0)]),
            ]
        };
        for (mint, maxt) in [(0, 100), (2, 11), (3, 3), (6, 9), (12, 20), (30, 40)] {
            let want = all(ChunkSamples::new(
                s_labels(),
                mk(),
                mint,
                maxt,
                vec![],
                vec![],
            ));
            let mut got = Vec::new();
            ChunkSamples::new(s_labels(), mk(), mint, maxt, vec![], vec![])
                .drain_into(&mut got)
                .unwrap();
            let bits =
                |v: &[(i64, f64)]| v.iter().map(|p| (p.0, p.1.to_bits())).collect::<Vec<_>>();
            assert_eq!(bits(&got), bits(&want), "{mint} {maxt}");
        }
    }

    #[test]
    fn filters_range_merges_extra_and_skips_deleted() {
        let chunks = vec![
            chunk(&[(1, 1.0), (2, 2.0), (3, 3.0)]),
            chunk(&[(10, 10.0), (11, 11.0)]),
        ];
        let it = ChunkSamples::new(
            s_labels(),
            chunks,
            2,
            10,
            vec![(0, 0.5), (3, 99.0), (5, 5.0), (12, 12.0)],
            vec![Interval { mint: 10, maxt: 10 }],
        );
        assert_eq!(all(it), vec![(2, 2.0), (3, 3.0), (5, 5.0)]);
    }

    #[test]
    fn histogram_chunks_are_apart_from_floats() {
        use crate::chunkenc::HistogramChunk;
        use strata_model::histogram::Histogram;
        let mut hc = HistogramChunk::new();
        for t in [4, 5, 6] {
            let h = Histogram {
                count: t as u64,
                sum: 1.0,
                ..Histogram::default()
            };
            hc.append(t, &h, None).unwrap();
        }
        let mk = || {
            vec![
                chunk(&[(1, 1.0), (2, 2.0)]),
                ChunkData {
                    encoding: ENC_HISTOGRAM,
                    mint: 4,
                    maxt: 6,
                    data: hc.bytes().to_vec(),
                },
                chunk(&[(8, 8.0)]),
            ]
        };
        let deleted = vec![Interval { mint: 5, maxt: 5 }];
        let mut it = ChunkSamples::new(s_labels(), mk(), 2, 10, vec![], deleted.clone());
        let mut hs = Vec::new();
        it.drain_histograms_into(&mut hs).unwrap();
        assert_eq!(
            hs.iter().map(|h| (h.0, h.1.count)).collect::<Vec<_>>(),
            vec![(4, 4.0), (6, 6.0)]
        );
        assert_eq!(all(it), vec![(2, 2.0), (8, 8.0)]);
        let mut got = Vec::new();
        ChunkSamples::new(s_labels(), mk(), 0, 10, vec![], vec![])
            .drain_into(&mut got)
            .unwrap();
        assert_eq!(got, vec![(1, 1.0), (2, 2.0), (8, 8.0)]);
        // Corrupt histogram chunks are reported by the histogram reader only.
        let bad = ChunkData {
            encoding: ENC_HISTOGRAM,
            mint: 0,
            maxt: 5,
            data: vec![0u8, 3, 0, 0],
        };
        let mut it = ChunkSamples::new(
            Labels::from_sorted([("a", "b")]),
            vec![bad],
            0,
            10,
            vec![],
            vec![],
        );
        let e = it
            .drain_histograms_into(&mut Vec::new())
            .unwrap_err()
            .to_string();
        assert!(e.contains("{a=\"b\"}"), "{e}");
        assert_eq!(it.next_sample().unwrap(), None);
    }

    #[test]
    fn unknown_encodings_are_reported_precisely() {
        let c = ChunkData {
            encoding: 9,
            mint: 0,
            maxt: 5,
            data: vec![0u8, 3, 0, 0],
        };
        let mut it = ChunkSamples::new(
            Labels::from_sorted([("a", "b")]),
            vec![c],
            0,
            10,
            vec![],
            vec![],
        );
        let e = it.next_sample().unwrap_err().to_string();
        assert!(
            e.contains("unknown chunk (encoding 9) with 3 samples"),
            "{e}"
        );
    }
}
