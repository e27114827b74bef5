//! Building loops and reading results.

use std::sync::Arc;

use strata_model::clock::ManualClock;
use strata_model::{Labels, Sample, is_stale_nan};
use strata_relabel::RelabelBuilder;
use strata_scrape::populate::{static_groups, targets_from_group};
use strata_scrape::{MemoryStorage, ScrapeCache, ScrapeClient, ScrapeLoop, ScrapeOutcome};

use crate::server::{Page, TestServer};

pub const T0: i64 = 1_700_000_000_000;
pub const INTERVAL: i64 = 15_000;

/// A configuration with one job `test` scraping `targets`; `extra` holds more fields of
/// the scrape config, unindented.
pub fn config(targets: &[&str], extra: &str) -> strata_config::Config {
    let extra: String = extra.lines().map(|l| format!("    {l}\n")).collect();
    let targets: Vec<String> = targets.iter().map(|t| format!("'{t}'")).collect();
    let yaml = format!(
        "global:\n  scrape_interval: 15s\nscrape_configs:\n  - job_name: test\n{extra}    static_configs:\n      - targets: [{}]\n",
        targets.join(", ")
    );
    strata_config::parse(&yaml).unwrap_or_else(|e| panic!("{e}\n{yaml}"))
}

/// One target's loop against a test server, with scrapes at T0, T0+15s, ...
pub struct Harness {
    pub server: TestServer,
    pub storage: Arc<MemoryStorage>,
    pub clock: ManualClock,
    pub lp: ScrapeLoop,
    /// Timestamp of the last scrape.
    pub ts: i64,
}

impl Harness {
    pub async fn new(extra: &str, page: Page) -> Self {
        let server = TestServer::start().await;
        server.set("/metrics", page);
        Self::with_server(server, extra)
    }

    pub fn with_server(server: TestServer, extra: &str) -> Self {
        let cfg = config(&[server.address().as_str()], extra);
        let sc = &cfg.scrape_configs[0];
        let groups = static_groups(sc);
        let mut b = RelabelBuilder::new();
        let mut targets = targets_from_group(&mut b, &groups[0], sc);
        assert!(targets.failures.is_empty(), "{:?}", targets.failures);
        let target = Arc::new(targets.targets.remove(0));
        let storage = Arc::new(MemoryStorage::new());
        let clock = ManualClock::new(T0 - INTERVAL);
        let client = ScrapeClient::new(&sc.http_client).unwrap();
        let lp = ScrapeLoop::new(
            target,
            sc,
            client,
            storage.clone(),
            Arc::new(clock.clone()),
            ScrapeCache::new(),
            "strata-test",
        );
        Harness {
            server,
            storage,
            clock,
            lp,
            ts: T0 - INTERVAL,
        }
    }

    pub fn set(&self, page: Page) {
        self.server.set("/metrics", page);
    }

    /// Scrapes at the next interval.
    pub async fn scrape(&mut self) -> ScrapeOutcome {
        self.ts += INTERVAL;
        self.clock.set(self.ts);
        self.lp.scrape_and_report(self.ts).await
    }

    /// The `up` sample of the last scrape.
    pub fn up(&self) -> Option<f64> {
        self.storage
            .last("up", &[])
            .filter(|s| s.t == self.ts)
            .map(|s| s.v)
    }

    /// The last report value of `name` for the last scrape.
    pub fn report(&self, name: &str) -> f64 {
        let s = self.storage.last(name, &[]).unwrap();
        assert_eq!(s.t, self.ts, "{name}");
        s.v
    }

    /// Samples of the series named `name` with these labels (besides job/instance).
    pub fn samples(&self, name: &str, pairs: &[(&str, &str)]) -> Vec<Sample> {
        let found = self.storage.find(name, pairs);
        assert_eq!(found.len(), 1, "{name} {pairs:?}: {found:?}");
        found[0].1.clone()
    }

    /// Series (by labels) whose newest sample is a stale marker.
    pub fn stale_series(&self) -> Vec<Labels> {
        self.storage
            .series()
            .into_iter()
            .filter(|(_, s)| s.last().is_some_and(|x| is_stale_nan(x.v)))
            .map(|(l, _)| l)
            .collect()
    }

    pub fn instance(&self) -> String {
        self.server.address()
    }
}

pub fn testdata(name: &str) -> String {
    let p = strata_testkit::shared_dir()
        .join("testdata/textparse")
        .join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Sample lines in a body (what `scrape_samples_scraped` should count).
pub fn count_samples(body: &str) -> usize {
    body.lines()
        .filter(|l| {
            let t = l.trim_start();
            !t.is_empty() && !t.starts_with('#')
        })
        .count()
}
