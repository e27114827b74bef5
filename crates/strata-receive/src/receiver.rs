//! The receiver: tenants' TSDBs, limits, metadata and metrics behind one write entry
//! point, [`Receiver::write`], which the HTTP handler (and peers forwarding over gRPC)
//! call with a decompressed remote-write request.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::RwLock;
use strata_model::Labels;
use strata_remote::rw1::{TimeSeriesRef, for_each_series};

use crate::error::{Error, Result};
use crate::limits::LimitsConfig;
use crate::local_write::{LocalWrite, WriteOutcome};
use crate::metrics::ReceiveMetrics;
use crate::multitsdb::MultiTsdb;
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

/// The receiver component.
pub struct Receiver {
    pub opts: ReceiverOptions,
    pub tsdb: Arc<MultiTsdb>,
    pub metrics: ReceiveMetrics,
    limits: RwLock<Arc<LimitsConfig>>,
    inflight: AtomicU64,
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
            limits: RwLock::new(Arc::new(LimitsConfig::default())),
            inflight: AtomicU64::new(0),
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

    /// Writes a decompressed remote write 1.0 request for `tenant` into its TSDB.
    pub fn write(&self, tenant: &str, raw: &[u8]) -> Result<WriteOutcome> {
        let limits = self.limits().for_tenant(tenant);
        let tdb = self.tsdb.tenant(tenant)?;
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
        let mut w = LocalWrite::new(&tdb, limits);
        let mut scratch = TimeSeriesRef::default();
        let mut failure: Option<Error> = None;
        for_each_series(raw, &mut scratch, |ts| {
            if failure.is_none()
                && let Err(e) = w.add(ts)
            {
                failure = Some(e);
            }
            Ok(())
        })
        .map_err(|e| Error::InvalidRequest(format!("decoding write request: {e}")))?;
        if let Some(e) = failure {
            if matches!(e, Error::RequestTooLarge(_)) {
                self.metrics.inc(
                    "thanos_receive_limited_requests_total",
                    &[tenant, "request"],
                    1.0,
                );
            }
            return Err(e);
        }
        w.commit()
    }
}
