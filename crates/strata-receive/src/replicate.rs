//! Replication over the hashring: every series goes to `replication_factor` endpoints
//! (the local one is written directly, the others through a [`PeerClient`]), and a
//! request succeeds only when every series reached its write quorum (RF/2+1). When it
//! did not, the error tells the sender truthfully whether a retry can succeed.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::forward_series::ForwardSeries;
use crate::hashring::{Hashring, MultiHashring, hash_series};
use crate::local_write::WriteOutcome;

/// A boxed future (the peer client is a trait object).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Why a peer did not take a forwarded batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeerError {
    /// Down, timed out, or not ready: a retry can succeed.
    Unavailable(String),
    /// Samples rejected as out of order, duplicate or too old.
    Conflict(String),
    /// The data is invalid.
    Invalid(String),
}

/// One batch for one endpoint.
#[derive(Debug, Clone)]
pub struct ForwardRequest {
    pub tenant: String,
    /// Replica number, as Thanos sends it: the receiving peer stores the batch locally
    /// and does not replicate it further.
    pub replica: u64,
    pub series: Vec<ForwardSeries>,
}

/// Sends forwarded batches to peer receivers.
pub trait PeerClient: Send + Sync {
    fn write<'a>(
        &'a self,
        endpoint: &'a str,
        req: ForwardRequest,
    ) -> BoxFuture<'a, std::result::Result<(), PeerError>>;
}

/// Writes a batch into this receiver's own TSDB.
pub trait LocalWriter: Send + Sync {
    fn write_local(&self, tenant: &str, series: &[ForwardSeries]) -> Result<WriteOutcome>;
}

/// How replication behaves.
#[derive(Debug, Clone)]
pub struct ReplicationOptions {
    pub replication_factor: u64,
    /// This receiver's address in the hashring (`None`: router only).
    pub local_endpoint: Option<String>,
    pub forward_timeout: Duration,
    /// Concurrent forward requests per write request.
    pub max_concurrency: usize,
}

/// What happened to one endpoint's batch.
#[derive(Debug, Clone)]
enum BatchResult {
    Written(WriteOutcome),
    Failed(PeerError),
}

/// Statistics the caller turns into metrics.
#[derive(Debug, Default, Clone)]
pub struct ReplicationReport {
    pub outcome: WriteOutcome,
    /// (endpoint, error) of each failed batch.
    pub failed_endpoints: Vec<(String, PeerError)>,
    /// Seconds each forward took, successful or not.
    pub forward_seconds: Vec<f64>,
    pub quorum_reached: bool,
}

