//! Executing a parsed script against the engine and classifying every eval.

use std::collections::BTreeSet;
use std::time::Duration;

use super::compare::check_outcome;
use super::script::{Command, Eval, EvalKind, Script};
use super::series::parse_string;
use super::storage::TestStorage;
use crate::engine::{Engine, EngineOptions, QueryOptions};

/// What happened to one eval.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Passed,
    Failed(String),
    /// The eval needs a feature the engine or this runner does not support (its name).
    Unsupported(String),
}

/// One eval's outcome with its classification.
#[derive(Debug, Clone)]
pub struct EvalOutcome {
    pub line: usize,
    pub query: String,
    /// True when the eval involves native histograms (see [`involves_histograms`]).
    pub histograms: bool,
    pub outcome: Outcome,
}

/// The engine settings the test files assume (Prometheus' test engine).
pub fn test_engine_options() -> EngineOptions {
    EngineOptions {
        lookback_delta_ms: 5 * 60 * 1000,
        max_samples: 10_000,
        timeout: Duration::from_secs(100),
        experimental_functions: true,
        ..EngineOptions::default()
    }
}

/// Runs scripts against an engine.
#[derive(Debug, Clone)]
pub struct Runner {
    engine: Engine,
    query_opts: QueryOptions,
}

impl Default for Runner {
    fn default() -> Self {
        Runner::new(Engine::new(test_engine_options()))
    }
}

/// Identifiers and string literals in a query (for name-based classification).
pub fn query_names(query: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut i = 0;
    while i < query.len() {
        let rest = &query[i..];
        let Some(c) = rest.chars().next() else { break };
        if matches!(c, '"' | '\'' | '`') {
            match parse_string(rest) {
                Ok((s, r)) => {
                    out.insert(s);
                    i = query.len() - r.len();
                }
                Err(_) => break,
            }
        } else if c.is_ascii_alphabetic() || c == '_' || c == ':' {
            let n = rest
                .find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_' || ch == ':'))
                .unwrap_or(rest.len());
            out.insert(rest[..n].to_owned());
            i += n;
        } else {
            i += c.len_utf8();
        }
    }
    out
}

/// The classification rule (the one SOURCE.md's counts use): an eval involves native
/// histograms when its expected output contains a histogram, or its query names (as an
/// identifier or a string literal) a metric that got histogram samples since the last
/// `clear`, or it uses a `__name__` matcher while any histogram is loaded.
pub fn involves_histograms(eval: &Eval, histogram_metrics: &BTreeSet<String>) -> bool {
    if eval.expects_histograms() {
        return true;
    }
    if histogram_metrics.is_empty() {
        return false;
    }
    let names = query_names(&eval.query);
    names.contains("__name__") || names.iter().any(|n| histogram_metrics.contains(n))
}

const EXPERIMENTAL_FUNCTIONS: &[&str] = &[
    "info",
    "histogram_quantiles",
    "double_exponential_smoothing",
    "mad_over_time",
    "ts_of_min_over_time",
    "ts_of_max_over_time",
    "ts_of_first_over_time",
    "ts_of_last_over_time",
    "sort_by_label",
    "sort_by_label_desc",
    "start_timestamp",
    "limitk",
    "limit_ratio",
];

/// The optional features a query visibly uses (FORMAT.md §8.1 names), in report order.
pub fn query_features(query: &str) -> Vec<&'static str> {
    let names = query_names(query);
    let compact: String = query.chars().filter(|c| !c.is_whitespace()).collect();
    let mut f = Vec::new();
    if names.contains("start_timestamp") {
        f.push("start timestamps");
    }
    if names.contains("anchored") || names.contains("smoothed") {
        f.push("extended range selectors");
    }
    if compact.contains("</") || compact.contains(">/") {
        f.push("histogram trim operators");
    }
    if ["fill(", "fill_left(", "fill_right("]
        .iter()
        .any(|p| compact.contains(p))
    {
        f.push("fill modifiers");
    }
    if EXPERIMENTAL_FUNCTIONS
        .iter()
        .any(|n| compact.contains(&format!("{n}(")))
    {
        f.push("experimental functions");
    }
    let duration_expr = [
        "step()", "range()", "min_of(", "max_of(", "offset(", "offset-(",
    ]
    .iter()
    .any(|p| compact.contains(p))
        || compact.split('[').skip(1).any(|seg| {
            let inside = seg.split(']').next().unwrap_or("");
            inside.contains(['+', '*', '/', '(', '%', '^']) || inside.contains("-")
        });
    if duration_expr {
        f.push("duration expressions");
    }
    f
}

/// True when an engine error says a feature is not supported.
pub fn is_unsupported_error(msg: &str) -> bool {
    let m = msg.to_ascii_lowercase();
    [
        "not supported",
        "unsupported",
        "not implemented",
        "not yet supported",
    ]
    .iter()
    .any(|p| m.contains(p))
}

impl Runner {
    pub fn new(engine: Engine) -> Self {
        Runner {
            engine,
            query_opts: QueryOptions::default(),
        }
    }

    /// Runs every command of `script` from an empty storage.
    pub fn run_script(&self, script: &Script) -> Vec<EvalOutcome> {
        let mut storage = TestStorage::new();
        let mut out = Vec::new();
        let mut load_error: Option<String> = None;
        for cmd in &script.commands {
            match cmd {
                Command::Clear { .. } => {
                    storage.clear();
                    load_error = None;
                }
                Command::Load(load) => {
                    if let Err(e) = storage.apply_load(load) {
                        load_error = Some(format!("load at line {}: {e}", load.line));
                    }
                }
                Command::Eval(eval) => {
                    let hist_names = storage.histogram_metric_names();
                    let histograms = involves_histograms(eval, &hist_names);
                    let outcome = match &load_error {
                        Some(e) => Outcome::Failed(e.clone()),
                        None => self.run_eval(&storage, eval),
                    };
                    out.push(EvalOutcome {
                        line: eval.line,
                        query: eval.query.clone(),
                        histograms,
                        outcome,
                    });
                }
            }
        }
        out
    }

    /// Runs one eval against `storage`.
    pub fn run_eval(&self, storage: &TestStorage, eval: &Eval) -> Outcome {
        let features = query_features(&eval.query);
        if features.contains(&"start timestamps") || storage.has_start_timestamps() {
            // The storage trait carries no start timestamps, so results would differ.
            return Outcome::Unsupported("start timestamps".into());
        }
        let result = match eval.kind {
            EvalKind::Instant { at } => {
                self.engine
                    .instant_query(storage, &eval.query, at, &self.query_opts)
            }
            EvalKind::Range { start, end, step } => {
                self.engine
                    .range_query(storage, &eval.query, start, end, step, &self.query_opts)
            }
        };
        if let Err(e) = &result {
            let msg = e.to_string();
            if is_unsupported_error(&msg) {
                let name = features
                    .first()
                    .map(|f| (*f).to_owned())
                    .unwrap_or_else(|| format!("engine: {}", truncate(&msg, 70)));
                return Outcome::Unsupported(name);
            }
        }
        match check_outcome(eval, &result) {
            Ok(()) => Outcome::Passed,
            Err(reason) => Outcome::Failed(reason),
        }
    }
}

fn truncate(s: &str, n: usize) -> String {
    match s.char_indices().nth(n) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}
