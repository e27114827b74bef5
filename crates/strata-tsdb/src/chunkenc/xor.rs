//! The Gorilla XOR float chunk, bit-compatible with Prometheus' `chunkenc.XORChunk`.
//!
//! Layout: a 2-byte big-endian sample count, then a bit stream. The first sample is a
//! varint timestamp and the raw 64 value bits; the second a uvarint timestamp delta and
//! an XOR-encoded value; later samples a delta-of-delta timestamp in one of five widths
//! (0, 14, 17, 20 or 64 bits after a 1-4 bit prefix) and an XOR-encoded value that reuses
//! the previous leading/trailing zero window when it fits.

use super::bstream::{BitReader, BitWriter};
use crate::error::{Error, Result};

/// An appendable XOR chunk.
#[derive(Debug, Clone)]
pub struct XorChunk {
    w: BitWriter,
    num: u16,
    t: i64,
    v: u64,
    t_delta: u64,
    leading: u8,
    trailing: u8,
}

impl Default for XorChunk {
    fn default() -> Self {
        Self::new()
    }
}

fn bit_range(x: i64, nbits: u8) -> bool {
    let lim = 1i64 << (nbits - 1);
    -(lim - 1) <= x && x <= lim
}

impl XorChunk {
    /// An empty chunk.
    pub fn new() -> Self {
        Self::with_capacity(32)
    }

    /// An empty chunk with room for `bytes` encoded bytes (header included) before it
    /// reallocates.
    pub fn with_capacity(bytes: usize) -> Self {
        let mut b = Vec::with_capacity(bytes.max(2));
        b.extend_from_slice(&[0, 0]);
        XorChunk {
            w: BitWriter::from_bytes(b),
            num: 0,
            t: 0,
            v: 0,
            t_delta: 0,
            leading: 0xff,
            trailing: 0,
        }
    }

    /// The encoded bytes (header included), as stored on disk.
    pub fn bytes(&self) -> &[u8] {
        self.w.bytes()
    }

    /// Number of samples appended.
    pub fn num_samples(&self) -> u16 {
        self.num
    }

    /// Timestamp of the last appended sample.
    pub fn last_t(&self) -> i64 {
        self.t
    }

    /// Releases spare capacity (for chunks that will not grow again).
    pub fn shrink_to_fit(&mut self) {
        self.w.bytes.shrink_to_fit();
    }

    /// Bytes of heap memory held.
    pub fn heap_size(&self) -> usize {
        self.w.bytes.capacity()
    }

    /// Appends a sample. Timestamps must not decrease (the caller checks order).
    pub fn append(&mut self, t: i64, v: f64) {
        let vb = v.to_bits();
        match self.num {
            0 => {
                let mut buf = Vec::with_capacity(10);
                crate::encoding::put_varint(&mut buf, t);
                for b in buf {
                    self.w.write_byte(b);
                }
                self.w.write_bits(vb, 64);
            }
            1 => {
                let td = t.wrapping_sub(self.t) as u64;
                let mut buf = Vec::with_capacity(10);
                crate::encoding::put_uvarint(&mut buf, td);
                for b in buf {
                    self.w.write_byte(b);
                }
                self.write_value(vb);
                self.t_delta = td;
            }
            _ => {
                let td = t.wrapping_sub(self.t) as u64;
                let dod = td.wrapping_sub(self.t_delta) as i64;
                if dod == 0 {
                    self.w.write_bit(false);
                } else if bit_range(dod, 14) {
                    self.w.write_bits(0b10, 2);
                    self.w.write_bits(dod as u64, 14);
                } else if bit_range(dod, 17) {
                    self.w.write_bits(0b110, 3);
                    self.w.write_bits(dod as u64, 17);
                } else if bit_range(dod, 20) {
                    self.w.write_bits(0b1110, 4);
                    self.w.write_bits(dod as u64, 20);
                } else {
                    self.w.write_bits(0b1111, 4);
                    self.w.write_bits(dod as u64, 64);
                }
                self.write_value(vb);
                self.t_delta = td;
            }
        }
        self.t = t;
        self.v = vb;
        self.num = self.num.saturating_add(1);
        let [a, b] = self.num.to_be_bytes();
        self.w.bytes[0] = a;
        self.w.bytes[1] = b;
    }

    fn write_value(&mut self, vb: u64) {
        let delta = vb ^ self.v;
        if delta == 0 {
            self.w.write_bit(false);
            return;
        }
        self.w.write_bit(true);
        let mut leading = delta.leading_zeros() as u8;
        let trailing = delta.trailing_zeros() as u8;
        if leading >= 32 {
            leading = 31;
        }
        if self.leading != 0xff && leading >= self.leading && trailing >= self.trailing {
            self.w.write_bit(false);
            self.w
                .write_bits(delta >> self.trailing, 64 - self.leading - self.trailing);
            return;
        }
        self.leading = leading;
        self.trailing = trailing;
        self.w.write_bit(true);
        self.w.write_bits(u64::from(leading), 5);
        let sig = 64 - leading - trailing;
        // 64 significant bits are written as 0 in the 6-bit field.
        self.w.write_bits(u64::from(sig), 6);
        self.w.write_bits(delta >> trailing, sig);
    }

