//! The native-histogram sample records of the WAL, byte-compatible with Prometheus'
//! `HistogramSamples` (7), `FloatHistogramSamples` (8) and their custom-bucket variants
//! (9, 10), which Prometheus writes for histograms with schema -53.
//!
//! Layout: the type byte, `first ref <be64>`, `first t <be64>`, then per sample
//! `ref - first ref <varint>`, `t - first t <varint>` and the histogram:
//! `hint <byte>`, `schema <varint>`, `zero threshold <be64 float>`, zero count and count
//! (`<uvarint>` for integer histograms, `<be64 float>` for float ones), `sum <be64
//! float>`, positive and negative spans (`n <uvarint>`, then `offset <varint>`,
//! `length <uvarint>`), positive and negative buckets (`n <uvarint>`, then `<varint>`
//! deltas or `<be64 float>` counts), and for schema -53 the custom bounds (`n <uvarint>`,
//! `<be64 float>` each).

use strata_model::histogram::{CounterResetHint, FloatHistogram, Histogram, Span};
use tracing::warn;

use super::record::{RecordType, record_type};
use crate::chunkenc::histogram::{
    CUSTOM_BUCKETS_SCHEMA, EXPONENTIAL_SCHEMA_MAX_RESERVED, EXPONENTIAL_SCHEMA_MIN_RESERVED,
};
use crate::encoding::{DecBuf, EncBuf};
use crate::error::{Error, Result};

const WHAT: &str = "WAL histogram record";

/// One integer histogram sample of the series `series_ref`.
#[derive(Debug, Clone, PartialEq)]
pub struct RefHistogramSample {
    pub series_ref: u64,
    pub t: i64,
    pub h: Histogram,
}

/// One float histogram sample of the series `series_ref`.
#[derive(Debug, Clone, PartialEq)]
pub struct RefFloatHistogramSample {
    pub series_ref: u64,
    pub t: i64,
    pub h: FloatHistogram,
}

fn hint_byte(h: CounterResetHint) -> u8 {
    match h {
        CounterResetHint::Unknown => 0,
        CounterResetHint::CounterReset => 1,
        CounterResetHint::NotCounterReset => 2,
        CounterResetHint::Gauge => 3,
    }
}

fn hint_of(b: u8) -> CounterResetHint {
    match b {
        1 => CounterResetHint::CounterReset,
        2 => CounterResetHint::NotCounterReset,
        3 => CounterResetHint::Gauge,
        _ => CounterResetHint::Unknown,
    }
}

fn put_spans(e: &mut EncBuf, spans: &[Span]) {
    e.put_uvarint(spans.len() as u64);
    for s in spans {
        e.put_varint(i64::from(s.offset));
        e.put_uvarint(u64::from(s.length));
    }
}

fn put_custom(e: &mut EncBuf, schema: i32, custom_values: &[f64]) {
    if schema == CUSTOM_BUCKETS_SCHEMA {
        e.put_uvarint(custom_values.len() as u64);
        for &v in custom_values {
            e.put_be64_f64(v);
        }
    }
}

fn put_header(e: &mut EncBuf, ty: RecordType, first: Option<(u64, i64)>) {
    e.put_byte(ty.byte());
    if let Some((r, t)) = first {
        e.put_be64(r);
        e.put_be64(t as u64);
    }
}

/// Appends a whole integer histogram record to `buf`: `HistogramSamples`, or
/// `CustomBucketsHistogramSamples` when `custom` (the caller splits samples by
/// `schema == -53`, as Prometheus does).
pub fn encode_histogram_samples(
    samples: &[(u64, i64, &Histogram)],
    custom: bool,
    buf: &mut Vec<u8>,
) {
    let mut e = EncBuf {
        buf: std::mem::take(buf),
    };
    let ty = if custom {
        RecordType::CustomBucketsHistogramSamples
    } else {
        RecordType::HistogramSamples
    };
    let first = samples.first().map(|s| (s.0, s.1));
    put_header(&mut e, ty, first);
    if let Some((r0, t0)) = first {
        for &(r, t, h) in samples {
            e.put_varint((r as i64).wrapping_sub(r0 as i64));
            e.put_varint(t.wrapping_sub(t0));
            e.put_byte(hint_byte(h.counter_reset_hint));
            e.put_varint(i64::from(h.schema));
            e.put_be64_f64(h.zero_threshold);
            e.put_uvarint(h.zero_count);
            e.put_uvarint(h.count);
            e.put_be64_f64(h.sum);
            put_spans(&mut e, &h.positive_spans);
            put_spans(&mut e, &h.negative_spans);
            for deltas in [&h.positive_deltas, &h.negative_deltas] {
                e.put_uvarint(deltas.len() as u64);
                for &d in deltas.iter() {
                    e.put_varint(d);
                }
            }
            put_custom(&mut e, h.schema, &h.custom_values);
        }
    }
    *buf = e.buf;
}

