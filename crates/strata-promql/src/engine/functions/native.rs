//! Quantiles and fractions of native histograms (exponential and custom-bucket
//! schemas), following Prometheus' `HistogramQuantile`/`HistogramFraction`.

use crate::value::{FloatHistogram, Span};

/// The custom-buckets schema.
const CUSTOM_BUCKETS_SCHEMA: i32 = -53;

/// One bucket with its bounds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Bucket {
    pub lower: f64,
    pub upper: f64,
    pub count: f64,
}

fn uses_custom_buckets(h: &FloatHistogram) -> bool {
    h.schema == CUSTOM_BUCKETS_SCHEMA
}

/// `f * 2^e` without intermediate overflow for the exponents bucket bounds use.
fn ldexp(f: f64, e: i64) -> f64 {
    let e = e.clamp(-2200, 2200);
    let mut r = f;
    let mut e = e;
    while e > 1000 {
        r *= 2f64.powi(1000);
        e -= 1000;
    }
    while e < -1000 {
        r *= 2f64.powi(-1000);
        e += 1000;
    }
    r * 2f64.powi(e as i32)
}

/// The upper bound of bucket `idx` in an exponential schema.
fn exponential_bound(idx: i64, schema: i32) -> f64 {
    if schema < 0 {
        let exp = idx.saturating_mul(1i64 << (-schema).min(62));
        if exp == 1024 {
            return f64::MAX;
        }
        return ldexp(1.0, exp);
    }
    let schema = schema.min(30);
    let per = 1i64 << schema;
    let frac_idx = idx.rem_euclid(per);
    let frac = ((frac_idx as f64) / (per as f64) - 1.0).exp2();
    let exp = idx.div_euclid(per) + 1;
    if frac_idx == 0 && exp == 1025 {
        return f64::MAX;
    }
    ldexp(frac, exp)
}

fn bound(idx: i64, h: &FloatHistogram) -> f64 {
    if uses_custom_buckets(h) {
        let n = h.custom_values.len() as i64;
        return match idx {
            i if i >= n => f64::INFINITY,
            i if i < 0 => f64::NEG_INFINITY,
            i => h
                .custom_values
                .get(i as usize)
                .copied()
                .unwrap_or(f64::INFINITY),
        };
    }
    exponential_bound(idx, h.schema)
}

/// (bucket index, count) pairs in index order.
fn indexed(spans: &[Span], counts: &[f64]) -> Vec<(i64, f64)> {
    let mut out = Vec::with_capacity(counts.len());
    let mut idx: i64 = 0;
    let mut it = counts.iter();
    for s in spans {
        // The first offset is absolute; later ones are relative to the end of the
        // previous span, where `idx` already points.
        idx += i64::from(s.offset);
        for _ in 0..s.length {
            match it.next() {
                Some(&c) => out.push((idx, c)),
                None => return out,
            }
            idx += 1;
        }
    }
    out
}

/// Prometheus' `FloatHistogram.Equals`: same schema, bit-identical count, sum, zero
/// bucket and bucket counts at the same indexes, same custom bounds; the counter-reset
/// hint is ignored.
pub(crate) fn histograms_equal(a: &FloatHistogram, b: &FloatHistogram) -> bool {
    let bits = |x: &[(i64, f64)]| x.iter().map(|p| (p.0, p.1.to_bits())).collect::<Vec<_>>();
    a.schema == b.schema
        && a.count.to_bits() == b.count.to_bits()
        && a.sum.to_bits() == b.sum.to_bits()
        && (!uses_custom_buckets(a) || a.custom_values == b.custom_values)
        && a.zero_threshold == b.zero_threshold
        && a.zero_count.to_bits() == b.zero_count.to_bits()
        && bits(&indexed(&a.negative_spans, &a.negative_buckets))
            == bits(&indexed(&b.negative_spans, &b.negative_buckets))
        && bits(&indexed(&a.positive_spans, &a.positive_buckets))
            == bits(&indexed(&b.positive_spans, &b.positive_buckets))
}

