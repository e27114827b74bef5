//! [`Bucket`]: the small set of object operations Thanos components need (its
//! `objstore.Bucket`), over any [`object_store::ObjectStore`].
//!
//! Object names are `/`-separated, without a leading `/` (`01H…/chunks/000001`). A
//! "directory" is a name prefix that ends at a `/`. Errors tell a missing object
//! ([`Error::NotFound`]) from every other failure.

use std::ops::Range;
use std::path::Path as LocalPath;
use std::sync::Arc;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use object_store::memory::InMemory;
use object_store::path::Path;
use object_store::prefix::PrefixStore;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload, WriteMultipart};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tracing::debug;

use crate::error::{Error, Result};

/// Objects larger than this are uploaded in parts of this size (Thanos' S3 default).
pub const DEFAULT_PART_SIZE: usize = 64 * 1024 * 1024;
/// Parts of one multipart upload sent at the same time.
const PART_CONCURRENCY: usize = 4;
/// Read buffer for streaming local files.
const READ_BUF: usize = 1024 * 1024;

/// Name, size and modification time of an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectAttributes {
    pub name: String,
    pub size: u64,
    pub last_modified: DateTime<Utc>,
}

/// A bucket of objects. Cheap to clone: clones share the store.
#[derive(Clone)]
pub struct Bucket {
    store: Arc<dyn ObjectStore>,
    name: Arc<str>,
    part_size: usize,
    multipart: bool,
}

impl std::fmt::Debug for Bucket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bucket")
            .field("name", &self.name)
            .field("store", &self.store.to_string())
            .field("part_size", &self.part_size)
            .field("multipart", &self.multipart)
            .finish()
    }
}

/// Parses an object name (or a directory name when `allow_empty`) into a store path.
fn object_path(name: &str, allow_empty: bool) -> Result<Path> {
    let invalid = |reason: String| Error::InvalidName {
        name: name.to_owned(),
        reason,
    };
    let p = Path::parse(name).map_err(|e| invalid(e.to_string()))?;
    if !allow_empty && p.as_ref().is_empty() {
        return Err(invalid("empty object name".into()));
    }
    if p.parts().any(|part| matches!(part.as_ref(), "." | "..")) {
        return Err(invalid(
            "`.` and `..` are not allowed in object names".into(),
        ));
    }
    Ok(p)
}

/// `dir/rel`, or `rel` when `dir` is empty.
pub fn join(dir: &str, rel: &str) -> String {
    let dir = dir.trim_end_matches('/');
    if dir.is_empty() {
        rel.to_owned()
    } else {
        format!("{dir}/{rel}")
    }
}

impl Bucket {
    /// A bucket over `store`; `name` is used in errors and logs.
    pub fn new(store: Arc<dyn ObjectStore>, name: impl Into<String>) -> Bucket {
        Bucket {
            store,
            name: Arc::from(name.into()),
            part_size: DEFAULT_PART_SIZE,
            multipart: true,
        }
    }

    /// An empty bucket in memory, for tests.
    pub fn in_memory() -> Bucket {
        Bucket::new(Arc::new(InMemory::new()), "memory")
    }

