//! A bounds-checked, most-significant-bit-first bit reader and the variable-bit-width
//! encodings used by the native histogram chunks.
//!
//! Every read returns an error instead of panicking when the data runs out or is
//! malformed.

use crate::error::{Error, Result};

/// Reads bits from a byte slice, most significant bit of each byte first.
#[derive(Debug, Clone)]
pub struct BitReader<'a> {
    data: &'a [u8],
    /// Position in bits from the start of `data`.
    pos: u64,
    /// Byte offset of `data[0]` in the chunk, for error messages.
    base: u64,
}

impl<'a> BitReader<'a> {
    /// A reader over `data`; `base` is the byte offset of `data` in the chunk.
    pub fn new(data: &'a [u8], base: u64) -> Self {
        BitReader { data, pos: 0, base }
    }

    /// Bits left to read.
    pub fn remaining_bits(&self) -> u64 {
        (self.data.len() as u64 * 8).saturating_sub(self.pos)
    }

    /// An error at the current position.
    pub fn err(&self, reason: impl Into<String>) -> Error {
        Error::corruption(
            "histogram chunk",
            self.base + self.pos / 8,
            format!("{} (bit {})", reason.into(), self.pos % 8),
        )
    }

    pub fn read_bit(&mut self) -> Result<bool> {
        let byte = self
            .data
            .get((self.pos / 8) as usize)
            .copied()
            .ok_or_else(|| self.err("unexpected end of chunk data"))?;
        let bit = (byte >> (7 - (self.pos % 8))) & 1;
        self.pos += 1;
        Ok(bit == 1)
    }

    /// Reads `n <= 64` bits as the low bits of a `u64`.
    pub fn read_bits(&mut self, n: u32) -> Result<u64> {
        if n > 64 {
            return Err(self.err(format!("cannot read {n} bits at once")));
        }
        if u64::from(n) > self.remaining_bits() {
            return Err(self.err(format!(
                "unexpected end of chunk data: need {n} bits, {} left",
                self.remaining_bits()
            )));
        }
        let mut v = 0u64;
        let mut left = n;
        while left > 0 {
            let byte = self
                .data
                .get((self.pos / 8) as usize)
                .copied()
                .ok_or_else(|| self.err("unexpected end of chunk data"))?;
            let used = (self.pos % 8) as u32;
            let avail = 8 - used;
            let take = avail.min(left);
            let chunk = (u64::from(byte) >> (avail - take)) & ((1u64 << take) - 1);
            v = (v << take) | chunk;
            left -= take;
            self.pos += u64::from(take);
        }
        Ok(v)
    }

    pub fn read_byte(&mut self) -> Result<u8> {
        Ok(self.read_bits(8)? as u8)
    }

    /// Reads the unary prefix of a varbit number: up to 8 one-bits ended by a zero bit.
    fn varbit_width(&mut self) -> Result<u32> {
        let mut ones = 0;
        while ones < 8 {
            if !self.read_bit()? {
                break;
            }
            ones += 1;
        }
        Ok(match ones {
            0 => 0,
            1 => 3,
            2 => 6,
            3 => 9,
            4 => 12,
            5 => 18,
            6 => 25,
            7 => 56,
            _ => 64,
        })
    }

    /// A signed varbit integer: a unary width prefix (`0`, `10`, `110`, ... `11111111`)
    /// selecting 0, 3, 6, 9, 12, 18, 25, 56 or 64 value bits. Values narrower than
    /// 64 bits are two's complement, where the pattern of `2^(w-1)` means `+2^(w-1)`.
    pub fn read_varbit_int(&mut self) -> Result<i64> {
        let w = self.varbit_width()?;
        match w {
            0 => Ok(0),
            64 => Ok(self.read_bits(64)? as i64),
            _ => {
                let bits = self.read_bits(w)?;
                if bits > (1u64 << (w - 1)) {
                    Ok(bits as i64 - (1i64 << w))
                } else {
                    Ok(bits as i64)
                }
            }
        }
    }

    /// An unsigned varbit integer, with the same width prefixes as
    /// [`read_varbit_int`](Self::read_varbit_int).
    pub fn read_varbit_uint(&mut self) -> Result<u64> {
        let w = self.varbit_width()?;
        if w == 0 { Ok(0) } else { self.read_bits(w) }
    }

    /// The zero threshold: byte 0 means 0, byte 255 is followed by a raw float64, any
    /// other byte `b` means `0.5 * 2^(b - 243)`.
    pub fn read_zero_threshold(&mut self) -> Result<f64> {
        match self.read_byte()? {
            0 => Ok(0.0),
            255 => Ok(f64::from_bits(self.read_bits(64)?)),
            // 0.5 * 2^(b - 243) = 2^(b - 244), always a normal float64.
            b => Ok(f64::from_bits((u64::from(b) + 1023 - 244) << 52)),
        }
    }

