//! Body size, sample and label limits fail the whole scrape, as in Prometheus.

use strata_model::is_stale_nan;

use crate::server::Page;
use crate::support::Harness;

#[tokio::test]
async fn oversized_body_fails_the_scrape() {
    let body = "a 1\n".repeat(100);
    let mut h = Harness::new("body_size_limit: 100B", Page::text(&body)).await;
    assert_eq!(
        h.scrape().await.error.as_deref(),
        Some("body size limit exceeded")
    );
    assert_eq!(h.up(), Some(0.0));
    // Also when the body is compressed: the limit is on the decoded size.
    h.set(Page::text(&body).gzipped());
    assert_eq!(
        h.scrape().await.error.as_deref(),
        Some("body size limit exceeded")
    );
    h.set(Page::text("a 1\n"));
    assert_eq!(h.scrape().await.error, None);
}

#[tokio::test]
async fn sample_limit_breach_fails_the_scrape() {
    let mut h = Harness::new("sample_limit: 3", Page::text("a 1\nb 1\nc 1\n")).await;
    assert_eq!(h.scrape().await.error, None);
    h.set(Page::text("a 2\nb 2\nc 2\nd 2\ne 2\n"));
    let out = h.scrape().await;
    assert_eq!(out.error.as_deref(), Some("sample limit exceeded"));
    assert_eq!(h.up(), Some(0.0));
    assert_eq!(h.report("scrape_samples_scraped"), 5.0);
    assert_eq!(h.report("scrape_samples_post_metric_relabeling"), 5.0);
    // Nothing of the failed scrape was stored.
    assert!(h.storage.find("d", &[]).is_empty());
    assert_eq!(h.samples("a", &[]).len(), 1);
    // Within the limit again.
    h.set(Page::text("a 3\nb 3\n"));
    assert_eq!(h.scrape().await.error, None);
    assert_eq!(h.samples("a", &[]).last().unwrap().v, 3.0);
    // `c` is gone.
    assert!(is_stale_nan(h.samples("c", &[]).last().unwrap().v));
}

#[tokio::test]
async fn metric_relabeling_happens_before_the_sample_limit() {
    let extra = "sample_limit: 2\nmetric_relabel_configs:\n  - source_labels: [__name__]\n    regex: drop_.*\n    action: drop";
    let body = "a 1\nb 1\ndrop_x 1\ndrop_y 1\n";
    let mut h = Harness::new(extra, Page::text(body)).await;
    assert_eq!(h.scrape().await.error, None);
    assert_eq!(h.report("scrape_samples_scraped"), 4.0);
    assert_eq!(h.report("scrape_samples_post_metric_relabeling"), 2.0);
}

#[tokio::test]
async fn label_limit_counts_target_labels() {
    let body = "a{x=\"1\",y=\"2\"} 1\n";
    let mut h = Harness::new("label_limit: 4", Page::text(body)).await;
    let e = h.scrape().await.error.unwrap_or_default();
    assert!(
        e.starts_with("label_limit exceeded (metric: a, number of labels: 5, limit: 4)"),
        "{e}"
    );
    assert_eq!(h.up(), Some(0.0));
    let mut h = Harness::new(
        "label_value_length_limit: 3",
        Page::text("a{x=\"long\"} 1\n"),
    )
    .await;
    let e = h.scrape().await.error.unwrap();
    assert!(e.starts_with("label_value_length_limit exceeded"), "{e}");
    let mut h = Harness::new(
        "label_name_length_limit: 5",
        Page::text("a{longname=\"x\"} 1\n"),
    )
    .await;
    let e = h.scrape().await.error.unwrap();
    assert!(e.starts_with("label_name_length_limit exceeded"), "{e}");
}
