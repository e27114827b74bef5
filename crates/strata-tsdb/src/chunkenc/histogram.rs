//! Decoding of Prometheus native histogram chunks: encoding 2 (integer histograms) and
//! encoding 3 (float histograms).
//!
//! Both share a 3-byte header — the sample count (BE16) and a flags byte whose top two
//! bits are the counter reset header — followed by a bit stream. The first sample
//! carries the bucket layout (zero threshold, schema, positive and negative spans and,
//! for the custom-buckets schema, the custom bounds) that all samples of the chunk share.
//!
//! Integer chunks store the timestamp, count and zero count raw for the first sample
//! and as delta-of-deltas after; the sum is raw then XOR-encoded; buckets are stored as
//! deltas between neighbouring buckets, raw for the first sample and as per-bucket
//! delta-of-deltas after. Float chunks store the timestamp the same way and every
//! other value (count, zero count, sum, absolute bucket counts) raw for the first
//! sample and XOR-encoded after.

use super::histogram_bits::{BitReader, XorState};
use crate::error::{Error, Result};

/// Chunk encoding of integer native histograms.
pub const ENC_HISTOGRAM: u8 = 2;
/// Chunk encoding of float native histograms.
pub const ENC_FLOAT_HISTOGRAM: u8 = 3;

/// Counter reset header bits (the top two bits of the flags byte).
pub const HEADER_UNKNOWN_COUNTER_RESET: u8 = 0b0000_0000;
pub const HEADER_COUNTER_RESET: u8 = 0b1000_0000;
pub const HEADER_NOT_COUNTER_RESET: u8 = 0b0100_0000;
pub const HEADER_GAUGE: u8 = 0b1100_0000;
const HEADER_MASK: u8 = 0b1100_0000;
const HEADER_SIZE: usize = 3;

/// Counter reset hints of a decoded histogram, with Prometheus' numbering.
pub const HINT_UNKNOWN: CounterResetHint = CounterResetHint::Unknown;
pub const HINT_COUNTER_RESET: CounterResetHint = CounterResetHint::CounterReset;
pub const HINT_NOT_COUNTER_RESET: CounterResetHint = CounterResetHint::NotCounterReset;
pub const HINT_GAUGE: CounterResetHint = CounterResetHint::Gauge;

/// The schema of histograms with custom bucket bounds.
pub const CUSTOM_BUCKETS_SCHEMA: i32 = -53;
/// Exponential schemas a chunk may hold (including the reserved ones).
pub const EXPONENTIAL_SCHEMA_MIN_RESERVED: i32 = -9;
pub const EXPONENTIAL_SCHEMA_MAX_RESERVED: i32 = 52;

/// The bit pattern of Prometheus' staleness marker.
pub const STALE_NAN_BITS: u64 = 0x7ff0_0000_0000_0002;

pub use strata_model::histogram::{CounterResetHint, FloatHistogram, Histogram, Span};

/// One decoded sample of a histogram chunk.
#[derive(Debug, Clone, PartialEq)]
pub struct HistogramSample {
    pub t: i64,
    pub h: FloatHistogram,
}

/// The bucket layout shared by all samples of a chunk.
#[derive(Debug, Clone, Default)]
struct Layout {
    schema: i32,
    zero_threshold: f64,
    positive_spans: Vec<Span>,
    negative_spans: Vec<Span>,
    custom_values: Vec<f64>,
}

fn read_spans(br: &mut BitReader<'_>) -> Result<Vec<Span>> {
    let n = br.read_varbit_uint()?;
    // Each span takes at least two bits.
    if n > br.remaining_bits() / 2 {
        return Err(br.err(format!("{n} spans cannot fit the chunk")));
    }
    let mut spans = Vec::with_capacity(n as usize);
    for _ in 0..n {
        let length = br.read_varbit_uint()?;
        let offset = br.read_varbit_int()?;
        let length =
            u32::try_from(length).map_err(|_| br.err(format!("span length {length} too big")))?;
        let offset =
            i32::try_from(offset).map_err(|_| br.err(format!("span offset {offset} too big")))?;
        spans.push(Span { offset, length });
    }
    Ok(spans)
}

