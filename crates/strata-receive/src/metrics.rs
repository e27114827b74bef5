//! The receiver's self metrics, named as Thanos names them so the seed platform's
//! dashboards and alerts keep working:
//!
//! - `thanos_receive_write_timeseries` / `thanos_receive_write_samples`: histograms of
//!   series and samples per request, by `code`, `tenant` and `method` (dashboards use
//!   `rate(..._sum[5m])` for series and samples written);
//! - `thanos_receive_requests_total{code,tenant}` (Strata: requests by outcome);
//! - `thanos_receive_forward_requests_total{result}`, `thanos_receive_forward_errors_total{endpoint}`,
//!   `thanos_receive_replications_total{result}`, `thanos_receive_forward_delay_seconds`;
//! - `thanos_receive_head_series_limited_requests_total{tenant}`,
//!   `thanos_receive_limited_requests_total{tenant,reason}`;
//! - `thanos_receive_hashrings_file_changes_total`, `thanos_receive_config_last_reload_successful`,
//!   `thanos_receive_replication_factor`;
//! - `prometheus_tsdb_head_series{tenant}` and `prometheus_tsdb_head_samples_appended_total{tenant}`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::Mutex;
use strata_model::gofmt::go_format_g;

/// Buckets of the per-request series and sample histograms (Thanos' 10^1..10^5).
const COUNT_BUCKETS: [f64; 5] = [10.0, 100.0, 1000.0, 10000.0, 100000.0];
/// Buckets of the forward latency histogram, in seconds.
const DELAY_BUCKETS: [f64; 10] = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0];

#[derive(Debug, Clone, Default)]
struct Histogram {
    buckets: Vec<u64>,
    count: u64,
    sum: f64,
}

impl Histogram {
    fn observe(&mut self, bounds: &[f64], v: f64) {
        if self.buckets.len() != bounds.len() {
            self.buckets = vec![0; bounds.len()];
        }
        for (b, le) in self.buckets.iter_mut().zip(bounds) {
            if v <= *le {
                *b += 1;
            }
        }
        self.count += 1;
        self.sum += v;
    }
}

/// Label values of a series of a metric family, in the family's label-name order.
type Key = Vec<String>;

#[derive(Debug, Default)]
struct Families {
    counters: BTreeMap<&'static str, BTreeMap<Key, f64>>,
    histograms: BTreeMap<&'static str, BTreeMap<Key, Histogram>>,
}

/// The receiver's metrics registry.
#[derive(Debug, Default)]
pub struct ReceiveMetrics {
    families: Mutex<Families>,
    pub hashring_changes: AtomicU64,
    pub config_reload_ok: AtomicU64,
    pub replication_factor: AtomicU64,
}

/// One request's outcome, for the write histograms.
#[derive(Debug, Clone, Copy)]
pub struct RequestObservation<'a> {
    pub code: u16,
    pub tenant: &'a str,
    pub series: usize,
    pub samples: usize,
}

impl ReceiveMetrics {
    pub fn new() -> Self {
        let m = ReceiveMetrics::default();
        m.config_reload_ok.store(1, Ordering::Relaxed);
        m
    }

    /// Records a write request's result.
    pub fn observe_request(&self, o: RequestObservation<'_>) {
        let key = vec![o.code.to_string(), o.tenant.to_owned(), "post".to_owned()];
        let mut f = self.families.lock();
        f.histograms
            .entry("thanos_receive_write_timeseries")
            .or_default()
            .entry(key.clone())
            .or_default()
            .observe(&COUNT_BUCKETS, o.series as f64);
        f.histograms
            .entry("thanos_receive_write_samples")
            .or_default()
            .entry(key)
            .or_default()
            .observe(&COUNT_BUCKETS, o.samples as f64);
        *f.counters
            .entry("thanos_receive_requests_total")
            .or_default()
            .entry(vec![o.code.to_string(), o.tenant.to_owned()])
            .or_default() += 1.0;
    }

    /// Adds `v` to the counter `name` with these label values.
    pub fn inc(&self, name: &'static str, labels: &[&str], v: f64) {
        let key = labels.iter().map(|s| (*s).to_owned()).collect();
        *self
            .families
            .lock()
            .counters
            .entry(name)
            .or_default()
            .entry(key)
            .or_default() += v;
    }

    /// Records the latency of one forward request.
    pub fn observe_forward_delay(&self, seconds: f64) {
        self.families
            .lock()
            .histograms
            .entry("thanos_receive_forward_delay_seconds")
            .or_default()
            .entry(Vec::new())
            .or_default()
            .observe(&DELAY_BUCKETS, seconds);
    }

