//! `strata tools tsdb list`: the blocks of a data directory, in `promtool tsdb list`'s
//! column layout.

use anyhow::Context;
use strata_model::duration::go_duration_string;
use strata_tsdb::Db;

use crate::cli::ListArgs;

pub fn run(a: &ListArgs) -> anyhow::Result<()> {
    let db = Db::open_read_only(&a.dir).with_context(|| format!("opening {}", a.dir.display()))?;
    let mut rows = vec![
        [
            "BLOCK ULID",
            "MIN TIME",
            "MAX TIME",
            "DURATION",
            "NUM SAMPLES",
            "NUM CHUNKS",
            "NUM SERIES",
            "SIZE",
        ]
        .map(String::from),
    ];
    for b in db.blocks() {
        let m = b.meta();
        let size = dir_size(b.dir());
        rows.push([
            m.ulid.to_string(),
            format_time(m.min_time, a.human),
            format_time(m.max_time, a.human),
            go_duration_string(m.max_time - m.min_time),
            m.stats.num_samples.to_string(),
            m.stats.num_chunks.to_string(),
            m.stats.num_series.to_string(),
            if a.human {
                human_bytes(size)
            } else {
                size.to_string()
            },
        ]);
    }
    print!("{}", align_columns(&rows));
    Ok(())
}

/// Lays rows out as promtool's tab writer does: every column but the last padded with
/// spaces to its widest cell plus two, and to 13 characters at least.
fn align_columns<const N: usize>(rows: &[[String; N]]) -> String {
    let mut widths = [0usize; N];
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count() + 2).max(13);
        }
    }
    let mut out = String::new();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            out.push_str(cell);
            if i + 1 < N {
                let pad = widths[i] - cell.chars().count();
                out.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push('\n');
    }
    out
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

/// A timestamp as promtool prints it: milliseconds, or with `-r` the UTC time truncated
/// to the second in Go's `time.Time` format (`2001-09-09 01:46:40 +0000 UTC`).
fn format_time(ms: i64, human: bool) -> String {
    if !human {
        return ms.to_string();
    }
    let secs = ms / 1000; // truncating, as promtool divides
    let (days, sod) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, mo, d) = civil_from_days(days);
    format!(
        "{y:04}-{mo:02}-{d:02} {:02}:{:02}:{:02} +0000 UTC",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian (year, month, day).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    // Count from 0000-03-01 so that the leap day ends each 4-year cycle.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // day of the 400-year era, 0..=146096
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153; // month from March, 0..=11
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Sizes as promtool prints them with `-r`: every non-zero base-1024 unit, largest
/// first, as in `1MiB54KiB475B`.
fn human_bytes(mut b: u64) -> String {
    const UNITS: &[&str] = &["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if b == 0 {
        return "0B".into();
    }
    let mut parts = Vec::new();
    for unit in UNITS {
        if !b.is_multiple_of(1024) {
            parts.push(format!("{}{unit}", b % 1024));
        }
        b /= 1024;
        if b == 0 {
            break;
        }
    }
    parts.reverse();
    parts.concat()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_formats() {
        assert_eq!(human_bytes(0), "0B");
        assert_eq!(human_bytes(840), "840B");
        assert_eq!(human_bytes(1_048_576), "1MiB");
        assert_eq!(human_bytes(1_104_347), "1MiB54KiB475B");
        assert_eq!(
            format_time(1_000_000_795_001, true),
            "2001-09-09 01:59:55 +0000 UTC"
        );
        assert_eq!(format_time(0, true), "1970-01-01 00:00:00 +0000 UTC");
        assert_eq!(format_time(-1, true), "1970-01-01 00:00:00 +0000 UTC");
        assert_eq!(
            format_time(-86_400_001, true),
            "1969-12-31 00:00:00 +0000 UTC"
        );
        assert_eq!(
            format_time(951_782_400_000, true),
            "2000-02-29 00:00:00 +0000 UTC"
        );
    }
}
