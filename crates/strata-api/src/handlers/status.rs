//! `/api/v1/status/*`, `/-/healthy` and `/-/ready`.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

use crate::errors::{ApiError, ErrorType};
use crate::handlers::blocking;
use crate::json::{ApiResponse, JsonStyle, write_str};
use crate::params::Params;
use crate::state::{ApiState, Stat};
use crate::timeparse::format_rfc3339_ms;

fn field(out: &mut String, first: bool, key: &str) {
    if !first {
        out.push(',');
    }
    write_str(out, key, JsonStyle::Iter);
    out.push(':');
}

fn str_field(out: &mut String, first: bool, key: &str, value: &str) {
    field(out, first, key);
    write_str(out, value, JsonStyle::Iter);
}

fn raw_field(out: &mut String, key: &str, value: impl std::fmt::Display) {
    field(out, false, key);
    out.push_str(&value.to_string());
}

/// `GET /api/v1/status/buildinfo`.
pub async fn buildinfo(State(st): State<ApiState>) -> ApiResponse {
    let b = &st.build_info;
    let mut d = String::from("{");
    str_field(&mut d, true, "version", &b.version);
    str_field(&mut d, false, "revision", &b.revision);
    str_field(&mut d, false, "branch", &b.branch);
    str_field(&mut d, false, "buildUser", &b.build_user);
    str_field(&mut d, false, "buildDate", &b.build_date);
    str_field(&mut d, false, "goVersion", &b.go_version);
    d.push('}');
    ApiResponse::new(d)
}

/// `GET /api/v1/status/runtimeinfo`.
pub async fn runtimeinfo(State(st): State<ApiState>) -> Result<ApiResponse, ApiError> {
    let Some(p) = &st.runtime_info else {
        return Err(ApiError::new(
            ErrorType::Unavailable,
            "runtime information is not available",
        ));
    };
    let r = p.runtime_info();
    let mut d = String::from("{");
    str_field(
        &mut d,
        true,
        "startTime",
        &format_rfc3339_ms(r.start_time_ms),
    );
    str_field(&mut d, false, "CWD", &r.cwd);
    str_field(&mut d, false, "hostname", &r.hostname);
    str_field(
        &mut d,
        false,
        "serverTime",
        &format_rfc3339_ms(r.server_time_ms),
    );
    raw_field(&mut d, "reloadConfigSuccess", r.reload_config_success);
    str_field(
        &mut d,
        false,
        "lastConfigTime",
        &format_rfc3339_ms(r.last_config_time_ms),
    );
    raw_field(&mut d, "corruptionCount", r.corruption_count);
    raw_field(&mut d, "goroutineCount", r.goroutine_count);
    raw_field(&mut d, "GOMAXPROCS", r.gomaxprocs);
    raw_field(&mut d, "GOMEMLIMIT", r.gomemlimit);
    str_field(&mut d, false, "GOGC", &r.gogc);
    str_field(&mut d, false, "GODEBUG", &r.godebug);
    str_field(&mut d, false, "storageRetention", &r.storage_retention);
    d.push('}');
    Ok(ApiResponse::new(d))
}

/// `GET /api/v1/status/flags`: every flag, sorted by name.
pub async fn flags(State(st): State<ApiState>) -> ApiResponse {
    let mut d = String::from("{");
    for (i, (k, v)) in st.flags.iter().enumerate() {
        str_field(&mut d, i == 0, k, v);
    }
    d.push('}');
    ApiResponse::new(d)
}

fn stats(out: &mut String, key: &str, list: &[Stat]) {
    field(out, false, key);
    out.push('[');
    for (i, s) in list.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('{');
        str_field(out, true, "name", &s.name);
        raw_field(out, "value", s.value);
        out.push('}');
    }
    out.push(']');
}

/// `GET /api/v1/status/tsdb?limit=N` (default 10).
pub async fn tsdb(State(st): State<ApiState>, p: Params) -> Result<ApiResponse, ApiError> {
    let limit = match p.get("limit") {
        "" => 10,
        s => s
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 1)
            .and_then(|n| usize::try_from(n).ok())
            .ok_or_else(|| ApiError::bad_data("limit must be a positive number"))?,
    };
    let Some(provider) = st.tsdb_status.clone() else {
        return Err(ApiError::new(
            ErrorType::Unavailable,
            "TSDB status is not available",
        ));
    };
    let s = blocking(move || provider.tsdb_status(limit)).await?;
    let h = &s.head_stats;
    let mut d = String::from(r#"{"headStats":{"numSeries":"#);
    d.push_str(&h.num_series.to_string());
    raw_field(&mut d, "numLabelPairs", h.num_label_pairs);
    raw_field(&mut d, "chunkCount", h.chunk_count);
    raw_field(&mut d, "minTime", h.min_time);
    raw_field(&mut d, "maxTime", h.max_time);
    d.push('}');
    stats(
        &mut d,
        "seriesCountByMetricName",
        &s.series_count_by_metric_name,
    );
    stats(
        &mut d,
        "labelValueCountByLabelName",
        &s.label_value_count_by_label_name,
    );
    stats(
        &mut d,
        "memoryInBytesByLabelName",
        &s.memory_in_bytes_by_label_name,
    );
    stats(
        &mut d,
        "seriesCountByLabelValuePair",
        &s.series_count_by_label_value_pair,
    );
    d.push('}');
    Ok(ApiResponse::new(d))
}

fn plain(body: String) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body)
}

/// `GET|HEAD /-/healthy`.
pub async fn healthy(State(st): State<ApiState>) -> impl IntoResponse {
    plain(format!("{} is Healthy.\n", st.app_name))
}

/// `GET|HEAD /-/ready`.
pub async fn ready(State(st): State<ApiState>) -> impl IntoResponse {
    plain(format!("{} is Ready.\n", st.app_name))
}
