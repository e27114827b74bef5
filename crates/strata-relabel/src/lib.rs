//! Prometheus relabeling, shared by the agent (target relabeling, `metric_relabel_configs`,
//! `write_relabel_configs`) and the receiver.
//!
//! A [`RelabelConfig`] deserializes from a Prometheus configuration file with Prometheus'
//! defaults (`separator: ;`, `regex: (.*)`, `replacement: $1`, `action: replace`) and is
//! validated as Prometheus validates it. [`process`] applies a list of rules to a
//! [`strata_model::Labels`]; [`process_builder`] does the same on a reusable
//! [`RelabelBuilder`] so the scrape hot path does not allocate per series.
//!
//! Semantics follow Prometheus' `model/relabel`: regexes are anchored `^(?s:…)$` with
//! ASCII Perl classes, templates expand as Go's `regexp.Expand`, `hashmod` takes the last
//! eight bytes of the MD5 of the joined values as a big-endian integer.

pub mod action;
pub mod builder;
pub mod config;
pub mod error;
pub mod process;
pub mod regex;
mod template;

pub use action::Action;
pub use builder::RelabelBuilder;
pub use config::RelabelConfig;
pub use error::{Error, Result};
pub use process::{apply, process, process_builder};
pub use regex::RelabelRegex;
pub use strata_model::labels::NameValidation;
