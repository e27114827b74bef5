//! The gRPC calls to one store, each bounded by the store timeout and carrying the
//! tenant in the `thanos-tenant` metadata (Thanos forwards it under that key whatever
//! the HTTP header was). Errors are messages naming the store, in Thanos' wording.

use std::time::Duration;

use strata_proto::storepb::store_client::StoreClient;
use strata_proto::storepb::{
    LabelNamesRequest, LabelValuesRequest, Series, SeriesRequest, series_response,
};
use tonic::metadata::MetadataValue;

use crate::endpoints::StoreTarget;

/// gRPC metadata key of the tenant.
pub const TENANT_METADATA_KEY: &str = "thanos-tenant";

/// What one store answered to a Series call.
pub(crate) struct StoreSeries {
    pub series: Vec<Series>,
    pub warnings: Vec<String>,
}

fn request<T>(msg: T, tenant: &str, timeout: Duration) -> Result<tonic::Request<T>, String> {
    let mut r = tonic::Request::new(msg);
    let v = MetadataValue::try_from(tenant)
        .map_err(|_| format!("tenant {tenant:?} cannot be sent as gRPC metadata"))?;
    r.metadata_mut().insert(TENANT_METADATA_KEY, v);
    r.set_timeout(timeout);
    Ok(r)
}

fn client(store: &StoreTarget) -> StoreClient<tonic::transport::Channel> {
    StoreClient::new(store.channel.clone()).max_decoding_message_size(usize::MAX)
}

fn rpc_error(what: &str, store: &StoreTarget, s: &tonic::Status) -> String {
    format!(
        "fetch {what} from store {}: rpc error: code = {:?} desc = {}",
        store.describe(),
        s.code(),
        s.message()
    )
}

fn timed_out(what: &str, store: &StoreTarget, timeout: Duration) -> String {
    format!(
        "fetch {what} from store {}: no complete answer within {}ms",
        store.describe(),
        timeout.as_millis()
    )
}

/// Streams a Series call to the end.
pub(crate) async fn series(
    store: StoreTarget,
    req: SeriesRequest,
    tenant: String,
    timeout: Duration,
) -> Result<StoreSeries, String> {
    let call = async {
        let r = request(req, &tenant, timeout)?;
        let mut stream = client(&store)
            .series(r)
            .await
            .map_err(|s| rpc_error("series", &store, &s))?
            .into_inner();
        let mut out = StoreSeries {
            series: Vec::new(),
            warnings: Vec::new(),
        };
        while let Some(msg) = stream
            .message()
            .await
            .map_err(|s| rpc_error("series", &store, &s))?
        {
            match msg.result {
                Some(series_response::Result::Series(s)) => out.series.push(s),
                Some(series_response::Result::Batch(b)) => out.series.extend(b.series),
                Some(series_response::Result::Warning(w)) => out.warnings.push(w),
                Some(series_response::Result::Hints(_)) | None => {}
            }
        }
        Ok(out)
    };
    tokio::time::timeout(timeout, call)
        .await
        .map_err(|_| timed_out("series", &store, timeout))?
}

/// A LabelNames call: names and the store's warnings.
pub(crate) async fn label_names(
    store: StoreTarget,
    req: LabelNamesRequest,
    tenant: String,
    timeout: Duration,
) -> Result<(Vec<String>, Vec<String>), String> {
    let call = async {
        let r = request(req, &tenant, timeout)?;
        let resp = client(&store)
            .label_names(r)
            .await
            .map_err(|s| rpc_error("label names", &store, &s))?
            .into_inner();
        Ok((resp.names, resp.warnings))
    };
    tokio::time::timeout(timeout, call)
        .await
        .map_err(|_| timed_out("label names", &store, timeout))?
}

/// A LabelValues call: values and the store's warnings.
pub(crate) async fn label_values(
    store: StoreTarget,
    req: LabelValuesRequest,
    tenant: String,
    timeout: Duration,
) -> Result<(Vec<String>, Vec<String>), String> {
    let call = async {
        let r = request(req, &tenant, timeout)?;
        let resp = client(&store)
            .label_values(r)
            .await
            .map_err(|s| rpc_error("label values", &store, &s))?
            .into_inner();
        Ok((resp.values, resp.warnings))
    };
    tokio::time::timeout(timeout, call)
        .await
        .map_err(|_| timed_out("label values", &store, timeout))?
}
