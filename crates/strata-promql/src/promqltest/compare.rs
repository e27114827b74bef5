//! Comparing a query's outcome with an eval's expectations, with promqltest's rules:
//! relative float tolerance 1e-6, NaN equals NaN (the staleness marker only itself),
//! exact label sets, order only with `expect ordered`, compacted histograms.

use std::collections::{BTreeMap, HashMap};

use strata_model::{Labels, is_stale_nan};

use super::script::{Eval, EvalKind, Expected, TextMatch};
use super::series::{ParsedHistogram, SeqValue, bucket_map, spans_from_map};
use crate::error::QueryError;
use crate::value::{Annotations, FloatHistogram, QueryResult, SampleValue, Value};

/// Relative tolerance of float comparisons.
pub const EPSILON: f64 = 1e-6;

/// promqltest's float equality.
pub fn float_eq(expected: f64, actual: f64) -> bool {
    if expected.is_nan() || actual.is_nan() {
        return expected.is_nan()
            && actual.is_nan()
            && is_stale_nan(expected) == is_stale_nan(actual);
    }
    if expected == actual {
        return true;
    }
    let diff = (expected - actual).abs();
    let sum = expected.abs() + actual.abs();
    if expected == 0.0 || actual == 0.0 || sum < f64::MIN_POSITIVE {
        return diff < EPSILON * f64::MIN_POSITIVE;
    }
    diff / sum.min(f64::MAX) < EPSILON
}

fn compact_side(spans: &[crate::value::Span], b: &[f64]) -> (Vec<crate::value::Span>, Vec<f64>) {
    spans_from_map(&bucket_map(spans, b), true)
}

/// Compares histograms after compaction; `Err` describes the first difference.
pub fn histogram_eq(expected: &ParsedHistogram, actual: &FloatHistogram) -> Result<(), String> {
    let e = &expected.h;
    let fe = |what: &str, x: f64, y: f64| {
        if float_eq(x, y) {
            Ok(())
        } else {
            Err(format!("histogram {what}: expected {x}, got {y}"))
        }
    };
    if e.schema != actual.schema {
        return Err(format!(
            "histogram schema: expected {}, got {}",
            e.schema, actual.schema
        ));
    }
    fe("count", e.count, actual.count)?;
    fe("sum", e.sum, actual.sum)?;
    fe("zero count", e.zero_count, actual.zero_count)?;
    if e.zero_threshold != actual.zero_threshold {
        return Err(format!(
            "histogram zero threshold: expected {}, got {}",
            e.zero_threshold, actual.zero_threshold
        ));
    }
    if e.schema == -53 && e.custom_values != actual.custom_values {
        return Err(format!(
            "histogram custom values: expected {:?}, got {:?}",
            e.custom_values, actual.custom_values
        ));
    }
    for (side, (es, eb), (as_, ab)) in [
        (
            "positive",
            compact_side(&e.positive_spans, &e.positive_buckets),
            compact_side(&actual.positive_spans, &actual.positive_buckets),
        ),
        (
            "negative",
            compact_side(&e.negative_spans, &e.negative_buckets),
            compact_side(&actual.negative_spans, &actual.negative_buckets),
        ),
    ] {
        if es != as_ {
            return Err(format!(
                "histogram {side} spans: expected {es:?}, got {as_:?}"
            ));
        }
        if eb.len() != ab.len() || eb.iter().zip(&ab).any(|(x, y)| !float_eq(*x, *y)) {
            return Err(format!(
                "histogram {side} buckets: expected {eb:?}, got {ab:?}"
            ));
        }
    }
    if expected.hint_given && e.counter_reset_hint != actual.counter_reset_hint {
        return Err(format!(
            "histogram counter reset hint: expected {:?}, got {:?}",
            e.counter_reset_hint, actual.counter_reset_hint
        ));
    }
    Ok(())
}

