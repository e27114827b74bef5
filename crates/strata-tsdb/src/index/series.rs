//! Series entries: `len <uvarint> | #labels | (name ref, value ref)... | #chunks |
//! chunk metas | crc32c <be32>`, the CRC covering the bytes after the length.
//!
//! The first chunk stores `mint <varint>`, `maxt - mint <uvarint>` and `ref <uvarint>`;
//! each following chunk `mint - previous maxt <uvarint>`, `maxt - mint <uvarint>` and
//! `ref - previous ref <varint>`.

use strata_model::Labels;

use super::ChunkMeta;
use super::symbols::Symbols;
use super::write_error;
use crate::encoding::{DecBuf, EncBuf, crc32c};
use crate::error::{Error, Result};

const WHAT: &str = "index series";

/// Checks that chunks are ordered and non-overlapping so the deltas stay unsigned.
pub(crate) fn check_chunks(chunks: &[ChunkMeta]) -> Result<()> {
    let mut prev_maxt: Option<i64> = None;
    for c in chunks {
        if c.maxt < c.mint {
            return Err(write_error(format!(
                "chunk maxt {} before mint {}",
                c.maxt, c.mint
            )));
        }
        if prev_maxt.is_some_and(|p| c.mint < p) {
            return Err(write_error(format!(
                "chunk mint {} before the previous chunk's maxt",
                c.mint
            )));
        }
        prev_maxt = Some(c.maxt);
    }
    Ok(())
}

/// Appends one series entry (length, body, CRC). `body` is scratch space.
pub(crate) fn encode_series(
    e: &mut EncBuf,
    body: &mut EncBuf,
    label_refs: &[(u32, u32)],
    chunks: &[ChunkMeta],
) {
    body.reset();
    body.put_uvarint(label_refs.len() as u64);
    for &(n, v) in label_refs {
        body.put_uvarint(u64::from(n));
        body.put_uvarint(u64::from(v));
    }
    body.put_uvarint(chunks.len() as u64);
    let mut prev: Option<&ChunkMeta> = None;
    for c in chunks {
        match prev {
            None => {
                body.put_varint(c.mint);
                body.put_uvarint(c.maxt.wrapping_sub(c.mint) as u64);
                body.put_uvarint(c.chunk_ref);
            }
            Some(p) => {
                body.put_uvarint(c.mint.wrapping_sub(p.maxt) as u64);
                body.put_uvarint(c.maxt.wrapping_sub(c.mint) as u64);
                body.put_varint(c.chunk_ref.wrapping_sub(p.chunk_ref) as i64);
            }
        }
        prev = Some(c);
    }
    e.put_uvarint(body.len() as u64);
    e.put_bytes(body.get());
    e.put_be32(crc32c(body.get()));
}

/// Decodes the series entry at file `offset`, resolving symbols.
pub(crate) fn decode_series(
    file: &[u8],
    offset: u64,
    symbols: &Symbols,
) -> Result<(Labels, Vec<ChunkMeta>)> {
    let start = usize::try_from(offset)
        .map_err(|_| Error::corruption(WHAT, offset, "offset out of range"))?;
    let rest = file
        .get(start..)
        .ok_or_else(|| Error::corruption(WHAT, offset, "offset beyond end of file"))?;
    let mut d = DecBuf::new(rest, WHAT, offset);
    let len = usize::try_from(d.uvarint()?)
        .map_err(|_| Error::corruption(WHAT, offset, "length overflows"))?;
    let body_off = offset + d.position() as u64;
    let body = d.bytes(len)?;
    if crc32c(body) != d.be32()? {
        return Err(Error::corruption(WHAT, offset, "checksum mismatch"));
    }
    let mut d = DecBuf::new(body, WHAT, body_off);

    let nl = d.uvarint()?;
    let mut pairs: Vec<(&str, &str)> = Vec::with_capacity((nl as usize).min(len / 2));
    for _ in 0..nl {
        let n = symbols.lookup(file, d.uvarint32()?)?;
        let v = symbols.lookup(file, d.uvarint32()?)?;
        if pairs.last().is_some_and(|&(p, _)| p >= n) || n.is_empty() {
            return Err(Error::corruption(
                WHAT,
                offset,
                "label names not sorted or empty",
            ));
        }
        pairs.push((n, v));
    }
    let labels = Labels::from_sorted(pairs);

    let nc = d.uvarint()?;
    // Each chunk meta takes at least three bytes.
    let mut chunks = Vec::with_capacity((nc as usize).min(d.remaining() / 3));
    let mut prev: Option<ChunkMeta> = None;
    for _ in 0..nc {
        let c = match prev {
            None => {
                let mint = d.varint()?;
                let maxt = mint.wrapping_add(d.uvarint()? as i64);
                ChunkMeta {
                    mint,
                    maxt,
                    chunk_ref: d.uvarint()?,
                }
            }
            Some(p) => {
                let mint = p.maxt.wrapping_add(d.uvarint()? as i64);
                let maxt = mint.wrapping_add(d.uvarint()? as i64);
                ChunkMeta {
                    mint,
                    maxt,
                    chunk_ref: p.chunk_ref.wrapping_add(d.varint()? as u64),
                }
            }
        };
        chunks.push(c);
        prev = Some(c);
    }
    if !d.is_empty() {
        return Err(Error::corruption(WHAT, offset, "trailing bytes in series"));
    }
    Ok((labels, chunks))
}
