//! The decoded form of one time series, shared by remote write 1.0 and 2.0: label
//! strings borrow from the request buffer, samples are plain pairs, histograms are fully
//! decoded. The same type is the encoders' input, so a decoded series can be re-encoded.

use strata_model::histogram::{FloatHistogram, Histogram};
use strata_model::histogram_validate::HistogramError;

/// One time series of a write request, borrowing its strings from the request.
///
/// Decoders reuse one value between series: vectors are cleared, not reallocated.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct TimeSeriesRef<'a> {
    /// Labels in wire order, neither sorted nor validated (the receiver does that).
    pub labels: Vec<(&'a str, &'a str)>,
    /// `(timestamp ms, value)` in wire order.
    pub samples: Vec<(i64, f64)>,
    /// 2.0 `Sample.start_timestamp` per sample: empty when every sample's is 0 (unset),
    /// otherwise exactly as long as `samples`. See [`TimeSeriesRef::sample_start_timestamp`].
    pub sample_start_timestamps: Vec<i64>,
    pub histograms: Vec<WireHistogram>,
    pub exemplars: Vec<ExemplarRef<'a>>,
    /// 2.0 per-series metadata; always the default for 1.0 (whose metadata is per metric
    /// family, see `rw1::for_each_metadata`).
    pub metadata: MetadataRef<'a>,
    /// The pre-release 2.0 `TimeSeries.created_timestamp` (field 6, reserved in the final
    /// spec, which moved it to `Sample.start_timestamp`); 0 means unset.
    pub created_timestamp: i64,
}

impl<'a> TimeSeriesRef<'a> {
    /// Empties the series, keeping the allocations.
    pub fn clear(&mut self) {
        self.labels.clear();
        self.samples.clear();
        self.sample_start_timestamps.clear();
        self.histograms.clear();
        self.exemplars.clear();
        self.metadata = MetadataRef::default();
        self.created_timestamp = 0;
    }

    /// The start (created) timestamp of the `i`-th sample, 0 when unset.
    pub fn sample_start_timestamp(&self, i: usize) -> i64 {
        self.sample_start_timestamps.get(i).copied().unwrap_or(0)
    }

    /// Records a sample and its start timestamp, keeping `sample_start_timestamps` empty
    /// while all are 0.
    pub fn push_sample(&mut self, t: i64, v: f64, start_timestamp: i64) {
        if start_timestamp != 0 || !self.sample_start_timestamps.is_empty() {
            self.sample_start_timestamps.resize(self.samples.len(), 0);
            self.sample_start_timestamps.push(start_timestamp);
        }
        self.samples.push((t, v));
    }
}

/// A native histogram sample as sent on the wire.
#[derive(Debug, Clone, PartialEq)]
pub struct WireHistogram {
    /// Milliseconds.
    pub timestamp: i64,
    /// 2.0 `Histogram.start_timestamp` (field 17); 0 means unset. Always 0 for 1.0.
    pub start_timestamp: i64,
    pub value: HistogramValue,
}

/// Integer histograms (counts as deltas) or float histograms (absolute counts): which
/// one the sender chose by the `count_int`/`count_float` oneof.
#[derive(Debug, Clone, PartialEq)]
pub enum HistogramValue {
    Int(Histogram),
    Float(FloatHistogram),
}

impl HistogramValue {
    pub fn is_float(&self) -> bool {
        matches!(self, HistogramValue::Float(_))
    }

    pub fn schema(&self) -> i32 {
        match self {
            HistogramValue::Int(h) => h.schema,
            HistogramValue::Float(h) => h.schema,
        }
    }

    /// Checks the histogram with Prometheus' validation rules.
    pub fn validate(&self) -> Result<(), HistogramError> {
        match self {
            HistogramValue::Int(h) => h.validate(),
            HistogramValue::Float(h) => h.validate(),
        }
    }

    /// The histogram with float counts (converted from deltas for integer histograms).
    pub fn to_float(&self) -> FloatHistogram {
        match self {
            HistogramValue::Int(h) => h.to_float(),
            HistogramValue::Float(h) => h.clone(),
        }
    }
}

