//! In-test Store API servers on 127.0.0.1:0 holding known series as XOR chunks (encoded
//! with strata-tsdb's chunk encoder), and helpers to query them.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use strata_model::storage::{Queryable, ReadContext, SelectHints};
use strata_model::{Labels, Matcher};
use strata_proto::infopb::info_server::{Info, InfoServer};
use strata_proto::infopb::{InfoRequest, InfoResponse, StoreInfo};
use strata_proto::labelpb::{ZLabelSet, labels_to_proto};
use strata_proto::storepb::store_server::{Store, StoreServer};
use strata_proto::storepb::{
    AggrChunk, Chunk, LabelNamesRequest, LabelNamesResponse, LabelValuesRequest,
    LabelValuesResponse, Series, SeriesRequest, SeriesResponse, chunk, matchers_from_proto,
    series_response,
};
use strata_query::{EndpointSet, ProxyQueryable, QueryOptions};
use strata_tsdb::chunkenc::XorChunk;
use tokio::sync::oneshot;
use tonic::transport::Server;
use tonic::transport::server::TcpIncoming;
use tonic::{Request, Response, Status};

pub type Samples = Vec<(i64, f64)>;

/// One series as a store holds it: labels (without external labels) and its samples,
/// cut into chunks of `chunk_len` samples.
#[derive(Clone)]
pub struct StoredSeries {
    pub labels: Labels,
    pub samples: Samples,
    pub chunk_len: usize,
}

pub fn labels(pairs: &[(&str, &str)]) -> Labels {
    Labels::new(pairs).unwrap()
}

pub fn series(pairs: &[(&str, &str)], samples: Samples) -> StoredSeries {
    StoredSeries {
        labels: labels(pairs),
        samples,
        chunk_len: 120,
    }
}

/// `n` samples every `step` ms from `start`, value `f(i)`.
pub fn regular(start: i64, step: i64, n: i64, f: impl Fn(i64) -> f64) -> Samples {
    (0..n).map(|i| (start + i * step, f(i))).collect()
}

/// What a test store holds and says about itself.
pub struct StoreData {
    pub component: &'static str,
    /// External labels, attached to every series it returns.
    pub ext: Labels,
    pub min_time: i64,
    pub max_time: i64,
    pub series: Vec<StoredSeries>,
    /// Ignore matchers and return everything (a misbehaving store).
    pub ignore_matchers: bool,
}

impl StoreData {
    pub fn new(component: &'static str, ext: &[(&str, &str)], series: Vec<StoredSeries>) -> Self {
        StoreData {
            component,
            ext: labels(ext),
            min_time: i64::MIN,
            max_time: i64::MAX,
            series,
            ignore_matchers: false,
        }
    }
}

/// A running test store.
pub struct TestStore {
    pub data: StoreData,
    /// Fail every Series, LabelNames and LabelValues call with `Unavailable`.
    pub fail: AtomicBool,
    /// Requests received, with the `thanos-tenant` metadata.
    pub seen: Mutex<Vec<(SeriesRequest, Option<String>)>>,
    pub seen_tenants: Mutex<Vec<Option<String>>>,
}

fn encode(samples: &[(i64, f64)]) -> AggrChunk {
    let mut c = XorChunk::new();
    for &(t, v) in samples {
        c.append(t, v);
    }
    AggrChunk {
        min_time: samples.first().map_or(0, |s| s.0),
        max_time: samples.last().map_or(0, |s| s.0),
        raw: Some(Chunk {
            r#type: chunk::Encoding::Xor as i32,
            data: c.bytes().to_vec().into(),
            hash: 0,
        }),
        ..AggrChunk::default()
    }
}

