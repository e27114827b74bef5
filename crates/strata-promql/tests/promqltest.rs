//! Runs Prometheus' promqltest conformance files (shared/testdata/promql/*.test) against
//! the engine and prints a per-file table. Fails when the float-only pass count drops
//! below `promqltest_floor.txt`. It is a plain program (`harness = false`), so the table
//! is printed on every `cargo test` run, not only when it fails.
//!
//! - `PROMQLTEST_VERBOSE=1`: print every failure with file:line, query and reason;
//! - `PROMQLTEST_FILE=<name>`: run one file (`functions` or `functions.test`);
//! - `PROMQLTEST_DIR=<dir>`: read the files from elsewhere.

use std::collections::BTreeMap;
use std::path::PathBuf;

use strata_promql::promqltest::{Outcome, Runner, parse_script};

#[derive(Default, Clone, Copy)]
struct Counts {
    passed: usize,
    failed: usize,
    unsupported: usize,
}

impl Counts {
    fn add(&mut self, o: &Outcome) {
        match o {
            Outcome::Passed => self.passed += 1,
            Outcome::Failed(_) => self.failed += 1,
            Outcome::Unsupported(_) => self.unsupported += 1,
        }
    }
    fn total(&self) -> usize {
        self.passed + self.failed + self.unsupported
    }
    fn plus(&mut self, o: Counts) {
        self.passed += o.passed;
        self.failed += o.failed;
        self.unsupported += o.unsupported;
    }
}

fn data_dir() -> PathBuf {
    match std::env::var("PROMQLTEST_DIR") {
        Ok(d) => PathBuf::from(d),
        Err(_) => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/promql"),
    }
}

/// Per-file "evals involving native histograms" from SOURCE.md's file table.
fn source_hist_counts(dir: &std::path::Path) -> BTreeMap<String, usize> {
    let text = std::fs::read_to_string(dir.join("SOURCE.md")).unwrap_or_default();
    text.lines()
        .filter_map(|l| {
            let cols: Vec<&str> = l.split('|').map(str::trim).collect();
            let name = cols.get(1)?.strip_prefix('`')?.strip_suffix('`')?;
            let n = cols.get(4)?.parse().ok()?;
            Some((name.to_owned(), n))
        })
        .collect()
}

fn pct(n: usize, d: usize) -> f64 {
    if d == 0 {
        0.0
    } else {
        100.0 * n as f64 / d as f64
    }
}

fn main() {
    let dir = data_dir();
    let only = std::env::var("PROMQLTEST_FILE").ok();
    let verbose = std::env::var("PROMQLTEST_VERBOSE").is_ok_and(|v| v != "0" && !v.is_empty());
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "test"))
        .filter(|p| {
            only.as_deref().is_none_or(|o| {
                let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
                name == o || name.strip_suffix(".test") == Some(o)
            })
        })
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no .test files in {}", dir.display());

    let runner = Runner::default();
    let (mut tot_f, mut tot_h) = (Counts::default(), Counts::default());
    let mut unsupported: BTreeMap<String, usize> = BTreeMap::new();
    let source_hist = source_hist_counts(&dir);
    let mut src_total = 0;
    let src = |name: &str| {
        source_hist
            .get(name)
            .map_or("?".to_owned(), |n| n.to_string())
    };
    println!(
        "{:<28} {:>22} {:>22} {:>6} {:>10}",
        "file", "float-only p/f/u", "native-hist p/f/u", "hist", "SOURCE.md"
    );
    for path in &files {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("?")
            .to_owned();
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{name}: {e}"));
        let script = parse_script(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let (mut f, mut h) = (Counts::default(), Counts::default());
        for o in runner.run_script(&script) {
            if o.histograms {
                h.add(&o.outcome)
            } else {
                f.add(&o.outcome)
            }
            match &o.outcome {
                Outcome::Unsupported(feat) => *unsupported.entry(feat.clone()).or_default() += 1,
                Outcome::Failed(reason) if verbose => {
                    let kind = if o.histograms { "hist" } else { "float" };
                    println!("FAIL [{kind}] {name}:{} {}\n     {reason}", o.line, o.query)
                }
                _ => {}
            }
        }
        println!(
            "{:<28} {:>22} {:>22} {:>6} {:>10}",
            name,
            format!("{} / {} / {}", f.passed, f.failed, f.unsupported),
            format!("{} / {} / {}", h.passed, h.failed, h.unsupported),
            h.total(),
            src(&name)
        );
        tot_f.plus(f);
        tot_h.plus(h);
        src_total += source_hist.get(&name).copied().unwrap_or(0);
    }
    println!(
        "{:<28} {:>22} {:>22} {:>6} {:>10}",
        "TOTAL",
        format!(
            "{} / {} / {}",
            tot_f.passed, tot_f.failed, tot_f.unsupported
        ),
        format!(
            "{} / {} / {}",
            tot_h.passed, tot_h.failed, tot_h.unsupported
        ),
        tot_h.total(),
        src_total
    );
    println!(
        "evals {}; float-only {} passed of {} ({:.1}%); native-histogram {} passed of {} ({:.1}%)",
        tot_f.total() + tot_h.total(),
        tot_f.passed,
        tot_f.total(),
        pct(tot_f.passed, tot_f.total()),
        tot_h.passed,
        tot_h.total(),
        pct(tot_h.passed, tot_h.total()),
    );
    if !unsupported.is_empty() {
        println!("unsupported by feature:");
        for (feat, n) in &unsupported {
            println!("  {n:>5}  {feat}");
        }
    }
    if only.is_none() {
        let floor_path =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/promqltest_floor.txt");
        let floor: usize = std::fs::read_to_string(&floor_path)
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or_else(|| panic!("{} must hold one integer", floor_path.display()));
        println!("float-only floor: {floor}");
        assert!(
            tot_f.passed >= floor,
            "float-only passes {} fell below the floor {floor}",
            tot_f.passed
        );
    }
}
