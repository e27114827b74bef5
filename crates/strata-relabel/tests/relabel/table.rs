//! Prometheus' `TestRelabel` cases (model/relabel/relabel_test.go), written as YAML rules.

use strata_relabel::{RelabelBuilder, process, process_builder};

use super::{labels, rules};

struct Case {
    input: &'static [(&'static str, &'static str)],
    rules: &'static str,
    /// `None`: the label set is dropped.
    output: Option<&'static [(&'static str, &'static str)]>,
}

const ABC: &[(&str, &str)] = &[("a", "foo"), ("b", "bar"), ("c", "baz")];
const PORTS: &[(&str, &str)] = &[
    ("__tmp_port", "1234"),
    ("__port1", "1234"),
    ("__port2", "5678"),
];
const LINES: &[(&str, &str)] = &[("a", "line1\nline2"), ("b", "bar"), ("c", "baz")];

const CASES: &[Case] = &[
    Case {
        input: ABC,
        rules: r#"
- source_labels: [a]
  regex: f(.*)
  target_label: d
  replacement: ch${1}-ch${1}
"#,
        output: Some(&[("a", "foo"), ("b", "bar"), ("c", "baz"), ("d", "choo-choo")]),
    },
    Case {
        input: ABC,
        rules: r#"
- source_labels: [a, b]
  regex: f(.*);(.*)r
  target_label: a
  replacement: b${1}${2}m
- source_labels: [c, a]
  regex: (b).*b(.*)ba(.*)
  target_label: d
  replacement: $1$2$2$3
"#,
        output: Some(&[("a", "boobam"), ("b", "bar"), ("c", "baz"), ("d", "boooom")]),
    },
    Case {
        input: &[("a", "foo")],
        rules: r#"
- source_labels: [a]
  regex: .*o.*
  action: drop
- source_labels: [a]
  regex: f(.*)
  target_label: d
  replacement: ch$1-ch$1
"#,
        output: None,
    },
    Case {
        input: &[("a", "foo"), ("b", "bar")],
        rules: "- {source_labels: [a], regex: '.*o.*', action: drop}",
        output: None,
    },
    Case {
        input: &[("a", "abc")],
        rules: "- {source_labels: [a], regex: '.*(b).*', target_label: d, replacement: $1}",
        output: Some(&[("a", "abc"), ("d", "b")]),
    },
    Case {
        input: &[("a", "foo")],
        rules: "- {source_labels: [a], regex: no-match, action: drop}",
        output: Some(&[("a", "foo")]),
    },
    Case {
        input: &[("a", "foo")],
        rules: "- {source_labels: [a], regex: f|o, action: drop}",
        output: Some(&[("a", "foo")]),
    },
    Case {
        input: &[("a", "foo")],
        rules: "- {source_labels: [a], regex: no-match, action: keep}",
        output: None,
    },
    Case {
        input: &[("a", "foo")],
        rules: "- {source_labels: [a], regex: f.*, action: keep}",
        output: Some(&[("a", "foo")]),
    },
    // No replacement must be applied if there is no match.
    Case {
        input: &[("a", "boo")],
        rules: "- {source_labels: [a], regex: f, target_label: b, replacement: bar}",
        output: Some(&[("a", "boo")]),
    },
    // Blank replacement deletes the label.
    Case {
        input: &[("a", "foo"), ("f", "baz")],
        rules: "- {source_labels: [a], regex: '(f).*', target_label: $1, replacement: $2}",
        output: Some(&[("a", "foo")]),
    },
    Case {
        input: ABC,
        rules: "- {source_labels: [c], target_label: d, action: hashmod, modulus: 1000}",
        output: Some(&[("a", "foo"), ("b", "bar"), ("c", "baz"), ("d", "976")]),
    },
    Case {
        input: &[("a", "foo\nbar")],
        rules: "- {source_labels: [a], target_label: b, action: hashmod, modulus: 1000}",
        output: Some(&[("a", "foo\nbar"), ("b", "734")]),
    },
    Case {
        input: &[("a", "foo"), ("b1", "bar"), ("b2", "baz")],
        rules: "- {regex: '(b.*)', replacement: 'bar_${1}', action: labelmap}",
        output: Some(&[
            ("a", "foo"),
            ("b1", "bar"),
            ("b2", "baz"),
            ("bar_b1", "bar"),
            ("bar_b2", "baz"),
        ]),
    },
    Case {
        input: &[
            ("a", "foo"),
            ("__meta_my_bar", "aaa"),
            ("__meta_my_baz", "bbb"),
            ("__meta_other", "ccc"),
        ],
        rules: "- {regex: '__meta_(my.*)', replacement: '${1}', action: labelmap}",
        output: Some(&[
            ("a", "foo"),
            ("__meta_my_bar", "aaa"),
            ("__meta_my_baz", "bbb"),
            ("__meta_other", "ccc"),
            ("my_bar", "aaa"),
            ("my_baz", "bbb"),
        ]),
    },
    Case {
        input: &[("a", "some-name-value")],
        rules: "- {source_labels: [a], regex: 'some-([^-]+)-([^,]+)', replacement: '${2}', target_label: '${1}'}",
        output: Some(&[("a", "some-name-value"), ("name", "value")]),
    },
    // Replacement expands to "": nothing to delete.
    Case {
        input: &[("a", "some-name-value")],
        rules: "- {source_labels: [a], regex: 'some-([^-]+)-([^,]+)', replacement: '${3}', target_label: '${1}'}",
        output: Some(&[("a", "some-name-value")]),
    },
    // Target expands to "": invalid, skipped.
    Case {
        input: &[("a", "some-name-0")],
        rules: r#"
- {source_labels: [a], regex: 'some-([^-]+)-([^,]+)', replacement: '${1}', target_label: '${3}'}
- {source_labels: [a], regex: 'some-([^-]+)-([^,]+)', replacement: '${1}', target_label: '${3}'}
- {source_labels: [a], regex: 'some-([^-]+)(-[^,]+)', replacement: '${1}', target_label: '${3}'}
"#,
        output: Some(&[("a", "some-name-0")]),
    },
    // A more complex, real-life-like use case.
    Case {
        input: &[("__meta_sd_tags", "path:/secret,job:some-job,label:foo=bar")],
        rules: r#"
- source_labels: [__meta_sd_tags]
  regex: "(?:.+,|^)path:(/[^,]+).*"
  replacement: "${1}"
  target_label: __metrics_path__
- source_labels: [__meta_sd_tags]
  regex: "(?:.+,|^)job:([^,]+).*"
  replacement: "${1}"
  target_label: job
- source_labels: [__meta_sd_tags]
  regex: "(?:.+,|^)label:([^=]+)=([^,]+).*"
  replacement: "${2}"
  target_label: "${1}"
"#,
        output: Some(&[
            ("__meta_sd_tags", "path:/secret,job:some-job,label:foo=bar"),
            ("__metrics_path__", "/secret"),
            ("job", "some-job"),
            ("foo", "bar"),
        ]),
    },
    // prometheus/prometheus#12283.
    Case {
        input: &[
            ("__meta_kubernetes_pod_container_port_name", "foo"),
            ("__meta_kubernetes_pod_annotation_XXX_metrics_port", "9091"),
        ],
        rules: r#"
- regex: ^__meta_kubernetes_pod_container_port_name$
  action: labeldrop
- source_labels: [__meta_kubernetes_pod_annotation_XXX_metrics_port]
  regex: (.+)
  replacement: metrics
  target_label: __meta_kubernetes_pod_container_port_name
- source_labels: [__meta_kubernetes_pod_container_port_name]
  regex: ^metrics$
  action: keep
"#,
        output: Some(&[
            ("__meta_kubernetes_pod_annotation_XXX_metrics_port", "9091"),
            ("__meta_kubernetes_pod_container_port_name", "metrics"),
        ]),
    },
    Case {
        input: &[("a", "foo"), ("b1", "bar"), ("b2", "baz")],
        rules: "- {regex: '(b.*)', action: labelkeep}",
        output: Some(&[("b1", "bar"), ("b2", "baz")]),
    },
    Case {
        input: &[("a", "foo"), ("b1", "bar"), ("b2", "baz")],
        rules: "- {regex: '(b.*)', action: labeldrop}",
        output: Some(&[("a", "foo")]),
    },
    Case {
        input: &[("foo", "bAr123Foo")],
        rules: r#"
- {source_labels: [foo], action: uppercase, target_label: foo_uppercase}
- {source_labels: [foo], action: lowercase, target_label: foo_lowercase}
"#,
        output: Some(&[
            ("foo", "bAr123Foo"),
            ("foo_lowercase", "bar123foo"),
            ("foo_uppercase", "BAR123FOO"),
        ]),
    },
    Case {
        input: PORTS,
        rules: "- {source_labels: [__tmp_port], action: keepequal, target_label: __port1}",
        output: Some(PORTS),
    },
    Case {
        input: PORTS,
        rules: "- {source_labels: [__tmp_port], action: dropequal, target_label: __port1}",
        output: None,
    },
    Case {
        input: PORTS,
        rules: "- {source_labels: [__tmp_port], action: dropequal, target_label: __port2}",
        output: Some(PORTS),
    },
    Case {
        input: PORTS,
        rules: "- {source_labels: [__tmp_port], action: keepequal, target_label: __port2}",
        output: None,
    },
    Case {
        input: LINES,
        rules: "- {source_labels: [a], regex: 'line1.*line2', target_label: d, replacement: 'match${1}'}",
        output: Some(&[
            ("a", "line1\nline2"),
            ("b", "bar"),
            ("c", "baz"),
            ("d", "match"),
        ]),
    },
    // UTF-8 source label.
    Case {
        input: &[("utf-8.label", "line1\nline2"), ("b", "bar"), ("c", "baz")],
        rules: "- {source_labels: [utf-8.label], regex: 'line1.*line2', target_label: d, replacement: 'match${1}'}",
        output: Some(&[
            ("utf-8.label", "line1\nline2"),
            ("b", "bar"),
            ("c", "baz"),
            ("d", "match"),
        ]),
    },
    // UTF-8 target label.
    Case {
        input: LINES,
        rules: "- {source_labels: [a], regex: 'line1.*line2', target_label: utf-8.label, replacement: 'match${1}'}",
        output: Some(&[
            ("a", "line1\nline2"),
            ("b", "bar"),
            ("c", "baz"),
            ("utf-8.label", "match"),
        ]),
    },
    // UTF-8 target label with a variable.
    Case {
        input: LINES,
        rules: "- {source_labels: [a], regex: 'line1.*line2', target_label: 'utf-8.label${1}', replacement: 'match${1}'}",
        output: Some(&[
            ("a", "line1\nline2"),
            ("b", "bar"),
            ("c", "baz"),
            ("utf-8.label", "match"),
        ]),
    },
    // Numbered and named groups, braced and bare.
    Case {
        input: LINES,
        rules: r#"
- {source_labels: [a], regex: '(line1).*(?<second>line2)', target_label: 'label1_${1}', replacement: 'val_${second}'}
- {source_labels: [a], regex: '(line1).*(?<second>line2)', target_label: 'label2_$1', replacement: 'val_$second'}
"#,
        output: Some(&[
            ("a", "line1\nline2"),
            ("b", "bar"),
            ("c", "baz"),
            ("label1_line1", "val_line2"),
            ("label2_line1", "val_line2"),
        ]),
    },
    Case {
        input: &[("__name__", "http_requests_total")],
        rules: "- {source_labels: [__name__], regex: '.*_total$', target_label: __type__, replacement: counter}",
        output: Some(&[("__name__", "http_requests_total"), ("__type__", "counter")]),
    },
    Case {
        input: &[("__name__", "disk_usage_bytes")],
        rules: "- {source_labels: [__name__], regex: '.*_bytes$', target_label: __unit__, replacement: bytes}",
        output: Some(&[("__name__", "disk_usage_bytes"), ("__unit__", "bytes")]),
    },
];

