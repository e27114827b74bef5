//! Test support: writing and uploading blocks, serving a source over loopback gRPC, and
//! reading a Series stream back into labels and samples.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use strata_model::{Labels, Matcher};
use strata_objstore::Bucket;
use strata_objstore::block::upload_block;
use strata_objstore::thanos_meta::ThanosSection;
use strata_proto::hintspb::SeriesResponseHints;
use strata_proto::infopb::info_client::InfoClient;
use strata_proto::labelpb::labels_from_proto;
use strata_proto::storepb::store_client::StoreClient;
use strata_proto::storepb::{Series, SeriesRequest, matchers_to_proto, series_response};
use strata_store::chunks::disk_encoding;
use strata_store::{SeriesSource, ServerOptions, grpc_router};
use strata_tsdb::chunkenc::{ENC_XOR, XorIter};
use strata_tsdb::{Db, DbOptions};
use tokio::sync::oneshot;
use tonic::transport::Channel;

pub type Samples = Vec<(i64, f64)>;

pub fn labels(pairs: &[(&str, &str)]) -> Labels {
    Labels::new(pairs).unwrap()
}

/// The matchers of a selector; `{}` is none.
pub fn sel(s: &str) -> Vec<Matcher> {
    if s == "{}" {
        return Vec::new();
    }
    strata_model::matcher::parse_selector(s).unwrap()
}

/// `n` samples every `step` ms from `start`, values derived from `seed`.
pub fn samples(start: i64, step: i64, n: i64, seed: f64) -> Samples {
    (0..n)
        .map(|i| (start + i * step, seed * 1000.0 + i as f64 * 0.5))
        .collect()
}

/// Writes `series` into a fresh TSDB under `root` and flushes them into one block;
/// returns the block directory.
pub fn write_block(root: &Path, series: &[(Labels, Samples)]) -> PathBuf {
    let dir = tempfile::tempdir_in(root).unwrap().keep();
    let db = Db::open(&dir, DbOptions::default()).unwrap();
    let mut app = db.appender();
    for (l, ss) in series {
        for &(t, v) in ss {
            app.append(l, t, v).unwrap();
        }
    }
    let out = app.commit().unwrap();
    assert!(out.rejected.is_empty(), "{:?}", out.rejected);
    let metas = db.flush().unwrap();
    assert_eq!(metas.len(), 1, "one block expected");
    dir.join(&metas[0].ulid)
}

/// Uploads a block with external labels `ext`; returns its ULID.
pub async fn upload(bucket: &Bucket, block: &Path, ext: &[(&str, &str)]) -> String {
    let t = ThanosSection {
        labels: ext
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect(),
        source: "test".into(),
        ..ThanosSection::default()
    };
    upload_block(bucket, block, &t).await.unwrap().meta.ulid
}

/// A source served on an ephemeral loopback port until dropped.
pub struct Served {
    pub addr: SocketAddr,
    _stop: oneshot::Sender<()>,
}

impl Served {
    pub async fn store(&self) -> StoreClient<Channel> {
        StoreClient::connect(format!("http://{}", self.addr))
            .await
            .unwrap()
    }
    pub async fn info(&self) -> InfoClient<Channel> {
        InfoClient::connect(format!("http://{}", self.addr))
            .await
            .unwrap()
    }
}

pub async fn serve<S: SeriesSource>(source: Arc<S>, opts: ServerOptions) -> Served {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let router = grpc_router(source, &opts);
    tokio::spawn(router.serve_with_incoming_shutdown(
        tokio_stream::wrappers::TcpListenerStream::new(listener),
        async {
            let _ = stopped.await;
        },
    ));
    Served { addr, _stop: stop }
}

/// A request over `[min, max]` with the matchers of selector `s`.
pub fn req(s: &str, min: i64, max: i64) -> SeriesRequest {
    SeriesRequest {
        min_time: min,
        max_time: max,
        matchers: matchers_to_proto(&sel(s)),
        ..SeriesRequest::default()
    }
}

/// What a Series stream returned.
#[derive(Debug, Default)]
pub struct Got {
    pub series: Vec<Series>,
    /// Number of messages that carried series (single or batched).
    pub messages: usize,
    pub batches: usize,
    pub hints: Option<SeriesResponseHints>,
}

impl Got {
    pub fn labels(&self) -> Vec<Labels> {
        self.series.iter().map(series_labels).collect()
    }
    /// Labels and decoded samples of each series, in stream order.
    pub fn decoded(&self) -> Vec<(Labels, Samples)> {
        self.series
            .iter()
            .map(|s| (series_labels(s), decode(s)))
            .collect()
    }
}

pub async fn series(c: &mut StoreClient<Channel>, r: SeriesRequest) -> Result<Got, tonic::Status> {
    let mut stream = c.series(r).await?.into_inner();
    let mut got = Got::default();
    while let Some(msg) = stream.message().await? {
        match msg.result.unwrap() {
            series_response::Result::Series(s) => {
                got.messages += 1;
                got.series.push(s);
            }
            series_response::Result::Batch(b) => {
                got.messages += 1;
                got.batches += 1;
                got.series.extend(b.series);
            }
            series_response::Result::Hints(h) => got.hints = Some(h.to_msg().unwrap()),
            series_response::Result::Warning(w) => panic!("unexpected warning {w}"),
        }
    }
    Ok(got)
}

pub fn series_labels(s: &Series) -> Labels {
    labels_from_proto(&s.labels).unwrap()
}

/// Decodes every (XOR) chunk of `s` in order; checks each chunk's announced range.
pub fn decode(s: &Series) -> Samples {
    let mut out = Vec::new();
    for c in &s.chunks {
        let raw = c.raw.as_ref().unwrap();
        assert_eq!(disk_encoding(raw), ENC_XOR);
        let got = XorIter::new(&raw.data[..]).collect_all().unwrap();
        assert_eq!(got.first().unwrap().0, c.min_time);
        assert_eq!(got.last().unwrap().0, c.max_time);
        out.extend(got);
    }
    out
}
