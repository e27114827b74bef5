//! The store gateway (`strata store`, Thanos' `BucketStore`): serves the blocks of a
//! bucket over the Store API.
//!
//! [`StoreGateway::sync`] lists the bucket, opens new blocks (each `meta.json` read once;
//! its `thanos.labels` are the block's external labels), drops blocks that left the
//! bucket or were marked for deletion longer than
//! [`GatewayOptions::ignore_deletion_marks_delay`] ago, and deletes their cache files.
//!
//! Local state, under the data directory, per block: `meta.json` and the whole `index`
//! file, memory-mapped with strata-tsdb's index reader (Thanos builds a smaller
//! index-header instead; we keep the full index so postings and series are read
//! locally, and a restart reuses the files). Chunks are read from the bucket on demand
//! in 16 KiB pages through a size-bounded LRU ([`ChunkCache`]).
//!
//! Downsampled blocks (resolution > 0) are not served.

mod block;
mod cache;
mod chunk_reader;
mod query;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use parking_lot::RwLock;
use strata_objstore::thanos_meta::{DELETION_MARK_FILENAME, DeletionMark};
use strata_objstore::{Bucket, ObjectAttributes};
use strata_tsdb::meta::META_FILENAME;
use tokio::task::JoinHandle;
use tracing::{debug, info, warn};

pub use block::BLOCK_ID_LABEL;
pub use block::BucketBlock;
use block::load_meta;
pub use cache::{CacheStats, ChunkCache};
pub use chunk_reader::PAGE_SIZE;
pub use query::BlockSeries;

use crate::error::{Error, Result};

/// Options of a [`StoreGateway`]; the defaults are Thanos'.
#[derive(Debug, Clone)]
pub struct GatewayOptions {
    /// Pause between syncs (`--sync-block-duration`, default 15m).
    pub sync_interval: Duration,
    /// Capacity of the in-memory chunk page cache in bytes (default 2 GiB, as Thanos'
    /// `--chunk-pool-size`).
    pub chunk_cache_bytes: u64,
    /// Blocks opened at the same time during a sync (`--block-sync-concurrency`,
    /// default 20).
    pub block_sync_concurrency: usize,
    /// A block marked for deletion is still served this long after the mark
    /// (`--ignore-deletion-marks-delay`, default 24h); zero drops it at the next sync.
    pub ignore_deletion_marks_delay: Duration,
}

impl Default for GatewayOptions {
    fn default() -> Self {
        GatewayOptions {
            sync_interval: Duration::from_secs(15 * 60),
            chunk_cache_bytes: 2 << 30,
            block_sync_concurrency: 20,
            ignore_deletion_marks_delay: Duration::from_secs(24 * 3600),
        }
    }
}

/// What one [`StoreGateway::sync`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyncStats {
    /// Blocks served after the sync.
    pub blocks: usize,
    /// Blocks opened by this sync.
    pub loaded: usize,
    /// Blocks dropped by this sync.
    pub dropped: usize,
    /// Blocks that could not be opened (tried again at the next sync).
    pub failed: usize,
}

/// A block as the gateway announces it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockInfo {
    pub id: String,
    pub min_time: i64,
    /// Exclusive.
    pub max_time: i64,
    pub labels: strata_model::Labels,
}

type BlockMap = BTreeMap<String, Arc<BucketBlock>>;

/// Serves the blocks of a bucket; implements [`crate::SeriesSource`].
pub struct StoreGateway {
    bucket: Bucket,
    dir: PathBuf,
    opts: GatewayOptions,
    cache: Arc<ChunkCache>,
    blocks: RwLock<Arc<BlockMap>>,
    sync_lock: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for StoreGateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreGateway")
            .field("bucket", &self.bucket.name())
            .field("dir", &self.dir)
            .field("blocks", &self.blocks.read().len())
            .finish()
    }
}

fn is_ulid(s: &str) -> bool {
    ulid::Ulid::from_string(s).is_ok()
}

impl StoreGateway {
    /// A gateway over `bucket` keeping its cache files under `data_dir` (created if
    /// missing). Serves nothing until the first [`StoreGateway::sync`].
    pub fn new(bucket: Bucket, data_dir: &Path, opts: GatewayOptions) -> Result<Self> {
        std::fs::create_dir_all(data_dir).map_err(|e| Error::io("create", data_dir, e))?;
        Ok(StoreGateway {
            bucket,
            dir: data_dir.to_path_buf(),
            cache: Arc::new(ChunkCache::new(opts.chunk_cache_bytes)),
            opts,
            blocks: RwLock::new(Arc::new(BTreeMap::new())),
            sync_lock: tokio::sync::Mutex::new(()),
        })
    }

    pub(crate) fn snapshot(&self) -> Arc<BlockMap> {
        self.blocks.read().clone()
    }

    /// The blocks served now, by ULID.
    pub fn blocks(&self) -> Vec<BlockInfo> {
        self.snapshot()
            .values()
            .map(|b| BlockInfo {
                id: b.id.clone(),
                min_time: b.meta.min_time,
                max_time: b.meta.max_time,
                labels: b.ext.clone(),
            })
            .collect()
    }

    /// Counters of the chunk cache.
    pub fn cache_stats(&self) -> CacheStats {
        self.cache.stats()
    }

