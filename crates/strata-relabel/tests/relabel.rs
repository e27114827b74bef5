//! Integration tests of strata-relabel: Prometheus' relabel test table, validation cases
//! and property tests.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "relabel/props.rs"]
mod props;
#[path = "relabel/table.rs"]
mod table;
#[path = "relabel/validate.rs"]
mod validate;

use strata_model::Labels;
use strata_relabel::RelabelConfig;

/// Parses a YAML list of rules.
pub fn rules(yaml: &str) -> Vec<RelabelConfig> {
    serde_saphyr::from_str(yaml).unwrap_or_else(|e| panic!("rules do not parse: {e}\n{yaml}"))
}

/// Builds labels from pairs.
pub fn labels(pairs: &[(&str, &str)]) -> Labels {
    Labels::new(pairs).unwrap()
}
