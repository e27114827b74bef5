//! The table of contents at the end of an index file: six big-endian 64-bit section
//! offsets and a CRC32C over them.

use super::TOC_LEN;
use crate::encoding::{DecBuf, EncBuf, crc32c};
use crate::error::{Error, Result};

/// Offsets of the index sections; zero means the section is absent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Toc {
    pub symbols: u64,
    pub series: u64,
    pub label_indices: u64,
    pub label_indices_table: u64,
    pub postings: u64,
    pub postings_table: u64,
}

impl Toc {
    pub fn encode(&self, e: &mut EncBuf) {
        let start = e.len();
        for x in [
            self.symbols,
            self.series,
            self.label_indices,
            self.label_indices_table,
            self.postings,
            self.postings_table,
        ] {
            e.put_be64(x);
        }
        e.put_crc32_of(start);
    }

    /// Reads the TOC from the last [`TOC_LEN`] bytes of `file`.
    pub fn decode(file: &[u8]) -> Result<Toc> {
        let start = file
            .len()
            .checked_sub(TOC_LEN)
            .ok_or_else(|| Error::corruption("index TOC", 0, "file too short for a TOC"))?;
        let (body, crc) = file
            .get(start..)
            .and_then(|b| b.split_at_checked(TOC_LEN - 4))
            .ok_or_else(|| Error::corruption("index TOC", start as u64, "truncated TOC"))?;
        let mut d = DecBuf::new(crc, "index TOC", (start + TOC_LEN - 4) as u64);
        let want = d.be32()?;
        if crc32c(body) != want {
            return Err(Error::corruption(
                "index TOC",
                start as u64,
                "checksum mismatch",
            ));
        }
        let mut d = DecBuf::new(body, "index TOC", start as u64);
        Ok(Toc {
            symbols: d.be64()?,
            series: d.be64()?,
            label_indices: d.be64()?,
            label_indices_table: d.be64()?,
            postings: d.be64()?,
            postings_table: d.be64()?,
        })
    }
}
