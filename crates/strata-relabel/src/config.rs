//! One relabel rule as written in a Prometheus configuration file, with Prometheus'
//! defaults and validation (`relabel.Config`).

use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Deserializer};
use strata_model::labels::{NameValidation, validate_label_name};

use crate::action::Action;
use crate::error::{Error, Result};
use crate::regex::{DEFAULT_REGEX, RelabelRegex};
use crate::template::has_variable;

/// Default `separator`.
pub const DEFAULT_SEPARATOR: &str = ";";
/// Default `replacement`.
pub const DEFAULT_REPLACEMENT: &str = "$1";

/// A legacy label name in which `$name`/`${name}` templates may appear.
static LEGACY_TARGET_WITH_VARS: LazyLock<Regex> = LazyLock::new(|| {
    // A constant pattern that compiles.
    #[allow(clippy::expect_used)]
    Regex::new(r"^(?:(?:[a-zA-Z_]|\$(?:\{[0-9A-Za-z_]+\}|[0-9A-Za-z_]+))+[0-9A-Za-z_]*)+$")
        .expect("constant regex compiles")
});

/// One relabel rule.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "RawRelabelConfig")]
pub struct RelabelConfig {
    /// Labels whose values are joined with `separator` (absent labels count as "").
    pub source_labels: Vec<String>,
    pub separator: String,
    /// Anchored regex; `(.*)` when not given, `""` (matches only the empty string) when
    /// given as null.
    pub regex: RelabelRegex,
    /// False when `regex` was left at its default (Prometheus distinguishes the two).
    pub regex_set: bool,
    pub modulus: u64,
    pub target_label: String,
    pub replacement: String,
    pub action: Action,
    /// How names are validated: the scrape config's `metric_name_validation_scheme`.
    pub name_validation: NameValidation,
}

impl Default for RelabelConfig {
    fn default() -> Self {
        RelabelConfig {
            source_labels: Vec::new(),
            separator: DEFAULT_SEPARATOR.to_owned(),
            regex: RelabelRegex::default(),
            regex_set: false,
            modulus: 0,
            target_label: String::new(),
            replacement: DEFAULT_REPLACEMENT.to_owned(),
            action: Action::Replace,
            name_validation: NameValidation::Utf8,
        }
    }
}

/// The rule as read, before defaults and validation. Prometheus' YAML decoder turns an
/// explicit null into the zero value, so `Some(None)` (null) differs from `None` (absent).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRelabelConfig {
    #[serde(default, deserialize_with = "present")]
    source_labels: Option<Option<Vec<String>>>,
    #[serde(default, deserialize_with = "present")]
    separator: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    regex: Option<Option<String>>,
    #[serde(default)]
    modulus: Option<u64>,
    #[serde(default, deserialize_with = "present")]
    target_label: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    replacement: Option<Option<String>>,
    #[serde(default)]
    action: Option<Action>,
}

/// Marks a field as present, keeping an explicit null as `Some(None)`.
fn present<'de, D, T>(d: D) -> std::result::Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

impl TryFrom<RawRelabelConfig> for RelabelConfig {
    type Error = Error;

    fn try_from(raw: RawRelabelConfig) -> Result<Self> {
        let d = RelabelConfig::default();
        let (regex, regex_set) = match raw.regex {
            None => (d.regex, false),
            Some(p) => (RelabelRegex::new(p.as_deref().unwrap_or(""))?, true),
        };
        let mut cfg = RelabelConfig {
            source_labels: raw
                .source_labels
                .map_or(d.source_labels, Option::unwrap_or_default),
            separator: raw.separator.map_or(d.separator, Option::unwrap_or_default),
            regex,
            regex_set,
            modulus: raw.modulus.unwrap_or(0),
            target_label: raw
                .target_label
                .map_or(d.target_label, Option::unwrap_or_default),
            replacement: raw
                .replacement
                .map_or(d.replacement, Option::unwrap_or_default),
            action: raw.action.unwrap_or_default(),
            name_validation: NameValidation::Utf8,
        };
        // UTF-8 validation is the most permissive; callers re-validate with the scrape
        // config's scheme.
        cfg.validate(NameValidation::Utf8)?;
        Ok(cfg)
    }
}

fn valid_name(name: &str, scheme: NameValidation) -> bool {
    validate_label_name(name, scheme).is_ok()
}

impl RelabelConfig {
    /// A rule with Prometheus' defaults and the given action.
    pub fn new(action: Action) -> Self {
        RelabelConfig {
            action,
            ..RelabelConfig::default()
        }
    }

