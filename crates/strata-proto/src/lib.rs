//! Thanos' gRPC APIs on the wire: the Store API (`thanos.Store`: `Series`, `LabelNames`,
//! `LabelValues`), the Info API (`thanos.info.Info/Info`) and receivers' write forwarding
//! (`thanos.WriteableStore/RemoteWrite`), with generated tonic clients and servers.
//!
//! Package, service and message names, field numbers and enum values equal Thanos', so
//! `thanos query` and `thanos receive` talk to Strata and Strata to them. The `.proto`
//! files under `proto/` are compiled at build time by `protox` and `tonic-prost-build`
//! (pure Rust, no `protoc`).
//!
//! The modules mirror Thanos' Go packages:
//!
//! | module | proto package | holds |
//! | --- | --- | --- |
//! | [`labelpb`] | `thanos` | `Label`, `LabelSet`, `ZLabelSet`, conversions to [`strata_model::Labels`] |
//! | [`storepb`] | `thanos` | Store API messages, `LabelMatcher` conversions, `store_server`/`store_client`, `writeable_store_server`/`writeable_store_client` |
//! | [`prompb`] | `prometheus_copy` | `TimeSeries`, `Sample`, `Exemplar`, `Histogram`, `BucketSpan`, `MetricMetadata`, ... |
//! | [`infopb`] | `thanos.info` | `InfoResponse` and its parts, `info_server`/`info_client` |
//! | [`hintspb`] | `hintspb` | hints carried in `google.protobuf.Any` fields, with [`prost::Name`] so `Any::from_msg`/`to_msg` work |
//!
//! [`pb`] holds the generated code in its package layout; the modules above re-export it.
//!
//! Servers: keep tonic at 0.14.9 or later. Versions 0.14.5 to 0.14.8 panic in a connection
//! task when `max_connection_age` is set without a grace period (grpc/grpc-rust#2522).

pub mod error;
mod hints;
mod labels;
mod matchers;

pub use error::{Error, Result};

/// Generated code, one module per proto package (`thanos`, `thanos::info`,
/// `prometheus_copy`, `hintspb`). Prefer the re-exporting modules of this crate.
#[allow(
    clippy::all,
    clippy::pedantic,
    clippy::unwrap_used,
    clippy::expect_used,
    rust_2018_idioms,
    missing_docs
)]
pub mod pb {
    include!(concat!(env!("OUT_DIR"), "/thanos_protos.rs"));
}

/// Thanos' `labelpb`: label messages (proto package `thanos`) and conversions.
pub mod labelpb {
    pub use crate::labels::{labels_from_proto, labels_to_proto};
    pub use crate::pb::thanos::{Label, LabelSet, SymTableLabel, SymbolTable, ZLabelSet};
}

/// Thanos' `storepb`: the Store and WriteableStore APIs (proto package `thanos`).
pub mod storepb {
    pub use crate::matchers::{matchers_from_proto, matchers_to_proto};
    pub use crate::pb::thanos::{
        Aggr, AggrChunk, Chunk, Func, Grouping, LabelMatcher, LabelNamesRequest,
        LabelNamesResponse, LabelValuesRequest, LabelValuesResponse, PartialResponseStrategy,
        QueryHints, Range, Series, SeriesBatch, SeriesRequest, SeriesResponse, ShardInfo,
        TimeSeriesTenantTuple, WriteRequest, WriteResponse, chunk, label_matcher, series_response,
        store_client, store_server, writeable_store_client, writeable_store_server,
    };
}

/// Thanos' `prompb`: its copy of Prometheus' remote-write types (proto package
/// `prometheus_copy`).
pub mod prompb {
    pub use crate::pb::prometheus_copy::*;
}

/// Thanos' `infopb`: the Info API (proto package `thanos.info`).
pub mod infopb {
    pub use crate::pb::thanos::info::*;
}

/// Thanos' `hintspb`: hints in the Store API's `google.protobuf.Any` fields.
pub mod hintspb {
    pub use crate::hints::GOGO_TYPE_URL_PREFIX;
    pub use crate::pb::hintspb::*;
}
