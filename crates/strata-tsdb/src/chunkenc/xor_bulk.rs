//! The bulk XOR decoder behind [`XorIter::drain_range`](super::XorIter::drain_range) and
//! `collect_all`: the hot path of every PromQL selector.
//!
//! The per-sample decoder in `xor` keeps its state in a struct and goes through a
//! bounds-checked bit reader for every field. This one decodes a whole run of samples in
//! one loop with the state (position, timestamp, delta, value, window) in locals, and
//! reads every field from one 64-bit big-endian word loaded at the current bit position:
//! a load at byte `pos / 8` shifted by `pos % 8` holds at least [`PEEK_BITS`] valid bits,
//! enough for the common sample in one word (a zero delta-of-delta bit, then an unchanged
//! value bit or `10` and the bits of the previous window).
//!
//! Runs of samples whose interval and value both repeat (`00` each, as in constant
//! series) are taken up to 28 at a time from one word.
//!
//! No bounds check per field, and no `unsafe`: loads past the end of the data read zeros
//! (from a small zero-padded copy of the last bytes), and the position is compared with
//! the end once per sample. A sample that needed bits past the end fails with the same
//! error the per-sample decoder gives; so does an invalid window, whose check first makes
//! sure the fields it read were inside the data, as the per-sample decoder's reads are.
//! The first two samples (varint timestamp, raw value; uvarint delta) start on byte
//! boundaries and are read from whole bytes; when those are short or malformed the
//! per-sample decoder takes them, to report its error.

use super::xor::DecodeState;
use crate::encoding::{uvarint, varint};
use crate::error::{Error, Result};

/// Valid bits in a word from [`Bits::peek`]: 64 minus the at most 7 bits of the first
/// byte that were already consumed.
const PEEK_BITS: u32 = 57;

/// Data bytes copied into [`Bits::tail`]: a peek that does not find 8 bytes in the data
/// starts within the last 7 of them or past the end.
const TAIL_DATA: usize = 8;

/// The chunk's bytes, readable at any bit position.
struct Bits<'a> {
    data: &'a [u8],
    /// The last [`TAIL_DATA`] bytes of `data` (fewer when it is shorter), then zeros.
    tail: [u8; 2 * TAIL_DATA],
    /// Index in `data` of `tail[0]`.
    tail_start: usize,
}

impl<'a> Bits<'a> {
    fn new(data: &'a [u8]) -> Self {
        let tail_start = data.len().saturating_sub(TAIL_DATA);
        let mut tail = [0u8; 2 * TAIL_DATA];
        let last = data.get(tail_start..).unwrap_or_default();
        if let Some(dst) = tail.get_mut(..last.len()) {
            dst.copy_from_slice(last);
        }
        Bits {
            data,
            tail,
            tail_start,
        }
    }

    /// The 64 bits from bit `pos` on, most significant first; only the top
    /// [`PEEK_BITS`] are certain to be data (or zeros past the end of the data).
    #[inline(always)]
    fn peek(&self, pos: usize) -> u64 {
        let i = pos / 8;
        let word = match self.data.get(i..i + 8).and_then(<[u8]>::first_chunk::<8>) {
            Some(w) => *w,
            None => self
                .tail
                .get(i.wrapping_sub(self.tail_start)..)
                .and_then(<[u8]>::first_chunk::<8>)
                .copied()
                .unwrap_or([0; 8]),
        };
        u64::from_be_bytes(word) << (pos % 8)
    }

    /// `n` (1..=64) bits from bit `pos` as the low bits of the result.
    #[inline]
    fn read(&self, pos: usize, n: u32) -> u64 {
        if n <= PEEK_BITS {
            self.peek(pos) >> (64 - n)
        } else {
            let lo = n - 32;
            ((self.peek(pos) >> 32) << lo) | (self.peek(pos + 32) >> (64 - lo))
        }
    }
}

/// A delta-of-delta that is not zero: its value and how many bits it takes (prefix
/// included). `w` is the word peeked at `pos`; its top bit is set.
#[inline]
fn read_dod(bits: &Bits<'_>, pos: usize, w: u64) -> (i64, usize) {
    let ones = w.leading_ones();
    let size = match ones {
        1 => 14,
        2 => 17,
        3 => 20,
        // `1111`: 64 bits, taken as they are.
        _ => return (bits.read(pos + 4, 64) as i64, 68),
    };
    // The prefix: the ones and a zero.
    let len = ones + 1;
    let raw = (w << len) >> (64 - size);
    // As Prometheus: values above half the range are negative.
    let dod = if raw > 1u64 << (size - 1) {
        raw as i64 - (1i64 << size)
    } else {
        raw as i64
    };
    (dod, (len + size) as usize)
}

