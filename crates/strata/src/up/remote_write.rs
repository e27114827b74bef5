//! Remote write 1.0 ingestion for `strata up` (`/api/v1/write`, `/api/v1/receive`): snappy
//! block decoding, protobuf decoding, label validation, one commit per request.
//!
//! Status codes follow Thanos receive: 204 when everything was written, 400 for invalid
//! data (naming the series), 409 when samples were rejected as out of order, duplicate
//! or too old (the valid rest of the request is written), 413 for oversized requests,
//! 415 for an unsupported content type or encoding, 500 when a retry can succeed.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use strata_model::Labels;
use strata_remote::rw1::{TimeSeriesRef, for_each_series};
use strata_remote::snappy;

use super::AppState;

/// Largest decompressed request accepted (Prometheus' receiver uses 32 MiB too).
const MAX_DECOMPRESSED: usize = 32 << 20;

fn plain(status: StatusCode, msg: impl Into<String>) -> Response {
    (status, msg.into()).into_response()
}

fn header_str(h: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

pub(crate) async fn handle(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(enc) = header_str(&headers, header::CONTENT_ENCODING)
        && !enc.eq_ignore_ascii_case("snappy")
    {
        return plain(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("unsupported content encoding {enc:?}; remote write uses snappy"),
        );
    }
    if let Some(ct) = header_str(&headers, header::CONTENT_TYPE) {
        let ct = ct.to_ascii_lowercase();
        let proto_ok = !ct.contains("proto=") || ct.contains("proto=prometheus.writerequest");
        if !ct.starts_with("application/x-protobuf") || !proto_ok {
            return plain(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!(
                    "unsupported content type {ct:?}; this endpoint accepts remote write 1.0 (application/x-protobuf;proto=prometheus.WriteRequest)"
                ),
            );
        }
    }
    let st2 = st.clone();
    let res = tokio::task::spawn_blocking(move || ingest(&st2, &body)).await;
    match res {
        Ok(r) => r,
        Err(e) => plain(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("ingestion task failed: {e}"),
        ),
    }
}

fn ingest(st: &AppState, body: &[u8]) -> Response {
    let raw = match snappy::decompress(body, MAX_DECOMPRESSED) {
        Ok(r) => r,
        Err(e @ strata_remote::Error::TooLarge { .. }) => {
            return plain(StatusCode::PAYLOAD_TOO_LARGE, e.to_string());
        }
        Err(e) => {
            return plain(
                StatusCode::BAD_REQUEST,
                format!("decompressing request: {e}"),
            );
        }
    };
    let mut app = st.db.appender();
    let mut scratch = TimeSeriesRef::default();
    let mut invalid: Option<String> = None;
    let decoded = for_each_series(&raw, &mut scratch, |ts| {
        if invalid.is_some() {
            return Ok(());
        }
        let labels = match Labels::new(&ts.labels) {
            Ok(l) if !l.is_empty() => l,
            Ok(_) => {
                invalid = Some("series with no labels".into());
                return Ok(());
            }
            Err(e) => {
                invalid = Some(e.to_string());
                return Ok(());
            }
        };
        let mut r = None;
        for &(t, v) in &ts.samples {
            let res = match r {
                Some(r) => app.append_ref(r, t, v),
                None => app.append(&labels, t, v).map(|x| r = Some(x)),
            };
            if let Err(e) = res {
                invalid = Some(format!("series {labels}: {e}"));
                break;
            }
        }
        Ok(())
    });
    if let Err(e) = decoded {
        return plain(
            StatusCode::BAD_REQUEST,
            format!("decoding write request: {e}"),
        );
    }
    if let Some(msg) = invalid {
        // Nothing of an invalid request is written, so that the sender can fix and resend it.
        return plain(StatusCode::BAD_REQUEST, msg);
    }
    let out = match app.commit() {
        Ok(o) => o,
        Err(e) => {
            return plain(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("writing samples: {e}"),
            );
        }
    };
    st.samples_appended
        .fetch_add(out.appended as u64, Ordering::Relaxed);
    let written = out.appended + out.duplicates_ignored;
    let mut resp = if let Some(first) = out.rejected.first() {
        plain(
            StatusCode::CONFLICT,
            format!(
                "{} of the request's samples were rejected; first: {first}",
                out.rejected.len()
            ),
        )
    } else {
        StatusCode::NO_CONTENT.into_response()
    };
    if let Ok(v) = HeaderValue::from_str(&written.to_string()) {
        resp.headers_mut()
            .insert("X-Prometheus-Remote-Write-Samples-Written", v);
    }
    resp
}
