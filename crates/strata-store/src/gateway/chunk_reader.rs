//! Reads chunks of a block from its segment objects in the bucket, a page at a time.
//!
//! Segments are read in aligned pages of [`PAGE_SIZE`] bytes, which the shared
//! [`ChunkCache`] keeps. A chunk's length is only known once its header is read, so a
//! batch is read in two rounds: the pages holding each chunk's header, then the pages
//! up to each chunk's end. Missing pages that are close together are fetched with one
//! ranged GET. Every chunk's CRC32C is checked.
//!
//! Segment layout (Prometheus): 8-byte header, then per chunk `uvarint(len)`, the
//! encoding byte, `len` data bytes and a big-endian CRC32C of encoding and data.

use std::collections::{BTreeSet, HashMap};

use bytes::{Bytes, BytesMut};
use futures::{StreamExt, TryStreamExt};
use strata_objstore::Bucket;
use strata_tsdb::chunks::{SEGMENT_HEADER_SIZE, split_chunk_ref};
use strata_tsdb::encoding::{crc32c, uvarint};

use super::cache::{ChunkCache, PageKey};
use crate::error::{Error, Result};

/// Bytes per cached page of a segment.
pub const PAGE_SIZE: u64 = 16 * 1024;
/// Missing pages at most this many pages apart are fetched in one request.
const MAX_GAP_PAGES: u32 = 2;
/// Ranged GETs in flight per batch.
const FETCH_CONCURRENCY: usize = 8;
/// A chunk header: a uvarint length (at most 10 bytes) and the encoding byte.
const HEADER_MAX: u64 = 11;
const CRC_LEN: u64 = 4;

/// One chunk segment object of a block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// Object name, `<ulid>/chunks/000001`.
    pub name: String,
    pub size: u64,
}

/// Reads the chunks of one block for one batch; pages read stay with the reader until
/// it is dropped, whatever the cache evicts meanwhile.
pub(crate) struct ChunkReader<'a> {
    bucket: &'a Bucket,
    block: &'a str,
    block_key: u128,
    segments: &'a [Segment],
    cache: &'a ChunkCache,
    pages: HashMap<(u32, u32), Bytes>,
    /// Bytes fetched from the bucket by this reader.
    pub fetched: u64,
}

/// Where one chunk lies in its segment.
struct Span {
    seg: u32,
    /// Offset of the encoding byte.
    body: u64,
    /// End of the data (start of the CRC).
    end: u64,
}

fn page_of(off: u64) -> u32 {
    u32::try_from(off / PAGE_SIZE).unwrap_or(u32::MAX)
}

impl<'a> ChunkReader<'a> {
    pub(crate) fn new(
        bucket: &'a Bucket,
        block: &'a str,
        block_key: u128,
        segments: &'a [Segment],
        cache: &'a ChunkCache,
    ) -> Self {
        ChunkReader {
            bucket,
            block,
            block_key,
            segments,
            cache,
            pages: HashMap::new(),
            fetched: 0,
        }
    }

    fn corrupt(&self, r: u64, reason: impl std::fmt::Display) -> Error {
        Error::corrupt(self.block, format!("chunk ref {r:#x}: {reason}"))
    }

