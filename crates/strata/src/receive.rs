//! `strata receive` (Thanos receive) and the receive wiring `strata up` shares: flags to
//! options, the limits-file reloader, and the servers.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use strata_model::Labels;
use strata_model::clock::system_clock;
use strata_model::duration::parse_duration_ms;
use strata_receive::grpc::{GrpcPeers, WriteableService};
use strata_receive::hashring::{self, Algorithm};
use strata_receive::limits::LimitsConfig;
use strata_receive::multitsdb::MultiTsdb;
use strata_receive::query::TenantsQueryable;
use strata_receive::receiver::Replication;
use strata_receive::replicate::ReplicationOptions;
use strata_receive::tenancy::TenantOptions;
use strata_receive::{Receiver, ReceiverOptions};
use strata_tsdb::wal::{SyncPolicy, WalOptions};
use strata_tsdb::{DbOptions, HeadOptions};
use tracing::{error, info, warn};

use crate::cli::{ReceiveArgs, ReceiveCommonArgs, TsdbFlags};

/// TSDB options from the Prometheus-style flags.
pub fn db_options(f: &TsdbFlags) -> anyhow::Result<DbOptions> {
    let (ooo, wal_fsync) = (&f.ooo_window, f.wal_fsync);
    let retention = parse_duration_ms(&f.retention)?;
    let block = parse_duration_ms(&f.block_duration)?;
    anyhow::ensure!(block > 0, "--tsdb.min-block-duration must be positive");
    Ok(DbOptions {
        head: HeadOptions {
            chunk_range: block,
            out_of_order_window: parse_duration_ms(ooo)?,
            ..HeadOptions::default()
        },
        wal: WalOptions {
            sync: if wal_fsync {
                SyncPolicy::Always
            } else {
                SyncPolicy::Never
            },
            ..WalOptions::default()
        },
        retention: (retention > 0).then_some(retention),
    })
}

/// Parses `--label` values: `name="value"` (Thanos' spelling) or `name=value`.
pub fn parse_labels(list: &[String]) -> anyhow::Result<Labels> {
    let mut pairs = Vec::with_capacity(list.len());
    for item in list {
        let (name, value) = item
            .split_once('=')
            .with_context(|| format!("--label {item:?}: expected name=\"value\""))?;
        let value = value.trim();
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(value);
        pairs.push((name.trim().to_owned(), value.to_owned()));
    }
    Labels::new(&pairs).map_err(|e| anyhow::anyhow!("--label: {e}"))
}

/// Receiver options from the shared flags.
pub fn receiver_options(c: &ReceiveCommonArgs) -> anyhow::Result<ReceiverOptions> {
    let idle = parse_duration_ms(&c.tenant_idle_timeout)?;
    Ok(ReceiverOptions {
        tenants: TenantOptions {
            header: c.tenant_header.clone(),
            default_tenant: c.default_tenant.clone(),
            label_name: c.tenant_label.clone(),
        },
        external_labels: parse_labels(&c.labels)?,
        tenant_idle_close_ms: idle,
        ..ReceiverOptions::default()
    })
}

/// Opens the tenants' TSDBs and builds the receiver; loads the limits file.
pub async fn open_receiver(
    c: &ReceiveCommonArgs,
    dir: &Path,
    opts: DbOptions,
) -> anyhow::Result<Arc<Receiver>> {
    open_receiver_with(c, dir, opts, None).await
}

/// [`open_receiver`] with hashring routing.
pub async fn open_receiver_with(
    c: &ReceiveCommonArgs,
    dir: &Path,
    opts: DbOptions,
    replication: Option<Replication>,
) -> anyhow::Result<Arc<Receiver>> {
    let ropts = receiver_options(c)?;
    let d = dir.to_owned();
    let tsdb = tokio::task::spawn_blocking(move || MultiTsdb::open(&d, opts, system_clock()))
        .await?
        .with_context(|| format!("opening tenant TSDBs in {}", dir.display()))?;
    let mut recv = Receiver::new(ropts, Arc::new(tsdb));
    if let Some(r) = replication {
        recv = recv.with_replication(r);
    }
    let recv = Arc::new(recv);
    if let Some(path) = &c.limits_file {
        recv.set_limits(LimitsConfig::load(path)?);
    }
    Ok(recv)
}

