//! Encoding of the records stored in the WAL, byte-compatible with Prometheus.
//!
//! Every record starts with one type byte:
//!
//! * Series (1): per series `ref <be64>`, `#labels <uvarint>`, then name and value as
//!   uvarint-length-prefixed strings.
//! * Samples (2): `first ref <be64>`, `first t <be64>`, then per sample
//!   `ref - first ref <varint>`, `t - first t <varint>`, `value <be64 float bits>`.
//! * Tombstones (3): per interval `ref <be64>`, `mint <varint>`, `maxt <varint>`.
//! * HistogramSamples (7), FloatHistogramSamples (8) and their custom-bucket variants
//!   (9, 10): see [`super::histogram_record`].
//! * Exemplars (4), MmapMarkers (5) and Metadata (6) are recognised but not decoded.

use strata_model::Labels;

use crate::encoding::{DecBuf, EncBuf};
use crate::error::{Error, Result};

/// The kind of a WAL record, from its first byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordType {
    Series,
    Samples,
    Tombstones,
    Exemplars,
    MmapMarkers,
    Metadata,
    HistogramSamples,
    FloatHistogramSamples,
    CustomBucketsHistogramSamples,
    CustomBucketsFloatHistogramSamples,
    /// An unknown type byte, or `Unknown(0)` for an empty record.
    Unknown(u8),
}

impl RecordType {
    /// The type byte written at the start of the record.
    pub fn byte(self) -> u8 {
        match self {
            RecordType::Series => 1,
            RecordType::Samples => 2,
            RecordType::Tombstones => 3,
            RecordType::Exemplars => 4,
            RecordType::MmapMarkers => 5,
            RecordType::Metadata => 6,
            RecordType::HistogramSamples => 7,
            RecordType::FloatHistogramSamples => 8,
            RecordType::CustomBucketsHistogramSamples => 9,
            RecordType::CustomBucketsFloatHistogramSamples => 10,
            RecordType::Unknown(b) => b,
        }
    }

    fn from_byte(b: u8) -> Self {
        match b {
            1 => RecordType::Series,
            2 => RecordType::Samples,
            3 => RecordType::Tombstones,
            4 => RecordType::Exemplars,
            5 => RecordType::MmapMarkers,
            6 => RecordType::Metadata,
            7 => RecordType::HistogramSamples,
            8 => RecordType::FloatHistogramSamples,
            9 => RecordType::CustomBucketsHistogramSamples,
            10 => RecordType::CustomBucketsFloatHistogramSamples,
            other => RecordType::Unknown(other),
        }
    }
}

/// The type of a record; `Unknown(0)` for an empty one.
pub fn record_type(rec: &[u8]) -> RecordType {
    match rec.first() {
        Some(&b) => RecordType::from_byte(b),
        None => RecordType::Unknown(0),
    }
}

/// A series and the reference the samples of the WAL use for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefSeries {
    pub series_ref: u64,
    pub labels: Labels,
}

/// One float sample of the series `series_ref`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RefSample {
    pub series_ref: u64,
    pub t: i64,
    pub v: f64,
}

/// A deleted interval `[mint, maxt]` of the series `series_ref`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefTombstone {
    pub series_ref: u64,
    pub mint: i64,
    pub maxt: i64,
}

const WHAT: &str = "WAL record";

/// Appends a whole Series record to `buf`.
pub fn encode_series(series: &[RefSeries], buf: &mut Vec<u8>) {
    let mut e = EncBuf {
        buf: std::mem::take(buf),
    };
    e.put_byte(RecordType::Series.byte());
    for s in series {
        e.put_be64(s.series_ref);
        e.put_uvarint(s.labels.len() as u64);
        for (name, value) in s.labels.iter() {
            e.put_uvarint_str(name);
            e.put_uvarint_str(value);
        }
    }
    *buf = e.buf;
}

