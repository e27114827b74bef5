//! The HTTP client of a scrape pool, built from the scrape config's HTTP client settings:
//! TLS (CA, client certificate, `insecure_skip_verify`, versions), basic auth,
//! `authorization` (and the legacy bearer token fields, which the config turns into it),
//! extra headers, proxy, redirects and HTTP/2.
//!
//! As in Prometheus, secrets given as files (`password_file`, `credentials_file`, header
//! `files`) are read again for every request, so rotated files take effect at the next
//! scrape.

use std::path::PathBuf;

use base64::Engine as _;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use strata_config::http::{HttpClientConfig, TlsConfig, TlsVersion};

/// A secret given inline or as a file.
#[derive(Debug, Clone)]
enum SecretSource {
    Inline(String),
    File(PathBuf),
}

impl SecretSource {
    fn pick(
        inline: Option<&str>,
        file: Option<&str>,
        reference: Option<&str>,
        what: &str,
    ) -> Result<Option<SecretSource>, String> {
        if reference.is_some_and(|r| !r.is_empty()) {
            return Err(format!("{what}_ref (secret manager) is not supported"));
        }
        if let Some(f) = file.filter(|f| !f.is_empty()) {
            return Ok(Some(SecretSource::File(PathBuf::from(f))));
        }
        Ok(inline
            .filter(|s| !s.is_empty())
            .map(|s| SecretSource::Inline(s.to_owned())))
    }

    fn read(&self) -> Result<String, String> {
        match self {
            SecretSource::Inline(s) => Ok(s.clone()),
            SecretSource::File(p) => std::fs::read_to_string(p)
                .map(|s| s.trim().to_owned())
                .map_err(|e| format!("unable to read {}: {e}", p.display())),
        }
    }
}

#[derive(Debug, Clone)]
enum Auth {
    None,
    Basic {
        username: Option<SecretSource>,
        password: Option<SecretSource>,
    },
    Authorization {
        scheme: String,
        credentials: Option<SecretSource>,
    },
}

/// A reqwest client plus what has to be added to every request.
#[derive(Debug, Clone)]
pub struct ScrapeClient {
    client: reqwest::Client,
    auth: Auth,
    headers: Vec<(HeaderName, SecretSource)>,
}

fn tls_version(v: TlsVersion) -> reqwest::tls::Version {
    match v {
        TlsVersion::Tls10 => reqwest::tls::Version::TLS_1_0,
        TlsVersion::Tls11 => reqwest::tls::Version::TLS_1_1,
        TlsVersion::Tls12 => reqwest::tls::Version::TLS_1_2,
        TlsVersion::Tls13 => reqwest::tls::Version::TLS_1_3,
    }
}

fn read_pem(
    inline: Option<&str>,
    file: Option<&str>,
    what: &str,
) -> Result<Option<Vec<u8>>, String> {
    if let Some(f) = file.filter(|f| !f.is_empty()) {
        return std::fs::read(f)
            .map(Some)
            .map_err(|e| format!("unable to read {what} file {f}: {e}"));
    }
    Ok(inline
        .filter(|s| !s.is_empty())
        .map(|s| s.as_bytes().to_vec()))
}

fn apply_tls(
    mut b: reqwest::ClientBuilder,
    tls: &TlsConfig,
) -> Result<reqwest::ClientBuilder, String> {
    for (r, what) in [
        (&tls.ca_ref, "ca"),
        (&tls.cert_ref, "cert"),
        (&tls.key_ref, "key"),
    ] {
        if r.as_deref().is_some_and(|r| !r.is_empty()) {
            return Err(format!(
                "tls_config {what}_ref (secret manager) is not supported"
            ));
        }
    }
    if let Some(ca) = read_pem(tls.ca.as_deref(), tls.ca_file.as_deref(), "CA")? {
        let certs = reqwest::Certificate::from_pem_bundle(&ca)
            .map_err(|e| format!("unable to use specified CA cert: {e}"))?;
        if certs.is_empty() {
            return Err("unable to use specified CA cert: no certificate found".to_owned());
        }
        b = b.tls_certs_only(certs);
    }
    let cert = read_pem(
        tls.cert.as_deref(),
        tls.cert_file.as_deref(),
        "client certificate",
    )?;
    let key = read_pem(
        tls.key.as_ref().map(|k| k.expose()),
        tls.key_file.as_deref(),
        "client key",
    )?;
    if let (Some(mut pem), Some(key)) = (cert, key) {
        pem.push(b'\n');
        pem.extend_from_slice(&key);
        let id = reqwest::Identity::from_pem(&pem)
            .map_err(|e| format!("unable to use specified client cert and key: {e}"))?;
        b = b.identity(id);
    }
    if tls.insecure_skip_verify {
        b = b.tls_danger_accept_invalid_certs(true);
    }
    if let Some(v) = tls.min_version {
        b = b.tls_version_min(tls_version(v));
    }
    if let Some(v) = tls.max_version {
        b = b.tls_version_max(tls_version(v));
    }
    if tls.server_name.as_deref().is_some_and(|s| !s.is_empty()) {
        tracing::warn!(
            server_name = tls.server_name.as_deref().unwrap_or(""),
            "tls_config.server_name is not supported and is ignored"
        );
    }
    Ok(b)
}

