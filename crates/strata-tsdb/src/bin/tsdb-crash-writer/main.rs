//! Test helper for the crash-safety test of `strata-tsdb`: ingests deterministic
//! batches into a TSDB with a tiny block range and WAL segment size (so compactions and
//! checkpoints happen all the time) until it is killed.
//!
//! Usage: `tsdb-crash-writer <dir> <first-batch> [pause-us]` (pause between batches,
//! to bound how much data a run writes). Prints `ready` once the database is
//! open, then `ack <batch>` after every successful commit, flushing stdout each time.
//! Batch `b` holds one sample per series at `batch_time(b)` with value
//! `batch_value(b, s)`, and the native histogram `batch_histogram(b)` of one more
//! series; all are repeated in the test.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use strata_model::Labels;
use strata_tsdb::Db;

mod params;

use params::{COMPACT_EVERY, HIST_NAME, SERIES, batch_histogram, batch_time, batch_value, options};

fn run(dir: PathBuf, first: u64, pause: Duration) -> Result<(), String> {
    let labels: Vec<Labels> = (0..SERIES)
        .map(|s| {
            Labels::new(&[("__name__", "crash_test"), ("s", &s.to_string())])
                .map_err(|e| e.to_string())
        })
        .collect::<Result<_, _>>()?;
    let hist_labels = Labels::new(&[("__name__", HIST_NAME)]).map_err(|e| e.to_string())?;
    let db = Db::open(&dir, options()).map_err(|e| format!("open: {e}"))?;
    let out = std::io::stdout();
    let mut out = out.lock();
    let say = |out: &mut std::io::StdoutLock<'_>, line: String| -> Result<(), String> {
        writeln!(out, "{line}")
            .and_then(|()| out.flush())
            .map_err(|e| format!("stdout: {e}"))
    };
    say(&mut out, "ready".into())?;
    for b in first.. {
        let mut app = db.appender();
        for (s, l) in labels.iter().enumerate() {
            app.append(l, batch_time(b), batch_value(b, s))
                .map_err(|e| format!("append batch {b}: {e}"))?;
        }
        app.append_histogram(&hist_labels, batch_time(b), &batch_histogram(b))
            .map_err(|e| format!("append histogram batch {b}: {e}"))?;
        let res = app.commit().map_err(|e| format!("commit batch {b}: {e}"))?;
        if let Some(e) = res.rejected.first() {
            return Err(format!("batch {b}: {} rejected: {e}", res.rejected.len()));
        }
        say(&mut out, format!("ack {b}"))?;
        if !pause.is_zero() {
            std::thread::sleep(pause);
        }
        if b % COMPACT_EVERY == 0 {
            let metas = db.compact().map_err(|e| format!("compact: {e}"))?;
            if !metas.is_empty() {
                say(&mut out, format!("compacted {}", metas.len()))?;
            }
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let (Some(dir), Some(first)) = (args.next(), args.next()) else {
        eprintln!("usage: tsdb-crash-writer <dir> <first-batch>");
        return ExitCode::from(2);
    };
    let Ok(first) = first.parse::<u64>() else {
        eprintln!("first batch {first:?} is not a number");
        return ExitCode::from(2);
    };
    let pause = match args.next().map(|p| p.parse::<u64>()) {
        None => Duration::ZERO,
        Some(Ok(us)) => Duration::from_micros(us),
        Some(Err(e)) => {
            eprintln!("pause: {e}");
            return ExitCode::from(2);
        }
    };
    match run(PathBuf::from(dir), first, pause) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tsdb-crash-writer: {e}");
            ExitCode::FAILURE
        }
    }
}
