//! Byte-level encoding shared by the index, chunk, WAL and tombstone formats: big-endian
//! integers, Go-compatible varints (`binary.PutUvarint`/`PutVarint`), length-prefixed
//! strings and CRC32 Castagnoli.

use crate::error::{Error, Result};

/// CRC32 with the Castagnoli polynomial, as Prometheus uses everywhere.
pub fn crc32c(data: &[u8]) -> u32 {
    crc32c::crc32c(data)
}

/// Appends encoded values to a byte vector.
#[derive(Debug, Default, Clone)]
pub struct EncBuf {
    pub buf: Vec<u8>,
}

impl EncBuf {
    pub fn new() -> Self {
        EncBuf { buf: Vec::new() }
    }
    pub fn with_capacity(n: usize) -> Self {
        EncBuf {
            buf: Vec::with_capacity(n),
        }
    }
    pub fn len(&self) -> usize {
        self.buf.len()
    }
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }
    pub fn reset(&mut self) {
        self.buf.clear();
    }
    pub fn get(&self) -> &[u8] {
        &self.buf
    }
    pub fn put_byte(&mut self, b: u8) {
        self.buf.push(b);
    }
    pub fn put_bytes(&mut self, b: &[u8]) {
        self.buf.extend_from_slice(b);
    }
    pub fn put_be32(&mut self, x: u32) {
        self.buf.extend_from_slice(&x.to_be_bytes());
    }
    pub fn put_be64(&mut self, x: u64) {
        self.buf.extend_from_slice(&x.to_be_bytes());
    }
    pub fn put_be64_f64(&mut self, x: f64) {
        self.put_be64(x.to_bits());
    }
    pub fn put_uvarint(&mut self, x: u64) {
        put_uvarint(&mut self.buf, x);
    }
    pub fn put_varint(&mut self, x: i64) {
        put_varint(&mut self.buf, x);
    }
    /// A uvarint length followed by the bytes.
    pub fn put_uvarint_str(&mut self, s: &str) {
        self.put_uvarint(s.len() as u64);
        self.put_bytes(s.as_bytes());
    }
    /// Appends the CRC32C of `self.buf[from..]`.
    pub fn put_crc32_of(&mut self, from: usize) {
        let c = crc32c(&self.buf[from..]);
        self.put_be32(c);
    }
}

/// Appends `x` as a Go uvarint.
pub fn put_uvarint(buf: &mut Vec<u8>, mut x: u64) {
    while x >= 0x80 {
        buf.push((x as u8) | 0x80);
        x >>= 7;
    }
    buf.push(x as u8);
}

/// Appends `x` as a Go (zig-zag) varint.
pub fn put_varint(buf: &mut Vec<u8>, x: i64) {
    put_uvarint(buf, ((x << 1) ^ (x >> 63)) as u64);
}

/// Decodes a Go uvarint from the start of `b`: the value and the bytes read.
pub fn uvarint(b: &[u8]) -> Option<(u64, usize)> {
    let mut x = 0u64;
    let mut s = 0u32;
    for (i, &c) in b.iter().enumerate() {
        if i == 10 {
            return None;
        }
        if c < 0x80 {
            if i == 9 && c > 1 {
                return None;
            }
            return Some((x | (u64::from(c) << s), i + 1));
        }
        x |= u64::from(c & 0x7f) << s;
        s += 7;
    }
    None
}

/// Decodes a Go varint from the start of `b`.
pub fn varint(b: &[u8]) -> Option<(i64, usize)> {
    let (ux, n) = uvarint(b)?;
    let x = (ux >> 1) as i64;
    Some((if ux & 1 != 0 { !x } else { x }, n))
}

/// Reads encoded values from a byte slice; every read checks bounds and reports the
/// offset (relative to `base`) where decoding failed.
#[derive(Debug, Clone)]
pub struct DecBuf<'a> {
    b: &'a [u8],
    pos: usize,
    base: u64,
    what: &'static str,
}

impl<'a> DecBuf<'a> {
    /// `what` names the structure in error messages; `base` is the file offset of `b[0]`.
    pub fn new(b: &'a [u8], what: &'static str, base: u64) -> Self {
        DecBuf {
            b,
            pos: 0,
            base,
            what,
        }
    }

