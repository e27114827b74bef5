#![allow(clippy::excessive_precision)]

use super::super::tests_util::*;
use super::super::{Arg, RangeSeries};
use crate::value::{FloatHistogram, SampleValue};

fn vals(v: &[f64]) -> Vec<Option<f64>> {
    v.iter().copied().map(Some).collect()
}

fn one(name: &str, s: &TestSeries, t: i64, range: i64) -> Option<f64> {
    run(name, vec![Arg::Matrix(vec![s.window(t, range, 0)])], t)
        .floats()
        .first()
        .copied()
}

fn load10s(v: &[f64]) -> TestSeries {
    TestSeries::load(lbl(&[("__name__", "metric")]), 10_000, &vals(v))
}

#[test]
fn avg_over_time_from_functions_test() {
    let t = 55_000;
    let inf = f64::INFINITY;
    let cases: &[(&[f64], f64)] = &[
        (&[1., 2., 3., 4., 5.], 3.0),
        (&[1., 2., 3., 4., inf], inf),
        (&[1., 2., 3., 4., -inf], -inf),
        (&[1., 2., 3., inf, -inf], f64::NAN),
        (&[inf, 0., inf], inf),
        (&[inf, inf, inf, -inf], f64::NAN),
        (&[1., 2., 3., -inf, -inf], -inf),
        (&[-inf, 0., -inf], -inf),
        (&[1., 2., -inf, -inf, inf], f64::NAN),
        (
            &[9.988465674311579e307, 9.988465674311579e307],
            9.988465674311579e307,
        ),
        (
            &[
                -9.988465674311579e307,
                -9.988465674311579e307,
                -9.988465674311579e307,
            ],
            -9.988465674311579e307,
        ),
        (&[-9.988465674311579e307, 9.988465674311579e307], 0.0),
        (&[1., 2., 3., f64::NAN, f64::NAN], f64::NAN),
    ];
    for (v, want) in cases {
        let s = load10s(v);
        assert_close(one("avg_over_time", &s, t, MIN).unwrap(), *want);
    }
    let s = load10s(&[1., 2., 3., 4., 5.]);
    assert_eq!(one("avg_over_time", &s, t, 10_000), None);
    assert_eq!(one("avg_over_time", &s, t, 20_000), Some(5.0));
    let big = load10s(&[9.988465674311579e307, 9.988465674311579e307]);
    assert_eq!(one("sum_over_time", &big, t, MIN), Some(f64::INFINITY));
    let nan = load10s(&[1., 2., 3., f64::NAN, f64::NAN]);
    assert_eq!(one("avg_over_time", &nan, 20_000, MIN), Some(2.0));
    // Exactness: 52 averaged stays 52.
    let k = TestSeries::load(lbl(&[]), 10_000, &vals(&[52.0; 101]));
    for r in [100_000, 110_000, 120_000, 130_000] {
        assert_eq!(one("avg_over_time", &k, 10 * MIN, r), Some(52.0));
    }
}

#[test]
fn dense_sum_over_time() {
    let s = TestSeries::load(lbl(&[]), 1, &vals(&[1.0; 4001]));
    for r in [1000, 1001, 1002, 1003, 2000, 3003] {
        assert_eq!(one("sum_over_time", &s, 4000, r), Some(r as f64));
    }
}

