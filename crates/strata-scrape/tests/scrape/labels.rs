//! honor_labels, metric relabeling and timestamps.

use strata_model::is_stale_nan;

use crate::server::Page;
use crate::support::Harness;

#[tokio::test]
async fn conflicting_labels_are_exported_unless_honored() {
    let body = "m{job=\"other\",instance=\"x\",exported_job=\"y\"} 1\n";
    let mut h = Harness::new("", Page::text(body)).await;
    assert_eq!(h.scrape().await.error, None);
    let inst = h.instance();
    let s = h.storage.find("m", &[]);
    assert_eq!(s.len(), 1);
    let l = &s[0].0;
    assert_eq!(l.get("job"), Some("test"));
    assert_eq!(l.get("instance"), Some(inst.as_str()));
    assert_eq!(l.get("exported_instance"), Some("x"));
    assert_eq!(l.get("exported_job"), Some("y"));
    assert_eq!(l.get("exported_exported_job"), Some("other"));

    let mut h = Harness::new("honor_labels: true", Page::text(body)).await;
    assert_eq!(h.scrape().await.error, None);
    let s = h.storage.find("m", &[]);
    let l = &s[0].0;
    assert_eq!(l.get("job"), Some("other"));
    assert_eq!(l.get("instance"), Some("x"));
    assert_eq!(l.get("exported_job"), Some("y"));
    // Report series always carry the target's labels.
    assert_eq!(h.storage.find("up", &[("job", "test")]).len(), 1);
}

#[tokio::test]
async fn metric_relabeling_drops_and_rewrites() {
    let extra = "metric_relabel_configs:\n  - source_labels: [__name__]\n    regex: go_.*\n    action: drop\n  - source_labels: [path]\n    target_label: route\n  - regex: path\n    action: labeldrop";
    let body = "go_goroutines 5\nhttp_requests_total{path=\"/a\"} 1\n";
    let mut h = Harness::new(extra, Page::text(body)).await;
    assert_eq!(h.scrape().await.error, None);
    assert!(h.storage.find("go_goroutines", &[]).is_empty());
    let s = h.storage.find("http_requests_total", &[("route", "/a")]);
    assert_eq!(s.len(), 1);
    assert!(!s[0].0.has("path"));
    assert_eq!(h.report("scrape_samples_post_metric_relabeling"), 1.0);
    // The dropped series stays dropped from the cache on the next scrape.
    assert_eq!(h.scrape().await.error, None);
    assert!(h.storage.find("go_goroutines", &[]).is_empty());
    assert_eq!(h.report("scrape_samples_scraped"), 2.0);
    assert_eq!(h.report("scrape_samples_post_metric_relabeling"), 1.0);
}

#[tokio::test]
async fn relabeling_to_no_metric_name_fails() {
    let extra = "metric_relabel_configs:\n  - regex: __name__\n    action: labeldrop";
    let mut h = Harness::new(extra, Page::text("a 1\n")).await;
    let e = h.scrape().await.error.unwrap();
    assert_eq!(e, "missing metric name (__name__ label)");
}

#[tokio::test]
async fn legacy_validation_rejects_utf8_names() {
    let extra = "metric_name_validation_scheme: legacy";
    let mut h = Harness::new(extra, Page::text("{\"my.metric\"} 1\n")).await;
    let e = h.scrape().await.error.unwrap();
    assert!(e.starts_with("invalid metric name or label names"), "{e}");
    let mut h = Harness::new("", Page::text("{\"my.metric\"} 1\n")).await;
    assert_eq!(h.scrape().await.error, None);
    assert_eq!(h.storage.find("my.metric", &[]).len(), 1);
}

#[tokio::test]
async fn timestamps_are_honored_or_ignored() {
    let body = "a 1 1000\nb 2\n";
    let mut h = Harness::new("", Page::text(body)).await;
    assert_eq!(h.scrape().await.error, None);
    assert_eq!(h.samples("a", &[])[0].t, 1000);
    assert_eq!(h.samples("b", &[])[0].t, h.ts);
    // Series with explicit timestamps get no stale markers when they disappear.
    h.set(Page::text("c 3\n"));
    h.scrape().await;
    assert!(!is_stale_nan(h.samples("a", &[]).last().unwrap().v));
    assert!(is_stale_nan(h.samples("b", &[]).last().unwrap().v));

    let mut h = Harness::new("honor_timestamps: false", Page::text(body)).await;
    h.scrape().await;
    assert_eq!(h.samples("a", &[])[0].t, h.ts);

    let mut h = Harness::new("track_timestamps_staleness: true", Page::text(body)).await;
    h.scrape().await;
    h.set(Page::text("c 3\n"));
    h.scrape().await;
    let a = h.samples("a", &[]);
    assert!(is_stale_nan(a.last().unwrap().v));
    assert_eq!(a.last().unwrap().t, h.ts);
}

#[tokio::test]
async fn duplicate_lines_are_skipped_not_fatal() {
    let mut h = Harness::new("", Page::text("a 1\na 2\nb 1\n")).await;
    assert_eq!(h.scrape().await.error, None);
    assert_eq!(h.samples("a", &[]).len(), 1);
    assert_eq!(h.samples("a", &[])[0].v, 1.0);
    assert_eq!(h.report("scrape_samples_post_metric_relabeling"), 3.0);
}
