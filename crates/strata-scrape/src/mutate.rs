//! From a scraped series to the stored one: target labels (with `honor_labels` or the
//! `exported_` prefix on conflicts), `metric_relabel_configs`, validity and label limits
//! (Prometheus' `mutateSampleLabels` and `verifyLabelLimits`).

use strata_model::Labels;
use strata_model::gofmt::go_quote;
use strata_model::labels::{NameValidation, is_legacy_metric_name, validate_label_name};
use strata_relabel::{RelabelBuilder, RelabelConfig, process_builder};

/// Prefix given to a scraped label that conflicts with a target label.
pub const EXPORTED_LABEL_PREFIX: &str = "exported_";

/// The label limits of a scrape config (0 = none).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LabelLimits {
    pub label_limit: u64,
    pub label_name_length_limit: u64,
    pub label_value_length_limit: u64,
}

/// Reusable buffers for [`Mutator::mutate_sample_labels`].
#[derive(Debug, Default)]
pub struct Mutator {
    builder: RelabelBuilder,
    conflicts: Vec<(String, String)>,
    name: String,
}

impl Mutator {
    pub fn new() -> Self {
        Mutator::default()
    }

    /// Adds the target's public labels to `scraped` and applies `rules`; `None` when a
    /// rule dropped the series (or it ended up without labels).
    pub fn mutate_sample_labels(
        &mut self,
        scraped: &Labels,
        target: &Labels,
        honor_labels: bool,
        rules: &[RelabelConfig],
    ) -> Option<Labels> {
        let b = &mut self.builder;
        b.reset(scraped);
        if honor_labels {
            for (n, v) in target.iter() {
                if !scraped.has(n) {
                    b.set(n, v);
                }
            }
        } else {
            self.conflicts.clear();
            for (n, v) in target.iter() {
                if let Some(existing) = scraped.get(n) {
                    self.conflicts.push((n.to_owned(), existing.to_owned()));
                }
                b.set(n, v);
            }
            // Shorter names first, so `exported_a` is claimed by `a` before
            // `exported_exported_a` is needed (Prometheus' stable sort by length).
            self.conflicts.sort_by_key(|(n, _)| n.len());
            for (n, v) in &self.conflicts {
                self.name.clear();
                self.name.push_str(n);
                loop {
                    self.name.insert_str(0, EXPORTED_LABEL_PREFIX);
                    if b.get(&self.name).unwrap_or("").is_empty() {
                        b.set(&self.name, v);
                        break;
                    }
                }
            }
        }
        if !process_builder(b, rules) || b.is_empty() {
            return None;
        }
        Some(b.labels())
    }
}

/// Go's `%.50s`: at most 50 characters.
fn trunc50(s: &str) -> &str {
    match s.char_indices().nth(50) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// Checks a final label set: it has a metric name, names are valid for the scheme, and
/// the label limits hold. The error fails the scrape.
pub fn check_series(l: &Labels, scheme: NameValidation, limits: LabelLimits) -> Result<(), String> {
    let Some(name) = l.metric_name() else {
        return Err("missing metric name (__name__ label)".to_owned());
    };
    let name_ok = match scheme {
        NameValidation::Legacy => is_legacy_metric_name(name),
        NameValidation::Utf8 => !name.is_empty(),
    };
    if !name_ok
        || l.iter()
            .any(|(n, _)| validate_label_name(n, scheme).is_err())
    {
        return Err(format!("invalid metric name or label names: {l}"));
    }
    if limits.label_limit > 0 {
        let n = l.len() as u64;
        if n > limits.label_limit {
            return Err(format!(
                "label_limit exceeded (metric: {}, number of labels: {n}, limit: {})",
                trunc50(name),
                limits.label_limit
            ));
        }
    }
    if limits.label_name_length_limit == 0 && limits.label_value_length_limit == 0 {
        return Ok(());
    }
    for (n, v) in l.iter() {
        let nl = n.len() as u64;
        if limits.label_name_length_limit > 0 && nl > limits.label_name_length_limit {
            return Err(format!(
                "label_name_length_limit exceeded (metric: {}, label name: {}, length: {nl}, limit: {})",
                trunc50(name),
                trunc50(n),
                limits.label_name_length_limit
            ));
        }
        let vl = v.len() as u64;
        if limits.label_value_length_limit > 0 && vl > limits.label_value_length_limit {
            return Err(format!(
                "label_value_length_limit exceeded (metric: {}, label name: {}, value: {}, length: {vl}, limit: {})",
                trunc50(name),
                trunc50(n),
                go_quote(trunc50(v)),
                limits.label_value_length_limit
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn l(pairs: &[(&str, &str)]) -> Labels {
        Labels::new(pairs).unwrap()
    }

    #[test]
    fn conflicts_get_exported_prefix() {
        let target = l(&[("instance", "t:1"), ("job", "j")]);
        let scraped = l(&[
            ("__name__", "m"),
            ("job", "scraped"),
            ("exported_job", "taken"),
            ("instance", "i"),
        ]);
        let mut m = Mutator::new();
        let out = m
            .mutate_sample_labels(&scraped, &target, false, &[])
            .unwrap();
        assert_eq!(
            out.to_string(),
            r#"{__name__="m", exported_exported_job="scraped", exported_instance="i", exported_job="taken", instance="t:1", job="j"}"#
        );
        let out = m
            .mutate_sample_labels(&scraped, &target, true, &[])
            .unwrap();
        assert_eq!(
            out.to_string(),
            r#"{__name__="m", exported_job="taken", instance="i", job="scraped"}"#
        );
    }

    #[test]
    fn limits_and_validity() {
        let s = l(&[("__name__", "m"), ("a", "12345")]);
        let none = LabelLimits::default();
        assert!(check_series(&s, NameValidation::Utf8, none).is_ok());
        let e = check_series(
            &s,
            NameValidation::Utf8,
            LabelLimits {
                label_limit: 1,
                ..none
            },
        )
        .unwrap_err();
        assert_eq!(
            e,
            "label_limit exceeded (metric: m, number of labels: 2, limit: 1)"
        );
        let e = check_series(
            &s,
            NameValidation::Utf8,
            LabelLimits {
                label_value_length_limit: 4,
                ..none
            },
        )
        .unwrap_err();
        assert!(e.starts_with("label_value_length_limit exceeded"), "{e}");
        let dotted = l(&[("__name__", "a.b")]);
        assert!(check_series(&dotted, NameValidation::Legacy, none).is_err());
        assert!(check_series(&l(&[("a", "b")]), NameValidation::Utf8, none).is_err());
    }
}
