//! Label sets: sorted, validated, compact and cheap to clone.
//!
//! A [`Labels`] value holds all its names and values in one shared `str` allocation (each
//! string prefixed by its length, pairs sorted by name), much like Prometheus'
//! `stringlabels` build. Lengths are written in ASCII-only bytes (6 payload bits, 0x40 as
//! the continuation bit), so the whole buffer stays valid UTF-8 and iteration hands out
//! `&str` slices without re-validating them. Ordering follows Prometheus'
//! `labels.Compare`.

use std::cmp::Ordering;
use std::fmt;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::gofmt::go_quote;

mod pairs;

/// The label that carries the metric name.
pub const METRIC_NAME: &str = "__name__";

/// One label pair, owned.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Label {
    pub name: String,
    pub value: String,
}

impl Label {
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Self {
        Label {
            name: name.into(),
            value: value.into(),
        }
    }
}

/// How label names are validated. Prometheus 3 accepts any UTF-8 name; `Legacy` is the
/// classic `[a-zA-Z_][a-zA-Z0-9_]*` rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NameValidation {
    #[default]
    Utf8,
    Legacy,
}

/// A sorted set of label pairs with unique, non-empty names.
#[derive(Clone, Default)]
pub struct Labels {
    data: Arc<str>,
}

/// Appends `n` as ASCII length bytes: 6 bits each, 0x40 set on all but the last.
fn put_len(buf: &mut String, mut n: usize) {
    loop {
        let b = (n & 0x3f) as u8;
        n >>= 6;
        if n == 0 {
            buf.push(char::from(b));
            return;
        }
        buf.push(char::from(b | 0x40));
    }
}

/// Reads a length written by [`put_len`]: the length and the bytes it took.
fn get_len(b: &[u8]) -> Option<(usize, usize)> {
    let mut n = 0usize;
    for (i, &byte) in b.iter().enumerate().take(11) {
        n |= usize::from(byte & 0x3f).checked_shl(6 * i as u32)?;
        if byte & 0x40 == 0 {
            return Some((n, i + 1));
        }
    }
    None
}

/// XXH64 over each string followed by `0xff` (Prometheus' `labels.Hash`); `bound` is at
/// least the bytes hashed (the strings' lengths plus one each). Most label sets fit a
/// stack buffer; larger ones use a heap buffer.
fn hash_strings<'a>(bound: usize, mut next: impl FnMut() -> Option<&'a str>) -> u64 {
    let mut stack = [0u8; 512];
    let mut heap = Vec::new();
    let buf: &mut [u8] = if bound <= stack.len() {
        &mut stack[..bound]
    } else {
        heap.resize(bound, 0);
        &mut heap
    };
    let mut i = 0;
    while let Some(s) = next() {
        let Some(dst) = buf.get_mut(i..i + s.len() + 1) else {
            break;
        };
        dst[..s.len()].copy_from_slice(s.as_bytes());
        dst[s.len()] = 0xff;
        i += s.len() + 1;
    }
    xxhash_rust::xxh64::xxh64(&buf[..i], 0)
}

/// Checks a label name against the chosen validation scheme.
pub fn validate_label_name(name: &str, scheme: NameValidation) -> Result<()> {
    if name.is_empty() {
        return Err(Error::InvalidLabelName {
            name: name.into(),
            reason: "empty label name",
        });
    }
    if scheme == NameValidation::Legacy {
        let ok = name
            .bytes()
            .enumerate()
            .all(|(i, c)| c == b'_' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit()));
        if !ok {
            return Err(Error::InvalidLabelName {
                name: name.into(),
                reason: "must match [a-zA-Z_][a-zA-Z0-9_]*",
            });
        }
    }
    Ok(())
}

/// True when `name` is a valid legacy metric name (`[a-zA-Z_:][a-zA-Z0-9_:]*`).
pub fn is_legacy_metric_name(name: &str) -> bool {
    !name.is_empty()
        && name.bytes().enumerate().all(|(i, c)| {
            c == b'_' || c == b':' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit())
        })
}

