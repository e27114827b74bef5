//! The tonic services: `thanos.Store` ([`StoreService`]) and `thanos.info.Info`
//! ([`InfoService`]) over any [`SeriesSource`], and [`grpc_router`] with both.

use std::pin::Pin;
use std::sync::Arc;

use futures::Stream;
use prost_types::Any;
use strata_model::Matcher;
use strata_proto::hintspb::{
    Block, LabelNamesRequestHints, LabelNamesResponseHints, LabelValuesRequestHints,
    LabelValuesResponseHints, SeriesRequestHints,
};
use strata_proto::infopb::info_server::{Info, InfoServer};
use strata_proto::infopb::{InfoRequest, InfoResponse, StoreInfo};
use strata_proto::labelpb::ZLabelSet;
use strata_proto::storepb::store_server::{Store, StoreServer};
use strata_proto::storepb::{
    LabelMatcher, LabelNamesRequest, LabelNamesResponse, LabelValuesRequest, LabelValuesResponse,
    SeriesRequest, SeriesResponse, matchers_from_proto,
};
use tokio::sync::{Semaphore, mpsc};
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::Server;
use tonic::transport::server::Router;
use tonic::{Request, Response, Status};
use tracing::debug;

use crate::error::{Error, Result};
use crate::limits::SeriesLimits;
use crate::source::{LabelQuery, SeriesQuery, SeriesSource};
use crate::stream::{StreamParams, produce};

/// Messages buffered between the pipeline and the gRPC stream of one `Series` call.
const CHANNEL_MESSAGES: usize = 256;

/// Options of a Store API server.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// Per-request limits of `Series`.
    pub limits: SeriesLimits,
    /// Concurrent `Series` calls; more wait their turn (Thanos'
    /// `--store.grpc.series-max-concurrency`, default 20). 0 means unlimited.
    pub max_concurrency: usize,
    /// `ComponentType` of the Info API: `store`, `receive`, `sidecar`, `rule`, ...
    pub component: String,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            limits: SeriesLimits::default(),
            max_concurrency: 20,
            component: "store".into(),
        }
    }
}

/// The `thanos.Store` service over a source.
pub struct StoreService<S: SeriesSource> {
    source: Arc<S>,
    limits: SeriesLimits,
    gate: Option<Arc<Semaphore>>,
}

impl<S: SeriesSource> StoreService<S> {
    pub fn new(source: Arc<S>, opts: &ServerOptions) -> Self {
        StoreService {
            source,
            limits: opts.limits,
            gate: (opts.max_concurrency > 0)
                .then(|| Arc::new(Semaphore::new(opts.max_concurrency))),
        }
    }

    /// The tonic service.
    pub fn into_server(self) -> StoreServer<Self> {
        StoreServer::new(self)
    }
}

/// A server with the Store and Info services over `source`; serve it with
/// `serve_with_incoming_shutdown` (or add more services first).
pub fn grpc_router<S: SeriesSource>(source: Arc<S>, opts: &ServerOptions) -> Router {
    Server::builder()
        .add_service(StoreService::new(source.clone(), opts).into_server())
        .add_service(InfoService::new(source, &opts.component).into_server())
}

fn unpack<M: prost::Name + Default>(any: Option<&Any>, what: &str) -> Result<Option<M>> {
    any.map(|a| {
        a.to_msg::<M>()
            .map_err(|e| Error::InvalidArgument(format!("unmarshal {what} request hints: {e}")))
    })
    .transpose()
}

fn block_matchers(ms: Option<&[LabelMatcher]>) -> Result<Vec<Matcher>> {
    Ok(matchers_from_proto(ms.unwrap_or_default())?)
}

/// Parses a `SeriesRequest` into the query and the pipeline parameters.
pub(crate) fn parse_series_request(
    req: &SeriesRequest,
    limits: SeriesLimits,
) -> Result<(SeriesQuery, StreamParams)> {
    let hints: Option<SeriesRequestHints> = unpack(req.hints.as_ref(), "series")?;
    let q = SeriesQuery {
        min_time: req.min_time,
        max_time: req.max_time,
        matchers: matchers_from_proto(&req.matchers)?,
        skip_chunks: req.skip_chunks,
        without_replica_labels: req.without_replica_labels.clone(),
        block_matchers: block_matchers(hints.as_ref().map(|h| h.block_matchers.as_slice()))?,
    };
    let p = StreamParams {
        limit: usize::try_from(req.limit.max(0)).unwrap_or(usize::MAX),
        batch_size: usize::try_from(req.response_batch_size.max(0)).unwrap_or(usize::MAX),
        limits,
    };
    Ok((q, p))
}

fn truncate(mut v: Vec<String>, limit: i64) -> Vec<String> {
    if let Ok(n) = usize::try_from(limit)
        && n > 0
    {
        v.truncate(n);
    }
    v
}

fn blocks_any<M: prost::Name>(
    blocks: Option<Vec<String>>,
    make: impl FnOnce(Vec<Block>) -> M,
) -> Result<Option<Any>> {
    blocks
        .map(|b| {
            Any::from_msg(&make(b.into_iter().map(|id| Block { id }).collect()))
                .map_err(|e| Error::Internal(format!("encoding hints: {e}")))
        })
        .transpose()
}

