//! A synthetic scrape target: each path serves a body the test can change between
//! scrapes, with a chosen content type, optional gzip, delay and status; requests are
//! recorded.

use std::collections::HashMap;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use parking_lot::Mutex;

pub const TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";
pub const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Clone, Debug)]
pub struct Page {
    pub body: Vec<u8>,
    pub content_type: String,
    pub gzip: bool,
    pub delay: Duration,
    pub status: u16,
}

impl Page {
    pub fn text(body: &str) -> Self {
        Page {
            body: body.as_bytes().to_vec(),
            content_type: TEXT.to_owned(),
            gzip: false,
            delay: Duration::ZERO,
            status: 200,
        }
    }

    pub fn openmetrics(body: &str) -> Self {
        Page {
            content_type: OPENMETRICS.to_owned(),
            ..Page::text(body)
        }
    }

    pub fn gzipped(mut self) -> Self {
        self.gzip = true;
        self
    }

    pub fn delayed(mut self, d: Duration) -> Self {
        self.delay = d;
        self
    }
}

/// One recorded request: path with query, and headers.
#[derive(Clone, Debug)]
pub struct Request {
    pub uri: String,
    pub headers: HeaderMap,
}

#[derive(Default)]
struct Inner {
    pages: HashMap<String, Page>,
    requests: Vec<Request>,
}

#[derive(Clone)]
pub struct TestServer {
    pub addr: SocketAddr,
    inner: Arc<Mutex<Inner>>,
}

async fn handle(State(inner): State<Arc<Mutex<Inner>>>, uri: Uri, headers: HeaderMap) -> Response {
    let page = {
        let mut g = inner.lock();
        g.requests.push(Request {
            uri: uri.to_string(),
            headers: headers.clone(),
        });
        g.pages.get(uri.path()).cloned()
    };
    let Some(page) = page else {
        return Response::builder()
            .status(StatusCode::NOT_FOUND)
            .body(Body::from("not found"))
            .unwrap();
    };
    if !page.delay.is_zero() {
        tokio::time::sleep(page.delay).await;
    }
    let mut b = Response::builder()
        .status(page.status)
        .header("content-type", page.content_type.as_str());
    let body = if page.gzip {
        b = b.header("content-encoding", "gzip");
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(&page.body).unwrap();
        e.finish().unwrap()
    } else {
        page.body
    };
    b.body(Body::from(body)).unwrap()
}

impl TestServer {
    pub async fn start() -> Self {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        TestServer { addr, inner }
    }

    pub fn set(&self, path: &str, page: Page) {
        self.inner.lock().pages.insert(path.to_owned(), page);
    }

    pub fn requests(&self) -> Vec<Request> {
        self.inner.lock().requests.clone()
    }

    pub fn address(&self) -> String {
        self.addr.to_string()
    }
}
