//! The native-histogram part of an in-memory series: closed and open histogram chunks,
//! the last histogram (for duplicate detection), and Prometheus' rules for cutting
//! histogram chunks by size and time.

use std::sync::Arc;

use strata_model::histogram::{FloatHistogram, Histogram};
use tracing::error;

use crate::chunkenc::histogram::{ENC_FLOAT_HISTOGRAM, ENC_HISTOGRAM};
use crate::chunkenc::{FloatHistogramChunk, HistogramAppend, HistogramChunk};

/// Prometheus' `TargetBytesPerHistogramChunk`.
const TARGET_BYTES: usize = 1024;
/// Prometheus' `MinSamplesPerHistogramChunk`.
const MIN_SAMPLES: u16 = 10;

/// A histogram sample to append: integer or float.
#[derive(Debug, Clone, Copy)]
pub(crate) enum HistRef<'a> {
    Int(&'a Histogram),
    Float(&'a FloatHistogram),
}

impl HistRef<'_> {
    fn encoding(self) -> u8 {
        match self {
            HistRef::Int(_) => ENC_HISTOGRAM,
            HistRef::Float(_) => ENC_FLOAT_HISTOGRAM,
        }
    }

    fn to_owned_value(self) -> LastHistogram {
        match self {
            HistRef::Int(h) => LastHistogram::Int(h.clone()),
            HistRef::Float(h) => LastHistogram::Float(h.clone()),
        }
    }
}

/// The newest in-order histogram of a series, as appended.
#[derive(Debug, Clone)]
pub(crate) enum LastHistogram {
    Int(Histogram),
    Float(FloatHistogram),
}

impl LastHistogram {
    /// Prometheus' `Equals` between the stored and a new histogram of the same kind.
    pub fn equals(&self, h: HistRef<'_>) -> bool {
        match (self, h) {
            (LastHistogram::Int(a), HistRef::Int(b)) => super::hist_equals::int_equals(a, b),
            (LastHistogram::Float(a), HistRef::Float(b)) => super::hist_equals::float_equals(a, b),
            _ => false,
        }
    }
}

/// A closed, immutable histogram chunk.
#[derive(Debug, Clone)]
pub(crate) struct HistClosed {
    pub mint: i64,
    pub maxt: i64,
    pub encoding: u8,
    pub data: Arc<[u8]>,
}

#[derive(Debug, Clone)]
pub(crate) enum OpenKind {
    Int(HistogramChunk),
    Float(FloatHistogramChunk),
}

impl OpenKind {
    pub fn encoding(&self) -> u8 {
        match self {
            OpenKind::Int(_) => ENC_HISTOGRAM,
            OpenKind::Float(_) => ENC_FLOAT_HISTOGRAM,
        }
    }
    pub fn bytes(&self) -> &[u8] {
        match self {
            OpenKind::Int(c) => c.bytes(),
            OpenKind::Float(c) => c.bytes(),
        }
    }
    fn num_samples(&self) -> u16 {
        match self {
            OpenKind::Int(c) => c.num_samples(),
            OpenKind::Float(c) => c.num_samples(),
        }
    }
    pub fn last_t(&self) -> i64 {
        match self {
            OpenKind::Int(c) => c.last_t(),
            OpenKind::Float(c) => c.last_t(),
        }
    }
    fn heap_size(&self) -> usize {
        match self {
            OpenKind::Int(c) => c.heap_size(),
            OpenKind::Float(c) => c.heap_size(),
        }
    }
}

/// The histogram chunk still being appended to.
#[derive(Debug, Clone)]
pub(crate) struct HistOpen {
    pub mint: i64,
    pub chunk: OpenKind,
}

impl HistOpen {
    fn close(&self) -> HistClosed {
        HistClosed {
            mint: self.mint,
            maxt: self.chunk.last_t(),
            encoding: self.chunk.encoding(),
            data: Arc::from(self.chunk.bytes()),
        }
    }
}

/// Histogram chunks of one series.
#[derive(Debug, Default)]
pub(crate) struct HistState {
    pub closed: Vec<HistClosed>,
    pub open: Option<HistOpen>,
    /// The newest in-order sample when it is a histogram, `None` after a float.
    pub last: Option<LastHistogram>,
    /// When the open chunk should end (Prometheus' `nextAt`).
    next_at: i64,
    /// Whether `next_at` was estimated from the open chunk's fill rate.
    computed_end: bool,
}

/// The end of the chunk range holding `t` (Prometheus' `rangeForTimestamp`).
fn range_end(t: i64, range: i64) -> i64 {
    t.div_euclid(range)
        .saturating_mul(range)
        .saturating_add(range)
}

