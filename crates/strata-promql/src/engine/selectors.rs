//! Loading series for selectors: every vector selector of a query is selected from
//! storage once, over the whole time range the query can need from it (Prometheus'
//! `getTimeRangesForSelector`); evaluation steps then find their samples by binary
//! search.

use std::cell::{Cell, OnceCell};
use std::collections::{HashMap, HashSet};

use strata_model::storage::{Querier, Queryable, SelectHints, Series as StorageSeries};
use strata_model::{Labels, Matcher};

use super::parallel;
use crate::error::{QueryError, Result};
use strata_model::labels::METRIC_NAME;
use strata_model::matcher::MatchType;

use crate::parser::ast::{AtModifier, Call, Duration, Expr, VectorSelector};

/// The bit pattern of Prometheus' staleness marker.
pub const STALE_NAN_BITS: u64 = 0x7ff0_0000_0000_0002;

/// True when `v` is the staleness marker.
pub fn is_stale_nan(v: f64) -> bool {
    v.to_bits() == STALE_NAN_BITS
}

/// Default step of a subquery written `[range:]` (Prometheus' test engine uses 1 m).
pub const DEFAULT_SUBQUERY_STEP_MS: i64 = 60_000;

/// One selected series with all its float samples in the selected range.
///
/// Steps of a range query move forward in time, so the series remembers where its last
/// window and its last instant lookup ended and continues from there (a few sequential
/// reads) instead of binary-searching the whole sample list at every step, which on
/// large queries costs a cache miss per probe.
#[derive(Debug, Clone)]
pub struct LoadedSeries {
    pub labels: Labels,
    pub floats: Vec<(i64, f64)>,
    window_cursor: Cell<(i64, usize, i64, usize)>,
    instant_cursor: Cell<(i64, usize)>,
    /// `resets[i]`: the number of `j <= i` with `floats[j].1 < floats[j - 1].1`,
    /// computed on first use; `None` when the series has no reset at all.
    resets: OnceCell<Option<Vec<u32>>>,
}

/// The first index at or after `from` whose timestamp is after `t` (`f` sorted and every
/// sample before `from` at or before `t`): a short linear scan, then a binary search.
fn first_after(f: &[(i64, f64)], from: usize, t: i64) -> usize {
    let mut i = from.min(f.len());
    let lim = (i + 8).min(f.len());
    while i < lim {
        if f[i].0 > t {
            return i;
        }
        i += 1;
    }
    i + f[i..].partition_point(|p| p.0 <= t)
}

impl LoadedSeries {
    pub fn new(labels: Labels, floats: Vec<(i64, f64)>) -> Self {
        LoadedSeries {
            labels,
            floats,
            window_cursor: Cell::new((i64::MIN, 0, i64::MIN, 0)),
            instant_cursor: Cell::new((i64::MIN, 0)),
            resets: OnceCell::new(),
        }
    }

    /// Records that the series has no counter reset (known to the caller).
    fn note_no_resets(&self) {
        let _ = self.resets.set(None);
    }

    /// Records that the series has no counter reset, if so (cheap while its samples
    /// are in cache; [`LoadedSeries::resets_in`] would otherwise scan them later).
    pub fn note_if_no_resets(&self) {
        if !self.floats.windows(2).any(|p| p[1].1 < p[0].1) {
            let _ = self.resets.set(None);
        }
    }

    /// The number of counter resets inside `floats[w]` (pairs of neighbours within the
    /// range whose later value is lower).
    pub fn resets_in(&self, w: std::ops::Range<usize>) -> u32 {
        if w.len() < 2 {
            return 0;
        }
        let prefix = self.resets.get_or_init(|| {
            if !self.floats.windows(2).any(|p| p[1].1 < p[0].1) {
                return None;
            }
            let mut acc = 0u32;
            let mut out = Vec::with_capacity(self.floats.len());
            out.push(0);
            for p in self.floats.windows(2) {
                if p[1].1 < p[0].1 {
                    acc += 1;
                }
                out.push(acc);
            }
            Some(out)
        });
        match prefix {
            Some(p) => p[w.end - 1] - p[w.start],
            None => 0,
        }
    }