    /// A custom bucket bound: varbit uint 0 followed by a raw float64, or `n` meaning
    /// `(n - 1) / 1000`.
    pub fn read_custom_bound(&mut self) -> Result<f64> {
        match self.read_varbit_uint()? {
            0 => Ok(f64::from_bits(self.read_bits(64)?)),
            n => Ok((n - 1) as f64 / 1000.0),
        }
    }

    /// A Gorilla XOR-encoded float relative to `state.value`: `0` repeats the value,
    /// `10` reuses the previous leading/trailing zero counts, `11` is followed by 5 bits
    /// of leading zeros and 6 bits of significant bits (0 meaning 64).
    pub fn read_xor(&mut self, state: &mut XorState) -> Result<()> {
        if !self.read_bit()? {
            return Ok(());
        }
        let (mbits, trailing) = if !self.read_bit()? {
            (64 - state.leading - state.trailing, state.trailing)
        } else {
            let leading = self.read_bits(5)? as u32;
            let mut mbits = self.read_bits(6)? as u32;
            if mbits == 0 {
                mbits = 64;
            }
            if leading + mbits > 64 {
                return Err(self.err(format!(
                    "invalid XOR encoding: {leading} leading zeros and {mbits} significant bits"
                )));
            }
            state.leading = leading;
            state.trailing = 64 - leading - mbits;
            (mbits, state.trailing)
        };
        let bits = self.read_bits(mbits)?;
        let shifted = bits.checked_shl(trailing).unwrap_or(0);
        state.value = f64::from_bits(state.value.to_bits() ^ shifted);
        Ok(())
    }
}

/// The state of one XOR-encoded float series.
#[derive(Debug, Clone, Copy, Default)]
pub struct XorState {
    pub value: f64,
    pub leading: u32,
    pub trailing: u32,
}

// --- Writing -------------------------------------------------------------------------

use super::bstream::BitWriter;

/// Whether `x` fits the varbit class of `nbits` value bits: `-(2^(n-1) - 1) ..= 2^(n-1)`.
fn varbit_fits(x: i64, nbits: u32) -> bool {
    let lim = 1i64 << (nbits - 1);
    -(lim - 1) <= x && x <= lim
}

/// The width classes of varbit numbers with their unary prefixes.
const VARBIT_CLASSES: [(u64, u8, u8); 7] = [
    (0b10, 2, 3),
    (0b110, 3, 6),
    (0b1110, 4, 9),
    (0b11110, 5, 12),
    (0b111110, 6, 18),
    (0b1111110, 7, 25),
    (0b11111110, 8, 56),
];

/// Writes a signed varbit integer (the inverse of [`BitReader::read_varbit_int`]).
pub fn put_varbit_int(w: &mut BitWriter, v: i64) {
    if v == 0 {
        w.write_bit(false);
        return;
    }
    for (prefix, plen, bits) in VARBIT_CLASSES {
        if varbit_fits(v, u32::from(bits)) {
            w.write_bits(prefix, plen);
            w.write_bits(v as u64, bits);
            return;
        }
    }
    w.write_bits(0b1111_1111, 8);
    w.write_bits(v as u64, 64);
}

/// Writes an unsigned varbit integer (the inverse of [`BitReader::read_varbit_uint`]).
pub fn put_varbit_uint(w: &mut BitWriter, v: u64) {
    if v == 0 {
        w.write_bit(false);
        return;
    }
    for (prefix, plen, bits) in VARBIT_CLASSES {
        if v >> bits == 0 {
            w.write_bits(prefix, plen);
            w.write_bits(v, bits);
            return;
        }
    }
    w.write_bits(0b1111_1111, 8);
    w.write_bits(v, 64);
}

/// Writes the zero threshold: one byte for 0 and for powers of two between 2^-243 and
/// 2^10, otherwise byte 255 and the raw float64.
pub fn put_zero_threshold(w: &mut BitWriter, z: f64) {
    if z == 0.0 {
        w.write_byte(0);
        return;
    }
    let bits = z.to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i64;
    // Positive, normal, mantissa zero: z = 0.5 * 2^exp with exp = biased - 1022.
    let exp = biased - 1022;
    if bits >> 63 == 0 && biased != 0 && bits & ((1 << 52) - 1) == 0 && (-242..=11).contains(&exp) {
        w.write_byte((exp + 243) as u8);
    } else {
        w.write_byte(255);
        w.write_bits(bits, 64);
    }
}

/// Writes a custom bucket bound: `x * 1000 + 1` as varbit uint when `x` is a multiple of
/// 0.001 in `0 ..= 33554.430`, otherwise a zero bit and the raw float64.
pub fn put_custom_bound(w: &mut BitWriter, x: f64) {
    let m = x * 1000.0;
    // Go: uint(math.Round(x*1000)) / 1000 == x decides "whole when multiplied".
    let whole = (m.round() / 1000.0) == x;
    if !(0.0..=33_554_430.0).contains(&m) || !whole {
        w.write_bit(false);
        w.write_bits(x.to_bits(), 64);
        return;
    }
    put_varbit_uint(w, m.round() as u64 + 1);
}

