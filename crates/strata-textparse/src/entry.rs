//! What the parser yields: formats, metric types, entries and exemplars.

use std::borrow::Cow;
use std::fmt;

/// Label pairs of one sample, in input order, without `__name__`.
pub type LabelPairs<'a> = Vec<(Cow<'a, str>, Cow<'a, str>)>;

/// The two supported exposition formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Format {
    /// Prometheus text format 0.0.4 (`text/plain; version=0.0.4`), with Prometheus 3's
    /// quoted UTF-8 names.
    #[default]
    PrometheusText,
    /// OpenMetrics 1.0 text (`application/openmetrics-text`).
    OpenMetrics,
}

/// The type declared by a `# TYPE` line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MetricType {
    Counter,
    Gauge,
    Histogram,
    GaugeHistogram,
    Summary,
    Info,
    StateSet,
    /// `unknown` in OpenMetrics, `untyped` in the text format.
    Unknown,
}

impl MetricType {
    /// The OpenMetrics spelling (`unknown` for untyped), as Prometheus' metadata API shows it.
    pub fn as_str(self) -> &'static str {
        match self {
            MetricType::Counter => "counter",
            MetricType::Gauge => "gauge",
            MetricType::Histogram => "histogram",
            MetricType::GaugeHistogram => "gaugehistogram",
            MetricType::Summary => "summary",
            MetricType::Info => "info",
            MetricType::StateSet => "stateset",
            MetricType::Unknown => "unknown",
        }
    }
}

impl fmt::Display for MetricType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An OpenMetrics exemplar attached to a sample (` # {labels} value [timestamp]`).
#[derive(Debug, Clone, PartialEq)]
pub struct Exemplar {
    /// Label pairs in input order.
    pub labels: Vec<(String, String)>,
    pub value: f64,
    /// Milliseconds, converted from the float seconds of the exposition.
    pub timestamp_ms: Option<i64>,
}

/// One parsed line.
#[derive(Debug, Clone, PartialEq)]
pub enum Entry<'a> {
    /// `# TYPE family kind`.
    Type { family: &'a str, kind: MetricType },
    /// `# HELP family text`, unescaped.
    Help { family: &'a str, text: Cow<'a, str> },
    /// `# UNIT family unit` (OpenMetrics only).
    Unit { family: &'a str, unit: &'a str },
    /// Any other `#` line (text format only).
    Comment,
    /// A sample. `labels` are in input order and never include `__name__`.
    Sample {
        name: Cow<'a, str>,
        labels: LabelPairs<'a>,
        value: f64,
        timestamp_ms: Option<i64>,
        exemplar: Option<Exemplar>,
    },
    /// The OpenMetrics `# EOF` line.
    Eof,
}
