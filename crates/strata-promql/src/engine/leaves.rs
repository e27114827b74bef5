//! Series-major evaluation of selector leaves.
//!
//! A leaf is an instant selector, or a call of a per-series range function
//! (`rate(x[5m])`, `max_over_time(x[10m])`, `quantile_over_time(0.9, x[1h])`, …) on a
//! range selector with only number literals as its other arguments, that is evaluated
//! at the query's own steps (not inside a subquery). What a leaf yields at a step
//! depends only on each series' own samples, so instead of visiting every series at
//! every step (which for large selections misses the cache on every series), the
//! series are cut into chunks, and each chunk is decoded and evaluated over all steps
//! while its samples are in cache, on a few threads; the chunks' outputs are then
//! concatenated per step, in series order. The per-step evaluator takes a leaf's
//! output at each step instead of evaluating it, so the result, the errors, the
//! annotations and the sample accounting are the ones of step-major evaluation.

use std::collections::{HashMap, HashSet};

use super::leaf_aggregate::{self, AggregateStep, ChunkGroups, FusedAggregate};
use super::leaf_step::{ChunkStep, Piece, chunk_steps};
use super::limits::Deadline;
use super::parallel;
use super::selectors::{LazySelection, QueryTimes, chunked, load_series, selector_key};
use crate::error::Result;
use crate::parser::ast::{AggregateExpr, Call, Expr, VectorSelector};
use crate::value::{Annotations, Sample, SampleValue};

/// Range functions whose output for a series depends only on that series' samples in
/// the window and on number arguments.
const PER_SERIES_RANGE_FUNCTIONS: &[&str] = &[
    "rate",
    "increase",
    "delta",
    "irate",
    "idelta",
    "changes",
    "resets",
    "deriv",
    "predict_linear",
    "double_exponential_smoothing",
    "holt_winters",
    "avg_over_time",
    "sum_over_time",
    "count_over_time",
    "min_over_time",
    "max_over_time",
    "stddev_over_time",
    "stdvar_over_time",
    "mad_over_time",
    "last_over_time",
    "first_over_time",
    "present_over_time",
    "quantile_over_time",
    "ts_of_first_over_time",
    "ts_of_last_over_time",
    "ts_of_min_over_time",
    "ts_of_max_over_time",
];

/// Series evaluated together: few enough that their samples stay in cache.
const SERIES_PER_CHUNK: usize = 64;

/// Runs of chunks a fused aggregation is split into (the tasks run in parallel).
const AGGREGATE_SEGMENTS: usize = 16;

/// A leaf of the expression.
#[derive(Clone, Copy)]
pub enum Leaf<'a> {
    /// An instant selector (not `smoothed`, not the argument of `timestamp`).
    Instant(&'a VectorSelector),
    /// A per-series range function on a range selector.
    Range {
        call: &'a Call,
        selector: &'a VectorSelector,
        range: &'a crate::parser::ast::Duration,
    },
}

impl Leaf<'_> {
    /// The key the evaluator looks the leaf up by.
    fn node_key(&self) -> usize {
        match self {
            Leaf::Instant(vs) => selector_key(vs),
            Leaf::Range { call, .. } => std::ptr::from_ref(*call) as usize,
        }
    }

    /// The key of the selector whose series the leaf reads.
    pub fn selector_key(&self) -> usize {
        match self {
            Leaf::Instant(vs) => selector_key(vs),
            Leaf::Range { selector, .. } => selector_key(selector),
        }
    }
}

/// A leaf found in the expression, and the aggregation computed along with it.
#[derive(Clone, Copy)]
pub struct Found<'a> {
    pub leaf: Leaf<'a>,
    /// An aggregation of the leaf whose partial states merge ([`leaf_aggregate`]).
    pub aggregate: Option<&'a AggregateExpr>,
}

impl Found<'_> {
    fn bare(leaf: Leaf<'_>) -> Found<'_> {
        Found {
            leaf,
            aggregate: None,
        }
    }
}

/// The leaf `e` is, if any.
fn as_leaf(e: &Expr) -> Option<Leaf<'_>> {
    match e.unwrap_parens() {
        Expr::VectorSelector(vs) if !vs.smoothed => Some(Leaf::Instant(vs)),
        Expr::Call(c) if PER_SERIES_RANGE_FUNCTIONS.contains(&c.func.name) => range_leaf(c),
        _ => None,
    }
}

