//! The scrape cache keeps refs, not labels: a storage that forgot a ref gets the sample
//! again with the series' labels, and the loop caches the new ref.

use std::collections::HashMap;

use strata_model::Labels;
use strata_scrape::append::{AppendOptions, AppendState, append_body};
use strata_scrape::{AppendError, ScrapeAppender, ScrapeCache};

use crate::support::{T0, config};

/// Knows the refs it handed out until told to forget them.
#[derive(Default)]
struct Forgetful {
    labels: HashMap<u64, Labels>,
    next: u64,
    /// (ref, labels passed, value) of every accepted append.
    appended: Vec<(u64, Labels, f64)>,
    unknown: u64,
}

impl ScrapeAppender for &mut Forgetful {
    fn append(&mut self, r: Option<u64>, l: &Labels, _: i64, v: f64) -> Result<u64, AppendError> {
        let r = match r.filter(|r| self.labels.contains_key(r)) {
            Some(r) => r,
            None if l.is_empty() => {
                self.unknown += 1;
                return Err(AppendError::UnknownRef);
            }
            None => {
                self.next += 1;
                self.labels.insert(self.next, l.clone());
                self.next
            }
        };
        self.appended.push((r, l.clone(), v));
        Ok(r)
    }
    fn commit(self: Box<Self>) -> Result<(), AppendError> {
        Ok(())
    }
    fn rollback(self: Box<Self>) {}
}

#[test]
fn forgotten_refs_are_appended_again_with_their_labels() {
    let body = "a{x=\"1\"} 1\na{x=\"2\"} 2\nb 3\n";
    let cfg = config(&["h:1"], "");
    let opts = AppendOptions::from_config(&cfg.scrape_configs[0]);
    let target = Labels::new(&[("instance", "h:1"), ("job", "test")]).unwrap();
    let mut st = AppendState::new(ScrapeCache::new());
    let mut store = Forgetful::default();
    let ct = "text/plain; version=0.0.4";
    let mut scrape = |i: i64, store: &mut Forgetful, body: &str| {
        let mut app = store;
        let (counts, r) = append_body(
            &mut st,
            &opts,
            &target,
            &mut app,
            body.as_bytes(),
            ct,
            T0 + i * 15_000,
            T0 + i * 15_000,
        );
        r.unwrap();
        counts
    };
    assert_eq!(scrape(0, &mut store, body).series_added, 3);
    // Cached: refs only, no labels.
    store.appended.clear();
    assert_eq!(scrape(1, &mut store, body).series_added, 0);
    assert!(store.appended.iter().all(|(_, l, _)| l.is_empty()));
    let refs: Vec<u64> = store.appended.iter().map(|a| a.0).collect();
    assert_eq!(refs, [1, 2, 3]);

    // The storage drops every series: the next scrape re-derives the labels.
    let old = std::mem::take(&mut store.labels);
    store.appended.clear();
    let counts = scrape(2, &mut store, body);
    assert_eq!((counts.added, counts.series_added), (3, 0));
    assert_eq!(store.unknown, 3);
    let got: Vec<(u64, Labels, f64)> = std::mem::take(&mut store.appended);
    assert_eq!(got.len(), 3);
    for (r, l, v) in &got {
        assert!(*r > 3, "new ref {r}");
        let before = old
            .values()
            .find(|o| *o == l)
            .expect("same labels as before");
        assert_eq!(before.get("instance"), Some("h:1"));
        assert!(*v >= 1.0);
    }
    // The new refs are cached.
    assert_eq!(scrape(3, &mut store, body).series_added, 0);
    assert!(
        store
            .appended
            .iter()
            .all(|(r, l, _)| *r > 3 && l.is_empty())
    );

    // A series that disappears after its ref was forgotten needs no stale marker.
    store.labels.remove(&6);
    store.appended.clear();
    scrape(4, &mut store, "a{x=\"1\"} 1\na{x=\"2\"} 2\n");
    assert_eq!(store.appended.len(), 2);
}
