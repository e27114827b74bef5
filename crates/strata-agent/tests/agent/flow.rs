//! Steady flow (1.0 and 2.0), segment rotation, truncation, relabeling and external
//! labels.

use std::time::Duration;

use strata_agent::{AgentStorage, RemoteWrite, RemoteWriteOptions};
use strata_model::Labels;

use super::harness::{
    Appender, FAST_QUEUE, assert_exactly_once, metric, rw_config, small_wal, wait_for,
};
use super::receiver::Receiver;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn steady_flow_every_sample_once_in_order() {
    let tmp = tempfile::tempdir().unwrap();
    let db = AgentStorage::open(tmp.path(), small_wal()).unwrap();
    let recv = Receiver::start().await;
    let cfg = rw_config(
        &recv.url(),
        &format!("{FAST_QUEUE}    authorization:\n      credentials: tok\n"),
    );
    let rw =
        RemoteWrite::start(&db, &[cfg], &Labels::empty(), RemoteWriteOptions::default()).unwrap();
    let mut app = Appender::start(&db, "steady", 50, Duration::from_millis(2));
    // Enough data to rotate the 64 KiB segments several times.
    wait_for("segments to rotate", Duration::from_secs(20), || {
        db.current_segment().unwrap() >= 3
    })
    .await;
    let committed = app.stop();
    let total: usize = committed.values().map(Vec::len).sum();
    wait_for("all samples", Duration::from_secs(10), || {
        recv.shared.count() >= total
    })
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_exactly_once(&committed, &recv.shared.by_series());
    assert!(recv.shared.samples.lock().iter().all(|r| r.v == r.t as f64));
    assert!(
        recv.shared
            .auth
            .lock()
            .iter()
            .all(|(a, _)| a.as_deref() == Some("Bearer tok"))
    );

    // Metrics.
    let mut text = String::new();
    db.render(&mut text);
    rw.render(&mut text);
    let q = "remote_name=\"test\"";
    assert_eq!(
        metric(&text, "prometheus_remote_storage_samples_total", q),
        total as f64
    );
    assert_eq!(
        metric(&text, "prometheus_remote_storage_samples_failed_total", q),
        0.0
    );
    assert_eq!(
        metric(&text, "prometheus_remote_storage_samples_pending", q),
        0.0
    );
    assert_eq!(
        metric(&text, "prometheus_agent_samples_appended_total", "float"),
        total as f64
    );
    assert!(
        metric(
            &text,
            "prometheus_wal_watcher_current_segment",
            "consumer=\"test\""
        ) >= 3.0
    );
    assert!(metric(&text, "prometheus_tsdb_wal_storage_size_bytes", "") > 0.0);
    assert_eq!(metric(&text, "prometheus_remote_storage_shards", q), 1.0);

    // Everything acknowledged: truncation keeps only the current segment.
    let cur = db.current_segment().unwrap();
    wait_for("progress", Duration::from_secs(5), || {
        rw.acked_position("test").unwrap().segment == cur
    })
    .await;
    let rep = db.truncate(&rw).unwrap();
    assert_eq!(rep.first_kept_segment, cur);
    assert!(rep.segments_deleted >= 3);
    assert!(rep.dropped_for_age.is_empty());
    rw.shutdown().await;
    db.close().unwrap();

    // Restart: nothing is resent.
    let db = AgentStorage::open(tmp.path(), small_wal()).unwrap();
    let before = recv.shared.count();
    let cfg = rw_config(&recv.url(), FAST_QUEUE);
    let rw =
        RemoteWrite::start(&db, &[cfg], &Labels::empty(), RemoteWriteOptions::default()).unwrap();
    let mut app = db.appender();
    app.append(None, &super::harness::labels("after", 0), 1, 1.0)
        .unwrap();
    app.commit().unwrap();
    wait_for("the new sample", Duration::from_secs(5), || {
        recv.shared.count() == before + 1
    })
    .await;
    rw.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remote_write_2_with_relabeling_and_external_labels() {
    let tmp = tempfile::tempdir().unwrap();
    let db = AgentStorage::open(tmp.path(), small_wal()).unwrap();
    let recv = Receiver::start().await;
    let extra = format!(
        "{FAST_QUEUE}    protobuf_message: io.prometheus.write.v2.Request\n    headers:\n      X-Test: yes\n    basic_auth:\n      username: u\n      password: p\n    write_relabel_configs:\n      - source_labels: [series]\n        regex: '1.'\n        action: drop\n"
    );
    let cfg = rw_config(&recv.url(), &extra);
    let external = Labels::new(&[("cluster", "c1"), ("job", "ignored")]).unwrap();
    let rw = RemoteWrite::start(&db, &[cfg], &external, RemoteWriteOptions::default()).unwrap();
    let mut app = Appender::start(&db, "v2", 30, Duration::from_millis(5));
    wait_for("some rounds", Duration::from_secs(10), || {
        app.rounds.load(std::sync::atomic::Ordering::Relaxed) >= 50
    })
    .await;
    let committed = app.stop();
    // Series 10..19 are dropped by relabeling; the others get `cluster` (but keep
    // their own `job`).
    let mut want = std::collections::BTreeMap::new();
    for i in (0..30).filter(|i| !(10..20).contains(i)) {
        let out = Labels::new(&[
            ("__name__", "test_metric".to_string()),
            ("cluster", "c1".to_string()),
            ("job", "v2".to_string()),
            ("series", i.to_string()),
        ])
        .unwrap();
        want.insert(
            out.to_string(),
            committed[&super::harness::labels("v2", i).to_string()].clone(),
        );
    }
    let total: usize = want.values().map(Vec::len).sum();
    wait_for("all kept samples", Duration::from_secs(10), || {
        recv.shared.count() >= total
    })
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_exactly_once(&want, &recv.shared.by_series());
    let cts = recv.shared.content_types.lock().clone();
    assert!(cts.iter().all(|(ct, v)| ct
        == "application/x-protobuf;proto=io.prometheus.write.v2.Request"
        && v == "2.0.0"));
    assert!(
        recv.shared
            .auth
            .lock()
            .iter()
            .all(|(a, x)| a.as_deref() == Some("Basic dTpw") && x.as_deref() == Some("yes"))
    );
    let mut text = String::new();
    rw.render(&mut text);
    assert!(
        metric(
            &text,
            "prometheus_remote_storage_samples_dropped_total",
            "reason=\"dropped_series\""
        ) > 0.0
    );
    rw.shutdown().await;
}
