//! Remote write 2.0 encoding: a builder that interns every string into the symbols
//! table (index 0 is always `""`) and writes each series as it is added; `finish`
//! puts the symbols (field 4) before the series (field 5).

use std::collections::HashMap;

use crate::histogram_wire::encode_histogram;
use crate::protowire::Writer;
use crate::series::TimeSeriesRef;

/// Builds one `io.prometheus.write.v2.Request`; reusable after [`RequestBuilder::finish`].
pub struct RequestBuilder {
    index: HashMap<Box<str>, u32>,
    /// Number of symbols, including the leading `""`.
    count: u32,
    /// Encoded `symbols` entries (field 4), in index order.
    symbols: Writer,
    /// Encoded `timeseries` entries (field 5).
    series: Writer,
    series_count: usize,
    /// Scratch: label refs of the series, then of each exemplar.
    refs: Vec<u32>,
}

impl Default for RequestBuilder {
    fn default() -> Self {
        let mut b = RequestBuilder {
            index: HashMap::new(),
            count: 0,
            symbols: Writer::default(),
            series: Writer::default(),
            series_count: 0,
            refs: Vec::new(),
        };
        b.clear();
        b
    }
}

impl RequestBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    /// The symbol index of `s`, adding it to the table if it is new.
    pub fn symbol(&mut self, s: &str) -> u32 {
        if s.is_empty() {
            return 0;
        }
        if let Some(&i) = self.index.get(s) {
            return i;
        }
        let i = self.count;
        self.count += 1;
        self.index.insert(s.into(), i);
        self.symbols.bytes(4, s.as_bytes());
        i
    }

    /// Appends one `TimeSeries`. Labels are sent in the given order (the spec wants them
    /// sorted; that is the caller's business). Metadata is always written, as Prometheus
    /// does; samples always carry value and timestamp; zero start timestamps and a zero
    /// `created_timestamp` (the pre-release field 6) are left out.
    pub fn add_series(&mut self, ts: &TimeSeriesRef<'_>) {
        let mut refs = std::mem::take(&mut self.refs);
        refs.clear();
        for (n, v) in &ts.labels {
            refs.push(self.symbol(n));
            refs.push(self.symbol(v));
        }
        let n_series_refs = refs.len();
        for e in &ts.exemplars {
            for (n, v) in &e.labels {
                refs.push(self.symbol(n));
                refs.push(self.symbol(v));
            }
        }
        let help = self.symbol(ts.metadata.help);
        let unit = self.symbol(ts.metadata.unit);

        self.series.message(5, |w| {
            w.packed_varints(1, refs[..n_series_refs].iter().map(|r| u64::from(*r)));
            for (i, &(t, v)) in ts.samples.iter().enumerate() {
                w.message(2, |w| {
                    w.double(1, v);
                    w.int64(2, t);
                    w.int64_nonzero(3, ts.sample_start_timestamp(i));
                });
            }
            for h in &ts.histograms {
                encode_histogram(w, 3, h, true);
            }
            let mut at = n_series_refs;
            for e in &ts.exemplars {
                let mine = &refs[at..at + 2 * e.labels.len()];
                at += mine.len();
                w.message(4, |w| {
                    w.packed_varints(1, mine.iter().map(|r| u64::from(*r)));
                    w.double(2, e.value);
                    w.int64(3, e.timestamp);
                });
            }
            w.message(5, |w| {
                w.uint64_nonzero(1, ts.metadata.metric_type.to_wire());
                w.uint64_nonzero(3, u64::from(help));
                w.uint64_nonzero(4, u64::from(unit));
            });
            w.int64_nonzero(6, ts.created_timestamp);
        });
        self.series_count += 1;
        self.refs = refs;
    }

    /// Number of series added since the last `finish`.
    pub fn series_count(&self) -> usize {
        self.series_count
    }

    /// The encoded size so far (uncompressed), for batching decisions.
    pub fn len(&self) -> usize {
        self.symbols.buf.len() + self.series.buf.len()
    }

    /// True when no series has been added.
    pub fn is_empty(&self) -> bool {
        self.series_count == 0
    }

    /// The encoded request; the builder is reset (symbols too) for the next one.
    pub fn finish(&mut self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.len());
        out.extend_from_slice(&self.symbols.buf);
        out.extend_from_slice(&self.series.buf);
        self.clear();
        out
    }

    /// Drops everything added, keeping the allocations.
    pub fn clear(&mut self) {
        self.index.clear();
        self.symbols.buf.clear();
        self.series.buf.clear();
        self.series_count = 0;
        // symbols[0] = "".
        self.symbols.bytes(4, b"");
        self.count = 1;
    }
}

/// Encodes a whole request from series.
pub fn encode_request<'s, 'a: 's>(
    series: impl IntoIterator<Item = &'s TimeSeriesRef<'a>>,
) -> Vec<u8> {
    let mut b = RequestBuilder::new();
    for ts in series {
        b.add_series(ts);
    }
    b.finish()
}
