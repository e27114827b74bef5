//! Store selection: only stores whose Info time range overlaps the request and whose
//! external labels can match its matchers are asked; the tenant is forwarded as
//! `thanos-tenant` metadata.

use strata_model::storage::ReadContext;

use crate::common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stores_are_chosen_by_time_range_and_external_labels() {
    let mut old = StoreData::new(
        "store",
        &[("cluster", "a")],
        vec![series(&[("__name__", "m")], regular(0, 100, 10, |_| 1.0))],
    );
    (old.min_time, old.max_time) = (0, 1_000);
    let mut new = StoreData::new(
        "sidecar",
        &[("cluster", "b")],
        vec![series(
            &[("__name__", "m")],
            regular(5_000, 100, 10, |_| 2.0),
        )],
    );
    (new.min_time, new.max_time) = (5_000, 10_000);
    let (old, new) = (start(old).await, start(new).await);
    let (_set, q) = proxy(&[&old, &new], Default::default()).await;
    let ctx = ReadContext::default();

    let got = select(&q, ctx.clone(), "m", 6_000, 7_000).await.unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!((old.requests(), new.requests()), (0, 1));

    let got = select(&q, ctx.clone(), "m", 0, 20_000).await.unwrap();
    assert_eq!(got.len(), 2);
    assert_eq!((old.requests(), new.requests()), (1, 2));

    // External labels exclude the store of the other cluster.
    let got = select(&q, ctx.clone(), r#"m{cluster="a"}"#, 0, 20_000)
        .await
        .unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!((old.requests(), new.requests()), (2, 2));
    let got = select(&q, ctx.clone(), r#"m{cluster=~"c|d"}"#, 0, 20_000)
        .await
        .unwrap();
    assert!(got.is_empty());
    assert_eq!((old.requests(), new.requests()), (2, 2));

    // The request's tenant (or the default one) is forwarded.
    let t = ReadContext {
        tenant: Some("team-a".into()),
        ..ReadContext::default()
    };
    select(&q, t, "m", 6_000, 7_000).await.unwrap();
    let seen = new.store.seen.lock().unwrap().clone();
    assert_eq!(seen[0].1.as_deref(), Some("default-tenant"));
    assert_eq!(seen.last().unwrap().1.as_deref(), Some("team-a"));
    let bound = q.with_tenant("team-b");
    select(&bound, ReadContext::default(), "m", 6_000, 7_000)
        .await
        .unwrap();
    let seen = new.store.seen.lock().unwrap().clone();
    assert_eq!(seen.last().unwrap().1.as_deref(), Some("team-b"));

    // A tenant name Thanos rejects is an error.
    let bad = ReadContext {
        tenant: Some("a/b".into()),
        ..ReadContext::default()
    };
    let e = select(&q, bad, "m", 0, 1).await.unwrap_err();
    assert!(e.to_string().contains("tenant name not valid"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tenant_header_is_read_as_thanos_reads_it() {
    use std::sync::Arc;

    use axum::body::Body;
    use axum::http::Request;
    use strata_api::{ApiState, router};
    use strata_promql::Engine;
    use strata_query::{QueryOptions, with_tenant_header};
    use tower::ServiceExt;

    let s = start(StoreData::new(
        "receive",
        &[],
        vec![series(&[("__name__", "m")], regular(0, 100, 10, |_| 1.0))],
    ))
    .await;
    let opts = QueryOptions {
        tenant_header: "X-Org".into(),
        ..QueryOptions::default()
    };
    let (_set, q) = proxy(&[&s], opts.clone()).await;
    let app = with_tenant_header(router(ApiState::new(Arc::new(q), Engine::default())), &opts);
    for (header, want) in [
        (Some(("X-Org", "team-x")), "team-x"),
        (Some(("THANOS-TENANT", "team-y")), "team-y"),
        // Not the configured header: the default tenant, as in Thanos.
        (Some(("X-Scope-OrgID", "team-z")), "default-tenant"),
        (None, "default-tenant"),
    ] {
        let mut req = Request::get("/api/v1/query?query=m&time=1");
        if let Some((k, v)) = header {
            req = req.header(k, v);
        }
        let resp = app
            .clone()
            .oneshot(req.body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        let seen = s.store.seen.lock().unwrap().last().unwrap().1.clone();
        assert_eq!(seen.as_deref(), Some(want), "{header:?}");
    }
}
