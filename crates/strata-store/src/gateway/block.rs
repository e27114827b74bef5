//! A block of the bucket as the gateway serves it: its meta and external labels, its
//! index (downloaded once into the cache directory and memory-mapped), and its chunk
//! segments, read from the bucket on demand.

use std::path::{Path, PathBuf};

use strata_model::{Labels, Matcher};
use strata_objstore::bucket::join;
use strata_objstore::thanos_meta::thanos_section;
use strata_objstore::{Bucket, ObjectAttributes};
use strata_tsdb::index::{ChunkMeta, IndexReader};
use strata_tsdb::meta::{BlockMeta, META_FILENAME, parse_meta};
use tracing::{debug, info};

use super::chunk_reader::Segment;
use crate::error::{Error, Result};
use crate::extlabels::{finalize, labels_from_map};

/// Name of the index file, in the bucket and in the cache directory.
pub(crate) const INDEX: &str = "index";
/// Label carrying the block's ULID for `block_matchers` (Thanos' `__block_id`).
pub const BLOCK_ID_LABEL: &str = "__block_id";

/// One served block (opaque outside this crate).
pub struct BucketBlock {
    pub(crate) id: String,
    /// The ULID as a number, the cache's key.
    pub(crate) key: u128,
    pub(crate) meta: BlockMeta,
    /// The block's external labels (`thanos.labels`).
    pub(crate) ext: Labels,
    /// External labels plus `__block_id`, for block matchers.
    pub(crate) relabel: Labels,
    pub(crate) index: IndexReader,
    pub(crate) segments: Vec<Segment>,
}

impl std::fmt::Debug for BucketBlock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BucketBlock")
            .field("id", &self.id)
            .field("ext", &self.ext)
            .finish_non_exhaustive()
    }
}

/// Reads `meta.json` of block `id`: the cached copy when there is one, else from the
/// bucket (and caches it).
pub(crate) async fn load_meta(bucket: &Bucket, id: &str, local_dir: &Path) -> Result<BlockMeta> {
    let local = local_dir.join(META_FILENAME);
    if let Ok(b) = tokio::fs::read(&local).await
        && let Ok(m) = parse_meta(Path::new(id), &b)
        && m.ulid == id
    {
        return Ok(m);
    }
    let b = bucket.get(&join(id, META_FILENAME)).await?;
    let m = parse_meta(Path::new(id), &b)?;
    if m.ulid != id {
        return Err(Error::corrupt(
            id,
            format!("meta.json names block {}", m.ulid),
        ));
    }
    tokio::fs::create_dir_all(local_dir)
        .await
        .map_err(|e| Error::io("create", local_dir, e))?;
    write_file(&local, &b).await?;
    Ok(m)
}

/// Writes `path` through a temporary file and a rename, so a crash never leaves a
/// partial file under the final name.
async fn write_file(path: &Path, data: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    tokio::fs::write(&tmp, data)
        .await
        .map_err(|e| Error::io("write", &tmp, e))?;
    tokio::fs::rename(&tmp, path)
        .await
        .map_err(|e| Error::io("rename", &tmp, e))
}

impl BucketBlock {
    /// The block's ULID.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Opens block `id` with meta `meta`; `objects` are the bucket's objects under `id/`.
    /// Downloads the index unless the cache directory has it with the same size.
    pub(crate) async fn open(
        bucket: &Bucket,
        id: &str,
        meta: BlockMeta,
        objects: &[ObjectAttributes],
        local_dir: PathBuf,
    ) -> Result<BucketBlock> {
        let key = ulid::Ulid::from_string(id)
            .map_err(|e| Error::corrupt(id, format!("not a ULID: {e}")))?
            .0;
        let section = thanos_section(&meta)?.unwrap_or_default();
        let ext = labels_from_map(&section.labels);
        let mut rb = ext.to_builder();
        rb.set(BLOCK_ID_LABEL, id);
        let relabel = rb.build().unwrap_or_else(|_| ext.clone());

        let index_name = join(id, INDEX);
        let index_size = objects
            .iter()
            .find(|o| o.name == index_name)
            .map(|o| o.size)
            .ok_or_else(|| Error::corrupt(id, "the block has no index in the bucket"))?;
        let segments = segments(id, objects)?;
        if segments.is_empty() {
            return Err(Error::corrupt(id, "the block has no chunk segments"));
        }

        tokio::fs::create_dir_all(&local_dir)
            .await
            .map_err(|e| Error::io("create", &local_dir, e))?;
        let local_index = local_dir.join(INDEX);
        let cached = tokio::fs::metadata(&local_index)
            .await
            .is_ok_and(|m| m.len() == index_size);
        if cached {
            debug!(block = id, "using the cached index");
        } else {
            let tmp = local_dir.join("index.tmp");
            let n = bucket.download_file(&index_name, &tmp).await?;
            tokio::fs::rename(&tmp, &local_index)
                .await
                .map_err(|e| Error::io("rename", &tmp, e))?;
            info!(block = id, bytes = n, "downloaded index");
        }
        let path = local_index.clone();
        let index = tokio::task::spawn_blocking(move || IndexReader::open(&path)).await??;
        Ok(BucketBlock {
            id: id.to_owned(),
            key,
            ext,
            relabel,
            meta,
            index,
            segments,
        })
    }

