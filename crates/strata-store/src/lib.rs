//! Thanos' Store API served by Strata: the gRPC server over any [`SeriesSource`], and
//! the two sources Strata has.
//!
//! - [`server`]: `thanos.Store` ([`StoreService`]: `Series`, `LabelNames`,
//!   `LabelValues`) and `thanos.info.Info` ([`InfoService`]), or both at once
//!   ([`grpc_router`]); per-request limits ([`SeriesLimits`]) and a concurrency gate;
//! - [`source`]: the [`SeriesSource`] trait: select series, then load their chunks a
//!   batch at a time; the server sorts and merges by labels and streams;
//! - [`queryable`]: [`QueryableSource`], any `Queryable` (a receiver's tenants, `strata
//!   up`'s TSDB) with external labels, samples re-encoded as XOR chunks;
//! - [`gateway`]: [`StoreGateway`], the blocks of a bucket (`strata store`): block sync,
//!   local index cache, chunks read on demand through an LRU page cache.
//!
//! Series are sent sorted by their final labels (external labels attached, replica
//! labels removed), series with equal labels merged into one with their chunks in time
//! order and exact duplicates dropped.

pub mod chunks;
pub mod error;
pub mod extlabels;
pub mod gateway;
pub mod limits;
pub mod queryable;
pub mod server;
pub mod source;
mod stream;

pub use error::{Error, Result};
pub use gateway::{GatewayOptions, StoreGateway, SyncStats};
pub use limits::SeriesLimits;
pub use queryable::{QueryableSource, db_time_range};
pub use server::{InfoService, ServerOptions, StoreService, grpc_router};
pub use source::{SeriesQuery, SeriesSource};
