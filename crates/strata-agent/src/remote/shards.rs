//! The shards of a queue: one FIFO of samples per shard (a series always goes to the
//! same shard, so its samples are sent in order), filled by the WAL watcher and emptied
//! by one sender task each.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use parking_lot::{Condvar, Mutex, RwLock};
use strata_model::Labels;

/// One sample on its way out.
pub(crate) struct Item {
    pub series_ref: u64,
    /// The labels to send (write relabeling applied; external labels too when relabeling
    /// is configured, else they are merged in at encoding).
    pub labels: Labels,
    pub t: i64,
    pub v: f64,
    /// Sequence number of the WAL record it came from.
    pub seq: u64,
}

/// What a shard's sender does next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Run,
    /// Finish the batch in flight, then exit and leave the rest queued (resharding).
    Pause,
    /// Send everything queued, then exit (shutdown).
    Drain,
}

pub(crate) struct ShardState {
    pub queue: VecDeque<Item>,
    /// Sequence number of the oldest sample of the batch being sent.
    pub inflight: Option<u64>,
    pub mode: Mode,
}

pub(crate) struct Shard {
    pub state: Mutex<ShardState>,
    pub wake: tokio::sync::Notify,
}

impl Shard {
    fn new(queue: VecDeque<Item>) -> Arc<Shard> {
        Arc::new(Shard {
            state: Mutex::new(ShardState {
                queue,
                inflight: None,
                mode: Mode::Run,
            }),
            wake: tokio::sync::Notify::new(),
        })
    }

    /// The oldest sequence number not yet acknowledged in this shard.
    fn oldest(&self) -> Option<u64> {
        let st = self.state.lock();
        st.inflight.or_else(|| st.queue.front().map(|i| i.seq))
    }

    pub fn set_mode(&self, mode: Mode) {
        self.state.lock().mode = mode;
        self.wake.notify_one();
    }
}

/// The current shards plus the handshake with the watcher.
pub(crate) struct ShardSet {
    shards: RwLock<Arc<Vec<Arc<Shard>>>>,
    /// Per-shard queue limit: `max(capacity, max_samples_per_send)`.
    limit: usize,
    max_per_send: usize,
    resharding: AtomicBool,
    /// Signalled when queues have room again (or resharding ended).
    space_lock: Mutex<()>,
    space: Condvar,
}

impl ShardSet {
    pub fn new(n: usize, capacity: usize, max_per_send: usize) -> Self {
        ShardSet {
            shards: RwLock::new(Arc::new(
                (0..n.max(1)).map(|_| Shard::new(VecDeque::new())).collect(),
            )),
            limit: capacity.max(max_per_send).max(1),
            max_per_send: max_per_send.max(1),
            resharding: AtomicBool::new(false),
            space_lock: Mutex::new(()),
            space: Condvar::new(),
        }
    }

    pub fn current(&self) -> Arc<Vec<Arc<Shard>>> {
        self.shards.read().clone()
    }

    pub fn notify_space(&self) {
        let _g = self.space_lock.lock();
        self.space.notify_all();
    }

    fn wait_space(&self, timeout: Duration) {
        let mut g = self.space_lock.lock();
        let _ = self.space.wait_for(&mut g, timeout);
    }

