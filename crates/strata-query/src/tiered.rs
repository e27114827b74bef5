//! Recent data from a local store, older data from a remote one: the all-in-one process
//! reads its own TSDBs directly and reaches the bucket (through the store gateway) only
//! for the part of a query older than what it still holds locally.

use std::sync::Arc;

use strata_model::merge::MergeQuerier;
use strata_model::storage::{Querier, Queryable, ReadContext};

/// The oldest timestamp the local store still holds (`i64::MAX`: nothing).
pub type LocalMin = Arc<dyn Fn() -> i64 + Send + Sync>;

/// A [`Queryable`] over a local store and a remote one holding older data.
pub struct TieredQueryable {
    local: Arc<dyn Queryable>,
    remote: Arc<dyn Queryable>,
    local_min: LocalMin,
}

impl TieredQueryable {
    pub fn new(local: Arc<dyn Queryable>, remote: Arc<dyn Queryable>, local_min: LocalMin) -> Self {
        TieredQueryable {
            local,
            remote,
            local_min,
        }
    }

    fn split(
        &self,
        mint: i64,
        maxt: i64,
        ctx: Option<&ReadContext>,
    ) -> strata_model::Result<Box<dyn Querier>> {
        let open = |q: &Arc<dyn Queryable>, lo: i64, hi: i64| match ctx {
            Some(c) => q.querier_with(lo, hi, c),
            None => q.querier(lo, hi),
        };
        let boundary = (self.local_min)();
        let local = open(&self.local, mint, maxt)?;
        if mint >= boundary {
            return Ok(local);
        }
        // Overlap by one block's worth is harmless: identical series merge by timestamp.
        let remote = open(&self.remote, mint, maxt.min(boundary.saturating_add(1)))?;
        Ok(Box::new(MergeQuerier::new(vec![local, remote])))
    }
}

impl Queryable for TieredQueryable {
    fn querier(&self, mint: i64, maxt: i64) -> strata_model::Result<Box<dyn Querier>> {
        self.split(mint, maxt, None)
    }

    fn querier_with(
        &self,
        mint: i64,
        maxt: i64,
        ctx: &ReadContext,
    ) -> strata_model::Result<Box<dyn Querier>> {
        self.split(mint, maxt, Some(ctx))
    }
}
