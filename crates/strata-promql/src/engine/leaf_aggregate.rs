//! Aggregations of a leaf (`sum by (job) (rate(x[5m]))`, `count(up)`) computed inside
//! series-major leaf evaluation.
//!
//! Each chunk of series folds its output at every step into the partial state of its
//! groups (numbered per chunk, in order of first appearance); the evaluator then
//! merges the chunks' partial states step by step, in chunk order, so that the groups
//! come out in the order in which the step's input vector would first show them, as
//! the step-major aggregation does. The leaf's samples are never built one by one.
//! Only aggregations without a parameter whose partial states merge are fused (see
//! [`super::accumulate`]).

use std::collections::HashMap;

use strata_model::Labels;

use super::accumulate::FloatAcc;
use super::aggregate::grouping_labels;
use super::leaf_step::{ChunkStep, Piece};
use super::selectors::LoadedSeries;
use crate::error::{QueryError, Result};
use crate::parser::ast::{AggregateExpr, AggregateOp};
use crate::value::{Annotations, Sample, SampleValue};

/// Marks a position that no group holds.
const NONE: u32 = u32::MAX;

/// Whether `a` can be computed from merged partial states.
pub fn fusable(a: &AggregateExpr) -> bool {
    a.param.is_none()
        && matches!(
            a.op,
            AggregateOp::Sum
                | AggregateOp::Avg
                | AggregateOp::Count
                | AggregateOp::Min
                | AggregateOp::Max
                | AggregateOp::Group
                | AggregateOp::Stddev
                | AggregateOp::Stdvar
        )
}

/// Adds to the state of `key` in `out` (`slot[key]`: its position, or [`NONE`]):
/// `update`s it, or appends the `new` one.
fn upsert(
    slot: &mut [u32],
    out: &mut Vec<(u32, FloatAcc)>,
    key: u32,
    new: impl FnOnce() -> FloatAcc,
    update: impl FnOnce(&mut FloatAcc),
) {
    let Some(pos) = slot.get_mut(key as usize) else {
        return;
    };
    match out.get_mut(*pos as usize) {
        Some((_, acc)) if *pos != NONE => update(acc),
        _ => {
            *pos = u32::try_from(out.len()).unwrap_or(NONE);
            out.push((key, new()));
        }
    }
}

/// One segment's partial aggregation at one step.
pub struct PartialStep {
    /// (segment-local group, state), in order of first appearance at the step.
    result: Result<Vec<(u32, FloatAcc)>>,
    /// Samples the leaf yielded at the step.
    input_len: usize,
    /// Samples a range function's argument held.
    held: usize,
    annotations: Annotations,
}

impl PartialStep {
    fn new() -> Self {
        PartialStep {
            result: Ok(Vec::new()),
            input_len: 0,
            held: 0,
            annotations: Annotations::default(),
        }
    }
}

/// One segment's partial aggregations at every step.
pub struct PartialChunk {
    /// Segment-local group number -> group labels.
    groups: Vec<Labels>,
    steps: Vec<Option<PartialStep>>,
}

/// The groups of a segment (consecutive chunks of series evaluated by one task), and
/// the fold of its chunks' steps into one partial state per group and step.
pub struct ChunkGroups<'a> {
    op: AggregateOp,
    grouping: &'a [String],
    without: bool,
    labels: Vec<Labels>,
    index: HashMap<Labels, u32>,
    /// Group of each series of the current chunk.
    of_series: Vec<u32>,
    /// Per step: local group -> position in the step's states.
    slots: Vec<Vec<u32>>,
    steps: Vec<PartialStep>,
}

impl<'a> ChunkGroups<'a> {
    pub fn new(a: &'a AggregateExpr, steps: usize) -> Self {
        ChunkGroups {
            op: a.op,
            grouping: &a.grouping,
            without: a.without,
            labels: Vec::new(),
            index: HashMap::new(),
            of_series: Vec::new(),
            slots: (0..steps).map(|_| Vec::new()).collect(),
            steps: (0..steps).map(|_| PartialStep::new()).collect(),
        }
    }

    /// Starts the segment's next chunk of series.
    pub fn begin_chunk(&mut self, series: &[LoadedSeries]) {
        let mut of_series = std::mem::take(&mut self.of_series);
        of_series.clear();
        of_series.extend(series.iter().map(|s| self.group_of(&s.labels)));
        self.of_series = of_series;
    }

