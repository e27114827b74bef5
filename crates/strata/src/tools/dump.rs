//! `strata tools tsdb dump`: every sample of a data directory (blocks and WAL), one line
//! per sample, exactly as `promtool tsdb dump` prints it: `{labels} value timestamp`.

use std::io::{BufWriter, Write};

use anyhow::Context;
use strata_model::gofmt::go_format_g;
use strata_model::matcher::parse_selector;
use strata_model::storage::{Queryable, SelectHints};
use strata_tsdb::Db;

use crate::cli::DumpArgs;

pub fn run(a: &DumpArgs) -> anyhow::Result<()> {
    let matchers = parse_selector(&a.selector)?;
    let db = Db::open_read_only(&a.dir).with_context(|| format!("opening {}", a.dir.display()))?;
    let q = db.querier(a.min_time, a.max_time)?;
    let hints = SelectHints {
        start: a.min_time,
        end: a.max_time,
        sorted: true,
        labels_only: false,
    };
    let stdout = std::io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let res: anyhow::Result<()> = (|| {
        for series in q.select(&matchers, &hints)? {
            let mut series = series?;
            let name = series.labels.to_string();
            loop {
                match series.samples.next_sample() {
                    Ok(Some((t, v))) => writeln!(out, "{name} {} {t}", go_format_g(v))?,
                    Ok(None) => break,
                    Err(e) => {
                        // promtool stops a series at its first non-float sample; so do we,
                        // and say why.
                        eprintln!("strata: skipping the rest of series {name}: {e}");
                        break;
                    }
                }
            }
        }
        out.flush()?;
        Ok(())
    })();
    super::ignore_broken_pipe(res)
}
