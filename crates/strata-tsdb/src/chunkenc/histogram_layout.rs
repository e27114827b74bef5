//! Bucket layout changes between the histograms of one chunk, as Prometheus handles them.
//!
//! A chunk stores one span layout for all its samples. When a new histogram has
//! buckets the chunk lacks ("forward inserts"), the chunk is recoded with the union
//! layout; when it lacks buckets the chunk has and those were empty ("backward
//! inserts"), the histogram is expanded with empty buckets. A bucket that disappears
//! while it held observations, or whose count decreases, is a counter reset.

use strata_model::histogram::Span;

/// `num` new buckets to insert before the `pos`-th bucket of the original slice;
/// `bucket_idx` is the index of the first inserted bucket (used to adjust spans).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Insert {
    pub pos: usize,
    pub num: usize,
    pub bucket_idx: i64,
}

/// Bucket counts: `i64` deltas of integer histograms, `f64` absolute counts of float ones.
pub trait BucketValue: Copy + PartialOrd + Default {
    fn plus(self, o: Self) -> Self;
    fn minus(self, o: Self) -> Self;
}

impl BucketValue for i64 {
    fn plus(self, o: Self) -> Self {
        self.wrapping_add(o)
    }
    fn minus(self, o: Self) -> Self {
        self.wrapping_sub(o)
    }
}

impl BucketValue for f64 {
    fn plus(self, o: Self) -> Self {
        self + o
    }
    fn minus(self, o: Self) -> Self {
        self - o
    }
}

/// Iterates the bucket indices a span list covers.
struct BucketIter<'a> {
    spans: &'a [Span],
    span: usize,
    bucket: i64,
    idx: i64,
}

impl<'a> BucketIter<'a> {
    fn new(spans: &'a [Span]) -> Self {
        let idx = -1 + spans.first().map_or(0, |s| i64::from(s.offset));
        BucketIter {
            spans,
            span: 0,
            bucket: -1,
            idx,
        }
    }

    fn next_idx(&mut self) -> Option<i64> {
        let cur = self.spans.get(self.span)?;
        if self.bucket < i64::from(cur.length) - 1 {
            self.bucket += 1;
            self.idx += 1;
            return Some(self.idx);
        }
        while self.span + 1 < self.spans.len() {
            self.span += 1;
            let s = self.spans[self.span];
            self.idx += i64::from(s.offset) + 1;
            self.bucket = 0;
            if s.length == 0 {
                self.idx -= 1;
                continue;
            }
            return Some(self.idx);
        }
        None
    }
}

/// Records one more bucket to insert at `other_idx`, continuing `cur` when contiguous.
fn add_insert(inserts: &mut Vec<Insert>, cur: &mut Insert, other_idx: i64) {
    if cur.num == 0 {
        cur.bucket_idx = other_idx;
    } else if cur.bucket_idx + cur.num as i64 != other_idx {
        inserts.push(*cur);
        cur.num = 0;
        cur.bucket_idx = other_idx;
    }
    cur.num += 1;
}

/// The next move of the merge of two bucket index sequences.
enum Step {
    Both,
    OnlyA(i64),
    OnlyB(i64),
    Done,
}

