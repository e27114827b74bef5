//! Small cases for the Prometheus text format.

mod common;

use std::borrow::Cow;

use common::{all, err, l, sample};
use strata_textparse::{Entry, Format, MetricType, Parser};

const T: Format = Format::PrometheusText;

#[test]
fn metadata_and_samples() {
    let input = "# HELP http_requests_total The total number of HTTP requests.\n\
                 # TYPE http_requests_total counter\n\
                 http_requests_total{method=\"post\",code=\"200\"} 1027 1395066363000\n\
                 http_requests_total{method=\"post\",code=\"400\"}    3 1395066363000\n\
                 \n\
                 # A normal comment\n\
                 msdos_file_access_time_seconds{path=\"C:\\\\DIR\\\\FILE.TXT\",error=\"Cannot find file:\\n\\\"FILE.TXT\\\"\"} 1.458255915e9\n\
                 metric_without_timestamp_and_labels 12.47\n\
                 something_weird{problem=\"division by zero\"} +Inf -3982045\n";
    let es = all(input, T);
    assert_eq!(es.len(), 8);
    assert_eq!(
        es[0],
        Entry::Help {
            family: "http_requests_total",
            text: Cow::Borrowed("The total number of HTTP requests.")
        }
    );
    assert_eq!(
        es[1],
        Entry::Type {
            family: "http_requests_total",
            kind: MetricType::Counter
        }
    );
    assert_eq!(es[4], Entry::Comment);
    let (n, ls, v, ts) = sample(input.lines().nth(3).unwrap_or(""), T);
    assert_eq!(n, "http_requests_total");
    assert_eq!(ls, l(&[("method", "post"), ("code", "400")]));
    assert_eq!((v, ts), (3.0, Some(1_395_066_363_000)));
    let Entry::Sample { labels, .. } = &es[5] else {
        panic!("{:?}", es[5]);
    };
    assert_eq!(labels[0].1, "C:\\DIR\\FILE.TXT");
    assert_eq!(labels[1].1, "Cannot find file:\n\"FILE.TXT\"");
    assert!(matches!(labels[0].0, Cow::Borrowed(_)));
    let Entry::Sample {
        value,
        timestamp_ms,
        ..
    } = &es[7]
    else {
        panic!()
    };
    assert_eq!((*value, *timestamp_ms), (f64::INFINITY, Some(-3_982_045)));
}

#[test]
fn borrows_when_no_escapes() {
    let es = all("a{b=\"c\"} 1\n", T);
    let Entry::Sample { name, labels, .. } = &es[0] else {
        panic!()
    };
    assert!(matches!(name, Cow::Borrowed("a")));
    assert!(matches!(
        labels[0],
        (Cow::Borrowed("b"), Cow::Borrowed("c"))
    ));
}

#[test]
fn whitespace_is_lenient() {
    assert_eq!(
        sample(" \tfoo \t{ a = \"1\" , b=\"2\", } \t 5 \t 10 \t", T),
        ("foo".into(), l(&[("a", "1"), ("b", "2")]), 5.0, Some(10))
    );
    assert_eq!(sample("foo 5", T), ("foo".into(), vec![], 5.0, None));
    assert_eq!(sample("foo{} 5", T), ("foo".into(), vec![], 5.0, None));
}

