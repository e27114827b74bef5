//! Integration tests of strata-store: the store gateway over real blocks in a bucket,
//! and the Store API over a receiver's tenants and a local TSDB, all queried over
//! loopback gRPC with the generated clients.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "store/common.rs"]
mod common;
#[path = "store/gateway.rs"]
mod gateway;
#[path = "store/gateway_sync.rs"]
mod gateway_sync;
#[path = "store/queryable.rs"]
mod queryable;
