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