fn value_eq(expected: &SeqValue, actual: &SampleValue) -> Result<(), String> {
    match (expected, actual) {
        (SeqValue::Float(e), SampleValue::Float(a)) if float_eq(*e, *a) => Ok(()),
        (SeqValue::Float(e), SampleValue::Float(a)) => Err(format!("expected {e}, got {a}")),
        (SeqValue::Histogram(e), SampleValue::Histogram(a)) => histogram_eq(e, a),
        (SeqValue::Missing, _) => Err("expected no sample, got one".into()),
        (SeqValue::Float(_), SampleValue::Histogram(_)) => {
            Err("expected a float, got a histogram".into())
        }
        (SeqValue::Histogram(_), SampleValue::Float(a)) => {
            Err(format!("expected a histogram, got float {a}"))
        }
    }
}

/// Removes a trailing position suffix such as ` (1:5)` from an annotation.
fn strip_position(s: &str) -> &str {
    if let Some(open) = s.rfind(" (")
        && let Some(inner) = s[open + 2..].strip_suffix(')')
        && let Some((a, b)) = inner.split_once(':')
        && !a.is_empty()
        && !b.is_empty()
        && a.bytes().chain(b.bytes()).all(|c| c.is_ascii_digit())
    {
        return &s[..open];
    }
    s
}

/// True when `m` accepts `text`.
pub fn text_matches(m: &TextMatch, text: &str) -> bool {
    match m {
        TextMatch::Any => true,
        TextMatch::Exact(e) => e == text,
        TextMatch::Regex(r) => regex::Regex::new(r).is_ok_and(|re| re.is_match(text)),
    }
}

fn check_kind(kind: &str, expects: &[TextMatch], none: bool, got: &[String]) -> Result<(), String> {
    let got: Vec<&str> = got.iter().map(|s| strip_position(s)).collect();
    if none && !got.is_empty() {
        return Err(format!("expected no {kind} annotations, got {got:?}"));
    }
    if expects.is_empty() {
        return Ok(());
    }
    if got.is_empty() {
        return Err(format!("expected {kind} annotations, got none"));
    }
    for m in expects {
        if !got.iter().any(|g| text_matches(m, g)) {
            return Err(format!("no {kind} annotation matches {m:?}; got {got:?}"));
        }
    }
    for g in &got {
        if !expects.iter().any(|m| text_matches(m, g)) {
            return Err(format!("unexpected {kind} annotation {g:?}"));
        }
    }
    Ok(())
}

/// Checks the `expect warn|info|no_warn|no_info` lines.
pub fn check_annotations(eval: &Eval, a: &Annotations) -> Result<(), String> {
    check_kind("warn", &eval.warn, eval.no_warn, &a.warnings)?;
    check_kind("info", &eval.info, eval.no_info, &a.infos)
}

/// Checks a query's outcome against the eval: failure expectation, annotations, value.
pub fn check_outcome(eval: &Eval, outcome: &Result<QueryResult, QueryError>) -> Result<(), String> {
    match (outcome, &eval.fail) {
        (Err(e), Some(m)) => {
            let msg = e.to_string();
            if text_matches(m, &msg) {
                Ok(())
            } else {
                Err(format!("expected error {m:?}, got {msg:?}"))
            }
        }
        (Err(e), None) => Err(format!("unexpected error: {e}")),
        (Ok(_), Some(m)) => Err(format!("expected the query to fail ({m:?}), it succeeded")),
        (Ok(r), None) => {
            check_annotations(eval, &r.annotations)?;
            check_value(eval, &r.value)
        }
    }
}

/// Compares a result value with the expected output.
pub fn check_value(eval: &Eval, value: &Value) -> Result<(), String> {
    let grid = match (eval.kind, eval.range_vector) {
        (_, Some((s, _, step))) => Some((s, step)),
        (EvalKind::Range { start, step, .. }, None) => Some((start, step)),
        (EvalKind::Instant { .. }, None) => None,
    };
    match (&eval.expected, value, grid) {
        (Expected::Scalar(e), Value::Scalar { v, .. }, None) => {
            if float_eq(*e, *v) {
                Ok(())
            } else {
                Err(format!("expected scalar {e}, got {v}"))
            }
        }
        (Expected::String(e), Value::String { s, .. }, None) => {
            if e == s {
                Ok(())
            } else {
                Err(format!("expected string {e:?}, got {s:?}"))
            }
        }
        (Expected::Series(exp), Value::Vector(samples), None) => {
            check_vector(exp, samples, eval.ordered)
        }
        (Expected::Series(exp), Value::Matrix(series), Some((start, step))) => {
            check_matrix(exp, series, start, step)
        }
        (exp, v, _) => Err(format!(
            "expected {} result, got {}",
            match (exp, grid) {
                (Expected::Scalar(_), _) => "a scalar",
                (Expected::String(_), _) => "a string",
                (Expected::Series(_), None) => "an instant vector",
                (Expected::Series(_), Some(_)) => "a range vector/matrix",
            },
            v.type_name()
        )),
    }
}

