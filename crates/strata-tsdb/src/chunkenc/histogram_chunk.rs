//! Appending integer native histograms to a chunk (encoding 2), bit-exact with
//! Prometheus' `HistogramAppender`.
//!
//! The first sample writes the layout (zero threshold, schema, spans, custom bounds) and
//! its values raw; later samples write timestamp, count and zero count as
//! delta-of-deltas, the sum XOR-encoded and every bucket delta as a delta-of-delta. A
//! histogram with new buckets recodes the chunk with the union layout; one that lacks
//! empty buckets of the chunk is expanded; a counter reset, a schema or zero threshold
//! change, or a stale chunk starts a new chunk, whose header records why.

use std::borrow::Cow;

use strata_model::histogram::{CounterResetHint, Histogram, Span};

use super::bstream::BitWriter;
use super::histogram::{
    CUSTOM_BUCKETS_SCHEMA, HEADER_COUNTER_RESET, HEADER_GAUGE, HEADER_NOT_COUNTER_RESET,
    HEADER_UNKNOWN_COUNTER_RESET, STALE_NAN_BITS, decode_integer_histograms,
};
use super::histogram_bits::{
    XorWriteState, put_custom_bound, put_varbit_int, put_varbit_uint, put_xor, put_zero_threshold,
};
use super::histogram_layout::{
    Insert, adjust_for_inserts, count_buckets, expand_spans_and_buckets, expand_spans_both_ways,
    insert,
};
use crate::error::Result;

const HEADER_SIZE: usize = 3;
const HEADER_MASK: u8 = 0b1100_0000;

/// What appending a histogram did to a chunk.
#[derive(Debug)]
pub enum HistogramAppend<C> {
    /// Appended to this chunk.
    Appended,
    /// The chunk had to be rewritten with a wider layout: replace it with this one,
    /// which holds all its samples plus the new one.
    Recoded(C),
    /// The histogram cannot share this chunk (counter reset, schema change, ...): this
    /// chunk is complete, the returned one starts with the new sample.
    NewChunk(C),
}

/// The bytes of an empty histogram chunk: sample count 0, flags 0.
pub(crate) fn empty_chunk_writer() -> BitWriter {
    BitWriter::from_bytes(vec![0; HEADER_SIZE])
}

/// The counter reset header bits of a histogram chunk.
pub(crate) fn header_of(w: &BitWriter) -> u8 {
    w.bytes().get(2).copied().unwrap_or(0) & HEADER_MASK
}

pub(crate) fn set_header_of(w: &mut BitWriter, header: u8) {
    if let Some(b) = w.bytes.get_mut(2) {
        *b = (*b & !HEADER_MASK) | (header & HEADER_MASK);
    }
}

pub(crate) fn set_num_of(w: &mut BitWriter, num: u16) {
    let [a, b] = num.to_be_bytes();
    if let [x, y, ..] = w.bytes.as_mut_slice() {
        *x = a;
        *y = b;
    }
}

/// Writes the chunk layout of the first sample.
pub(crate) fn write_layout(
    w: &mut BitWriter,
    schema: i32,
    zero_threshold: f64,
    spans: [&[Span]; 2],
    custom_values: &[f64],
) {
    put_zero_threshold(w, zero_threshold);
    put_varbit_int(w, i64::from(schema));
    for side in spans {
        put_varbit_uint(w, side.len() as u64);
        for s in side {
            put_varbit_uint(w, u64::from(s.length));
            put_varbit_int(w, i64::from(s.offset));
        }
    }
    if schema == CUSTOM_BUCKETS_SCHEMA {
        put_varbit_uint(w, custom_values.len() as u64);
        for &c in custom_values {
            put_custom_bound(w, c);
        }
    }
}

/// Prometheus' `CustomBucketBoundsMatch`.
pub(crate) fn custom_bounds_match(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
}

pub(crate) fn is_stale(v: f64) -> bool {
    v.to_bits() == STALE_NAN_BITS
}

/// How a counter histogram relates to the chunk's last sample.
#[derive(Debug, Default)]
struct Appendable {
    pos_forward: Vec<Insert>,
    neg_forward: Vec<Insert>,
    pos_backward: Vec<Insert>,
    neg_backward: Vec<Insert>,
    ok: bool,
    header: u8,
}

/// How a gauge histogram relates to the chunk's layout.
#[derive(Debug, Default)]
pub(crate) struct GaugeAppendable {
    pub pos_forward: Vec<Insert>,
    pub neg_forward: Vec<Insert>,
    pub pos_backward: Vec<Insert>,
    pub neg_backward: Vec<Insert>,
    pub pos_spans: Vec<Span>,
    pub neg_spans: Vec<Span>,
    pub ok: bool,
}

