//! The per-target scrape cache (Prometheus' `scrapeCache`): series text → storage
//! reference, series text dropped by relabeling, and the series of the
//! current and previous scrape for staleness markers.
//!
//! Entries live in a slab addressed by index so the staleness lists are plain index
//! vectors: a steady-state scrape (every series already cached) allocates nothing.
//!
//! Series texts are not kept: a text is known by 96 bits of its seeded XXH3-128 hash (64
//! bits index a map, 32 more confirm the entry), which takes a fraction of the memory of
//! the text itself. Two texts whose index halves collide are told apart by keeping the
//! later one by its full text.
//!
//! Nor are the series' final labels kept (Prometheus keeps them): the storage knows them
//! by reference. When it no longer does (it dropped the series), the scrape loop derives
//! the labels from the line again.

use std::collections::hash_map::Entry as MapEntry;
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};

/// XXH3 over the key bytes with a per-cache random seed.
#[derive(Clone, Copy)]
pub struct SeededXxh3(u64);

impl SeededXxh3 {
    fn new() -> Self {
        SeededXxh3(std::collections::hash_map::RandomState::new().hash_one(0x5eed_u64))
    }
}

pub struct Xxh3Hasher(u64);

impl Hasher for Xxh3Hasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0 = xxhash_rust::xxh3::xxh3_64_with_seed(bytes, self.0);
    }
    fn write_u8(&mut self, i: u8) {
        self.0 = (self.0 ^ u64::from(i)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

impl BuildHasher for SeededXxh3 {
    type Hasher = Xxh3Hasher;
    fn build_hasher(&self) -> Xxh3Hasher {
        Xxh3Hasher(self.0)
    }
}

/// Hasher of keys that are already uniformly distributed hashes.
#[derive(Default)]
pub struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }
    fn write_u64(&mut self, x: u64) {
        self.0 = x;
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

/// A map keyed by series text that stores the text's 128-bit hash instead of the text.
struct TextMap<V> {
    seed: u64,
    /// First hash half → (32 bits of the second half, value).
    main: HashMap<u64, (u32, V), BuildHasherDefault<KeyHasher>>,
    /// Texts whose first half is taken by another text (practically never).
    overflow: HashMap<Box<str>, V, SeededXxh3>,
}

impl<V> TextMap<V> {
    fn new(seed: SeededXxh3) -> Self {
        TextMap {
            seed: seed.0,
            main: HashMap::default(),
            overflow: HashMap::with_hasher(seed),
        }
    }

    fn hash(&self, text: &str) -> (u64, u32) {
        let h = xxhash_rust::xxh3::xxh3_128_with_seed(text.as_bytes(), self.seed);
        (h as u64, (h >> 64) as u32)
    }

    fn len(&self) -> usize {
        self.main.len() + self.overflow.len()
    }

    fn get_mut(&mut self, text: &str) -> Option<&mut V> {
        let (key, check) = self.hash(text);
        if self.overflow.is_empty() {
            return match self.main.get_mut(&key) {
                Some((c, v)) if *c == check => Some(v),
                _ => None,
            };
        }
        match self.main.get_mut(&key) {
            Some((c, v)) if *c == check => Some(v),
            _ => self.overflow.get_mut(text),
        }
    }

    /// Inserts or replaces; returns the value replaced.
    fn insert(&mut self, text: &str, v: V) -> Option<V> {
        let (key, check) = self.hash(text);
        match self.main.entry(key) {
            MapEntry::Vacant(e) => {
                e.insert((check, v));
                None
            }
            MapEntry::Occupied(mut e) if e.get().0 == check => {
                Some(std::mem::replace(&mut e.get_mut().1, v))
            }
            MapEntry::Occupied(_) => self.overflow.insert(text.into(), v),
        }
    }

    fn retain(&mut self, mut keep: impl FnMut(&mut V) -> bool) {
        self.main.retain(|_, (_, v)| keep(v));
        self.overflow.retain(|_, v| keep(v));
    }
}

/// Scrape iterations of one target (wrapping; 4 billion scrapes apart never meet).
type Iter = u32;

/// One cached series.
#[derive(Debug, Clone)]
pub struct CacheEntry {
    pub series_ref: u64,
    /// Last scrape iteration the series text was seen in.
    last_iter: Iter,
    /// Iteration in which it was recorded for staleness tracking.
    tracked_iter: Iter,
}

/// The cache of one target; survives reloads that do not change how samples map to
/// series.
pub struct ScrapeCache {
    iter: Iter,
    successful_count: usize,
    index: TextMap<u32>,
    slots: Vec<CacheEntry>,
    free: Vec<u32>,
    dropped: TextMap<Iter>,
    cur: Vec<u32>,
    prev: Vec<u32>,
    scratch_refs: HashSet<u64>,
}

impl Default for ScrapeCache {
    fn default() -> Self {
        ScrapeCache::new()
    }
}

impl std::fmt::Debug for ScrapeCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScrapeCache")
            .field("iter", &self.iter)
            .field("series", &self.index.len())
            .field("dropped", &self.dropped.len())
            .finish()
    }
}

