//! Measures the store gateway's start time and memory over a bucket of many small
//! blocks.
//!
//! ```text
//! cargo run --release -p strata-store --example gateway_startup -- [BLOCKS] [SERIES]
//! ```
//!
//! A child process writes `BLOCKS` blocks (default 60) of `SERIES` series (default 200)
//! with 240 samples each into a filesystem bucket under a temporary directory; this
//! process then starts a gateway on it twice (cold: indexes downloaded; warm: found in
//! the cache directory), queries every block over loopback gRPC, and prints timings and
//! its resident memory.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)]

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use strata_model::Labels;
use strata_objstore::Bucket;
use strata_objstore::block::upload_block;
use strata_objstore::thanos_meta::ThanosSection;
use strata_proto::storepb::store_client::StoreClient;
use strata_proto::storepb::{SeriesRequest, matchers_to_proto, series_response};
use strata_store::{GatewayOptions, ServerOptions, StoreGateway, grpc_router};
use strata_tsdb::{Db, DbOptions};

const T0: i64 = 1_700_000_000_000;
const HOUR: i64 = 3_600_000;

fn rss() -> String {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .filter(|l| l.starts_with("VmRSS") || l.starts_with("VmHWM"))
        .map(|l| l.split_whitespace().skip(1).collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join(" / peak ")
}

fn dir_size(p: &Path) -> u64 {
    let mut n = 0;
    for e in std::fs::read_dir(p).unwrap().flatten() {
        let m = e.metadata().unwrap();
        n += if m.is_dir() {
            dir_size(&e.path())
        } else {
            m.len()
        };
    }
    n
}

async fn generate(root: &Path, blocks: usize, series: usize) {
    let bucket = Bucket::filesystem(&root.join("bucket")).unwrap();
    for b in 0..blocks {
        let dir = root.join(format!("tsdb-{b}"));
        let db = Db::open(&dir, DbOptions::default()).unwrap();
        let start = T0 + b as i64 * 2 * HOUR;
        let mut app = db.appender();
        for s in 0..series {
            let l = Labels::new(&[
                ("__name__", format!("metric_{}", s % 10).as_str()),
                ("instance", format!("host-{s}").as_str()),
                ("job", "bench"),
            ])
            .unwrap();
            for i in 0..240 {
                app.append(&l, start + i * 15_000, (s * 1000 + i as usize) as f64)
                    .unwrap();
            }
        }
        app.commit().unwrap();
        let meta = db.flush().unwrap().pop().unwrap();
        drop(db);
        let t = ThanosSection {
            labels: [
                ("cluster".to_owned(), format!("c{}", b % 3)),
                ("replica".to_owned(), "0".to_owned()),
            ]
            .into(),
            source: "test".into(),
            ..ThanosSection::default()
        };
        upload_block(&bucket, &dir.join(&meta.ulid), &t)
            .await
            .unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

async fn start(bucket: &Bucket, cache: &Path) -> (Arc<StoreGateway>, f64) {
    let t = Instant::now();
    let gw = StoreGateway::new(bucket.clone(), cache, GatewayOptions::default()).unwrap();
    let st = gw.sync().await.unwrap();
    let secs = t.elapsed().as_secs_f64();
    assert_eq!(st.failed, 0);
    (Arc::new(gw), secs)
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--generate") {
        let n: usize = args[3].parse().unwrap();
        let s: usize = args[4].parse().unwrap();
        generate(Path::new(&args[2]), n, s).await;
        return;
    }
    let blocks: usize = args.get(1).map_or(60, |a| a.parse().unwrap());
    let series: usize = args.get(2).map_or(200, |a| a.parse().unwrap());
    let tmp = tempfile::tempdir().unwrap();
    let t = Instant::now();
    let ok = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--generate", &tmp.path().display().to_string()])
        .args([blocks.to_string(), series.to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "generating blocks failed");
    let bucket_dir = tmp.path().join("bucket");
    eprintln!(
        "generated {blocks} blocks x {series} series x 240 samples in {:.1}s; bucket {:.1} MiB",
        t.elapsed().as_secs_f64(),
        dir_size(&bucket_dir) as f64 / 1048576.0
    );
    let bucket = Bucket::filesystem(&bucket_dir).unwrap();
    let cache = tmp.path().join("cache");
    eprintln!("before start: RSS {}", rss());

    let (gw, cold) = start(&bucket, &cache).await;
    eprintln!(
        "cold start (indexes downloaded): {:.3}s for {} blocks; cache dir {:.1} MiB; RSS {}",
        cold,
        gw.blocks().len(),
        dir_size(&cache) as f64 / 1048576.0,
        rss()
    );
    drop(gw);
    let (gw, warm) = start(&bucket, &cache).await;
    eprintln!("warm start (indexes cached): {warm:.3}s; RSS {}", rss());

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(
        grpc_router(gw.clone(), &ServerOptions::default())
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
    );
    let mut c = StoreClient::connect(format!("http://{addr}"))
        .await
        .unwrap();
    for (what, sel) in [
        ("one metric, all blocks", r#"{__name__="metric_3"}"#),
        ("everything", r#"{job="bench"}"#),
    ] {
        let t = Instant::now();
        let r = SeriesRequest {
            min_time: 0,
            max_time: i64::MAX,
            matchers: matchers_to_proto(&strata_model::matcher::parse_selector(sel).unwrap()),
            ..SeriesRequest::default()
        };
        let mut stream = c.series(r).await.unwrap().into_inner();
        let (mut n, mut chunks) = (0, 0);
        while let Some(m) = stream.message().await.unwrap() {
            if let Some(series_response::Result::Series(s)) = m.result {
                n += 1;
                chunks += s.chunks.len();
            }
        }
        eprintln!(
            "query {what}: {n} series, {chunks} chunks in {:.3}s; RSS {}; cache {:?}",
            t.elapsed().as_secs_f64(),
            rss(),
            gw.cache_stats()
        );
    }
}
