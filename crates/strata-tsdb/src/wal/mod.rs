//! The write-ahead log, in Prometheus' on-disk WAL format.
//!
//! The log is a directory of segment files (`00000000`, `00000001`, ...) written in
//! 32 KiB pages; see [`segment`] for the framing and [`record`] for the record encodings.
//! Records are snappy-compressed when that makes them smaller, as Prometheus does by
//! default. A record never spans two segments; a record larger than a segment gets a
//! segment of its own.
//!
//! Recovery: call [`repair_torn_tail`] to cut a torn final record, read the log with
//! [`WalReader`] (after the last [`checkpoint`](checkpoint::checkpoint) if any), then
//! [`Wal::open`], which continues in a new segment.

pub mod checkpoint;
pub mod histogram_record;
pub mod reader;
pub mod record;
mod repair;
pub mod segment;

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use segment::{
    DEFAULT_SEGMENT_SIZE, FRAG_FIRST, FRAG_FULL, FRAG_LAST, FRAG_MIDDLE, HEADER_SIZE, PAGE_SIZE,
    SNAPPY_FLAG, list_segments, put_fragment, segment_path, sync_dir,
};

pub use checkpoint::{checkpoint, delete_checkpoints_before, last_checkpoint};
pub use reader::{WalReader, repair_torn_tail};
pub use record::{RecordType, RefSample, RefSeries, RefTombstone, record_type};

/// When the log fsyncs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncPolicy {
    /// fsync after every [`Wal::log`] call.
    Always,
    /// Leave it to the OS: written data survives a process crash, not a power loss.
    Never,
}

/// Options of a [`Wal`].
#[derive(Debug, Clone)]
pub struct WalOptions {
    /// Maximum segment size; a positive multiple of the 32 KiB page size.
    pub segment_size: usize,
    pub sync: SyncPolicy,
    /// Snappy-compress records (when it makes them smaller).
    pub compress: bool,
}

impl Default for WalOptions {
    fn default() -> Self {
        WalOptions {
            segment_size: DEFAULT_SEGMENT_SIZE,
            sync: SyncPolicy::Never,
            compress: true,
        }
    }
}

/// Buffered bytes above which [`Wal::log`] writes before it has encoded all records.
const MAX_BUFFERED: usize = 8 << 20;

/// The writer of a write-ahead log directory.
pub struct Wal {
    dir: PathBuf,
    opts: WalOptions,
    seg_idx: u32,
    seg_path: PathBuf,
    file: File,
    /// Bytes of the current segment on disk.
    seg_len: u64,
    /// Encoded bytes not written yet.
    buf: Vec<u8>,
    snappy: snap::raw::Encoder,
    compressed: Vec<u8>,
    /// Set when a failed write could not be rolled back.
    broken: bool,
}

impl Wal {
    /// Opens (creating) the log in `dir` and starts writing a new segment after the last
    /// existing one. Existing segments are never appended to.
    pub fn open(dir: &Path, opts: WalOptions) -> Result<Self> {
        if opts.segment_size == 0 || !opts.segment_size.is_multiple_of(PAGE_SIZE) {
            return Err(Error::Unsupported {
                what: "WAL segment size",
                detail: format!(
                    "{} is not a positive multiple of {PAGE_SIZE}",
                    opts.segment_size
                ),
            });
        }
        fs::create_dir_all(dir).map_err(|e| Error::io("create WAL dir", dir, e))?;
        let idx = match list_segments(dir)?.last() {
            Some(&last) => last.checked_add(1).ok_or_else(|| Error::Unsupported {
                what: "WAL segment index",
                detail: "segment index overflow".into(),
            })?,
            None => 0,
        };
        let (file, seg_path) = create_segment(dir, idx)?;
        Ok(Wal {
            dir: dir.to_path_buf(),
            opts,
            seg_idx: idx,
            seg_path,
            file,
            seg_len: 0,
            buf: Vec::new(),
            snappy: snap::raw::Encoder::new(),
            compressed: Vec::new(),
            broken: false,
        })
    }

    /// Writes all `records` (in one write where possible) and fsyncs if the policy says
    /// so. The records are acknowledged once this returns `Ok`.
    pub fn log(&mut self, records: &[&[u8]]) -> Result<()> {
        self.check_usable()?;
        for rec in records {
            self.append_record(rec)?;
            if self.buf.len() >= MAX_BUFFERED {
                self.flush()?;
            }
        }
        self.flush()?;
        if self.opts.sync == SyncPolicy::Always {
            self.sync_file()?;
        }
        Ok(())
    }

    /// Writes buffered data and fsyncs the current segment.
    pub fn sync(&mut self) -> Result<()> {
        self.check_usable()?;
        self.flush()?;
        self.sync_file()
    }

    /// Closes the current segment (zero-padding its last page) and starts the next one;
    /// returns its index.
    pub fn next_segment(&mut self) -> Result<u32> {
        self.check_usable()?;
        self.flush()?;
        self.finish_segment()?;
        let idx = self
            .seg_idx
            .checked_add(1)
            .ok_or_else(|| Error::Unsupported {
                what: "WAL segment index",
                detail: "segment index overflow".into(),
            })?;
        let (file, path) = create_segment(&self.dir, idx)?;
        self.file = file;
        self.seg_path = path;
        self.seg_idx = idx;
        self.seg_len = 0;
        Ok(idx)
    }

    /// First and last segment index present in `dir`.
    pub fn segment_range(dir: &Path) -> Result<Option<(u32, u32)>> {
        let segs = list_segments(dir)?;
        Ok(segs.first().zip(segs.last()).map(|(&a, &b)| (a, b)))
    }

    /// Index of the segment being written.
    pub fn current_segment(&self) -> u32 {
        self.seg_idx
    }

