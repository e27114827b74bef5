//! Bit streams for chunk encodings, most significant bit first.

use crate::error::{Error, Result};

/// Appends bits to a byte vector.
#[derive(Debug, Clone, Default)]
pub struct BitWriter {
    pub(crate) bytes: Vec<u8>,
    /// Bits still free in the last byte (0 = start a new byte).
    free: u8,
}

impl BitWriter {
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        BitWriter { bytes, free: 0 }
    }

    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    pub fn write_bit(&mut self, bit: bool) {
        if self.free == 0 {
            self.bytes.push(0);
            self.free = 8;
        }
        if bit && let Some(last) = self.bytes.last_mut() {
            *last |= 1 << (self.free - 1);
        }
        self.free -= 1;
    }

    pub fn write_byte(&mut self, b: u8) {
        if self.free == 0 {
            self.bytes.push(b);
            return;
        }
        let free = self.free;
        if let Some(last) = self.bytes.last_mut() {
            *last |= b >> (8 - free);
        }
        self.bytes.push(b << free);
    }

    /// Writes the lowest `n` (≤ 64) bits of `v`, most significant first: the free bits
    /// of the last byte first, then whole bytes, then the rest into a new byte.
    pub fn write_bits(&mut self, v: u64, n: u8) {
        let mut n = u32::from(n.min(64));
        if n == 0 {
            return;
        }
        let mut v = if n == 64 { v } else { v & ((1u64 << n) - 1) };
        if self.free > 0
            && let Some(last) = self.bytes.last_mut()
        {
            let free = u32::from(self.free);
            let take = n.min(free);
            n -= take;
            // The top `take` of the `n + take` bits, placed just below the used bits.
            let top = (v >> n) as u8;
            *last |= top << (free - take);
            self.free = (free - take) as u8;
            if n == 0 {
                return;
            }
            v &= (1u64 << n) - 1;
        }
        while n >= 8 {
            n -= 8;
            self.bytes.push((v >> n) as u8);
        }
        if n > 0 {
            self.bytes.push(((v << (8 - n)) & 0xff) as u8);
            self.free = (8 - n) as u8;
        } else {
            self.free = 0;
        }
    }
}

/// Reads bits from a byte slice.
#[derive(Debug, Clone)]
pub struct BitReader<'a> {
    b: &'a [u8],
    /// Index of the current byte.
    pos: usize,
    /// Bits already consumed in the current byte.
    used: u8,
}

impl<'a> BitReader<'a> {
    pub fn new(b: &'a [u8]) -> Self {
        BitReader { b, pos: 0, used: 0 }
    }

    /// A reader positioned at bit `bit_pos` of `b`.
    pub fn at(b: &'a [u8], bit_pos: usize) -> Self {
        BitReader {
            b,
            pos: bit_pos / 8,
            used: (bit_pos % 8) as u8,
        }
    }

    /// The current position in bits from the start.
    pub fn bit_position(&self) -> usize {
        self.pos * 8 + usize::from(self.used)
    }

    fn eof() -> Error {
        Error::Decode("unexpected end of chunk data".into())
    }

    pub fn read_bit(&mut self) -> Result<bool> {
        let byte = *self.b.get(self.pos).ok_or_else(Self::eof)?;
        let bit = (byte >> (7 - self.used)) & 1 == 1;
        self.used += 1;
        if self.used == 8 {
            self.used = 0;
            self.pos += 1;
        }
        Ok(bit)
    }

    pub fn read_byte(&mut self) -> Result<u8> {
        Ok(self.read_bits(8)? as u8)
    }

    /// Reads `n` (≤ 64) bits as the low bits of the result.
    pub fn read_bits(&mut self, n: u8) -> Result<u64> {
        if n == 0 {
            return Ok(0);
        }
        if n > 57 {
            // One 8-byte window holds at least 57 unread bits; split wider reads.
            let hi = self.read_bits(n - 32)?;
            let lo = self.read_bits(32)?;
            return Ok((hi << 32) | lo);
        }
        let end_bit = self.bit_position() + usize::from(n);
        if end_bit > self.b.len() * 8 {
            return Err(Self::eof());
        }
        let word = self.window8() << self.used;
        let v = word >> (64 - u32::from(n));
        self.pos = end_bit / 8;
        self.used = (end_bit % 8) as u8;
        Ok(v)
    }

