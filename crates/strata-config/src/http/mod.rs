//! The HTTP client settings Prometheus inlines into scrape configs, service discovery
//! configs, remote write/read and Alertmanager configs (common `config.HTTPClientConfig`).
//!
//! Because the fields are inlined next to the owner's fields and `serde(flatten)` cannot
//! be combined with `deny_unknown_fields` (and would lose positions), owners declare the
//! fields through [`with_http_client_fields!`] on a private raw struct and move them into
//! an [`HttpClientConfig`] with `take_http_client`, which validates as Prometheus does.

pub mod auth;
pub mod tls;

use std::collections::BTreeMap;

use serde::Deserialize;

pub use auth::{Authorization, BasicAuth, OAuth2};
pub use tls::{TlsConfig, TlsVersion};

use crate::values::{ProxyUrl, Secret};

/// Headers sent to a proxy in CONNECT requests (values are secrets).
pub type ProxyHeader = BTreeMap<String, Vec<Secret>>;

/// Proxy settings.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProxyConfig {
    pub proxy_url: Option<ProxyUrl>,
    pub no_proxy: Option<String>,
    pub proxy_from_environment: bool,
    pub proxy_connect_header: ProxyHeader,
}

impl ProxyConfig {
    pub(crate) fn validate(&self) -> Result<(), String> {
        let has_url = self.proxy_url.is_some();
        let has_no_proxy = self.no_proxy.as_deref().is_some_and(|s| !s.is_empty());
        if !self.proxy_connect_header.is_empty() && !self.proxy_from_environment && !has_url {
            return Err("if proxy_connect_header is configured, proxy_url or proxy_from_environment must also be configured".into());
        }
        if self.proxy_from_environment && has_url {
            return Err(
                "if proxy_from_environment is configured, proxy_url must not be configured".into(),
            );
        }
        if self.proxy_from_environment && has_no_proxy {
            return Err(
                "if proxy_from_environment is configured, no_proxy must not be configured".into(),
            );
        }
        if !has_url && has_no_proxy {
            return Err("if no_proxy is configured, proxy_url must also be configured".into());
        }
        Ok(())
    }
}

/// One entry of `http_headers`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Header {
    #[serde(deserialize_with = "crate::yaml::null_default")]
    pub values: Vec<String>,
    #[serde(deserialize_with = "crate::yaml::null_default")]
    pub secrets: Vec<Secret>,
    #[serde(deserialize_with = "crate::yaml::null_default")]
    pub files: Vec<String>,
}

/// Headers that `http_headers` must not set (canonical spelling).
const RESERVED_HEADERS: &[&str] = &[
    "Authorization",
    "Host",
    "Content-Encoding",
    "Content-Length",
    "Content-Type",
    "User-Agent",
    "Connection",
    "Keep-Alive",
    "Proxy-Authenticate",
    "Proxy-Authorization",
    "Www-Authenticate",
    "Accept-Encoding",
    "X-Prometheus-Remote-Write-Version",
    "X-Prometheus-Remote-Read-Version",
    "X-Prometheus-Scrape-Timeout-Seconds",
    "X-Amz-Date",
    "X-Amz-Security-Token",
    "X-Amz-Content-Sha256",
];

/// Go's `http.CanonicalHeaderKey` for ASCII names: each dash-separated word capitalised.
pub(crate) fn canonical_header(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = true;
    for c in name.chars() {
        out.push(if upper {
            c.to_ascii_uppercase()
        } else {
            c.to_ascii_lowercase()
        });
        upper = c == '-';
    }
    out
}

/// The defaults of `follow_redirects` and `enable_http2`, which differ per owner.
#[derive(Debug, Clone, Copy)]
pub struct HttpDefaults {
    pub follow_redirects: bool,
    pub enable_http2: bool,
}

impl HttpDefaults {
    /// common `DefaultHTTPClientConfig`.
    pub const STANDARD: HttpDefaults = HttpDefaults {
        follow_redirects: true,
        enable_http2: true,
    };
    /// `DefaultRemoteWriteHTTPClientConfig`: no HTTP/2.
    pub const REMOTE_WRITE: HttpDefaults = HttpDefaults {
        follow_redirects: true,
        enable_http2: false,
    };
}

