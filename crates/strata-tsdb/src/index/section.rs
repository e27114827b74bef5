//! Length-prefixed, checksummed sections (`len <be32> | body | crc32c <be32>`) and the
//! postings lists stored in them.

use super::write_error;
use crate::encoding::{DecBuf, EncBuf, crc32c};
use crate::error::{Error, Result};

/// Reads the section starting at `offset` of `file`: checks that its length fits and its
/// CRC32C matches, and returns a decoder over the body (positioned after the length).
pub(crate) fn read_section<'a>(
    file: &'a [u8],
    offset: u64,
    what: &'static str,
) -> Result<DecBuf<'a>> {
    let start = usize::try_from(offset)
        .map_err(|_| Error::corruption(what, offset, "offset out of range"))?;
    let rest = file
        .get(start..)
        .ok_or_else(|| Error::corruption(what, offset, "offset beyond end of file"))?;
    let mut d = DecBuf::new(rest, what, offset);
    let len = d.be32()? as usize;
    let body = d.bytes(len)?;
    let crc = d.be32()?;
    if crc32c(body) != crc {
        return Err(Error::corruption(what, offset, "checksum mismatch"));
    }
    Ok(DecBuf::new(body, what, offset + 4))
}

/// Starts a section: reserves the length field and returns the position to pass to
/// [`end_section`].
pub(crate) fn begin_section(e: &mut EncBuf) -> usize {
    let at = e.len();
    e.put_be32(0);
    at
}

/// Fills in the length reserved by [`begin_section`] and appends the CRC32C of the body.
pub(crate) fn end_section(e: &mut EncBuf, at: usize) -> Result<()> {
    let body_start = at + 4;
    let len = u32::try_from(e.len() - body_start)
        .map_err(|_| write_error("index section larger than 4GiB"))?;
    if let Some(slot) = e.buf.get_mut(at..body_start) {
        slot.copy_from_slice(&len.to_be_bytes());
    }
    e.put_crc32_of(body_start);
    Ok(())
}

/// Encodes a postings list: `len | #entries | ref <be32>... | crc`.
pub(crate) fn encode_postings(e: &mut EncBuf, refs: &[u32]) -> Result<()> {
    let at = begin_section(e);
    let n = u32::try_from(refs.len()).map_err(|_| write_error("postings list too long"))?;
    e.put_be32(n);
    for &r in refs {
        e.put_be32(r);
    }
    end_section(e, at)
}

/// Decodes the postings list at `offset`; the references must be strictly increasing.
pub(crate) fn decode_postings(file: &[u8], offset: u64) -> Result<Vec<u64>> {
    const WHAT: &str = "index postings";
    let mut d = read_section(file, offset, WHAT)?;
    let n = d.be32()? as usize;
    if d.remaining() != n.saturating_mul(4) {
        return Err(Error::corruption(
            WHAT,
            offset,
            format!("{n} entries do not fill {} bytes", d.remaining()),
        ));
    }
    let out: Vec<u64> = d
        .rest()
        .chunks_exact(4)
        .map(|c| u64::from(u32::from_be_bytes([c[0], c[1], c[2], c[3]])))
        .collect();
    if !out.windows(2).all(|w| w[0] < w[1]) {
        return Err(Error::corruption(WHAT, offset, "postings not sorted"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn postings_round_trip(set in proptest::collection::btree_set(any::<u32>(), 0..200), pad in 0usize..9) {
            let refs: Vec<u32> = set.iter().copied().collect();
            let mut e = EncBuf::new();
            e.put_bytes(&vec![0u8; pad]);
            encode_postings(&mut e, &refs).unwrap();
            let got = decode_postings(e.get(), pad as u64).unwrap();
            let want: Vec<u64> = set.iter().map(|&x| u64::from(x)).collect();
            prop_assert_eq!(got, want);
        }

        #[test]
        fn corrupt_postings_never_panic(set in proptest::collection::btree_set(any::<u32>(), 0..20), flip in any::<usize>(), bit in 0u8..8, cut in any::<usize>()) {
            let refs: Vec<u32> = set.iter().copied().collect();
            let mut e = EncBuf::new();
            encode_postings(&mut e, &refs).unwrap();
            let mut b = e.buf.clone();
            let i = flip % b.len();
            b[i] ^= 1 << bit;
            prop_assert!(decode_postings(&b, 0).is_err());
            let t = &e.buf[..cut % e.buf.len()];
            prop_assert!(decode_postings(t, 0).is_err());
        }
    }
}
