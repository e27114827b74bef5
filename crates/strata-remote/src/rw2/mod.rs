//! Remote write 2.0 (`io.prometheus.write.v2.Request`): field numbers from Prometheus'
//! `prompb/io/prometheus/write/v2/types.proto`:
//!
//! - `Request`: 1–3 reserved, 4 `repeated string symbols`, 5 `repeated TimeSeries timeseries`
//! - `TimeSeries`: 1 `repeated uint32 labels_refs` (packed or not), 2 `repeated Sample
//!   samples`, 3 `repeated Histogram histograms`, 4 `repeated Exemplar exemplars`,
//!   5 `Metadata metadata`, 6 `int64 created_timestamp` (pre-release; reserved in the
//!   final spec, still read)
//! - `Sample`: 1 `double value`, 2 `int64 timestamp`, 3 `int64 start_timestamp`
//! - `Exemplar`: 1 `repeated uint32 labels_refs`, 2 `double value`, 3 `int64 timestamp`
//! - `Metadata`: 1 `MetricType type`, 3 `uint32 help_ref`, 4 `uint32 unit_ref`
//! - `Histogram`: see [`crate::histogram_wire`] (with 17 `int64 start_timestamp`).
//!
//! Every string is a reference into `symbols`, whose first element must be `""`. Symbols
//! may appear anywhere in the message, so the decoder reads them in a first pass.
//! Decoding errors inside a series are wrapped in [`Error::Series`] with its index.

mod encode;

pub use encode::{RequestBuilder, encode_request};

pub use crate::series::{
    ExemplarRef, HistogramValue, MetadataRef, MetricType, TimeSeriesRef, WireHistogram,
};

use crate::error::{Error, Result};
use crate::histogram_wire::decode_histogram;
use crate::protowire::{Reader, WIRE_FIXED64, WIRE_LEN, WIRE_VARINT, for_each_varint};

/// The symbols table of a decoded (decompressed) request, checked as the spec requires:
/// when the request has time series, the table must be non-empty and start with `""`.
pub fn symbols(req: &[u8]) -> Result<Vec<&str>> {
    let mut symbols = Vec::new();
    let mut has_series = false;
    let mut r = Reader::new(req, 0);
    while !r.is_empty() {
        match r.tag()? {
            (4, WIRE_LEN) => symbols.push(r.str("symbol")?),
            (5, WIRE_LEN) => {
                has_series = true;
                r.skip(WIRE_LEN)?;
            }
            (_, w) => r.skip(w)?,
        }
    }
    match symbols.first() {
        None if has_series => Err(Error::EmptySymbolTable),
        Some(first) if !first.is_empty() => Err(Error::FirstSymbolNotEmpty {
            first: (*first).to_owned(),
        }),
        _ => Ok(symbols),
    }
}

/// Calls `f` for each time series of a decoded (decompressed) `Request`, with labels,
/// exemplar labels and metadata resolved through the symbols table. `scratch` is reused
/// between series to avoid allocations.
pub fn for_each_series<'a>(
    req: &'a [u8],
    scratch: &mut TimeSeriesRef<'a>,
    mut f: impl FnMut(&TimeSeriesRef<'a>) -> Result<()>,
) -> Result<()> {
    let symbols = symbols(req)?;
    let mut refs = Refs::default();
    let mut r = Reader::new(req, 0);
    let mut index = 0;
    while !r.is_empty() {
        let (field, wire) = r.tag()?;
        if field == 5 && wire == WIRE_LEN {
            let (ts, off) = r.bytes()?;
            decode_series(ts, off, &symbols, &mut refs, scratch).map_err(|e| e.in_series(index))?;
            index += 1;
            f(scratch)?;
        } else {
            r.skip(wire)?;
        }
    }
    Ok(())
}

/// Reference lists collected while a message is read, resolved when it ends (a packed
/// repeated field may come in several pieces).
#[derive(Default)]
struct Refs {
    series: Vec<u32>,
    exemplar: Vec<u32>,
}

fn symbol<'a>(symbols: &[&'a str], what: &'static str, reference: u32) -> Result<&'a str> {
    symbols
        .get(reference as usize)
        .copied()
        .ok_or(Error::SymbolRef {
            what,
            reference,
            symbols: symbols.len(),
        })
}

