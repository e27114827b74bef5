//! Helpers for the function unit tests.

use strata_model::Labels;

use super::{Arg, Ctx, Output, call};
use crate::error::Result;
use crate::parser::ast::Expr;
use crate::parser::functions::lookup;
use crate::value::{Annotations, Sample, SampleValue};

/// Parses `{a="b", c="d"}`-less shorthand: `lbl(&[("__name__", "x"), ("a", "b")])`.
pub fn lbl(pairs: &[(&str, &str)]) -> Labels {
    Labels::new(pairs).unwrap()
}

pub fn fsample(metric: Labels, t: i64, v: f64) -> Sample {
    Sample {
        metric,
        t,
        value: SampleValue::Float(v),
        drop_name: false,
    }
}

/// Result of one call: output, annotations.
pub struct Res {
    pub out: Result<Output>,
    pub annos: Annotations,
}

impl Res {
    pub fn vector(&self) -> &Vec<Sample> {
        match &self.out {
            Ok(Output::Vector(v)) => v,
            other => panic!("expected a vector, got {other:?}"),
        }
    }
    pub fn scalar(&self) -> f64 {
        match &self.out {
            Ok(Output::Scalar(v)) => *v,
            other => panic!("expected a scalar, got {other:?}"),
        }
    }
    /// The float values in output order.
    pub fn floats(&self) -> Vec<f64> {
        self.vector()
            .iter()
            .map(|s| match s.value {
                SampleValue::Float(v) => v,
                SampleValue::Histogram(_) => panic!("histogram"),
            })
            .collect()
    }
    /// The single float value of a one-element vector.
    pub fn one(&self) -> f64 {
        let f = self.floats();
        assert_eq!(f.len(), 1, "{:?}", self.out);
        f[0]
    }
    pub fn err(&self) -> String {
        match &self.out {
            Err(e) => e.to_string(),
            other => panic!("expected an error, got {other:?}"),
        }
    }
}

pub fn run_with(name: &str, args: Vec<Arg<'_>>, t: i64, exprs: &[Expr]) -> Res {
    let f = lookup(name).unwrap();
    let mut annos = Annotations::default();
    let out = {
        let mut ctx = Ctx {
            t,
            annotations: &mut annos,
            arg_exprs: exprs,
        };
        call(f, args, &mut ctx)
    };
    Res { out, annos }
}

pub fn run(name: &str, args: Vec<Arg<'_>>, t: i64) -> Res {
    run_with(name, args, t, &[])
}

/// Relative comparison as the promqltest runner does it.
pub fn close(a: f64, b: f64) -> bool {
    if a.is_nan() && b.is_nan() {
        return true;
    }
    if a == b {
        return true;
    }
    let sum = a.abs() + b.abs();
    if a == 0.0 || b == 0.0 || sum < f64::MIN_POSITIVE {
        return (a - b).abs() < 1e-6 * f64::MIN_POSITIVE;
    }
    (a - b).abs() / sum.min(f64::MAX) < 1e-6
}

#[track_caller]
pub fn assert_close(a: f64, b: f64) {
    assert!(close(a, b), "{a} != {b}");
}