/// An integer histogram chunk being appended to.
#[derive(Debug, Clone)]
pub struct HistogramChunk {
    w: BitWriter,
    num: u16,
    schema: i32,
    zero_threshold: f64,
    pos_spans: Vec<Span>,
    neg_spans: Vec<Span>,
    custom_values: Vec<f64>,
    t: i64,
    cnt: u64,
    zcnt: u64,
    t_delta: i64,
    cnt_delta: i64,
    zcnt_delta: i64,
    pos_buckets: Vec<i64>,
    neg_buckets: Vec<i64>,
    pos_deltas: Vec<i64>,
    neg_deltas: Vec<i64>,
    sum: XorWriteState,
}

impl Default for HistogramChunk {
    fn default() -> Self {
        Self::new()
    }
}

impl HistogramChunk {
    /// An empty chunk.
    pub fn new() -> Self {
        HistogramChunk {
            w: empty_chunk_writer(),
            num: 0,
            schema: 0,
            zero_threshold: 0.0,
            pos_spans: Vec::new(),
            neg_spans: Vec::new(),
            custom_values: Vec::new(),
            t: i64::MIN,
            cnt: 0,
            zcnt: 0,
            t_delta: 0,
            cnt_delta: 0,
            zcnt_delta: 0,
            pos_buckets: Vec::new(),
            neg_buckets: Vec::new(),
            pos_deltas: Vec::new(),
            neg_deltas: Vec::new(),
            sum: XorWriteState::new(0.0),
        }
    }

    /// The encoded chunk, header included, as stored on disk.
    pub fn bytes(&self) -> &[u8] {
        self.w.bytes()
    }

    pub fn num_samples(&self) -> u16 {
        self.num
    }

    /// Timestamp of the last sample.
    pub fn last_t(&self) -> i64 {
        self.t
    }

    /// The counter reset header bits (`HEADER_*` of [`super::histogram`]).
    pub fn counter_reset_header(&self) -> u8 {
        header_of(&self.w)
    }

    pub fn set_counter_reset_header(&mut self, header: u8) {
        set_header_of(&mut self.w, header);
    }

    /// Bytes of heap memory held.
    pub fn heap_size(&self) -> usize {
        self.w.bytes.capacity()
            + (self.pos_spans.capacity() + self.neg_spans.capacity()) * 8
            + (self.pos_buckets.capacity()
                + self.neg_buckets.capacity()
                + self.pos_deltas.capacity()
                + self.neg_deltas.capacity()
                + self.custom_values.capacity())
                * 8
    }

    /// Appends `h` at `t` (after the last sample; the caller checks order and validity).
    /// `prev` is the chunk this one continues, used to set the counter reset header of a
    /// chunk's first sample.
    pub fn append(
        &mut self,
        t: i64,
        h: &Histogram,
        prev: Option<&HistogramChunk>,
    ) -> Result<HistogramAppend<HistogramChunk>> {
        if self.num == u16::MAX {
            let mut c = HistogramChunk::new();
            c.append(t, h, Some(self))?;
            return Ok(HistogramAppend::NewChunk(c));
        }
        if self.num == 0 {
            self.append_raw(t, h);
            match h.counter_reset_hint {
                CounterResetHint::Gauge => self.set_counter_reset_header(HEADER_GAUGE),
                CounterResetHint::CounterReset => {
                    self.set_counter_reset_header(HEADER_COUNTER_RESET)
                }
                _ => {
                    if let Some(p) = prev {
                        self.set_counter_reset_header(p.appendable(h).header);
                    }
                }
            }
            return Ok(HistogramAppend::Appended);
        }
        if h.counter_reset_hint != CounterResetHint::Gauge {
            let a = self.appendable(h);
            if !a.ok || a.header != HEADER_NOT_COUNTER_RESET {
                return Ok(HistogramAppend::NewChunk(self.started_with(a.header, t, h)));
            }
            let mut h = Cow::Borrowed(h);
            if !a.pos_backward.is_empty() || !a.neg_backward.is_empty() {
                let hm = h.to_mut();
                if a.pos_forward.is_empty() && a.neg_forward.is_empty() {
                    hm.positive_spans = self.pos_spans.clone();
                    hm.negative_spans = self.neg_spans.clone();
                } else {
                    hm.positive_spans = adjust_for_inserts(&hm.positive_spans, &a.pos_backward);
                    hm.negative_spans = adjust_for_inserts(&hm.negative_spans, &a.neg_backward);
                }
                expand_histogram(hm, &a.pos_backward, &a.neg_backward);
            }
            return self.finish_append(t, &h, &a.pos_forward, &a.neg_forward);
        }
        let g = self.appendable_gauge(h);
        if !g.ok {
            return Ok(HistogramAppend::NewChunk(self.started_with(
                HEADER_GAUGE,
                t,
                h,
            )));
        }
        let mut h = Cow::Borrowed(h);
        if !g.pos_backward.is_empty() || !g.neg_backward.is_empty() {
            let hm = h.to_mut();
            hm.positive_spans = g.pos_spans;
            hm.negative_spans = g.neg_spans;
            expand_histogram(hm, &g.pos_backward, &g.neg_backward);
        }
        self.finish_append(t, &h, &g.pos_forward, &g.neg_forward)
    }

