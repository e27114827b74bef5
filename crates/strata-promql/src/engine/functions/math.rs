//! Element-wise math on instant vectors: `abs`, `ceil`, `exp`, `ln`, trigonometry,
//! `round`, `clamp*`, `sgn`, `deg`/`rad`, and the scalar `pi`, `min_of`, `max_of`.
//!
//! Histogram samples are skipped; every output sample has its name marked for removal.

use std::f64::consts::PI;

use super::{Args, Ctx, Output, as_float, float_sample, go_max, go_min};
use crate::error::Result;
use crate::value::Sample;

fn unary(name: &str) -> Option<fn(f64) -> f64> {
    Some(match name {
        "abs" => f64::abs,
        "ceil" => f64::ceil,
        "floor" => f64::floor,
        "exp" => f64::exp,
        "sqrt" => f64::sqrt,
        "ln" => f64::ln,
        "log2" => f64::log2,
        "log10" => f64::log10,
        "sin" => f64::sin,
        "cos" => f64::cos,
        "tan" => f64::tan,
        "asin" => f64::asin,
        "acos" => f64::acos,
        "atan" => f64::atan,
        "sinh" => f64::sinh,
        "cosh" => f64::cosh,
        "tanh" => f64::tanh,
        "asinh" => f64::asinh,
        "acosh" => f64::acosh,
        "atanh" => f64::atanh,
        "rad" => |v| v * PI / 180.0,
        "deg" => |v| v * 180.0 / PI,
        "sgn" => |v| {
            if v < 0.0 {
                -1.0
            } else if v > 0.0 {
                1.0
            } else {
                v
            }
        },
        _ => return None,
    })
}

/// Applies `f` to every float sample; histograms are dropped.
pub(crate) fn map_floats(v: Vec<Sample>, f: impl Fn(f64) -> f64) -> Vec<Sample> {
    v.into_iter()
        .filter_map(|s| {
            let x = as_float(&s)?;
            Some(float_sample(s.metric, s.t, f(x), true))
        })
        .collect()
}

pub(super) fn call(name: &str, a: &mut Args<'_>, _ctx: &mut Ctx<'_>) -> Result<Option<Output>> {
    if let Some(f) = unary(name) {
        return Ok(Some(Output::Vector(map_floats(a.vector(0)?, f))));
    }
    let out = match name {
        "pi" => Output::Scalar(PI),
        "min_of" => Output::Scalar(go_min(a.scalar(0)?, a.scalar(1)?)),
        "max_of" => Output::Scalar(go_max(a.scalar(0)?, a.scalar(1)?)),
        "round" => {
            let v = a.vector(0)?;
            let to_nearest = if a.len() > 1 { a.scalar(1)? } else { 1.0 };
            let inv = 1.0 / to_nearest;
            Output::Vector(map_floats(v, |x| (x * inv + 0.5).floor() / inv))
        }
        "clamp" => {
            let v = a.vector(0)?;
            let (lo, hi) = (a.scalar(1)?, a.scalar(2)?);
            clamp(v, lo, hi)
        }
        "clamp_min" => {
            let v = a.vector(0)?;
            clamp(v, a.scalar(1)?, f64::INFINITY)
        }
        "clamp_max" => {
            let v = a.vector(0)?;
            clamp(v, f64::NEG_INFINITY, a.scalar(1)?)
        }
        _ => return Ok(None),
    };
    Ok(Some(out))
}

fn clamp(v: Vec<Sample>, lo: f64, hi: f64) -> Output {
    if hi < lo {
        return Output::Vector(Vec::new());
    }
    Output::Vector(map_floats(v, |x| go_max(lo, go_min(hi, x))))
}

#[cfg(test)]
mod tests {
    use super::super::Arg;
    use super::super::tests_util::*;
    use crate::value::{FloatHistogram, SampleValue};

    fn vec_of(vals: &[f64]) -> Vec<crate::value::Sample> {
        vals.iter()
            .enumerate()
            .map(|(i, v)| fsample(lbl(&[("__name__", "m"), ("i", &i.to_string())]), 0, *v))
            .collect()
    }

    fn one_arg(name: &str, vals: &[f64]) -> Vec<f64> {
        run(name, vec![Arg::Vector(vec_of(vals))], 0).floats()
    }

