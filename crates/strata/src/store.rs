//! `strata store` (Thanos store gateway): serves the bucket's blocks over the Store API.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use strata_model::duration::parse_duration_ms;
use strata_store::{GatewayOptions, SeriesLimits, ServerOptions, StoreGateway};
use tracing::info;

use crate::cli::StoreArgs;

pub fn run(args: StoreArgs) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    rt.block_on(serve(args))
}

/// `2GB`, `512MiB`, `1048576`: Thanos' byte sizes (decimal and binary units).
pub fn parse_bytes(s: &str) -> anyhow::Result<u64> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num
        .parse()
        .with_context(|| format!("invalid byte size {s:?}"))?;
    let mult: f64 = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 1.0,
        "KB" => 1e3,
        "MB" => 1e6,
        "GB" => 1e9,
        "TB" => 1e12,
        "KIB" => 1024.0,
        "MIB" => 1024.0 * 1024.0,
        "GIB" => 1024.0 * 1024.0 * 1024.0,
        "TIB" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        other => anyhow::bail!("invalid byte size {s:?}: unknown unit {other:?}"),
    };
    Ok((n * mult) as u64)
}

fn duration(flag: &str, v: &str) -> anyhow::Result<Duration> {
    let ms = parse_duration_ms(v).with_context(|| flag.to_string())?;
    Ok(Duration::from_millis(ms.max(0) as u64))
}

async fn ready(State(ok): State<Arc<AtomicBool>>) -> (StatusCode, &'static str) {
    if ok.load(Ordering::Relaxed) {
        (StatusCode::OK, "Strata store is Ready.\n")
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "Strata store is not ready.\n",
        )
    }
}

async fn serve(args: StoreArgs) -> anyhow::Result<()> {
    let bucket = crate::ship::bucket_from_flags(
        args.objstore_config_file.as_deref(),
        args.objstore_config.as_deref(),
    )?
    .context("strata store needs --objstore.config-file or --objstore.config")?;
    let sync = duration("--sync-block-duration", &args.sync_block_duration)?;
    anyhow::ensure!(!sync.is_zero(), "--sync-block-duration must be positive");
    parse_bytes(&args.index_cache_size).context("--index-cache-size")?;
    let gopts = GatewayOptions {
        sync_interval: sync,
        chunk_cache_bytes: parse_bytes(&args.chunk_pool_size).context("--chunk-pool-size")?,
        block_sync_concurrency: args.block_sync_concurrency.max(1),
        ignore_deletion_marks_delay: duration(
            "--ignore-deletion-marks-delay",
            &args.ignore_deletion_marks_delay,
        )?,
    };
    let gw = Arc::new(StoreGateway::new(bucket, &args.data_dir, gopts)?);
    let grpc = tokio::net::TcpListener::bind(args.grpc_address)
        .await
        .with_context(|| format!("listening on {}", args.grpc_address))?;
    let http = tokio::net::TcpListener::bind(args.http_address)
        .await
        .with_context(|| format!("listening on {}", args.http_address))?;
    let ready_flag = Arc::new(AtomicBool::new(false));
    let http_app = Router::new()
        .route("/-/ready", get(ready))
        .route("/-/healthy", get(|| async { "Strata store is Healthy.\n" }))
        .with_state(ready_flag.clone());
    info!(grpc_address = %grpc.local_addr()?, http_address = %http.local_addr()?, "strata store: starting");
    let http_task = tokio::spawn(async move { axum::serve(http, http_app).await });
    let started = std::time::Instant::now();
    let stats = gw.sync().await?;
    info!(
        blocks = stats.blocks,
        failed = stats.failed,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "initial sync done"
    );
    ready_flag.store(true, Ordering::Relaxed);
    let sync_task = gw.spawn_sync_loop();
    let opts = ServerOptions {
        limits: SeriesLimits {
            max_series: args.series_limit,
            max_samples: args.series_sample_limit,
            max_chunk_bytes: args.bytes_limit,
        },
        max_concurrency: args.series_max_concurrency,
        component: "store".into(),
    };
    strata_store::grpc_router(gw, &opts)
        .serve_with_incoming_shutdown(
            crate::grpc_listener::incoming(grpc),
            crate::up::shutdown_signal(),
        )
        .await?;
    sync_task.abort();
    http_task.abort();
    info!("strata store: stopped");
    Ok(())
}
