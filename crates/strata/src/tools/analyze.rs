//! `strata tools tsdb analyze`: cardinality and churn of one block, in the layout of
//! `promtool tsdb analyze`.

use std::collections::HashMap;

use anyhow::{Context, bail};
use strata_model::duration::go_duration_string;
use strata_tsdb::Db;

use crate::cli::AnalyzeArgs;

pub fn run(a: &AnalyzeArgs) -> anyhow::Result<()> {
    let db = Db::open_read_only(&a.dir).with_context(|| format!("opening {}", a.dir.display()))?;
    let blocks = db.blocks();
    let block = match &a.block_id {
        Some(id) => blocks
            .iter()
            .find(|b| &b.meta().ulid == id)
            .with_context(|| format!("block {id} not found"))?,
        None => match blocks.iter().max_by_key(|b| b.meta().max_time) {
            Some(b) => b,
            None => bail!("no blocks found in {}", a.dir.display()),
        },
    };
    let meta = block.meta();
    let index = block.index();
    let span = (meta.max_time - meta.min_time).max(1) as u64;
    println!("Block ID: {}", meta.ulid);
    println!(
        "Duration: {}",
        go_duration_string(meta.max_time - meta.min_time)
    );
    let all = index.all_postings()?;
    println!("Series: {}", all.len());
    let names = index.label_names()?;
    println!("Label names: {}", names.len());

    let mut pair_uncovered: HashMap<String, u64> = HashMap::new();
    let mut name_uncovered: HashMap<String, u64> = HashMap::new();
    let mut pair_count: HashMap<String, u64> = HashMap::new();
    let mut entries = 0u64;
    for r in &all {
        let (labels, chunks) = index.series(*r)?;
        let (Some(first), Some(last)) = (chunks.first(), chunks.last()) else {
            continue;
        };
        let uncovered = span.saturating_sub((last.maxt - first.mint).max(0) as u64);
        for (n, v) in labels.iter() {
            let key = format!("{n}={v}");
            *name_uncovered.entry(n.to_owned()).or_default() += uncovered;
            *pair_uncovered.entry(key.clone()).or_default() += uncovered;
            *pair_count.entry(key).or_default() += 1;
            entries += 1;
        }
    }
    println!("Postings (unique label pairs): {}", pair_count.len());
    println!("Postings entries (total label pairs): {entries}");

    let scale = |m: HashMap<String, u64>| -> Vec<(String, u64)> {
        m.into_iter().map(|(k, v)| (k, v / span)).collect()
    };
    print_top(
        "Label pairs most involved in churning:",
        scale(pair_uncovered),
        a.limit,
    );
    print_top(
        "Label names most involved in churning:",
        scale(name_uncovered),
        a.limit,
    );
    print_top(
        "Most common label pairs:",
        pair_count.into_iter().collect(),
        a.limit,
    );

    let mut value_len = Vec::new();
    let mut cardinality = Vec::new();
    for n in &names {
        let values = index.label_values(n)?;
        value_len.push((n.clone(), values.iter().map(|v| v.len() as u64).sum()));
        cardinality.push((n.clone(), values.len() as u64));
    }
    print_top(
        "Label names with highest cumulative label value length:",
        value_len,
        a.limit,
    );
    print_top("Highest cardinality labels:", cardinality, a.limit);
    let mut metric_names = Vec::new();
    for v in index.label_values("__name__")? {
        let n = index.postings("__name__", &v)?.len() as u64;
        metric_names.push((v, n));
    }
    print_top("Highest cardinality metric names:", metric_names, a.limit);
    Ok(())
}

fn print_top(title: &str, mut items: Vec<(String, u64)>, limit: usize) {
    println!("\n{title}");
    items.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    for (k, v) in items.into_iter().take(limit) {
        println!("{v} {k}");
    }
}
