//! Minimal protobuf wire-format reading and writing (varints, tags, length-delimited
//! fields, fixed64), enough for the remote-write messages.

use crate::error::{Error, Result};

pub const WIRE_VARINT: u8 = 0;
pub const WIRE_FIXED64: u8 = 1;
pub const WIRE_LEN: u8 = 2;
pub const WIRE_FIXED32: u8 = 5;

/// A cursor over a protobuf message.
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    /// Offset of `buf[0]` in the whole request, for error messages.
    base: usize,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8], base: usize) -> Self {
        Reader { buf, pos: 0, base }
    }

    pub fn offset(&self) -> usize {
        self.base + self.pos
    }

    fn err(&self, reason: &str) -> Error {
        Error::Protobuf {
            offset: self.offset(),
            reason: reason.to_owned(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.pos >= self.buf.len()
    }

    pub fn varint(&mut self) -> Result<u64> {
        let mut x = 0u64;
        let mut shift = 0;
        loop {
            let b = *self
                .buf
                .get(self.pos)
                .ok_or_else(|| self.err("truncated varint"))?;
            self.pos += 1;
            if shift == 63 && b > 1 {
                return Err(self.err("varint overflows 64 bits"));
            }
            x |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Ok(x);
            }
            shift += 7;
            if shift > 63 {
                return Err(self.err("varint too long"));
            }
        }
    }

    /// The next field's number and wire type.
    pub fn tag(&mut self) -> Result<(u32, u8)> {
        let t = self.varint()?;
        let field = u32::try_from(t >> 3).map_err(|_| self.err("field number too large"))?;
        if field == 0 {
            return Err(self.err("field number 0"));
        }
        Ok((field, (t & 7) as u8))
    }

    pub fn fixed64(&mut self) -> Result<u64> {
        let b = self
            .buf
            .get(self.pos..self.pos + 8)
            .ok_or_else(|| self.err("truncated fixed64"))?;
        self.pos += 8;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }

    /// A length-delimited field's bytes and their offset in the request.
    pub fn bytes(&mut self) -> Result<(&'a [u8], usize)> {
        let n = usize::try_from(self.varint()?).map_err(|_| self.err("length overflows"))?;
        let start = self.pos;
        let end = start
            .checked_add(n)
            .ok_or_else(|| self.err("length overflows"))?;
        let b = self
            .buf
            .get(start..end)
            .ok_or_else(|| self.err("length exceeds message"))?;
        self.pos = end;
        Ok((b, self.base + start))
    }

    pub fn str(&mut self, what: &'static str) -> Result<&'a str> {
        let (b, off) = self.bytes()?;
        std::str::from_utf8(b).map_err(|_| Error::Utf8 { what, offset: off })
    }

    /// Skips a field of the given wire type.
    pub fn skip(&mut self, wire: u8) -> Result<()> {
        match wire {
            WIRE_VARINT => self.varint().map(|_| ()),
            WIRE_FIXED64 => self.fixed64().map(|_| ()),
            WIRE_LEN => self.bytes().map(|_| ()),
            WIRE_FIXED32 => {
                if self.buf.len() < self.pos + 4 {
                    return Err(self.err("truncated fixed32"));
                }
                self.pos += 4;
                Ok(())
            }
            _ => Err(self.err("unsupported wire type (groups are not used by remote write)")),
        }
    }
}

/// Appends protobuf fields to a buffer.
#[derive(Default)]
pub struct Writer {
    pub buf: Vec<u8>,
}

pub fn put_varint(buf: &mut Vec<u8>, mut x: u64) {
    while x >= 0x80 {
        buf.push((x as u8) | 0x80);
        x >>= 7;
    }
    buf.push(x as u8);
}

impl Writer {
    pub fn tag(&mut self, field: u32, wire: u8) {
        put_varint(&mut self.buf, (u64::from(field) << 3) | u64::from(wire));
    }
    pub fn bytes(&mut self, field: u32, b: &[u8]) {
        self.tag(field, WIRE_LEN);
        put_varint(&mut self.buf, b.len() as u64);
        self.buf.extend_from_slice(b);
    }
    pub fn double(&mut self, field: u32, v: f64) {
        self.tag(field, WIRE_FIXED64);
        self.buf.extend_from_slice(&v.to_bits().to_le_bytes());
    }
    pub fn int64(&mut self, field: u32, v: i64) {
        self.tag(field, WIRE_VARINT);
        put_varint(&mut self.buf, v as u64);
    }
}
