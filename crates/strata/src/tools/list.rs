//! `strata tools tsdb list`: the blocks of a data directory, in `promtool tsdb list`'s
//! column layout.

use anyhow::Context;
use strata_model::duration::go_duration_string;
use strata_tsdb::Db;

use crate::cli::ListArgs;

pub fn run(a: &ListArgs) -> anyhow::Result<()> {
    let db = Db::open_read_only(&a.dir).with_context(|| format!("opening {}", a.dir.display()))?;
    println!("BLOCK ULID\tMIN TIME\tMAX TIME\tDURATION\tNUM SAMPLES\tNUM CHUNKS\tNUM SERIES\tSIZE");
    for b in db.blocks() {
        let m = b.meta();
        let size = dir_size(b.dir());
        if a.human {
            println!(
                "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                m.ulid,
                m.min_time,
                m.max_time,
                go_duration_string(m.max_time - m.min_time),
                m.stats.num_samples,
                m.stats.num_chunks,
                m.stats.num_series,
                human_bytes(size)
            );
        } else {
            println!(
                "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                m.ulid,
                m.min_time,
                m.max_time,
                go_duration_string(m.max_time - m.min_time),
                m.stats.num_samples,
                m.stats.num_chunks,
                m.stats.num_series,
                size
            );
        }
    }
    Ok(())
}

pub(crate) fn dir_size(p: &std::path::Path) -> u64 {
    let Ok(rd) = std::fs::read_dir(p) else {
        return 0;
    };
    rd.flatten()
        .map(|e| {
            let path = e.path();
            if path.is_dir() {
                dir_size(&path)
            } else {
                e.metadata().map(|m| m.len()).unwrap_or(0)
            }
        })
        .sum()
}

fn human_bytes(b: u64) -> String {
    const UNITS: &[&str] = &["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = b as f64;
    let mut i = 0;
    while v >= 1024.0 && i + 1 < UNITS.len() {
        v /= 1024.0;
        i += 1;
    }
    if i == 0 {
        format!("{b}B")
    } else {
        format!("{v:.1}{}", UNITS[i])
    }
}
