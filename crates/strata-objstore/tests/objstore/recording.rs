//! An object store that records every write (and can be told to fail one), to check the
//! order of uploads and retries.

use std::fmt;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use futures::StreamExt;
use futures::stream::BoxStream;
use object_store::memory::InMemory;
use object_store::path::Path;
use object_store::{
    CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore,
    PutMultipartOptions, PutOptions, PutPayload, PutResult, UploadPart,
};
use strata_objstore::Bucket;

/// One recorded operation: `put <name>` (when an object becomes visible),
/// `multipart <name>` (a multipart upload starts), `head <name>`, `delete <name>`.
#[derive(Debug, Default)]
pub struct Log {
    pub ops: Mutex<Vec<String>>,
    /// Writes of object names ending with this fail.
    pub fail_suffix: Mutex<Option<String>>,
}

impl Log {
    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.ops.lock().unwrap())
    }
    pub fn puts(&self) -> Vec<String> {
        self.take()
            .into_iter()
            .filter_map(|o| o.strip_prefix("put ").map(str::to_owned))
            .collect()
    }
    pub fn fail_writes_to(&self, suffix: Option<&str>) {
        *self.fail_suffix.lock().unwrap() = suffix.map(str::to_owned);
    }
    fn record(&self, op: &str, p: &Path) {
        self.ops.lock().unwrap().push(format!("{op} {p}"));
    }
    fn check(&self, p: &Path) -> object_store::Result<()> {
        match &*self.fail_suffix.lock().unwrap() {
            Some(s) if p.as_ref().ends_with(s.as_str()) => Err(object_store::Error::Generic {
                store: "recording",
                source: format!("injected failure writing {p}").into(),
            }),
            _ => Ok(()),
        }
    }
}

#[derive(Debug)]
pub struct Recording {
    inner: Arc<dyn ObjectStore>,
    log: Arc<Log>,
}

impl fmt::Display for Recording {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Recording({})", self.inner)
    }
}

/// A bucket over `inner` (a fresh in-memory store when `None`) and its log.
pub fn recording_bucket(inner: Option<Arc<dyn ObjectStore>>) -> (Bucket, Arc<Log>) {
    let log = Arc::new(Log::default());
    let store = Recording {
        inner: inner.unwrap_or_else(|| Arc::new(InMemory::new())),
        log: log.clone(),
    };
    (Bucket::new(Arc::new(store), "recording"), log)
}

#[derive(Debug)]
struct RecordingUpload {
    inner: Box<dyn MultipartUpload>,
    path: Path,
    log: Arc<Log>,
}

#[async_trait]
impl MultipartUpload for RecordingUpload {
    fn put_part(&mut self, data: PutPayload) -> UploadPart {
        self.inner.put_part(data)
    }
    async fn complete(&mut self) -> object_store::Result<PutResult> {
        self.log.check(&self.path)?;
        let r = self.inner.complete().await?;
        self.log.record("put", &self.path);
        Ok(r)
    }
    async fn abort(&mut self) -> object_store::Result<()> {
        self.inner.abort().await
    }
}

#[async_trait]
impl ObjectStore for Recording {
    async fn put_opts(
        &self,
        location: &Path,
        payload: PutPayload,
        opts: PutOptions,
    ) -> object_store::Result<PutResult> {
        self.log.check(location)?;
        let r = self.inner.put_opts(location, payload, opts).await?;
        self.log.record("put", location);
        Ok(r)
    }

    async fn put_multipart_opts(
        &self,
        location: &Path,
        opts: PutMultipartOptions,
    ) -> object_store::Result<Box<dyn MultipartUpload>> {
        self.log.check(location)?;
        let inner = self.inner.put_multipart_opts(location, opts).await?;
        self.log.record("multipart", location);
        Ok(Box::new(RecordingUpload {
            inner,
            path: location.clone(),
            log: self.log.clone(),
        }))
    }

    async fn get_opts(
        &self,
        location: &Path,
        options: GetOptions,
    ) -> object_store::Result<GetResult> {
        if options.head {
            self.log.record("head", location);
        }
        self.inner.get_opts(location, options).await
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, object_store::Result<Path>>,
    ) -> BoxStream<'static, object_store::Result<Path>> {
        let log = self.log.clone();
        self.inner
            .delete_stream(locations)
            .map(move |r| {
                if let Ok(p) = &r {
                    log.record("delete", p);
                }
                r
            })
            .boxed()
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
        self.inner.list(prefix)
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> object_store::Result<ListResult> {
        self.inner.list_with_delimiter(prefix).await
    }

    async fn copy_opts(
        &self,
        from: &Path,
        to: &Path,
        options: CopyOptions,
    ) -> object_store::Result<()> {
        self.inner.copy_opts(from, to, options).await
    }
}
