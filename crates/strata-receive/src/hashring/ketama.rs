//! The ketama ring (Thanos' `ketamaHashring`): consistent hashing that moves only about
//! 1/(N+1) of the series when an endpoint joins, with replicas spread over AZs.
//!
//! Each endpoint owns [`SECTIONS_PER_NODE`] points on a 64-bit circle: section `i`
//! (counting from one) of an endpoint sits at `xxh64(address + ":" + i)`. A series goes to the first section
//! at or after its hash (wrapping to the first section). Every section precomputes its
//! replica list by walking clockwise from itself (Thanos' `calculateSectionReplicas`):
//! an endpoint already in the list is skipped, and when there is more than one AZ so is an
//! endpoint whose AZ already holds more replicas than the least used AZ.

use xxhash_rust::xxh64::xxh64;

use super::{Endpoint, Hashring};
use crate::error::{Error, Result};

/// Sections per endpoint in Thanos (`SectionsPerNode`).
pub const SECTIONS_PER_NODE: usize = 1000;

/// A ketama ring with replicas precomputed for one replication factor.
#[derive(Debug, Clone)]
pub struct KetamaRing {
    /// As configured: the replica lists refer to these positions.
    endpoints: Vec<Endpoint>,
    /// Section positions, ascending.
    hashes: Vec<u64>,
    /// `replication_factor` endpoint indices per section, in section order.
    replicas: Vec<u32>,
    replication_factor: usize,
}

impl KetamaRing {
    /// Thanos' ring: [`SECTIONS_PER_NODE`] sections per endpoint.
    pub fn new(endpoints: Vec<Endpoint>, replication_factor: u64) -> Result<Self> {
        Self::with_sections(endpoints, SECTIONS_PER_NODE, replication_factor)
    }

    /// A ring with another number of sections per endpoint (Thanos' tests use 10).
    /// Errors when there are fewer endpoints than `replication_factor`, when the factor or
    /// the section count is zero, and when the replicas cannot be spread over the AZs
    /// (Thanos loops forever there).
    pub fn with_sections(
        endpoints: Vec<Endpoint>,
        sections_per_node: usize,
        replication_factor: u64,
    ) -> Result<Self> {
        if replication_factor == 0 {
            return Err(Error::HashringConfig(
                "ketama: replication factor must be at least 1".into(),
            ));
        }
        if (endpoints.len() as u64) < replication_factor {
            return Err(Error::HashringConfig(format!(
                "ketama: amount of endpoints needs to be larger than replication factor \
                 (have {} endpoints, replication factor {replication_factor})",
                endpoints.len()
            )));
        }
        if sections_per_node == 0 {
            return Err(Error::HashringConfig(
                "ketama: sections per endpoint must be at least 1".into(),
            ));
        }
        let rf = usize::try_from(replication_factor).map_err(|_| {
            Error::HashringConfig(format!(
                "ketama: replication factor {replication_factor} is too large"
            ))
        })?;
        let sections = sections(&endpoints, sections_per_node)?;
        let replicas = section_replicas(&endpoints, &sections, rf)?;
        Ok(KetamaRing {
            hashes: sections.iter().map(|s| s.0).collect(),
            endpoints,
            replicas,
            replication_factor: rf,
        })
    }

    /// The replication factor the replicas were computed for.
    pub fn replication_factor(&self) -> u64 {
        self.replication_factor as u64
    }

    /// All replicas of the series with this hash, in replica order (`n` = 0, 1, …): one
    /// search instead of one per replica.
    pub fn replicas_hashed(&self, hash: u64) -> impl Iterator<Item = &Endpoint> + '_ {
        let start = self.section_of(hash) * self.replication_factor;
        self.replicas
            .get(start..start + self.replication_factor)
            .unwrap_or_default()
            .iter()
            .filter_map(|&i| self.endpoints.get(i as usize))
    }

    /// The index of the first section at or after `hash`, wrapping to 0.
    fn section_of(&self, hash: u64) -> usize {
        let i = self.hashes.partition_point(|&h| h < hash);
        if i == self.hashes.len() { 0 } else { i }
    }
}

