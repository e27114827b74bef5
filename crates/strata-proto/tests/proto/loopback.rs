//! Loopback gRPC calls: a tonic server on 127.0.0.1:0 with tiny in-test implementations
//! of Store, Info and WriteableStore, called through the generated clients.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use strata_model::{Labels, MatchType, Matcher};
use strata_proto::infopb::info_client::InfoClient;
use strata_proto::infopb::info_server::{Info, InfoServer};
use strata_proto::infopb::{InfoRequest, InfoResponse, StoreInfo};
use strata_proto::labelpb::{ZLabelSet, labels_from_proto, labels_to_proto};
use strata_proto::prompb::{Sample, TimeSeries};
use strata_proto::storepb::store_client::StoreClient;
use strata_proto::storepb::store_server::{Store, StoreServer};
use strata_proto::storepb::writeable_store_client::WriteableStoreClient;
use strata_proto::storepb::writeable_store_server::{WriteableStore, WriteableStoreServer};
use strata_proto::storepb::{
    AggrChunk, Chunk, LabelNamesRequest, LabelNamesResponse, LabelValuesRequest,
    LabelValuesResponse, Series, SeriesRequest, SeriesResponse, WriteRequest, WriteResponse, chunk,
    matchers_from_proto, matchers_to_proto, series_response,
};
use tokio::sync::oneshot;
use tonic::transport::Server;
use tonic::transport::server::{Router, TcpIncoming};
use tonic::{Request, Response, Status};

/// The one series the test store holds.
fn the_series() -> Labels {
    Labels::new(&[("__name__", "up"), ("job", "api")]).unwrap()
}

const CHUNK_BYTES: &[u8] = &[0x00, 0x01, 0x02, 0x03];

struct OneSeriesStore;

#[tonic::async_trait]
impl Store for OneSeriesStore {
    type SeriesStream = tokio_stream::Iter<std::vec::IntoIter<Result<SeriesResponse, Status>>>;

    async fn series(
        &self,
        request: Request<SeriesRequest>,
    ) -> Result<Response<Self::SeriesStream>, Status> {
        let req = request.into_inner();
        let matchers = matchers_from_proto(&req.matchers)
            .map_err(|e| Status::invalid_argument(e.to_string()))?;
        let labels = the_series();
        let mut out = Vec::new();
        if Matcher::all_match(&matchers, &labels) {
            let chunks = if req.skip_chunks {
                vec![]
            } else {
                vec![AggrChunk {
                    min_time: req.min_time,
                    max_time: req.max_time,
                    raw: Some(Chunk {
                        r#type: chunk::Encoding::Xor.into(),
                        data: CHUNK_BYTES.into(),
                        hash: 0,
                    }),
                    ..AggrChunk::default()
                }]
            };
            out.push(Ok(SeriesResponse {
                result: Some(series_response::Result::Series(Series {
                    labels: labels_to_proto(&labels),
                    chunks,
                })),
            }));
        }
        out.push(Ok(SeriesResponse {
            result: Some(series_response::Result::Warning("partial".into())),
        }));
        Ok(Response::new(tokio_stream::iter(out)))
    }

    async fn label_names(
        &self,
        _request: Request<LabelNamesRequest>,
    ) -> Result<Response<LabelNamesResponse>, Status> {
        let names = the_series().iter().map(|(n, _)| n.to_owned()).collect();
        Ok(Response::new(LabelNamesResponse {
            names,
            ..LabelNamesResponse::default()
        }))
    }

    async fn label_values(
        &self,
        request: Request<LabelValuesRequest>,
    ) -> Result<Response<LabelValuesResponse>, Status> {
        let label = request.into_inner().label;
        let values = the_series().get(&label).map(str::to_owned).into_iter();
        Ok(Response::new(LabelValuesResponse {
            values: values.collect(),
            ..LabelValuesResponse::default()
        }))
    }
}

struct TestInfo;

#[tonic::async_trait]
impl Info for TestInfo {
    async fn info(&self, _request: Request<InfoRequest>) -> Result<Response<InfoResponse>, Status> {
        let ext = Labels::new(&[("replica", "a")]).unwrap();
        Ok(Response::new(InfoResponse {
            label_sets: vec![ZLabelSet::from(&ext)],
            component_type: "receive".into(),
            store: Some(StoreInfo {
                min_time: i64::MIN,
                max_time: i64::MAX,
                supports_without_replica_labels: true,
                ..StoreInfo::default()
            }),
            ..InfoResponse::default()
        }))
    }
}

/// Records forwarded writes; rejects requests without a tenant.
#[derive(Default)]
struct RecordingWriter {
    got: Arc<Mutex<Vec<WriteRequest>>>,
}

