//! Aggregation operators over one step's instant vector, with Prometheus' float
//! semantics: Kahan–Neumaier summation, incremental means on overflow, Welford
//! variance, NaN ordering for `min`/`max`/`topk`/`bottomk`, and `topk`'s output order.

use std::collections::HashMap;

use strata_model::Labels;
use strata_model::gofmt::go_format_g;
use strata_model::labels::METRIC_NAME;

use super::accumulate::FloatAcc;
use super::functions::quantile;
use crate::error::{QueryError, Result};
use crate::parser::ast::AggregateOp;
use crate::value::{Annotations, Sample, SampleValue};

/// The grouping labels of `metric` (Prometheus' `generateGroupingLabels`).
pub fn grouping_labels(metric: &Labels, grouping: &[String], without: bool) -> Labels {
    if without {
        Labels::from_sorted(
            metric
                .iter()
                .filter(|(n, _)| *n != METRIC_NAME && !grouping.iter().any(|g| g == n)),
        )
    } else if grouping.is_empty() {
        Labels::empty()
    } else {
        Labels::from_sorted(
            metric
                .iter()
                .filter(|(n, _)| grouping.iter().any(|g| g == n)),
        )
    }
}

/// Hasher for keys that are already pointers or small integers.
#[derive(Default)]
pub struct FastHasher(u64);

