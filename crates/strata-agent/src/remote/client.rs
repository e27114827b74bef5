//! The HTTP side of a queue (Prometheus' `storage/remote/client.go`): one POST per
//! batch, snappy-compressed protobuf, and the classification of failures into
//! recoverable (network errors, 5xx, 429 if allowed: retried) and not (dropped).

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use strata_config::RemoteWriteConfig;
use strata_config::http::{HttpClientConfig, TlsConfig, TlsVersion};
use strata_remote::negotiate::{
    CONTENT_ENCODING_SNAPPY, HEADER_SAMPLES_WRITTEN, HEADER_VERSION, Protocol,
};

use crate::error::{Error, Result};

/// Longest part of an error response body kept for the log (Prometheus' `maxErrMsgLen`).
const MAX_ERR_MSG_LEN: usize = 1024;

/// A credential given inline or read from a file at every request (so rotation works).
#[derive(Clone)]
enum Secret {
    Inline(String),
    File(PathBuf),
}

impl Secret {
    fn from(inline: Option<&str>, file: Option<&str>) -> Option<Secret> {
        match (
            inline.filter(|s| !s.is_empty()),
            file.filter(|s| !s.is_empty()),
        ) {
            (Some(s), _) => Some(Secret::Inline(s.to_string())),
            (None, Some(f)) => Some(Secret::File(PathBuf::from(f))),
            (None, None) => None,
        }
    }

    fn read(&self) -> std::result::Result<String, String> {
        match self {
            Secret::Inline(s) => Ok(s.clone()),
            Secret::File(p) => std::fs::read_to_string(p)
                .map(|s| s.trim().to_string())
                .map_err(|e| format!("read {}: {e}", p.display())),
        }
    }
}

enum Auth {
    None,
    Basic {
        username: Option<Secret>,
        password: Option<Secret>,
    },
    Authorization {
        scheme: String,
        credentials: Option<Secret>,
    },
}

/// How a send failed.
#[derive(Debug)]
pub(crate) enum StoreError {
    /// Worth retrying; `retry_after` from the response's `Retry-After` if positive.
    Recoverable {
        reason: String,
        retry_after: Option<Duration>,
    },
    /// Not worth retrying: the batch is dropped.
    Fatal { reason: String },
}

/// What the receiver reported on success.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct WriteStats {
    /// `X-Prometheus-Remote-Write-Samples-Written`, when sent.
    pub samples_written: Option<u64>,
}

pub(crate) struct WriteClient {
    http: reqwest::Client,
    url: reqwest::Url,
    protocol: Protocol,
    auth: Auth,
    retry_on_429: bool,
    timeout: Duration,
}

fn unsupported(name: &str, what: &str) -> Error {
    Error::RemoteConfig {
        name: name.to_string(),
        reason: format!("{what} is not supported by the agent"),
    }
}

fn read_file(name: &str, what: &str, path: &str) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| Error::RemoteConfig {
        name: name.to_string(),
        reason: format!("read {what} {path}: {e}"),
    })
}

fn tls_version(v: TlsVersion) -> reqwest::tls::Version {
    match v {
        TlsVersion::Tls10 => reqwest::tls::Version::TLS_1_0,
        TlsVersion::Tls11 => reqwest::tls::Version::TLS_1_1,
        TlsVersion::Tls12 => reqwest::tls::Version::TLS_1_2,
        TlsVersion::Tls13 => reqwest::tls::Version::TLS_1_3,
    }
}

