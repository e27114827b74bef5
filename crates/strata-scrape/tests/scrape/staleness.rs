//! Stale markers: disappearing series, failed scrapes, removed targets.

use strata_model::is_stale_nan;

use crate::server::Page;
use crate::support::Harness;

#[tokio::test]
async fn a_series_that_disappears_gets_a_stale_marker() {
    let mut h = Harness::new("", Page::text("a 1\nb{x=\"1\"} 1\nb{x=\"2\"} 1\n")).await;
    h.scrape().await;
    h.set(Page::text("a 2\nb{x=\"1\"} 2\n"));
    h.scrape().await;
    let gone = h.samples("b", &[("x", "2")]);
    assert_eq!(gone.len(), 2);
    assert!(is_stale_nan(gone[1].v));
    assert_eq!(gone[1].t, h.ts);
    assert!(!is_stale_nan(h.samples("b", &[("x", "1")])[1].v));
    // Comes back: a normal sample follows the marker.
    h.set(Page::text("a 3\nb{x=\"1\"} 3\nb{x=\"2\"} 3\n"));
    h.scrape().await;
    assert_eq!(h.samples("b", &[("x", "2")]).last().unwrap().v, 3.0);
    // A successful scrape without it flushed it from the cache, as in Prometheus.
    assert_eq!(h.report("scrape_series_added"), 1.0);
}

#[tokio::test]
async fn a_failed_scrape_makes_every_series_stale() {
    let mut h = Harness::new("", Page::text("a 1\nb 1\n")).await;
    h.scrape().await;
    let mut bad = Page::text("");
    bad.status = 503;
    h.set(bad);
    assert!(h.scrape().await.error.is_some());
    assert_eq!(h.up(), Some(0.0));
    for n in ["a", "b"] {
        let s = h.samples(n, &[]);
        assert!(is_stale_nan(s.last().unwrap().v), "{n}");
        assert_eq!(s.last().unwrap().t, h.ts);
    }
    // A second failure writes no more markers.
    h.scrape().await;
    assert_eq!(h.samples("a", &[]).len(), 2);
    h.set(Page::text("a 5\nb 5\n"));
    assert_eq!(h.scrape().await.error, None);
    assert_eq!(h.samples("a", &[]).last().unwrap().v, 5.0);
}

#[tokio::test]
async fn a_parse_error_makes_every_series_stale() {
    let mut h = Harness::new("", Page::text("a 1\nb 1\n")).await;
    h.scrape().await;
    // As in Prometheus, series appended before the error (then rolled back) count as
    // seen; an error on the first line leaves every series unseen.
    h.set(Page::text("c{ 1\na 2\nb 2\n"));
    assert!(h.scrape().await.error.is_some());
    for n in ["a", "b"] {
        let s = h.samples(n, &[]);
        assert_eq!(s.len(), 2, "{n}");
        assert!(is_stale_nan(s[1].v), "{n}");
    }
}

#[tokio::test]
async fn end_of_run_marks_every_series_and_the_report_stale() {
    let mut h = Harness::new("", Page::text("a 1\nb 1\n")).await;
    h.scrape().await;
    let ts = h.ts + 15_000;
    h.lp.write_end_of_run_stale_markers(ts);
    let stale = h.stale_series();
    let names: Vec<&str> = stale.iter().filter_map(|l| l.metric_name()).collect();
    for n in [
        "a",
        "b",
        "up",
        "scrape_duration_seconds",
        "scrape_samples_scraped",
        "scrape_samples_post_metric_relabeling",
        "scrape_series_added",
    ] {
        assert!(names.contains(&n), "{n} not stale: {names:?}");
    }
    assert_eq!(h.storage.last("a", &[]).unwrap().t, ts);
}

#[tokio::test]
async fn an_empty_body_is_a_successful_empty_scrape() {
    let mut h = Harness::new("", Page::text("a 1\n")).await;
    h.scrape().await;
    h.set(Page::text(""));
    assert_eq!(h.scrape().await.error, None);
    assert_eq!(h.up(), Some(1.0));
    assert!(is_stale_nan(h.samples("a", &[]).last().unwrap().v));
}
