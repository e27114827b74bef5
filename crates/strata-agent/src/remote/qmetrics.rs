//! The self metrics of the remote-write queues, with Prometheus' names and its
//! `remote_name` and `url` labels.

use crate::metrics::{Counter, Gauge, Histogram, IntGauge, SEND_DURATION_BUCKETS, header, sample};

use super::queue::QueueCore;

pub(crate) struct QueueMetrics {
    pub samples_total: Counter,
    pub failed_total: Counter,
    pub retried_total: Counter,
    pub bytes_total: Counter,
    pub enqueue_retries: Counter,
    /// `dropped_total{reason="dropped_series"}`: dropped by write relabeling.
    pub dropped_series: Counter,
    /// `reason="unintentionally_dropped_series"`: unknown series ref.
    pub dropped_unknown: Counter,
    /// `reason="too_old"`: older than `sample_age_limit`.
    pub dropped_too_old: Counter,
    /// `reason="wal_truncated"`: deleted from the WAL for age before being sent.
    pub dropped_truncated: Counter,
    pub pending: IntGauge,
    pub highest_enqueued: Gauge,
    pub highest_sent: Gauge,
    pub shards: Gauge,
    pub shards_desired: Gauge,
    pub sent_batch_duration: Histogram,
    pub watcher_segment: Gauge,
    pub records_series: Counter,
    pub records_samples: Counter,
    pub records_other: Counter,
    pub record_decode_failures: Counter,
}

impl QueueMetrics {
    pub fn new() -> Self {
        QueueMetrics {
            samples_total: Counter::default(),
            failed_total: Counter::default(),
            retried_total: Counter::default(),
            bytes_total: Counter::default(),
            enqueue_retries: Counter::default(),
            dropped_series: Counter::default(),
            dropped_unknown: Counter::default(),
            dropped_too_old: Counter::default(),
            dropped_truncated: Counter::default(),
            pending: IntGauge::default(),
            highest_enqueued: Gauge::default(),
            highest_sent: Gauge::default(),
            shards: Gauge::default(),
            shards_desired: Gauge::default(),
            sent_batch_duration: Histogram::new(SEND_DURATION_BUCKETS),
            watcher_segment: Gauge::default(),
            records_series: Counter::default(),
            records_samples: Counter::default(),
            records_other: Counter::default(),
            record_decode_failures: Counter::default(),
        }
    }
}

type Value = fn(&QueueCore) -> f64;

/// Families with one sample per queue, labelled `remote_name` and `url`.
const SIMPLE: &[(&str, &str, &str, Value)] = &[
    (
        "prometheus_remote_storage_samples_total",
        "counter",
        "Total number of samples sent to remote storage.",
        |q| q.metrics.samples_total.get() as f64,
    ),
    (
        "prometheus_remote_storage_samples_failed_total",
        "counter",
        "Total number of samples which failed on send to remote storage, non-recoverable errors.",
        |q| q.metrics.failed_total.get() as f64,
    ),
    (
        "prometheus_remote_storage_samples_retried_total",
        "counter",
        "Total number of samples which failed on send to remote storage but were retried because the send error was recoverable.",
        |q| q.metrics.retried_total.get() as f64,
    ),
    (
        "prometheus_remote_storage_samples_pending",
        "gauge",
        "The number of samples pending in the queues shards to be sent to the remote storage.",
        |q| q.metrics.pending.get() as f64,
    ),
    (
        "prometheus_remote_storage_enqueue_retries_total",
        "counter",
        "Total number of times enqueue has failed because a shards queue was full.",
        |q| q.metrics.enqueue_retries.get() as f64,
    ),
    (
        "prometheus_remote_storage_bytes_total",
        "counter",
        "The total number of bytes of data (not metadata) sent by the queue after compression.",
        |q| q.metrics.bytes_total.get() as f64,
    ),
    (
        "prometheus_remote_storage_queue_highest_timestamp_seconds",
        "gauge",
        "Highest timestamp that was enqueued, in seconds since epoch. Initialized to 0 when no data has been received yet.",
        |q| q.metrics.highest_enqueued.get(),
    ),
    (
        "prometheus_remote_storage_queue_highest_sent_timestamp_seconds",
        "gauge",
        "Highest timestamp successfully sent by this queue, in seconds since epoch. Initialized to 0 when no data has been sent yet.",
        |q| q.metrics.highest_sent.get(),
    ),
    (
        "prometheus_remote_storage_shard_capacity",
        "gauge",
        "The capacity of each shard of the queue used for parallel sending to the remote storage.",
        |q| q.settings.capacity as f64,
    ),
    (
        "prometheus_remote_storage_shards",
        "gauge",
        "The number of shards used for parallel sending to the remote storage.",
        |q| q.metrics.shards.get(),
    ),
    (
        "prometheus_remote_storage_shards_max",
        "gauge",
        "The maximum number of shards that the queue is allowed to run.",
        |q| q.settings.max_shards as f64,
    ),
    (
        "prometheus_remote_storage_shards_min",
        "gauge",
        "The minimum number of shards that the queue is allowed to run.",
        |q| q.settings.min_shards as f64,
    ),
    (
        "prometheus_remote_storage_shards_desired",
        "gauge",
        "The number of shards that the queues shard calculation wants to run based on the rate of samples in vs. samples out.",
        |q| q.metrics.shards_desired.get(),
    ),
    (
        "prometheus_remote_storage_max_samples_per_send",
        "gauge",
        "The maximum number of samples to be sent, in a single request, to the remote storage.",
        |q| q.settings.max_samples_per_send as f64,
    ),
];