fn apply_tls(
    name: &str,
    mut b: reqwest::ClientBuilder,
    tls: &TlsConfig,
) -> Result<reqwest::ClientBuilder> {
    let bad = |reason: String| Error::RemoteConfig {
        name: name.to_string(),
        reason,
    };
    if tls.ca_ref.is_some() || tls.cert_ref.is_some() || tls.key_ref.is_some() {
        return Err(unsupported(name, "tls_config *_ref"));
    }
    if tls.server_name.as_deref().is_some_and(|s| !s.is_empty()) {
        return Err(unsupported(name, "tls_config.server_name"));
    }
    let ca = match (&tls.ca, &tls.ca_file) {
        (Some(ca), _) if !ca.is_empty() => Some(ca.as_bytes().to_vec()),
        (_, Some(f)) if !f.is_empty() => Some(read_file(name, "CA file", f)?),
        _ => None,
    };
    if let Some(pem) = ca {
        let certs = reqwest::Certificate::from_pem_bundle(&pem)
            .map_err(|e| bad(format!("invalid CA certificate: {e}")))?;
        if certs.is_empty() {
            return Err(bad("no PEM certificate found in the CA".into()));
        }
        for c in certs {
            b = b.add_root_certificate(c);
        }
    }
    let cert = match (&tls.cert, &tls.cert_file) {
        (Some(c), _) if !c.is_empty() => Some(c.as_bytes().to_vec()),
        (_, Some(f)) if !f.is_empty() => Some(read_file(name, "client certificate", f)?),
        _ => None,
    };
    let key = match (&tls.key, &tls.key_file) {
        (Some(k), _) if !k.is_empty() => Some(k.expose().as_bytes().to_vec()),
        (_, Some(f)) if !f.is_empty() => Some(read_file(name, "client key", f)?),
        _ => None,
    };
    if let (Some(mut cert), Some(key)) = (cert, key) {
        cert.push(b'\n');
        cert.extend_from_slice(&key);
        let id = reqwest::Identity::from_pem(&cert)
            .map_err(|e| bad(format!("invalid client certificate or key: {e}")))?;
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
    Ok(b)
}

fn header(name: &str, k: &str, v: &str) -> Result<(HeaderName, HeaderValue)> {
    let bad = |reason: String| Error::RemoteConfig {
        name: name.to_string(),
        reason,
    };
    let hn = HeaderName::from_bytes(k.as_bytes()).map_err(|e| bad(format!("header {k}: {e}")))?;
    let hv = HeaderValue::from_str(v).map_err(|e| bad(format!("header {k}: {e}")))?;
    Ok((hn, hv))
}

fn build_http(name: &str, cfg: &RemoteWriteConfig) -> Result<reqwest::Client> {
    let hc: &HttpClientConfig = &cfg.http_client;
    if hc.oauth2.is_some() {
        return Err(unsupported(name, "oauth2"));
    }
    if cfg.sigv4.is_some() {
        return Err(unsupported(name, "sigv4"));
    }
    if cfg.azuread {
        return Err(unsupported(name, "azuread"));
    }
    if cfg.google_iam {
        return Err(unsupported(name, "google_iam"));
    }
    if !hc.proxy.proxy_connect_header.is_empty() {
        return Err(unsupported(name, "proxy_connect_header"));
    }
    let mut headers = HeaderMap::new();
    for (k, v) in &cfg.headers {
        let (k, v) = header(name, k, v)?;
        headers.insert(k, v);
    }
    for (k, h) in &hc.http_headers {
        for v in &h.values {
            let (k, v) = header(name, k, v)?;
            headers.append(k, v);
        }
        for s in &h.secrets {
            let (k, mut v) = header(name, k, s.expose())?;
            v.set_sensitive(true);
            headers.append(k, v);
        }
        for f in &h.files {
            let text = read_file(name, "header file", f)?;
            let (k, mut v) = header(name, k, String::from_utf8_lossy(&text).trim())?;
            v.set_sensitive(true);
            headers.append(k, v);
        }
    }
    let mut b = reqwest::Client::builder()
        .user_agent(concat!("strata-agent/", env!("CARGO_PKG_VERSION")))
        .default_headers(headers)
        .redirect(if hc.follow_redirects {
            reqwest::redirect::Policy::limited(10)
        } else {
            reqwest::redirect::Policy::none()
        })
        .pool_idle_timeout(Duration::from_secs(90));
    if !hc.enable_http2 {
        b = b.http1_only();
    }
    b = apply_tls(name, b, &hc.tls_config)?;
    if let Some(url) = &hc.proxy.proxy_url {
        let mut p = reqwest::Proxy::all(url.0.as_str()).map_err(|e| Error::RemoteConfig {
            name: name.to_string(),
            reason: format!("proxy_url: {e}"),
        })?;
        if let Some(np) = hc.proxy.no_proxy.as_deref() {
            p = p.no_proxy(reqwest::NoProxy::from_string(np));
        }
        b = b.proxy(p);
    } else if !hc.proxy.proxy_from_environment {
        b = b.no_proxy();
    }
    b.build().map_err(|e| Error::RemoteConfig {
        name: name.to_string(),
        reason: format!("HTTP client: {e}"),
    })
}

impl WriteClient {
    pub fn new(name: &str, cfg: &RemoteWriteConfig) -> Result<WriteClient> {
        let hc = &cfg.http_client;
        let auth = if let Some(b) = &hc.basic_auth {
            if b.username_ref.is_some() || b.password_ref.is_some() {
                return Err(unsupported(name, "basic_auth *_ref"));
            }
            Auth::Basic {
                username: Secret::from(b.username.as_deref(), b.username_file.as_deref()),
                password: Secret::from(
                    b.password.as_ref().map(|s| s.expose()),
                    b.password_file.as_deref(),
                ),
            }
        } else if let Some(a) = &hc.authorization {
            if a.credentials_ref.is_some() {
                return Err(unsupported(name, "authorization.credentials_ref"));
            }
            Auth::Authorization {
                scheme: a.scheme().to_string(),
                credentials: Secret::from(
                    a.credentials.as_ref().map(|s| s.expose()),
                    a.credentials_file.as_deref(),
                ),
            }
        } else {
            Auth::None
        };
        Ok(WriteClient {
            http: build_http(name, cfg)?,
            url: cfg.url.0.clone(),
            protocol: match cfg.protobuf_message {
                strata_config::ProtobufMessage::WriteV1 => Protocol::V1,
                strata_config::ProtobufMessage::WriteV2 => Protocol::V2,
            },
            auth,
            retry_on_429: cfg.queue_config.retry_on_http_429,
            timeout: cfg.remote_timeout.to_std(),
        })
    }

    pub fn protocol(&self) -> Protocol {
        self.protocol
    }

    /// POSTs one snappy-compressed request; `attempt` counts earlier tries of it.
    pub async fn store(
        &self,
        body: Bytes,
        attempt: u32,
    ) -> std::result::Result<WriteStats, StoreError> {
        let mut req = self
            .http
            .post(self.url.clone())
            .timeout(self.timeout)
            .header(reqwest::header::CONTENT_ENCODING, CONTENT_ENCODING_SNAPPY)
            .header(reqwest::header::CONTENT_TYPE, self.protocol.content_type())
            .header(HEADER_VERSION, self.protocol.version())
            .body(body);
        if attempt > 0 {
            req = req.header("Retry-Attempt", attempt.to_string());
        }
        let fatal = |reason: String| StoreError::Fatal { reason };
        match &self.auth {
            Auth::None => {}
            Auth::Basic { username, password } => {
                let u = username
                    .as_ref()
                    .map(Secret::read)
                    .transpose()
                    .map_err(fatal)?;
                let p = password
                    .as_ref()
                    .map(Secret::read)
                    .transpose()
                    .map_err(fatal)?;
                req = req.basic_auth(u.unwrap_or_default(), p);
            }
            Auth::Authorization {
                scheme,
                credentials,
            } => {
                let c = credentials
                    .as_ref()
                    .map(Secret::read)
                    .transpose()
                    .map_err(fatal)?
                    .unwrap_or_default();
                req = req.header(reqwest::header::AUTHORIZATION, format!("{scheme} {c}"));
            }
        }
        let resp = req.send().await.map_err(|e| StoreError::Recoverable {
            reason: error_chain(&e),
            retry_after: None,
        })?;
        let status = resp.status();
        let header = |name: &str| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        if status.is_success() {
            let samples_written = header(HEADER_SAMPLES_WRITTEN).and_then(|v| v.parse().ok());
            return Ok(WriteStats { samples_written });
        }
        let retry_after = header("Retry-After").and_then(|v| retry_after(&v, SystemTime::now()));
        let body = error_body(resp).await;
        let reason = format!("server returned HTTP status {status}: {body}");
        if status.is_server_error() || (self.retry_on_429 && status.as_u16() == 429) {
            Err(StoreError::Recoverable {
                reason,
                retry_after,
            })
        } else {
            Err(StoreError::Fatal { reason })
        }
    }
}

/// The error and its causes, joined (reqwest's own message hides e.g. "connection refused").
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

async fn error_body(mut resp: reqwest::Response) -> String {
    let mut body = Vec::new();
    while body.len() < MAX_ERR_MSG_LEN {
        match resp.chunk().await {
            Ok(Some(c)) => body.extend_from_slice(&c),
            _ => break,
        }
    }
    body.truncate(MAX_ERR_MSG_LEN);
    String::from_utf8_lossy(&body).trim().to_string()
}

/// `Retry-After` as seconds or an HTTP date; `None` when absent, unparsable or not in
/// the future (Prometheus then uses its own backoff).
pub(crate) fn retry_after(v: &str, now: SystemTime) -> Option<Duration> {
    let v = v.trim();
    if let Ok(secs) = v.parse::<i64>() {
        return (secs > 0).then(|| Duration::from_secs(secs as u64));
    }
    let at = parse_http_date(v)?;
    at.duration_since(now).ok().filter(|d| !d.is_zero())
}

/// Parses an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`, RFC 9110).
fn parse_http_date(s: &str) -> Option<SystemTime> {
    let rest = s.split_once(", ")?.1;
    let mut it = rest.split(' ');
    let day: i64 = it.next()?.parse().ok()?;
    let month = match it.next()? {
        "Jan" => 1,
        "Feb" => 2,
        "Mar" => 3,
        "Apr" => 4,
        "May" => 5,
        "Jun" => 6,
        "Jul" => 7,
        "Aug" => 8,
        "Sep" => 9,
        "Oct" => 10,
        "Nov" => 11,
        "Dec" => 12,
        _ => return None,
    };
    let year: i64 = it.next()?.parse().ok()?;
    let mut hms = it.next()?.split(':');
    let h: i64 = hms.next()?.parse().ok()?;
    let m: i64 = hms.next()?.parse().ok()?;
    let sec: i64 = hms.next()?.parse().ok()?;
    if it.next()? != "GMT" || !(1..=31).contains(&day) || h > 23 || m > 59 || sec > 60 {
        return None;
    }
    // Days since the epoch of a proleptic Gregorian date (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + h * 3600 + m * 60 + sec;
    let secs = u64::try_from(secs).ok()?;
    Some(SystemTime::UNIX_EPOCH + Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn retry_after_forms() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_770);
        assert_eq!(retry_after("3", now), Some(Duration::from_secs(3)));
        assert_eq!(retry_after("0", now), None);
        assert_eq!(retry_after("-1", now), None);
        assert_eq!(retry_after("soon", now), None);
        // 784111777 is Sun, 06 Nov 1994 08:49:37 GMT.
        assert_eq!(
            retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            retry_after(
                "Sun, 06 Nov 1994 08:49:37 GMT",
                now + Duration::from_secs(60)
            ),
            None
        );
        assert_eq!(
            parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT"),
            Some(SystemTime::UNIX_EPOCH)
        );
        assert_eq!(
            parse_http_date("Tue, 29 Feb 2000 12:00:00 GMT"),
            Some(SystemTime::UNIX_EPOCH + Duration::from_secs(951_825_600))
        );
    }
}

#[cfg(test)]
mod config_tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn cfg(extra: &str) -> RemoteWriteConfig {
        let yaml = format!("remote_write:\n  - url: https://example.invalid/write\n{extra}");
        strata_config::parse(&yaml).unwrap().remote_write.remove(0)
    }

    #[test]
    fn tls_and_unsupported_options() {
        assert!(WriteClient::new("q", &cfg("")).is_ok());
        assert!(
            WriteClient::new(
                "q",
                &cfg("    tls_config:\n      insecure_skip_verify: true\n")
            )
            .is_ok()
        );
        let e = WriteClient::new("q", &cfg("    tls_config:\n      ca: not a certificate\n"))
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("CA"), "{e}");
        let e = WriteClient::new(
            "q",
            &cfg("    tls_config:\n      ca_file: /nonexistent/ca.pem\n"),
        )
        .err()
        .unwrap()
        .to_string();
        assert!(e.contains("/nonexistent/ca.pem"), "{e}");
        let e = WriteClient::new(
            "q",
            &cfg("    oauth2:\n      client_id: a\n      client_secret: b\n      token_url: http://x/\n"),
        )
        .err()
        .unwrap()
        .to_string();
        assert!(e.contains("oauth2"), "{e}");
    }
}
