//! `time`, `scalar`, `vector`, `absent`, `absent_over_time`, and the functions the
//! evaluator must handle itself (`info`, `start`/`end`/`range`/`step`,
//! `start_timestamp`).

use strata_model::{Labels, LabelsBuilder, METRIC_NAME, MatchType};

use super::{Args, Ctx, Output, as_float, float_sample};
use crate::error::{QueryError, Result};
use crate::parser::ast::Expr;

pub(super) fn call(name: &str, a: &mut Args<'_>, ctx: &mut Ctx<'_>) -> Result<Option<Output>> {
    let out = match name {
        "time" => Output::Scalar(ctx.t as f64 / 1000.0),
        "vector" => {
            let v = a.scalar(0)?;
            Output::Vector(vec![float_sample(Labels::empty(), ctx.t, v, false)])
        }
        "scalar" => {
            let v = a.vector(0)?;
            let mut floats = v.iter().filter_map(as_float);
            let value = match (floats.next(), floats.next()) {
                (Some(x), None) => x,
                _ => f64::NAN,
            };
            Output::Scalar(value)
        }
        "absent" => {
            let v = a.vector(0)?;
            if v.is_empty() {
                let metric = absent_labels(ctx.arg_exprs.first());
                Output::Vector(vec![float_sample(metric, ctx.t, 1.0, false)])
            } else {
                Output::Vector(Vec::new())
            }
        }
        "absent_over_time" => {
            let m = a.matrix(0)?;
            let any = m
                .iter()
                .any(|s| !s.floats.is_empty() || !s.histograms.is_empty());
            if any {
                Output::Vector(Vec::new())
            } else {
                let metric = absent_labels(ctx.arg_exprs.first());
                Output::Vector(vec![float_sample(metric, ctx.t, 1.0, true)])
            }
        }
        "info" => {
            return Err(QueryError::Execution(
                "info() is evaluated by the evaluator, not by the function table".into(),
            ));
        }
        "start" | "end" | "range" | "step" => {
            return Err(QueryError::Execution(format!(
                "{name}() must be folded into a number by the evaluator"
            )));
        }
        "start_timestamp" => {
            return Err(QueryError::Execution(
                "start_timestamp() is not supported: start timestamps are not available to functions"
                    .into(),
            ));
        }
        _ => return Ok(None),
    };
    Ok(Some(out))
}

