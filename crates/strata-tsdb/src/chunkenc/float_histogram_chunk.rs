//! Appending float native histograms to a chunk (encoding 3), bit-exact with
//! Prometheus' `FloatHistogramAppender`.
//!
//! The first sample writes the layout and every value raw; later samples write the
//! timestamp as a delta-of-delta and count, zero count, sum and every bucket count
//! XOR-encoded against the previous sample. Layout changes and new chunks follow the
//! same rules as integer histograms.

use std::borrow::Cow;

use strata_model::histogram::{CounterResetHint, FloatHistogram, Span};

use super::bstream::BitWriter;
use super::histogram::{
    CUSTOM_BUCKETS_SCHEMA, ENC_FLOAT_HISTOGRAM, HEADER_COUNTER_RESET, HEADER_GAUGE,
    HEADER_NOT_COUNTER_RESET, HEADER_UNKNOWN_COUNTER_RESET, decode_histogram_chunk,
};
use super::histogram_bits::{XorWriteState, put_varbit_int, put_xor};
use super::histogram_chunk::{
    GaugeAppendable, HistogramAppend, custom_bounds_match, empty_chunk_writer, header_of, is_stale,
    set_header_of, set_num_of, write_layout,
};
use super::histogram_layout::{
    Insert, adjust_for_inserts, count_buckets, expand_spans_and_buckets, expand_spans_both_ways,
    insert,
};
use crate::error::Result;

/// How a counter float histogram relates to the chunk's last sample.
#[derive(Debug, Default)]
struct Appendable {
    pos_forward: Vec<Insert>,
    neg_forward: Vec<Insert>,
    pos_backward: Vec<Insert>,
    neg_backward: Vec<Insert>,
    ok: bool,
    counter_reset: bool,
}

/// A float histogram chunk being appended to.
#[derive(Debug, Clone)]
pub struct FloatHistogramChunk {
    w: BitWriter,
    num: u16,
    schema: i32,
    zero_threshold: f64,
    pos_spans: Vec<Span>,
    neg_spans: Vec<Span>,
    custom_values: Vec<f64>,
    t: i64,
    t_delta: i64,
    sum: XorWriteState,
    cnt: XorWriteState,
    zcnt: XorWriteState,
    pos_buckets: Vec<XorWriteState>,
    neg_buckets: Vec<XorWriteState>,
}

impl Default for FloatHistogramChunk {
    fn default() -> Self {
        Self::new()
    }
}

