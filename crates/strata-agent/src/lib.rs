//! `strata agent`: the WAL-only storage scraped samples go to, and the remote-write
//! queues that send them on (Prometheus' agent mode).
//!
//! - [`storage`]: [`AgentStorage`] and its [`AgentAppender`]: Prometheus-format WAL,
//!   series refs, replay, truncation by what the queues have sent and by age.
//! - [`remote`]: [`RemoteWrite`], one queue per `remote_write` entry: a WAL watcher that
//!   tails the segments, write relabeling, shards with Prometheus' `queue_config`
//!   semantics, retries, per-queue progress files so a restart resends exactly what was
//!   not acknowledged.
//!
//! - [`runtime`]: [`Agent`], everything of `strata agent` from one configuration file:
//!   storage, remote write, truncation, the scrape manager (scraping into the storage
//!   through [`strata_scrape::Appendable`]) and service discovery; reload and shutdown.
//!
//! Storage and queues render their self metrics in the text format
//! (`render(&mut String)`); [`Agent::render_metrics`] renders all of them.

mod discovery;
pub mod error;
mod metrics;
pub mod remote;
pub mod runtime;
mod scrape_storage;
pub mod storage;

pub use error::{Error, Result};
pub use remote::{RemoteWrite, RemoteWriteOptions};
pub use runtime::{Agent, RuntimeOptions};
pub use storage::{
    AgentAppender, AgentOptions, AgentStorage, TruncateReport, TruncationTask, WalConsumers,
};
