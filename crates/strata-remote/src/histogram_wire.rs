//! The native `Histogram` message, identical in 1.0 (`prompb/types.proto`) and 2.0
//! (`io/prometheus/write/v2/types.proto`) except for 2.0's `start_timestamp`:
//!
//! | field | type | name |
//! | --- | --- | --- |
//! | 1 / 2 | uint64 / double (oneof `count`) | `count_int` / `count_float` |
//! | 3 | double | `sum` |
//! | 4 | sint32 | `schema` |
//! | 5 | double | `zero_threshold` |
//! | 6 / 7 | uint64 / double (oneof `zero_count`) | `zero_count_int` / `zero_count_float` |
//! | 8, 11 | repeated `BucketSpan` {1 sint32 offset, 2 uint32 length} | negative / positive spans |
//! | 9, 12 | repeated sint64 | negative / positive deltas (integer histograms) |
//! | 10, 13 | repeated double | negative / positive counts (float histograms) |
//! | 14 | enum `ResetHint` (0 unknown, 1 yes, 2 no, 3 gauge) | `reset_hint` |
//! | 15 | int64 | `timestamp` |
//! | 16 | repeated double | `custom_values` |
//! | 17 | int64 | `start_timestamp` (2.0 only) |
//!
//! As in Prometheus, the histogram is a float histogram iff `count_float` was sent; the
//! other kind's bucket fields and a `zero_count` of the other kind are ignored (read as 0).

use strata_model::histogram::{CounterResetHint, FloatHistogram, Histogram, Span};

use crate::error::Result;
use crate::protowire::{
    Reader, WIRE_FIXED64, WIRE_LEN, WIRE_VARINT, Writer, extend_doubles, for_each_varint,
    unzigzag32, unzigzag64,
};
use crate::series::{HistogramValue, WireHistogram};

fn reset_hint_from_wire(v: u64) -> CounterResetHint {
    match v {
        1 => CounterResetHint::CounterReset,
        2 => CounterResetHint::NotCounterReset,
        3 => CounterResetHint::Gauge,
        _ => CounterResetHint::Unknown,
    }
}

fn reset_hint_to_wire(h: CounterResetHint) -> u64 {
    match h {
        CounterResetHint::Unknown => 0,
        CounterResetHint::CounterReset => 1,
        CounterResetHint::NotCounterReset => 2,
        CounterResetHint::Gauge => 3,
    }
}

#[derive(Clone, Copy)]
enum Count {
    Int(u64),
    Float(f64),
}

