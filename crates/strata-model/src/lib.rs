//! Strata's data model, shared by every layer above it.
//!
//! Nothing in this crate performs I/O: it defines label sets ([`Labels`]), samples and the
//! stale marker ([`sample`]), label matchers with Prometheus regex semantics ([`Matcher`]),
//! the storage trait every query path reads through ([`storage`]) and Go-compatible text
//! formatting helpers ([`gofmt`]) so our tools print exactly what Prometheus' tools print.

pub mod clock;
pub mod duration;
pub mod error;
pub mod gofmt;
pub mod histogram;
pub mod histogram_validate;
pub mod labels;
pub mod matcher;
pub mod merge;
pub mod regex;
pub mod sample;
pub mod storage;

pub use error::{Error, Result};
pub use labels::{Label, Labels, LabelsBuilder, METRIC_NAME};
pub use matcher::{MatchType, Matcher};
pub use sample::{STALE_NAN_BITS, Sample, is_stale_nan, stale_nan};
