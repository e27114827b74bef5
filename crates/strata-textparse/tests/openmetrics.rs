//! Small cases for OpenMetrics 1.0 text.

mod common;

use std::borrow::Cow;

use common::{all, err, l, sample};
use strata_textparse::{Entry, Error, Exemplar, Format, MetricType, Parser};

const OM: Format = Format::OpenMetrics;

#[test]
fn full_exposition() {
    let input = "# HELP foo_seconds Some \\\"help\\\"\\n.\n\
                 # TYPE foo_seconds counter\n\
                 # UNIT foo_seconds seconds\n\
                 foo_seconds_total{a=\"b\"} 17.0 1520879607.789 # {id=\"counter-test\"} 5\n\
                 foo_seconds_created{a=\"b\"} 1520430000.123\n\
                 # TYPE hh histogram\n\
                 hh_bucket{le=\"+Inf\"} 3 # {trace_id=\"x\",\"span.id\"=\"y\"} 0.5 123.456\n\
                 # TYPE ss stateset\n\
                 ss{ss=\"a\"} 1\n\
                 # TYPE ii info\n\
                 ii_info{v=\"1\"} 1\n\
                 # TYPE gh gaugehistogram\n\
                 # TYPE u unknown\n\
                 u 1 -1.5\n\
                 # EOF\n";
    let es = all(input, OM);
    assert_eq!(es.len(), 15);
    assert_eq!(
        es[0],
        Entry::Help {
            family: "foo_seconds",
            text: Cow::Owned("Some \"help\"\n.".into())
        }
    );
    assert_eq!(
        es[2],
        Entry::Unit {
            family: "foo_seconds",
            unit: "seconds"
        }
    );
    assert_eq!(
        es[3],
        Entry::Sample {
            name: Cow::Borrowed("foo_seconds_total"),
            labels: vec![(Cow::Borrowed("a"), Cow::Borrowed("b"))],
            value: 17.0,
            timestamp_ms: Some(1_520_879_607_789),
            exemplar: Some(Exemplar {
                labels: l(&[("id", "counter-test")]),
                value: 5.0,
                timestamp_ms: None
            })
        }
    );
    assert_eq!(
        sample(input.lines().nth(4).unwrap_or(""), Format::PrometheusText).0,
        "foo_seconds_created"
    );
    let Entry::Sample { exemplar, .. } = &es[6] else {
        panic!()
    };
    assert_eq!(
        exemplar,
        &Some(Exemplar {
            labels: l(&[("trace_id", "x"), ("span.id", "y")]),
            value: 0.5,
            timestamp_ms: Some(123_456)
        })
    );
    let kinds: Vec<MetricType> = es
        .iter()
        .filter_map(|e| match e {
            Entry::Type { kind, .. } => Some(*kind),
            _ => None,
        })
        .collect();
    assert_eq!(
        kinds,
        [
            MetricType::Counter,
            MetricType::Histogram,
            MetricType::StateSet,
            MetricType::Info,
            MetricType::GaugeHistogram,
            MetricType::Unknown
        ]
    );
    let Entry::Sample { timestamp_ms, .. } = &es[13] else {
        panic!()
    };
    assert_eq!(*timestamp_ms, Some(-1500));
    assert_eq!(es[14], Entry::Eof);
}

#[test]
fn eof_rules() {
    assert_eq!(all("# EOF", OM), vec![Entry::Eof]);
    assert_eq!(all("a 1\n# EOF\n", OM).len(), 2);
    assert_eq!(err("", OM), "line 1: data does not end with \"# EOF\"");
    assert_eq!(err("a 1\n", OM), "line 1: data does not end with \"# EOF\"");
    assert_eq!(
        Parser::new("a 1\nb 2", OM).nth(2),
        Some(Err(Error::MissingEof { line: 2 }))
    );
    assert_eq!(
        err("# EOF\n\n", OM),
        "line 2: unexpected data after \"# EOF\""
    );
    assert_eq!(
        err("# EOF\na 1\n", OM),
        "line 2: unexpected data after \"# EOF\""
    );
    assert_eq!(
        err("# EOF \n", OM),
        "line 1: expected \"# HELP\", \"# TYPE\", \"# UNIT\" or \"# EOF\", got \"# EOF \""
    );
    let mut p = Parser::new("# EOF\n", OM);
    assert_eq!(p.next_entry(), Ok(Some(Entry::Eof)));
    assert_eq!(p.next_entry(), Ok(None));
}