/// Prometheus' `computeChunkEndTime`: the end that splits the rest of the range into
/// equally full chunks, assuming the rate so far.
fn compute_chunk_end_time(start: i64, cur: i64, max_t: i64, ratio_to_full: f64) -> i64 {
    let n = (max_t - start) as f64 / ((cur - start + 1) as f64 * ratio_to_full);
    if n <= 1.0 {
        return max_t;
    }
    (start as f64 + (max_t - start) as f64 / n.floor()) as i64
}

impl HistState {
    pub fn has_chunks(&self) -> bool {
        self.open.is_some() || !self.closed.is_empty()
    }

    pub fn min_time(&self) -> Option<i64> {
        self.closed
            .first()
            .map(|c| c.mint)
            .or(self.open.as_ref().map(|o| o.mint))
    }

    /// Closes the open chunk, if any.
    pub fn close_open(&mut self) {
        if let Some(o) = self.open.take() {
            self.closed.push(o.close());
        }
    }

    /// Starts a new open chunk at `t`.
    fn cut(&mut self, t: i64, chunk: OpenKind, range: i64) {
        self.close_open();
        self.open = Some(HistOpen { mint: t, chunk });
        self.next_at = range_end(t, range);
    }

    /// Appends an in-order histogram (the caller has validated order and the value):
    /// a new chunk when the kind changes, by size and time as Prometheus'
    /// `histogramsAppendPreprocessor` decides, or when the chunk encoder asks for one
    /// (counter reset, schema change...); a recoded chunk when new buckets appear.
    pub fn append(&mut self, t: i64, h: HistRef<'_>, range: i64) {
        #[derive(PartialEq)]
        enum Cut {
            No,
            Fresh,
            /// A chunk of the same kind is full: the new one's header compares with it.
            Continue,
        }
        let cut = match &self.open {
            None => Cut::Fresh,
            Some(o) if o.chunk.encoding() != h.encoding() => Cut::Fresh,
            Some(o) => {
                let num = o.chunk.num_samples();
                let bytes = o.chunk.bytes().len();
                let next_range_start = if self.computed_end {
                    range_end(o.mint, range)
                } else {
                    self.next_at
                };
                if !self.computed_end && bytes >= TARGET_BYTES / 4 {
                    let ratio = TARGET_BYTES as f64 / bytes as f64;
                    self.next_at =
                        compute_chunk_end_time(o.mint, o.chunk.last_t(), self.next_at, ratio);
                    self.computed_end = true;
                }
                let full = t >= self.next_at || bytes >= TARGET_BYTES * 2;
                if (full && (num >= MIN_SAMPLES || t >= next_range_start)) || num == u16::MAX {
                    Cut::Continue
                } else {
                    Cut::No
                }
            }
        };
        let mut prev: Option<HistOpen> = None;
        if cut != Cut::No {
            if cut == Cut::Continue {
                prev = self.open.take();
                if let Some(p) = &prev {
                    self.closed.push(p.close());
                }
            }
            let fresh = match h {
                HistRef::Int(_) => OpenKind::Int(HistogramChunk::new()),
                HistRef::Float(_) => OpenKind::Float(FloatHistogramChunk::new()),
            };
            self.cut(t, fresh, range);
            self.computed_end = false;
        }
        let Some(open) = self.open.as_mut() else {
            return;
        };
        let outcome = match (&mut open.chunk, h) {
            (OpenKind::Int(c), HistRef::Int(h)) => {
                let p = match prev.as_ref().map(|p| &p.chunk) {
                    Some(OpenKind::Int(p)) => Some(p),
                    _ => None,
                };
                c.append(t, h, p).map(|o| map_outcome(o, OpenKind::Int))
            }
            (OpenKind::Float(c), HistRef::Float(h)) => {
                let p = match prev.as_ref().map(|p| &p.chunk) {
                    Some(OpenKind::Float(p)) => Some(p),
                    _ => None,
                };
                c.append(t, h, p).map(|o| map_outcome(o, OpenKind::Float))
            }
            // The cut above guarantees matching kinds.
            _ => Ok(HistogramAppend::Appended),
        };
        match outcome {
            Ok(HistogramAppend::Appended) => {}
            Ok(HistogramAppend::Recoded(c)) => open.chunk = c,
            Ok(HistogramAppend::NewChunk(c)) => self.cut(t, c, range),
            Err(e) => {
                // Only a chunk we wrote ourselves is decoded here; should that ever
                // fail, keep the sample in a chunk of its own.
                error!(error = %e, t, "recoding a histogram chunk failed; starting a new chunk");
                let mut fresh = match h {
                    HistRef::Int(_) => OpenKind::Int(HistogramChunk::new()),
                    HistRef::Float(_) => OpenKind::Float(FloatHistogramChunk::new()),
                };
                let _ = match (&mut fresh, h) {
                    (OpenKind::Int(c), HistRef::Int(h)) => c.append(t, h, None).map(|_| ()),
                    (OpenKind::Float(c), HistRef::Float(h)) => c.append(t, h, None).map(|_| ()),
                    _ => Ok(()),
                };
                self.cut(t, fresh, range);
            }
        }
        self.last = Some(h.to_owned_value());
    }

