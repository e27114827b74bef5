//! Values produced by PromQL evaluation.

use strata_model::Labels;

pub use strata_model::histogram::{CounterResetHint, FloatHistogram, Span};

/// A sample's value: a float or a native histogram.
#[derive(Debug, Clone, PartialEq)]
pub enum SampleValue {
    Float(f64),
    Histogram(Box<FloatHistogram>),
}

/// One element of an instant vector.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub metric: Labels,
    pub t: i64,
    pub value: SampleValue,
    /// Set when the metric name must be dropped once evaluation of the current
    /// expression finishes (Prometheus 3's delayed name removal).
    pub drop_name: bool,
}

/// One series of a range vector or of a range query's result.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Series {
    pub metric: Labels,
    pub floats: Vec<(i64, f64)>,
    pub histograms: Vec<(i64, FloatHistogram)>,
    pub drop_name: bool,
}

/// The result of evaluating an expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Scalar { t: i64, v: f64 },
    String { t: i64, s: String },
    Vector(Vec<Sample>),
    Matrix(Vec<Series>),
}

impl Value {
    /// Prometheus' name of the value type (`scalar`, `string`, `vector`, `matrix`).
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Scalar { .. } => "scalar",
            Value::String { .. } => "string",
            Value::Vector(_) => "vector",
            Value::Matrix(_) => "matrix",
        }
    }
}

/// Warnings and infos attached to a result, as Prometheus' annotations.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Annotations {
    pub warnings: Vec<String>,
    pub infos: Vec<String>,
}

/// Statistics reported with `stats=all`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueryStats {
    pub total_queryable_samples: u64,
    pub peak_samples: u64,
    pub eval_total_time_s: f64,
}

/// A finished query.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryResult {
    pub value: Value,
    pub annotations: Annotations,
    pub stats: QueryStats,
}
