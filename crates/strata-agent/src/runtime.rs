//! The agent as a whole (Prometheus' agent mode): the WAL storage, the remote-write
//! queues, WAL truncation, the scrape manager and service discovery, started from one
//! configuration file and reloaded from it.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use parking_lot::{Mutex, RwLock};
use strata_config::Config;
use strata_model::Labels;
use strata_scrape::{ScrapeManager, ScrapeOptions, TargetsSnapshot};

use crate::discovery::DiscoveryTasks;
use crate::error::{Error, Result};
use crate::metrics::{Gauge, header, sample};
use crate::remote::{RemoteWrite, RemoteWriteOptions};
use crate::storage::{AgentOptions, AgentStorage, TruncationTask, WalConsumers};

/// Settings of an [`Agent`] that are flags rather than configuration.
#[derive(Debug, Clone)]
pub struct RuntimeOptions {
    /// Where the WAL and the remote-write progress live (`--storage.agent.path`).
    pub data_dir: PathBuf,
    pub storage: AgentOptions,
    pub remote: RemoteWriteOptions,
    pub scrape: ScrapeOptions,
    /// Minimum time between two target updates of one job from service discovery
    /// (Prometheus: 5 s).
    pub discovery_update_interval: Duration,
}

impl RuntimeOptions {
    /// Defaults for everything but the data directory.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        RuntimeOptions {
            data_dir: data_dir.into(),
            storage: AgentOptions::default(),
            remote: RemoteWriteOptions::default(),
            scrape: ScrapeOptions::default(),
            discovery_update_interval: Duration::from_secs(5),
        }
    }
}

/// Outcome of the latest configuration (re)load, as Prometheus reports it.
#[derive(Default)]
struct ReloadMetrics {
    successful: Gauge,
    /// Unix seconds of the last successful (re)load, 0 before one.
    last_success: Gauge,
}

impl ReloadMetrics {
    fn record(&self, ok: bool) {
        self.successful.set(if ok { 1.0 } else { 0.0 });
        if ok {
            self.last_success
                .set(crate::storage::now_ms() as f64 / 1000.0);
        }
    }
}

/// A running agent. Cheap to share behind an `Arc`; every method takes `&self`.
pub struct Agent {
    config_path: PathBuf,
    storage: AgentStorage,
    remote: Arc<RemoteWrite>,
    scrape: Arc<ScrapeManager>,
    truncation: Mutex<Option<TruncationTask>>,
    discovery: tokio::sync::Mutex<DiscoveryTasks>,
    discovery_every: Duration,
    config: RwLock<Arc<Config>>,
    reload_metrics: ReloadMetrics,
    /// Serialises reloads and shutdown.
    lifecycle: tokio::sync::Mutex<()>,
    closed: AtomicBool,
}

/// `global.external_labels` as a label set.
fn external_labels(cfg: &Config) -> Result<Labels> {
    let pairs: Vec<(&str, &str)> = cfg
        .global
        .external_labels
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    Labels::new(&pairs).map_err(|e| Error::Apply(format!("external_labels: {e}")))
}

async fn load(path: &Path) -> Result<Config> {
    let p = path.to_path_buf();
    tokio::task::spawn_blocking(move || strata_config::load_agent(&p))
        .await
        .map_err(|e| Error::Apply(format!("loading the configuration: {e}")))?
        .map_err(Error::from)
}

impl Agent {
    /// Loads `config_path` (agent mode checks), opens the storage (replaying the WAL),
    /// and starts remote write, truncation, scraping and discovery. Must be called
    /// inside a tokio runtime.
    ///
    /// An unreadable or invalid file, or a storage that cannot be opened, is an error.
    /// Parts of a valid configuration that cannot be built (a scrape job or remote-write
    /// queue whose TLS files are missing, ...) are logged and left out, and
    /// `prometheus_config_last_reload_successful` is 0 until a reload applies
    /// everything; the WAL is kept for a remote-write queue that could not start.
    pub async fn start(config_path: impl AsRef<Path>, opts: RuntimeOptions) -> Result<Agent> {
        let config_path = config_path.as_ref().to_path_buf();
        let cfg = load(&config_path).await?;
        let external = external_labels(&cfg)?;
        let dir = opts.data_dir.clone();
        let storage_opts = opts.storage.clone();
        let storage = tokio::task::spawn_blocking(move || AgentStorage::open(&dir, storage_opts))
            .await
            .map_err(|e| Error::Apply(format!("opening the storage: {e}")))??;
        let remote = Arc::new(RemoteWrite::start(&storage, &[], &external, opts.remote)?);
        let truncation = storage.spawn_truncation(remote.clone() as Arc<dyn WalConsumers>);
        let scrape = Arc::new(ScrapeManager::new(Arc::new(storage.clone()), opts.scrape));
        let agent = Agent {
            config_path,
            storage,
            remote,
            scrape,
            truncation: Mutex::new(Some(truncation)),
            discovery: tokio::sync::Mutex::new(DiscoveryTasks::default()),
            discovery_every: opts.discovery_update_interval,
            config: RwLock::new(Arc::new(Config::default())),
            reload_metrics: ReloadMetrics::default(),
            lifecycle: tokio::sync::Mutex::new(()),
            closed: AtomicBool::new(false),
        };
        let res = agent.apply(cfg, &external).await;
        agent.reload_metrics.record(res.is_ok());
        match res {
            Ok(()) => {
                tracing::info!(file = %agent.config_path.display(), "completed loading of configuration file")
            }
            Err(e) => {
                tracing::error!(file = %agent.config_path.display(), error = %e, "configuration applied in part; fix it and reload")
            }
        }
        Ok(agent)
    }

