//! The in-memory series of the agent: labels (as ids of interned label pairs, see
//! [`super::pairs`]) and the newest sample timestamp, found by series ref or by label hash. Lock stripes keep
//! concurrent scrapers apart; appends take only read locks.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering};

use parking_lot::RwLock;
use strata_model::Labels;

use super::pairs::{PairIds, PairTable};

const STRIPES: usize = 256;

/// Hasher for keys that are already integers: refs (sequential) and label hashes.
#[derive(Default)]
pub(crate) struct IntHasher(u64);

impl Hasher for IntHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_u64(&mut self, x: u64) {
        // Odd multiplier: a bijection that spreads sequential refs over the high bits
        // hashbrown uses for its control bytes.
        self.0 = x.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

pub(crate) type IntMap<V> = HashMap<u64, V, BuildHasherDefault<IntHasher>>;

/// One series.
pub(crate) struct Entry {
    pub pairs: PairIds,
    /// Newest accepted sample timestamp (`i64::MIN` before the first).
    pub last_ts: AtomicI64,
}

/// Label hash → refs of one stripe. Almost every hash has one series, kept in `first`
/// (16 bytes per entry); the rare others with the same hash go to `more`.
#[derive(Default)]
struct HashStripe {
    first: IntMap<u64>,
    more: IntMap<Vec<u64>>,
}

impl HashStripe {
    fn refs(&self, hash: u64) -> impl Iterator<Item = u64> + '_ {
        let more = if self.more.is_empty() {
            None
        } else {
            self.more.get(&hash)
        };
        self.first
            .get(&hash)
            .copied()
            .into_iter()
            .chain(more.into_iter().flatten().copied())
    }

    fn insert(&mut self, hash: u64, r: u64) {
        match self.first.entry(hash) {
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(r);
            }
            std::collections::hash_map::Entry::Occupied(_) => {
                self.more.entry(hash).or_default().push(r);
            }
        }
    }

    fn remove(&mut self, hash: u64, r: u64) {
        if self.first.get(&hash) == Some(&r) {
            let promoted = self.more.get_mut(&hash).and_then(Vec::pop);
            match promoted {
                Some(p) => {
                    self.first.insert(hash, p);
                }
                None => {
                    self.first.remove(&hash);
                }
            }
        } else if let Some(v) = self.more.get_mut(&hash) {
            v.retain(|&x| x != r);
        }
        if self.more.get(&hash).is_some_and(Vec::is_empty) {
            self.more.remove(&hash);
        }
    }
}

/// Why a sample was refused by [`SeriesMap::bump`].
pub(crate) enum Bump {
    /// Accepted; the previous newest timestamp.
    Ok(i64),
    /// Not after the newest timestamp.
    OutOfOrder(i64),
    /// No series with that ref.
    Missing,
}

/// One lock stripe on its own cache lines: readers of neighbouring stripes on other
/// cores do not invalidate each other's lock word.
#[repr(align(128))]
struct Padded<T>(T);

impl<T> std::ops::Deref for Padded<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

/// Bits of a ref below its stripe number: runs of 256 consecutive refs share a stripe.
const RUN_BITS: u32 = 8;

/// Hasher of refs within their stripe: the ref without its stripe bits, so that
/// consecutive refs (a target's series, created in the order of its lines) sit in
/// consecutive buckets and a scrape walks the table almost sequentially.
#[derive(Default)]
pub(crate) struct RefHasher(u64);

impl Hasher for RefHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_u64(&mut self, r: u64) {
        let stripe_bits = STRIPES.trailing_zeros();
        let low = r & ((1 << RUN_BITS) - 1);
        self.0 = ((r >> (RUN_BITS + stripe_bits)) << RUN_BITS) | low;
    }
}

type RefMap = HashMap<u64, Entry, BuildHasherDefault<RefHasher>>;

pub(crate) struct SeriesMap {
    by_ref: Box<[Padded<RwLock<RefMap>>]>,
    by_hash: Box<[Padded<RwLock<HashStripe>>]>,
    /// Taken after the stripe locks, never before.
    pairs: RwLock<PairTable>,
    next_ref: AtomicU64,
    count: AtomicUsize,
}

