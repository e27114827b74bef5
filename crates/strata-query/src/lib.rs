//! The distributed querier (`strata query`, Thanos query): the storage trait over remote
//! Store APIs, so the PromQL engine and the Prometheus HTTP API run over every store.
//!
//! - [`EndpointSet`] ([`endpoints`]): endpoints from `--endpoint` (`host:port`,
//!   `dns+host:port`) and `--endpoint.sd-files`, refreshed periodically through the
//!   Info API (component, external labels, time range, health);
//!   [`EndpointSet::stores`] backs `/api/v1/stores` ([`http`]).
//! - [`ProxyQueryable`] ([`proxy`]): selections fan out concurrently to the stores that
//!   can hold matching data, answers are merged by label set, replicas deduplicated
//!   ([`dedup`]) and chunks decoded lazily ([`series`]); store failures become
//!   warnings (partial response) or errors. Per-request options and warnings travel in
//!   [`strata_model::storage::ReadContext`], which `strata-api` fills from Thanos'
//!   `dedup`, `partial_response` and `replicaLabels[]` parameters and the tenant.
//! - Tenancy ([`tenancy`]): with enforcement on, every selection is restricted to the
//!   request's tenant label value; the tenant is forwarded to stores as
//!   `thanos-tenant` gRPC metadata.
//!
//! The gRPC calls run on the tokio runtime the queryable was created in; the storage
//! trait is synchronous, so call it from blocking threads (`spawn_blocking`), as the
//! HTTP API does.

pub mod dedup;
pub mod endpoints;
pub mod error;
mod fanout;
pub mod http;
pub mod options;
pub mod proxy;
mod series;
pub mod spec;
pub mod tenancy;
pub mod tiered;

pub use endpoints::{DEFAULT_INFO_TIMEOUT, EndpointSet, EndpointSetConfig, EndpointStatus};
pub use error::{Error, Result};
pub use fanout::TENANT_METADATA_KEY;
pub use http::{stores_json, stores_router, with_tenant_header};
pub use options::{DedupFunc, QueryOptions};
pub use proxy::{ProxyQuerier, ProxyQueryable};
pub use spec::EndpointSpec;
pub use tiered::TieredQueryable;