impl Labels {
    /// The empty label set.
    pub fn empty() -> Self {
        Labels::default()
    }

    /// Builds a label set from pairs in any order. Pairs with an empty value are dropped
    /// (Prometheus treats an empty value as an absent label); empty or duplicate names are
    /// an error.
    pub fn new<N: AsRef<str>, V: AsRef<str>>(pairs: &[(N, V)]) -> Result<Self> {
        let mut v: Vec<(&str, &str)> = pairs
            .iter()
            .map(|(n, v)| (n.as_ref(), v.as_ref()))
            .collect();
        Self::from_unsorted(&mut v, NameValidation::Utf8)
    }

    /// Sorts `pairs` by name (senders usually send them sorted already), rejects empty,
    /// invalid or duplicate names, drops empty values, and encodes the rest. Borrows the
    /// strings: no allocation but the result's.
    pub fn from_unsorted(pairs: &mut [(&str, &str)], scheme: NameValidation) -> Result<Self> {
        Self::sort_pairs(pairs);
        Self::check_sorted_pairs(pairs, scheme)?;
        Ok(Labels::from_sorted(pairs.iter().copied()))
    }

    /// Builds from pairs that the caller guarantees are sorted by name, unique and valid
    /// (e.g. read back from our own checksummed files). Still drops empty values.
    pub fn from_sorted<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        fn encode<'a>(buf: &mut String, pairs: impl IntoIterator<Item = (&'a str, &'a str)>) {
            for (n, v) in pairs {
                if v.is_empty() {
                    continue;
                }
                put_len(buf, n.len());
                buf.push_str(n);
                put_len(buf, v.len());
                buf.push_str(v);
            }
        }
        thread_local! {
            static SCRATCH: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
        }
        // Encoded in a reused buffer, then copied once into the shared allocation.
        let mut pairs = Some(pairs);
        let built = SCRATCH.try_with(|cell| {
            let mut buf = cell.try_borrow_mut().ok()?;
            buf.clear();
            encode(&mut buf, pairs.take()?);
            let data: Arc<str> = Arc::from(buf.as_str());
            if buf.capacity() > 4096 {
                *buf = String::new();
            }
            Some(data)
        });
        match (built, pairs) {
            (Ok(Some(data)), _) => Labels { data },
            (_, Some(pairs)) => {
                let mut buf = String::with_capacity(64);
                encode(&mut buf, pairs);
                Labels { data: buf.into() }
            }
            // Unreachable: the pairs are consumed only when the labels were built.
            (_, None) => Labels::default(),
        }
    }

    /// Iterates over `(name, value)` pairs in name order.
    pub fn iter(&self) -> LabelsIter<'_> {
        LabelsIter { rest: &self.data }
    }

    /// Number of label pairs.
    pub fn len(&self) -> usize {
        self.iter().count()
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The value of `name`, if present.
    pub fn get(&self, name: &str) -> Option<&str> {
        for (n, v) in self.iter() {
            match n.cmp(name) {
                Ordering::Equal => return Some(v),
                Ordering::Greater => return None,
                Ordering::Less => {}
            }
        }
        None
    }

    /// The metric name (`__name__`), if present.
    pub fn metric_name(&self) -> Option<&str> {
        self.get(METRIC_NAME)
    }

    /// True when a label called `name` is present.
    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// A copy without the named labels.
    pub fn without(&self, names: &[&str]) -> Labels {
        Labels::from_sorted(self.iter().filter(|(n, _)| !names.contains(n)))
    }

    /// A copy with only the named labels.
    pub fn only(&self, names: &[&str]) -> Labels {
        Labels::from_sorted(self.iter().filter(|(n, _)| names.contains(n)))
    }

    /// A builder seeded with this set, to add, replace or remove labels.
    pub fn to_builder(&self) -> LabelsBuilder {
        let mut b = LabelsBuilder::new();
        for (n, v) in self.iter() {
            b.push(n, v);
        }
        b
    }

    /// Owned pairs.
    pub fn to_vec(&self) -> Vec<Label> {
        self.iter().map(|(n, v)| Label::new(n, v)).collect()
    }

    /// Identity of the shared allocation: equal for clones of one value. Only meaningful
    /// while the value is alive (hold a clone to keep it from being reused).
    pub fn ptr_id(&self) -> usize {
        Arc::as_ptr(&self.data) as *const u8 as usize
    }

    /// Bytes used by the encoded pairs (for memory accounting).
    pub fn encoded_len(&self) -> usize {
        self.data.len()
    }

    /// Stable 64-bit hash: XXH64 over `name 0xff value 0xff ...`, as Prometheus'
    /// `labels.Hash` computes it.
    pub fn hash(&self) -> u64 {
        // Every string has a length prefix of at least one byte in `data`, so the
        // separators never make the hashed bytes longer than `data`.
        let mut strs = LabelsIter { rest: &self.data }.flat_map(|(n, v)| [n, v]);
        hash_strings(self.data.len(), || strs.next())
    }

    /// Validates names (non-empty, scheme, unique, sorted); values are UTF-8 by type.
    pub fn validate(&self, scheme: NameValidation) -> Result<()> {
        let mut prev: Option<&str> = None;
        for (n, _) in self.iter() {
            validate_label_name(n, scheme)?;
            if let Some(p) = prev {
                if p == n {
                    return Err(Error::InvalidLabels {
                        labels: self.to_string(),
                        reason: format!("duplicate label name {n:?}"),
                    });
                }
                if p > n {
                    return Err(Error::InvalidLabels {
                        labels: self.to_string(),
                        reason: "labels are not sorted".into(),
                    });
                }
            }
            prev = Some(n);
        }
        Ok(())
    }
}

