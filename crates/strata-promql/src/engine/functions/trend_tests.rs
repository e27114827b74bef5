use super::super::Arg;
use super::super::RangeSeries;
use super::super::tests_util::*;
use crate::value::FloatHistogram;

fn vals(v: &[f64]) -> Vec<Option<f64>> {
    v.iter().copied().map(Some).collect()
}

fn one(name: &str, s: &TestSeries, t: i64, range: i64, extra: &[f64]) -> Option<f64> {
    let mut args = vec![Arg::Matrix(vec![s.window(t, range, 0)])];
    args.extend(extra.iter().map(|x| Arg::Scalar(*x)));
    run(name, args, t).floats().first().copied()
}

#[test]
fn resets_and_changes_from_functions_test() {
    let foo = TestSeries::load(
        lbl(&[("path", "/foo")]),
        5 * MIN,
        &vals(&[1., 2., 3., 0., 1., 0., 0., 1., 2., 0.]),
    );
    let bar = TestSeries::load(
        lbl(&[("path", "/bar")]),
        5 * MIN,
        &vals(&[1., 2., 3., 4., 5., 1., 2., 3., 4., 5.]),
    );
    let biz = TestSeries::load(
        lbl(&[("path", "/biz")]),
        5 * MIN,
        &vals(&[0., 0., 0., 0., 0., 1., 1., 1., 1., 1.]),
    );
    let t = 50 * MIN;
    // The last sample is at 45m: a 5m window at 50m is empty.
    assert_eq!(one("resets", &foo, t, 5 * MIN, &[]), None);
    for (range, want) in [
        (10 * MIN, [0., 0., 0.]),
        (20 * MIN, [1., 0., 0.]),
        (30 * MIN, [1., 0., 0.]),
        (32 * MIN, [2., 1., 0.]),
        (50 * MIN, [3., 1., 0.]),
    ] {
        for (s, w) in [&foo, &bar, &biz].iter().zip(want) {
            assert_eq!(one("resets", s, t, range, &[]), Some(w), "resets {range}");
        }
    }
    for (range, want) in [
        (6 * MIN, [0., 0., 0.]),
        (20 * MIN, [2., 2., 0.]),
        (30 * MIN, [3., 4., 0.]),
        (50 * MIN, [7., 8., 1.]),
    ] {
        for (s, w) in [&foo, &bar, &biz].iter().zip(want) {
            assert_eq!(one("changes", s, t, range, &[]), Some(w), "changes {range}");
        }
    }
    let r = run(
        "changes",
        vec![Arg::Matrix(vec![foo.window(t, 6 * MIN, 0)])],
        t,
    );
    assert!(r.vector()[0].drop_name);
}

#[test]
fn changes_with_nan_and_histograms() {
    let s = TestSeries::load(lbl(&[]), MIN, &vals(&[f64::NAN, f64::NAN, 1.0, f64::NAN]));
    assert_eq!(one("changes", &s, 3 * MIN, 10 * MIN, &[]), Some(2.0));
    let m = lbl(&[("__name__", "h")]);
    let h1 = FloatHistogram {
        count: 1.0,
        sum: 1.0,
        ..Default::default()
    };
    let h2 = FloatHistogram {
        count: 2.0,
        sum: 2.0,
        ..Default::default()
    };
    let hs = [(0, h1.clone()), (MIN, h1.clone()), (3 * MIN, h2)];
    let fl = [(2 * MIN, 5.0)];
    let w = RangeSeries {
        metric: &m,
        floats: &fl,
        histograms: &hs,
        range_start: -1,
        range_end: 3 * MIN,
        drop_name: false,
        resets: None,
    };
    // h1 h1 | 5 | h2: float<->histogram transitions count for both functions.
    let r = run("changes", vec![Arg::Matrix(vec![w])], 3 * MIN);
    assert_eq!(r.one(), 2.0);
}