/// An exemplar: its own labels (e.g. `trace_id`), value and timestamp (0 = unset).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ExemplarRef<'a> {
    pub labels: Vec<(&'a str, &'a str)>,
    pub value: f64,
    pub timestamp: i64,
}

/// 2.0 per-series metadata (empty strings when absent).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct MetadataRef<'a> {
    pub metric_type: MetricType,
    pub help: &'a str,
    pub unit: &'a str,
}

/// 1.0 `MetricMetadata`: metadata of a metric family, sent beside the series.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct MetricMetadataRef<'a> {
    pub metric_type: MetricType,
    pub metric_family_name: &'a str,
    pub help: &'a str,
    pub unit: &'a str,
}

/// The metric type; the wire numbers are the same in 1.0 (`MetricMetadata.MetricType`)
/// and 2.0 (`Metadata.MetricType`).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MetricType {
    /// 1.0 `UNKNOWN`, 2.0 `METRIC_TYPE_UNSPECIFIED`, and any number this code does not know.
    #[default]
    Unknown,
    Counter,
    Gauge,
    Histogram,
    GaugeHistogram,
    Summary,
    Info,
    Stateset,
}

impl MetricType {
    pub const ALL: [MetricType; 8] = [
        MetricType::Unknown,
        MetricType::Counter,
        MetricType::Gauge,
        MetricType::Histogram,
        MetricType::GaugeHistogram,
        MetricType::Summary,
        MetricType::Info,
        MetricType::Stateset,
    ];

    /// From the wire enum number; unknown numbers map to `Unknown`, as in Prometheus.
    pub fn from_wire(v: u64) -> MetricType {
        match v {
            1 => MetricType::Counter,
            2 => MetricType::Gauge,
            3 => MetricType::Histogram,
            4 => MetricType::GaugeHistogram,
            5 => MetricType::Summary,
            6 => MetricType::Info,
            7 => MetricType::Stateset,
            _ => MetricType::Unknown,
        }
    }

    pub fn to_wire(self) -> u64 {
        match self {
            MetricType::Unknown => 0,
            MetricType::Counter => 1,
            MetricType::Gauge => 2,
            MetricType::Histogram => 3,
            MetricType::GaugeHistogram => 4,
            MetricType::Summary => 5,
            MetricType::Info => 6,
            MetricType::Stateset => 7,
        }
    }

    /// Prometheus' name of the type (`model.MetricType`), as in `# TYPE` lines and the
    /// metadata API.
    pub fn as_str(self) -> &'static str {
        match self {
            MetricType::Unknown => "unknown",
            MetricType::Counter => "counter",
            MetricType::Gauge => "gauge",
            MetricType::Histogram => "histogram",
            MetricType::GaugeHistogram => "gaugehistogram",
            MetricType::Summary => "summary",
            MetricType::Info => "info",
            MetricType::Stateset => "stateset",
        }
    }

    /// The inverse of [`MetricType::as_str`]; anything else is `Unknown`.
    pub fn from_name(s: &str) -> MetricType {
        MetricType::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .unwrap_or_default()
    }
}

impl std::fmt::Display for MetricType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_type_numbers_and_names_round_trip() {
        for t in MetricType::ALL {
            assert_eq!(MetricType::from_wire(t.to_wire()), t);
            assert_eq!(MetricType::from_name(t.as_str()), t);
        }
        assert_eq!(MetricType::from_wire(99), MetricType::Unknown);
    }

    #[test]
    fn start_timestamps_stay_empty_until_one_is_set() {
        let mut ts = TimeSeriesRef::default();
        ts.push_sample(1, 1.0, 0);
        assert!(ts.sample_start_timestamps.is_empty());
        ts.clear();
        ts.push_sample(1, 1.0, 7);
        assert_eq!(ts.sample_start_timestamps, vec![7]);
        ts.clear();
        ts.push_sample(1, 1.0, 0);
        assert!(ts.sample_start_timestamps.is_empty());
        ts.push_sample(2, 2.0, 5);
        ts.push_sample(3, 3.0, 0);
        assert_eq!(ts.sample_start_timestamps, vec![0, 5, 0]);
        assert_eq!(ts.sample_start_timestamp(1), 5);
        ts.clear();
        assert!(ts.samples.is_empty() && ts.sample_start_timestamps.is_empty());
    }
}
