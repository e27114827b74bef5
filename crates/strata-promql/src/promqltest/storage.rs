//! In-memory storage for promqltest scripts.
//!
//! Float samples (including staleness markers) are served through the storage trait.
//! The trait carries floats only, so histogram samples and start timestamps are kept
//! aside: they are stored and can be inspected, and the storage records that the test
//! data contains them so the runner can classify evals.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use strata_model::storage::{Querier, Queryable, SelectHints, Series, SeriesSet, VecSamples};
use strata_model::{Labels, METRIC_NAME, Matcher};

use super::script::Load;
use super::series::{SeqValue, spans_from_map};
use crate::value::FloatHistogram;

/// The samples of one series.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StoredSeries {
    /// Float samples in timestamp order (one per timestamp).
    pub floats: Vec<(i64, f64)>,
    /// Histogram samples in timestamp order; invisible through the storage trait.
    pub histograms: Vec<(i64, FloatHistogram)>,
    /// `(sample timestamp, start timestamp)` pairs from `@st` lines.
    pub start_timestamps: Vec<(i64, i64)>,
}

/// An in-memory [`Queryable`]; cheap to clone (copy-on-write).
#[derive(Debug, Clone, Default)]
pub struct TestStorage {
    data: Arc<BTreeMap<Labels, StoredSeries>>,
}

fn upsert<T>(v: &mut Vec<(i64, T)>, t: i64, x: T) {
    match v.binary_search_by_key(&t, |p| p.0) {
        Ok(i) => v[i].1 = x,
        Err(i) => v.insert(i, (t, x)),
    }
}

impl TestStorage {
    pub fn new() -> Self {
        TestStorage::default()
    }

    /// Drops everything (the `clear` command).
    pub fn clear(&mut self) {
        self.data = Arc::default();
    }

    fn entry(&mut self, labels: &Labels) -> &mut StoredSeries {
        Arc::make_mut(&mut self.data)
            .entry(labels.clone())
            .or_default()
    }

    /// Adds (or replaces) the float sample at `t`.
    pub fn append_float(&mut self, labels: &Labels, t: i64, v: f64) {
        upsert(&mut self.entry(labels).floats, t, v);
    }

    /// Adds (or replaces) the histogram sample at `t`.
    pub fn append_histogram(&mut self, labels: &Labels, t: i64, h: FloatHistogram) {
        upsert(&mut self.entry(labels).histograms, t, h);
    }

    /// Records the start timestamp of the sample at `t`.
    pub fn set_start_timestamp(&mut self, labels: &Labels, t: i64, st: i64) {
        upsert(&mut self.entry(labels).start_timestamps, t, st);
    }

    /// All stored series.
    pub fn series(&self) -> &BTreeMap<Labels, StoredSeries> {
        &self.data
    }

    /// True when any series holds a histogram sample.
    pub fn has_histograms(&self) -> bool {
        self.data.values().any(|s| !s.histograms.is_empty())
    }

    /// True when any sample carries a start timestamp.
    pub fn has_start_timestamps(&self) -> bool {
        self.data.values().any(|s| !s.start_timestamps.is_empty())
    }

    /// Metric names of the series holding histogram samples.
    pub fn histogram_metric_names(&self) -> BTreeSet<String> {
        self.data
            .iter()
            .filter(|(_, s)| !s.histograms.is_empty())
            .map(|(l, _)| l.metric_name().unwrap_or("").to_owned())
            .collect()
    }

    /// Applies a `load` block (and, for `load_with_nhcb`, the classic → custom-bucket
    /// histogram conversion).
    pub fn apply_load(&mut self, load: &Load) -> Result<(), String> {
        for s in &load.series {
            for (k, v) in s.values.iter().enumerate() {
                let t = k as i64 * load.interval_ms;
                match v {
                    SeqValue::Missing => continue,
                    SeqValue::Float(f) => self.append_float(&s.labels, t, *f),
                    SeqValue::Histogram(h) => self.append_histogram(&s.labels, t, h.h.clone()),
                }
                if let Some(Some(off)) = s.start_offsets.as_ref().and_then(|o| o.get(k)) {
                    self.set_start_timestamp(&s.labels, t, t + off);
                }
            }
        }
        if load.with_nhcb {
            self.convert_nhcb(load)?;
        }
        Ok(())
    }