    /// True when the block has data in the inclusive range `[mint, maxt]` (its own
    /// `maxTime` is exclusive).
    pub(crate) fn overlaps(&self, mint: i64, maxt: i64) -> bool {
        self.meta.min_time <= maxt && self.meta.max_time > mint
    }

    /// References and final labels of the series matching `ms` (which must not name
    /// external labels) with a chunk in `[mint, maxt]`.
    pub(crate) fn select(
        &self,
        ms: &[Matcher],
        mint: i64,
        maxt: i64,
        remove: &[String],
    ) -> Result<Vec<(Labels, u64)>> {
        let refs = self.index.postings_for_matchers(ms)?;
        let mut out = Vec::with_capacity(refs.len());
        for r in refs {
            let (labels, metas) = self.index.series(r)?;
            if metas.iter().any(|c| c.maxt >= mint && c.mint <= maxt) {
                out.push((finalize(&labels, &self.ext, remove), r));
            }
        }
        Ok(out)
    }

    /// Chunk metas of series `r` that overlap `[mint, maxt]`.
    pub(crate) fn chunk_metas(&self, r: u64, mint: i64, maxt: i64) -> Result<Vec<ChunkMeta>> {
        let (_, metas) = self.index.series(r)?;
        Ok(metas
            .into_iter()
            .filter(|c| c.maxt >= mint && c.mint <= maxt)
            .collect())
    }
}

/// The chunk segments among `objects`, in order; their names must be consecutive
/// (`000001`, `000002`, ...), as chunk references number them.
fn segments(id: &str, objects: &[ObjectAttributes]) -> Result<Vec<Segment>> {
    let prefix = format!("{id}/chunks/");
    let mut segs: Vec<(u64, Segment)> = objects
        .iter()
        .filter_map(|o| {
            let n = o.name.strip_prefix(&prefix)?;
            let num = n
                .parse::<u64>()
                .ok()
                .filter(|_| n.bytes().all(|b| b.is_ascii_digit()))?;
            Some((
                num,
                Segment {
                    name: o.name.clone(),
                    size: o.size,
                },
            ))
        })
        .collect();
    segs.sort_by_key(|(n, _)| *n);
    for (i, (n, s)) in segs.iter().enumerate() {
        if *n != i as u64 + 1 {
            return Err(Error::corrupt(
                id,
                format!("chunk segments are not consecutive at {}", s.name),
            ));
        }
    }
    Ok(segs.into_iter().map(|(_, s)| s).collect())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn obj(name: &str, size: u64) -> ObjectAttributes {
        ObjectAttributes {
            name: name.into(),
            size,
            last_modified: chrono::Utc::now(),
        }
    }

    #[test]
    fn segments_are_ordered_and_consecutive() {
        let objs = vec![
            obj("B/chunks/000002", 20),
            obj("B/index", 5),
            obj("B/chunks/000001", 10),
            obj("B/chunks/x", 1),
        ];
        let s = segments("B", &objs).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].size, 10);
        assert_eq!(s[1].name, "B/chunks/000002");
        let e = segments("B", &[obj("B/chunks/000002", 1)]).unwrap_err();
        assert!(e.to_string().contains("not consecutive"), "{e}");
    }
}