/// Iterator over the pairs of a [`Labels`].
pub struct LabelsIter<'a> {
    rest: &'a str,
}

impl<'a> LabelsIter<'a> {
    fn take_str(&mut self) -> Option<&'a str> {
        let (len, n) = get_len(self.rest.as_bytes())?;
        let end = n.checked_add(len)?;
        let s = self.rest.get(n..end)?;
        self.rest = self.rest.get(end..)?;
        Some(s)
    }
}

impl<'a> Iterator for LabelsIter<'a> {
    type Item = (&'a str, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let name = self.take_str()?;
        let value = self.take_str()?;
        Some((name, value))
    }
}

impl PartialEq for Labels {
    fn eq(&self, other: &Self) -> bool {
        self.data == other.data
    }
}
impl Eq for Labels {}

impl std::hash::Hash for Labels {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.data.hash(state);
    }
}

impl Ord for Labels {
    /// Prometheus' `labels.Compare`: pairwise by name, then value; shorter sets first.
    fn cmp(&self, other: &Self) -> Ordering {
        let mut a = self.iter();
        let mut b = other.iter();
        loop {
            match (a.next(), b.next()) {
                (None, None) => return Ordering::Equal,
                (None, Some(_)) => return Ordering::Less,
                (Some(_), None) => return Ordering::Greater,
                (Some((an, av)), Some((bn, bv))) => {
                    let o = an.cmp(bn).then_with(|| av.cmp(bv));
                    if o != Ordering::Equal {
                        return o;
                    }
                }
            }
        }
    }
}
impl PartialOrd for Labels {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Labels {
    /// Prometheus' `labels.String()`: `{a="1", b="2"}` with Go-quoted values.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{")?;
        for (i, (n, v)) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{n}={}", go_quote(v))?;
        }
        f.write_str("}")
    }
}

impl fmt::Debug for Labels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Collects label pairs in any order, then sorts and validates them into [`Labels`].
#[derive(Debug, Default, Clone)]
pub struct LabelsBuilder {
    pairs: Vec<(String, String)>,
    scheme: NameValidation,
}

