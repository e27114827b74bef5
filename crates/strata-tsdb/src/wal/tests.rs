//! Writer, reader and repair tests across page and segment boundaries.

use super::*;
use crate::wal::reader::WalReader;

const SEG: usize = 2 * PAGE_SIZE;

/// Deterministic bytes: incompressible when `noisy`, highly compressible otherwise.
fn payload(seed: u64, len: usize, noisy: bool) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|i| {
            if noisy {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            } else {
                (i / 100) as u8 ^ seed as u8
            }
        })
        .collect()
}

fn opts(compress: bool) -> WalOptions {
    WalOptions {
        segment_size: SEG,
        sync: SyncPolicy::Never,
        compress,
    }
}

fn read_all(dir: &Path) -> Result<Vec<Vec<u8>>> {
    let mut r = WalReader::open(dir, 0, None)?;
    let mut out = Vec::new();
    while let Some(rec) = r.next_record()? {
        out.push(rec);
    }
    Ok(out)
}

fn sample_records() -> Vec<Vec<u8>> {
    let sizes = [
        0, 1, 10, 7, 100, 32_761, 32_762, 32_768, 40_000, 5, 70_000, 3, 65_536, 200, 1_000,
    ];
    sizes
        .iter()
        .enumerate()
        .map(|(i, &n)| payload(i as u64, n, i % 2 == 0))
        .collect()
}

fn round_trip(compress: bool) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let recs = sample_records();
    let mut w = Wal::open(dir, opts(compress)).unwrap();
    assert_eq!(w.current_segment(), 0);
    // Some in one call, the others one per call.
    let first: Vec<&[u8]> = recs[..5].iter().map(Vec::as_slice).collect();
    w.log(&first).unwrap();
    for r in &recs[5..] {
        w.log(&[r]).unwrap();
    }
    w.sync().unwrap();
    assert_eq!(read_all(dir).unwrap(), recs);
    let (a, b) = Wal::segment_range(dir).unwrap().unwrap();
    assert_eq!(a, 0);
    assert!(b >= 2, "expected several segments, got {b}");
    assert_eq!(b, w.current_segment());
    assert!(w.size_bytes().unwrap() > 0);
    // Every closed segment is page-aligned.
    for idx in a..b {
        let len = fs::metadata(segment_path(dir, idx)).unwrap().len();
        assert_eq!(len % PAGE_SIZE as u64, 0, "segment {idx} length {len}");
    }
    w.close().unwrap();

    // Reopening continues in a new segment; everything reads back in order.
    let mut w = Wal::open(dir, opts(compress)).unwrap();
    assert_eq!(w.current_segment(), b + 1);
    w.log(&[b"after reopen"]).unwrap();
    let mut all = recs.clone();
    all.push(b"after reopen".to_vec());
    assert_eq!(read_all(dir).unwrap(), all);

    // Range reads.
    let mut r = WalReader::open(dir, b + 1, None).unwrap();
    assert_eq!(r.next_record().unwrap().unwrap(), b"after reopen");
    assert_eq!(r.next_record().unwrap(), None);

    w.truncate(b).unwrap();
    assert_eq!(Wal::segment_range(dir).unwrap(), Some((b, b + 1)));
    assert_eq!(w.dir(), dir);
}

#[test]
fn round_trip_uncompressed() {
    round_trip(false);
}

#[test]
fn round_trip_compressed() {
    round_trip(true);
}

#[test]
fn compressed_records_are_flagged() {
    let tmp = tempfile::tempdir().unwrap();
    let mut w = Wal::open(tmp.path(), opts(true)).unwrap();
    let rec = vec![7u8; 1000];
    w.log(&[&rec]).unwrap();
    let raw = fs::read(segment_path(tmp.path(), 0)).unwrap();
    assert_eq!(raw[0], FRAG_FULL | SNAPPY_FLAG);
    assert!(raw.len() < 200);
    assert_eq!(read_all(tmp.path()).unwrap(), vec![rec]);
}

#[test]
fn bad_segment_size_rejected() {
    let tmp = tempfile::tempdir().unwrap();
    let mut o = opts(false);
    o.segment_size = 1000;
    assert!(Wal::open(tmp.path(), o).is_err());
}