/// The stripe of a label hash.
fn stripe(x: u64) -> usize {
    (x as usize) & (STRIPES - 1)
}

/// The stripe of a series ref.
fn ref_stripe(r: u64) -> usize {
    ((r >> RUN_BITS) as usize) & (STRIPES - 1)
}

impl SeriesMap {
    pub fn new() -> Self {
        SeriesMap {
            by_ref: (0..STRIPES)
                .map(|_| Padded(RwLock::new(RefMap::default())))
                .collect(),
            by_hash: (0..STRIPES)
                .map(|_| Padded(RwLock::new(HashStripe::default())))
                .collect(),
            pairs: RwLock::new(PairTable::default()),
            next_ref: AtomicU64::new(0),
            count: AtomicUsize::new(0),
        }
    }

    pub fn len(&self) -> usize {
        self.count.load(Ordering::Relaxed)
    }

    /// Raises the ref counter so new series get refs above `r`.
    pub fn note_ref(&self, r: u64) {
        self.next_ref.fetch_max(r, Ordering::Relaxed);
    }

    pub fn labels(&self, r: u64) -> Option<Labels> {
        let stripe = self.by_ref[ref_stripe(r)].read();
        let e = stripe.get(&r)?;
        Some(self.pairs.read().labels(&e.pairs))
    }

    pub fn contains(&self, r: u64) -> bool {
        self.by_ref[ref_stripe(r)].read().contains_key(&r)
    }

    /// Accepts timestamp `t` for series `r` if it is after the newest one.
    pub fn bump(&self, r: u64, t: i64) -> Bump {
        let stripe = self.by_ref[ref_stripe(r)].read();
        let Some(e) = stripe.get(&r) else {
            return Bump::Missing;
        };
        bump_entry(e, t)
    }

    /// Puts back `prev` as the newest timestamp of `r` if it is still `t` (rollback).
    pub fn restore(&self, r: u64, t: i64, prev: i64) {
        if let Some(e) = self.by_ref[ref_stripe(r)].read().get(&r) {
            let _ = e
                .last_ts
                .compare_exchange(t, prev, Ordering::Relaxed, Ordering::Relaxed);
        }
    }

    /// Raises the newest timestamp of `r` to `t` (replay).
    pub fn observe(&self, r: u64, t: i64) -> bool {
        match self.by_ref[ref_stripe(r)].read().get(&r) {
            Some(e) => {
                e.last_ts.fetch_max(t, Ordering::Relaxed);
                true
            }
            None => false,
        }
    }

    fn find(&self, mut refs: impl Iterator<Item = u64>, labels: &Labels) -> Option<u64> {
        refs.find(|&r| {
            self.by_ref[ref_stripe(r)]
                .read()
                .get(&r)
                .is_some_and(|e| self.pairs.read().matches(&e.pairs, labels))
        })
    }

    /// The ref of the series with `labels`, creating it (with the next ref, or with
    /// `want_ref` during replay) if there is none. Returns the ref and whether it is new.
    pub fn get_or_create(&self, labels: &Labels, want_ref: Option<u64>) -> (u64, bool) {
        let hash = labels.hash();
        let hstripe = &self.by_hash[stripe(hash)];
        if let Some(r) = self.find(hstripe.read().refs(hash), labels) {
            return (r, false);
        }
        let mut hmap = hstripe.write();
        if let Some(r) = self.find(hmap.refs(hash), labels) {
            return (r, false);
        }
        let r = match want_ref {
            Some(r) => {
                self.note_ref(r);
                r
            }
            None => self.next_ref.fetch_add(1, Ordering::Relaxed) + 1,
        };
        let pairs = self.pairs.write().intern(labels);
        let old = self.by_ref[ref_stripe(r)].write().insert(
            r,
            Entry {
                pairs,
                last_ts: AtomicI64::new(i64::MIN),
            },
        );
        if let Some(old) = old {
            // Replay with a ref already taken by other labels (not written by us).
            self.pairs.write().release(&old.pairs);
        }
        hmap.insert(hash, r);
        self.count.fetch_add(1, Ordering::Relaxed);
        (r, true)
    }