    /// Checks the rule as Prometheus' `relabel.Config.Validate` does and records the
    /// name validation scheme that `process` applies to expanded target labels.
    pub fn validate(&mut self, scheme: NameValidation) -> Result<()> {
        let a = self.action;
        let invalid = |msg: String| Err(Error::Invalid(msg));
        if a == Action::HashMod && self.modulus == 0 {
            return invalid("relabel configuration for hashmod requires non-zero modulus".into());
        }
        let needs_target = matches!(
            a,
            Action::Replace
                | Action::HashMod
                | Action::Lowercase
                | Action::Uppercase
                | Action::KeepEqual
                | Action::DropEqual
        );
        if needs_target && self.target_label.is_empty() {
            return invalid(format!(
                "relabel configuration for {a} action requires 'target_label' value"
            ));
        }
        self.name_validation = scheme;
        let target = self.target_label.as_str();
        let bad_target = || {
            invalid(format!(
                "{:?} is invalid 'target_label' for {a} action",
                target
            ))
        };
        let valid_with_vars = |v: &str| match scheme {
            NameValidation::Utf8 => valid_name(v, scheme),
            NameValidation::Legacy => LEGACY_TARGET_WITH_VARS.is_match(v),
        };
        if a == Action::Replace {
            let ok = if has_variable(target) {
                valid_with_vars(target)
            } else {
                valid_name(target, scheme)
            };
            if !ok {
                return bad_target();
            }
        }
        let plain_target = matches!(
            a,
            Action::Lowercase | Action::Uppercase | Action::KeepEqual | Action::DropEqual
        );
        if plain_target && !valid_name(target, scheme) {
            return bad_target();
        }
        if plain_target && self.replacement != DEFAULT_REPLACEMENT {
            return invalid(format!("'replacement' can not be set for {a} action"));
        }
        if a == Action::LabelMap && !valid_with_vars(&self.replacement) {
            return invalid(format!(
                "{:?} is invalid 'replacement' for {a} action",
                self.replacement
            ));
        }
        if a == Action::HashMod && !valid_name(target, scheme) {
            return bad_target();
        }
        if matches!(a, Action::KeepEqual | Action::DropEqual)
            && (self.regex_set
                || self.modulus != 0
                || self.separator != DEFAULT_SEPARATOR
                || self.replacement != DEFAULT_REPLACEMENT)
        {
            return invalid(format!(
                "{a} action requires only 'source_labels' and `target_label`, and no other fields"
            ));
        }
        if matches!(a, Action::LabelDrop | Action::LabelKeep)
            && (!self.source_labels.is_empty()
                || !self.target_label.is_empty()
                || self.modulus != 0
                || self.separator != DEFAULT_SEPARATOR
                || self.replacement != DEFAULT_REPLACEMENT)
        {
            return invalid(format!(
                "{a} action requires only 'regex', and no other fields"
            ));
        }
        Ok(())
    }

    /// Sets the regex from a pattern (marks it as explicitly set).
    pub fn with_regex(mut self, pattern: &str) -> Result<Self> {
        self.regex = RelabelRegex::new(pattern)?;
        self.regex_set = pattern != DEFAULT_REGEX;
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn parse(y: &str) -> std::result::Result<RelabelConfig, String> {
        serde_saphyr::from_str::<RelabelConfig>(y).map_err(|e| e.to_string())
    }

    #[test]
    fn defaults() {
        let c = parse("target_label: x").unwrap();
        assert_eq!(c.separator, ";");
        assert_eq!(c.replacement, "$1");
        assert_eq!(c.regex.as_str(), "(.*)");
        assert!(!c.regex_set);
        assert_eq!(c.action, Action::Replace);
    }

    #[test]
    fn null_regex_matches_only_empty() {
        let c = parse("regex:\nreplacement: static\ntarget_label: abc").unwrap();
        assert_eq!(c.regex.as_str(), "");
        assert!(c.regex.is_match(""));
        assert!(!c.regex.is_match("x"));
        let c = parse("separator: ''\nreplacement: ''\ntarget_label: t").unwrap();
        assert_eq!(c.separator, "");
        assert_eq!(c.replacement, "");
    }

    #[test]
    fn unknown_fields_and_actions_are_rejected() {
        assert!(
            parse("target_label: x\nbogus: 1")
                .unwrap_err()
                .contains("bogus")
        );
        assert!(
            parse("action: explode")
                .unwrap_err()
                .contains("unknown relabel action")
        );
    }

    #[test]
    fn legacy_target_with_variables() {
        for (s, ok) in [
            ("-label", false),
            ("label", true),
            ("label${1}", true),
            ("${1}label", true),
            ("${1}", true),
            ("${", false),
            ("$", false),
            ("${}", false),
            ("foo${", false),
            ("$1", true),
            ("asd$2asd", true),
            ("-foo${1}bar-", false),
            ("bar.foo${1}bar", false),
            ("_${1}_", true),
            ("foo${bar}foo", true),
        ] {
            assert_eq!(LEGACY_TARGET_WITH_VARS.is_match(s), ok, "{s}");
        }
    }
}

#[cfg(test)]
mod scalar_tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn plain_scalars_keep_their_text() {
        let c: RelabelConfig = serde_saphyr::from_str(
            "source_labels: [a]\nregex: 010\ntarget_label: x\nreplacement: 1.50\n",
        )
        .unwrap();
        assert_eq!(c.regex.as_str(), "010");
        assert_eq!(c.replacement, "1.50");
        let c: RelabelConfig =
            serde_saphyr::from_str("regex: yes\ntarget_label: x\nreplacement: 0x1F\n").unwrap();
        assert_eq!(c.regex.as_str(), "yes");
        assert_eq!(c.replacement, "0x1F");
    }
}
