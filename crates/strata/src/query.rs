//! `strata query` (Thanos query): the PromQL engine and Prometheus HTTP API over a set
//! of Store API endpoints, with replica deduplication, partial response and tenancy.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use strata_model::duration::parse_duration_ms;
use strata_query::{DedupFunc, EndpointSet, ProxyQueryable, QueryOptions};
use tracing::info;

use crate::cli::QueryArgs;

pub fn run(args: QueryArgs) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    rt.block_on(serve(args))
}

/// Query options from the flags.
pub fn options(args: &QueryArgs) -> anyhow::Result<QueryOptions> {
    let dedup_func: DedupFunc = args
        .dedup_func
        .parse()
        .map_err(|e| anyhow::anyhow!("--deduplication.func: {e}"))?;
    let timeout = parse_duration_ms(&args.store_timeout)?;
    anyhow::ensure!(timeout > 0, "--store.response-timeout must be positive");
    Ok(QueryOptions {
        replica_labels: args.replica_labels.clone(),
        dedup_func,
        partial_response_default: args.partial_response,
        enforce_tenancy: args.enforce_tenancy,
        tenant_header: args.tenant_header.clone(),
        default_tenant: args.default_tenant.clone(),
        tenant_label: args.tenant_label.clone(),
        store_timeout: Duration::from_millis(timeout as u64),
    })
}

async fn serve(args: QueryArgs) -> anyhow::Result<()> {
    let opts = options(&args)?;
    let interval = parse_duration_ms(&args.sd_interval)?;
    anyhow::ensure!(interval > 0, "--store.sd-interval must be positive");
    anyhow::ensure!(
        !args.endpoints.is_empty() || !args.sd_files.is_empty(),
        "no Store API endpoints: give --endpoint or --endpoint.sd-files"
    );
    let set = EndpointSet::new(
        &args.endpoints,
        &args.sd_files,
        Duration::from_millis(interval as u64),
    )?;
    set.refresh().await;
    let refresh = set.spawn_refresh();
    let proxy = ProxyQueryable::new(set.clone(), opts.clone())?;
    let mut api = strata_api::ApiState::new(Arc::new(proxy), strata_promql::Engine::default());
    api.app_name = "Strata query".into();
    let mut app = strata_api::router(api).merge(strata_query::stores_router(set));
    if opts.enforce_tenancy {
        app = strata_query::with_tenant_header(app, &opts);
    }
    let listener = tokio::net::TcpListener::bind(args.http_address)
        .await
        .with_context(|| format!("listening on {}", args.http_address))?;
    info!(http_address = %listener.local_addr()?, endpoints = args.endpoints.len(), "strata query: serving");
    axum::serve(listener, app)
        .with_graceful_shutdown(crate::up::shutdown_signal())
        .await?;
    refresh.abort();
    info!("strata query: stopped");
    Ok(())
}