    /// Brings the served blocks in line with the bucket (see the module documentation).
    /// A block that fails to open is logged, counted and retried next time; only a
    /// failure to list the bucket fails the sync.
    pub async fn sync(&self) -> Result<SyncStats> {
        let _g = self.sync_lock.lock().await;
        let started = std::time::Instant::now();
        let mut by_block: BTreeMap<String, Vec<ObjectAttributes>> = BTreeMap::new();
        for o in self.bucket.list("").await? {
            if let Some((dir, _)) = o.name.split_once('/')
                && is_ulid(dir)
            {
                by_block.entry(dir.to_owned()).or_default().push(o);
            }
        }
        let mut wanted: BTreeMap<String, Vec<ObjectAttributes>> = BTreeMap::new();
        for (id, objects) in by_block {
            let has = |f: &str| objects.iter().any(|o| o.name == format!("{id}/{f}"));
            if !has(META_FILENAME) {
                debug!(block = %id, "no meta.json yet; skipping");
                continue;
            }
            if has(DELETION_MARK_FILENAME) && self.deletion_delay_passed(&id).await {
                debug!(block = %id, "marked for deletion; skipping");
                continue;
            }
            wanted.insert(id, objects);
        }

        let current = self.snapshot();
        let mut next: BlockMap = BTreeMap::new();
        let mut to_open = Vec::new();
        for (id, objects) in wanted {
            match current.get(&id) {
                Some(b) => {
                    next.insert(id, b.clone());
                }
                None => to_open.push((id, objects)),
            }
        }
        let mut stats = SyncStats::default();
        let opened: Vec<(String, Result<Option<BucketBlock>>)> = futures::stream::iter(to_open)
            .map(|(id, objects)| async move {
                let r = self.open_block(&id, &objects).await;
                (id, r)
            })
            .buffer_unordered(self.opts.block_sync_concurrency.max(1))
            .collect()
            .await;
        for (id, r) in opened {
            match r {
                Ok(Some(b)) => {
                    stats.loaded += 1;
                    next.insert(id, Arc::new(b));
                }
                Ok(None) => {}
                Err(e) => {
                    stats.failed += 1;
                    warn!(block = %id, error = %e, "loading block failed");
                }
            }
        }
        for (id, b) in current.iter() {
            if !next.contains_key(id) {
                stats.dropped += 1;
                self.cache.remove_block(b.key);
                info!(block = %id, "dropped block");
            }
        }
        stats.blocks = next.len();
        *self.blocks.write() = Arc::new(next);
        self.remove_stale_dirs().await;
        info!(
            blocks = stats.blocks,
            loaded = stats.loaded,
            dropped = stats.dropped,
            failed = stats.failed,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "synced blocks"
        );
        Ok(stats)
    }

    /// Opens a block; `None` for blocks that are not served (downsampled).
    async fn open_block(
        &self,
        id: &str,
        objects: &[ObjectAttributes],
    ) -> Result<Option<BucketBlock>> {
        let dir = self.dir.join(id);
        let meta = load_meta(&self.bucket, id, &dir).await?;
        let section = strata_objstore::thanos_meta::thanos_section(&meta)?;
        if section.is_some_and(|s| s.downsample.resolution > 0) {
            debug!(block = id, "downsampled block; not served");
            return Ok(None);
        }
        let b = BucketBlock::open(&self.bucket, id, meta, objects, dir).await?;
        info!(block = id, labels = %b.ext, min_time = b.meta.min_time, max_time = b.meta.max_time, "loaded block");
        Ok(Some(b))
    }

    /// True when the block's deletion mark is older than the configured delay (or the
    /// delay is zero). An unreadable mark keeps the block.
    async fn deletion_delay_passed(&self, id: &str) -> bool {
        let delay = self.opts.ignore_deletion_marks_delay;
        if delay.is_zero() {
            return true;
        }
        let name = format!("{id}/{DELETION_MARK_FILENAME}");
        let mark = match self.bucket.get(&name).await {
            Ok(b) => serde_json_mark(&b),
            Err(e) => {
                warn!(block = id, error = %e, "reading deletion mark failed");
                return false;
            }
        };
        match mark {
            Some(m) => {
                let age = chrono::Utc::now().timestamp() - m.deletion_time;
                age >= 0 && age as u64 >= delay.as_secs()
            }
            None => {
                warn!(
                    block = id,
                    "deletion mark is not valid JSON; keeping the block"
                );
                false
            }
        }
    }

    /// Deletes cache directories of blocks that are not served.
    async fn remove_stale_dirs(&self) {
        let served = self.snapshot();
        let Ok(mut rd) = tokio::fs::read_dir(&self.dir).await else {
            return;
        };
        while let Ok(Some(entry)) = rd.next_entry().await {
            let name = entry.file_name().to_string_lossy().into_owned();
            if is_ulid(&name) && !served.contains_key(&name) {
                let p = entry.path();
                match tokio::fs::remove_dir_all(&p).await {
                    Ok(()) => debug!(dir = %p.display(), "removed cache of dropped block"),
                    Err(e) => warn!(dir = %p.display(), error = %e, "removing block cache failed"),
                }
            }
        }
    }

    /// Runs [`StoreGateway::sync`] every [`GatewayOptions::sync_interval`] (the first one
    /// an interval from now: sync once before serving). Abort the handle to stop.
    pub fn spawn_sync_loop(self: &Arc<Self>) -> JoinHandle<()> {
        let gw = self.clone();
        let every = self.opts.sync_interval.max(Duration::from_millis(10));
        tokio::spawn(async move {
            let mut t = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
            t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                t.tick().await;
                if let Err(e) = gw.sync().await {
                    warn!(error = %e, "syncing blocks failed");
                }
            }
        })
    }
}

fn serde_json_mark(b: &[u8]) -> Option<DeletionMark> {
    serde_json::from_slice(b).ok()
}