/// Compares the chunk's layout `a` (with its last bucket values) with a new histogram's
/// layout `b`. Returns the forward inserts (buckets to add to the chunk) and backward
/// inserts (empty buckets of the chunk to add to the histogram), or `None` when a bucket
/// in use disappeared or a bucket count decreased (a counter reset). `deltas` says the
/// values are deltas between buckets (integer histograms) rather than absolute counts.
pub fn expand_spans_and_buckets<V: BucketValue>(
    a: &[Span],
    b: &[Span],
    a_buckets: &[V],
    b_buckets: &[V],
    deltas: bool,
) -> Option<(Vec<Insert>, Vec<Insert>)> {
    let mut ai = BucketIter::new(a);
    let mut bi = BucketIter::new(b);
    let (mut a_inserts, mut b_inserts) = (Vec::new(), Vec::new());
    let (mut a_inter, mut b_inter) = (Insert::default(), Insert::default());
    let mut a_idx = ai.next_idx();
    let mut b_idx = bi.next_idx();
    let value = |v: &[V], i: usize| v.get(i).copied().unwrap_or_default();
    let (mut a_count, mut b_count) = (V::default(), V::default());
    let (mut a_ci, mut b_ci) = (0usize, 0usize);
    if a_idx.is_some() {
        a_count = value(a_buckets, 0);
    }
    if b_idx.is_some() {
        b_count = value(b_buckets, 0);
    }
    let next_count = |count: V, v: V| if deltas { count.plus(v) } else { v };
    loop {
        let step = match (a_idx, b_idx) {
            (Some(x), Some(y)) if x == y => Step::Both,
            (Some(x), Some(y)) if x > y => Step::OnlyB(y),
            (Some(x), _) => Step::OnlyA(x),
            (None, Some(y)) => Step::OnlyB(y),
            (None, None) => Step::Done,
        };
        match step {
            Step::Both => {
                if a_count > b_count {
                    return None;
                }
                // Advance both.
                if a_inter.num > 0 {
                    a_inserts.push(a_inter);
                    a_inter.num = 0;
                }
                a_idx = ai.next_idx();
                a_inter.pos += 1;
                a_ci += 1;
                if a_idx.is_some() {
                    a_count = next_count(a_count, value(a_buckets, a_ci));
                }
                if b_inter.num > 0 {
                    b_inserts.push(b_inter);
                    b_inter.num = 0;
                }
                b_idx = bi.next_idx();
                b_inter.pos += 1;
                b_ci += 1;
                if b_idx.is_some() {
                    b_count = next_count(b_count, value(b_buckets, b_ci));
                }
            }
            Step::OnlyA(x) => {
                // `b` lacks a bucket of `a`: fine only if it was empty.
                if a_count != V::default() {
                    return None;
                }
                add_insert(&mut b_inserts, &mut b_inter, x);
                if a_inter.num > 0 {
                    a_inserts.push(a_inter);
                    a_inter.num = 0;
                }
                a_idx = ai.next_idx();
                a_inter.pos += 1;
                a_ci += 1;
                if a_idx.is_some() {
                    a_count = next_count(a_count, value(a_buckets, a_ci));
                }
            }
            Step::OnlyB(y) => {
                // `a` lacks a bucket of `b`: insert it into the chunk.
                add_insert(&mut a_inserts, &mut a_inter, y);
                if b_inter.num > 0 {
                    b_inserts.push(b_inter);
                    b_inter.num = 0;
                }
                b_idx = bi.next_idx();
                b_inter.pos += 1;
                b_ci += 1;
                if b_idx.is_some() {
                    b_count = next_count(b_count, value(b_buckets, b_ci));
                }
            }
            Step::Done => {
                if a_inter.num > 0 {
                    a_inserts.push(a_inter);
                }
                if b_inter.num > 0 {
                    b_inserts.push(b_inter);
                }
                return Some((a_inserts, b_inserts));
            }
        }
    }
}

/// For gauge histograms: the forward inserts that expand `a` to cover `b`, the backward
/// inserts that expand `b` to cover `a`, and the merged spans covering both. Counts do
/// not matter (gauges have no counter resets).
pub fn expand_spans_both_ways(a: &[Span], b: &[Span]) -> (Vec<Insert>, Vec<Insert>, Vec<Span>) {
    let mut ai = BucketIter::new(a);
    let mut bi = BucketIter::new(b);
    let (mut f_inserts, mut b_inserts) = (Vec::new(), Vec::new());
    let (mut f_inter, mut b_inter) = (Insert::default(), Insert::default());
    let mut merged = SpanBuilder::default();
    let mut av = ai.next_idx();
    let mut bv = bi.next_idx();
    loop {
        match (av, bv) {
            (Some(x), Some(y)) if x == y => {
                if f_inter.num > 0 {
                    f_inserts.push(f_inter);
                    f_inter.num = 0;
                }
                if b_inter.num > 0 {
                    b_inserts.push(b_inter);
                    b_inter.num = 0;
                }
                merged.add(x);
                av = ai.next_idx();
                bv = bi.next_idx();
                f_inter.pos += 1;
                b_inter.pos += 1;
            }
            (Some(x), Some(y)) if x < y => {
                b_inter.num += 1;
                if f_inter.num > 0 {
                    f_inserts.push(f_inter);
                    f_inter.num = 0;
                }
                merged.add(x);
                f_inter.pos += 1;
                av = ai.next_idx();
            }
            (Some(_), Some(y)) => {
                f_inter.num += 1;
                if b_inter.num > 0 {
                    b_inserts.push(b_inter);
                    b_inter.num = 0;
                }
                merged.add(y);
                b_inter.pos += 1;
                bv = bi.next_idx();
            }
            (Some(x), None) => {
                b_inter.num += 1;
                merged.add(x);
                av = ai.next_idx();
            }
            (None, Some(y)) => {
                f_inter.num += 1;
                merged.add(y);
                bv = bi.next_idx();
            }
            (None, None) => {
                if f_inter.num > 0 {
                    f_inserts.push(f_inter);
                }
                if b_inter.num > 0 {
                    b_inserts.push(b_inter);
                }
                return (f_inserts, b_inserts, merged.spans);
            }
        }
    }
}

