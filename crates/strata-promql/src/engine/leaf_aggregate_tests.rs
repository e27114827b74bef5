//! Aggregations fused into series-major leaf evaluation agree with step-major
//! aggregation over inputs of many chunks, with one thread or several.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use strata_model::Labels;

use crate::engine::{Engine, EngineOptions, QueryOptions};
use crate::promqltest::storage::TestStorage;
use crate::value::{Sample, SampleValue, Value};

/// Counters with resets, gauges with NaN, series that start late or stop early.
fn storage(series: usize) -> TestStorage {
    let mut st = TestStorage::new();
    for i in 0..series {
        let g = format!("g{}", i % 7);
        let h = format!("h{}", i % 3);
        let id = format!("{i:03}");
        let labels = Labels::new(&[("__name__", "m_total"), ("g", &g), ("h", &h), ("i", &id)])
            .expect("labels");
        let first = (i % 11) as i64 * 120;
        let last = 3600 - (i % 13) as i64 * 90;
        let mut v = 0.0;
        for k in (first..=last).step_by(15) {
            v += (i % 5) as f64 + (k % 7) as f64 * 0.25;
            if k % 1000 == i as i64 % 1000 {
                v = 1.0;
            }
            let x = if i % 97 == 3 && k % 600 == 0 {
                f64::NAN
            } else {
                v
            };
            st.append_float(&labels, k * 1000, x);
        }
    }
    st
}

fn engine(threads: usize) -> Engine {
    Engine::new(EngineOptions {
        threads,
        ..EngineOptions::default()
    })
}

fn same(a: f64, b: f64) -> bool {
    a == b || (a.is_nan() && b.is_nan()) || ((a - b) / b).abs() < 1e-12
}

fn value(s: &Sample) -> f64 {
    match s.value {
        SampleValue::Float(f) => f,
        SampleValue::Histogram(_) => f64::NAN,
    }
}

fn queries() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for op in [
        "sum", "avg", "count", "min", "max", "group", "stddev", "stdvar",
    ] {
        for grouping in ["", "by (g)", "without (i)", "by (g, h)", "by (__name__, h)"] {
            for inner in ["m_total", "rate(m_total[5m])", "max_over_time(m_total[2m])"] {
                // `* 1` keeps the values but is not a leaf, so it is aggregated step
                // by step.
                out.push((
                    format!("{op} {grouping} ({inner})"),
                    format!("{op} {grouping} ({inner} * 1)"),
                ));
            }
        }
    }
    out
}

fn range_queries_agree(st: &TestStorage, queries: &[(String, String)]) {
    let st = st.clone();
    let opts = QueryOptions::default();
    for threads in [1, 3] {
        let e = engine(threads);
        for (fused, plain) in queries {
            let a = e
                .range_query(&st, fused, 0, 3_600_000, 60_000, &opts)
                .unwrap();
            let b = e
                .range_query(&st, plain, 0, 3_600_000, 60_000, &opts)
                .unwrap();
            let (Value::Matrix(a), Value::Matrix(b)) = (a.value, b.value) else {
                panic!("{fused}: not a matrix");
            };
            assert_eq!(a.len(), b.len(), "{fused}");
            for (x, y) in a.iter().zip(&b) {
                assert_eq!(
                    x.metric.without(&["__name__"]),
                    y.metric.without(&["__name__"]),
                    "{fused}"
                );
                assert_eq!(x.floats.len(), y.floats.len(), "{fused} {:?}", x.metric);
                for (p, q) in x.floats.iter().zip(&y.floats) {
                    assert_eq!(p.0, q.0, "{fused}");
                    assert!(
                        same(p.1, q.1),
                        "{fused} {:?} @{}: {} vs {}",
                        x.metric,
                        p.0,
                        p.1,
                        q.1
                    );
                }
            }
        }
    }
}

#[test]
fn fused_range_queries_agree_with_step_major() {
    range_queries_agree(&storage(300), &queries());
}

/// More chunks than segments: segments fold several chunks.
#[test]
fn segments_of_several_chunks_agree_with_step_major() {
    let qs: Vec<(String, String)> = queries()
        .into_iter()
        .filter(|(q, _)| {
            (q.starts_with("sum") || q.starts_with("avg") || q.starts_with("max"))
                && (q.contains("by (g)") || q.contains("without"))
                && !q.contains("max_over_time")
        })
        .collect();
    assert_eq!(qs.len(), 12);
    let st = storage(1_500);
    range_queries_agree(&st, &qs);
    instant_queries_agree(&st, &qs, &[95_000, 1_800_000]);
}

#[test]
fn fused_instant_queries_keep_the_step_major_order() {
    instant_queries_agree(
        &storage(300),
        &queries(),
        &[0, 95_000, 1_800_000, 3_600_000],
    );
}

fn instant_queries_agree(st: &TestStorage, queries: &[(String, String)], ts: &[i64]) {
    let opts = QueryOptions::default();
    let e = engine(2);
    for (fused, plain) in queries {
        for &t in ts {
            let a = e.instant_query(st, fused, t, &opts).unwrap();
            let b = e.instant_query(st, plain, t, &opts).unwrap();
            let (Value::Vector(a), Value::Vector(b)) = (a.value, b.value) else {
                panic!("{fused}: not a vector");
            };
            assert_eq!(a.len(), b.len(), "{fused} @{t}");
            for (x, y) in a.iter().zip(&b) {
                let (xm, ym) = (
                    x.metric.without(&["__name__"]),
                    y.metric.without(&["__name__"]),
                );
                assert_eq!(xm, ym, "{fused} @{t}");
                assert!(
                    same(value(x), value(y)),
                    "{fused} @{t}: {} vs {}",
                    value(x),
                    value(y)
                );
            }
        }
    }
}

#[test]
fn fused_aggregations_keep_the_sample_limit() {
    let st = storage(300);
    let e = Engine::new(EngineOptions {
        threads: 2,
        max_samples: 200,
        ..EngineOptions::default()
    });
    let opts = QueryOptions::default();
    for q in ["sum(m_total)", "sum(rate(m_total[5m]))"] {
        let err = e.range_query(&st, q, 0, 3_600_000, 60_000, &opts);
        assert!(
            matches!(err, Err(crate::error::QueryError::TooManySamples(_))),
            "{q}: {err:?}"
        );
    }
}
