//! The HTTP client talking to the API server: base URL, TLS, credentials (re-read from
//! their files on every request, so rotated service account tokens are picked up) and
//! extra headers.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderName, HeaderValue};
use url::Url;

use crate::error::{Error, Result};

/// A secret given inline or by file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Credential {
    Value(String),
    File(PathBuf),
}

impl Credential {
    /// The secret; a file's content is read now and trimmed (as Prometheus and
    /// client-go do).
    pub fn read(&self) -> Result<String> {
        match self {
            Credential::Value(v) => Ok(v.clone()),
            Credential::File(p) => std::fs::read_to_string(p)
                .map(|s| s.trim().to_owned())
                .map_err(|e| Error::io(p, e)),
        }
    }
}

/// How requests authenticate.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) enum Auth {
    #[default]
    None,
    /// `Authorization: <scheme> <credentials>` (bearer tokens).
    Scheme {
        scheme: String,
        credentials: Credential,
    },
    Basic {
        username: Credential,
        password: Credential,
    },
}

/// Everything needed to build the client, from whichever configuration source.
#[derive(Debug, Clone, Default)]
pub(crate) struct ClientSettings {
    pub base: Option<Url>,
    /// PEM CA bundle; when set it replaces the system roots (as Go's `RootCAs` does).
    pub ca_pem: Option<Vec<u8>>,
    /// PEM client certificate followed by its key.
    pub identity_pem: Option<Vec<u8>>,
    pub insecure_skip_verify: bool,
    pub min_tls: Option<reqwest::tls::Version>,
    pub max_tls: Option<reqwest::tls::Version>,
    pub auth: Auth,
    /// Extra headers; each value is read per request.
    pub headers: Vec<(String, Credential)>,
    pub proxy_url: Option<Url>,
    pub no_proxy: Option<String>,
    pub proxy_from_environment: bool,
    pub follow_redirects: bool,
    pub http2: bool,
}

/// A cheap-to-clone client for one API server.
#[derive(Debug, Clone)]
pub(crate) struct ApiClient {
    base: Url,
    http: reqwest::Client,
    auth: Arc<Auth>,
    headers: Arc<Vec<(HeaderName, Credential)>>,
}

fn client_err(e: impl std::fmt::Display) -> Error {
    Error::HttpClient(e.to_string())
}

