//! Head memory per active series: 100,000 series with six labels each (the shape of the
//! shared bench data set), 120 samples each (one full chunk at a 15 s interval, 30 min),
//! measured with a counting global allocator (bytes live after the appends, minus bytes
//! live before, including the label sets). Prints one JSON line.
//!
//! `cargo bench -p strata-tsdb --bench head_memory`

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

use strata_model::Labels;
use strata_tsdb::{Head, HeadOptions};

struct Counting;
static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: forwards to the system allocator, only counting sizes.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        LIVE.fetch_add(l.size() as isize, Ordering::Relaxed);
        // SAFETY: same layout contract as the caller's.
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size() as isize, Ordering::Relaxed);
        // SAFETY: `p` was allocated by `alloc` above with this layout.
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        LIVE.fetch_add(new as isize - l.size() as isize, Ordering::Relaxed);
        // SAFETY: forwarded unchanged.
        unsafe { System.realloc(p, l, new) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const SERIES: usize = 100_000;
const SAMPLES: i64 = 120;

fn main() {
    let before = LIVE.load(Ordering::Relaxed);
    let labels: Vec<Labels> = (0..SERIES)
        .map(|i| {
            Labels::new(&[
                ("__name__", format!("bench_metric_{:02}", i % 100)),
                ("cluster", format!("c{}", i % 4)),
                (
                    "instance",
                    format!("10.0.{}.{}:9100", i / 25_000, (i / 100) % 250),
                ),
                ("job", format!("job-{}", i / 10_000)),
                ("namespace", format!("ns-{:02}", (i / 100) % 25)),
                (
                    "pod",
                    format!("job-{}-{:010x}", i / 10_000, (i / 100) * 7_919_993),
                ),
            ])
            .expect("valid labels")
        })
        .collect();
    let labels_bytes: usize = labels.iter().map(|l| l.encoded_len()).sum();
    let head = Head::new(HeadOptions::default(), None);
    let mut refs = Vec::with_capacity(SERIES);
    let mut app = head.appender();
    for l in &labels {
        refs.push(app.append(l, 0, 0.0).expect("append"));
    }
    app.commit().expect("commit");
    // The head keeps its own references to the label sets; drop ours so that only what
    // the head holds is counted.
    drop(labels);
    for step in 1..SAMPLES {
        let mut app = head.appender();
        for (i, r) in refs.iter().enumerate() {
            // Counters that grow irregularly, like real scrapes.
            let v = (step * (1 + (i as i64 % 7))) as f64 + (i % 3) as f64 * 0.25;
            app.append_ref(*r, step * 15_000, v).expect("append");
        }
        let out = app.commit().expect("commit");
        assert_eq!(out.appended, SERIES);
    }
    let refs_bytes = refs.capacity() * std::mem::size_of::<u64>();
    let after = LIVE.load(Ordering::Relaxed) - refs_bytes as isize;
    let per_series = (after - before) as f64 / SERIES as f64;
    println!(
        "{{\"bench\":\"head_memory\",\"series\":{SERIES},\"samples_per_series\":{SAMPLES},\"heap_bytes_per_series\":{per_series:.1},\"label_bytes_per_series\":{:.1},\"head_heap_size_estimate_per_series\":{:.1}}}",
        labels_bytes as f64 / SERIES as f64,
        head.heap_size() as f64 / SERIES as f64
    );
    drop(refs);
}
