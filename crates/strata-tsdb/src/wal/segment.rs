//! Segment files and the fragment framing inside their pages.
//!
//! A segment is a file named by its index in 8 decimal digits, written in 32 KiB pages.
//! A record is cut into fragments that never cross a page boundary; each fragment is
//! `type <1b> | length <be16> | crc32c(data) <be32> | data`. When fewer than 7 bytes are
//! left in a page, or a type byte is 0, the rest of the page is zero padding.

use std::fs;
use std::path::{Path, PathBuf};

use crate::encoding::crc32c;
use crate::error::{Error, Result};

/// Size of a page of a segment.
pub const PAGE_SIZE: usize = 32 * 1024;
/// Size of a fragment header.
pub const HEADER_SIZE: usize = 7;
/// Default maximum size of a segment.
pub const DEFAULT_SEGMENT_SIZE: usize = 128 * 1024 * 1024;

/// Header flag: the record is snappy-compressed.
pub const SNAPPY_FLAG: u8 = 0x08;
/// Fragment kinds (the low 3 bits of the type byte).
pub const FRAG_PAGE_TERM: u8 = 0;
pub const FRAG_FULL: u8 = 1;
pub const FRAG_FIRST: u8 = 2;
pub const FRAG_MIDDLE: u8 = 3;
pub const FRAG_LAST: u8 = 4;

/// File name of segment `idx`.
pub fn segment_name(idx: u32) -> String {
    format!("{idx:08}")
}

/// Path of segment `idx` in `dir`.
pub fn segment_path(dir: &Path, idx: u32) -> PathBuf {
    dir.join(segment_name(idx))
}

/// Parses a segment file name: exactly 8 ASCII digits.
pub fn parse_segment_name(name: &str) -> Option<u32> {
    if name.len() == 8 && name.bytes().all(|b| b.is_ascii_digit()) {
        name.parse().ok()
    } else {
        None
    }
}

/// Entries of `dir` whose names `parse` maps to an index, with their paths, sorted by
/// index: files when `dirs` is false, directories when it is true. A missing directory
/// has none.
pub(crate) fn list_numbered(
    dir: &Path,
    parse: fn(&str) -> Option<u32>,
    dirs: bool,
) -> Result<Vec<(PathBuf, u32)>> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io("read dir", dir, e)),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io("read dir", dir, e))?;
        let name = entry.file_name();
        let Some(idx) = name.to_str().and_then(parse) else {
            continue;
        };
        let ft = entry
            .file_type()
            .map_err(|e| Error::io("stat", entry.path(), e))?;
        if (dirs && ft.is_dir()) || (!dirs && ft.is_file()) {
            out.push((entry.path(), idx));
        }
    }
    out.sort_by_key(|&(_, idx)| idx);
    Ok(out)
}

/// Indexes of all segment files in `dir`, sorted. A missing directory has none.
pub fn list_segments(dir: &Path) -> Result<Vec<u32>> {
    Ok(list_numbered(dir, parse_segment_name, false)?
        .into_iter()
        .map(|(_, idx)| idx)
        .collect())
}

pub use crate::fsutil::sync_dir;

/// Appends the header and data of one fragment.
pub(crate) fn put_fragment(out: &mut Vec<u8>, typ: u8, data: &[u8]) {
    debug_assert!(data.len() <= PAGE_SIZE - HEADER_SIZE);
    out.push(typ);
    out.extend_from_slice(&(data.len() as u16).to_be_bytes());
    out.extend_from_slice(&crc32c(data).to_be_bytes());
    out.extend_from_slice(data);
}

/// What stands at one position of a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frag {
    /// Zero padding up to the end of the page (which may be cut short by the file end).
    Padding,
    /// A valid fragment: kind (1-4), compressed flag, data range within the page.
    Data {
        kind: u8,
        compressed: bool,
        start: usize,
        end: usize,
    },
}

/// Why a fragment could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FragError {
    /// The page (and so the file) ends inside the fragment.
    Truncated(String),
    /// The bytes are not a valid fragment.
    Corrupt(String),
}

