//! Forwarding between receivers over Thanos' `thanos.WriteableStore/RemoteWrite`: the
//! client side ([`GrpcPeers`], a [`PeerClient`]) and the server side
//! ([`WriteableService`]), so Strata receivers and Thanos receivers can share a ring.
//!
//! Status codes follow Thanos: samples rejected as out of order, duplicate or too old
//! are `AlreadyExists`, invalid data `InvalidArgument`, a tenant over its limits
//! `ResourceExhausted`, anything a retry can fix `Unavailable`.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;
use strata_model::Labels;
use strata_proto::labelpb::{Label, labels_to_proto};
use strata_proto::prompb::{Sample, TimeSeries};
use strata_proto::storepb::writeable_store_client::WriteableStoreClient;
use strata_proto::storepb::writeable_store_server::{WriteableStore, WriteableStoreServer};
use strata_proto::storepb::{WriteRequest, WriteResponse};
use tonic::transport::{Channel, Endpoint};
use tonic::{Code, Request, Response, Status};

use crate::error::Error;
use crate::forward_series::ForwardSeries;
use crate::local_write::series_labels;
use crate::receiver::Receiver;
use crate::replicate::{BoxFuture, ForwardRequest, PeerClient, PeerError};

/// The largest forwarded message accepted or sent.
pub const MAX_MESSAGE_BYTES: usize = 64 << 20;

fn to_proto(s: &ForwardSeries) -> TimeSeries {
    TimeSeries {
        labels: labels_to_proto(&s.labels),
        samples: s
            .samples
            .iter()
            .map(|&(t, v)| Sample {
                value: v,
                timestamp: t,
            })
            .collect(),
        histograms: s
            .histograms
            .iter()
            .map(crate::grpc_histogram::to_wire)
            .collect(),
        ..Default::default()
    }
}

fn from_proto(ts: TimeSeries) -> Result<ForwardSeries, Error> {
    let mut pairs: Vec<(&str, &str)> = ts
        .labels
        .iter()
        .map(|l: &Label| (l.name.as_str(), l.value.as_str()))
        .collect();
    let labels: Labels = series_labels(&mut pairs)?;
    let samples = ts.samples.iter().map(|s| (s.timestamp, s.value)).collect();
    let mut out = ForwardSeries::new(labels, samples);
    for h in &ts.histograms {
        out.histograms.push(crate::grpc_histogram::from_wire(h)?);
    }
    Ok(out)
}

/// gRPC clients to peer receivers, one lazily connected channel per endpoint.
#[derive(Default)]
pub struct GrpcPeers {
    channels: Mutex<HashMap<String, Channel>>,
}

impl GrpcPeers {
    pub fn new() -> Self {
        GrpcPeers::default()
    }

    fn channel(&self, endpoint: &str) -> Result<Channel, PeerError> {
        let mut map = self.channels.lock();
        if let Some(c) = map.get(endpoint) {
            return Ok(c.clone());
        }
        let uri = if endpoint.contains("://") {
            endpoint.to_owned()
        } else {
            format!("http://{endpoint}")
        };
        let ch = Endpoint::from_shared(uri)
            .map_err(|e| PeerError::Unavailable(format!("endpoint {endpoint:?}: {e}")))?
            .connect_timeout(std::time::Duration::from_secs(2))
            .tcp_nodelay(true)
            .connect_lazy();
        map.insert(endpoint.to_owned(), ch.clone());
        Ok(ch)
    }
}

impl PeerClient for GrpcPeers {
    fn write<'a>(
        &'a self,
        endpoint: &'a str,
        req: ForwardRequest,
    ) -> BoxFuture<'a, Result<(), PeerError>> {
        Box::pin(async move {
            let ch = self.channel(endpoint)?;
            let mut client = WriteableStoreClient::new(ch)
                .max_decoding_message_size(MAX_MESSAGE_BYTES)
                .max_encoding_message_size(MAX_MESSAGE_BYTES);
            let msg = WriteRequest {
                timeseries: req.series.iter().map(to_proto).collect(),
                tenant: req.tenant,
                replica: req.replica as i64,
                ..Default::default()
            };
            match client.remote_write(Request::new(msg)).await {
                Ok(_) => Ok(()),
                Err(s) => Err(match s.code() {
                    Code::AlreadyExists => PeerError::Conflict(s.message().to_owned()),
                    Code::InvalidArgument => PeerError::Invalid(s.message().to_owned()),
                    _ => PeerError::Unavailable(format!("{:?}: {}", s.code(), s.message())),
                }),
            }
        })
    }
}

/// The `thanos.WriteableStore` server over a receiver: forwarded batches are written
/// locally, never forwarded again.
pub struct WriteableService {
    recv: Arc<Receiver>,
}

impl WriteableService {
    pub fn new(recv: Arc<Receiver>) -> Self {
        WriteableService { recv }
    }

    /// The tonic service.
    pub fn into_server(self) -> WriteableStoreServer<Self> {
        WriteableStoreServer::new(self)
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_MESSAGE_BYTES)
    }
}

fn status(e: &Error) -> Status {
    let code = match e {
        Error::Conflict(_) => Code::AlreadyExists,
        Error::InvalidRequest(_) | Error::InvalidTenant { .. } => Code::InvalidArgument,
        Error::RequestTooLarge(_) | Error::TooManyRequests { .. } => Code::ResourceExhausted,
        _ => Code::Unavailable,
    };
    Status::new(code, e.to_string())
}

#[tonic::async_trait]
impl WriteableStore for WriteableService {
    async fn remote_write(
        &self,
        request: Request<WriteRequest>,
    ) -> Result<Response<WriteResponse>, Status> {
        let req = request.into_inner();
        let tenant = if req.tenant.is_empty() {
            self.recv.opts.tenants.default_tenant.clone()
        } else {
            req.tenant
        };
        let series = req
            .timeseries
            .into_iter()
            .map(from_proto)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| status(&e))?;
        let recv = self.recv.clone();
        let t = tenant.clone();
        let out = tokio::task::spawn_blocking(move || recv.write_series(&t, &series))
            .await
            .map_err(|e| Status::internal(format!("write task failed: {e}")))?
            .map_err(|e| status(&e))?;
        if let Some(first) = out.first_conflict {
            return Err(Status::already_exists(format!(
                "{} samples rejected; first: {first}",
                out.conflicts
            )));
        }
        Ok(Response::new(WriteResponse {}))
    }
}
