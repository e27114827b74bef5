//! The shipper (Thanos' `pkg/shipper`): uploads every new complete block of a data
//! directory to the bucket once, and remembers which ones are there in
//! `thanos.shipper.json`.
//!
//! A sync looks at directories named by a ULID (so never `*.tmp-for-creation` or
//! `*.tmp-for-deletion`), reads their `meta.json`, and for each block not yet recorded:
//! skips it when it has no samples, or when it is compacted (level > 1) unless
//! compacted uploads are on; records it without uploading when `<ulid>/meta.json` is
//! already in the bucket; otherwise hard-links its files into
//! `<data>/thanos/upload/<ulid>` (so TSDB retention cannot pull them away mid-upload)
//! and uploads them with [`upload_block`], `meta.json` last. The state file is rewritten
//! atomically after every uploaded block and at the end, listing only blocks still on
//! disk.

mod state;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use strata_model::Labels;
use strata_tsdb::meta::{BlockMeta, META_FILENAME, read_meta};
use tracing::{debug, info, warn};

pub use state::{SHIPPER_STATE_FILENAME, SHIPPER_STATE_VERSION_1, ShipperState};

use crate::block::{CHUNKS_DIRNAME, INDEX_FILENAME, TOMBSTONES_FILENAME, upload_block};
use crate::bucket::{Bucket, join};
use crate::error::{Error, Result};
use crate::thanos_meta::ThanosSection;

/// Directory below the data directory where blocks are staged for upload.
pub const UPLOAD_DIR: &str = "thanos/upload";

/// What one [`Shipper::sync`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShipStats {
    /// Blocks uploaded by this sync, oldest first.
    pub uploaded: Vec<String>,
    /// Blocks whose `meta.json` was already in the bucket (recorded, not uploaded).
    pub found_in_bucket: Vec<String>,
    /// Blocks already recorded in the state file.
    pub already_shipped: usize,
    /// Blocks without samples (never uploaded, as in Thanos).
    pub skipped_empty: usize,
    /// Compacted blocks left alone because compacted uploads are off.
    pub skipped_compacted: usize,
    /// Block directories whose `meta.json` is missing or unreadable.
    pub corrupted: Vec<String>,
    /// Bytes uploaded.
    pub bytes: u64,
}

/// Uploads the blocks of one data directory.
pub struct Shipper {
    bucket: Bucket,
    dir: PathBuf,
    thanos: ThanosSection,
    upload_compacted: bool,
    sync_lock: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for Shipper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shipper")
            .field("bucket", &self.bucket.name())
            .field("dir", &self.dir)
            .field("labels", &self.thanos.labels)
            .field("source", &self.thanos.source)
            .finish()
    }
}

/// A block directory on disk with its meta.
struct LocalBlock {
    dir: PathBuf,
    meta: BlockMeta,
}

