//! Integration tests of strata-proto: golden wire bytes and loopback gRPC calls.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "proto/golden.rs"]
mod golden;
#[path = "proto/golden_write.rs"]
mod golden_write;
#[path = "proto/loopback.rs"]
mod loopback;