    /// Up to 8 bytes from the current byte, big-endian, zero-padded past the end.
    #[inline]
    fn window8(&self) -> u64 {
        let mut window = [0u8; 8];
        match self.b.get(self.pos..self.pos + 8) {
            Some(w) => window.copy_from_slice(w),
            None => {
                let rest = self.b.get(self.pos..).unwrap_or_default();
                window[..rest.len()].copy_from_slice(rest);
            }
        }
        u64::from_be_bytes(window)
    }

    /// Bits left to read.
    #[inline]
    pub fn remaining_bits(&self) -> usize {
        (self.b.len() * 8).saturating_sub(self.bit_position())
    }

    /// The next 64 bits, most significant first, without consuming them (zero past the
    /// end of the data; check [`BitReader::remaining_bits`] before using them).
    #[inline]
    pub fn peek64(&self) -> u64 {
        let word = self.window8();
        if self.used == 0 {
            return word;
        }
        let next = u64::from(self.b.get(self.pos + 8).copied().unwrap_or(0));
        (word << self.used) | (next >> (8 - self.used))
    }

    /// Skips `n` bits (the caller checked that they exist).
    #[inline]
    pub fn consume(&mut self, n: usize) {
        let end = self.bit_position() + n;
        self.pos = end / 8;
        self.used = (end % 8) as u8;
    }

    /// Reads a Go uvarint byte by byte from the bit stream.
    pub fn read_uvarint(&mut self) -> Result<u64> {
        let mut x = 0u64;
        let mut s = 0u32;
        for i in 0..10 {
            let c = self.read_byte()?;
            if c < 0x80 {
                if i == 9 && c > 1 {
                    break;
                }
                return Ok(x | (u64::from(c) << s));
            }
            x |= u64::from(c & 0x7f) << s;
            s += 7;
        }
        Err(Error::Decode("varint overflows 64 bits in chunk".into()))
    }

    /// Reads a Go (zig-zag) varint.
    pub fn read_varint(&mut self) -> Result<i64> {
        let ux = self.read_uvarint()?;
        let x = (ux >> 1) as i64;
        Ok(if ux & 1 != 0 { !x } else { x })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The bit-at-a-time writer `write_bits` must match.
    fn write_bits_slow(w: &mut BitWriter, v: u64, n: u8) {
        for i in (0..n).rev() {
            w.write_bit((v >> i) & 1 == 1);
        }
    }

    proptest! {
        #[test]
        fn write_bits_matches_bitwise(
            items in proptest::collection::vec((any::<u64>(), 0u8..=64, any::<bool>()), 0..60)
        ) {
            let (mut fast, mut slow) = (BitWriter::default(), BitWriter::default());
            for (v, n, byte) in &items {
                if *byte {
                    fast.write_byte(*n);
                    slow.write_byte(*n);
                } else {
                    fast.write_bits(*v, *n);
                    write_bits_slow(&mut slow, *v, *n);
                }
                prop_assert_eq!(fast.bytes(), slow.bytes());
                prop_assert_eq!(fast.free, slow.free);
            }
        }

        #[test]
        fn bits_round_trip(items in proptest::collection::vec((any::<u64>(), 1u8..=64), 0..50)) {
            let mut w = BitWriter::default();
            for (v, n) in &items {
                w.write_bits(*v, *n);
            }
            let mut r = BitReader::new(w.bytes());
            for (v, n) in &items {
                let mask = if *n == 64 { u64::MAX } else { (1u64 << n) - 1 };
                prop_assert_eq!(r.read_bits(*n).unwrap(), v & mask);
            }
        }
    }
}
