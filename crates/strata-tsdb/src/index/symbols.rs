//! The symbol table: every label name and value of the index, sorted and deduplicated.
//! Version 2 refers to a symbol by its position in the table, version 1 by the file
//! offset of its length prefix.

use super::FORMAT_V1;
use super::section::{begin_section, end_section, read_section};
use super::write_error;
use crate::encoding::{DecBuf, EncBuf};
use crate::error::{Error, Result};

const WHAT: &str = "index symbol table";

/// Encodes the symbol table section.
pub(crate) fn encode_symbols<S: AsRef<str>>(e: &mut EncBuf, syms: &[S]) -> Result<()> {
    let at = begin_section(e);
    let n = u32::try_from(syms.len()).map_err(|_| write_error("too many symbols"))?;
    e.put_be32(n);
    for s in syms {
        e.put_uvarint_str(s.as_ref());
    }
    end_section(e, at)
}

/// Positions of the symbols of a loaded index.
#[derive(Debug, Clone, Default)]
pub(crate) struct Symbols {
    version: u8,
    /// File offset of the section body (just after the length field).
    body_start: usize,
    /// Offsets of each symbol's length prefix, relative to `body_start`.
    offsets: Vec<u32>,
}

impl Symbols {
    /// Loads the table at `offset` (zero: no symbols), checking its CRC.
    pub fn load(file: &[u8], offset: u64, version: u8) -> Result<Symbols> {
        if offset == 0 {
            return Ok(Symbols {
                version,
                ..Symbols::default()
            });
        }
        let mut d = read_section(file, offset, WHAT)?;
        let n = d.be32()? as usize;
        // Every symbol takes at least one byte, which bounds the allocation.
        let mut offsets = Vec::with_capacity(n.min(d.remaining()));
        for _ in 0..n {
            let pos = u32::try_from(d.position())
                .map_err(|_| Error::corruption(WHAT, offset, "symbol table too large"))?;
            offsets.push(pos);
            d.uvarint_bytes()?;
        }
        if !d.is_empty() {
            return Err(Error::corruption(
                WHAT,
                offset,
                "trailing bytes after the last symbol",
            ));
        }
        let body_start = usize::try_from(offset + 4)
            .map_err(|_| Error::corruption(WHAT, offset, "offset out of range"))?;
        Ok(Symbols {
            version,
            body_start,
            offsets,
        })
    }

    pub fn len(&self) -> usize {
        self.offsets.len()
    }

    fn read_at<'a>(&self, file: &'a [u8], rel: u32) -> Result<&'a str> {
        let start = self.body_start + rel as usize;
        let b = file
            .get(start..)
            .ok_or_else(|| Error::corruption(WHAT, start as u64, "symbol beyond end of file"))?;
        DecBuf::new(b, WHAT, start as u64).uvarint_str()
    }

    /// The symbol at position `i` of the table.
    pub fn at<'a>(&self, file: &'a [u8], i: usize) -> Result<&'a str> {
        let rel = self
            .offsets
            .get(i)
            .ok_or_else(|| Error::corruption(WHAT, i as u64, "symbol index out of range"))?;
        self.read_at(file, *rel)
    }

    /// Resolves a symbol reference as stored in series entries and label indices.
    pub fn lookup<'a>(&self, file: &'a [u8], r: u32) -> Result<&'a str> {
        if self.version != FORMAT_V1 {
            return self.at(file, r as usize);
        }
        let bad = || Error::corruption(WHAT, u64::from(r), "no symbol at this offset");
        let rel = (r as usize)
            .checked_sub(self.body_start)
            .and_then(|x| u32::try_from(x).ok())
            .ok_or_else(bad)?;
        self.offsets.binary_search(&rel).map_err(|_| bad())?;
        self.read_at(file, rel)
    }
}
