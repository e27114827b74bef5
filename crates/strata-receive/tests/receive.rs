//! Integration tests of strata-receive, one module per concern.
//!
//! Modules are `#[cfg(test)]` so that clippy's allow-unwrap-in-tests covers their helpers.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[cfg(test)]
#[path = "receive/hashring.rs"]
mod hashring;

#[cfg(test)]
#[path = "receive/http.rs"]
mod http;

#[cfg(test)]
#[path = "receive/rw2.rs"]
mod rw2;
