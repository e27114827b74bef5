//! Block chunk segment files: `chunks/000001`, `chunks/000002`, ...
//!
//! Each segment starts with an 8-byte header (magic `0x85BD40DD` big-endian, format
//! version 1, three bytes of padding), followed by chunks laid out as
//! `uvarint(len(data)) | encoding <1 byte> | data | CRC32C(encoding, data) <BE32>`.
//! A chunk reference is `segment index << 32 | byte offset of the chunk in the segment`,
//! where the file `000001` has segment index 0.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::encoding::{crc32c, put_uvarint, uvarint};
use crate::error::{Error, Result};
use crate::fsutil::sync_dir;
use crate::mmap::SharedBytes;

/// Magic number at the start of every chunk segment file.
pub const MAGIC_CHUNKS: u32 = 0x85BD_40DD;
/// The chunk segment format version we read and write.
pub const CHUNKS_FORMAT_V1: u8 = 1;
/// Size of the segment header: magic, version and padding.
pub const SEGMENT_HEADER_SIZE: u64 = 8;
/// Default maximum size of a segment file (512 MiB).
pub const DEFAULT_MAX_SEGMENT_SIZE: u64 = 512 * 1024 * 1024;

const CRC_SIZE: usize = 4;

/// The file name of segment `index` (0-based): index 0 is `000001`.
pub fn segment_file_name(index: u32) -> String {
    format!("{:06}", u64::from(index) + 1)
}

/// Builds a chunk reference from a segment index and an offset.
pub fn chunk_ref(segment: u32, offset: u32) -> u64 {
    (u64::from(segment) << 32) | u64::from(offset)
}

/// Splits a chunk reference into its segment index and offset.
pub fn split_chunk_ref(r: u64) -> (u32, u32) {
    ((r >> 32) as u32, r as u32)
}

struct OpenSegment {
    path: PathBuf,
    w: BufWriter<File>,
    /// Bytes written to this segment, header included.
    size: u64,
}

/// Writes chunks into numbered segment files, starting a new segment when the next
/// chunk would make the current one exceed the maximum segment size.
pub struct ChunkWriter {
    dir: PathBuf,
    max_segment_size: u64,
    /// Index of the current segment; `None` before the first chunk.
    seq: Option<u32>,
    cur: Option<OpenSegment>,
    total: u64,
    buf: Vec<u8>,
}

impl ChunkWriter {
    /// A writer into `dir` (usually `<block>/chunks`) with 512 MiB segments.
    pub fn create(dir: &Path) -> Result<Self> {
        Self::with_segment_size(dir, DEFAULT_MAX_SEGMENT_SIZE)
    }

