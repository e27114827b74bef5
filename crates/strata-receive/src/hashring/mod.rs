//! Thanos-compatible hashrings (placeholder API until the real rings land).

use strata_model::Labels;

use crate::error::{Error, Result};

/// An endpoint of a hashring.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub address: String,
    pub az: String,
}

/// The rings of a hashrings file.
#[derive(Debug, Default)]
pub struct MultiHashring {
    endpoints: Vec<Endpoint>,
}

impl MultiHashring {
    /// The `n`th replica of the series.
    pub fn get_n(&self, _tenant: &str, _labels: &Labels, n: u64) -> Result<&Endpoint> {
        self.endpoints
            .get(n as usize)
            .ok_or_else(|| Error::HashringConfig("no endpoint".into()))
    }
}
