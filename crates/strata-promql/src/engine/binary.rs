//! Binary operators: scalar/scalar, vector/scalar and vector/vector with Prometheus'
//! vector matching (`on`/`ignoring`, `group_left`/`group_right`, `fill*`), and the set
//! operators `and`, `or`, `unless`.

use std::collections::{HashMap, HashSet};

use strata_model::Labels;
use strata_model::labels::METRIC_NAME;

use crate::error::{QueryError, Result};
use crate::parser::ast::{BinaryOp, Cardinality, VectorMatching};
use crate::value::{Sample, SampleValue};

/// Labels Prometheus removes when an operation changes a metric's meaning.
const METADATA_LABELS: &[&str] = &[METRIC_NAME, "__type__", "__unit__"];

fn btos(b: bool) -> f64 {
    if b { 1.0 } else { 0.0 }
}

/// Arithmetic operators change what a metric means (its name is dropped).
pub fn changes_metric_schema(op: BinaryOp) -> bool {
    matches!(
        op,
        BinaryOp::Add
            | BinaryOp::Sub
            | BinaryOp::Mul
            | BinaryOp::Div
            | BinaryOp::Pow
            | BinaryOp::Mod
            | BinaryOp::Atan2
    )
}

/// An operation between two scalars (comparisons yield 0 or 1).
pub fn scalar_op(op: BinaryOp, l: f64, r: f64) -> f64 {
    match op {
        BinaryOp::Eql => btos(l == r),
        BinaryOp::Neq => btos(l != r),
        BinaryOp::Gtr => btos(l > r),
        BinaryOp::Lss => btos(l < r),
        BinaryOp::Gte => btos(l >= r),
        BinaryOp::Lte => btos(l <= r),
        _ => elem_op(op, l, r).map_or(f64::NAN, |x| x.0),
    }
}

/// An operation between two float elements: the value and whether to keep it.
/// `None` for operators floats do not support (the histogram trim operators).
pub fn elem_op(op: BinaryOp, l: f64, r: f64) -> Option<(f64, bool)> {
    Some(match op {
        BinaryOp::Add => (l + r, true),
        BinaryOp::Sub => (l - r, true),
        BinaryOp::Mul => (l * r, true),
        BinaryOp::Div => (l / r, true),
        BinaryOp::Pow => (l.powf(r), true),
        BinaryOp::Mod => (l % r, true),
        BinaryOp::Atan2 => (l.atan2(r), true),
        BinaryOp::Eql => (l, l == r),
        BinaryOp::Neq => (l, l != r),
        BinaryOp::Gtr => (l, l > r),
        BinaryOp::Lss => (l, l < r),
        BinaryOp::Gte => (l, l >= r),
        BinaryOp::Lte => (l, l <= r),
        BinaryOp::TrimUpper | BinaryOp::TrimLower | BinaryOp::And | BinaryOp::Or => return None,
        BinaryOp::Unless => return None,
    })
}

fn float_of(s: &Sample) -> Result<f64> {
    match &s.value {
        SampleValue::Float(f) => Ok(*f),
        SampleValue::Histogram(_) => Err(QueryError::Execution(
            "binary operations on native histograms are not supported".into(),
        )),
    }
}

/// Vector/scalar operation; `swap` when the scalar is on the left.
pub fn vector_scalar(
    op: BinaryOp,
    vec: Vec<Sample>,
    scalar: f64,
    swap: bool,
    return_bool: bool,
) -> Result<Vec<Sample>> {
    let mut out = Vec::with_capacity(vec.len());
    for mut s in vec {
        let v = float_of(&s)?;
        let (l, r) = if swap { (scalar, v) } else { (v, scalar) };
        let Some((mut value, mut keep)) = elem_op(op, l, r) else {
            continue;
        };
        if op.is_comparison() && swap {
            value = r;
        }
        if return_bool {
            value = btos(keep);
            keep = true;
        }
        if keep {
            s.value = SampleValue::Float(value);
            if changes_metric_schema(op) || return_bool {
                s.drop_name = true;
            }
            out.push(s);
        }
    }
    Ok(out)
}

/// The join signature of a series under `matching`.
pub fn signature(l: &Labels, m: &VectorMatching) -> Labels {
    if m.on {
        let names: Vec<&str> = m.labels.iter().map(String::as_str).collect();
        l.only(&names)
    } else {
        let mut names: Vec<&str> = m.labels.iter().map(String::as_str).collect();
        names.push(METRIC_NAME);
        l.without(&names)
    }
}