#[tonic::async_trait]
impl WriteableStore for RecordingWriter {
    async fn remote_write(
        &self,
        request: Request<WriteRequest>,
    ) -> Result<Response<WriteResponse>, Status> {
        let req = request.into_inner();
        if req.tenant.is_empty() {
            return Err(Status::invalid_argument("missing tenant"));
        }
        self.got.lock().unwrap().push(req);
        Ok(Response::new(WriteResponse {}))
    }
}

/// Serves `router` on an ephemeral loopback port until the returned sender is dropped.
async fn serve(router: Router) -> (SocketAddr, oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(
        router.serve_with_incoming_shutdown(TcpIncoming::from(listener), async {
            let _ = stopped.await;
        }),
    );
    (addr, stop)
}

#[tokio::test]
async fn store_and_info_over_loopback() {
    let router = Server::builder()
        .add_service(StoreServer::new(OneSeriesStore))
        .add_service(InfoServer::new(TestInfo));
    let (addr, _stop) = serve(router).await;
    let url = format!("http://{addr}");

    let mut store = StoreClient::connect(url.clone()).await.unwrap();
    let matchers = vec![
        Matcher::equal("__name__", "up"),
        Matcher::new(MatchType::Regex, "job", "api|web").unwrap(),
    ];
    let mut stream = store
        .series(SeriesRequest {
            min_time: 1000,
            max_time: 2000,
            matchers: matchers_to_proto(&matchers),
            ..SeriesRequest::default()
        })
        .await
        .unwrap()
        .into_inner();
    let mut got = Vec::new();
    while let Some(msg) = stream.message().await.unwrap() {
        got.push(msg.result.unwrap());
    }
    assert_eq!(got.len(), 2, "{got:?}");
    let series_response::Result::Series(series) = &got[0] else {
        panic!("first message should be a series: {got:?}");
    };
    assert_eq!(labels_from_proto(&series.labels).unwrap(), the_series());
    assert_eq!(series.chunks.len(), 1);
    let raw = series.chunks[0].raw.as_ref().unwrap();
    assert_eq!(raw.r#type(), chunk::Encoding::Xor);
    assert_eq!(&raw.data[..], CHUNK_BYTES);
    assert_eq!(
        (series.chunks[0].min_time, series.chunks[0].max_time),
        (1000, 2000)
    );
    assert_eq!(got[1], series_response::Result::Warning("partial".into()));

    // A matcher that selects nothing: only the warning comes back.
    let none = matchers_to_proto(&[Matcher::equal("job", "db")]);
    let mut stream = store
        .series(SeriesRequest {
            matchers: none,
            ..SeriesRequest::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(matches!(
        stream.message().await.unwrap().unwrap().result,
        Some(series_response::Result::Warning(_))
    ));
    assert!(stream.message().await.unwrap().is_none());

    // A bad regex is refused by the server with InvalidArgument.
    let bad = SeriesRequest {
        matchers: vec![strata_proto::storepb::LabelMatcher {
            r#type: 2,
            name: "job".into(),
            value: "(".into(),
        }],
        ..SeriesRequest::default()
    };
    let status = store.series(bad).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::InvalidArgument, "{status:?}");

    let names = store
        .label_names(LabelNamesRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(names.names, vec!["__name__", "job"]);
    let values = store
        .label_values(LabelValuesRequest {
            label: "job".into(),
            ..LabelValuesRequest::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(values.values, vec!["api"]);

    let mut info = InfoClient::connect(url).await.unwrap();
    let resp = info.info(InfoRequest {}).await.unwrap().into_inner();
    assert_eq!(resp.component_type, "receive");
    assert_eq!(
        resp.label_sets[0].to_labels().unwrap().to_string(),
        r#"{replica="a"}"#
    );
    let store_info = resp.store.unwrap();
    assert_eq!(
        (store_info.min_time, store_info.max_time),
        (i64::MIN, i64::MAX)
    );
    assert!(store_info.supports_without_replica_labels);
    assert!(resp.rules.is_none() && resp.exemplars.is_none());
}

#[tokio::test]
async fn writeable_store_over_loopback() {
    let writer = RecordingWriter::default();
    let got = Arc::clone(&writer.got);
    let router = Server::builder().add_service(WriteableStoreServer::new(writer));
    let (addr, _stop) = serve(router).await;
    let mut client = WriteableStoreClient::connect(format!("http://{addr}"))
        .await
        .unwrap();

    let req = WriteRequest {
        timeseries: vec![TimeSeries {
            labels: labels_to_proto(&the_series()),
            samples: vec![Sample {
                value: 1.5,
                timestamp: 1000,
            }],
            ..TimeSeries::default()
        }],
        tenant: "team-a".into(),
        replica: 2,
        ..WriteRequest::default()
    };
    client.remote_write(req.clone()).await.unwrap();
    assert_eq!(*got.lock().unwrap(), vec![req]);

    let status = client
        .remote_write(WriteRequest::default())
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    assert_eq!(status.message(), "missing tenant");
    assert_eq!(got.lock().unwrap().len(), 1);
}