    /// The encoding byte and data of each chunk in `refs`, in the same order.
    pub(crate) async fn read(&mut self, refs: &[u64]) -> Result<Vec<(u8, Bytes)>> {
        let mut locs = Vec::with_capacity(refs.len());
        let mut need = BTreeSet::new();
        for &r in refs {
            let (seg, off) = split_chunk_ref(r);
            let off = u64::from(off);
            let Some(s) = self.segments.get(seg as usize) else {
                return Err(self.corrupt(r, format!("segment {seg} does not exist")));
            };
            if off < SEGMENT_HEADER_SIZE || off >= s.size {
                return Err(self.corrupt(r, format!("offset beyond segment of {} bytes", s.size)));
            }
            add_pages(&mut need, seg, off, (off + HEADER_MAX).min(s.size));
            locs.push((r, seg, off, s.size));
        }
        self.ensure(need).await?;

        let mut spans = Vec::with_capacity(locs.len());
        let mut need = BTreeSet::new();
        for &(r, seg, off, size) in &locs {
            let head = self.bytes(seg, off, (off + HEADER_MAX).min(size))?;
            let Some((len, n)) = uvarint(&head) else {
                return Err(self.corrupt(r, "invalid chunk length"));
            };
            let body = off + n as u64;
            let end = body.checked_add(1).and_then(|b| b.checked_add(len));
            let Some(end) = end.filter(|e| e.saturating_add(CRC_LEN) <= size) else {
                return Err(self.corrupt(r, format!("chunk of {len} bytes exceeds the segment")));
            };
            add_pages(&mut need, seg, off, end + CRC_LEN);
            spans.push(Span { seg, body, end });
        }
        self.ensure(need).await?;

        let mut out = Vec::with_capacity(spans.len());
        for (s, &r) in spans.iter().zip(refs) {
            let body = self.bytes(s.seg, s.body, s.end)?;
            let crc = self.bytes(s.seg, s.end, s.end + CRC_LEN)?;
            let stored = u32::from_be_bytes([crc[0], crc[1], crc[2], crc[3]]);
            let computed = crc32c(&body);
            if stored != computed {
                return Err(self.corrupt(
                    r,
                    format!("checksum mismatch: stored {stored:#010x}, computed {computed:#010x}"),
                ));
            }
            out.push((body[0], body.slice(1..)));
        }
        Ok(out)
    }

    /// Bytes `[start, end)` of segment `seg`, from pages already read.
    fn bytes(&self, seg: u32, start: u64, end: u64) -> Result<Bytes> {
        let first = page_of(start);
        let last = page_of(end.saturating_sub(1).max(start));
        let page = |p: u32| {
            self.pages
                .get(&(seg, p))
                .ok_or_else(|| Error::Internal(format!("page {p} of segment {seg} was not read")))
        };
        let rel = |off: u64, p: u32| (off - u64::from(p) * PAGE_SIZE) as usize;
        if first == last {
            let b = page(first)?;
            let (a, z) = (rel(start, first), rel(end, first));
            if z > b.len() || a > z {
                return Err(Error::corrupt(
                    self.block,
                    "short page read from the bucket",
                ));
            }
            return Ok(b.slice(a..z));
        }
        let mut out = BytesMut::with_capacity((end - start) as usize);
        for p in first..=last {
            let b = page(p)?;
            let a = if p == first { rel(start, p) } else { 0 };
            let z = if p == last { rel(end, p) } else { b.len() };
            if z > b.len() || a > z {
                return Err(Error::corrupt(
                    self.block,
                    "short page read from the bucket",
                ));
            }
            out.extend_from_slice(&b[a..z]);
        }
        Ok(out.freeze())
    }