#[test]
fn quoted_names_and_trailing_comma() {
    assert_eq!(
        sample("{\"a.b\",c=\"d\",} 1\n# EOF\n", OM),
        ("a.b".into(), l(&[("c", "d")]), 1.0, None)
    );
    assert_eq!(
        all("# TYPE \"a.b\" gauge\n# EOF", OM)[0],
        Entry::Type {
            family: "a.b",
            kind: MetricType::Gauge
        }
    );
}

#[test]
fn help_and_unit_edge_cases() {
    assert_eq!(
        all("# HELP a \n# UNIT a \n# EOF", OM)[..2],
        [
            Entry::Help {
                family: "a",
                text: Cow::Borrowed("")
            },
            Entry::Unit {
                family: "a",
                unit: ""
            }
        ]
    );
}

#[test]
fn errors() {
    let cases = [
        ("\n# EOF", "line 1: unexpected empty line"),
        ("a 1\n\n# EOF", "line 2: unexpected empty line"),
        (
            "# comment\n# EOF",
            "line 1: expected \"# HELP\", \"# TYPE\", \"# UNIT\" or \"# EOF\", got \"# comment\"",
        ),
        (
            "# HELP a\n# EOF",
            "line 1: expected ' ' and text after HELP a, got end of line",
        ),
        (
            "# TYPE a untyped\n# EOF",
            "line 1: invalid metric type \"untyped\"",
        ),
        (
            "# UNIT a_bytes seconds\n# EOF",
            "line 1: unit \"seconds\" not a suffix of metric \"a_bytes\"",
        ),
        (
            "# UNIT seconds seconds\n# EOF",
            "line 1: unit \"seconds\" not a suffix of metric \"seconds\"",
        ),
        ("a  1\n# EOF", "line 1: invalid float \"\""),
        ("a 1 \n# EOF", "line 1: invalid float \"\" as timestamp"),
        (
            " a 1\n# EOF",
            "line 1: expected metric name or '{', got \" \"",
        ),
        ("a { b=\"c\"} 1\n# EOF", "line 1: invalid float \"{\""),
        (
            "a{ b=\"c\"} 1\n# EOF",
            "line 1: expected label name or '}', got \" \"",
        ),
        (
            "a{b=\"c\" } 1\n# EOF",
            "line 1: expected ',' or '}' after label value, got \" \"",
        ),
        ("a{b=}\n# EOF", "line 1: expected label value, got \"}\""),
        (
            "a\t1\n# EOF",
            "line 1: expected ' ' before value, got \"\\t\"",
        ),
        ("a 1 NaN\n# EOF", "line 1: invalid timestamp \"NaN\""),
        ("a 1 +Inf\n# EOF", "line 1: invalid timestamp \"+Inf\""),
        (
            "a 1 1 1\n# EOF",
            "line 1: expected exemplar \"# {\", got \"1\"",
        ),
        (
            "a 1 # {b=\"c\"}\n# EOF",
            "line 1: expected ' ' before exemplar value, got end of line",
        ),
        (
            "a 1 # {b=\"c\"} x\n# EOF",
            "line 1: exemplar: invalid float \"x\"",
        ),
        (
            "a 1 # {b=\"c\"} 1 2 3\n# EOF",
            "line 1: expected end of line, got \" \"",
        ),
        (
            "a 1 # {\"x\"} 1\n# EOF",
            "line 1: expected '=' after label name, got \"}\"",
        ),
        (
            "a 1 #{b=\"c\"} 1\n# EOF",
            "line 1: expected exemplar \"# {\", got \"#\"",
        ),
        (
            "a{b=\"1\",b=\"1\"} 1\n# EOF",
            "line 1: duplicate label name \"b\"",
        ),
    ];
    for (input, want) in cases {
        assert_eq!(err(input, OM), want, "{input:?}");
    }
}
