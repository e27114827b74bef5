//! Query results as Prometheus renders them: `{"resultType":…,"result":…}` with
//! `vector`, `matrix`, `scalar` and `string` results, native histograms under
//! `histogram`/`histograms`, and the optional `stats` object.

use strata_promql::value::{FloatHistogram, QueryStats, Sample, SampleValue, Series, Value};

use crate::json::{
    JsonStyle, format_json_number, write_float, write_labels, write_str, write_timestamp,
};

/// The `data` object of a query: result type, result and (with `stats`) statistics.
pub fn query_data(value: &Value, stats: Option<&QueryStats>) -> String {
    let mut out = String::with_capacity(256 + estimated_len(value));
    out.push_str(r#"{"resultType":"#);
    write_str(&mut out, value.type_name(), JsonStyle::Iter);
    out.push_str(r#","result":"#);
    write_value(&mut out, value);
    if let Some(s) = stats {
        out.push_str(r#","stats":"#);
        write_stats(&mut out, s);
    }
    out.push('}');
    out
}

/// About how long the JSON of `value` is (so the output grows at most once or twice).
fn estimated_len(value: &Value) -> usize {
    let labels = |l: &strata_model::Labels| 16 + l.encoded_len() * 2;
    match value {
        Value::Vector(v) => v.iter().map(|s| labels(&s.metric) + 48).sum(),
        Value::Matrix(m) => m
            .iter()
            .map(|s| labels(&s.metric) + 40 * s.floats.len() + 200 * s.histograms.len())
            .sum(),
        _ => 64,
    }
}

/// The `result` of a query.
pub fn write_value(out: &mut String, value: &Value) {
    match value {
        Value::Scalar { t, v } => {
            out.push('[');
            write_timestamp(out, *t);
            out.push(',');
            write_float(out, *v);
            out.push(']');
        }
        Value::String { t, s } => {
            out.push('[');
            write_timestamp(out, *t);
            out.push(',');
            write_str(out, s, JsonStyle::Iter);
            out.push(']');
        }
        Value::Vector(samples) => {
            out.push('[');
            for (i, s) in samples.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_sample(out, s);
            }
            out.push(']');
        }
        Value::Matrix(series) => {
            out.push('[');
            for (i, s) in series.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_series(out, s);
            }
            out.push(']');
        }
    }
}

fn write_sample(out: &mut String, s: &Sample) {
    out.push_str(r#"{"metric":"#);
    write_labels(out, &s.metric);
    match &s.value {
        SampleValue::Float(v) => {
            out.push_str(r#","value":["#);
            write_timestamp(out, s.t);
            out.push(',');
            write_float(out, *v);
        }
        SampleValue::Histogram(h) => {
            out.push_str(r#","histogram":["#);
            write_timestamp(out, s.t);
            out.push(',');
            write_histogram(out, h);
        }
    }
    out.push_str("]}");
}

fn write_series(out: &mut String, s: &Series) {
    out.push_str(r#"{"metric":"#);
    write_labels(out, &s.metric);
    if !s.floats.is_empty() {
        out.push_str(r#","values":["#);
        for (i, (t, v)) in s.floats.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push('[');
            write_timestamp(out, *t);
            out.push(',');
            write_float(out, *v);
            out.push(']');
        }
        out.push(']');
    }
    if !s.histograms.is_empty() {
        out.push_str(r#","histograms":["#);
        for (i, (t, h)) in s.histograms.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push('[');
            write_timestamp(out, *t);
            out.push(',');
            write_histogram(out, h);
            out.push(']');
        }
        out.push(']');
    }
    out.push('}');
}

/// One bucket: which ends are inclusive, its bounds and its count.
struct Bucket {
    lower_inclusive: bool,
    upper_inclusive: bool,
    lower: f64,
    upper: f64,
    count: f64,
}

/// `{"count":"…","sum":"…","buckets":[[boundaries,"lower","upper","count"],…]}`;
/// boundaries: 0 = (lower, upper], 1 = [lower, upper), 2 = open, 3 = closed. Empty
/// buckets are left out, and `buckets` too when every bucket is empty.
pub fn write_histogram(out: &mut String, h: &FloatHistogram) {
    out.push_str(r#"{"count":"#);
    write_float(out, h.count);
    out.push_str(r#","sum":"#);
    write_float(out, h.sum);
    let buckets: Vec<Bucket> = all_buckets(h)
        .into_iter()
        .filter(|b| b.count != 0.0)
        .collect();
    if !buckets.is_empty() {
        out.push_str(r#","buckets":["#);
        for (i, b) in buckets.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let boundaries = match (b.lower_inclusive, b.upper_inclusive) {
                (true, true) => 3,
                (true, false) => 1,
                (false, true) => 0,
                (false, false) => 2,
            };
            out.push('[');
            out.push_str(&boundaries.to_string());
            out.push(',');
            write_float(out, b.lower);
            out.push(',');
            write_float(out, b.upper);
            out.push(',');
            write_float(out, b.count);
            out.push(']');
        }
        out.push(']');
    }
    out.push('}');
}

const CUSTOM_BUCKETS_SCHEMA: i32 = -53;

/// Every bucket in ascending order of bounds: negative buckets, the zero bucket, then
/// positive buckets.
fn all_buckets(h: &FloatHistogram) -> Vec<Bucket> {
    let mut out = Vec::new();
    let custom = h.schema == CUSTOM_BUCKETS_SCHEMA;
    let mut neg: Vec<(i32, f64)> = indexed(&h.negative_spans, &h.negative_buckets);
    neg.reverse();
    for (idx, count) in neg {
        out.push(Bucket {
            lower_inclusive: true,
            upper_inclusive: false,
            lower: -exp_bound(idx, h.schema),
            upper: -exp_bound(idx - 1, h.schema),
            count,
        });
    }
    if !custom && (h.zero_threshold != 0.0 || h.zero_count != 0.0) {
        out.push(Bucket {
            lower_inclusive: true,
            upper_inclusive: true,
            lower: -h.zero_threshold,
            upper: h.zero_threshold,
            count: h.zero_count,
        });
    }
    for (idx, count) in indexed(&h.positive_spans, &h.positive_buckets) {
        let (lower, upper) = if custom {
            let bound = |i: i32| -> f64 {
                usize::try_from(i)
                    .ok()
                    .and_then(|i| h.custom_values.get(i).copied())
                    .unwrap_or(f64::INFINITY)
            };
            let lower = if idx == 0 {
                f64::NEG_INFINITY
            } else {
                bound(idx - 1)
            };
            (lower, bound(idx))
        } else {
            (exp_bound(idx - 1, h.schema), exp_bound(idx, h.schema))
        };
        out.push(Bucket {
            lower_inclusive: false,
            upper_inclusive: true,
            lower,
            upper,
            count,
        });
    }
    out
}

/// Bucket indexes paired with their counts (absolute float counts).
fn indexed(spans: &[strata_promql::value::Span], counts: &[f64]) -> Vec<(i32, f64)> {
    let mut out = Vec::with_capacity(counts.len());
    let mut idx = 0i32;
    let mut it = counts.iter();
    // The first span's offset is absolute; later ones are gaps after the previous span.
    for span in spans {
        idx += span.offset;
        for _ in 0..span.length {
            match it.next() {
                Some(c) => out.push((idx, *c)),
                None => return out,
            }
            idx += 1;
        }
    }
    out
}

/// The upper bound of exponential bucket `idx`: `2^(idx * 2^-schema)`.
fn exp_bound(idx: i32, schema: i32) -> f64 {
    if schema < 0 {
        let exp = i64::from(idx) << (-schema).min(62);
        if exp >= 1024 {
            return f64::MAX;
        }
        return 2f64.powi(exp.clamp(-1100, 1100) as i32);
    }
    let n = 1i64 << schema.min(8);
    let i = i64::from(idx);
    let frac_idx = i.rem_euclid(n);
    let exp = i.div_euclid(n) + 1;
    // 2^(frac_idx/n) / 2, in [0.5, 1).
    let frac = (frac_idx as f64 / n as f64).exp2() / 2.0;
    if frac_idx == 0 && exp == 1025 {
        return f64::MAX;
    }
    frac * 2f64.powi(exp.clamp(-1100, 1100) as i32)
}

/// Prometheus' `stats` object; timings other than the total are not measured yet.
fn write_stats(out: &mut String, s: &QueryStats) {
    let total = format_json_number(s.eval_total_time_s);
    out.push_str(&format!(
        concat!(
            r#"{{"timings":{{"evalTotalTime":{total},"resultSortTime":0,"#,
            r#""queryPreparationTime":0,"innerEvalTime":{total},"execQueueTime":0,"#,
            r#""execTotalTime":{total}}},"samples":{{"totalQueryableSamples":{tqs},"#,
            r#""peakSamples":{peak}}}}}"#
        ),
        total = total,
        tqs = s.total_queryable_samples,
        peak = s.peak_samples,
    ));
}

#[cfg(test)]
mod tests {
    use super::*;
    use strata_model::Labels;
    use strata_promql::value::Span;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        Labels::new(pairs).unwrap()
    }

    fn float(metric: Labels, t: i64, v: f64) -> Sample {
        Sample {
            metric,
            t,
            value: SampleValue::Float(v),
            drop_name: false,
        }
    }

    #[test]
    fn vector() {
        let m = labels(&[("__name__", "up"), ("job", "a<b>")]);
        let v = Value::Vector(vec![
            float(m.clone(), 1_435_781_451_781, 1.0),
            float(m.clone(), 1_435_781_451_000, f64::NAN),
            float(m.clone(), 1500, f64::INFINITY),
            float(m.clone(), -1, f64::NEG_INFINITY),
            float(m.clone(), 0, 1e-300),
            float(m.clone(), 10, 1e21),
            float(Labels::empty(), 100, 123456789.25),
        ]);
        let m = r#"{"__name__":"up","job":"a\u003cb\u003e"}"#;
        let want = format!(
            concat!(
                r#"{{"resultType":"vector","result":["#,
                r#"{{"metric":{m},"value":[1435781451.781,"1"]}},"#,
                r#"{{"metric":{m},"value":[1435781451,"NaN"]}},"#,
                r#"{{"metric":{m},"value":[1.500,"+Inf"]}},"#,
                r#"{{"metric":{m},"value":[-0.001,"-Inf"]}},"#,
                r#"{{"metric":{m},"value":[0,"1e-300"]}},"#,
                r#"{{"metric":{m},"value":[0.010,"1e+21"]}},"#,
                r#"{{"metric":{{}},"value":[0.100,"123456789.25"]}}]}}"#
            ),
            m = m
        );
        assert_eq!(query_data(&v, None), want);
        assert_eq!(
            query_data(&Value::Vector(vec![]), None),
            r#"{"resultType":"vector","result":[]}"#
        );
    }

    #[test]
    fn matrix() {
        let v = Value::Matrix(vec![Series {
            metric: labels(&[("a", "1")]),
            floats: vec![(1000, 0.5), (16_000, 2.0)],
            histograms: vec![],
            drop_name: false,
        }]);
        assert_eq!(
            query_data(&v, None),
            r#"{"resultType":"matrix","result":[{"metric":{"a":"1"},"values":[[1,"0.5"],[16,"2"]]}]}"#
        );
    }

    #[test]
    fn scalar_and_string() {
        assert_eq!(
            query_data(
                &Value::Scalar {
                    t: 1_000_001,
                    v: -0.25
                },
                None
            ),
            r#"{"resultType":"scalar","result":[1000.001,"-0.25"]}"#
        );
        assert_eq!(
            query_data(
                &Value::String {
                    t: 5000,
                    s: "a\"b".into()
                },
                None
            ),
            r#"{"resultType":"string","result":[5,"a\"b"]}"#
        );
    }

    #[test]
    fn stats() {
        let s = QueryStats {
            total_queryable_samples: 12,
            peak_samples: 3,
            eval_total_time_s: 0.25,
        };
        assert_eq!(
            query_data(&Value::Scalar { t: 0, v: 1.0 }, Some(&s)),
            concat!(
                r#"{"resultType":"scalar","result":[0,"1"],"stats":{"timings":{"evalTotalTime":0.25,"#,
                r#""resultSortTime":0,"queryPreparationTime":0,"innerEvalTime":0.25,"execQueueTime":0,"#,
                r#""execTotalTime":0.25},"samples":{"totalQueryableSamples":12,"peakSamples":3}}}"#
            )
        );
    }

    fn histogram() -> FloatHistogram {
        FloatHistogram {
            schema: 0,
            zero_threshold: 0.001,
            zero_count: 1.0,
            count: 7.0,
            sum: 10.0,
            positive_spans: vec![Span {
                offset: 0,
                length: 2,
            }],
            positive_buckets: vec![2.0, 3.0],
            negative_spans: vec![Span {
                offset: 0,
                length: 1,
            }],
            negative_buckets: vec![1.0],
            ..Default::default()
        }
    }

    #[test]
    fn histograms() {
        let h = histogram();
        let want_h = concat!(
            r#"{"count":"7","sum":"10","buckets":[[1,"-1","-0.5","1"],"#,
            r#"[3,"-0.001","0.001","1"],[0,"0.5","1","2"],[0,"1","2","3"]]}"#
        );
        let v = Value::Vector(vec![Sample {
            metric: labels(&[("a", "1")]),
            t: 2000,
            value: SampleValue::Histogram(Box::new(h.clone())),
            drop_name: false,
        }]);
        assert_eq!(
            query_data(&v, None),
            format!(
                r#"{{"resultType":"vector","result":[{{"metric":{{"a":"1"}},"histogram":[2,{want_h}]}}]}}"#
            )
        );
        let m = Value::Matrix(vec![Series {
            metric: Labels::empty(),
            floats: vec![(1000, 1.0)],
            histograms: vec![(2000, h)],
            drop_name: false,
        }]);
        assert_eq!(
            query_data(&m, None),
            format!(
                r#"{{"resultType":"matrix","result":[{{"metric":{{}},"values":[[1,"1"]],"histograms":[[2,{want_h}]]}}]}}"#
            )
        );
        let empty = FloatHistogram::default();
        let mut out = String::new();
        write_histogram(&mut out, &empty);
        assert_eq!(out, r#"{"count":"0","sum":"0"}"#);
    }

    #[test]
    fn bucket_bounds() {
        assert_eq!(exp_bound(0, 0), 1.0);
        assert_eq!(exp_bound(1, 0), 2.0);
        assert_eq!(exp_bound(-1, 0), 0.5);
        assert_eq!(exp_bound(1, 1), std::f64::consts::SQRT_2);
        assert_eq!(exp_bound(2, 1), 2.0);
        assert_eq!(exp_bound(1, -1), 4.0);
        let custom = FloatHistogram {
            schema: CUSTOM_BUCKETS_SCHEMA,
            count: 3.0,
            custom_values: vec![1.0, 5.0],
            positive_spans: vec![Span {
                offset: 0,
                length: 3,
            }],
            positive_buckets: vec![1.0, 0.0, 2.0],
            ..Default::default()
        };
        let mut out = String::new();
        write_histogram(&mut out, &custom);
        assert_eq!(
            out,
            r#"{"count":"3","sum":"0","buckets":[[0,"-Inf","1","1"],[0,"5","+Inf","2"]]}"#
        );
    }
}