impl ScrapeCache {
    pub fn new() -> Self {
        let h = SeededXxh3::new();
        ScrapeCache {
            iter: 0,
            successful_count: 0,
            index: TextMap::new(h),
            slots: Vec::new(),
            free: Vec::new(),
            dropped: TextMap::new(h),
            cur: Vec::new(),
            prev: Vec::new(),
            scratch_refs: HashSet::new(),
        }
    }

    /// Number of cached series texts.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.index.len() == 0
    }

    /// The entry of `text`, marking it seen; the flag says it was already seen in this
    /// scrape (a duplicate line).
    pub fn get(&mut self, text: &str) -> Option<(u32, bool)> {
        let idx = *self.index.get_mut(text)?;
        let e = &mut self.slots[idx as usize];
        let again = e.last_iter == self.iter;
        e.last_iter = self.iter;
        Some((idx, again))
    }

    pub fn entry(&self, idx: u32) -> &CacheEntry {
        &self.slots[idx as usize]
    }

    /// Points an entry at a new storage reference.
    pub fn update_ref(&mut self, idx: u32, series_ref: u64) {
        self.slots[idx as usize].series_ref = series_ref;
    }

    /// Caches a new series text.
    pub fn add(&mut self, text: &str, series_ref: u64) -> u32 {
        let e = CacheEntry {
            series_ref,
            last_iter: self.iter,
            tracked_iter: self.iter.wrapping_sub(1),
        };
        let idx = match self.free.pop() {
            Some(i) => {
                self.slots[i as usize] = e;
                i
            }
            None => {
                self.slots.push(e);
                (self.slots.len() - 1) as u32
            }
        };
        if let Some(old) = self.index.insert(text, idx) {
            // Not reachable through the scrape loop, which looks up before adding.
            self.free.push(old);
        }
        idx
    }

    /// True (and marked seen) if relabeling dropped `text` before.
    pub fn is_dropped(&mut self, text: &str) -> bool {
        match self.dropped.get_mut(text) {
            Some(it) => {
                *it = self.iter;
                true
            }
            None => false,
        }
    }

    pub fn add_dropped(&mut self, text: &str) {
        self.dropped.insert(text, self.iter);
    }

    /// Records that the entry's series got a sample in this scrape.
    pub fn track(&mut self, idx: u32) {
        let e = &mut self.slots[idx as usize];
        if e.tracked_iter != self.iter {
            e.tracked_iter = self.iter;
            self.cur.push(idx);
        }
    }

    /// Refs of the series of the previous scrape that got no sample in this one. A
    /// reference shared with a series seen now is not stale.
    pub fn stale_series(&mut self) -> Vec<u64> {
        let iter = self.iter;
        let slots = &self.slots;
        let n = self
            .prev
            .iter()
            .filter(|i| slots[**i as usize].tracked_iter != iter)
            .count();
        if n == 0 {
            return Vec::new();
        }
        self.scratch_refs.clear();
        for i in &self.cur {
            self.scratch_refs.insert(slots[*i as usize].series_ref);
        }
        let mut out = Vec::with_capacity(n);
        for i in &self.prev {
            let e = &slots[*i as usize];
            if e.tracked_iter != iter && self.scratch_refs.insert(e.series_ref) {
                out.push(e.series_ref);
            }
        }
        out
    }

    /// Ends a scrape (Prometheus' `iterDone`). After a successful scrape (`flush`), or
    /// when the cache has more than doubled since the last one, entries not seen in this
    /// scrape are forgotten. The current series become the previous ones.
    pub fn iter_done(&mut self, mut flush: bool) {
        let count = self.index.len() + self.dropped.len();
        if flush {
            self.successful_count = count;
        } else if count > self.successful_count * 2 + 1000 {
            flush = true;
        }
        if flush {
            let iter = self.iter;
            let slots = &self.slots;
            let free = &mut self.free;
            self.index.retain(|idx| {
                let keep = slots[*idx as usize].last_iter == iter;
                if !keep {
                    free.push(*idx);
                }
                keep
            });
            self.dropped.retain(|it| *it == iter);
            // Vectors grown by doubling hold up to twice what a steady target needs.
            let used = self.slots.len();
            fit(&mut self.slots, used);
        }
        std::mem::swap(&mut self.prev, &mut self.cur);
        self.cur.clear();
        let (prev, want) = (self.prev.len(), self.prev.len());
        fit(&mut self.prev, prev);
        fit(&mut self.cur, want);
        self.iter = self.iter.wrapping_add(1);
    }
}