    /// Deletes the segments with an index below `before` (never the current one).
    pub fn truncate(&mut self, before: u32) -> Result<()> {
        let limit = before.min(self.seg_idx);
        let mut removed = false;
        for idx in list_segments(&self.dir)? {
            if idx >= limit {
                break;
            }
            let path = segment_path(&self.dir, idx);
            fs::remove_file(&path).map_err(|e| Error::io("remove WAL segment", &path, e))?;
            removed = true;
        }
        if removed {
            sync_dir(&self.dir)?;
        }
        Ok(())
    }

    /// The log's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Total size of the files under the log's directory (segments and checkpoints).
    pub fn size_bytes(&self) -> Result<u64> {
        dir_size(&self.dir)
    }

    /// Writes what is buffered, pads the last page and fsyncs.
    pub fn close(mut self) -> Result<()> {
        self.check_usable()?;
        self.flush()?;
        self.finish_segment()
    }

    fn check_usable(&self) -> Result<()> {
        if self.broken {
            return Err(Error::corruption(
                format!("WAL segment {}", self.seg_path.display()),
                self.seg_len,
                "a failed write could not be rolled back; the log is unusable",
            ));
        }
        Ok(())
    }

    fn sync_file(&mut self) -> Result<()> {
        self.file
            .sync_data()
            .map_err(|e| Error::io("fsync WAL segment", &self.seg_path, e))
    }

    /// Zero-pads the current segment to a page boundary and fsyncs it.
    fn finish_segment(&mut self) -> Result<()> {
        let rem = (self.seg_len % PAGE_SIZE as u64) as usize;
        if rem != 0 {
            self.buf.resize(PAGE_SIZE - rem, 0);
            self.flush()?;
        }
        self.sync_file()
    }

    /// Writes the buffer; on failure truncates the segment back to its previous length.
    fn flush(&mut self) -> Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        if let Err(e) = self.file.write_all(&self.buf) {
            self.buf.clear();
            if self.file.set_len(self.seg_len).is_err() {
                self.broken = true;
            }
            return Err(Error::io("write WAL segment", &self.seg_path, e));
        }
        self.seg_len += self.buf.len() as u64;
        self.buf.clear();
        Ok(())
    }

    fn pos(&self) -> u64 {
        self.seg_len + self.buf.len() as u64
    }

    /// True if `n` bytes of record data fit in the rest of the current segment.
    fn fits(&self, n: usize) -> bool {
        let pos = self.pos();
        let pages = (self.opts.segment_size / PAGE_SIZE) as u64;
        let page = pos / PAGE_SIZE as u64;
        if page >= pages {
            return false;
        }
        let in_page = PAGE_SIZE - (pos % PAGE_SIZE as u64) as usize;
        let here = in_page.saturating_sub(HEADER_SIZE) as u64;
        let later = (pages - page - 1) * (PAGE_SIZE - HEADER_SIZE) as u64;
        n as u64 <= here + later
    }

    fn append_record(&mut self, rec: &[u8]) -> Result<()> {
        let mut compressed = false;
        if self.opts.compress && !rec.is_empty() {
            let max = snap::raw::max_compress_len(rec.len());
            self.compressed.resize(max, 0);
            if let Ok(n) = self.snappy.compress(rec, &mut self.compressed) {
                self.compressed.truncate(n);
                compressed = n < rec.len();
            }
        }
        let len = if compressed {
            self.compressed.len()
        } else {
            rec.len()
        };
        if self.pos() > 0 && !self.fits(len) {
            self.next_segment()?;
        }
        let data = std::mem::take(&mut self.compressed);
        let mut rest: &[u8] = if compressed { &data } else { rec };
        let flag = if compressed { SNAPPY_FLAG } else { 0 };
        let mut first = true;
        loop {
            let in_page = PAGE_SIZE - (self.pos() % PAGE_SIZE as u64) as usize;
            if in_page < HEADER_SIZE || (in_page == HEADER_SIZE && !rest.is_empty()) {
                self.buf.resize(self.buf.len() + in_page, 0);
                continue;
            }
            let n = rest.len().min(in_page - HEADER_SIZE);
            let (part, tail) = rest.split_at(n);
            let kind = match (first, tail.is_empty()) {
                (true, true) => FRAG_FULL,
                (true, false) => FRAG_FIRST,
                (false, true) => FRAG_LAST,
                (false, false) => FRAG_MIDDLE,
            };
            put_fragment(&mut self.buf, kind | flag, part);
            rest = tail;
            first = false;
            if rest.is_empty() {
                break;
            }
        }
        // Pad a page too small for another fragment header, as Prometheus does.
        let in_page = PAGE_SIZE - (self.pos() % PAGE_SIZE as u64) as usize;
        if in_page < HEADER_SIZE {
            self.buf.resize(self.buf.len() + in_page, 0);
        }
        self.compressed = data;
        Ok(())
    }
}

fn create_segment(dir: &Path, idx: u32) -> Result<(File, PathBuf)> {
    let path = segment_path(dir, idx);
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(|e| Error::io("create WAL segment", &path, e))?;
    sync_dir(dir)?;
    Ok((file, path))
}

fn dir_size(dir: &Path) -> Result<u64> {
    let mut total = 0;
    for entry in fs::read_dir(dir).map_err(|e| Error::io("read dir", dir, e))? {
        let entry = entry.map_err(|e| Error::io("read dir", dir, e))?;
        let path = entry.path();
        let meta = entry.metadata().map_err(|e| Error::io("stat", &path, e))?;
        if meta.is_dir() {
            total += dir_size(&path)?;
        } else {
            total += meta.len();
        }
    }
    Ok(total)
}

#[cfg(test)]
mod tests;