/// The tenants' data as one queryable store, with tenant and external labels.
pub fn queryable(recv: &Receiver) -> TenantsQueryable {
    TenantsQueryable::new(
        recv.tsdb.clone(),
        &recv.opts.tenants.label_name,
        recv.opts.external_labels.clone(),
    )
}

/// The Store API source over the receiver's tenants: one label set per tenant (tenant
/// label plus `--label`s), time range from the tenants' TSDBs.
pub fn store_source(recv: &Arc<Receiver>) -> strata_store::QueryableSource {
    let q = queryable(recv);
    let r1 = recv.clone();
    let r2 = recv.clone();
    strata_store::QueryableSource::new(Arc::new(q), Labels::empty())
        .with_label_sets(move || {
            let q = queryable(&r1);
            r1.tsdb
                .tenants()
                .iter()
                .map(|t| q.tenant_labels(&t.tenant))
                .collect()
        })
        .with_time_range(move || {
            r2.tsdb
                .tenants()
                .iter()
                .map(|t| strata_store::db_time_range(&t.db))
                .fold((i64::MAX, i64::MAX), |(a, b), (c, d)| {
                    (a.min(c), b.max(d).max(c))
                })
        })
}

/// Re-reads the limits file when its content changes; a bad file keeps the old limits.
pub async fn watch_limits(recv: Arc<Receiver>, path: PathBuf, every: Duration) {
    let mut last = std::fs::read(&path).ok();
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        let cur = std::fs::read(&path).ok();
        if cur == last {
            continue;
        }
        last = cur;
        match LimitsConfig::load(&path) {
            Ok(l) => {
                recv.set_limits(l);
                recv.metrics
                    .config_reload_ok
                    .store(1, std::sync::atomic::Ordering::Relaxed);
                info!(file = %path.display(), "reloaded limits");
            }
            Err(e) => {
                recv.metrics
                    .config_reload_ok
                    .store(0, std::sync::atomic::Ordering::Relaxed);
                warn!(file = %path.display(), error = %e, "limits file is invalid; keeping the previous limits");
            }
        }
    }
}

/// Compacts heads, applies retention and closes idle tenants every minute.
pub async fn maintain(recv: Arc<Receiver>) {
    let mut tick = tokio::time::interval(Duration::from_secs(60));
    tick.tick().await;
    loop {
        tick.tick().await;
        let r = recv.clone();
        let res = tokio::task::spawn_blocking(move || {
            for (tenant, res) in r.tsdb.compact_all() {
                match res {
                    Ok(b) if !b.is_empty() => info!(%tenant, blocks = b.len(), "compacted head"),
                    Ok(_) => {}
                    Err(e) => error!(%tenant, error = %e, "compaction failed"),
                }
            }
            r.tsdb.close_idle(r.opts.tenant_idle_close_ms);
        })
        .await;
        if let Err(e) = res {
            error!(error = %e, "maintenance task failed");
        }
    }
}

/// Metadata received with remote write, for `/api/v1/metadata`.
pub struct ReceiverMetadata(pub Arc<Receiver>);

impl strata_api::MetadataProvider for ReceiverMetadata {
    fn metadata(
        &self,
        metric: Option<&str>,
        limit: Option<usize>,
        limit_per_metric: Option<usize>,
    ) -> Result<
        std::collections::BTreeMap<String, Vec<strata_api::MetricMetadata>>,
        strata_api::ApiError,
    > {
        let mut out = std::collections::BTreeMap::new();
        for (family, entries) in self.0.metadata.snapshot(None) {
            if metric.is_some_and(|m| m != family) {
                continue;
            }
            if limit.is_some_and(|l| out.len() >= l) {
                break;
            }
            let v: Vec<strata_api::MetricMetadata> = entries
                .into_iter()
                .take(limit_per_metric.unwrap_or(usize::MAX))
                .map(|m| strata_api::MetricMetadata {
                    kind: m.metric_type,
                    help: m.help,
                    unit: m.unit,
                })
                .collect();
            out.insert(family, v);
        }
        Ok(out)
    }
}