    /// A writer with a custom maximum segment size (for tests). Segments never exceed
    /// 4 GiB, because chunk offsets are 32 bits.
    pub fn with_segment_size(dir: &Path, max: u64) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io("create dir", dir, e))?;
        Ok(ChunkWriter {
            dir: dir.to_path_buf(),
            max_segment_size: max.min(u64::from(u32::MAX)),
            seq: None,
            cur: None,
            total: 0,
            buf: Vec::new(),
        })
    }

    fn finish_segment(seg: OpenSegment) -> Result<()> {
        let OpenSegment { path, w, .. } = seg;
        let f = w
            .into_inner()
            .map_err(|e| Error::io("write", &path, e.into_error()))?;
        f.sync_all().map_err(|e| Error::io("fsync", &path, e))
    }

    fn cut(&mut self) -> Result<()> {
        if let Some(seg) = self.cur.take() {
            Self::finish_segment(seg)?;
        }
        let next = match self.seq {
            None => 0,
            Some(s) => s.checked_add(1).ok_or_else(|| Error::Unsupported {
                what: "chunk segments",
                detail: "too many segment files".into(),
            })?,
        };
        let path = self.dir.join(segment_file_name(next));
        let f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| Error::io("create", &path, e))?;
        let mut w = BufWriter::with_capacity(1 << 20, f);
        let mut header = [0u8; SEGMENT_HEADER_SIZE as usize];
        header[..4].copy_from_slice(&MAGIC_CHUNKS.to_be_bytes());
        header[4] = CHUNKS_FORMAT_V1;
        w.write_all(&header)
            .map_err(|e| Error::io("write", &path, e))?;
        self.total += SEGMENT_HEADER_SIZE;
        self.seq = Some(next);
        self.cur = Some(OpenSegment {
            path,
            w,
            size: SEGMENT_HEADER_SIZE,
        });
        Ok(())
    }

    /// Appends a chunk and returns its reference.
    pub fn write_chunk(&mut self, encoding: u8, data: &[u8]) -> Result<u64> {
        self.buf.clear();
        put_uvarint(&mut self.buf, data.len() as u64);
        let crc_from = self.buf.len();
        self.buf.push(encoding);
        self.buf.extend_from_slice(data);
        let crc = crc32c(&self.buf[crc_from..]);
        self.buf.extend_from_slice(&crc.to_be_bytes());
        let n = self.buf.len() as u64;
        if SEGMENT_HEADER_SIZE + n > u64::from(u32::MAX) {
            return Err(Error::Unsupported {
                what: "chunk size",
                detail: format!("chunk of {} bytes does not fit a segment", data.len()),
            });
        }

        let need_cut = match &self.cur {
            None => true,
            // A chunk larger than the maximum gets a segment of its own.
            Some(seg) => seg.size > SEGMENT_HEADER_SIZE && seg.size + n > self.max_segment_size,
        };
        if need_cut {
            self.cut()?;
        }
        let seq = self.seq.unwrap_or(0);
        let Some(seg) = self.cur.as_mut() else {
            return Err(Error::Decode("chunk writer has no open segment".into()));
        };
        let offset = seg.size;
        seg.w
            .write_all(&self.buf)
            .map_err(|e| Error::io("write", &seg.path, e))?;
        seg.size += n;
        self.total += n;
        Ok(chunk_ref(seq, offset as u32))
    }

    /// Flushes and fsyncs all files and the directory; returns the total bytes written.
    pub fn finish(mut self) -> Result<u64> {
        if let Some(seg) = self.cur.take() {
            Self::finish_segment(seg)?;
        }
        sync_dir(&self.dir)?;
        Ok(self.total)
    }
}

#[derive(Clone)]
struct Segment {
    name: PathBuf,
    bytes: SharedBytes,
}

/// Reads chunks from the memory-mapped segment files of a block.
#[derive(Clone)]
pub struct ChunkReader {
    segments: Vec<Segment>,
    size: u64,
}

impl std::fmt::Debug for ChunkReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChunkReader")
            .field("segments", &self.segments.len())
            .field("size", &self.size)
            .finish()
    }
}

impl ChunkReader {
    /// Maps every segment file of `dir` and validates its header. Segment numbers must
    /// be consecutive starting at `000001`.
    pub fn open(dir: &Path) -> Result<Self> {
        let rd = std::fs::read_dir(dir).map_err(|e| Error::io("read dir", dir, e))?;
        let mut files = Vec::new();
        for entry in rd {
            let entry = entry.map_err(|e| Error::io("read dir", dir, e))?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            if name.is_empty() || !name.bytes().all(|b| b.is_ascii_digit()) {
                continue;
            }
            let Ok(num) = name.parse::<u64>() else {
                continue;
            };
            files.push((num, entry.path()));
        }
        files.sort_by_key(|(n, _)| *n);
        let mut segments = Vec::with_capacity(files.len());
        let mut size = 0;
        for (i, (num, path)) in files.into_iter().enumerate() {
            if num != i as u64 + 1 {
                return Err(Error::InvalidBlock {
                    dir: dir.to_path_buf(),
                    reason: format!(
                        "chunk segment files not consecutive: expected {}, found {}",
                        segment_file_name(i as u32),
                        path.display()
                    ),
                });
            }
            let bytes = SharedBytes::open(&path)?;
            let what = path.display().to_string();
            if (bytes.len() as u64) < SEGMENT_HEADER_SIZE {
                return Err(Error::corruption(
                    what,
                    0,
                    format!(
                        "segment of {} bytes is shorter than its header",
                        bytes.len()
                    ),
                ));
            }
            let magic = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
            if magic != MAGIC_CHUNKS {
                return Err(Error::corruption(
                    what,
                    0,
                    format!("invalid magic number {magic:#010x}"),
                ));
            }
            if bytes[4] != CHUNKS_FORMAT_V1 {
                return Err(Error::corruption(
                    what,
                    4,
                    format!("unsupported chunk format version {}", bytes[4]),
                ));
            }
            size += bytes.len() as u64;
            segments.push(Segment { name: path, bytes });
        }
        Ok(ChunkReader { segments, size })
    }