    /// Removes the series whose newest sample is before `mint`; returns how many.
    pub fn gc(&self, mint: i64) -> usize {
        let mut removed = 0;
        for s in 0..STRIPES {
            let stale: Vec<(u64, u64)> = self.by_ref[s]
                .read()
                .iter()
                .filter(|(_, e)| e.last_ts.load(Ordering::Relaxed) < mint)
                .map(|(&r, e)| (r, self.pairs.read().labels(&e.pairs).hash()))
                .collect();
            for (r, hash) in stale {
                let mut hmap = self.by_hash[stripe(hash)].write();
                let mut rmap = self.by_ref[s].write();
                let still_stale = rmap
                    .get(&r)
                    .is_some_and(|e| e.last_ts.load(Ordering::Relaxed) < mint);
                if !still_stale {
                    continue;
                }
                if let Some(e) = rmap.remove(&r) {
                    self.pairs.write().release(&e.pairs);
                }
                hmap.remove(hash, r);
                removed += 1;
                self.count.fetch_sub(1, Ordering::Relaxed);
            }
        }
        removed
    }
}

fn bump_entry(e: &Entry, t: i64) -> Bump {
    let mut last = e.last_ts.load(Ordering::Relaxed);
    loop {
        if t <= last {
            return Bump::OutOfOrder(last);
        }
        match e
            .last_ts
            .compare_exchange_weak(last, t, Ordering::Relaxed, Ordering::Relaxed)
        {
            Ok(_) => return Bump::Ok(last),
            Err(now) => last = now,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn l(v: &str) -> Labels {
        Labels::new(&[("__name__", "m"), ("i", v)]).unwrap()
    }

    #[test]
    fn create_find_bump_gc() {
        let m = SeriesMap::new();
        let (a, new) = m.get_or_create(&l("a"), None);
        assert!(new);
        assert_eq!(m.get_or_create(&l("a"), None), (a, false));
        let (b, _) = m.get_or_create(&l("b"), None);
        assert_ne!(a, b);
        assert!(matches!(m.bump(a, 10), Bump::Ok(i64::MIN)));
        assert!(matches!(m.bump(a, 10), Bump::OutOfOrder(10)));
        assert!(matches!(m.bump(a, 11), Bump::Ok(10)));
        m.restore(a, 11, 10);
        assert!(matches!(m.bump(a, 11), Bump::Ok(10)));
        assert!(matches!(m.bump(999, 1), Bump::Missing));
        assert!(matches!(m.bump(b, 5), Bump::Ok(_)));
        assert_eq!(m.gc(6), 1);
        assert!(!m.contains(b));
        assert!(m.contains(a));
        assert_eq!(m.len(), 1);
        // Re-created with a new ref.
        let (b2, new) = m.get_or_create(&l("b"), None);
        assert!(new && b2 > b);
    }

    #[test]
    fn series_sharing_a_label_hash() {
        let mut h = HashStripe::default();
        h.insert(7, 1);
        h.insert(7, 2);
        h.insert(7, 3);
        assert_eq!(h.refs(7).collect::<Vec<_>>(), [1, 2, 3]);
        h.remove(7, 1);
        assert_eq!(h.refs(7).collect::<Vec<_>>(), [3, 2]);
        h.remove(7, 2);
        assert_eq!(h.refs(7).collect::<Vec<_>>(), [3]);
        assert!(h.more.is_empty());
        h.remove(7, 3);
        assert_eq!(h.refs(7).count(), 0);
        assert!(h.first.is_empty());
    }

    #[test]
    fn consecutive_refs_get_consecutive_keys_within_a_stripe() {
        let key = |r: u64| {
            let mut h = RefHasher::default();
            h.write_u64(r);
            h.finish()
        };
        let mut seen = std::collections::HashSet::new();
        for r in 0..200_000u64 {
            assert!(seen.insert((ref_stripe(r), key(r))), "ref {r} collides");
        }
        assert_eq!(ref_stripe(1000), ref_stripe(1001));
        assert_eq!(key(1001), key(1000) + 1);
    }

    #[test]
    fn replay_refs_raise_the_counter() {
        let m = SeriesMap::new();
        assert_eq!(m.get_or_create(&l("a"), Some(41)), (41, true));
        assert_eq!(m.get_or_create(&l("b"), None).0, 42);
    }
}