/// Places `series` of `tenant` on the ring and writes each to its replicas.
pub async fn replicate(
    ring: &MultiHashring,
    opts: &ReplicationOptions,
    local: Arc<dyn LocalWriter>,
    peers: Arc<dyn PeerClient>,
    tenant: &str,
    series: Vec<ForwardSeries>,
) -> (Result<WriteOutcome>, ReplicationReport) {
    let rf = opts.replication_factor.max(1);
    let quorum = (rf / 2 + 1) as usize;
    // Endpoint -> (series indexes, replica number of the first).
    let mut batches: BTreeMap<String, (Vec<usize>, u64)> = BTreeMap::new();
    for (i, s) in series.iter().enumerate() {
        let hash = hash_series(tenant, &s.labels);
        for n in 0..rf {
            let ep = match ring.get_n_hashed(tenant, hash, n) {
                Ok(ep) => ep.address.clone(),
                Err(e) => {
                    let err = Error::Unavailable(format!("hashring: {e}"));
                    return (Err(err), ReplicationReport::default());
                }
            };
            batches
                .entry(ep)
                .or_insert_with(|| (Vec::new(), n))
                .0
                .push(i);
        }
    }
    let series = Arc::new(series);
    let sem = Arc::new(tokio::sync::Semaphore::new(opts.max_concurrency.max(1)));
    let mut tasks = Vec::with_capacity(batches.len());
    for (ep, (idx, replica)) in batches {
        let is_local = opts.local_endpoint.as_deref() == Some(ep.as_str());
        let series = series.clone();
        let tenant = tenant.to_owned();
        let local = local.clone();
        let peers = peers.clone();
        let sem = sem.clone();
        let timeout = opts.forward_timeout;
        tasks.push(tokio::spawn(async move {
            let batch: Vec<ForwardSeries> = idx.iter().map(|&i| series[i].clone()).collect();
            let started = Instant::now();
            let res = if is_local {
                let t = tenant.clone();
                match tokio::task::spawn_blocking(move || local.write_local(&t, &batch)).await {
                    Ok(Ok(o)) => BatchResult::Written(o),
                    Ok(Err(e)) => BatchResult::Failed(local_error(e)),
                    Err(e) => BatchResult::Failed(PeerError::Unavailable(e.to_string())),
                }
            } else {
                let _permit = sem.acquire_owned().await;
                let req = ForwardRequest {
                    tenant,
                    replica,
                    series: batch,
                };
                match tokio::time::timeout(timeout, peers.write(&ep, req)).await {
                    Ok(Ok(())) => BatchResult::Written(WriteOutcome::default()),
                    Ok(Err(e)) => BatchResult::Failed(e),
                    Err(_) => BatchResult::Failed(PeerError::Unavailable(format!(
                        "forward to {ep} timed out after {timeout:?}"
                    ))),
                }
            };
            (ep, idx, is_local, res, started.elapsed().as_secs_f64())
        }));
    }
    let mut ok = vec![0usize; series.len()];
    let mut conflicts = vec![0usize; series.len()];
    let mut report = ReplicationReport::default();
    let mut first_error: BTreeMap<&'static str, String> = BTreeMap::new();
    for t in tasks {
        let Ok((ep, idx, is_local, res, secs)) = t.await else {
            continue;
        };
        if !is_local {
            report.forward_seconds.push(secs);
        }
        match res {
            BatchResult::Written(o) => {
                for &i in &idx {
                    ok[i] += 1;
                }
                if o.conflicts > 0 {
                    for &i in &idx {
                        conflicts[i] += 1;
                    }
                    if let Some(c) = &o.first_conflict {
                        first_error.entry("conflict").or_insert_with(|| c.clone());
                    }
                }
            }
            BatchResult::Failed(e) => {
                let (kind, msg) = match &e {
                    PeerError::Unavailable(m) => ("unavailable", m),
                    PeerError::Conflict(m) => ("conflict", m),
                    PeerError::Invalid(m) => ("invalid", m),
                };
                if matches!(e, PeerError::Conflict(_)) {
                    for &i in &idx {
                        ok[i] += 1;
                        conflicts[i] += 1;
                    }
                }
                first_error
                    .entry(kind)
                    .or_insert_with(|| format!("{ep}: {msg}"));
                report.failed_endpoints.push((ep, e));
            }
        }
    }
    let missing = ok.iter().filter(|&&n| n < quorum).count();
    report.quorum_reached = missing == 0;
    let mut outcome = WriteOutcome::default();
    for (i, s) in series.iter().enumerate() {
        if ok[i] >= quorum {
            outcome.series += 1;
            outcome.samples += s.samples.len();
            outcome.histograms += s.histograms.len();
        }
    }
    let conflicted = conflicts.iter().filter(|&&n| n >= quorum).count();
    outcome.conflicts = conflicted;
    outcome.first_conflict = first_error
        .get("conflict")
        .cloned()
        .filter(|_| conflicted > 0);
    report.outcome = outcome.clone();
    let result = if missing > 0 {
        if let Some(m) = first_error.get("invalid") {
            Err(Error::InvalidRequest(m.clone()))
        } else {
            Err(Error::Unavailable(format!(
                "{missing} of {} series did not reach the write quorum of {quorum} (replication factor {rf}); first error: {}",
                series.len(),
                first_error
                    .get("unavailable")
                    .or_else(|| first_error.values().next())
                    .cloned()
                    .unwrap_or_default()
            )))
        }
    } else {
        Ok(outcome)
    };
    (result, report)
}

fn local_error(e: Error) -> PeerError {
    match e {
        Error::InvalidRequest(m) | Error::InvalidTenant { reason: m, .. } => PeerError::Invalid(m),
        Error::Conflict(m) => PeerError::Conflict(m),
        other => PeerError::Unavailable(other.to_string()),
    }
}
