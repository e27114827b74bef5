//! The generated OpenMetrics input shared by the block tests, and the series it holds.

use std::fmt::Write as _;

use crate::util::{LabelSet, SeriesMap};

/// Start of the data (seconds): half an hour into a 2 h block window.
pub const START_S: i64 = 1_699_999_200 + 1800;
/// Block windows are 2 h long.
pub const WINDOW_MS: i64 = 2 * 3600 * 1000;

/// Values worth a round trip: special floats, extremes and awkward decimals.
const SPECIAL: &[f64] = &[
    f64::NAN,
    f64::INFINITY,
    f64::NEG_INFINITY,
    5e-324,                  // smallest subnormal
    2.2250738585072014e-308, // smallest normal
    f64::MAX,
    -f64::MAX,
    1e21, // %g switches to exponent form here
    1e20,
    123456789.0,
    1e-5,
    0.0001,
    -0.0,
    0.1,
    1.0 / 3.0,
    -2.5e-300,
];

struct Family {
    name: &'static str,
    kind: &'static str,
    series: Vec<GenSeries>,
}

struct GenSeries {
    /// Sample name (the family name plus `_total`, `_bucket`, … where the type needs it).
    metric: String,
    labels: Vec<(&'static str, String)>,
    samples: Vec<(i64, f64)>, // timestamp in whole seconds, value
}

/// A small deterministic generator (xorshift) so the data is the same every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn times(start: i64, step: i64, n: usize) -> impl Iterator<Item = i64> {
    (0..n as i64).map(move |i| start + i * step)
}

