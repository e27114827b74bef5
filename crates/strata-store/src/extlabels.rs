//! External labels: attaching them to series, and matchers that name them (Thanos'
//! `matchesExternalLabels` and `labelpb.ExtendSortedLabels`).

use std::collections::BTreeMap;

use strata_model::{Labels, Matcher};

/// Splits `ms` against a store's external labels: `None` when a matcher on an external
/// label rejects its value (the store has nothing for the request), otherwise the
/// matchers on other labels, which go to the series selection.
pub fn split_external(ms: &[Matcher], ext: &Labels) -> Option<Vec<Matcher>> {
    let mut rest = Vec::with_capacity(ms.len());
    for m in ms {
        match ext.get(&m.name) {
            Some(v) if !m.matches(v) => return None,
            Some(_) => {}
            None => rest.push(m.clone()),
        }
    }
    Some(rest)
}

/// True when every matcher accepts `labels` (missing labels match as "").
pub fn matches_all(ms: &[Matcher], labels: &Labels) -> bool {
    ms.iter()
        .all(|m| m.matches(labels.get(&m.name).unwrap_or("")))
}

/// The labels a series is sent with: `series` with `ext` attached (an external label
/// replaces a series label of the same name, as in Thanos) and the labels in `remove`
/// dropped.
pub fn finalize(series: &Labels, ext: &Labels, remove: &[String]) -> Labels {
    if ext.is_empty() && remove.is_empty() {
        return series.clone();
    }
    let keep = |n: &str| !remove.iter().any(|r| r == n);
    let mut out: Vec<(&str, &str)> = Vec::with_capacity(series.len() + ext.len());
    let mut a = series.iter().peekable();
    let mut b = ext.iter().peekable();
    loop {
        let next = match (a.peek(), b.peek()) {
            (Some(&(an, _)), Some(&(bn, _))) => match an.cmp(bn) {
                std::cmp::Ordering::Less => a.next(),
                std::cmp::Ordering::Equal => {
                    a.next();
                    b.next()
                }
                std::cmp::Ordering::Greater => b.next(),
            },
            (Some(_), None) => a.next(),
            (None, Some(_)) => b.next(),
            (None, None) => break,
        };
        if let Some((n, v)) = next
            && keep(n)
        {
            out.push((n, v));
        }
    }
    Labels::from_sorted(out)
}

/// A label set from the `thanos.labels` map of a block's meta.json. Names are taken as
/// they are (the map is keyed, so they are unique and sorted).
pub fn labels_from_map(m: &BTreeMap<String, String>) -> Labels {
    Labels::from_sorted(
        m.iter()
            .filter(|(n, _)| !n.is_empty())
            .map(|(n, v)| (n.as_str(), v.as_str())),
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use strata_model::MatchType;

    fn l(pairs: &[(&str, &str)]) -> Labels {
        Labels::new(pairs).unwrap()
    }

    #[test]
    fn external_matchers_select_and_are_removed() {
        let ext = l(&[("cluster", "eu"), ("replica", "a")]);
        let ms = vec![
            Matcher::equal("__name__", "up"),
            Matcher::new(MatchType::Regex, "cluster", "eu|us").unwrap(),
        ];
        let rest = split_external(&ms, &ext).unwrap();
        assert_eq!(rest.len(), 1);
        assert_eq!(rest[0].name, "__name__");
        let ms = vec![Matcher::new(MatchType::NotEqual, "cluster", "eu").unwrap()];
        assert!(split_external(&ms, &ext).is_none());
    }

    #[test]
    fn finalize_attaches_overrides_and_removes() {
        let s = l(&[("__name__", "up"), ("cluster", "inner"), ("job", "x")]);
        let ext = l(&[("cluster", "eu"), ("replica", "a"), ("a", "1")]);
        let f = finalize(&s, &ext, &[]);
        assert_eq!(
            f.to_string(),
            r#"{__name__="up", a="1", cluster="eu", job="x", replica="a"}"#
        );
        let f = finalize(&s, &ext, &["replica".into(), "job".into()]);
        assert_eq!(f.to_string(), r#"{__name__="up", a="1", cluster="eu"}"#);
        assert_eq!(finalize(&s, &Labels::empty(), &[]), s);
    }

    #[test]
    fn matches_all_treats_missing_as_empty() {
        let s = l(&[("a", "1")]);
        assert!(matches_all(&[Matcher::equal("b", "")], &s));
        assert!(!matches_all(&[Matcher::equal("a", "2")], &s));
    }

    #[test]
    fn labels_from_meta_map() {
        let m: BTreeMap<String, String> = [("b".into(), "2".into()), ("a".into(), "1".into())]
            .into_iter()
            .collect();
        assert_eq!(labels_from_map(&m).to_string(), r#"{a="1", b="2"}"#);
    }
}
