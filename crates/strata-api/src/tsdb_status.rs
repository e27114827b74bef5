//! [`TsdbStatusProvider`] over a Strata TSDB head: the head's counters and the top-N
//! lists Prometheus computes from the head's postings.

use std::collections::BTreeMap;
use std::sync::Arc;

use strata_model::METRIC_NAME;
use strata_tsdb::Head;

use crate::errors::ApiError;
use crate::state::{HeadStatus, Stat, TsdbStatus, TsdbStatusProvider};

/// TSDB status of a head (for `strata up` and receive).
pub struct HeadTsdbStatus {
    head: Arc<Head>,
}

impl HeadTsdbStatus {
    pub fn new(head: Arc<Head>) -> Self {
        HeadTsdbStatus { head }
    }
}

/// The `limit` largest entries, largest first; equal values by name.
fn top(mut v: Vec<Stat>, limit: usize) -> Vec<Stat> {
    v.sort_by(|a, b| b.value.cmp(&a.value).then_with(|| a.name.cmp(&b.name)));
    v.truncate(limit);
    v
}

impl TsdbStatusProvider for HeadTsdbStatus {
    fn tsdb_status(&self, limit: usize) -> Result<TsdbStatus, ApiError> {
        let stats = self.head.stats();
        let pairs = self.head.label_pair_counts();
        let mut by_metric = Vec::new();
        let mut by_pair = Vec::with_capacity(pairs.len());
        // Per label name: number of values and bytes of the values.
        let mut per_name: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
        for (name, value, count) in &pairs {
            if name == METRIC_NAME {
                by_metric.push(Stat {
                    name: value.clone(),
                    value: *count as u64,
                });
            }
            by_pair.push(Stat {
                name: format!("{name}={value}"),
                value: *count as u64,
            });
            let e = per_name.entry(name.as_str()).or_default();
            e.0 += 1;
            e.1 += value.len() as u64;
        }
        let values = per_name
            .iter()
            .map(|(n, (c, _))| Stat {
                name: (*n).to_owned(),
                value: *c,
            })
            .collect();
        let memory = per_name
            .iter()
            .map(|(n, (_, b))| Stat {
                name: (*n).to_owned(),
                value: *b,
            })
            .collect();
        Ok(TsdbStatus {
            head_stats: HeadStatus {
                num_series: stats.num_series,
                num_label_pairs: pairs.len() as u64,
                chunk_count: stats.chunks,
                min_time: stats.min_time.unwrap_or(i64::MAX),
                max_time: stats.max_time.unwrap_or(i64::MIN),
            },
            series_count_by_metric_name: top(by_metric, limit),
            label_value_count_by_label_name: top(values, limit),
            memory_in_bytes_by_label_name: top(memory, limit),
            series_count_by_label_value_pair: top(by_pair, limit),
        })
    }
}