    /// The index range of samples with `start < t <= end` (as [`window`]).
    pub fn window(&self, start: i64, end: i64) -> std::ops::Range<usize> {
        let f = &self.floats;
        let (ps, plo, pe, phi) = self.window_cursor.get();
        let lo = if start >= ps {
            first_after(f, plo, start)
        } else {
            f.partition_point(|p| p.0 <= start)
        };
        let hi = if end >= pe {
            first_after(f, phi.max(lo), end)
        } else {
            lo + f[lo..].partition_point(|p| p.0 <= end)
        }
        .max(lo);
        self.window_cursor.set((start, lo, end, hi));
        lo..hi
    }

    /// The sample an instant selector sees at `ref_t` (as [`instant_sample`]).
    pub fn instant(&self, ref_t: i64, lookback: i64) -> Option<(i64, f64)> {
        let f = &self.floats;
        let (pt, pidx) = self.instant_cursor.get();
        let idx = if ref_t >= pt {
            first_after(f, pidx, ref_t)
        } else {
            f.partition_point(|p| p.0 <= ref_t)
        };
        self.instant_cursor.set((ref_t, idx));
        let (t, v) = *f.get(idx.checked_sub(1)?)?;
        if t <= ref_t.saturating_sub(lookback) || is_stale_nan(v) {
            return None;
        }
        Some((t, v))
    }
}

/// Query-wide timing parameters needed to resolve durations and `@`.
#[derive(Debug, Clone, Copy)]
pub struct QueryTimes {
    pub start: i64,
    pub end: i64,
    /// 0 for instant queries.
    pub step: i64,
    pub lookback: i64,
}

impl QueryTimes {
    /// Resolves a duration (ranges, steps: `allow_negative` false; offsets: true).
    pub fn resolve(&self, d: &Duration, allow_negative: bool) -> Result<i64> {
        d.resolve(self.step, self.end - self.start, allow_negative)
            .map_err(QueryError::Execution)
    }

    pub fn offset(&self, d: &Option<Duration>) -> Result<i64> {
        match d {
            None => Ok(0),
            Some(d) => self.resolve(d, true),
        }
    }

    /// The absolute time of an `@` modifier.
    pub fn at(&self, at: &Option<AtModifier>) -> Option<i64> {
        at.map(|a| match a {
            AtModifier::Timestamp(t) => t,
            AtModifier::Start => self.start,
            AtModifier::End => self.end,
        })
    }
}

/// Identifies a selector node of the evaluated AST by address.
pub fn selector_key(vs: &VectorSelector) -> usize {
    vs as *const VectorSelector as usize
}

/// Series of every selector, keyed by [`selector_key`].
#[derive(Default)]
pub struct Preloaded {
    pub series: HashMap<usize, Vec<LoadedSeries>>,
    /// Selectors evaluated series-major ([`super::leaves`]): their series, still
    /// undecoded, and the range to load.
    pub lazy: HashMap<usize, LazySelection>,
}

impl std::fmt::Debug for Preloaded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Preloaded")
            .field("series", &self.series.len())
            .field("lazy", &self.lazy.len())
            .finish()
    }
}

/// The selected, not yet decoded series of one selector, sorted by labels.
pub struct LazySelection {
    pub series: Vec<StorageSeries>,
    pub start: i64,
    pub end: i64,
    /// Part of a range selector: staleness markers are dropped.
    pub range: bool,
}

#[derive(Clone, Copy, Default)]
struct SubqueryPath {
    offset: i64,
    range: i64,
    at: Option<i64>,
}

struct Wanted {
    key: usize,
    matchers: Vec<Matcher>,
    start: i64,
    end: i64,
    /// Part of a range selector: staleness markers are not needed.
    range: bool,
}

