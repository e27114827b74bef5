use proptest::prelude::*;
use strata_model::Matcher;

use super::super::Arg;
use super::super::tests_util::*;
use crate::parser::ast::{Duration, Expr, MatrixSelector, VectorSelector};

fn one(name: &str, s: &TestSeries, t: i64, range: i64) -> Option<f64> {
    one_off(name, s, t, range, 0)
}

fn one_off(name: &str, s: &TestSeries, t: i64, range: i64, offset: i64) -> Option<f64> {
    let r = run(name, vec![Arg::Matrix(vec![s.window(t, range, offset)])], t);
    r.floats().first().copied()
}

fn path(p: &str) -> strata_model::Labels {
    lbl(&[("__name__", "http_requests_total"), ("path", p)])
}

#[test]
fn increase_with_extrapolation_and_zero_clamp() {
    let foo = TestSeries::series(path("/foo"), 5 * MIN, 0.0, 10.0, 10);
    let mut bar_vals: Vec<Option<f64>> = (0..=5).map(|i| Some(18.0 * i as f64)).collect();
    bar_vals.extend((0..=5).map(|i| Some(18.0 * i as f64)));
    let bar = TestSeries::load(path("/bar"), 5 * MIN, &bar_vals);
    let dings = TestSeries::series(path("/dings"), 5 * MIN, 10.0, 10.0, 10);
    let bumms = TestSeries::series(path("/bumms"), 5 * MIN, 1.0, 10.0, 10);
    let t = 50 * MIN;
    assert_close(one("increase", &foo, t, 50 * MIN).unwrap(), 100.0);
    assert_close(one("increase", &bar, t, 50 * MIN).unwrap(), 160.0);
    assert_close(one("increase", &dings, t, 50 * MIN).unwrap(), 100.0);
    assert_close(one("increase", &bumms, t, 50 * MIN).unwrap(), 100.0);
    assert_close(one("increase", &foo, t, 100 * MIN).unwrap(), 100.0);
    assert_close(one("increase", &bar, t, 100 * MIN).unwrap(), 162.0);
    assert_close(one("increase", &dings, t, 100 * MIN).unwrap(), 105.0);
    assert_close(one("increase", &bumms, t, 100 * MIN).unwrap(), 101.0);
}

#[test]
fn increase_counter_reset() {
    let vals: Vec<Option<f64>> = [0.0, 1.0, 2.0, 3.0, 2.0, 3.0, 4.0].map(Some).to_vec();
    let s = TestSeries::load(path("/foo"), 5 * MIN, &vals);
    assert_close(one("increase", &s, 30 * MIN, 30 * MIN).unwrap(), 7.0);
}

#[test]
fn rate_resets_and_windows() {
    let mut v: Vec<Option<f64>> = (0..=4).map(|i| Some(27.0 * i as f64)).collect();
    v.extend((0..=5).map(|i| Some(27.0 * i as f64)));
    let middle = TestSeries::load(
        lbl(&[("__name__", "testcounter_reset_middle_total")]),
        5 * MIN,
        &v,
    );
    assert_close(one("rate", &middle, 50 * MIN, 50 * MIN).unwrap(), 0.08);
    let mut v: Vec<Option<f64>> = (0..=9).map(|i| Some(10.0 * i as f64)).collect();
    v.extend([Some(0.0), Some(10.0)]);
    let end = TestSeries::load(
        lbl(&[("__name__", "testcounter_reset_end_total")]),
        5 * MIN,
        &v,
    );
    assert_eq!(one("rate", &end, 50 * MIN, 5 * MIN), None);
    assert_close(one("rate", &end, 50 * MIN, 6 * MIN).unwrap(), 0.0);
    let w = TestSeries::series(lbl(&[("__name__", "x_total")]), 5 * MIN, 0.0, 80.0, 10);
    assert_close(
        one("rate", &w, 50 * MIN, 50 * MIN).unwrap(),
        0.266_666_666_666_666_66,
    );
    let a = TestSeries::series(lbl(&[("x", "a")]), 5 * MIN, 0.0, 10.0, 10);
    assert_close(
        one_off("rate", &a, 50 * MIN, 10 * MIN, 5 * MIN).unwrap(),
        0.033_333_333_333_333_33,
    );
}

#[test]
fn rate_zero_cutoff() {
    let expect10 = [0.5, 0.55, 0.6, 0.6, 0.6, 0.6];
    for (i, want) in expect10.iter().enumerate() {
        let s = TestSeries::series(lbl(&[("start", "x")]), 4 * MIN, 60.0 * i as f64, 240.0, 10);
        assert_close(one("rate", &s, 10 * MIN, 20 * MIN).unwrap(), *want);
        assert_close(one("rate", &s, 50 * MIN, 20 * MIN).unwrap(), 0.6);
    }
}

