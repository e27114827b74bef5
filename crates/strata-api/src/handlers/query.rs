//! `/api/v1/query`, `/api/v1/query_range` and `/api/v1/query_exemplars`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::extract::State;
use strata_model::storage::WithReadContext;
use strata_promql::QueryOptions;
use strata_promql::value::QueryResult;
use tracing::debug;

use crate::errors::ApiError;
use crate::handlers::{blocking, now_ms};
use crate::json::ApiResponse;
use crate::params::Params;
use crate::read_context::read_context;
use crate::result::query_data;
use crate::state::ApiState;
use crate::tenant::Tenant;
use crate::timeparse::{MAX_TIME_MS, MIN_TIME_MS};

/// Most points a range query may return per series.
const MAX_POINTS: i128 = 11_000;

/// `timeout` (capped by the engine's) and `lookback_delta`. The Thanos parameters
/// `dedup`, `partial_response` and `replicaLabels[]` go to storage through the
/// [`ReadContext`](strata_model::storage::ReadContext) (`read_context.rs`);
/// `max_source_resolution` is accepted and ignored.
fn query_options(st: &ApiState, p: &Params) -> Result<QueryOptions, ApiError> {
    let default = st.engine.options().timeout;
    let timeout = match p.duration("timeout")? {
        Some(ns) => default.min(Duration::from_nanos(ns.max(0) as u64)),
        None => default,
    };
    let lookback = match p.get("lookback_delta") {
        "" => None,
        s => {
            let ns = crate::timeparse::parse_duration_ns(s).map_err(|e| {
                ApiError::bad_data(format!("error parsing lookback delta duration: {e}"))
            })?;
            (ns > 0).then_some(ns / 1_000_000)
        }
    };
    Ok(QueryOptions {
        lookback_delta_ms: lookback,
        timeout: Some(timeout),
        cancel: None,
    })
}

/// Cancels the query when dropped before `disarm`: axum drops a handler's future when
/// the client disconnects, and the evaluator then stops at its next check.
struct CancelOnDrop(Arc<AtomicBool>, bool);

impl CancelOnDrop {
    fn arm(opts: &mut QueryOptions) -> Self {
        let flag = Arc::new(AtomicBool::new(false));
        opts.cancel = Some(flag.clone());
        CancelOnDrop(flag, true)
    }
    fn disarm(mut self) {
        self.1 = false;
    }
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if self.1 {
            self.0.store(true, Ordering::Relaxed);
        }
    }
}

/// The response; storage warnings come before the engine's, as Prometheus and Thanos
/// merge them.
fn respond(res: QueryResult, storage_warnings: Vec<String>, p: &Params) -> ApiResponse {
    let stats = (!p.get("stats").is_empty()).then_some(&res.stats);
    let mut r = ApiResponse::new(query_data(&res.value, stats));
    r.warnings = storage_warnings;
    for w in res.annotations.warnings {
        if !r.warnings.contains(&w) {
            r.warnings.push(w);
        }
    }
    r.infos = res.annotations.infos;
    r
}

/// `GET|POST /api/v1/query`.
pub async fn query(
    State(st): State<ApiState>,
    tenant: Tenant,
    p: Params,
) -> Result<ApiResponse, ApiError> {
    let t = p.time_or("time", now_ms())?;
    let mut opts = query_options(&st, &p)?;
    let ctx = read_context(&p, &tenant)?;
    let warnings = ctx.warnings.clone();
    let guard = CancelOnDrop::arm(&mut opts);
    let q = p.get("query").to_owned();
    debug!(tenant = tenant.as_deref(), query = %q, time = t, "instant query");
    let res = blocking(move || {
        let storage = WithReadContext {
            inner: st.storage.as_ref(),
            ctx,
        };
        st.engine
            .instant_query(&storage, &q, t, &opts)
            .map_err(ApiError::from_query)
    })
    .await;
    guard.disarm();
    Ok(respond(res?, warnings.snapshot(), &p))
}

/// `GET|POST /api/v1/query_range`.
pub async fn query_range(
    State(st): State<ApiState>,
    tenant: Tenant,
    p: Params,
) -> Result<ApiResponse, ApiError> {
    let start = p.time("start")?;
    let end = p.time("end")?;
    if end < start {
        return Err(ApiError::bad_data(
            "end timestamp must not be before start time",
        ));
    }
    let step = crate::timeparse::parse_duration_ns(p.get("step"))
        .map_err(|e| ApiError::invalid_param("step", e))?;
    if step <= 0 {
        return Err(ApiError::bad_data(
            "zero or negative query resolution step widths are not accepted. Try a positive integer",
        ));
    }
    // Go divides the two durations (nanoseconds, saturating) as integers.
    let span = (i128::from(end) - i128::from(start)) * 1_000_000;
    let span = span.min(i128::from(i64::MAX));
    if span / i128::from(step) > MAX_POINTS {
        return Err(ApiError::bad_data(
            "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)",
        ));
    }
    let mut opts = query_options(&st, &p)?;
    let ctx = read_context(&p, &tenant)?;
    let warnings = ctx.warnings.clone();
    let guard = CancelOnDrop::arm(&mut opts);
    let step_ms = (step / 1_000_000).max(1);
    let q = p.get("query").to_owned();
    debug!(tenant = tenant.as_deref(), query = %q, start, end, step_ms, "range query");
    let res = blocking(move || {
        let storage = WithReadContext {
            inner: st.storage.as_ref(),
            ctx,
        };
        st.engine
            .range_query(&storage, &q, start, end, step_ms, &opts)
            .map_err(ApiError::from_query)
    })
    .await;
    guard.disarm();
    Ok(respond(res?, warnings.snapshot(), &p))
}

/// `GET|POST /api/v1/query_exemplars`: exemplars are not stored yet, so the result is
/// always empty once the parameters are valid.
pub async fn query_exemplars(
    State(st): State<ApiState>,
    tenant: Tenant,
    p: Params,
) -> Result<ApiResponse, ApiError> {
    let start = p.time_or("start", MIN_TIME_MS)?;
    let end = p.time_or("end", MAX_TIME_MS)?;
    if end < start {
        return Err(ApiError::bad_data(
            "end timestamp must not be before start timestamp",
        ));
    }
    if let Some(parser) = &st.parser {
        parser
            .format_query(p.get("query"))
            .map_err(ApiError::bad_data)?;
    }
    debug!(tenant = tenant.as_deref(), "exemplar query");
    Ok(ApiResponse::new("[]".into()))
}
