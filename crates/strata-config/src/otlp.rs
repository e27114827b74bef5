//! The `otlp` section (parsed; for an OTLP receiver).

use serde::Deserialize;

use crate::yaml::null_default;

/// `otlp`, with Prometheus' defaults.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OtlpConfig {
    #[serde(deserialize_with = "null_default")]
    pub promote_all_resource_attributes: bool,
    #[serde(deserialize_with = "null_default")]
    pub promote_resource_attributes: Vec<String>,
    #[serde(deserialize_with = "null_default")]
    pub ignore_resource_attributes: Vec<String>,
    /// Default `UnderscoreEscapingWithSuffixes`.
    pub translation_strategy: String,
    #[serde(deserialize_with = "null_default")]
    pub keep_identifying_resource_attributes: bool,
    #[serde(deserialize_with = "null_default")]
    pub convert_histograms_to_nhcb: bool,
    #[serde(deserialize_with = "null_default")]
    pub promote_scope_metadata: bool,
    /// Default true.
    pub label_name_underscore_sanitization: bool,
    /// Default true.
    pub label_name_preserve_multiple_underscores: bool,
}

impl Default for OtlpConfig {
    fn default() -> Self {
        OtlpConfig {
            promote_all_resource_attributes: false,
            promote_resource_attributes: Vec::new(),
            ignore_resource_attributes: Vec::new(),
            translation_strategy: "UnderscoreEscapingWithSuffixes".into(),
            keep_identifying_resource_attributes: false,
            convert_histograms_to_nhcb: false,
            promote_scope_metadata: false,
            label_name_underscore_sanitization: true,
            label_name_preserve_multiple_underscores: true,
        }
    }
}

const STRATEGIES: [&str; 4] = [
    "UnderscoreEscapingWithSuffixes",
    "UnderscoreEscapingWithoutSuffixes",
    "NoUTF8EscapingWithSuffixes",
    "NoTranslation",
];

impl OtlpConfig {
    pub(crate) fn validate(&mut self, legacy_names: bool) -> Result<(), String> {
        if self.promote_all_resource_attributes {
            if !self.promote_resource_attributes.is_empty() {
                return Err("'promote_all_resource_attributes' and 'promote_resource_attributes' cannot be configured simultaneously".into());
            }
            sanitize(&mut self.ignore_resource_attributes, "ignored")
                .map_err(|e| format!("invalid 'ignore_resource_attributes': {e}"))?;
        } else {
            if !self.ignore_resource_attributes.is_empty() {
                return Err("'ignore_resource_attributes' cannot be configured unless 'promote_all_resource_attributes' is true".into());
            }
            sanitize(&mut self.promote_resource_attributes, "promoted")
                .map_err(|e| format!("invalid 'promote_resource_attributes': {e}"))?;
        }
        let s = self.translation_strategy.as_str();
        if !s.is_empty() && !STRATEGIES.contains(&s) {
            return Err(format!("unsupported OTLP translation strategy {s:?}"));
        }
        if legacy_names && matches!(s, "NoTranslation" | "NoUTF8EscapingWithSuffixes") {
            return Err(format!(
                "OTLP translation strategy {s:?} is not allowed when UTF8 is disabled"
            ));
        }
        Ok(())
    }
}

fn sanitize(attrs: &mut [String], adjective: &str) -> Result<(), String> {
    let mut errors = Vec::new();
    for i in 0..attrs.len() {
        let t = attrs[i].trim().to_owned();
        if t.is_empty() {
            errors.push(format!("empty {adjective} OTel resource attribute"));
            continue;
        }
        if attrs[..i].contains(&t) {
            errors.push(format!(
                "duplicated {adjective} OTel resource attribute {t:?}"
            ));
            continue;
        }
        attrs[i] = t;
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("\n"))
    }
}