#[test]
fn variance_mad_and_ts_functions() {
    let s = load10s(&[0., 8., 8., 2., 3.]);
    assert_close(one("stdvar_over_time", &s, MIN, 2 * MIN).unwrap(), 10.56);
    assert_close(one("stddev_over_time", &s, MIN, 2 * MIN).unwrap(), 3.249615);
    let k = load10s(&[1.5990505637277868; 3]);
    assert_eq!(one("stdvar_over_time", &k, 55_000, MIN), Some(0.0));
    assert_eq!(
        one(
            "mad_over_time",
            &load10s(&[4., 6., 2., 1., 999., 1., 2.]),
            70_000,
            70_000
        ),
        Some(1.0)
    );
    assert_eq!(
        one(
            "mad_over_time",
            &load10s(&[1., 2., 3., 4., 5.]),
            40_000,
            50_000
        ),
        Some(1.0)
    );
    assert_eq!(
        one("mad_over_time", &load10s(&[7.; 5]), 40_000, 50_000),
        Some(0.0)
    );
    assert_eq!(one("mad_over_time", &load10s(&[5.]), 0, 10_000), Some(0.0));
    assert!(
        one(
            "mad_over_time",
            &load10s(&[1., 2., f64::NAN, 4.]),
            30_000,
            40_000
        )
        .unwrap()
        .is_nan()
    );
    let odd = TestSeries::load(
        lbl(&[]),
        10_053,
        &vals(&[1., 2., 3., 0., 5., 6., 2., 1., 4.]),
    );
    assert_close(
        one("ts_of_min_over_time", &odd, 90_000, 90_000).unwrap(),
        30.159,
    );
    assert_close(
        one("ts_of_max_over_time", &odd, 90_000, 90_000).unwrap(),
        50.265,
    );
    let m = TestSeries::load(
        lbl(&[]),
        10_053,
        &[None, None, Some(1.), Some(2.), Some(3.)],
    );
    assert_close(
        one("ts_of_last_over_time", &m, 95_000, 90_000).unwrap(),
        40.212,
    );
    assert_close(
        one("ts_of_first_over_time", &m, 95_000, 90_000).unwrap(),
        20.106,
    );
    assert_eq!(one("ts_of_first_over_time", &m, 15_000, 90_000), None);
}

#[test]
fn quantile_over_time_cases() {
    let two = load10s(&[0., 1.]);
    let three = load10s(&[0., 1., 2.]);
    let uneven = load10s(&[0., 1., 4.]);
    for (q, want) in [
        (0.0, [0., 0., 0.]),
        (0.5, [0.5, 1., 1.]),
        (0.75, [0.75, 1.5, 2.5]),
        (0.8, [0.8, 1.6, 2.8]),
        (1.0, [1., 2., 4.]),
    ] {
        for (s, w) in [&two, &three, &uneven].iter().zip(want) {
            let r = run(
                "quantile_over_time",
                vec![Arg::Scalar(q), Arg::Matrix(vec![s.window(MIN, 2 * MIN, 0)])],
                MIN,
            );
            assert_close(r.one(), w);
            assert!(r.annos.warnings.is_empty());
        }
    }
    let r = run(
        "quantile_over_time",
        vec![
            Arg::Scalar(-1.0),
            Arg::Matrix(vec![two.window(MIN, 2 * MIN, 0)]),
        ],
        MIN,
    );
    assert_eq!(r.one(), f64::NEG_INFINITY);
    assert_eq!(
        r.annos.warnings,
        vec!["PromQL warning: quantile value should be between 0 and 1, got -1".to_string()]
    );
    let r = run(
        "quantile_over_time",
        vec![
            Arg::Scalar(f64::NAN),
            Arg::Matrix(vec![two.window(MIN, 2 * MIN, 0)]),
        ],
        MIN,
    );
    assert!(r.one().is_nan());
    assert_eq!(
        r.annos.warnings,
        vec!["PromQL warning: quantile value should be between 0 and 1, got NaN".to_string()]
    );
}

#[test]
fn min_max_nan_rules() {
    let cases: &[(&[f64], f64, f64)] = &[
        (&[2., 0., 3.], 0., 3.),
        (&[2., 0., f64::NAN], 0., 2.),
        (&[2., f64::NAN, 1.], 1., 2.),
        (&[f64::NAN, 0., 1.], 0., 1.),
    ];
    for (v, min, max) in cases {
        let s = load10s(v);
        assert_eq!(one("min_over_time", &s, MIN, 2 * MIN), Some(*min));
        assert_eq!(one("max_over_time", &s, MIN, 2 * MIN), Some(*max));
    }
    let s = load10s(&[f64::NAN; 3]);
    assert!(one("min_over_time", &s, MIN, 2 * MIN).unwrap().is_nan());
}