/// Renders every queue's metrics, family by family.
pub(crate) fn render(out: &mut String, queues: &[&QueueCore]) {
    if queues.is_empty() {
        return;
    }
    for (name, typ, help, value) in SIMPLE {
        header(out, name, help, typ);
        for q in queues {
            sample(
                out,
                name,
                &[("remote_name", &q.name), ("url", &q.url)],
                value(q),
            );
        }
    }
    let dropped = "prometheus_remote_storage_samples_dropped_total";
    header(
        out,
        dropped,
        "Total number of samples which were dropped after being read from the WAL before being sent via remote write, either via relabelling, due to being too old or unintentionally because of an unknown reference ID.",
        "counter",
    );
    for q in queues {
        let m = &q.metrics;
        for (reason, c) in [
            ("dropped_series", &m.dropped_series),
            ("too_old", &m.dropped_too_old),
            ("unintentionally_dropped_series", &m.dropped_unknown),
            ("wal_truncated", &m.dropped_truncated),
        ] {
            sample(
                out,
                dropped,
                &[
                    ("reason", reason),
                    ("remote_name", &q.name),
                    ("url", &q.url),
                ],
                c.get() as f64,
            );
        }
    }
    let dur = "prometheus_remote_storage_sent_batch_duration_seconds";
    header(
        out,
        dur,
        "Duration of send calls to the remote storage.",
        "histogram",
    );
    for q in queues {
        q.metrics.sent_batch_duration.render(
            out,
            dur,
            &[("remote_name", &q.name), ("url", &q.url)],
        );
    }
    let seg = "prometheus_wal_watcher_current_segment";
    header(
        out,
        seg,
        "Current segment the WAL watcher is reading records from.",
        "gauge",
    );
    for q in queues {
        sample(
            out,
            seg,
            &[("consumer", &q.name)],
            q.metrics.watcher_segment.get(),
        );
    }
    let rec = "prometheus_wal_watcher_records_read_total";
    header(
        out,
        rec,
        "Number of records read by the WAL watcher from the WAL.",
        "counter",
    );
    for q in queues {
        let m = &q.metrics;
        for (typ, c) in [
            ("samples", &m.records_samples),
            ("series", &m.records_series),
            ("other", &m.records_other),
        ] {
            sample(
                out,
                rec,
                &[("consumer", &q.name), ("type", typ)],
                c.get() as f64,
            );
        }
    }
    let fails = "prometheus_wal_watcher_record_decode_failures_total";
    header(
        out,
        fails,
        "Number of records read by the WAL watcher that resulted in an error when decoding.",
        "counter",
    );
    for q in queues {
        sample(
            out,
            fails,
            &[("consumer", &q.name)],
            q.metrics.record_decode_failures.get() as f64,
        );
    }
}
