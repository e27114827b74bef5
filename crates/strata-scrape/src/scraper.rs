//! One HTTP scrape: the request Prometheus sends (content negotiation, compression,
//! timeout header, authentication) and reading the body within the size limit.

use std::time::Duration;

use reqwest::header::{ACCEPT, ACCEPT_ENCODING, HeaderMap, HeaderValue, USER_AGENT};
use strata_config::ScrapeProtocol;

use crate::client::ScrapeClient;

/// The error of a scrape whose body exceeded `body_size_limit`.
pub const BODY_SIZE_LIMIT_ERROR: &str = "body size limit exceeded";

/// Prometheus' `Accept` header for a list of protocols: each media type with a
/// decreasing weight (`q=0.6`, `q=0.5`, …), the escaping scheme on the 1.0.0 text
/// formats, and `*/*` last. The protobuf format is left out: Strata parses only the text
/// formats.
pub fn accept_header(protocols: &[ScrapeProtocol], escaping_scheme: &str) -> String {
    let mut parts = Vec::new();
    // Prometheus starts at the number of known protocols + 1.
    let mut weight = 6;
    for p in protocols {
        if *p == ScrapeProtocol::PrometheusProto {
            continue;
        }
        let mut v = p.header().to_owned();
        if matches!(
            p,
            ScrapeProtocol::PrometheusText1_0_0 | ScrapeProtocol::OpenMetricsText1_0_0
        ) {
            v.push_str(";escaping=");
            v.push_str(escaping_scheme);
        }
        v.push_str(&format!(";q=0.{weight}"));
        parts.push(v);
        weight -= 1;
    }
    parts.push(format!("*/*;q=0.{weight}"));
    parts.join(",")
}

/// The scrape timeout in seconds as Go's `FormatFloat(s, 'f', -1, 64)` writes it.
pub fn timeout_header_value(timeout: Duration) -> String {
    format!("{}", timeout.as_secs_f64())
}

/// How a fetch failed (the message becomes the target's last error).
#[derive(Debug, Clone, PartialEq)]
pub struct FetchError {
    pub message: String,
    /// True when the body exceeded the size limit.
    pub body_size_limit: bool,
}

impl FetchError {
    fn new(message: String) -> Self {
        FetchError {
            message,
            body_size_limit: false,
        }
    }
}

/// Fetches one target.
#[derive(Debug, Clone)]
pub struct TargetScraper {
    client: ScrapeClient,
    url: String,
    headers: HeaderMap,
    timeout: Duration,
    body_size_limit: u64,
}

impl TargetScraper {
    pub fn new(
        client: ScrapeClient,
        url: &str,
        accept: &str,
        enable_compression: bool,
        timeout: Duration,
        body_size_limit: u64,
        user_agent: &str,
    ) -> Self {
        let mut headers = HeaderMap::new();
        let hv = |s: &str| HeaderValue::from_str(s).unwrap_or(HeaderValue::from_static(""));
        headers.insert(ACCEPT, hv(accept));
        headers.insert(
            ACCEPT_ENCODING,
            HeaderValue::from_static(if enable_compression {
                "gzip"
            } else {
                "identity"
            }),
        );
        headers.insert(USER_AGENT, hv(user_agent));
        headers.insert(
            "X-Prometheus-Scrape-Timeout-Seconds",
            hv(&timeout_header_value(timeout)),
        );
        TargetScraper {
            client,
            url: url.to_owned(),
            headers,
            timeout,
            body_size_limit,
        }
    }

    /// Fetches the body into `buf` (cleared first, gzip already decoded) and returns the
    /// response's `Content-Type`. The whole exchange is bounded by the scrape timeout.
    pub async fn fetch(&self, buf: &mut Vec<u8>) -> Result<String, FetchError> {
        buf.clear();
        match tokio::time::timeout(self.timeout, self.fetch_inner(buf)).await {
            Ok(r) => r,
            Err(_) => Err(FetchError::new(format!(
                "Get {:?}: context deadline exceeded",
                self.url
            ))),
        }
    }

    async fn fetch_inner(&self, buf: &mut Vec<u8>) -> Result<String, FetchError> {
        let mut headers = self.headers.clone();
        self.client
            .request_headers(&mut headers)
            .map_err(FetchError::new)?;
        let url = &self.url;
        let req_err =
            |e: reqwest::Error| FetchError::new(format!("Get {url:?}: {}", error_chain(&e)));
        let mut resp = self
            .client
            .client()
            .get(url.as_str())
            .headers(headers)
            .send()
            .await
            .map_err(req_err)?;
        let status = resp.status();
        if status != reqwest::StatusCode::OK {
            return Err(FetchError::new(format!(
                "server returned HTTP status {} {}",
                status.as_u16(),
                status.canonical_reason().unwrap_or("")
            )));
        }
        let content_type = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let limit = if self.body_size_limit == 0 {
            u64::MAX
        } else {
            self.body_size_limit
        };
        while let Some(chunk) = resp.chunk().await.map_err(req_err)? {
            buf.extend_from_slice(&chunk);
            if buf.len() as u64 >= limit {
                return Err(FetchError {
                    message: BODY_SIZE_LIMIT_ERROR.to_owned(),
                    body_size_limit: true,
                });
            }
        }
        Ok(content_type)
    }
}

/// An error with its sources, `a: b: c`.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let m = c.to_string();
        if !s.contains(&m) {
            s.push_str(": ");
            s.push_str(&m);
        }
        cur = c.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_header_matches_prometheus_default() {
        assert_eq!(
            accept_header(ScrapeProtocol::DEFAULT, "allow-utf-8"),
            "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,\
             application/openmetrics-text;version=0.0.1;q=0.5,\
             text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,\
             text/plain;version=0.0.4;q=0.3,*/*;q=0.2"
        );
        assert_eq!(
            accept_header(&[ScrapeProtocol::PrometheusText0_0_4], "underscores"),
            "text/plain;version=0.0.4;q=0.6,*/*;q=0.5"
        );
    }

    #[test]
    fn timeout_header_like_go() {
        assert_eq!(timeout_header_value(Duration::from_secs(10)), "10");
        assert_eq!(timeout_header_value(Duration::from_millis(500)), "0.5");
        assert_eq!(timeout_header_value(Duration::from_millis(1250)), "1.25");
    }
}
