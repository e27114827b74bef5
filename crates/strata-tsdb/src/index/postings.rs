//! Sorted series-reference lists: intersection, union and difference, and the selection
//! of series by label matchers over any [`PostingsSource`] (a block index or the head).

use std::cmp::Ordering;

use strata_model::{MatchType, Matcher};

use crate::error::Result;

/// The elements of both sorted lists.
pub fn intersect(a: &[u64], b: &[u64]) -> Vec<u64> {
    let (small, large) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    if small.len().saturating_mul(8) < large.len() {
        return gallop_intersect(small, large);
    }
    merge_intersect(a, b)
}

/// [`intersect`] for a list much shorter than the other: each of its elements is
/// searched for in the rest of the long list, by doubling steps then bisection.
fn gallop_intersect(small: &[u64], large: &[u64]) -> Vec<u64> {
    let mut out = Vec::with_capacity(small.len());
    let mut rest = large;
    for &x in small {
        let mut step = 1;
        while step < rest.len() && rest[step - 1] < x {
            step *= 2;
        }
        let lim = step.min(rest.len());
        let i = rest[..lim].partition_point(|&y| y < x);
        rest = &rest[i..];
        match rest.first() {
            Some(&y) if y == x => {
                out.push(x);
                rest = &rest[1..];
            }
            Some(_) => {}
            None => break,
        }
    }
    out
}

/// [`intersect`] by one pass over both lists.
fn merge_intersect(a: &[u64], b: &[u64]) -> Vec<u64> {
    let mut out = Vec::with_capacity(a.len().min(b.len()));
    let (mut i, mut j) = (0, 0);
    while let (Some(&x), Some(&y)) = (a.get(i), b.get(j)) {
        match x.cmp(&y) {
            Ordering::Less => i += 1,
            Ordering::Greater => j += 1,
            Ordering::Equal => {
                out.push(x);
                i += 1;
                j += 1;
            }
        }
    }
    out
}

/// The union of sorted lists, sorted and without duplicates: merged in pairs, round
/// after round (linear passes, cheaper than a heap of cursors).
pub fn merge(mut lists: Vec<Vec<u64>>) -> Vec<u64> {
    lists.retain(|l| !l.is_empty());
    while lists.len() > 1 {
        let mut next = Vec::with_capacity(lists.len().div_ceil(2));
        let mut it = lists.into_iter();
        while let Some(a) = it.next() {
            match it.next() {
                Some(b) => next.push(merge_two(&a, &b)),
                None => next.push(a),
            }
        }
        lists = next;
    }
    let mut out = lists.pop().unwrap_or_default();
    out.dedup();
    out
}

/// The union of two sorted lists, without duplicates between them.
fn merge_two(a: &[u64], b: &[u64]) -> Vec<u64> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while let (Some(&x), Some(&y)) = (a.get(i), b.get(j)) {
        let v = x.min(y);
        i += usize::from(x == v);
        j += usize::from(y == v);
        out.push(v);
    }
    out.extend_from_slice(a.get(i..).unwrap_or_default());
    out.extend_from_slice(b.get(j..).unwrap_or_default());
    out
}

/// The elements of sorted `a` that are not in sorted `b`.
pub fn without(a: &[u64], b: &[u64]) -> Vec<u64> {
    let mut out = Vec::with_capacity(a.len());
    let mut j = 0;
    for &x in a {
        while b.get(j).is_some_and(|&y| y < x) {
            j += 1;
        }
        if b.get(j) != Some(&x) {
            out.push(x);
        }
    }
    out
}

/// Anything that can list label values and postings: a block index, the head.
pub trait PostingsSource {
    /// The values of label `name`, sorted.
    fn label_values(&self, name: &str) -> Result<Vec<String>>;
    /// Sorted references of the series with `name="value"`; empty when absent.
    fn postings(&self, name: &str, value: &str) -> Result<Vec<u64>>;
    /// References of all series, sorted.
    fn all_postings(&self) -> Result<Vec<u64>>;
}

/// The stored (non-empty) values `v` of `m.name` for which `m.matches(v) == want`.
fn values_where<S: PostingsSource + ?Sized>(s: &S, m: &Matcher, want: bool) -> Result<Vec<String>> {
    // Matchers that name their values: look those up instead of scanning.
    let listed: Option<Vec<&str>> = match (m.kind, want) {
        (MatchType::Equal, true) | (MatchType::NotEqual, false) => Some(vec![m.value.as_str()]),
        (MatchType::Regex, true) | (MatchType::NotRegex, false) => m
            .regex()
            .and_then(|r| r.set_matches())
            .map(|set| set.iter().map(String::as_str).collect()),
        _ => None,
    };
    if let Some(vals) = listed {
        return Ok(vals
            .into_iter()
            .filter(|v| !v.is_empty() && m.matches(v) == want)
            .map(str::to_owned)
            .collect());
    }
    let all = s.label_values(&m.name)?;
    let prefix = match (m.kind, want) {
        (MatchType::Regex, true) | (MatchType::NotRegex, false) => {
            m.regex().and_then(|r| r.prefix())
        }
        _ => None,
    };
    let candidates = match prefix {
        Some(p) => {
            let start = all.partition_point(|v| v.as_str() < p);
            let end = start
                + all
                    .get(start..)
                    .unwrap_or_default()
                    .partition_point(|v| v.starts_with(p));
            all.get(start..end).unwrap_or_default()
        }
        None => &all[..],
    };
    Ok(candidates
        .iter()
        .filter(|v| !v.is_empty() && m.matches(v) == want)
        .cloned()
        .collect())
}

