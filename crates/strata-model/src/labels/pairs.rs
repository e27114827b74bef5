//! Borrowed label pairs sorted by name, as a receiver decodes them: the checks of
//! [`Labels::from_unsorted`], Prometheus' hash and equality with a [`Labels`], all
//! without building one (the write path finds existing series this way).

use super::{Labels, LabelsIter, NameValidation, hash_strings, validate_label_name};
use crate::error::{Error, Result};

impl Labels {
    /// Sorts pairs by name as [`Labels::from_unsorted`] does (a no-op when sorted).
    pub fn sort_pairs(pairs: &mut [(&str, &str)]) {
        if !pairs.is_sorted_by(|a, b| a.0 <= b.0) {
            pairs.sort_unstable_by(|a, b| a.0.cmp(b.0));
        }
    }

    /// The checks of [`Labels::from_unsorted`] on pairs sorted by name: duplicate names
    /// first, then each name against `scheme`; the same errors.
    pub fn check_sorted_pairs(pairs: &[(&str, &str)], scheme: NameValidation) -> Result<()> {
        for w in pairs.windows(2) {
            if w[0].0 == w[1].0 {
                return Err(Error::InvalidLabels {
                    labels: Labels::from_sorted(pairs.iter().copied()).to_string(),
                    reason: format!("duplicate label name {:?}", w[0].0),
                });
            }
        }
        for (n, _) in pairs {
            validate_label_name(n, scheme)?;
        }
        Ok(())
    }

    /// `Labels::from_sorted(pairs).hash()` without building the set.
    pub fn hash_sorted_pairs(pairs: &[(&str, &str)]) -> u64 {
        let present = || pairs.iter().filter(|(_, v)| !v.is_empty());
        let bound = present().map(|(n, v)| n.len() + v.len() + 2).sum();
        let mut strs = present().flat_map(|&(n, v)| [n, v]);
        hash_strings(bound, || strs.next())
    }

    /// `*self == Labels::from_sorted(pairs)` without building the set.
    pub fn eq_sorted_pairs(&self, pairs: &[(&str, &str)]) -> bool {
        let mut mine = LabelsIter { rest: &self.data };
        for &(n, v) in pairs.iter().filter(|(_, v)| !v.is_empty()) {
            match mine.next() {
                Some((a, b)) if a == n && b == v => {}
                _ => return false,
            }
        }
        mine.next().is_none()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn owned(v: &[(String, String)]) -> Vec<(&str, &str)> {
        v.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect()
    }

    proptest::proptest! {
        #[test]
        fn pairs_agree_with_built_labels(
            a in proptest::collection::vec(("[a-c_é]{1,3}", "[xy]{0,2}|\\PC{0,300}"), 0..8),
            b in proptest::collection::vec(("[a-c_é]{1,3}", "[xy]{0,2}"), 0..8),
        ) {
            let (mut a, mut b) = (owned(&a), owned(&b));
            Labels::sort_pairs(&mut a);
            Labels::sort_pairs(&mut b);
            let checked = Labels::check_sorted_pairs(&a, NameValidation::Utf8);
            match Labels::from_unsorted(&mut a.clone(), NameValidation::Utf8) {
                Ok(la) => {
                    proptest::prop_assert!(checked.is_ok());
                    proptest::prop_assert_eq!(Labels::hash_sorted_pairs(&a), la.hash());
                    proptest::prop_assert!(la.eq_sorted_pairs(&a));
                    let lb = Labels::from_sorted(b.iter().copied());
                    proptest::prop_assert_eq!(lb.eq_sorted_pairs(&a), lb == la);
                }
                Err(e) => proptest::prop_assert_eq!(checked.unwrap_err().to_string(), e.to_string()),
            }
        }
    }

    #[test]
    fn empty_values_are_skipped() {
        let l = Labels::new(&[("a", "1"), ("c", "3")]).unwrap();
        let p = [("a", "1"), ("b", ""), ("c", "3")];
        assert!(l.eq_sorted_pairs(&p));
        assert_eq!(Labels::hash_sorted_pairs(&p), l.hash());
        assert!(!l.eq_sorted_pairs(&[("a", "1")]));
        assert!(!l.eq_sorted_pairs(&[("a", "1"), ("c", "3"), ("d", "4")]));
    }
}