    fn group_of(&mut self, metric: &Labels) -> u32 {
        let key = grouping_labels(metric, self.grouping, self.without);
        if let Some(&lg) = self.index.get(&key) {
            return lg;
        }
        let lg = u32::try_from(self.labels.len()).unwrap_or(NONE - 1);
        self.labels.push(key.clone());
        self.index.insert(key, lg);
        lg
    }

    /// Folds the current chunk's output at step number `i`.
    pub fn push_step(&mut self, i: usize, step: ChunkStep) {
        let Some(p) = self.steps.get_mut(i) else {
            return;
        };
        p.held += step.held;
        p.annotations.warnings.extend(step.annotations.warnings);
        p.annotations.infos.extend(step.annotations.infos);
        let piece = match step.result {
            Ok(piece) => piece,
            Err(e) => {
                // The first error in series order is the step's.
                if p.result.is_ok() {
                    p.result = Err(e);
                }
                return;
            }
        };
        p.input_len += match &piece {
            Piece::Compact(v) => v.len(),
            Piece::Full(v) => v.len(),
        };
        if p.result.is_err() {
            return;
        }
        if let Err(e) = self.fold(i, piece)
            && let Some(p) = self.steps.get_mut(i)
        {
            p.result = Err(e);
        }
    }

    fn fold(&mut self, i: usize, piece: Piece) -> Result<()> {
        // (local group, drop the name, value) of each sample.
        let (entries, failed) = match piece {
            Piece::Compact(mut v) => {
                for e in &mut v {
                    e.0 = self.of_series.get(e.0 as usize).copied().unwrap_or(NONE);
                }
                (v, None)
            }
            Piece::Full(samples) => {
                // Rare (not produced for float series): labels looked up one by one.
                let mut v = Vec::with_capacity(samples.len());
                let mut failed = None;
                for smp in samples {
                    let SampleValue::Float(f) = smp.value else {
                        failed = Some(QueryError::Execution(
                            "aggregating native histograms is not supported".into(),
                        ));
                        break;
                    };
                    v.push((self.group_of(&smp.metric), smp.drop_name, f));
                }
                (v, failed)
            }
        };
        let op = self.op;
        if let (
            Some(slot),
            Some(PartialStep {
                result: Ok(out), ..
            }),
        ) = (self.slots.get_mut(i), self.steps.get_mut(i))
        {
            for (lg, drop_name, f) in entries {
                if lg == NONE {
                    continue;
                }
                if slot.len() <= lg as usize {
                    slot.resize(lg as usize + 1, NONE);
                }
                upsert(
                    slot,
                    out,
                    lg,
                    || FloatAcc::first(op, f, drop_name),
                    |acc| acc.add(op, f, drop_name),
                );
            }
        }
        failed.map_or(Ok(()), Err)
    }

    pub fn finish(self) -> PartialChunk {
        PartialChunk {
            groups: self.labels,
            steps: self.steps.into_iter().map(Some).collect(),
        }
    }
}

/// A fused aggregation's output at every step, merged from the chunks' partial states.
pub struct FusedAggregate {
    steps: Vec<Option<AggregateStep>>,
}

/// A fused aggregation's output at one step.
pub struct AggregateStep {
    /// The leaf is an instant selector (not a range function).
    pub instant: bool,
    pub result: Result<Vec<Sample>>,
    pub input_len: usize,
    pub held: usize,
    pub annotations: Annotations,
}

/// Steps merged per parallel task.
const STEPS_PER_TASK: usize = 8;

/// Partial states below which a merge does not start threads.
const MIN_STATES_PER_THREAD: usize = 20_000;

