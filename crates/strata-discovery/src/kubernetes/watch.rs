//! One list-and-watch loop (client-go's reflector, simplified): list the collection
//! (paginated), hand over its content, then watch from the list's resource version,
//! following ADDED/MODIFIED/DELETED events and BOOKMARKs. A watch that ends is resumed
//! from the last seen resource version; `410 Gone` (as an HTTP status or an ERROR event)
//! starts over with a new list; other errors back off, then list again.

use std::time::Duration;

use serde::Deserialize;
use tokio::sync::mpsc;

use super::cache::{Kind, Object};
use super::client::ApiClient;
use crate::error::{Error, Result};

/// What a watcher reports.
#[derive(Debug)]
pub(crate) enum WatchEvent {
    /// Everything of `kind` within `namespace` (all namespaces when empty), after a list.
    Replace {
        kind: Kind,
        namespace: String,
        objects: Vec<Object>,
    },
    /// An object was added or modified.
    Apply(Kind, Object),
    /// An object was deleted.
    Delete(Kind, Object),
}

/// What one watcher watches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WatchSpec {
    pub kind: Kind,
    /// Empty for all namespaces (or a cluster-scoped kind).
    pub namespace: String,
    pub label_selector: String,
    pub field_selector: String,
}

/// Timing of a watcher.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timing {
    /// First delay after an error; doubles up to `max_backoff`.
    pub min_backoff: Duration,
    pub max_backoff: Duration,
    /// Server-side watch timeout (`timeoutSeconds`); client-go picks 5–10 minutes.
    pub watch_timeout: Duration,
    /// Page size of lists.
    pub page_size: usize,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            min_backoff: Duration::from_millis(800),
            max_backoff: Duration::from_secs(30),
            watch_timeout: Duration::from_secs(300 + u64::from(jitter_secs(300))),
            page_size: 500,
        }
    }
}

/// A few bits of randomness without a random number generator dependency.
fn jitter_secs(max: u32) -> u32 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    nanos % max.max(1)
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct ListMeta {
    resource_version: String,
    #[serde(rename = "continue")]
    continue_token: String,
}

#[derive(Debug, Deserialize)]
struct ListPage {
    #[serde(default)]
    metadata: ListMeta,
    #[serde(default, deserialize_with = "strata_config::yaml::null_default")]
    items: Vec<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
struct RawEvent {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    object: serde_json::Value,
}

enum WatchEnd {
    /// The server ended the watch; resume from the last resource version.
    Closed,
    /// The resource version is too old: list again.
    Gone,
    /// Nobody listens any more.
    Stopped,
}

impl WatchSpec {
    fn selectors(&self) -> Vec<(&'static str, &str)> {
        let mut q = Vec::new();
        if !self.label_selector.is_empty() {
            q.push(("labelSelector", self.label_selector.as_str()));
        }
        if !self.field_selector.is_empty() {
            q.push(("fieldSelector", self.field_selector.as_str()));
        }
        q
    }
}

/// Lists and watches `spec` until `tx` is closed.
pub(crate) async fn run(
    client: ApiClient,
    spec: WatchSpec,
    timing: Timing,
    tx: mpsc::Sender<WatchEvent>,
) {
    let mut backoff = timing.min_backoff;
    loop {
        let (objects, mut rv) = match list(&client, &spec, timing.page_size).await {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(kind = spec.kind.name(), namespace = %spec.namespace, error = %e, "kubernetes list failed");
                pause(&mut backoff, timing.max_backoff).await;
                continue;
            }
        };
        let replace = WatchEvent::Replace {
            kind: spec.kind,
            namespace: spec.namespace.clone(),
            objects,
        };
        if tx.send(replace).await.is_err() {
            return;
        }
        loop {
            match watch(&client, &spec, timing, &mut rv, &tx).await {
                Ok(WatchEnd::Closed) => {
                    backoff = timing.min_backoff;
                }
                Ok(WatchEnd::Gone) => {
                    tracing::debug!(kind = spec.kind.name(), namespace = %spec.namespace, "watch expired, listing again");
                    break;
                }
                Ok(WatchEnd::Stopped) => return,
                Err(e) if e.status() == Some(410) => break,
                Err(e) => {
                    tracing::warn!(kind = spec.kind.name(), namespace = %spec.namespace, error = %e, "kubernetes watch failed");
                    pause(&mut backoff, timing.max_backoff).await;
                    break;
                }
            }
        }
    }
}

/// Sleeps for `backoff`, then doubles it (up to `max`).
async fn pause(backoff: &mut Duration, max: Duration) {
    tokio::time::sleep(*backoff).await;
    *backoff = (*backoff * 2).min(max);
}

