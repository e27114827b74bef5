//! Reading the records of one WAL segment while it is being written: a record is
//! returned only once all its fragments are on disk; an incomplete tail is "pending",
//! not an error, and is read again when more data has arrived.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;

use strata_tsdb::wal::segment::{
    FRAG_FIRST, FRAG_FULL, FRAG_LAST, FRAG_MIDDLE, Frag, FragError, PAGE_SIZE, parse_fragment,
    segment_path,
};

use crate::error::{Error, Result};

/// Bytes read from the file per read call.
const READ_CHUNK: usize = 256 * 1024;

/// What [`SegmentTail::next`] found.
pub(crate) enum Next<'a> {
    /// A complete record (decompressed) and the file offset just after it.
    Record(&'a [u8], u64),
    /// The data written so far ends before the next record is complete.
    Pending,
}

enum Parse {
    /// A record ends at this file offset; its bytes are in `rec` (raw) and it may be
    /// snappy-compressed.
    Done {
        end: u64,
        compressed: bool,
    },
    NeedMore,
}

/// A reader of one segment from a record boundary.
pub(crate) struct SegmentTail {
    segment: u32,
    file: File,
    /// File bytes from `buf_off` (page aligned) on.
    buf: Vec<u8>,
    buf_off: u64,
    /// File offset of the next record.
    pos: u64,
    eof_len: u64,
    rec: Vec<u8>,
    out: Vec<u8>,
    snappy: snap::raw::Decoder,
}

fn page_start(off: u64) -> u64 {
    off - off % PAGE_SIZE as u64
}

impl SegmentTail {
    /// Opens segment `segment` of `dir` to read from `offset`, which must be a record
    /// boundary (the end of a record read earlier, or 0).
    pub fn open(dir: &Path, segment: u32, offset: u64) -> Result<SegmentTail> {
        let path = segment_path(dir, segment);
        let file = File::open(&path).map_err(|e| Error::io("open WAL segment", &path, e))?;
        Ok(SegmentTail {
            segment,
            file,
            buf: Vec::new(),
            buf_off: page_start(offset),
            pos: offset,
            eof_len: 0,
            rec: Vec::new(),
            out: Vec::new(),
            snappy: snap::raw::Decoder::new(),
        })
    }

    /// File offset just after the last record returned.
    pub fn position(&self) -> u64 {
        self.pos
    }

    /// True if bytes that are not zero padding follow the position (a record that was
    /// never completed, once the writer has moved on).
    pub fn has_trailing_data(&self) -> bool {
        let from = (self.pos - self.buf_off) as usize;
        self.buf
            .get(from..)
            .is_some_and(|b| b.iter().any(|&x| x != 0))
    }