/// Fails when the number of result series differs from the expected one, listing what
/// came back.
fn check_count<'a>(
    expected: usize,
    got: impl ExactSizeIterator<Item = &'a Labels>,
) -> Result<(), String> {
    if expected == got.len() {
        return Ok(());
    }
    let n = got.len();
    let names: Vec<String> = got.map(|l| l.to_string()).collect();
    Err(format!(
        "expected {expected} series, got {n}: {}",
        names.join(", ")
    ))
}

fn check_vector(
    exp: &[super::script::ExpectedSeries],
    got: &[crate::value::Sample],
    ordered: bool,
) -> Result<(), String> {
    check_count(exp.len(), got.iter().map(|s| &s.metric))?;
    let mut by_labels: HashMap<&Labels, usize> = HashMap::new();
    for (i, s) in got.iter().enumerate() {
        if by_labels.insert(&s.metric, i).is_some() {
            return Err(format!("result contains {} twice", s.metric));
        }
    }
    for (k, e) in exp.iter().enumerate() {
        let i = *by_labels
            .get(&e.labels)
            .ok_or_else(|| format!("expected series {} (line {}) is missing", e.labels, e.line))?;
        if ordered && i != k {
            return Err(format!("{} is at position {i}, expected at {k}", e.labels));
        }
        let ev = e.values.first().unwrap_or(&SeqValue::Missing);
        value_eq(ev, &got[i].value).map_err(|m| format!("{}: {m}", e.labels))?;
    }
    Ok(())
}

fn check_matrix(
    exp: &[super::script::ExpectedSeries],
    got: &[crate::value::Series],
    start: i64,
    step: i64,
) -> Result<(), String> {
    if let Some(w) = got.windows(2).find(|w| w[0].metric >= w[1].metric) {
        return Err(format!(
            "matrix is not sorted by labels: {} before {}",
            w[0].metric, w[1].metric
        ));
    }
    let by_labels: BTreeMap<&Labels, &crate::value::Series> =
        got.iter().map(|s| (&s.metric, s)).collect();
    check_count(exp.len(), got.iter().map(|s| &s.metric))?;
    for e in exp {
        let s = by_labels
            .get(&e.labels)
            .ok_or_else(|| format!("expected series {} (line {}) is missing", e.labels, e.line))?;
        let mut floats = Vec::new();
        let mut hists = Vec::new();
        for (k, v) in e.values.iter().enumerate() {
            let t = start + k as i64 * step;
            match v {
                SeqValue::Missing => {}
                SeqValue::Float(f) => floats.push((t, *f)),
                SeqValue::Histogram(h) => hists.push((t, h)),
            }
        }
        let l = &e.labels;
        if floats.len() != s.floats.len() {
            return Err(format!(
                "{l}: expected {} float points, got {}: {:?}",
                floats.len(),
                s.floats.len(),
                s.floats
            ));
        }
        if hists.len() != s.histograms.len() {
            return Err(format!(
                "{l}: expected {} histogram points, got {}",
                hists.len(),
                s.histograms.len()
            ));
        }
        for ((et, ev), (at, av)) in floats.iter().zip(&s.floats) {
            if et != at || !float_eq(*ev, *av) {
                return Err(format!("{l}: expected {ev} @{et}, got {av} @{at}"));
            }
        }
        for ((et, eh), (at, ah)) in hists.iter().zip(&s.histograms) {
            if et != at {
                return Err(format!("{l}: expected a histogram @{et}, got one @{at}"));
            }
            histogram_eq(eh, ah).map_err(|m| format!("{l} @{et}: {m}"))?;
        }
    }
    Ok(())
}
