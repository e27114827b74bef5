//! Remote write 1.0 (`prometheus.WriteRequest`): field numbers from Prometheus'
//! `prompb/remote.proto` and `types.proto`:
//!
//! - `WriteRequest`: 1 `repeated TimeSeries timeseries`, 3 `repeated MetricMetadata metadata`
//! - `TimeSeries`: 1 `repeated Label labels`, 2 `repeated Sample samples`,
//!   3 `repeated Exemplar exemplars`, 4 `repeated Histogram histograms`
//! - `Label`: 1 `string name`, 2 `string value`
//! - `Sample`: 1 `double value`, 2 `int64 timestamp`

use crate::error::Result;
use crate::protowire::{Reader, WIRE_FIXED64, WIRE_LEN, WIRE_VARINT, Writer};

/// One decoded time series, borrowing from the request.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct TimeSeriesRef<'a> {
    pub labels: Vec<(&'a str, &'a str)>,
    pub samples: Vec<(i64, f64)>,
    pub exemplars: usize,
    pub histograms: usize,
}

/// Calls `f` for each time series of a decoded (decompressed) `WriteRequest`.
/// `scratch` is reused between series to avoid allocations.
pub fn for_each_series<'a>(
    req: &'a [u8],
    scratch: &mut TimeSeriesRef<'a>,
    mut f: impl FnMut(&TimeSeriesRef<'a>) -> Result<()>,
) -> Result<()> {
    let mut r = Reader::new(req, 0);
    while !r.is_empty() {
        let (field, wire) = r.tag()?;
        if field == 1 && wire == WIRE_LEN {
            let (ts, off) = r.bytes()?;
            decode_series(ts, off, scratch)?;
            f(scratch)?;
        } else {
            r.skip(wire)?;
        }
    }
    Ok(())
}

fn decode_series<'a>(buf: &'a [u8], base: usize, out: &mut TimeSeriesRef<'a>) -> Result<()> {
    out.labels.clear();
    out.samples.clear();
    out.exemplars = 0;
    out.histograms = 0;
    let mut r = Reader::new(buf, base);
    while !r.is_empty() {
        let (field, wire) = r.tag()?;
        match (field, wire) {
            (1, WIRE_LEN) => {
                let (b, off) = r.bytes()?;
                let mut lr = Reader::new(b, off);
                let (mut name, mut value) = ("", "");
                while !lr.is_empty() {
                    match lr.tag()? {
                        (1, WIRE_LEN) => name = lr.str("label name")?,
                        (2, WIRE_LEN) => value = lr.str("label value")?,
                        (_, w) => lr.skip(w)?,
                    }
                }
                out.labels.push((name, value));
            }
            (2, WIRE_LEN) => {
                let (b, off) = r.bytes()?;
                let mut sr = Reader::new(b, off);
                let (mut v, mut t) = (0f64, 0i64);
                while !sr.is_empty() {
                    match sr.tag()? {
                        (1, WIRE_FIXED64) => v = f64::from_bits(sr.fixed64()?),
                        (2, WIRE_VARINT) => t = sr.varint()? as i64,
                        (_, w) => sr.skip(w)?,
                    }
                }
                out.samples.push((t, v));
            }
            (3, WIRE_LEN) => {
                r.skip(WIRE_LEN)?;
                out.exemplars += 1;
            }
            (4, WIRE_LEN) => {
                r.skip(WIRE_LEN)?;
                out.histograms += 1;
            }
            (_, w) => r.skip(w)?,
        }
    }
    Ok(())
}

/// Encodes a `WriteRequest` with float samples only.
pub fn encode_write_request<'a>(
    series: impl IntoIterator<Item = (&'a [(&'a str, &'a str)], &'a [(i64, f64)])>,
) -> Vec<u8> {
    let mut req = Writer::default();
    let mut ts = Writer::default();
    let mut inner = Writer::default();
    for (labels, samples) in series {
        ts.buf.clear();
        for (n, v) in labels {
            inner.buf.clear();
            inner.bytes(1, n.as_bytes());
            inner.bytes(2, v.as_bytes());
            ts.bytes(1, &inner.buf);
        }
        for &(t, v) in samples {
            inner.buf.clear();
            inner.double(1, v);
            inner.int64(2, t);
            ts.bytes(2, &inner.buf);
        }
        req.bytes(1, &ts.buf);
    }
    req.buf
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn round_trips() {
        let labels = [("__name__", "up"), ("job", "a")];
        let samples = [(1000i64, 1.0), (2000, f64::NAN)];
        let req = encode_write_request([(&labels[..], &samples[..])]);
        let mut seen = Vec::new();
        let mut scratch = TimeSeriesRef::default();
        for_each_series(&req, &mut scratch, |ts| {
            seen.push((ts.labels.clone(), ts.samples.clone()));
            Ok(())
        })
        .unwrap();
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0].0, labels);
        assert_eq!(seen[0].1[0], (1000, 1.0));
        assert!(seen[0].1[1].1.is_nan());
    }

    #[test]
    fn golden_bytes() {
        // TimeSeries{labels:[{name:"a",value:"b"}], samples:[{value:1, timestamp:2}]}
        let req = encode_write_request([(&[("a", "b")][..], &[(2i64, 1.0f64)][..])]);
        let want: Vec<u8> = vec![
            0x0a, 0x15, // field 1, len 21
            0x0a, 0x06, 0x0a, 0x01, b'a', 0x12, 0x01, b'b', // label
            0x12, 0x0b, 0x09, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0x10, 0x02, // sample
        ];
        assert_eq!(req, want);
    }

    proptest! {
        #[test]
        fn garbage_never_panics(b in proptest::collection::vec(any::<u8>(), 0..300)) {
            let mut scratch = TimeSeriesRef::default();
            let _ = for_each_series(&b, &mut scratch, |_| Ok(()));
        }
    }
}
