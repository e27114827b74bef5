//! The database: a directory of blocks plus a head backed by the WAL, laid out as
//! Prometheus lays out its data directory (`<ulid>/` blocks, `wal/`, `lock`).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};
use strata_model::histogram::FloatHistogram;
use strata_model::merge::MergeQuerier;
use strata_model::storage::{Querier, Queryable, SelectHints};
use strata_model::{Labels, Matcher};
use tracing::{info, warn};

use crate::block::{Block, BlockQuerier};
use crate::block_writer::{BlockWriter, EncodedChunk, TMP_CREATION_SUFFIX, TMP_DELETION_SUFFIX};
use crate::chunkenc::histogram_clip::{OwnedChunk, clip_histogram_chunk};
use crate::error::{Error, Result};
use crate::head::{Appender, Head, HeadOptions, HeadQuerier};
use crate::meta::BlockMeta;
use crate::wal::{Wal, WalOptions};

/// One series' native histogram samples, as [`Db::select_histograms`] returns them.
pub type HistogramSeries = (Labels, Vec<(i64, FloatHistogram)>);

/// Options of a database.
#[derive(Debug, Clone, Default)]
pub struct DbOptions {
    pub head: HeadOptions,
    pub wal: WalOptions,
    /// Keep blocks whose end is within this many ms of the newest block's end
    /// (Prometheus' time retention); `None` keeps everything.
    pub retention: Option<i64>,
}

/// An open TSDB.
pub struct Db {
    dir: PathBuf,
    opts: DbOptions,
    head: Arc<Head>,
    blocks: RwLock<Vec<Arc<Block>>>,
    compaction: Mutex<()>,
    read_only: bool,
    lock: Option<fs::File>,
    retention_guard: RwLock<Option<Arc<dyn RetentionGuard>>>,
}

/// Decides whether retention may delete a block (e.g. only once it is in the bucket).
pub trait RetentionGuard: Send + Sync {
    /// True when the block `ulid` may be deleted locally.
    fn may_delete(&self, ulid: &str) -> bool;
}

fn is_ulid_dir(p: &Path) -> bool {
    p.is_dir()
        && p.file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| ulid::Ulid::from_string(n).is_ok())
}

fn load_blocks(dir: &Path) -> Result<Vec<Arc<Block>>> {
    let mut blocks = Vec::new();
    let rd = match fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(blocks),
        Err(e) => return Err(Error::io("read dir", dir, e)),
    };
    for entry in rd {
        let p = entry.map_err(|e| Error::io("read dir", dir, e))?.path();
        if is_ulid_dir(&p) {
            blocks.push(Arc::new(Block::open(&p)?));
        }
    }
    blocks.sort_by_key(|b| (b.meta().min_time, b.meta().max_time));
    Ok(blocks)
}

fn remove_leftovers(dir: &Path) -> Result<()> {
    let rd = fs::read_dir(dir).map_err(|e| Error::io("read dir", dir, e))?;
    for entry in rd.flatten() {
        let p = entry.path();
        let name = p
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        if name.ends_with(TMP_CREATION_SUFFIX) || name.ends_with(TMP_DELETION_SUFFIX) {
            warn!(dir = %p.display(), "removing incomplete block directory");
            fs::remove_dir_all(&p).map_err(|e| Error::io("remove", &p, e))?;
        }
    }
    Ok(())
}

