//! Sequential reading of the records of a range of segments.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::wal::segment::{
    FRAG_FIRST, FRAG_FULL, FRAG_LAST, FRAG_MIDDLE, Frag, FragError, PAGE_SIZE, list_segments,
    parse_fragment, segment_path,
};

pub use crate::wal::repair::repair_torn_tail;

/// A failure while reading, before it is turned into an [`Error`].
#[derive(Debug)]
pub(crate) enum ReadFailure {
    Io(Error),
    Bad {
        segment: u32,
        offset: u64,
        reason: String,
        /// The segment ends inside a fragment or a record.
        truncated: bool,
    },
}

impl From<ReadFailure> for Error {
    fn from(f: ReadFailure) -> Self {
        match f {
            ReadFailure::Io(e) => e,
            ReadFailure::Bad {
                segment,
                offset,
                reason,
                ..
            } => Error::WalCorruption {
                segment,
                offset,
                reason,
            },
        }
    }
}

/// One open segment, read page by page.
struct SegmentCursor {
    idx: u32,
    path: PathBuf,
    file: File,
    page: Vec<u8>,
    /// File offset of `page[0]`.
    page_off: u64,
    /// Position in `page`.
    pos: usize,
    eof: bool,
}

impl SegmentCursor {
    fn open(dir: &Path, idx: u32) -> Result<Self> {
        let path = segment_path(dir, idx);
        let file = File::open(&path).map_err(|e| Error::io("open WAL segment", &path, e))?;
        Ok(SegmentCursor {
            idx,
            path,
            file,
            page: Vec::with_capacity(PAGE_SIZE),
            page_off: 0,
            pos: 0,
            eof: false,
        })
    }

    fn offset(&self) -> u64 {
        self.page_off + self.pos as u64
    }

    /// Makes sure unread bytes are buffered; false at the end of the file.
    fn fill(&mut self) -> Result<bool> {
        if self.pos < self.page.len() {
            return Ok(true);
        }
        if self.eof {
            return Ok(false);
        }
        self.page_off += self.page.len() as u64;
        self.page.clear();
        self.pos = 0;
        self.page.resize(PAGE_SIZE, 0);
        let mut n = 0;
        while n < PAGE_SIZE {
            match self.file.read(&mut self.page[n..]) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Error::io("read WAL segment", &self.path, e)),
            }
        }
        self.page.truncate(n);
        if n < PAGE_SIZE {
            self.eof = true;
        }
        Ok(n > 0)
    }
}

/// Reads the records of segments `[from, to]` of a directory in order.
pub struct WalReader {
    dir: PathBuf,
    segments: Vec<u32>,
    next: usize,
    cur: Option<SegmentCursor>,
    rec: Vec<u8>,
    in_record: bool,
    rec_compressed: bool,
    rec_start: u64,
    /// Segment and file offset just after the last complete record.
    last_end: Option<(u32, u64)>,
}

impl WalReader {
    /// Opens a reader over the segments of `dir` with index in `[from, to]` (`to = None`:
    /// up to the last one). The segments present must be consecutive.
    pub fn open(dir: &Path, from: u32, to: Option<u32>) -> Result<Self> {
        let segments: Vec<u32> = list_segments(dir)?
            .into_iter()
            .filter(|&i| i >= from && to.is_none_or(|t| i <= t))
            .collect();
        for w in segments.windows(2) {
            if w[1] != w[0] + 1 {
                return Err(Error::WalCorruption {
                    segment: w[1],
                    offset: 0,
                    reason: format!("segments not consecutive: {} follows {}", w[1], w[0]),
                });
            }
        }
        Ok(WalReader {
            dir: dir.to_path_buf(),
            segments,
            next: 0,
            cur: None,
            rec: Vec::new(),
            in_record: false,
            rec_compressed: false,
            rec_start: 0,
            last_end: None,
        })
    }

    /// The next record, decompressed; `None` after the last one. Errors name the segment
    /// and the byte offset of the problem.
    pub fn next_record(&mut self) -> Result<Option<Vec<u8>>> {
        self.next_inner().map_err(Error::from)
    }

    /// Segment index and offset just after the last complete record returned.
    pub(crate) fn last_record_end(&self) -> Option<(u32, u64)> {
        self.last_end
    }

