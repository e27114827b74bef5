//! The crash writer's data set and database options, shared with the crash test
//! (`tests/tsdb/crash.rs` includes this file), so both sides always agree.

use strata_tsdb::wal::WalOptions;
use strata_tsdb::{DbOptions, HeadOptions};

/// Series written in every batch.
pub const SERIES: usize = 16;
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
