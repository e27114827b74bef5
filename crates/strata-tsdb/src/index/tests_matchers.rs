//! Postings set operations and matcher selection against brute-force models.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use strata_model::{Labels, LabelsBuilder, MatchType, Matcher};

use super::*;

fn sorted_set() -> impl Strategy<Value = Vec<u64>> {
    prop::collection::btree_set(0u64..300, 0..60).prop_map(|s| s.into_iter().collect())
}

/// Series held in memory; references are `3 * position + 1` to keep them sparse.
struct Mem {
    series: Vec<Labels>,
}

impl Mem {
    fn refs(&self) -> impl Iterator<Item = (u64, &Labels)> {
        self.series
            .iter()
            .enumerate()
            .map(|(i, l)| (3 * i as u64 + 1, l))
    }
}

impl PostingsSource for Mem {
    fn label_values(&self, name: &str) -> crate::Result<Vec<String>> {
        let vals: BTreeSet<String> = self
            .series
            .iter()
            .filter_map(|l| l.get(name).map(str::to_owned))
            .collect();
        Ok(vals.into_iter().collect())
    }
    fn postings(&self, name: &str, value: &str) -> crate::Result<Vec<u64>> {
        Ok(self
            .refs()
            .filter(|(_, l)| l.get(name) == Some(value))
            .map(|(r, _)| r)
            .collect())
    }
    fn all_postings(&self) -> crate::Result<Vec<u64>> {
        Ok(self.refs().map(|(r, _)| r).collect())
    }
}

const NAMES: [&str; 4] = ["a", "b", "c", "missing"];
const VALUES: [&str; 5] = ["x", "y", "xy", "z", "xyz"];
const PATTERNS: [&str; 16] = [
    "", "x", "y", "xy", "x|y", "x.*", ".*", ".+", "|x", "(x|)", "[xy]z?", "z.*", "xy.*", ".*y",
    ".*y.*", "x+",
];

fn arb_labels() -> impl Strategy<Value = Labels> {
    prop::collection::vec(
        (
            prop::sample::select(&NAMES[..3]),
            prop::sample::select(&VALUES[..]),
        ),
        0..4,
    )
    .prop_map(|ps| {
        let mut b = LabelsBuilder::new();
        for (n, v) in ps {
            b.set(n, v);
        }
        b.build().unwrap()
    })
}

fn arb_matcher() -> impl Strategy<Value = Matcher> {
    (
        prop::sample::select(&NAMES[..]),
        prop::sample::select(vec![
            MatchType::Equal,
            MatchType::NotEqual,
            MatchType::Regex,
            MatchType::NotRegex,
        ]),
        prop::sample::select(&PATTERNS[..]),
    )
        .prop_map(|(n, k, v)| Matcher::new(k, n, v).unwrap())
}

fn brute_force(mem: &Mem, ms: &[Matcher]) -> Vec<u64> {
    if ms.is_empty() {
        return Vec::new();
    }
    mem.refs()
        .filter(|(_, l)| Matcher::all_match(ms, l))
        .map(|(r, _)| r)
        .collect()
}

fn unique(mut v: Vec<Labels>) -> Vec<Labels> {
    v.sort();
    v.dedup();
    v
}

