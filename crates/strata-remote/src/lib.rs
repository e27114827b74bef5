//! Prometheus remote write on the wire.
//!
//! [`rw1`] (`prometheus.WriteRequest`) and [`rw2`] (`io.prometheus.write.v2.Request`)
//! decode requests without an intermediate owned message tree: the decoders hand out
//! [`TimeSeriesRef`]s whose label strings borrow from the request buffer, and reuse one
//! scratch series between calls. The same type is the encoders' input. [`negotiate`]
//! picks the protocol from `Content-Type` and checks `Content-Encoding`; [`snappy`]
//! wraps the block format the protocol uses.

pub mod error;
pub(crate) mod histogram_wire;
pub mod negotiate;
pub mod protowire;
pub mod rw1;
pub mod rw2;
pub mod series;
pub mod snappy;

pub use error::{Error, Result};
pub use negotiate::{NegotiationError, Protocol, check_content_encoding, negotiate_content_type};
pub use series::{
    ExemplarRef, HistogramValue, MetadataRef, MetricMetadataRef, MetricType, TimeSeriesRef,
    WireHistogram,
};