/// All buckets from the lowest to the highest: negative, zero, positive.
pub(crate) fn all_buckets(h: &FloatHistogram) -> Vec<Bucket> {
    let zt = h.zero_threshold;
    let mut out = Vec::new();
    let clamp = |mut b: Bucket| {
        if b.upper < 0.0 && b.upper > -zt {
            b.upper = -zt;
        } else if b.lower > 0.0 && b.lower < zt {
            b.lower = zt;
        }
        b
    };
    for (idx, count) in indexed(&h.negative_spans, &h.negative_buckets)
        .into_iter()
        .rev()
    {
        out.push(clamp(Bucket {
            lower: -bound(idx, h),
            upper: -bound(idx - 1, h),
            count,
        }));
    }
    if h.zero_count > 0.0 && !uses_custom_buckets(h) {
        out.push(Bucket {
            lower: -zt,
            upper: zt,
            count: h.zero_count,
        });
    }
    for (idx, count) in indexed(&h.positive_spans, &h.positive_buckets) {
        out.push(clamp(Bucket {
            lower: bound(idx - 1, h),
            upper: bound(idx, h),
            count,
        }));
    }
    out
}

/// The result of a native-histogram computation and the NaN-observation infos.
pub(crate) struct NativeResult {
    pub value: f64,
    /// "result is NaN" (quantile).
    pub nan_result: bool,
    /// "result is skewed higher" (quantile) / "excluded from all fractions" (fraction).
    pub nan_skew: bool,
}

fn plain(value: f64) -> NativeResult {
    NativeResult {
        value,
        nan_result: false,
        nan_skew: false,
    }
}

/// The quantile `q` of a native histogram.
pub(crate) fn histogram_quantile(q: f64, h: &FloatHistogram) -> NativeResult {
    if q < 0.0 {
        return plain(f64::NEG_INFINITY);
    }
    if q > 1.0 {
        return plain(f64::INFINITY);
    }
    if h.count == 0.0 || q.is_nan() {
        return plain(f64::NAN);
    }
    let forward = h.sum.is_nan() || q < 0.5;
    let mut buckets = all_buckets(h);
    if !forward {
        buckets.reverse();
    }
    let mut rank = if forward {
        q * h.count
    } else {
        (1.0 - q) * h.count
    };
    let mut count = 0.0;
    let mut bucket = Bucket {
        lower: 0.0,
        upper: 0.0,
        count: 0.0,
    };
    let mut pos = buckets.len();
    for (i, b) in buckets.iter().enumerate() {
        if b.count == 0.0 {
            continue;
        }
        bucket = *b;
        count += b.count;
        if count >= rank {
            pos = i;
            break;
        }
    }
    let custom = uses_custom_buckets(h);
    if !custom && bucket.lower < 0.0 && bucket.upper > 0.0 {
        if h.negative_buckets.is_empty() && !h.positive_buckets.is_empty() {
            bucket.lower = 0.0;
        } else if h.positive_buckets.is_empty() && !h.negative_buckets.is_empty() {
            bucket.upper = 0.0;
        }
    } else if custom {
        if bucket.lower == f64::NEG_INFINITY {
            if bucket.upper <= 0.0 {
                return plain(bucket.upper);
            }
            bucket.lower = 0.0;
        } else if bucket.upper == f64::INFINITY {
            return plain(bucket.lower);
        }
    }
    if count > h.count {
        count = h.count;
    }
    if count < rank {
        if h.sum.is_nan() {
            return NativeResult {
                value: f64::NAN,
                nan_result: true,
                nan_skew: false,
            };
        }
        return plain(bucket.upper);
    }
    if forward {
        rank -= count - bucket.count;
    } else {
        rank = count - rank;
    }
    let mut nan_skew = false;
    if h.sum.is_nan() {
        let rest: f64 = buckets
            .iter()
            .skip(pos.saturating_add(1))
            .map(|b| b.count)
            .sum();
        if count + rest < h.count {
            nan_skew = true;
        }
    }
    let fraction = rank / bucket.count;
    let value = if custom || (bucket.lower <= 0.0 && bucket.upper >= 0.0) {
        bucket.lower + (bucket.upper - bucket.lower) * fraction
    } else {
        let log_lower = bucket.lower.abs().log2();
        let log_upper = bucket.upper.abs().log2();
        if bucket.lower > 0.0 {
            (log_lower + (log_upper - log_lower) * fraction).exp2()
        } else {
            -(log_upper + (log_lower - log_upper) * (1.0 - fraction)).exp2()
        }
    };
    NativeResult {
        value,
        nan_result: false,
        nan_skew,
    }
}

