//! Rejected configurations: precise positions and field paths for YAML errors, and
//! Prometheus' messages for its validation rules.

use strata_config::Error;

use super::{parse, reject};

#[test]
fn unknown_field_has_position_and_path() {
    let e = parse("scrape_configs:\n  - job_name: a\n    scrape_intervall: 1m\n").unwrap_err();
    let Error::Yaml {
        field,
        position,
        message,
        ..
    } = &e
    else {
        panic!("{e:?}")
    };
    assert!(
        message.contains("unknown field `scrape_intervall`"),
        "{message}"
    );
    assert_eq!(field, "scrape_configs[0].scrape_intervall");
    let p = position.unwrap();
    assert_eq!((p.line, p.column), (3, 5));
    let shown = e.to_string();
    assert!(
        shown.contains("scrape_configs[0].scrape_intervall (line 3, column 5)"),
        "{shown}"
    );
}

#[test]
fn unknown_top_level_and_global_fields() {
    assert!(reject("nonexistent_field: 1\n").contains("unknown field `nonexistent_field`"));
    assert!(reject("global:\n  foo: 1\n").contains("unknown field `foo`"));
    // A misspelt service discovery is an unknown field, as in Prometheus.
    assert!(
        reject("scrape_configs:\n  - job_name: a\n    consult_sd_configs: []\n")
            .contains("unknown field `consult_sd_configs`")
    );
    assert!(reject(
        "scrape_configs:\n  - job_name: a\n    kubernetes_sd_configs:\n      - role: pod\n        foo: bar\n"
    )
    .contains("unknown field `foo`"));
}

#[test]
fn bad_values_name_the_field() {
    for (yaml, field, want) in [
        (
            "global:\n  scrape_interval: 1x\n",
            "global.scrape_interval",
            "invalid duration",
        ),
        (
            "global:\n  scrape_interval: 30m1h\n",
            "global.scrape_interval",
            "largest to smallest",
        ),
        (
            "scrape_configs:\n  - job_name: a\n    sample_limit: -5\n",
            "scrape_configs[0].sample_limit",
            "",
        ),
        (
            "scrape_configs:\n  - job_name: a\n    body_size_limit: 100\n",
            "scrape_configs[0].body_size_limit",
            "missing unit",
        ),
        (
            "scrape_configs:\n  - job_name: a\n    scrape_protocols: [Nope]\n",
            "scrape_configs[0].scrape_protocols[0]",
            "unknown scrape protocol Nope",
        ),
        (
            "scrape_configs:\n  - job_name: a\n    honor_labels: maybe\n",
            "scrape_configs[0].honor_labels",
            "",
        ),
        (
            "remote_write:\n  - url: /relative\n",
            "remote_write[0].url",
            "invalid URL",
        ),
        (
            "remote_write:\n  - url: ftp://x/\n",
            "remote_write[0].url",
            "scheme must be http or https",
        ),
        (
            "scrape_configs:\n  - job_name: a\n    kubernetes_sd_configs:\n      - role: pods\n",
            "scrape_configs[0].kubernetes_sd_configs[0].role",
            "unknown Kubernetes SD role \"pods\"",
        ),
        (
            "scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - action: keep\n        regex: abc(def\n",
            "scrape_configs[0].relabel_configs[0]",
            "invalid relabel regex",
        ),
        (
            "scrape_configs:\n  - job_name: a\n    tls_config:\n      min_version: TLS99\n",
            "scrape_configs[0].tls_config.min_version",
            "unknown TLS version: TLS99",
        ),
    ] {
        let e = parse(yaml).unwrap_err();
        let shown = e.to_string();
        assert_eq!(e.field(), Some(field), "{yaml}\n{shown}");
        assert!(e.position().is_some(), "{shown}");
        assert!(shown.contains(want), "{yaml}\n got: {shown}\nwant: {want}");
    }
}

