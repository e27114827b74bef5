//! Integration tests of the TSDB: the public `Db` API over real data directories.

#[path = "tsdb/common.rs"]
mod common;

#[path = "tsdb/roundtrip.rs"]
mod roundtrip;

#[path = "tsdb/append_rules.rs"]
mod append_rules;

#[path = "tsdb/lifecycle.rs"]
mod lifecycle;

#[path = "tsdb/crash.rs"]
mod crash;

#[path = "tsdb/model.rs"]
mod model;