/// Appends a whole float histogram record to `buf`: `FloatHistogramSamples`, or
/// `CustomBucketsFloatHistogramSamples` when `custom`.
pub fn encode_float_histogram_samples(
    samples: &[(u64, i64, &FloatHistogram)],
    custom: bool,
    buf: &mut Vec<u8>,
) {
    let mut e = EncBuf {
        buf: std::mem::take(buf),
    };
    let ty = if custom {
        RecordType::CustomBucketsFloatHistogramSamples
    } else {
        RecordType::FloatHistogramSamples
    };
    let first = samples.first().map(|s| (s.0, s.1));
    put_header(&mut e, ty, first);
    if let Some((r0, t0)) = first {
        for &(r, t, h) in samples {
            e.put_varint((r as i64).wrapping_sub(r0 as i64));
            e.put_varint(t.wrapping_sub(t0));
            e.put_byte(hint_byte(h.counter_reset_hint));
            e.put_varint(i64::from(h.schema));
            e.put_be64_f64(h.zero_threshold);
            e.put_be64_f64(h.zero_count);
            e.put_be64_f64(h.count);
            e.put_be64_f64(h.sum);
            put_spans(&mut e, &h.positive_spans);
            put_spans(&mut e, &h.negative_spans);
            for buckets in [&h.positive_buckets, &h.negative_buckets] {
                e.put_uvarint(buckets.len() as u64);
                for &b in buckets.iter() {
                    e.put_be64_f64(b);
                }
            }
            put_custom(&mut e, h.schema, &h.custom_values);
        }
    }
    *buf = e.buf;
}

/// A length prefix, refused when `remaining` bytes could not hold that many items.
fn length(d: &mut DecBuf<'_>) -> Result<usize> {
    let n = d.uvarint()?;
    if n > d.remaining() as u64 {
        return Err(Error::corruption(
            WHAT,
            d.position() as u64,
            format!("{n} items cannot fit the record"),
        ));
    }
    Ok(n as usize)
}

fn spans(d: &mut DecBuf<'_>) -> Result<Vec<Span>> {
    let n = length(d)?;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let offset = d.varint()?;
        let length = d.uvarint32()?;
        let offset = i32::try_from(offset).map_err(|_| {
            Error::corruption(WHAT, d.position() as u64, format!("span offset {offset}"))
        })?;
        out.push(Span { offset, length });
    }
    Ok(out)
}

fn schema(d: &mut DecBuf<'_>) -> Result<i32> {
    let s = d.varint()?;
    i32::try_from(s)
        .map_err(|_| Error::corruption(WHAT, d.position() as u64, format!("schema {s}")))
}

fn known_schema(s: i32) -> bool {
    s == CUSTOM_BUCKETS_SCHEMA
        || (EXPONENTIAL_SCHEMA_MIN_RESERVED..=EXPONENTIAL_SCHEMA_MAX_RESERVED).contains(&s)
}

fn custom(d: &mut DecBuf<'_>, schema: i32) -> Result<Vec<f64>> {
    if schema != CUSTOM_BUCKETS_SCHEMA {
        return Ok(Vec::new());
    }
    let n = length(d)?;
    (0..n).map(|_| d.be64_f64()).collect()
}

/// The body after the type byte, with the base ref and time; `None` for an empty record.
fn base<'a>(rec: &'a [u8], want: [RecordType; 2]) -> Result<Option<(DecBuf<'a>, u64, i64)>> {
    let got = record_type(rec);
    if !want.contains(&got) {
        return Err(Error::Decode(format!(
            "expected a {:?} WAL record, got {got:?}",
            want[0]
        )));
    }
    let mut d = DecBuf::new(&rec[1..], WHAT, 1);
    if d.is_empty() {
        return Ok(None);
    }
    let r0 = d.be64()?;
    let t0 = d.be64()? as i64;
    Ok(Some((d, r0, t0)))
}