#[test]
fn prometheus_validation_messages() {
    for (yaml, want) in [
        ("scrape_configs:\n  - job_name: ''\n", "job_name is empty"),
        ("scrape_configs:\n  - {}\n", "job_name is empty"),
        (
            "scrape_configs:\n  - job_name: prometheus\n  - job_name: prometheus\n",
            "found multiple scrape configs with job name \"prometheus\"",
        ),
        (
            "scrape_configs:\n  - job_name: a\n    scrape_interval: 5s\n    scrape_timeout: 6s\n",
            "scrape timeout greater than scrape interval for scrape config with job name \"a\"",
        ),
        (
            "global:\n  scrape_interval: 5s\n  scrape_timeout: 6s\n",
            "global scrape timeout greater than scrape interval",
        ),
        (
            "scrape_configs:\n  - job_name: a\n    static_configs:\n      - targets: ['http://bad']\n",
            "\"http://bad\" is not a valid hostname",
        ),
        (
            "scrape_configs:\n  - job_name: a\n    bearer_token: x\n    bearer_token_file: y\n",
            "at most one of bearer_token & bearer_token_file must be configured",
        ),
        (
            "scrape_configs:\n  - job_name: a\n    basic_auth: {username: u}\n    bearer_token: x\n",
            "at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be configured",
        ),
        (
            "scrape_configs:\n  - job_name: a\n    basic_auth: {username: u}\n    authorization: {credentials: x}\n",
            "at most one of basic_auth, oauth2 & authorization must be configured",
        ),
        (
            "scrape_configs:\n  - job_name: a\n    authorization: {type: Basic, credentials: x}\n",
            "authorization type cannot be set to \"basic\", use \"basic_auth\" instead",
        ),
        (
            "scrape_configs:\n  - job_name: a\n    oauth2: {client_id: c}\n",
            "oauth2 token_url must be configured",
        ),
        (
            "scrape_configs:\n  - job_name: a\n    tls_config: {cert_file: c}\n",
            "exactly one of key or key_file must be configured when a client certificate is configured",
        ),
        (
            "scrape_configs:\n  - job_name: a\n    no_proxy: x\n",
            "if no_proxy is configured, proxy_url must also be configured",
        ),
        (
            "scrape_configs:\n  - job_name: a\n    http_headers:\n      user-agent: {values: [x]}\n",
            "setting header \"User-Agent\" is not allowed",
        ),
        (
            "scrape_configs:\n  - job_name: a\n    kubernetes_sd_configs:\n      - role: pod\n        bearer_token: x\n",
            "to use custom HTTP client configuration please provide the 'api_server' URL explicitly",
        ),
        (
            "scrape_configs:\n  - job_name: a\n    kubernetes_sd_configs:\n      - role: pod\n        kubeconfig_file: /k\n        api_server: https://k:6443\n",
            "cannot use 'kubeconfig_file' and 'api_server' simultaneously",
        ),
        (
            "scrape_configs:\n  - job_name: a\n    kubernetes_sd_configs:\n      - role: pod\n        api_server: https://k:6443\n        namespaces: {own_namespace: true}\n",
            "cannot use 'api_server' and 'namespaces.own_namespace' simultaneously",
        ),
        (
            "scrape_configs:\n  - job_name: a\n    kubernetes_sd_configs:\n      - role: node\n        selectors: [{role: pod, label: a=b}]\n",
            "node role supports only node selectors",
        ),
        (
            "scrape_configs:\n  - job_name: a\n    kubernetes_sd_configs:\n      - role: pod\n        selectors: [{role: pod}, {role: pod}]\n",
            "duplicated selector role: pod",
        ),
        (
            "scrape_configs:\n  - job_name: a\n    kubernetes_sd_configs:\n      - role: pod\n        selectors: [{role: pod, field: metadata.status-Running}]\n",
            "invalid selector: 'metadata.status-Running'; can't understand 'metadata.status-Running'",
        ),
        (
            "scrape_configs:\n  - job_name: a\n    kubernetes_sd_configs:\n      - api_server: https://k\n",
            "role missing",
        ),
        (
            "scrape_configs:\n  - job_name: a\n    file_sd_configs:\n      - files: [targets.txt]\n",
            "path name \"targets.txt\" is not valid for file discovery",
        ),
        ("rule_files: ['a/*/b.yml']\n", "invalid rule file path"),
        (
            "remote_write:\n  - name: x\n",
            "url for remote_write is empty",
        ),
        (
            "remote_write:\n  - url: http://a/\n    name: q\n  - url: http://b/\n    name: q\n",
            "found multiple remote write configs with job name \"q\"",
        ),
        (
            "remote_write:\n  - url: http://a/\n    headers: {X-Prometheus-Remote-Write-Version: '2'}\n",
            "X-Prometheus-Remote-Write-Version is a reserved header. It must not be changed",
        ),
        (
            "remote_write:\n  - url: http://a/\n    headers: {Authorization: x}\n",
            "authorization header must be changed via the basic_auth",
        ),
        (
            "remote_write:\n  - url: http://a/\n    basic_auth: {username: u}\n    sigv4: {region: r}\n",
            "at most one of basic_auth, authorization, oauth2, sigv4, azuread or google_iam must be configured. Currently configured: [basic_auth sigv4]",
        ),
        (
            "remote_write:\n  - url: http://a/\n    protobuf_message: io.prometheus.writet.v2.Request\n",
            "invalid protobuf_message value: unknown type for remote write protobuf message io.prometheus.writet.v2.Request",
        ),
        (
            "remote_write:\n  - url: http://a/\n    queue_config: {capacity: 0}\n",
            "remote write queue capacity must be positive",
        ),
        (
            "remote_write:\n  - url: http://a/\n    queue_config: {max_shards: 0}\n",
            "remote write queue max_shards must be positive",
        ),
        (
            "remote_write:\n  - url: http://a/\n    queue_config: {min_shards: 0}\n",
            "remote write queue min_shards must be positive",
        ),
        (
            "remote_write:\n  - url: http://a/\n    queue_config: {min_shards: 60}\n",
            "remote write queue min_shards must not be greater than max_shards",
        ),
        (
            "remote_write:\n  - url: http://a/\n    queue_config: {max_samples_per_send: 0}\n",
            "remote write queue max_samples_per_send must be positive",
        ),
        (
            "remote_write:\n  - url: http://a/\n    queue_config: {min_backoff: 10s}\n",
            "remote write queue max_backoff must not be less than min_backoff",
        ),
        (
            "remote_read:\n  - name: x\n",
            "url for remote_read is empty",
        ),
        (
            "remote_read:\n  - url: http://a/\n    name: q\n  - url: http://b/\n    name: q\n",
            "found multiple remote read configs with job name \"q\"",
        ),
        (
            "remote_write:\n  - url: http://a/\n    write_relabel_configs:\n      - {action: hashmod, target_label: x}\n",
            "relabel configuration for hashmod requires non-zero modulus",
        ),
        (
            "tracing:\n  client_type: grpc\n",
            "tracing endpoint must be set",
        ),
        (
            "storage:\n  tsdb:\n    chunk_encoding: {floats: XOR}\n",
            "'storage.tsdb.chunk_encoding.floats' must be 'xor' or 'xor2'",
        ),
        (
            "otlp:\n  promote_all_resource_attributes: true\n  promote_resource_attributes: [a]\n",
            "'promote_all_resource_attributes' and 'promote_resource_attributes' cannot be configured simultaneously",
        ),
        (
            "global:\n  metric_name_validation_scheme: legacy\n  external_labels: {'a.b': x}\n",
            "\"a.b\" is not a valid label name",
        ),
    ] {
        let e = reject(yaml);
        assert!(e.contains(want), "{yaml}\n got: {e}\nwant: {want}");
    }
}

