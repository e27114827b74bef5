//! Blocks in a bucket, as Thanos lays them out (`pkg/block`): `<ulid>/chunks/NNNNNN`,
//! `<ulid>/index`, `<ulid>/tombstones`, `<ulid>/meta.json`, plus marks.
//!
//! Upload order is what makes a block visible atomically: chunks, index and tombstones
//! first, `meta.json` last. Readers treat a block directory without `meta.json` as an
//! upload in progress (or a failed one, which the compactor removes later). Re-uploading
//! a block overwrites the same objects with the same bytes, so a retry is harmless.

use std::path::Path;

use chrono::{SecondsFormat, Utc};
use strata_tsdb::meta::{BlockMeta, META_FILENAME, read_meta};
use tracing::info;

use crate::bucket::{Bucket, join};
use crate::error::{Error, Result};
use crate::thanos_meta::{
    BlockFile, DELETION_MARK_FILENAME, DeletionMark, MARK_VERSION_1, NO_COMPACT_MARK_FILENAME,
    NoCompactMark, THANOS_META_VERSION_1, ThanosSection, set_thanos_section, thanos_section,
};

/// Directory of chunk segments in a block.
pub const CHUNKS_DIRNAME: &str = "chunks";
/// The index file of a block.
pub const INDEX_FILENAME: &str = "index";
/// The tombstones file of a block.
pub const TOMBSTONES_FILENAME: &str = "tombstones";

/// What [`upload_block`] sent.
#[derive(Debug, Clone, PartialEq)]
pub struct UploadedBlock {
    /// The meta as uploaded, with its `thanos` section.
    pub meta: BlockMeta,
    /// Bytes uploaded, `meta.json` included.
    pub bytes: u64,
}

fn invalid(dir: &Path, reason: impl Into<String>) -> Error {
    Error::InvalidBlock {
        dir: dir.to_path_buf(),
        reason: reason.into(),
    }
}

fn file_size(p: &Path) -> Result<i64> {
    let len = std::fs::metadata(p)
        .map_err(|e| Error::io("stat", p, e))?
        .len();
    i64::try_from(len).map_err(|_| invalid(p, "file too large"))
}

/// Chunk segment names of the block in `dir`, sorted.
fn segment_files(dir: &Path) -> Result<Vec<String>> {
    let chunks = dir.join(CHUNKS_DIRNAME);
    let rd = std::fs::read_dir(&chunks).map_err(|e| Error::io("read dir", &chunks, e))?;
    let mut out = Vec::new();
    for entry in rd {
        let entry = entry.map_err(|e| Error::io("read dir", &chunks, e))?;
        let ft = entry
            .file_type()
            .map_err(|e| Error::io("stat", entry.path(), e))?;
        if ft.is_file() {
            out.push(entry.file_name().to_string_lossy().into_owned());
        }
    }
    out.sort();
    Ok(out)
}

/// `thanos.files` of the block in `dir` (Thanos' `GatherFileStats`, plus `tombstones`
/// when present): chunk segments, index and tombstones with sizes, `meta.json` without,
/// sorted by path.
pub fn gather_files(dir: &Path) -> Result<Vec<BlockFile>> {
    let file = |rel: String, size_bytes: i64| BlockFile {
        rel_path: rel,
        size_bytes,
        hash: None,
    };
    let mut out = Vec::new();
    for seg in segment_files(dir)? {
        let rel = format!("{CHUNKS_DIRNAME}/{seg}");
        out.push(file(rel, file_size(&dir.join(CHUNKS_DIRNAME).join(&seg))?));
    }
    out.push(file(
        INDEX_FILENAME.into(),
        file_size(&dir.join(INDEX_FILENAME))?,
    ));
    let tomb = dir.join(TOMBSTONES_FILENAME);
    if tomb.is_file() {
        out.push(file(TOMBSTONES_FILENAME.into(), file_size(&tomb)?));
    }
    out.push(file(META_FILENAME.into(), 0));
    out.sort_by(|a, b| a.rel_path.cmp(&b.rel_path));
    Ok(out)
}

/// The `meta.json` bytes as Thanos writes them: tab-indented JSON and a newline.
pub fn encode_meta(meta: &BlockMeta) -> Result<Vec<u8>> {
    let mut b = meta.to_json()?;
    b.push(b'\n');
    Ok(b)
}

