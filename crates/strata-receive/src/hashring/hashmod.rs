//! The hashmod ring (Thanos' `simpleHashring`): replica `n` of a series is
//! `endpoints[(hash + n) % len]`, endpoints sorted by address. Adding an endpoint moves
//! almost every series; ketama is the better choice for new installations.

use super::{Endpoint, Hashring};
use crate::error::{Error, Result};

/// Endpoints sorted by address.
#[derive(Debug, Clone)]
pub struct HashmodRing {
    endpoints: Vec<Endpoint>,
}

impl HashmodRing {
    /// Builds the ring. Endpoints with an AZ are rejected, as in Thanos.
    pub fn new(mut endpoints: Vec<Endpoint>) -> Result<Self> {
        if endpoints.iter().any(|e| !e.az.is_empty()) {
            return Err(Error::HashringConfig(
                "Hashmod algorithm does not support AZ aware hashring configuration. \
                 Either use Ketama or remove AZ configuration."
                    .into(),
            ));
        }
        endpoints.sort();
        Ok(HashmodRing { endpoints })
    }
}

impl Hashring for HashmodRing {
    fn get_n_hashed(&self, _tenant: &str, hash: u64, n: u64) -> Result<&Endpoint> {
        let len = self.endpoints.len() as u64;
        if n >= len {
            return Err(Error::InsufficientNodes {
                have: len,
                want: n + 1,
            });
        }
        let index = hash.wrapping_add(n) % len;
        usize::try_from(index)
            .ok()
            .and_then(|i| self.endpoints.get(i))
            .ok_or(Error::InsufficientNodes {
                have: len,
                want: n + 1,
            })
    }

    fn endpoints(&self) -> &[Endpoint] {
        &self.endpoints
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn ring(addresses: &[&str]) -> HashmodRing {
        HashmodRing::new(addresses.iter().map(|a| Endpoint::new(*a)).collect()).unwrap()
    }

    #[test]
    fn sorts_by_address_and_walks_forward() {
        let r = ring(&["c", "a", "b"]);
        let order: Vec<&str> = r.endpoints().iter().map(|e| e.address.as_str()).collect();
        assert_eq!(order, ["a", "b", "c"]);
        assert_eq!(r.get_n_hashed("", 4, 0).unwrap().address, "b");
        assert_eq!(r.get_n_hashed("", 4, 1).unwrap().address, "c");
        assert_eq!(r.get_n_hashed("", 4, 2).unwrap().address, "a");
        // hash + n wraps around like Go's uint64 addition.
        assert_eq!(r.get_n_hashed("", u64::MAX, 1).unwrap().address, "a");
    }

    #[test]
    fn too_few_nodes() {
        let r = ring(&["a", "b"]);
        assert_eq!(
            r.get_n_hashed("", 0, 2).unwrap_err().to_string(),
            "insufficient nodes; have 2, want 3"
        );
        let empty = ring(&[]);
        assert!(matches!(
            empty.get_n_hashed("", 0, 0),
            Err(Error::InsufficientNodes { have: 0, want: 1 })
        ));
    }

    #[test]
    fn rejects_azs() {
        let err = HashmodRing::new(vec![Endpoint::with_az("a", "1")]).unwrap_err();
        assert!(
            err.to_string()
                .contains("Hashmod algorithm does not support AZ aware")
        );
    }
}
