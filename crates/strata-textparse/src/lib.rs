//! Parsers for the Prometheus text exposition format 0.0.4 and OpenMetrics 1.0 text.
//!
//! [`Parser`] is a hand-written pull parser: [`Parser::next_entry`] yields one [`Entry`]
//! per meaningful line. Names, label values and help texts borrow from the input unless an
//! escape sequence forces a copy, so parsing a typical scrape allocates only the label
//! vector of each sample. Behaviour follows Prometheus' `promparse`/`openmetricsparse`
//! (each format module documents the grammar it accepts).
//!
//! ```
//! use strata_textparse::{Entry, Format, Parser};
//!
//! let body = "# TYPE up gauge\nup{job=\"node\"} 1 1700000000000\n";
//! let mut p = Parser::new(body, Format::PrometheusText);
//! let mut samples = 0;
//! while let Some(entry) = p.next_entry()? {
//!     if let Entry::Sample { name, labels, value, timestamp_ms, .. } = entry {
//!         assert_eq!((name.as_ref(), labels.len(), value), ("up", 1, 1.0));
//!         assert_eq!(timestamp_ms, Some(1_700_000_000_000));
//!         samples += 1;
//!     }
//! }
//! assert_eq!(samples, 1);
//! # Ok::<(), strata_textparse::Error>(())
//! ```

mod cursor;
mod entry;
pub mod error;
mod openmetrics;
mod parser;
mod promtext;
mod series;
pub mod value;

use std::borrow::Cow;

pub use entry::{Entry, Exemplar, Format, LabelPairs, MetricType};
pub use error::{Error, Result};
pub use parser::Parser;

/// Chooses the parser for a scrape response's `Content-Type`, as Prometheus does:
/// `application/openmetrics-text` (any parameters) selects OpenMetrics, anything else
/// (including an empty or unparsable header) the text format.
pub fn format_from_content_type(ct: &str) -> Format {
    let media = ct.split(';').next().unwrap_or("").trim();
    if media.eq_ignore_ascii_case("application/openmetrics-text") {
        Format::OpenMetrics
    } else {
        Format::PrometheusText
    }
}

/// Builds a sorted [`strata_model::Labels`] from a sample's name and labels (adding
/// `__name__`). Duplicate or empty names come back as `strata_model` errors; empty values
/// are dropped as Prometheus does.
pub fn samples_to_labels(
    name: &str,
    labels: &[(Cow<'_, str>, Cow<'_, str>)],
) -> strata_model::Result<strata_model::Labels> {
    let mut b = strata_model::LabelsBuilder::new();
    b.push(strata_model::METRIC_NAME, name);
    for (n, v) in labels {
        b.push(n, v);
    }
    b.build()
}