    /// Renders the families in the text exposition format; `head` lists each tenant's
    /// (head series, samples appended).
    pub fn render(&self, head: &[(String, u64, u64)]) -> String {
        let mut out = String::new();
        let f = self.families.lock();
        for (name, series) in &f.histograms {
            let (help, names, bounds): (&str, &[&str], &[f64]) = match *name {
                "thanos_receive_forward_delay_seconds" => (
                    "The delay of forward requests to peer receivers.",
                    &[],
                    &DELAY_BUCKETS,
                ),
                "thanos_receive_write_timeseries" => (
                    "The number of timeseries received in the incoming write requests.",
                    &["code", "tenant", "method"],
                    &COUNT_BUCKETS,
                ),
                _ => (
                    "The number of sampled received in the incoming write requests.",
                    &["code", "tenant", "method"],
                    &COUNT_BUCKETS,
                ),
            };
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
            for (key, h) in series {
                let base = label_pairs(names, key);
                for (le, c) in bounds.iter().zip(&h.buckets) {
                    let _ = writeln!(
                        out,
                        "{name}_bucket{{{}le=\"{}\"}} {c}",
                        with_comma(&base),
                        go_format_g(*le)
                    );
                }
                let _ = writeln!(
                    out,
                    "{name}_bucket{{{}le=\"+Inf\"}} {}",
                    with_comma(&base),
                    h.count
                );
                let _ = writeln!(out, "{name}_sum{} {}", braces(&base), go_format_g(h.sum));
                let _ = writeln!(out, "{name}_count{} {}", braces(&base), h.count);
            }
        }
        for (name, series) in &f.counters {
            let (help, names) = counter_info(name);
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
            for (key, v) in series {
                let _ = writeln!(
                    out,
                    "{name}{} {}",
                    braces(&label_pairs(names, key)),
                    go_format_g(*v)
                );
            }
        }
        drop(f);
        let gauges = [
            (
                "thanos_receive_hashrings_file_changes_total",
                "The number of times the hashrings configuration file has changed.",
                "counter",
                self.hashring_changes.load(Ordering::Relaxed),
            ),
            (
                "thanos_receive_config_last_reload_successful",
                "Whether the last hashring and limits configuration reload attempt was successful.",
                "gauge",
                self.config_reload_ok.load(Ordering::Relaxed),
            ),
            (
                "thanos_receive_replication_factor",
                "The replication factor of the receiver.",
                "gauge",
                self.replication_factor.load(Ordering::Relaxed),
            ),
        ];
        for (name, help, kind, v) in gauges {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {v}"
            );
        }
        if !head.is_empty() {
            out.push_str("# HELP prometheus_tsdb_head_series Total number of series in the head block.\n# TYPE prometheus_tsdb_head_series gauge\n");
            for (t, series, _) in head {
                let _ = writeln!(
                    out,
                    "prometheus_tsdb_head_series{{tenant=\"{}\"}} {series}",
                    escape(t)
                );
            }
            out.push_str("# HELP prometheus_tsdb_head_samples_appended_total Total number of appended samples.\n# TYPE prometheus_tsdb_head_samples_appended_total counter\n");
            for (t, _, samples) in head {
                let _ = writeln!(
                    out,
                    "prometheus_tsdb_head_samples_appended_total{{tenant=\"{}\"}} {samples}",
                    escape(t)
                );
            }
        }
        out
    }
}

fn counter_info(name: &str) -> (&'static str, &'static [&'static str]) {
    match name {
        "thanos_receive_requests_total" => (
            "Write requests by status code and tenant.",
            &["code", "tenant"],
        ),
        "thanos_receive_forward_requests_total" => ("The number of forward requests.", &["result"]),
        "thanos_receive_forward_errors_total" => {
            ("Failed forward requests by peer endpoint.", &["endpoint"])
        }
        "thanos_receive_replications_total" => (
            "The number of replication operations done by the receiver. The success of replication is fulfilled when a quorum is met.",
            &["result"],
        ),
        "thanos_receive_head_series_limited_requests_total" => (
            "The total number of remote write requests that have been dropped due to active series limiting.",
            &["tenant"],
        ),
        "thanos_receive_limited_requests_total" => (
            "Write requests rejected by a limit, by tenant and limit.",
            &["tenant", "reason"],
        ),
        _ => ("", &[]),
    }
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn label_pairs(names: &[&str], values: &[String]) -> String {
    names
        .iter()
        .zip(values)
        .map(|(n, v)| format!("{n}=\"{}\"", escape(v)))
        .collect::<Vec<_>>()
        .join(",")
}

fn braces(s: &str) -> String {
    if s.is_empty() {
        String::new()
    } else {
        format!("{{{s}}}")
    }
}

fn with_comma(s: &str) -> String {
    if s.is_empty() {
        String::new()
    } else {
        format!("{s},")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_thanos_names() {
        let m = ReceiveMetrics::new();
        m.observe_request(RequestObservation {
            code: 204,
            tenant: "a",
            series: 50,
            samples: 500,
        });
        m.inc("thanos_receive_forward_requests_total", &["success"], 1.0);
        let s = m.render(&[("a".into(), 7, 9)]);
        assert!(s.contains("thanos_receive_write_timeseries_bucket{code=\"204\",tenant=\"a\",method=\"post\",le=\"100\"} 1"), "{s}");
        assert!(s.contains(
            "thanos_receive_write_samples_sum{code=\"204\",tenant=\"a\",method=\"post\"} 500"
        ));
        assert!(s.contains("thanos_receive_forward_requests_total{result=\"success\"} 1"));
        assert!(s.contains("prometheus_tsdb_head_series{tenant=\"a\"} 7"));
    }
}
