//! An in-memory [`Appendable`] for tests and examples: series are kept with all their
//! samples, and appends follow the TSDB's ordering rules (out of order and duplicate
//! timestamps are rejected per sample).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::Mutex;
use strata_model::{Labels, Sample};

use crate::appender::{AppendError, Appendable, ScrapeAppender};

#[derive(Debug, Default)]
struct State {
    /// Series by reference (the index).
    series: Vec<(Labels, Vec<Sample>)>,
    by_labels: HashMap<Labels, u64>,
}

/// Series and samples in memory. References are indices; a reference that does not
/// match the labels passed with it is an error (it would be a bug in the caller).
#[derive(Debug, Default)]
pub struct MemoryStorage {
    state: Mutex<State>,
    commits: AtomicU64,
    rollbacks: AtomicU64,
    /// Appends that came with a valid cached reference.
    ref_appends: AtomicU64,
    appends: AtomicU64,
}

impl MemoryStorage {
    pub fn new() -> Self {
        MemoryStorage::default()
    }

    /// Every series with its committed samples, sorted by labels.
    pub fn series(&self) -> Vec<(Labels, Vec<Sample>)> {
        let st = self.state.lock();
        let mut v: Vec<(Labels, Vec<Sample>)> = st
            .series
            .iter()
            .filter(|(_, s)| !s.is_empty())
            .cloned()
            .collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    }

    /// The committed samples of the series with exactly these labels.
    pub fn samples(&self, labels: &Labels) -> Vec<Sample> {
        let st = self.state.lock();
        st.by_labels
            .get(labels)
            .and_then(|r| st.series.get(*r as usize))
            .map(|(_, s)| s.clone())
            .unwrap_or_default()
    }

    /// Series named `name` whose labels include every pair of `pairs`.
    pub fn find(&self, name: &str, pairs: &[(&str, &str)]) -> Vec<(Labels, Vec<Sample>)> {
        self.series()
            .into_iter()
            .filter(|(l, _)| {
                l.metric_name() == Some(name) && pairs.iter().all(|(n, v)| l.get(n) == Some(*v))
            })
            .collect()
    }

    /// The newest committed sample of the single series matching `name` and `pairs`.
    pub fn last(&self, name: &str, pairs: &[(&str, &str)]) -> Option<Sample> {
        let found = self.find(name, pairs);
        match found.as_slice() {
            [(_, s)] => s.last().copied(),
            _ => None,
        }
    }

    /// Number of committed appenders.
    pub fn commits(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
    }

    /// Number of rolled back appenders.
    pub fn rollbacks(&self) -> u64 {
        self.rollbacks.load(Ordering::Relaxed)
    }

    /// Appends staged so far, and how many of them came with a valid reference.
    pub fn append_counts(&self) -> (u64, u64) {
        (
            self.appends.load(Ordering::Relaxed),
            self.ref_appends.load(Ordering::Relaxed),
        )
    }
}

impl Appendable for MemoryStorage {
    fn appender(&self) -> Box<dyn ScrapeAppender + '_> {
        Box::new(MemoryAppender {
            storage: self,
            pending: Vec::new(),
            newest: HashMap::new(),
        })
    }
}

struct MemoryAppender<'a> {
    storage: &'a MemoryStorage,
    pending: Vec<(u64, Sample)>,
    /// Newest staged sample per series.
    newest: HashMap<u64, Sample>,
}

fn check_order(prev: Option<Sample>, t: i64, v: f64) -> Result<bool, AppendError> {
    match prev {
        Some(p) if t < p.t => Err(AppendError::OutOfOrder),
        Some(p) if t == p.t && p.v.to_bits() != v.to_bits() => Err(AppendError::DuplicateTimestamp),
        // The same sample again is ignored.
        Some(p) if t == p.t => Ok(false),
        _ => Ok(true),
    }
}

impl ScrapeAppender for MemoryAppender<'_> {
    fn append(
        &mut self,
        series_ref: Option<u64>,
        labels: &Labels,
        t: i64,
        v: f64,
    ) -> Result<u64, AppendError> {
        let mut st = self.storage.state.lock();
        self.storage.appends.fetch_add(1, Ordering::Relaxed);
        let known = series_ref.filter(|r| (*r as usize) < st.series.len());
        if known.is_none() && labels.is_empty() {
            return Err(AppendError::UnknownRef);
        }
        let r = match known {
            Some(r) => {
                if !labels.is_empty() && st.series[r as usize].0 != *labels {
                    return Err(AppendError::Storage(format!(
                        "series reference {r} is {} but came with {labels}",
                        st.series[r as usize].0
                    )));
                }
                self.storage.ref_appends.fetch_add(1, Ordering::Relaxed);
                r
            }
            None => match st.by_labels.get(labels) {
                Some(r) => *r,
                None => {
                    let r = st.series.len() as u64;
                    st.series.push((labels.clone(), Vec::new()));
                    st.by_labels.insert(labels.clone(), r);
                    r
                }
            },
        };
        let prev = self
            .newest
            .get(&r)
            .copied()
            .or_else(|| st.series[r as usize].1.last().copied());
        if check_order(prev, t, v)? {
            let s = Sample::new(t, v);
            self.pending.push((r, s));
            self.newest.insert(r, s);
        }
        Ok(r)
    }

    fn commit(self: Box<Self>) -> Result<(), AppendError> {
        let mut st = self.storage.state.lock();
        for (r, s) in self.pending {
            if let Some((_, samples)) = st.series.get_mut(r as usize) {
                // Another appender may have committed newer samples meanwhile.
                if samples.last().is_none_or(|p| p.t < s.t) {
                    samples.push(s);
                }
            }
        }
        self.storage.commits.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    fn rollback(self: Box<Self>) {
        self.storage.rollbacks.fetch_add(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn appends_are_ordered_and_refs_are_checked() {
        let s = MemoryStorage::new();
        let a = Labels::new(&[("__name__", "a")]).unwrap();
        let b = Labels::new(&[("__name__", "b")]).unwrap();
        let mut app = s.appender();
        let ra = app.append(None, &a, 10, 1.0).unwrap();
        assert_eq!(
            app.append(Some(ra), &a, 5, 1.0),
            Err(AppendError::OutOfOrder)
        );
        assert_eq!(
            app.append(Some(ra), &a, 10, 2.0),
            Err(AppendError::DuplicateTimestamp)
        );
        assert!(app.append(Some(ra), &b, 10, 2.0).is_err());
        app.commit().unwrap();
        assert_eq!(s.samples(&a), vec![Sample::new(10, 1.0)]);
        let mut app = s.appender();
        app.append(Some(ra), &a, 20, 3.0).unwrap();
        app.rollback();
        assert_eq!(s.samples(&a).len(), 1);
        assert_eq!((s.commits(), s.rollbacks()), (1, 1));
    }
}
