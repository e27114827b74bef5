use super::super::Arg;
use super::super::tests_util::*;
use crate::value::{FloatHistogram, Sample, SampleValue};

/// Bucket samples `name_bucket{le=…, extra…}` with the given (le, value) pairs.
fn buckets(name: &str, extra: &[(&str, &str)], les: &[(&str, f64)]) -> Vec<Sample> {
    les.iter()
        .map(|(le, v)| {
            let mut pairs = vec![("__name__", name), ("le", *le)];
            pairs.extend_from_slice(extra);
            fsample(lbl(&pairs), 0, *v)
        })
        .collect()
}

fn testhistogram() -> Vec<Sample> {
    let mut v = buckets(
        "testhistogram_bucket",
        &[("start", "positive")],
        &[("0.1", 50.), (".2", 70.), ("1e0", 110.), ("+Inf", 120.)],
    );
    v.extend(buckets(
        "testhistogram_bucket",
        &[("start", "negative")],
        &[("-.2", 10.), ("-0.1", 20.), ("0.3", 20.), ("+Inf", 30.)],
    ));
    v
}

fn testhistogram3() -> Vec<Sample> {
    let mut v = buckets(
        "testhistogram3_bucket",
        &[("start", "positive")],
        &[
            ("0", 0.),
            ("0.1", 50.),
            (".2", 70.),
            ("1e0", 110.),
            ("+Inf", 110.),
        ],
    );
    v.extend(buckets(
        "testhistogram3_bucket",
        &[("start", "negative")],
        &[
            ("-.25", 0.),
            ("-.2", 10.),
            ("-0.1", 20.),
            ("0.3", 20.),
            ("+Inf", 20.),
        ],
    ));
    v
}