/// The leaves of `e` (see the module documentation).
pub fn find<'a>(e: &'a Expr, out: &mut Vec<Found<'a>>) {
    match e {
        Expr::VectorSelector(vs) => {
            if !vs.smoothed {
                out.push(Found::bare(Leaf::Instant(vs)));
            }
        }
        Expr::Number(_) | Expr::String(_) | Expr::MatrixSelector(_) | Expr::Subquery(_) => {}
        Expr::Paren(x) => find(x, out),
        Expr::Unary(u) => find(&u.expr, out),
        Expr::Binary(b) => {
            find(&b.lhs, out);
            find(&b.rhs, out);
        }
        Expr::Aggregate(a) => {
            if leaf_aggregate::fusable(a)
                && let Some(leaf) = as_leaf(&a.expr)
            {
                out.push(Found {
                    leaf,
                    aggregate: Some(a),
                });
                return;
            }
            if let Some(p) = &a.param {
                find(p, out);
            }
            find(&a.expr, out);
        }
        Expr::Call(c) => match c.func.name {
            // Reads its selector argument with the samples' own timestamps.
            "timestamp" => {
                if let Some(a) = c.args.first()
                    && !matches!(a.unwrap_parens(), Expr::VectorSelector(_))
                {
                    find(a, out);
                }
            }
            // The second argument only names the info series.
            "info" => {
                if let Some(a) = c.args.first() {
                    find(a, out);
                }
            }
            name if PER_SERIES_RANGE_FUNCTIONS.contains(&name) => {
                if let Some(leaf) = range_leaf(c) {
                    out.push(Found::bare(leaf));
                }
            }
            _ => c.args.iter().for_each(|a| find(a, out)),
        },
    }
}

/// `c` as a range leaf: one range-selector argument, every other a number.
fn range_leaf(c: &Call) -> Option<Leaf<'_>> {
    let mut found = None;
    for a in &c.args {
        match a.unwrap_parens() {
            Expr::MatrixSelector(ms) if found.is_none() => found = Some(ms),
            Expr::Number(_) => {}
            _ => return None,
        }
    }
    let ms = found?;
    Some(Leaf::Range {
        call: c,
        selector: &ms.selector,
        range: &ms.range,
    })
}

/// What a leaf yields at one step (all chunks merged).
#[derive(Debug)]
pub struct StepOut {
    pub result: Result<Vec<Sample>>,
    /// Samples a range function's argument held (for the sample limit and stats).
    pub held: usize,
    pub annotations: Annotations,
}

/// One chunk's output at every step, and the labels of its series.
struct ChunkOut {
    labels: Vec<strata_model::Labels>,
    steps: Vec<Option<ChunkStep>>,
}

/// The outputs of every leaf at every step of the query.
#[derive(Default)]
pub struct Leaves {
    by_node: HashMap<usize, Vec<ChunkOut>>,
    /// Fused aggregations, by aggregation node.
    by_aggregate: HashMap<usize, FusedAggregate>,
    start: i64,
    step: i64,
}

impl std::fmt::Debug for Leaves {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Leaves")
            .field("nodes", &self.by_node.len())
            .finish()
    }
}

impl Leaves {
    /// The number of the query step at `t`.
    fn step_index(&self, t: i64) -> Option<usize> {
        if self.step <= 0 {
            return Some(0);
        }
        let d = t.checked_sub(self.start)?;
        if d % self.step != 0 {
            return None;
        }
        usize::try_from(d / self.step).ok()
    }

    /// The output of the fused aggregation `node` (an [`AggregateExpr`]'s address) at
    /// `t`, if it was computed series-major and `t` is one of the query's steps.
    pub fn take_aggregate(&mut self, node: usize, t: i64) -> Option<AggregateStep> {
        let i = self.step_index(t)?;
        self.by_aggregate.get_mut(&node)?.take(i)
    }

