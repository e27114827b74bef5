//! One in-memory series: closed XOR chunks, the open chunk, an optional buffer of
//! out-of-order samples accepted within the out-of-order window, and, for series that
//! received native histograms, their chunks ([`HistState`]).

use std::sync::Arc;

use strata_model::Labels;

use super::hist_series::{HistRef, HistState};
use crate::chunkenc::{ENC_XOR, XorChunk, XorIter};
use crate::series_iter::{ChunkData, SharedChunk};

/// A closed, immutable head chunk.
#[derive(Debug, Clone)]
pub struct HeadChunk {
    pub mint: i64,
    pub maxt: i64,
    pub data: Arc<[u8]>,
}

/// The chunk still being appended to.
#[derive(Debug, Clone)]
pub(crate) struct OpenChunk {
    pub mint: i64,
    pub chunk: XorChunk,
}

/// An in-memory series.
#[derive(Debug)]
pub(crate) struct MemSeries {
    pub labels: Labels,
    pub closed: Vec<HeadChunk>,
    pub open: Option<OpenChunk>,
    /// Timestamp and value bits of the newest in-order sample (valid when `has_samples`).
    pub last_t: i64,
    pub last_v: u64,
    /// Out-of-order samples, sorted by timestamp, unique timestamps. Boxed so that the
    /// common case (none) costs 8 bytes per series instead of 24.
    #[allow(clippy::box_collection)]
    pub ooo: Option<Box<Vec<(i64, f64)>>>,
    /// Histogram chunks, once the series received a native histogram.
    pub hist: Option<Box<HistState>>,
    /// Whether the series record has reached the WAL.
    pub logged: bool,
    /// Set when truncation dropped the series from the head: appenders still holding
    /// its cell treat it as unknown.
    pub removed: bool,
}

/// What an in-order sample of a series is, for the checks of a commit.
pub(crate) const LAST_IS_HISTOGRAM: u8 = 1;
/// The series holds histogram chunks (out-of-order floats are not accepted then).
pub(crate) const HAS_HISTOGRAMS: u8 = 2;

impl MemSeries {
    pub fn new(labels: Labels) -> Self {
        MemSeries {
            labels,
            closed: Vec::new(),
            open: None,
            last_t: i64::MIN,
            last_v: 0,
            ooo: None,
            hist: None,
            logged: false,
            removed: false,
        }
    }

    pub fn has_samples(&self) -> bool {
        self.open.is_some()
            || !self.closed.is_empty()
            || self.hist.as_ref().is_some_and(|h| h.has_chunks())
    }

    /// `LAST_IS_HISTOGRAM` and `HAS_HISTOGRAMS` flags.
    pub fn hist_flags(&self) -> u8 {
        match &self.hist {
            None => 0,
            Some(h) => {
                HAS_HISTOGRAMS
                    | if h.last.is_some() {
                        LAST_IS_HISTOGRAM
                    } else {
                        0
                    }
            }
        }
    }

    /// Smallest timestamp held (in-order or out-of-order), if any.
    pub fn min_time(&self) -> Option<i64> {
        let in_order = self
            .closed
            .first()
            .map(|c| c.mint)
            .or(self.open.as_ref().map(|o| o.mint));
        let ooo = self.ooo.as_ref().and_then(|o| o.first().map(|s| s.0));
        let hist = self.hist.as_ref().and_then(|h| h.min_time());
        [in_order, ooo, hist].into_iter().flatten().min()
    }

