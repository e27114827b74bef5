//! `strata up`: the single-process deployment. It runs the TSDB (head, WAL, compaction,
//! retention), serves the Prometheus HTTP API (PromQL, series, labels, status), remote
//! write and self-metrics on `--http-address`, and scrapes its own metrics into the
//! TSDB; later components (shipping, store, fan-out) join it here.

mod selfmetrics;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use strata_model::duration::parse_duration_ms;
use strata_model::storage::Queryable;
use strata_tsdb::Db;
use tracing::{error, info, warn};

use crate::cli::UpArgs;

pub(crate) struct AppState {
    /// The default tenant's TSDB: the self-scrape writes here.
    pub db: Arc<Db>,
    pub receiver: Arc<strata_receive::Receiver>,
    pub instance: String,
    pub samples_appended: AtomicU64,
    pub start_time: f64,
}

pub fn run(args: UpArgs) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    rt.block_on(serve(args))
}

async fn serve(args: UpArgs) -> anyhow::Result<()> {
    let opts = crate::receive::db_options(&args.tsdb)?;
    let scrape_ms = parse_duration_ms(&args.scrape_interval)?;
    // 0 disables the self-scrape (e.g. when backfilling data older than the head window).
    let scrape_every = (scrape_ms > 0).then(|| Duration::from_millis(scrape_ms.max(1000) as u64));
    let tsdb_dir = args.data_dir.join("tsdb");
    let receiver = crate::receive::open_receiver(&args.receive, &tsdb_dir, opts).await?;
    let db = receiver
        .tsdb
        .tenant(&receiver.opts.tenants.default_tenant)?
        .db
        .clone();
    let listener = tokio::net::TcpListener::bind(args.http_address)
        .await
        .with_context(|| format!("listening on {}", args.http_address))?;
    let local = listener.local_addr()?;
    let state = Arc::new(AppState {
        db: db.clone(),
        receiver: receiver.clone(),
        instance: local.to_string(),
        samples_appended: AtomicU64::new(0),
        start_time: selfmetrics::now_seconds(),
    });
    // Finished blocks go to the bucket: the configured one, else a filesystem bucket
    // beside the TSDBs.
    let bucket = match crate::ship::bucket_from_flags(
        args.receive.objstore_config_file.as_deref(),
        args.receive.objstore_config.as_deref(),
    )? {
        Some(b) => b,
        None => strata_objstore::Bucket::filesystem(&args.data_dir.join("bucket"))
            .context("creating the local filesystem bucket")?,
    };
    // Older data than the local TSDBs hold is read from the bucket through an in-process
    // store gateway, over the Store API on an internal loopback port.
    let (long_term, gw_tasks) = long_term_store(&args, bucket.clone()).await?;
    let api = strata_api::router(api_state(&args, &receiver, db.clone(), long_term));
    let app = Router::new()
        .route("/metrics", get(metrics))
        .route("/api/v1/admin/tsdb/flush", post(flush))
        .with_state(state.clone())
        .merge(strata_receive::http::routes(receiver.clone()))
        .merge(api);
    info!(address = %local, data_dir = %args.data_dir.display(), "strata up: serving");

    let mut bg = gw_tasks;
    bg.extend([
        tokio::spawn(background(state.clone(), scrape_every)),
        tokio::spawn(crate::receive::maintain(receiver.clone())),
    ]);
    let ship_every = parse_duration_ms(&args.receive.shipper_interval)?.max(1000) as u64;
    bg.push(tokio::spawn(crate::ship::ship_loop(
        receiver.clone(),
        bucket,
        Duration::from_millis(ship_every),
    )));
    if let Some(p) = &args.receive.limits_file {
        bg.push(tokio::spawn(crate::receive::watch_limits(
            receiver.clone(),
            p.clone(),
            Duration::from_secs(5),
        )));
    }
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    for t in bg {
        t.abort();
    }
    let r = receiver.clone();
    tokio::task::spawn_blocking(move || r.tsdb.sync_all()).await??;
    info!("strata up: stopped");
    Ok(())
}