/// Gives `v` room for about `want` elements: shrinks it when it holds much more, grows
/// it exactly when it holds less. Within the tolerance nothing is reallocated, so a
/// steady target's scrapes do not allocate.
fn fit<T>(v: &mut Vec<T>, want: usize) {
    if v.capacity() > want + want / 4 + 64 {
        v.shrink_to(want + want / 16);
    } else if v.capacity() < want {
        v.reserve_exact(want - v.len());
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn staleness_between_scrapes() {
        let mut c = ScrapeCache::new();
        let a = c.add("a", 1);
        let b = c.add("b", 2);
        c.track(a);
        c.track(b);
        assert!(c.stale_series().is_empty());
        c.iter_done(true);
        let (a2, again) = c.get("a").unwrap();
        assert_eq!((a2, again), (a, false));
        assert!(c.get("a").unwrap().1);
        c.track(a);
        let stale = c.stale_series();
        assert_eq!(stale, vec![2]);
        c.iter_done(true);
        // "b" was not seen: forgotten, its slot reused.
        assert!(c.get("b").is_none());
        let d = c.add("d", 4);
        assert_eq!(d, b);
    }

    #[test]
    fn shared_reference_is_not_stale() {
        let mut c = ScrapeCache::new();
        let a = c.add("a{x=\"1\"}", 7);
        let b = c.add("a{x=\"2\"}", 7);
        c.track(a);
        c.track(b);
        c.iter_done(true);
        c.get("a{x=\"1\"}").unwrap();
        c.track(a);
        assert!(c.stale_series().is_empty());
    }

    #[test]
    fn colliding_index_halves_are_told_apart_by_text() {
        let mut m: TextMap<u32> = TextMap::new(SeededXxh3(7));
        m.insert("a", 1);
        // Forge a collision: another text under "a"'s first half.
        let (key, _) = m.hash("a");
        let (_, check_b) = m.hash("b");
        m.main.insert(key, (check_b, 2));
        assert_eq!(m.get_mut("a"), None);
        assert_eq!(m.insert("a", 3), None);
        assert_eq!(m.overflow.len(), 1);
        assert_eq!(m.get_mut("a"), Some(&mut 3));
        assert_eq!(m.len(), 2);
        m.retain(|v| *v != 3);
        assert_eq!(m.get_mut("a"), None);
        assert_eq!(m.len(), 1);
    }

    #[test]
    fn failed_scrapes_do_not_flush_until_the_cache_doubles() {
        let mut c = ScrapeCache::new();
        c.add("a", 1);
        c.iter_done(false);
        c.iter_done(false);
        assert_eq!(c.len(), 1);
        c.add_dropped("x");
        assert!(c.is_dropped("x"));
    }
}
