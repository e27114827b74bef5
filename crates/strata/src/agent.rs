//! `strata agent`: Prometheus' agent mode. Flags become [`RuntimeOptions`], the
//! [`Agent`] (strata-agent) does the work; this module serves its HTTP endpoints
//! (`/metrics`, `/-/healthy`, `/-/ready`, `/-/reload`, `/-/quit`, `/api/v1/targets`)
//! and maps signals: SIGHUP reloads, SIGTERM/SIGINT shut down cleanly (remote-write
//! queues flush up to `--storage.remote.flush-deadline`).

mod targets;

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use strata_agent::{Agent, AgentOptions, RemoteWriteOptions, RuntimeOptions};
use strata_model::duration::parse_duration_ms;
use tokio::sync::Notify;
use tracing::{error, info, warn};

use crate::cli::AgentArgs;

/// What the HTTP handlers share. The agent is set once started: until then (WAL
/// replay) `/-/ready` answers 503.
pub(crate) struct Web {
    agent: OnceLock<Arc<Agent>>,
    lifecycle: bool,
    quit: Notify,
}

pub fn run(args: AgentArgs) -> anyhow::Result<()> {
    crate::alloc::lean_thread();
    crate::alloc::lean_arena();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .on_thread_start(crate::alloc::lean_thread)
        .build()
        .context("starting the runtime")?;
    rt.block_on(serve(args))
}

/// A duration flag; 0 means the default, as in Prometheus.
fn duration_flag(name: &str, value: &str, default: Duration) -> anyhow::Result<Duration> {
    let ms = parse_duration_ms(value).with_context(|| format!("--{name}={value}"))?;
    anyhow::ensure!(ms >= 0, "--{name} must not be negative");
    Ok(if ms == 0 {
        default
    } else {
        Duration::from_millis(ms as u64)
    })
}

/// The runtime options from the flags.
pub fn runtime_options(args: &AgentArgs) -> anyhow::Result<RuntimeOptions> {
    let d = AgentOptions::default();
    let storage = AgentOptions {
        wal_compression: args.wal_compression && !args.no_wal_compression,
        truncate_frequency: duration_flag(
            "storage.agent.wal-truncate-frequency",
            &args.wal_truncate_frequency,
            d.truncate_frequency,
        )?,
        min_wal_time: duration_flag(
            "storage.agent.retention.min-time",
            &args.retention_min_time,
            d.min_wal_time,
        )?,
        max_wal_time: duration_flag(
            "storage.agent.retention.max-time",
            &args.retention_max_time,
            d.max_wal_time,
        )?,
        ..d
    };
    let remote = RemoteWriteOptions {
        flush_deadline: duration_flag(
            "storage.remote.flush-deadline",
            &args.flush_deadline,
            RemoteWriteOptions::default().flush_deadline,
        )?,
        ..RemoteWriteOptions::default()
    };
    Ok(RuntimeOptions {
        storage,
        remote,
        ..RuntimeOptions::new(&args.storage_path)
    })
}

/// Prometheus' `--web.listen-address` allows `:9090` (every interface).
fn listen_address(s: &str) -> String {
    if s.starts_with(':') {
        format!("0.0.0.0{s}")
    } else {
        s.to_owned()
    }
}

