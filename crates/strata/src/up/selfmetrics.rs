//! Strata's own metrics: gathered from the process and the TSDB, served on `/metrics`
//! and appended to the TSDB by the self-scrape (job `strata`).

use std::fmt::Write as _;
use std::sync::atomic::Ordering;

use strata_model::{Labels, gofmt::go_format_g};

use super::AppState;

pub(crate) struct Metric {
    pub name: &'static str,
    pub help: &'static str,
    pub kind: &'static str,
    pub labels: Vec<(&'static str, String)>,
    pub value: f64,
}

pub(crate) fn now_seconds() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

fn proc_status_kb(key: &str) -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with(key))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn proc_cpu_seconds() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/stat").ok()?;
    let rest = s.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ut: f64 = f.get(11)?.parse().ok()?;
    let st: f64 = f.get(12)?.parse().ok()?;
    Some((ut + st) / 100.0)
}

pub(crate) fn gather(st: &AppState) -> Vec<Metric> {
    let head = st.db.head();
    let blocks = st.db.blocks();
    let m = |name, help, kind, value| Metric {
        name,
        help,
        kind,
        labels: Vec::new(),
        value,
    };
    let mut v = vec![
        m(
            "process_resident_memory_bytes",
            "Resident memory size in bytes.",
            "gauge",
            proc_status_kb("VmRSS:").unwrap_or(0.0) * 1024.0,
        ),
        m(
            "process_cpu_seconds_total",
            "Total user and system CPU time spent in seconds.",
            "counter",
            proc_cpu_seconds().unwrap_or(0.0),
        ),
        m(
            "process_start_time_seconds",
            "Start time of the process since unix epoch in seconds.",
            "gauge",
            st.start_time,
        ),
        m(
            "prometheus_tsdb_head_series",
            "Total number of series in the head block.",
            "gauge",
            head.num_series() as f64,
        ),
        m(
            "prometheus_tsdb_head_samples_appended_total",
            "Total number of appended samples.",
            "counter",
            st.samples_appended.load(Ordering::Relaxed) as f64,
        ),
        m(
            "prometheus_tsdb_blocks_loaded",
            "Number of currently loaded data blocks.",
            "gauge",
            blocks.len() as f64,
        ),
        m(
            "prometheus_tsdb_storage_blocks_bytes",
            "The number of bytes that are currently used for local storage by all blocks.",
            "gauge",
            blocks.iter().map(|b| b.size()).sum::<u64>() as f64,
        ),
    ];
    v.push(Metric {
        name: "strata_build_info",
        help: "A metric with a constant '1' value labeled by version.",
        kind: "gauge",
        labels: vec![("version", env!("CARGO_PKG_VERSION").to_owned())],
        value: 1.0,
    });
    v
}

/// Text exposition format 0.0.4.
pub(crate) fn render(metrics: &[Metric]) -> String {
    let mut out = String::new();
    for m in metrics {
        let _ = writeln!(out, "# HELP {} {}", m.name, m.help);
        let _ = writeln!(out, "# TYPE {} {}", m.name, m.kind);
        out.push_str(m.name);
        if !m.labels.is_empty() {
            out.push('{');
            for (i, (k, v)) in m.labels.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                let _ = write!(out, "{k}={}", strata_model::gofmt::go_quote(v));
            }
            out.push('}');
        }
        let _ = writeln!(out, " {}", go_format_g(m.value));
    }
    out
}

/// Appends the current self-metrics (plus `up` and scrape meta-metrics) to the TSDB.
pub(crate) fn scrape_into_tsdb(st: &AppState) -> anyhow::Result<usize> {
    let started = std::time::Instant::now();
    let metrics = gather(st);
    let t = (now_seconds() * 1000.0) as i64;
    let mut app = st.db.appender();
    let target = [
        ("instance", st.instance.clone()),
        ("job", "strata".to_owned()),
    ];
    let mut add = |name: &str, extra: &[(&str, String)], v: f64| -> anyhow::Result<()> {
        let mut pairs: Vec<(&str, &str)> = vec![("__name__", name)];
        pairs.extend(target.iter().map(|(k, v)| (*k, v.as_str())));
        pairs.extend(extra.iter().map(|(k, v)| (*k, v.as_str())));
        app.append(&Labels::new(&pairs)?, t, v)?;
        Ok(())
    };
    for m in &metrics {
        add(m.name, &m.labels, m.value)?;
    }
    add("up", &[], 1.0)?;
    add("scrape_samples_scraped", &[], metrics.len() as f64)?;
    add(
        "scrape_duration_seconds",
        &[],
        started.elapsed().as_secs_f64(),
    )?;
    let out = app.commit()?;
    Ok(out.appended)
}
