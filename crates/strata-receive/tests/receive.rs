//! Integration tests of strata-receive, one module per concern.
//!
//! Modules are `#[cfg(test)]` so that clippy's allow-unwrap-in-tests covers their helpers.

#[cfg(test)]
#[path = "receive/hashring.rs"]
mod hashring;