impl FusedAggregate {
    /// Numbers the chunks' groups globally (in chunk order), then merges every step
    /// (the step at `ts[i]`), steps in parallel on up to `threads` threads.
    pub fn merge(
        op: AggregateOp,
        instant: bool,
        chunks: Vec<PartialChunk>,
        ts: &[i64],
        threads: usize,
    ) -> Result<Self> {
        let mut labels: Vec<Labels> = Vec::new();
        let mut index: HashMap<Labels, u32> = HashMap::new();
        let mut maps = Vec::with_capacity(chunks.len());
        let mut by_step: Vec<Vec<(usize, PartialStep)>> = ts.iter().map(|_| Vec::new()).collect();
        for (ci, c) in chunks.into_iter().enumerate() {
            let mut map = Vec::with_capacity(c.groups.len());
            for l in c.groups {
                let next = u32::try_from(labels.len()).unwrap_or(NONE - 1);
                let g = *index.entry(l.clone()).or_insert(next);
                if g == next {
                    labels.push(l);
                }
                map.push(g);
            }
            maps.push(map);
            for (step, p) in by_step.iter_mut().zip(c.steps) {
                if let Some(p) = p {
                    step.push((ci, p));
                }
            }
        }
        // Merging costs about as much per partial state as a thread costs to start
        // per few thousand: small merges stay on this thread.
        let states: usize = by_step
            .iter()
            .flatten()
            .map(|(_, p)| p.result.as_ref().map_or(0, Vec::len))
            .sum();
        let threads = if states < MIN_STATES_PER_THREAD {
            1
        } else {
            threads
        };
        let mut tasks = Vec::with_capacity(by_step.len().div_ceil(STEPS_PER_TASK));
        let mut it = by_step.into_iter().zip(ts.iter().copied()).peekable();
        while it.peek().is_some() {
            tasks.push(it.by_ref().take(STEPS_PER_TASK).collect::<Vec<_>>());
        }
        let merger = Merger {
            op,
            instant,
            labels: &labels,
            maps: &maps,
        };
        let merged = super::parallel::try_map(tasks, threads, |_, task| {
            let mut slot = vec![NONE; labels.len()];
            Ok(task
                .into_iter()
                .map(|(parts, t)| Some(merger.step(parts, t, &mut slot)))
                .collect::<Vec<_>>())
        })?;
        Ok(FusedAggregate {
            steps: merged.into_iter().flatten().collect(),
        })
    }

    /// The output at step number `i`; `None` when taken already.
    pub fn take(&mut self, i: usize) -> Option<AggregateStep> {
        self.steps.get_mut(i)?.take()
    }
}

/// What merging a step needs.
struct Merger<'a> {
    op: AggregateOp,
    instant: bool,
    /// Global group number -> labels.
    labels: &'a [Labels],
    /// Per chunk: local group -> global group.
    maps: &'a [Vec<u32>],
}

impl Merger<'_> {
    /// Merges the chunks' partial states at one step, in chunk order. `slot` (global
    /// group -> position in the output) is all [`NONE`] before and after.
    fn step(&self, parts: Vec<(usize, PartialStep)>, t: i64, slot: &mut [u32]) -> AggregateStep {
        let mut out = AggregateStep {
            instant: self.instant,
            result: Ok(Vec::new()),
            input_len: 0,
            held: 0,
            annotations: Annotations::default(),
        };
        let mut merged: Vec<(u32, FloatAcc)> = Vec::new();
        for (ci, p) in parts {
            out.input_len += p.input_len;
            out.held += p.held;
            out.annotations.warnings.extend(p.annotations.warnings);
            out.annotations.infos.extend(p.annotations.infos);
            if out.result.is_err() {
                continue;
            }
            let partial = match p.result {
                Ok(v) => v,
                Err(e) => {
                    out.result = Err(e);
                    continue;
                }
            };
            let map = self.maps.get(ci).map(Vec::as_slice).unwrap_or_default();
            for (lg, acc) in partial {
                let Some(&g) = map.get(lg as usize) else {
                    continue;
                };
                upsert(slot, &mut merged, g, || acc, |m| m.merge(self.op, &acc));
            }
        }
        for (g, _) in &merged {
            if let Some(p) = slot.get_mut(*g as usize) {
                *p = NONE;
            }
        }
        if let Ok(v) = &mut out.result {
            v.reserve(merged.len());
            for (g, acc) in merged {
                v.push(Sample {
                    metric: self.labels.get(g as usize).cloned().unwrap_or_default(),
                    t,
                    value: SampleValue::Float(acc.finish(self.op)),
                    drop_name: acc.drop_name,
                });
            }
        }
        out
    }
}

#[cfg(test)]
#[path = "leaf_aggregate_tests.rs"]
mod tests;
