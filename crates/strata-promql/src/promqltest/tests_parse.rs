//! Tests of the script parser, the series notation and the test storage.

use strata_model::storage::{Queryable, SelectHints};
use strata_model::{Labels, MatchType, Matcher, is_stale_nan};

use super::runner::{involves_histograms, query_features};
use super::script::{Command, EvalKind, Expected, TextMatch, parse_script};
use super::series::{SeqValue, parse_labels, parse_values};
use super::storage::TestStorage;
use crate::value::{CounterResetHint, Span};

fn floats(s: &str) -> Vec<Option<f64>> {
    parse_values(s)
        .unwrap()
        .into_iter()
        .map(|v| match v {
            SeqValue::Float(f) => Some(f),
            SeqValue::Missing => None,
            SeqValue::Histogram(_) => panic!("unexpected histogram"),
        })
        .collect()
}

fn labels(pairs: &[(&str, &str)]) -> Labels {
    Labels::new(pairs).unwrap()
}

#[test]
fn every_shipped_file_parses() {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/promql");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return; // Test data not present in this checkout.
    };
    let mut evals = 0;
    for e in entries.flatten() {
        let p = e.path();
        if p.extension().is_some_and(|x| x == "test") {
            let text = std::fs::read_to_string(&p).unwrap();
            let s = parse_script(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            evals += s
                .commands
                .iter()
                .filter(|c| matches!(c, Command::Eval(_)))
                .count();
        }
    }
    assert_eq!(evals, 2195, "SOURCE.md counts 2195 evals");
}

#[test]
fn expanding_notation() {
    assert_eq!(
        floats("0+10x3"),
        [Some(0.0), Some(10.0), Some(20.0), Some(30.0)]
    );
    assert_eq!(floats("5-2x2"), [Some(5.0), Some(3.0), Some(1.0)]);
    assert_eq!(floats("-1-1x1"), [Some(-1.0), Some(-2.0)]);
    assert_eq!(
        floats("1x2 _ _x2"),
        [Some(1.0), Some(1.0), Some(1.0), None, None, None]
    );
    assert_eq!(floats("0+0x10").len(), 11, "0x10 is not hex here");
    assert_eq!(
        floats(".8 2. 1e3 12.34e-6 +5"),
        [
            Some(0.8),
            Some(2.0),
            Some(1000.0),
            Some(12.34e-6),
            Some(5.0)
        ]
    );
    let v = floats("Inf -inf +Inf NaN nan");
    assert_eq!(
        &v[..3],
        [
            Some(f64::INFINITY),
            Some(f64::NEG_INFINITY),
            Some(f64::INFINITY)
        ]
    );
    assert!(v[3].unwrap().is_nan() && !is_stale_nan(v[3].unwrap()));
    let s = floats("1 stale");
    assert!(is_stale_nan(s[1].unwrap()));
    assert!(parse_values("1+2").is_err(), "a+b needs xN");
    assert!(parse_values("1x").is_err());
    assert!(parse_values("abc").is_err());
}