impl Db {
    /// Opens (creating if needed) a database for reading and writing: takes the lock
    /// file, removes half-written blocks, repairs a torn WAL tail and replays the WAL.
    pub fn open(dir: &Path, opts: DbOptions) -> Result<Db> {
        fs::create_dir_all(dir).map_err(|e| Error::io("create", dir, e))?;
        let lock_path = dir.join("lock");
        let lock = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| Error::io("open", &lock_path, e))?;
        lock.try_lock().map_err(|e| {
            Error::io(
                "lock (is another process using this data directory?)",
                &lock_path,
                std::io::Error::other(e),
            )
        })?;
        remove_leftovers(dir)?;
        let blocks = load_blocks(dir)?;
        let wal_dir = dir.join("wal");
        if wal_dir.exists()
            && let Some((seg, off)) = crate::wal::reader::repair_torn_tail(&wal_dir)?
        {
            warn!(
                segment = seg,
                offset = off,
                "WAL ended in a torn record; truncated it there"
            );
        }
        let head = Head::new(opts.head.clone(), None);
        if let Some(maxt) = blocks.iter().map(|b| b.meta().max_time).max() {
            head.set_min_valid_time(maxt);
        }
        head.replay(&wal_dir)?;
        let wal = Wal::open(&wal_dir, opts.wal.clone())?;
        head.commit.lock().wal = Some(wal);
        info!(dir = %dir.display(), blocks = blocks.len(), head_series = head.num_series(), "opened TSDB");
        Ok(Db {
            dir: dir.to_path_buf(),
            opts,
            head: Arc::new(head),
            blocks: RwLock::new(blocks),
            compaction: Mutex::new(()),
            read_only: false,
            lock: Some(lock),
            retention_guard: RwLock::new(None),
        })
    }

    /// Opens a data directory read-only (no lock, no repair, nothing written), for tools
    /// such as `dump` that may run beside a live Prometheus or Strata.
    pub fn open_read_only(dir: &Path) -> Result<Db> {
        if !dir.is_dir() {
            return Err(Error::io(
                "open",
                dir,
                std::io::Error::from(std::io::ErrorKind::NotFound),
            ));
        }
        let blocks = load_blocks(dir)?;
        let head = Head::new(HeadOptions::default(), None);
        if let Some(maxt) = blocks.iter().map(|b| b.meta().max_time).max() {
            head.set_min_valid_time(maxt);
        }
        let wal_dir = dir.join("wal");
        if wal_dir.is_dir() {
            head.replay_live(&wal_dir)?;
        }
        Ok(Db {
            dir: dir.to_path_buf(),
            opts: DbOptions::default(),
            head: Arc::new(head),
            blocks: RwLock::new(blocks),
            compaction: Mutex::new(()),
            read_only: true,
            lock: None,
            retention_guard: RwLock::new(None),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn head(&self) -> &Arc<Head> {
        &self.head
    }

    /// The blocks, oldest first.
    pub fn blocks(&self) -> Vec<Arc<Block>> {
        self.blocks.read().clone()
    }

    /// A new appender; see [`Appender::commit`].
    pub fn appender(&self) -> Appender<'_> {
        self.head.appender()
    }

    /// Fsyncs the WAL.
    pub fn sync(&self) -> Result<()> {
        if let Some(w) = self.head.commit.lock().wal.as_mut() {
            w.sync()?;
        }
        Ok(())
    }

    /// Compacts the head into blocks while it spans more than 1.5 block ranges (as
    /// Prometheus does), then applies retention. Returns the new blocks.
    pub fn compact(&self) -> Result<Vec<BlockMeta>> {
        self.ensure_writable()?;
        let _g = self.compaction.lock();
        let range = self.opts.head.chunk_range;
        let mut out = Vec::new();
        while let (Some(lo), Some(hi)) = (self.head.min_time(), self.head.max_time()) {
            if hi - lo <= range / 2 * 3 {
                break;
            }
            let mint = lo.div_euclid(range) * range;
            let maxt = mint + range;
            out.extend(self.persist_head_range(mint, maxt)?);
            self.truncate_head(maxt)?;
        }
        self.apply_retention()?;
        Ok(out)
    }

    /// Persists everything in the head into blocks, then empties the head (used on
    /// demand: before shipping, in benchmarks and tools). A head that spans at most one
    /// block range becomes one block covering exactly its samples, as Prometheus' snapshot
    /// does; a longer head is cut at block-range boundaries.
    pub fn flush(&self) -> Result<Vec<BlockMeta>> {
        self.ensure_writable()?;
        let _g = self.compaction.lock();
        let range = self.opts.head.chunk_range;
        let mut out = Vec::new();
        let (Some(lo), Some(hi)) = (self.head.min_time(), self.head.max_time()) else {
            return Ok(out);
        };
        let end = if hi - lo < range {
            out.extend(self.persist_head_range(lo, hi.saturating_add(1))?);
            hi.saturating_add(1)
        } else {
            let mut mint = lo.div_euclid(range) * range;
            while mint <= hi {
                out.extend(self.persist_head_range(mint, mint + range)?);
                mint += range;
            }
            mint
        };
        // Truncate at the end of the last block, not just after `hi`: on reopen the head
        // rejects (and replay skips) everything before the newest block's end, so the
        // head must not take samples there now either, or they would be lost.
        self.truncate_head(end)?;
        Ok(out)
    }

    fn ensure_writable(&self) -> Result<()> {
        if self.read_only {
            return Err(Error::Unsupported {
                what: "operation",
                detail: "database is open read-only".into(),
            });
        }
        Ok(())
    }

    /// Writes the head's samples in `[mint, maxt)` as a level-1 block.
    fn persist_head_range(&self, mint: i64, maxt: i64) -> Result<Option<BlockMeta>> {
        let head = &self.head;
        let mut series: Vec<(strata_model::Labels, u64)> = Vec::new();
        for r in head.all_refs() {
            if let Some(l) = head.series_labels(r) {
                series.push((l, r));
            }
        }
        series.sort_by(|a, b| a.0.cmp(&b.0));
        let mut symbols: BTreeSet<&str> = BTreeSet::new();
        for (l, _) in &series {
            for (n, v) in l.iter() {
                symbols.insert(n);
                symbols.insert(v);
            }
        }
        let mut w = BlockWriter::create(&self.dir, mint, maxt, symbols.iter().copied())?;
        let mut samples = Vec::new();
        for (labels, r) in &series {
            let Some((mut it, hist)) = head.series_block_data(*r, labels.clone(), mint, maxt - 1)
            else {
                continue;
            };
            samples.clear();
            while let Some(s) = strata_model::storage::SampleIterator::next_sample(&mut it)? {
                samples.push(s);
            }
            // Histogram chunks inside the range are written as they are, others clipped.
            let mut clipped = Vec::new();
            for c in &hist {
                if c.mint >= mint && c.maxt < maxt {
                    clipped.push(OwnedChunk {
                        mint: c.mint,
                        maxt: c.maxt,
                        encoding: c.encoding,
                        data: c.data.to_vec(),
                    });
                } else {
                    clipped.extend(clip_histogram_chunk(c.encoding, &c.data, mint, maxt - 1)?);
                }
            }
            let encoded: Vec<EncodedChunk<'_>> = clipped
                .iter()
                .map(|c| EncodedChunk {
                    mint: c.mint,
                    maxt: c.maxt,
                    encoding: c.encoding,
                    data: &c.data,
                })
                .collect();
            w.add_series_mixed(labels, &samples, &encoded)?;
        }
        let meta = w.finish(1, Vec::new())?;
        if let Some(m) = &meta {
            let block = Arc::new(Block::open(&self.dir.join(&m.ulid))?);
            let mut blocks = self.blocks.write();
            blocks.push(block);
            blocks.sort_by_key(|b| (b.meta().min_time, b.meta().max_time));
            info!(ulid = %m.ulid, mint, maxt, series = m.stats.num_series, samples = m.stats.num_samples, "wrote block from head");
        }
        Ok(meta)
    }

    /// Drops head data before `mint` and rewrites the WAL's old segments into a
    /// checkpoint that keeps only live series and samples at or after `mint`.
    fn truncate_head(&self, mint: i64) -> Result<()> {
        self.head.truncate(mint);
        let wal_dir = self.dir.join("wal");
        let (first, cut) = {
            let mut cs = self.head.commit.lock();
            let Some(wal) = cs.wal.as_mut() else {
                return Ok(());
            };
            let first = Wal::segment_range(&wal_dir)?.map_or(0, |r| r.0);
            let cut = wal.next_segment()?;
            (first, cut)
        };
        if cut == 0 || cut <= first {
            return Ok(());
        }
        let head = self.head.clone();
        let keep = move |r: u64| head.with_series(r, |_| ()).is_some();
        crate::wal::checkpoint::checkpoint(&wal_dir, first, cut - 1, &keep, mint)?;
        if let Some(wal) = self.head.commit.lock().wal.as_mut() {
            wal.truncate(cut)?;
        }
        crate::wal::checkpoint::delete_checkpoints_before(&wal_dir, cut - 1)?;
        Ok(())
    }

    /// Deletes blocks that fall out of the retention window, measured from the newest
    /// block's end as Prometheus does. Readers holding a deleted block keep reading it.
    /// Makes retention keep blocks the guard does not release (e.g. not yet shipped).
    pub fn set_retention_guard(&self, guard: Arc<dyn RetentionGuard>) {
        *self.retention_guard.write() = Some(guard);
    }

    pub fn apply_retention(&self) -> Result<usize> {
        let Some(ret) = self.opts.retention else {
            return Ok(0);
        };
        let doomed: Vec<Arc<Block>> = {
            let blocks = self.blocks.read();
            let Some(newest) = blocks.iter().map(|b| b.meta().max_time).max() else {
                return Ok(0);
            };
            blocks
                .iter()
                .filter(|b| newest - b.meta().max_time > ret)
                .cloned()
                .collect()
        };
        let guard = self.retention_guard.read().clone();
        let doomed: Vec<Arc<Block>> = match guard {
            Some(g) => doomed
                .into_iter()
                .filter(|b| g.may_delete(&b.meta().ulid))
                .collect(),
            None => doomed,
        };
        for b in &doomed {
            self.delete_block(b)?;
        }
        Ok(doomed.len())
    }

    fn delete_block(&self, b: &Arc<Block>) -> Result<()> {
        self.blocks.write().retain(|x| !Arc::ptr_eq(x, b));
        let dir = b.dir().to_path_buf();
        let tmp = dir.with_file_name(format!("{}{TMP_DELETION_SUFFIX}", b.meta().ulid));
        fs::rename(&dir, &tmp).map_err(|e| Error::io("rename", &dir, e))?;
        fs::remove_dir_all(&tmp).map_err(|e| Error::io("remove", &tmp, e))?;
        info!(ulid = %b.meta().ulid, "deleted block outside retention");
        Ok(())
    }
}

impl Drop for Db {
    /// Releases the directory lock explicitly. Closing the file is not enough: a child
    /// process spawned meanwhile by any thread holds a copy of the descriptor until it
    /// execs, and the lock lives as long as any copy, so reopening the directory right
    /// after dropping the database could fail with a spurious lock error.
    fn drop(&mut self) {
        // The WAL goes first: nothing may write once another opener can get the lock.
        drop(self.head.commit.lock().wal.take());
        if let Some(lock) = self.lock.take() {
            let _ = lock.unlock();
        }
    }
}

impl Db {
    /// One querier per block overlapping `[mint, maxt]`, oldest first, then the head's.
    fn component_queriers(&self, mint: i64, maxt: i64) -> Vec<Box<dyn Querier>> {
        let mut qs: Vec<Box<dyn Querier>> = Vec::new();
        for b in self.blocks.read().iter() {
            let (lo, hi) = b.time_range();
            if hi >= mint && lo <= maxt {
                qs.push(Box::new(BlockQuerier::new(b.clone(), mint, maxt)));
            }
        }
        if let (Some(lo), Some(hi)) = (self.head.min_time(), self.head.max_time())
            && hi >= mint
            && lo <= maxt
        {
            qs.push(Box::new(HeadQuerier::new(self.head.clone(), mint, maxt)));
        }
        qs
    }

    /// The native histogram samples of the series matching `matchers` within
    /// `[mint, maxt]`, merged over the blocks and the head (on equal timestamps the
    /// first source wins, as for floats), sorted by labels; series without histograms
    /// in range are left out. Integer histograms come back with float counts.
    pub fn select_histograms(
        &self,
        matchers: &[Matcher],
        mint: i64,
        maxt: i64,
    ) -> strata_model::Result<Vec<HistogramSeries>> {
        let hints = SelectHints {
            start: mint,
            end: maxt,
            ..SelectHints::default()
        };
        let mut by_series: BTreeMap<Labels, Vec<(i64, FloatHistogram)>> = BTreeMap::new();
        for q in self.component_queriers(mint, maxt) {
            for s in q.select(matchers, &hints)? {
                let mut s = s?;
                let mut hs = Vec::new();
                s.samples.drain_histograms_into(&mut hs)?;
                if !hs.is_empty() {
                    by_series.entry(s.labels).or_default().extend(hs);
                }
            }
        }
        Ok(by_series
            .into_iter()
            .map(|(l, mut hs)| {
                hs.sort_by_key(|h| h.0);
                hs.dedup_by_key(|h| h.0);
                (l, hs)
            })
            .collect())
    }
}

impl Queryable for Db {
    fn querier(&self, mint: i64, maxt: i64) -> strata_model::Result<Box<dyn Querier>> {
        Ok(Box::new(MergeQuerier::new(
            self.component_queriers(mint, maxt),
        )))
    }
}