/// Why a value could not be decoded.
#[derive(Debug, Clone, Copy)]
enum Fault {
    /// It needs bits past the end of the data.
    Eof,
    /// Its new window has more than 64 bits.
    Window,
    /// It reuses a window of no bits (cannot happen: windows have 1..=64 bits).
    NoWindow,
}

impl Fault {
    /// The error the per-sample decoder gives.
    fn error(self) -> Error {
        Error::Decode(
            match self {
                Fault::Eof => "unexpected end of chunk data",
                Fault::Window => "invalid XOR window",
                Fault::NoWindow => "XOR value window before any window was set",
            }
            .into(),
        )
    }
}

/// The value and its XOR window, carried from sample to sample.
struct Value {
    bits: u64,
    /// Significant bits of the window: 1..=64 (64 before the first window is read, as
    /// leading and trailing zeros start at 0).
    sig: u32,
    trailing: u32,
}

impl Value {
    fn of(st: &DecodeState) -> Self {
        let trailing = u32::from(st.trailing);
        Value {
            bits: st.v,
            sig: 64u32.saturating_sub(u32::from(st.leading) + trailing),
            trailing,
        }
    }

    /// Leading zeros of the window.
    fn leading(&self) -> u8 {
        // At most 31 for a read window, 0 before.
        (64u32.saturating_sub(self.sig + self.trailing)) as u8
    }
}

/// Decodes the XOR-encoded value at bit `pos` into `val`, given `vw`: the bits from `pos`
/// on, at least 56 of them valid. Returns the position after the value (the caller checks
/// it against the end of the data).
#[inline(always)]
fn read_value(
    bits: &Bits<'_>,
    pos: usize,
    vw: u64,
    end: usize,
    val: &mut Value,
) -> std::result::Result<usize, Fault> {
    if vw >> 63 == 0 {
        // The value repeats.
        return Ok(pos + 1);
    }
    if vw >> 62 == 0b10 {
        // The previous window.
        let sig = val.sig;
        let x = if sig.wrapping_sub(1) < 56 - 2 {
            (vw << 2) >> (64 - sig)
        } else if sig == 0 {
            return Err(Fault::NoWindow);
        } else {
            bits.read(pos + 2, sig)
        };
        val.bits ^= x << val.trailing;
        return Ok(pos + 2 + sig as usize);
    }
    // A new window: 5 bits of leading zeros, 6 of significant bits (0 means 64).
    let leading = ((vw >> 57) & 31) as u32;
    let sig = match ((vw >> 51) & 63) as u32 {
        0 => 64,
        s => s,
    };
    if leading + sig > 64 {
        // The per-sample decoder fails on the first field that crosses the end.
        return Err(if pos + 13 > end {
            Fault::Eof
        } else {
            Fault::Window
        });
    }
    let x = if sig <= 56 - 13 {
        (vw << 13) >> (64 - sig)
    } else {
        bits.read(pos + 13, sig)
    };
    val.sig = sig;
    val.trailing = 64 - leading - sig;
    val.bits ^= x << val.trailing;
    Ok(pos + 13 + sig as usize)
}

/// Positions and fields of the first two samples, which start on byte boundaries:
/// sample 0 (varint timestamp, raw value bits) and the timestamp delta of sample 1.
struct Head {
    t: i64,
    v: u64,
    /// Bit position of sample 1.
    sample1: usize,
    t_delta: u64,
    /// Bit position of the value of sample 1.
    value1: usize,
}

/// The first two samples' leading fields, or None when they are short or malformed (the
/// per-sample decoder then reports the error).
fn read_head(bytes: &[u8]) -> Option<Head> {
    let rest = bytes.get(2..)?;
    let (t, n) = varint(rest)?;
    let v = u64::from_be_bytes(*rest.get(n..)?.first_chunk::<8>()?);
    let (t_delta, m) = uvarint(rest.get(n + 8..)?)?;
    Some(Head {
        t,
        v,
        sample1: (2 + n + 8) * 8,
        t_delta,
        value1: (2 + n + 8 + m) * 8,
    })
}