#[test]
fn histogram_notation() {
    let v = parse_values(
        "{{schema:1 sum:5 count:4 z_bucket:1 z_bucket_w:0.001 buckets:[1 0 2] offset:-1 n_buckets:[3] n_offset:2 counter_reset_hint:gauge}} {{}}x1",
    )
    .unwrap();
    assert_eq!(v.len(), 3);
    let SeqValue::Histogram(h) = &v[0] else {
        panic!()
    };
    assert!(h.hint_given);
    assert_eq!(h.h.counter_reset_hint, CounterResetHint::Gauge);
    assert_eq!(
        (
            h.h.schema,
            h.h.sum,
            h.h.count,
            h.h.zero_count,
            h.h.zero_threshold
        ),
        (1, 5.0, 4.0, 1.0, 0.001)
    );
    assert_eq!(
        h.h.positive_spans,
        [Span {
            offset: -1,
            length: 3
        }]
    );
    assert_eq!(h.h.positive_buckets, [1.0, 0.0, 2.0]);
    assert_eq!(
        h.h.negative_spans,
        [Span {
            offset: 2,
            length: 1
        }]
    );
    let SeqValue::Histogram(e) = &v[2] else {
        panic!()
    };
    assert!(!e.hint_given && e.h.count == 0.0 && e.h.positive_buckets.is_empty());

    let v =
        parse_values("{{schema:0 count:1 sum:2 buckets:[1]}}+{{count:2 sum:1 buckets:[1 1]}}x2")
            .unwrap();
    let SeqValue::Histogram(last) = &v[2] else {
        panic!()
    };
    assert_eq!((last.h.count, last.h.sum), (5.0, 4.0));
    assert_eq!(last.h.positive_buckets, [3.0, 2.0]);
    let nhcb = parse_values("{{schema:-53 count:1 custom_values:[5 10] buckets:[1]}}").unwrap();
    let SeqValue::Histogram(c) = &nhcb[0] else {
        panic!()
    };
    assert_eq!(c.h.custom_values, [5.0, 10.0]);
    assert!(
        parse_values("{{schema:0}}+{{schema:2}}x1").is_ok(),
        "finer addend is reduced"
    );
    assert!(
        parse_values("{{schema:2}}+{{schema:0}}x1").is_err(),
        "finer augend is an error"
    );
    assert!(parse_values("{{bogus:1}}").is_err());
}

