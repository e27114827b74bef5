//! Validation: Prometheus' `TestRelabelValidate` and the relabel cases of its config
//! test data, with Prometheus' error messages.

use strata_relabel::{Action, NameValidation, RelabelConfig};

fn parse_err(yaml: &str) -> String {
    match serde_saphyr::from_str::<RelabelConfig>(yaml) {
        Ok(c) => panic!("accepted: {c:?}\n{yaml}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn invalid_rules_are_rejected_with_prometheus_messages() {
    for (yaml, want) in [
        (
            "source_labels: [abcdef]\naction: keepequal",
            "relabel configuration for keepequal action requires 'target_label' value",
        ),
        (
            "{source_labels: [abcdef], action: keepequal, regex: foo, target_label: bar}",
            "keepequal action requires only 'source_labels' and `target_label`, and no other fields",
        ),
        (
            "source_labels: [abcdef]\naction: dropequal",
            "relabel configuration for dropequal action requires 'target_label' value",
        ),
        (
            "{source_labels: [abcdef], action: dropequal, regex: foo, target_label: bar}",
            "dropequal action requires only 'source_labels' and `target_label`, and no other fields",
        ),
        (
            "{source_labels: [abcdef], action: labeldrop}",
            "labeldrop action requires only 'regex', and no other fields",
        ),
        (
            "{modulus: 8, action: labeldrop}",
            "labeldrop action requires only 'regex', and no other fields",
        ),
        (
            "{separator: ',', action: labeldrop}",
            "labeldrop action requires only 'regex', and no other fields",
        ),
        (
            "{replacement: 'yolo-{1}', action: labeldrop}",
            "labeldrop action requires only 'regex', and no other fields",
        ),
        (
            "{target_label: yolo, action: labeldrop}",
            "labeldrop action requires only 'regex', and no other fields",
        ),
        (
            "{source_labels: [abcdef], action: labelkeep}",
            "labelkeep action requires only 'regex', and no other fields",
        ),
        (
            "{modulus: 8, action: labelkeep}",
            "labelkeep action requires only 'regex', and no other fields",
        ),
        (
            "{action: lowercase, source_labels: [__name__]}",
            "relabel configuration for lowercase action requires 'target_label' value",
        ),
        (
            "{action: lowercase, source_labels: [__name__], target_label: __name__, replacement: bar}",
            "'replacement' can not be set for lowercase action",
        ),
        (
            "{action: uppercase, source_labels: [__name__]}",
            "relabel configuration for uppercase action requires 'target_label' value",
        ),
        (
            "{action: uppercase, source_labels: [__name__], target_label: __name__, replacement: bar}",
            "'replacement' can not be set for uppercase action",
        ),
        (
            "{regex: abcdef, action: hashmod}",
            "relabel configuration for hashmod requires non-zero modulus",
        ),
        (
            "{regex: abcdef}",
            "relabel configuration for replace action requires 'target_label' value",
        ),
        (
            "{source_labels: [__address__], modulus: 8, action: hashmod}",
            "relabel configuration for hashmod action requires 'target_label' value",
        ),
        (
            "{regex: 'abc(def', target_label: x}",
            "invalid relabel regex \"abc(def\"",
        ),
        ("{action: nope}", "unknown relabel action \"nope\""),
        ("{modulus: -1, action: hashmod, target_label: x}", "modulus"),
    ] {
        let e = parse_err(yaml);
        assert!(e.contains(want), "{yaml}\n got: {e}\nwant: {want}");
    }
}

fn cfg(action: Action) -> RelabelConfig {
    RelabelConfig::new(action)
}

#[test]
fn prometheus_validate_table() {
    // (config, scheme, expected error substring or "" for ok)
    let mut lower_utf8 = cfg(Action::Lowercase);
    lower_utf8.target_label = "${3}".into();
    let lower_legacy = lower_utf8.clone();
    let mut replace = cfg(Action::Replace)
        .with_regex("some-([^-]+)-([^,]+)")
        .unwrap();
    replace.source_labels = vec!["a".into()];
    replace.replacement = "${1}".into();
    replace.target_label = "${3}".into();
    let mut leading_digit = replace.clone();
    leading_digit.target_label = "0${3}".into();
    let mut leading_dash = replace.clone();
    leading_dash.target_label = "-${3}".into();
    let mut labelmap1 = cfg(Action::LabelMap)
        .with_regex("__meta_kubernetes_pod_label_(strimzi_io_.+)")
        .unwrap();
    labelmap1.replacement = "$1".into();
    let mut labelmap2 = cfg(Action::LabelMap).with_regex("__meta_(.+)").unwrap();
    labelmap2.replacement = "${1}".into();
    let cases: Vec<(RelabelConfig, NameValidation, &str)> = vec![
        (
            cfg(Action::Replace),
            NameValidation::Utf8,
            "requires 'target_label' value",
        ),
        (
            cfg(Action::Lowercase),
            NameValidation::Utf8,
            "requires 'target_label' value",
        ),
        (lower_utf8, NameValidation::Utf8, ""),
        (
            lower_legacy,
            NameValidation::Legacy,
            "\"${3}\" is invalid 'target_label' for lowercase action",
        ),
        (replace.clone(), NameValidation::Utf8, ""),
        (leading_digit.clone(), NameValidation::Utf8, ""),
        (leading_dash.clone(), NameValidation::Utf8, ""),
        (replace, NameValidation::Legacy, ""),
        (
            leading_digit,
            NameValidation::Legacy,
            "\"0${3}\" is invalid 'target_label' for replace action",
        ),
        (labelmap1, NameValidation::Legacy, ""),
        (labelmap2, NameValidation::Legacy, ""),
    ];
    for (i, (mut c, scheme, want)) in cases.into_iter().enumerate() {
        let got = c.validate(scheme);
        if want.is_empty() {
            assert!(got.is_ok(), "case {i}: {got:?}");
        } else {
            let e = got.expect_err("should fail").to_string();
            assert!(e.contains(want), "case {i}: {e}");
        }
    }
}

#[test]
fn legacy_scheme_skips_non_legacy_expanded_targets() {
    let mut c: RelabelConfig =
        serde_saphyr::from_str("{source_labels: [a], regex: '(.*)', target_label: '${1}'}")
            .unwrap();
    c.validate(NameValidation::Legacy).unwrap();
    let l = super::labels(&[("a", "utf-8.name")]);
    // The expanded target is not a legacy name: no change.
    assert_eq!(
        strata_relabel::process(&l, std::slice::from_ref(&c)),
        Some(l.clone())
    );
    c.validate(NameValidation::Utf8).unwrap();
    let out = strata_relabel::process(&l, &[c]).unwrap();
    assert_eq!(out.get("utf-8.name"), Some("utf-8.name"));
}
