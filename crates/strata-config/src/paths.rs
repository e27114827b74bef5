//! Relative file paths in a configuration are relative to the file's directory
//! (Prometheus' `SetDirectory`): `load` rewrites them once so users of the model can open
//! them as they are.

use std::path::Path;

use crate::Config;
use crate::discovery::ServiceDiscovery;
use crate::http::{HttpClientConfig, TlsConfig};

fn join(dir: &Path, p: &mut String) {
    if p.is_empty() || Path::new(p.as_str()).is_absolute() {
        return;
    }
    *p = dir.join(p.as_str()).to_string_lossy().into_owned();
}

fn join_opt(dir: &Path, p: &mut Option<String>) {
    if let Some(p) = p {
        join(dir, p);
    }
}

fn tls(dir: &Path, t: &mut TlsConfig) {
    join_opt(dir, &mut t.ca_file);
    join_opt(dir, &mut t.cert_file);
    join_opt(dir, &mut t.key_file);
}

fn http(dir: &Path, h: &mut HttpClientConfig) {
    tls(dir, &mut h.tls_config);
    if let Some(b) = &mut h.basic_auth {
        join_opt(dir, &mut b.username_file);
        join_opt(dir, &mut b.password_file);
    }
    if let Some(a) = &mut h.authorization {
        join_opt(dir, &mut a.credentials_file);
    }
    if let Some(o) = &mut h.oauth2 {
        join_opt(dir, &mut o.client_secret_file);
        tls(dir, &mut o.tls_config);
    }
    for header in h.http_headers.values_mut() {
        for f in &mut header.files {
            join(dir, f);
        }
    }
}

fn discovery(dir: &Path, sd: &mut ServiceDiscovery) {
    for f in &mut sd.file_sd_configs {
        for p in &mut f.files {
            join(dir, p);
        }
    }
    for k in &mut sd.kubernetes_sd_configs {
        join_opt(dir, &mut k.kubeconfig_file);
        http(dir, &mut k.http_client);
    }
}

/// Makes every relative path in `cfg` relative to `dir`.
pub(crate) fn set_directory(cfg: &mut Config, dir: &Path) {
    join_opt(dir, &mut cfg.global.query_log_file);
    join_opt(dir, &mut cfg.global.scrape_failure_log_file);
    for p in cfg
        .rule_files
        .iter_mut()
        .chain(&mut cfg.scrape_config_files)
    {
        join(dir, p);
    }
    for sc in &mut cfg.scrape_configs {
        join_opt(dir, &mut sc.scrape_failure_log_file);
        http(dir, &mut sc.http_client);
        discovery(dir, &mut sc.service_discovery);
    }
    for rw in &mut cfg.remote_write {
        http(dir, &mut rw.http_client);
    }
    for rr in &mut cfg.remote_read {
        http(dir, &mut rr.http_client);
    }
    for am in &mut cfg.alerting.alertmanagers {
        http(dir, &mut am.http_client);
        discovery(dir, &mut am.service_discovery);
    }
    if let Some(t) = &mut cfg.tracing {
        tls(dir, &mut t.tls_config);
    }
}