/// The postings of `name=v` for each of `values` (one sorted list per value).
fn lists_of<S: PostingsSource + ?Sized>(
    s: &S,
    name: &str,
    values: &[String],
) -> Result<Vec<Vec<u64>>> {
    let mut lists = values
        .iter()
        .map(|v| s.postings(name, v))
        .collect::<Result<Vec<_>>>()?;
    lists.retain(|l| !l.is_empty());
    Ok(lists)
}

/// Bits a membership bitmap may have per element it tests or marks before sorted
/// merging is used instead.
const MAX_BITS_PER_ELEMENT: u64 = 512;

/// Marks, in a bitmap over `acc`'s span, the elements of `lists` inside it; `None` when
/// the span is too sparse for a bitmap to pay off.
fn mark(acc: &[u64], lists: &[Vec<u64>]) -> Option<(u64, Vec<u64>)> {
    let (&lo, &hi) = (acc.first()?, acc.last()?);
    let span = hi - lo + 1;
    let work = (acc.len() + lists.iter().map(Vec::len).sum::<usize>()) as u64;
    if span / MAX_BITS_PER_ELEMENT > work {
        return None;
    }
    let mut bits = vec![0u64; usize::try_from(span.div_ceil(64)).ok()?];
    for l in lists {
        let from = l.partition_point(|&x| x < lo);
        for &x in l.get(from..).unwrap_or_default() {
            if x > hi {
                break;
            }
            let d = x - lo;
            if let Some(w) = bits.get_mut((d / 64) as usize) {
                *w |= 1 << (d % 64);
            }
        }
    }
    Some((lo, bits))
}

fn marked(lo: u64, bits: &[u64], x: u64) -> bool {
    let d = x - lo;
    bits.get((d / 64) as usize)
        .is_some_and(|w| w >> (d % 64) & 1 == 1)
}

/// The elements of sorted `acc` that are in some list of `lists`.
fn intersect_union(acc: Vec<u64>, lists: Vec<Vec<u64>>) -> Vec<u64> {
    match lists.len() {
        0 => Vec::new(),
        1 => intersect(&acc, &lists[0]),
        _ => match mark(&acc, &lists) {
            Some((lo, bits)) => {
                let mut acc = acc;
                acc.retain(|&x| marked(lo, &bits, x));
                acc
            }
            None => intersect(&acc, &merge(lists)),
        },
    }
}

/// The elements of sorted `acc` that are in no list of `lists`.
fn subtract_union(acc: Vec<u64>, lists: Vec<Vec<u64>>) -> Vec<u64> {
    match lists.len() {
        0 => acc,
        1 => without(&acc, &lists[0]),
        _ => match mark(&acc, &lists) {
            Some((lo, bits)) => {
                let mut acc = acc;
                acc.retain(|&x| !marked(lo, &bits, x));
                acc
            }
            None => without(&acc, &merge(lists)),
        },
    }
}

/// Sorted references of the series that satisfy every matcher, with Prometheus
/// semantics: a missing label has the empty value. Matchers that reject the empty value
/// select the union of the postings of the values they accept; the others remove the
/// postings of the values they reject. Without a matcher of the first kind the
/// selection starts from all series. No matchers select nothing.
///
/// Unions are not built when they are intersected with (or removed from) a smaller
/// selection: its candidates are tested against a bitmap of the lists instead.
pub fn postings_for_matchers<S: PostingsSource + ?Sized>(
    s: &S,
    ms: &[Matcher],
) -> Result<Vec<u64>> {
    if ms.is_empty() {
        return Ok(Vec::new());
    }
    let mut positive: Vec<(usize, Vec<Vec<u64>>)> = Vec::new();
    let mut negative: Vec<Vec<u64>> = Vec::new();
    for m in ms {
        if m.matches_empty() {
            let rejected = values_where(s, m, false)?;
            negative.extend(lists_of(s, &m.name, &rejected)?);
        } else {
            let accepted = values_where(s, m, true)?;
            let lists = lists_of(s, &m.name, &accepted)?;
            if lists.is_empty() {
                return Ok(Vec::new());
            }
            positive.push((lists.iter().map(Vec::len).sum(), lists));
        }
    }
    let mut result = if positive.is_empty() {
        s.all_postings()?
    } else {
        positive.sort_by_key(|p| p.0);
        let mut it = positive.into_iter();
        let mut acc = it.next().map(|(_, l)| merge(l)).unwrap_or_default();
        for (_, lists) in it {
            if acc.is_empty() {
                break;
            }
            acc = intersect_union(acc, lists);
        }
        acc
    };
    if !negative.is_empty() && !result.is_empty() {
        result = subtract_union(result, negative);
    }
    Ok(result)
}