    /// Applies a loaded configuration to every component; errors of the parts are
    /// collected, the rest is applied.
    async fn apply(&self, cfg: Config, external: &Labels) -> Result<()> {
        let mut errors = Vec::new();
        if let Err(e) = self.remote.apply_config(&cfg.remote_write, external).await {
            errors.push(e.to_string());
        }
        if let Err(e) = self.scrape.apply_config(&cfg).await {
            errors.push(match e {
                strata_scrape::Error::Apply(parts) => parts,
                other => other.to_string(),
            });
        }
        self.discovery
            .lock()
            .await
            .apply(&cfg, &self.scrape, self.discovery_every)
            .await;
        *self.config.write() = Arc::new(cfg);
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Error::Apply(errors.join("; ")))
        }
    }

    /// Re-reads the configuration file and applies it: scrape jobs and discovery are
    /// updated (unchanged targets keep scraping), changed remote-write queues restart
    /// from their persisted progress (nothing buffered is lost), unchanged queues keep
    /// running. A file that cannot be read or is invalid changes nothing. Either
    /// failure sets `prometheus_config_last_reload_successful` to 0 and is returned.
    pub async fn reload(&self) -> Result<()> {
        let _serial = self.lifecycle.lock().await;
        if self.closed.load(Ordering::SeqCst) {
            return Err(Error::Closed);
        }
        let res = match load(&self.config_path).await {
            Ok(cfg) => match external_labels(&cfg) {
                Ok(external) => self.apply(cfg, &external).await,
                Err(e) => Err(e),
            },
            Err(e) => Err(e),
        };
        self.reload_metrics.record(res.is_ok());
        match &res {
            Ok(()) => {
                tracing::info!(file = %self.config_path.display(), "completed loading of configuration file")
            }
            Err(e) => {
                tracing::error!(file = %self.config_path.display(), error = %e, "error reloading the configuration")
            }
        }
        res
    }

    /// Stops scraping and discovery, flushes the remote-write queues within the flush
    /// deadline (what is left stays in the WAL for the next start), stops truncation
    /// and closes the WAL. Idempotent.
    pub async fn shutdown(&self) -> Result<()> {
        let _serial = self.lifecycle.lock().await;
        if self.closed.swap(true, Ordering::SeqCst) {
            return Ok(());
        }
        self.discovery.lock().await.stop().await;
        self.scrape.stop().await;
        self.remote.shutdown().await;
        let truncation = self.truncation.lock().take();
        let storage = self.storage.clone();
        tokio::task::spawn_blocking(move || {
            if let Some(t) = truncation {
                t.stop();
            }
            storage.close()
        })
        .await
        .map_err(|e| Error::Apply(format!("closing the storage: {e}")))??;
        tracing::info!("agent stopped");
        Ok(())
    }

    /// The storage (WAL) of the agent.
    pub fn storage(&self) -> &AgentStorage {
        &self.storage
    }

    /// The remote-write queues.
    pub fn remote_write(&self) -> &RemoteWrite {
        &self.remote
    }

    /// The configuration applied last.
    pub fn config(&self) -> Arc<Config> {
        self.config.read().clone()
    }

    /// The configuration file.
    pub fn config_path(&self) -> &Path {
        &self.config_path
    }

    /// Active and dropped scrape targets, for `/api/v1/targets`.
    pub fn targets(&self) -> TargetsSnapshot {
        self.scrape.targets()
    }

    /// Whether the last (re)load applied everything.
    pub fn last_reload_successful(&self) -> bool {
        self.reload_metrics.successful.get() == 1.0
    }

    /// Self metrics in the text format: storage, remote write, configuration reloads.
    pub fn render_metrics(&self) -> String {
        let mut out = String::with_capacity(16 * 1024);
        self.storage.render(&mut out);
        self.remote.render(&mut out);
        let m = &self.reload_metrics;
        header(
            &mut out,
            "prometheus_config_last_reload_successful",
            "Whether the last configuration reload attempt was successful.",
            "gauge",
        );
        sample(
            &mut out,
            "prometheus_config_last_reload_successful",
            &[],
            m.successful.get(),
        );
        header(
            &mut out,
            "prometheus_config_last_reload_success_timestamp_seconds",
            "Timestamp of the last successful configuration reload.",
            "gauge",
        );
        sample(
            &mut out,
            "prometheus_config_last_reload_success_timestamp_seconds",
            &[],
            m.last_success.get(),
        );
        out
    }
}