/// The state of one XOR-encoded float on the writing side; `leading == 0xff` means no
/// window was written yet.
#[derive(Debug, Clone, Copy)]
pub struct XorWriteState {
    pub value: f64,
    pub leading: u8,
    pub trailing: u8,
}

impl XorWriteState {
    /// The state before the first XOR-encoded value, relative to `value`.
    pub fn new(value: f64) -> Self {
        XorWriteState {
            value,
            leading: 0xff,
            trailing: 0,
        }
    }
}

/// Writes `v` XOR-encoded against `st.value` (Gorilla), updating the window, and
/// makes `v` the new reference value.
pub fn put_xor(w: &mut BitWriter, st: &mut XorWriteState, v: f64) {
    let delta = v.to_bits() ^ st.value.to_bits();
    st.value = v;
    if delta == 0 {
        w.write_bit(false);
        return;
    }
    w.write_bit(true);
    let leading = (delta.leading_zeros() as u8).min(31);
    let trailing = delta.trailing_zeros() as u8;
    if st.leading != 0xff && leading >= st.leading && trailing >= st.trailing {
        w.write_bit(false);
        w.write_bits(delta >> st.trailing, 64 - st.leading - st.trailing);
        return;
    }
    st.leading = leading;
    st.trailing = trailing;
    w.write_bit(true);
    w.write_bits(u64::from(leading), 5);
    let sig = 64 - leading - trailing;
    // 64 significant bits are written as 0 in the 6-bit field.
    w.write_bits(u64::from(sig), 6);
    w.write_bits(delta >> trailing, sig);
}

#[cfg(test)]
mod write_tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    fn reader(w: &BitWriter) -> BitReader<'_> {
        BitReader::new(w.bytes(), 0)
    }

    proptest! {
        #[test]
        fn varbits_round_trip(ints in proptest::collection::vec(any::<i64>(), 0..40),
                              small in proptest::collection::vec(-70_000i64..70_000, 0..40),
                              uints in proptest::collection::vec(any::<u64>(), 0..40)) {
            let mut w = BitWriter::default();
            for v in ints.iter().chain(&small) {
                put_varbit_int(&mut w, *v);
            }
            for v in &uints {
                put_varbit_uint(&mut w, *v);
            }
            let mut r = reader(&w);
            for v in ints.iter().chain(&small) {
                prop_assert_eq!(r.read_varbit_int().unwrap(), *v);
            }
            for v in &uints {
                prop_assert_eq!(r.read_varbit_uint().unwrap(), *v);
            }
        }

        #[test]
        fn floats_round_trip(zs in proptest::collection::vec(any::<f64>(), 0..20),
                             bounds in proptest::collection::vec(any::<f64>(), 0..20),
                             milli in proptest::collection::vec(0u32..40_000_000, 0..20),
                             xs in proptest::collection::vec(any::<f64>(), 1..40)) {
            let mut w = BitWriter::default();
            for z in &zs {
                put_zero_threshold(&mut w, *z);
            }
            let ms: Vec<f64> = milli.iter().map(|m| f64::from(*m) / 1000.0).collect();
            for b in bounds.iter().chain(&ms) {
                put_custom_bound(&mut w, *b);
            }
            let mut st = XorWriteState::new(0.0);
            for x in &xs {
                put_xor(&mut w, &mut st, *x);
            }
            let mut r = reader(&w);
            for z in &zs {
                let got = r.read_zero_threshold().unwrap();
                // -0.0 is stored as 0, like Prometheus does.
                let want = if *z == 0.0 { 0.0 } else { *z };
                prop_assert_eq!(got.to_bits(), want.to_bits());
            }
            for b in bounds.iter().chain(&ms) {
                let got = r.read_custom_bound().unwrap();
                // -0.0 is stored as the bound 0, like Prometheus does.
                let want = if *b == 0.0 { 0.0 } else { *b };
                prop_assert_eq!(got.to_bits(), want.to_bits());
            }
            let mut rs = XorState::default();
            for x in &xs {
                r.read_xor(&mut rs).unwrap();
                prop_assert_eq!(rs.value.to_bits(), x.to_bits());
            }
        }
    }

    #[test]
    fn compact_encodings() {
        // Prometheus' default zero threshold 2^-128 is the single byte 116.
        let mut w = BitWriter::default();
        put_zero_threshold(&mut w, 2f64.powi(-128));
        assert_eq!(w.bytes(), &[116]);
        // 0.25 as a custom bound is 251 (varbit uint with the 9-bit class).
        let mut w = BitWriter::default();
        put_custom_bound(&mut w, 0.25);
        let mut r = reader(&w);
        assert_eq!(r.read_varbit_uint().unwrap(), 251);
        // Varbit class boundaries: 4 fits 3 bits, -4 does not.
        let mut w = BitWriter::default();
        put_varbit_int(&mut w, 4);
        put_varbit_int(&mut w, -4);
        assert_eq!(w.bytes(), &[0b1010_0110, 0b1111_0000]);
    }
}
