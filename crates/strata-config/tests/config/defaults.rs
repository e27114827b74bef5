//! Prometheus' defaults, and YAML shapes Prometheus accepts (nulls, empty sections).

use strata_config::{Duration, QueueConfig, ScrapeProtocol};

use super::parse;

#[test]
fn empty_file_has_prometheus_defaults() {
    for text in [
        "",
        "# nothing\n",
        "global:\n",
        "global: {}\nscrape_configs:\n",
    ] {
        let c = parse(text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
        assert_eq!(c.global.scrape_interval, Duration::from_secs(60));
        assert_eq!(c.global.scrape_timeout, Duration::from_secs(10));
        assert_eq!(c.global.evaluation_interval, Duration::from_secs(60));
        assert!(c.scrape_configs.is_empty());
        assert_eq!(c.storage.exemplars.max_exemplars, 100_000);
        assert_eq!(
            c.otlp.translation_strategy,
            "UnderscoreEscapingWithSuffixes"
        );
        assert!(c.tracing.is_none());
    }
}

/// The shape of Prometheus' shipped prometheus.yml: sections left with only comments.
#[test]
fn commented_out_sections_are_null() {
    let c = parse(
        r#"
global:
  scrape_interval: 15s
  evaluation_interval: 15s
alerting:
  alertmanagers:
    - static_configs:
        - targets:
          # - alertmanager:9093
rule_files:
  # - "first_rules.yml"
scrape_configs:
  - job_name: "prometheus"
    static_configs:
      - targets: ["localhost:9090"]
        labels:
          app: "prometheus"
"#,
    )
    .unwrap();
    assert!(c.rule_files.is_empty());
    assert_eq!(c.alerting.alertmanagers.len(), 1);
    let sc = &c.scrape_configs[0];
    assert_eq!(sc.scrape_interval, Duration::from_secs(15));
    assert_eq!(sc.scrape_timeout, Duration::from_secs(10));
    // Prometheus' agent mode rejects an alerting section even with no targets.
    let e = c.check_agent_mode().unwrap_err().to_string();
    assert!(
        e.contains("field alerting is not allowed in agent mode"),
        "{e}"
    );
}

#[test]
fn scrape_config_defaults() {
    let c = parse(
        "global:\n  scrape_interval: 5s\nscrape_configs:\n  - job_name: a\n    static_configs: [{targets: ['h:1']}]\n",
    )
    .unwrap();
    let sc = &c.scrape_configs[0];
    assert_eq!(sc.scrape_interval, Duration::from_secs(5));
    // Timeout: min(10s, interval).
    assert_eq!(sc.scrape_timeout, Duration::from_secs(5));
    assert_eq!(sc.metrics_path, "/metrics");
    assert_eq!(sc.scheme, "http");
    assert!(sc.honor_timestamps && !sc.honor_labels && sc.enable_compression);
    assert!(sc.http_client.follow_redirects && sc.http_client.enable_http2);
    assert_eq!(sc.scrape_protocols, ScrapeProtocol::DEFAULT);
    assert_eq!(sc.metric_name_escaping_scheme, "allow-utf-8");
}

#[test]
fn native_histograms_prefer_protobuf() {
    let c =
        parse("scrape_configs:\n  - job_name: a\n    scrape_native_histograms: true\n").unwrap();
    assert_eq!(
        c.scrape_configs[0].scrape_protocols,
        ScrapeProtocol::PROTO_FIRST
    );
    let c = parse(
        "global:\n  scrape_protocols: [PrometheusText0.0.4]\nscrape_configs:\n  - job_name: a\n    scrape_native_histograms: true\n",
    )
    .unwrap();
    assert_eq!(
        c.scrape_configs[0].scrape_protocols,
        [ScrapeProtocol::PrometheusText0_0_4]
    );
}

#[test]
fn limits_inherit_from_global() {
    let c = parse(
        "global:\n  sample_limit: 100\n  body_size_limit: 10MB\n  label_limit: 30\nscrape_configs:\n  - job_name: a\n  - job_name: b\n    sample_limit: 5\n",
    )
    .unwrap();
    assert_eq!(c.scrape_configs[0].sample_limit, 100);
    assert_eq!(c.scrape_configs[0].body_size_limit.0, 10 << 20);
    assert_eq!(c.scrape_configs[0].label_limit, 30);
    assert_eq!(c.scrape_configs[1].sample_limit, 5);
}

#[test]
fn remote_write_defaults() {
    let c = parse("remote_write:\n  - url: http://r:9090/api/v1/write\n").unwrap();
    let rw = &c.remote_write[0];
    assert_eq!(rw.queue_config, QueueConfig::default());
    let q = &rw.queue_config;
    assert_eq!(
        (
            q.capacity,
            q.max_shards,
            q.min_shards,
            q.max_samples_per_send
        ),
        (10_000, 50, 1, 2000)
    );
    assert_eq!(q.batch_send_deadline, Duration::from_secs(5));
    assert_eq!(q.min_backoff, Duration::from_millis(30));
    assert_eq!(q.max_backoff, Duration::from_secs(5));
    assert!(!q.retry_on_http_429);
    assert!(rw.metadata_config.send);
    assert_eq!(rw.metadata_config.send_interval, Duration::from_secs(60));
    assert_eq!(rw.remote_timeout, Duration::from_secs(30));
    assert!(rw.http_client.follow_redirects && !rw.http_client.enable_http2);
    let c = parse(
        "remote_write:\n  - url: http://r/\n    protobuf_message: io.prometheus.write.v2.Request\n",
    )
    .unwrap();
    assert_eq!(
        c.remote_write[0].protobuf_message,
        strata_config::ProtobufMessage::WriteV2
    );
}

#[test]
fn legacy_bearer_token_becomes_authorization() {
    let c = parse("scrape_configs:\n  - job_name: a\n    bearer_token: s3cr3t\n").unwrap();
    let a = c.scrape_configs[0]
        .http_client
        .authorization
        .as_ref()
        .unwrap();
    assert_eq!(a.scheme(), "Bearer");
    assert_eq!(a.credentials.as_ref().unwrap().expose(), "s3cr3t");
    // Secrets do not leak through Debug.
    assert!(!format!("{c:?}").contains("s3cr3t"));
}

#[test]
fn external_labels_expand_environment_only_there() {
    let c = strata_config::parse_with_env(
        "global:\n  external_labels:\n    a: ${X}\n    b: foo$${X}\n    c: foo$$bar\nscrape_configs:\n  - job_name: ${X}\n",
        |n| if n == "X" { "v".into() } else { String::new() },
    )
    .unwrap();
    let el = &c.global.external_labels;
    assert_eq!(
        (el["a"].as_str(), el["b"].as_str(), el["c"].as_str()),
        ("v", "foo${X}", "foo$bar")
    );
    assert_eq!(c.scrape_configs[0].job_name, "${X}");
}

#[test]
fn other_service_discovery_is_reported_not_rejected() {
    let c = parse(
        "scrape_configs:\n  - job_name: a\n    consul_sd_configs:\n      - server: localhost:8500\n    dns_sd_configs:\n      - names: [x]\n",
    )
    .unwrap();
    assert_eq!(
        c.scrape_configs[0].service_discovery.unsupported,
        ["consul_sd_configs", "dns_sd_configs"]
    );
}

#[test]
fn legacy_validation_scheme_applies_to_relabel_targets() {
    let yaml = "global:\n  metric_name_validation_scheme: legacy\nscrape_configs:\n  - job_name: a\n    relabel_configs:\n      - {target_label: 'bad.name', replacement: x}\n";
    let e = super::reject(yaml);
    assert!(
        e.contains("\"bad.name\" is invalid 'target_label' for replace action"),
        "{e}"
    );
    assert!(e.contains("scrape_configs[0].relabel_configs[0]"), "{e}");
    // UTF-8 (the default) accepts it.
    assert!(
        parse(&yaml.replace(
            "metric_name_validation_scheme: legacy",
            "scrape_interval: 1m"
        ))
        .is_ok()
    );
}
