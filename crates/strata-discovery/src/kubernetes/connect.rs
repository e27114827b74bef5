//! Where the API server is and how to talk to it: `api_server` with Prometheus' HTTP
//! client settings, a kubeconfig file, or the in-cluster service account.

use std::path::{Path, PathBuf};

use strata_config::discovery::kubernetes::KubernetesSdConfig;
use strata_config::http::{HttpClientConfig, TlsConfig, TlsVersion};
use url::Url;

use super::client::{Auth, ClientSettings, Credential};
use super::kubeconfig;
use crate::error::{Error, Result};

/// The service account directory mounted into pods.
pub(crate) const SERVICE_ACCOUNT_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

/// The client settings for `cfg`, and the pod's own namespace when
/// `namespaces.own_namespace` asks for it (in-cluster only).
pub(crate) fn settings(cfg: &KubernetesSdConfig) -> Result<(ClientSettings, Option<String>)> {
    if let Some(path) = &cfg.kubeconfig_file {
        return Ok((kubeconfig::load(Path::new(path))?, None));
    }
    if let Some(server) = &cfg.api_server {
        let mut s = from_http_config(&cfg.http_client)?;
        s.base = Some(server.0.clone());
        return Ok((s, None));
    }
    let env = |name: &str| std::env::var(name).ok();
    let s = in_cluster(env, Path::new(SERVICE_ACCOUNT_DIR))?;
    let own = if cfg.namespaces.own_namespace {
        Some(own_namespace(Path::new(SERVICE_ACCOUNT_DIR))?)
    } else {
        None
    };
    tracing::info!("using pod service account via in-cluster config");
    Ok((s, own))
}

/// client-go's `rest.InClusterConfig`: `https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT`,
/// the service account token (re-read per request) and CA.
pub(crate) fn in_cluster(
    env: impl Fn(&str) -> Option<String>,
    dir: &Path,
) -> Result<ClientSettings> {
    let host = env("KUBERNETES_SERVICE_HOST").filter(|h| !h.is_empty());
    let port = env("KUBERNETES_SERVICE_PORT").filter(|p| !p.is_empty());
    let (Some(host), Some(port)) = (host, port) else {
        return Err(Error::InCluster(
            "KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be defined".into(),
        ));
    };
    let hostport = super::labels::join_host_port(&host, &port);
    let base = Url::parse(&format!("https://{hostport}"))
        .map_err(|e| Error::InCluster(format!("bad API server address {hostport:?}: {e}")))?;
    let token = dir.join("token");
    Credential::File(token.clone())
        .read()
        .map_err(|e| Error::InCluster(e.to_string()))?;
    let ca_path = dir.join("ca.crt");
    let ca_pem = match std::fs::read(&ca_path) {
        Ok(pem) if reqwest::Certificate::from_pem_bundle(&pem).is_ok_and(|c| !c.is_empty()) => {
            Some(pem)
        }
        Ok(_) => {
            tracing::error!(path = %ca_path.display(), "expected to load root CA config, but it holds no certificate");
            None
        }
        Err(e) => {
            tracing::error!(path = %ca_path.display(), error = %e, "expected to load root CA config");
            None
        }
    };
    Ok(ClientSettings {
        base: Some(base),
        ca_pem,
        auth: Auth::Scheme {
            scheme: "Bearer".into(),
            credentials: Credential::File(token),
        },
        // client-go's default transport honours HTTP(S)_PROXY/NO_PROXY.
        proxy_from_environment: true,
        follow_redirects: true,
        http2: true,
        ..ClientSettings::default()
    })
}

/// The namespace the pod runs in.
pub(crate) fn own_namespace(dir: &Path) -> Result<String> {
    let path = dir.join("namespace");
    let ns = std::fs::read_to_string(&path)
        .map_err(|e| Error::InCluster(format!("could not determine the pod's namespace: {e}")))?;
    if ns.is_empty() {
        return Err(Error::InCluster(
            "could not read own namespace name (empty file)".into(),
        ));
    }
    Ok(ns)
}

fn unsupported_ref(what: &str, r: &Option<String>) -> Result<()> {
    match r.as_deref() {
        Some(v) if !v.is_empty() => Err(Error::Unsupported(format!(
            "{what} (secret references) in kubernetes_sd_configs"
        ))),
        _ => Ok(()),
    }
}

fn credential(value: Option<&str>, file: &Option<String>) -> Credential {
    match file.as_deref().filter(|f| !f.is_empty()) {
        Some(f) => Credential::File(PathBuf::from(f)),
        None => Credential::Value(value.unwrap_or_default().to_owned()),
    }
}

fn read_pem(inline: Option<&str>, file: &Option<String>) -> Result<Option<Vec<u8>>> {
    if let Some(f) = file.as_deref().filter(|f| !f.is_empty()) {
        return std::fs::read(f).map(Some).map_err(|e| Error::io(f, e));
    }
    Ok(inline
        .filter(|s| !s.is_empty())
        .map(|s| s.as_bytes().to_vec()))
}

