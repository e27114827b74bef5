//! `strata receive`: the remote-write receiver tier. It splits writes by tenant, places
//! series on a hashring with replication, and stores them in per-tenant TSDBs.
//!
//! - [`http`]: remote write 1.0/2.0 on `/api/v1/receive` and `/api/v1/write`;
//! - [`receiver`]: the write entry point, limits and admission;
//! - [`local_write`]: validation and one commit into a tenant's TSDB;
//! - [`multitsdb`]: one TSDB per tenant;
//! - [`tenancy`], [`limits`], [`metrics`], [`hashring`].

pub mod error;
pub mod forward_series;
pub mod grpc;
mod grpc_histogram;
pub mod hashring;
pub mod http;
pub mod limits;
pub mod local_write;
pub mod metadata;
pub mod metrics;
pub mod multitsdb;
pub mod query;
pub mod receiver;
pub mod replicate;
pub mod tenancy;

pub use error::{Error, Result};
pub use receiver::{Receiver, ReceiverOptions};
