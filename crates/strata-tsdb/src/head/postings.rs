//! The head's inverted index: for every label pair, the sorted list of series refs.

use std::collections::HashMap;

/// Label name → label value → sorted series refs, plus the list of all refs.
#[derive(Debug, Default)]
pub(crate) struct MemPostings {
    by_name: HashMap<Box<str>, HashMap<Box<str>, Vec<u64>>>,
    all: Vec<u64>,
}

fn insert_sorted(v: &mut Vec<u64>, r: u64) {
    match v.last() {
        Some(&last) if last >= r => {
            if let Err(i) = v.binary_search(&r) {
                v.insert(i, r);
            }
        }
        _ => v.push(r),
    }
}

fn remove_sorted(v: &mut Vec<u64>, r: u64) {
    if let Ok(i) = v.binary_search(&r) {
        v.remove(i);
    }
}

impl MemPostings {
    pub fn add<'a>(&mut self, r: u64, labels: impl Iterator<Item = (&'a str, &'a str)>) {
        for (n, v) in labels {
            let values = match self.by_name.get_mut(n) {
                Some(m) => m,
                None => self.by_name.entry(n.into()).or_default(),
            };
            match values.get_mut(v) {
                Some(list) => insert_sorted(list, r),
                None => {
                    values.insert(v.into(), vec![r]);
                }
            }
        }
        insert_sorted(&mut self.all, r);
    }

    pub fn remove<'a>(&mut self, r: u64, labels: impl Iterator<Item = (&'a str, &'a str)>) {
        for (n, v) in labels {
            let mut drop_name = false;
            if let Some(values) = self.by_name.get_mut(n) {
                let mut drop_value = false;
                if let Some(list) = values.get_mut(v) {
                    remove_sorted(list, r);
                    drop_value = list.is_empty();
                }
                if drop_value {
                    values.remove(v);
                }
                drop_name = values.is_empty();
            }
            if drop_name {
                self.by_name.remove(n);
            }
        }
        remove_sorted(&mut self.all, r);
    }

    pub fn label_names(&self) -> Vec<String> {
        let mut v: Vec<String> = self.by_name.keys().map(|k| k.to_string()).collect();
        v.sort();
        v
    }

    pub fn label_values(&self, name: &str) -> Vec<String> {
        let mut v: Vec<String> = self
            .by_name
            .get(name)
            .map(|m| m.keys().map(|k| k.to_string()).collect())
            .unwrap_or_default();
        v.sort();
        v
    }

    pub fn postings(&self, name: &str, value: &str) -> Vec<u64> {
        self.by_name
            .get(name)
            .and_then(|m| m.get(value))
            .cloned()
            .unwrap_or_default()
    }

    pub fn all(&self) -> Vec<u64> {
        self.all.clone()
    }

    /// Every (name, value, series count) pair.
    pub fn pairs(&self) -> Vec<(String, String, usize)> {
        let mut out = Vec::new();
        for (n, m) in &self.by_name {
            for (v, l) in m {
                out.push((n.to_string(), v.to_string(), l.len()));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_remove_keeps_lists_sorted() {
        let mut p = MemPostings::default();
        p.add(5, [("a", "1")].into_iter());
        p.add(2, [("a", "1"), ("b", "x")].into_iter());
        assert_eq!(p.postings("a", "1"), vec![2, 5]);
        assert_eq!(p.all(), vec![2, 5]);
        p.remove(2, [("a", "1"), ("b", "x")].into_iter());
        assert_eq!(p.postings("a", "1"), vec![5]);
        assert_eq!(p.label_names(), vec!["a".to_string()]);
    }
}