/// Complete blocks of `dir` sorted by min time, and ULID directories whose meta is
/// missing or unreadable.
fn local_blocks(dir: &Path) -> Result<(Vec<LocalBlock>, Vec<String>)> {
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((Vec::new(), Vec::new())),
        Err(e) => return Err(Error::io("read dir", dir, e)),
    };
    let (mut blocks, mut corrupted) = (Vec::new(), Vec::new());
    for entry in rd {
        let entry = entry.map_err(|e| Error::io("read dir", dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        if ulid::Ulid::from_string(&name).is_err() || !path.is_dir() {
            continue;
        }
        match read_meta(&path) {
            Ok(meta) => blocks.push(LocalBlock { dir: path, meta }),
            Err(e) => {
                warn!(block = %name, error = %e, "cannot read block meta; not shipping it");
                corrupted.push(name);
            }
        }
    }
    blocks.sort_by(|a, b| (a.meta.min_time, &a.meta.ulid).cmp(&(b.meta.min_time, &b.meta.ulid)));
    corrupted.sort();
    Ok((blocks, corrupted))
}

/// Hard-links the files of the block in `src` into `dst` (created; emptied first).
fn hardlink_block(src: &Path, dst: &Path) -> Result<()> {
    if dst.exists() {
        std::fs::remove_dir_all(dst).map_err(|e| Error::io("remove", dst, e))?;
    }
    let chunks = dst.join(CHUNKS_DIRNAME);
    std::fs::create_dir_all(&chunks).map_err(|e| Error::io("create", &chunks, e))?;
    let src_chunks = src.join(CHUNKS_DIRNAME);
    let mut files = vec![META_FILENAME.to_owned(), INDEX_FILENAME.to_owned()];
    if src.join(TOMBSTONES_FILENAME).is_file() {
        files.push(TOMBSTONES_FILENAME.to_owned());
    }
    let rd = std::fs::read_dir(&src_chunks).map_err(|e| Error::io("read dir", &src_chunks, e))?;
    for entry in rd {
        let entry = entry.map_err(|e| Error::io("read dir", &src_chunks, e))?;
        files.push(format!(
            "{CHUNKS_DIRNAME}/{}",
            entry.file_name().to_string_lossy()
        ));
    }
    for f in files {
        let (from, to) = (src.join(&f), dst.join(&f));
        std::fs::hard_link(&from, &to).map_err(|e| Error::io("hard link", from, e))?;
    }
    Ok(())
}

impl Shipper {
    /// A shipper of the blocks in `data_dir` to `bucket`. `labels` are the external
    /// labels written into each block's `thanos.labels` (a receiver adds its tenant
    /// label); they must not be empty, as Thanos refuses blocks without them. `source`
    /// is one of [`crate::thanos_meta::source`].
    pub fn new(
        bucket: Bucket,
        data_dir: impl Into<PathBuf>,
        labels: &Labels,
        source: &str,
    ) -> Result<Shipper> {
        let labels: BTreeMap<String, String> = labels
            .iter()
            .map(|(n, v)| (n.to_owned(), v.to_owned()))
            .collect();
        if labels.is_empty() {
            return Err(Error::Config(
                "shipper: empty external labels are not allowed for Thanos blocks".into(),
            ));
        }
        Ok(Shipper {
            bucket,
            dir: data_dir.into(),
            thanos: ThanosSection {
                labels,
                source: source.to_owned(),
                ..ThanosSection::default()
            },
            upload_compacted: false,
            sync_lock: tokio::sync::Mutex::new(()),
        })
    }

    /// Also upload compacted blocks (level > 1), as `--shipper.upload-compacted` does.
    pub fn with_upload_compacted(mut self, upload: bool) -> Shipper {
        self.upload_compacted = upload;
        self
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The bucket.
    pub fn bucket(&self) -> &Bucket {
        &self.bucket
    }

    /// The state file's list; an unreadable file counts as empty (it is rebuilt by the
    /// next sync, as in Thanos).
    pub fn uploaded(&self) -> BTreeSet<String> {
        match ShipperState::read(&self.dir) {
            Ok(s) => s.unwrap_or_default().uploaded.into_iter().collect(),
            Err(e) => {
                warn!(error = %e, "shipper state unreadable; treating as empty");
                BTreeSet::new()
            }
        }
    }

    /// Uploads every new block once. Safe to call again after a failure: blocks whose
    /// `meta.json` made it to the bucket are recorded, the others are uploaded again.
    /// Syncs of one shipper are serialised.
    pub async fn sync(&self) -> Result<ShipStats> {
        let _guard = self.sync_lock.lock().await;
        let known = self.uploaded();
        let mut state = ShipperState::default();
        let mut stats = ShipStats::default();
        let (blocks, corrupted) = local_blocks(&self.dir)?;
        stats.corrupted = corrupted;
        for b in &blocks {
            let id = &b.meta.ulid;
            if known.contains(id) {
                state.uploaded.push(id.clone());
                stats.already_shipped += 1;
                continue;
            }
            if b.meta.stats.num_samples == 0 {
                debug!(block = %id, "ignoring empty block");
                stats.skipped_empty += 1;
                continue;
            }
            if b.meta.compaction.level > 1 && !self.upload_compacted {
                stats.skipped_compacted += 1;
                continue;
            }
            if self.bucket.exists(&join(id, META_FILENAME)).await? {
                state.uploaded.push(id.clone());
                stats.found_in_bucket.push(id.clone());
                continue;
            }
            match self.upload(b).await {
                Ok(bytes) => {
                    stats.bytes += bytes;
                    stats.uploaded.push(id.clone());
                    state.uploaded.push(id.clone());
                    state.write(&self.dir)?;
                }
                Err(e) => {
                    if let Err(we) = state.write(&self.dir) {
                        warn!(error = %we, "updating shipper state failed");
                    }
                    return Err(e);
                }
            }
        }
        state.write(&self.dir)?;
        if !stats.uploaded.is_empty() {
            info!(
                uploaded = stats.uploaded.len(),
                bytes = stats.bytes,
                "shipper sync"
            );
        }
        Ok(stats)
    }

    async fn upload(&self, b: &LocalBlock) -> Result<u64> {
        let staging = self.dir.join(UPLOAD_DIR).join(&b.meta.ulid);
        hardlink_block(&b.dir, &staging)?;
        let res = upload_block(&self.bucket, &staging, &self.thanos).await;
        if let Err(e) = std::fs::remove_dir_all(&staging) {
            warn!(dir = %staging.display(), error = %e, "failed to clean upload directory");
        }
        Ok(res?.bytes)
    }

    /// Local blocks that may be deleted: safely in the bucket and out of the local
    /// retention window. The window is Prometheus' rule, measured from the newest local
    /// block's end (no wall clock): a block is old when `newest.maxTime - maxTime >
    /// retention`. "Safely in the bucket" means recorded as uploaded, or without samples
    /// (never shipped), or compacted from sources that are all recorded as uploaded.
    pub fn deletable(&self, retention: Duration) -> Result<Vec<String>> {
        let uploaded = self.uploaded();
        let (blocks, _) = local_blocks(&self.dir)?;
        let Some(newest) = blocks.iter().map(|b| b.meta.max_time).max() else {
            return Ok(Vec::new());
        };
        let ret = i64::try_from(retention.as_millis()).unwrap_or(i64::MAX);
        let mut out: Vec<String> = blocks
            .iter()
            .filter(|b| newest.saturating_sub(b.meta.max_time) > ret)
            .filter(|b| {
                let m = &b.meta;
                uploaded.contains(&m.ulid)
                    || m.stats.num_samples == 0
                    || (!m.compaction.sources.is_empty()
                        && m.compaction.sources.iter().all(|s| uploaded.contains(s)))
            })
            .map(|b| b.meta.ulid.clone())
            .collect();
        out.sort();
        Ok(out)
    }
}