    /// A bucket stored in the local directory `dir` (created if missing), Thanos'
    /// `FILESYSTEM` type.
    pub fn filesystem(dir: &LocalPath) -> Result<Bucket> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io("create", dir, e))?;
        let store = object_store::local::LocalFileSystem::new_with_prefix(dir)
            .map_err(|e| Error::Config(format!("filesystem bucket {}: {e}", dir.display())))?
            .with_automatic_cleanup(true);
        Ok(Bucket::new(Arc::new(store), dir.display().to_string()))
    }

    /// Parses a Thanos objstore YAML configuration (see [`crate::config`]).
    pub fn from_yaml(yaml: &str) -> Result<Bucket> {
        crate::config::BucketConfig::from_yaml(yaml)?.build()
    }

    /// The same bucket seen through `prefix`: every name is relative to `prefix/`.
    pub fn with_prefix(self, prefix: &str) -> Result<Bucket> {
        let p = object_path(prefix, true)?;
        if p.as_ref().is_empty() {
            return Ok(self);
        }
        let name = format!("{}/{}", self.name, p.as_ref());
        Ok(Bucket {
            store: Arc::new(PrefixStore::new(self.store, p)),
            name: Arc::from(name),
            ..self
        })
    }

    /// Objects larger than `bytes` are uploaded in parts of `bytes` (at least 5 MiB for
    /// S3, except the last part).
    pub fn with_part_size(mut self, bytes: usize) -> Bucket {
        self.part_size = bytes.max(1);
        self
    }

    /// Disables multipart uploads: every object is one PUT.
    pub fn with_multipart(mut self, enabled: bool) -> Bucket {
        self.multipart = enabled;
        self
    }

    /// The bucket's name, as used in errors.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The underlying store.
    pub fn store(&self) -> &Arc<dyn ObjectStore> {
        &self.store
    }

    /// Maps a failed write or listing: "not found" there means a missing bucket, not a
    /// missing object.
    fn store_err(&self, op: &'static str, name: &str, source: object_store::Error) -> Error {
        Error::Store {
            op,
            bucket: self.name.to_string(),
            path: name.to_owned(),
            source: Box::new(source),
        }
    }

    fn err(&self, op: &'static str, name: &str, e: object_store::Error) -> Error {
        match e {
            object_store::Error::NotFound { .. } => Error::NotFound {
                bucket: self.name.to_string(),
                path: name.to_owned(),
            },
            source => self.store_err(op, name, source),
        }
    }

    /// The whole object.
    pub async fn get(&self, name: &str) -> Result<Bytes> {
        let p = object_path(name, false)?;
        let r = self
            .store
            .get(&p)
            .await
            .map_err(|e| self.err("get", name, e))?;
        r.bytes().await.map_err(|e| self.err("get", name, e))
    }

    /// Bytes `range` of the object. A range past the end is an error.
    pub async fn get_range(&self, name: &str, range: Range<u64>) -> Result<Bytes> {
        let p = object_path(name, false)?;
        self.store
            .get_range(&p, range)
            .await
            .map_err(|e| self.err("get range", name, e))
    }

    /// Writes the object, replacing it if it exists. Data larger than the part size is
    /// sent as a multipart upload.
    pub async fn put(&self, name: &str, data: impl Into<Bytes>) -> Result<()> {
        let p = object_path(name, false)?;
        let data: Bytes = data.into();
        if !self.multipart || data.len() <= self.part_size {
            self.store
                .put(&p, PutPayload::from(data))
                .await
                .map_err(|e| self.store_err("put", name, e))?;
            return Ok(());
        }
        let upload = self
            .store
            .put_multipart(&p)
            .await
            .map_err(|e| self.store_err("start multipart upload", name, e))?;
        let mut w = WriteMultipart::new_with_chunk_size(upload, self.part_size);
        w.put(data);
        w.finish()
            .await
            .map_err(|e| self.store_err("multipart upload", name, e))?;
        Ok(())
    }

    /// True when the object exists.
    pub async fn exists(&self, name: &str) -> Result<bool> {
        match self.attributes(name).await {
            Ok(_) => Ok(true),
            Err(e) if e.is_not_found() => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Size and modification time of the object.
    pub async fn attributes(&self, name: &str) -> Result<ObjectAttributes> {
        let p = object_path(name, false)?;
        let m = self
            .store
            .head(&p)
            .await
            .map_err(|e| self.err("attributes", name, e))?;
        Ok(ObjectAttributes {
            name: name.to_owned(),
            size: m.size,
            last_modified: m.last_modified,
        })
    }

    /// Deletes the object. Deleting a missing object succeeds (as on S3).
    pub async fn delete(&self, name: &str) -> Result<()> {
        let p = object_path(name, false)?;
        match self.store.delete(&p).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(self.err("delete", name, e)),
        }
    }

    /// Thanos' `Iter`: the entries directly under `dir` ("" for the root), sorted.
    /// Objects are full names, sub-directories full names ending in `/`. With
    /// `recursive`, every object below `dir` and no directories.
    pub async fn iter(&self, dir: &str, recursive: bool) -> Result<Vec<String>> {
        let mut out: Vec<String> = if recursive {
            self.list(dir).await?.into_iter().map(|a| a.name).collect()
        } else {
            let p = object_path(dir, true)?;
            let prefix = (!p.as_ref().is_empty()).then_some(&p);
            let r = self
                .store
                .list_with_delimiter(prefix)
                .await
                .map_err(|e| self.store_err("list", dir, e))?;
            r.objects
                .into_iter()
                .map(|o| o.location.to_string())
                .chain(r.common_prefixes.into_iter().map(|d| format!("{d}/")))
                .collect()
        };
        out.sort();
        Ok(out)
    }

    /// Every object below the directory `prefix` ("" for all), with attributes, sorted
    /// by name.
    pub async fn list(&self, prefix: &str) -> Result<Vec<ObjectAttributes>> {
        let p = object_path(prefix, true)?;
        let pp = (!p.as_ref().is_empty()).then_some(&p);
        let mut out: Vec<ObjectAttributes> = self
            .store
            .list(pp)
            .map_ok(|m| ObjectAttributes {
                name: m.location.to_string(),
                size: m.size,
                last_modified: m.last_modified,
            })
            .try_collect()
            .await
            .map_err(|e| self.store_err("list", prefix, e))?;
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// Uploads the local file `src` as `name`, streaming it in parts when it is larger
    /// than the part size. Returns its size.
    pub async fn upload_file(&self, src: &LocalPath, name: &str) -> Result<u64> {
        let p = object_path(name, false)?;
        let mut f = tokio::fs::File::open(src)
            .await
            .map_err(|e| Error::io("open", src, e))?;
        let len = f
            .metadata()
            .await
            .map_err(|e| Error::io("stat", src, e))?
            .len();
        if !self.multipart || len <= self.part_size as u64 {
            let mut buf = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
            f.read_to_end(&mut buf)
                .await
                .map_err(|e| Error::io("read", src, e))?;
            let n = buf.len() as u64;
            self.store
                .put(&p, PutPayload::from(buf))
                .await
                .map_err(|e| self.store_err("put", name, e))?;
            debug!(bucket = %self.name, object = name, bytes = n, "uploaded");
            return Ok(n);
        }
        let upload = self
            .store
            .put_multipart(&p)
            .await
            .map_err(|e| self.store_err("start multipart upload", name, e))?;
        let mut w = WriteMultipart::new_with_chunk_size(upload, self.part_size);
        let mut buf = vec![0u8; READ_BUF];
        let mut n = 0u64;
        loop {
            let read = match f.read(&mut buf).await {
                Ok(0) => break,
                Ok(k) => k,
                Err(e) => {
                    let _ = w.abort().await;
                    return Err(Error::io("read", src, e));
                }
            };
            if let Err(e) = w.wait_for_capacity(PART_CONCURRENCY).await {
                let _ = w.abort().await;
                return Err(self.store_err("multipart upload", name, e));
            }
            w.write(&buf[..read]);
            n += read as u64;
        }
        w.finish()
            .await
            .map_err(|e| self.store_err("multipart upload", name, e))?;
        debug!(bucket = %self.name, object = name, bytes = n, "uploaded in parts");
        Ok(n)
    }

    /// Uploads every file below the local directory `src` to `dir/<relative path>`, in
    /// sorted order. Returns the relative paths and sizes uploaded.
    pub async fn upload_dir(&self, src: &LocalPath, dir: &str) -> Result<Vec<(String, u64)>> {
        let mut out = Vec::new();
        for rel in local_files(src)? {
            let n = self.upload_file(&src.join(&rel), &join(dir, &rel)).await?;
            out.push((rel, n));
        }
        Ok(out)
    }

    /// Streams the object `name` into the local file `dst` (created or truncated).
    /// Returns its size.
    pub async fn download_file(&self, name: &str, dst: &LocalPath) -> Result<u64> {
        let p = object_path(name, false)?;
        let r = self
            .store
            .get(&p)
            .await
            .map_err(|e| self.err("get", name, e))?;
        let mut f = tokio::fs::File::create(dst)
            .await
            .map_err(|e| Error::io("create", dst, e))?;
        let mut stream = r.into_stream();
        let mut n = 0u64;
        while let Some(chunk) = stream
            .try_next()
            .await
            .map_err(|e| self.err("get", name, e))?
        {
            f.write_all(&chunk)
                .await
                .map_err(|e| Error::io("write", dst, e))?;
            n += chunk.len() as u64;
        }
        f.sync_all().await.map_err(|e| Error::io("fsync", dst, e))?;
        Ok(n)
    }

    /// Downloads every object below `dir` into the local directory `dst`, keeping
    /// relative paths. Returns the number of files.
    pub async fn download_dir(&self, dir: &str, dst: &LocalPath) -> Result<usize> {
        let prefix = format!("{}/", dir.trim_end_matches('/'));
        let objects = self.list(dir).await?;
        for o in &objects {
            let rel = o.name.strip_prefix(&prefix).unwrap_or(&o.name);
            let target = dst.join(rel);
            if let Some(parent) = target.parent() {
                tokio::fs::create_dir_all(parent)
                    .await
                    .map_err(|e| Error::io("create", parent, e))?;
            }
            self.download_file(&o.name, &target).await?;
        }
        Ok(objects.len())
    }
}

/// Relative paths (with `/`) of every regular file below `root`, sorted.
fn local_files(root: &LocalPath) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let mut stack = vec![(root.to_path_buf(), String::new())];
    while let Some((dir, rel)) = stack.pop() {
        let rd = std::fs::read_dir(&dir).map_err(|e| Error::io("read dir", &dir, e))?;
        for entry in rd {
            let entry = entry.map_err(|e| Error::io("read dir", &dir, e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let ft = entry
                .file_type()
                .map_err(|e| Error::io("stat", entry.path(), e))?;
            let r = if rel.is_empty() {
                name
            } else {
                format!("{rel}/{name}")
            };
            if ft.is_dir() {
                stack.push((entry.path(), r));
            } else if ft.is_file() {
                out.push(r);
            }
        }
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn names_are_validated() {
        assert!(object_path("a/b", false).is_ok());
        assert_eq!(object_path("a/b/", true).unwrap().as_ref(), "a/b");
        assert!(object_path("", true).unwrap().as_ref().is_empty());
        let e = object_path("", false).unwrap_err().to_string();
        assert!(e.contains("empty"), "{e}");
        assert!(object_path("a//b", false).is_err());
        assert!(object_path("a/../b", false).is_err());
        assert!(object_path("a/./b", false).is_err());
    }

    #[test]
    fn join_names() {
        assert_eq!(join("", "x"), "x");
        assert_eq!(join("a/", "x"), "a/x");
        assert_eq!(join("a", "b/x"), "a/b/x");
    }

    #[tokio::test]
    async fn prefix_hides_outside() {
        let b = Bucket::in_memory();
        b.put("outside", Bytes::from_static(b"o")).await.unwrap();
        let p = b.clone().with_prefix("tenant-a/").unwrap();
        p.put("x/y", Bytes::from_static(b"1")).await.unwrap();
        assert_eq!(p.iter("", false).await.unwrap(), ["x/"]);
        assert_eq!(b.iter("", false).await.unwrap(), ["outside", "tenant-a/"]);
        assert_eq!(b.get("tenant-a/x/y").await.unwrap().as_ref(), b"1");
        assert!(p.get("outside").await.unwrap_err().is_not_found());
    }
}