/// Appends a whole Samples record to `buf`.
pub fn encode_samples(samples: &[RefSample], buf: &mut Vec<u8>) {
    let mut e = EncBuf {
        buf: std::mem::take(buf),
    };
    e.put_byte(RecordType::Samples.byte());
    if let Some(first) = samples.first() {
        e.put_be64(first.series_ref);
        e.put_be64(first.t as u64);
        for s in samples {
            e.put_varint((s.series_ref as i64).wrapping_sub(first.series_ref as i64));
            e.put_varint(s.t.wrapping_sub(first.t));
            e.put_be64_f64(s.v);
        }
    }
    *buf = e.buf;
}

/// Appends a whole Tombstones record to `buf`.
pub fn encode_tombstones(t: &[RefTombstone], buf: &mut Vec<u8>) {
    let mut e = EncBuf {
        buf: std::mem::take(buf),
    };
    e.put_byte(RecordType::Tombstones.byte());
    for s in t {
        e.put_be64(s.series_ref);
        e.put_varint(s.mint);
        e.put_varint(s.maxt);
    }
    *buf = e.buf;
}

/// Checks the type byte and returns a decoder over the body.
fn body(rec: &[u8], want: RecordType) -> Result<DecBuf<'_>> {
    let got = record_type(rec);
    if got != want {
        return Err(Error::Decode(format!(
            "expected a {want:?} WAL record, got {got:?}"
        )));
    }
    Ok(DecBuf::new(&rec[1..], WHAT, 1))
}

/// Decodes a Series record, appending to `out`. Label names must be non-empty, sorted
/// and unique.
pub fn decode_series(rec: &[u8], out: &mut Vec<RefSeries>) -> Result<()> {
    let mut d = body(rec, RecordType::Series)?;
    let mut pairs: Vec<(&str, &str)> = Vec::new();
    while !d.is_empty() {
        let start = d.position() as u64 + 1;
        let series_ref = d.be64()?;
        let n = d.uvarint()?;
        pairs.clear();
        for _ in 0..n {
            let name = d.uvarint_str()?;
            let value = d.uvarint_str()?;
            if name.is_empty() {
                return Err(Error::corruption(WHAT, start, "empty label name"));
            }
            if let Some((prev, _)) = pairs.last()
                && *prev >= name
            {
                return Err(Error::corruption(
                    WHAT,
                    start,
                    format!(
                        "labels of series {series_ref} not sorted or not unique: {prev:?} before {name:?}"
                    ),
                ));
            }
            pairs.push((name, value));
        }
        out.push(RefSeries {
            series_ref,
            labels: Labels::from_sorted(pairs.iter().copied()),
        });
    }
    Ok(())
}

/// Decodes a Samples record, appending to `out`.
pub fn decode_samples(rec: &[u8], out: &mut Vec<RefSample>) -> Result<()> {
    let mut d = body(rec, RecordType::Samples)?;
    if d.is_empty() {
        return Ok(());
    }
    let base_ref = d.be64()? as i64;
    let base_t = d.be64()? as i64;
    while !d.is_empty() {
        let dref = d.varint()?;
        let dt = d.varint()?;
        let v = d.be64_f64()?;
        out.push(RefSample {
            series_ref: base_ref.wrapping_add(dref) as u64,
            t: base_t.wrapping_add(dt),
            v,
        });
    }
    Ok(())
}