async fn serve(args: AgentArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.web_config_file.is_none(),
        "--web.config.file (TLS and authentication of the HTTP server) is not supported by strata agent"
    );
    if let Some(p) = &args.route_prefix
        && !p.trim_matches('/').is_empty()
    {
        warn!(prefix = %p, "--web.route-prefix is not supported; serving at /");
    }
    if !args.features.is_empty() {
        info!(features = ?args.features, "--enable-feature flags are accepted and ignored");
    }
    let opts = runtime_options(&args)?;
    let addr = listen_address(&args.listen_address);
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .with_context(|| format!("listening on {addr}"))?;
    let local = listener.local_addr()?;
    let web = Arc::new(Web {
        agent: OnceLock::new(),
        lifecycle: args.enable_lifecycle,
        quit: Notify::new(),
    });
    let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(false);
    let app = router(web.clone());
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stop_rx.wait_for(|s| *s).await;
            })
            .await
    });
    info!(address = %local, config = %args.config_file.display(), data = %args.storage_path.display(), "strata agent: starting");

    let agent = match Agent::start(&args.config_file, opts).await {
        Ok(a) => Arc::new(a),
        Err(e) => {
            let _ = stop_tx.send(true);
            let _ = server.await;
            return Err(anyhow::Error::new(e).context(format!(
                "starting the agent (--config.file={})",
                args.config_file.display()
            )));
        }
    };
    let _ = web.agent.set(agent.clone());
    info!(address = %local, "strata agent: ready");

    wait_for_stop(&agent, &web).await;
    info!("strata agent: shutting down");
    let res = agent.shutdown().await;
    let _ = stop_tx.send(true);
    match server.await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => error!(error = %e, "HTTP server failed"),
        Err(e) => error!(error = %e, "HTTP server task failed"),
    }
    res.context("stopping the agent")?;
    info!("strata agent: stopped");
    Ok(())
}

/// Reloads on SIGHUP until SIGTERM/SIGINT or `/-/quit`.
async fn wait_for_stop(agent: &Agent, web: &Web) {
    let stop = crate::up::shutdown_signal();
    tokio::pin!(stop);
    #[cfg(unix)]
    let mut hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
    loop {
        #[cfg(unix)]
        let hangup = async {
            match hup.as_mut() {
                Some(s) => {
                    s.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let hangup = std::future::pending::<()>();
        tokio::select! {
            () = &mut stop => return,
            () = web.quit.notified() => return,
            () = hangup => {
                info!("SIGHUP: reloading the configuration");
                // Errors are logged and counted by the agent.
                let _ = agent.reload().await;
            }
        }
    }
}

fn router(web: Arc<Web>) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/-/healthy", get(healthy).head(healthy))
        .route("/-/ready", get(ready).head(ready))
        .route("/-/reload", axum::routing::post(reload).put(reload))
        .route("/-/quit", axum::routing::post(quit).put(quit))
        .route("/api/v1/targets", get(targets::targets))
        .with_state(web)
}

fn text(status: StatusCode, body: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body,
    )
        .into_response()
}

fn not_ready() -> Response {
    text(
        StatusCode::SERVICE_UNAVAILABLE,
        "Service Unavailable\n".into(),
    )
}

async fn healthy() -> Response {
    text(StatusCode::OK, "Strata agent is Healthy.\n".into())
}

async fn ready(State(web): State<Arc<Web>>) -> Response {
    match web.agent.get() {
        Some(_) => text(StatusCode::OK, "Strata agent is Ready.\n".into()),
        None => not_ready(),
    }
}

async fn metrics(State(web): State<Arc<Web>>) -> Response {
    let Some(agent) = web.agent.get() else {
        return not_ready();
    };
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        agent.render_metrics(),
    )
        .into_response()
}

const LIFECYCLE_DISABLED: &str = "Lifecycle API is not enabled.\n";

async fn reload(State(web): State<Arc<Web>>) -> Response {
    if !web.lifecycle {
        return text(StatusCode::FORBIDDEN, LIFECYCLE_DISABLED.into());
    }
    let Some(agent) = web.agent.get() else {
        return not_ready();
    };
    match agent.reload().await {
        Ok(()) => text(StatusCode::OK, String::new()),
        Err(e) => text(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("failed to reload config: {e}\n"),
        ),
    }
}

async fn quit(State(web): State<Arc<Web>>) -> Response {
    if !web.lifecycle {
        return text(StatusCode::FORBIDDEN, LIFECYCLE_DISABLED.into());
    }
    web.quit.notify_one();
    text(
        StatusCode::OK,
        "Requesting termination... Goodbye!\n".into(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_address_without_host_means_every_interface() {
        assert_eq!(listen_address(":9090"), "0.0.0.0:9090");
        assert_eq!(listen_address("127.0.0.1:1"), "127.0.0.1:1");
    }
}
