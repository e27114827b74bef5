//! Integration tests of strata-config: the kube-prometheus fixture, defaults, error
//! reporting, and agreement with promtool.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "config/defaults.rs"]
mod defaults;
#[path = "config/errors.rs"]
mod errors;
#[path = "config/fixture.rs"]
mod fixture;
#[path = "config/promtool.rs"]
mod promtool;

use std::path::PathBuf;

/// Path of a file under `tests/fixtures`.
pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Parses YAML with an empty environment.
pub fn parse(yaml: &str) -> strata_config::Result<strata_config::Config> {
    strata_config::parse_with_env(yaml, |_| String::new())
}

/// The error message for a YAML that must be rejected.
pub fn reject(yaml: &str) -> String {
    match parse(yaml) {
        Ok(_) => panic!("accepted:\n{yaml}"),
        Err(e) => e.to_string(),
    }
}
