//! Tests of the comparison rules with hand-built results (the engine is not needed).

use strata_model::{Labels, stale_nan};

use super::compare::{check_outcome, float_eq, histogram_eq};
use super::runner::{Outcome, Runner, is_unsupported_error};
use super::script::{Command, Eval, parse_script};
use super::series::{ParsedHistogram, SeqValue, parse_values};
use super::storage::TestStorage;
use crate::error::QueryError;
use crate::value::{
    Annotations, CounterResetHint, FloatHistogram, QueryResult, QueryStats, Sample, SampleValue,
    Series, Span, Value,
};

fn eval(text: &str) -> Eval {
    let s = parse_script(text).unwrap();
    match s.commands.into_iter().next() {
        Some(Command::Eval(e)) => *e,
        other => panic!("not an eval: {other:?}"),
    }
}

fn l(s: &str) -> Labels {
    super::series::parse_labels(s).unwrap()
}

fn ok(value: Value) -> Result<QueryResult, QueryError> {
    ok_ann(value, &[], &[])
}

fn ok_ann(value: Value, warnings: &[&str], infos: &[&str]) -> Result<QueryResult, QueryError> {
    Ok(QueryResult {
        value,
        annotations: Annotations {
            warnings: warnings.iter().map(|s| s.to_string()).collect(),
            infos: infos.iter().map(|s| s.to_string()).collect(),
        },
        stats: QueryStats::default(),
    })
}

fn fsample(labels: &str, v: f64) -> Sample {
    Sample {
        metric: l(labels),
        t: 0,
        value: SampleValue::Float(v),
        drop_name: false,
    }
}

fn hist(s: &str) -> FloatHistogram {
    match parse_values(s).unwrap().remove(0) {
        SeqValue::Histogram(h) => h.h,
        _ => panic!(),
    }
}

fn vector(samples: Vec<Sample>) -> Value {
    Value::Vector(samples)
}

#[test]
fn float_tolerance_and_nan() {
    assert!(float_eq(1.0, 1.0 + 1e-7));
    assert!(!float_eq(1.0, 1.0 + 1e-5));
    assert!(float_eq(1e300, 1e300 * (1.0 + 1e-7)));
    assert!(float_eq(0.0, 0.0) && float_eq(0.0, -0.0));
    assert!(!float_eq(0.0, 1e-10), "zero needs an absolute match");
    assert!(float_eq(f64::INFINITY, f64::INFINITY));
    assert!(!float_eq(f64::INFINITY, f64::NEG_INFINITY));
    assert!(!float_eq(f64::INFINITY, 1.0));
    assert!(float_eq(f64::NAN, -f64::NAN));
    assert!(!float_eq(f64::NAN, 1.0));
    assert!(float_eq(stale_nan(), stale_nan()));
    assert!(!float_eq(stale_nan(), f64::NAN));
}

#[test]
fn instant_vector_order_and_labels() {
    let e = eval("eval instant at 0 m\n  m{a=\"1\"} 1\n  m{a=\"2\"} 2.0000001\n");
    let good = vector(vec![fsample("m{a=\"2\"}", 2.0), fsample("m{a=\"1\"}", 1.0)]);
    assert_eq!(
        check_outcome(&e, &ok(good.clone())),
        Ok(()),
        "order ignored"
    );
    let wrong = vector(vec![fsample("m{a=\"2\"}", 2.1), fsample("m{a=\"1\"}", 1.0)]);
    assert!(check_outcome(&e, &ok(wrong)).is_err());
    let extra = vector(vec![
        fsample("m{a=\"2\"}", 2.0),
        fsample("m{a=\"1\"}", 1.0),
        fsample("m", 1.0),
    ]);
    assert!(check_outcome(&e, &ok(extra)).is_err());
    let label = vector(vec![fsample("{a=\"2\"}", 2.0), fsample("m{a=\"1\"}", 1.0)]);
    assert!(
        check_outcome(&e, &ok(label)).is_err(),
        "__name__ is part of the label set"
    );
    let more = vector(vec![
        fsample("m{a=\"2\", b=\"x\"}", 2.0),
        fsample("m{a=\"1\"}", 1.0),
    ]);
    assert!(check_outcome(&e, &ok(more)).is_err());

    let o = eval("eval instant at 0 m\n  expect ordered\n  m{a=\"1\"} 1\n  m{a=\"2\"} 2\n");
    assert!(check_outcome(&o, &ok(good)).is_err());
    let in_order = vector(vec![fsample("m{a=\"1\"}", 1.0), fsample("m{a=\"2\"}", 2.0)]);
    assert_eq!(check_outcome(&o, &ok(in_order)), Ok(()));

    let empty = eval("eval instant at 0 m\n");
    assert_eq!(check_outcome(&empty, &ok(vector(vec![]))), Ok(()));
    assert!(check_outcome(&empty, &ok(vector(vec![fsample("m", 1.0)]))).is_err());
    assert!(check_outcome(&empty, &ok(Value::Scalar { t: 0, v: 1.0 })).is_err());
}

