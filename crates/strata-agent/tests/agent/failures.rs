//! Outages, 429 with `Retry-After`, and non-recoverable 4xx.

use std::time::Duration;

use strata_agent::{AgentStorage, RemoteWrite, RemoteWriteOptions};
use strata_model::Labels;

use super::harness::{
    Appender, FAST_QUEUE, assert_exactly_once, metric, rw_config, small_wal, wait_for,
};
use super::receiver::{Mode, Receiver};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outage_503_then_connection_refused_loses_and_duplicates_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let db = AgentStorage::open(tmp.path(), small_wal()).unwrap();
    let mut recv = Receiver::start().await;
    let cfg = rw_config(&recv.url(), FAST_QUEUE);
    let rw =
        RemoteWrite::start(&db, &[cfg], &Labels::empty(), RemoteWriteOptions::default()).unwrap();
    let mut app = Appender::start(&db, "outage", 40, Duration::from_millis(5));
    wait_for("first samples", Duration::from_secs(5), || {
        recv.shared.count() > 0
    })
    .await;

    // 503 for a while, then nobody listening, while appends go on.
    recv.shared.set_mode(Mode::Fail {
        status: 503,
        retry_after: None,
    });
    tokio::time::sleep(Duration::from_millis(1500)).await;
    recv.stop().await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    recv.shared.set_mode(Mode::Ok);
    recv.restart().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let committed = app.stop();
    let total: usize = committed.values().map(Vec::len).sum();
    wait_for(
        "all samples after the outage",
        Duration::from_secs(15),
        || recv.shared.count() >= total,
    )
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_exactly_once(&committed, &recv.shared.by_series());

    let mut text = String::new();
    rw.render(&mut text);
    let q = "remote_name=\"test\"";
    assert!(metric(&text, "prometheus_remote_storage_samples_retried_total", q) > 0.0);
    assert_eq!(
        metric(&text, "prometheus_remote_storage_samples_failed_total", q),
        0.0
    );
    assert!(recv.shared.requests.lock().iter().any(|r| r.1 == 503));
    rw.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_429_is_retried_after_retry_after_when_allowed() {
    let tmp = tempfile::tempdir().unwrap();
    let db = AgentStorage::open(tmp.path(), small_wal()).unwrap();
    let recv = Receiver::start().await;
    let extra = format!("{FAST_QUEUE}      retry_on_http_429: true\n");
    let cfg = rw_config(&recv.url(), &extra);
    *recv.shared.fail_next.lock() = Some((1, 429, Some("1".into())));
    let rw =
        RemoteWrite::start(&db, &[cfg], &Labels::empty(), RemoteWriteOptions::default()).unwrap();
    let mut app = db.appender();
    let l = super::harness::labels("r429", 0);
    app.append(None, &l, 1000, 1.0).unwrap();
    app.commit().unwrap();
    wait_for("the retried sample", Duration::from_secs(5), || {
        recv.shared.count() == 1
    })
    .await;
    let reqs = recv.shared.requests.lock().clone();
    assert_eq!(reqs[0].1, 429);
    assert_eq!(reqs[1].1, 204);
    let gap = reqs[1].0 - reqs[0].0;
    assert!(gap >= Duration::from_millis(950), "retried after {gap:?}");
    let mut text = String::new();
    rw.render(&mut text);
    assert_eq!(
        metric(
            &text,
            "prometheus_remote_storage_samples_retried_total",
            "test"
        ),
        1.0
    );
    rw.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_400_and_unretried_429_drop_the_batch_and_count_it() {
    let tmp = tempfile::tempdir().unwrap();
    let db = AgentStorage::open(tmp.path(), small_wal()).unwrap();
    let recv = Receiver::start().await;
    let cfg = rw_config(&recv.url(), FAST_QUEUE);
    recv.shared.set_mode(Mode::Fail {
        status: 400,
        retry_after: None,
    });
    let rw =
        RemoteWrite::start(&db, &[cfg], &Labels::empty(), RemoteWriteOptions::default()).unwrap();
    let mut app = db.appender();
    let l = super::harness::labels("bad", 0);
    let r = app.append(None, &l, 1, 1.0).unwrap();
    app.commit().unwrap();
    let failed = |rw: &RemoteWrite| {
        let mut text = String::new();
        rw.render(&mut text);
        metric(
            &text,
            "prometheus_remote_storage_samples_failed_total",
            "test",
        )
    };
    wait_for("the 400", Duration::from_secs(5), || failed(&rw) == 1.0).await;
    // 429 without retry_on_http_429 is dropped as well.
    recv.shared.set_mode(Mode::Fail {
        status: 429,
        retry_after: Some("1".into()),
    });
    app.append(Some(r), &l, 2, 2.0).unwrap();
    app.commit().unwrap();
    wait_for("the 429", Duration::from_secs(5), || failed(&rw) == 2.0).await;
    // Dropped batches count as done: the queue goes on with what follows.
    recv.shared.set_mode(Mode::Ok);
    app.append(Some(r), &l, 3, 3.0).unwrap();
    app.commit().unwrap();
    wait_for("the good sample", Duration::from_secs(5), || {
        recv.shared.count() == 1
    })
    .await;
    assert_eq!(recv.shared.samples.lock()[0].t, 3);
    let end = db.current_segment().unwrap();
    wait_for(
        "progress past the dropped batches",
        Duration::from_secs(5),
        || {
            rw.acked_position("test")
                .is_some_and(|p| p.segment == end && p.offset > 0)
        },
    )
    .await;
    assert_eq!(
        recv.shared
            .requests
            .lock()
            .iter()
            .filter(|r| r.1 == 400 || r.1 == 429)
            .count(),
        2
    );
    rw.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_during_an_outage_keeps_the_rest_for_the_next_start() {
    let tmp = tempfile::tempdir().unwrap();
    let recv = Receiver::start().await;
    recv.shared.set_mode(Mode::Fail {
        status: 503,
        retry_after: None,
    });
    let opts = RemoteWriteOptions {
        flush_deadline: Duration::from_millis(300),
        ..RemoteWriteOptions::default()
    };
    let committed = {
        let db = AgentStorage::open(tmp.path(), small_wal()).unwrap();
        let cfg = rw_config(&recv.url(), FAST_QUEUE);
        let rw = RemoteWrite::start(&db, &[cfg], &Labels::empty(), opts.clone()).unwrap();
        let mut app = Appender::start(&db, "down", 10, Duration::from_millis(2));
        wait_for("failed attempts", Duration::from_secs(5), || {
            recv.shared.requests.lock().len() >= 3
        })
        .await;
        let committed = app.stop();
        let started = std::time::Instant::now();
        rw.shutdown().await;
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
        drop(rw);
        db.close().unwrap();
        committed
    };
    assert_eq!(recv.shared.count(), 0);
    recv.shared.set_mode(Mode::Ok);
    let db = AgentStorage::open(tmp.path(), small_wal()).unwrap();
    let cfg = rw_config(&recv.url(), FAST_QUEUE);
    let rw = RemoteWrite::start(&db, &[cfg], &Labels::empty(), opts).unwrap();
    let total: usize = committed.values().map(Vec::len).sum();
    wait_for("the backlog", Duration::from_secs(10), || {
        recv.shared.count() >= total
    })
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_exactly_once(&committed, &recv.shared.by_series());
    rw.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_older_than_the_max_age_is_dropped_and_counted() {
    let tmp = tempfile::tempdir().unwrap();
    let db = AgentStorage::open(tmp.path(), small_wal()).unwrap();
    let recv = Receiver::start().await;
    recv.shared.set_mode(Mode::Fail {
        status: 503,
        retry_after: None,
    });
    let cfg = rw_config(&recv.url(), FAST_QUEUE);
    let rw =
        RemoteWrite::start(&db, &[cfg], &Labels::empty(), RemoteWriteOptions::default()).unwrap();
    let mut app = Appender::start(&db, "aged", 50, Duration::from_millis(1));
    wait_for("a few segments", Duration::from_secs(20), || {
        db.current_segment().unwrap() >= 3
    })
    .await;
    app.stop();
    // Five hours later, everything but the current segment is past the 4h max age.
    let later = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
        + 5 * 3_600_000;
    let rep = db.truncate_at(&rw, later).unwrap();
    let cur = db.current_segment().unwrap();
    assert_eq!(rep.first_kept_segment, cur);
    assert_eq!(rep.dropped_for_age.len(), 1);
    let lost = rep.dropped_for_age[0].1;
    assert!(lost > 0);
    let mut text = String::new();
    rw.render(&mut text);
    assert_eq!(
        metric(
            &text,
            "prometheus_remote_storage_samples_dropped_total",
            "reason=\"wal_truncated\""
        ),
        lost as f64
    );
    // The queue skips to what is left and goes on.
    recv.shared.set_mode(Mode::Ok);
    let mut a = db.appender();
    a.append(None, &super::harness::labels("fresh", 0), 1, 1.0)
        .unwrap();
    a.commit().unwrap();
    wait_for("the fresh sample", Duration::from_secs(10), || {
        recv.shared.by_series().keys().any(|k| k.contains("fresh"))
    })
    .await;
    wait_for(
        "the watcher past the deleted segments",
        Duration::from_secs(5),
        || rw.acked_position("test").unwrap().segment >= cur,
    )
    .await;
    rw.shutdown().await;
}
