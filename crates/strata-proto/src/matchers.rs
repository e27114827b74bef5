//! `thanos.LabelMatcher` ⇄ [`strata_model::Matcher`].

use strata_model::{MatchType, Matcher};

use crate::error::{Error, Result};
use crate::pb::thanos::LabelMatcher;
use crate::pb::thanos::label_matcher::Type;

impl From<MatchType> for Type {
    fn from(t: MatchType) -> Self {
        match t {
            MatchType::Equal => Type::Eq,
            MatchType::NotEqual => Type::Neq,
            MatchType::Regex => Type::Re,
            MatchType::NotRegex => Type::Nre,
        }
    }
}

impl From<Type> for MatchType {
    fn from(t: Type) -> Self {
        match t {
            Type::Eq => MatchType::Equal,
            Type::Neq => MatchType::NotEqual,
            Type::Re => MatchType::Regex,
            Type::Nre => MatchType::NotRegex,
        }
    }
}

impl From<&Matcher> for LabelMatcher {
    fn from(m: &Matcher) -> Self {
        LabelMatcher {
            r#type: Type::from(m.kind).into(),
            name: m.name.clone(),
            value: m.value.clone(),
        }
    }
}

impl TryFrom<&LabelMatcher> for Matcher {
    type Error = Error;

    /// Builds the matcher, compiling regexes with Prometheus semantics (fully anchored).
    fn try_from(m: &LabelMatcher) -> Result<Matcher> {
        let kind = Type::try_from(m.r#type).map_err(|_| Error::UnknownMatcherType {
            name: m.name.clone(),
            value: m.r#type,
        })?;
        Matcher::new(kind.into(), m.name.as_str(), m.value.as_str()).map_err(Error::InvalidMatcher)
    }
}

/// Converts wire matchers, failing on the first unknown type or bad regex.
pub fn matchers_from_proto(matchers: &[LabelMatcher]) -> Result<Vec<Matcher>> {
    matchers.iter().map(Matcher::try_from).collect()
}

/// The wire form of `matchers`, in the same order.
pub fn matchers_to_proto(matchers: &[Matcher]) -> Vec<LabelMatcher> {
    matchers.iter().map(LabelMatcher::from).collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn lm(t: i32, name: &str, value: &str) -> LabelMatcher {
        LabelMatcher {
            r#type: t,
            name: name.into(),
            value: value.into(),
        }
    }

    #[test]
    fn enum_values_follow_thanos() {
        assert_eq!(Type::from(MatchType::Equal) as i32, 0);
        assert_eq!(Type::from(MatchType::NotEqual) as i32, 1);
        assert_eq!(Type::from(MatchType::Regex) as i32, 2);
        assert_eq!(Type::from(MatchType::NotRegex) as i32, 3);
    }

    #[test]
    fn round_trip_keeps_order_and_semantics() {
        let wire = vec![
            lm(0, "__name__", "up"),
            lm(1, "job", ""),
            lm(2, "instance", "a|b"),
            lm(3, "env", "dev.*"),
        ];
        let ms = matchers_from_proto(&wire).unwrap();
        assert_eq!(ms[0].to_string(), r#"__name__="up""#);
        assert_eq!(ms[3].kind, MatchType::NotRegex);
        // Regexes are anchored, as in Prometheus.
        assert!(ms[2].matches("a"));
        assert!(!ms[2].matches("ab"));
        assert_eq!(matchers_to_proto(&ms), wire);
    }

    #[test]
    fn unknown_type_is_reported_with_name_and_value() {
        let e = matchers_from_proto(&[lm(0, "a", "1"), lm(7, "job", "x")]).unwrap_err();
        assert!(matches!(e, Error::UnknownMatcherType { ref name, value: 7 } if name == "job"));
        assert!(e.to_string().contains("unknown type 7"), "{e}");
    }

    #[test]
    fn bad_regex_is_reported() {
        let e = Matcher::try_from(&lm(2, "job", "(")).unwrap_err();
        assert!(matches!(e, Error::InvalidMatcher(_)));
        assert!(e.to_string().contains("job"), "{e}");
    }
}