impl FloatHistogramChunk {
    /// An empty chunk.
    pub fn new() -> Self {
        FloatHistogramChunk {
            w: empty_chunk_writer(),
            num: 0,
            schema: 0,
            zero_threshold: 0.0,
            pos_spans: Vec::new(),
            neg_spans: Vec::new(),
            custom_values: Vec::new(),
            t: i64::MIN,
            t_delta: 0,
            sum: XorWriteState::new(0.0),
            cnt: XorWriteState::new(0.0),
            zcnt: XorWriteState::new(0.0),
            pos_buckets: Vec::new(),
            neg_buckets: Vec::new(),
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
            + (self.pos_buckets.capacity() + self.neg_buckets.capacity()) * 16
            + self.custom_values.capacity() * 8
    }

    /// Appends `h` at `t` (after the last sample; the caller checks order and validity).
    /// `prev` is the chunk this one continues, used to set the counter reset header of a
    /// chunk's first sample.
    pub fn append(
        &mut self,
        t: i64,
        h: &FloatHistogram,
        prev: Option<&FloatHistogramChunk>,
    ) -> Result<HistogramAppend<FloatHistogramChunk>> {
        if self.num == u16::MAX {
            let mut c = FloatHistogramChunk::new();
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
                        self.set_counter_reset_header(if p.appendable(h).counter_reset {
                            HEADER_COUNTER_RESET
                        } else {
                            HEADER_NOT_COUNTER_RESET
                        });
                    }
                }
            }
            return Ok(HistogramAppend::Appended);
        }
        if h.counter_reset_hint != CounterResetHint::Gauge {
            let a = self.appendable(h);
            if !a.ok || a.counter_reset {
                let header = if a.counter_reset {
                    HEADER_COUNTER_RESET
                } else {
                    HEADER_UNKNOWN_COUNTER_RESET
                };
                return Ok(HistogramAppend::NewChunk(self.started_with(header, t, h)));
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
    fn started_with(&self, header: u8, t: i64, h: &FloatHistogram) -> FloatHistogramChunk {
        let mut c = FloatHistogramChunk::new();
        c.set_counter_reset_header(header);
        c.append_raw(t, h);
        c
    }

    fn finish_append(
        &mut self,
        t: i64,
        h: &FloatHistogram,
        pos_forward: &[Insert],
        neg_forward: &[Insert],
    ) -> Result<HistogramAppend<FloatHistogramChunk>> {
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

    /// Prometheus' `appendable` for counter float histograms.
    fn appendable(&self, h: &FloatHistogram) -> Appendable {
        let mut a = Appendable::default();
        if self.num > 0 && self.counter_reset_header() == HEADER_GAUGE {
            return a;
        }
        if h.counter_reset_hint == CounterResetHint::CounterReset {
            a.counter_reset = true;
            return a;
        }
        if is_stale(h.sum) {
            a.ok = true;
            return a;
        }
        if is_stale(self.sum.value) {
            return a;
        }
        if h.count < self.cnt.value {
            a.counter_reset = true;
            return a;
        }
        if h.schema != self.schema || h.zero_threshold != self.zero_threshold {
            return a;
        }
        if h.schema == CUSTOM_BUCKETS_SCHEMA
            && !custom_bounds_match(&h.custom_values, &self.custom_values)
        {
            a.counter_reset = true;
            return a;
        }
        if h.zero_count < self.zcnt.value {
            a.counter_reset = true;
            return a;
        }
        let values = |v: &[XorWriteState]| v.iter().map(|x| x.value).collect::<Vec<f64>>();
        let pos = expand_spans_and_buckets(
            &self.pos_spans,
            &h.positive_spans,
            &values(&self.pos_buckets),
            &h.positive_buckets,
            false,
        );
        let neg = expand_spans_and_buckets(
            &self.neg_spans,
            &h.negative_spans,
            &values(&self.neg_buckets),
            &h.negative_buckets,
            false,
        );
        match (pos, neg) {
            (Some((pf, pb)), Some((nf, nb))) => {
                a.pos_forward = pf;
                a.pos_backward = pb;
                a.neg_forward = nf;
                a.neg_backward = nb;
                a.ok = true;
            }
            _ => a.counter_reset = true,
        }
        a
    }

    /// Prometheus' `appendableGauge`.
    fn appendable_gauge(&self, h: &FloatHistogram) -> GaugeAppendable {
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
    ) -> Result<FloatHistogramChunk> {
        let (np, nn) = (count_buckets(pos_spans), count_buckets(neg_spans));
        let mut c = FloatHistogramChunk::new();
        for s in decode_histogram_chunk(ENC_FLOAT_HISTOGRAM, self.bytes())? {
            let mut old = s.h;
            old.positive_spans = pos_spans.to_vec();
            old.negative_spans = neg_spans.to_vec();
            if !pos_inserts.is_empty() {
                old.positive_buckets = insert(&old.positive_buckets, np, pos_inserts, false);
            }
            if !neg_inserts.is_empty() {
                old.negative_buckets = insert(&old.negative_buckets, nn, neg_inserts, false);
            }
            c.append_raw(s.t, &old);
        }
        c.set_counter_reset_header(self.counter_reset_header());
        Ok(c)
    }

    /// Prometheus' `appendFloatHistogram`: encodes the sample, nothing checked.
    fn append_raw(&mut self, t: i64, h: &FloatHistogram) {
        let stale;
        let h = if is_stale(h.sum) {
            stale = FloatHistogram {
                sum: h.sum,
                ..FloatHistogram::default()
            };
            &stale
        } else {
            h
        };
        let mut t_delta = 0i64;
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
            let states = |v: &[f64], n: usize| -> Vec<XorWriteState> {
                (0..n)
                    .map(|i| XorWriteState::new(v.get(i).copied().unwrap_or(0.0)))
                    .collect()
            };
            self.pos_buckets = states(&h.positive_buckets, np);
            self.neg_buckets = states(&h.negative_buckets, nn);
            put_varbit_int(w, t);
            for v in [h.count, h.zero_count, h.sum] {
                w.write_bits(v.to_bits(), 64);
            }
            self.cnt.value = h.count;
            self.zcnt.value = h.zero_count;
            self.sum.value = h.sum;
            for &b in h.positive_buckets.iter().chain(&h.negative_buckets) {
                w.write_bits(b.to_bits(), 64);
            }
        } else {
            t_delta = t.wrapping_sub(self.t);
            put_varbit_int(w, t_delta.wrapping_sub(self.t_delta));
            put_xor(w, &mut self.cnt, h.count);
            put_xor(w, &mut self.zcnt, h.zero_count);
            put_xor(w, &mut self.sum, h.sum);
            for (side, states) in [
                (&h.positive_buckets, &mut self.pos_buckets),
                (&h.negative_buckets, &mut self.neg_buckets),
            ] {
                for (i, &b) in side.iter().enumerate() {
                    match states.get_mut(i) {
                        Some(st) => put_xor(w, st, b),
                        None => put_xor(w, &mut XorWriteState::new(0.0), b),
                    }
                }
            }
        }
        self.t = t;
        self.t_delta = t_delta;
        self.num += 1;
        set_num_of(&mut self.w, self.num);
    }
}

/// Inserts the backward inserts' empty buckets into `h` (its spans already adjusted).
fn expand_histogram(h: &mut FloatHistogram, pos: &[Insert], neg: &[Insert]) {
    if !pos.is_empty() {
        let n = count_buckets(&h.positive_spans);
        h.positive_buckets = insert(&h.positive_buckets, n, pos, false);
    }
    if !neg.is_empty() {
        let n = count_buckets(&h.negative_spans);
        h.negative_buckets = insert(&h.negative_buckets, n, neg, false);
    }
}
