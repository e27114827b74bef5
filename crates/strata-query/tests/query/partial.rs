//! Partial response: a failing store is a warning naming it (with the other stores'
//! data) when enabled, and an error naming it when disabled; through the HTTP API the
//! warning lands in the response's `warnings`.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;
use strata_api::{ApiState, router};
use strata_model::storage::ReadContext;
use strata_promql::Engine;
use tower::ServiceExt;

use crate::common::*;

async fn two_stores() -> (Running, Running) {
    let ok = start(StoreData::new(
        "sidecar",
        &[("cluster", "a")],
        vec![series(
            &[("__name__", "up")],
            regular(0, 15_000, 5, |_| 1.0),
        )],
    ))
    .await;
    let down = start(StoreData::new(
        "sidecar",
        &[("cluster", "b")],
        vec![series(
            &[("__name__", "up")],
            regular(0, 15_000, 5, |_| 1.0),
        )],
    ))
    .await;
    (ok, down)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_store_is_a_warning_or_an_error() {
    let (ok, down) = two_stores().await;
    let (_set, q) = proxy(&[&ok, &down], Default::default()).await;
    // The store passed its Info check, then fails its Series calls.
    down.store.fail.store(true, Ordering::Relaxed);

    let ctx = ReadContext::default();
    let got = select(&q, ctx.clone(), "up", 0, 100_000).await.unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0.to_string(), r#"{__name__="up", cluster="a"}"#);
    let w = ctx.warnings.snapshot();
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(
        w[0].starts_with(&format!("fetch series from store {} [{{cluster=\"b\"}}]: rpc error: code = Unavailable desc = store is down", down.addr())),
        "{}",
        w[0]
    );

    let strict = ReadContext {
        partial_response: Some(false),
        ..ReadContext::default()
    };
    let e = select(&q, strict.clone(), "up", 0, 100_000)
        .await
        .unwrap_err();
    assert!(e.to_string().contains(&down.addr()), "{e}");
    assert!(e.to_string().contains("store is down"), "{e}");
    let e = label_names(&q, strict, None).await.unwrap_err();
    assert!(
        e.to_string()
            .contains(&format!("fetch label names from store {}", down.addr())),
        "{e}"
    );

    let ctx = ReadContext::default();
    assert_eq!(
        label_names(&q, ctx.clone(), None).await.unwrap(),
        vec!["__name__", "cluster"]
    );
    assert_eq!(ctx.warnings.snapshot().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_reports_store_warnings_and_errors() {
    let (ok, down) = two_stores().await;
    let (_set, q) = proxy(&[&ok, &down], Default::default()).await;
    down.store.fail.store(true, Ordering::Relaxed);
    let app = router(ApiState::new(Arc::new(q), Engine::default()));
    let get = |uri: &str| {
        let app = app.clone();
        let req = Request::get(uri).body(Body::empty()).unwrap();
        async move {
            let resp = app.oneshot(req).await.unwrap();
            let status = resp.status().as_u16();
            let body = resp.into_body().collect().await.unwrap().to_bytes();
            (status, String::from_utf8(body.to_vec()).unwrap())
        }
    };

    let (status, body) = get("/api/v1/query?query=up&time=30").await;
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["data"]["result"].as_array().unwrap().len(), 1, "{body}");
    let w = v["warnings"][0].as_str().unwrap();
    assert!(
        w.contains(&down.addr()) && w.contains("store is down"),
        "{body}"
    );

    let (status, body) = get("/api/v1/query?query=up&time=30&partial_response=false").await;
    assert!(status >= 400, "{status} {body}");
    assert!(body.contains(&down.addr()), "{body}");
}
