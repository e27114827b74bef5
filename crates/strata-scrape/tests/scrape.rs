//! Integration tests of strata-scrape against synthetic targets served by axum on
//! 127.0.0.1, and a real prometheus-node-exporter when installed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "scrape/server.rs"]
mod server;
#[path = "scrape/support.rs"]
mod support;

#[path = "scrape/forgotten_refs.rs"]
mod forgotten_refs;
#[path = "scrape/formats.rs"]
mod formats;
#[path = "scrape/hot_path.rs"]
mod hot_path;
#[path = "scrape/labels.rs"]
mod labels;
#[path = "scrape/limits.rs"]
mod limits;
#[path = "scrape/manager.rs"]
mod manager;
#[path = "scrape/node_exporter.rs"]
mod node_exporter;
#[path = "scrape/staleness.rs"]
mod staleness;
#[path = "scrape/tls.rs"]
mod tls;