impl LabelsBuilder {
    pub fn new() -> Self {
        LabelsBuilder::default()
    }

    /// Uses the given name validation scheme in [`LabelsBuilder::build`].
    pub fn with_validation(mut self, scheme: NameValidation) -> Self {
        self.scheme = scheme;
        self
    }

    /// Appends a pair (duplicates are reported by `build`).
    pub fn push(&mut self, name: &str, value: &str) -> &mut Self {
        self.pairs.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Sets `name` to `value`, replacing an existing pair; an empty value removes it.
    pub fn set(&mut self, name: &str, value: &str) -> &mut Self {
        self.pairs.retain(|(n, _)| n != name);
        if !value.is_empty() {
            self.pairs.push((name.to_owned(), value.to_owned()));
        }
        self
    }

    /// Removes `name`.
    pub fn del(&mut self, name: &str) -> &mut Self {
        self.pairs.retain(|(n, _)| n != name);
        self
    }

    /// The current value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Sorts, checks and encodes the pairs.
    pub fn build(self) -> Result<Labels> {
        let mut v: Vec<(&str, &str)> = self
            .pairs
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        Labels::from_unsorted(&mut v, self.scheme)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_and_drops_empty_values() {
        let l = Labels::new(&[("b", "2"), ("a", "1"), ("c", "")]).unwrap();
        assert_eq!(l.to_string(), r#"{a="1", b="2"}"#);
        assert_eq!(l.len(), 2);
        assert_eq!(l.get("b"), Some("2"));
        assert_eq!(l.get("c"), None);
    }

    #[test]
    fn rejects_duplicates_and_empty_names() {
        let e = Labels::new(&[("a", "1"), ("a", "2")]).unwrap_err();
        assert!(e.to_string().contains("duplicate label name \"a\""), "{e}");
        assert!(Labels::new(&[("", "x")]).is_err());
    }

    #[test]
    fn legacy_validation_rejects_dots_utf8_accepts() {
        let mut b = LabelsBuilder::new().with_validation(NameValidation::Legacy);
        b.push("service.name", "x");
        assert!(b.build().is_err());
        assert!(Labels::new(&[("service.name", "x")]).is_ok());
    }

    #[test]
    fn compare_follows_prometheus() {
        let a = Labels::new(&[("a", "1")]).unwrap();
        let b = Labels::new(&[("a", "1"), ("b", "1")]).unwrap();
        let c = Labels::new(&[("a", "2")]).unwrap();
        assert!(a < b);
        assert!(b < c);
    }

    #[test]
    fn hash_matches_prometheus_definition() {
        let l = Labels::new(&[("a", "b")]).unwrap();
        let expected = xxhash_rust::xxh64::xxh64(b"a\xffb\xff", 0);
        assert_eq!(l.hash(), expected);
    }

    proptest::proptest! {
        #[test]
        fn pairs_round_trip(pairs in proptest::collection::btree_map("[a-zA-Z_.é]{1,80}", "\\PC{0,300}", 0..12)) {
            let v: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let l = Labels::new(&v).unwrap();
            let want: Vec<(&str, &str)> = v.iter().copied().filter(|(_, v)| !v.is_empty()).collect();
            let got: Vec<(&str, &str)> = l.iter().collect();
            proptest::prop_assert_eq!(got, want);
        }
    }

    #[test]
    fn long_values_use_multi_byte_lengths() {
        let long = "x".repeat(100_000);
        let l = Labels::new(&[("a", long.as_str()), ("b", "é")]).unwrap();
        assert_eq!(l.get("a"), Some(long.as_str()));
        assert_eq!(l.get("b"), Some("é"));
    }

    #[test]
    fn display_quotes_like_go() {
        let l = Labels::new(&[("a", "x\"y\n")]).unwrap();
        assert_eq!(l.to_string(), r#"{a="x\"y\n"}"#);
    }
}