    /// Iterates over the samples.
    pub fn iter(&self) -> XorIter<&[u8]> {
        XorIter::new(self.bytes())
    }
}

/// Decodes the samples of an XOR chunk held in any byte container.
pub struct XorIter<B: AsRef<[u8]>> {
    data: B,
    st: DecodeState,
}

/// Where a decoder stands: the position of the next sample and what decoding it needs.
/// Shared by the per-sample decoder below and the bulk one in `xor_bulk`.
pub(super) struct DecodeState {
    /// Bit position of the next sample.
    pub(super) bitpos: usize,
    pub(super) total: u16,
    pub(super) read: u16,
    pub(super) t: i64,
    pub(super) v: u64,
    pub(super) t_delta: u64,
    pub(super) leading: u8,
    pub(super) trailing: u8,
    /// Set by a decoding error: the iterator yields nothing more.
    pub(super) failed: bool,
}

impl<B: AsRef<[u8]>> XorIter<B> {
    pub fn new(data: B) -> Self {
        let total = super::chunk_num_samples(data.as_ref());
        XorIter {
            data,
            st: DecodeState {
                bitpos: 16,
                total,
                read: 0,
                t: 0,
                v: 0,
                t_delta: 0,
                leading: 0,
                trailing: 0,
                failed: false,
            },
        }
    }

    /// Number of samples the header announces.
    pub fn len(&self) -> usize {
        usize::from(self.st.total)
    }

    pub fn is_empty(&self) -> bool {
        self.st.total == 0
    }

    /// The next sample; `Ok(None)` at the end; an error when the data is malformed.
    pub fn next_sample(&mut self) -> Result<Option<(i64, f64)>> {
        self.st.next(self.data.as_ref())
    }

    /// Decodes the remaining samples into `out`, keeping those in `[mint, maxt]`.
    /// Returns true when it stopped at a sample after `maxt`: that sample is consumed
    /// (not returned) and the iterator stays positioned after it, so later calls and
    /// [`XorIter::next_sample`] go on with the following samples. Same samples and
    /// errors as repeated [`XorIter::next_sample`] (after an error, nothing more), but
    /// several times faster: see `xor_bulk`.
    pub fn drain_range(&mut self, out: &mut Vec<(i64, f64)>, mint: i64, maxt: i64) -> Result<bool> {
        super::xor_bulk::drain_range(&mut self.st, self.data.as_ref(), out, mint, maxt)
    }

    /// Decodes all remaining samples.
    pub fn collect_all(mut self) -> Result<Vec<(i64, f64)>> {
        let mut v = Vec::with_capacity(self.len().saturating_sub(usize::from(self.st.read)));
        self.drain_range(&mut v, i64::MIN, i64::MAX)?;
        Ok(v)
    }
}

impl DecodeState {
    /// Decodes one sample at a time (the reference the bulk decoder is tested against).
    pub(super) fn next(&mut self, bytes: &[u8]) -> Result<Option<(i64, f64)>> {
        if self.read >= self.total || self.failed {
            return Ok(None);
        }
        let mut r = BitReader::at(bytes, self.bitpos);
        match self.decode_one(&mut r) {
            Ok(()) => {
                self.bitpos = r.bit_position();
                self.read += 1;
                Ok(Some((self.t, f64::from_bits(self.v))))
            }
            Err(e) => Err(self.fail(self.read, &e)),
        }
    }

    /// Marks the decoder failed and names sample `index` in the error.
    pub(super) fn fail(&mut self, index: u16, e: &Error) -> Error {
        self.failed = true;
        Error::Decode(format!(
            "XOR chunk with {} samples: sample {index}: {e}",
            self.total
        ))
    }

    fn decode_one(&mut self, r: &mut BitReader<'_>) -> Result<()> {
        match self.read {
            0 => {
                self.t = r.read_varint()?;
                self.v = r.read_bits(64)?;
            }
            1 => {
                self.t_delta = r.read_uvarint()?;
                self.t = self.t.wrapping_add(self.t_delta as i64);
                self.read_value(r)?;
            }
            _ if r.remaining_bits() >= 24 && r.peek64().leading_ones() < 4 => {
                // Fast path: the delta-of-delta's prefix and bits (at most 24) from one
                // peeked word.
                let w = r.peek64();
                let (len, size) = match w.leading_ones() {
                    0 => (1, 0),
                    1 => (2, 14),
                    2 => (3, 17),
                    _ => (4, 20),
                };
                let dod = if size == 0 {
                    0
                } else {
                    let bits = (w << len) >> (64 - size);
                    if bits > (1u64 << (size - 1)) {
                        (bits as i64) - (1i64 << size)
                    } else {
                        bits as i64
                    }
                };
                r.consume(len + size as usize);
                self.t_delta = self.t_delta.wrapping_add(dod as u64);
                self.t = self.t.wrapping_add(self.t_delta as i64);
                self.read_value(r)?;
            }
            _ => {
                let mut prefix = 0u8;
                for _ in 0..4 {
                    prefix <<= 1;
                    if !r.read_bit()? {
                        break;
                    }
                    prefix |= 1;
                }
                let size = match prefix {
                    0b0 => 0,
                    0b10 => 14,
                    0b110 => 17,
                    0b1110 => 20,
                    _ => 64,
                };
                let dod = if size == 0 {
                    0
                } else {
                    let bits = r.read_bits(size)?;
                    if size != 64 && bits > (1u64 << (size - 1)) {
                        (bits as i64) - (1i64 << size)
                    } else {
                        bits as i64
                    }
                };
                self.t_delta = self.t_delta.wrapping_add(dod as u64);
                self.t = self.t.wrapping_add(self.t_delta as i64);
                self.read_value(r)?;
            }
        }
        Ok(())
    }