fn fraction_below(b: &Bucket, v: f64, linear: bool) -> f64 {
    if linear {
        return (v - b.lower) / (b.upper - b.lower);
    }
    let log_lower = b.lower.abs().log2();
    let log_upper = b.upper.abs().log2();
    let log_v = v.abs().log2();
    if v > 0.0 {
        (log_v - log_lower) / (log_upper - log_lower)
    } else {
        1.0 - ((log_v - log_upper) / (log_lower - log_upper))
    }
}

/// The fraction of observations between `lower` and `upper`.
pub(crate) fn histogram_fraction(lower: f64, upper: f64, h: &FloatHistogram) -> NativeResult {
    if h.count == 0.0 || lower.is_nan() || upper.is_nan() {
        return plain(f64::NAN);
    }
    if lower >= upper {
        return plain(0.0);
    }
    let custom = uses_custom_buckets(h);
    let buckets = all_buckets(h);
    let (mut count, mut rank, mut lower_rank, mut upper_rank) = (0.0, 0.0, 0.0, 0.0);
    let (mut lower_set, mut upper_set) = (false, false);
    let mut consumed = buckets.len();
    for (i, orig) in buckets.iter().enumerate() {
        let mut b = *orig;
        count += b.count;
        let mut zero_bucket = false;
        if b.lower <= 0.0 && b.upper >= 0.0 {
            zero_bucket = true;
            if h.negative_buckets.is_empty() && !h.positive_buckets.is_empty() {
                b.lower = 0.0;
            } else if h.positive_buckets.is_empty() && !h.negative_buckets.is_empty() {
                b.upper = 0.0;
            }
        }
        let linear = custom || zero_bucket;
        let interpolate = |v: f64| {
            if linear && b.lower == f64::NEG_INFINITY {
                return b.count;
            }
            rank + b.count * fraction_below(&b, v, linear)
        };
        if !lower_set && b.lower >= lower {
            lower_rank = rank;
            lower_set = true;
        }
        if !upper_set && b.lower >= upper {
            upper_rank = rank;
            upper_set = true;
        }
        if lower_set && upper_set {
            consumed = i + 1;
            break;
        }
        if !lower_set && b.lower < lower && b.upper > lower {
            lower_rank = interpolate(lower);
            lower_set = true;
        }
        if !upper_set && b.lower < upper && b.upper > upper {
            upper_rank = interpolate(upper);
            upper_set = true;
        }
        if lower_set && upper_set {
            consumed = i + 1;
            break;
        }
        rank += b.count;
    }
    let mut nan_skew = false;
    if h.sum.is_nan() {
        count += buckets.iter().skip(consumed).map(|b| b.count).sum::<f64>();
        if count < h.count {
            nan_skew = true;
        }
    } else {
        count = h.count;
    }
    if !lower_set || lower_rank > count {
        lower_rank = count;
    }
    if !upper_set || upper_rank > count {
        upper_rank = count;
    }
    NativeResult {
        value: (upper_rank - lower_rank) / h.count,
        nan_result: false,
        nan_skew,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hist(schema: i32, offset: i32, buckets: &[f64], count: f64, sum: f64) -> FloatHistogram {
        FloatHistogram {
            schema,
            count,
            sum,
            positive_spans: vec![Span {
                offset,
                length: buckets.len() as u32,
            }],
            positive_buckets: buckets.to_vec(),
            ..Default::default()
        }
    }

    #[test]
    fn bounds() {
        assert_eq!(exponential_bound(0, 0), 1.0);
        assert_eq!(exponential_bound(1, 0), 2.0);
        assert_eq!(exponential_bound(-1, 0), 0.5);
        assert!((exponential_bound(1, 1) - std::f64::consts::SQRT_2).abs() < 1e-15);
        assert_eq!(exponential_bound(1, -1), 4.0);
        assert_eq!(exponential_bound(1024, 0), f64::MAX);
        assert_eq!(exponential_bound(i64::MAX / 4, -2), f64::INFINITY);
    }

    #[test]
    fn custom_bucket_quantile_matches_classic() {
        // testhistogram3 positive as NHCB: bounds 0, 0.1, 0.2, 1, +Inf; counts 0 50 20 40 0.
        let mut h = hist(
            CUSTOM_BUCKETS_SCHEMA,
            0,
            &[0., 50., 20., 40., 0.],
            110.0,
            330.0,
        );
        h.custom_values = vec![0.0, 0.1, 0.2, 1.0];
        for (q, want) in [
            (0.0, 0.0),
            (0.25, 0.055),
            (0.5, 0.125),
            (0.75, 0.45),
            (1.0, 1.0),
        ] {
            let got = histogram_quantile(q, &h).value;
            assert!((got - want).abs() < 1e-9, "q={q}: {got} != {want}");
        }
        let f = histogram_fraction(0.0, 0.2, &h).value;
        assert!((f - 0.6363636363636364).abs() < 1e-12);
    }

    #[test]
    fn exponential_quantile() {
        // {{schema:0 count:4 sum:10 buckets:[1 2 1]}}: (0.5,1], (1,2], (2,4].
        let h = hist(0, 0, &[1., 2., 1.], 4.0, 10.0);
        assert_eq!(histogram_quantile(1.0, &h).value, 4.0);
        let m = histogram_quantile(0.5, &h).value;
        assert!((m - 2f64.powf(0.5)).abs() < 1e-12, "{m}");
        assert!(histogram_quantile(f64::NAN, &h).value.is_nan());
        assert_eq!(histogram_fraction(0.0, f64::INFINITY, &h).value, 1.0);
        assert_eq!(histogram_fraction(1.0, 2.0, &h).value, 0.5);
    }

    #[test]
    fn equality_ignores_hint_and_span_layout() {
        let a = hist(0, 0, &[1., 2.], 3.0, 4.0);
        let mut b = a.clone();
        b.counter_reset_hint = crate::value::CounterResetHint::Gauge;
        b.positive_spans = vec![
            Span {
                offset: 0,
                length: 1,
            },
            Span {
                offset: 0,
                length: 0,
            },
            Span {
                offset: 0,
                length: 1,
            },
        ];
        assert!(histograms_equal(&a, &b));
        b.sum = 5.0;
        assert!(!histograms_equal(&a, &b));
    }

    #[test]
    fn never_panics_on_garbage() {
        let mut h = hist(
            8,
            i32::MIN,
            &[f64::NAN, -1.0, f64::INFINITY],
            f64::NAN,
            f64::NAN,
        );
        h.negative_spans = vec![Span {
            offset: i32::MAX,
            length: 100,
        }];
        h.negative_buckets = vec![1.0];
        for q in [0.0, 0.3, 0.7, 1.0] {
            let _ = histogram_quantile(q, &h);
            let _ = histogram_fraction(-q, q, &h);
        }
        let mut c = hist(CUSTOM_BUCKETS_SCHEMA, -5, &[1.0, 2.0], 3.0, 1.0);
        c.custom_values = vec![];
        let _ = histogram_quantile(0.5, &c);
        let _ = histogram_fraction(0.0, 1.0, &c);
    }
}
