//! Proptest strategies for owned series that lend out `TimeSeriesRef`s.

use proptest::collection::vec;
use proptest::prelude::*;
use strata_model::histogram::{CounterResetHint, FloatHistogram, Histogram, Span};
use strata_remote::{
    ExemplarRef, HistogramValue, MetadataRef, MetricType, TimeSeriesRef, WireHistogram,
};

pub type Pairs = Vec<(String, String)>;

/// Everything a series can carry, owned.
#[derive(Debug, Clone)]
pub struct OwnedSeries {
    pub labels: Pairs,
    pub samples: Vec<(i64, f64)>,
    /// Empty, or one per sample with at least one non-zero (the decoders' canonical form).
    pub start_timestamps: Vec<i64>,
    pub histograms: Vec<WireHistogram>,
    pub exemplars: Vec<(Pairs, f64, i64)>,
    pub metadata: (MetricType, String, String),
    pub created_timestamp: i64,
}

impl OwnedSeries {
    pub fn as_ref(&self) -> TimeSeriesRef<'_> {
        TimeSeriesRef {
            labels: pairs(&self.labels),
            samples: self.samples.clone(),
            sample_start_timestamps: self.start_timestamps.clone(),
            histograms: self.histograms.clone(),
            exemplars: self
                .exemplars
                .iter()
                .map(|(l, value, timestamp)| ExemplarRef {
                    labels: pairs(l),
                    value: *value,
                    timestamp: *timestamp,
                })
                .collect(),
            metadata: MetadataRef {
                metric_type: self.metadata.0,
                help: &self.metadata.1,
                unit: &self.metadata.2,
            },
            created_timestamp: self.created_timestamp,
        }
    }
}

fn pairs(p: &Pairs) -> Vec<(&str, &str)> {
    p.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect()
}

/// Floats including NaN, infinities, -0.0 and the stale marker.
pub fn float() -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => any::<f64>(),
        1 => Just(f64::from_bits(0x7ff0_0000_0000_0002)),
        1 => Just(-0.0),
        1 => Just(0.0),
    ]
}

/// Any UTF-8, biased towards a small alphabet so that symbols repeat.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![3 => "[a-c_]{0,3}", 1 => any::<String>()]
}

fn label_pairs(max: usize) -> impl Strategy<Value = Pairs> {
    vec((text(), text()), 0..max)
}

fn spans() -> impl Strategy<Value = Vec<Span>> {
    vec(
        (any::<i32>(), any::<u32>()).prop_map(|(offset, length)| Span { offset, length }),
        0..3,
    )
}

fn hint() -> impl Strategy<Value = CounterResetHint> {
    prop_oneof![
        Just(CounterResetHint::Unknown),
        Just(CounterResetHint::CounterReset),
        Just(CounterResetHint::NotCounterReset),
        Just(CounterResetHint::Gauge),
    ]
}

/// Histograms with arbitrary (not necessarily valid) fields: codecs must carry them as is.
pub fn histogram() -> impl Strategy<Value = WireHistogram> {
    let int = (
        (
            hint(),
            any::<i32>(),
            float(),
            any::<u64>(),
            any::<u64>(),
            float(),
        ),
        (
            spans(),
            spans(),
            vec(any::<i64>(), 0..4),
            vec(any::<i64>(), 0..4),
        ),
        vec(float(), 0..3),
    )
        .prop_map(|((h, schema, zt, zc, c, sum), (ps, ns, pd, nd), cv)| {
            HistogramValue::Int(Histogram {
                counter_reset_hint: h,
                schema,
                zero_threshold: zt,
                zero_count: zc,
                count: c,
                sum,
                positive_spans: ps,
                negative_spans: ns,
                positive_deltas: pd,
                negative_deltas: nd,
                custom_values: cv,
            })
        });
    let float_h = (
        (hint(), any::<i32>(), float(), float(), float(), float()),
        (spans(), spans(), vec(float(), 0..4), vec(float(), 0..4)),
        vec(float(), 0..3),
    )
        .prop_map(|((h, schema, zt, zc, c, sum), (ps, ns, pb, nb), cv)| {
            HistogramValue::Float(FloatHistogram {
                counter_reset_hint: h,
                schema,
                zero_threshold: zt,
                zero_count: zc,
                count: c,
                sum,
                positive_spans: ps,
                negative_spans: ns,
                positive_buckets: pb,
                negative_buckets: nb,
                custom_values: cv,
            })
        });
    (prop_oneof![int, float_h], any::<i64>(), any::<i64>()).prop_map(
        |(value, timestamp, start_timestamp)| WireHistogram {
            timestamp,
            start_timestamp,
            value,
        },
    )
}

fn metric_type() -> impl Strategy<Value = MetricType> {
    proptest::sample::select(MetricType::ALL.to_vec())
}

pub fn series() -> impl Strategy<Value = OwnedSeries> {
    (
        label_pairs(5),
        vec(
            (any::<i64>(), float(), prop_oneof![Just(0i64), any::<i64>()]),
            0..5,
        ),
        vec(histogram(), 0..3),
        vec((label_pairs(3), float(), any::<i64>()), 0..3),
        (metric_type(), text(), text()),
        prop_oneof![Just(0i64), any::<i64>()],
    )
        .prop_map(
            |(labels, s, histograms, exemplars, metadata, created_timestamp)| {
                let samples = s.iter().map(|&(t, v, _)| (t, v)).collect();
                let mut start_timestamps: Vec<i64> = s.iter().map(|&(_, _, st)| st).collect();
                if start_timestamps.iter().all(|&st| st == 0) {
                    start_timestamps.clear();
                }
                OwnedSeries {
                    labels,
                    samples,
                    start_timestamps,
                    histograms,
                    exemplars,
                    metadata,
                    created_timestamp,
                }
            },
        )
}

/// What a 1.0 round trip keeps: no metadata, start or created timestamps.
pub fn v1_view(s: &OwnedSeries) -> OwnedSeries {
    let mut s = s.clone();
    s.start_timestamps.clear();
    for h in &mut s.histograms {
        h.start_timestamp = 0;
    }
    s.metadata = (MetricType::Unknown, String::new(), String::new());
    s.created_timestamp = 0;
    s
}

/// Series compare by their `Debug` form, so that NaNs equal NaNs (and -0.0 differs
/// from 0.0).
pub fn same(a: &[TimeSeriesRef<'_>], b: &[TimeSeriesRef<'_>]) -> bool {
    format!("{a:?}") == format!("{b:?}")
}
