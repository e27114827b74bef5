//! The steady-state scrape allocates nothing per sample: a counting allocator (this
//! thread only) around `append_body` of a real 2000-sample body.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use strata_model::Labels;
use strata_scrape::append::{AppendOptions, AppendState, append_body};
use strata_scrape::{AppendError, ScrapeAppender, ScrapeCache};

use crate::support::{T0, config, count_samples, testdata};

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

struct Counting;

// The only unsafe code of the crate: a pass-through allocator that counts the calling
// thread's allocations.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> u64 {
    ALLOCATIONS.with(|c| c.get())
}

/// Accepts everything, hands out references, allocates nothing.
struct NullAppender {
    next: u64,
    appended: u64,
}

impl ScrapeAppender for NullAppender {
    fn append(&mut self, r: Option<u64>, _: &Labels, _: i64, _: f64) -> Result<u64, AppendError> {
        self.appended += 1;
        Ok(r.unwrap_or_else(|| {
            self.next += 1;
            self.next
        }))
    }
    fn commit(self: Box<Self>) -> Result<(), AppendError> {
        Ok(())
    }
    fn rollback(self: Box<Self>) {}
}

#[test]
fn steady_state_scrape_does_not_allocate_per_sample() {
    let body = testdata("alltypes.237mfs.prom.txt");
    let n = count_samples(&body) as u64;
    let cfg = config(&["a:1"], "");
    let opts = AppendOptions::from_config(&cfg.scrape_configs[0]);
    let target = Labels::new(&[("instance", "a:1"), ("job", "test")]).unwrap();
    let mut st = AppendState::new(ScrapeCache::new());
    let mut app = NullAppender {
        next: 0,
        appended: 0,
    };
    let ct = "text/plain; version=0.0.4";
    let mut scrape = |i: i64, app: &mut NullAppender| {
        let (counts, r) = append_body(
            &mut st,
            &opts,
            &target,
            app,
            body.as_bytes(),
            ct,
            T0 + i * 15_000,
            T0 + i * 15_000,
        );
        r.unwrap();
        counts
    };
    let first = scrape(0, &mut app);
    assert_eq!(first.total, n);
    assert_eq!(first.series_added, n);
    // Warm up reusable buffers once more, then count.
    scrape(1, &mut app);
    let before = allocations();
    let counts = scrape(2, &mut app);
    let allocated = allocations() - before;
    assert_eq!(counts.total, n);
    assert_eq!(counts.series_added, 0);
    assert!(
        allocated <= 4,
        "{allocated} allocations for a steady-state scrape of {n} samples"
    );
    assert_eq!(app.appended, 3 * n);
}