    /// Makes every page in `need` available, from this reader, the cache or the bucket.
    async fn ensure(&mut self, need: BTreeSet<(u32, u32)>) -> Result<()> {
        let mut missing: Vec<(u32, u32)> = Vec::new();
        for (seg, p) in need {
            if self.pages.contains_key(&(seg, p)) {
                continue;
            }
            let key = PageKey {
                block: self.block_key,
                segment: seg,
                page: p,
            };
            match self.cache.get(&key) {
                Some(b) => {
                    self.pages.insert((seg, p), b);
                }
                None => missing.push((seg, p)),
            }
        }
        // Runs of pages per segment: (segment, first page, last page).
        let mut runs: Vec<(u32, u32, u32)> = Vec::new();
        for (seg, p) in missing {
            match runs.last_mut() {
                Some((s, _, last)) if *s == seg && p <= last.saturating_add(MAX_GAP_PAGES + 1) => {
                    *last = p;
                }
                _ => runs.push((seg, p, p)),
            }
        }
        let bucket = self.bucket;
        let segments = self.segments;
        let fetched: Vec<(u32, u32, Bytes)> = futures::stream::iter(runs)
            .map(|(seg, first, last)| async move {
                let s = segments
                    .get(seg as usize)
                    .ok_or_else(|| Error::Internal(format!("segment {seg} vanished")))?;
                let start = u64::from(first) * PAGE_SIZE;
                let end = ((u64::from(last) + 1) * PAGE_SIZE).min(s.size);
                let b = bucket.get_range(&s.name, start..end).await?;
                if (b.len() as u64) != end - start {
                    return Err(Error::corrupt(
                        &s.name,
                        format!("range {start}..{end} returned {} bytes", b.len()),
                    ));
                }
                Ok::<_, Error>((seg, first, b))
            })
            .buffer_unordered(FETCH_CONCURRENCY)
            .try_collect()
            .await?;
        for (seg, first, b) in fetched {
            self.fetched += b.len() as u64;
            for (i, piece) in b.chunks(PAGE_SIZE as usize).enumerate() {
                let p = first + i as u32;
                // A copy per page, so the cache accounts for exactly what it holds.
                let page = Bytes::copy_from_slice(piece);
                self.cache.insert(
                    PageKey {
                        block: self.block_key,
                        segment: seg,
                        page: p,
                    },
                    page.clone(),
                );
                self.pages.insert((seg, p), page);
            }
        }
        Ok(())
    }
}

fn add_pages(need: &mut BTreeSet<(u32, u32)>, seg: u32, start: u64, end: u64) {
    for p in page_of(start)..=page_of(end.saturating_sub(1).max(start)) {
        need.insert((seg, p));
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use strata_tsdb::chunks::ChunkWriter;

    /// Writes chunks of various sizes (some crossing page boundaries) into a segment,
    /// uploads it, and reads them back through a tiny cache.
    #[tokio::test]
    async fn reads_chunks_across_pages_and_checks_crc() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = ChunkWriter::create(dir.path()).unwrap();
        let mut want = Vec::new();
        for i in 0..60u32 {
            let len = [3usize, 200, 5000, 17000, 40][(i % 5) as usize];
            let data: Vec<u8> = (0..len).map(|j| (j as u32 ^ i) as u8).collect();
            let r = w.write_chunk(1 + (i % 3) as u8, &data).unwrap();
            want.push((r, 1 + (i % 3) as u8, data));
        }
        w.finish().unwrap();
        let bytes = std::fs::read(dir.path().join("000001")).unwrap();
        let bucket = Bucket::in_memory();
        bucket.put("B/chunks/000001", bytes.clone()).await.unwrap();
        let segs = vec![Segment {
            name: "B/chunks/000001".into(),
            size: bytes.len() as u64,
        }];
        let cache = ChunkCache::new(3 * PAGE_SIZE);
        let refs: Vec<u64> = want.iter().rev().map(|w| w.0).collect();
        for _ in 0..2 {
            let mut rd = ChunkReader::new(&bucket, "B", 7, &segs, &cache);
            let got = rd.read(&refs).await.unwrap();
            for ((enc, data), w) in got.iter().zip(want.iter().rev()) {
                assert_eq!(*enc, w.1);
                assert_eq!(&data[..], &w.2[..]);
            }
        }
        assert!(cache.stats().hits > 0);
        assert!(cache.stats().bytes <= 3 * PAGE_SIZE);

        // A flipped byte fails the checksum; a ref past the end is refused.
        let mut bad = bytes.clone();
        let (_, off) = split_chunk_ref(want[1].0);
        bad[off as usize + 10] ^= 0xff;
        bucket.put("B/chunks/000001", bad).await.unwrap();
        let cache = ChunkCache::new(0);
        let mut rd = ChunkReader::new(&bucket, "B", 7, &segs, &cache);
        let e = rd.read(&[want[1].0]).await.unwrap_err().to_string();
        assert!(e.contains("checksum mismatch"), "{e}");
        let mut rd = ChunkReader::new(&bucket, "B", 7, &segs, &cache);
        let e = rd.read(&[1 << 32 | 8]).await.unwrap_err().to_string();
        assert!(e.contains("segment 1 does not exist"), "{e}");
    }
}