impl ScrapeClient {
    /// Builds the client; errors name the setting that cannot be used.
    pub fn new(cfg: &HttpClientConfig) -> Result<Self, String> {
        if cfg.oauth2.is_some() {
            return Err("oauth2 is not supported".to_owned());
        }
        let mut b = reqwest::Client::builder()
            .redirect(if cfg.follow_redirects {
                reqwest::redirect::Policy::limited(10)
            } else {
                reqwest::redirect::Policy::none()
            })
            .gzip(true);
        if !cfg.enable_http2 {
            b = b.http1_only();
        }
        b = apply_tls(b, &cfg.tls_config)?;
        if let Some(p) = &cfg.proxy.proxy_url {
            let mut proxy =
                reqwest::Proxy::all(p.0.as_str()).map_err(|e| format!("proxy_url: {e}"))?;
            if let Some(np) = cfg.proxy.no_proxy.as_deref().filter(|s| !s.is_empty()) {
                proxy = proxy.no_proxy(reqwest::NoProxy::from_string(np));
            }
            b = b.proxy(proxy);
        } else if !cfg.proxy.proxy_from_environment {
            b = b.no_proxy();
        }
        let client = b.build().map_err(|e| e.to_string())?;
        let auth = if let Some(ba) = &cfg.basic_auth {
            Auth::Basic {
                username: SecretSource::pick(
                    ba.username.as_deref(),
                    ba.username_file.as_deref(),
                    ba.username_ref.as_deref(),
                    "username",
                )?,
                password: SecretSource::pick(
                    ba.password.as_ref().map(|p| p.expose()),
                    ba.password_file.as_deref(),
                    ba.password_ref.as_deref(),
                    "password",
                )?,
            }
        } else if let Some(a) = &cfg.authorization {
            Auth::Authorization {
                scheme: a.scheme().to_owned(),
                credentials: SecretSource::pick(
                    a.credentials.as_ref().map(|c| c.expose()),
                    a.credentials_file.as_deref(),
                    a.credentials_ref.as_deref(),
                    "credentials",
                )?,
            }
        } else {
            Auth::None
        };
        let mut headers = Vec::new();
        for (name, h) in &cfg.http_headers {
            let hn = HeaderName::from_bytes(name.as_bytes())
                .map_err(|e| format!("http_headers {name:?}: {e}"))?;
            for v in &h.values {
                headers.push((hn.clone(), SecretSource::Inline(v.clone())));
            }
            for v in &h.secrets {
                headers.push((hn.clone(), SecretSource::Inline(v.expose().to_owned())));
            }
            for f in &h.files {
                headers.push((hn.clone(), SecretSource::File(PathBuf::from(f))));
            }
        }
        Ok(ScrapeClient {
            client,
            auth,
            headers,
        })
    }

    /// The underlying client.
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// Headers for authentication and `http_headers`, with file secrets read now.
    pub fn request_headers(&self, into: &mut HeaderMap) -> Result<(), String> {
        let value =
            |s: String| HeaderValue::from_str(&s).map_err(|e| format!("invalid header value: {e}"));
        for (n, src) in &self.headers {
            into.append(n.clone(), value(src.read()?)?);
        }
        match &self.auth {
            Auth::None => {}
            Auth::Basic { username, password } => {
                let user = username.as_ref().map(SecretSource::read).transpose()?;
                let pass = password.as_ref().map(SecretSource::read).transpose()?;
                let raw = format!("{}:{}", user.unwrap_or_default(), pass.unwrap_or_default());
                let mut v = value(format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(raw.as_bytes())
                ))?;
                v.set_sensitive(true);
                into.insert(reqwest::header::AUTHORIZATION, v);
            }
            Auth::Authorization {
                scheme,
                credentials,
            } => {
                let cred = credentials
                    .as_ref()
                    .map(SecretSource::read)
                    .transpose()?
                    .unwrap_or_default();
                let mut v = value(format!("{scheme} {cred}"))?;
                v.set_sensitive(true);
                into.insert(reqwest::header::AUTHORIZATION, v);
            }
        }
        Ok(())
    }
}
