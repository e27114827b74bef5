//! One TSDB per tenant under `--tsdb.path/<tenant>/`, opened on the tenant's first write
//! (and at start for tenants that already have data), flushed to blocks and closed after
//! a configurable time without writes.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use parking_lot::{Mutex, RwLock};
use strata_model::clock::SharedClock;
use strata_tsdb::meta::BlockMeta;
use strata_tsdb::{Db, DbOptions};
use tracing::{info, warn};

use crate::error::{Error, Result};
use crate::tenancy::validate_tenant;

/// A tenant's open TSDB.
pub struct TenantDb {
    pub tenant: String,
    pub db: Arc<Db>,
    last_write_ms: AtomicI64,
    /// Samples (floats and histograms) written since the TSDB was opened.
    pub samples_appended: AtomicU64,
}

impl TenantDb {
    /// Milliseconds (by the injected clock) of the last write.
    pub fn last_write_ms(&self) -> i64 {
        self.last_write_ms.load(Ordering::Relaxed)
    }
}

/// The tenants' TSDBs.
pub struct MultiTsdb {
    dir: PathBuf,
    opts: DbOptions,
    clock: SharedClock,
    tenants: RwLock<HashMap<String, Arc<TenantDb>>>,
    /// Serializes opening, so two first writes of a tenant open its TSDB once.
    opening: Mutex<()>,
}

impl MultiTsdb {
    /// Opens `dir`, and the TSDB of every tenant that already has a directory there.
    pub fn open(dir: &Path, opts: DbOptions, clock: SharedClock) -> Result<MultiTsdb> {
        std::fs::create_dir_all(dir).map_err(|e| Error::Io {
            what: format!("creating {}", dir.display()),
            source: e,
        })?;
        let m = MultiTsdb {
            dir: dir.to_owned(),
            opts,
            clock,
            tenants: RwLock::new(HashMap::new()),
            opening: Mutex::new(()),
        };
        let entries = std::fs::read_dir(dir).map_err(|e| Error::Io {
            what: format!("listing {}", dir.display()),
            source: e,
        })?;
        for entry in entries.flatten() {
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            if !entry.path().is_dir() || validate_tenant(&name).is_err() || name.starts_with('.') {
                continue;
            }
            m.tenant(&name)?;
        }
        Ok(m)
    }

    /// The directory holding the tenants.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The tenant's TSDB, opened (and created) if needed; marks it as written to now.
    pub fn tenant(&self, tenant: &str) -> Result<Arc<TenantDb>> {
        let now = self.clock.now_ms();
        if let Some(t) = self.tenants.read().get(tenant) {
            t.last_write_ms.store(now, Ordering::Relaxed);
            return Ok(t.clone());
        }
        validate_tenant(tenant)?;
        let _g = self.opening.lock();
        if let Some(t) = self.tenants.read().get(tenant) {
            return Ok(t.clone());
        }
        let path = self.dir.join(tenant);
        let db = Db::open(&path, self.opts.clone()).map_err(|e| Error::OpenTenant {
            tenant: tenant.to_owned(),
            source: e,
        })?;
        info!(tenant, dir = %path.display(), "opened tenant TSDB");
        let t = Arc::new(TenantDb {
            tenant: tenant.to_owned(),
            db: Arc::new(db),
            last_write_ms: AtomicI64::new(now),
            samples_appended: AtomicU64::new(0),
        });
        self.tenants.write().insert(tenant.to_owned(), t.clone());
        Ok(t)
    }

    /// The tenant's TSDB if it is open.
    pub fn get(&self, tenant: &str) -> Option<Arc<TenantDb>> {
        self.tenants.read().get(tenant).cloned()
    }

    /// Every open tenant, sorted by id.
    pub fn tenants(&self) -> Vec<Arc<TenantDb>> {
        let mut v: Vec<_> = self.tenants.read().values().cloned().collect();
        v.sort_by(|a, b| a.tenant.cmp(&b.tenant));
        v
    }

    /// Compacts every tenant's head that spans enough time (see [`Db::compact`]).
    pub fn compact_all(&self) -> Vec<(String, Result<Vec<BlockMeta>>)> {
        self.tenants()
            .into_iter()
            .map(|t| {
                let r = t.db.compact().map_err(|e| Error::Tsdb {
                    tenant: t.tenant.clone(),
                    source: e,
                });
                (t.tenant.clone(), r)
            })
            .collect()
    }

    /// Persists every tenant's head as blocks now.
    pub fn flush_all(&self) -> Result<Vec<(String, BlockMeta)>> {
        let mut out = Vec::new();
        for t in self.tenants() {
            let metas = t.db.flush().map_err(|e| Error::Tsdb {
                tenant: t.tenant.clone(),
                source: e,
            })?;
            out.extend(metas.into_iter().map(|m| (t.tenant.clone(), m)));
        }
        Ok(out)
    }

    /// Fsyncs every tenant's WAL.
    pub fn sync_all(&self) -> Result<()> {
        for t in self.tenants() {
            t.db.sync().map_err(|e| Error::Tsdb {
                tenant: t.tenant.clone(),
                source: e,
            })?;
        }
        Ok(())
    }

    /// Flushes and closes the tenants without writes for `idle_ms` (0 disables). A
    /// tenant still in use by a request is left open and retried next time. Returns
    /// the closed tenants.
    pub fn close_idle(&self, idle_ms: i64) -> Vec<String> {
        if idle_ms <= 0 {
            return Vec::new();
        }
        let now = self.clock.now_ms();
        let mut closed = Vec::new();
        for t in self.tenants() {
            if now - t.last_write_ms() < idle_ms {
                continue;
            }
            if let Err(e) = t.db.flush() {
                warn!(tenant = %t.tenant, error = %e, "flushing idle tenant failed; keeping it open");
                continue;
            }
            let last = t.last_write_ms();
            let name = t.tenant.clone();
            drop(t);
            let mut map = self.tenants.write();
            let still_idle = map
                .get(&name)
                .is_some_and(|t| Arc::strong_count(t) == 1 && t.last_write_ms() == last);
            if still_idle {
                map.remove(&name);
                info!(tenant = %name, "closed idle tenant TSDB");
                closed.push(name);
            }
        }
        closed
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use strata_model::Labels;
    use strata_model::clock::ManualClock;

    #[test]
    fn opens_on_first_write_reopens_at_start_and_closes_idle() {
        let dir = tempfile::tempdir().unwrap();
        let clock = ManualClock::new(1_000_000);
        let m = MultiTsdb::open(dir.path(), DbOptions::default(), Arc::new(clock.clone())).unwrap();
        assert!(m.tenants().is_empty());
        let t = m.tenant("a").unwrap();
        let mut app = t.db.appender();
        app.append(&Labels::new(&[("__name__", "x")]).unwrap(), 1000, 1.0)
            .unwrap();
        app.commit().unwrap();
        drop(t);
        m.tenant("b").unwrap();
        assert!(m.tenant("../x").is_err());
        clock.advance(10_000);
        m.tenant("b").unwrap();
        assert_eq!(m.close_idle(5_000), vec!["a".to_string()]);
        assert_eq!(m.tenants().len(), 1);
        drop(m);
        let m = MultiTsdb::open(dir.path(), DbOptions::default(), Arc::new(clock)).unwrap();
        let names: Vec<_> = m.tenants().iter().map(|t| t.tenant.clone()).collect();
        assert_eq!(names, ["a", "b"]);
        assert_eq!(m.get("a").unwrap().db.blocks().len(), 1);
    }
}
