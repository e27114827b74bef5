//! Sorted series-reference lists: intersection, union and difference, and the selection
//! of series by label matchers over any [`PostingsSource`] (a block index or the head).

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

use strata_model::{MatchType, Matcher};

use crate::error::Result;

/// The elements of both sorted lists.
pub fn intersect(a: &[u64], b: &[u64]) -> Vec<u64> {
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

/// The union of sorted lists, sorted and without duplicates.
pub fn merge(mut lists: Vec<Vec<u64>>) -> Vec<u64> {
    lists.retain(|l| !l.is_empty());
    match lists.len() {
        0 => return Vec::new(),
        1 => {
            let mut l = lists.pop().unwrap_or_default();
            l.dedup();
            return l;
        }
        _ => {}
    }
    let total = lists.iter().map(Vec::len).sum();
    let mut out: Vec<u64> = Vec::with_capacity(total);
    let mut pos = vec![0usize; lists.len()];
    let mut heap: BinaryHeap<Reverse<(u64, usize)>> = lists
        .iter()
        .enumerate()
        .filter_map(|(i, l)| l.first().map(|&x| Reverse((x, i))))
        .collect();
    while let Some(Reverse((x, i))) = heap.pop() {
        if out.last() != Some(&x) {
            out.push(x);
        }
        if let (Some(p), Some(l)) = (pos.get_mut(i), lists.get(i)) {
            *p += 1;
            if let Some(&next) = l.get(*p) {
                heap.push(Reverse((next, i)));
            }
        }
    }
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

/// The union of the postings of `name=v` for each of `values`.
fn union_of<S: PostingsSource + ?Sized>(s: &S, name: &str, values: &[String]) -> Result<Vec<u64>> {
    let lists = values
        .iter()
        .map(|v| s.postings(name, v))
        .collect::<Result<Vec<_>>>()?;
    Ok(merge(lists))
}

/// Sorted references of the series that satisfy every matcher, with Prometheus
/// semantics: a missing label has the empty value. Matchers that reject the empty value
/// select the union of the postings of the values they accept; the others remove the
/// postings of the values they reject. Without a matcher of the first kind the
/// selection starts from all series. No matchers select nothing.
pub fn postings_for_matchers<S: PostingsSource + ?Sized>(
    s: &S,
    ms: &[Matcher],
) -> Result<Vec<u64>> {
    if ms.is_empty() {
        return Ok(Vec::new());
    }
    let mut positive: Vec<Vec<u64>> = Vec::new();
    let mut negative: Vec<Vec<u64>> = Vec::new();
    for m in ms {
        if m.matches_empty() {
            let rejected = values_where(s, m, false)?;
            let p = union_of(s, &m.name, &rejected)?;
            if !p.is_empty() {
                negative.push(p);
            }
        } else {
            let accepted = values_where(s, m, true)?;
            let p = union_of(s, &m.name, &accepted)?;
            if p.is_empty() {
                return Ok(Vec::new());
            }
            positive.push(p);
        }
    }
    let mut result = if positive.is_empty() {
        s.all_postings()?
    } else {
        positive.sort_by_key(Vec::len);
        let mut it = positive.into_iter();
        let mut acc = it.next().unwrap_or_default();
        for p in it {
            if acc.is_empty() {
                break;
            }
            acc = intersect(&acc, &p);
        }
        acc
    };
    if !negative.is_empty() && !result.is_empty() {
        result = without(&result, &merge(negative));
    }
    Ok(result)
}
