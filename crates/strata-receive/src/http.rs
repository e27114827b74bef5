//! Remote write over HTTP: `POST /api/v1/receive` (Thanos) and `/api/v1/write`
//! (Prometheus). Content negotiation, size limits, tenant, then [`Receiver::write`];
//! every error becomes its status through [`Error::status`].

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use strata_remote::{Protocol, snappy};
use tracing::debug;

use crate::error::Error;
use crate::local_write::WriteOutcome;
use crate::metrics::RequestObservation;
use crate::receiver::Receiver;

/// Header with the number of float samples written.
pub const SAMPLES_WRITTEN: &str = "X-Prometheus-Remote-Write-Samples-Written";
/// Header with the number of histogram samples written.
pub const HISTOGRAMS_WRITTEN: &str = "X-Prometheus-Remote-Write-Histograms-Written";
/// Header with the number of exemplars written.
pub const EXEMPLARS_WRITTEN: &str = "X-Prometheus-Remote-Write-Exemplars-Written";

/// The remote-write routes.
pub fn routes(recv: Arc<Receiver>) -> Router {
    let limit = recv.opts.max_compressed_bytes;
    Router::new()
        .route("/api/v1/receive", post(handle))
        .route("/api/v1/write", post(handle))
        .layer(DefaultBodyLimit::max(limit.saturating_add(1)))
        .with_state(recv)
}

fn header_str(h: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

/// Remote write 1.0 or 2.0, by the request's content type (absent: 1.0).
fn check_content_type(headers: &HeaderMap) -> Result<Protocol, Error> {
    strata_remote::check_content_encoding(header_str(headers, header::CONTENT_ENCODING))
        .map_err(|e| Error::UnsupportedMediaType(e.to_string()))?;
    strata_remote::negotiate_content_type(header_str(headers, header::CONTENT_TYPE))
        .map_err(|e| Error::UnsupportedMediaType(e.to_string()))
}

/// An error response: the message as plain text, `Retry-After` for 429.
pub fn error_response(e: &Error) -> Response {
    let mut resp = (e.status(), e.to_string()).into_response();
    if let Error::TooManyRequests { retry_after_s, .. } = e
        && let Ok(v) = HeaderValue::from_str(&retry_after_s.to_string())
    {
        resp.headers_mut().insert(header::RETRY_AFTER, v);
    }
    resp
}

fn written_headers(resp: &mut Response, o: &WriteOutcome) {
    for (name, n) in [
        (SAMPLES_WRITTEN, o.samples),
        (HISTOGRAMS_WRITTEN, o.histograms),
        (EXEMPLARS_WRITTEN, o.exemplars),
    ] {
        if let Ok(v) = HeaderValue::from_str(&n.to_string()) {
            resp.headers_mut().insert(name, v);
        }
    }
}

async fn handle(State(recv): State<Arc<Receiver>>, headers: HeaderMap, body: Bytes) -> Response {
    let tenant = match recv.opts.tenants.tenant_of(&headers) {
        Ok(t) => t,
        Err(e) => return error_response(&e),
    };
    let result = receive(&recv, &tenant, headers, body).await;
    let (resp, obs) = match result {
        Ok(o) => {
            let mut resp = match &o.first_conflict {
                Some(first) => (
                    StatusCode::CONFLICT,
                    format!(
                        "{} of the request's samples were rejected; first: {first}",
                        o.conflicts
                    ),
                )
                    .into_response(),
                None => StatusCode::NO_CONTENT.into_response(),
            };
            written_headers(&mut resp, &o);
            let code = resp.status().as_u16();
            (resp, (code, o.series, o.samples + o.histograms))
        }
        Err(e) => {
            debug!(tenant = %tenant, error = %e, "write request failed");
            let resp = error_response(&e);
            let code = resp.status().as_u16();
            (resp, (code, 0, 0))
        }
    };
    recv.metrics.observe_request(RequestObservation {
        code: obs.0,
        tenant: &tenant,
        series: obs.1,
        samples: obs.2,
    });
    resp
}

async fn receive(
    recv: &Arc<Receiver>,
    tenant: &str,
    headers: HeaderMap,
    body: Bytes,
) -> Result<WriteOutcome, Error> {
    let proto = check_content_type(&headers)?;
    let _slot = recv.admit()?;
    let r = recv.clone();
    let t = tenant.to_owned();
    let joined = tokio::task::spawn_blocking(move || {
        let raw = decompress(&r, &t, &body)?;
        if r.is_routing() {
            r.decode_owned(&t, proto, &raw).map(Err)
        } else {
            r.write(&t, proto, &raw).map(Ok)
        }
    })
    .await
    .map_err(|e| Error::Internal(format!("write task failed: {e}")))?;
    match joined? {
        Ok(outcome) => Ok(outcome),
        Err(series) => recv.route(tenant, series).await,
    }
}

fn decompress(recv: &Receiver, tenant: &str, body: &[u8]) -> Result<Vec<u8>, Error> {
    let limits = recv.limits().for_tenant(tenant);
    let max_compressed = limits
        .size_bytes
        .map_or(recv.opts.max_compressed_bytes, |l| {
            (l as usize).min(recv.opts.max_compressed_bytes)
        });
    if body.len() > max_compressed {
        return Err(Error::RequestTooLarge(format!(
            "request body of {} bytes is larger than the limit of {max_compressed} bytes",
            body.len()
        )));
    }
    match snappy::decompress(body, recv.opts.max_decompressed_bytes) {
        Ok(r) => Ok(r),
        Err(e @ strata_remote::Error::TooLarge { .. }) => {
            Err(Error::RequestTooLarge(e.to_string()))
        }
        Err(e) => Err(Error::InvalidRequest(format!("decompressing request: {e}"))),
    }
}