#[test]
fn prometheus_relabel_table() {
    let mut builder = RelabelBuilder::new();
    for (i, case) in CASES.iter().enumerate() {
        let cfgs = rules(case.rules);
        let input = labels(case.input);
        let got = process(&input, &cfgs);
        let want = case.output.map(labels);
        assert_eq!(got, want, "case {i}: {}", case.rules);
        // The reusable builder gives the same answer.
        builder.reset(&input);
        let keep = process_builder(&mut builder, &cfgs);
        assert_eq!(keep, want.is_some(), "case {i} (builder)");
        if let Some(w) = want {
            assert_eq!(builder.labels(), w, "case {i} (builder)");
        }
    }
}

/// The benchmark configurations of relabel_test.go: they parse and run.
#[test]
fn kubernetes_pod_rules_from_prometheus_benchmark() {
    let cfgs = rules(
        r#"
- source_labels: [__meta_kubernetes_pod_container_port_name]
  regex: .*-metrics
  action: keep
- source_labels: [__meta_kubernetes_pod_label_name]
  action: drop
  regex: ""
- source_labels: [__meta_kubernetes_pod_phase]
  regex: Succeeded|Failed
  action: drop
- source_labels: [__meta_kubernetes_pod_annotation_prometheus_io_scrape]
  regex: "false"
  action: drop
- source_labels: [__meta_kubernetes_pod_annotation_prometheus_io_scheme]
  target_label: __scheme__
  regex: (https?)
- source_labels: [__meta_kubernetes_pod_annotation_prometheus_io_path]
  target_label: __metrics_path__
  regex: (.+)
- source_labels: [__address__, __meta_kubernetes_pod_annotation_prometheus_io_port]
  target_label: __address__
  regex: (.+?)(\:\d+)?;(\d+)
  replacement: $1:$3
- regex: __meta_kubernetes_pod_annotation_prometheus_io_param_(.+)
  replacement: __param_$1
  action: labelmap
- regex: __meta_kubernetes_pod_label_prometheus_io_label_(.+)
  action: labelmap
- source_labels: [__meta_kubernetes_namespace, __meta_kubernetes_pod_label_name]
  separator: /
  target_label: job
- source_labels: [__meta_kubernetes_namespace]
  target_label: namespace
- source_labels: [__meta_kubernetes_pod_name]
  target_label: pod
- source_labels: [__meta_kubernetes_pod_name, __meta_kubernetes_pod_container_name, __meta_kubernetes_pod_container_port_name]
  separator: ':'
  target_label: instance
- target_label: cluster
  replacement: dev-us-central-0
- source_labels: [__address__]
  target_label: __tmp_hash
  modulus: 3
  action: hashmod
- regex: __tmp_hash
  action: labeldrop
"#,
    );
    let input = labels(&[
        ("__address__", "10.132.183.40:80"),
        ("__meta_kubernetes_namespace", "loki"),
        (
            "__meta_kubernetes_pod_annotation_prometheus_io_port",
            "9100",
        ),
        (
            "__meta_kubernetes_pod_annotation_prometheus_io_param_format",
            "text",
        ),
        ("__meta_kubernetes_pod_container_name", "promtail"),
        ("__meta_kubernetes_pod_container_port_name", "http-metrics"),
        ("__meta_kubernetes_pod_label_name", "promtail"),
        ("__meta_kubernetes_pod_name", "promtail-jgtr7"),
        ("__meta_kubernetes_pod_phase", "Running"),
        ("job", "kubernetes-pods"),
    ]);
    let out = process(&input, &cfgs).expect("kept");
    assert_eq!(out.get("__address__"), Some("10.132.183.40:9100"));
    assert_eq!(out.get("__param_format"), Some("text"));
    assert_eq!(out.get("job"), Some("loki/promtail"));
    assert_eq!(out.get("namespace"), Some("loki"));
    assert_eq!(
        out.get("instance"),
        Some("promtail-jgtr7:promtail:http-metrics")
    );
    assert_eq!(out.get("cluster"), Some("dev-us-central-0"));
    assert_eq!(out.get("__tmp_hash"), None);
    assert_eq!(out.get("__scheme__"), None);
}

