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

    #[inline]
    pub fn varint(&mut self) -> Result<u64> {
        // Tags, lengths and small numbers fit one byte.
        if let Some(&b) = self.buf.get(self.pos)
            && b < 0x80
        {
            self.pos += 1;
            return Ok(u64::from(b));
        }
        self.varint_multi()
    }

    fn varint_multi(&mut self) -> Result<u64> {
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

    /// A `sint32`/`sint64` (zigzag) value. `sint32` callers truncate to 32 bits first, as
    /// protobuf does.
    pub fn sint64(&mut self) -> Result<i64> {
        Ok(unzigzag64(self.varint()?))
    }

    /// A double, as a fixed64.
    pub fn double(&mut self) -> Result<f64> {
        Ok(f64::from_bits(self.fixed64()?))
    }

    /// The next field's number and wire type.
    #[inline]
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
    #[inline]
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

/// Decodes a zigzag-encoded 64-bit value.
pub fn unzigzag64(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

/// Decodes a zigzag-encoded 32-bit value (the varint truncated to 32 bits, as protobuf does).
pub fn unzigzag32(v: u64) -> i32 {
    let v = v as u32;
    ((v >> 1) as i32) ^ -((v & 1) as i32)
}

pub fn zigzag64(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

pub fn zigzag32(v: i32) -> u64 {
    u64::from(((v << 1) ^ (v >> 31)) as u32)
}

/// Calls `f` with each element of a repeated varint field, packed (`WIRE_LEN`) or not.
pub fn for_each_varint(
    r: &mut Reader<'_>,
    wire: u8,
    mut f: impl FnMut(u64) -> Result<()>,
) -> Result<()> {
    match wire {
        WIRE_VARINT => f(r.varint()?),
        WIRE_LEN => {
            let (b, off) = r.bytes()?;
            let mut pr = Reader::new(b, off);
            while !pr.is_empty() {
                f(pr.varint()?)?;
            }
            Ok(())
        }
        w => r.skip(w),
    }
}

/// Appends each element of a repeated double field, packed (`WIRE_LEN`) or not.
pub fn extend_doubles(r: &mut Reader<'_>, wire: u8, out: &mut Vec<f64>) -> Result<()> {
    match wire {
        WIRE_FIXED64 => out.push(r.double()?),
        WIRE_LEN => {
            let (b, off) = r.bytes()?;
            if !b.len().is_multiple_of(8) {
                return Err(Error::Protobuf {
                    offset: off,
                    reason: format!("packed doubles of {} bytes, not a multiple of 8", b.len()),
                });
            }
            out.extend(b.chunks_exact(8).map(|c| {
                let mut a = [0u8; 8];
                a.copy_from_slice(c);
                f64::from_le_bytes(a)
            }));
        }
        w => r.skip(w)?,
    }
    Ok(())
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
    pub fn uint64(&mut self, field: u32, v: u64) {
        self.tag(field, WIRE_VARINT);
        put_varint(&mut self.buf, v);
    }
    pub fn sint64(&mut self, field: u32, v: i64) {
        self.uint64(field, zigzag64(v));
    }
    pub fn sint32(&mut self, field: u32, v: i32) {
        self.uint64(field, zigzag32(v));
    }

    /// Proto3 scalar rule: a field with the default value is not written. Doubles compare
    /// by bits, so -0.0 is kept.
    pub fn int64_nonzero(&mut self, field: u32, v: i64) {
        if v != 0 {
            self.int64(field, v);
        }
    }
    pub fn uint64_nonzero(&mut self, field: u32, v: u64) {
        if v != 0 {
            self.uint64(field, v);
        }
    }
    pub fn double_nonzero(&mut self, field: u32, v: f64) {
        if v.to_bits() != 0 {
            self.double(field, v);
        }
    }

    /// A packed repeated varint field (nothing when empty).
    pub fn packed_varints(&mut self, field: u32, vals: impl Iterator<Item = u64> + Clone) {
        let len: usize = vals.clone().map(varint_len).sum();
        if len == 0 {
            return;
        }
        self.tag(field, WIRE_LEN);
        put_varint(&mut self.buf, len as u64);
        for v in vals {
            put_varint(&mut self.buf, v);
        }
    }

    /// A packed repeated double field (nothing when empty).
    pub fn packed_doubles(&mut self, field: u32, vals: &[f64]) {
        if vals.is_empty() {
            return;
        }
        self.tag(field, WIRE_LEN);
        put_varint(&mut self.buf, (vals.len() * 8) as u64);
        for v in vals {
            self.buf.extend_from_slice(&v.to_bits().to_le_bytes());
        }
    }

    /// An embedded message written by `f` straight into this buffer: the length prefix
    /// is patched in afterwards (moving the body only when it needs more than one byte).
    pub fn message(&mut self, field: u32, f: impl FnOnce(&mut Self)) {
        self.tag(field, WIRE_LEN);
        let at = self.buf.len();
        self.buf.push(0);
        f(self);
        let len = self.buf.len() - at - 1;
        if len < 0x80 {
            self.buf[at] = len as u8;
            return;
        }
        let mut prefix = [0u8; 10];
        let mut n = 0;
        let mut x = len as u64;
        while x >= 0x80 {
            prefix[n] = (x as u8) | 0x80;
            x >>= 7;
            n += 1;
        }
        prefix[n] = x as u8;
        let extra = n;
        self.buf.resize(self.buf.len() + extra, 0);
        self.buf.copy_within(at + 1..at + 1 + len, at + 1 + extra);
        self.buf[at..=at + n].copy_from_slice(&prefix[..=n]);
    }
}

/// The encoded size of a varint.
pub fn varint_len(v: u64) -> usize {
    (64 - (v | 1).leading_zeros() as usize).div_ceil(7)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn zigzag() {
        for (v, z) in [
            (0i64, 0u64),
            (-1, 1),
            (1, 2),
            (-2, 3),
            (i64::MAX, u64::MAX - 1),
            (i64::MIN, u64::MAX),
        ] {
            assert_eq!(zigzag64(v), z);
            assert_eq!(unzigzag64(z), v);
        }
        assert_eq!(zigzag32(-1), 1);
        assert_eq!(zigzag32(i32::MIN), u64::from(u32::MAX));
        assert_eq!(unzigzag32(u64::from(u32::MAX)), i32::MIN);
    }

    proptest! {
        #[test]
        fn varint_len_matches(v in any::<u64>()) {
            let mut b = Vec::new();
            put_varint(&mut b, v);
            prop_assert_eq!(b.len(), varint_len(v));
        }

        #[test]
        fn message_prefix_is_patched(body in proptest::collection::vec(any::<u8>(), 0..400)) {
            let mut w = Writer::default();
            w.message(3, |w| w.buf.extend_from_slice(&body));
            let mut r = Reader::new(&w.buf, 0);
            prop_assert_eq!(r.tag().unwrap(), (3, WIRE_LEN));
            prop_assert_eq!(r.bytes().unwrap().0, &body[..]);
            prop_assert!(r.is_empty());
        }
    }
}