/// Decodes one `Histogram` message. `with_start_timestamp` reads field 17 (2.0).
pub(crate) fn decode_histogram(
    buf: &[u8],
    base: usize,
    with_start_timestamp: bool,
) -> Result<WireHistogram> {
    let mut r = Reader::new(buf, base);
    let mut count = Count::Int(0);
    let mut zero_count = Count::Int(0);
    let (mut sum, mut zero_threshold, mut schema) = (0f64, 0f64, 0i32);
    let (mut timestamp, mut start_timestamp) = (0i64, 0i64);
    let mut hint = CounterResetHint::Unknown;
    let (mut pos_spans, mut neg_spans) = (Vec::new(), Vec::new());
    let (mut pos_deltas, mut neg_deltas) = (Vec::new(), Vec::new());
    let (mut pos_counts, mut neg_counts) = (Vec::new(), Vec::new());
    let mut custom_values = Vec::new();
    while !r.is_empty() {
        let (field, wire) = r.tag()?;
        match (field, wire) {
            (1, WIRE_VARINT) => count = Count::Int(r.varint()?),
            (2, WIRE_FIXED64) => count = Count::Float(r.double()?),
            (3, WIRE_FIXED64) => sum = r.double()?,
            (4, WIRE_VARINT) => schema = unzigzag32(r.varint()?),
            (5, WIRE_FIXED64) => zero_threshold = r.double()?,
            (6, WIRE_VARINT) => zero_count = Count::Int(r.varint()?),
            (7, WIRE_FIXED64) => zero_count = Count::Float(r.double()?),
            (8, WIRE_LEN) => neg_spans.push(decode_span(&mut r)?),
            (11, WIRE_LEN) => pos_spans.push(decode_span(&mut r)?),
            (9, _) => for_each_varint(&mut r, wire, |v| {
                neg_deltas.push(unzigzag64(v));
                Ok(())
            })?,
            (12, _) => for_each_varint(&mut r, wire, |v| {
                pos_deltas.push(unzigzag64(v));
                Ok(())
            })?,
            (10, _) => extend_doubles(&mut r, wire, &mut neg_counts)?,
            (13, _) => extend_doubles(&mut r, wire, &mut pos_counts)?,
            (14, WIRE_VARINT) => hint = reset_hint_from_wire(r.varint()?),
            (15, WIRE_VARINT) => timestamp = r.varint()? as i64,
            (16, _) => extend_doubles(&mut r, wire, &mut custom_values)?,
            (17, WIRE_VARINT) if with_start_timestamp => start_timestamp = r.varint()? as i64,
            (_, w) => r.skip(w)?,
        }
    }
    let value = match count {
        Count::Float(count) => HistogramValue::Float(FloatHistogram {
            counter_reset_hint: hint,
            schema,
            zero_threshold,
            zero_count: match zero_count {
                Count::Float(z) => z,
                Count::Int(_) => 0.0,
            },
            count,
            sum,
            positive_spans: pos_spans,
            negative_spans: neg_spans,
            positive_buckets: pos_counts,
            negative_buckets: neg_counts,
            custom_values,
        }),
        Count::Int(count) => HistogramValue::Int(Histogram {
            counter_reset_hint: hint,
            schema,
            zero_threshold,
            zero_count: match zero_count {
                Count::Int(z) => z,
                Count::Float(_) => 0,
            },
            count,
            sum,
            positive_spans: pos_spans,
            negative_spans: neg_spans,
            positive_deltas: pos_deltas,
            negative_deltas: neg_deltas,
            custom_values,
        }),
    };
    Ok(WireHistogram {
        timestamp,
        start_timestamp,
        value,
    })
}

fn decode_span(r: &mut Reader<'_>) -> Result<Span> {
    let (b, off) = r.bytes()?;
    let mut sr = Reader::new(b, off);
    let mut span = Span::default();
    while !sr.is_empty() {
        match sr.tag()? {
            (1, WIRE_VARINT) => span.offset = unzigzag32(sr.varint()?),
            (2, WIRE_VARINT) => span.length = sr.varint()? as u32,
            (_, w) => sr.skip(w)?,
        }
    }
    Ok(span)
}

/// Encodes one `Histogram` message as field `field` of `w`. Proto3 defaults are left
/// out, except the `count` and `zero_count` oneofs, which are always written (they say
/// whether the histogram is an integer or a float one).
pub(crate) fn encode_histogram(
    w: &mut Writer,
    field: u32,
    h: &WireHistogram,
    with_start_timestamp: bool,
) {
    w.message(field, |w| {
        match &h.value {
            HistogramValue::Int(v) => {
                w.uint64(1, v.count);
                encode_common(w, v.sum, v.schema, v.zero_threshold);
                w.uint64(6, v.zero_count);
                encode_spans(w, 8, &v.negative_spans);
                w.packed_varints(9, v.negative_deltas.iter().map(|d| zigzag(*d)));
                encode_spans(w, 11, &v.positive_spans);
                w.packed_varints(12, v.positive_deltas.iter().map(|d| zigzag(*d)));
                w.uint64_nonzero(14, reset_hint_to_wire(v.counter_reset_hint));
            }
            HistogramValue::Float(v) => {
                w.double(2, v.count);
                encode_common(w, v.sum, v.schema, v.zero_threshold);
                w.double(7, v.zero_count);
                encode_spans(w, 8, &v.negative_spans);
                w.packed_doubles(10, &v.negative_buckets);
                encode_spans(w, 11, &v.positive_spans);
                w.packed_doubles(13, &v.positive_buckets);
                w.uint64_nonzero(14, reset_hint_to_wire(v.counter_reset_hint));
            }
        }
        w.int64_nonzero(15, h.timestamp);
        let custom = match &h.value {
            HistogramValue::Int(v) => &v.custom_values,
            HistogramValue::Float(v) => &v.custom_values,
        };
        w.packed_doubles(16, custom);
        if with_start_timestamp {
            w.int64_nonzero(17, h.start_timestamp);
        }
    });
}