#[test]
fn scalars_strings_and_types() {
    let e = eval("eval instant at 0 1\n  1.0000000001\n");
    assert_eq!(
        check_outcome(&e, &ok(Value::Scalar { t: 0, v: 1.0 })),
        Ok(())
    );
    assert!(check_outcome(&e, &ok(Value::Scalar { t: 0, v: 2.0 })).is_err());
    assert!(check_outcome(&e, &ok(vector(vec![fsample("{}", 1.0)]))).is_err());
    let s = eval("eval instant at 0 \"a\"\n  expect string \"a\"\n");
    assert_eq!(
        check_outcome(
            &s,
            &ok(Value::String {
                t: 0,
                s: "a".into()
            })
        ),
        Ok(())
    );
    assert!(
        check_outcome(
            &s,
            &ok(Value::String {
                t: 0,
                s: "b".into()
            })
        )
        .is_err()
    );
    let nan = eval("eval instant at 0 m\n  m NaN\n");
    assert_eq!(
        check_outcome(&nan, &ok(vector(vec![fsample("m", f64::NAN)]))),
        Ok(())
    );
    let h = eval("eval instant at 0 m\n  m {{count:1}}\n");
    assert!(
        check_outcome(&h, &ok(vector(vec![fsample("m", 1.0)]))).is_err(),
        "float for histogram"
    );
}

fn series(labels: &str, floats: Vec<(i64, f64)>) -> Series {
    Series {
        metric: l(labels),
        floats,
        ..Series::default()
    }
}

#[test]
fn matrix_points_and_sorting() {
    let e = eval("eval range from 0 to 2m step 1m m\n  m{a=\"1\"} 1 _ 3\n  m{a=\"2\"} 1x2\n");
    let good = || {
        vec![
            series("m{a=\"1\"}", vec![(0, 1.0), (120_000, 3.0)]),
            series("m{a=\"2\"}", vec![(0, 1.0), (60_000, 1.0), (120_000, 1.0)]),
        ]
    };
    assert_eq!(check_outcome(&e, &ok(Value::Matrix(good()))), Ok(()));
    let mut unsorted = good();
    unsorted.reverse();
    assert!(check_outcome(&e, &ok(Value::Matrix(unsorted))).is_err());
    let mut shifted = good();
    shifted[0].floats[1].0 = 60_000;
    assert!(
        check_outcome(&e, &ok(Value::Matrix(shifted))).is_err(),
        "`_` means no point"
    );
    let mut extra = good();
    extra[0].floats.insert(1, (60_000, 2.0));
    assert!(check_outcome(&e, &ok(Value::Matrix(extra))).is_err());
    let mut with_hist = good();
    with_hist[1]
        .histograms
        .push((60_000, FloatHistogram::default()));
    assert!(check_outcome(&e, &ok(Value::Matrix(with_hist))).is_err());
    assert!(check_outcome(&e, &ok(vector(vec![]))).is_err());

    let rv =
        eval("eval instant at 1m m[1m]\n  expect range vector from 30s to 1m step 30s\n  m 1 2\n");
    let got = vec![series("m", vec![(30_000, 1.0), (60_000, 2.0)])];
    assert_eq!(check_outcome(&rv, &ok(Value::Matrix(got))), Ok(()));
    let no_rv = eval("eval instant at 1m m[1m]\n");
    assert!(
        check_outcome(&no_rv, &ok(Value::Matrix(vec![]))).is_err(),
        "matrix needs expect range vector"
    );
}

#[test]
fn histogram_comparison() {
    let exp = |s: &str| match parse_values(s).unwrap().remove(0) {
        SeqValue::Histogram(h) => h,
        _ => panic!(),
    };
    let a = hist("{{schema:0 count:3 sum:2 buckets:[1 0 2]}}");
    // The same histogram written with explicit spans and no empty bucket.
    let b = FloatHistogram {
        count: 3.0,
        sum: 2.0000000001,
        positive_spans: vec![
            Span {
                offset: 0,
                length: 1,
            },
            Span {
                offset: 1,
                length: 1,
            },
        ],
        positive_buckets: vec![1.0, 2.0],
        counter_reset_hint: CounterResetHint::Gauge,
        ..FloatHistogram::default()
    };
    let e = exp("{{schema:0 count:3 sum:2 buckets:[1 0 2]}}");
    assert_eq!(
        histogram_eq(&e, &b),
        Ok(()),
        "compaction and hint not given"
    );
    assert_eq!(histogram_eq(&e, &a), Ok(()));
    let with_hint = exp("{{schema:0 count:3 sum:2 buckets:[1 0 2] counter_reset_hint:not_reset}}");
    assert!(histogram_eq(&with_hint, &b).is_err());
    for bad in [
        "{{schema:1 count:3 sum:2 buckets:[1 0 2]}}",
        "{{schema:0 count:4 sum:2 buckets:[1 0 2]}}",
        "{{schema:0 count:3 sum:2 buckets:[1 2]}}",
        "{{schema:0 count:3 sum:2 buckets:[1 0 2.1]}}",
        "{{schema:0 count:3 sum:2 buckets:[1 0 2] z_bucket_w:0.1}}",
        "{{schema:0 count:3 sum:2 buckets:[1 0 2] n_buckets:[1]}}",
    ] {
        assert!(histogram_eq(&exp(bad), &a).is_err(), "{bad}");
    }
    let c = exp("{{schema:-53 count:1 custom_values:[1 2] buckets:[1]}}");
    assert!(
        histogram_eq(
            &c,
            &hist("{{schema:-53 count:1 custom_values:[1 3] buckets:[1]}}")
        )
        .is_err()
    );
    let p = ParsedHistogram {
        h: a.clone(),
        hint_given: false,
    };
    let e = eval("eval instant at 0 m\n  m {{schema:0 count:3 sum:2 buckets:[1 0 2]}}\n");
    let got = Sample {
        metric: l("m"),
        t: 0,
        value: SampleValue::Histogram(Box::new(p.h)),
        drop_name: false,
    };
    assert_eq!(check_outcome(&e, &ok(vector(vec![got]))), Ok(()));
}