fn collect(
    e: &Expr,
    qt: &QueryTimes,
    path: SubqueryPath,
    eval_range: i64,
    out: &mut Vec<Wanted>,
) -> Result<()> {
    match e {
        Expr::Number(_) | Expr::String(_) => {}
        Expr::VectorSelector(vs) => push_selector(vs, qt, path, eval_range, out)?,
        Expr::MatrixSelector(ms) => {
            let range = qt.resolve(&ms.range, false)?;
            push_selector(&ms.selector, qt, path, range, out)?;
        }
        Expr::Subquery(sq) => {
            let off = qt.offset(&sq.offset)?;
            let range = qt.resolve(&sq.range, false)?;
            let p = match qt.at(&sq.at) {
                Some(t) => SubqueryPath {
                    offset: off,
                    range,
                    at: Some(t),
                },
                None => SubqueryPath {
                    offset: path.offset.saturating_add(off),
                    range: path.range.saturating_add(range),
                    at: path.at,
                },
            };
            collect(&sq.expr, qt, p, 0, out)?;
        }
        Expr::Paren(inner) => collect(inner, qt, path, eval_range, out)?,
        Expr::Unary(u) => collect(&u.expr, qt, path, 0, out)?,
        Expr::Binary(b) => {
            collect(&b.lhs, qt, path, 0, out)?;
            collect(&b.rhs, qt, path, 0, out)?;
        }
        Expr::Aggregate(a) => {
            if let Some(p) = &a.param {
                collect(p, qt, path, 0, out)?;
            }
            collect(&a.expr, qt, path, 0, out)?;
        }
        Expr::Call(c) => {
            if c.func.name == "info" {
                push_info(c, qt, path, out)?;
            }
            for a in &c.args {
                collect(a, qt, path, 0, out)?;
            }
        }
    }
    Ok(())
}

fn push_selector(
    vs: &VectorSelector,
    qt: &QueryTimes,
    path: SubqueryPath,
    eval_range: i64,
    out: &mut Vec<Wanted>,
) -> Result<()> {
    let (mut start, mut end) = match path.at {
        Some(t) => (t, t),
        None => (qt.start, qt.end),
    };
    if let Some(t) = qt.at(&vs.at) {
        start = t;
        end = t;
    } else {
        start = start.saturating_sub(path.offset).saturating_sub(path.range);
        end = end.saturating_sub(path.offset);
    }
    if eval_range == 0 {
        start = start.saturating_sub(qt.lookback.saturating_sub(1));
        if vs.smoothed {
            end = end.saturating_add(qt.lookback);
        }
    } else if vs.anchored || vs.smoothed {
        start = start.saturating_sub(qt.lookback.saturating_add(eval_range).saturating_sub(1));
        if vs.smoothed {
            end = end.saturating_add(qt.lookback);
        }
    } else {
        start = start.saturating_sub(eval_range.saturating_sub(1));
    }
    let off = qt.offset(&vs.offset)?;
    out.push(Wanted {
        key: selector_key(vs),
        matchers: vs.matchers.clone(),
        start: start.saturating_sub(off),
        end: end.saturating_sub(off),
        range: eval_range > 0 || vs.smoothed,
    });
    Ok(())
}

/// The key of the info series an `info()` call reads.
pub fn info_key(c: &Call) -> usize {
    c as *const Call as usize
}

/// The `@` and offset of the first selector in `e` (where `info()` looks up its info
/// series).
pub fn first_selector(e: &Expr) -> Option<&VectorSelector> {
    match e {
        Expr::VectorSelector(vs) => Some(vs),
        Expr::MatrixSelector(ms) => Some(&ms.selector),
        Expr::Number(_) | Expr::String(_) => None,
        Expr::Subquery(s) => first_selector(&s.expr),
        Expr::Paren(x) => first_selector(x),
        Expr::Unary(u) => first_selector(&u.expr),
        Expr::Binary(b) => first_selector(&b.lhs).or_else(|| first_selector(&b.rhs)),
        Expr::Aggregate(a) => a
            .param
            .as_deref()
            .and_then(first_selector)
            .or_else(|| first_selector(&a.expr)),
        Expr::Call(c) => c.args.iter().find_map(first_selector),
    }
}

/// The matchers selecting the info series of `info(v, {…})`: the effective name
/// matchers and the data-label matchers.
pub fn info_matchers(c: &Call) -> Vec<Matcher> {
    let data: Vec<Matcher> = match c.args.get(1) {
        Some(Expr::VectorSelector(vs)) => vs.matchers.clone(),
        _ => Vec::new(),
    };
    let names: Vec<Matcher> = data
        .iter()
        .filter(|m| m.name == METRIC_NAME)
        .cloned()
        .collect();
    let mut out: Vec<Matcher> = data.into_iter().filter(|m| m.name != METRIC_NAME).collect();
    out.extend(effective_info_name_matchers(names));
    out
}

/// Prometheus' `effectiveInfoNameMatchers`.
pub fn effective_info_name_matchers(names: Vec<Matcher>) -> Vec<Matcher> {
    if names
        .iter()
        .any(|m| matches!(m.kind, MatchType::Equal | MatchType::Regex))
    {
        return names;
    }
    if !names.is_empty() {
        let mut v = Vec::with_capacity(names.len() + 1);
        if let Ok(m) = Matcher::new(MatchType::Regex, METRIC_NAME, ".+_info") {
            v.push(m);
        }
        v.extend(names);
        return v;
    }
    vec![Matcher::equal(METRIC_NAME, "target_info")]
}

