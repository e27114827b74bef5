//! A mutable label set for relabeling, reusable across series without allocating.
//!
//! Pairs are kept sorted by name in a vector whose tail holds spare `String`s: resetting
//! from a [`Labels`], setting and deleting reuse those buffers, so once warmed up a
//! scrape loop relabels series with no allocation but the final [`Labels`].
//!
//! Iteration for `labelmap` follows Prometheus' `labels.Builder.Range`: labels of the
//! original set first (in name order), then labels set since, in the order they were
//! first set. Each entry remembers when it was set to reproduce that.

use regex::CaptureLocations;
use strata_model::Labels;

use crate::regex::RelabelRegex;

#[derive(Debug, Clone, Default)]
struct Entry {
    name: String,
    value: String,
    /// 0 for labels of the base set, else the order in which the name was first set.
    seq: u64,
}

impl Entry {
    fn fill(&mut self, name: &str, value: &str, seq: u64) {
        self.name.clear();
        self.name.push_str(name);
        self.value.clear();
        self.value.push_str(value);
        self.seq = seq;
    }
}

/// Most label sets relabeled in the scrape path capture with fewer regexes than this; the
/// cache is cleared past it so it cannot grow without bound.
const MAX_CACHED_LOCATIONS: usize = 256;

/// A mutable, sorted label set with scratch space for relabeling.
#[derive(Debug, Default)]
pub struct RelabelBuilder {
    /// `entries[..len]` are the labels, sorted by name; the rest are spare buffers.
    entries: Vec<Entry>,
    len: usize,
    next_seq: u64,
    /// Copy of the labels taken by `labelmap`/`labeldrop`/`labelkeep` before changing them.
    snapshot: Vec<Entry>,
    snapshot_len: usize,
    /// Joined source values, expanded target and replacement.
    pub(crate) value: String,
    pub(crate) target: String,
    pub(crate) result: String,
    /// Capture locations per compiled regex (by regex id).
    locations: Vec<(u64, CaptureLocations)>,
}

impl RelabelBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        RelabelBuilder::default()
    }

    /// A builder holding `labels`.
    pub fn from_labels(labels: &Labels) -> Self {
        let mut b = RelabelBuilder::new();
        b.reset(labels);
        b
    }

    /// Replaces the content with `labels`, reusing buffers.
    pub fn reset(&mut self, labels: &Labels) {
        self.len = 0;
        self.next_seq = 1;
        for (n, v) in labels.iter() {
            self.push_sorted(n, v, 0);
        }
    }

    /// Removes every label.
    pub fn clear(&mut self) {
        self.len = 0;
        self.next_seq = 1;
    }

    /// Appends a pair known to sort after every present name.
    fn push_sorted(&mut self, name: &str, value: &str, seq: u64) {
        if self.len == self.entries.len() {
            self.entries.push(Entry::default());
        }
        self.entries[self.len].fill(name, value, seq);
        self.len += 1;
    }

    fn find(&self, name: &str) -> Result<usize, usize> {
        self.entries[..self.len].binary_search_by(|e| e.name.as_str().cmp(name))
    }

    /// The value of `name`, if present.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.find(name).ok().map(|i| self.entries[i].value.as_str())
    }

    /// Sets `name` to `value`; an empty value deletes the label (as in Prometheus).
    pub fn set(&mut self, name: &str, value: &str) {
        if value.is_empty() {
            self.del(name);
            return;
        }
        match self.find(name) {
            Ok(i) => {
                let e = &mut self.entries[i];
                e.value.clear();
                e.value.push_str(value);
                if e.seq == 0 {
                    e.seq = self.next_seq;
                    self.next_seq += 1;
                }
            }
            Err(i) => {
                if self.len == self.entries.len() {
                    self.entries.push(Entry::default());
                }
                let seq = self.next_seq;
                self.next_seq += 1;
                self.entries[self.len].fill(name, value, seq);
                self.entries[i..=self.len].rotate_right(1);
                self.len += 1;
            }
        }
    }

    /// Removes `name` if present.
    pub fn del(&mut self, name: &str) {
        if let Ok(i) = self.find(name) {
            self.entries[i..self.len].rotate_left(1);
            self.len -= 1;
        }
    }

    /// Iterates over the pairs in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.entries[..self.len]
            .iter()
            .map(|e| (e.name.as_str(), e.value.as_str()))
    }

    /// Number of labels.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The current labels as an immutable [`Labels`].
    pub fn labels(&self) -> Labels {
        Labels::from_sorted(self.iter())
    }

    /// Copies the current labels into the snapshot, in Prometheus' `Range` order when
    /// `ordered`; returns how many were copied. Read them with [`Self::snapshot_entry`].
    pub(crate) fn take_snapshot(&mut self, ordered: bool) -> usize {
        let n = self.len;
        while self.snapshot.len() < n {
            self.snapshot.push(Entry::default());
        }
        for i in 0..n {
            let e = &self.entries[i];
            self.snapshot[i].fill(&e.name, &e.value, e.seq);
        }
        if ordered {
            // Base labels (seq 0) keep name order; the sort is stable.
            self.snapshot[..n].sort_by_key(|e| e.seq);
        }
        self.snapshot_len = n;
        n
    }

    /// Name and value of snapshot entry `i`, moved out so the builder can be changed.
    pub(crate) fn snapshot_entry(&mut self, i: usize) -> (String, String) {
        let e = &mut self.snapshot[i];
        (std::mem::take(&mut e.name), std::mem::take(&mut e.value))
    }

    /// Returns the buffers taken by [`Self::snapshot_entry`] for reuse.
    pub(crate) fn restore_snapshot_entry(&mut self, i: usize, name: String, value: String) {
        let e = &mut self.snapshot[i];
        e.name = name;
        e.value = value;
    }

    /// Capture scratch space for `re`, created once per regex and builder.
    pub(crate) fn locations_for(&mut self, re: &RelabelRegex) -> CaptureLocations {
        if let Some(pos) = self.locations.iter().position(|(id, _)| *id == re.id()) {
            return self.locations.swap_remove(pos).1;
        }
        re.compiled().capture_locations()
    }

    /// Gives capture scratch space back after use.
    pub(crate) fn return_locations(&mut self, re: &RelabelRegex, locs: CaptureLocations) {
        if self.locations.len() >= MAX_CACHED_LOCATIONS {
            self.locations.clear();
        }
        self.locations.push((re.id(), locs));
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn set_get_del_keep_order() {
        let l = Labels::new(&[("b", "2"), ("d", "4")]).unwrap();
        let mut b = RelabelBuilder::from_labels(&l);
        b.set("c", "3");
        b.set("a", "1");
        b.set("d", "");
        assert_eq!(b.get("a"), Some("1"));
        assert_eq!(b.get("d"), None);
        assert_eq!(b.labels().to_string(), r#"{a="1", b="2", c="3"}"#);
        b.del("a");
        b.del("zz");
        assert_eq!(b.len(), 2);
        b.reset(&l);
        assert_eq!(b.labels(), l);
    }

    #[test]
    fn snapshot_follows_range_order() {
        let l = Labels::new(&[("b", "2"), ("d", "4")]).unwrap();
        let mut b = RelabelBuilder::from_labels(&l);
        b.set("z", "1");
        b.set("a", "1");
        b.set("d", "5");
        let n = b.take_snapshot(true);
        let names: Vec<String> = (0..n).map(|i| b.snapshot_entry(i).0).collect();
        assert_eq!(names, ["b", "z", "a", "d"]);
    }
}
