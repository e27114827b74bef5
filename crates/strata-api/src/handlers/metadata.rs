//! `/api/v1/series`, `/api/v1/labels`, `/api/v1/label/<name>/values` and
//! `/api/v1/metadata`.

use std::collections::BTreeSet;

use axum::extract::{Path, State};
use strata_model::gofmt::go_quote;
use strata_model::storage::SelectHints;
use strata_model::{Labels, Matcher};
use tracing::debug;

use crate::errors::ApiError;
use crate::handlers::{TRUNCATED_WARNING, blocking_lookup};
use crate::json::{ApiResponse, JsonStyle, write_labels, write_str, write_str_array};
use crate::names::unescape_name;
use crate::params::Params;
use crate::read_context::read_context;
use crate::state::ApiState;
use crate::tenant::Tenant;
use crate::timeparse::{MAX_TIME_MS, MIN_TIME_MS};

/// Cuts `items` to `limit` (0: no limit), warning when something was cut.
fn truncate<T>(items: &mut Vec<T>, limit: usize, warnings: &mut Vec<String>) {
    if limit > 0 && items.len() > limit {
        items.truncate(limit);
        warnings.push(TRUNCATED_WARNING.into());
    }
}

/// `GET|POST /api/v1/series`: the label sets of the series matching any `match[]`,
/// sorted and without duplicates.
pub async fn series(
    State(st): State<ApiState>,
    tenant: Tenant,
    p: Params,
) -> Result<ApiResponse, ApiError> {
    if p.all("match[]").is_empty() {
        return Err(ApiError::bad_data("no match[] parameter provided"));
    }
    let limit = p.limit()?;
    let start = p.time_or("start", MIN_TIME_MS)?;
    let end = p.time_or("end", MAX_TIME_MS)?;
    let sets = p.matcher_sets()?;
    let ctx = read_context(&p, &tenant)?;
    let storage_warnings = ctx.warnings.clone();
    debug!(tenant = tenant.as_deref(), start, end, "series");
    let found = blocking_lookup(move || {
        let q = st.storage.querier_with(start, end, &ctx)?;
        let hints = SelectHints {
            start,
            end,
            sorted: true,
            labels_only: true,
        };
        if let [ms] = sets.as_slice() {
            // One selector: the storage's sorted answer, without duplicates.
            let mut one = q
                .select(ms, &hints)?
                .map(|s| s.map(|s| s.labels))
                .collect::<Result<Vec<Labels>, _>>()?;
            if !one.windows(2).all(|w| w[0] < w[1]) {
                one.sort();
                one.dedup();
            }
            return Ok(one);
        }
        let mut all: BTreeSet<Labels> = BTreeSet::new();
        for ms in &sets {
            for s in q.select(ms, &hints)? {
                all.insert(s?.labels);
            }
        }
        Ok(all.into_iter().collect::<Vec<_>>())
    })
    .await?;
    let mut found = found;
    let mut warnings = storage_warnings.snapshot();
    truncate(&mut found, limit, &mut warnings);
    let mut data = String::from("[");
    for (i, l) in found.iter().enumerate() {
        if i > 0 {
            data.push(',');
        }
        write_labels(&mut data, l);
    }
    data.push(']');
    Ok(ApiResponse {
        data,
        warnings,
        infos: Vec::new(),
    })
}

/// Sorted union of `f` over the matcher sets (or `f(&[])` without any).
fn union(
    sets: &[Vec<Matcher>],
    mut f: impl FnMut(&[Matcher]) -> strata_model::Result<Vec<String>>,
) -> Result<Vec<String>, ApiError> {
    if sets.len() <= 1 {
        return Ok(f(sets.first().map_or(&[][..], Vec::as_slice))?);
    }
    let mut all = BTreeSet::new();
    for ms in sets {
        all.extend(f(ms)?);
    }
    Ok(all.into_iter().collect())
}

