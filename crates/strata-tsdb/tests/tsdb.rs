//! Integration tests of the TSDB: the public `Db` API over real data directories.
//!
//! Modules are `#[cfg(test)]` so that clippy's allow-unwrap-in-tests covers their helpers.

#[cfg(test)]
#[path = "tsdb/common.rs"]
mod common;

#[cfg(test)]
#[path = "tsdb/roundtrip.rs"]
mod roundtrip;

#[cfg(test)]
#[path = "tsdb/append_rules.rs"]
mod append_rules;

#[cfg(test)]
#[path = "tsdb/lifecycle.rs"]
mod lifecycle;

#[cfg(test)]
#[path = "tsdb/crash.rs"]
mod crash;

#[cfg(test)]
#[path = "tsdb/model.rs"]
mod model;

#[cfg(test)]
#[path = "tsdb/histograms.rs"]
mod histograms;

#[cfg(test)]
#[path = "tsdb/prometheus_histograms.rs"]
mod prometheus_histograms;