    /// The encoding byte and the data of the chunk at `chunk_ref`, sharing the mapping.
    pub fn chunk(&self, chunk_ref: u64) -> Result<(u8, SharedBytes)> {
        let (seq, offset) = split_chunk_ref(chunk_ref);
        let Some(seg) = self.segments.get(seq as usize) else {
            return Err(Error::corruption(
                format!("chunk ref {chunk_ref:#x}"),
                u64::from(offset),
                format!(
                    "segment index {seq} does not exist ({} segments)",
                    self.segments.len()
                ),
            ));
        };
        let what = || seg.name.display().to_string();
        let b = &seg.bytes;
        let off = offset as usize;
        if (offset as u64) < SEGMENT_HEADER_SIZE || off >= b.len() {
            return Err(Error::corruption(
                what(),
                u64::from(offset),
                format!("chunk offset out of range (segment has {} bytes)", b.len()),
            ));
        }
        let rest = b.get(off..).unwrap_or_default();
        let Some((len, n)) = uvarint(rest) else {
            return Err(Error::corruption(
                what(),
                u64::from(offset),
                "invalid chunk length",
            ));
        };
        let start = off + n; // encoding byte
        let end = usize::try_from(len)
            .ok()
            .and_then(|l| start.checked_add(1)?.checked_add(l))
            .filter(|&e| e.checked_add(CRC_SIZE).is_some_and(|c| c <= b.len()));
        let Some(end) = end else {
            return Err(Error::corruption(
                what(),
                u64::from(offset),
                format!("chunk of length {len} exceeds the segment size {}", b.len()),
            ));
        };
        let body = b.get(start..end).unwrap_or_default();
        let stored = b
            .get(end..end + CRC_SIZE)
            .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
            .unwrap_or_default();
        let computed = crc32c(body);
        if stored != computed {
            return Err(Error::corruption(
                what(),
                u64::from(offset),
                format!(
                    "chunk checksum mismatch: stored {stored:#010x}, computed {computed:#010x}"
                ),
            ));
        }
        let encoding = body.first().copied().unwrap_or_default();
        let data = b.slice(start + 1..end).ok_or_else(|| {
            Error::corruption(what(), u64::from(offset), "chunk data out of range")
        })?;
        Ok((encoding, data))
    }

    /// Total size of all segment files in bytes.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Number of segment files.
    pub fn num_segments(&self) -> usize {
        self.segments.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_all(dir: &Path, max: u64, chunks: &[(u8, Vec<u8>)]) -> (Vec<u64>, u64) {
        let mut w = ChunkWriter::with_segment_size(dir, max).unwrap();
        let refs = chunks
            .iter()
            .map(|(e, d)| w.write_chunk(*e, d).unwrap())
            .collect();
        (refs, w.finish().unwrap())
    }

    #[test]
    fn round_trip_single_segment() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("chunks");
        let chunks: Vec<(u8, Vec<u8>)> = (0..100u32)
            .map(|i| ((i % 3) as u8 + 1, vec![i as u8; i as usize * 7]))
            .collect();
        let (refs, total) = write_all(&dir, DEFAULT_MAX_SEGMENT_SIZE, &chunks);
        assert_eq!(refs[0], 8, "first chunk right after the header");
        let r = ChunkReader::open(&dir).unwrap();
        assert_eq!(r.size(), total);
        assert_eq!(r.num_segments(), 1);
        assert_eq!(std::fs::metadata(dir.join("000001")).unwrap().len(), total);
        for (r0, (e, d)) in refs.iter().zip(&chunks) {
            let (enc, data) = r.chunk(*r0).unwrap();
            assert_eq!(enc, *e);
            assert_eq!(&*data, &d[..]);
        }
        // Header bytes are exactly as specified.
        let raw = std::fs::read(dir.join("000001")).unwrap();
        assert_eq!(&raw[..8], &[0x85, 0xBD, 0x40, 0xDD, 1, 0, 0, 0]);
        // The first chunk: len 0, encoding 1, CRC32C of [1].
        assert_eq!(raw[8], 0);
        assert_eq!(raw[9], 1);
        assert_eq!(&raw[10..14], &crc32c(&[1]).to_be_bytes());
    }

