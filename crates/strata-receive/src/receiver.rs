//! The receiver: tenants' TSDBs, limits, metadata and metrics behind one write entry
//! point, [`Receiver::write`], which the HTTP handler (and peers forwarding over gRPC)
//! call with a decompressed remote-write request.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::RwLock;
use strata_model::Labels;
use strata_remote::{Protocol, TimeSeriesRef, rw1, rw2};

use crate::error::{Error, Result};
use crate::forward_series::ForwardSeries;
use crate::hashring::MultiHashring;
use crate::limits::{EffectiveLimits, LimitsConfig};
use crate::local_write::{LocalWrite, WriteOutcome};
use crate::metadata::MetadataStore;
use crate::metrics::ReceiveMetrics;
use crate::multitsdb::{MultiTsdb, TenantDb};
use crate::replicate::{LocalWriter, PeerClient, ReplicationOptions, replicate};
use crate::tenancy::TenantOptions;

/// Largest compressed request accepted by default.
pub const DEFAULT_MAX_COMPRESSED: usize = 32 << 20;
/// Largest decompressed request accepted by default (Prometheus' receiver: 32 MiB).
pub const DEFAULT_MAX_DECOMPRESSED: usize = 64 << 20;

/// How the receiver behaves.
#[derive(Debug, Clone)]
pub struct ReceiverOptions {
    pub tenants: TenantOptions,
    /// `--label`: labels of this receiver's data towards queriers and the bucket.
    pub external_labels: Labels,
    pub max_compressed_bytes: usize,
    pub max_decompressed_bytes: usize,
    /// Close a tenant's TSDB after this long without writes (0: never).
    pub tenant_idle_close_ms: i64,
}

impl Default for ReceiverOptions {
    fn default() -> Self {
        ReceiverOptions {
            tenants: TenantOptions::default(),
            external_labels: Labels::empty(),
            max_compressed_bytes: DEFAULT_MAX_COMPRESSED,
            max_decompressed_bytes: DEFAULT_MAX_DECOMPRESSED,
            tenant_idle_close_ms: 0,
        }
    }
}

/// Hashring routing and replication (router and router-ingestor modes).
pub struct Replication {
    pub opts: ReplicationOptions,
    pub ring: RwLock<Arc<MultiHashring>>,
    pub peers: Arc<dyn PeerClient>,
}

/// The receiver component.
pub struct Receiver {
    pub opts: ReceiverOptions,
    pub tsdb: Arc<MultiTsdb>,
    pub metrics: ReceiveMetrics,
    pub metadata: MetadataStore,
    limits: RwLock<Arc<LimitsConfig>>,
    inflight: AtomicU64,
    replication: Option<Replication>,
}

/// Releases a concurrency slot when dropped.
pub struct InflightGuard<'a>(&'a AtomicU64);

impl Drop for InflightGuard<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Receiver {
    pub fn new(opts: ReceiverOptions, tsdb: Arc<MultiTsdb>) -> Self {
        let metrics = ReceiveMetrics::new();
        metrics.replication_factor.store(1, Ordering::Relaxed);
        Receiver {
            opts,
            tsdb,
            metrics,
            metadata: MetadataStore::default(),
            limits: RwLock::new(Arc::new(LimitsConfig::default())),
            inflight: AtomicU64::new(0),
            replication: None,
        }
    }

    /// Routes writes over a hashring with replication.
    pub fn with_replication(mut self, r: Replication) -> Self {
        self.metrics
            .replication_factor
            .store(r.opts.replication_factor, Ordering::Relaxed);
        self.replication = Some(r);
        self
    }

    /// Whether writes are routed over a hashring.
    pub fn is_routing(&self) -> bool {
        self.replication.is_some()
    }