#[test]
fn validation_errors_name_the_field() {
    let e = parse(
        "scrape_configs:\n  - job_name: a\n  - job_name: b\n    scrape_interval: 5s\n    scrape_timeout: 6s\n",
    )
    .unwrap_err();
    assert_eq!(e.field(), Some("scrape_configs[1].scrape_timeout"));
    let e =
        parse("scrape_configs:\n  - job_name: a\n    bearer_token: x\n    bearer_token_file: y\n")
            .unwrap_err();
    assert_eq!(e.field(), Some("scrape_configs[0]"));
    let p = e.position().expect("per-entry checks keep the position");
    assert!(p.line >= 2, "{p:?}");
}

#[test]
fn agent_mode_rejects_what_prometheus_agent_rejects() {
    for (yaml, field) in [
        ("rule_files: [a.yml]\n", "rule_files"),
        ("remote_read:\n  - url: http://a/\n", "remote_read"),
        (
            "alerting:\n  alert_relabel_configs:\n    - {regex: x, action: labeldrop}\n",
            "alerting",
        ),
    ] {
        let c = parse(yaml).unwrap();
        let e = c.check_agent_mode().unwrap_err().to_string();
        assert!(
            e.contains(&format!("field {field} is not allowed in agent mode")),
            "{e}"
        );
    }
}

#[test]
fn load_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.yml");
    std::fs::write(&path, "scrape_configs:\n  - job_name: a\n    bogus: 1\n").unwrap();
    let e = strata_config::load(&path).unwrap_err().to_string();
    assert!(e.starts_with(&path.display().to_string()), "{e}");
    assert!(e.contains("line 3, column 5"), "{e}");
    let e = strata_config::load(dir.path().join("missing.yml")).unwrap_err();
    assert!(matches!(e, Error::Io { .. }), "{e:?}");
    std::fs::write(&path, "rule_files: [r.yml]\n").unwrap();
    let e = strata_config::load_agent(&path).unwrap_err().to_string();
    assert!(
        e.contains("field rule_files is not allowed in agent mode"),
        "{e}"
    );
}