#[test]
fn irate_and_idelta() {
    let foo = TestSeries::series(path("/foo"), 5 * MIN, 0.0, 10.0, 10);
    let mut v: Vec<Option<f64>> = (0..=5).map(|i| Some(10.0 * i as f64)).collect();
    v.extend((0..=5).map(|i| Some(10.0 * i as f64)));
    let bar = TestSeries::load(path("/bar"), 5 * MIN, &v);
    assert_close(
        one("irate", &foo, 50 * MIN, 50 * MIN).unwrap(),
        0.033_333_333_333_333_33,
    );
    assert_close(
        one("irate", &bar, 50 * MIN, 50 * MIN).unwrap(),
        0.033_333_333_333_333_33,
    );
    assert_close(one("irate", &bar, 30 * MIN, 50 * MIN).unwrap(), 0.0);
    let nan = TestSeries::load(
        lbl(&[]),
        5 * MIN,
        &[
            Some(1.0),
            Some(f64::NAN),
            Some(f64::NAN),
            Some(5.0),
            Some(11.0),
        ],
    );
    let r: Vec<Option<f64>> = (0..=4)
        .map(|i| one("irate", &nan, i * 5 * MIN, 15 * MIN + 1000))
        .collect();
    assert_eq!(r[0], None);
    assert!(r[1].unwrap().is_nan() && r[2].unwrap().is_nan() && r[3].unwrap().is_nan());
    assert_close(r[4].unwrap(), 0.02);
    let r: Vec<Option<f64>> = (0..=4)
        .map(|i| one("idelta", &nan, i * 5 * MIN, 15 * MIN + 1000))
        .collect();
    assert_close(r[4].unwrap(), 6.0);
    let d = TestSeries::load(
        path("/bar"),
        5 * MIN,
        &[Some(0.0), Some(50.0), Some(100.0), Some(50.0)],
    );
    assert_close(one("idelta", &d, 20 * MIN, 20 * MIN).unwrap(), -50.0);
}

#[test]
fn delta_is_not_counter_aware() {
    let foo = TestSeries::load(
        path("/foo"),
        5 * MIN,
        &[0.0, 50.0, 100.0, 150.0, 200.0].map(Some),
    );
    let bar = TestSeries::load(
        path("/bar"),
        5 * MIN,
        &[200.0, 150.0, 100.0, 50.0, 0.0].map(Some),
    );
    assert_close(one("delta", &foo, 20 * MIN, 20 * MIN).unwrap(), 200.0);
    assert_close(one("delta", &bar, 20 * MIN, 20 * MIN).unwrap(), -200.0);
}

#[test]
fn possible_non_counter_info_and_name_dropping() {
    let s = TestSeries::series(lbl(&[("__name__", "some_gauge")]), MIN, 0.0, 1.0, 10);
    let r = run(
        "rate",
        vec![Arg::Matrix(vec![s.window(5 * MIN, 5 * MIN, 0)])],
        5 * MIN,
    );
    assert_eq!(r.annos.infos, vec![
        "PromQL info: metric might not be a counter, name does not end in _total/_sum/_count/_bucket: \"some_gauge\"".to_string()
    ]);
    assert!(r.vector()[0].drop_name);
    let r = run(
        "delta",
        vec![Arg::Matrix(vec![s.window(5 * MIN, 5 * MIN, 0)])],
        5 * MIN,
    );
    assert!(r.annos.infos.is_empty());
    let c = TestSeries::series(lbl(&[("__name__", "x_count")]), MIN, 0.0, 1.0, 10);
    let r = run(
        "increase",
        vec![Arg::Matrix(vec![c.window(5 * MIN, 5 * MIN, 0)])],
        5 * MIN,
    );
    assert!(r.annos.infos.is_empty());
}

fn extended_expr(anchored: bool, smoothed: bool) -> Vec<Expr> {
    vec![Expr::MatrixSelector(MatrixSelector {
        selector: VectorSelector {
            name: Some("metric".into()),
            matchers: vec![Matcher::equal("__name__", "metric")],
            offset: None,
            at: None,
            anchored,
            smoothed,
        },
        range: Duration::Ms(MIN),
    })]
}

fn ext(name: &str, s: &TestSeries, t: i64, range: i64, smoothed: bool) -> Option<f64> {
    let exprs = extended_expr(!smoothed, smoothed);
    let w = s.extended_window(t, range, 5 * MIN, smoothed);
    run_with(name, vec![Arg::Matrix(vec![w])], t, &exprs)
        .floats()
        .first()
        .copied()
}

