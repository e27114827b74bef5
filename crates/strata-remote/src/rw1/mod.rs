//! Remote write 1.0 (`prometheus.WriteRequest`): field numbers from Prometheus'
//! `prompb/remote.proto` and `types.proto`:
//!
//! - `WriteRequest`: 1 `repeated TimeSeries timeseries`, 3 `repeated MetricMetadata metadata`
//! - `TimeSeries`: 1 `repeated Label labels`, 2 `repeated Sample samples`,
//!   3 `repeated Exemplar exemplars`, 4 `repeated Histogram histograms`
//! - `Label`: 1 `string name`, 2 `string value`
//! - `Sample`: 1 `double value`, 2 `int64 timestamp`
//! - `Exemplar`: 1 `repeated Label labels`, 2 `double value`, 3 `int64 timestamp`
//! - `MetricMetadata`: 1 `MetricType type`, 2 `string metric_family_name`, 4 `string help`,
//!   5 `string unit`
//! - `Histogram`: see [`crate::histogram_wire`].
//!
//! Decoding errors inside a series are wrapped in [`Error::Series`] with its index.

mod encode;

pub use encode::{RequestBuilder, encode_metadata, encode_series, encode_write_request};

pub use crate::series::{
    ExemplarRef, HistogramValue, MetricMetadataRef, MetricType, TimeSeriesRef, WireHistogram,
};

use crate::error::{Error, Result};
use crate::histogram_wire::decode_histogram;
use crate::protowire::{Reader, WIRE_FIXED64, WIRE_LEN, WIRE_VARINT};

/// Calls `f` for each time series of a decoded (decompressed) `WriteRequest`.
/// `scratch` is reused between series to avoid allocations.
pub fn for_each_series<'a>(
    req: &'a [u8],
    scratch: &mut TimeSeriesRef<'a>,
    mut f: impl FnMut(&TimeSeriesRef<'a>) -> Result<()>,
) -> Result<()> {
    let mut r = Reader::new(req, 0);
    let mut index = 0;
    while !r.is_empty() {
        let (field, wire) = r.tag()?;
        if field == 1 && wire == WIRE_LEN {
            let (ts, off) = r.bytes()?;
            decode_series(ts, off, scratch).map_err(|e| e.in_series(index))?;
            index += 1;
            f(scratch)?;
        } else {
            r.skip(wire)?;
        }
    }
    Ok(())
}

/// Calls `f` for each `MetricMetadata` entry (field 3) of a decoded `WriteRequest`.
pub fn for_each_metadata<'a>(
    req: &'a [u8],
    mut f: impl FnMut(&MetricMetadataRef<'a>) -> Result<()>,
) -> Result<()> {
    let mut r = Reader::new(req, 0);
    let mut index = 0;
    while !r.is_empty() {
        let (field, wire) = r.tag()?;
        if field == 3 && wire == WIRE_LEN {
            let (b, off) = r.bytes()?;
            let md = decode_metadata(b, off).map_err(|e| Error::Metadata {
                index,
                source: Box::new(e),
            })?;
            index += 1;
            f(&md)?;
        } else {
            r.skip(wire)?;
        }
    }
    Ok(())
}

fn decode_metadata(buf: &[u8], base: usize) -> Result<MetricMetadataRef<'_>> {
    let mut r = Reader::new(buf, base);
    let mut md = MetricMetadataRef::default();
    while !r.is_empty() {
        match r.tag()? {
            (1, WIRE_VARINT) => md.metric_type = MetricType::from_wire(r.varint()?),
            (2, WIRE_LEN) => md.metric_family_name = r.str("metric family name")?,
            (4, WIRE_LEN) => md.help = r.str("help")?,
            (5, WIRE_LEN) => md.unit = r.str("unit")?,
            (_, w) => r.skip(w)?,
        }
    }
    Ok(md)
}

fn decode_series<'a>(buf: &'a [u8], base: usize, out: &mut TimeSeriesRef<'a>) -> Result<()> {
    out.clear();
    let mut r = Reader::new(buf, base);
    while !r.is_empty() {
        let (field, wire) = r.tag()?;
        match (field, wire) {
            (1, WIRE_LEN) => {
                let label = decode_label(&mut r)?;
                out.labels.push(label);
            }
            (2, WIRE_LEN) => {
                let (b, off) = r.bytes()?;
                let mut sr = Reader::new(b, off);
                let (mut v, mut t) = (0f64, 0i64);
                while !sr.is_empty() {
                    match sr.tag()? {
                        (1, WIRE_FIXED64) => v = sr.double()?,
                        (2, WIRE_VARINT) => t = sr.varint()? as i64,
                        (_, w) => sr.skip(w)?,
                    }
                }
                out.samples.push((t, v));
            }
            (3, WIRE_LEN) => {
                let index = out.exemplars.len();
                let e = decode_exemplar(&mut r).map_err(|e| Error::Exemplar {
                    index,
                    source: Box::new(e),
                })?;
                out.exemplars.push(e);
            }
            (4, WIRE_LEN) => {
                let index = out.histograms.len();
                let (b, off) = r.bytes()?;
                let h = decode_histogram(b, off, false).map_err(|e| Error::Histogram {
                    index,
                    source: Box::new(e),
                })?;
                out.histograms.push(h);
            }
            (_, w) => r.skip(w)?,
        }
    }
    Ok(())
}

fn decode_label<'a>(r: &mut Reader<'a>) -> Result<(&'a str, &'a str)> {
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
    Ok((name, value))
}

fn decode_exemplar<'a>(r: &mut Reader<'a>) -> Result<ExemplarRef<'a>> {
    let (b, off) = r.bytes()?;
    let mut er = Reader::new(b, off);
    let mut e = ExemplarRef::default();
    while !er.is_empty() {
        match er.tag()? {
            (1, WIRE_LEN) => {
                let label = decode_label(&mut er)?;
                e.labels.push(label);
            }
            (2, WIRE_FIXED64) => e.value = er.double()?,
            (3, WIRE_VARINT) => e.timestamp = er.varint()? as i64,
            (_, w) => er.skip(w)?,
        }
    }
    Ok(e)
}

#[cfg(test)]
mod tests;