proptest! {
    #[test]
    fn set_operations_match_btreeset(a in sorted_set(), b in sorted_set(), more in prop::collection::vec(sorted_set(), 0..5)) {
        let sa: BTreeSet<u64> = a.iter().copied().collect();
        let sb: BTreeSet<u64> = b.iter().copied().collect();
        prop_assert_eq!(intersect(&a, &b), sa.intersection(&sb).copied().collect::<Vec<_>>());
        prop_assert_eq!(without(&a, &b), sa.difference(&sb).copied().collect::<Vec<_>>());
        let mut lists = vec![a.clone(), b.clone()];
        lists.extend(more.clone());
        let mut all = BTreeSet::new();
        for l in &lists {
            all.extend(l.iter().copied());
        }
        prop_assert_eq!(merge(lists), all.into_iter().collect::<Vec<_>>());
        prop_assert_eq!(merge(vec![a.clone()]), a.clone());
        prop_assert!(merge(Vec::new()).is_empty());
    }

    #[test]
    fn intersection_of_a_short_and_a_long_list(
        a in prop::collection::btree_set(0u64..5000, 0..20),
        b in prop::collection::btree_set(0u64..5000, 200..1500),
    ) {
        let (va, vb): (Vec<u64>, Vec<u64>) = (a.iter().copied().collect(), b.iter().copied().collect());
        let want: Vec<u64> = a.intersection(&b).copied().collect();
        prop_assert_eq!(intersect(&va, &vb), want.clone());
        prop_assert_eq!(intersect(&vb, &va), want);
    }

    #[test]
    fn matchers_match_brute_force(
        series in prop::collection::vec(arb_labels(), 0..30),
        ms in prop::collection::vec(arb_matcher(), 0..4),
    ) {
        let mem = Mem { series: unique(series) };
        let got = postings_for_matchers(&mem, &ms).unwrap();
        prop_assert_eq!(got, brute_force(&mem, &ms), "matchers {:?}", ms.iter().map(ToString::to_string).collect::<Vec<_>>());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn index_matchers_match_brute_force(
        series in prop::collection::vec(arb_labels(), 0..30),
        sets in prop::collection::vec(prop::collection::vec(arb_matcher(), 0..4), 1..8),
    ) {
        let series = unique(series);
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("index");
        let mut syms = BTreeSet::new();
        for l in &series {
            for (n, v) in l.iter() {
                syms.insert(n);
                syms.insert(v);
            }
        }
        let mut w = IndexWriter::create(&p).unwrap();
        w.add_symbols(syms.iter().copied()).unwrap();
        for l in &series {
            w.add_series(l, &[]).unwrap();
        }
        w.finish().unwrap();
        let r = IndexReader::open(&p).unwrap();
        let ids = r.all_postings().unwrap();
        prop_assert_eq!(ids.len(), series.len());
        let by_id: BTreeMap<u64, &Labels> = ids.iter().copied().zip(&series).collect();
        for ms in sets {
            let want: Vec<u64> = if ms.is_empty() {
                Vec::new()
            } else {
                by_id.iter().filter(|(_, l)| Matcher::all_match(&ms, l)).map(|(id, _)| *id).collect()
            };
            prop_assert_eq!(r.postings_for_matchers(&ms).unwrap(), want);
        }
    }
}

#[test]
fn matcher_edge_cases() {
    let mem = Mem {
        series: unique(vec![
            Labels::new(&[("a", "x")]).unwrap(),
            Labels::new(&[("a", "y"), ("b", "x")]).unwrap(),
            Labels::new(&[("b", "y")]).unwrap(),
        ]),
    };
    let sel = |ms: &[Matcher]| postings_for_matchers(&mem, ms).unwrap();
    let m = |k, n: &str, v: &str| Matcher::new(k, n, v).unwrap();
    assert!(sel(&[]).is_empty());
    // Only matchers that accept "": start from all series.
    assert_eq!(sel(&[m(MatchType::Equal, "a", "")]), [7]);
    assert_eq!(sel(&[m(MatchType::NotEqual, "a", "x")]), [4, 7]);
    assert_eq!(sel(&[m(MatchType::Regex, "a", ".*")]), [1, 4, 7]);
    assert_eq!(sel(&[m(MatchType::Regex, "missing", "")]), [1, 4, 7]);
    assert!(sel(&[m(MatchType::Regex, "missing", ".+")]).is_empty());
    assert_eq!(sel(&[m(MatchType::NotRegex, "a", "x.*")]), [4, 7]);
    assert_eq!(
        sel(&[
            m(MatchType::NotEqual, "a", ""),
            m(MatchType::NotEqual, "b", "")
        ]),
        [4]
    );
}