#[test]
fn static_label_pairs_from_prometheus_benchmark() {
    let cfgs = rules(
        r#"
- replacement: wwwwww
  target_label: wwwwww
- source_labels: ["something"]
  target_label: with_source_labels
  replacement: value
- replacement: dropped
  target_label: ${0}
- replacement: ${0}
  target_label: dropped
"#,
    );
    let out = process(&labels(&[("job", "foo")]), &cfgs).expect("kept");
    // `${0}` as target expands to "" (invalid, skipped); as replacement to "" (delete).
    assert_eq!(
        out,
        labels(&[
            ("job", "foo"),
            ("wwwwww", "wwwwww"),
            ("with_source_labels", "value")
        ])
    );
}

/// labelmap visits labels in Prometheus' `Builder.Range` order: the original labels by
/// name, then labels set by earlier rules in the order they were set; the last write to
/// a target name wins.
#[test]
fn labelmap_collisions_follow_builder_range_order() {
    let cfgs = rules(
        r#"
- {target_label: a_x, replacement: from_rule}
- {regex: '(?:a|b)_x', replacement: out, action: labelmap}
"#,
    );
    let out = process(&labels(&[("b_x", "base")]), &cfgs).expect("kept");
    // b_x (base) is visited first, then a_x (set by rule 1): a_x's value wins.
    assert_eq!(out.get("out"), Some("from_rule"));
}