impl std::hash::Hasher for FastHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 =
                (self.0.rotate_left(5) ^ u64::from(*b)).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }
    fn write_usize(&mut self, x: usize) {
        self.0 = (self.0.rotate_left(5) ^ x as u64).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

type FastMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<FastHasher>>;

/// Grouping keys computed once per input series and aggregation, reused at every step
/// of a range query (the series' label sets are the same allocation from step to step).
/// Each distinct group gets a number, so a step groups its samples by number without
/// hashing label sets.
#[derive(Default)]
pub struct GroupCache {
    /// (aggregation node, label set identity) -> (the label set, kept alive so that its
    /// identity cannot be reused; its group number).
    by_series: FastMap<(usize, usize), (Labels, usize)>,
    /// (aggregation node, group labels) -> group number; consulted on cache misses.
    numbers: HashMap<(usize, Labels), usize>,
    /// Group number -> group labels.
    labels: Vec<Labels>,
    /// Aggregation node -> (label set identity, group number) by input position at the
    /// last step: steps of a range query see the same series in the same order, so
    /// most lookups are answered without hashing. Every identity here is also a key of
    /// `by_series`, which keeps it alive.
    seq: FastMap<usize, Vec<(usize, usize)>>,
}

impl GroupCache {
    fn group(&mut self, node: usize, metric: &Labels, grouping: &[String], without: bool) -> usize {
        if let Some((_, g)) = self.by_series.get(&(node, metric.ptr_id())) {
            return *g;
        }
        let key = grouping_labels(metric, grouping, without);
        let next = self.labels.len();
        let g = *self.numbers.entry((node, key.clone())).or_insert(next);
        if g == next {
            self.labels.push(key);
        }
        self.by_series
            .insert((node, metric.ptr_id()), (metric.clone(), g));
        g
    }

    /// [`GroupCache::group`] of the `i`-th input sample, first checking what position
    /// `i` held at the previous step (`seq`, from [`GroupCache::take_seq`]).
    fn group_at(
        &mut self,
        seq: &mut Vec<(usize, usize)>,
        i: usize,
        node: usize,
        metric: &Labels,
        grouping: &[String],
        without: bool,
    ) -> usize {
        let id = metric.ptr_id();
        if let Some(&(p, g)) = seq.get(i)
            && p == id
        {
            return g;
        }
        let g = self.group(node, metric, grouping, without);
        if seq.len() <= i {
            // 0 never is the identity of a live label set.
            seq.resize(i + 1, (0, 0));
        }
        seq[i] = (id, g);
        g
    }

    fn take_seq(&mut self, node: usize) -> Vec<(usize, usize)> {
        self.seq.remove(&node).unwrap_or_default()
    }

    fn put_seq(&mut self, node: usize, seq: Vec<(usize, usize)>) {
        self.seq.insert(node, seq);
    }

    fn labels(&self, g: usize) -> Labels {
        self.labels.get(g).cloned().unwrap_or_default()
    }
}

/// Maps group numbers to positions in one step's output, in order of first appearance.
struct StepGroups(Vec<usize>);

impl StepGroups {
    fn new() -> Self {
        StepGroups(Vec::new())
    }
    /// The position of group `g`, or `None` when it is new (then `pos` is recorded).
    fn get_or_insert(&mut self, g: usize, pos: usize) -> Option<usize> {
        if self.0.len() <= g {
            self.0.resize(g + 1, usize::MAX);
        }
        match self.0[g] {
            usize::MAX => {
                self.0[g] = pos;
                None
            }
            p => Some(p),
        }
    }
}

/// Prometheus' `labels.Hash` of the default (stringlabels) build: XXH64 over the
/// length-prefixed names and values.
pub fn prom_labels_hash(l: &Labels) -> u64 {
    let mut buf = Vec::with_capacity(l.encoded_len() + 8);
    let mut put = |s: &str| {
        let n = s.len();
        if n < 255 {
            buf.push(n as u8);
        } else {
            buf.push(255);
            buf.push(n as u8);
            buf.push((n >> 8) as u8);
            buf.push((n >> 16) as u8);
        }
        buf.extend_from_slice(s.as_bytes());
    };
    for (n, v) in l.iter() {
        put(n);
        put(v);
    }
    xxhash_rust::xxh64::xxh64(&buf, 0)
}

/// Whether `limit_ratio(r, …)` keeps a series.
pub fn ratio_keeps(r: f64, metric: &Labels) -> bool {
    let offset = prom_labels_hash(metric) as f64 / u64::MAX as f64;
    (r >= 0.0 && offset < r) || (r < 0.0 && offset >= 1.0 + r)
}

#[derive(Default)]
struct Group {
    labels: Labels,
    /// `None` until the group's first sample.
    acc: Option<FloatAcc>,
    /// The inputs of `quantile`.
    values: Vec<f64>,
}

/// The parameter of an aggregation, evaluated for the step.
pub enum Param {
    None,
    Number(f64),
    Label(String),
}

fn float(s: &Sample) -> Option<f64> {
    match s.value {
        SampleValue::Float(f) => Some(f),
        SampleValue::Histogram(_) => None,
    }
}

/// Aggregates one step's vector. (The arguments are the parts of one aggregation step;
/// there is one call site.)
#[allow(clippy::too_many_arguments)]
pub fn aggregate(
    op: AggregateOp,
    grouping: &[String],
    without: bool,
    param: Param,
    input: Vec<Sample>,
    t: i64,
    ann: &mut Annotations,
    cache: (&mut GroupCache, usize),
) -> Result<Vec<Sample>> {
    let (cache, node) = cache;
    let mut grouping: Vec<String> = grouping.to_vec();
    grouping.sort();
    match op {
        AggregateOp::CountValues => {
            let Param::Label(label) = param else {
                return Err(QueryError::Execution("count_values needs a label".into()));
            };
            return count_values(&label, &grouping, without, input, t);
        }
        AggregateOp::Topk
        | AggregateOp::Bottomk
        | AggregateOp::Limitk
        | AggregateOp::LimitRatio => {
            let Param::Number(p) = param else {
                return Err(QueryError::Execution(
                    "missing aggregation parameter".into(),
                ));
            };
            return aggregate_k(op, &grouping, without, p, input, ann, (cache, node));
        }
        _ => {}
    }
    let q = match param {
        Param::Number(q) => q,
        _ => f64::NAN,
    };
    if op == AggregateOp::Quantile && !(0.0..=1.0).contains(&q) {
        ann.warnings.push(format!(
            "PromQL warning: quantile value should be between 0 and 1, got {}",
            go_format_g(q)
        ));
    }
    let mut index = StepGroups::new();
    let mut groups: Vec<Group> = Vec::new();
    let mut seq = cache.take_seq(node);
    for (i, s) in input.into_iter().enumerate() {
        let Some(f) = float(&s) else {
            return Err(QueryError::Execution(
                "aggregating native histograms is not supported".into(),
            ));
        };
        let g = cache.group_at(&mut seq, i, node, &s.metric, &grouping, without);
        let gi = match index.get_or_insert(g, groups.len()) {
            Some(i) => i,
            None => {
                groups.push(Group {
                    labels: cache.labels(g),
                    ..Group::default()
                });
                groups.len() - 1
            }
        };
        let g = &mut groups[gi];
        if op == AggregateOp::Quantile {
            g.values.push(f);
        }
        match &mut g.acc {
            Some(acc) => acc.add(op, f, s.drop_name),
            None => g.acc = Some(FloatAcc::first(op, f, s.drop_name)),
        }
    }
    cache.put_seq(node, seq);
    let mut out = Vec::with_capacity(groups.len());
    for mut g in groups {
        let Some(acc) = g.acc else { continue };
        let v = match op {
            AggregateOp::Quantile => quantile(q, &mut g.values),
            _ => acc.finish(op),
        };
        out.push(Sample {
            metric: g.labels,
            t,
            value: SampleValue::Float(v),
            drop_name: acc.drop_name,
        });
    }
    Ok(out)
}

fn count_values(
    label: &str,
    grouping: &[String],
    without: bool,
    input: Vec<Sample>,
    t: i64,
) -> Result<Vec<Sample>> {
    let mut grouping = grouping.to_vec();
    if !without {
        grouping.push(label.to_owned());
        grouping.sort();
    }
    let mut index: HashMap<Labels, usize> = HashMap::new();
    let mut out: Vec<Sample> = Vec::new();
    for s in input {
        let Some(f) = float(&s) else {
            return Err(QueryError::Execution(
                "count_values over native histograms is not supported".into(),
            ));
        };
        let mut b = s.metric.to_builder();
        b.set(label, &format_value(f));
        let metric = b
            .build()
            .map_err(|e| QueryError::Execution(e.to_string()))?;
        let key = grouping_labels(&metric, &grouping, without);
        match index.get(&key) {
            Some(&i) => {
                if let SampleValue::Float(c) = &mut out[i].value {
                    *c += 1.0;
                }
            }
            None => {
                index.insert(key.clone(), out.len());
                out.push(Sample {
                    metric: key,
                    t,
                    value: SampleValue::Float(1.0),
                    drop_name: false,
                });
            }
        }
    }
    Ok(out)
}

/// Go's `strconv.FormatFloat(f, 'f', -1, 64)`.
pub fn format_value(f: f64) -> String {
    if f.is_nan() {
        "NaN".into()
    } else if f == f64::INFINITY {
        "+Inf".into()
    } else if f == f64::NEG_INFINITY {
        "-Inf".into()
    } else {
        format!("{f}")
    }
}

/// "Less" of Prometheus' value heaps: NaN is smallest; `reverse` for bottomk.
fn heap_less(a: f64, b: f64, reverse: bool) -> bool {
    if a.is_nan() {
        return true;
    }
    if reverse { a > b } else { a < b }
}

fn val(s: &Sample) -> f64 {
    float(s).unwrap_or(f64::NAN)
}

fn heap_up(h: &mut [Sample], mut j: usize, rev: bool) {
    while j > 0 {
        let i = (j - 1) / 2;
        if !heap_less(val(&h[j]), val(&h[i]), rev) {
            break;
        }
        h.swap(i, j);
        j = i;
    }
}

fn heap_down(h: &mut [Sample], i0: usize, rev: bool) -> bool {
    let n = h.len();
    let mut i = i0;
    loop {
        let j1 = 2 * i + 1;
        if j1 >= n {
            break;
        }
        let mut j = j1;
        let j2 = j1 + 1;
        if j2 < n && heap_less(val(&h[j2]), val(&h[j1]), rev) {
            j = j2;
        }
        if !heap_less(val(&h[j]), val(&h[i]), rev) {
            break;
        }
        h.swap(i, j);
        i = j;
    }
    i > i0
}

fn aggregate_k(
    op: AggregateOp,
    grouping: &[String],
    without: bool,
    p: f64,
    input: Vec<Sample>,
    ann: &mut Annotations,
    cache: (&mut GroupCache, usize),
) -> Result<Vec<Sample>> {
    let (cache, node) = cache;
    let mut ratio = 0.0;
    let mut k: i64 = 0;
    if op == AggregateOp::LimitRatio {
        if p == 0.0 {
            return Ok(Vec::new());
        }
        if p.is_nan() {
            return Err(QueryError::Execution("Ratio value is NaN".into()));
        }
        if p > 1.0 {
            ann.warnings.push(format!(
                "PromQL warning: ratio value should be between -1 and 1, got {}, capping to 1",
                go_format_g(p)
            ));
        } else if p < -1.0 {
            ann.warnings.push(format!(
                "PromQL warning: ratio value should be between -1 and 1, got {}, capping to -1",
                go_format_g(p)
            ));
        }
        ratio = p.clamp(-1.0, 1.0);
    } else {
        if p < 1.0 {
            return Ok(Vec::new());
        }
        if p.is_nan() {
            return Err(QueryError::Execution("Parameter value is NaN".into()));
        }
        if p >= 9.223_372_036_854_776e18 {
            return Err(QueryError::Execution(format!(
                "Scalar value {} overflows int64",
                go_format_g(p)
            )));
        }
        k = (p as i64).min(input.len() as i64);
    }
    let rev = op == AggregateOp::Bottomk;
    let mut index = StepGroups::new();
    let mut groups: Vec<Vec<Sample>> = Vec::new();
    for s in input {
        if float(&s).is_none() {
            return Err(QueryError::Execution(
                "aggregating native histograms is not supported".into(),
            ));
        }
        let g = cache.group(node, &s.metric, grouping, without);
        let gi = match index.get_or_insert(g, groups.len()) {
            Some(i) => i,
            None => {
                groups.push(Vec::new());
                groups.len() - 1
            }
        };
        let h = &mut groups[gi];
        match op {
            AggregateOp::LimitRatio => {
                if ratio_keeps(ratio, &s.metric) {
                    h.push(s);
                }
            }
            AggregateOp::Limitk => {
                if (h.len() as i64) < k {
                    h.push(s);
                }
            }
            _ => {
                let f = val(&s);
                if (h.len() as i64) < k {
                    h.push(s);
                    let last = h.len() - 1;
                    heap_up(h, last, rev);
                } else {
                    let top = val(&h[0]);
                    let replace =
                        if rev { top > f } else { top < f } || (top.is_nan() && !f.is_nan());
                    if replace {
                        h[0] = s;
                        if k > 1 && !heap_down(h, 0, rev) {
                            heap_up(h, 0, rev);
                        }
                    }
                }
            }
        }
    }
    let mut out = Vec::new();
    for mut h in groups {
        if matches!(op, AggregateOp::Topk | AggregateOp::Bottomk) && h.len() > 1 {
            // sort.Sort(sort.Reverse(heap)): insertion sort for short inputs (stable).
            let n = h.len();
            for i in 1..n {
                let mut j = i;
                while j > 0 && heap_less(val(&h[j - 1]), val(&h[j]), rev) {
                    h.swap(j, j - 1);
                    j -= 1;
                }
            }
        }
        out.extend(h);
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn s(name: &str, v: f64) -> Sample {
        Sample {
            metric: Labels::new(&[("__name__", "m"), ("i", name)]).unwrap(),
            t: 0,
            value: SampleValue::Float(v),
            drop_name: false,
        }
    }

    #[test]
    fn kahan_sum_is_compensated() {
        let input = vec![s("a", 1.0), s("b", 1e100), s("c", 1.0), s("d", -1e100)];
        let mut ann = Annotations::default();
        let out = aggregate(
            AggregateOp::Sum,
            &[],
            false,
            Param::None,
            input,
            0,
            &mut ann,
            (&mut GroupCache::default(), 0),
        )
        .unwrap();
        assert_eq!(out[0].value, SampleValue::Float(2.0));
        assert!(out[0].metric.is_empty());
    }

    #[test]
    fn topk_orders_descending() {
        let input = vec![s("a", 1.0), s("b", 3.0), s("c", 2.0), s("d", f64::NAN)];
        let mut ann = Annotations::default();
        let out = aggregate(
            AggregateOp::Topk,
            &[],
            false,
            Param::Number(2.0),
            input,
            0,
            &mut ann,
            (&mut GroupCache::default(), 0),
        )
        .unwrap();
        let vals: Vec<f64> = out.iter().map(val).collect();
        assert_eq!(vals, vec![3.0, 2.0]);
    }

    #[test]
    fn group_numbers_are_reused_across_steps() {
        let mut cache = GroupCache::default();
        let a = Labels::new(&[("job", "x"), ("i", "1")]).unwrap();
        let b = Labels::new(&[("job", "x"), ("i", "2")]).unwrap();
        let c = Labels::new(&[("job", "y")]).unwrap();
        let by = vec!["job".to_string()];
        let ga = cache.group(1, &a, &by, false);
        assert_eq!(cache.group(1, &b, &by, false), ga);
        assert_ne!(cache.group(1, &c, &by, false), ga);
        assert_eq!(cache.group(1, &a.clone(), &by, false), ga);
        // Another aggregation node groups independently.
        assert_ne!(cache.group(2, &a, &[], false), ga);
        assert_eq!(cache.labels(ga), Labels::new(&[("job", "x")]).unwrap());
    }

    #[test]
    fn positional_lookups_agree_with_group() {
        let mut cache = GroupCache::default();
        let a = Labels::new(&[("job", "x"), ("i", "1")]).unwrap();
        let b = Labels::new(&[("job", "y"), ("i", "2")]).unwrap();
        let by = vec!["job".to_string()];
        let (ga, gb) = (
            cache.group(3, &a, &by, false),
            cache.group(3, &b, &by, false),
        );
        let mut seq = cache.take_seq(3);
        // Same order twice, then swapped, then one missing.
        for order in [[&a, &b], [&a, &b], [&b, &a]] {
            assert_eq!(
                cache.group_at(&mut seq, 0, 3, order[0], &by, false),
                cache.group(3, order[0], &by, false)
            );
            assert_eq!(
                cache.group_at(&mut seq, 1, 3, order[1], &by, false),
                cache.group(3, order[1], &by, false)
            );
        }
        assert_eq!(cache.group_at(&mut seq, 0, 3, &a, &by, false), ga);
        assert_eq!(cache.group_at(&mut seq, 0, 3, &b, &by, false), gb);
        cache.put_seq(3, seq);
        assert_eq!(cache.take_seq(3).len(), 2);
    }

    #[test]
    fn quantile_interpolates() {
        assert_eq!(quantile(0.5, &mut [4.0, 2.0, 3.0, 1.0]), 2.5);
        assert!(quantile(f64::NAN, &mut [1.0]).is_nan());
        assert_eq!(quantile(2.0, &mut [1.0]), f64::INFINITY);
    }

    #[test]
    fn nan_topk_parameter_fails() {
        let mut ann = Annotations::default();
        let r = aggregate(
            AggregateOp::Topk,
            &[],
            false,
            Param::Number(f64::NAN),
            vec![s("a", 1.0)],
            0,
            &mut ann,
            (&mut GroupCache::default(), 0),
        );
        assert_eq!(r.unwrap_err().to_string(), "Parameter value is NaN");
    }
}