fn families() -> Vec<Family> {
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let mut fams = Vec::new();

    // Counters: 6.5 h at 60 s, labels with quotes and backslashes.
    let mut counters = Vec::new();
    for (method, path) in [
        ("GET", "/api/\"quoted\""),
        ("POST", r"C:\windows\path"),
        ("GET", r#"mixed \" and \\ "#),
    ] {
        for code in ["200", "500"] {
            let mut v = 0.0;
            let samples = times(START_S, 60, 390)
                .map(|t| {
                    v += (rng.next() % 1000) as f64 + rng.unit();
                    (t, v)
                })
                .collect();
            counters.push(GenSeries {
                metric: "e2e_requests_total".into(),
                labels: vec![
                    ("code", code.into()),
                    ("method", method.into()),
                    ("path", path.into()),
                ],
                samples,
            });
        }
    }
    fams.push(Family {
        name: "e2e_requests",
        kind: "counter",
        series: counters,
    });

    // Gauges: unicode and newlines in values, special floats mixed into random ones,
    // 30 s steps over 6 h.
    let mut gauges = Vec::new();
    for (i, city) in [
        "Zürich",
        "東京",
        "rocket 🚀 launch",
        "line one\nline two",
        "tab\tand\u{7f}del",
    ]
    .into_iter()
    .enumerate()
    {
        let samples = times(START_S + 7 * i as i64, 30, 720)
            .enumerate()
            .map(|(j, t)| {
                let v = if j % 7 == 3 {
                    SPECIAL[(j / 7 + i) % SPECIAL.len()]
                } else {
                    (rng.unit() - 0.5) * 10f64.powi((rng.next() % 40) as i32 - 20)
                };
                (t, v)
            })
            .collect();
        gauges.push(GenSeries {
            metric: "e2e_temperature".into(),
            labels: vec![("city", city.into()), ("unit", "celsius".into())],
            samples,
        });
    }
    fams.push(Family {
        name: "e2e_temperature",
        kind: "gauge",
        series: gauges,
    });

    // A sparse gauge present only in the second and third window, with a long value.
    fams.push(Family {
        name: "e2e_sparse",
        kind: "gauge",
        series: vec![GenSeries {
            metric: "e2e_sparse".into(),
            labels: vec![("long", "x".repeat(300))],
            samples: times(START_S + 5400, 15, 600)
                .map(|t| (t, (t % 1000) as f64))
                .collect(),
        }],
    });

    // A histogram: bucket, sum and count series.
    let mut hist = Vec::new();
    let n = 250;
    let mut counts = [0.0f64; 3];
    let mut sums = Vec::new();
    let mut bucket_samples: [Vec<(i64, f64)>; 3] = Default::default();
    let mut sum = 0.0;
    for t in times(START_S + 60, 90, n) {
        for _ in 0..(rng.next() % 20) {
            let obs = rng.unit() * 2.0;
            sum += obs;
            for (b, le) in [0.1, 1.0, f64::INFINITY].iter().enumerate() {
                if obs <= *le {
                    counts[b] += 1.0;
                }
            }
        }
        for b in 0..3 {
            bucket_samples[b].push((t, counts[b]));
        }
        sums.push((t, sum));
    }
    for (b, le) in ["0.1", "1.0", "+Inf"].into_iter().enumerate() {
        hist.push(GenSeries {
            metric: "e2e_latency_seconds_bucket".into(),
            labels: vec![("le", le.into())],
            samples: bucket_samples[b].clone(),
        });
    }
    hist.push(GenSeries {
        metric: "e2e_latency_seconds_sum".into(),
        labels: vec![],
        samples: sums,
    });
    hist.push(GenSeries {
        metric: "e2e_latency_seconds_count".into(),
        labels: vec![],
        samples: bucket_samples[2].clone(),
    });
    fams.push(Family {
        name: "e2e_latency_seconds",
        kind: "histogram",
        series: hist,
    });
    fams
}

fn om_escape(v: &str) -> String {
    v.replace('\\', r"\\")
        .replace('"', "\\\"")
        .replace('\n', r"\n")
}

fn om_float(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v == f64::INFINITY {
        "+Inf".into()
    } else if v == f64::NEG_INFINITY {
        "-Inf".into()
    } else {
        // Rust's `{:e}` is the shortest representation that reads back exactly.
        format!("{v:e}")
    }
}

/// The OpenMetrics text and the series it holds (timestamps in ms).
pub fn openmetrics() -> (String, SeriesMap) {
    let mut text = String::new();
    let mut series = SeriesMap::new();
    for f in families() {
        writeln!(text, "# HELP {} Generated for the e2e tests.", f.name).unwrap();
        writeln!(text, "# TYPE {} {}", f.name, f.kind).unwrap();
        for s in f.series {
            let labels: Vec<String> = s
                .labels
                .iter()
                .map(|(n, v)| format!("{n}=\"{}\"", om_escape(v)))
                .collect();
            let braces = if labels.is_empty() {
                String::new()
            } else {
                format!("{{{}}}", labels.join(","))
            };
            let mut key: LabelSet = s
                .labels
                .iter()
                .map(|(n, v)| ((*n).to_owned(), v.clone()))
                .collect();
            key.push(("__name__".into(), s.metric.clone()));
            key.sort();
            let out = series.entry(key).or_default();
            for (t, v) in s.samples {
                writeln!(text, "{}{braces} {} {t}", s.metric, om_float(v)).unwrap();
                out.push((t * 1000, v));
            }
        }
    }
    text.push_str("# EOF\n");
    (text, series)
}

/// Sample count of the data in each 2 h window, by window start (ms), and its series.
pub fn per_window(series: &SeriesMap) -> std::collections::BTreeMap<i64, (usize, usize)> {
    let mut w: std::collections::BTreeMap<i64, (usize, usize)> = Default::default();
    for samples in series.values() {
        let mut seen = std::collections::BTreeSet::new();
        for (t, _) in samples {
            let win = t.div_euclid(WINDOW_MS) * WINDOW_MS;
            let e = w.entry(win).or_default();
            e.0 += 1;
            if seen.insert(win) {
                e.1 += 1;
            }
        }
    }
    w
}
