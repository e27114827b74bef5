//! Remote write over HTTP against real tenant TSDBs: statuses, written-count headers,
//! tenants, limits.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, Response, StatusCode};
use http_body_util::BodyExt;
use strata_model::clock::system_clock;
use strata_model::storage::{Queryable, SelectHints};
use strata_model::{Labels, Matcher};
use strata_receive::limits::LimitsConfig;
use strata_receive::multitsdb::MultiTsdb;
use strata_receive::query::TenantsQueryable;
use strata_receive::{Receiver, ReceiverOptions};
use strata_remote::{rw1, snappy};
use strata_tsdb::DbOptions;
use tower::ServiceExt;

pub struct Fixture {
    _dir: tempfile::TempDir,
    pub recv: Arc<Receiver>,
    pub app: Router,
}

pub fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let tsdb = MultiTsdb::open(dir.path(), DbOptions::default(), system_clock()).unwrap();
    let recv = Arc::new(Receiver::new(ReceiverOptions::default(), Arc::new(tsdb)));
    let app = strata_receive::http::routes(recv.clone());
    Fixture {
        _dir: dir,
        recv,
        app,
    }
}

type S<'a> = (&'a [(&'a str, &'a str)], &'a [(i64, f64)]);

pub fn body(series: &[S<'_>]) -> Vec<u8> {
    snappy::compress(&rw1::encode_write_request(series.iter().copied()))
}

pub async fn post(
    app: &Router,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> (StatusCode, Response<Body>) {
    let mut req = Request::post("/api/v1/receive")
        .header("Content-Type", "application/x-protobuf")
        .header("Content-Encoding", "snappy")
        .header("X-Prometheus-Remote-Write-Version", "0.1.0");
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = app
        .clone()
        .oneshot(req.body(Body::from(body)).unwrap())
        .await
        .unwrap();
    (resp.status(), resp)
}

async fn text(resp: Response<Body>) -> String {
    String::from_utf8_lossy(&resp.into_body().collect().await.unwrap().to_bytes()).into_owned()
}

fn select(recv: &Receiver, tenant_label: &str, sel: &str) -> Vec<(Labels, Vec<(i64, f64)>)> {
    let q = TenantsQueryable::new(recv.tsdb.clone(), tenant_label, Labels::empty());
    let ms = strata_model::matcher::parse_selector(sel).unwrap();
    q.querier(i64::MIN, i64::MAX)
        .unwrap()
        .select(
            &ms,
            &SelectHints {
                sorted: true,
                ..Default::default()
            },
        )
        .unwrap()
        .map(|s| s.unwrap().collect_samples().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_count_and_tenants_are_isolated() {
    let f = fixture();
    let a: &[(&str, &str)] = &[("__name__", "up"), ("job", "a")];
    let (code, resp) = post(
        &f.app,
        &[("THANOS-TENANT", "team-a")],
        body(&[(a, &[(1000, 1.0), (2000, 1.0)])]),
    )
    .await;
    assert_eq!(code, StatusCode::NO_CONTENT);
    let h = resp.headers();
    assert_eq!(h["X-Prometheus-Remote-Write-Samples-Written"], "2");
    assert_eq!(h["X-Prometheus-Remote-Write-Histograms-Written"], "0");
    assert_eq!(h["X-Prometheus-Remote-Write-Exemplars-Written"], "0");
    let (code, _) = post(
        &f.app,
        &[("X-Scope-OrgID", "team-b")],
        body(&[(a, &[(1000, 5.0)])]),
    )
    .await;
    assert_eq!(code, StatusCode::NO_CONTENT);
    let (code, _) = post(&f.app, &[], body(&[(a, &[(1000, 7.0)])])).await;
    assert_eq!(code, StatusCode::NO_CONTENT);

    let all = select(&f.recv, "tenant_id", "up");
    let tenants: Vec<_> = all
        .iter()
        .map(|(l, _)| l.get("tenant_id").unwrap().to_owned())
        .collect();
    assert_eq!(tenants, ["default-tenant", "team-a", "team-b"]);
    let b = select(&f.recv, "tenant_id", r#"up{tenant_id="team-b"}"#);
    assert_eq!(b.len(), 1);
    assert_eq!(b[0].1, vec![(1000, 5.0)]);
    assert!(select(&f.recv, "tenant_id", r#"up{tenant_id="nobody"}"#).is_empty());
    assert_eq!(select(&f.recv, "", "up")[0].0.get("tenant_id"), None);
    // Directory per tenant, as Thanos lays them out.
    assert!(f.recv.tsdb.dir().join("team-a").join("wal").is_dir());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsorted_labels_and_dotted_names_are_accepted() {
    let f = fixture();
    let l: &[(&str, &str)] = &[
        ("zone", "x"),
        ("__name__", "http.requests"),
        ("k8s.pod", "p"),
    ];
    let (code, _) = post(&f.app, &[], body(&[(l, &[(1000, 1.0)])])).await;
    assert_eq!(code, StatusCode::NO_CONTENT);
    let got = select(&f.recv, "", r#"{__name__="http.requests"}"#);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0.get("k8s.pod"), Some("p"));
    assert_eq!(got[0].0.get("zone"), Some("x"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_requests_are_rejected_and_write_nothing() {
    let f = fixture();
    let good: &[(&str, &str)] = &[("__name__", "ok")];
    let no_name: &[(&str, &str)] = &[("job", "x")];
    let (code, resp) = post(
        &f.app,
        &[],
        body(&[(good, &[(1000, 1.0)]), (no_name, &[(1000, 1.0)])]),
    )
    .await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    let msg = text(resp).await;
    assert!(
        msg.contains("no metric name") && msg.contains("job=\"x\""),
        "{msg}"
    );
    let dup: &[(&str, &str)] = &[("__name__", "a"), ("a", "1"), ("a", "2")];
    let (code, resp) = post(&f.app, &[], body(&[(dup, &[(1000, 1.0)])])).await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    assert!(text(resp).await.contains("duplicate label name"));
    let (code, _) = post(&f.app, &[], b"not snappy at all".to_vec()).await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    let garbage = snappy::compress(&[0x0a, 0xff, 0xff, 0xff]);
    let (code, _) = post(&f.app, &[], garbage).await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    assert!(
        select(&f.recv, "", "ok").is_empty(),
        "nothing of a rejected request is written"
    );

    for (ct, enc) in [
        ("application/x-protobuf", "gzip"),
        ("application/json", "snappy"),
    ] {
        let req = Request::post("/api/v1/write")
            .header("Content-Type", ct)
            .header("Content-Encoding", enc)
            .body(Body::from(body(&[(good, &[(1, 1.0)])])))
            .unwrap();
        let resp = f.app.clone().oneshot(req).await.unwrap();
        assert_eq!(
            resp.status(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{ct} {enc}"
        );
    }
    let (code, _) = post(
        &f.app,
        &[("THANOS-TENANT", "..")],
        body(&[(good, &[(1, 1.0)])]),
    )
    .await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_order_is_a_conflict_and_the_rest_is_written() {
    let f = fixture();
    let a: &[(&str, &str)] = &[("__name__", "a")];
    let b: &[(&str, &str)] = &[("__name__", "b")];
    let (code, _) = post(&f.app, &[], body(&[(a, &[(5000, 1.0)])])).await;
    assert_eq!(code, StatusCode::NO_CONTENT);
    let (code, resp) = post(
        &f.app,
        &[],
        body(&[(a, &[(4000, 1.0)]), (b, &[(4000, 2.0)])]),
    )
    .await;
    assert_eq!(code, StatusCode::CONFLICT);
    assert_eq!(
        resp.headers()["X-Prometheus-Remote-Write-Samples-Written"],
        "1"
    );
    assert!(text(resp).await.contains("out of order"));
    assert_eq!(select(&f.recv, "", "b")[0].1, vec![(4000, 2.0)]);
    // A resend of what was written is accepted (identical duplicates are ignored).
    let (code, _) = post(&f.app, &[], body(&[(a, &[(5000, 1.0)])])).await;
    assert_eq!(code, StatusCode::NO_CONTENT);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenant_limits() {
    let f = fixture();
    f.recv.set_limits(
        LimitsConfig::parse(
            "write:\n  default:\n    request:\n      series_limit: 2\n      samples_limit: 3\n  tenants:\n    small:\n      head_series_limit: 1\n    tiny:\n      request:\n        size_bytes_limit: 10\n",
        )
        .unwrap(),
    );
    let a: &[(&str, &str)] = &[("__name__", "a")];
    let b: &[(&str, &str)] = &[("__name__", "b")];
    let c: &[(&str, &str)] = &[("__name__", "c")];
    let (code, resp) = post(
        &f.app,
        &[],
        body(&[(a, &[(1, 1.0)]), (b, &[(1, 1.0)]), (c, &[(1, 1.0)])]),
    )
    .await;
    assert_eq!(code, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(text(resp).await.contains("series limit"));
    let (code, _) = post(
        &f.app,
        &[],
        body(&[(a, &[(1, 1.0), (2, 1.0), (3, 1.0), (4, 1.0)])]),
    )
    .await;
    assert_eq!(code, StatusCode::PAYLOAD_TOO_LARGE);
    let (code, _) = post(
        &f.app,
        &[("THANOS-TENANT", "tiny")],
        body(&[(a, &[(1, 1.0)])]),
    )
    .await;
    assert_eq!(code, StatusCode::PAYLOAD_TOO_LARGE);
    let t = [("THANOS-TENANT", "small")];
    let (code, _) = post(&f.app, &t, body(&[(a, &[(1, 1.0)])])).await;
    assert_eq!(code, StatusCode::NO_CONTENT);
    let (code, resp) = post(&f.app, &t, body(&[(b, &[(1, 1.0)])])).await;
    assert_eq!(code, StatusCode::TOO_MANY_REQUESTS);
    assert!(resp.headers().contains_key("Retry-After"));
    let metrics = f.recv.metrics.render(&[]);
    assert!(
        metrics.contains("thanos_receive_head_series_limited_requests_total{tenant=\"small\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("thanos_receive_write_timeseries_bucket{code=\"429\",tenant=\"small\""),
        "{metrics}"
    );
    let _ = Matcher::equal("a", "b");
}
