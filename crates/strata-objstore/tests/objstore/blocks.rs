//! Real blocks written by strata-tsdb.

use std::path::Path;

use strata_model::Labels;
use strata_tsdb::meta::BlockMeta;
use strata_tsdb::{Db, DbOptions};

pub const SERIES: usize = 3;
pub const SAMPLES_PER_SERIES: i64 = 40;

pub fn labels(pairs: &[(&str, &str)]) -> Labels {
    Labels::new(pairs).unwrap()
}

/// Appends `SERIES` series of `SAMPLES_PER_SERIES` samples from `start` (ms, every 15 s)
/// to the database in `dir` and flushes them into one block.
pub fn write_block(dir: &Path, start: i64) -> BlockMeta {
    let db = Db::open(dir, DbOptions::default()).unwrap();
    let mut app = db.appender();
    for s in 0..SERIES {
        let l = labels(&[
            ("__name__", "http_requests_total"),
            ("instance", &format!("i{s}")),
        ]);
        for i in 0..SAMPLES_PER_SERIES {
            app.append(&l, start + i * 15_000, (s as i64 * 1000 + i) as f64)
                .unwrap();
        }
    }
    let out = app.commit().unwrap();
    assert!(out.rejected.is_empty(), "{:?}", out.rejected);
    let mut metas = db.flush().unwrap();
    assert_eq!(metas.len(), 1, "one block expected");
    metas.pop().unwrap()
}
