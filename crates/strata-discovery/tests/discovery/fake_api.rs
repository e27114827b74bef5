//! A scripted Kubernetes API server on 127.0.0.1:0: per collection path, a queue of
//! list replies and a queue of watch replies (recorded bodies from `tests/fixtures`).
//! Watch replies can wait for the test before sending their events and before ending,
//! so every intermediate state can be observed. An exhausted list queue answers an
//! empty list; an exhausted watch queue keeps the stream open without events. Every
//! request is logged.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use tokio::sync::Notify;

use super::fixture_text;

/// A gate the test opens.
pub type Gate = Arc<Notify>;

pub fn gate() -> Gate {
    Arc::new(Notify::new())
}

/// How a watch stream ends after its events.
pub enum After {
    /// Ends at once.
    Close,
    /// Stays open without further events.
    Hang,
    /// Ends when the gate opens.
    CloseOn(Gate),
}

/// One scripted watch answer.
pub enum WatchReply {
    /// HTTP 200 with newline-delimited events (sent once `before`, if any, opens).
    Events {
        before: Option<Gate>,
        body: String,
        after: After,
    },
    /// An error status (sent once `before`, if any, opens).
    Status {
        before: Option<Gate>,
        code: u16,
        body: String,
    },
}

#[derive(Default)]
struct Script {
    lists: VecDeque<(u16, String)>,
    watches: VecDeque<WatchReply>,
}

/// A request the server received.
#[derive(Debug, Clone)]
pub struct Request {
    pub path: String,
    pub query: BTreeMap<String, String>,
    pub authorization: Option<String>,
}

impl Request {
    pub fn is_watch(&self) -> bool {
        self.query.get("watch").map(String::as_str) == Some("true")
    }

    pub fn param(&self, name: &str) -> Option<&str> {
        self.query.get(name).map(String::as_str)
    }
}

#[derive(Default)]
struct Inner {
    scripts: HashMap<String, Script>,
    requests: Vec<Request>,
}

#[derive(Clone)]
pub struct FakeApi {
    pub url: String,
    inner: Arc<Mutex<Inner>>,
}

impl FakeApi {
    pub async fn start() -> FakeApi {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        FakeApi {
            url: format!("http://{addr}"),
            inner,
        }
    }

    /// Queues a list answer (a fixture file name) for `path`.
    pub fn list(&self, path: &str, fixture: &str) -> &Self {
        self.list_raw(path, 200, fixture_text(fixture))
    }

    pub fn list_raw(&self, path: &str, code: u16, body: String) -> &Self {
        let mut inner = self.inner.lock().unwrap();
        let script = inner.scripts.entry(path.to_owned()).or_default();
        script.lists.push_back((code, body));
        self
    }

    /// Queues a watch answer for `path`.
    pub fn watch(&self, path: &str, reply: WatchReply) -> &Self {
        let mut inner = self.inner.lock().unwrap();
        let script = inner.scripts.entry(path.to_owned()).or_default();
        script.watches.push_back(reply);
        self
    }

    /// Queues the events of a fixture file.
    pub fn watch_events(
        &self,
        path: &str,
        before: Option<&Gate>,
        fixture: &str,
        after: After,
    ) -> &Self {
        self.watch(
            path,
            WatchReply::Events {
                before: before.cloned(),
                body: fixture_text(fixture),
                after,
            },
        )
    }

    /// The requests received for `path`, in order.
    pub fn requests(&self, path: &str) -> Vec<Request> {
        let inner = self.inner.lock().unwrap();
        inner
            .requests
            .iter()
            .filter(|r| r.path == path)
            .cloned()
            .collect()
    }

    /// Every request received.
    pub fn all_requests(&self) -> Vec<Request> {
        self.inner.lock().unwrap().requests.clone()
    }
}

const EMPTY_LIST: &str =
    r#"{"kind":"List","apiVersion":"v1","metadata":{"resourceVersion":"1"},"items":[]}"#;

async fn handle(State(inner): State<Arc<Mutex<Inner>>>, uri: Uri, headers: HeaderMap) -> Response {
    let query: BTreeMap<String, String> =
        url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    let req = Request {
        path: uri.path().to_owned(),
        query,
        authorization: headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
    };
    let watch = req.is_watch();
    let (list, reply) = {
        let mut inner = inner.lock().unwrap();
        inner.requests.push(req.clone());
        let script = inner.scripts.entry(req.path.clone()).or_default();
        if watch {
            (None, script.watches.pop_front())
        } else {
            (
                Some(
                    script
                        .lists
                        .pop_front()
                        .unwrap_or((200, EMPTY_LIST.to_owned())),
                ),
                None,
            )
        }
    };
    if let Some((code, body)) = list {
        return respond(code, Body::from(body));
    }
    match reply {
        None => respond(200, stream(None, String::new(), After::Hang)),
        Some(WatchReply::Events {
            before,
            body,
            after,
        }) => respond(200, stream(before, body, after)),
        Some(WatchReply::Status { before, code, body }) => {
            if let Some(g) = before {
                g.notified().await;
            }
            respond(code, Body::from(body))
        }
    }
}

fn respond(code: u16, body: Body) -> Response {
    Response::builder()
        .status(StatusCode::from_u16(code).unwrap())
        .header("content-type", "application/json")
        .body(body)
        .unwrap()
}

enum Phase {
    Before(Option<Gate>, String, After),
    After(After),
}

fn stream(before: Option<Gate>, body: String, after: After) -> Body {
    let s = futures::stream::unfold(
        Some(Phase::Before(before, body, after)),
        |phase| async move {
            match phase? {
                Phase::Before(gate, body, after) => {
                    if let Some(g) = gate {
                        g.notified().await;
                    }
                    Some((
                        Ok::<_, Infallible>(Bytes::from(body)),
                        Some(Phase::After(after)),
                    ))
                }
                Phase::After(After::Close) => None,
                Phase::After(After::Hang) => {
                    std::future::pending::<()>().await;
                    None
                }
                Phase::After(After::CloseOn(g)) => {
                    g.notified().await;
                    None
                }
            }
        },
    );
    Body::from_stream(s)
}
