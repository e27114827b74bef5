//! Block shipping for receivers and `strata up`: the bucket from Thanos' objstore flags,
//! one shipper per tenant (external labels plus the tenant label on every block), and a
//! retention guard so a local block is deleted only once it is in the bucket.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use strata_objstore::shipper::ShipperState;
use strata_objstore::{Bucket, Shipper};
use strata_receive::Receiver;
use strata_tsdb::RetentionGuard;
use tracing::{info, warn};

/// The bucket from `--objstore.config-file` or `--objstore.config` (Thanos' YAML).
pub fn bucket_from_flags(
    file: Option<&Path>,
    inline: Option<&str>,
) -> anyhow::Result<Option<Bucket>> {
    let yaml = match (file, inline) {
        (Some(_), Some(_)) => {
            anyhow::bail!("--objstore.config-file and --objstore.config are mutually exclusive")
        }
        (Some(p), None) => std::fs::read_to_string(p)
            .with_context(|| format!("reading --objstore.config-file {}", p.display()))?,
        (None, Some(s)) => s.to_owned(),
        (None, None) => return Ok(None),
    };
    Ok(Some(
        strata_objstore::from_yaml(&yaml).context("objstore configuration")?,
    ))
}

/// Releases a block for deletion once the shipper recorded its upload.
struct ShippedGuard {
    dir: PathBuf,
}

impl RetentionGuard for ShippedGuard {
    fn may_delete(&self, ulid: &str) -> bool {
        match ShipperState::read(&self.dir) {
            Ok(Some(s)) => s.uploaded.iter().any(|u| u == ulid),
            _ => false,
        }
    }
}

/// Uploads every tenant's finished blocks every `every`, forever.
pub async fn ship_loop(recv: Arc<Receiver>, bucket: Bucket, every: Duration) {
    let mut shippers: HashMap<String, Arc<Shipper>> = HashMap::new();
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        ship_once(&recv, &bucket, &mut shippers).await;
    }
}

/// One round of uploads over all tenants.
pub async fn ship_once(
    recv: &Receiver,
    bucket: &Bucket,
    shippers: &mut HashMap<String, Arc<Shipper>>,
) {
    for t in recv.tsdb.tenants() {
        let shipper = match shippers.get(&t.tenant) {
            Some(s) => s.clone(),
            None => {
                let labels = crate::receive::queryable(recv).tenant_labels(&t.tenant);
                let dir = t.db.dir().to_owned();
                match Shipper::new(bucket.clone(), &dir, &labels, "receive") {
                    Ok(s) => {
                        t.db.set_retention_guard(Arc::new(ShippedGuard { dir }));
                        let s = Arc::new(s);
                        shippers.insert(t.tenant.clone(), s.clone());
                        s
                    }
                    Err(e) => {
                        warn!(tenant = %t.tenant, error = %e, "cannot ship this tenant's blocks");
                        continue;
                    }
                }
            }
        };
        match shipper.sync().await {
            Ok(stats) if !stats.uploaded.is_empty() => {
                info!(tenant = %t.tenant, blocks = ?stats.uploaded, "uploaded blocks")
            }
            Ok(_) => {}
            Err(e) => warn!(tenant = %t.tenant, error = %e, "block upload failed; retrying later"),
        }
    }
}
