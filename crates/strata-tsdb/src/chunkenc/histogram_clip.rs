//! Cutting a histogram chunk down to a time range (for a block that covers only part of
//! a head chunk): the samples in range are decoded and appended to fresh chunks.

use super::histogram::{
    ENC_FLOAT_HISTOGRAM, ENC_HISTOGRAM, decode_histogram_chunk, decode_integer_histograms,
};
use super::{FloatHistogramChunk, HistogramAppend, HistogramChunk};
use crate::error::{Error, Result};

/// An encoded chunk: time range, encoding byte and bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnedChunk {
    pub mint: i64,
    pub maxt: i64,
    pub encoding: u8,
    pub data: Vec<u8>,
}

/// Collects the chunks an appender produces.
struct Collector<C> {
    done: Vec<C>,
    cur: C,
    mint: i64,
    mints: Vec<(i64, i64)>,
    last: i64,
}

impl<C> Collector<C> {
    fn new(cur: C) -> Self {
        Collector {
            done: Vec::new(),
            cur,
            mint: i64::MIN,
            mints: Vec::new(),
            last: i64::MIN,
        }
    }

    fn outcome(&mut self, t: i64, o: HistogramAppend<C>) {
        if self.mint == i64::MIN {
            self.mint = t;
        }
        match o {
            HistogramAppend::Appended => {}
            HistogramAppend::Recoded(c) => self.cur = c,
            HistogramAppend::NewChunk(c) => {
                self.done.push(std::mem::replace(&mut self.cur, c));
                self.mints.push((self.mint, self.last));
                self.mint = t;
            }
        }
        self.last = t;
    }

    fn finish(mut self, bytes: impl Fn(&C) -> Vec<u8>, encoding: u8) -> Vec<OwnedChunk> {
        if self.mint == i64::MIN {
            return Vec::new();
        }
        self.done.push(self.cur);
        self.mints.push((self.mint, self.last));
        self.done
            .iter()
            .zip(self.mints)
            .map(|(c, (mint, maxt))| OwnedChunk {
                mint,
                maxt,
                encoding,
                data: bytes(c),
            })
            .collect()
    }
}

/// The samples of a histogram chunk within `[mint, maxt]`, re-encoded (normally one
/// chunk; none when no sample is in range). The first sample keeps what the original
/// header said about it (counter reset, gauge), a later one starts unknown.
pub fn clip_histogram_chunk(
    encoding: u8,
    data: &[u8],
    mint: i64,
    maxt: i64,
) -> Result<Vec<OwnedChunk>> {
    let in_range = |t: i64| t >= mint && t <= maxt;
    match encoding {
        ENC_HISTOGRAM => {
            let mut col = Collector::new(HistogramChunk::new());
            for (t, h) in decode_integer_histograms(data)?
                .into_iter()
                .filter(|s| in_range(s.0))
            {
                let o = col.cur.append(t, &h, None)?;
                col.outcome(t, o);
            }
            Ok(col.finish(|c| c.bytes().to_vec(), ENC_HISTOGRAM))
        }
        ENC_FLOAT_HISTOGRAM => {
            let mut col = Collector::new(FloatHistogramChunk::new());
            for s in decode_histogram_chunk(ENC_FLOAT_HISTOGRAM, data)?
                .into_iter()
                .filter(|s| in_range(s.t))
            {
                let o = col.cur.append(s.t, &s.h, None)?;
                col.outcome(s.t, o);
            }
            Ok(col.finish(|c| c.bytes().to_vec(), ENC_FLOAT_HISTOGRAM))
        }
        e => Err(Error::Unsupported {
            what: "histogram chunk encoding",
            detail: e.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::chunkenc::histogram::{HEADER_COUNTER_RESET, HEADER_UNKNOWN_COUNTER_RESET};
    use strata_model::histogram::{CounterResetHint, Histogram};

    #[test]
    fn clips_and_keeps_the_header_of_the_first_sample() {
        let mut c = HistogramChunk::new();
        for t in 0..10i64 {
            let h = Histogram {
                count: t as u64,
                sum: t as f64,
                counter_reset_hint: if t == 0 {
                    CounterResetHint::CounterReset
                } else {
                    CounterResetHint::Unknown
                },
                ..Histogram::default()
            };
            c.append(t * 10, &h, None).unwrap();
        }
        assert_eq!(c.counter_reset_header(), HEADER_COUNTER_RESET);
        let whole = clip_histogram_chunk(ENC_HISTOGRAM, c.bytes(), 0, 90).unwrap();
        assert_eq!(whole.len(), 1);
        assert_eq!(whole[0].data, c.bytes());
        assert_eq!((whole[0].mint, whole[0].maxt), (0, 90));

        let part = clip_histogram_chunk(ENC_HISTOGRAM, c.bytes(), 25, 60).unwrap();
        assert_eq!(part.len(), 1);
        assert_eq!((part[0].mint, part[0].maxt), (30, 60));
        assert_eq!(part[0].data[2] & 0b1100_0000, HEADER_UNKNOWN_COUNTER_RESET);
        let got = decode_histogram_chunk(ENC_HISTOGRAM, &part[0].data).unwrap();
        assert_eq!(
            got.iter().map(|s| s.t).collect::<Vec<_>>(),
            vec![30, 40, 50, 60]
        );
        assert!(
            clip_histogram_chunk(ENC_HISTOGRAM, c.bytes(), 91, 100)
                .unwrap()
                .is_empty()
        );

        let mut f = FloatHistogramChunk::new();
        f.append(5, &Histogram::default().to_float(), None).unwrap();
        let fc = clip_histogram_chunk(ENC_FLOAT_HISTOGRAM, f.bytes(), 0, 9).unwrap();
        assert_eq!(fc[0].data, f.bytes());
    }
}