    /// The next complete record, or [`Next::Pending`].
    pub fn next(&mut self) -> Result<Next<'_>> {
        loop {
            match self.parse()? {
                Parse::Done { end, compressed } => {
                    self.pos = end;
                    self.compact();
                    if !compressed {
                        return Ok(Next::Record(&self.rec, end));
                    }
                    let n = snap::raw::decompress_len(&self.rec).map_err(|e| self.bad(e))?;
                    self.out.resize(n, 0);
                    let got = self
                        .snappy
                        .decompress(&self.rec, &mut self.out)
                        .map_err(|e| self.bad(e))?;
                    self.out.truncate(got);
                    return Ok(Next::Record(&self.out, end));
                }
                Parse::NeedMore => {
                    if !self.read_more()? {
                        return Ok(Next::Pending);
                    }
                }
            }
        }
    }

    fn bad(&self, reason: impl std::fmt::Display) -> Error {
        Error::Tsdb(strata_tsdb::Error::WalCorruption {
            segment: self.segment,
            offset: self.pos,
            reason: reason.to_string(),
        })
    }

    /// Drops the buffered pages before the one holding the position.
    fn compact(&mut self) {
        let keep_from = page_start(self.pos);
        let drop = (keep_from - self.buf_off) as usize;
        if drop >= READ_CHUNK {
            self.buf.drain(..drop);
            self.buf_off = keep_from;
        }
    }

    /// Reads what the file has beyond the buffer; false if nothing new.
    fn read_more(&mut self) -> Result<bool> {
        let mut any = false;
        loop {
            let at = self.buf_off + self.buf.len() as u64;
            let old = self.buf.len();
            self.buf.resize(old + READ_CHUNK, 0);
            let n = match self.file.read_at(&mut self.buf[old..], at) {
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => 0,
                Err(e) => {
                    self.buf.truncate(old);
                    return Err(self.bad(format!("read: {e}")));
                }
            };
            self.buf.truncate(old + n);
            self.eof_len = at + n as u64;
            if n == 0 {
                return Ok(any);
            }
            any = true;
            if n < READ_CHUNK {
                return Ok(true);
            }
        }
    }

    /// Assembles the record starting at `pos` from the buffer.
    fn parse(&mut self) -> Result<Parse> {
        self.rec.clear();
        let mut p = self.pos;
        let mut in_record = false;
        let mut compressed = false;
        let buf_end = self.buf_off + self.buf.len() as u64;
        loop {
            let ps = page_start(p);
            let page_end = (ps + PAGE_SIZE as u64).min(buf_end);
            if p >= page_end {
                if page_end == ps + PAGE_SIZE as u64 {
                    p = page_end;
                    continue;
                }
                return Ok(Parse::NeedMore);
            }
            let page = &self.buf[(ps - self.buf_off) as usize..(page_end - self.buf_off) as usize];
            let at = (p - ps) as usize;
            match parse_fragment(page, at) {
                Ok(Frag::Padding) => {
                    if in_record {
                        return Err(self.bad("padding inside a record"));
                    }
                    // Nothing more is written to this page.
                    p = ps + PAGE_SIZE as u64;
                }
                Ok(Frag::Data {
                    kind,
                    compressed: c,
                    start,
                    end,
                }) => {
                    let starts = kind == FRAG_FULL || kind == FRAG_FIRST;
                    if starts == in_record {
                        return Err(
                            self.bad(format!("unexpected fragment kind {kind} at offset {p}"))
                        );
                    }
                    if kind == FRAG_MIDDLE || kind == FRAG_FIRST {
                        in_record = true;
                    }
                    compressed |= c;
                    self.rec.extend_from_slice(&page[start..end]);
                    p = ps + end as u64;
                    if kind == FRAG_FULL || kind == FRAG_LAST {
                        return Ok(Parse::Done { end: p, compressed });
                    }
                }
                Err(FragError::Truncated(_)) => return Ok(Parse::NeedMore),
                Err(FragError::Corrupt(reason)) => {
                    // A page cut short by the end of the data read so far may just be
                    // incomplete; a full page is corrupt.
                    if page.len() < PAGE_SIZE && page_end == buf_end {
                        return Ok(Parse::NeedMore);
                    }
                    return Err(self.bad(reason));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use strata_tsdb::wal::{Wal, WalOptions};

    fn records(t: &mut SegmentTail) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        while let Next::Record(r, _) = t.next().unwrap() {
            out.push(r.to_vec());
        }
        out
    }

    #[test]
    fn tails_a_segment_being_written() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let mut w = Wal::open(dir, WalOptions::default()).unwrap();
        let mut t = SegmentTail::open(dir, 0, 0).unwrap();
        assert!(records(&mut t).is_empty());
        w.log(&[b"one", b"two"]).unwrap();
        assert_eq!(records(&mut t), vec![b"one".to_vec(), b"two".to_vec()]);
        // Big records span pages; compressible ones are snappy-compressed.
        let big: Vec<u8> = (0..100_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect();
        let rnd: Vec<u8> = (0..70_000u64)
            .map(|i| (i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 56) as u8)
            .collect();
        w.log(&[&big, &rnd]).unwrap();
        let got = records(&mut t);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0], big);
        assert_eq!(got[1], rnd);
        let pos = t.position();
        w.log(&[b"three"]).unwrap();
        // Reopening at a record boundary continues there.
        let mut t2 = SegmentTail::open(dir, 0, pos).unwrap();
        assert_eq!(records(&mut t2), vec![b"three".to_vec()]);
        assert_eq!(records(&mut t), vec![b"three".to_vec()]);
        assert!(!t.has_trailing_data());
    }

    #[test]
    fn a_partial_record_is_pending_until_complete() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let src = tempfile::tempdir().unwrap();
        let mut w = Wal::open(src.path(), WalOptions::default()).unwrap();
        let rnd: Vec<u8> = (0..50_000u64)
            .map(|i| (i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 56) as u8)
            .collect();
        w.log(&[b"a", &rnd, b"b"]).unwrap();
        let full = std::fs::read(segment_path(src.path(), 0)).unwrap();
        // Copy the segment in pieces, as a reader racing the writer would see it.
        let path = segment_path(dir, 0);
        std::fs::write(&path, &full[..5]).unwrap();
        let mut t = SegmentTail::open(dir, 0, 0).unwrap();
        let mut got = records(&mut t);
        let n = full.len();
        for cut in [9, 100, n / 3, n / 2, n - 20, n - 1, n] {
            std::fs::write(&path, &full[..cut]).unwrap();
            got.extend(records(&mut t));
        }
        assert_eq!(got, vec![b"a".to_vec(), rnd, b"b".to_vec()]);
    }

    #[test]
    fn corruption_in_a_full_page_is_an_error() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let mut w = Wal::open(dir, WalOptions::default()).unwrap();
        w.log(&[b"hello world"]).unwrap();
        w.next_segment().unwrap();
        let path = segment_path(dir, 0);
        let mut b = std::fs::read(&path).unwrap();
        b[10] ^= 0xff;
        std::fs::write(&path, &b).unwrap();
        let mut t = SegmentTail::open(dir, 0, 0).unwrap();
        assert!(t.next().is_err());
    }
}
