//! A real prometheus-node-exporter as the target.

use std::sync::Arc;
use std::time::{Duration, Instant};

use strata_model::clock::system_clock;
use strata_scrape::{MemoryStorage, ScrapeManager, ScrapeOptions};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test]
async fn scrapes_node_exporter() {
    let Some(bin) = strata_testkit::require_tool("prometheus-node-exporter") else {
        return;
    };
    let port = free_port();
    let mut child = tokio::process::Command::new(bin)
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .args([
            "--collector.disable-defaults",
            "--collector.loadavg",
            "--collector.meminfo",
            "--collector.time",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let addr = format!("127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(10);
    while tokio::net::TcpStream::connect(&addr).await.is_err() {
        assert!(Instant::now() < deadline, "node exporter did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let storage = Arc::new(MemoryStorage::new());
    let m = ScrapeManager::new(
        storage.clone(),
        ScrapeOptions {
            clock: system_clock(),
            offset_seed: Some(1),
            skip_jitter: true,
            user_agent: "strata-test".into(),
        },
    );
    let cfg = crate::support::config(&[addr.as_str()], "scrape_interval: 200ms");
    m.apply_config(&cfg).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let scraped = storage.find("scrape_samples_scraped", &[]);
        if scraped.first().is_some_and(|s| s.1.len() >= 2) {
            break;
        }
        assert!(Instant::now() < deadline, "no scrapes");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    m.stop().await;
    let _ = child.kill().await;
    let up = storage
        .last("up", &[("instance", &addr), ("job", "test")])
        .unwrap();
    assert_eq!(up.v, 1.0, "{:?}", m.targets().active);
    let series = storage.series();
    let node: Vec<_> = series
        .iter()
        .filter(|(l, _)| l.metric_name().is_some_and(|n| n.starts_with("node_")))
        .collect();
    assert!(
        node.iter()
            .any(|(l, _)| l.metric_name() == Some("node_load1"))
    );
    assert!(
        node.iter()
            .any(|(l, _)| l.metric_name() == Some("node_memory_MemTotal_bytes"))
    );
    assert!(
        node.iter()
            .all(|(l, _)| l.get("instance") == Some(addr.as_str()))
    );
    // Second scrape: all from the cache.
    let added = storage.find("scrape_series_added", &[]);
    assert_eq!(added[0].1.last().unwrap().v, 0.0);
}
