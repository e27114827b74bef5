//! Thanos-compatible hashrings: which receiver stores (and replicates) which series.
//!
//! The hashrings file ([`config`]) lists rings, each with the tenants it serves, its
//! endpoints and its algorithm. [`build`] turns it into a [`MultiHashring`], which picks a
//! tenant's ring as Thanos does ([`multi`]); a ring places a series by
//! [`hash_series`] with [`hashmod`] or [`ketama`]. Placement matches Thanos receivers
//! exactly, so Strata and Thanos receivers can share a ring.
//!
//! Hot path: hash each series once with [`hash_series`] (or [`hash_series_pairs`] over
//! decoded request labels), pick the tenant's ring once per request with
//! [`MultiHashring::hashring_for_tenant`], then ask for replicas `0..replication_factor`
//! with [`Hashring::get_n_hashed`].

pub mod config;
mod glob;
mod hash;
pub mod hashmod;
mod json;
pub mod ketama;
pub mod multi;
pub mod single;

use std::fmt;
use std::path::Path;

use strata_model::Labels;

use crate::error::Result;

pub use config::{Algorithm, HashringConfig, TenantMatcherType, load_config_file, parse_config};
pub use glob::{BadPattern, GoGlob};
pub use hash::{hash_series, hash_series_pairs};
pub use hashmod::HashmodRing;
pub use ketama::{KetamaRing, SECTIONS_PER_NODE};
pub use multi::{MultiHashring, Ring, TenantHashring, build};
pub use single::SingleNodeRing;

/// A receiver in a ring.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Endpoint {
    /// `host:port` of its remote-write forwarding (gRPC in Thanos) server.
    pub address: String,
    /// Availability zone; empty when not set.
    pub az: String,
}

impl Endpoint {
    pub fn new(address: impl Into<String>) -> Self {
        Endpoint {
            address: address.into(),
            az: String::new(),
        }
    }

    pub fn with_az(address: impl Into<String>, az: impl Into<String>) -> Self {
        Endpoint {
            address: address.into(),
            az: az.into(),
        }
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.az.is_empty() {
            f.write_str(&self.address)
        } else {
            write!(f, "{} (az {})", self.address, self.az)
        }
    }
}

/// Finds the endpoints that should store a tenant's series.
pub trait Hashring: Send + Sync {
    /// Replica `n` (0-based) for a series whose [`hash_series`] is `hash`. Rings that
    /// route by tenant use `tenant`; single rings ignore it.
    fn get_n_hashed(&self, tenant: &str, hash: u64, n: u64) -> Result<&Endpoint>;

    /// Replica `n` of the series `labels` of `tenant`.
    fn get_n(&self, tenant: &str, labels: &Labels, n: u64) -> Result<&Endpoint> {
        self.get_n_hashed(tenant, hash_series(tenant, labels), n)
    }

    /// The ring's endpoints (see each implementation for the order; Thanos' `Nodes`).
    fn endpoints(&self) -> &[Endpoint];
}

/// Reads a hashrings file and builds its rings: [`load_config_file`] then [`build`].
pub fn load_file(
    path: impl AsRef<Path>,
    default_algorithm: Algorithm,
    replication_factor: u64,
) -> Result<MultiHashring> {
    build(
        &load_config_file(path)?,
        default_algorithm,
        replication_factor,
    )
}
