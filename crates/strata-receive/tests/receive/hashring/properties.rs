//! Properties of ketama rings over random endpoints, zones and series.

use std::collections::HashSet;

use proptest::prelude::*;
use strata_receive::hashring::{Endpoint, Hashring, KetamaRing, hash_series};

use super::{ketama, labels};

/// `count` endpoints named after `salt`, zone `zone_of[i] % zones` ("" with one zone).
fn ring_endpoints(salt: u32, zone_of: &[usize], zones: usize) -> Vec<Endpoint> {
    zone_of
        .iter()
        .enumerate()
        .map(|(i, z)| {
            let az = if zones == 1 {
                String::new()
            } else {
                format!("zone-{}", z % zones)
            };
            Endpoint::with_az(format!("recv-{salt}-{i}.example:10901"), az)
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Replicas 0..rf are distinct endpoints, in distinct zones when there are at least rf
    /// zones; `replicas_hashed` lists the same endpoints as `get_n_hashed`.
    #[test]
    fn replicas_are_distinct_and_spread_over_zones(
        salt in any::<u32>(),
        zone_of in prop::collection::vec(0usize..4, 1..8),
        zones in 1usize..5,
        rf_seed in any::<usize>(),
        hashes in prop::collection::vec(any::<u64>(), 50),
    ) {
        let rf = (rf_seed % zone_of.len().min(4) + 1) as u64;
        let nodes = ring_endpoints(salt, &zone_of, zones);
        let distinct_zones: HashSet<&str> = nodes.iter().map(|e| e.az.as_str()).collect();
        let ring = match KetamaRing::new(nodes.clone(), rf) {
            Ok(ring) => ring,
            Err(e) => {
                // Only a zone layout that Thanos' even-spread rule cannot fill may fail.
                prop_assert!(distinct_zones.len() > 1 && distinct_zones.len() < rf as usize, "{e}");
                return Ok(());
            }
        };
        for hash in hashes {
            let replicas: Vec<&Endpoint> =
                (0..rf).map(|n| ring.get_n_hashed("t", hash, n).unwrap()).collect();
            let addresses: HashSet<&str> = replicas.iter().map(|e| e.address.as_str()).collect();
            prop_assert_eq!(addresses.len(), rf as usize);
            if distinct_zones.len() >= rf as usize {
                let zones: HashSet<&str> = replicas.iter().map(|e| e.az.as_str()).collect();
                prop_assert_eq!(zones.len(), rf as usize);
            }
            let listed: Vec<&Endpoint> = ring.replicas_hashed(hash).collect();
            prop_assert_eq!(listed, replicas);
        }
    }

    /// Adding an endpoint to N moves about 1/(N+1) of the series, all to the new endpoint.
    #[test]
    fn adding_an_endpoint_moves_its_share(salt in any::<u32>(), n in 2usize..10) {
        let before = ketama(ring_endpoints(salt, &vec![0; n], 1), 1);
        let after = ketama(ring_endpoints(salt, &vec![0; n + 1], 1), 1);
        let newcomer = &after.endpoints()[n];
        let series = 4000;
        let mut moved = 0;
        for i in 0..series {
            let hash = hash_series("tenant", &labels(&[("series", &i.to_string())]));
            let old = before.get_n_hashed("tenant", hash, 0).unwrap();
            let new = after.get_n_hashed("tenant", hash, 0).unwrap();
            if old != new {
                prop_assert_eq!(new, newcomer);
                moved += 1;
            }
        }
        let expected = series as f64 / (n + 1) as f64;
        let ratio = moved as f64 / expected;
        prop_assert!((0.7..1.3).contains(&ratio), "moved {moved}, expected about {expected}");
    }
}