fn push_info(c: &Call, qt: &QueryTimes, path: SubqueryPath, out: &mut Vec<Wanted>) -> Result<()> {
    let (at, off) = match c.args.first().and_then(first_selector) {
        Some(vs) => (vs.at, vs.offset.clone()),
        None => (None, None),
    };
    let probe = VectorSelector {
        name: None,
        matchers: info_matchers(c),
        offset: off,
        at,
        anchored: false,
        smoothed: false,
    };
    push_selector(&probe, qt, path, 0, out)?;
    if let Some(w) = out.last_mut() {
        w.key = info_key(c);
    }
    Ok(())
}

/// Selects the series of every selector in `expr`. Selectors whose key is in `lazy`
/// keep their series undecoded (in [`Preloaded::lazy`]); the others are decoded, on up
/// to `threads` threads.
pub fn preload(
    storage: &dyn Queryable,
    expr: &Expr,
    qt: &QueryTimes,
    lazy: &HashSet<usize>,
    threads: usize,
) -> Result<Preloaded> {
    let mut wanted = Vec::new();
    collect(expr, qt, SubqueryPath::default(), 0, &mut wanted)?;
    let mut pre = Preloaded::default();
    if wanted.is_empty() {
        return Ok(pre);
    }
    let mint = wanted.iter().map(|w| w.start).min().unwrap_or(0);
    let maxt = wanted.iter().map(|w| w.end).max().unwrap_or(0);
    let querier = storage.querier(mint, maxt)?;
    for w in wanted {
        let series = select_lazy(querier.as_ref(), &w.matchers, w.start, w.end)?;
        if lazy.contains(&w.key) {
            let sel = LazySelection {
                series,
                start: w.start,
                end: w.end,
                range: w.range,
            };
            pre.lazy.insert(w.key, sel);
            continue;
        }
        let (start, end, range) = (w.start, w.end, w.range);
        let chunks = chunked(series, DECODE_CHUNK);
        let decoded = parallel::try_map(chunks, threads, |_, chunk| {
            chunk
                .into_iter()
                .map(|s| load_series(s, start, end, range))
                .collect::<Result<Vec<_>>>()
        })?;
        pre.series
            .insert(w.key, decoded.into_iter().flatten().collect());
    }
    Ok(pre)
}

/// Series decoded per parallel task when preloading.
const DECODE_CHUNK: usize = 256;

/// `v` cut into pieces of at most `n`, in order.
pub fn chunked<T>(v: Vec<T>, n: usize) -> Vec<Vec<T>> {
    let n = n.max(1);
    let mut out = Vec::with_capacity(v.len().div_ceil(n));
    let mut it = v.into_iter().peekable();
    while it.peek().is_some() {
        out.push(it.by_ref().take(n).collect());
    }
    out
}

/// The series matching `matchers` in `[start, end]`, undecoded, sorted by labels.
fn select_lazy(
    q: &dyn Querier,
    matchers: &[Matcher],
    start: i64,
    end: i64,
) -> Result<Vec<StorageSeries>> {
    let hints = SelectHints {
        start,
        end,
        sorted: true,
        labels_only: false,
    };
    if start > end {
        return Ok(Vec::new());
    }
    let mut out = q
        .select(matchers, &hints)?
        .collect::<std::result::Result<Vec<_>, _>>()?;
    if !out.windows(2).all(|p| p[0].labels <= p[1].labels) {
        out.sort_by(|a, b| a.labels.cmp(&b.labels));
    }
    Ok(out)
}