fn read_layout(br: &mut BitReader<'_>) -> Result<Layout> {
    let zero_threshold = br.read_zero_threshold()?;
    let schema = br.read_varbit_int()?;
    let schema = i32::try_from(schema)
        .ok()
        .filter(|s| {
            *s == CUSTOM_BUCKETS_SCHEMA
                || (EXPONENTIAL_SCHEMA_MIN_RESERVED..=EXPONENTIAL_SCHEMA_MAX_RESERVED).contains(s)
        })
        .ok_or_else(|| br.err(format!("unknown histogram schema {schema}")))?;
    let positive_spans = read_spans(br)?;
    let negative_spans = read_spans(br)?;
    let mut custom_values = Vec::new();
    if schema == CUSTOM_BUCKETS_SCHEMA {
        let n = br.read_varbit_uint()?;
        if n > br.remaining_bits() {
            return Err(br.err(format!("{n} custom bounds cannot fit the chunk")));
        }
        custom_values.reserve(n as usize);
        for _ in 0..n {
            custom_values.push(br.read_custom_bound()?);
        }
    }
    Ok(Layout {
        schema,
        zero_threshold,
        positive_spans,
        negative_spans,
        custom_values,
    })
}

/// The number of buckets the spans describe, refusing counts the remaining data
/// could not hold at `bits_per_bucket` bits each.
fn bucket_count(br: &BitReader<'_>, spans: &[Span], bits_per_bucket: u64) -> Result<usize> {
    let n: u64 = spans.iter().map(|s| u64::from(s.length)).sum();
    if n.saturating_mul(bits_per_bucket) > br.remaining_bits() {
        return Err(br.err(format!("{n} buckets cannot fit the chunk")));
    }
    Ok(n as usize)
}

fn counter_reset_hint(header: u8, num_read: usize) -> CounterResetHint {
    match header {
        HEADER_GAUGE => HINT_GAUGE,
        _ if num_read > 1 => HINT_NOT_COUNTER_RESET,
        HEADER_COUNTER_RESET => HINT_COUNTER_RESET,
        _ => HINT_UNKNOWN,
    }
}

/// Splits the chunk header: the sample count, the counter reset header, the bit stream.
fn header(data: &[u8]) -> Result<(usize, u8, &[u8])> {
    match data {
        [a, b, flags, rest @ ..] => Ok((
            usize::from(u16::from_be_bytes([*a, *b])),
            flags & HEADER_MASK,
            rest,
        )),
        _ => Err(Error::corruption(
            "histogram chunk",
            0,
            format!("chunk of {} bytes is shorter than its header", data.len()),
        )),
    }
}

fn sample(
    layout: &Layout,
    header: u8,
    num_read: usize,
    t: i64,
    stats: (f64, f64, f64),
    positive_buckets: Vec<f64>,
    negative_buckets: Vec<f64>,
) -> HistogramSample {
    let (count, zero_count, sum) = stats;
    if sum.to_bits() == STALE_NAN_BITS {
        return HistogramSample {
            t,
            h: FloatHistogram {
                sum,
                ..FloatHistogram::default()
            },
        };
    }
    HistogramSample {
        t,
        h: FloatHistogram {
            counter_reset_hint: counter_reset_hint(header, num_read),
            schema: layout.schema,
            zero_threshold: layout.zero_threshold,
            zero_count,
            count,
            sum,
            positive_spans: layout.positive_spans.clone(),
            negative_spans: layout.negative_spans.clone(),
            positive_buckets,
            negative_buckets,
            custom_values: layout.custom_values.clone(),
        },
    }
}

/// State of one delta-of-delta encoded integer.
#[derive(Debug, Clone, Copy, Default)]
struct Dod {
    value: i64,
    delta: i64,
}

impl Dod {
    fn read(&mut self, br: &mut BitReader<'_>) -> Result<()> {
        let dod = br.read_varbit_int()?;
        self.delta = self.delta.wrapping_add(dod);
        self.value = self.value.wrapping_add(self.delta);
        Ok(())
    }
}