/// The receiver's metrics in the text format.
pub fn render_metrics(recv: &Receiver) -> String {
    let head: Vec<(String, u64, u64)> = recv
        .tsdb
        .tenants()
        .iter()
        .map(|t| {
            (
                t.tenant.clone(),
                t.db.head().num_series(),
                t.samples_appended
                    .load(std::sync::atomic::Ordering::Relaxed),
            )
        })
        .collect();
    recv.metrics.render(&head)
}

async fn metrics(State(recv): State<Arc<Receiver>>) -> impl IntoResponse {
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        render_metrics(&recv),
    )
}

/// Persists every tenant's head as blocks now (before maintenance, in tests).
async fn flush(State(recv): State<Arc<Receiver>>) -> axum::response::Response {
    let r = recv.clone();
    match tokio::task::spawn_blocking(move || r.tsdb.flush_all()).await {
        Ok(Ok(blocks)) => {
            let ids: Vec<String> = blocks.iter().map(|(_, b)| b.ulid.clone()).collect();
            axum::Json(serde_json::json!({"status": "success", "data": {"blocks": ids}}))
                .into_response()
        }
        Ok(Err(e)) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

/// `strata receive`.
pub fn run(args: ReceiveArgs) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    rt.block_on(serve(args))
}

/// Re-reads the hashrings file when its content changes; ingestion goes on with the old
/// ring until the new one is built, and a bad file keeps the old ring.
pub async fn watch_hashrings(
    recv: Arc<Receiver>,
    path: PathBuf,
    algorithm: Algorithm,
    rf: u64,
    every: Duration,
) {
    let mut last = std::fs::read(&path).ok();
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        let cur = std::fs::read(&path).ok();
        if cur == last {
            continue;
        }
        last = cur;
        match hashring::load_file(&path, algorithm, rf) {
            Ok(ring) => {
                recv.set_hashring(ring);
                recv.metrics
                    .config_reload_ok
                    .store(1, std::sync::atomic::Ordering::Relaxed);
                info!(file = %path.display(), "reloaded hashrings");
            }
            Err(e) => {
                recv.metrics
                    .config_reload_ok
                    .store(0, std::sync::atomic::Ordering::Relaxed);
                warn!(file = %path.display(), error = %e, "hashrings file is invalid; keeping the previous ring");
            }
        }
    }
}

fn replication(args: &ReceiveArgs) -> anyhow::Result<Option<(Replication, Algorithm)>> {
    let Some(path) = &args.hashrings_file else {
        anyhow::ensure!(
            args.replication_factor <= 1,
            "--receive.replication-factor={} needs --receive.hashrings-file",
            args.replication_factor
        );
        return Ok(None);
    };
    anyhow::ensure!(
        args.replication_factor >= 1,
        "--receive.replication-factor must be at least 1"
    );
    let algorithm: Algorithm = args
        .hashrings_algorithm
        .parse()
        .map_err(|e| anyhow::anyhow!("--receive.hashrings-algorithm: {e}"))?;
    let ring = hashring::load_file(path, algorithm, args.replication_factor)?;
    let timeout = parse_duration_ms(&args.forward_timeout)?;
    anyhow::ensure!(timeout > 0, "--receive-forward-timeout must be positive");
    Ok(Some((
        Replication {
            opts: ReplicationOptions {
                replication_factor: args.replication_factor,
                local_endpoint: args.local_endpoint.clone(),
                forward_timeout: Duration::from_millis(timeout as u64),
                max_concurrency: args.forward_workers.max(1),
            },
            ring: parking_lot::RwLock::new(Arc::new(ring)),
            peers: Arc::new(GrpcPeers::new()),
        },
        algorithm,
    )))
}

