//! Body buffers shared by every scrape loop. A loop holds a buffer only while it
//! fetches and appends, so a few buffers serve hundreds of targets (a buffer per loop
//! would keep every target's largest body in memory between scrapes).

use parking_lot::Mutex;

/// Buffers kept for reuse; more scrapes in flight allocate and free their own.
const MAX_POOLED: usize = 16;
/// Larger buffers are freed rather than kept.
const MAX_POOLED_CAPACITY: usize = 64 << 20;

static POOL: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());

/// An empty buffer with room for at least `hint` bytes plus an eighth (the size of this
/// target's previous body, so the read does not grow it step by step).
pub fn take(hint: usize) -> Vec<u8> {
    let mut b = POOL.lock().pop().unwrap_or_default();
    b.clear();
    let want = hint.saturating_add(hint / 8);
    if b.capacity() < want {
        b.reserve_exact(want);
    }
    b
}

/// Returns a buffer to the pool.
pub fn give(b: Vec<u8>) {
    if b.capacity() == 0 || b.capacity() > MAX_POOLED_CAPACITY {
        return;
    }
    let mut pool = POOL.lock();
    if pool.len() < MAX_POOLED {
        pool.push(b);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_are_reused_and_sized_by_the_hint() {
        let mut b = take(1000);
        assert!(b.capacity() >= 1125);
        b.extend_from_slice(b"x");
        let ptr = b.as_ptr();
        give(b);
        // Other tests may share the pool: take until ours (or a fresh one) comes back.
        let again = take(10);
        assert!(again.is_empty());
        if again.as_ptr() == ptr {
            assert!(again.capacity() >= 1125);
        }
        give(again);
    }
}