#[test]
fn histograms_and_names() {
    let m = lbl(&[("__name__", "data_histogram"), ("type", "mix")]);
    let h = FloatHistogram {
        count: 3.0,
        sum: 2.0,
        ..Default::default()
    };
    let fl = [(0, 0.0), (10_000, 1.0)];
    let hs = [(20_000, h.clone()), (30_000, h.clone())];
    let w = RangeSeries {
        metric: &m,
        floats: &fl,
        histograms: &hs,
        range_start: -60_000,
        range_end: 60_000,
        drop_name: false,
        resets: None,
    };
    let r = run("min_over_time", vec![Arg::Matrix(vec![w])], MIN);
    assert_eq!(r.one(), 0.0);
    assert_eq!(r.annos.infos.len(), 1);
    let r = run("last_over_time", vec![Arg::Matrix(vec![w])], MIN);
    assert_eq!(r.vector()[0].value, SampleValue::Histogram(Box::new(h)));
    assert!(!r.vector()[0].drop_name, "last_over_time keeps the name");
    let r = run("first_over_time", vec![Arg::Matrix(vec![w])], MIN);
    assert_eq!(r.vector()[0].value, SampleValue::Float(0.0));
    let r = run("count_over_time", vec![Arg::Matrix(vec![w])], MIN);
    assert_eq!(r.one(), 4.0);
    assert!(r.vector()[0].drop_name);
    let r = run("sum_over_time", vec![Arg::Matrix(vec![w])], MIN);
    assert!(r.vector().is_empty());
    assert_eq!(r.annos.warnings, vec!["PromQL warning: encountered a mix of histograms and floats for metric name \"data_histogram\"".to_string()]);
    let only = RangeSeries { floats: &[], ..w };
    assert!(
        run("stddev_over_time", vec![Arg::Matrix(vec![only])], MIN)
            .vector()
            .is_empty()
    );
    assert!(
        run("sum_over_time", vec![Arg::Matrix(vec![only])], MIN)
            .out
            .is_err()
    );
    assert_eq!(
        run("present_over_time", vec![Arg::Matrix(vec![only])], MIN).one(),
        1.0
    );
    assert_eq!(
        run("ts_of_last_over_time", vec![Arg::Matrix(vec![only])], MIN).one(),
        30.0
    );
    // An input whose name is already dropped stays dropped through last_over_time.
    let dropped = RangeSeries {
        drop_name: true,
        ..w
    };
    assert!(run("last_over_time", vec![Arg::Matrix(vec![dropped])], MIN).vector()[0].drop_name);
}

proptest::proptest! {
    #[test]
    fn over_time_never_panics(
        pts in proptest::collection::vec((proptest::num::i64::ANY, proptest::num::f64::ANY), 0..12),
        q in proptest::num::f64::ANY,
    ) {
        let mut pts = pts;
        pts.sort_by_key(|p| p.0);
        let m = lbl(&[("__name__", "x")]);
        let w = RangeSeries { metric: &m, floats: &pts, histograms: &[], range_start: i64::MIN, range_end: i64::MAX, drop_name: false, resets: None };
        for name in ["avg_over_time", "sum_over_time", "count_over_time", "min_over_time", "max_over_time",
                     "stddev_over_time", "stdvar_over_time", "mad_over_time", "last_over_time", "first_over_time",
                     "present_over_time", "ts_of_first_over_time", "ts_of_last_over_time",
                     "ts_of_min_over_time", "ts_of_max_over_time", "absent_over_time"] {
            let _ = run(name, vec![Arg::Matrix(vec![w])], 0);
        }
        let _ = run("quantile_over_time", vec![Arg::Scalar(q), Arg::Matrix(vec![w])], 0);
    }
}