    pub(crate) fn next_inner(&mut self) -> std::result::Result<Option<Vec<u8>>, ReadFailure> {
        loop {
            if self.cur.is_none() {
                let Some(&idx) = self.segments.get(self.next) else {
                    return Ok(None);
                };
                self.next += 1;
                self.cur = Some(SegmentCursor::open(&self.dir, idx).map_err(ReadFailure::Io)?);
                self.last_end = Some((idx, 0));
            }
            let Some(cur) = self.cur.as_mut() else {
                continue;
            };
            if !cur.fill().map_err(ReadFailure::Io)? {
                if self.in_record {
                    return Err(ReadFailure::Bad {
                        segment: cur.idx,
                        offset: cur.offset(),
                        reason: format!(
                            "segment ends inside the record starting at offset {}",
                            self.rec_start
                        ),
                        truncated: true,
                    });
                }
                self.cur = None;
                continue;
            }
            let offset = cur.offset();
            let seg_idx = cur.idx;
            let bad = |reason: String, truncated: bool| ReadFailure::Bad {
                segment: seg_idx,
                offset,
                reason,
                truncated,
            };
            match parse_fragment(&cur.page, cur.pos) {
                Err(FragError::Truncated(r)) => return Err(bad(r, true)),
                Err(FragError::Corrupt(r)) => return Err(bad(r, false)),
                Ok(Frag::Padding) => {
                    cur.pos = cur.page.len();
                }
                Ok(Frag::Data {
                    kind,
                    compressed,
                    start,
                    end,
                }) => {
                    let starts = kind == FRAG_FULL || kind == FRAG_FIRST;
                    if starts == self.in_record {
                        let reason = if self.in_record {
                            format!(
                                "new record begins before the record at offset {} ended",
                                self.rec_start
                            )
                        } else if kind == FRAG_MIDDLE {
                            "middle fragment without a first one".to_string()
                        } else {
                            "last fragment without a first one".to_string()
                        };
                        return Err(bad(reason, false));
                    }
                    if kind == FRAG_LAST && start == end {
                        // Writers never end a record with an empty fragment; this is a
                        // header whose length bytes were lost.
                        return Err(bad("empty last fragment".to_string(), false));
                    }
                    if starts {
                        self.rec.clear();
                        self.rec_start = offset;
                        self.rec_compressed = compressed;
                        self.in_record = true;
                    } else {
                        self.rec_compressed |= compressed;
                    }
                    self.rec.extend_from_slice(&cur.page[start..end]);
                    cur.pos = end;
                    if kind == FRAG_FULL || kind == FRAG_LAST {
                        self.in_record = false;
                        let segment = seg_idx;
                        self.last_end = Some((segment, cur.offset()));
                        let rec = std::mem::take(&mut self.rec);
                        if !self.rec_compressed {
                            return Ok(Some(rec));
                        }
                        return decompress(&rec)
                            .map(Some)
                            .map_err(|reason| ReadFailure::Bad {
                                segment,
                                offset: self.rec_start,
                                reason,
                                truncated: false,
                            });
                    }
                }
            }
        }
    }
}

/// Decompresses a snappy block, refusing lengths no valid block can expand to.
fn decompress(rec: &[u8]) -> std::result::Result<Vec<u8>, String> {
    let n = snap::raw::decompress_len(rec).map_err(|e| format!("invalid snappy record: {e}"))?;
    // A snappy copy element expands at most 64 bytes out of 3.
    if n > rec.len().saturating_mul(24).saturating_add(64) {
        return Err(format!(
            "invalid snappy record: claims {n} bytes from {}",
            rec.len()
        ));
    }
    snap::raw::Decoder::new()
        .decompress_vec(rec)
        .map_err(|e| format!("invalid snappy record: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wal::segment::{SNAPPY_FLAG, put_fragment};

    fn write_seg(dir: &Path, idx: u32, data: &[u8]) {
        std::fs::write(segment_path(dir, idx), data).unwrap();
    }

    fn read_all(dir: &Path) -> Result<Vec<Vec<u8>>> {
        let mut r = WalReader::open(dir, 0, None)?;
        let mut out = Vec::new();
        while let Some(rec) = r.next_record()? {
            out.push(rec);
        }
        Ok(out)
    }

    #[test]
    fn hand_built_fragments() {
        let tmp = tempfile::tempdir().unwrap();
        let mut seg = Vec::new();
        put_fragment(&mut seg, FRAG_FULL, b"one");
        put_fragment(&mut seg, FRAG_FIRST, b"tw");
        put_fragment(&mut seg, FRAG_MIDDLE, b"");
        put_fragment(&mut seg, FRAG_LAST, b"o");
        let c = snap::raw::Encoder::new().compress_vec(b"three").unwrap();
        put_fragment(&mut seg, FRAG_FULL | SNAPPY_FLAG, &c);
        seg.resize(PAGE_SIZE, 0);
        write_seg(tmp.path(), 0, &seg);
        let mut seg1 = Vec::new();
        put_fragment(&mut seg1, FRAG_FULL, b"four");
        write_seg(tmp.path(), 1, &seg1);
        assert_eq!(
            read_all(tmp.path()).unwrap(),
            vec![
                b"one".to_vec(),
                b"two".to_vec(),
                b"three".to_vec(),
                b"four".to_vec()
            ]
        );
    }

    #[test]
    fn gap_and_bad_sequence_are_errors() {
        let tmp = tempfile::tempdir().unwrap();
        let mut seg = Vec::new();
        put_fragment(&mut seg, FRAG_FULL, b"a");
        write_seg(tmp.path(), 0, &seg);
        write_seg(tmp.path(), 2, &seg);
        assert!(WalReader::open(tmp.path(), 0, None).is_err());

        let tmp = tempfile::tempdir().unwrap();
        let mut seg = Vec::new();
        put_fragment(&mut seg, FRAG_FULL, b"a");
        put_fragment(&mut seg, FRAG_LAST, b"b");
        write_seg(tmp.path(), 3, &seg);
        let e = read_all(tmp.path()).unwrap_err().to_string();
        assert!(e.contains("segment 3 at offset 8"), "{e}");
    }

    #[test]
    fn bogus_snappy_length_is_an_error() {
        let tmp = tempfile::tempdir().unwrap();
        let mut seg = Vec::new();
        put_fragment(
            &mut seg,
            FRAG_FULL | SNAPPY_FLAG,
            &[0xff, 0xff, 0xff, 0xff, 0x0f],
        );
        write_seg(tmp.path(), 0, &seg);
        let e = read_all(tmp.path()).unwrap_err().to_string();
        assert!(e.contains("snappy"), "{e}");
    }
}
