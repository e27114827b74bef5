//! The scrape manager with real loops on short intervals.

use std::sync::Arc;
use std::time::{Duration, Instant};

use strata_discovery::{LabelSet, TargetGroup};
use strata_model::clock::system_clock;
use strata_model::is_stale_nan;
use strata_scrape::{MemoryStorage, ScrapeManager, ScrapeOptions, TargetHealth};

use crate::server::{Page, TestServer};
use crate::support::config;

fn options() -> ScrapeOptions {
    ScrapeOptions {
        clock: system_clock(),
        offset_seed: Some(1),
        skip_jitter: true,
        user_agent: "strata-test".into(),
    }
}

async fn wait_until(what: &str, f: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn server(body: &str) -> TestServer {
    let s = TestServer::start().await;
    s.set("/metrics", Page::text(body));
    s
}

fn group(addr: &str) -> TargetGroup {
    TargetGroup {
        source: "sd/0".into(),
        targets: vec![LabelSet::from([(
            "__address__".to_owned(),
            addr.to_owned(),
        )])],
        labels: LabelSet::from([("zone".to_owned(), "z1".to_owned())]),
    }
}

fn last_is_stale(st: &MemoryStorage, name: &str, inst: &str) -> bool {
    st.last(name, &[("instance", inst)])
        .is_some_and(|s| is_stale_nan(s.v))
}

#[tokio::test]
async fn static_and_discovered_targets_and_removal_staleness() {
    let a = server("a 1\n").await;
    let b = server("b 1\n").await;
    let (ia, ib) = (a.address(), b.address());
    let storage = Arc::new(MemoryStorage::new());
    let m = ScrapeManager::new(storage.clone(), options());
    let cfg = config(&[ia.as_str()], "scrape_interval: 100ms");
    m.apply_config(&cfg).await.unwrap();
    wait_until("a scraped", || {
        storage.last("a", &[("instance", &ia)]).is_some()
    })
    .await;
    let t = m.targets();
    let active = &t.active["test"];
    assert_eq!(active.len(), 1);
    wait_until("health up", || {
        active[0].status().health == TargetHealth::Up
    })
    .await;
    assert_eq!(active[0].url(), format!("http://{ia}/metrics"));

    m.update_targets("test", vec![group(&ib)]).await;
    wait_until("b scraped", || {
        storage
            .last("b", &[("instance", &ib), ("zone", "z1")])
            .is_some()
    })
    .await;
    assert_eq!(m.targets().active["test"].len(), 2);

    m.update_targets("test", vec![]).await;
    assert_eq!(m.targets().active["test"].len(), 1);
    // End-of-run markers two intervals (and 10%) later.
    wait_until("b stale", || {
        last_is_stale(&storage, "b", &ib) && last_is_stale(&storage, "up", &ib)
    })
    .await;
    assert!(!last_is_stale(&storage, "a", &ia));
    let start = Instant::now();
    m.stop().await;
    assert!(start.elapsed() < Duration::from_secs(1));
    assert!(m.targets().active.is_empty());
}

#[tokio::test]
async fn reloads_keep_or_restart_loops() {
    let a = server("a 1\nb 1\n").await;
    let ia = a.address();
    let storage = Arc::new(MemoryStorage::new());
    let m = ScrapeManager::new(storage.clone(), options());
    let cfg = config(&[ia.as_str()], "scrape_interval: 100ms");
    m.apply_config(&cfg).await.unwrap();
    wait_until("scraped", || storage.last("a", &[]).is_some()).await;
    let t1 = m.targets().active["test"][0].clone();

    // Same config: nothing restarts.
    m.apply_config(&cfg).await.unwrap();
    assert!(Arc::ptr_eq(&t1, &m.targets().active["test"][0]));

    // A sample limit change restarts the loop with its cache: no series are new.
    let cfg2 = config(&[ia.as_str()], "scrape_interval: 100ms\nsample_limit: 100");
    m.apply_config(&cfg2).await.unwrap();
    let n = storage
        .find("a", &[])
        .first()
        .map(|s| s.1.len())
        .unwrap_or(0);
    wait_until("scraped after reload", || {
        storage.find("a", &[])[0].1.len() >= n + 2
    })
    .await;
    let added = storage.find("scrape_series_added", &[]);
    assert_eq!(added[0].1.last().unwrap().v, 0.0, "cache was handed over");
    assert!(!last_is_stale(&storage, "a", &ia));

    // Removing the job stops its loop without stale markers.
    let empty = strata_config::parse("scrape_configs: []\n").unwrap();
    m.apply_config(&empty).await.unwrap();
    assert!(m.targets().active.is_empty());
    let len = storage.find("a", &[])[0].1.len();
    tokio::time::sleep(Duration::from_millis(350)).await;
    let after = &storage.find("a", &[])[0].1;
    assert_eq!(after.len(), len);
    assert!(!last_is_stale(&storage, "a", &ia));
    m.stop().await;
}

#[tokio::test]
async fn target_limit_and_dropped_targets() {
    let a = server("a 1\n").await;
    let b = server("b 1\n").await;
    let (ia, ib) = (a.address(), b.address());
    let storage = Arc::new(MemoryStorage::new());
    let m = ScrapeManager::new(storage.clone(), options());
    let cfg = config(
        &[ia.as_str(), ib.as_str()],
        "scrape_interval: 100ms\ntarget_limit: 1",
    );
    m.apply_config(&cfg).await.unwrap();
    wait_until("up=0 for both", || {
        [&ia, &ib].iter().all(|i| {
            storage
                .last("up", &[("instance", i)])
                .is_some_and(|s| s.v == 0.0)
        })
    })
    .await;
    let st = m.targets().active["test"][0].status();
    assert_eq!(
        st.last_error,
        "target_limit exceeded (number of targets: 2, limit: 1)"
    );
    assert!(storage.find("a", &[]).is_empty());

    let extra = format!(
        "scrape_interval: 100ms\nrelabel_configs:\n  - source_labels: [__address__]\n    regex: '{ib}'\n    action: drop"
    );
    m.apply_config(&config(&[ia.as_str(), ib.as_str()], &extra))
        .await
        .unwrap();
    let t = m.targets();
    assert_eq!(t.active["test"].len(), 1);
    assert_eq!(t.dropped_counts["test"], 1);
    assert_eq!(t.dropped["test"][0].get("__address__"), Some(ib.as_str()));
    assert_eq!(t.dropped["test"][0].get("job"), Some("test"));
    wait_until("a scraped", || storage.last("a", &[]).is_some()).await;
    m.stop().await;
}

#[tokio::test]
async fn bad_http_client_config_is_reported() {
    let storage = Arc::new(MemoryStorage::new());
    let m = ScrapeManager::new(storage, options());
    let cfg = config(
        &["127.0.0.1:1"],
        "tls_config:\n  ca_file: /nonexistent/ca.pem",
    );
    let e = m.apply_config(&cfg).await.unwrap_err();
    assert!(e.to_string().contains("CA"), "{e}");
    m.stop().await;
}
