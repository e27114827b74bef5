//! Hash maps keyed by series refs or label hashes: both are already well-distributed
//! 64-bit numbers, so one multiplication replaces SipHash.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Hasher for u64 keys that are already well distributed (series refs, label hashes).
#[derive(Default)]
pub(crate) struct RefHasher(u64);

impl Hasher for RefHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3);
        }
    }
    fn write_u64(&mut self, x: u64) {
        self.0 = x.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

/// A map keyed by series ref or label hash.
pub(crate) type RefMap<V> = HashMap<u64, V, BuildHasherDefault<RefHasher>>;
