//! What a queue has had acknowledged: positions in the WAL, tracked across the shards
//! that send concurrently, and persisted in a small file after acknowledged sends so a
//! restart resumes exactly there.

use std::collections::VecDeque;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use parking_lot::Mutex;

/// A record boundary in the WAL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct WalPosition {
    pub segment: u32,
    pub offset: u64,
}

/// Maps the sequence numbers of records read to their end positions, so that the oldest
/// sample still pending in any shard tells how far everything has been acknowledged.
pub(crate) struct AckTracker {
    inner: Mutex<AckInner>,
}

struct AckInner {
    next_seq: u64,
    /// End positions of records read and fully enqueued, oldest first, not yet known
    /// to be acknowledged.
    marks: VecDeque<(u64, WalPosition)>,
    /// Everything before this position has been acknowledged (or dropped on purpose).
    acked: WalPosition,
}

impl AckTracker {
    pub fn new(start: WalPosition) -> Self {
        AckTracker {
            inner: Mutex::new(AckInner {
                next_seq: 1,
                marks: VecDeque::new(),
                acked: start,
            }),
        }
    }

    /// The sequence number of the record about to be read; its samples carry it.
    pub fn next_seq(&self) -> u64 {
        self.inner.lock().next_seq
    }

    /// The record `seq` (from [`AckTracker::next_seq`]) has been read and all its
    /// samples handed to the shards; it ends at `end`.
    pub fn record_done(&self, seq: u64, end: WalPosition) {
        let mut g = self.inner.lock();
        g.next_seq = seq + 1;
        // Bounded memory when the shards are stuck: beyond this many marks the newest
        // one is moved forward instead (the acknowledged position then advances in
        // coarser steps).
        let crowded = g.marks.len() > 4096;
        match g.marks.back_mut() {
            Some(last) if crowded => *last = (seq, end),
            _ => g.marks.push_back((seq, end)),
        }
    }

    /// Advances the acknowledged position given the oldest sequence number still pending
    /// in any shard (`None`: nothing pending); returns it.
    pub fn advance(&self, oldest_pending: Option<u64>) -> WalPosition {
        let mut g = self.inner.lock();
        while let Some(&(seq, pos)) = g.marks.front() {
            if oldest_pending.is_some_and(|o| seq >= o) {
                break;
            }
            g.acked = pos;
            g.marks.pop_front();
        }
        g.acked
    }

    pub fn acked(&self) -> WalPosition {
        self.inner.lock().acked
    }
}

const MAGIC: &str = "strata-agent remote-write progress v1";

/// The progress file of one queue: `<data>/remote/<name>`.
pub(crate) struct ProgressFile {
    path: PathBuf,
    written: Mutex<Option<WalPosition>>,
}

impl ProgressFile {
    pub fn new(path: PathBuf) -> Self {
        ProgressFile {
            path,
            written: Mutex::new(None),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The stored position; `None` if there is no file or it cannot be read (then the
    /// caller starts over, which at worst resends).
    pub fn load(&self) -> Option<WalPosition> {
        let text = fs::read_to_string(&self.path).ok()?;
        let pos = parse(&text);
        if pos.is_none() {
            tracing::warn!(path = %self.path.display(), "ignoring unreadable remote-write progress file");
        }
        *self.written.lock() = pos;
        pos
    }

    /// Stores `pos` if it differs from what was stored last: a temporary file renamed
    /// over the old one, so a crash leaves one or the other; fsynced only if `sync`.
    pub fn store(&self, pos: WalPosition, sync: bool) -> std::io::Result<()> {
        let mut written = self.written.lock();
        if *written == Some(pos) && !sync {
            return Ok(());
        }
        if let Some(dir) = self.path.parent() {
            fs::create_dir_all(dir)?;
        }
        let tmp = self.path.with_extension("tmp");
        {
            let mut f = fs::File::create(&tmp)?;
            write!(
                f,
                "{MAGIC}\nsegment {}\noffset {}\n",
                pos.segment, pos.offset
            )?;
            if sync {
                f.sync_all()?;
            }
        }
        fs::rename(&tmp, &self.path)?;
        if sync && let Some(dir) = self.path.parent() {
            fs::File::open(dir)?.sync_all()?;
        }
        *written = Some(pos);
        Ok(())
    }
}

fn parse(text: &str) -> Option<WalPosition> {
    let mut lines = text.lines();
    if lines.next()? != MAGIC {
        return None;
    }
    let segment = lines.next()?.strip_prefix("segment ")?.parse().ok()?;
    let offset = lines.next()?.strip_prefix("offset ")?.parse().ok()?;
    Some(WalPosition { segment, offset })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn p(segment: u32, offset: u64) -> WalPosition {
        WalPosition { segment, offset }
    }

    #[test]
    fn acked_position_waits_for_the_oldest_pending_sample() {
        let t = AckTracker::new(p(0, 0));
        let s1 = t.next_seq();
        t.record_done(s1, p(0, 100));
        let s2 = t.next_seq();
        t.record_done(s2, p(0, 200));
        let s3 = t.next_seq();
        // s1's samples all sent, s2's partly pending.
        assert_eq!(t.advance(Some(s2)), p(0, 100));
        // s3 being read (not done): only s2 can be acknowledged.
        assert_eq!(t.advance(Some(s3)), p(0, 200));
        t.record_done(s3, p(1, 0));
        assert_eq!(t.advance(None), p(1, 0));
        assert_eq!(t.acked(), p(1, 0));
    }

    #[test]
    fn file_round_trip_and_garbage() {
        let tmp = tempfile::tempdir().unwrap();
        let f = ProgressFile::new(tmp.path().join("remote").join("q"));
        assert_eq!(f.load(), None);
        f.store(p(3, 4096), false).unwrap();
        f.store(p(3, 8192), true).unwrap();
        let g = ProgressFile::new(f.path().to_path_buf());
        assert_eq!(g.load(), Some(p(3, 8192)));
        std::fs::write(f.path(), "nonsense").unwrap();
        assert_eq!(g.load(), None);
    }
}