    /// The output of the leaf `node` at `t`, if it is a leaf evaluated series-major
    /// (and `t` one of the query's steps), with the chunks' outputs concatenated.
    pub fn take(&mut self, node: usize, t: i64) -> Option<StepOut> {
        let i = self.step_index(t)?;
        let chunks = self.by_node.get_mut(&node)?;
        let mut parts = Vec::with_capacity(chunks.len());
        for c in chunks.iter_mut() {
            parts.push(c.steps.get_mut(i)?.take()?);
        }
        let len: usize = parts
            .iter()
            .map(|p| match &p.result {
                Ok(Piece::Compact(v)) => v.len(),
                Ok(Piece::Full(v)) => v.len(),
                Err(_) => 0,
            })
            .sum();
        let mut out = StepOut {
            result: Ok(Vec::with_capacity(len)),
            held: 0,
            annotations: Annotations::default(),
        };
        for (c, p) in chunks.iter().zip(parts) {
            out.held += p.held;
            out.annotations.warnings.extend(p.annotations.warnings);
            out.annotations.infos.extend(p.annotations.infos);
            let Ok(v) = &mut out.result else { continue };
            match p.result {
                Ok(Piece::Compact(samples)) => {
                    v.extend(samples.into_iter().map(|(j, drop_name, f)| Sample {
                        metric: c.labels.get(j as usize).cloned().unwrap_or_default(),
                        t,
                        value: SampleValue::Float(f),
                        drop_name,
                    }));
                }
                Ok(Piece::Full(mut samples)) => v.append(&mut samples),
                Err(e) => out.result = Err(e),
            }
        }
        Some(out)
    }
}

/// The steps of the query: `start`, `start + step`, … up to `end`.
fn steps(qt: &QueryTimes) -> Vec<i64> {
    let mut out = vec![qt.start];
    if qt.step <= 0 {
        return out;
    }
    let mut t = qt.start;
    while let Some(n) = t.checked_add(qt.step) {
        if n > qt.end {
            break;
        }
        out.push(n);
        t = n;
    }
    out
}

/// The keys of the selectors read by `leaves` (loaded lazily by the preload).
pub fn selector_keys(leaves: &[Found<'_>]) -> HashSet<usize> {
    leaves.iter().map(|f| f.leaf.selector_key()).collect()
}

/// Evaluates every leaf at every step over its lazily selected series.
pub fn evaluate(
    leaves: &[Found<'_>],
    lazy: &mut HashMap<usize, LazySelection>,
    qt: &QueryTimes,
    deadline: &Deadline,
    threads: usize,
) -> Result<Leaves> {
    let ts = steps(qt);
    let mut out = Leaves {
        by_node: HashMap::new(),
        by_aggregate: HashMap::new(),
        start: qt.start,
        step: qt.step,
    };
    for found in leaves {
        let leaf = &found.leaf;
        let Some(sel) = lazy.remove(&leaf.selector_key()) else {
            continue;
        };
        let (start, end, range) = (sel.start, sel.end, sel.range);
        let mut chunks = chunked(sel.series, SERIES_PER_CHUNK);
        if chunks.is_empty() {
            // Functions are still called (with no series) at every step: some fail
            // or annotate on their arguments alone.
            chunks.push(Vec::new());
        }
        let load = |chunk: Vec<_>| {
            deadline.check()?;
            chunk
                .into_iter()
                .map(|s| load_series(s, start, end, range))
                .collect::<Result<Vec<_>>>()
        };
        if let Some(a) = found.aggregate {
            // Consecutive chunks fold into one partial state per group and step
            // (fewer states to merge); a fixed number of segments keeps the result
            // independent of the number of threads.
            let per_segment = chunks.len().div_ceil(AGGREGATE_SEGMENTS).max(1);
            let segments = chunked(chunks, per_segment);
            let per_chunk = parallel::try_map(segments, threads, |_, segment| {
                let mut groups = ChunkGroups::new(a, ts.len());
                for chunk in segment {
                    let loaded = load(chunk)?;
                    groups.begin_chunk(&loaded);
                    let mut i = 0;
                    chunk_steps(leaf, &loaded, qt, &ts, |s| {
                        groups.push_step(i, s);
                        i += 1;
                    });
                }
                Ok(groups.finish())
            })?;
            let instant = matches!(leaf, Leaf::Instant(_));
            let fused = FusedAggregate::merge(a.op, instant, per_chunk, &ts, threads)?;
            out.by_aggregate
                .insert(std::ptr::from_ref(a) as usize, fused);
            continue;
        }
        let per_chunk = parallel::try_map(chunks, threads, |_, chunk| {
            let loaded = load(chunk)?;
            let mut steps = Vec::with_capacity(ts.len());
            chunk_steps(leaf, &loaded, qt, &ts, |s| steps.push(Some(s)));
            Ok(ChunkOut {
                labels: loaded.into_iter().map(|s| s.labels).collect(),
                steps,
            })
        })?;
        out.by_node.insert(leaf.node_key(), per_chunk);
    }
    Ok(out)
}
