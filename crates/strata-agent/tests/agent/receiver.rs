//! A remote-write receiver for tests: decodes 1.0 and 2.0 requests, records every
//! sample in arrival order, and fails on demand.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use parking_lot::Mutex;
use strata_model::Labels;
use strata_remote::negotiate::{HEADER_SAMPLES_WRITTEN, HEADER_VERSION};
use strata_remote::{Protocol, TimeSeriesRef, negotiate_content_type, rw1, rw2};

/// How the receiver answers.
#[derive(Debug, Clone)]
pub enum Mode {
    Ok,
    /// Answer with this status (and `Retry-After` if given) without storing anything.
    Fail {
        status: u16,
        retry_after: Option<String>,
    },
    /// Store, but only after sleeping this long.
    Slow(Duration),
}

pub struct Received {
    pub series: String,
    pub t: i64,
    pub v: f64,
}

pub struct Shared {
    pub mode: Mutex<Mode>,
    /// Fail this many requests with the given status, then go back to `mode`.
    pub fail_next: Mutex<Option<(usize, u16, Option<String>)>>,
    pub samples: Mutex<Vec<Received>>,
    /// Arrival time and outcome status of every request.
    pub requests: Mutex<Vec<(Instant, u16)>>,
    pub content_types: Mutex<Vec<(String, String)>>,
    /// `Authorization` and `X-Test` of every request.
    pub auth: Mutex<Vec<(Option<String>, Option<String>)>>,
}

impl Shared {
    pub fn set_mode(&self, m: Mode) {
        *self.mode.lock() = m;
    }

    pub fn count(&self) -> usize {
        self.samples.lock().len()
    }

    /// Timestamps received per series, in arrival order.
    pub fn by_series(&self) -> BTreeMap<String, Vec<i64>> {
        let mut m: BTreeMap<String, Vec<i64>> = BTreeMap::new();
        for r in self.samples.lock().iter() {
            m.entry(r.series.clone()).or_default().push(r.t);
        }
        m
    }
}

pub struct Receiver {
    pub addr: SocketAddr,
    pub shared: Arc<Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

async fn write(State(s): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let ct = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let version = headers
        .get(HEADER_VERSION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    s.content_types.lock().push((ct.clone(), version));
    let h = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    s.auth.lock().push((h("authorization"), h("x-test")));
    let fail = {
        let mut f = s.fail_next.lock();
        match f.as_mut() {
            Some((n, status, ra)) if *n > 0 => {
                *n -= 1;
                Some((*status, ra.clone()))
            }
            _ => None,
        }
    };
    let mode = s.mode.lock().clone();
    let fail = fail.or(match &mode {
        Mode::Fail {
            status,
            retry_after,
        } => Some((*status, retry_after.clone())),
        _ => None,
    });
    if let Some((status, retry_after)) = fail {
        s.requests.lock().push((Instant::now(), status));
        let mut resp = (
            StatusCode::from_u16(status).unwrap(),
            format!("test receiver says {status}"),
        )
            .into_response();
        if let Some(ra) = retry_after {
            resp.headers_mut()
                .insert("retry-after", ra.parse().unwrap());
        }
        return resp;
    }
    if let Mode::Slow(d) = mode {
        tokio::time::sleep(d).await;
    }
    let proto = negotiate_content_type(Some(&ct)).unwrap();
    let raw = strata_remote::snappy::decompress(&body, 64 << 20).unwrap();
    let mut got = Vec::new();
    let mut scratch = TimeSeriesRef::default();
    let mut collect = |ts: &TimeSeriesRef<'_>| {
        let labels = Labels::new(&ts.labels).unwrap().to_string();
        for &(t, v) in &ts.samples {
            got.push(Received {
                series: labels.clone(),
                t,
                v,
            });
        }
        Ok(())
    };
    match proto {
        Protocol::V1 => rw1::for_each_series(&raw, &mut scratch, &mut collect).unwrap(),
        Protocol::V2 => rw2::for_each_series(&raw, &mut scratch, &mut collect).unwrap(),
    }
    let n = got.len();
    s.samples.lock().extend(got);
    s.requests.lock().push((Instant::now(), 204));
    let mut resp = StatusCode::NO_CONTENT.into_response();
    if proto == Protocol::V2 {
        resp.headers_mut()
            .insert(HEADER_SAMPLES_WRITTEN, n.to_string().parse().unwrap());
    }
    resp
}

impl Receiver {
    pub async fn start() -> Receiver {
        let shared = Arc::new(Shared {
            mode: Mutex::new(Mode::Ok),
            fail_next: Mutex::new(None),
            samples: Mutex::new(Vec::new()),
            requests: Mutex::new(Vec::new()),
            content_types: Mutex::new(Vec::new()),
            auth: Mutex::new(Vec::new()),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut r = Receiver {
            addr,
            shared,
            stop: None,
            task: None,
        };
        r.serve(listener);
        r
    }

    fn serve(&mut self, listener: tokio::net::TcpListener) {
        let app = Router::new()
            .route("/write", post(write))
            .with_state(self.shared.clone());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        self.stop = Some(tx);
        self.task = Some(tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = rx.await;
                })
                .await;
        }));
    }

    pub fn url(&self) -> String {
        format!("http://{}/write", self.addr)
    }

    /// Stops listening: connections are refused until [`Receiver::restart`].
    pub async fn stop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = tokio::time::timeout(Duration::from_secs(5), t).await;
        }
    }

    /// Listens again on the same port.
    pub async fn restart(&mut self) {
        let listener = tokio::net::TcpListener::bind(self.addr).await.unwrap();
        self.serve(listener);
    }
}
