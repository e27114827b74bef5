//! The endpoint set: `/api/v1/stores` in Thanos' shape, unhealthy endpoints, and file
//! SD changes picked up by the periodic refresh.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;
use strata_query::{EndpointSet, stores_router};
use tower::ServiceExt;

use crate::common::*;

/// An address nothing listens on: a port bound and released again.
fn dead_addr() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stores_page_groups_endpoints_by_component() {
    let mut d = StoreData::new("receive", &[("replica", "0"), ("tenant_id", "a")], vec![]);
    (d.min_time, d.max_time) = (1_000, 2_000);
    let recv = start(d).await;
    let side = start(StoreData::new("sidecar", &[], vec![])).await;
    let dead = dead_addr();
    let set = EndpointSet::new(
        &[recv.addr(), side.addr(), dead.clone()],
        &[],
        Duration::from_secs(3600),
    )
    .unwrap();
    set.refresh().await;

    let resp = stores_router(set.clone())
        .oneshot(Request::get("/api/v1/stores").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/json");
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["status"], "success");
    let data = v["data"].as_object().unwrap();
    let mut kinds: Vec<&str> = data.keys().map(String::as_str).collect();
    kinds.sort();
    assert_eq!(kinds, vec!["receive", "sidecar", "unknown-store-api"]);

    let r = &data["receive"][0];
    assert_eq!(r["name"], recv.addr());
    assert_eq!(r["lastError"], serde_json::Value::Null);
    assert_eq!(
        r["labelSets"],
        serde_json::json!([{"replica": "0", "tenant_id": "a"}])
    );
    assert_eq!(
        (r["minTime"].as_i64(), r["maxTime"].as_i64()),
        (Some(1_000), Some(2_000))
    );
    let last_check = r["lastCheck"].as_str().unwrap();
    assert!(
        last_check.ends_with('Z') && last_check.len() >= 20,
        "{last_check}"
    );
    assert_eq!(data["sidecar"][0]["labelSets"], serde_json::json!([]));

    let d = &data["unknown-store-api"][0];
    assert_eq!(d["name"], dead);
    assert_eq!(d["lastCheck"], "0001-01-01T00:00:00Z");
    assert!(
        d["lastError"]
            .as_str()
            .unwrap()
            .starts_with("getting metadata: rpc error: code = Unavailable"),
        "{d}"
    );

    // Only healthy endpoints are queried; an endpoint that stops answering Info keeps
    // its metadata and shows the error.
    let statuses = set.stores();
    assert_eq!(statuses.iter().filter(|s| s.is_queryable()).count(), 2);
    drop(side);
    let side_addr = statuses
        .iter()
        .find(|s| s.component_type.as_deref() == Some("sidecar"))
        .unwrap()
        .name
        .clone();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        set.refresh().await;
        let st = set
            .stores()
            .into_iter()
            .find(|s| s.name == side_addr)
            .unwrap();
        if st.last_error.is_some() {
            assert_eq!(st.component_type.as_deref(), Some("sidecar"));
            assert!(!st.is_queryable());
            break;
        }
        assert!(Instant::now() < deadline, "stopped sidecar still healthy");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_sd_changes_are_picked_up() {
    let a = start(StoreData::new("store", &[("name", "a")], vec![])).await;
    let b = start(StoreData::new("store", &[("name", "b")], vec![])).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("endpoints.yml");
    std::fs::write(&file, format!("- targets: ['{}']\n", a.addr())).unwrap();
    // The JSON file does not exist yet: it is skipped until it does.
    let json = dir.path().join("endpoints.json");
    let set = EndpointSet::new(
        &[],
        &[file.clone(), json.clone()],
        Duration::from_millis(50),
    )
    .unwrap();
    let refresher = set.spawn_refresh();

    let names = |set: &EndpointSet| -> Vec<String> {
        set.stores()
            .into_iter()
            .filter(|s| s.is_queryable())
            .map(|s| s.name)
            .collect()
    };
    let wait_for = |want: Vec<String>| {
        let set = set.clone();
        async move {
            let deadline = Instant::now() + Duration::from_secs(10);
            while names(&set) != want {
                assert!(
                    Instant::now() < deadline,
                    "endpoints {:?}, want {want:?}",
                    names(&set)
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    };
    wait_for(vec![a.addr()]).await;

    // A JSON file, then a broken YAML file, which keeps its last good endpoints.
    std::fs::write(&json, format!(r#"[{{"targets": ["{}"]}}]"#, b.addr())).unwrap();
    let mut both = vec![a.addr(), b.addr()];
    both.sort();
    wait_for(both.clone()).await;
    std::fs::write(&file, "- targets: [").unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(names(&set), both);

    std::fs::write(&file, "[]\n").unwrap();
    wait_for(vec![b.addr()]).await;
    refresher.abort();
}