/// The labels `absent`/`absent_over_time` report: those fixed by exactly one equality
/// matcher of the argument's selector (the metric name excluded).
pub(crate) fn absent_labels(expr: Option<&Expr>) -> Labels {
    let mut e = match expr {
        Some(e) => e,
        None => return Labels::empty(),
    };
    let matchers = loop {
        match e {
            Expr::Paren(inner) => e = inner,
            Expr::VectorSelector(vs) => break &vs.matchers,
            Expr::MatrixSelector(ms) => break &ms.selector.matchers,
            _ => return Labels::empty(),
        }
    };
    let mut b = LabelsBuilder::new();
    let mut seen: Vec<&str> = Vec::new();
    for m in matchers {
        if m.name == METRIC_NAME {
            continue;
        }
        if m.kind == MatchType::Equal && !seen.contains(&m.name.as_str()) {
            b.set(&m.name, &m.value);
            seen.push(&m.name);
        } else {
            b.del(&m.name);
        }
    }
    b.build().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use strata_model::Matcher;

    use super::super::tests_util::*;
    use super::super::{Arg, RangeSeries};
    use super::*;
    use crate::parser::ast::Duration;
    use crate::parser::ast::{MatrixSelector, VectorSelector};

    fn selector(matchers: Vec<Matcher>) -> VectorSelector {
        VectorSelector {
            name: None,
            matchers,
            offset: None,
            at: None,
            anchored: false,
            smoothed: false,
        }
    }

    #[test]
    fn time_vector_scalar() {
        assert_eq!(run("time", vec![], 5_000).scalar(), 5.0);
        let r = run("vector", vec![Arg::Scalar(2.5)], 0);
        assert_eq!(r.one(), 2.5);
        assert!(r.vector()[0].metric.is_empty());
        let one = vec![fsample(lbl(&[("a", "1")]), 0, 3.0)];
        assert_eq!(run("scalar", vec![Arg::Vector(one)], 0).scalar(), 3.0);
        let two = vec![
            fsample(lbl(&[("a", "1")]), 0, 3.0),
            fsample(lbl(&[("a", "2")]), 0, 4.0),
        ];
        assert!(run("scalar", vec![Arg::Vector(two)], 0).scalar().is_nan());
        assert!(
            run("scalar", vec![Arg::Vector(vec![])], 0)
                .scalar()
                .is_nan()
        );
    }

    #[test]
    fn absent_labels_from_equality_matchers() {
        // absent(nonexistent{job="testjob", instance="testinstance", method=~".x"})
        let vs = selector(vec![
            Matcher::equal("job", "testjob"),
            Matcher::equal("instance", "testinstance"),
            Matcher::new(MatchType::Regex, "method", ".x").unwrap(),
            Matcher::equal("__name__", "nonexistent"),
        ]);
        let exprs = [Expr::VectorSelector(vs)];
        let r = run_with("absent", vec![Arg::Vector(vec![])], 0, &exprs);
        assert_eq!(r.one(), 1.0);
        assert_eq!(
            r.vector()[0].metric,
            lbl(&[("instance", "testinstance"), ("job", "testjob")])
        );
        // absent(nonexistent{job="testjob",job="testjob2",foo="bar"}) -> {foo="bar"}
        let vs = selector(vec![
            Matcher::equal("job", "testjob"),
            Matcher::equal("job", "testjob2"),
            Matcher::equal("foo", "bar"),
        ]);
        let exprs = [Expr::VectorSelector(vs)];
        let r = run_with("absent", vec![Arg::Vector(vec![])], 0, &exprs);
        assert_eq!(r.vector()[0].metric, lbl(&[("foo", "bar")]));
        // Non-empty input: nothing.
        let r = run_with(
            "absent",
            vec![Arg::Vector(vec![fsample(lbl(&[("a", "b")]), 0, 1.0)])],
            0,
            &exprs,
        );
        assert!(r.vector().is_empty());
        // Non-selector argument: empty labels.
        let r = run_with(
            "absent",
            vec![Arg::Vector(vec![])],
            0,
            &[Expr::String("x".into())],
        );
        assert!(r.vector()[0].metric.is_empty());
    }

    #[test]
    fn absent_over_time_window() {
        let vs = selector(vec![Matcher::equal("job", "a")]);
        let exprs = [Expr::MatrixSelector(MatrixSelector {
            selector: vs,
            range: Duration::Ms(60_000),
        })];
        let metric = lbl(&[("job", "a")]);
        let empty = RangeSeries {
            metric: &metric,
            floats: &[],
            histograms: &[],
            range_start: 0,
            range_end: 60_000,
            drop_name: false,
            resets: None,
        };
        let r = run_with(
            "absent_over_time",
            vec![Arg::Matrix(vec![empty])],
            60_000,
            &exprs,
        );
        assert_eq!(r.one(), 1.0);
        assert_eq!(r.vector()[0].metric, lbl(&[("job", "a")]));
        let pts = [(1_000, 1.0)];
        let full = RangeSeries {
            floats: &pts,
            ..empty
        };
        let r = run_with(
            "absent_over_time",
            vec![Arg::Matrix(vec![full])],
            60_000,
            &exprs,
        );
        assert!(r.vector().is_empty());
    }

    #[test]
    fn evaluator_functions_error() {
        assert!(run("info", vec![], 0).err().contains("evaluator"));
        assert!(run("step", vec![], 0).err().contains("evaluator"));
    }
}