fn string_list(mut items: Vec<String>, limit: usize, mut warnings: Vec<String>) -> ApiResponse {
    truncate(&mut items, limit, &mut warnings);
    let mut data = String::new();
    write_str_array(&mut data, &items);
    ApiResponse {
        data,
        warnings,
        infos: Vec::new(),
    }
}

/// `GET|POST /api/v1/labels`.
pub async fn labels(
    State(st): State<ApiState>,
    tenant: Tenant,
    p: Params,
) -> Result<ApiResponse, ApiError> {
    let limit = p.limit()?;
    let start = p.time_or("start", MIN_TIME_MS)?;
    let end = p.time_or("end", MAX_TIME_MS)?;
    let sets = p.matcher_sets()?;
    let ctx = read_context(&p, &tenant)?;
    let warnings = ctx.warnings.clone();
    debug!(tenant = tenant.as_deref(), start, end, "label names");
    let names = blocking_lookup(move || {
        let q = st.storage.querier_with(start, end, &ctx)?;
        union(&sets, |ms| q.label_names(ms))
    })
    .await?;
    Ok(string_list(names, limit, warnings.snapshot()))
}

/// `GET|POST /api/v1/label/<name>/values`; `name` may be `U__`-escaped.
pub async fn label_values(
    State(st): State<ApiState>,
    Path(name): Path<String>,
    tenant: Tenant,
    p: Params,
) -> Result<ApiResponse, ApiError> {
    let name = unescape_name(&name);
    if name.is_empty() {
        return Err(ApiError::bad_data(format!(
            "invalid label name: {}",
            go_quote(&name)
        )));
    }
    let limit = p.limit()?;
    let start = p.time_or("start", MIN_TIME_MS)?;
    let end = p.time_or("end", MAX_TIME_MS)?;
    let sets = p.matcher_sets()?;
    let ctx = read_context(&p, &tenant)?;
    let warnings = ctx.warnings.clone();
    debug!(tenant = tenant.as_deref(), label = %name, start, end, "label values");
    let values = blocking_lookup(move || {
        let q = st.storage.querier_with(start, end, &ctx)?;
        union(&sets, |ms| q.label_values(&name, ms))
    })
    .await?;
    Ok(string_list(values, limit, warnings.snapshot()))
}

/// Go's `strconv.Atoi` for the metadata limits; negative means no limit.
fn metadata_limit(p: &Params, name: &str) -> Result<Option<usize>, ApiError> {
    match p.get(name) {
        "" => Ok(None),
        s => s
            .parse::<i64>()
            .map(|n| usize::try_from(n).ok())
            .map_err(|_| ApiError::bad_data(format!("{name} must be a number"))),
    }
}

/// `GET /api/v1/metadata`: `{"<metric>":[{"type":…,"help":…,"unit":…}],…}`.
pub async fn metadata(State(st): State<ApiState>, p: Params) -> Result<ApiResponse, ApiError> {
    let limit = metadata_limit(&p, "limit")?;
    let per_metric = metadata_limit(&p, "limit_per_metric")?;
    let metric = p.get("metric").to_owned();
    let md = blocking_lookup(move || {
        st.metadata.metadata(
            (!metric.is_empty()).then_some(metric.as_str()),
            limit,
            per_metric,
        )
    })
    .await?;
    let mut data = String::from("{");
    for (i, (name, entries)) in md.iter().enumerate() {
        if i > 0 {
            data.push(',');
        }
        write_str(&mut data, name, JsonStyle::Iter);
        data.push_str(":[");
        for (j, e) in entries.iter().enumerate() {
            if j > 0 {
                data.push(',');
            }
            data.push_str(r#"{"type":"#);
            write_str(&mut data, &e.kind, JsonStyle::Iter);
            data.push_str(r#","help":"#);
            write_str(&mut data, &e.help, JsonStyle::Iter);
            data.push_str(r#","unit":"#);
            write_str(&mut data, &e.unit, JsonStyle::Iter);
            data.push('}');
        }
        data.push(']');
    }
    data.push('}');
    Ok(ApiResponse::new(data))
}