/// Decodes the remaining samples of the chunk `bytes` into `out`, keeping those in
/// `[mint, maxt]`, with the contract of [`XorIter::drain_range`](super::XorIter::drain_range).
pub(super) fn drain_range(
    st: &mut DecodeState,
    bytes: &[u8],
    out: &mut Vec<(i64, f64)>,
    mint: i64,
    maxt: i64,
) -> Result<bool> {
    if st.failed {
        return Ok(false);
    }
    let bits = Bits::new(bytes);
    let end = bytes.len() * 8;
    if st.read == 0
        && st.total >= 2
        && let Some(h) = read_head(bytes)
    {
        (st.read, st.bitpos, st.t, st.v) = (1, h.sample1, h.t, h.v);
        if h.t >= mint {
            if h.t > maxt {
                return Ok(true);
            }
            out.push((h.t, f64::from_bits(h.v)));
        }
        let t = h.t.wrapping_add(h.t_delta as i64);
        let mut val = Value::of(st);
        match read_value(&bits, h.value1, bits.peek(h.value1), end, &mut val) {
            Ok(pos) if pos <= end => {
                (st.read, st.bitpos, st.t, st.t_delta) = (2, pos, t, h.t_delta);
                (st.v, st.leading, st.trailing) = (val.bits, val.leading(), val.trailing as u8);
            }
            Ok(_) => return Err(st.fail(1, &Fault::Eof.error())),
            Err(f) => return Err(st.fail(1, &f.error())),
        }
        if t >= mint {
            if t > maxt {
                return Ok(true);
            }
            out.push((t, f64::from_bits(st.v)));
        }
    }
    // What is left of the first two samples (a chunk of one sample, malformed data, an
    // iterator resumed after one sample), one at a time.
    while st.read < 2 {
        let Some((t, v)) = st.next(bytes)? else {
            return Ok(false);
        };
        if t < mint {
            continue;
        }
        if t > maxt {
            return Ok(true);
        }
        out.push((t, v));
    }

    if mint > maxt {
        // Nothing can be kept: leave the cut to the per-sample decoder.
        return skip_range(st, bytes, mint);
    }
    decode_rest(st, &bits, out, mint, maxt)
}

/// `drain_range` when `mint > maxt`: skips the samples before `mint` and stops at the
/// first one after it (so after `maxt`).
fn skip_range(st: &mut DecodeState, bytes: &[u8], mint: i64) -> Result<bool> {
    while let Some((t, _)) = st.next(bytes)? {
        if t >= mint {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The loop of `drain_range` from sample 2 on, `mint <= maxt`.
fn decode_rest(
    st: &mut DecodeState,
    bits: &Bits<'_>,
    out: &mut Vec<(i64, f64)>,
    mint: i64,
    maxt: i64,
) -> Result<bool> {
    let end = bits.data.len() * 8;
    // One comparison for `mint <= t <= maxt`.
    let span = maxt.wrapping_sub(mint) as u64;
    let total = st.total;
    let mut left = total.saturating_sub(st.read);
    let mut pos = st.bitpos;
    let (mut t, mut td) = (st.t, st.t_delta);
    let mut val = Value::of(st);
    let mut result = Ok(false);

    // Keeps the sample just decoded if it is in range; leaves the loop after `maxt`.
    macro_rules! keep {
        ($loop:lifetime) => {
            if t.wrapping_sub(mint) as u64 <= span {
                out.push((t, f64::from_bits(val.bits)));
            } else if t > maxt {
                result = Ok(true);
                break $loop;
            }
        };
    }

    'samples: while left > 0 {
        let w = bits.peek(pos);
        if w >> 62 == 0 {
            // `00`: the interval and the value repeat. Take the whole run of `00` pairs
            // among the valid bits of `w` that lies inside the data (the general path
            // below reports a sample cut by the end).
            let run = (w.leading_zeros() / 2).min(PEEK_BITS / 2) as usize;
            let run = run.min(usize::from(left)).min(end.saturating_sub(pos) / 2);
            for _ in 0..run {
                t = t.wrapping_add(td as i64);
                left -= 1;
                pos += 2;
                keep!('samples);
            }
            if run > 0 {
                continue;
            }
        }
        // Timestamp: a zero delta-of-delta is one 0 bit; the value's bits follow in `w`.
        let vw = if w >> 63 == 0 {
            pos += 1;
            // PEEK_BITS - 1 = 56 valid bits.
            w << 1
        } else {
            let (dod, len) = read_dod(bits, pos, w);
            td = td.wrapping_add(dod as u64);
            pos += len;
            bits.peek(pos)
        };
        t = t.wrapping_add(td as i64);
        let fault = match read_value(bits, pos, vw, end, &mut val) {
            Ok(p) if p <= end => {
                pos = p;
                left -= 1;
                keep!('samples);
                continue;
            }
            Ok(_) => Fault::Eof,
            Err(f) => f,
        };
        result = Err(st.fail(total - left, &fault.error()));
        break;
    }

    if result.is_ok() {
        (st.read, st.bitpos, st.t, st.t_delta) = (total - left, pos, t, td);
        (st.v, st.leading, st.trailing) = (val.bits, val.leading(), val.trailing as u8);
    }
    result
}

#[cfg(test)]
#[path = "xor_bulk_tests.rs"]
mod tests;
