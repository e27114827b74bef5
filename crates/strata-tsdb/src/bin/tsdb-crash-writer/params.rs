//! The crash writer's data set and database options, shared with the crash test
//! (`tests/tsdb/crash.rs` includes this file), so both sides always agree.

use strata_model::histogram::{Histogram, Span};
use strata_tsdb::wal::WalOptions;
use strata_tsdb::{DbOptions, HeadOptions};

/// Float series written in every batch (plus one histogram series).
pub const SERIES: usize = 16;
/// The metric name of the histogram series.
pub const HIST_NAME: &str = "crash_hist";
/// Milliseconds between batches.
pub const STEP: i64 = 250;
/// Block range: a block every 240 batches, a compaction once the head spans 360.
pub const RANGE: i64 = 60_000;
/// Batches between compaction attempts.
pub const COMPACT_EVERY: u64 = 20;

pub fn batch_time(b: u64) -> i64 {
    b as i64 * STEP
}

pub fn batch_value(b: u64, s: usize) -> f64 {
    (b as f64) * 1000.0 + s as f64 + (b % 7) as f64 / 8.0
}

/// The native histogram of the histogram series in batch `b`: a counter that resets
/// every 100 batches and gains a bucket every 13.
pub fn batch_histogram(b: u64) -> Histogram {
    let k = b % 100;
    let n = 1 + k / 13;
    let deltas: Vec<i64> = (0..n)
        .map(|i| if i == 0 { k as i64 + 1 } else { 1 })
        .collect();
    let count = n * (k + 1) + n * (n - 1) / 2;
    Histogram {
        schema: 0,
        count,
        sum: b as f64 * 0.5,
        positive_spans: vec![Span {
            offset: -1,
            length: n as u32,
        }],
        positive_deltas: deltas,
        ..Histogram::default()
    }
}

pub fn options() -> DbOptions {
    DbOptions {
        head: HeadOptions {
            chunk_range: RANGE,
            ..HeadOptions::default()
        },
        wal: WalOptions {
            segment_size: 64 * 1024,
            ..WalOptions::default()
        },
        retention: None,
    }
}