fn tenant_of<T>(r: &Request<T>) -> Option<String> {
    r.metadata()
        .get("thanos-tenant")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

impl TestStore {
    /// Series labels with external labels and without `drop` (replica labels).
    fn full_labels(&self, s: &StoredSeries, drop: &[String]) -> Labels {
        let mut b = s.labels.to_builder();
        for (n, v) in self.data.ext.iter() {
            b.set(n, v);
        }
        for d in drop {
            b.del(d);
        }
        b.build().unwrap()
    }

    fn matching(&self, matchers: &[Matcher], drop: &[String]) -> Vec<(Labels, &StoredSeries)> {
        let mut out: Vec<_> = self
            .data
            .series
            .iter()
            .map(|s| (self.full_labels(s, drop), s))
            .filter(|(l, _)| self.data.ignore_matchers || Matcher::all_match(matchers, l))
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    fn check(&self) -> Result<(), Status> {
        if self.fail.load(Ordering::Relaxed) {
            return Err(Status::unavailable("store is down"));
        }
        Ok(())
    }
}

struct Srv(Arc<TestStore>);

#[tonic::async_trait]
impl Store for Srv {
    type SeriesStream = tokio_stream::Iter<std::vec::IntoIter<Result<SeriesResponse, Status>>>;

    async fn series(
        &self,
        request: Request<SeriesRequest>,
    ) -> Result<Response<Self::SeriesStream>, Status> {
        let tenant = tenant_of(&request);
        let req = request.into_inner();
        self.0.seen.lock().unwrap().push((req.clone(), tenant));
        self.0.check()?;
        let matchers = matchers_from_proto(&req.matchers)
            .map_err(|e| Status::invalid_argument(e.to_string()))?;
        let mut out = Vec::new();
        for (l, s) in self.0.matching(&matchers, &req.without_replica_labels) {
            let chunks = if req.skip_chunks {
                Vec::new()
            } else {
                s.samples
                    .chunks(s.chunk_len.max(1))
                    .filter(|c| {
                        c.last().is_some_and(|x| x.0 >= req.min_time)
                            && c.first().is_some_and(|x| x.0 <= req.max_time)
                    })
                    .map(encode)
                    .collect()
            };
            out.push(Ok(SeriesResponse {
                result: Some(series_response::Result::Series(Series {
                    labels: labels_to_proto(&l),
                    chunks,
                })),
            }));
        }
        Ok(Response::new(tokio_stream::iter(out)))
    }

    async fn label_names(
        &self,
        request: Request<LabelNamesRequest>,
    ) -> Result<Response<LabelNamesResponse>, Status> {
        self.0
            .seen_tenants
            .lock()
            .unwrap()
            .push(tenant_of(&request));
        self.0.check()?;
        let req = request.into_inner();
        let ms = matchers_from_proto(&req.matchers).unwrap();
        let mut names: Vec<String> = self
            .0
            .matching(&ms, &req.without_replica_labels)
            .iter()
            .flat_map(|(l, _)| l.iter().map(|(n, _)| n.to_owned()).collect::<Vec<_>>())
            .collect();
        names.sort();
        names.dedup();
        Ok(Response::new(LabelNamesResponse {
            names,
            ..LabelNamesResponse::default()
        }))
    }

    async fn label_values(
        &self,
        request: Request<LabelValuesRequest>,
    ) -> Result<Response<LabelValuesResponse>, Status> {
        self.0
            .seen_tenants
            .lock()
            .unwrap()
            .push(tenant_of(&request));
        self.0.check()?;
        let req = request.into_inner();
        let ms = matchers_from_proto(&req.matchers).unwrap();
        let mut values: Vec<String> = self
            .0
            .matching(&ms, &req.without_replica_labels)
            .iter()
            .filter_map(|(l, _)| l.get(&req.label).map(str::to_owned))
            .collect();
        values.sort();
        values.dedup();
        Ok(Response::new(LabelValuesResponse {
            values,
            ..LabelValuesResponse::default()
        }))
    }
}

#[tonic::async_trait]
impl Info for Srv {
    async fn info(&self, _: Request<InfoRequest>) -> Result<Response<InfoResponse>, Status> {
        let d = &self.0.data;
        let label_sets = if d.ext.is_empty() {
            vec![]
        } else {
            vec![ZLabelSet::from(&d.ext)]
        };
        Ok(Response::new(InfoResponse {
            label_sets,
            component_type: d.component.into(),
            store: Some(StoreInfo {
                min_time: d.min_time,
                max_time: d.max_time,
                supports_without_replica_labels: true,
                ..StoreInfo::default()
            }),
            ..InfoResponse::default()
        }))
    }
}

/// A store served on an ephemeral loopback port until `stop` is dropped.
pub struct Running {
    pub addr: SocketAddr,
    pub store: Arc<TestStore>,
    _stop: oneshot::Sender<()>,
}

impl Running {
    pub fn addr(&self) -> String {
        self.addr.to_string()
    }
    pub fn requests(&self) -> usize {
        self.store.seen.lock().unwrap().len()
    }
}

pub async fn start(data: StoreData) -> Running {
    let store = Arc::new(TestStore {
        data,
        fail: AtomicBool::new(false),
        seen: Mutex::new(Vec::new()),
        seen_tenants: Mutex::new(Vec::new()),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let router = Server::builder()
        .add_service(StoreServer::new(Srv(store.clone())))
        .add_service(InfoServer::new(Srv(store.clone())));
    tokio::spawn(router.serve_with_incoming_shutdown(
        TcpIncoming::from(listener).with_nodelay(Some(true)),
        async {
            let _ = stopped.await;
        },
    ));
    Running {
        addr,
        store,
        _stop: stop,
    }
}

/// An endpoint set over `stores` after one refresh, and a queryable over it.
pub async fn proxy(stores: &[&Running], opts: QueryOptions) -> (EndpointSet, ProxyQueryable) {
    let addrs: Vec<String> = stores.iter().map(|s| s.addr()).collect();
    let set = EndpointSet::new(&addrs, &[], Duration::from_secs(3600)).unwrap();
    set.refresh().await;
    let q = ProxyQueryable::new(set.clone(), opts).unwrap();
    (set, q)
}

pub fn opts_with_replicas(replicas: &[&str]) -> QueryOptions {
    QueryOptions {
        replica_labels: replicas.iter().map(|s| s.to_string()).collect(),
        ..QueryOptions::default()
    }
}

/// Selects on a blocking thread (the storage trait is synchronous).
pub async fn select(
    q: &ProxyQueryable,
    ctx: ReadContext,
    selector: &str,
    start: i64,
    end: i64,
) -> strata_model::Result<Vec<(Labels, Samples)>> {
    let q = q.clone();
    let selector = selector.to_owned();
    tokio::task::spawn_blocking(move || {
        let ms = strata_model::matcher::parse_selector(&selector)?;
        let querier = q.querier_with(start, end, &ctx)?;
        let hints = SelectHints {
            start,
            end,
            sorted: true,
            labels_only: false,
        };
        querier
            .select(&ms, &hints)?
            .map(|s| s?.collect_samples())
            .collect()
    })
    .await
    .unwrap()
}

/// Label names and values on a blocking thread.
pub async fn label_names(
    q: &ProxyQueryable,
    ctx: ReadContext,
    value_of: Option<&str>,
) -> strata_model::Result<Vec<String>> {
    let q = q.clone();
    let value_of = value_of.map(str::to_owned);
    tokio::task::spawn_blocking(move || {
        let querier = q.querier_with(i64::MIN, i64::MAX, &ctx)?;
        match value_of {
            Some(n) => querier.label_values(&n, &[]),
            None => querier.label_names(&[]),
        }
    })
    .await
    .unwrap()
}
