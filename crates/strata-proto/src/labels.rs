//! `thanos.Label` lists ⇄ [`strata_model::Labels`].

use strata_model::Labels;
use strata_model::labels::NameValidation;

use crate::error::{Error, Result};
use crate::pb::thanos::{Label, LabelSet, ZLabelSet};

/// Builds [`Labels`] from wire labels. Names may be any non-empty UTF-8 (Prometheus 3
/// rules) and must be unique; the list need not be sorted. Pairs with an empty value are
/// dropped, as Prometheus treats them as absent.
pub fn labels_from_proto(labels: &[Label]) -> Result<Labels> {
    let mut pairs: Vec<(&str, &str)> = labels
        .iter()
        .map(|l| (l.name.as_str(), l.value.as_str()))
        .collect();
    Labels::from_unsorted(&mut pairs, NameValidation::Utf8).map_err(Error::InvalidLabels)
}

/// The wire form of `labels`, sorted by name.
pub fn labels_to_proto(labels: &Labels) -> Vec<Label> {
    labels
        .iter()
        .map(|(name, value)| Label {
            name: name.to_owned(),
            value: value.to_owned(),
        })
        .collect()
}

impl From<&strata_model::Label> for Label {
    fn from(l: &strata_model::Label) -> Self {
        Label {
            name: l.name.clone(),
            value: l.value.clone(),
        }
    }
}

impl From<&Labels> for LabelSet {
    fn from(labels: &Labels) -> Self {
        LabelSet {
            labels: labels_to_proto(labels),
        }
    }
}

impl From<&Labels> for ZLabelSet {
    fn from(labels: &Labels) -> Self {
        ZLabelSet {
            labels: labels_to_proto(labels),
        }
    }
}

impl LabelSet {
    /// The set as [`Labels`]; see [`labels_from_proto`].
    pub fn to_labels(&self) -> Result<Labels> {
        labels_from_proto(&self.labels)
    }
}

impl ZLabelSet {
    /// The set as [`Labels`]; see [`labels_from_proto`].
    pub fn to_labels(&self) -> Result<Labels> {
        labels_from_proto(&self.labels)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn pl(name: &str, value: &str) -> Label {
        Label {
            name: name.into(),
            value: value.into(),
        }
    }

    #[test]
    fn sorts_and_drops_empty_values() {
        let l = labels_from_proto(&[pl("job", "api"), pl("__name__", "up"), pl("x", "")]).unwrap();
        assert_eq!(l.to_string(), r#"{__name__="up", job="api"}"#);
        assert_eq!(
            labels_to_proto(&l),
            vec![pl("__name__", "up"), pl("job", "api")]
        );
    }

    #[test]
    fn rejects_duplicate_and_empty_names() {
        let e = labels_from_proto(&[pl("a", "1"), pl("a", "2")]).unwrap_err();
        assert!(matches!(e, Error::InvalidLabels(_)));
        assert!(e.to_string().contains(r#"duplicate label name "a""#), "{e}");
        let e = labels_from_proto(&[pl("", "1")]).unwrap_err();
        assert!(e.to_string().contains("empty label name"), "{e}");
    }

    #[test]
    fn accepts_utf8_names() {
        let l = labels_from_proto(&[pl("service.name", "é")]).unwrap();
        assert_eq!(l.get("service.name"), Some("é"));
    }

    #[test]
    fn label_sets_convert_both_ways() {
        let l = Labels::new(&[("b", "2"), ("a", "1")]).unwrap();
        let z = ZLabelSet::from(&l);
        assert_eq!(z.labels, vec![pl("a", "1"), pl("b", "2")]);
        assert_eq!(z.to_labels().unwrap(), l);
        assert_eq!(LabelSet::from(&l).to_labels().unwrap(), l);
        assert_eq!(
            Label::from(&strata_model::Label::new("n", "v")),
            pl("n", "v")
        );
    }

    proptest::proptest! {
        #[test]
        fn round_trips(pairs in proptest::collection::btree_map("[a-zA-Z_.é]{1,20}", "\\PC{1,40}", 0..8)) {
            let wire: Vec<Label> = pairs.iter().map(|(n, v)| pl(n, v)).collect();
            let l = labels_from_proto(&wire).unwrap();
            proptest::prop_assert_eq!(labels_to_proto(&l), wire);
        }
    }
}
