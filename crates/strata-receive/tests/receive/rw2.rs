//! Remote write 2.0 receiver conformance, modeled on the receiver checks of the
//! Prometheus compliance suite: negotiation, exact written-count headers, 204, 415,
//! 400 for invalid histograms and a missing `__name__`, unsorted labels and label names
//! with dots, metadata kept.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use strata_model::histogram::{Histogram, Span};
use strata_remote::{HistogramValue, MetricType, TimeSeriesRef, WireHistogram, rw2, snappy};
use tower::ServiceExt;

use super::http::fixture;

const V2: &str = "application/x-protobuf;proto=io.prometheus.write.v2.Request";

fn series<'a>(labels: &[(&'a str, &'a str)], samples: &[(i64, f64)]) -> TimeSeriesRef<'a> {
    TimeSeriesRef {
        labels: labels.to_vec(),
        samples: samples.to_vec(),
        ..Default::default()
    }
}

/// An integer histogram with two positive buckets; `count` must be 3 for a valid one.
fn histogram(t: i64, count: u64) -> WireHistogram {
    WireHistogram {
        timestamp: t,
        start_timestamp: 0,
        value: HistogramValue::Int(Histogram {
            schema: 0,
            count,
            sum: 10.0,
            zero_threshold: 1e-128,
            positive_spans: vec![Span {
                offset: 0,
                length: 2,
            }],
            positive_deltas: vec![1, 1],
            ..Default::default()
        }),
    }
}

async fn post_v2(
    app: &axum::Router,
    ct: &str,
    all: &[TimeSeriesRef<'_>],
) -> axum::http::Response<Body> {
    let body = snappy::compress(&rw2::encode_request(all.iter()));
    let req = Request::post("/api/v1/write")
        .header("Content-Type", ct)
        .header("Content-Encoding", "snappy")
        .header("X-Prometheus-Remote-Write-Version", "2.0.0")
        .body(Body::from(body))
        .unwrap();
    app.clone().oneshot(req).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v2_samples_metadata_and_headers() {
    let f = fixture();
    let mut a = series(
        &[
            ("job", "x"),
            ("__name__", "http.requests_total"),
            ("k8s.pod", "p"),
        ],
        &[(1000, 1.0), (2000, 2.0)],
    );
    a.metadata.metric_type = MetricType::Counter;
    a.metadata.help = "Requests.";
    a.metadata.unit = "requests";
    let b = series(&[("__name__", "temp")], &[(1000, 3.0)]);
    let resp = post_v2(&f.app, V2, &[a, b]).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let h = resp.headers();
    assert_eq!(h["X-Prometheus-Remote-Write-Samples-Written"], "3");
    assert_eq!(h["X-Prometheus-Remote-Write-Histograms-Written"], "0");
    assert_eq!(h["X-Prometheus-Remote-Write-Exemplars-Written"], "0");
    let md = f.recv.metadata.snapshot(Some("default-tenant"));
    let m = &md["http.requests_total"][0];
    assert_eq!(
        (m.metric_type.as_str(), m.help.as_str(), m.unit.as_str()),
        ("counter", "Requests.", "requests")
    );
    // Spaces and case in the content type are tolerated.
    let c = series(&[("__name__", "c")], &[(1000, 1.0)]);
    let resp = post_v2(
        &f.app,
        "application/x-protobuf; proto=io.prometheus.write.v2.Request",
        &[c],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v2_rejections() {
    let f = fixture();
    let ok = series(&[("__name__", "ok")], &[(1000, 1.0)]);
    let resp = post_v2(
        &f.app,
        "application/x-protobuf;proto=io.prometheus.write.v3.Request",
        std::slice::from_ref(&ok),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let no_name = series(&[("job", "x")], &[(1000, 1.0)]);
    let resp = post_v2(&f.app, V2, &[no_name]).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    // A histogram whose count is below the sum of its buckets is invalid.
    let mut bad = series(&[("__name__", "h")], &[]);
    bad.histograms.push(histogram(1000, 1));
    let resp = post_v2(&f.app, V2, &[bad]).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let body = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .unwrap();
    let msg = String::from_utf8_lossy(&body);
    assert!(msg.contains("h") && msg.contains("histogram"), "{msg}");
    // A request whose symbol table does not start with "" is malformed.
    let req = Request::post("/api/v1/write")
        .header("Content-Type", V2)
        .header("Content-Encoding", "snappy")
        .body(Body::from(snappy::compress(&[0x22, 0x01, b'x'])))
        .unwrap();
    let resp = f.app.clone().oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v2_histograms_are_stored_and_counted() {
    let f = fixture();
    let mut h = series(&[("__name__", "latency_seconds")], &[]);
    h.histograms.push(histogram(1000, 3));
    h.histograms.push(histogram(2000, 3));
    let resp = post_v2(&f.app, V2, &[h]).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let hd = resp.headers();
    assert_eq!(hd["X-Prometheus-Remote-Write-Samples-Written"], "0");
    assert_eq!(hd["X-Prometheus-Remote-Write-Histograms-Written"], "2");
    let t = f.recv.tsdb.get("default-tenant").unwrap();
    let ms = strata_model::matcher::parse_selector("latency_seconds").unwrap();
    let got = t.db.select_histograms(&ms, 0, 10_000).unwrap();
    assert_eq!(got.len(), 1);
    let counts: Vec<f64> = got[0].1.iter().map(|(_, h)| h.count).collect();
    assert_eq!(counts, vec![3.0, 3.0]);
}
