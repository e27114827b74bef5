//! Chunks on the wire: encoding samples into XOR chunks, merging the chunks of series
//! with identical labels, and the `thanos.AggrChunk` form.
//!
//! On disk XOR is encoding 1, histograms 2 and float histograms 3; the Store API numbers
//! them one lower (`Chunk.Encoding`: XOR = 0, HISTOGRAM = 1, FLOAT_HISTOGRAM = 2).

use bytes::Bytes;
use strata_model::storage::SampleIterator;
use strata_proto::storepb::{AggrChunk, Chunk};
use strata_tsdb::chunkenc::{
    ENC_FLOAT_HISTOGRAM, ENC_HISTOGRAM, ENC_XOR, XorChunk, chunk_num_samples,
};

use crate::error::{Error, Result};
use crate::source::RawChunk;

/// Samples per encoded chunk, as Prometheus cuts head chunks.
pub const SAMPLES_PER_CHUNK: u16 = 120;

/// Encodes the remaining samples of `it` into XOR chunks of at most
/// [`SAMPLES_PER_CHUNK`] samples.
pub fn encode_xor(it: &mut dyn SampleIterator) -> Result<Vec<RawChunk>> {
    let mut out = Vec::new();
    let mut cur: Option<(XorChunk, i64)> = None;
    while let Some((t, v)) = it.next_sample()? {
        let (chunk, _) = cur.get_or_insert_with(|| (XorChunk::new(), t));
        chunk.append(t, v);
        if chunk.num_samples() >= SAMPLES_PER_CHUNK
            && let Some((c, mint)) = cur.take()
        {
            out.push(finish(&c, mint));
        }
    }
    if let Some((c, mint)) = cur {
        out.push(finish(&c, mint));
    }
    Ok(out)
}

fn finish(c: &XorChunk, mint: i64) -> RawChunk {
    RawChunk {
        min_time: mint,
        max_time: c.last_t(),
        encoding: ENC_XOR,
        data: Bytes::copy_from_slice(c.bytes()),
    }
}

/// Sorts chunks by time and drops exact duplicates (the same chunk read from two
/// replicas or two overlapping blocks).
pub fn merge_chunks(mut chunks: Vec<RawChunk>) -> Vec<RawChunk> {
    if chunks.len() < 2 {
        return chunks;
    }
    chunks.sort_by(|a, b| {
        (a.min_time, a.max_time, a.encoding)
            .cmp(&(b.min_time, b.max_time, b.encoding))
            .then_with(|| a.data.cmp(&b.data))
    });
    chunks.dedup();
    chunks
}

/// Number of samples the chunk's header announces.
pub fn num_samples(c: &RawChunk) -> u64 {
    u64::from(chunk_num_samples(&c.data))
}

/// The wire form of a chunk.
pub fn to_proto(c: RawChunk) -> Result<AggrChunk> {
    use strata_proto::storepb::chunk::Encoding;
    let enc = match c.encoding {
        ENC_XOR => Encoding::Xor,
        ENC_HISTOGRAM => Encoding::Histogram,
        ENC_FLOAT_HISTOGRAM => Encoding::FloatHistogram,
        other => {
            return Err(Error::Internal(format!(
                "chunk encoding {other} cannot be sent over the Store API"
            )));
        }
    };
    Ok(AggrChunk {
        min_time: c.min_time,
        max_time: c.max_time,
        raw: Some(Chunk {
            r#type: enc.into(),
            data: c.data,
            hash: 0,
        }),
        ..AggrChunk::default()
    })
}

/// The on-disk encoding byte of a wire chunk (for clients and tests).
pub fn disk_encoding(c: &Chunk) -> u8 {
    u8::try_from(c.r#type).map_or(0, |t| t.saturating_add(1))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use proptest::prelude::*;
    use strata_model::storage::VecSamples;
    use strata_tsdb::chunkenc::XorIter;

    fn decode(chunks: &[RawChunk]) -> Vec<(i64, f64)> {
        let mut out = Vec::new();
        for c in chunks {
            let s = XorIter::new(&c.data[..]).collect_all().unwrap();
            assert_eq!(s.first().unwrap().0, c.min_time);
            assert_eq!(s.last().unwrap().0, c.max_time);
            out.extend(s);
        }
        out
    }

    #[test]
    fn cuts_at_120_samples() {
        let samples: Vec<(i64, f64)> = (0..250).map(|i| (i * 1000, i as f64)).collect();
        let chunks = encode_xor(&mut VecSamples::new(samples.clone())).unwrap();
        let counts: Vec<u64> = chunks.iter().map(num_samples).collect();
        assert_eq!(counts, vec![120, 120, 10]);
        assert_eq!(decode(&chunks), samples);
        assert!(
            encode_xor(&mut VecSamples::new(Vec::new()))
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn merge_sorts_and_dedups() {
        let c = |mint: i64, d: &'static [u8]| RawChunk {
            min_time: mint,
            max_time: mint + 10,
            encoding: ENC_XOR,
            data: Bytes::from_static(d),
        };
        let m = merge_chunks(vec![c(20, b"b"), c(0, b"a"), c(20, b"b"), c(20, b"c")]);
        assert_eq!(m, vec![c(0, b"a"), c(20, b"b"), c(20, b"c")]);
    }

    #[test]
    fn wire_encoding_is_one_off() {
        let c = RawChunk {
            min_time: 1,
            max_time: 2,
            encoding: ENC_XOR,
            data: Bytes::from_static(b"\0\0"),
        };
        let p = to_proto(c).unwrap();
        let raw = p.raw.unwrap();
        assert_eq!(raw.r#type, 0);
        assert_eq!(disk_encoding(&raw), ENC_XOR);
        let h = RawChunk {
            min_time: 1,
            max_time: 2,
            encoding: ENC_FLOAT_HISTOGRAM,
            data: Bytes::new(),
        };
        assert_eq!(to_proto(h).unwrap().raw.unwrap().r#type, 2);
    }

    proptest! {
        #[test]
        fn encode_round_trips(deltas in proptest::collection::vec((1i64..100_000, any::<f64>()), 0..400)) {
            let mut t = -50_000i64;
            let samples: Vec<(i64, f64)> = deltas.into_iter().map(|(d, v)| { t += d; (t, v) }).collect();
            let chunks = encode_xor(&mut VecSamples::new(samples.clone())).unwrap();
            prop_assert!(chunks.iter().all(|c| num_samples(c) <= 120));
            let back = decode(&chunks);
            prop_assert_eq!(back.len(), samples.len());
            for (a, b) in back.iter().zip(&samples) {
                prop_assert_eq!(a.0, b.0);
                prop_assert_eq!(a.1.to_bits(), b.1.to_bits());
            }
        }
    }
}