/// Parses the fragment at `pos` of `page`, whose length is less than `PAGE_SIZE` only
/// for the last page of a file. Public for readers that tail a segment while it is
/// being written (the agent's WAL watcher), where a short page is not yet complete.
pub fn parse_fragment(page: &[u8], pos: usize) -> std::result::Result<Frag, FragError> {
    if pos >= page.len() || page.len() > PAGE_SIZE {
        return Err(FragError::Corrupt(format!(
            "no fragment at {pos} of a {}-byte page",
            page.len()
        )));
    }
    let rest = &page[pos..];
    let full_page = page.len() == PAGE_SIZE;
    let left_in_page = PAGE_SIZE - pos;
    if left_in_page < HEADER_SIZE || rest.first() == Some(&FRAG_PAGE_TERM) {
        return match rest.iter().position(|&b| b != 0) {
            None => Ok(Frag::Padding),
            Some(i) => Err(FragError::Corrupt(format!(
                "non-zero byte {:#04x} in page padding at page offset {}",
                rest[i],
                pos + i
            ))),
        };
    }
    let typ = rest[0];
    let kind = typ & 0x07;
    if typ & !(SNAPPY_FLAG | 0x07) != 0 || !(FRAG_FULL..=FRAG_LAST).contains(&kind) {
        return Err(FragError::Corrupt(format!(
            "invalid fragment type {typ:#04x}"
        )));
    }
    if rest.len() < HEADER_SIZE {
        return Err(FragError::Truncated(format!(
            "fragment header cut short: {} of {HEADER_SIZE} bytes",
            rest.len()
        )));
    }
    let len = usize::from(u16::from_be_bytes([rest[1], rest[2]]));
    let crc = u32::from_be_bytes([rest[3], rest[4], rest[5], rest[6]]);
    if HEADER_SIZE + len > left_in_page {
        return Err(FragError::Corrupt(format!(
            "fragment length {len} exceeds the {} bytes left in the page",
            left_in_page - HEADER_SIZE
        )));
    }
    if HEADER_SIZE + len > rest.len() {
        debug_assert!(!full_page);
        return Err(FragError::Truncated(format!(
            "fragment of {len} bytes cut short: {} present",
            rest.len() - HEADER_SIZE
        )));
    }
    let start = pos + HEADER_SIZE;
    let end = start + len;
    let got = crc32c(&page[start..end]);
    if got != crc {
        return Err(FragError::Corrupt(format!(
            "fragment checksum mismatch: stored {crc:#010x}, computed {got:#010x}"
        )));
    }
    Ok(Frag::Data {
        kind,
        compressed: typ & SNAPPY_FLAG != 0,
        start,
        end,
    })
}

/// True if any position at or after `from` in `data` (a segment's bytes from file offset
/// `base`) holds a complete, checksummed, non-empty fragment.
pub(crate) fn valid_fragment_after(data: &[u8], base: u64, from: usize) -> bool {
    let mut q = from;
    while q + HEADER_SIZE < data.len() {
        let typ = data[q];
        let kind = typ & 0x07;
        let in_page = ((base + q as u64) % PAGE_SIZE as u64) as usize;
        if typ & !(SNAPPY_FLAG | 0x07) == 0
            && (FRAG_FULL..=FRAG_LAST).contains(&kind)
            && PAGE_SIZE - in_page >= HEADER_SIZE
        {
            let len = usize::from(u16::from_be_bytes([data[q + 1], data[q + 2]]));
            let end = q + HEADER_SIZE + len;
            if len > 0 && in_page + HEADER_SIZE + len <= PAGE_SIZE && end <= data.len() {
                let crc = u32::from_be_bytes([data[q + 3], data[q + 4], data[q + 5], data[q + 6]]);
                if crc32c(&data[q + HEADER_SIZE..end]) == crc {
                    return true;
                }
            }
        }
        q += 1;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(segment_name(12), "00000012");
        assert_eq!(parse_segment_name("00000012"), Some(12));
        assert_eq!(parse_segment_name("0000012"), None);
        assert_eq!(parse_segment_name("0000001a"), None);
        assert_eq!(parse_segment_name("00000012.tmp"), None);
    }

    #[test]
    fn fragment_parse() {
        let mut page = Vec::new();
        put_fragment(&mut page, FRAG_FULL | SNAPPY_FLAG, b"hello");
        assert_eq!(
            parse_fragment(&page, 0),
            Ok(Frag::Data {
                kind: FRAG_FULL,
                compressed: true,
                start: 7,
                end: 12
            })
        );
        assert!(matches!(
            parse_fragment(&page[..10], 0),
            Err(FragError::Truncated(_))
        ));
        page[8] ^= 1;
        assert!(matches!(
            parse_fragment(&page, 0),
            Err(FragError::Corrupt(_))
        ));
        assert!(matches!(
            parse_fragment(&[0x21, 0, 0], 0),
            Err(FragError::Corrupt(_))
        ));
        assert_eq!(parse_fragment(&[0, 0, 0], 0), Ok(Frag::Padding));
        assert!(parse_fragment(&[0, 1, 0], 0).is_err());
    }
}
