//! `strata tools tsdb import-openmetrics`: blocks from an OpenMetrics file, as
//! `promtool tsdb create-blocks-from openmetrics` makes them: one block per aligned
//! window of `--max-block-duration` (2 h by default), every sample with a timestamp.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Context, bail};
use strata_model::Labels;
use strata_model::duration::parse_duration_ms;
use strata_textparse::{Entry, Format, Parser, samples_to_labels};
use strata_tsdb::block_writer::BlockWriter;

use crate::cli::ImportArgs;

const TWO_HOURS: i64 = 2 * 3600 * 1000;

pub fn run(a: &ImportArgs) -> anyhow::Result<()> {
    let input =
        std::fs::read(&a.input).with_context(|| format!("reading {}", a.input.display()))?;
    let block_duration = parse_duration_ms(&a.max_block_duration)?;
    if block_duration < TWO_HOURS || block_duration % TWO_HOURS != 0 {
        bail!(
            "--max-block-duration must be a positive multiple of 2h, got {}",
            a.max_block_duration
        );
    }
    std::fs::create_dir_all(&a.output)
        .with_context(|| format!("creating {}", a.output.display()))?;

    // Group samples by block window, then by series.
    let mut windows: BTreeMap<i64, BTreeMap<Labels, Vec<(i64, f64)>>> = BTreeMap::new();
    let mut parser = Parser::from_bytes(&input, Format::OpenMetrics)?;
    while let Some(entry) = parser.next_entry()? {
        let Entry::Sample {
            name,
            labels,
            value,
            timestamp_ms,
            ..
        } = entry
        else {
            continue;
        };
        let labels = samples_to_labels(&name, &labels)?;
        let Some(t) = timestamp_ms else {
            bail!("expected timestamp for series {labels}, got none");
        };
        let window = t.div_euclid(block_duration) * block_duration;
        windows
            .entry(window)
            .or_default()
            .entry(labels)
            .or_default()
            .push((t, value));
    }

    for (window, mut series) in windows {
        let mut symbols = BTreeSet::new();
        let (mut mint, mut maxt) = (i64::MAX, i64::MIN);
        for (labels, samples) in series.iter_mut_sorted()? {
            for (n, v) in labels.iter() {
                symbols.insert(n.to_owned());
                symbols.insert(v.to_owned());
            }
            mint = mint.min(samples[0].0);
            maxt = maxt.max(samples[samples.len() - 1].0);
        }
        let mut w = BlockWriter::create(
            &a.output,
            mint,
            maxt + 1,
            symbols.iter().map(String::as_str),
        )?;
        for (labels, samples) in &series {
            w.add_series(labels, samples)?;
        }
        if let Some(meta) = w.finish(1, Vec::new())? {
            println!(
                "BLOCK ULID {} MIN TIME {} MAX TIME {} (window {}) series {} samples {}",
                meta.ulid,
                meta.min_time,
                meta.max_time,
                window,
                meta.stats.num_series,
                meta.stats.num_samples
            );
        }
    }
    Ok(())
}

/// Checks each series' samples are in time order and free of conflicting duplicates
/// (identical duplicates are dropped, as the TSDB ignores them).
trait SortedSeries {
    fn iter_mut_sorted(&mut self) -> anyhow::Result<SeriesRefs<'_>>;
}

type SeriesRefs<'a> = Vec<(&'a Labels, &'a Vec<(i64, f64)>)>;

impl SortedSeries for BTreeMap<Labels, Vec<(i64, f64)>> {
    fn iter_mut_sorted(&mut self) -> anyhow::Result<SeriesRefs<'_>> {
        for (labels, samples) in self.iter_mut() {
            let mut out: Vec<(i64, f64)> = Vec::with_capacity(samples.len());
            for &(t, v) in samples.iter() {
                match out.last() {
                    Some(&(lt, _)) if t < lt => {
                        bail!("out of order sample for series {labels}: timestamp {t} after {lt}")
                    }
                    Some(&(lt, lv)) if t == lt => {
                        if lv.to_bits() != v.to_bits() {
                            bail!(
                                "duplicate sample for series {labels} at timestamp {t}: {lv} and {v}"
                            );
                        }
                    }
                    _ => out.push((t, v)),
                }
            }
            *samples = out;
        }
        Ok(self.iter().collect())
    }
}