    #[test]
    fn segments_roll_over() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("chunks");
        // Each chunk takes 1 + 1 + 20 + 4 = 26 bytes; 100-byte segments hold 3 chunks.
        let chunks: Vec<(u8, Vec<u8>)> = (0..10u8).map(|i| (1, vec![i; 20])).collect();
        let (refs, total) = write_all(&dir, 100, &chunks);
        assert_eq!(refs[0], chunk_ref(0, 8));
        assert_eq!(refs[2], chunk_ref(0, 8 + 52));
        assert_eq!(refs[3], chunk_ref(1, 8));
        assert_eq!(refs[9], chunk_ref(3, 8));
        let r = ChunkReader::open(&dir).unwrap();
        assert_eq!(r.num_segments(), 4);
        assert_eq!(r.size(), total);
        assert!(dir.join("000004").exists() && !dir.join("000005").exists());
        for (r0, (_, d)) in refs.iter().zip(&chunks) {
            assert_eq!(&*r.chunk(*r0).unwrap().1, &d[..]);
        }
        // A chunk bigger than the segment size still gets written, alone.
        let dir2 = tmp.path().join("big");
        let (refs, _) = write_all(
            &dir2,
            50,
            &[(1, vec![1; 10]), (2, vec![2; 200]), (1, vec![3])],
        );
        assert_eq!(
            refs,
            vec![chunk_ref(0, 8), chunk_ref(1, 8), chunk_ref(2, 8)]
        );
        let r = ChunkReader::open(&dir2).unwrap();
        assert_eq!(r.chunk(refs[1]).unwrap().1.len(), 200);
    }

    #[test]
    fn crc_mismatch_names_file_and_offset() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("chunks");
        let (refs, _) = write_all(&dir, 100, &[(1, vec![7; 20]), (1, vec![8; 20])]);
        let path = dir.join("000001");
        let mut raw = std::fs::read(&path).unwrap();
        let (_, off) = split_chunk_ref(refs[1]);
        raw[off as usize + 5] ^= 0xff;
        std::fs::write(&path, &raw).unwrap();
        let r = ChunkReader::open(&dir).unwrap();
        assert!(r.chunk(refs[0]).is_ok());
        let e = r.chunk(refs[1]).unwrap_err().to_string();
        assert!(e.contains("000001"), "{e}");
        assert!(e.contains(&format!("offset {off}")), "{e}");
        assert!(e.contains("checksum"), "{e}");
    }

    #[test]
    fn bad_refs_and_headers_are_errors() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("chunks");
        let (refs, _) = write_all(&dir, 1000, &[(1, vec![7; 20])]);
        let r = ChunkReader::open(&dir).unwrap();
        assert!(r.chunk(chunk_ref(1, 8)).is_err());
        assert!(r.chunk(chunk_ref(0, 3)).is_err());
        assert!(r.chunk(chunk_ref(0, 10_000)).is_err());
        assert!(r.chunk(refs[0] + 1).is_err());

        // Truncation: every prefix of the file either fails to open or fails to read.
        let raw = std::fs::read(dir.join("000001")).unwrap();
        for n in 0..raw.len() {
            std::fs::write(dir.join("000001"), &raw[..n]).unwrap();
            match ChunkReader::open(&dir) {
                Err(_) => assert!(n < 8),
                Ok(r) => assert!(r.chunk(refs[0]).is_err()),
            }
        }
        // Bad magic and version.
        let mut bad = raw.clone();
        bad[0] = 0;
        std::fs::write(dir.join("000001"), &bad).unwrap();
        let e = ChunkReader::open(&dir).unwrap_err().to_string();
        assert!(e.contains("magic") && e.contains("000001"), "{e}");
        let mut bad = raw.clone();
        bad[4] = 2;
        std::fs::write(dir.join("000001"), &bad).unwrap();
        assert!(
            ChunkReader::open(&dir)
                .unwrap_err()
                .to_string()
                .contains("version")
        );
        // A gap in the numbering.
        std::fs::write(dir.join("000001"), &raw).unwrap();
        std::fs::write(dir.join("000003"), &raw).unwrap();
        assert!(ChunkReader::open(&dir).is_err());
    }

    #[test]
    fn random_refs_never_panic() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("chunks");
        let chunks: Vec<(u8, Vec<u8>)> = (0..20u8).map(|i| (1, vec![i; i as usize])).collect();
        write_all(&dir, 120, &chunks);
        let r = ChunkReader::open(&dir).unwrap();
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..10_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let _ = r.chunk(chunk_ref((x >> 40) as u32 % 8, (x as u32) % 200));
        }
    }
}