/// Builds spans from increasing bucket indices.
#[derive(Default)]
struct SpanBuilder {
    spans: Vec<Span>,
    last: i64,
}

impl SpanBuilder {
    fn add(&mut self, b: i64) {
        let mut offset = b - self.last - 1;
        match self.spans.last_mut() {
            Some(s) if offset == 0 => s.length += 1,
            _ => {
                if self.spans.is_empty() {
                    offset += 1;
                }
                self.spans.push(Span {
                    offset: offset as i32,
                    length: 1,
                });
            }
        }
        self.last = b;
    }
}

/// Merges `input` with the inserts into a slice of `out_len` values. With `deltas`, the
/// inserted buckets are made empty by adjusting the deltas around them; otherwise they
/// are zeros.
pub fn insert<V: BucketValue>(
    input: &[V],
    out_len: usize,
    inserts: &[Insert],
    deltas: bool,
) -> Vec<V> {
    let mut out = Vec::with_capacity(out_len);
    let mut v = V::default();
    let mut ii = 0;
    for (i, &d) in input.iter().enumerate() {
        if inserts.get(ii).is_none_or(|ins| ins.pos != i) {
            out.push(d);
            v = v.plus(d);
            continue;
        }
        let mut first = true;
        while let Some(ins) = inserts.get(ii).filter(|ins| ins.pos == i) {
            if deltas && first {
                out.push(V::default().minus(v));
                first = false;
            } else {
                out.push(V::default());
            }
            out.extend(std::iter::repeat_n(V::default(), ins.num.saturating_sub(1)));
            ii += 1;
        }
        out.push(if deltas { d.plus(v) } else { d });
        v = v.plus(d);
    }
    // Empty buckets after the last one.
    for ins in inserts.iter().skip(ii) {
        out.push(if deltas {
            V::default().minus(v)
        } else {
            V::default()
        });
        out.extend(std::iter::repeat_n(V::default(), ins.num.saturating_sub(1)));
        v = V::default();
    }
    out.resize(out_len, V::default());
    out
}

/// The spans of `spans` with the inserted buckets added.
pub fn adjust_for_inserts(spans: &[Span], inserts: &[Insert]) -> Vec<Span> {
    let Some(first) = inserts.first() else {
        return spans.to_vec();
    };
    let mut it = BucketIter::new(spans);
    let mut merged = SpanBuilder::default();
    let (mut i, mut idx, mut num) = (0usize, first.bucket_idx, first.num);
    let consume = |i: &mut usize, idx: &mut i64, num: &mut usize| {
        *num -= 1;
        if *num == 0 {
            *i += 1;
            if let Some(n) = inserts.get(*i) {
                *idx = n.bucket_idx;
                *num = n.num;
            }
        } else {
            *idx += 1;
        }
    };
    let mut bucket = it.next_idx();
    while let Some(b) = bucket {
        if i < inserts.len() && idx < b {
            merged.add(idx);
            consume(&mut i, &mut idx, &mut num);
        } else {
            merged.add(b);
            bucket = it.next_idx();
        }
    }
    while i < inserts.len() {
        merged.add(idx);
        consume(&mut i, &mut idx, &mut num);
    }
    merged.spans
}

/// Number of buckets the spans describe.
pub fn count_buckets(spans: &[Span]) -> usize {
    spans.iter().map(|s| s.length as usize).sum()
}

/// Prometheus' `spansMatch`: the same buckets once zero-length spans are folded into
/// the next span.
pub fn spans_match(s1: &[Span], s2: &[Span]) -> bool {
    fn next(s: &[Span], i: &mut usize) -> Option<Span> {
        let mut cur = *s.get(*i)?;
        *i += 1;
        if cur.length == 0 {
            while let Some(n) = s.get(*i).filter(|n| n.length == 0) {
                cur.offset += n.offset;
                *i += 1;
            }
            if let Some(n) = s.get(*i) {
                cur.offset += n.offset;
                cur.length = n.length;
                *i += 1;
            }
        }
        Some(cur)
    }
    let all_empty = |s: &[Span]| s.iter().all(|x| x.length == 0);
    let (mut i1, mut i2) = (0, 0);
    loop {
        if i1 >= s1.len() {
            return all_empty(&s2[i2.min(s2.len())..]);
        }
        if i2 >= s2.len() {
            return all_empty(&s1[i1..]);
        }
        let (Some(a), Some(b)) = (next(s1, &mut i1), next(s2, &mut i2)) else {
            return false;
        };
        if a.length == 0 && b.length == 0 {
            return true;
        }
        if a.offset != b.offset || a.length != b.length {
            return false;
        }
    }
}

#[cfg(test)]
#[path = "histogram_layout_tests.rs"]
mod tests;
