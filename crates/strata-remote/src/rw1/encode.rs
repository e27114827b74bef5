//! Remote write 1.0 encoding. 1.0 has no per-series metadata and no start timestamps:
//! `TimeSeriesRef::metadata`, `sample_start_timestamps`, `created_timestamp` and
//! `WireHistogram::start_timestamp` are not sent.

use crate::histogram_wire::encode_histogram;
use crate::protowire::Writer;
use crate::series::{MetricMetadataRef, TimeSeriesRef};

fn encode_labels(w: &mut Writer, field: u32, labels: &[(&str, &str)]) {
    for (n, v) in labels {
        w.message(field, |w| {
            w.bytes(1, n.as_bytes());
            w.bytes(2, v.as_bytes());
        });
    }
}

/// Appends one `TimeSeries` (field 1 of `WriteRequest`) to `w`.
pub fn encode_series(w: &mut Writer, ts: &TimeSeriesRef<'_>) {
    w.message(1, |w| {
        encode_labels(w, 1, &ts.labels);
        for &(t, v) in &ts.samples {
            w.message(2, |w| {
                w.double(1, v);
                w.int64(2, t);
            });
        }
        for e in &ts.exemplars {
            w.message(3, |w| {
                encode_labels(w, 1, &e.labels);
                w.double(2, e.value);
                w.int64(3, e.timestamp);
            });
        }
        for h in &ts.histograms {
            encode_histogram(w, 4, h, false);
        }
    });
}

/// Appends one `MetricMetadata` (field 3 of `WriteRequest`) to `w`.
pub fn encode_metadata(w: &mut Writer, md: &MetricMetadataRef<'_>) {
    w.message(3, |w| {
        w.uint64_nonzero(1, md.metric_type.to_wire());
        if !md.metric_family_name.is_empty() {
            w.bytes(2, md.metric_family_name.as_bytes());
        }
        if !md.help.is_empty() {
            w.bytes(4, md.help.as_bytes());
        }
        if !md.unit.is_empty() {
            w.bytes(5, md.unit.as_bytes());
        }
    });
}

/// Builds a `WriteRequest` one series or metadata entry at a time.
#[derive(Default)]
pub struct RequestBuilder {
    w: Writer,
}

impl RequestBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add_series(&mut self, ts: &TimeSeriesRef<'_>) {
        encode_series(&mut self.w, ts);
    }

    pub fn add_metadata(&mut self, md: &MetricMetadataRef<'_>) {
        encode_metadata(&mut self.w, md);
    }

    /// The encoded size so far (uncompressed), for batching decisions.
    pub fn len(&self) -> usize {
        self.w.buf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.w.buf.is_empty()
    }

    /// The encoded request; the builder is left empty for the next one.
    pub fn finish(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.w.buf)
    }
}

/// Encodes a `WriteRequest` with float samples only.
pub fn encode_write_request<'a>(
    series: impl IntoIterator<Item = (&'a [(&'a str, &'a str)], &'a [(i64, f64)])>,
) -> Vec<u8> {
    let mut b = RequestBuilder::new();
    let mut ts = TimeSeriesRef::default();
    for (labels, samples) in series {
        ts.labels.clear();
        ts.labels.extend_from_slice(labels);
        ts.samples.clear();
        ts.samples.extend_from_slice(samples);
        b.add_series(&ts);
    }
    b.finish()
}
