//! Text and OpenMetrics bodies, content negotiation, compression, request headers,
//! HTTP failures.

use std::time::Duration;

use crate::server::{Page, TestServer};
use crate::support::{Harness, count_samples, testdata};

const BODY: &str = "# HELP a_total A counter.\n# TYPE a_total counter\na_total{path=\"/x\"} 3\na_total{path=\"/y\"} 4 \n\n  b 1.5\n";

#[tokio::test]
async fn text_body_is_appended_with_target_labels_and_report_series() {
    let mut h = Harness::new("", Page::text(BODY)).await;
    let out = h.scrape().await;
    assert_eq!(out.error, None);
    assert_eq!(h.up(), Some(1.0));
    let inst = h.instance();
    let s = h.samples(
        "a_total",
        &[("path", "/x"), ("job", "test"), ("instance", &inst)],
    );
    assert_eq!((s[0].t, s[0].v), (h.ts, 3.0));
    assert_eq!(h.samples("b", &[])[0].v, 1.5);
    assert_eq!(h.report("scrape_samples_scraped"), 3.0);
    assert_eq!(h.report("scrape_samples_post_metric_relabeling"), 3.0);
    assert_eq!(h.report("scrape_series_added"), 3.0);
    assert!(h.report("scrape_duration_seconds") > 0.0);
    // The second scrape finds every series in the cache.
    let (before, _) = h.storage.append_counts();
    h.scrape().await;
    let (after, with_ref) = h.storage.append_counts();
    assert_eq!(after - before, 3 + 5);
    assert_eq!(
        with_ref,
        3 + 5,
        "every append of the second scrape reuses a reference"
    );
    assert_eq!(h.report("scrape_series_added"), 0.0);
    assert_eq!(h.samples("a_total", &[("path", "/y")]).len(), 2);
}

#[tokio::test]
async fn real_text_and_openmetrics_bodies() {
    for (file, page) in [
        ("alltypes.237mfs.prom.txt", Page::text as fn(&str) -> Page),
        ("alltypes.237mfs.nometa.prom.txt", Page::text),
        ("alltypes.5mfs.om.txt", Page::openmetrics),
        ("1histogram.om.txt", Page::openmetrics),
    ] {
        let body = testdata(file);
        let mut h = Harness::new("", page(&body)).await;
        let out = h.scrape().await;
        assert_eq!(out.error, None, "{file}");
        let n = count_samples(&body) as f64;
        assert_eq!(h.report("scrape_samples_scraped"), n, "{file}");
        let out = h.scrape().await;
        assert_eq!(out.error, None, "{file}");
        assert_eq!(out.appended.series_added, 0, "{file}");
        // Nothing went stale between two identical scrapes.
        assert!(h.stale_series().is_empty(), "{file}");
    }
}

#[tokio::test]
async fn openmetrics_needs_eof_and_reports_parse_errors() {
    let mut h = Harness::new("", Page::openmetrics("a 1\n")).await;
    let out = h.scrape().await;
    assert!(out.error.unwrap().contains("EOF"));
    assert_eq!(h.up(), Some(0.0));
    h.set(Page::openmetrics("a 1\n# EOF\nb 2\n"));
    assert!(h.scrape().await.error.unwrap().contains("after \"# EOF\""));
    h.set(Page::openmetrics("a 1\n\n# EOF\n"));
    assert_eq!(
        h.scrape().await.error.as_deref(),
        Some("line 2: unexpected empty line")
    );
    h.set(Page::text("a 1\nb{c=\"d\" 2\n"));
    let e = h.scrape().await.error.unwrap();
    assert!(e.starts_with("line 2:"), "{e}");
    h.set(Page::openmetrics("a 1 1.5 # {id=\"x\"} 2 1.0\n# EOF\n"));
    assert_eq!(h.scrape().await.error, None);
    assert_eq!(
        h.samples("a", &[])[0].t,
        1500,
        "OpenMetrics timestamps are seconds"
    );
}

#[tokio::test]
async fn content_type_and_fallback_protocol() {
    let mut page = Page::text("a 1\n");
    page.content_type = String::new();
    let mut h = Harness::new("", page.clone()).await;
    let e = h.scrape().await.error.unwrap();
    assert!(e.contains("blank Content-Type"), "{e}");
    let mut h = Harness::with_server(
        h.server.clone(),
        "fallback_scrape_protocol: PrometheusText0.0.4",
    );
    assert_eq!(h.scrape().await.error, None);
    page.content_type = "application/json".into();
    h.set(page);
    assert_eq!(
        h.scrape().await.error,
        None,
        "unknown types use the fallback"
    );
}

