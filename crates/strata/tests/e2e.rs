//! End-to-end tests of the `strata` binary against the real Prometheus tools: blocks and
//! WALs written by one side must be read identically by the other.
//!
//! Tests that need `promtool` or `prometheus` skip with a message when the tool is not
//! installed (and fail in CI, see `strata_testkit::require_tool`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)]

#[path = "e2e/util.rs"]
mod util;

#[path = "e2e/data.rs"]
mod data;

#[path = "e2e/strata_blocks.rs"]
mod strata_blocks;

#[path = "e2e/promtool_blocks.rs"]
mod promtool_blocks;

#[path = "e2e/prometheus_rw.rs"]
mod prometheus_rw;

#[path = "e2e/cli_errors.rs"]
mod cli_errors;

#[path = "e2e/receive.rs"]
mod receive;

#[path = "e2e/receive_ring.rs"]
mod receive_ring;

#[path = "e2e/longterm.rs"]
mod longterm;

#[path = "e2e/agent_support.rs"]
mod agent_support;

#[path = "e2e/agent.rs"]
mod agent;