/// Decodes every sample of an integer histogram chunk (encoding 2), with bucket
/// deltas as stored. Hints follow Prometheus: gauge in a gauge chunk, not-a-reset after
/// the first sample, unknown (or the header's reset) for the first.
pub fn decode_integer_histograms(data: &[u8]) -> Result<Vec<(i64, Histogram)>> {
    let (n, hdr, stream) = header(data)?;
    let mut out = Vec::new();
    if n == 0 {
        return Ok(out);
    }
    let mut br = BitReader::new(stream, HEADER_SIZE as u64);
    let layout = read_layout(&mut br)?;
    let np = bucket_count(&br, &layout.positive_spans, 1)?;
    let nn = bucket_count(&br, &layout.negative_spans, 1)?;

    let mut t = Dod {
        value: br.read_varbit_int()?,
        delta: 0,
    };
    let mut cnt = Dod {
        value: br.read_varbit_uint()? as i64,
        delta: 0,
    };
    let mut zcnt = Dod {
        value: br.read_varbit_uint()? as i64,
        delta: 0,
    };
    let mut sum = XorState {
        value: f64::from_bits(br.read_bits(64)?),
        ..XorState::default()
    };
    let mut pos = vec![Dod::default(); np];
    let mut neg = vec![Dod::default(); nn];
    for b in pos.iter_mut().chain(neg.iter_mut()) {
        b.value = br.read_varbit_int()?;
    }
    out.reserve(n.min(br.remaining_bits() as usize / 4 + 1));
    for i in 1..=n {
        if i > 1 {
            t.read(&mut br)?;
            cnt.read(&mut br)?;
            zcnt.read(&mut br)?;
            br.read_xor(&mut sum)?;
            if sum.value.to_bits() != STALE_NAN_BITS {
                for b in pos.iter_mut().chain(neg.iter_mut()) {
                    b.read(&mut br)?;
                }
            }
        }
        if sum.value.to_bits() == STALE_NAN_BITS {
            out.push((
                t.value,
                Histogram {
                    sum: sum.value,
                    ..Histogram::default()
                },
            ));
            continue;
        }
        out.push((
            t.value,
            Histogram {
                counter_reset_hint: counter_reset_hint(hdr, i),
                schema: layout.schema,
                zero_threshold: layout.zero_threshold,
                zero_count: zcnt.value as u64,
                count: cnt.value as u64,
                sum: sum.value,
                positive_spans: layout.positive_spans.clone(),
                negative_spans: layout.negative_spans.clone(),
                positive_deltas: pos.iter().map(|b| b.value).collect(),
                negative_deltas: neg.iter().map(|b| b.value).collect(),
                custom_values: layout.custom_values.clone(),
            },
        ));
    }
    Ok(out)
}

fn decode_integer(data: &[u8]) -> Result<Vec<HistogramSample>> {
    Ok(decode_integer_histograms(data)?
        .into_iter()
        .map(|(t, h)| HistogramSample { t, h: h.to_float() })
        .collect())
}

fn decode_float(data: &[u8]) -> Result<Vec<HistogramSample>> {
    let (n, hdr, stream) = header(data)?;
    let mut out = Vec::new();
    if n == 0 {
        return Ok(out);
    }
    let mut br = BitReader::new(stream, HEADER_SIZE as u64);
    let layout = read_layout(&mut br)?;
    let np = bucket_count(&br, &layout.positive_spans, 64)?;
    let nn = bucket_count(&br, &layout.negative_spans, 64)?;

    let mut t = Dod {
        value: br.read_varbit_int()?,
        delta: 0,
    };
    let mut raw = || -> Result<XorState> {
        Ok(XorState {
            value: f64::from_bits(br.read_bits(64)?),
            ..XorState::default()
        })
    };
    let mut cnt = raw()?;
    let mut zcnt = raw()?;
    let mut sum = raw()?;
    let mut buckets = Vec::with_capacity(np + nn);
    for _ in 0..np + nn {
        buckets.push(raw()?);
    }
    out.reserve(n.min(br.remaining_bits() as usize / 4 + 1));
    for i in 1..=n {
        if i > 1 {
            t.read(&mut br)?;
            br.read_xor(&mut cnt)?;
            br.read_xor(&mut zcnt)?;
            br.read_xor(&mut sum)?;
            if sum.value.to_bits() != STALE_NAN_BITS {
                for b in buckets.iter_mut() {
                    br.read_xor(b)?;
                }
            }
        }
        let (p, ng) = buckets.split_at(np);
        out.push(sample(
            &layout,
            hdr,
            i,
            t.value,
            (cnt.value, zcnt.value, sum.value),
            p.iter().map(|b| b.value).collect(),
            ng.iter().map(|b| b.value).collect(),
        ));
    }
    Ok(out)
}

/// Decodes all samples of a histogram chunk of `encoding` 2 (integer) or 3 (float).
/// Malformed data yields an error naming the byte offset in the chunk.
pub fn decode_histogram_chunk(encoding: u8, data: &[u8]) -> Result<Vec<HistogramSample>> {
    match encoding {
        ENC_HISTOGRAM => decode_integer(data),
        ENC_FLOAT_HISTOGRAM => decode_float(data),
        e => Err(Error::Unsupported {
            what: "histogram chunk encoding",
            detail: e.to_string(),
        }),
    }
}

/// The number of samples a histogram chunk claims to hold, from its header.
pub fn histogram_chunk_num_samples(data: &[u8]) -> Result<usize> {
    header(data).map(|(n, _, _)| n)
}

#[cfg(test)]
#[path = "histogram_tests.rs"]
mod tests;
