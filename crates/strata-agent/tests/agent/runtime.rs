//! The whole agent from a configuration file: scraping a counter target into the WAL,
//! remote write to the test receiver, reloads (bad file, changed queue during an
//! outage, unchanged queue), file discovery, a queue that cannot start at first.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use strata_agent::{Agent, RemoteWriteOptions, RuntimeOptions};
use strata_scrape::ScrapeOptions;

use super::harness::{metric, wait_for};
use super::receiver::Receiver;

/// A scrape target whose counter goes up by one per scrape.
struct CounterTarget {
    addr: SocketAddr,
    scrapes: Arc<AtomicU64>,
}

async fn counter_page(State(n): State<Arc<AtomicU64>>) -> impl IntoResponse {
    let v = n.fetch_add(1, Ordering::SeqCst) + 1;
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        format!("# TYPE synth_counter counter\nsynth_counter {v}\n"),
    )
}

impl CounterTarget {
    async fn start() -> CounterTarget {
        let scrapes = Arc::new(AtomicU64::new(0));
        let app = Router::new()
            .route("/metrics", get(counter_page))
            .with_state(scrapes.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        CounterTarget { addr, scrapes }
    }
}

fn options(dir: &Path) -> RuntimeOptions {
    RuntimeOptions {
        remote: RemoteWriteOptions {
            flush_deadline: Duration::from_secs(1),
            shard_update_interval: Duration::from_secs(1),
        },
        scrape: ScrapeOptions {
            skip_jitter: true,
            ..ScrapeOptions::default()
        },
        discovery_update_interval: Duration::from_millis(200),
        ..RuntimeOptions::new(dir.join("data"))
    }
}

/// A config scraping `target` every 200ms and writing to `url` with `queue` extra
/// queue_config lines and `extra` lines under the remote_write entry.
fn config(target: SocketAddr, url: &str, queue: &str, extra: &str) -> String {
    format!(
        "global:\n  scrape_interval: 500ms\n  scrape_timeout: 500ms\n  external_labels: {{site: test}}\n\
         scrape_configs:\n  - job_name: synth\n    static_configs:\n      - targets: ['{target}']\n\
         remote_write:\n  - url: {url}\n    name: q\n{extra}    queue_config:\n      batch_send_deadline: 50ms\n      min_backoff: 20ms\n      max_backoff: 100ms\n{queue}"
    )
}

/// The counter values the receiver got, in arrival order.
fn counter_values(r: &Receiver) -> Vec<f64> {
    r.shared
        .samples
        .lock()
        .iter()
        .filter(|s| s.series.contains("synth_counter") && !s.v.is_nan())
        .map(|s| s.v)
        .collect()
}

/// Each value 1..=n exactly once (the target counts scrapes).
fn assert_contiguous(mut got: Vec<f64>) {
    got.sort_by(f64::total_cmp);
    let n = got.len();
    assert!(n > 0, "nothing received");
    let want: Vec<f64> = (1..=n).map(|i| i as f64).collect();
    assert_eq!(got, want, "gaps or duplicates");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scrapes_remote_writes_and_reloads_without_losing_samples() {
    let tmp = tempfile::tempdir().unwrap();
    let target = CounterTarget::start().await;
    let mut recv = Receiver::start().await;
    let path = tmp.path().join("agent.yml");
    std::fs::write(&path, config(target.addr, &recv.url(), "", "")).unwrap();
    let agent = Agent::start(&path, options(tmp.path())).await.unwrap();
    assert!(agent.last_reload_successful());
    wait_for("first samples", Duration::from_secs(10), || {
        counter_values(&recv).len() >= 5
    })
    .await;
    let got = recv.shared.samples.lock().iter().any(|s| {
        s.series.contains("__name__=\"up\"")
            && s.series.contains("site=\"test\"")
            && s.series.contains("job=\"synth\"")
    });
    assert!(got, "`up` with the external label arrived");

    // A bad file changes nothing and is reported.
    std::fs::write(&path, "scrape_configs: [").unwrap();
    assert!(agent.reload().await.is_err());
    assert!(!agent.last_reload_successful());
    let page = agent.render_metrics();
    assert_eq!(
        metric(&page, "prometheus_config_last_reload_successful", ""),
        0.0
    );
    assert!(
        metric(
            &page,
            "prometheus_config_last_reload_success_timestamp_seconds",
            ""
        ) > 1e9
    );

    // An unchanged queue keeps running through a reload (its counters go on).
    std::fs::write(&path, config(target.addr, &recv.url(), "", "")).unwrap();
    let sent = |a: &Agent| {
        metric(
            &a.render_metrics(),
            "prometheus_remote_storage_samples_total",
            "remote_name=\"q\"",
        )
    };
    let before = sent(&agent);
    agent.reload().await.unwrap();
    assert!(agent.last_reload_successful());
    assert!(sent(&agent) >= before);

    // Outage; meanwhile the queue's config changes: the queue restarts from its
    // progress and sends everything once the receiver is back.
    recv.stop().await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    std::fs::write(
        &path,
        config(
            target.addr,
            &recv.url(),
            "      max_samples_per_send: 7\n",
            "",
        ),
    )
    .unwrap();
    agent.reload().await.unwrap();
    assert!(sent(&agent) < before, "the changed queue was restarted");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    recv.restart().await;
    let scraped = target.scrapes.load(Ordering::SeqCst);
    wait_for("the backlog", Duration::from_secs(20), || {
        counter_values(&recv).len() as u64 >= scraped
    })
    .await;
    agent.shutdown().await.unwrap();
    let scraped = target.scrapes.load(Ordering::SeqCst);
    let got = counter_values(&recv);
    // Every scrape up to shutdown arrived once (a scrape in flight at shutdown is
    // not committed).
    assert!(
        got.len() as u64 + 1 >= scraped,
        "{} of {scraped}",
        got.len()
    );
    assert_contiguous(got);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queue_that_cannot_start_keeps_its_wal_until_it_can() {
    let tmp = tempfile::tempdir().unwrap();
    let target = CounterTarget::start().await;
    let recv = Receiver::start().await;
    let path = tmp.path().join("agent.yml");
    let missing = "    tls_config:\n      ca_file: /nonexistent/strata-test-ca.pem\n";
    std::fs::write(&path, config(target.addr, &recv.url(), "", missing)).unwrap();
    let agent = Agent::start(&path, options(tmp.path())).await.unwrap();
    assert!(!agent.last_reload_successful());
    assert_eq!(agent.remote_write().failed_queues().len(), 1);
    // Scraping goes on into the WAL.
    wait_for("scrapes", Duration::from_secs(10), || {
        target.scrapes.load(Ordering::SeqCst) >= 5
    })
    .await;
    // Truncation keeps what the failed queue will need.
    let report = agent
        .storage()
        .truncate(agent.remote_write() as &dyn strata_agent::WalConsumers)
        .unwrap();
    assert_eq!(report.segments_deleted, 0);
    std::fs::write(&path, config(target.addr, &recv.url(), "", "")).unwrap();
    agent.reload().await.unwrap();
    assert!(agent.remote_write().failed_queues().is_empty());
    wait_for(
        "the samples scraped while the queue was down",
        Duration::from_secs(10),
        || counter_values(&recv).len() >= 8,
    )
    .await;
    agent.shutdown().await.unwrap();
    assert_contiguous(counter_values(&recv));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_discovery_adds_and_removes_targets() {
    let tmp = tempfile::tempdir().unwrap();
    let target = CounterTarget::start().await;
    let recv = Receiver::start().await;
    let sd = tmp.path().join("targets.json");
    std::fs::write(
        &sd,
        format!(
            r#"[{{"targets": ["{}"], "labels": {{"team": "a"}}}}]"#,
            target.addr
        ),
    )
    .unwrap();
    let path = tmp.path().join("agent.yml");
    std::fs::write(
        &path,
        format!(
            "global:\n  scrape_interval: 500ms\n  scrape_timeout: 500ms\n\
             scrape_configs:\n  - job_name: files\n    file_sd_configs:\n      - files: ['{}']\n        refresh_interval: 200ms\n\
             remote_write:\n  - url: {}\n    queue_config:\n      batch_send_deadline: 50ms\n",
            sd.display(),
            recv.url()
        ),
    )
    .unwrap();
    let agent = Agent::start(&path, options(tmp.path())).await.unwrap();
    assert!(agent.last_reload_successful());
    wait_for(
        "the discovered target's samples",
        Duration::from_secs(10),
        || {
            recv.shared
                .samples
                .lock()
                .iter()
                .any(|s| s.series.contains("synth_counter") && s.series.contains("team=\"a\""))
        },
    )
    .await;
    assert_eq!(agent.targets().active["files"].len(), 1);
    std::fs::write(&sd, "[]").unwrap();
    wait_for("the target to go", Duration::from_secs(10), || {
        agent.targets().active["files"].is_empty()
    })
    .await;
    agent.shutdown().await.unwrap();
    // Shutdown is idempotent; reload after it is refused.
    agent.shutdown().await.unwrap();
    assert!(agent.reload().await.is_err());
}