#[test]
fn anchored_and_smoothed() {
    // extended_vectors.test: load 10s, metric 1+1x4 9+1x4 (reset) ... use a simple ramp.
    let vals: Vec<Option<f64>> = (0..=10).map(|i| Some(i as f64)).collect();
    let s = TestSeries::load(lbl(&[("__name__", "metric")]), 10_000, &vals);
    // anchored increase over [15s] at 30s: last sample <= 15s is 10s (1) -> 2.
    assert_close(ext("increase", &s, 30_000, 15_000, false).unwrap(), 2.0);
    // smoothed: interpolated at 15s (1.5) and 30s (3) -> 1.5.
    assert_close(ext("increase", &s, 30_000, 15_000, true).unwrap(), 1.5);
    assert_close(ext("rate", &s, 30_000, 15_000, true).unwrap(), 0.1);
    // Counter reset across the window edge.
    let r = TestSeries::load(
        lbl(&[("__name__", "metric")]),
        10_000,
        &[Some(5.0), Some(6.0), Some(1.0), Some(2.0)],
    );
    assert_close(ext("increase", &r, 30_000, 20_000, false).unwrap(), 2.0);
    assert_close(ext("delta", &r, 30_000, 20_000, false).unwrap(), -4.0);
    // Unsupported function with anchored.
    let exprs = extended_expr(true, false);
    let e = run_with("deriv", vec![Arg::Matrix(vec![])], 0, &exprs).err();
    assert_eq!(
        e,
        "anchored modifier can only be used with: changes, delta, increase, rate, resets - not with deriv"
    );
    let exprs = extended_expr(false, true);
    let e = run_with("resets", vec![Arg::Matrix(vec![])], 0, &exprs).err();
    assert_eq!(
        e,
        "smoothed modifier can only be used with: delta, increase, rate - not with resets"
    );
}

proptest! {
    #[test]
    fn rate_of_monotonic_counter_is_bounded(
        incs in proptest::collection::vec(0.0f64..1e6, 2..40),
        interval in 1i64..120_000,
        range_mul in 1i64..50,
    ) {
        let mut v = 0.0;
        let vals: Vec<Option<f64>> = incs.iter().map(|i| { v += i; Some(v) }).collect();
        let s = TestSeries::load(lbl(&[("__name__", "c_total")]), interval, &vals);
        let t = interval * vals.len() as i64;
        let range = interval * range_mul;
        let w = s.window(t, range, 0);
        if let Some(inc) = one("increase", &s, t, range) {
            prop_assert!(inc >= 0.0);
            let first = w.floats[0].1;
            let last = w.floats[w.floats.len() - 1].1;
            // Extrapolation never more than the window / sampled interval allows.
            let sampled = (w.floats[w.floats.len() - 1].0 - w.floats[0].0) as f64;
            prop_assert!(inc <= (last - first) * (range as f64 / sampled) * (1.0 + 1e-9) + 1e-9);
            prop_assert!(inc >= (last - first) * (1.0 - 1e-9) - 1e-9);
        }
    }

    #[test]
    fn rate_never_panics(
        pts in proptest::collection::vec((any::<i64>(), any::<f64>()), 0..20),
        start in any::<i64>(),
        len in 1i64..i64::MAX,
    ) {
        let mut pts = pts;
        pts.sort_by_key(|p| p.0);
        let m = lbl(&[("__name__", "x")]);
        for name in ["rate", "increase", "delta", "irate", "idelta"] {
            let w = super::super::RangeSeries {
                metric: &m, floats: &pts, histograms: &[],
                range_start: start, range_end: start.saturating_add(len), drop_name: false,
                resets: None,
            };
            let _ = run(name, vec![Arg::Matrix(vec![w])], 0);
            for sm in [false, true] {
                let exprs = extended_expr(!sm, sm);
                if name == "rate" || name == "delta" {
                    let _ = run_with(name, vec![Arg::Matrix(vec![w])], 0, &exprs);
                }
            }
        }
    }
}

/// extended_vectors.test, "PROM-52: Complete dataset": load 15s, metric 1+1x4 9+1x4.
#[test]
fn prom52_complete_dataset() {
    let vals: Vec<Option<f64>> = [1.0, 2.0, 3.0, 4.0, 5.0, 9.0, 10.0, 11.0, 12.0, 13.0]
        .map(Some)
        .to_vec();
    let s = TestSeries::load(lbl(&[("__name__", "metric")]), 15_000, &vals);
    let times = [5, 20, 35, 50, 65, 80, 95, 110, 125];
    let classic = [
        None,
        Some(1.833333333),
        Some(2.833333333),
        Some(4.0),
        Some(4.0),
        Some(8.0),
        Some(8.0),
        Some(8.0),
        Some(4.0),
    ];
    let anchored = [0.0, 1.0, 2.0, 3.0, 4.0, 7.0, 7.0, 7.0, 7.0];
    let smoothed = [
        0.333333333,
        1.333333333,
        2.333333333,
        3.333333333,
        5.0,
        7.0,
        7.0,
        7.0,
        6.0,
    ];
    for (i, secs) in times.iter().enumerate() {
        let t = secs * 1000;
        let got = one("increase", &s, t, MIN);
        match classic[i] {
            None => assert_eq!(got, None, "classic at {secs}s"),
            Some(want) => assert_close(got.unwrap(), want),
        }
        assert_close(ext("increase", &s, t, MIN, false).unwrap(), anchored[i]);
        assert_close(ext("increase", &s, t, MIN, true).unwrap(), smoothed[i]);
    }
}
