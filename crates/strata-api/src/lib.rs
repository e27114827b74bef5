//! The Prometheus HTTP API v1, as Prometheus documents it and Grafana uses it, over any
//! [`Queryable`](strata_model::storage::Queryable) and the Strata PromQL engine.
//!
//! [`router`] builds the axum [`Router`] from an [`ApiState`]:
//!
//! - queries: `/api/v1/query`, `/api/v1/query_range`, `/api/v1/query_exemplars`,
//!   `/api/v1/format_query`, `/api/v1/parse_query`;
//! - metadata: `/api/v1/series`, `/api/v1/labels`, `/api/v1/label/<name>/values`,
//!   `/api/v1/metadata`;
//! - status: `/api/v1/status/{buildinfo,runtimeinfo,flags,tsdb}`, `/-/healthy`,
//!   `/-/ready`.
//!
//! Every endpoint accepts `GET`; those Prometheus accepts as forms also take `POST` with
//! an `application/x-www-form-urlencoded` body. Responses use Prometheus' envelope and
//! number formatting byte for byte ([`json`]); errors are mapped in one place
//! ([`errors`]). The tenant headers are read into [`Tenant`] and, with Thanos'
//! `dedup`, `partial_response` and `replicaLabels[]` parameters, handed to storage as a
//! [`ReadContext`](strata_model::storage::ReadContext) ([`read_context`]); storage
//! that ignores them (the local TSDB) is unaffected, and the warnings storage adds
//! there are returned in the response's `warnings`.

pub mod errors;
mod float_text;
pub mod handlers;
pub mod json;
pub mod names;
pub mod params;
pub mod promql_parser;
pub mod read_context;
pub mod result;
pub mod state;
pub mod tenant;
pub mod timeparse;
pub mod tsdb_status;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;

pub use errors::{ApiError, ErrorType};
pub use json::ApiResponse;
pub use promql_parser::PromQlParser;
pub use state::{
    ApiState, BuildInfo, HeadStatus, MetadataProvider, MetricMetadata, NoMetadata, QueryParser,
    RuntimeInfo, RuntimeInfoProvider, Stat, TsdbStatus, TsdbStatusProvider,
};
pub use tenant::Tenant;
pub use tsdb_status::HeadTsdbStatus;

use handlers::{metadata, parse, query, status};

/// Largest request body (form-encoded queries and selectors).
const MAX_BODY_BYTES: usize = 32 << 20;

/// The API's routes over `state`.
pub fn router(state: ApiState) -> Router {
    Router::new()
        .route("/api/v1/query", get(query::query).post(query::query))
        .route(
            "/api/v1/query_range",
            get(query::query_range).post(query::query_range),
        )
        .route(
            "/api/v1/query_exemplars",
            get(query::query_exemplars).post(query::query_exemplars),
        )
        .route(
            "/api/v1/format_query",
            get(parse::format_query).post(parse::format_query),
        )
        .route(
            "/api/v1/parse_query",
            get(parse::parse_query).post(parse::parse_query),
        )
        .route(
            "/api/v1/series",
            get(metadata::series).post(metadata::series),
        )
        .route(
            "/api/v1/labels",
            get(metadata::labels).post(metadata::labels),
        )
        .route("/api/v1/label/{name}/values", get(metadata::label_values))
        .route("/api/v1/metadata", get(metadata::metadata))
        .route("/api/v1/status/buildinfo", get(status::buildinfo))
        .route("/api/v1/status/runtimeinfo", get(status::runtimeinfo))
        .route("/api/v1/status/flags", get(status::flags))
        .route("/api/v1/status/tsdb", get(status::tsdb))
        .route("/-/healthy", get(status::healthy))
        .route("/-/ready", get(status::ready))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}
