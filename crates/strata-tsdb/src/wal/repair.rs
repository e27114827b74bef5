//! Repair of a torn final record in the last segment.
//!
//! A process that dies while writing leaves a prefix of its last write; a machine that
//! loses power can also leave zeros or garbage where unsynced data should be. Either way
//! the damage is at the very end of the last segment. So a read failure in the last
//! segment at offset `P` counts as a torn tail only if no complete, checksummed fragment
//! starts anywhere at or after `P`; otherwise valid data follows the bad spot, which is
//! corruption and reported as an error.

use std::fs::{self, OpenOptions};
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use crate::error::{Error, Result};
use crate::wal::reader::{ReadFailure, WalReader};
use crate::wal::segment::{PAGE_SIZE, list_segments, segment_path, valid_fragment_after};

/// Checks the last segment of `dir` (ignoring empty segments after it) and, if its final record is torn, truncates it just
/// after the last complete record (then zero-pads it to a page boundary, which readers
/// take as padding) and returns the segment and the offset where it was cut. Returns
/// `None` when the last segment reads cleanly. Corruption that is not a torn tail is an
/// error naming the segment and offset. Empty records at the very end are cut as well:
/// a header whose length and checksum bytes were lost to zeros reads as one (no writer
/// of ours or Prometheus' logs empty records in practice). Call before [`crate::wal::Wal::open`], which
/// starts a new segment after the last one.
pub fn repair_torn_tail(dir: &Path) -> Result<Option<(u32, u64)>> {
    let Some(last) = last_non_empty_segment(dir)? else {
        return Ok(None);
    };
    let mut reader = WalReader::open(dir, last, Some(last))?;
    // Start of a run of empty records at the end: a header whose length and checksum
    // bytes were lost reads as an empty record, so trailing empty records count as torn.
    let mut empty_from: Option<u64> = None;
    let (offset, reason, truncated) = loop {
        let before = end_in(&reader, last);
        match reader.next_inner() {
            Ok(Some(rec)) if rec.is_empty() => {
                empty_from.get_or_insert(before);
            }
            Ok(Some(_)) => empty_from = None,
            Ok(None) => match empty_from {
                None => return Ok(None),
                Some(cut) => {
                    let reason = "empty records followed by nothing at the end".to_string();
                    tracing::warn!(segment = last, cut, "{reason}: truncating");
                    cut_at(dir, last, cut)?;
                    return Ok(Some((last, cut)));
                }
            },
            Err(ReadFailure::Io(e)) => return Err(e),
            Err(ReadFailure::Bad {
                offset,
                reason,
                truncated,
                ..
            }) => break (offset, reason, truncated),
        }
    };
    let path = segment_path(dir, last);
    let tail = read_from(&path, offset)?;
    if valid_fragment_after(&tail, offset, 0) {
        return Err(Error::WalCorruption {
            segment: last,
            offset,
            reason: format!("{reason} (valid records follow, so this is not a torn write)"),
        });
    }
    let cut = empty_from.unwrap_or_else(|| end_in(&reader, last));
    tracing::warn!(
        segment = last,
        offset,
        cut,
        cut_short = truncated,
        reason = %reason,
        "truncating torn record at the end of the WAL"
    );
    cut_at(dir, last, cut)?;
    Ok(Some((last, cut)))
}

/// The last segment that is not empty: opening a log creates an empty segment before
/// the previous one is replayed (Prometheus does that too), so a crash can leave the torn
/// segment followed by empty ones.
fn last_non_empty_segment(dir: &Path) -> Result<Option<u32>> {
    for idx in list_segments(dir)?.into_iter().rev() {
        let path = segment_path(dir, idx);
        let len = fs::metadata(&path)
            .map_err(|e| Error::io("stat WAL segment", &path, e))?
            .len();
        if len > 0 {
            return Ok(Some(idx));
        }
    }
    Ok(None)
}

/// End of the last complete record read from segment `seg`, or 0.
fn end_in(reader: &WalReader, seg: u32) -> u64 {
    match reader.last_record_end() {
        Some((s, end)) if s == seg => end,
        _ => 0,
    }
}

/// Truncates segment `seg` at `cut`, zero-pads it to a page boundary and fsyncs it.
fn cut_at(dir: &Path, seg: u32, cut: u64) -> Result<()> {
    let path = segment_path(dir, seg);
    let f = OpenOptions::new()
        .write(true)
        .open(&path)
        .map_err(|e| Error::io("open WAL segment", &path, e))?;
    let page = PAGE_SIZE as u64;
    let padded = cut.div_ceil(page) * page;
    f.set_len(cut)
        .and_then(|()| f.set_len(padded))
        .map_err(|e| Error::io("truncate WAL segment", &path, e))?;
    f.sync_all()
        .map_err(|e| Error::io("fsync WAL segment", &path, e))
}

fn read_from(path: &Path, offset: u64) -> Result<Vec<u8>> {
    let mut f = fs::File::open(path).map_err(|e| Error::io("open WAL segment", path, e))?;
    f.seek(SeekFrom::Start(offset))
        .map_err(|e| Error::io("seek WAL segment", path, e))?;
    let mut buf = Vec::new();
    f.read_to_end(&mut buf)
        .map_err(|e| Error::io("read WAL segment", path, e))?;
    Ok(buf)
}
