//! Merging several queriers into one: series with identical labels from different
//! sources become one series whose samples are merged by timestamp (the first source
//! wins on equal timestamps). Used over overlapping blocks and the head, and over
//! remote stores.

use std::cmp::Ordering;
use std::collections::BTreeSet;

use crate::error::Result;
use crate::labels::Labels;
use crate::matcher::Matcher;
use crate::storage::{Querier, SampleIterator, SelectHints, Series, SeriesSet};

/// A querier over several queriers.
pub struct MergeQuerier {
    queriers: Vec<Box<dyn Querier>>,
}

impl MergeQuerier {
    pub fn new(queriers: Vec<Box<dyn Querier>>) -> Self {
        MergeQuerier { queriers }
    }
}

impl Querier for MergeQuerier {
    fn select(&self, ms: &[Matcher], hints: &SelectHints) -> Result<SeriesSet> {
        let mut hints = hints.clone();
        hints.sorted = true;
        let mut sets = Vec::with_capacity(self.queriers.len());
        for q in &self.queriers {
            sets.push(q.select(ms, &hints)?);
        }
        if sets.len() == 1 {
            return Ok(sets.remove(0));
        }
        Ok(Box::new(MergeSeriesSet::new(sets)))
    }

    fn label_names(&self, ms: &[Matcher]) -> Result<Vec<String>> {
        let mut all = BTreeSet::new();
        for q in &self.queriers {
            all.extend(q.label_names(ms)?);
        }
        Ok(all.into_iter().collect())
    }

    fn label_values(&self, name: &str, ms: &[Matcher]) -> Result<Vec<String>> {
        let mut all = BTreeSet::new();
        for q in &self.queriers {
            all.extend(q.label_values(name, ms)?);
        }
        Ok(all.into_iter().collect())
    }
}

/// K-way merge of sorted series sets.
pub struct MergeSeriesSet {
    sets: Vec<SeriesSet>,
    heads: Vec<Option<Series>>,
    failed: bool,
}

impl MergeSeriesSet {
    pub fn new(sets: Vec<SeriesSet>) -> Self {
        let heads = (0..sets.len()).map(|_| None).collect();
        MergeSeriesSet {
            sets,
            heads,
            failed: false,
        }
    }

    fn fill(&mut self) -> Result<()> {
        for (i, set) in self.sets.iter_mut().enumerate() {
            if self.heads[i].is_none()
                && let Some(s) = set.next()
            {
                self.heads[i] = Some(s?);
            }
        }
        Ok(())
    }
}

impl Iterator for MergeSeriesSet {
    type Item = Result<Series>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        if let Err(e) = self.fill() {
            self.failed = true;
            return Some(Err(e));
        }
        let mut min: Option<&Labels> = None;
        for s in self.heads.iter().flatten() {
            if min.is_none_or(|m| s.labels.cmp(m) == Ordering::Less) {
                min = Some(&s.labels);
            }
        }
        let min = min?.clone();
        let mut parts: Vec<Box<dyn SampleIterator>> = Vec::new();
        for h in self.heads.iter_mut() {
            if h.as_ref().is_some_and(|s| s.labels == min)
                && let Some(s) = h.take()
            {
                parts.push(s.samples);
            }
        }
        let samples: Box<dyn SampleIterator> = if parts.len() == 1 {
            parts.remove(0)
        } else {
            Box::new(MergeSamples::new(parts))
        };
        Some(Ok(Series {
            labels: min,
            samples,
        }))
    }
}

/// Merges sample iterators by timestamp; on equal timestamps the earliest iterator wins.
pub struct MergeSamples {
    its: Vec<Box<dyn SampleIterator>>,
    peeked: Vec<Option<(i64, f64)>>,
    started: bool,
}

impl MergeSamples {
    pub fn new(its: Vec<Box<dyn SampleIterator>>) -> Self {
        let peeked = vec![None; its.len()];
        MergeSamples {
            its,
            peeked,
            started: false,
        }
    }
}

impl SampleIterator for MergeSamples {
    fn next_sample(&mut self) -> Result<Option<(i64, f64)>> {
        if !self.started {
            for (i, it) in self.its.iter_mut().enumerate() {
                self.peeked[i] = it.next_sample()?;
            }
            self.started = true;
        }
        let mut best: Option<(usize, i64)> = None;
        for (i, p) in self.peeked.iter().enumerate() {
            if let Some((t, _)) = p
                && best.is_none_or(|(_, bt)| *t < bt)
            {
                best = Some((i, *t));
            }
        }
        let Some((bi, bt)) = best else {
            return Ok(None);
        };
        let out = self.peeked[bi];
        for i in 0..self.its.len() {
            if self.peeked[i].is_some_and(|(t, _)| t == bt) {
                self.peeked[i] = self.its[i].next_sample()?;
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::VecSamples;

    struct Fixed(Vec<(Labels, Vec<(i64, f64)>)>);
    impl Querier for Fixed {
        fn select(&self, _: &[Matcher], _: &SelectHints) -> Result<SeriesSet> {
            let v: Vec<Result<Series>> = self
                .0
                .iter()
                .map(|(l, s)| {
                    Ok(Series {
                        labels: l.clone(),
                        samples: Box::new(VecSamples::new(s.clone())),
                    })
                })
                .collect();
            Ok(Box::new(v.into_iter()))
        }
        fn label_names(&self, _: &[Matcher]) -> Result<Vec<String>> {
            Ok(vec![])
        }
        fn label_values(&self, _: &str, _: &[Matcher]) -> Result<Vec<String>> {
            Ok(vec![])
        }
    }

    #[test]
    fn merges_series_and_samples() {
        let a = Labels::new(&[("a", "1")]).unwrap();
        let b = Labels::new(&[("a", "2")]).unwrap();
        let q1 = Fixed(vec![(a.clone(), vec![(1, 1.0), (3, 3.0)])]);
        let q2 = Fixed(vec![
            (a.clone(), vec![(2, 2.0), (3, 30.0)]),
            (b.clone(), vec![(5, 5.0)]),
        ]);
        let m = MergeQuerier::new(vec![Box::new(q1), Box::new(q2)]);
        let out: Vec<_> = m
            .select(&[], &SelectHints::default())
            .unwrap()
            .map(|s| s.unwrap().collect_samples().unwrap())
            .collect();
        assert_eq!(
            out,
            vec![(a, vec![(1, 1.0), (2, 2.0), (3, 3.0)]), (b, vec![(5, 5.0)])]
        );
    }
}