#[test]
fn deriv_and_predict_linear() {
    let mut v: Vec<f64> = (0..=4).map(|i| 10.0 * i as f64).collect();
    v.extend((0..=5).map(|i| 10.0 * i as f64));
    let s = TestSeries::load(lbl(&[]), 5 * MIN, &vals(&v));
    assert_close(
        one("deriv", &s, 50 * MIN, 100 * MIN, &[]).unwrap(),
        0.010_606_060_606_060_607,
    );
    let c = TestSeries::series(lbl(&[("job", "app-server")]), 5 * MIN, 0.0, 80.0, 10);
    assert_close(
        one("deriv", &c, 50 * MIN, 50 * MIN, &[]).unwrap(),
        0.266_666_666_666_666_66,
    );
    assert_close(
        one("predict_linear", &s, 50 * MIN, 50 * MIN, &[3600.0]).unwrap(),
        70.0,
    );
    // `@ 3000`: the window ends at 3000 s but the intercept is at the eval time.
    let at = |t: i64| {
        let w = s.window(3_000_000, 55 * MIN, 0);
        run(
            "predict_linear",
            vec![Arg::Matrix(vec![w]), Arg::Scalar(3600.0)],
            t,
        )
        .one()
    };
    assert_close(at(50 * MIN), 76.818_181_818_181_81);
    assert_close(at(10 * MIN), 51.363_636_363_636_37);
    assert_close(at(70 * MIN), 89.545_454_545_454_55);
    let mut inf = vec![f64::NEG_INFINITY];
    inf.extend((0..=10).map(|i| 80.0 * i as f64));
    inf.push(f64::INFINITY);
    let s = TestSeries::load(lbl(&[]), 5 * MIN, &vals(&inf));
    assert!(
        one("deriv", &s, 100 * MIN, 100 * MIN, &[])
            .unwrap()
            .is_nan()
    );
    assert!(
        one("predict_linear", &s, 100 * MIN, 100 * MIN, &[6000.0])
            .unwrap()
            .is_nan()
    );
    // Constant series: slope 0.
    let k = TestSeries::load(lbl(&[]), MIN, &vals(&[3.0, 3.0, 3.0]));
    assert_eq!(one("deriv", &k, 2 * MIN, 5 * MIN, &[]), Some(0.0));
    // One sample: nothing.
    assert_eq!(one("deriv", &k, 0, 5 * MIN, &[]), None);
}

#[test]
fn deriv_ignores_histograms_with_info() {
    let m = lbl(&[("__name__", "mix")]);
    let fl = [(0, 0.0), (MIN, 10.0)];
    let hs = [(2 * MIN, FloatHistogram::default())];
    let w = RangeSeries {
        metric: &m,
        floats: &fl,
        histograms: &hs,
        range_start: -1,
        range_end: 2 * MIN,
        drop_name: false,
        resets: None,
    };
    let r = run("deriv", vec![Arg::Matrix(vec![w])], 2 * MIN);
    assert_close(r.one(), 10.0 / 60.0);
    assert_eq!(r.annos.infos, vec!["PromQL info: ignored histograms in a range containing both floats and histograms for metric name \"mix\"".to_string()]);
    let only = RangeSeries { floats: &[], ..w };
    let r = run("deriv", vec![Arg::Matrix(vec![only])], 2 * MIN);
    assert!(r.vector().is_empty() && r.annos.infos.is_empty());
}

#[test]
fn double_exponential_smoothing_cases() {
    let t = 8_000_000;
    for (start, step, want) in [
        (0.0, 10.0, 8000.0),
        (0.0, 20.0, 16000.0),
        (8000.0, -10.0, 0.0),
        (0.0, -20.0, -16000.0),
    ] {
        let s = TestSeries::series(lbl(&[]), 10_000, start, step, 1000);
        assert_close(
            one("double_exponential_smoothing", &s, t, MIN, &[0.01, 0.1]).unwrap(),
            want,
        );
    }
    let s = TestSeries::series(lbl(&[]), 10_000, 0.0, 10.0, 10);
    let r = run(
        "double_exponential_smoothing",
        vec![
            Arg::Matrix(vec![s.window(MIN, MIN, 0)]),
            Arg::Scalar(1.0),
            Arg::Scalar(0.1),
        ],
        MIN,
    );
    assert_eq!(
        r.err(),
        "invalid smoothing factor. Expected: 0 < sf < 1, got: 1.000000"
    );
    let r = run(
        "double_exponential_smoothing",
        vec![Arg::Matrix(vec![]), Arg::Scalar(0.5), Arg::Scalar(0.0)],
        MIN,
    );
    assert_eq!(
        r.err(),
        "invalid trend factor. Expected: 0 < tf < 1, got: 0.000000"
    );
}

proptest::proptest! {
    #[test]
    fn trend_functions_never_panic(
        pts in proptest::collection::vec((-1_000_000_000i64..1_000_000_000, proptest::num::f64::ANY), 0..12),
        t in proptest::num::i64::ANY,
    ) {
        let mut pts = pts;
        pts.sort_by_key(|p| p.0);
        let m = lbl(&[("__name__", "x")]);
        let w = RangeSeries { metric: &m, floats: &pts, histograms: &[], range_start: i64::MIN, range_end: i64::MAX, drop_name: false, resets: None };
        for name in ["changes", "resets", "deriv"] {
            let _ = run(name, vec![Arg::Matrix(vec![w])], t);
        }
        let _ = run("predict_linear", vec![Arg::Matrix(vec![w]), Arg::Scalar(f64::NAN)], t);
        let _ = run("double_exponential_smoothing", vec![Arg::Matrix(vec![w]), Arg::Scalar(0.5), Arg::Scalar(0.5)], t);
    }
}
