//! The querier's own HTTP pieces: Thanos' `/api/v1/stores` and the tenant header.
//!
//! `/api/v1/stores` answers `{"status":"success","data":{"<component>":[{"name":…,
//! "lastCheck":…,"lastError":…,"labelSets":[…],"minTime":…,"maxTime":…}],…}}` grouped
//! by component type, as Thanos does. Endpoints that never answered Info are listed
//! under `unknown-store-api` with their error (Thanos leaves them out).

use std::collections::BTreeMap;
use std::time::SystemTime;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, Utc};
use strata_api::Tenant;

use crate::endpoints::{EndpointSet, EndpointStatus};
use crate::options::QueryOptions;

/// Go's `time.Time` JSON (RFC 3339 with nanoseconds, trailing zeros trimmed), in UTC;
/// the zero time for `None`.
pub fn go_time(t: Option<SystemTime>) -> String {
    let Some(t) = t else {
        return "0001-01-01T00:00:00Z".into();
    };
    let dt: DateTime<Utc> = t.into();
    let mut s = dt.format("%Y-%m-%dT%H:%M:%S").to_string();
    let nanos = dt.timestamp_subsec_nanos();
    if nanos > 0 {
        let frac = format!("{nanos:09}");
        s.push('.');
        s.push_str(frac.trim_end_matches('0'));
    }
    s.push('Z');
    s
}

fn json_str(s: &str) -> String {
    serde_json::Value::from(s).to_string()
}

fn status_json(st: &EndpointStatus) -> String {
    let sets: Vec<String> = st
        .label_sets
        .iter()
        .map(|l| {
            let pairs: Vec<String> = l
                .iter()
                .map(|(n, v)| format!("{}:{}", json_str(n), json_str(v)))
                .collect();
            format!("{{{}}}", pairs.join(","))
        })
        .collect();
    format!(
        r#"{{"name":{},"lastCheck":{},"lastError":{},"labelSets":[{}],"minTime":{},"maxTime":{}}}"#,
        json_str(&st.name),
        json_str(&go_time(st.last_check)),
        st.last_error.as_deref().map_or("null".into(), json_str),
        sets.join(","),
        st.min_time,
        st.max_time
    )
}

/// The `/api/v1/stores` body for `stores`.
pub fn stores_json(stores: &[EndpointStatus]) -> String {
    let mut groups: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for st in stores {
        let kind = st.component_type.as_deref().unwrap_or("unknown-store-api");
        groups.entry(kind).or_default().push(status_json(st));
    }
    let data: Vec<String> = groups
        .iter()
        .map(|(k, v)| format!("{}:[{}]", json_str(k), v.join(",")))
        .collect();
    format!(r#"{{"status":"success","data":{{{}}}}}"#, data.join(","))
}

async fn stores(State(set): State<EndpointSet>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        stores_json(&set.stores()),
    )
        .into_response()
}

/// A router serving `GET /api/v1/stores`; merge it with the API's router.
pub fn stores_router(endpoints: EndpointSet) -> Router {
    Router::new()
        .route("/api/v1/stores", get(stores))
        .with_state(endpoints)
}

/// Wraps `router` so every request's [`Tenant`] is read as Thanos reads it: the
/// configured header (`--query.tenant-header`), then `THANOS-TENANT`, else none (the
/// querier then uses the default tenant).
pub fn with_tenant_header(router: Router, opts: &QueryOptions) -> Router {
    let opts = opts.clone();
    router.layer(axum::middleware::from_fn(
        move |mut req: Request, next: Next| {
            let tenant = Tenant(opts.tenant_from_headers(req.headers()));
            req.extensions_mut().insert(tenant);
            next.run(req)
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn go_time_format() {
        assert_eq!(go_time(None), "0001-01-01T00:00:00Z");
        let t = UNIX_EPOCH + Duration::from_millis(1_700_000_000_120);
        assert_eq!(go_time(Some(t)), "2023-11-14T22:13:20.12Z");
        let t = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(go_time(Some(t)), "2023-11-14T22:13:20Z");
    }
}