#[test]
fn next_segment_and_truncate() {
    let tmp = tempfile::tempdir().unwrap();
    let mut w = Wal::open(tmp.path(), opts(false)).unwrap();
    w.log(&[b"a"]).unwrap();
    assert_eq!(w.next_segment().unwrap(), 1);
    assert_eq!(w.next_segment().unwrap(), 2);
    w.log(&[b"b"]).unwrap();
    assert_eq!(
        fs::metadata(segment_path(tmp.path(), 0)).unwrap().len(),
        PAGE_SIZE as u64
    );
    assert_eq!(
        read_all(tmp.path()).unwrap(),
        vec![b"a".to_vec(), b"b".to_vec()]
    );
    w.truncate(100).unwrap(); // never deletes the current segment
    assert_eq!(Wal::segment_range(tmp.path()).unwrap(), Some((2, 2)));
}

/// Writes records one per call into a WAL whose last segment holds several records,
/// including one spanning a page boundary. Returns the dir, the records, the last
/// segment index and the end offset of each record of the last segment.
fn build_for_tearing(compress: bool) -> (tempfile::TempDir, Vec<Vec<u8>>, u32, Vec<u64>) {
    let tmp = tempfile::tempdir().unwrap();
    let mut w = Wal::open(tmp.path(), opts(compress)).unwrap();
    let mut recs = Vec::new();
    for i in 0..3u64 {
        recs.push(payload(100 + i, 20_000, true));
    }
    for r in &recs {
        w.log(&[r]).unwrap();
    }
    let last = w.next_segment().unwrap();
    let tail = vec![
        payload(1, 50, true),
        payload(2, 3, true),
        payload(3, 40_000, true),
        payload(4, 300, false),
        payload(5, 20, true),
    ];
    for r in &tail {
        w.log(&[r]).unwrap();
    }
    recs.extend(tail);
    drop(w);
    let mut r = WalReader::open(tmp.path(), last, Some(last)).unwrap();
    let mut ends = Vec::new();
    while r.next_record().unwrap().is_some() {
        ends.push(r.last_record_end().unwrap().1);
    }
    (tmp, recs, last, ends)
}

/// Truncation points: every byte near a record end or page boundary, a stride elsewhere.
fn cut_points(len: u64, ends: &[u64]) -> Vec<u64> {
    let mut pts: Vec<u64> = (0..=len).step_by(113).collect();
    let marks = ends.iter().copied().chain([PAGE_SIZE as u64, 0, len]);
    for m in marks {
        pts.extend(m.saturating_sub(20)..=(m + 20).min(len));
    }
    pts.sort_unstable();
    pts.dedup();
    pts
}

fn torn_tail(compress: bool, zero_fill: bool) {
    let (tmp, recs, last, ends) = build_for_tearing(compress);
    let earlier = recs.len() - ends.len();
    let path = segment_path(tmp.path(), last);
    let original = fs::read(&path).unwrap();
    for cut in cut_points(original.len() as u64, &ends) {
        let mut data = original[..cut as usize].to_vec();
        if zero_fill {
            data.resize(original.len(), 0);
        }
        fs::write(&path, &data).unwrap();
        let complete = ends.iter().filter(|&&e| e <= cut).count();
        let repaired = repair_torn_tail(tmp.path())
            .unwrap_or_else(|e| panic!("cut at {cut}: repair failed: {e}"));
        if let Some((seg, at)) = repaired {
            assert_eq!(seg, last);
            let want = if complete == 0 { 0 } else { ends[complete - 1] };
            assert_eq!(at, want, "cut at {cut}");
            let len = fs::metadata(&path).unwrap().len();
            assert_eq!(len % PAGE_SIZE as u64, 0);
        }
        assert_eq!(repair_torn_tail(tmp.path()).unwrap(), None, "cut at {cut}");
        let got = read_all(tmp.path()).unwrap_or_else(|e| panic!("cut at {cut}: {e}"));
        assert_eq!(got.len(), earlier + complete, "cut at {cut}");
        assert_eq!(&got[..], &recs[..earlier + complete], "cut at {cut}");
    }
}

#[test]
fn torn_tail_uncompressed() {
    torn_tail(false, false);
}

#[test]
fn torn_tail_compressed() {
    torn_tail(true, false);
}

#[test]
fn torn_tail_zero_filled() {
    torn_tail(false, true);
}

#[test]
fn torn_segment_followed_by_empty_ones() {
    let (tmp, recs, last, ends) = build_for_tearing(true);
    let path = segment_path(tmp.path(), last);
    let data = fs::read(&path).unwrap();
    fs::write(&path, &data[..(ends[0] + 3) as usize]).unwrap();
    // A crash right after opening: empty segments follow the torn one.
    fs::write(segment_path(tmp.path(), last + 1), b"").unwrap();
    fs::write(segment_path(tmp.path(), last + 2), b"").unwrap();
    assert!(read_all(tmp.path()).is_err());
    assert_eq!(repair_torn_tail(tmp.path()).unwrap(), Some((last, ends[0])));
    let earlier = recs.len() - ends.len();
    assert_eq!(read_all(tmp.path()).unwrap(), recs[..earlier + 1].to_vec());
}