fn resolve_labels<'a>(
    refs: &[u32],
    symbols: &[&'a str],
    what: &'static str,
    out: &mut Vec<(&'a str, &'a str)>,
) -> Result<()> {
    if !refs.len().is_multiple_of(2) {
        return Err(Error::OddLabelRefs {
            what,
            len: refs.len(),
        });
    }
    out.reserve(refs.len() / 2);
    for pair in refs.chunks_exact(2) {
        out.push((
            symbol(symbols, "label name reference", pair[0])?,
            symbol(symbols, "label value reference", pair[1])?,
        ));
    }
    Ok(())
}

fn push_refs(r: &mut Reader<'_>, wire: u8, out: &mut Vec<u32>) -> Result<()> {
    // uint32 fields keep the low 32 bits of a larger varint, as protobuf specifies.
    for_each_varint(r, wire, |v| {
        out.push(v as u32);
        Ok(())
    })
}

fn decode_series<'a>(
    buf: &'a [u8],
    base: usize,
    symbols: &[&'a str],
    refs: &mut Refs,
    out: &mut TimeSeriesRef<'a>,
) -> Result<()> {
    out.clear();
    refs.series.clear();
    let mut r = Reader::new(buf, base);
    while !r.is_empty() {
        let (field, wire) = r.tag()?;
        match (field, wire) {
            (1, _) => push_refs(&mut r, wire, &mut refs.series)?,
            (2, WIRE_LEN) => {
                let (b, off) = r.bytes()?;
                let mut sr = Reader::new(b, off);
                let (mut v, mut t, mut st) = (0f64, 0i64, 0i64);
                while !sr.is_empty() {
                    match sr.tag()? {
                        (1, WIRE_FIXED64) => v = sr.double()?,
                        (2, WIRE_VARINT) => t = sr.varint()? as i64,
                        (3, WIRE_VARINT) => st = sr.varint()? as i64,
                        (_, w) => sr.skip(w)?,
                    }
                }
                out.push_sample(t, v, st);
            }
            (3, WIRE_LEN) => {
                let index = out.histograms.len();
                let (b, off) = r.bytes()?;
                let h = decode_histogram(b, off, true).map_err(|e| Error::Histogram {
                    index,
                    source: Box::new(e),
                })?;
                out.histograms.push(h);
            }
            (4, WIRE_LEN) => {
                let index = out.exemplars.len();
                let e = decode_exemplar(&mut r, symbols, &mut refs.exemplar).map_err(|e| {
                    Error::Exemplar {
                        index,
                        source: Box::new(e),
                    }
                })?;
                out.exemplars.push(e);
            }
            (5, WIRE_LEN) => decode_metadata(&mut r, symbols, out)?,
            (6, WIRE_VARINT) => out.created_timestamp = r.varint()? as i64,
            (_, w) => r.skip(w)?,
        }
    }
    resolve_labels(&refs.series, symbols, "labels_refs", &mut out.labels)
}

fn decode_exemplar<'a>(
    r: &mut Reader<'a>,
    symbols: &[&'a str],
    refs: &mut Vec<u32>,
) -> Result<ExemplarRef<'a>> {
    let (b, off) = r.bytes()?;
    let mut er = Reader::new(b, off);
    refs.clear();
    let mut e = ExemplarRef::default();
    while !er.is_empty() {
        match er.tag()? {
            (1, w) => push_refs(&mut er, w, refs)?,
            (2, WIRE_FIXED64) => e.value = er.double()?,
            (3, WIRE_VARINT) => e.timestamp = er.varint()? as i64,
            (_, w) => er.skip(w)?,
        }
    }
    resolve_labels(refs, symbols, "exemplar labels_refs", &mut e.labels)?;
    Ok(e)
}

/// Merges one `Metadata` message into the series' (a repeated embedded message merges,
/// field by field, as protobuf specifies).
fn decode_metadata<'a>(
    r: &mut Reader<'a>,
    symbols: &[&'a str],
    out: &mut TimeSeriesRef<'a>,
) -> Result<()> {
    let (b, off) = r.bytes()?;
    let mut mr = Reader::new(b, off);
    while !mr.is_empty() {
        match mr.tag()? {
            (1, WIRE_VARINT) => out.metadata.metric_type = MetricType::from_wire(mr.varint()?),
            (3, WIRE_VARINT) => {
                out.metadata.help = symbol(symbols, "metadata help_ref", mr.varint()? as u32)?;
            }
            (4, WIRE_VARINT) => {
                out.metadata.unit = symbol(symbols, "metadata unit_ref", mr.varint()? as u32)?;
            }
            (_, w) => mr.skip(w)?,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
