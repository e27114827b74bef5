//! The head: the in-memory part of the TSDB holding the newest samples, backed by the
//! write-ahead log, until they are compacted into a block.
//!
//! Series live in lock stripes keyed by their ref; a second set of stripes maps a label
//! hash to the refs with that hash. Appends are staged by an [`Appender`] and applied by
//! one commit at a time: validate, write the WAL, then apply to memory, so what the WAL
//! holds is exactly what memory holds.

mod append;
mod append_check;
mod append_wal;
mod hist_equals;
mod hist_series;
mod postings;
mod query;
mod refmap;
mod replay;
mod series;

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use parking_lot::{Mutex, RwLock};
use strata_model::Labels;

pub use append::{Appender, CommitOutcome};
pub use query::HeadQuerier;
pub use replay::ReplayStats;
pub use series::HeadChunk;

use crate::wal::Wal;
use postings::MemPostings;
use refmap::RefMap;
use series::MemSeries;

const STRIPES: usize = 256;

/// Tunables of the head.
#[derive(Debug, Clone)]
pub struct HeadOptions {
    /// Block range in ms; chunks never span a multiple of it (default 2 h).
    pub chunk_range: i64,
    /// Samples per chunk before a new one is cut (Prometheus: 120).
    pub samples_per_chunk: u16,
    /// Accept samples up to this many ms older than the newest sample of the head
    /// (0 disables out-of-order ingestion, Prometheus' default).
    pub out_of_order_window: i64,
}

impl Default for HeadOptions {
    fn default() -> Self {
        HeadOptions {
            chunk_range: 2 * 3600 * 1000,
            samples_per_chunk: 120,
            out_of_order_window: 0,
        }
    }
}

/// One series: its ref and labels (immutable) and its data behind its own lock. The
/// head's maps and the appenders that staged samples for it share it, so a commit
/// reaches its series without looking them up again.
#[derive(Debug)]
pub(crate) struct SeriesCell {
    pub r: u64,
    pub labels: Labels,
    pub m: Mutex<MemSeries>,
}

#[derive(Debug, Default)]
struct Stripe {
    series: RefMap<Arc<SeriesCell>>,
}

/// Series that share a label hash (nearly always one).
#[derive(Debug)]
enum HashRefs {
    One(Arc<SeriesCell>),
    Many(Vec<Arc<SeriesCell>>),
}

impl HashRefs {
    fn find_by(&self, eq: impl Fn(&Labels) -> bool) -> Option<&Arc<SeriesCell>> {
        match self {
            HashRefs::One(c) => eq(&c.labels).then_some(c),
            HashRefs::Many(v) => v.iter().find(|c| eq(&c.labels)),
        }
    }
}

pub(crate) struct CommitState {
    pub wal: Option<Wal>,
    pub buf: Vec<u8>,
}

/// The in-memory head block.
pub struct Head {
    opts: HeadOptions,
    stripes: Box<[Mutex<Stripe>]>,
    hashes: Box<[Mutex<RefMap<HashRefs>>]>,
    postings: RwLock<MemPostings>,
    next_ref: AtomicU64,
    num_series: AtomicU64,
    min_time: AtomicI64,
    max_time: AtomicI64,
    /// Samples before this time belong to persisted blocks and are rejected.
    min_valid_time: AtomicI64,
    pub(crate) commit: Mutex<CommitState>,
}

/// Counters describing the head, for `/api/v1/status/tsdb` and tools.
#[derive(Debug, Clone, Default)]
pub struct HeadStats {
    pub num_series: u64,
    pub min_time: Option<i64>,
    pub max_time: Option<i64>,
    pub chunks: u64,
}

impl Head {
    /// An empty head; `wal` is where commits are logged (`None`: not durable, e.g. tools).
    pub fn new(opts: HeadOptions, wal: Option<Wal>) -> Self {
        Head {
            opts,
            stripes: (0..STRIPES)
                .map(|_| Mutex::new(Stripe::default()))
                .collect(),
            hashes: (0..STRIPES)
                .map(|_| Mutex::new(RefMap::default()))
                .collect(),
            postings: RwLock::new(MemPostings::default()),
            next_ref: AtomicU64::new(1),
            num_series: AtomicU64::new(0),
            min_time: AtomicI64::new(i64::MAX),
            max_time: AtomicI64::new(i64::MIN),
            min_valid_time: AtomicI64::new(i64::MIN),
            commit: Mutex::new(CommitState {
                wal,
                buf: Vec::with_capacity(1 << 16),
            }),
        }
    }