#[test]
fn label_sets() {
    assert_eq!(parse_labels("{}").unwrap(), Labels::empty());
    assert_eq!(parse_labels("up").unwrap(), labels(&[("__name__", "up")]));
    assert_eq!(
        parse_labels(r#"http_requests{job="api", instance='0', x=`a\b`}"#).unwrap(),
        labels(&[
            ("__name__", "http_requests"),
            ("job", "api"),
            ("instance", "0"),
            ("x", "a\\b")
        ])
    );
    assert_eq!(
        parse_labels(r#"{__name__="m", a="b\n"}"#).unwrap(),
        labels(&[("__name__", "m"), ("a", "b\n")])
    );
    assert_eq!(
        parse_labels(r#"{"my.metric", "label.x"="v"}"#).unwrap(),
        labels(&[("__name__", "my.metric"), ("label.x", "v")])
    );
    assert!(parse_labels(r#"{a="b" c="d"}"#).is_err());
    assert!(parse_labels(r#"{a=b}"#).is_err());
}

const SCRIPT: &str = "# comment\nload 1m\n\tm{a=\"1\"}  0+1x2\n  m{a=\"2\"} 5\n  m{a=\"1\"} 9\n\nclear\neval instant at 1m30s sum(m)\n  expect fail msg: boom\n  expect warn\n  expect warn regex: w.*\n  expect no_info\n  expect ordered\n\neval range from 0 to 2m step 1m m\n  m{a=\"1\"} 0 _ 2\n\neval instant at 1m 1+1\n  2\n\neval instant at 1m \"x\"\n  expect string `x`\n\neval instant at 1m m[1m]\n  expect range vector from 10s to 1m step 10s\n  m 1 2\n\neval_fail instant at 0 foo\n  expected_fail_regexp a|b\n";

#[test]
fn commands_and_expectations() {
    let s = parse_script(SCRIPT).unwrap();
    assert_eq!(s.commands.len(), 8);
    let Command::Load(l) = &s.commands[0] else {
        panic!()
    };
    assert_eq!((l.line, l.interval_ms, l.with_nhcb), (2, 60_000, false));
    assert_eq!(
        l.series.len(),
        2,
        "a repeated series is defined by its last line"
    );
    assert_eq!(l.series[1].values, [SeqValue::Float(9.0)]);
    assert!(matches!(s.commands[1], Command::Clear { line: 7 }));
    let Command::Eval(e) = &s.commands[2] else {
        panic!()
    };
    assert_eq!(
        (e.line, e.query.as_str(), e.kind),
        (8, "sum(m)", EvalKind::Instant { at: 90_000 })
    );
    assert_eq!(e.fail, Some(TextMatch::Exact("boom".into())));
    assert_eq!(e.warn, [TextMatch::Any, TextMatch::Regex("w.*".into())]);
    assert!(e.no_info && e.ordered && !e.no_warn);
    let Command::Eval(e) = &s.commands[3] else {
        panic!()
    };
    assert_eq!(
        e.kind,
        EvalKind::Range {
            start: 0,
            end: 120_000,
            step: 60_000
        }
    );
    let Expected::Series(series) = &e.expected else {
        panic!()
    };
    assert_eq!(
        series[0].values,
        [
            SeqValue::Float(0.0),
            SeqValue::Missing,
            SeqValue::Float(2.0)
        ]
    );
    let Command::Eval(e) = &s.commands[4] else {
        panic!()
    };
    assert_eq!(e.expected, Expected::Scalar(2.0));
    let Command::Eval(e) = &s.commands[5] else {
        panic!()
    };
    assert_eq!(e.expected, Expected::String("x".into()));
    let Command::Eval(e) = &s.commands[6] else {
        panic!()
    };
    assert_eq!(e.range_vector, Some((10_000, 60_000, 10_000)));
    assert_eq!(e.kind, EvalKind::Instant { at: 60_000 });
    let Command::Eval(e) = &s.commands[7] else {
        panic!()
    };
    assert_eq!(e.fail, Some(TextMatch::Regex("a|b".into())));
}

#[test]
fn script_errors_carry_lines() {
    let bad = |s: &str| parse_script(s).unwrap_err().line;
    assert_eq!(bad("load 1m\n  m 1\n\nfrobnicate\n"), 4);
    assert_eq!(
        bad("eval instant at 0 m\n  expect warn\n  expect no_warn\n"),
        1
    );
    assert_eq!(
        bad("eval instant at 0 m\n  m 1 2\n"),
        1,
        "instant evals take one value"
    );
    assert_eq!(
        bad("eval range from 0 to 1m step 1m m\n  m 1 2 3\n"),
        1,
        "more values than steps"
    );
    assert_eq!(bad("eval range from 1m to 0 step 1m m\n"), 1);
    assert_eq!(
        bad("eval instant at 0 m\n  expect fail\n  expect fail\n"),
        3
    );
    assert_eq!(bad("eval instant at 0 m\n  expect bogus\n"), 2);
    assert_eq!(
        bad("load 1m\n  m{a=\"b\"}@st 0\n"),
        2,
        "@st needs a following line"
    );
    assert!(parse_script("load 1m\n  m{a=\"b\"}@st _ -1s+1sx1\n  m{a=\"b\"} 1 2 3\n").is_ok());
}

fn storage() -> TestStorage {
    let s = parse_script(
        "load 1m\n  up{job=\"a\", i=\"1\"} 1 2 3\n  up{job=\"b\"} _ 5\n  other{job=\"a\"} 7 stale\n  h {{count:1}}\n",
    )
    .unwrap();
    let mut st = TestStorage::new();
    for c in &s.commands {
        if let Command::Load(l) = c {
            st.apply_load(l).unwrap();
        }
    }
    st
}

fn select(
    st: &TestStorage,
    ms: &[Matcher],
    start: i64,
    end: i64,
) -> Vec<(Labels, Vec<(i64, f64)>)> {
    let q = st.querier(start, end).unwrap();
    let hints = SelectHints {
        start,
        end,
        ..SelectHints::default()
    };
    q.select(ms, &hints)
        .unwrap()
        .map(|s| s.unwrap().collect_samples().unwrap())
        .collect()
}

#[test]
fn storage_select_honours_matchers_and_ranges() {
    let st = storage();
    let up = Matcher::equal("__name__", "up");
    let all = select(&st, std::slice::from_ref(&up), 0, 1_000_000);
    assert_eq!(all.len(), 2);
    assert!(all[0].0 < all[1].0, "sorted by labels");
    assert_eq!(all[0].1, [(0, 1.0), (60_000, 2.0), (120_000, 3.0)]);
    let r = select(&st, std::slice::from_ref(&up), 60_000, 60_000);
    assert_eq!(
        r.iter().map(|s| s.1.clone()).collect::<Vec<_>>(),
        [vec![(60_000, 2.0)], vec![(60_000, 5.0)]]
    );
    let re = Matcher::new(MatchType::Regex, "job", "a|c").unwrap();
    let ne = Matcher::new(MatchType::NotEqual, "i", "1").unwrap();
    assert_eq!(select(&st, std::slice::from_ref(&re), 0, 200_000).len(), 2);
    assert_eq!(select(&st, &[re, ne], 0, 200_000).len(), 1);
    assert!(select(&st, std::slice::from_ref(&up), 200_000, 300_000).is_empty());
    let stale = select(&st, &[Matcher::equal("__name__", "other")], 0, 200_000);
    assert!(is_stale_nan(stale[0].1[1].1));
    assert!(
        select(&st, &[Matcher::equal("__name__", "h")], 0, 200_000).is_empty(),
        "histograms stay aside"
    );
    assert!(st.has_histograms());
    assert_eq!(
        st.histogram_metric_names().into_iter().collect::<Vec<_>>(),
        ["h"]
    );

    let q = st.querier(0, 1_000_000).unwrap();
    assert_eq!(q.label_names(&[]).unwrap(), ["__name__", "i", "job"]);
    assert_eq!(
        q.label_names(&[Matcher::equal("job", "b")]).unwrap(),
        ["__name__", "job"]
    );
    assert_eq!(q.label_values("job", &[up]).unwrap(), ["a", "b"]);
    assert_eq!(
        q.label_values("__name__", &[]).unwrap(),
        ["h", "other", "up"]
    );
    let late = st.querier(90_000, 100_000).unwrap();
    assert!(late.label_values("job", &[]).unwrap().is_empty());
    let mut st = st;
    st.clear();
    assert!(st.series().is_empty() && !st.has_histograms());
}

#[test]
fn nhcb_conversion() {
    let s = parse_script(
        "load_with_nhcb 1m\n  t_bucket{le=\"1\"} 1 2\n  t_bucket{le=\"+Inf\"} 3 5\n  t_bucket{le=\"0.5\"} 0 1\n  t_count 3 5\n  t_sum 4 9\n",
    )
    .unwrap();
    let Command::Load(l) = &s.commands[0] else {
        panic!()
    };
    let mut st = TestStorage::new();
    st.apply_load(l).unwrap();
    let h = &st.series()[&labels(&[("__name__", "t")])].histograms;
    assert_eq!(h.len(), 2);
    assert_eq!(h[1].1.schema, -53);
    assert_eq!(h[1].1.custom_values, [0.5, 1.0]);
    assert_eq!((h[1].1.count, h[1].1.sum), (5.0, 9.0));
    assert_eq!(h[1].1.positive_buckets, [1.0, 1.0, 3.0]);
    assert_eq!(
        h[0].1.positive_spans,
        [Span {
            offset: 1,
            length: 2
        }],
        "compacted: empty first bucket dropped"
    );
}

#[test]
fn classification_by_name() {
    let s = parse_script("eval instant at 0 rate(foo[1m])\n\neval instant at 0 {__name__=~\"x\"}\n\neval instant at 0 {\"h\"}\n\neval instant at 0 bar\n  bar {{count:1}}\n").unwrap();
    let ev: Vec<_> = s
        .commands
        .iter()
        .filter_map(|c| {
            if let Command::Eval(e) = c {
                Some(e)
            } else {
                None
            }
        })
        .collect();
    let hs: std::collections::BTreeSet<String> = ["h".to_owned()].into();
    assert!(!involves_histograms(ev[0], &hs));
    assert!(
        involves_histograms(ev[1], &hs),
        "__name__ matcher with histograms loaded"
    );
    assert!(!involves_histograms(ev[1], &Default::default()));
    assert!(involves_histograms(ev[2], &hs));
    assert!(
        involves_histograms(ev[3], &Default::default()),
        "histogram in the expected output"
    );
    assert_eq!(
        query_features("rate(m[1m] smoothed) + fill(0) x"),
        ["extended range selectors", "fill modifiers"]
    );
    assert_eq!(query_features("m[step()+1s]"), ["duration expressions"]);
    assert!(query_features("rate(m[5m]) offset 1m").is_empty());
}