    /// Replaces the hashring (on reload of the hashrings file); ingestion goes on.
    pub fn set_hashring(&self, ring: MultiHashring) {
        if let Some(r) = &self.replication {
            *r.ring.write() = Arc::new(ring);
            self.metrics
                .hashring_changes
                .fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Replaces the limits (on reload of the limits file).
    pub fn set_limits(&self, limits: LimitsConfig) {
        *self.limits.write() = Arc::new(limits);
    }

    pub fn limits(&self) -> Arc<LimitsConfig> {
        self.limits.read().clone()
    }

    /// Takes a concurrency slot, or fails with 429 when the global limit is reached.
    pub fn admit(&self) -> Result<InflightGuard<'_>> {
        let n = self.inflight.fetch_add(1, Ordering::AcqRel) + 1;
        let guard = InflightGuard(&self.inflight);
        if let Some(max) = self.limits().max_concurrency()
            && n > max
        {
            return Err(Error::TooManyRequests {
                message: format!("too many concurrent write requests (limit {max})"),
                retry_after_s: 1,
            });
        }
        Ok(guard)
    }

    fn check_head_series(
        &self,
        tenant: &str,
        tdb: &TenantDb,
        limits: &EffectiveLimits,
    ) -> Result<()> {
        if let Some(max) = limits.head_series {
            let n = tdb.db.head().num_series();
            if n >= max {
                self.metrics.inc(
                    "thanos_receive_head_series_limited_requests_total",
                    &[tenant],
                    1.0,
                );
                return Err(Error::TooManyRequests {
                    message: format!(
                        "tenant {tenant:?} has {n} active series, at or over its limit of {max}"
                    ),
                    retry_after_s: 30,
                });
            }
        }
        Ok(())
    }

    /// Calls `f` for each series of a decompressed request, and records the request's
    /// metadata.
    fn decode<'a>(
        &self,
        tenant: &str,
        proto: Protocol,
        raw: &'a [u8],
        mut f: impl FnMut(&TimeSeriesRef<'a>),
    ) -> Result<()> {
        let mut scratch = TimeSeriesRef::default();
        let res = match proto {
            Protocol::V1 => rw1::for_each_metadata(raw, |m| {
                self.metadata
                    .record(tenant, m.metric_family_name, m.metric_type, m.help, m.unit);
                Ok(())
            })
            .and_then(|()| {
                rw1::for_each_series(raw, &mut scratch, |ts| {
                    f(ts);
                    Ok(())
                })
            }),
            Protocol::V2 => rw2::for_each_series(raw, &mut scratch, |ts| {
                if let Some((_, name)) = ts.labels.iter().find(|(n, _)| *n == "__name__") {
                    let m = &ts.metadata;
                    self.metadata
                        .record(tenant, name, m.metric_type, m.help, m.unit);
                }
                f(ts);
                Ok(())
            }),
        };
        res.map_err(|e| Error::InvalidRequest(format!("decoding write request: {e}")))
    }

    /// Writes a decompressed remote write request for `tenant` into its TSDB.
    pub fn write(&self, tenant: &str, proto: Protocol, raw: &[u8]) -> Result<WriteOutcome> {
        let limits = self.limits().for_tenant(tenant);
        let tdb = self.tsdb.tenant(tenant)?;
        self.check_head_series(tenant, &tdb, &limits)?;
        let mut w = LocalWrite::new(&tdb, limits);
        let mut failure: Option<Error> = None;
        self.decode(tenant, proto, raw, |ts| {
            if failure.is_none()
                && let Err(e) = w.add(ts)
            {
                failure = Some(e);
            }
        })?;
        if let Some(e) = failure {
            self.count_limited(tenant, &e);
            return Err(e);
        }
        w.commit()
    }

    fn count_limited(&self, tenant: &str, e: &Error) {
        if matches!(e, Error::RequestTooLarge(_)) {
            self.metrics.inc(
                "thanos_receive_limited_requests_total",
                &[tenant, "request"],
                1.0,
            );
        }
    }

    /// Decodes and validates a decompressed request into owned series, enforcing the
    /// tenant's per-request limits (the routing path).
    pub fn decode_owned(
        &self,
        tenant: &str,
        proto: Protocol,
        raw: &[u8],
    ) -> Result<Vec<ForwardSeries>> {
        let limits = self.limits().for_tenant(tenant);
        let mut out = Vec::new();
        let mut samples = 0u64;
        let mut failure: Option<Error> = None;
        self.decode(tenant, proto, raw, |ts| {
            if failure.is_some() {
                return;
            }
            samples += (ts.samples.len() + ts.histograms.len()) as u64;
            let res = if limits.series.is_some_and(|m| out.len() as u64 >= m) {
                Err(Error::RequestTooLarge(format!(
                    "request has more than {} series, the tenant's series limit per request",
                    limits.series.unwrap_or(0)
                )))
            } else if limits.samples.is_some_and(|m| samples > m) {
                Err(Error::RequestTooLarge(format!(
                    "request has more than {} samples, the tenant's sample limit per request",
                    limits.samples.unwrap_or(0)
                )))
            } else {
                ForwardSeries::from_wire(ts).map(|s| out.push(s))
            };
            if let Err(e) = res {
                failure = Some(e);
            }
        })?;
        if let Some(e) = failure {
            self.count_limited(tenant, &e);
            return Err(e);
        }
        Ok(out)
    }

    /// Writes owned series of `tenant` into its TSDB (local replica of a routed write,
    /// or a batch forwarded by a peer).
    pub fn write_series(&self, tenant: &str, series: &[ForwardSeries]) -> Result<WriteOutcome> {
        let limits = self.limits().for_tenant(tenant);
        let tdb = self.tsdb.tenant(tenant)?;
        self.check_head_series(tenant, &tdb, &limits)?;
        let mut w = LocalWrite::new(&tdb, EffectiveLimits::default());
        for s in series {
            w.add_owned(s)?;
        }
        w.commit()
    }

    /// Routes a decoded request over the hashring (router modes). Without a hashring
    /// the series are written locally.
    pub async fn route(
        self: &Arc<Self>,
        tenant: &str,
        series: Vec<ForwardSeries>,
    ) -> Result<WriteOutcome> {
        let Some(r) = &self.replication else {
            let me = self.clone();
            let t = tenant.to_owned();
            return tokio::task::spawn_blocking(move || me.write_series(&t, &series))
                .await
                .map_err(|e| Error::Internal(format!("write task failed: {e}")))?;
        };
        let ring = r.ring.read().clone();
        let local: Arc<dyn LocalWriter> = self.clone();
        let (res, report) = replicate(&ring, &r.opts, local, r.peers.clone(), tenant, series).await;
        for (ep, _) in &report.failed_endpoints {
            self.metrics
                .inc("thanos_receive_forward_errors_total", &[ep], 1.0);
        }
        for s in &report.forward_seconds {
            self.metrics.observe_forward_delay(*s);
        }
        let fwd_ok = report.forward_seconds.len()
            - report
                .failed_endpoints
                .len()
                .min(report.forward_seconds.len());
        if fwd_ok > 0 {
            self.metrics.inc(
                "thanos_receive_forward_requests_total",
                &["success"],
                fwd_ok as f64,
            );
        }
        if !report.failed_endpoints.is_empty() {
            self.metrics.inc(
                "thanos_receive_forward_requests_total",
                &["error"],
                report.failed_endpoints.len() as f64,
            );
        }
        self.metrics.inc(
            "thanos_receive_replications_total",
            &[if report.quorum_reached {
                "success"
            } else {
                "error"
            }],
            1.0,
        );
        res
    }
}

impl LocalWriter for Receiver {
    fn write_local(&self, tenant: &str, series: &[ForwardSeries]) -> Result<WriteOutcome> {
        self.write_series(tenant, series)
    }
}
