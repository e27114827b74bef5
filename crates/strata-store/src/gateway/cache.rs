//! [`ChunkCache`]: a size-bounded LRU of chunk-segment pages read from the bucket.
//!
//! Keys are (block, segment, page); values are the page bytes. Recency is a counter per
//! access, kept in an ordered map so the least recently used page is evicted first.

use std::collections::{BTreeMap, HashMap};

use bytes::Bytes;
use parking_lot::Mutex;

/// Identifies one page of one chunk segment of one block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PageKey {
    /// The block's ULID as a number.
    pub block: u128,
    pub segment: u32,
    pub page: u32,
}

/// Counters of a [`ChunkCache`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    pub hits: u64,
    pub misses: u64,
    pub evictions: u64,
    /// Pages held now.
    pub entries: u64,
    /// Bytes held now.
    pub bytes: u64,
    pub capacity: u64,
}

struct Entry {
    value: Bytes,
    tick: u64,
}

#[derive(Default)]
struct Inner {
    map: HashMap<PageKey, Entry>,
    order: BTreeMap<u64, PageKey>,
    tick: u64,
    bytes: u64,
    hits: u64,
    misses: u64,
    evictions: u64,
}

/// A size-bounded LRU of pages; safe to share between threads.
pub struct ChunkCache {
    capacity: u64,
    inner: Mutex<Inner>,
}

impl std::fmt::Debug for ChunkCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChunkCache")
            .field("stats", &self.stats())
            .finish()
    }
}

impl ChunkCache {
    /// A cache holding at most `capacity` bytes of pages (0 caches nothing).
    pub fn new(capacity: u64) -> Self {
        ChunkCache {
            capacity,
            inner: Mutex::new(Inner::default()),
        }
    }

    /// The page, marking it recently used.
    pub fn get(&self, k: &PageKey) -> Option<Bytes> {
        let mut g = self.inner.lock();
        let inner = &mut *g;
        inner.tick += 1;
        let tick = inner.tick;
        match inner.map.get_mut(k) {
            Some(e) => {
                inner.order.remove(&e.tick);
                e.tick = tick;
                inner.order.insert(tick, *k);
                inner.hits += 1;
                Some(e.value.clone())
            }
            None => {
                inner.misses += 1;
                None
            }
        }
    }

    /// Stores a page, evicting the least recently used ones beyond the capacity. A page
    /// larger than the whole capacity is not stored.
    pub fn insert(&self, k: PageKey, value: Bytes) {
        let size = value.len() as u64;
        if size > self.capacity {
            return;
        }
        let mut g = self.inner.lock();
        let inner = &mut *g;
        inner.tick += 1;
        let tick = inner.tick;
        if let Some(old) = inner.map.insert(k, Entry { value, tick }) {
            inner.order.remove(&old.tick);
            inner.bytes -= old.value.len() as u64;
        }
        inner.order.insert(tick, k);
        inner.bytes += size;
        while inner.bytes > self.capacity {
            let Some((_, victim)) = inner.order.pop_first() else {
                break;
            };
            if let Some(e) = inner.map.remove(&victim) {
                inner.bytes -= e.value.len() as u64;
                inner.evictions += 1;
            }
        }
    }

    /// Drops every page of `block` (when the block leaves the bucket).
    pub fn remove_block(&self, block: u128) {
        let mut g = self.inner.lock();
        let inner = &mut *g;
        let victims: Vec<(PageKey, u64)> = inner
            .map
            .iter()
            .filter(|(k, _)| k.block == block)
            .map(|(k, e)| (*k, e.tick))
            .collect();
        for (k, tick) in victims {
            inner.order.remove(&tick);
            if let Some(e) = inner.map.remove(&k) {
                inner.bytes -= e.value.len() as u64;
            }
        }
    }

    pub fn stats(&self) -> CacheStats {
        let g = self.inner.lock();
        CacheStats {
            hits: g.hits,
            misses: g.misses,
            evictions: g.evictions,
            entries: g.map.len() as u64,
            bytes: g.bytes,
            capacity: self.capacity,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn k(block: u128, page: u32) -> PageKey {
        PageKey {
            block,
            segment: 0,
            page,
        }
    }

    #[test]
    fn evicts_least_recently_used_within_capacity() {
        let c = ChunkCache::new(30);
        c.insert(k(1, 0), Bytes::from(vec![0; 10]));
        c.insert(k(1, 1), Bytes::from(vec![1; 10]));
        c.insert(k(1, 2), Bytes::from(vec![2; 10]));
        assert!(c.get(&k(1, 0)).is_some()); // 0 is now the most recent
        c.insert(k(1, 3), Bytes::from(vec![3; 10]));
        assert!(c.get(&k(1, 1)).is_none(), "1 was the least recently used");
        assert!(c.get(&k(1, 0)).is_some());
        assert!(c.get(&k(1, 2)).is_some());
        assert!(c.get(&k(1, 3)).is_some());
        let s = c.stats();
        assert_eq!((s.entries, s.bytes, s.evictions), (3, 30, 1));
        assert!(s.bytes <= s.capacity);
    }

    #[test]
    fn replaces_oversized_and_removes_blocks() {
        let c = ChunkCache::new(25);
        c.insert(k(1, 0), Bytes::from(vec![0; 26]));
        assert_eq!(c.stats().entries, 0);
        c.insert(k(1, 0), Bytes::from(vec![0; 10]));
        c.insert(k(1, 0), Bytes::from(vec![0; 5]));
        c.insert(k(2, 0), Bytes::from(vec![0; 10]));
        assert_eq!(c.stats().bytes, 15);
        c.remove_block(1);
        assert_eq!(c.stats().entries, 1);
        assert_eq!(c.stats().bytes, 10);
        assert!(c.get(&k(2, 0)).is_some());
        let z = ChunkCache::new(0);
        z.insert(k(1, 0), Bytes::from_static(b"x"));
        assert!(z.get(&k(1, 0)).is_none());
    }
}