#[test]
fn utf8_quoted_names() {
    assert_eq!(
        sample(r#"{"my.metric", "my.label"="x", b="y"} 1"#, T),
        (
            "my.metric".into(),
            l(&[("my.label", "x"), ("b", "y")]),
            1.0,
            None
        )
    );
    assert_eq!(
        sample(r#"{a="x", "my.metric"} 1"#, T),
        ("my.metric".into(), l(&[("a", "x")]), 1.0, None)
    );
    assert_eq!(
        sample(r#"{"esc\"aped"} 2"#, T),
        ("esc\"aped".into(), vec![], 2.0, None)
    );
    assert_eq!(
        all(
            "# TYPE \"my.metric\" gauge\n# HELP \"my.metric\" héllo\n",
            T
        ),
        vec![
            Entry::Type {
                family: "my.metric",
                kind: MetricType::Gauge
            },
            Entry::Help {
                family: "my.metric",
                text: Cow::Borrowed("héllo")
            }
        ]
    );
}

#[test]
fn values() {
    for (s, v) in [
        ("NaN", f64::NAN),
        ("+Inf", f64::INFINITY),
        ("-Inf", f64::NEG_INFINITY),
    ] {
        let got = sample(&format!("x {s}"), T).2;
        assert!(got == v || (got.is_nan() && v.is_nan()), "{s}");
    }
    assert_eq!(sample("x Inf", T).2, f64::INFINITY);
    assert_eq!(sample("x 1e3", T).2, 1000.0);
    assert_eq!(sample("x -0.5e-3", T).2, -0.0005);
    assert_eq!(
        sample("x NaN", T).2.to_bits(),
        strata_textparse::value::NORMAL_NAN_BITS
    );
}

#[test]
fn help_escapes_and_types() {
    let es = all(
        "# HELP a x\\\\y\\nz \\\"q\\\"\n# HELP b\n# HELP c  two\n# TYPE d untyped\n# TYPE e summary \n#TYPE f counter\n# HELPER x\n#\n",
        T,
    );
    assert_eq!(
        es[0],
        Entry::Help {
            family: "a",
            text: Cow::Owned("x\\y\nz \\\"q\\\"".into())
        }
    );
    assert_eq!(
        es[1],
        Entry::Help {
            family: "b",
            text: Cow::Borrowed("")
        }
    );
    assert_eq!(
        es[2],
        Entry::Help {
            family: "c",
            text: Cow::Borrowed(" two")
        }
    );
    assert_eq!(
        es[3],
        Entry::Type {
            family: "d",
            kind: MetricType::Unknown
        }
    );
    assert_eq!(
        es[4],
        Entry::Type {
            family: "e",
            kind: MetricType::Summary
        }
    );
    assert_eq!(&es[5..], &[Entry::Comment, Entry::Comment, Entry::Comment]);
}

#[test]
fn no_final_newline_and_empty_input() {
    assert!(all("", T).is_empty());
    assert!(all("\n\n  \n", T).is_empty());
    assert_eq!(all("a 1\nb 2", T).len(), 2);
}

#[test]
fn errors() {
    let cases = [
        ("a{b=}", "line 1: expected label value, got \"}\""),
        (
            "a 1\nb{c=\"d\" 1",
            "line 2: expected ',' or '}' after label value, got \"1\"",
        ),
        (
            "a{b=\"c\"",
            "line 1: expected ',' or '}' after label value, got end of line",
        ),
        ("a{b=\"c}", "line 1: unterminated quoted string"),
        ("a{b=\"1\",b=\"2\"} 1", "line 1: duplicate label name \"b\""),
        (
            "a{1b=\"1\"} 1",
            "line 1: expected label name or '}', got \"1b\"",
        ),
        (
            "a{b\"1\"} 1",
            "line 1: expected '=' after label name \"b\", got \"\\\"\"",
        ),
        ("1a 1", "line 1: expected metric name or '{', got \"1a\""),
        (
            "a",
            "line 1: expected whitespace before value, got end of line",
        ),
        ("a ", "line 1: expected value, got end of line"),
        (
            "a-b 1",
            "line 1: expected whitespace before value, got \"-\"",
        ),
        ("a abc", "line 1: invalid float \"abc\""),
        ("a 1_0", "line 1: invalid float \"1_0\""),
        ("a 1e999", "line 1: float \"1e999\" out of range"),
        ("a 1 1.5", "line 1: invalid timestamp \"1.5\""),
        (
            "a 1 2 3",
            "line 1: expected end of line after timestamp, got \"3\"",
        ),
        ("{a=\"b\"} 1", "line 1: metric name not set"),
        (
            "a{\"b\"} 1",
            "line 1: metric name already set, got second name \"b\"",
        ),
        (
            "a{__name__=\"b\"} 1",
            "line 1: label name \"__name__\" is not allowed; give the metric name instead",
        ),
        ("# TYPE a foo", "line 1: invalid metric type \"foo\""),
        (
            "# TYPE a gaugehistogram",
            "line 1: invalid metric type \"gaugehistogram\"",
        ),
        (
            "# TYPE a",
            "line 1: expected metric type after metric name, got end of line",
        ),
        (
            "# HELP 1a x",
            "line 1: expected metric name after HELP, got \"1a\"",
        ),
        (
            "# HELP a-b x",
            "line 1: expected whitespace after metric name, got \"-\"",
        ),
        ("a{\"\"=\"x\"} 1", "line 1: empty label name"),
        (
            "a{b=\"c\"}{d=\"e\"} 1",
            "line 1: expected whitespace before value, got \"{\"",
        ),
        ("a 1 # comment", "line 1: invalid timestamp \"#\""),
    ];
    for (input, want) in cases {
        assert_eq!(err(input, T), want, "{input:?}");
    }
}

#[test]
fn stops_after_error() {
    let mut p = Parser::new("a{\n b 1\n", T);
    assert!(p.next_entry().is_err());
    assert_eq!(p.next_entry(), Ok(None));
}

#[test]
fn invalid_utf8_bytes() {
    let e = Parser::from_bytes(b"a 1\nb{c=\"\xff\"} 1\n", T).err();
    assert_eq!(
        e.map(|e| e.to_string()),
        Some("line 2: invalid UTF-8 at byte offset 9".to_owned())
    );
    assert!(Parser::from_bytes(b"a 1\n", T).is_ok());
}

#[test]
fn labels_helper() {
    let labels = vec![
        (Cow::Borrowed("b"), Cow::Borrowed("2")),
        (Cow::Borrowed("a"), Cow::Borrowed("1")),
    ];
    let ls = strata_textparse::samples_to_labels("m", &labels).unwrap_or_default();
    assert_eq!(ls.to_string(), r#"{__name__="m", a="1", b="2"}"#);
    let dup = vec![
        (Cow::Borrowed("a"), Cow::Borrowed("1")),
        (Cow::Borrowed("a"), Cow::Borrowed("2")),
    ];
    let e = strata_textparse::samples_to_labels("m", &dup);
    assert!(e.is_err_and(|e| e.to_string().contains("duplicate label name \"a\"")));
}

#[test]
fn content_type_negotiation() {
    use strata_textparse::format_from_content_type as f;
    assert_eq!(
        f("application/openmetrics-text; version=1.0.0; charset=utf-8"),
        Format::OpenMetrics
    );
    assert_eq!(f("application/openmetrics-text"), Format::OpenMetrics);
    assert_eq!(f("text/plain; version=0.0.4"), T);
    assert_eq!(f(""), T);
    assert_eq!(f("garbage;;"), T);
}

#[test]
fn many_labels() {
    let mut line = String::from("m{");
    for i in 0..5000 {
        line.push_str(&format!("l{i}=\"{i}\","));
    }
    line.push_str("} 1");
    let (_, labels, _, _) = sample(&line, T);
    assert_eq!(labels.len(), 5000);
    line.insert_str(2, "l4999=\"x\",");
    assert_eq!(err(&line, T), "line 1: duplicate label name \"l4999\"");
    assert_eq!(
        err(
            "m{a=\"1\",a=\"2\",b=\"\",c=\"\",d=\"\",e=\"\",f=\"\",g=\"\",h=\"\",i=\"\",j=\"\",k=\"\",l=\"\",n=\"\",o=\"\",p=\"\",q=\"\",r=\"\"} 1",
            T
        ),
        "line 1: duplicate label name \"a\""
    );
}