    pub fn options(&self) -> &HeadOptions {
        &self.opts
    }

    fn stripe(&self, r: u64) -> &Mutex<Stripe> {
        &self.stripes[(r as usize) % STRIPES]
    }

    /// Number of series in memory.
    pub fn num_series(&self) -> u64 {
        self.num_series.load(Ordering::Relaxed)
    }

    /// Lowest timestamp in the head, if any sample was appended.
    pub fn min_time(&self) -> Option<i64> {
        let t = self.min_time.load(Ordering::Acquire);
        (t != i64::MAX).then_some(t)
    }

    /// Highest timestamp in the head.
    pub fn max_time(&self) -> Option<i64> {
        let t = self.max_time.load(Ordering::Acquire);
        (t != i64::MIN).then_some(t)
    }

    /// Samples older than this are rejected as out of bounds.
    pub fn min_valid_time(&self) -> i64 {
        self.min_valid_time.load(Ordering::Acquire)
    }

    pub(crate) fn set_min_valid_time(&self, t: i64) {
        self.min_valid_time.fetch_max(t, Ordering::AcqRel);
    }

    fn observe_time(&self, t: i64) {
        self.min_time.fetch_min(t, Ordering::AcqRel);
        self.max_time.fetch_max(t, Ordering::AcqRel);
    }

    /// The ref of the series with exactly these labels.
    pub fn get_ref(&self, labels: &Labels) -> Option<u64> {
        let h = labels.hash();
        let hashes = self.hashes[(h as usize) % STRIPES].lock();
        hashes.get(&h)?.find_by(|l| l == labels).map(|c| c.r)
    }

    /// The ref of the series, created when missing. `want_ref` forces the ref of a new
    /// series (WAL replay). Returns `(ref, created)`.
    pub(crate) fn get_or_create(&self, labels: &Labels, want_ref: Option<u64>) -> (u64, bool) {
        let (c, created) =
            self.get_or_create_by(labels.hash(), |l| l == labels, || labels.clone(), want_ref);
        (c.r, created)
    }

    /// The series' cell, created when missing. Returns `(cell, created)`.
    pub(crate) fn get_or_create_cell(&self, labels: &Labels) -> (Arc<SeriesCell>, bool) {
        self.get_or_create_by(labels.hash(), |l| l == labels, || labels.clone(), None)
    }

    /// [`Head::get_or_create_cell`] for label pairs sorted by name, unique and valid
    /// (empty values are skipped, as [`Labels::from_sorted`] does): the labels are only
    /// built when the series is new.
    pub(crate) fn get_or_create_sorted(&self, pairs: &[(&str, &str)]) -> (Arc<SeriesCell>, bool) {
        self.get_or_create_by(
            Labels::hash_sorted_pairs(pairs),
            |l| l.eq_sorted_pairs(pairs),
            || Labels::from_sorted(pairs.iter().copied()),
            None,
        )
    }

    fn get_or_create_by(
        &self,
        h: u64,
        eq: impl Fn(&Labels) -> bool,
        make: impl FnOnce() -> Labels,
        want_ref: Option<u64>,
    ) -> (Arc<SeriesCell>, bool) {
        let mut hashes = self.hashes[(h as usize) % STRIPES].lock();
        if let Some(c) = hashes.get(&h).and_then(|refs| refs.find_by(eq)) {
            return (c.clone(), false);
        }
        let labels = make();
        let r = match want_ref {
            Some(r) => {
                self.next_ref.fetch_max(r + 1, Ordering::AcqRel);
                r
            }
            None => self.next_ref.fetch_add(1, Ordering::AcqRel),
        };
        let cell = Arc::new(SeriesCell {
            r,
            labels: labels.clone(),
            m: Mutex::new(MemSeries::new(labels.clone())),
        });
        self.stripe(r).lock().series.insert(r, cell.clone());
        match hashes.remove(&h) {
            None => {
                hashes.insert(h, HashRefs::One(cell.clone()));
            }
            Some(HashRefs::One(o)) => {
                hashes.insert(h, HashRefs::Many(vec![o, cell.clone()]));
            }
            Some(HashRefs::Many(mut v)) => {
                v.push(cell.clone());
                hashes.insert(h, HashRefs::Many(v));
            }
        }
        drop(hashes);
        self.postings.write().add(r, labels.iter());
        self.num_series.fetch_add(1, Ordering::Relaxed);
        (cell, true)
    }