/// Lists the whole collection, page by page; returns the objects and the resource
/// version to watch from.
async fn list(
    client: &ApiClient,
    spec: &WatchSpec,
    page_size: usize,
) -> Result<(Vec<Object>, String)> {
    let path = spec.kind.path(&spec.namespace);
    let limit = page_size.to_string();
    let mut objects = Vec::new();
    let mut token = String::new();
    loop {
        let mut q = spec.selectors();
        q.push(("limit", &limit));
        if !token.is_empty() {
            q.push(("continue", &token));
        }
        let url = client.url(&path, &q);
        let resp = client
            .get(url.clone(), Some(Duration::from_secs(120)))
            .await?;
        let body = resp.bytes().await.map_err(|e| Error::Api {
            url: url.to_string(),
            status: None,
            message: super::client::error_chain(&e),
        })?;
        let decode_err = |e: serde_json::Error| Error::Api {
            url: url.to_string(),
            status: None,
            message: format!("decoding list: {e}"),
        };
        let page: ListPage = serde_json::from_slice(&body).map_err(decode_err)?;
        for item in page.items {
            objects.push(Object::decode(spec.kind, item).map_err(decode_err)?);
        }
        if page.metadata.continue_token.is_empty() {
            return Ok((objects, page.metadata.resource_version));
        }
        token = page.metadata.continue_token;
    }
}

fn resource_version(object: &serde_json::Value) -> Option<String> {
    object
        .get("metadata")?
        .get("resourceVersion")?
        .as_str()
        .map(str::to_owned)
}

/// One watch request, streamed to its end.
async fn watch(
    client: &ApiClient,
    spec: &WatchSpec,
    timing: Timing,
    rv: &mut String,
    tx: &mpsc::Sender<WatchEvent>,
) -> Result<WatchEnd> {
    let path = spec.kind.path(&spec.namespace);
    let timeout = timing.watch_timeout.as_secs().max(1).to_string();
    let mut q = spec.selectors();
    q.extend([
        ("watch", "true"),
        ("allowWatchBookmarks", "true"),
        ("timeoutSeconds", timeout.as_str()),
    ]);
    if !rv.is_empty() {
        q.push(("resourceVersion", rv.as_str()));
    }
    let url = client.url(&path, &q);
    let guard = timing.watch_timeout + Duration::from_secs(60);
    let stream = async {
        let mut resp = client.get(url.clone(), None).await?;
        let mut buf: Vec<u8> = Vec::new();
        loop {
            let chunk = resp.chunk().await.map_err(|e| Error::Api {
                url: url.to_string(),
                status: None,
                message: super::client::error_chain(&e),
            })?;
            let Some(chunk) = chunk else {
                return Ok(WatchEnd::Closed);
            };
            buf.extend_from_slice(&chunk);
            while let Some(nl) = buf.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = buf.drain(..=nl).collect();
                if let Some(end) = handle_line(spec.kind, &line, rv, tx, &url).await? {
                    return Ok(end);
                }
            }
        }
    };
    match tokio::time::timeout(guard, stream).await {
        Ok(r) => r,
        Err(_) => Ok(WatchEnd::Closed),
    }
}

/// Applies one event line; `Some` ends the watch.
async fn handle_line(
    kind: Kind,
    line: &[u8],
    rv: &mut String,
    tx: &mpsc::Sender<WatchEvent>,
    url: &url::Url,
) -> Result<Option<WatchEnd>> {
    if line.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let err = |message: String, status: Option<u16>| Error::Api {
        url: url.to_string(),
        status,
        message,
    };
    let ev: RawEvent = serde_json::from_slice(line)
        .map_err(|e| err(format!("decoding watch event: {e}"), None))?;
    let new_rv = resource_version(&ev.object);
    let event = match ev.kind.as_str() {
        "ADDED" | "MODIFIED" | "DELETED" => {
            let obj = Object::decode(kind, ev.object)
                .map_err(|e| err(format!("decoding {} object: {e}", kind.name()), None))?;
            if ev.kind == "DELETED" {
                WatchEvent::Delete(kind, obj)
            } else {
                WatchEvent::Apply(kind, obj)
            }
        }
        "BOOKMARK" => {
            if let Some(v) = new_rv {
                *rv = v;
            }
            return Ok(None);
        }
        "ERROR" => {
            let code = ev.object.get("code").and_then(|c| c.as_u64());
            if code == Some(410) {
                return Ok(Some(WatchEnd::Gone));
            }
            let msg = ev
                .object
                .get("message")
                .and_then(|m| m.as_str())
                .unwrap_or("watch error")
                .to_owned();
            return Err(err(msg, code.and_then(|c| u16::try_from(c).ok())));
        }
        other => {
            tracing::debug!(event = other, "ignoring unknown watch event type");
            return Ok(None);
        }
    };
    if let Some(v) = new_rv {
        *rv = v;
    }
    if tx.send(event).await.is_err() {
        return Ok(Some(WatchEnd::Stopped));
    }
    Ok(None)
}
