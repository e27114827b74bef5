//! The ring of one endpoint that Thanos uses when no hashrings file is given
//! (`SingleNodeHashring`): every series goes to the local receiver.

use super::{Endpoint, Hashring};
use crate::error::{Error, Result};

/// One endpoint; only replica 0 exists.
#[derive(Debug, Clone)]
pub struct SingleNodeRing {
    endpoint: [Endpoint; 1],
}

impl SingleNodeRing {
    pub fn new(address: impl Into<String>) -> Self {
        SingleNodeRing {
            endpoint: [Endpoint::new(address)],
        }
    }
}

impl Hashring for SingleNodeRing {
    fn get_n_hashed(&self, _tenant: &str, _hash: u64, n: u64) -> Result<&Endpoint> {
        if n > 0 {
            return Err(Error::InsufficientNodes {
                have: 1,
                want: n + 1,
            });
        }
        Ok(&self.endpoint[0])
    }

    fn endpoints(&self) -> &[Endpoint] {
        &self.endpoint
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn only_replica_zero() {
        let r = SingleNodeRing::new("local:10901");
        assert_eq!(r.get_n_hashed("t", 42, 0).unwrap().address, "local:10901");
        assert_eq!(
            r.get_n_hashed("t", 42, 1).unwrap_err().to_string(),
            "insufficient nodes; have 1, want 2"
        );
        assert_eq!(r.endpoints().len(), 1);
    }
}
