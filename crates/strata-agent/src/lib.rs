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
//! Both render their self metrics in the text format (`render(&mut String)`).

pub mod error;
mod metrics;
pub mod remote;
pub mod storage;

pub use error::{Error, Result};
pub use remote::{RemoteWrite, RemoteWriteOptions};
pub use storage::{
    AgentAppender, AgentOptions, AgentStorage, TruncateReport, TruncationTask, WalConsumers,
};
