//! Real scrape bodies from Prometheus' test data parse completely.

use std::borrow::Cow;
use std::path::PathBuf;

use strata_textparse::{Entry, Exemplar, Format, Parser};

fn read(name: &str) -> Option<String> {
    let dir = std::env::var_os("STRATA_TESTDATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/work/shared/testdata"));
    std::fs::read_to_string(dir.join("textparse").join(name)).ok()
}

struct Counts {
    samples: usize,
    types: usize,
    helps: usize,
    units: usize,
    comments: usize,
    eof: usize,
    exemplars: usize,
}

fn count(input: &str, format: Format) -> Counts {
    let mut c = Counts {
        samples: 0,
        types: 0,
        helps: 0,
        units: 0,
        comments: 0,
        eof: 0,
        exemplars: 0,
    };
    for e in Parser::new(input, format) {
        match e {
            Ok(Entry::Sample { exemplar, .. }) => {
                c.samples += 1;
                c.exemplars += usize::from(exemplar.is_some());
            }
            Ok(Entry::Type { .. }) => c.types += 1,
            Ok(Entry::Help { .. }) => c.helps += 1,
            Ok(Entry::Unit { .. }) => c.units += 1,
            Ok(Entry::Comment) => c.comments += 1,
            Ok(Entry::Eof) => c.eof += 1,
            Err(e) => panic!("{e}"),
        }
    }
    c
}

fn find<'a>(input: &'a str, format: Format, line_prefix: &str) -> Entry<'a> {
    let line = input
        .lines()
        .position(|l| l.starts_with(line_prefix))
        .unwrap_or_else(|| panic!("no line {line_prefix}"));
    let mut p = Parser::new(input, format);
    loop {
        let e = p.next_entry().ok().flatten().unwrap_or(Entry::Eof);
        if p.line() == line + 1 || e == Entry::Eof {
            return e;
        }
    }
}

#[test]
fn alltypes_prom() {
    let Some(input) = read("alltypes.237mfs.prom.txt") else {
        eprintln!("test data missing; skipped");
        return;
    };
    let c = count(&input, Format::PrometheusText);
    assert_eq!(
        (c.samples, c.types, c.helps, c.comments),
        (1857, 237, 237, 1)
    );
    // The trailing `# EOF` line is an ordinary comment in the text format.
    let e = find(
        &input,
        Format::PrometheusText,
        "go_gc_duration_seconds{quantile=\"0.25\"}",
    );
    assert_eq!(
        e,
        Entry::Sample {
            name: Cow::Borrowed("go_gc_duration_seconds"),
            labels: vec![(Cow::Borrowed("quantile"), Cow::Borrowed("0.25"))],
            value: 0.00010188,
            timestamp_ms: None,
            exemplar: None
        }
    );
    let e = find(
        &input,
        Format::PrometheusText,
        "go_gc_duration_seconds_count ",
    );
    assert!(matches!(e, Entry::Sample { value, .. } if value == 190_932.0));
}

#[test]
fn alltypes_prom_nometa() {
    let Some(input) = read("alltypes.237mfs.nometa.prom.txt") else {
        return;
    };
    let c = count(&input, Format::PrometheusText);
    assert_eq!((c.samples, c.types, c.helps, c.comments), (1857, 0, 0, 1));
    // The same samples as the file with metadata, in the same order.
    let Some(full) = read("alltypes.237mfs.prom.txt") else {
        return;
    };
    let samples = |s: &str| -> Vec<String> {
        Parser::new(s, Format::PrometheusText)
            .filter_map(|e| match e {
                Ok(Entry::Sample {
                    name,
                    labels,
                    value,
                    ..
                }) => Some(format!("{name}{labels:?} {value}")),
                _ => None,
            })
            .collect()
    };
    assert_eq!(samples(&input), samples(&full));
}

#[test]
fn alltypes_om() {
    let Some(input) = read("alltypes.5mfs.om.txt") else {
        return;
    };
    let c = count(&input, Format::OpenMetrics);
    assert_eq!(
        (c.samples, c.types, c.helps, c.units, c.eof, c.exemplars),
        (53, 5, 5, 0, 1, 6)
    );
    let e = find(
        &input,
        Format::OpenMetrics,
        "rpc_durations_histogram_seconds_bucket{le=\"-0.0002899999999999998\"}",
    );
    assert_eq!(
        e,
        Entry::Sample {
            name: Cow::Borrowed("rpc_durations_histogram_seconds_bucket"),
            labels: vec![(Cow::Borrowed("le"), Cow::Borrowed("-0.0002899999999999998"))],
            value: 3.0,
            timestamp_ms: None,
            exemplar: Some(Exemplar {
                labels: vec![("dummyID".into(), "17783".into())],
                value: -0.0003825067330956884,
                timestamp_ms: Some((1.7268398142239082e9_f64 * 1000.0) as i64),
            })
        }
    );
    let e = find(
        &input,
        Format::OpenMetrics,
        "promhttp_metric_handler_errors_created{cause=\"encoding\"}",
    );
    assert!(matches!(e, Entry::Sample { value, .. } if value == 1.726839813016397e9));
}

#[test]
fn one_histogram_om() {
    let Some(input) = read("1histogram.om.txt") else {
        return;
    };
    assert!(
        !input.ends_with('\n'),
        "file ends in `# EOF` without newline"
    );
    let c = count(&input, Format::OpenMetrics);
    assert_eq!((c.samples, c.types, c.helps, c.eof), (42, 1, 1, 1));
    let e = find(
        &input,
        Format::OpenMetrics,
        "golang_manual_histogram_seconds_sum{address=\"0.0.0.0\",generation=\"20\",port=\"5003\"}",
    );
    let Entry::Sample { labels, value, .. } = e else {
        panic!()
    };
    assert_eq!(value, 10.0);
    assert_eq!(labels.len(), 3);
    assert_eq!(labels[2], (Cow::Borrowed("port"), Cow::Borrowed("5003")));
}
