//! Lock-free self metrics and their rendering in the Prometheus text format (0.0.4).

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

use strata_model::gofmt::go_format_g;

/// A monotonically increasing count.
#[derive(Debug, Default)]
pub struct Counter(AtomicU64);

impl Counter {
    pub fn inc(&self) {
        self.add(1);
    }

    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }

    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// A value that goes up and down, stored as `f64` bits.
#[derive(Debug, Default)]
pub struct Gauge(AtomicU64);

impl Gauge {
    pub fn set(&self, v: f64) {
        self.0.store(v.to_bits(), Ordering::Relaxed);
    }

    pub fn get(&self) -> f64 {
        f64::from_bits(self.0.load(Ordering::Relaxed))
    }

    /// Raises the gauge to `v` if `v` is larger.
    pub fn set_max(&self, v: f64) {
        let mut cur = self.0.load(Ordering::Relaxed);
        while v > f64::from_bits(cur) {
            match self.0.compare_exchange_weak(
                cur,
                v.to_bits(),
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return,
                Err(now) => cur = now,
            }
        }
    }
}

/// A signed gauge of integer counts (pending samples).
#[derive(Debug, Default)]
pub struct IntGauge(std::sync::atomic::AtomicI64);

impl IntGauge {
    pub fn add(&self, n: i64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }

    pub fn get(&self) -> i64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// client_golang's `DefBuckets` plus the 25, 60, 120 and 300 s buckets Prometheus adds
/// for `sent_batch_duration_seconds`.
pub const SEND_DURATION_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 25.0, 60.0, 120.0, 300.0,
];

/// A histogram with fixed upper bounds.
#[derive(Debug)]
pub struct Histogram {
    bounds: &'static [f64],
    counts: Vec<AtomicU64>,
    count: AtomicU64,
    sum: Gauge,
}

impl Histogram {
    pub fn new(bounds: &'static [f64]) -> Self {
        Histogram {
            bounds,
            counts: bounds.iter().map(|_| AtomicU64::new(0)).collect(),
            count: AtomicU64::new(0),
            sum: Gauge::default(),
        }
    }

    pub fn observe(&self, v: f64) {
        if let Some(i) = self.bounds.iter().position(|b| v <= *b)
            && let Some(c) = self.counts.get(i)
        {
            c.fetch_add(1, Ordering::Relaxed);
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        let mut cur = self.sum.0.load(Ordering::Relaxed);
        loop {
            let next = (f64::from_bits(cur) + v).to_bits();
            match self
                .sum
                .0
                .compare_exchange_weak(cur, next, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => break,
                Err(now) => cur = now,
            }
        }
    }

    pub fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    /// Writes `_bucket`, `_sum` and `_count` lines.
    pub fn render(&self, out: &mut String, name: &str, labels: &[(&str, &str)]) {
        let mut cumulative = 0u64;
        let bucket = format!("{name}_bucket");
        for (b, c) in self.bounds.iter().zip(&self.counts) {
            cumulative += c.load(Ordering::Relaxed);
            let le = go_format_g(*b);
            sample_with(out, &bucket, labels, Some(("le", &le)), cumulative as f64);
        }
        let total = self.count();
        sample_with(out, &bucket, labels, Some(("le", "+Inf")), total as f64);
        sample(out, &format!("{name}_sum"), labels, self.sum.get());
        sample(out, &format!("{name}_count"), labels, total as f64);
    }
}

/// Writes the `# HELP` and `# TYPE` lines of a metric family.
pub fn header(out: &mut String, name: &str, help: &str, typ: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {typ}");
}

/// Writes one sample line.
pub fn sample(out: &mut String, name: &str, labels: &[(&str, &str)], v: f64) {
    sample_with(out, name, labels, None, v);
}

fn sample_with(
    out: &mut String,
    name: &str,
    labels: &[(&str, &str)],
    extra: Option<(&str, &str)>,
    v: f64,
) {
    out.push_str(name);
    let mut first = true;
    for (n, val) in labels.iter().copied().chain(extra) {
        out.push(if first { '{' } else { ',' });
        first = false;
        out.push_str(n);
        out.push_str("=\"");
        escape_value(out, val);
        out.push('"');
    }
    if !first {
        out.push('}');
    }
    out.push(' ');
    out.push_str(&go_format_g(v));
    out.push('\n');
}

fn escape_value(out: &mut String, v: &str) {
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn renders_text_format() {
        let mut out = String::new();
        header(&mut out, "x_total", "An x.", "counter");
        sample(&mut out, "x_total", &[("a", "q\"\\\n")], 1e6);
        sample(&mut out, "y", &[], 0.5);
        assert_eq!(
            out,
            "# HELP x_total An x.\n# TYPE x_total counter\nx_total{a=\"q\\\"\\\\\\n\"} 1e+06\ny 0.5\n"
        );
    }

    #[test]
    fn histogram_is_cumulative() {
        let h = Histogram::new(&[1.0, 2.0]);
        h.observe(0.5);
        h.observe(1.5);
        h.observe(3.0);
        let mut out = String::new();
        h.render(&mut out, "d", &[("q", "1")]);
        assert!(out.contains("d_bucket{q=\"1\",le=\"1\"} 1\n"), "{out}");
        assert!(out.contains("d_bucket{q=\"1\",le=\"2\"} 2\n"), "{out}");
        assert!(out.contains("d_bucket{q=\"1\",le=\"+Inf\"} 3\n"), "{out}");
        assert!(out.contains("d_sum{q=\"1\"} 5\n"), "{out}");
        assert!(out.contains("d_count{q=\"1\"} 3\n"), "{out}");
    }

    #[test]
    fn gauge_max() {
        let g = Gauge::default();
        g.set_max(3.0);
        g.set_max(2.0);
        assert_eq!(g.get(), 3.0);
    }
}