type SeriesStream = Pin<Box<dyn Stream<Item = std::result::Result<SeriesResponse, Status>> + Send>>;

#[tonic::async_trait]
impl<S: SeriesSource> Store for StoreService<S> {
    type SeriesStream = SeriesStream;

    async fn series(
        &self,
        request: Request<SeriesRequest>,
    ) -> std::result::Result<Response<Self::SeriesStream>, Status> {
        let req = request.into_inner();
        let (q, p) = parse_series_request(&req, self.limits).map_err(|e| e.to_status())?;
        debug!(matchers = ?req.matchers, min_time = q.min_time, max_time = q.max_time, skip_chunks = q.skip_chunks, "series request");
        let permit = match &self.gate {
            Some(g) => Some(
                g.clone()
                    .acquire_owned()
                    .await
                    .map_err(|_| Status::unavailable("store is shutting down"))?,
            ),
            None => None,
        };
        let (tx, rx) = mpsc::channel(CHANNEL_MESSAGES);
        let source = self.source.clone();
        tokio::spawn(async move {
            let _permit = permit;
            if q.min_time <= q.max_time {
                produce(source, Arc::new(q), p, tx).await;
            }
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }

    async fn label_names(
        &self,
        request: Request<LabelNamesRequest>,
    ) -> std::result::Result<Response<LabelNamesResponse>, Status> {
        let req = request.into_inner();
        let run = async {
            let hints: Option<LabelNamesRequestHints> = unpack(req.hints.as_ref(), "label names")?;
            let q = LabelQuery {
                start: req.start,
                end: req.end,
                matchers: matchers_from_proto(&req.matchers)?,
                without_replica_labels: req.without_replica_labels.clone(),
                block_matchers: block_matchers(
                    hints.as_ref().map(|h| h.block_matchers.as_slice()),
                )?,
            };
            let ans = self.source.label_names(Arc::new(q)).await?;
            let hints = blocks_any(ans.queried_blocks, |queried_blocks| {
                LabelNamesResponseHints { queried_blocks }
            })?;
            Ok::<_, Error>(LabelNamesResponse {
                names: truncate(ans.values, req.limit),
                warnings: Vec::new(),
                hints,
            })
        };
        run.await.map(Response::new).map_err(|e| e.to_status())
    }

    async fn label_values(
        &self,
        request: Request<LabelValuesRequest>,
    ) -> std::result::Result<Response<LabelValuesResponse>, Status> {
        let req = request.into_inner();
        if req.label.is_empty() {
            return Err(Status::invalid_argument(
                "label name parameter cannot be empty",
            ));
        }
        if req.without_replica_labels.contains(&req.label) {
            return Ok(Response::new(LabelValuesResponse::default()));
        }
        let run = async {
            let hints: Option<LabelValuesRequestHints> =
                unpack(req.hints.as_ref(), "label values")?;
            let q = LabelQuery {
                start: req.start,
                end: req.end,
                matchers: matchers_from_proto(&req.matchers)?,
                without_replica_labels: req.without_replica_labels.clone(),
                block_matchers: block_matchers(
                    hints.as_ref().map(|h| h.block_matchers.as_slice()),
                )?,
            };
            let ans = self
                .source
                .label_values(req.label.clone(), Arc::new(q))
                .await?;
            let hints = blocks_any(ans.queried_blocks, |queried_blocks| {
                LabelValuesResponseHints { queried_blocks }
            })?;
            Ok::<_, Error>(LabelValuesResponse {
                values: truncate(ans.values, req.limit),
                warnings: Vec::new(),
                hints,
            })
        };
        run.await.map(Response::new).map_err(|e| e.to_status())
    }
}

/// The `thanos.info.Info` service over a source: its label sets, time range and the
/// Store API's capabilities.
pub struct InfoService<S: SeriesSource> {
    source: Arc<S>,
    component: String,
}

impl<S: SeriesSource> InfoService<S> {
    pub fn new(source: Arc<S>, component: &str) -> Self {
        InfoService {
            source,
            component: component.to_owned(),
        }
    }

    /// The tonic service.
    pub fn into_server(self) -> InfoServer<Self> {
        InfoServer::new(self)
    }

    /// The response the Info API gives now.
    pub fn info(&self) -> InfoResponse {
        let info = self.source.info();
        InfoResponse {
            label_sets: info.label_sets.iter().map(ZLabelSet::from).collect(),
            component_type: self.component.clone(),
            store: Some(StoreInfo {
                min_time: info.min_time,
                max_time: info.max_time,
                supports_sharding: false,
                supports_without_replica_labels: true,
                tsdb_infos: info
                    .tsdb_infos
                    .iter()
                    .map(|t| strata_proto::infopb::TsdbInfo {
                        labels: Some(ZLabelSet::from(&t.labels)),
                        min_time: t.min_time,
                        max_time: t.max_time,
                    })
                    .collect(),
                supports_projections: false,
            }),
            ..InfoResponse::default()
        }
    }
}

#[tonic::async_trait]
impl<S: SeriesSource> Info for InfoService<S> {
    async fn info(
        &self,
        _request: Request<InfoRequest>,
    ) -> std::result::Result<Response<InfoResponse>, Status> {
        Ok(Response::new(InfoService::info(self)))
    }
}