/// `and`, `or`, `unless`.
pub fn set_op(op: BinaryOp, lhs: Vec<Sample>, rhs: Vec<Sample>, m: &VectorMatching) -> Vec<Sample> {
    match op {
        BinaryOp::And => {
            if lhs.is_empty() || rhs.is_empty() {
                return Vec::new();
            }
            let right: HashSet<Labels> = rhs.iter().map(|s| signature(&s.metric, m)).collect();
            lhs.into_iter()
                .filter(|s| right.contains(&signature(&s.metric, m)))
                .collect()
        }
        BinaryOp::Or => {
            if lhs.is_empty() {
                return rhs;
            }
            if rhs.is_empty() {
                return lhs;
            }
            let left: HashSet<Labels> = lhs.iter().map(|s| signature(&s.metric, m)).collect();
            let mut out = lhs;
            out.extend(
                rhs.into_iter()
                    .filter(|s| !left.contains(&signature(&s.metric, m))),
            );
            out
        }
        _ => {
            if lhs.is_empty() || rhs.is_empty() {
                return lhs;
            }
            let right: HashSet<Labels> = rhs.iter().map(|s| signature(&s.metric, m)).collect();
            lhs.into_iter()
                .filter(|s| !right.contains(&signature(&s.metric, m)))
                .collect()
        }
    }
}

/// Labels of the "one" side used for a fill value (Prometheus' `MatchLabels`).
fn match_labels(l: &Labels, m: &VectorMatching) -> Labels {
    signature(l, m)
}

fn result_metric(lhs: &Labels, rhs: &Labels, op: BinaryOp, m: &VectorMatching) -> Result<Labels> {
    let mut b = lhs.to_builder();
    if changes_metric_schema(op) {
        for n in METADATA_LABELS {
            b.del(n);
        }
    }
    if m.card == Cardinality::OneToOne {
        if m.on {
            let keep: Vec<String> = lhs
                .iter()
                .map(|(n, _)| n.to_owned())
                .filter(|n| !m.labels.contains(n))
                .collect();
            for n in keep {
                b.del(&n);
            }
        } else {
            for n in &m.labels {
                b.del(n);
            }
        }
    }
    for n in &m.include {
        match rhs.get(n) {
            Some(v) => b.set(n, v),
            None => b.del(n),
        };
    }
    b.build().map_err(|e| QueryError::Execution(e.to_string()))
}

#[derive(Default)]
struct Matched {
    one: HashSet<Labels>,
    many: HashMap<Labels, HashSet<Labels>>,
}

