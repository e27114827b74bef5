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

/// Owned samples of one series, from which test windows are cut.
pub struct TestSeries {
    pub metric: Labels,
    pub floats: Vec<(i64, f64)>,
}

impl TestSeries {
    /// Values loaded every `interval_ms` from t = 0 (`None` = missing), as `load` does.
    pub fn load(metric: Labels, interval_ms: i64, values: &[Option<f64>]) -> Self {
        let floats = values
            .iter()
            .enumerate()
            .filter_map(|(i, v)| v.map(|v| (i as i64 * interval_ms, v)))
            .collect();
        TestSeries { metric, floats }
    }

    /// `a+bxN` as in the test files.
    pub fn series(metric: Labels, interval_ms: i64, start: f64, step: f64, n: usize) -> Self {
        let vals: Vec<Option<f64>> = (0..=n).map(|i| Some(start + step * i as f64)).collect();
        Self::load(metric, interval_ms, &vals)
    }

    /// The window `(t - range - offset, t - offset]`.
    pub fn window(&self, t: i64, range: i64, offset: i64) -> super::RangeSeries<'_> {
        let end = t - offset;
        let start = end - range;
        let lo = self.floats.partition_point(|p| p.0 <= start);
        let hi = self.floats.partition_point(|p| p.0 <= end);
        super::RangeSeries {
            metric: &self.metric,
            floats: &self.floats[lo..hi],
            histograms: &[],
            range_start: start,
            range_end: end,
            drop_name: false,
            resets: None,
        }
    }

    /// A window with extra samples before (and, for smoothed, after) it, as the
    /// evaluator passes them for extended range selectors.
    pub fn extended_window(
        &self,
        t: i64,
        range: i64,
        lookback: i64,
        smoothed: bool,
    ) -> super::RangeSeries<'_> {
        let start = t - range;
        let lo = self.floats.partition_point(|p| p.0 <= start - lookback);
        let hi_t = if smoothed { t + lookback } else { t };
        let hi = self.floats.partition_point(|p| p.0 <= hi_t);
        super::RangeSeries {
            metric: &self.metric,
            floats: &self.floats[lo..hi],
            histograms: &[],
            range_start: start,
            range_end: t,
            drop_name: false,
            resets: None,
        }
    }
}

pub const MIN: i64 = 60_000;