    #[test]
    fn simple_functions() {
        assert_eq!(one_arg("abs", &[-1.5, 2.0]), vec![1.5, 2.0]);
        assert_eq!(one_arg("ceil", &[1.2, -1.2]), vec![2.0, -1.0]);
        assert_eq!(one_arg("floor", &[1.8, -1.2]), vec![1.0, -2.0]);
        assert_eq!(one_arg("sqrt", &[4.0]), vec![2.0]);
        assert!(one_arg("sqrt", &[-1.0])[0].is_nan());
        assert_eq!(one_arg("ln", &[0.0]), vec![f64::NEG_INFINITY]);
        assert!(one_arg("ln", &[-1.0])[0].is_nan());
        assert_eq!(one_arg("log2", &[8.0]), vec![3.0]);
        assert_eq!(one_arg("log10", &[1000.0]), vec![3.0]);
        assert_eq!(one_arg("exp", &[0.0]), vec![1.0]);
        assert_eq!(one_arg("deg", &[std::f64::consts::PI]), vec![180.0]);
        assert_eq!(one_arg("rad", &[180.0]), vec![std::f64::consts::PI]);
        let s = one_arg("sgn", &[-3.0, 0.0, 5.0, f64::NAN]);
        assert_eq!(&s[..3], &[-1.0, 0.0, 1.0]);
        assert!(s[3].is_nan());
        assert!(one_arg("acosh", &[0.5])[0].is_nan());
        assert_eq!(one_arg("atanh", &[1.0]), vec![f64::INFINITY]);
    }

    #[test]
    fn drops_name_and_histograms() {
        let mut v = vec_of(&[1.0]);
        v.push(crate::value::Sample {
            metric: lbl(&[("__name__", "h")]),
            t: 0,
            value: SampleValue::Histogram(Box::default()),
            drop_name: false,
        });
        let r = run("abs", vec![Arg::Vector(v)], 0);
        assert_eq!(r.vector().len(), 1);
        assert!(r.vector()[0].drop_name);
        assert_eq!(r.vector()[0].metric.get("__name__"), Some("m"));
        let _ = FloatHistogram::default();
    }

    #[test]
    fn round_to_nearest() {
        // functions.test: round(t, 5) etc.
        let r = run(
            "round",
            vec![
                Arg::Vector(vec_of(&[12.5, -12.5, 1.0 / 3.0])),
                Arg::Scalar(0.1),
            ],
            0,
        );
        let f = r.floats();
        assert_close(f[0], 12.5);
        assert_close(f[1], -12.5);
        assert_close(f[2], 0.3);
        assert_eq!(one_arg("round", &[2.5, -2.5, 0.4]), vec![3.0, -2.0, 0.0]);
        let r = run(
            "round",
            vec![Arg::Vector(vec_of(&[12.0])), Arg::Scalar(5.0)],
            0,
        );
        assert_eq!(r.floats(), vec![10.0]);
    }

    #[test]
    fn clamp_family() {
        let v = || Arg::Vector(vec_of(&[-50.0, 0.0, 100.0, f64::NAN]));
        let r = run("clamp", vec![v(), Arg::Scalar(-25.0), Arg::Scalar(75.0)], 0);
        let f = r.floats();
        assert_eq!(&f[..3], &[-25.0, 0.0, 75.0]);
        assert!(f[3].is_nan());
        // min > max: empty.
        let r = run("clamp", vec![v(), Arg::Scalar(5.0), Arg::Scalar(-5.0)], 0);
        assert!(r.vector().is_empty());
        // NaN bound: everything NaN.
        let r = run(
            "clamp",
            vec![v(), Arg::Scalar(f64::NAN), Arg::Scalar(5.0)],
            0,
        );
        assert!(r.floats().iter().all(|x| x.is_nan()));
        let r = run("clamp_max", vec![v(), Arg::Scalar(42.0)], 0);
        assert_eq!(&r.floats()[..3], &[-50.0, 0.0, 42.0]);
        let r = run("clamp_min", vec![v(), Arg::Scalar(42.0)], 0);
        assert_eq!(&r.floats()[..3], &[42.0, 42.0, 100.0]);
    }

    #[test]
    fn scalars() {
        assert_eq!(run("pi", vec![], 0).scalar(), std::f64::consts::PI);
        let r = run("max_of", vec![Arg::Scalar(1.0), Arg::Scalar(2.0)], 0);
        assert_eq!(r.scalar(), 2.0);
        let r = run("min_of", vec![Arg::Scalar(1.0), Arg::Scalar(f64::NAN)], 0);
        assert!(r.scalar().is_nan());
    }
}