impl Hashring for KetamaRing {
    fn get_n_hashed(&self, _tenant: &str, hash: u64, n: u64) -> Result<&Endpoint> {
        let have = self.endpoints.len() as u64;
        if n >= have {
            return Err(Error::InsufficientNodes { have, want: n + 1 });
        }
        let out_of_range = || Error::ReplicaOutOfRange {
            n,
            replication_factor: self.replication_factor as u64,
        };
        let n = usize::try_from(n).map_err(|_| out_of_range())?;
        if n >= self.replication_factor {
            return Err(out_of_range());
        }
        let at = self.section_of(hash) * self.replication_factor + n;
        self.replicas
            .get(at)
            .and_then(|&i| self.endpoints.get(i as usize))
            .ok_or_else(out_of_range)
    }

    fn endpoints(&self) -> &[Endpoint] {
        &self.endpoints
    }
}

/// `(position, endpoint index)` of every section, sorted by position.
fn sections(endpoints: &[Endpoint], per_node: usize) -> Result<Vec<(u64, u32)>> {
    let mut sections = Vec::with_capacity(endpoints.len().saturating_mul(per_node));
    let mut key = String::new();
    for (index, endpoint) in endpoints.iter().enumerate() {
        let index = u32::try_from(index)
            .map_err(|_| Error::HashringConfig("ketama: too many endpoints".into()))?;
        for i in 1..=per_node {
            key.clear();
            key.push_str(&endpoint.address);
            key.push(':');
            key.push_str(&i.to_string());
            sections.push((xxh64(key.as_bytes(), 0), index));
        }
    }
    sections.sort_unstable();
    Ok(sections)
}

/// The replica lists of all sections, `rf` entries each.
fn section_replicas(
    endpoints: &[Endpoint],
    sections: &[(u64, u32)],
    rf: usize,
) -> Result<Vec<u32>> {
    let mut zones: Vec<&str> = endpoints.iter().map(|e| e.az.as_str()).collect();
    zones.sort_unstable();
    zones.dedup();
    let zone_of: Vec<usize> = endpoints
        .iter()
        .map(|e| zones.binary_search(&e.az.as_str()).unwrap_or(0))
        .collect();
    let zone_aware = zones.len() > 1;

    let mut replicas = Vec::with_capacity(sections.len().saturating_mul(rf));
    let mut chosen: Vec<u32> = Vec::with_capacity(rf);
    let mut spread = vec![0u64; zones.len()];
    for start in 0..sections.len() {
        chosen.clear();
        spread.fill(0);
        let mut j = start;
        let mut skipped_in_a_row = 0;
        while chosen.len() < rf {
            let endpoint = sections[j].1;
            j = (j + 1) % sections.len();
            let zone = zone_of.get(endpoint as usize).copied().unwrap_or(0);
            let least = spread.iter().copied().min().unwrap_or(0);
            let skip = chosen.contains(&endpoint) || (zone_aware && spread[zone] > least);
            if skip {
                skipped_in_a_row += 1;
                if skipped_in_a_row > sections.len() {
                    return Err(uneven_zones(endpoints, &zones, &zone_of, rf));
                }
                continue;
            }
            skipped_in_a_row = 0;
            chosen.push(endpoint);
            spread[zone] += 1;
        }
        replicas.extend_from_slice(&chosen);
    }
    Ok(replicas)
}