fn zigzag(v: i64) -> u64 {
    crate::protowire::zigzag64(v)
}

fn encode_common(w: &mut Writer, sum: f64, schema: i32, zero_threshold: f64) {
    w.double_nonzero(3, sum);
    if schema != 0 {
        w.sint32(4, schema);
    }
    w.double_nonzero(5, zero_threshold);
}

fn encode_spans(w: &mut Writer, field: u32, spans: &[Span]) {
    for s in spans {
        w.message(field, |w| {
            if s.offset != 0 {
                w.sint32(1, s.offset);
            }
            w.uint64_nonzero(2, u64::from(s.length));
        });
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn integer_histogram_golden_bytes() {
        let h = WireHistogram {
            timestamp: 1,
            start_timestamp: 0,
            value: HistogramValue::Int(Histogram {
                count: 3,
                schema: -1,
                zero_count: 1,
                positive_spans: vec![Span {
                    offset: -2,
                    length: 2,
                }],
                positive_deltas: vec![1, 0],
                counter_reset_hint: CounterResetHint::Gauge,
                ..Default::default()
            }),
        };
        let mut w = Writer::default();
        encode_histogram(&mut w, 3, &h, true);
        let want = vec![
            0x1a, 20, // field 3, length 20
            0x08, 3, // count_int 3
            0x20, 1, // schema sint32 -1 -> zigzag 1
            0x30, 1, // zero_count_int 1
            0x5a, 4, 0x08, 3, 0x10, 2, // positive span {offset -2 (zigzag 3), length 2}
            0x62, 2, 2, 0, // positive_deltas packed [1, 0] zigzag [2, 0]
            0x70, 3, // reset_hint GAUGE
            0x78, 1, // timestamp 1
        ];
        assert_eq!(w.buf, want);
        let mut r = Reader::new(&w.buf, 0);
        r.tag().unwrap();
        let (b, off) = r.bytes().unwrap();
        assert_eq!(decode_histogram(b, off, true).unwrap(), h);
    }

    #[test]
    fn float_histogram_and_unpacked_fields() {
        // count_float 2.5, positive_counts unpacked [1.5] then packed [1.0], custom value 4.
        let mut w = Writer::default();
        w.double(2, 2.5);
        w.double(13, 1.5);
        w.packed_doubles(13, &[1.0]);
        w.double(16, 4.0);
        w.sint32(4, -53);
        w.int64(17, 9);
        let h = decode_histogram(&w.buf, 0, true).unwrap();
        let HistogramValue::Float(f) = &h.value else {
            panic!("not float")
        };
        assert_eq!(f.count, 2.5);
        assert_eq!(f.positive_buckets, vec![1.5, 1.0]);
        assert_eq!(f.custom_values, vec![4.0]);
        assert_eq!(f.schema, -53);
        assert_eq!(h.start_timestamp, 9);
        // 1.0 has no field 17.
        assert_eq!(
            decode_histogram(&w.buf, 0, false).unwrap().start_timestamp,
            0
        );
    }

    #[test]
    fn mismatched_zero_count_kind_reads_as_zero() {
        let mut w = Writer::default();
        w.uint64(1, 5);
        w.double(7, 2.0);
        let h = decode_histogram(&w.buf, 0, true).unwrap();
        assert!(matches!(h.value, HistogramValue::Int(ref i) if i.zero_count == 0 && i.count == 5));
    }

    #[test]
    fn truncated_packed_doubles_is_an_error() {
        let buf = [0x6a, 3, 0, 0, 0];
        let e = decode_histogram(&buf, 10, true).unwrap_err().to_string();
        assert!(e.contains("not a multiple of 8"), "{e}");
    }
}