/// Uploads the block in `dir` (a directory named by its ULID) to `<ulid>/` in `bucket`:
/// chunk segments, index, tombstones, then `meta.json` with `thanos` merged into its
/// Thanos section (labels of `thanos` win over labels already there) and `files`,
/// `segment_files`, `upload_time` and `version` filled in. The local `meta.json` is not
/// changed. As in Thanos, a block without external labels is refused.
pub async fn upload_block(
    bucket: &Bucket,
    dir: &Path,
    thanos: &ThanosSection,
) -> Result<UploadedBlock> {
    let name = dir
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| invalid(dir, "not a block directory"))?;
    if ulid::Ulid::from_string(name).is_err() {
        return Err(invalid(
            dir,
            "not a block directory: the name is not a ULID",
        ));
    }
    let mut meta = read_meta(dir)?;
    if meta.ulid != name {
        return Err(invalid(
            dir,
            format!(
                "meta.json names block {} but the directory is {name}",
                meta.ulid
            ),
        ));
    }
    let mut section = thanos_section(&meta)?.unwrap_or_default();
    section.labels.extend(thanos.labels.clone());
    if section.labels.is_empty() {
        return Err(invalid(
            dir,
            "empty external labels are not allowed for Thanos block",
        ));
    }
    section.version = THANOS_META_VERSION_1;
    section.downsample = thanos.downsample;
    if !thanos.source.is_empty() {
        section.source = thanos.source.clone();
    }
    section.segment_files = segment_files(dir)?;
    section.files = gather_files(dir)?;

    let mut bytes = 0u64;
    for f in &section.files {
        if f.rel_path == META_FILENAME {
            continue;
        }
        bytes += bucket
            .upload_file(&dir.join(&f.rel_path), &join(name, &f.rel_path))
            .await?;
    }
    section.upload_time = Some(Utc::now().to_rfc3339_opts(SecondsFormat::AutoSi, true));
    set_thanos_section(&mut meta, &section)?;
    let encoded = encode_meta(&meta)?;
    bytes += encoded.len() as u64;
    bucket.put(&join(name, META_FILENAME), encoded).await?;
    info!(
        bucket = bucket.name(),
        block = name,
        bytes,
        "uploaded block"
    );
    Ok(UploadedBlock { meta, bytes })
}

/// Reads `<ulid>/meta.json` from the bucket.
pub async fn download_meta(bucket: &Bucket, ulid: &str) -> Result<BlockMeta> {
    let b = bucket.get(&join(ulid, META_FILENAME)).await?;
    Ok(strata_tsdb::meta::parse_meta(Path::new(ulid), &b)?)
}

/// Writes `<ulid>/deletion-mark.json` unless it exists (Thanos' `MarkForDeletion`).
/// Returns false when the mark was already there.
pub async fn mark_for_deletion(bucket: &Bucket, ulid: &str, details: &str) -> Result<bool> {
    let name = join(ulid, DELETION_MARK_FILENAME);
    if bucket.exists(&name).await? {
        return Ok(false);
    }
    let mark = DeletionMark {
        id: ulid.to_owned(),
        version: MARK_VERSION_1,
        details: details.to_owned(),
        deletion_time: Utc::now().timestamp(),
    };
    put_json(bucket, &name, &mark).await?;
    Ok(true)
}

/// Writes `<ulid>/no-compact-mark.json` unless it exists (Thanos' `MarkForNoCompact`).
/// Returns false when the mark was already there.
pub async fn mark_no_compact(
    bucket: &Bucket,
    ulid: &str,
    reason: &str,
    details: &str,
) -> Result<bool> {
    let name = join(ulid, NO_COMPACT_MARK_FILENAME);
    if bucket.exists(&name).await? {
        return Ok(false);
    }
    let mark = NoCompactMark {
        id: ulid.to_owned(),
        version: MARK_VERSION_1,
        details: details.to_owned(),
        no_compact_time: Utc::now().timestamp(),
        reason: reason.to_owned(),
    };
    put_json(bucket, &name, &mark).await?;
    Ok(true)
}

async fn put_json<T: serde::Serialize>(bucket: &Bucket, name: &str, v: &T) -> Result<()> {
    let b = serde_json::to_vec(v).map_err(|e| Error::Json {
        what: name.to_owned(),
        reason: e.to_string(),
    })?;
    bucket.put(name, b).await
}

/// Deletes a block from the bucket in Thanos' order (`block.Delete`): `meta.json` first
/// (so readers stop seeing a complete block), then the other objects, the deletion mark
/// last.
pub async fn delete_block(bucket: &Bucket, ulid: &str) -> Result<()> {
    let meta = join(ulid, META_FILENAME);
    let mark = join(ulid, DELETION_MARK_FILENAME);
    bucket.delete(&meta).await?;
    for o in bucket.list(ulid).await? {
        if o.name != meta && o.name != mark {
            bucket.delete(&o.name).await?;
        }
    }
    bucket.delete(&mark).await
}
