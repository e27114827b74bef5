//! The distributed querier against in-test Store API servers: merging, deduplication,
//! partial response, store selection, tenancy, the stores page and file SD.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "query/common.rs"]
mod common;

#[path = "query/merge.rs"]
mod merge;

#[path = "query/dedup.rs"]
mod dedup;

#[path = "query/partial.rs"]
mod partial;

#[path = "query/selection.rs"]
mod selection;

#[path = "query/tenancy.rs"]
mod tenancy;

#[path = "query/endpoints.rs"]
mod endpoints;