    /// Hands `items` (in WAL order) to the shards, blocking while they are full or being
    /// resharded. Returns the number enqueued; fewer than given only if `stop` was set.
    /// `parts` is scratch space.
    pub fn enqueue(
        &self,
        items: &mut Vec<Item>,
        parts: &mut Vec<Vec<Item>>,
        stop: &AtomicBool,
        on_full: impl Fn(),
    ) -> usize {
        let total = items.len();
        let mut done = 0;
        let mut n = 0;
        parts.iter_mut().for_each(Vec::clear);
        loop {
            if stop.load(Ordering::Relaxed) {
                items.clear();
                parts.iter_mut().for_each(Vec::clear);
                return done;
            }
            if self.resharding.load(Ordering::SeqCst) {
                self.wait_space(Duration::from_millis(20));
                continue;
            }
            let shards = self.shards.read();
            if self.resharding.load(Ordering::SeqCst) {
                continue;
            }
            if shards.len() != n {
                // (Re)partition what is left by the current shard count; a series' samples
                // stay in order because they all land in one part, in order.
                for p in parts.iter_mut() {
                    items.append(p);
                }
                n = shards.len();
                parts.resize_with(n, Vec::new);
                for it in items.drain(..) {
                    parts[(it.series_ref % n as u64) as usize].push(it);
                }
            }
            let mut full = false;
            for (shard, part) in shards.iter().zip(parts.iter_mut()) {
                if part.is_empty() {
                    continue;
                }
                let mut st = shard.state.lock();
                let room = self.limit.saturating_sub(st.queue.len());
                let k = room.min(part.len());
                st.queue.extend(part.drain(..k));
                let ready = st.queue.len() >= self.max_per_send;
                drop(st);
                done += k;
                if ready {
                    shard.wake.notify_one();
                }
                full |= !part.is_empty();
            }
            drop(shards);
            if !full {
                debug_assert_eq!(done, total);
                return done;
            }
            on_full();
            self.wait_space(Duration::from_millis(50));
        }
    }

    /// The oldest sequence number pending in any shard.
    pub fn oldest_pending(&self) -> Option<u64> {
        self.shards.read().iter().filter_map(|s| s.oldest()).min()
    }

    pub fn begin_reshard(&self) -> Arc<Vec<Arc<Shard>>> {
        self.resharding.store(true, Ordering::SeqCst);
        let cur = self.current();
        for s in cur.iter() {
            s.set_mode(Mode::Pause);
        }
        cur
    }

    /// After the old senders have exited: moves their queued samples, in order, into `n`
    /// new shards and installs them. Returns the new shards.
    pub fn finish_reshard(&self, n: usize) -> Arc<Vec<Arc<Shard>>> {
        let n = n.max(1);
        let mut guard = self.shards.write();
        let mut queues: Vec<VecDeque<Item>> = (0..n).map(|_| VecDeque::new()).collect();
        for old in guard.iter() {
            let mut st = old.state.lock();
            for it in st.queue.drain(..) {
                queues[(it.series_ref % n as u64) as usize].push_back(it);
            }
        }
        let new: Arc<Vec<Arc<Shard>>> = Arc::new(queues.into_iter().map(Shard::new).collect());
        *guard = new.clone();
        drop(guard);
        self.resharding.store(false, Ordering::SeqCst);
        self.notify_space();
        new
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn item(series_ref: u64, t: i64) -> Item {
        Item {
            series_ref,
            labels: Labels::empty(),
            t,
            v: 0.0,
            seq: t as u64,
        }
    }

    #[test]
    fn partitions_by_ref_and_reshards_in_order() {
        let set = ShardSet::new(2, 100, 10);
        let stop = AtomicBool::new(false);
        let mut parts = Vec::new();
        let mut items: Vec<Item> = (0..20).map(|t| item(t % 4, t as i64)).collect();
        assert_eq!(set.enqueue(&mut items, &mut parts, &stop, || {}), 20);
        let shards = set.current();
        assert_eq!(shards[0].state.lock().queue.len(), 10);
        assert_eq!(set.oldest_pending(), Some(0));
        shards[0].state.lock().inflight = None;
        set.begin_reshard();
        let new = set.finish_reshard(3);
        assert_eq!(new.len(), 3);
        let mut n = 0;
        for s in new.iter() {
            let st = s.state.lock();
            n += st.queue.len();
            // Per series, timestamps still ascend.
            for r in 0..4 {
                let ts: Vec<i64> = st
                    .queue
                    .iter()
                    .filter(|i| i.series_ref == r)
                    .map(|i| i.t)
                    .collect();
                assert!(ts.windows(2).all(|w| w[0] < w[1]));
            }
        }
        assert_eq!(n, 20);
    }

    #[test]
    fn full_queue_blocks_until_stopped() {
        let set = ShardSet::new(1, 5, 5);
        let stop = AtomicBool::new(false);
        let mut parts = Vec::new();
        let mut items: Vec<Item> = (0..8).map(|t| item(1, t)).collect();
        let n = set.enqueue(&mut items, &mut parts, &stop, || {
            stop.store(true, Ordering::Relaxed)
        });
        assert_eq!(n, 5);
    }
}