    fn read_value(&mut self, r: &mut BitReader<'_>) -> Result<()> {
        // Fast path: an unchanged value, or a value within the previous window, whose
        // control and significant bits fit one peeked word.
        if r.remaining_bits() >= 64 {
            let w = r.peek64();
            if w >> 63 == 0 {
                r.consume(1);
                return Ok(());
            }
            let sig = 64u32.saturating_sub(u32::from(self.leading) + u32::from(self.trailing));
            if (w >> 62) & 1 == 0 && sig > 0 && sig <= 62 {
                let bits = (w << 2) >> (64 - sig);
                r.consume(2 + sig as usize);
                self.v ^= bits << self.trailing;
                return Ok(());
            }
        }
        if !r.read_bit()? {
            return Ok(());
        }
        if r.read_bit()? {
            self.leading = r.read_bits(5)? as u8;
            let mut sig = r.read_bits(6)? as u8;
            if sig == 0 {
                sig = 64;
            }
            if u32::from(self.leading) + u32::from(sig) > 64 {
                return Err(Error::Decode("invalid XOR window".into()));
            }
            self.trailing = 64 - self.leading - sig;
        }
        let sig = 64u32.saturating_sub(u32::from(self.leading) + u32::from(self.trailing));
        if sig == 0 {
            return Err(Error::Decode(
                "XOR value window before any window was set".into(),
            ));
        }
        let bits = r.read_bits(sig as u8)?;
        self.v ^= bits << self.trailing;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn samples() -> impl Strategy<Value = Vec<(i64, f64)>> {
        let step = prop_oneof![
            Just(15_000i64),
            0i64..3,
            0i64..100_000,
            0i64..i64::MAX / 4096
        ];
        let val = prop_oneof![
            any::<f64>(),
            (0u32..1000).prop_map(f64::from),
            Just(f64::NAN),
            Just(strata_model::stale_nan()),
            Just(f64::INFINITY)
        ];
        (any::<i32>(), proptest::collection::vec((step, val), 0..300)).prop_map(|(start, v)| {
            let mut t = i64::from(start);
            v.into_iter()
                .map(|(d, x)| {
                    t = t.saturating_add(d);
                    (t, x)
                })
                .collect()
        })
    }

    proptest! {
        #[test]
        fn xor_round_trips(input in samples()) {
            let mut c = XorChunk::new();
            for (t, v) in &input {
                c.append(*t, *v);
            }
            let got = c.iter().collect_all().unwrap();
            prop_assert_eq!(got.len(), input.len());
            for ((gt, gv), (t, v)) in got.iter().zip(&input) {
                prop_assert_eq!(gt, t);
                prop_assert_eq!(gv.to_bits(), v.to_bits());
            }
        }

        #[test]
        fn garbage_never_panics(data in proptest::collection::vec(any::<u8>(), 0..200)) {
            let mut it = XorIter::new(&data[..]);
            while let Ok(Some(_)) = it.next_sample() {}
        }
    }

    #[test]
    fn matches_prometheus_bytes() {
        // Two samples appended by Prometheus' XORChunk: (1000, 1.0), (2000, 1.0).
        let mut c = XorChunk::new();
        c.append(1000, 1.0);
        c.append(2000, 1.0);
        let b = c.bytes();
        assert_eq!(&b[..2], &[0, 2]);
        // varint(1000) = 0xd0 0x0f, then 1.0 = 0x3ff0000000000000, uvarint(1000), then bit 0.
        assert_eq!(&b[2..4], &[0xd0, 0x0f]);
        assert_eq!(&b[4..12], &1.0f64.to_bits().to_be_bytes());
        assert_eq!(&b[12..14], &[0xe8, 0x07]);
        assert_eq!(b.len(), 15);
        assert_eq!(b[14], 0);
    }

    #[test]
    fn typical_scrape_compresses_well() {
        let mut c = XorChunk::new();
        for i in 0..120 {
            c.append(1_700_000_000_000 + i * 15_000, (i * 3) as f64);
        }
        assert!(c.bytes().len() < 120 * 3, "{}", c.bytes().len());
    }
}