    /// The cell of series `r`, if the head has it.
    pub(crate) fn cell(&self, r: u64) -> Option<Arc<SeriesCell>> {
        self.stripe(r).lock().series.get(&r).cloned()
    }

    /// Runs `f` on the series with ref `r`.
    pub(crate) fn with_series<T>(&self, r: u64, f: impl FnOnce(&mut MemSeries) -> T) -> Option<T> {
        let st = self.stripe(r).lock();
        let cell = st.series.get(&r)?;
        let mut m = cell.m.lock();
        Some(f(&mut m))
    }

    /// Labels of series `r`.
    pub fn series_labels(&self, r: u64) -> Option<Labels> {
        self.with_series(r, |s| s.labels.clone())
    }

    /// Drops data before `mint` and garbage-collects series left empty. Returns the
    /// number of series removed.
    pub fn truncate(&self, mint: i64) -> usize {
        self.set_min_valid_time(mint);
        let mut removed = Vec::new();
        for stripe in self.stripes.iter() {
            let mut st = stripe.lock();
            st.series.retain(|&r, c| {
                let mut m = c.m.lock();
                let empty = m.truncate_before(mint);
                if empty {
                    // Appenders holding the cell skip it from now on.
                    m.removed = true;
                    removed.push((r, c.labels.clone()));
                }
                !empty
            });
        }
        let mut postings = self.postings.write();
        for (r, labels) in &removed {
            postings.remove(*r, labels.iter());
            let h = labels.hash();
            let mut hashes = self.hashes[(h as usize) % STRIPES].lock();
            let now_empty = match hashes.get_mut(&h) {
                Some(HashRefs::One(c)) => c.r == *r,
                Some(HashRefs::Many(v)) => {
                    v.retain(|c| c.r != *r);
                    v.is_empty()
                }
                None => false,
            };
            if now_empty {
                hashes.remove(&h);
            }
        }
        drop(postings);
        self.num_series
            .fetch_sub(removed.len() as u64, Ordering::Relaxed);
        // Recompute the head's time bounds from what is left.
        let (mut lo, mut hi) = (i64::MAX, i64::MIN);
        for stripe in self.stripes.iter() {
            for c in stripe.lock().series.values() {
                let s = c.m.lock();
                if let Some(t) = s.min_time() {
                    lo = lo.min(t.max(mint));
                }
                if let Some(t) = s.max_time() {
                    hi = hi.max(t);
                }
            }
        }
        self.min_time.store(lo, Ordering::Release);
        self.max_time.store(hi, Ordering::Release);
        removed.len()
    }

    /// Refs of every series, for checkpoints.
    pub(crate) fn all_refs(&self) -> Vec<u64> {
        self.postings.read().all()
    }

    /// Summary counters.
    pub fn stats(&self) -> HeadStats {
        let mut chunks = 0u64;
        for stripe in self.stripes.iter() {
            for c in stripe.lock().series.values() {
                let s = c.m.lock();
                chunks += s.closed.len() as u64 + u64::from(s.open.is_some());
                if let Some(h) = &s.hist {
                    chunks += h.closed.len() as u64 + u64::from(h.open.is_some());
                }
            }
        }
        HeadStats {
            num_series: self.num_series(),
            min_time: self.min_time(),
            max_time: self.max_time(),
            chunks,
        }
    }

    /// Approximate heap bytes held by series data (labels, chunks, buffers, indexes).
    pub fn heap_size(&self) -> usize {
        let mut total = 0usize;
        for stripe in self.stripes.iter() {
            let st = stripe.lock();
            total += st.series.capacity() * 17;
            for c in st.series.values() {
                total += std::mem::size_of::<SeriesCell>() + c.m.lock().heap_size();
            }
        }
        total
    }

    /// Label pairs with their series counts (for analysis and status pages).
    pub fn label_pair_counts(&self) -> Vec<(String, String, usize)> {
        self.postings.read().pairs()
    }
}
