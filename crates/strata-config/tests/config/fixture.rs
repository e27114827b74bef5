//! The kube-prometheus-style fixture loads with the expected values, and its rules do
//! what they are meant to on realistic discovered targets.

use strata_config::discovery::KubernetesRole;
use strata_config::{Duration, ProtobufMessage, ScrapeProtocol};
use strata_model::Labels;
use strata_relabel::process;

use super::fixture;

fn load() -> strata_config::Config {
    let text = std::fs::read_to_string(fixture("kube-prometheus.yml")).unwrap();
    strata_config::parse_with_env(&text, |name| match name {
        "REGION" => "eu-west-1".into(),
        _ => String::new(),
    })
    .unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn global_and_external_labels() {
    let c = load();
    assert_eq!(c.global.scrape_interval, Duration::from_secs(30));
    assert_eq!(c.global.scrape_timeout, Duration::from_secs(10));
    assert_eq!(c.global.external_labels["cluster"], "prod-eu-1");
    assert_eq!(c.global.external_labels["region"], "eu-west-1");
    // `$(POD_NAME)` is not a Go shell reference: `$` followed by `(` stays literal.
    assert_eq!(
        c.global.external_labels["prometheus_replica"],
        "$(POD_NAME)"
    );
    c.check_agent_mode().unwrap();
}

#[test]
fn scrape_configs_inherit_and_default() {
    let c = load();
    let jobs: Vec<&str> = c
        .scrape_configs
        .iter()
        .map(|s| s.job_name.as_str())
        .collect();
    assert_eq!(
        jobs,
        [
            "serviceMonitor/monitoring/kubelet/0",
            "serviceMonitor/monitoring/kubelet/1",
            "serviceMonitor/monitoring/node-exporter/0",
            "serviceMonitor/monitoring/kube-state-metrics/0",
            "serviceMonitor/monitoring/kube-apiserver/0",
            "kubernetes-pods",
            "kubernetes-service-endpoints",
            "kubernetes-nodes",
            "blackbox",
        ]
    );
    let kubelet = &c.scrape_configs[0];
    assert!(kubelet.honor_labels && kubelet.honor_timestamps);
    assert_eq!(kubelet.scheme, "https");
    assert_eq!(kubelet.metrics_path, "/metrics");
    assert!(kubelet.enable_compression);
    assert_eq!(kubelet.scrape_protocols, ScrapeProtocol::DEFAULT);
    let auth = kubelet.http_client.authorization.as_ref().unwrap();
    assert_eq!(auth.scheme(), "Bearer");
    assert_eq!(
        auth.credentials_file.as_deref(),
        Some("/var/run/secrets/kubernetes.io/serviceaccount/token")
    );
    assert!(kubelet.http_client.tls_config.insecure_skip_verify);
    let sd = &kubelet.service_discovery.kubernetes_sd_configs[0];
    assert_eq!(sd.role, KubernetesRole::Endpoints);
    assert_eq!(sd.namespaces.names, ["kube-system"]);
    assert!(sd.api_server.is_none());
    assert_eq!(kubelet.relabel_configs.len(), 17);
    assert_eq!(kubelet.metric_relabel_configs.len(), 2);

    let cadvisor = &c.scrape_configs[1];
    assert!(!cadvisor.honor_timestamps);
    assert_eq!(cadvisor.metrics_path, "/metrics/cadvisor");

    let node_exporter = &c.scrape_configs[2];
    assert_eq!(node_exporter.scrape_interval, Duration::from_secs(15));
    // Timeout: min(global 10s, 15s).
    assert_eq!(node_exporter.scrape_timeout, Duration::from_secs(10));
    let sel = &node_exporter.service_discovery.kubernetes_sd_configs[0].selectors[0];
    assert_eq!(
        sel.label.as_deref(),
        Some("app.kubernetes.io/name=node-exporter")
    );

    let ksm = &c.scrape_configs[3];
    assert_eq!(ksm.scrape_timeout, Duration::from_secs(30));

    let pods = &c.scrape_configs[5];
    assert_eq!(pods.scrape_interval, Duration::from_secs(30));
    assert_eq!(pods.scheme, "http");
    assert_eq!(
        pods.service_discovery.kubernetes_sd_configs[0].role,
        KubernetesRole::Pod
    );

    let blackbox = &c.scrape_configs[8];
    assert_eq!(blackbox.params["module"], ["http_2xx"]);
    assert_eq!(
        blackbox.service_discovery.static_configs[0].targets.len(),
        2
    );
    let file_sd = &blackbox.service_discovery.file_sd_configs[0];
    assert_eq!(file_sd.refresh_interval, Duration::from_secs(60));
    assert!(blackbox.service_discovery.unsupported.is_empty());
}

#[test]
fn remote_write_queue_and_relabel() {
    let c = load();
    assert_eq!(c.remote_write.len(), 2);
    let rw = &c.remote_write[0];
    assert_eq!(rw.name, "thanos");
    assert_eq!(
        rw.url.as_str(),
        "https://thanos-receive.monitoring.svc:19291/api/v1/receive"
    );
    assert_eq!(rw.headers["THANOS-TENANT"], "team-a");
    let q = &rw.queue_config;
    assert_eq!((q.capacity, q.max_shards, q.min_shards), (20_000, 30, 2));
    assert_eq!(q.max_samples_per_send, 5000);
    assert_eq!(q.batch_send_deadline, Duration::from_secs(10));
    assert_eq!(q.min_backoff, Duration::from_millis(100));
    assert!(q.retry_on_http_429);
    assert_eq!(rw.metadata_config.send_interval, Duration::from_secs(120));
    assert_eq!(rw.write_relabel_configs.len(), 2);
    let basic = rw.http_client.basic_auth.as_ref().unwrap();
    assert_eq!(basic.username.as_deref(), Some("agent"));
    // Remote write does not use HTTP/2 by default.
    assert!(!rw.http_client.enable_http2);

    let backup = &c.remote_write[1];
    assert!(backup.send_exemplars);
    assert_eq!(backup.remote_timeout, Duration::from_secs(30));
    assert_eq!(backup.queue_config, strata_config::QueueConfig::default());
    assert_eq!(backup.protobuf_message, ProtobufMessage::WriteV1);

    let series = Labels::new(&[("__name__", "go_goroutines"), ("job", "x")]).unwrap();
    assert_eq!(process(&series, &rw.write_relabel_configs), None);
    let series = Labels::new(&[("__name__", "up"), ("prometheus_replica", "p-0")]).unwrap();
    let out = process(&series, &rw.write_relabel_configs).unwrap();
    assert_eq!(out.to_string(), r#"{__name__="up"}"#);
}

fn target(pairs: &[(&str, &str)]) -> Labels {
    Labels::new(pairs).unwrap()
}

#[test]
fn kubelet_rules_on_a_discovered_endpoint() {
    let c = load();
    let kubelet = &c.scrape_configs[0];
    let t = target(&[
        ("__address__", "10.0.0.12:10250"),
        ("__metrics_path__", "/metrics"),
        ("__scheme__", "https"),
        ("job", "serviceMonitor/monitoring/kubelet/0"),
        ("__meta_kubernetes_namespace", "kube-system"),
        ("__meta_kubernetes_service_name", "kubelet"),
        (
            "__meta_kubernetes_service_label_app_kubernetes_io_name",
            "kubelet",
        ),
        (
            "__meta_kubernetes_service_labelpresent_app_kubernetes_io_name",
            "true",
        ),
        ("__meta_kubernetes_service_label_k8s_app", "kubelet"),
        ("__meta_kubernetes_service_labelpresent_k8s_app", "true"),
        ("__meta_kubernetes_endpoint_port_name", "https-metrics"),
        ("__meta_kubernetes_endpoint_address_target_kind", "Node"),
        ("__meta_kubernetes_endpoint_address_target_name", "worker-1"),
    ]);
    let out = process(&t, &kubelet.relabel_configs).expect("kept");
    assert_eq!(out.get("node"), Some("worker-1"));
    assert_eq!(out.get("pod"), None);
    assert_eq!(out.get("job"), Some("kubelet"));
    assert_eq!(out.get("endpoint"), Some("https-metrics"));
    assert_eq!(out.get("metrics_path"), Some("/metrics"));
    assert_eq!(out.get("namespace"), Some("kube-system"));
    assert_eq!(out.get("__tmp_hash"), Some("0"));

    // Another port of the same service is dropped.
    let mut other = t.to_builder();
    other.set("__meta_kubernetes_endpoint_port_name", "http-metrics");
    assert_eq!(
        process(&other.build().unwrap(), &kubelet.relabel_configs),
        None
    );

    // Metric relabeling drops the listed kubelet series and keeps others.
    let m = target(&[("__name__", "kubelet_runtime_operations"), ("node", "w")]);
    assert_eq!(process(&m, &kubelet.metric_relabel_configs), None);
    let m = target(&[
        ("__name__", "storage_operation_duration_seconds_bucket"),
        ("le", "2.5"),
    ]);
    assert_eq!(process(&m, &kubelet.metric_relabel_configs), None);
    let m = target(&[
        ("__name__", "storage_operation_duration_seconds_bucket"),
        ("le", "5"),
    ]);
    assert!(process(&m, &kubelet.metric_relabel_configs).is_some());
}

#[test]
fn annotated_pod_rules() {
    let c = load();
    let pods = &c.scrape_configs[5];
    let t = target(&[
        ("__address__", "10.1.2.3"),
        ("__meta_kubernetes_namespace", "shop"),
        ("__meta_kubernetes_pod_name", "cart-5d8f"),
        ("__meta_kubernetes_pod_ip", "10.1.2.3"),
        ("__meta_kubernetes_pod_phase", "Running"),
        ("__meta_kubernetes_pod_node_name", "worker-2"),
        ("__meta_kubernetes_pod_label_app", "cart"),
        (
            "__meta_kubernetes_pod_annotation_prometheus_io_scrape",
            "true",
        ),
        (
            "__meta_kubernetes_pod_annotation_prometheus_io_port",
            "8080",
        ),
        (
            "__meta_kubernetes_pod_annotation_prometheus_io_path",
            "/internal/metrics",
        ),
        (
            "__meta_kubernetes_pod_annotation_prometheus_io_param_format",
            "prometheus",
        ),
    ]);
    let out = process(&t, &pods.relabel_configs).expect("kept");
    assert_eq!(out.get("__address__"), Some("10.1.2.3:8080"));
    assert_eq!(out.get("__metrics_path__"), Some("/internal/metrics"));
    assert_eq!(out.get("__param_format"), Some("prometheus"));
    assert_eq!(out.get("app"), Some("cart"));
    assert_eq!(out.get("namespace"), Some("shop"));
    assert_eq!(out.get("pod"), Some("cart-5d8f"));
    assert_eq!(out.get("node"), Some("worker-2"));

    // IPv6 pod addresses are bracketed.
    let mut v6 = t.to_builder();
    v6.set("__meta_kubernetes_pod_ip", "fd00::1:2");
    let out = process(&v6.build().unwrap(), &pods.relabel_configs).expect("kept");
    assert_eq!(out.get("__address__"), Some("[fd00::1:2]:8080"));

    // Without the annotation the pod is not scraped.
    let plain = t.without(&["__meta_kubernetes_pod_annotation_prometheus_io_scrape"]);
    assert_eq!(process(&plain, &pods.relabel_configs), None);
}

#[test]
fn load_resolves_relative_paths_against_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("prometheus.yml");
    std::fs::write(
        &path,
        "scrape_configs:\n  - job_name: a\n    bearer_token_file: secrets/token\n    file_sd_configs:\n      - files: [targets/*.yml, /abs/x.json]\n",
    )
    .unwrap();
    let c = strata_config::load(&path).unwrap();
    let sc = &c.scrape_configs[0];
    let token = sc
        .http_client
        .authorization
        .as_ref()
        .unwrap()
        .credentials_file
        .as_deref();
    assert_eq!(
        token,
        Some(dir.path().join("secrets/token").to_str().unwrap())
    );
    let files = &sc.service_discovery.file_sd_configs[0].files;
    assert_eq!(files[0], dir.path().join("targets/*.yml").to_str().unwrap());
    assert_eq!(files[1], "/abs/x.json");
}

#[test]
fn static_and_file_fixture() {
    let text = std::fs::read_to_string(fixture("static-and-file.yml")).unwrap();
    let c = super::parse(&text).unwrap_or_else(|e| panic!("{e}"));
    let node = &c.scrape_configs[0];
    assert_eq!(
        node.service_discovery.static_configs[0].labels["role"],
        "db"
    );
    let out = process(
        &target(&[("__address__", "10.0.0.1:9100")]),
        &node.relabel_configs,
    )
    .unwrap();
    assert_eq!(out.get("host"), Some("10.0.0.1"));
    let svc = &c.scrape_configs[1];
    assert_eq!(svc.scrape_timeout, Duration::from_secs(5));
    assert_eq!(svc.body_size_limit.0, 20 << 20);
    let o = svc.http_client.oauth2.as_ref().unwrap();
    assert_eq!(o.token_url, "https://auth.example.com/oauth2/token");
    assert_eq!(o.endpoint_params["audience"], "metrics");
    assert!(svc.http_client.proxy.proxy_url.is_some());
    assert_eq!(c.remote_write[0].queue_config.max_samples_per_send, 1000);
    assert_eq!(c.remote_write[0].queue_config.capacity, 10_000);
}

#[test]
fn prometheus3_fixture() {
    let text = std::fs::read_to_string(fixture("prometheus3.yml")).unwrap();
    let c = super::parse(&text).unwrap_or_else(|e| panic!("{e}"));
    let sc = &c.scrape_configs[0];
    assert_eq!(
        sc.scrape_protocols,
        [
            ScrapeProtocol::PrometheusProto,
            ScrapeProtocol::OpenMetricsText1_0_0,
            ScrapeProtocol::PrometheusText0_0_4
        ]
    );
    assert_eq!(
        sc.fallback_scrape_protocol,
        Some(ScrapeProtocol::PrometheusText0_0_4)
    );
    assert!(!sc.enable_compression && sc.track_timestamps_staleness);
    assert!(sc.scrape_native_histograms && sc.convert_classic_histograms_to_nhcb);
    assert_eq!(sc.keep_dropped_targets, 50);
    assert_eq!(
        sc.http_client.http_headers["X-Scope-OrgID"].values,
        ["tenant-1"]
    );
    let m = target(&[
        ("__name__", "http_requests_total"),
        ("service.name", "cart"),
    ]);
    // keepequal: `le` and `le_copy` are both absent (equal empty values): kept.
    let out = process(&m, &sc.metric_relabel_configs).unwrap();
    assert_eq!(out.get("service"), Some("cart"));
    assert_eq!(out.get("kind"), Some("counter"));
    let rw = &c.remote_write[0];
    assert_eq!(rw.protobuf_message, ProtobufMessage::WriteV2);
    assert_eq!(rw.queue_config.sample_age_limit, Duration::from_secs(600));
    assert_eq!(c.otlp.translation_strategy, "NoUTF8EscapingWithSuffixes");
}

#[test]
fn scrape_config_files_are_read_by_load() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("jobs")).unwrap();
    std::fs::write(
        dir.path().join("prometheus.yml"),
        "global:\n  scrape_interval: 20s\nscrape_config_files: [jobs/*.yml]\nscrape_configs:\n  - job_name: main\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("jobs/b.yml"),
        "scrape_configs:\n  - job_name: b\n    bearer_token_file: token\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("jobs/a.yml"),
        "scrape_configs:\n  - job_name: a\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("jobs/ignored.txt"), "not yaml: [").unwrap();
    let c = strata_config::load(dir.path().join("prometheus.yml")).unwrap();
    let jobs: Vec<&str> = c
        .scrape_configs
        .iter()
        .map(|s| s.job_name.as_str())
        .collect();
    assert_eq!(jobs, ["main", "a", "b"]);
    assert_eq!(c.scrape_configs[2].scrape_interval, Duration::from_secs(20));
    let token = c.scrape_configs[2]
        .http_client
        .authorization
        .as_ref()
        .unwrap();
    assert_eq!(
        token.credentials_file.as_deref(),
        Some(dir.path().join("jobs/token").to_str().unwrap())
    );
    // A job name repeated across files is an error naming the file.
    std::fs::write(
        dir.path().join("jobs/c.yml"),
        "scrape_configs:\n  - job_name: main\n",
    )
    .unwrap();
    let e = strata_config::load(dir.path().join("prometheus.yml"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("c.yml") && e.contains("found multiple scrape configs with job name \"main\""),
        "{e}"
    );
}