/// A validated HTTP client configuration. Legacy `bearer_token`/`bearer_token_file`
/// have been turned into [`Authorization`] as Prometheus does.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpClientConfig {
    pub basic_auth: Option<BasicAuth>,
    pub authorization: Option<Authorization>,
    pub oauth2: Option<OAuth2>,
    pub tls_config: TlsConfig,
    pub follow_redirects: bool,
    pub enable_http2: bool,
    pub proxy: ProxyConfig,
    pub http_headers: BTreeMap<String, Header>,
}

impl HttpClientConfig {
    /// The configuration with nothing set and the given defaults.
    pub fn with_defaults(d: HttpDefaults) -> Self {
        HttpClientConfig {
            basic_auth: None,
            authorization: None,
            oauth2: None,
            tls_config: TlsConfig::default(),
            follow_redirects: d.follow_redirects,
            enable_http2: d.enable_http2,
            proxy: ProxyConfig::default(),
            http_headers: BTreeMap::new(),
        }
    }
}

impl Default for HttpClientConfig {
    fn default() -> Self {
        HttpClientConfig::with_defaults(HttpDefaults::STANDARD)
    }
}

/// The inlined fields as read.
#[derive(Debug, Default)]
pub(crate) struct RawHttpClient {
    pub basic_auth: Option<BasicAuth>,
    pub authorization: Option<Authorization>,
    pub oauth2: Option<OAuth2>,
    pub bearer_token: Option<Secret>,
    pub bearer_token_file: Option<String>,
    pub tls_config: Option<TlsConfig>,
    pub follow_redirects: Option<bool>,
    pub enable_http2: Option<bool>,
    pub proxy_url: Option<ProxyUrl>,
    pub no_proxy: Option<String>,
    pub proxy_from_environment: Option<bool>,
    pub proxy_connect_header: Option<ProxyHeader>,
    pub http_headers: Option<BTreeMap<String, Header>>,
}

fn nonempty(s: &Option<String>) -> bool {
    s.as_deref().is_some_and(|v| !v.is_empty())
}

fn nonempty_secret(s: &Option<Secret>) -> bool {
    s.as_ref().is_some_and(|v| !v.is_empty())
}

impl RawHttpClient {
    /// Validates like common's `HTTPClientConfig.Validate` and applies the defaults.
    pub(crate) fn finish(self, d: HttpDefaults) -> Result<HttpClientConfig, String> {
        let bearer = nonempty_secret(&self.bearer_token);
        let bearer_file = nonempty(&self.bearer_token_file);
        if bearer && bearer_file {
            return Err(
                "at most one of bearer_token & bearer_token_file must be configured".into(),
            );
        }
        if (self.basic_auth.is_some() || self.oauth2.is_some()) && (bearer || bearer_file) {
            return Err("at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be configured".into());
        }
        if let Some(b) = &self.basic_auth {
            let n = [
                nonempty(&b.username),
                nonempty(&b.username_file),
                nonempty(&b.username_ref),
            ]
            .iter()
            .filter(|x| **x)
            .count();
            if n > 1 {
                return Err("at most one of basic_auth username, username_file & username_ref must be configured".into());
            }
            let n = [
                nonempty_secret(&b.password),
                nonempty(&b.password_file),
                nonempty(&b.password_ref),
            ]
            .iter()
            .filter(|x| **x)
            .count();
            if n > 1 {
                return Err("at most one of basic_auth password, password_file & password_ref must be configured".into());
            }
        }
        let mut authorization = self.authorization;
        if let Some(a) = &mut authorization {
            if bearer || bearer_file {
                return Err(
                    "authorization is not compatible with bearer_token & bearer_token_file".into(),
                );
            }
            let n = [
                nonempty_secret(&a.credentials),
                nonempty(&a.credentials_file),
                nonempty(&a.credentials_ref),
            ]
            .iter()
            .filter(|x| **x)
            .count();
            if n > 1 {
                return Err("at most one of authorization credentials & credentials_file must be configured".into());
            }
            let kind = a.kind.as_deref().map(str::trim).unwrap_or("");
            let kind = if kind.is_empty() { "Bearer" } else { kind }.to_owned();
            if kind.eq_ignore_ascii_case("basic") {
                return Err(
                    r#"authorization type cannot be set to "basic", use "basic_auth" instead"#
                        .into(),
                );
            }
            a.kind = Some(kind);
            if self.basic_auth.is_some() || self.oauth2.is_some() {
                return Err(
                    "at most one of basic_auth, oauth2 & authorization must be configured".into(),
                );
            }
        } else if bearer {
            authorization = Some(Authorization {
                kind: Some("Bearer".into()),
                credentials: self.bearer_token,
                ..Authorization::default()
            });
        } else if bearer_file {
            authorization = Some(Authorization {
                kind: Some("Bearer".into()),
                credentials_file: self.bearer_token_file,
                ..Authorization::default()
            });
        }
        if let Some(o) = &self.oauth2 {
            if self.basic_auth.is_some() {
                return Err(
                    "at most one of basic_auth, oauth2 & authorization must be configured".into(),
                );
            }
            o.validate()?;
        }
        let proxy = ProxyConfig {
            proxy_url: self.proxy_url,
            no_proxy: self.no_proxy,
            proxy_from_environment: self.proxy_from_environment.unwrap_or(false),
            proxy_connect_header: self.proxy_connect_header.unwrap_or_default(),
        };
        proxy.validate()?;
        let http_headers = self.http_headers.unwrap_or_default();
        for name in http_headers.keys() {
            let canonical = canonical_header(name);
            if RESERVED_HEADERS.contains(&canonical.as_str()) {
                return Err(format!("setting header {canonical:?} is not allowed"));
            }
        }
        let tls_config = self.tls_config.unwrap_or_default();
        tls_config.validate()?;
        Ok(HttpClientConfig {
            basic_auth: self.basic_auth,
            authorization,
            oauth2: self.oauth2,
            tls_config,
            follow_redirects: self.follow_redirects.unwrap_or(d.follow_redirects),
            enable_http2: self.enable_http2.unwrap_or(d.enable_http2),
            proxy,
            http_headers,
        })
    }
}