#[test]
fn failures_and_annotations() {
    let err = |m: &str| Err(QueryError::Execution(m.into()));
    let any = eval("eval instant at 0 m\n  expect fail\n");
    assert_eq!(check_outcome(&any, &err("x")), Ok(()));
    assert!(check_outcome(&any, &ok(vector(vec![]))).is_err());
    let msg = eval("eval instant at 0 m\n  expect fail msg:Parameter value is NaN\n");
    assert_eq!(check_outcome(&msg, &err("Parameter value is NaN")), Ok(()));
    assert!(check_outcome(&msg, &err("Parameter value is NaN!")).is_err());
    let re = eval("eval instant at 0 m\n  expect fail regex: conflicting label\n");
    assert_eq!(
        check_outcome(&re, &err("found conflicting label x")),
        Ok(())
    );
    assert!(check_outcome(&re, &err("other")).is_err());
    let none = eval("eval instant at 0 m\n");
    assert!(check_outcome(&none, &err("x")).is_err());

    let w = eval("eval instant at 0 m\n  expect warn msg: PromQL warning: a\n  expect no_info\n");
    let v = || vector(vec![]);
    assert_eq!(
        check_outcome(&w, &ok_ann(v(), &["PromQL warning: a (1:1)"], &[])),
        Ok(())
    );
    assert!(
        check_outcome(&w, &ok(v())).is_err(),
        "a warning is required"
    );
    assert!(
        check_outcome(
            &w,
            &ok_ann(v(), &["PromQL warning: a", "PromQL warning: b"], &[])
        )
        .is_err()
    );
    assert!(
        check_outcome(&w, &ok_ann(v(), &["PromQL warning: a"], &["i"])).is_err(),
        "no_info"
    );
    let any_warn = eval("eval instant at 0 m\n  expect warn\n");
    assert_eq!(
        check_outcome(&any_warn, &ok_ann(v(), &["x", "y"], &[])),
        Ok(())
    );
    let unchecked = eval("eval instant at 0 m\n");
    assert_eq!(
        check_outcome(&unchecked, &ok_ann(v(), &["x"], &["y"])),
        Ok(())
    );
    let info = eval("eval instant at 0 m\n  expect info regex: ^PromQL info\n  expect no_warn\n");
    assert_eq!(
        check_outcome(&info, &ok_ann(v(), &[], &["PromQL info: z"])),
        Ok(())
    );
    assert!(check_outcome(&info, &ok_ann(v(), &["w"], &["PromQL info: z"])).is_err());
}

#[test]
fn runner_reports_every_eval() {
    assert!(is_unsupported_error(
        "smoothed modifier is not supported yet"
    ));
    assert!(!is_unsupported_error(
        "vector cannot contain metrics with the same labelset"
    ));
    let s = parse_script(
        "load 1m\n  m 1\n\neval instant at 0 m\n  m 1\n\neval instant at 0 m\n  expect fail\n",
    )
    .unwrap();
    let out = Runner::default().run_script(&s);
    assert_eq!(out.len(), 2);
    assert_eq!(out[0].line, 4);
    assert!(!out[0].histograms);
    // The query succeeds, so the second eval's expected failure does not happen.
    assert_eq!(out[0].outcome, Outcome::Passed);
    assert!(matches!(out[1].outcome, Outcome::Failed(_)));
    let st = parse_script("load 1m\n  m@st 0\n  m 1\n\neval instant at 0 m\n").unwrap();
    let out = Runner::default().run_script(&st);
    assert_eq!(
        out[0].outcome,
        Outcome::Unsupported("start timestamps".into())
    );
    let _ = TestStorage::new();
}