    /// Drops chunks entirely before `mint`.
    pub fn truncate_before(&mut self, mint: i64) {
        self.closed.retain(|c| c.maxt >= mint);
        if self.open.as_ref().is_some_and(|o| o.chunk.last_t() < mint) {
            self.open = None;
        }
    }

    pub fn heap_size(&self) -> usize {
        let closed: usize = self.closed.iter().map(|c| c.data.len() + 16).sum::<usize>()
            + self.closed.capacity() * std::mem::size_of::<HistClosed>();
        let open = self.open.as_ref().map_or(0, |o| o.chunk.heap_size());
        std::mem::size_of::<HistState>() + closed + open
    }
}

fn map_outcome<C>(o: HistogramAppend<C>, wrap: fn(C) -> OpenKind) -> HistogramAppend<OpenKind> {
    match o {
        HistogramAppend::Appended => HistogramAppend::Appended,
        HistogramAppend::Recoded(c) => HistogramAppend::Recoded(wrap(c)),
        HistogramAppend::NewChunk(c) => HistogramAppend::NewChunk(wrap(c)),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use strata_model::histogram::Span;

    fn h(count: u64) -> Histogram {
        Histogram {
            count,
            sum: count as f64,
            positive_spans: vec![Span {
                offset: 0,
                length: 1,
            }],
            positive_deltas: vec![count as i64],
            ..Histogram::default()
        }
    }

    #[test]
    fn cuts_at_range_ends_kind_changes_and_resets() {
        let range = 1_000_000;
        let mut s = HistState::default();
        for i in 0..100u64 {
            s.append(i as i64 * 1000, HistRef::Int(&h(i)), range);
        }
        // Small histograms: one chunk until the range is filled.
        assert_eq!(s.closed.len(), 0);
        // Crossing the range end cuts.
        s.append(range, HistRef::Int(&h(200)), range);
        assert_eq!(s.closed.len(), 1);
        // A counter reset cuts.
        s.append(range + 1, HistRef::Int(&h(1)), range);
        assert_eq!(s.closed.len(), 2);
        // A float histogram cuts.
        s.append(range + 2, HistRef::Float(&h(2).to_float()), range);
        assert_eq!(s.closed.len(), 3);
        assert_eq!(
            s.open.as_ref().unwrap().chunk.encoding(),
            ENC_FLOAT_HISTOGRAM
        );
        assert!(
            s.last
                .as_ref()
                .unwrap()
                .equals(HistRef::Float(&h(2).to_float()))
        );
        assert!(!s.last.as_ref().unwrap().equals(HistRef::Int(&h(2))));
    }

    #[test]
    fn big_histograms_cut_by_size() {
        let big = |c: u64| {
            let n = 200;
            Histogram {
                count: c * n,
                sum: 1.0,
                positive_spans: vec![Span {
                    offset: 0,
                    length: n as u32,
                }],
                positive_deltas: std::iter::once(c as i64)
                    .chain(std::iter::repeat_n(0, n as usize - 1))
                    .collect(),
                ..Histogram::default()
            }
        };
        let mut s = HistState::default();
        for i in 0..200u64 {
            // Irregular growth so that every bucket costs bits.
            s.append(i as i64 * 15_000, HistRef::Int(&big(i * i)), 7_200_000);
        }
        assert!(s.closed.len() >= 2, "{}", s.closed.len());
        for c in &s.closed {
            let n = crate::chunkenc::chunk_num_samples(&c.data);
            assert!(n >= MIN_SAMPLES, "{n}");
        }
    }

    #[test]
    fn chunk_end_estimate() {
        // A quarter full after 1/8 of the range: four chunks per range.
        assert_eq!(compute_chunk_end_time(0, 99, 800, 4.0), 400);
        assert_eq!(compute_chunk_end_time(0, 799, 800, 4.0), 800);
        assert_eq!(range_end(-1, 100), 0);
        assert_eq!(range_end(100, 100), 200);
    }
}