    /// Largest timestamp held, if any.
    pub fn max_time(&self) -> Option<i64> {
        let in_order = self.has_samples().then_some(self.last_t);
        let ooo = self.ooo.as_ref().and_then(|o| o.last().map(|s| s.0));
        match (in_order, ooo) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        }
    }

    /// Appends an in-order sample (the caller has validated `t > last_t`). A new chunk is
    /// cut after `max_samples` samples or when `t` crosses a `chunk_range` boundary, so
    /// that no chunk spans two blocks.
    pub fn append(&mut self, t: i64, v: f64, max_samples: u16, chunk_range: i64) {
        if let Some(h) = self.hist.as_deref_mut() {
            h.close_open();
            h.last = None;
        }
        let cut = match &self.open {
            None => true,
            Some(o) => {
                o.chunk.num_samples() >= max_samples
                    || t.div_euclid(chunk_range) != o.mint.div_euclid(chunk_range)
            }
        };
        if cut {
            self.close_open();
            self.open = Some(OpenChunk {
                mint: t,
                chunk: XorChunk::with_capacity(self.next_chunk_capacity()),
            });
        }
        if let Some(o) = self.open.as_mut() {
            o.chunk.append(t, v);
        }
        self.last_t = t;
        self.last_v = v.to_bits();
    }

    /// Bytes to reserve for a new chunk: a little more than the previous chunk took (a
    /// series' samples compress alike), which saves the reallocations of a growing
    /// vector and most of its unused capacity.
    fn next_chunk_capacity(&self) -> usize {
        match self.closed.last() {
            Some(c) => c.data.len() + c.data.len() / 8 + 8,
            None => 64,
        }
    }

    /// Appends an in-order histogram (the caller has validated order and value).
    pub fn append_histogram(&mut self, t: i64, h: HistRef<'_>, chunk_range: i64) {
        self.close_open();
        self.hist
            .get_or_insert_with(Box::default)
            .append(t, h, chunk_range);
        self.last_t = t;
        self.last_v = 0;
    }

    fn close_open(&mut self) {
        if let Some(o) = self.open.take() {
            self.closed.push(HeadChunk {
                mint: o.mint,
                maxt: o.chunk.last_t(),
                data: Arc::from(o.chunk.bytes()),
            });
        }
    }

    /// Inserts an out-of-order sample. Returns `Err(stored)` when a different value is
    /// already stored at `t`, `Ok(false)` for an identical duplicate.
    pub fn insert_ooo(&mut self, t: i64, v: f64) -> Result<bool, f64> {
        let buf = self.ooo.get_or_insert_with(Default::default);
        match buf.binary_search_by_key(&t, |s| s.0) {
            Ok(i) => {
                let stored = buf[i].1;
                if stored.to_bits() == v.to_bits() {
                    Ok(false)
                } else {
                    Err(stored)
                }
            }
            Err(i) => {
                buf.insert(i, (t, v));
                Ok(true)
            }
        }
    }

    /// The value stored at `t`, in order or out of order, if any.
    pub fn value_at(&self, t: i64) -> Option<f64> {
        if let Some(buf) = self.ooo.as_ref()
            && let Ok(i) = buf.binary_search_by_key(&t, |s| s.0)
        {
            return Some(buf[i].1);
        }
        let find = |it: XorIter<&[u8]>| {
            let mut it = it;
            while let Ok(Some((st, v))) = it.next_sample() {
                if st == t {
                    return Some(v);
                }
                if st > t {
                    break;
                }
            }
            None
        };
        if let Some(c) = self.closed.iter().find(|c| c.mint <= t && t <= c.maxt) {
            return find(XorIter::new(&c.data[..]));
        }
        match &self.open {
            Some(o) if o.mint <= t && t <= o.chunk.last_t() => find(o.chunk.iter()),
            _ => None,
        }
    }

    /// Chunks overlapping `[mint, maxt]` (XOR and histogram, by time), the open ones
    /// copied, plus out-of-order samples in range.
    pub fn snapshot(&self, mint: i64, maxt: i64) -> (Vec<SharedChunk>, Vec<(i64, f64)>) {
        let overlaps = |lo: i64, hi: i64| hi >= mint && lo <= maxt;
        let mut chunks: Vec<SharedChunk> = self
            .closed
            .iter()
            .filter(|c| overlaps(c.mint, c.maxt))
            .map(|c| ChunkData {
                encoding: ENC_XOR,
                mint: c.mint,
                maxt: c.maxt,
                data: c.data.clone(),
            })
            .collect();
        if let Some(o) = &self.open {
            let omax = o.chunk.last_t();
            if overlaps(o.mint, omax) {
                chunks.push(ChunkData {
                    encoding: ENC_XOR,
                    mint: o.mint,
                    maxt: omax,
                    data: Arc::from(o.chunk.bytes()),
                });
            }
        }
        if let Some(h) = &self.hist {
            for c in h.closed.iter().filter(|c| overlaps(c.mint, c.maxt)) {
                chunks.push(ChunkData {
                    encoding: c.encoding,
                    mint: c.mint,
                    maxt: c.maxt,
                    data: c.data.clone(),
                });
            }
            if let Some(o) = &h.open
                && overlaps(o.mint, o.chunk.last_t())
            {
                chunks.push(ChunkData {
                    encoding: o.chunk.encoding(),
                    mint: o.mint,
                    maxt: o.chunk.last_t(),
                    data: Arc::from(o.chunk.bytes()),
                });
            }
            chunks.sort_by_key(|c| c.mint);
        }
        let ooo = self
            .ooo
            .as_ref()
            .map(|b| {
                b.iter()
                    .copied()
                    .filter(|s| s.0 >= mint && s.0 <= maxt)
                    .collect()
            })
            .unwrap_or_default();
        (chunks, ooo)
    }

    /// Drops data older than `mint`: whole chunks whose samples are all before it, and
    /// out-of-order samples before it. A chunk straddling `mint` is kept whole (queries
    /// filter by time). Returns true when the series is now empty.
    pub fn truncate_before(&mut self, mint: i64) -> bool {
        self.closed.retain(|c| c.maxt >= mint);
        if self.open.as_ref().is_some_and(|o| o.chunk.last_t() < mint) {
            self.open = None;
        }
        if let Some(b) = self.ooo.as_mut() {
            b.retain(|s| s.0 >= mint);
            if b.is_empty() {
                self.ooo = None;
            }
        }
        if let Some(h) = self.hist.as_deref_mut() {
            h.truncate_before(mint);
            if !h.has_chunks() {
                self.hist = None;
            }
        }
        !self.has_samples() && self.ooo.is_none()
    }

    /// Approximate heap bytes held by this series (labels, chunks, buffers).
    pub fn heap_size(&self) -> usize {
        let closed: usize = self.closed.iter().map(|c| c.data.len() + 16).sum::<usize>()
            + self.closed.capacity() * std::mem::size_of::<HeadChunk>();
        let open = self.open.as_ref().map_or(0, |o| o.chunk.heap_size());
        let ooo = self.ooo.as_ref().map_or(0, |b| b.capacity() * 16 + 24);
        let hist = self.hist.as_ref().map_or(0, |h| h.heap_size());
        self.labels.encoded_len() + 16 + closed + open + ooo + hist
    }
}