fn tls_version(v: TlsVersion) -> reqwest::tls::Version {
    match v {
        TlsVersion::Tls10 => reqwest::tls::Version::TLS_1_0,
        TlsVersion::Tls11 => reqwest::tls::Version::TLS_1_1,
        TlsVersion::Tls12 => reqwest::tls::Version::TLS_1_2,
        TlsVersion::Tls13 => reqwest::tls::Version::TLS_1_3,
    }
}

fn apply_tls(s: &mut ClientSettings, t: &TlsConfig) -> Result<()> {
    unsupported_ref("tls_config.ca_ref", &t.ca_ref)?;
    unsupported_ref("tls_config.cert_ref", &t.cert_ref)?;
    unsupported_ref("tls_config.key_ref", &t.key_ref)?;
    s.ca_pem = read_pem(t.ca.as_deref(), &t.ca_file)?;
    let cert = read_pem(t.cert.as_deref(), &t.cert_file)?;
    let key = read_pem(t.key.as_ref().map(|k| k.expose()), &t.key_file)?;
    if let (Some(mut cert), Some(key)) = (cert, key) {
        cert.push(b'\n');
        cert.extend_from_slice(&key);
        s.identity_pem = Some(cert);
    }
    s.insecure_skip_verify = t.insecure_skip_verify;
    if t.server_name.as_deref().is_some_and(|n| !n.is_empty()) {
        tracing::warn!(
            "tls_config.server_name is not supported for kubernetes_sd_configs; the URL's host is verified"
        );
    }
    s.min_tls = t.min_version.map(tls_version);
    s.max_tls = t.max_version.map(tls_version);
    Ok(())
}

/// Prometheus' HTTP client settings (`api_server` mode).
pub(crate) fn from_http_config(h: &HttpClientConfig) -> Result<ClientSettings> {
    if h.oauth2.is_some() {
        return Err(Error::Unsupported("oauth2 in kubernetes_sd_configs".into()));
    }
    let mut s = ClientSettings {
        follow_redirects: h.follow_redirects,
        http2: h.enable_http2,
        ..ClientSettings::default()
    };
    apply_tls(&mut s, &h.tls_config)?;
    if let Some(a) = &h.authorization {
        unsupported_ref("authorization.credentials_ref", &a.credentials_ref)?;
        s.auth = Auth::Scheme {
            scheme: a.scheme().to_owned(),
            credentials: credential(
                a.credentials.as_ref().map(|c| c.expose()),
                &a.credentials_file,
            ),
        };
    } else if let Some(b) = &h.basic_auth {
        unsupported_ref("basic_auth.username_ref", &b.username_ref)?;
        unsupported_ref("basic_auth.password_ref", &b.password_ref)?;
        s.auth = Auth::Basic {
            username: credential(b.username.as_deref(), &b.username_file),
            password: credential(b.password.as_ref().map(|p| p.expose()), &b.password_file),
        };
    }
    for (name, header) in &h.http_headers {
        for v in &header.values {
            s.headers.push((name.clone(), Credential::Value(v.clone())));
        }
        for v in &header.secrets {
            s.headers
                .push((name.clone(), Credential::Value(v.expose().to_owned())));
        }
        for f in &header.files {
            s.headers
                .push((name.clone(), Credential::File(PathBuf::from(f))));
        }
    }
    s.proxy_url = h.proxy.proxy_url.as_ref().map(|u| u.0.clone());
    s.no_proxy = h.proxy.no_proxy.clone();
    s.proxy_from_environment = h.proxy.proxy_from_environment;
    if !h.proxy.proxy_connect_header.is_empty() {
        tracing::warn!("proxy_connect_header is not supported for kubernetes_sd_configs");
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn in_cluster_needs_the_environment_and_token() {
        let dir = tempfile::tempdir().unwrap();
        let none = |_: &str| None;
        assert!(matches!(
            in_cluster(none, dir.path()),
            Err(Error::InCluster(_))
        ));
        let env = |n: &str| match n {
            "KUBERNETES_SERVICE_HOST" => Some("fd00::1".to_owned()),
            "KUBERNETES_SERVICE_PORT" => Some("443".to_owned()),
            _ => None,
        };
        // No token file yet.
        assert!(in_cluster(env, dir.path()).is_err());
        std::fs::write(dir.path().join("token"), "tok\n").unwrap();
        std::fs::write(dir.path().join("ca.crt"), "garbage").unwrap();
        let s = in_cluster(env, dir.path()).unwrap();
        assert_eq!(s.base.unwrap().as_str(), "https://[fd00::1]/");
        assert_eq!(s.ca_pem, None);
        assert_eq!(
            s.auth,
            Auth::Scheme {
                scheme: "Bearer".into(),
                credentials: Credential::File(dir.path().join("token")),
            }
        );
        assert!(own_namespace(dir.path()).is_err());
        std::fs::write(dir.path().join("namespace"), "monitoring").unwrap();
        assert_eq!(own_namespace(dir.path()).unwrap(), "monitoring");
    }
}
