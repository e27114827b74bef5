//! Hashrings: placement identical to Thanos receivers, tenant routing, the file format.
//!
//! - `thanos`: the expectations of Thanos' `pkg/receive/hashring_test.go` and
//!   `config_test.go`, case by case;
//! - `golden`: placements computed by Thanos' own hashring code (Go, `hashring.go` and
//!   `labelpb.HashWithPrefix` at thanos-io/thanos e103a81) for rings of 1000 sections;
//! - `properties`: proptest over random rings;
//! - `files`: the hashrings file format and `load_file`.

use strata_model::Labels;
use strata_receive::hashring::{Endpoint, KetamaRing};

#[path = "hashring/files.rs"]
mod files;
#[path = "hashring/golden.rs"]
mod golden;
#[path = "hashring/properties.rs"]
mod properties;
#[path = "hashring/thanos.rs"]
mod thanos;

/// Labels from `name, value` pairs.
fn labels(pairs: &[(&str, &str)]) -> Labels {
    Labels::new(pairs).unwrap()
}

/// Endpoints without AZ.
fn endpoints(addresses: &[&str]) -> Vec<Endpoint> {
    addresses.iter().map(|a| Endpoint::new(*a)).collect()
}

/// Endpoints from `(address, az)` pairs.
fn zoned(spec: &[(&str, &str)]) -> Vec<Endpoint> {
    spec.iter()
        .map(|(a, z)| Endpoint::with_az(*a, *z))
        .collect()
}

/// A ketama ring with Thanos' 1000 sections per endpoint.
fn ketama(endpoints: Vec<Endpoint>, replication_factor: u64) -> KetamaRing {
    KetamaRing::new(endpoints, replication_factor).unwrap()
}