    fn convert_nhcb(&mut self, load: &Load) -> Result<(), String> {
        #[derive(Default)]
        struct Group {
            buckets: Vec<(f64, Labels)>,
            count: Option<Labels>,
            sum: Option<Labels>,
        }
        let mut groups: BTreeMap<Labels, Group> = BTreeMap::new();
        for s in &load.series {
            let Some(name) = s.labels.metric_name() else {
                continue;
            };
            let (base, kind) = if let Some(b) = name.strip_suffix("_bucket") {
                (b, 0)
            } else if let Some(b) = name.strip_suffix("_count") {
                (b, 1)
            } else if let Some(b) = name.strip_suffix("_sum") {
                (b, 2)
            } else {
                continue;
            };
            let mut key = s.labels.to_builder();
            key.set(METRIC_NAME, base).del("le");
            let key = key.build().map_err(|e| e.to_string())?;
            let g = groups.entry(key).or_default();
            match kind {
                0 => {
                    let le = s
                        .labels
                        .get("le")
                        .ok_or_else(|| format!("{} has no le label", s.labels))?;
                    match super::series::parse_number(le) {
                        Some(b) if !b.is_nan() && !g.buckets.iter().any(|x| x.0 == b) => {
                            g.buckets.push((b, s.labels.clone()))
                        }
                        _ => {}
                    }
                }
                1 => g.count = Some(s.labels.clone()),
                _ => g.sum = Some(s.labels.clone()),
            }
        }
        for (key, mut g) in groups {
            if g.buckets.is_empty() {
                continue;
            }
            g.buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
            let value_at = |st: &Self, l: &Labels, t: i64| -> Option<f64> {
                let f = &st.data.get(l)?.floats;
                let i = f.binary_search_by_key(&t, |p| p.0).ok()?;
                Some(f[i].1).filter(|v| !strata_model::is_stale_nan(*v))
            };
            let mut times = BTreeSet::new();
            for (_, l) in &g.buckets {
                if let Some(s) = self.data.get(l) {
                    times.extend(s.floats.iter().map(|p| p.0));
                }
            }
            for t in times {
                let mut cum = Vec::with_capacity(g.buckets.len() + 1);
                for (le, l) in &g.buckets {
                    cum.push((*le, value_at(self, l, t)));
                }
                if cum.iter().any(|c| c.1.is_none()) {
                    continue;
                }
                let count = g.count.as_ref().and_then(|l| value_at(self, l, t));
                let mut cum: Vec<(f64, f64)> = cum
                    .into_iter()
                    .map(|(a, b)| (a, b.unwrap_or(0.0)))
                    .collect();
                if cum.last().is_none_or(|c| c.0 != f64::INFINITY) {
                    let top = cum.last().map_or(0.0, |c| c.1);
                    cum.push((f64::INFINITY, count.unwrap_or(top)));
                }
                let mut counts = BTreeMap::new();
                let mut prev = 0.0;
                for (i, (_, c)) in cum.iter().enumerate() {
                    if *c < prev || *c < 0.0 {
                        return Err(format!("{key}: bucket counts are not cumulative at t={t}"));
                    }
                    counts.insert(i as i32, c - prev);
                    prev = *c;
                }
                let (positive_spans, positive_buckets) = spans_from_map(&counts, true);
                let h = FloatHistogram {
                    schema: -53,
                    count: count.unwrap_or(prev),
                    sum: g
                        .sum
                        .as_ref()
                        .and_then(|l| value_at(self, l, t))
                        .unwrap_or(0.0),
                    positive_spans,
                    positive_buckets,
                    custom_values: cum.iter().map(|c| c.0).filter(|b| b.is_finite()).collect(),
                    ..FloatHistogram::default()
                };
                self.append_histogram(&key, t, h);
            }
        }
        Ok(())
    }
}

impl Queryable for TestStorage {
    fn querier(&self, mint: i64, maxt: i64) -> strata_model::Result<Box<dyn Querier>> {
        Ok(Box::new(TestQuerier {
            data: Arc::clone(&self.data),
            mint,
            maxt,
        }))
    }
}

/// A querier over a snapshot of a [`TestStorage`].
pub struct TestQuerier {
    data: Arc<BTreeMap<Labels, StoredSeries>>,
    mint: i64,
    maxt: i64,
}

impl TestQuerier {
    fn in_range(&self, s: &StoredSeries) -> bool {
        let r = |t: &i64| *t >= self.mint && *t <= self.maxt;
        s.floats.iter().any(|p| r(&p.0)) || s.histograms.iter().any(|p| r(&p.0))
    }

    fn matching<'a>(&'a self, matchers: &'a [Matcher]) -> impl Iterator<Item = &'a Labels> + 'a {
        self.data
            .iter()
            .filter(move |(l, s)| Matcher::all_match(matchers, l) && self.in_range(s))
            .map(|(l, _)| l)
    }
}

impl Querier for TestQuerier {
    fn select(&self, matchers: &[Matcher], hints: &SelectHints) -> strata_model::Result<SeriesSet> {
        // Default hints (0..0) mean "the querier's whole range".
        let (mut lo, mut hi) = (self.mint, self.maxt);
        if hints.start != 0 || hints.end != 0 {
            lo = lo.max(hints.start);
            hi = hi.min(hints.end);
        }
        let mut out = Vec::new();
        for (labels, s) in self.data.iter() {
            if !Matcher::all_match(matchers, labels) {
                continue;
            }
            let samples: Vec<(i64, f64)> = s
                .floats
                .iter()
                .copied()
                .filter(|p| p.0 >= lo && p.0 <= hi)
                .collect();
            if samples.is_empty() {
                continue;
            }
            out.push(Ok(Series {
                labels: labels.clone(),
                samples: Box::new(VecSamples::new(if hints.labels_only {
                    Vec::new()
                } else {
                    samples
                })),
            }));
        }
        Ok(Box::new(out.into_iter()))
    }

    fn label_names(&self, matchers: &[Matcher]) -> strata_model::Result<Vec<String>> {
        let mut names = BTreeSet::new();
        for l in self.matching(matchers) {
            names.extend(l.iter().map(|(n, _)| n.to_owned()));
        }
        Ok(names.into_iter().collect())
    }

    fn label_values(&self, name: &str, matchers: &[Matcher]) -> strata_model::Result<Vec<String>> {
        let mut values = BTreeSet::new();
        for l in self.matching(matchers) {
            if let Some(v) = l.get(name) {
                values.insert(v.to_owned());
            }
        }
        Ok(values.into_iter().collect())
    }
}