impl ApiClient {
    pub fn new(s: ClientSettings) -> Result<Self> {
        let base = s
            .base
            .ok_or_else(|| Error::HttpClient("no API server URL".into()))?;
        let mut b = reqwest::Client::builder()
            .user_agent(concat!("strata/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            .tcp_keepalive(Duration::from_secs(30))
            .redirect(if s.follow_redirects {
                reqwest::redirect::Policy::limited(10)
            } else {
                reqwest::redirect::Policy::none()
            });
        if s.http2 {
            b = b
                .http2_keep_alive_interval(Duration::from_secs(30))
                .http2_keep_alive_timeout(Duration::from_secs(15));
        } else {
            b = b.http1_only();
        }
        if let Some(ca) = &s.ca_pem {
            let certs = reqwest::Certificate::from_pem_bundle(ca).map_err(client_err)?;
            if certs.is_empty() {
                return Err(Error::HttpClient("no certificate in the CA bundle".into()));
            }
            b = b.tls_certs_only(certs);
        }
        if let Some(id) = &s.identity_pem {
            b = b.identity(reqwest::Identity::from_pem(id).map_err(client_err)?);
        }
        if s.insecure_skip_verify {
            b = b.tls_danger_accept_invalid_certs(true);
        }
        if let Some(v) = s.min_tls {
            b = b.tls_version_min(v);
        }
        if let Some(v) = s.max_tls {
            b = b.tls_version_max(v);
        }
        match &s.proxy_url {
            Some(u) => {
                let no_proxy = s
                    .no_proxy
                    .as_deref()
                    .and_then(reqwest::NoProxy::from_string);
                let proxy = reqwest::Proxy::all(u.as_str())
                    .map_err(client_err)?
                    .no_proxy(no_proxy);
                b = b.proxy(proxy);
            }
            None if !s.proxy_from_environment => b = b.no_proxy(),
            None => {}
        }
        let mut headers = Vec::new();
        for (name, value) in s.headers {
            let name = HeaderName::from_bytes(name.as_bytes()).map_err(client_err)?;
            headers.push((name, value));
        }
        Ok(ApiClient {
            base,
            http: b.build().map_err(client_err)?,
            auth: Arc::new(s.auth),
            headers: Arc::new(headers),
        })
    }

    /// The URL of `path` (absolute, e.g. `/api/v1/pods`) with `query`.
    pub fn url(&self, path: &str, query: &[(&str, &str)]) -> Url {
        let mut u = self.base.clone();
        let prefix = u.path().trim_end_matches('/').to_owned();
        u.set_path(&format!("{prefix}{path}"));
        u.set_query(None);
        if !query.is_empty() {
            u.query_pairs_mut().extend_pairs(query);
        }
        u
    }

    /// Sends a GET; a non-2xx answer becomes [`Error::Api`] with the server's message.
    pub async fn get(&self, url: Url, timeout: Option<Duration>) -> Result<reqwest::Response> {
        let api_err = |status: Option<u16>, message: String| Error::Api {
            url: url.to_string(),
            status,
            message,
        };
        let mut req = self
            .http
            .get(url.clone())
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(t) = timeout {
            req = req.timeout(t);
        }
        match &*self.auth {
            Auth::None => {}
            Auth::Scheme {
                scheme,
                credentials,
            } => {
                let v = format!("{scheme} {}", credentials.read()?);
                let mut v = HeaderValue::from_str(&v).map_err(client_err)?;
                v.set_sensitive(true);
                req = req.header(reqwest::header::AUTHORIZATION, v);
            }
            Auth::Basic { username, password } => {
                req = req.basic_auth(username.read()?, Some(password.read()?));
            }
        }
        for (name, value) in self.headers.iter() {
            let v = HeaderValue::from_str(&value.read()?).map_err(client_err)?;
            req = req.header(name.clone(), v);
        }
        let resp = req
            .send()
            .await
            .map_err(|e| api_err(None, error_chain(&e)))?;
        let status = resp.status();
        if status.is_success() {
            return Ok(resp);
        }
        let body = resp.text().await.unwrap_or_default();
        Err(api_err(
            Some(status.as_u16()),
            status_message(status, &body),
        ))
    }
}

/// The message of a Kubernetes `Status` body, or the body itself.
fn status_message(status: reqwest::StatusCode, body: &str) -> String {
    let msg = serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("message").and_then(|m| m.as_str()).map(str::to_owned))
        .unwrap_or_else(|| body.trim().chars().take(512).collect());
    format!("{status}: {msg}")
}

/// An error with its sources (reqwest's own message is terse).
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn urls_keep_the_base_path() {
        let c = ApiClient::new(ClientSettings {
            base: Some(Url::parse("https://k8s.example:6443/prefix/").unwrap()),
            ..ClientSettings::default()
        })
        .unwrap();
        let u = c.url("/api/v1/pods", &[("labelSelector", "a=b,c in (d)")]);
        assert_eq!(
            u.as_str(),
            "https://k8s.example:6443/prefix/api/v1/pods?labelSelector=a%3Db%2Cc+in+%28d%29"
        );
    }

    #[test]
    fn bad_ca_is_an_error() {
        let r = ApiClient::new(ClientSettings {
            base: Some(Url::parse("https://k8s.example").unwrap()),
            ca_pem: Some(b"not a certificate".to_vec()),
            ..ClientSettings::default()
        });
        assert!(r.is_err());
    }

    #[test]
    fn credential_files_are_trimmed() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("token");
        std::fs::write(&p, "abc\n").unwrap();
        assert_eq!(Credential::File(p).read().unwrap(), "abc");
    }
}