/// The error for zone layouts where Thanos' even-spread rule cannot place `rf` replicas
/// (no AZ may get a replica while it holds more than the least used AZ).
fn uneven_zones(endpoints: &[Endpoint], zones: &[&str], zone_of: &[usize], rf: usize) -> Error {
    let counts: Vec<String> = zones
        .iter()
        .enumerate()
        .map(|(z, name)| {
            let n = zone_of.iter().filter(|&&of| of == z).count();
            format!("{name:?}: {n}")
        })
        .collect();
    Error::HashringConfig(format!(
        "ketama: cannot spread {rf} replicas evenly over the availability zones of {} endpoints \
         ({}): a zone may only take another replica while it holds no more than the least \
         used zone",
        endpoints.len(),
        counts.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn eps(spec: &[(&str, &str)]) -> Vec<Endpoint> {
        spec.iter()
            .map(|(a, z)| Endpoint::with_az(*a, *z))
            .collect()
    }

    #[test]
    fn section_positions_start_at_one() {
        let ring = KetamaRing::with_sections(eps(&[("node-1", "")]), 3, 1).unwrap();
        let mut want: Vec<u64> = (1..=3)
            .map(|i| xxh64(format!("node-1:{i}").as_bytes(), 0))
            .collect();
        want.sort_unstable();
        assert_eq!(ring.hashes, want);
    }

    #[test]
    fn replicas_are_distinct_and_zone_spread() {
        let ring = KetamaRing::new(
            eps(&[
                ("a", "1"),
                ("b", "2"),
                ("c", "3"),
                ("d", "1"),
                ("e", "2"),
                ("f", "3"),
            ]),
            3,
        )
        .unwrap();
        for s in 0..ring.hashes.len() {
            let r = &ring.replicas[s * 3..s * 3 + 3];
            let mut zones: Vec<&str> = r
                .iter()
                .map(|&i| ring.endpoints[i as usize].az.as_str())
                .collect();
            zones.sort_unstable();
            assert_eq!(zones, ["1", "2", "3"]);
        }
    }

    #[test]
    fn errors() {
        let too_few = KetamaRing::new(eps(&[("a", "")]), 2)
            .unwrap_err()
            .to_string();
        assert!(too_few.contains("amount of endpoints needs to be larger than replication factor"));
        assert!(KetamaRing::new(eps(&[("a", "")]), 0).is_err());
        assert!(KetamaRing::with_sections(eps(&[("a", "")]), 0, 1).is_err());
        // Three endpoints in zone A and one in B: Thanos' rule never places a fourth replica.
        let stuck = KetamaRing::with_sections(
            eps(&[("a1", "A"), ("a2", "A"), ("a3", "A"), ("b1", "B")]),
            10,
            4,
        )
        .unwrap_err()
        .to_string();
        assert!(stuck.contains("cannot spread 4 replicas"), "{stuck}");
        // With three replicas the same layout works: A, B, A.
        KetamaRing::with_sections(
            eps(&[("a1", "A"), ("a2", "A"), ("a3", "A"), ("b1", "B")]),
            10,
            3,
        )
        .unwrap();
    }

    #[test]
    fn replica_out_of_range() {
        let ring =
            KetamaRing::with_sections(eps(&[("a", ""), ("b", ""), ("c", "")]), 10, 2).unwrap();
        assert!(matches!(
            ring.get_n_hashed("", 0, 2),
            Err(Error::ReplicaOutOfRange {
                n: 2,
                replication_factor: 2
            })
        ));
        assert!(matches!(
            ring.get_n_hashed("", 0, 3),
            Err(Error::InsufficientNodes { have: 3, want: 4 })
        ));
        let all: Vec<&Endpoint> = ring.replicas_hashed(12345).collect();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0], ring.get_n_hashed("", 12345, 0).unwrap());
        assert_eq!(all[1], ring.get_n_hashed("", 12345, 1).unwrap());
    }

    #[test]
    fn hash_past_the_last_section_wraps() {
        let ring = KetamaRing::with_sections(eps(&[("a", ""), ("b", "")]), 5, 1).unwrap();
        let first = ring.replicas[0];
        assert_eq!(
            ring.get_n_hashed("", u64::MAX, 0).unwrap(),
            &ring.endpoints[first as usize]
        );
    }
}