    fn err(&self, reason: impl Into<String>) -> Error {
        Error::corruption(self.what, self.base + self.pos as u64, reason)
    }

    pub fn position(&self) -> usize {
        self.pos
    }
    pub fn remaining(&self) -> usize {
        self.b.len() - self.pos
    }
    pub fn rest(&self) -> &'a [u8] {
        &self.b[self.pos..]
    }
    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }
    pub fn skip(&mut self, n: usize) -> Result<()> {
        if self.remaining() < n {
            return Err(self.err(format!("cannot skip {n} bytes, {} left", self.remaining())));
        }
        self.pos += n;
        Ok(())
    }
    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8]> {
        if self.remaining() < n {
            return Err(self.err(format!("need {n} bytes, {} left", self.remaining())));
        }
        let s = &self.b[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }
    pub fn byte(&mut self) -> Result<u8> {
        Ok(self.bytes(1)?[0])
    }
    pub fn be32(&mut self) -> Result<u32> {
        let b = self.bytes(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    pub fn be64(&mut self) -> Result<u64> {
        let b = self.bytes(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_be_bytes(a))
    }
    pub fn be64_f64(&mut self) -> Result<f64> {
        Ok(f64::from_bits(self.be64()?))
    }
    pub fn uvarint(&mut self) -> Result<u64> {
        match uvarint(self.rest()) {
            Some((x, n)) => {
                self.pos += n;
                Ok(x)
            }
            None => Err(self.err("invalid uvarint")),
        }
    }
    pub fn uvarint32(&mut self) -> Result<u32> {
        let x = self.uvarint()?;
        u32::try_from(x).map_err(|_| self.err(format!("uvarint {x} overflows 32 bits")))
    }
    pub fn varint(&mut self) -> Result<i64> {
        match varint(self.rest()) {
            Some((x, n)) => {
                self.pos += n;
                Ok(x)
            }
            None => Err(self.err("invalid varint")),
        }
    }
    /// A uvarint-length-prefixed byte string.
    pub fn uvarint_bytes(&mut self) -> Result<&'a [u8]> {
        let n = self.uvarint()?;
        let n = usize::try_from(n).map_err(|_| self.err("length overflows"))?;
        self.bytes(n)
    }
    /// A uvarint-length-prefixed UTF-8 string.
    pub fn uvarint_str(&mut self) -> Result<&'a str> {
        let start = self.pos;
        let b = self.uvarint_bytes()?;
        std::str::from_utf8(b).map_err(|e| {
            Error::corruption(
                self.what,
                self.base + start as u64,
                format!("invalid UTF-8: {e}"),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn uvarint_round_trips(x: u64) {
            let mut b = Vec::new();
            put_uvarint(&mut b, x);
            prop_assert_eq!(uvarint(&b), Some((x, b.len())));
        }

        #[test]
        fn varint_round_trips(x: i64) {
            let mut b = Vec::new();
            put_varint(&mut b, x);
            prop_assert_eq!(varint(&b), Some((x, b.len())));
        }

        #[test]
        fn decbuf_never_panics(b: Vec<u8>) {
            let mut d = DecBuf::new(&b, "fuzz", 0);
            let _ = d.uvarint_str();
            let _ = d.varint();
            let _ = d.be64();
        }
    }

    #[test]
    fn go_varint_vectors() {
        // Go: binary.PutVarint(-1) = [0x01], PutVarint(1) = [0x02], PutUvarint(300) = [0xac 0x02]
        let mut b = Vec::new();
        put_varint(&mut b, -1);
        put_varint(&mut b, 1);
        put_uvarint(&mut b, 300);
        assert_eq!(b, [0x01, 0x02, 0xac, 0x02]);
    }

    #[test]
    fn truncated_input_reports_offset() {
        let mut d = DecBuf::new(&[0x80, 0x80], "index", 100);
        let e = d.uvarint().unwrap_err().to_string();
        assert!(e.contains("index") && e.contains("offset 100"), "{e}");
    }
}