/// Arithmetic and comparison between two instant vectors.
pub fn vector_vector(
    op: BinaryOp,
    lhs: Vec<Sample>,
    rhs: Vec<Sample>,
    m: &VectorMatching,
    return_bool: bool,
) -> Result<Vec<Sample>> {
    let fill = m.fill;
    if (lhs.is_empty() && rhs.is_empty())
        || ((lhs.is_empty() || rhs.is_empty()) && fill.lhs.is_none() && fill.rhs.is_none())
    {
        return Ok(Vec::new());
    }
    let swapped = m.card == Cardinality::OneToMany;
    let (lhs, rhs) = if swapped { (rhs, lhs) } else { (lhs, rhs) };
    // Prometheus applies `fill_right` to the side matched against (the "one" side
    // after swapping for group_right) without swapping the fill values.
    let (fill_for_rhs, fill_for_lhs) = (fill.rhs, fill.lhs);

    let mut right: HashMap<Labels, usize> = HashMap::with_capacity(rhs.len());
    for (i, rs) in rhs.iter().enumerate() {
        let sig = signature(&rs.metric, m);
        if let Some(&j) = right.get(&sig) {
            let one_side = if swapped { "left" } else { "right" };
            let (mut d1, mut d2) = (rs.metric.to_string(), rhs[j].metric.to_string());
            if d1 > d2 {
                std::mem::swap(&mut d1, &mut d2);
            }
            return Err(QueryError::Execution(format!(
                "found duplicate series for the match group {} on the {one_side} hand-side of the operation: [{d1}, {d2}];many-to-many matching not allowed: matching labels must be unique on one side",
                match_labels(&rs.metric, m)
            )));
        }
        right.insert(sig, i);
    }

    let mut matched = Matched::default();
    let mut out = Vec::new();

    let do_op = |ls: &Sample,
                 rs: &Sample,
                 sig: Labels,
                 matched: &mut Matched,
                 out: &mut Vec<Sample>|
     -> Result<()> {
        let (mut fl, mut fr) = (float_of(ls)?, float_of(rs)?);
        if swapped {
            std::mem::swap(&mut fl, &mut fr);
        }
        let Some((mut value, keep)) = elem_op(op, fl, fr) else {
            return Ok(());
        };
        if return_bool {
            value = btos(keep);
        }
        let metric = result_metric(&ls.metric, &rs.metric, op, m)?;
        if m.card == Cardinality::OneToOne {
            if !matched.one.insert(sig) {
                return Err(QueryError::Execution(
                    "multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)".into(),
                ));
            }
        } else if !matched.many.entry(sig).or_default().insert(metric.clone()) {
            return Err(QueryError::Execution(
                "multiple matches for labels: grouping labels must ensure unique matches".into(),
            ));
        }
        if !keep && !return_bool {
            return Ok(());
        }
        out.push(Sample {
            metric,
            t: ls.t,
            value: SampleValue::Float(value),
            drop_name: return_bool,
        });
        Ok(())
    };

    for ls in &lhs {
        let sig = signature(&ls.metric, m);
        match right.get(&sig) {
            Some(&j) => do_op(ls, &rhs[j], sig, &mut matched, &mut out)?,
            None => {
                let Some(f) = fill_for_rhs else { continue };
                let rs = Sample {
                    metric: match_labels(&ls.metric, m),
                    t: ls.t,
                    value: SampleValue::Float(f),
                    drop_name: false,
                };
                do_op(ls, &rs, sig, &mut matched, &mut out)?;
            }
        }
    }
    if let Some(f) = fill_for_lhs {
        for rs in &rhs {
            let sig = signature(&rs.metric, m);
            let done = if m.card == Cardinality::OneToOne {
                matched.one.contains(&sig)
            } else {
                matched.many.get(&sig).is_some_and(|s| !s.is_empty())
            };
            if done {
                continue;
            }
            let ls = Sample {
                metric: match_labels(&rs.metric, m),
                t: rs.t,
                value: SampleValue::Float(f),
                drop_name: false,
            };
            do_op(&ls, rs, sig, &mut matched, &mut out)?;
        }
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::parser::ast::FillValues;

    fn s(pairs: &[(&str, &str)], v: f64) -> Sample {
        Sample {
            metric: Labels::new(pairs).unwrap(),
            t: 0,
            value: SampleValue::Float(v),
            drop_name: false,
        }
    }

    fn matching(card: Cardinality, on: bool, labels: &[&str]) -> VectorMatching {
        VectorMatching {
            card,
            on,
            labels: labels.iter().map(|s| s.to_string()).collect(),
            include: vec![],
            fill: FillValues::default(),
        }
    }

    #[test]
    fn one_to_one_drops_name_for_arithmetic() {
        let l = vec![s(&[("__name__", "a"), ("x", "1")], 2.0)];
        let r = vec![s(&[("__name__", "b"), ("x", "1")], 3.0)];
        let m = matching(Cardinality::OneToOne, false, &[]);
        let out = vector_vector(BinaryOp::Add, l.clone(), r.clone(), &m, false).unwrap();
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].metric, Labels::new(&[("x", "1")]).unwrap());
        assert_eq!(out[0].value, SampleValue::Float(5.0));
        let out = vector_vector(BinaryOp::Lss, l, r, &m, false).unwrap();
        assert_eq!(out[0].metric.metric_name(), Some("a"));
    }

    #[test]
    fn many_to_many_is_an_error() {
        let l = vec![s(&[("x", "1")], 2.0)];
        let r = vec![
            s(&[("x", "1"), ("y", "a")], 3.0),
            s(&[("x", "1"), ("y", "b")], 3.0),
        ];
        let m = matching(Cardinality::OneToOne, true, &["x"]);
        let e = vector_vector(BinaryOp::Add, l, r, &m, false).unwrap_err();
        assert!(e.to_string().contains(
            "found duplicate series for the match group {x=\"1\"} on the right hand-side"
        ));
    }

    #[test]
    fn set_operators() {
        let l = vec![s(&[("x", "1")], 1.0), s(&[("x", "2")], 2.0)];
        let r = vec![s(&[("x", "2")], 9.0), s(&[("x", "3")], 3.0)];
        let m = matching(Cardinality::ManyToMany, false, &[]);
        assert_eq!(set_op(BinaryOp::And, l.clone(), r.clone(), &m).len(), 1);
        assert_eq!(set_op(BinaryOp::Or, l.clone(), r.clone(), &m).len(), 3);
        assert_eq!(set_op(BinaryOp::Unless, l, r, &m).len(), 1);
    }

    #[test]
    fn scalar_comparisons_keep_vector_value() {
        let v = vec![s(&[("x", "1")], 5.0)];
        let out = vector_scalar(BinaryOp::Lss, v.clone(), 1.0, true, false).unwrap();
        assert_eq!(out[0].value, SampleValue::Float(5.0));
        let out = vector_scalar(BinaryOp::Gtr, v, 10.0, false, true).unwrap();
        assert_eq!(out[0].value, SampleValue::Float(0.0));
        assert!(out[0].drop_name);
    }
}