#[test]
fn repair_then_continue_writing() {
    let (tmp, recs, last, ends) = build_for_tearing(false);
    let path = segment_path(tmp.path(), last);
    let data = fs::read(&path).unwrap();
    // Cut in the middle of the page-spanning record (the third of the segment).
    fs::write(&path, &data[..(ends[1] + 5000) as usize]).unwrap();
    assert_eq!(repair_torn_tail(tmp.path()).unwrap(), Some((last, ends[1])));
    let mut w = Wal::open(tmp.path(), opts(false)).unwrap();
    assert_eq!(w.current_segment(), last + 1);
    w.log(&[b"new"]).unwrap();
    let earlier = recs.len() - ends.len();
    let mut want = recs[..earlier + 2].to_vec();
    want.push(b"new".to_vec());
    assert_eq!(read_all(tmp.path()).unwrap(), want);
}

fn flip(path: &Path, at: usize) {
    let mut data = fs::read(path).unwrap();
    data[at] ^= 0x40;
    fs::write(path, data).unwrap();
}

#[test]
fn flipped_byte_in_middle_segment_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let mut w = Wal::open(tmp.path(), opts(false)).unwrap();
    for i in 0..3 {
        w.log(&[b"first record", b"second record"]).unwrap();
        if i < 2 {
            w.next_segment().unwrap();
        }
    }
    // Segment 1: the second record's fragment starts at 7 + 12 = 19; flip a data byte.
    flip(&segment_path(tmp.path(), 1), 19 + 7 + 3);
    assert_eq!(repair_torn_tail(tmp.path()).unwrap(), None);
    let e = read_all(tmp.path()).unwrap_err();
    assert!(
        matches!(
            e,
            Error::WalCorruption {
                segment: 1,
                offset: 19,
                ..
            }
        ),
        "{e}"
    );
    let msg = e.to_string();
    assert!(
        msg.contains("segment 1") && msg.contains("offset 19"),
        "{msg}"
    );
}

#[test]
fn corruption_in_last_segment_followed_by_data_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let mut w = Wal::open(tmp.path(), opts(false)).unwrap();
    w.log(&[b"first record", b"second record", b"third record"])
        .unwrap();
    drop(w);
    let path = segment_path(tmp.path(), 0);
    let before = fs::read(&path).unwrap();
    flip(&path, 19 + 7 + 3);
    let e = repair_torn_tail(tmp.path()).unwrap_err();
    assert!(
        matches!(
            e,
            Error::WalCorruption {
                segment: 0,
                offset: 19,
                ..
            }
        ),
        "{e}"
    );
    // Nothing was truncated.
    assert_eq!(fs::read(&path).unwrap().len(), before.len());

    // A bad type byte in the middle is an error too.
    fs::write(&path, &before).unwrap();
    flip(&path, 19);
    assert!(repair_torn_tail(tmp.path()).is_err());
    assert!(read_all(tmp.path()).is_err());
}

#[test]
fn garbage_never_panics() {
    let tmp = tempfile::tempdir().unwrap();
    for seed in 0..200u64 {
        let mut data = payload(seed, (seed as usize * 397) % 70_000, true);
        // Sprinkle plausible headers.
        for (i, chunk) in data.chunks_mut(50).enumerate() {
            chunk[0] = (i % 5) as u8 | if i % 3 == 0 { SNAPPY_FLAG } else { 0 };
        }
        let path = segment_path(tmp.path(), 0);
        fs::write(&path, &data).unwrap();
        let _ = read_all(tmp.path());
        let _ = repair_torn_tail(tmp.path());
        let _ = read_all(tmp.path());
    }
}

#[test]
fn golden_fragment_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let mut o = opts(true);
    o.sync = SyncPolicy::Always;
    let mut w = Wal::open(tmp.path(), o).unwrap();
    // Too short to gain from compression: stored as is.
    w.log(&[b"abc"]).unwrap();
    let raw = fs::read(segment_path(tmp.path(), 0)).unwrap();
    // crc32c("abc") = 0x364b3fb7
    assert_eq!(
        raw,
        [0x01, 0x00, 0x03, 0x36, 0x4b, 0x3f, 0xb7, b'a', b'b', b'c']
    );
    w.close().unwrap();
    let raw = fs::read(segment_path(tmp.path(), 0)).unwrap();
    assert_eq!(raw.len(), PAGE_SIZE);
    assert!(raw[10..].iter().all(|&b| b == 0));
}