/// Declares a private raw struct with the owner's fields followed by the inlined HTTP
/// client fields, and a `take_http_client` method that moves the latter out.
macro_rules! with_http_client_fields {
    (
        $(#[$meta:meta])*
        struct $name:ident {
            $($(#[$fmeta:meta])* $field:ident : $ty:ty,)*
        }
    ) => {
        $(#[$meta])*
        struct $name {
            $($(#[$fmeta])* $field: $ty,)*
            #[serde(default)]
            basic_auth: Option<$crate::http::BasicAuth>,
            #[serde(default)]
            authorization: Option<$crate::http::Authorization>,
            #[serde(default)]
            oauth2: Option<$crate::http::OAuth2>,
            #[serde(default)]
            bearer_token: Option<$crate::values::Secret>,
            #[serde(default)]
            bearer_token_file: Option<String>,
            #[serde(default)]
            tls_config: Option<$crate::http::TlsConfig>,
            #[serde(default)]
            follow_redirects: Option<bool>,
            #[serde(default)]
            enable_http2: Option<bool>,
            #[serde(default)]
            proxy_url: Option<$crate::values::ProxyUrl>,
            #[serde(default)]
            no_proxy: Option<String>,
            #[serde(default)]
            proxy_from_environment: Option<bool>,
            #[serde(default)]
            proxy_connect_header: Option<$crate::http::ProxyHeader>,
            #[serde(default)]
            http_headers: Option<std::collections::BTreeMap<String, $crate::http::Header>>,
        }

        impl $name {
            #[allow(dead_code)]
            fn take_http_client(
                &mut self,
                defaults: $crate::http::HttpDefaults,
            ) -> Result<$crate::http::HttpClientConfig, String> {
                $crate::http::RawHttpClient {
                    basic_auth: self.basic_auth.take(),
                    authorization: self.authorization.take(),
                    oauth2: self.oauth2.take(),
                    bearer_token: self.bearer_token.take(),
                    bearer_token_file: self.bearer_token_file.take(),
                    tls_config: self.tls_config.take(),
                    follow_redirects: self.follow_redirects.take(),
                    enable_http2: self.enable_http2.take(),
                    proxy_url: self.proxy_url.take(),
                    no_proxy: self.no_proxy.take(),
                    proxy_from_environment: self.proxy_from_environment.take(),
                    proxy_connect_header: self.proxy_connect_header.take(),
                    http_headers: self.http_headers.take(),
                }
                .finish(defaults)
            }
        }
    };
}
pub(crate) use with_http_client_fields;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_header_keys() {
        assert_eq!(
            canonical_header("x-prometheus-remote-write-version"),
            "X-Prometheus-Remote-Write-Version"
        );
        assert_eq!(canonical_header("AUTHORIZATION"), "Authorization");
    }
}