async fn serve(args: ReceiveArgs) -> anyhow::Result<()> {
    let routing = replication(&args)?;
    let algorithm = routing.as_ref().map(|r| r.1);
    let opts = db_options(&args.tsdb)?;
    let recv =
        open_receiver_with(&args.common, &args.tsdb_path, opts, routing.map(|r| r.0)).await?;
    let rw = tokio::net::TcpListener::bind(args.remote_write_address)
        .await
        .with_context(|| format!("listening on {}", args.remote_write_address))?;
    let http = tokio::net::TcpListener::bind(args.http_address)
        .await
        .with_context(|| format!("listening on {}", args.http_address))?;
    let grpc = tokio::net::TcpListener::bind(args.grpc_address)
        .await
        .with_context(|| format!("listening on {}", args.grpc_address))?;
    let rw_addr = rw.local_addr()?;
    let http_addr = http.local_addr()?;
    let grpc_addr = grpc.local_addr()?;

    let mut api =
        strata_api::ApiState::new(Arc::new(queryable(&recv)), strata_promql::Engine::default());
    api.app_name = "Strata receive".into();
    api.metadata = Arc::new(ReceiverMetadata(recv.clone()));
    let http_app = Router::new()
        .route("/metrics", get(metrics))
        .route("/api/v1/admin/tsdb/flush", axum::routing::post(flush))
        .with_state(recv.clone())
        .merge(strata_api::router(api));
    let rw_app = strata_receive::http::routes(recv.clone());
    info!(
        remote_write_address = %rw_addr,
        http_address = %http_addr,
        grpc_address = %grpc_addr,
        mode = if recv.is_routing() { if args.local_endpoint.is_some() { "router-ingestor" } else { "router" } } else { "ingestor" },
        tsdb_path = %args.tsdb_path.display(),
        "strata receive: serving"
    );
    let mut bg = vec![tokio::spawn(maintain(recv.clone()))];
    let every = Duration::from_millis(parse_duration_ms(&args.hashrings_refresh)?.max(100) as u64);
    if let Some(p) = &args.common.limits_file {
        bg.push(tokio::spawn(watch_limits(recv.clone(), p.clone(), every)));
    }
    if let Some(bucket) = crate::ship::bucket_from_flags(
        args.common.objstore_config_file.as_deref(),
        args.common.objstore_config.as_deref(),
    )? {
        let every = parse_duration_ms(&args.common.shipper_interval)?.max(1000) as u64;
        bg.push(tokio::spawn(crate::ship::ship_loop(
            recv.clone(),
            bucket,
            Duration::from_millis(every),
        )));
    }
    if let (Some(p), Some(algorithm)) = (&args.hashrings_file, algorithm) {
        bg.push(tokio::spawn(watch_hashrings(
            recv.clone(),
            p.clone(),
            algorithm,
            args.replication_factor,
            every,
        )));
    }
    let shutdown = crate::up::shutdown_signal();
    let (tx, rx) = tokio::sync::watch::channel(());
    let rx2 = rx.clone();
    let s1 = axum::serve(rw, rw_app).with_graceful_shutdown(async move {
        let mut rx = rx;
        let _ = rx.changed().await;
    });
    let s2 = axum::serve(http, http_app).with_graceful_shutdown(async move {
        let mut rx = rx2;
        let _ = rx.changed().await;
    });
    let mut rx3 = tx.subscribe();
    let store_source = Arc::new(store_source(&recv));
    let store_opts = strata_store::ServerOptions {
        component: "receive".into(),
        ..strata_store::ServerOptions::default()
    };
    let s3 = tonic::transport::Server::builder()
        .add_service(WriteableService::new(recv.clone()).into_server())
        .add_service(
            strata_store::StoreService::new(store_source.clone(), &store_opts).into_server(),
        )
        .add_service(
            strata_store::InfoService::new(store_source, &store_opts.component).into_server(),
        )
        .serve_with_incoming_shutdown(crate::grpc_listener::incoming(grpc), async move {
            let _ = rx3.changed().await;
        });
    let signal = async move {
        shutdown.await;
        let _ = tx.send(());
    };
    let (r1, r2, r3, ()) = tokio::join!(s1, s2, s3, signal);
    r1?;
    r2?;
    r3?;
    for t in bg {
        t.abort();
    }
    let r = recv.clone();
    tokio::task::spawn_blocking(move || r.tsdb.sync_all()).await??;
    info!("strata receive: stopped");
    Ok(())
}