/// Decodes a Tombstones record, appending to `out`.
pub fn decode_tombstones(rec: &[u8], out: &mut Vec<RefTombstone>) -> Result<()> {
    let mut d = body(rec, RecordType::Tombstones)?;
    while !d.is_empty() {
        let series_ref = d.be64()?;
        let mint = d.varint()?;
        let maxt = d.varint()?;
        out.push(RefTombstone {
            series_ref,
            mint,
            maxt,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn labels_strategy() -> impl Strategy<Value = Labels> {
        proptest::collection::btree_map("[a-z_]{1,8}", "[ -~]{1,12}", 0..6)
            .prop_map(|m| Labels::from_sorted(m.iter().map(|(k, v)| (k.as_str(), v.as_str()))))
    }

    proptest! {
        #[test]
        fn series_round_trip(items in proptest::collection::vec((any::<u64>(), labels_strategy()), 0..20)) {
            let series: Vec<RefSeries> = items
                .into_iter()
                .map(|(series_ref, labels)| RefSeries { series_ref, labels })
                .collect();
            let mut buf = Vec::new();
            encode_series(&series, &mut buf);
            prop_assert_eq!(record_type(&buf), RecordType::Series);
            let mut out = Vec::new();
            decode_series(&buf, &mut out).unwrap();
            prop_assert_eq!(out, series);
        }

        #[test]
        fn samples_round_trip(items in proptest::collection::vec((any::<u64>(), any::<i64>(), any::<f64>()), 0..50)) {
            let samples: Vec<RefSample> = items
                .into_iter()
                .map(|(series_ref, t, v)| RefSample { series_ref, t, v })
                .collect();
            let mut buf = vec![0xAA];
            encode_samples(&samples, &mut buf);
            let mut out = Vec::new();
            decode_samples(&buf[1..], &mut out).unwrap();
            prop_assert_eq!(out.len(), samples.len());
            for (a, b) in out.iter().zip(&samples) {
                prop_assert_eq!(a.series_ref, b.series_ref);
                prop_assert_eq!(a.t, b.t);
                prop_assert_eq!(a.v.to_bits(), b.v.to_bits());
            }
        }

        #[test]
        fn tombstones_round_trip(items in proptest::collection::vec((any::<u64>(), any::<i64>(), any::<i64>()), 0..50)) {
            let ts: Vec<RefTombstone> = items
                .into_iter()
                .map(|(series_ref, mint, maxt)| RefTombstone { series_ref, mint, maxt })
                .collect();
            let mut buf = Vec::new();
            encode_tombstones(&ts, &mut buf);
            let mut out = Vec::new();
            decode_tombstones(&buf, &mut out).unwrap();
            prop_assert_eq!(out, ts);
        }

        #[test]
        fn decoders_never_panic(b in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = decode_series(&b, &mut Vec::new());
            let _ = decode_samples(&b, &mut Vec::new());
            let _ = decode_tombstones(&b, &mut Vec::new());
            let _ = record_type(&b);
        }
    }

    #[test]
    fn prometheus_samples_layout() {
        // Two samples of refs 10 and 9 at t=1000 and 999.
        let mut buf = Vec::new();
        encode_samples(
            &[
                RefSample {
                    series_ref: 10,
                    t: 1000,
                    v: 1.0,
                },
                RefSample {
                    series_ref: 9,
                    t: 999,
                    v: 2.0,
                },
            ],
            &mut buf,
        );
        let mut want = vec![2u8];
        want.extend_from_slice(&10u64.to_be_bytes());
        want.extend_from_slice(&1000u64.to_be_bytes());
        want.extend_from_slice(&[0, 0]);
        want.extend_from_slice(&1.0f64.to_bits().to_be_bytes());
        want.extend_from_slice(&[1, 1]); // zig-zag -1, -1
        want.extend_from_slice(&2.0f64.to_bits().to_be_bytes());
        assert_eq!(buf, want);
    }

    #[test]
    fn unsorted_labels_rejected() {
        let mut rec = vec![1u8];
        rec.extend_from_slice(&7u64.to_be_bytes());
        rec.push(2);
        for s in ["b", "1", "a", "2"] {
            rec.push(s.len() as u8);
            rec.extend_from_slice(s.as_bytes());
        }
        let e = decode_series(&rec, &mut Vec::new())
            .unwrap_err()
            .to_string();
        assert!(e.contains("not sorted"), "{e}");
    }

    #[test]
    fn wrong_type_rejected() {
        let mut buf = Vec::new();
        encode_tombstones(&[], &mut buf);
        assert!(decode_samples(&buf, &mut Vec::new()).is_err());
        assert_eq!(record_type(&[6]), RecordType::Metadata);
        assert_eq!(record_type(&[42]), RecordType::Unknown(42));
        assert_eq!(record_type(&[]), RecordType::Unknown(0));
    }
}