#[tokio::test]
async fn gzip_and_negotiation_headers() {
    let body = testdata("alltypes.237mfs.prom.txt");
    let mut h = Harness::new("", Page::text(&body).gzipped()).await;
    assert_eq!(h.scrape().await.error, None);
    assert_eq!(
        h.report("scrape_samples_scraped"),
        count_samples(&body) as f64
    );
    let req = h.server.requests().pop().unwrap();
    let hdr = |n: &str| req.headers.get(n).unwrap().to_str().unwrap().to_owned();
    assert_eq!(hdr("accept-encoding"), "gzip");
    assert_eq!(
        hdr("accept"),
        "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,\
         application/openmetrics-text;version=0.0.1;q=0.5,\
         text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,\
         text/plain;version=0.0.4;q=0.3,*/*;q=0.2"
    );
    assert_eq!(hdr("x-prometheus-scrape-timeout-seconds"), "10");
    assert_eq!(hdr("user-agent"), "strata-test");

    let mut h = Harness::with_server(
        h.server.clone(),
        "enable_compression: false\nscrape_timeout: 2500ms\nscrape_protocols: [PrometheusText0.0.4]",
    );
    assert_eq!(h.scrape().await.error, None);
    let req = h.server.requests().pop().unwrap();
    let hdr = |n: &str| req.headers.get(n).unwrap().to_str().unwrap().to_owned();
    assert_eq!(hdr("accept-encoding"), "identity");
    assert_eq!(hdr("accept"), "text/plain;version=0.0.4;q=0.6,*/*;q=0.5");
    assert_eq!(hdr("x-prometheus-scrape-timeout-seconds"), "2.5");
}

#[tokio::test]
async fn slow_target_times_out() {
    let page = Page::text("a 1\n").delayed(Duration::from_secs(3));
    let mut h = Harness::new("scrape_interval: 1s\nscrape_timeout: 200ms", page).await;
    let out = h.scrape().await;
    let e = out.error.unwrap();
    assert!(e.contains("context deadline exceeded"), "{e}");
    assert!(out.duration >= Duration::from_millis(200) && out.duration < Duration::from_secs(2));
    assert_eq!(h.up(), Some(0.0));
    assert_eq!(h.report("scrape_samples_scraped"), 0.0);
}

#[tokio::test]
async fn http_errors_and_missing_pages() {
    let mut page = Page::text("a 1\n");
    page.status = 500;
    let mut h = Harness::new("", page).await;
    let e = h.scrape().await.error.unwrap();
    assert_eq!(e, "server returned HTTP status 500 Internal Server Error");
    let mut h = Harness::with_server(h.server.clone(), "metrics_path: /nope");
    assert!(h.scrape().await.error.unwrap().contains("404"));
    let st = h.lp.target().status();
    assert_eq!(st.health, strata_scrape::TargetHealth::Down);
    assert!(st.last_error.contains("404"));
}

#[tokio::test]
async fn authentication_and_params() {
    let server = TestServer::start().await;
    server.set("/probe", Page::text("a 1\n"));
    let dir = std::env::temp_dir().join(format!("strata-scrape-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let token = dir.join("token");
    std::fs::write(&token, "s3cret\n").unwrap();
    let extra = format!(
        "metrics_path: /probe\nparams:\n  module: [http_2xx]\nauthorization:\n  credentials_file: {}\nhttp_headers:\n  X-Extra:\n    values: [v1]",
        token.display()
    );
    let mut h = Harness::with_server(server.clone(), &extra);
    assert_eq!(h.scrape().await.error, None);
    let req = server.requests().pop().unwrap();
    assert_eq!(req.uri, "/probe?module=http_2xx");
    assert_eq!(req.headers.get("authorization").unwrap(), "Bearer s3cret");
    assert_eq!(req.headers.get("x-extra").unwrap(), "v1");
    // The file is read again for every scrape.
    std::fs::write(&token, "rotated").unwrap();
    h.scrape().await;
    let req = server.requests().pop().unwrap();
    assert_eq!(req.headers.get("authorization").unwrap(), "Bearer rotated");

    let mut h = Harness::with_server(
        server.clone(),
        "metrics_path: /probe\nbasic_auth:\n  username: user\n  password: pass",
    );
    h.scrape().await;
    let req = server.requests().pop().unwrap();
    assert_eq!(
        req.headers.get("authorization").unwrap(),
        "Basic dXNlcjpwYXNz"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