    /// A new chunk with `header` holding the one sample.
    fn started_with(&self, header: u8, t: i64, h: &Histogram) -> HistogramChunk {
        let mut c = HistogramChunk::new();
        c.set_counter_reset_header(header);
        c.append_raw(t, h);
        c
    }

    /// Appends in place, or recodes first when the chunk needs the forward inserts.
    fn finish_append(
        &mut self,
        t: i64,
        h: &Histogram,
        pos_forward: &[Insert],
        neg_forward: &[Insert],
    ) -> Result<HistogramAppend<HistogramChunk>> {
        if pos_forward.is_empty() && neg_forward.is_empty() {
            self.append_raw(t, h);
            return Ok(HistogramAppend::Appended);
        }
        let mut c = self.recode(
            pos_forward,
            neg_forward,
            &h.positive_spans,
            &h.negative_spans,
        )?;
        c.append_raw(t, h);
        Ok(HistogramAppend::Recoded(c))
    }

    /// Prometheus' `appendable` for counter histograms.
    fn appendable(&self, h: &Histogram) -> Appendable {
        let mut a = Appendable {
            header: HEADER_NOT_COUNTER_RESET,
            ..Appendable::default()
        };
        if self.num > 0 && self.counter_reset_header() == HEADER_GAUGE {
            return a;
        }
        if h.counter_reset_hint == CounterResetHint::CounterReset {
            a.header = HEADER_COUNTER_RESET;
            return a;
        }
        if is_stale(h.sum) {
            a.ok = true;
            return a;
        }
        if is_stale(self.sum.value) {
            a.header = HEADER_UNKNOWN_COUNTER_RESET;
            return a;
        }
        if h.count < self.cnt {
            a.header = HEADER_COUNTER_RESET;
            return a;
        }
        if h.schema != self.schema || h.zero_threshold != self.zero_threshold {
            a.header = HEADER_UNKNOWN_COUNTER_RESET;
            return a;
        }
        if h.schema == CUSTOM_BUCKETS_SCHEMA
            && !custom_bounds_match(&h.custom_values, &self.custom_values)
        {
            a.header = HEADER_COUNTER_RESET;
            return a;
        }
        if h.zero_count < self.zcnt {
            a.header = HEADER_COUNTER_RESET;
            return a;
        }
        let pos = expand_spans_and_buckets(
            &self.pos_spans,
            &h.positive_spans,
            &self.pos_buckets,
            &h.positive_deltas,
            true,
        );
        let neg = expand_spans_and_buckets(
            &self.neg_spans,
            &h.negative_spans,
            &self.neg_buckets,
            &h.negative_deltas,
            true,
        );
        match (pos, neg) {
            (Some((pf, pb)), Some((nf, nb))) => {
                a.pos_forward = pf;
                a.pos_backward = pb;
                a.neg_forward = nf;
                a.neg_backward = nb;
                a.ok = true;
            }
            _ => a.header = HEADER_COUNTER_RESET,
        }
        a
    }

    /// Prometheus' `appendableGauge`.
    fn appendable_gauge(&self, h: &Histogram) -> GaugeAppendable {
        let mut g = GaugeAppendable::default();
        if self.num > 0 && self.counter_reset_header() != HEADER_GAUGE {
            return g;
        }
        if is_stale(h.sum) {
            g.ok = true;
            return g;
        }
        if is_stale(self.sum.value)
            || h.schema != self.schema
            || h.zero_threshold != self.zero_threshold
            || (h.schema == CUSTOM_BUCKETS_SCHEMA
                && !custom_bounds_match(&h.custom_values, &self.custom_values))
        {
            return g;
        }
        (g.pos_forward, g.pos_backward, g.pos_spans) =
            expand_spans_both_ways(&self.pos_spans, &h.positive_spans);
        (g.neg_forward, g.neg_backward, g.neg_spans) =
            expand_spans_both_ways(&self.neg_spans, &h.negative_spans);
        g.ok = true;
        g
    }