/// The Prometheus HTTP API over the local TSDB.
/// The store gateway over the bucket, served on an internal loopback port and read
/// through the Store API client, as `strata store` + `strata query` would.
async fn long_term_store(
    args: &UpArgs,
    bucket: strata_objstore::Bucket,
) -> anyhow::Result<(Arc<dyn Queryable>, Vec<tokio::task::JoinHandle<()>>)> {
    let gw = Arc::new(strata_store::StoreGateway::new(
        bucket,
        &args.data_dir.join("store-cache"),
        strata_store::GatewayOptions {
            sync_interval: Duration::from_secs(30),
            chunk_cache_bytes: 256 << 20,
            ignore_deletion_marks_delay: Duration::ZERO,
            ..strata_store::GatewayOptions::default()
        },
    )?);
    gw.sync().await?;
    let sync = gw.spawn_sync_loop();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let server = strata_store::grpc_router(gw, &strata_store::ServerOptions::default());
    let serve = tokio::spawn(async move {
        let incoming = crate::grpc_listener::incoming(listener);
        if let Err(e) = server.serve_with_incoming(incoming).await {
            error!(error = %e, "internal store gateway stopped");
        }
    });
    let set = strata_query::EndpointSet::new(&[addr.to_string()], &[], Duration::from_secs(10))?;
    set.refresh().await;
    let refresh = set.spawn_refresh();
    let proxy = strata_query::ProxyQueryable::new(set, strata_query::QueryOptions::default())?;
    Ok((Arc::new(proxy), vec![sync, serve, refresh]))
}

fn api_state(
    args: &UpArgs,
    receiver: &Arc<strata_receive::Receiver>,
    db: Arc<Db>,
    long_term: Arc<dyn Queryable>,
) -> strata_api::ApiState {
    let r = receiver.clone();
    let local_min: strata_query::tiered::LocalMin = Arc::new(move || {
        r.tsdb
            .tenants()
            .iter()
            .map(|t| strata_store::db_time_range(&t.db).0)
            .min()
            .unwrap_or(i64::MAX)
    });
    let storage = strata_query::TieredQueryable::new(
        Arc::new(crate::receive::queryable(receiver)),
        long_term,
        local_min,
    );
    let mut st = strata_api::ApiState::new(Arc::new(storage), strata_promql::Engine::default());
    st.build_info = strata_api::BuildInfo {
        version: env!("CARGO_PKG_VERSION").into(),
        revision: option_env!("STRATA_GIT_REVISION")
            .unwrap_or("unknown")
            .into(),
        branch: option_env!("STRATA_GIT_BRANCH").unwrap_or("unknown").into(),
        build_user: String::new(),
        build_date: String::new(),
        go_version: "rustc".into(),
    };
    st.flags = [
        ("http-address", args.http_address.to_string()),
        ("data-dir", args.data_dir.display().to_string()),
        ("tsdb.retention", args.tsdb.retention.clone()),
        ("tsdb.min-block-duration", args.tsdb.block_duration.clone()),
        (
            "tsdb.out-of-order.time-window",
            args.tsdb.ooo_window.clone(),
        ),
        ("tsdb.wal-fsync", args.tsdb.wal_fsync.to_string()),
        ("scrape-interval", args.scrape_interval.clone()),
        ("receive.tenant-header", args.receive.tenant_header.clone()),
        (
            "receive.default-tenant-id",
            args.receive.default_tenant.clone(),
        ),
        (
            "receive.tenant-label-name",
            args.receive.tenant_label.clone(),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    st.metadata = Arc::new(crate::receive::ReceiverMetadata(receiver.clone()));
    st.tsdb_status = Some(Arc::new(strata_api::HeadTsdbStatus::new(db.head().clone())));
    st
}

async fn metrics(State(st): State<Arc<AppState>>) -> impl IntoResponse {
    let mut body = selfmetrics::render(&selfmetrics::gather(&st));
    body.push_str(&crate::receive::render_metrics(&st.receiver));
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
}

/// Persists the whole head as blocks now (a Strata extension used by benchmarks and
/// before planned maintenance).
async fn flush(State(st): State<Arc<AppState>>) -> impl IntoResponse {
    let s = st.clone();
    match tokio::task::spawn_blocking(move || s.receiver.tsdb.flush_all()).await {
        Ok(Ok(blocks)) => {
            let ids: Vec<String> = blocks.iter().map(|(_, b)| b.ulid.clone()).collect();
            (
                StatusCode::OK,
                serde_json::json!({"status": "success", "data": {"blocks": ids}}).to_string(),
            )
        }
        Ok(Err(e)) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            serde_json::json!({"status": "error", "error": e.to_string()}).to_string(),
        ),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            serde_json::json!({"status": "error", "error": e.to_string()}).to_string(),
        ),
    }
}

/// Self-scrape loop.
async fn background(st: Arc<AppState>, scrape_every: Option<Duration>) {
    let mut tick = tokio::time::interval(scrape_every.unwrap_or(Duration::from_secs(15)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if scrape_every.is_some() {
            let s = st.clone();
            match tokio::task::spawn_blocking(move || selfmetrics::scrape_into_tsdb(&s)).await {
                Ok(Ok(n)) => {
                    st.samples_appended.fetch_add(n as u64, Ordering::Relaxed);
                }
                Ok(Err(e)) => warn!(error = %e, "self-scrape failed"),
                Err(e) => error!(error = %e, "self-scrape task failed"),
            }
        }
    }
}

pub(crate) async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    info!("shutting down");
}