/// Decodes one selected series: its samples in `[start, end]`, sorted and unique by
/// time; for a range selector (`range`) without staleness markers.
pub fn load_series(s: StorageSeries, start: i64, end: i64, range: bool) -> Result<LoadedSeries> {
    let (labels, mut floats) = s.collect_samples()?;
    // One pass to learn what needs fixing (usually nothing: storage returns the range
    // sorted and unique).
    let (mut in_range, mut ordered, mut stale, mut reset) = (true, true, false, false);
    let mut prev = (i64::MIN, f64::NAN);
    for &(t, v) in &floats {
        in_range &= t >= start && t <= end;
        ordered &= t > prev.0;
        stale |= is_stale_nan(v);
        reset |= v < prev.1;
        prev = (t, v);
    }
    if !in_range {
        floats.retain(|p| p.0 >= start && p.0 <= end);
    }
    if !ordered {
        floats.sort_by_key(|p| p.0);
        floats.dedup_by_key(|p| p.0);
    }
    if range && stale {
        floats.retain(|p| !is_stale_nan(p.1));
    }
    let s = LoadedSeries::new(labels, floats);
    if range {
        if in_range && ordered && !stale && !reset {
            s.note_no_resets();
        } else {
            // While the samples are still in cache.
            s.note_if_no_resets();
        }
    }
    Ok(s)
}

/// The sample an instant selector sees at `ref_t`: the latest one in
/// `(ref_t - lookback, ref_t]`, unless it is a staleness marker.
pub fn instant_sample(floats: &[(i64, f64)], ref_t: i64, lookback: i64) -> Option<(i64, f64)> {
    let idx = floats.partition_point(|p| p.0 <= ref_t);
    let (t, v) = *floats.get(idx.checked_sub(1)?)?;
    if t <= ref_t.saturating_sub(lookback) || is_stale_nan(v) {
        return None;
    }
    Some((t, v))
}

/// The index range of samples with `start < t <= end`.
pub fn window(floats: &[(i64, f64)], start: i64, end: i64) -> std::ops::Range<usize> {
    let lo = floats.partition_point(|p| p.0 <= start);
    let hi = floats.partition_point(|p| p.0 <= end).max(lo);
    lo..hi
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instant_lookup_respects_lookback_and_staleness() {
        let f = vec![(0, 1.0), (10, 2.0), (20, f64::from_bits(STALE_NAN_BITS))];
        assert_eq!(instant_sample(&f, 5, 100), Some((0, 1.0)));
        assert_eq!(instant_sample(&f, 15, 100), Some((10, 2.0)));
        assert_eq!(instant_sample(&f, 25, 100), None);
        let g = vec![(10, 2.0)];
        assert_eq!(instant_sample(&g, 110, 100), None);
        assert_eq!(instant_sample(&g, 109, 100), Some((10, 2.0)));
        assert_eq!(instant_sample(&f, -1, 100), None);
    }

    #[test]
    fn cursors_agree_with_binary_search() {
        let f: Vec<(i64, f64)> = (0..500).map(|i| (i * 15, i as f64)).collect();
        let s = LoadedSeries::new(Labels::empty(), f.clone());
        // Forward steps, a jump back (subqueries re-evaluate), odd windows.
        let mut ts: Vec<i64> = (0..200).map(|i| i * 37 - 100).collect();
        ts.extend([5000, 10, 7000, 7000, -5, 9000]);
        for t in ts {
            for range in [0, 1, 15, 300, 10_000] {
                assert_eq!(
                    s.window(t - range, t),
                    window(&f, t - range, t),
                    "{t} {range}"
                );
            }
            assert_eq!(s.instant(t, 300), instant_sample(&f, t, 300), "{t}");
        }
    }

    #[test]
    fn reset_counts_match_a_scan() {
        let vals = [1.0, 2.0, 0.5, 3.0, 3.0, f64::NAN, 1.0, 0.0, 4.0, 2.0];
        let f: Vec<(i64, f64)> = vals
            .iter()
            .enumerate()
            .map(|(i, v)| (i as i64, *v))
            .collect();
        let s = LoadedSeries::new(Labels::empty(), f.clone());
        let mono = LoadedSeries::new(Labels::empty(), vec![(0, 1.0), (1, 1.0), (2, 5.0)]);
        for lo in 0..f.len() {
            for hi in lo..=f.len() {
                let want = f[lo..hi].windows(2).filter(|p| p[1].1 < p[0].1).count() as u32;
                assert_eq!(s.resets_in(lo..hi), want, "{lo}..{hi}");
                if hi <= 3 {
                    assert_eq!(mono.resets_in(lo..hi), 0);
                }
            }
        }
    }

    #[test]
    fn windows_are_left_open() {
        let f = vec![(0, 1.0), (10, 2.0), (20, 3.0)];
        assert_eq!(window(&f, 0, 20), 1..3);
        assert_eq!(window(&f, -1, 20), 0..3);
        assert_eq!(window(&f, 20, 30), 3..3);
    }
}