    /// This chunk's samples re-encoded with the new spans and empty buckets inserted.
    fn recode(
        &self,
        pos_inserts: &[Insert],
        neg_inserts: &[Insert],
        pos_spans: &[Span],
        neg_spans: &[Span],
    ) -> Result<HistogramChunk> {
        let (np, nn) = (count_buckets(pos_spans), count_buckets(neg_spans));
        let mut c = HistogramChunk::new();
        for (t, mut old) in decode_integer_histograms(self.bytes())? {
            old.positive_spans = pos_spans.to_vec();
            old.negative_spans = neg_spans.to_vec();
            if !pos_inserts.is_empty() {
                old.positive_deltas = insert(&old.positive_deltas, np, pos_inserts, true);
            }
            if !neg_inserts.is_empty() {
                old.negative_deltas = insert(&old.negative_deltas, nn, neg_inserts, true);
            }
            c.append_raw(t, &old);
        }
        c.set_counter_reset_header(self.counter_reset_header());
        Ok(c)
    }

    /// Prometheus' `appendHistogram`: encodes the sample, nothing checked.
    fn append_raw(&mut self, t: i64, h: &Histogram) {
        let stale;
        let h = if is_stale(h.sum) {
            // A stale marker writes no buckets (and an empty layout if it comes first).
            stale = Histogram {
                sum: h.sum,
                ..Histogram::default()
            };
            &stale
        } else {
            h
        };
        let (mut t_delta, mut cnt_delta, mut zcnt_delta) = (0i64, 0i64, 0i64);
        let w = &mut self.w;
        if self.num == 0 {
            write_layout(
                w,
                h.schema,
                h.zero_threshold,
                [&h.positive_spans, &h.negative_spans],
                &h.custom_values,
            );
            self.schema = h.schema;
            self.zero_threshold = h.zero_threshold;
            self.pos_spans = h.positive_spans.clone();
            self.neg_spans = h.negative_spans.clone();
            self.custom_values = h.custom_values.clone();
            let (np, nn) = (
                count_buckets(&h.positive_spans),
                count_buckets(&h.negative_spans),
            );
            self.pos_buckets = vec![0; np];
            self.pos_deltas = vec![0; np];
            self.neg_buckets = vec![0; nn];
            self.neg_deltas = vec![0; nn];
            put_varbit_int(w, t);
            put_varbit_uint(w, h.count);
            put_varbit_uint(w, h.zero_count);
            w.write_bits(h.sum.to_bits(), 64);
            self.sum = XorWriteState::new(h.sum);
            for &b in h.positive_deltas.iter().chain(&h.negative_deltas) {
                put_varbit_int(w, b);
            }
        } else {
            t_delta = t.wrapping_sub(self.t);
            cnt_delta = (h.count as i64).wrapping_sub(self.cnt as i64);
            zcnt_delta = (h.zero_count as i64).wrapping_sub(self.zcnt as i64);
            let t_dod = t_delta.wrapping_sub(self.t_delta);
            let (mut cnt_dod, mut zcnt_dod) = (
                cnt_delta.wrapping_sub(self.cnt_delta),
                zcnt_delta.wrapping_sub(self.zcnt_delta),
            );
            if is_stale(h.sum) {
                (cnt_dod, zcnt_dod) = (0, 0);
            }
            put_varbit_int(w, t_dod);
            put_varbit_int(w, cnt_dod);
            put_varbit_int(w, zcnt_dod);
            put_xor(w, &mut self.sum, h.sum);
            for (side, prev, prev_delta) in [
                (&h.positive_deltas, &self.pos_buckets, &mut self.pos_deltas),
                (&h.negative_deltas, &self.neg_buckets, &mut self.neg_deltas),
            ] {
                for (i, &b) in side.iter().enumerate() {
                    let delta = b.wrapping_sub(prev.get(i).copied().unwrap_or(0));
                    let pd = prev_delta.get(i).copied().unwrap_or(0);
                    put_varbit_int(w, delta.wrapping_sub(pd));
                    if let Some(x) = prev_delta.get_mut(i) {
                        *x = delta;
                    }
                }
            }
        }
        self.t = t;
        self.cnt = h.count;
        self.zcnt = h.zero_count;
        self.t_delta = t_delta;
        self.cnt_delta = cnt_delta;
        self.zcnt_delta = zcnt_delta;
        for (dst, src) in [
            (&mut self.pos_buckets, &h.positive_deltas),
            (&mut self.neg_buckets, &h.negative_deltas),
        ] {
            let n = dst.len().min(src.len());
            dst[..n].copy_from_slice(&src[..n]);
        }
        self.num += 1;
        set_num_of(&mut self.w, self.num);
    }
}

/// Inserts the backward inserts' empty buckets into `h` (its spans already adjusted).
fn expand_histogram(h: &mut Histogram, pos: &[Insert], neg: &[Insert]) {
    if !pos.is_empty() {
        let n = count_buckets(&h.positive_spans);
        h.positive_deltas = insert(&h.positive_deltas, n, pos, true);
    }
    if !neg.is_empty() {
        let n = count_buckets(&h.negative_spans);
        h.negative_deltas = insert(&h.negative_deltas, n, neg, true);
    }
}

#[cfg(test)]
#[path = "histogram_chunk_tests.rs"]
mod tests;
