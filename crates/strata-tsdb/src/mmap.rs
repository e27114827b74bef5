//! Shared, immutable byte buffers backed by a memory-mapped file or a vector.
//!
//! This is the only module of the TSDB that uses `unsafe`: mapping a file is unsafe
//! because another process could change it underneath us. Block files are immutable once
//! written (we write to a temporary directory and rename), and deleted blocks stay
//! mapped until the last reader drops its handle, so readers never see a file change.

use std::fs::File;
use std::ops::{Deref, Range};
use std::path::Path;
use std::sync::Arc;

use crate::error::{Error, Result};

enum Backing {
    Mmap(memmap2::Mmap),
    Vec(Vec<u8>),
}

impl Backing {
    fn bytes(&self) -> &[u8] {
        match self {
            Backing::Mmap(m) => m,
            Backing::Vec(v) => v,
        }
    }
}

/// A cheaply clonable view into a shared byte buffer.
#[derive(Clone)]
pub struct SharedBytes {
    inner: Arc<Backing>,
    start: usize,
    end: usize,
}

impl SharedBytes {
    /// Maps `path` read-only. Empty files are backed by an empty vector.
    pub fn open(path: &Path) -> Result<Self> {
        let f = File::open(path).map_err(|e| Error::io("open", path, e))?;
        let len = f.metadata().map_err(|e| Error::io("stat", path, e))?.len();
        if len == 0 {
            return Ok(SharedBytes::from_vec(Vec::new()));
        }
        #[allow(unsafe_code)]
        // SAFETY: block and segment files are immutable after they are written; see the
        // module documentation.
        let map = unsafe { memmap2::Mmap::map(&f) }.map_err(|e| Error::io("mmap", path, e))?;
        let end = map.len();
        Ok(SharedBytes {
            inner: Arc::new(Backing::Mmap(map)),
            start: 0,
            end,
        })
    }

    /// Wraps an owned vector.
    pub fn from_vec(v: Vec<u8>) -> Self {
        let end = v.len();
        SharedBytes {
            inner: Arc::new(Backing::Vec(v)),
            start: 0,
            end,
        }
    }

    /// A sub-range of this view, or `None` when out of bounds.
    pub fn slice(&self, r: Range<usize>) -> Option<SharedBytes> {
        if r.start > r.end || r.end > self.len() {
            return None;
        }
        Some(SharedBytes {
            inner: self.inner.clone(),
            start: self.start + r.start,
            end: self.start + r.end,
        })
    }
}

impl Deref for SharedBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.inner.bytes()[self.start..self.end]
    }
}

impl AsRef<[u8]> for SharedBytes {
    fn as_ref(&self) -> &[u8] {
        self
    }
}

impl std::fmt::Debug for SharedBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SharedBytes({} bytes)", self.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_files_and_slices() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        std::fs::write(&p, b"hello world").unwrap();
        let b = SharedBytes::open(&p).unwrap();
        assert_eq!(&*b, b"hello world");
        assert_eq!(&*b.slice(6..11).unwrap(), b"world");
        assert!(b.slice(6..12).is_none());
        std::fs::write(dir.path().join("e"), b"").unwrap();
        assert!(SharedBytes::open(&dir.path().join("e")).unwrap().is_empty());
    }
}
