//! Dynamic resharding under a slow receiver.

use std::time::Duration;

use strata_agent::{AgentStorage, RemoteWrite, RemoteWriteOptions};
use strata_model::Labels;

use super::harness::{Appender, assert_exactly_once, metric, rw_config, small_wal, wait_for};
use super::receiver::{Mode, Receiver};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shards_grow_under_a_slow_receiver_and_order_holds() {
    let tmp = tempfile::tempdir().unwrap();
    let db = AgentStorage::open(tmp.path(), small_wal()).unwrap();
    let recv = Receiver::start().await;
    // Each request takes 100 ms: one shard moves 50 samples per 100 ms, while about
    // 2000 samples per second come in.
    recv.shared.set_mode(Mode::Slow(Duration::from_millis(100)));
    let cfg = rw_config(
        &recv.url(),
        "    name: test\n    queue_config:\n      batch_send_deadline: 50ms\n      max_samples_per_send: 50\n      capacity: 500\n      min_shards: 1\n      max_shards: 8\n",
    );
    let opts = RemoteWriteOptions {
        shard_update_interval: Duration::from_millis(500),
        ..RemoteWriteOptions::default()
    };
    let rw = RemoteWrite::start(&db, &[cfg], &Labels::empty(), opts).unwrap();
    let mut app = Appender::start(&db, "slow", 40, Duration::from_millis(20));
    wait_for("more shards", Duration::from_secs(10), || {
        rw.shards("test").unwrap() > 1
    })
    .await;
    let committed = app.stop();
    recv.shared.set_mode(Mode::Ok);
    let total: usize = committed.values().map(Vec::len).sum();
    wait_for("all samples", Duration::from_secs(15), || {
        recv.shared.count() >= total
    })
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_exactly_once(&committed, &recv.shared.by_series());
    let mut text = String::new();
    rw.render(&mut text);
    assert!(metric(&text, "prometheus_remote_storage_shards_desired", "test") > 1.0);
    assert_eq!(
        metric(&text, "prometheus_remote_storage_shards_max", "test"),
        8.0
    );
    rw.shutdown().await;
}
