//! Property tests: no input makes the parser panic, and rendered samples parse back.

use proptest::prelude::*;
use strata_textparse::{Entry, Format, Parser};

fn drain(p: Parser<'_>) -> usize {
    // Bounded by the number of lines, since an error ends the parse.
    p.take(100_000).count()
}

/// Strings biased towards the formats' punctuation.
fn grammarish() -> impl Strategy<Value = String> {
    let pieces = prop_oneof![
        Just("#".to_owned()),
        Just(" ".to_owned()),
        Just("\t".to_owned()),
        Just("\n".to_owned()),
        Just("{".to_owned()),
        Just("}".to_owned()),
        Just("\"".to_owned()),
        Just("\\".to_owned()),
        Just("=".to_owned()),
        Just(",".to_owned()),
        Just("# EOF".to_owned()),
        Just("# HELP ".to_owned()),
        Just("# TYPE ".to_owned()),
        Just("# UNIT ".to_owned()),
        Just("counter".to_owned()),
        Just("+Inf".to_owned()),
        Just("NaN".to_owned()),
        Just("1e3".to_owned()),
        Just("-1.5".to_owned()),
        "[a-z_:.]{1,6}",
        "[0-9]{1,20}",
        any::<char>().prop_map(String::from),
    ];
    prop::collection::vec(pieces, 0..40).prop_map(|v| v.concat())
}

proptest! {
    #[test]
    fn arbitrary_strings_never_panic(s in any::<String>()) {
        drain(Parser::new(&s, Format::PrometheusText));
        drain(Parser::new(&s, Format::OpenMetrics));
    }

    #[test]
    fn grammarish_strings_never_panic(s in grammarish()) {
        drain(Parser::new(&s, Format::PrometheusText));
        drain(Parser::new(&s, Format::OpenMetrics));
    }

    #[test]
    fn arbitrary_bytes_never_panic(b in prop::collection::vec(any::<u8>(), 0..200)) {
        for f in [Format::PrometheusText, Format::OpenMetrics] {
            if let Ok(p) = Parser::from_bytes(&b, f) {
                drain(p);
            }
        }
    }
}

#[derive(Debug, Clone)]
struct Sample {
    name: String,
    labels: Vec<(String, String)>,
    value: f64,
    ts: Option<i64>,
}

fn is_legacy(s: &str, metric: bool) -> bool {
    s.bytes().enumerate().all(|(i, b)| {
        b == b'_'
            || b.is_ascii_alphabetic()
            || (metric && b == b':')
            || (i > 0 && b.is_ascii_digit())
    }) && !s.is_empty()
}

fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn render(s: &Sample, format: Format) -> String {
    let mut parts = Vec::new();
    let legacy_name = is_legacy(&s.name, true);
    if !legacy_name {
        parts.push(quote(&s.name));
    }
    for (n, v) in &s.labels {
        let n = if is_legacy(n, false) {
            n.clone()
        } else {
            quote(n)
        };
        parts.push(format!("{n}={}", quote(v)));
    }
    let mut line = if legacy_name {
        s.name.clone()
    } else {
        String::new()
    };
    if !parts.is_empty() || !legacy_name {
        line.push('{');
        line.push_str(&parts.join(","));
        line.push('}');
    }
    line.push_str(&format!(" {:?}", s.value));
    if let Some(ts) = s.ts {
        match format {
            Format::PrometheusText => line.push_str(&format!(" {ts}")),
            Format::OpenMetrics => {
                let sign = if ts < 0 { "-" } else { "" };
                let a = ts.unsigned_abs();
                line.push_str(&format!(" {sign}{}.{:03}", a / 1000, a % 1000));
            }
        }
    }
    line.push('\n');
    if format == Format::OpenMetrics {
        line.push_str("# EOF\n");
    }
    line
}

fn sample_strategy() -> impl Strategy<Value = Sample> {
    let name = prop_oneof!["[a-zA-Z_:][a-zA-Z0-9_:]{0,10}", "[^\u{0}]{1,8}"];
    let label_name = prop_oneof!["[a-zA-Z_][a-zA-Z0-9_]{0,10}", ".{1,6}"]
        .prop_filter("reserved", |n| n != "__name__");
    let labels = prop::collection::vec((label_name, ".{0,12}"), 0..5).prop_map(|mut v| {
        let mut seen = std::collections::HashSet::new();
        v.retain(|(n, _)| seen.insert(n.clone()));
        v
    });
    let value = prop_oneof![
        any::<f64>(),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        -1e6f64..1e6,
    ];
    let ts = prop::option::of(-10_000_000_000_000i64..10_000_000_000_000);
    (name, labels, value, ts).prop_map(|(name, labels, value, ts)| Sample {
        name,
        labels,
        value,
        ts,
    })
}

proptest! {
    #[test]
    fn rendered_samples_parse_back(s in sample_strategy()) {
        for format in [Format::PrometheusText, Format::OpenMetrics] {
            let text = render(&s, format);
            let entries: Vec<_> = Parser::new(&text, format).collect();
            let Some(Ok(Entry::Sample { name, labels, value, timestamp_ms, exemplar })) =
                entries.first().cloned()
            else {
                return Err(TestCaseError::fail(format!("{format:?}: {text:?} gave {entries:?}")));
            };
            prop_assert_eq!(name.as_ref(), s.name.as_str());
            let labels: Vec<(String, String)> =
                labels.into_iter().map(|(n, v)| (n.into_owned(), v.into_owned())).collect();
            prop_assert_eq!(&labels, &s.labels);
            prop_assert!(value == s.value || (value.is_nan() && s.value.is_nan()), "{} vs {}", value, s.value);
            prop_assert!(exemplar.is_none());
            match (format, timestamp_ms, s.ts) {
                (Format::PrometheusText, got, want) => prop_assert_eq!(got, want),
                (Format::OpenMetrics, Some(got), Some(want)) => {
                    // Float seconds lose sub-millisecond exactness; Prometheus truncates.
                    prop_assert!((got - want).abs() <= 1, "{} vs {}", got, want);
                }
                (Format::OpenMetrics, got, want) => prop_assert_eq!(got, want),
            }
            if format == Format::OpenMetrics {
                prop_assert_eq!(entries.len(), 2);
                prop_assert_eq!(entries.get(1).cloned(), Some(Ok(Entry::Eof)));
            } else {
                prop_assert_eq!(entries.len(), 1);
            }
        }
    }
}