/// (start label, value) pairs of a histogram_quantile result.
fn hq(q: f64, v: Vec<Sample>) -> (Vec<(String, f64)>, Res) {
    let r = run(
        "histogram_quantile",
        vec![Arg::Scalar(q), Arg::Vector(v)],
        0,
    );
    let mut out: Vec<(String, f64)> = r
        .vector()
        .iter()
        .map(|s| {
            assert!(s.drop_name);
            assert_eq!(s.metric.get("le"), None);
            let v = match s.value {
                SampleValue::Float(f) => f,
                _ => panic!(),
            };
            (s.metric.get("start").unwrap_or("").to_string(), v)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    (out, r)
}

#[track_caller]
fn check(q: f64, v: Vec<Sample>, negative: f64, positive: f64) {
    let (out, r) = hq(q, v);
    assert_eq!(out.len(), 2);
    assert_close(out[0].1, negative);
    assert_close(out[1].1, positive);
    assert!(r.annos.warnings.is_empty() || !(0.0..=1.0).contains(&q) || q.is_nan());
}

#[test]
fn classic_quantiles_from_histograms_test() {
    check(0.0, testhistogram3(), -0.25, 0.0);
    check(0.25, testhistogram3(), -0.225, 0.055);
    check(0.5, testhistogram3(), -0.2, 0.125);
    check(0.75, testhistogram3(), -0.15, 0.45);
    check(1.0, testhistogram3(), -0.1, 1.0);
    check(0.0, testhistogram(), -0.2, 0.0);
    check(1.0, testhistogram(), 0.3, 1.0);
    check(0.2, testhistogram(), -0.2, 0.048);
    check(0.5, testhistogram(), -0.15, 0.15);
    check(0.8, testhistogram(), 0.3, 0.72);
    check(-0.1, testhistogram(), f64::NEG_INFINITY, f64::NEG_INFINITY);
    check(1.01, testhistogram(), f64::INFINITY, f64::INFINITY);
    check(f64::NAN, testhistogram(), f64::NAN, f64::NAN);
    let (_, r) = hq(-0.1, testhistogram());
    assert_eq!(
        r.annos.warnings,
        vec!["PromQL warning: quantile value should be between 0 and 1, got -0.1".to_string()]
    );
    // The warning comes even without input.
    let (out, r) = hq(f64::NAN, vec![]);
    assert!(out.is_empty());
    assert_eq!(
        r.annos.warnings,
        vec!["PromQL warning: quantile value should be between 0 and 1, got NaN".to_string()]
    );
}

#[test]
fn middle_of_bucket_and_fractions() {
    let h2 = || {
        buckets(
            "testhistogram2_bucket",
            &[],
            &[("0", 0.), ("2", 10.), ("4", 20.), ("6", 30.), ("+Inf", 30.)],
        )
    };
    for (q, want) in [(1.0 / 6.0, 1.0), (0.5, 3.0), (5.0 / 6.0, 5.0)] {
        let r = run(
            "histogram_quantile",
            vec![Arg::Scalar(q), Arg::Vector(h2())],
            0,
        );
        assert_close(r.one(), want);
    }
    for (lo, hi, want) in [
        (0.0, 4.0, 0.6666666666666666),
        (0.0, 6.0, 1.0),
        (0.0, 3.5, 0.5833333333333334),
    ] {
        let r = run(
            "histogram_fraction",
            vec![Arg::Scalar(lo), Arg::Scalar(hi), Arg::Vector(h2())],
            0,
        );
        assert_close(r.one(), want);
        assert!(r.vector()[0].drop_name);
    }
    let r = run(
        "histogram_fraction",
        vec![
            Arg::Scalar(0.0),
            Arg::Scalar(0.2),
            Arg::Vector(testhistogram3()),
        ],
        0,
    );
    let mut f: Vec<(String, f64)> = r
        .vector()
        .iter()
        .map(|s| {
            (
                s.metric.get("start").unwrap().to_string(),
                match s.value {
                    SampleValue::Float(x) => x,
                    _ => panic!(),
                },
            )
        })
        .collect();
    f.sort_by(|a, b| a.0.cmp(&b.0));
    assert_close(f[0].1, 0.0);
    assert_close(f[1].1, 0.6363636363636364);
}

#[test]
fn monotonicity_fix_and_info() {
    let v = || {
        buckets(
            "nonmonotonic_bucket",
            &[],
            &[
                ("0.1", 20.),
                ("1", 10.),
                ("10", 50.),
                ("100", 40.),
                ("1000", 90.),
                ("+Inf", 80.),
            ],
        )
    };
    for (q, want) in [(0.01, 0.0045), (0.5, 8.5), (0.99, 979.75)] {
        let r = run(
            "histogram_quantile",
            vec![Arg::Scalar(q), Arg::Vector(v())],
            0,
        );
        assert_close(r.one(), want);
        assert_eq!(r.annos.infos, vec!["PromQL info: input to histogram_quantile needed to be fixed for monotonicity (see https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile) for metric name \"nonmonotonic_bucket\"".to_string()]);
    }
    let r = run(
        "histogram_quantiles",
        vec![
            Arg::Vector(v()),
            Arg::String("q".into()),
            Arg::Scalar(0.01),
            Arg::Scalar(0.5),
            Arg::Scalar(0.99),
        ],
        0,
    );
    let got: Vec<(String, f64)> = r
        .vector()
        .iter()
        .map(|s| {
            (
                s.metric.get("q").unwrap().to_string(),
                match s.value {
                    SampleValue::Float(x) => x,
                    _ => panic!(),
                },
            )
        })
        .collect();
    assert_eq!(
        got.iter().map(|g| g.0.as_str()).collect::<Vec<_>>(),
        vec!["0.01", "0.5", "0.99"]
    );
    assert_close(got[2].1, 979.75);
}

#[test]
fn histogram_quantiles_labels_and_clash() {
    let r = run(
        "histogram_quantiles",
        vec![
            Arg::Vector(testhistogram3()),
            Arg::String("q".into()),
            Arg::Scalar(0.0),
            Arg::Scalar(1.0),
        ],
        0,
    );
    let mut qs: Vec<String> = r
        .vector()
        .iter()
        .map(|s| s.metric.get("q").unwrap().to_string())
        .collect();
    qs.sort();
    assert_eq!(qs, vec!["0.0", "0.0", "1.0", "1.0"]);
    let r = run(
        "histogram_quantiles",
        vec![
            Arg::Vector(testhistogram3()),
            Arg::String("start".into()),
            Arg::Scalar(0.0),
            Arg::Scalar(0.25),
        ],
        0,
    );
    assert_eq!(
        r.err(),
        "vector cannot contain metrics with the same labelset"
    );
}

#[test]
fn equal_bounds_are_merged_and_bad_le_warns() {
    // mixed_bucket rate: le 0.1 -> 1, 0.2/2e-1/2.0e-1 -> 1 each, +Inf -> 4.
    let v = buckets(
        "mixed_bucket",
        &[("instance", "ins1")],
        &[
            ("0.1", 1.),
            ("0.2", 1.),
            ("2e-1", 1.),
            ("2.0e-1", 1.),
            ("+Inf", 4.),
        ],
    );
    let mut v2 = v.clone();
    v2.extend(buckets(
        "mixed_bucket",
        &[("instance", "ins2")],
        &[("+inf", 0.), ("+Inf", 0.)],
    ));
    let r = run(
        "histogram_quantile",
        vec![Arg::Scalar(0.5), Arg::Vector(v2)],
        0,
    );
    let mut f: Vec<(String, f64)> = r
        .vector()
        .iter()
        .map(|s| {
            (
                s.metric.get("instance").unwrap().to_string(),
                match s.value {
                    SampleValue::Float(x) => x,
                    _ => panic!(),
                },
            )
        })
        .collect();
    f.sort_by(|a, b| a.0.cmp(&b.0));
    assert_close(f[0].1, 0.15);
    assert!(f[1].1.is_nan());
    let r = run(
        "histogram_quantile",
        vec![Arg::Scalar(0.75), Arg::Vector(v)],
        0,
    );
    assert_close(r.one(), 0.2);
    let bad = vec![
        fsample(
            lbl(&[("__name__", "series"), ("le", "Hello World")]),
            0,
            1.0,
        ),
        fsample(lbl(&[("__name__", "series")]), 0, 1.0),
    ];
    let r = run(
        "histogram_quantile",
        vec![Arg::Scalar(0.5), Arg::Vector(bad)],
        0,
    );
    assert!(r.vector().is_empty());
    assert_eq!(r.annos.warnings, vec![
        "PromQL warning: bucket label \"le\" is missing or has a malformed value of \"Hello World\" for metric name \"series\"".to_string(),
        "PromQL warning: bucket label \"le\" is missing or has a malformed value of \"\" for metric name \"series\"".to_string(),
    ]);
    // No +Inf bucket: NaN.
    let r = run(
        "histogram_quantile",
        vec![
            Arg::Scalar(0.5),
            Arg::Vector(buckets("x", &[], &[("1", 1.)])),
        ],
        0,
    );
    assert!(r.one().is_nan());
}

#[test]
fn native_histograms() {
    let h = FloatHistogram {
        count: 4.0,
        sum: 10.0,
        ..Default::default()
    };
    let s = Sample {
        metric: lbl(&[("__name__", "series")]),
        t: 0,
        value: SampleValue::Histogram(Box::new(h)),
        drop_name: false,
    };
    assert_eq!(
        run("histogram_count", vec![Arg::Vector(vec![s.clone()])], 0).one(),
        4.0
    );
    assert_eq!(
        run("histogram_sum", vec![Arg::Vector(vec![s.clone()])], 0).one(),
        10.0
    );
    assert_eq!(
        run("histogram_avg", vec![Arg::Vector(vec![s.clone()])], 0).one(),
        2.5
    );
    // A classic and a native histogram with the same labels: warning, no result.
    let mut v = buckets("series", &[], &[("1", 1.), ("+Inf", 2.)]);
    v.push(s.clone());
    let r = run(
        "histogram_quantile",
        vec![Arg::Scalar(0.5), Arg::Vector(v)],
        0,
    );
    assert!(r.vector().is_empty());
    assert_eq!(r.annos.warnings, vec!["PromQL warning: vector contains a mix of classic and native histograms for metric name \"series\"".to_string()]);
    let r = run(
        "histogram_quantile",
        vec![Arg::Scalar(1.0), Arg::Vector(vec![s])],
        0,
    );
    assert!(r.one().is_nan(), "no buckets: 0/0");
    // NaN observations: count 3 but buckets hold 2, sum NaN.
    let nan = FloatHistogram {
        schema: 0,
        count: 3.0,
        sum: f64::NAN,
        positive_spans: vec![crate::value::Span {
            offset: 0,
            length: 2,
        }],
        positive_buckets: vec![1.0, 1.0],
        ..Default::default()
    };
    let ns = Sample {
        metric: lbl(&[("__name__", "histogram_nan")]),
        t: 0,
        value: SampleValue::Histogram(Box::new(nan)),
        drop_name: false,
    };
    let r = run(
        "histogram_quantile",
        vec![Arg::Scalar(1.0), Arg::Vector(vec![ns.clone()])],
        0,
    );
    assert!(r.one().is_nan());
    assert_eq!(r.annos.infos, vec!["PromQL info: input to histogram_quantile has NaN observations, result is NaN for metric name \"histogram_nan\"".to_string()]);
    let r = run(
        "histogram_quantile",
        vec![Arg::Scalar(0.5), Arg::Vector(vec![ns.clone()])],
        0,
    );
    assert_close(r.one(), std::f64::consts::SQRT_2);
    assert_eq!(r.annos.infos, vec!["PromQL info: input to histogram_quantile has NaN observations, result is skewed higher for metric name \"histogram_nan\"".to_string()]);
    let r = run(
        "histogram_fraction",
        vec![Arg::Scalar(0.0), Arg::Scalar(1.0), Arg::Vector(vec![ns])],
        0,
    );
    assert_close(r.one(), 1.0 / 3.0);
    assert_eq!(r.annos.infos, vec!["PromQL info: input to histogram_fraction has NaN observations, which are excluded from all fractions for metric name \"histogram_nan\"".to_string()]);
}

proptest::proptest! {
    #[test]
    fn classic_functions_never_panic(
        bs in proptest::collection::vec((proptest::num::f64::ANY, proptest::num::f64::ANY), 0..10),
        q in proptest::num::f64::ANY,
        lo in proptest::num::f64::ANY,
    ) {
        let _ = super::bucket_quantile(q, bs.clone());
        let _ = super::bucket_fraction(lo, q, bs.clone());
        let mut with_inf = bs;
        with_inf.push((f64::INFINITY, 1.0));
        let r = super::bucket_quantile(q, with_inf.clone());
        if (0.0..=1.0).contains(&q) && with_inf.iter().all(|b| b.0.is_finite() || b.0 == f64::INFINITY) && with_inf.iter().all(|b| b.1.is_finite()) {
            let _ = r;
        }
        let _ = super::bucket_fraction(lo, q, with_inf);
    }
}