/// Decodes a `HistogramSamples` or `CustomBucketsHistogramSamples` record, appending to
/// `out`. Histograms with a schema Prometheus does not know are skipped, as Prometheus
/// skips them.
pub fn decode_histogram_samples(rec: &[u8], out: &mut Vec<RefHistogramSample>) -> Result<()> {
    let want = [
        RecordType::HistogramSamples,
        RecordType::CustomBucketsHistogramSamples,
    ];
    let Some((mut d, r0, t0)) = base(rec, want)? else {
        return Ok(());
    };
    while !d.is_empty() {
        let series_ref = (r0 as i64).wrapping_add(d.varint()?) as u64;
        let t = t0.wrapping_add(d.varint()?);
        let counter_reset_hint = hint_of(d.byte()?);
        let schema = schema(&mut d)?;
        let zero_threshold = d.be64_f64()?;
        let zero_count = d.uvarint()?;
        let count = d.uvarint()?;
        let sum = d.be64_f64()?;
        let positive_spans = spans(&mut d)?;
        let negative_spans = spans(&mut d)?;
        let mut sides = [Vec::new(), Vec::new()];
        for side in sides.iter_mut() {
            let n = length(&mut d)?;
            *side = (0..n).map(|_| d.varint()).collect::<Result<_>>()?;
        }
        let custom_values = custom(&mut d, schema)?;
        if !known_schema(schema) {
            warn!(
                schema,
                t, "skipping histogram with unknown schema in WAL record"
            );
            continue;
        }
        let [positive_deltas, negative_deltas] = sides;
        out.push(RefHistogramSample {
            series_ref,
            t,
            h: Histogram {
                counter_reset_hint,
                schema,
                zero_threshold,
                zero_count,
                count,
                sum,
                positive_spans,
                negative_spans,
                positive_deltas,
                negative_deltas,
                custom_values,
            },
        });
    }
    Ok(())
}

/// Decodes a `FloatHistogramSamples` or `CustomBucketsFloatHistogramSamples` record,
/// appending to `out`; unknown schemas are skipped.
pub fn decode_float_histogram_samples(
    rec: &[u8],
    out: &mut Vec<RefFloatHistogramSample>,
) -> Result<()> {
    let want = [
        RecordType::FloatHistogramSamples,
        RecordType::CustomBucketsFloatHistogramSamples,
    ];
    let Some((mut d, r0, t0)) = base(rec, want)? else {
        return Ok(());
    };
    while !d.is_empty() {
        let series_ref = (r0 as i64).wrapping_add(d.varint()?) as u64;
        let t = t0.wrapping_add(d.varint()?);
        let counter_reset_hint = hint_of(d.byte()?);
        let schema = schema(&mut d)?;
        let zero_threshold = d.be64_f64()?;
        let zero_count = d.be64_f64()?;
        let count = d.be64_f64()?;
        let sum = d.be64_f64()?;
        let positive_spans = spans(&mut d)?;
        let negative_spans = spans(&mut d)?;
        let mut sides = [Vec::new(), Vec::new()];
        for side in sides.iter_mut() {
            let n = length(&mut d)?;
            *side = (0..n).map(|_| d.be64_f64()).collect::<Result<_>>()?;
        }
        let custom_values = custom(&mut d, schema)?;
        if !known_schema(schema) {
            warn!(
                schema,
                t, "skipping histogram with unknown schema in WAL record"
            );
            continue;
        }
        let [positive_buckets, negative_buckets] = sides;
        out.push(RefFloatHistogramSample {
            series_ref,
            t,
            h: FloatHistogram {
                counter_reset_hint,
                schema,
                zero_threshold,
                zero_count,
                count,
                sum,
                positive_spans,
                negative_spans,
                positive_buckets,
                negative_buckets,
                custom_values,
            },
        });
    }
    Ok(())
}

#[cfg(test)]
#[path = "histogram_record_tests.rs"]
mod tests;
