//! The scrape loop of one target: scrape every interval at the target's jittered phase,
//! append, report, and on removal write stale markers for everything it last scraped.

use std::sync::Arc;
use std::time::{Duration, Instant};

use strata_config::ScrapeConfig;
use strata_model::clock::SharedClock;
use tokio::sync::{oneshot, watch};

use crate::append::{AppendOptions, AppendState, Appended, append_body, append_empty};
use crate::appender::{Appendable, ScrapeAppender};
use crate::bufpool;
use crate::cache::ScrapeCache;
use crate::client::ScrapeClient;
use crate::report::{ReportSeries, ReportValues};
use crate::scraper::{TargetScraper, accept_header};
use crate::target::Target;

/// Prometheus aligns scrape timestamps to the loop's phase when within this tolerance
/// (at most 1% of the interval), which helps compression.
const SCRAPE_TIMESTAMP_TOLERANCE_MS: i64 = 2;

/// What the outcome of one scrape was.
#[derive(Debug, Clone, PartialEq)]
pub struct ScrapeOutcome {
    pub appended: Appended,
    /// The scrape's error (`up` was 0), if any.
    pub error: Option<String>,
    pub duration: Duration,
}

/// How a loop is told to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StopMode {
    /// The target is gone (or its loop is replaced by one with a new cache): write stale
    /// markers two intervals later, as Prometheus does.
    Stale,
    /// Replaced by a new loop that takes over the cache: no stale markers.
    Handover,
}

/// Messages from the pool to a running loop.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Control {
    pub stop: Option<StopMode>,
    /// Set while the pool exceeds `target_limit`: every scrape fails with it.
    pub forced_error: Option<String>,
}

/// One target's scraper, cache and report series.
pub struct ScrapeLoop {
    target: Arc<Target>,
    scraper: TargetScraper,
    options: AppendOptions,
    state: AppendState,
    report: ReportSeries,
    storage: Arc<dyn Appendable>,
    clock: SharedClock,
    /// Size of the previous body: the pooled buffer is reserved for it.
    body_hint: usize,
    timeout: Duration,
    sample_limit: u64,
    forced_error: Option<String>,
}

impl std::fmt::Debug for ScrapeLoop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScrapeLoop")
            .field("target", &self.target.url())
            .field("cache", &self.state.cache)
            .finish()
    }
}

impl ScrapeLoop {
    /// A loop for `target` under `cfg`, appending to `storage`. `cache` is a fresh
    /// [`ScrapeCache`] or the one of the loop this one replaces.
    pub fn new(
        target: Arc<Target>,
        cfg: &ScrapeConfig,
        client: ScrapeClient,
        storage: Arc<dyn Appendable>,
        clock: SharedClock,
        cache: ScrapeCache,
        user_agent: &str,
    ) -> Self {
        let accept = accept_header(&cfg.scrape_protocols, &cfg.metric_name_escaping_scheme);
        let scraper = TargetScraper::new(
            client,
            target.url(),
            &accept,
            cfg.enable_compression,
            target.timeout(),
            cfg.body_size_limit.0,
            user_agent,
        );
        let report = ReportSeries::new(target.public_labels(), cfg.extra_scrape_metrics);
        ScrapeLoop {
            timeout: target.timeout(),
            target,
            scraper,
            options: AppendOptions::from_config(cfg),
            state: AppendState::new(cache),
            report,
            storage,
            clock,
            body_hint: 0,
            sample_limit: cfg.sample_limit,
            forced_error: None,
        }
    }

    /// The target scraped.
    pub fn target(&self) -> &Arc<Target> {
        &self.target
    }

    /// Makes every following scrape fail with `err` (or stops doing so).
    pub fn set_forced_error(&mut self, err: Option<String>) {
        self.forced_error = err;
    }

    /// Gives up the loop, keeping its cache for a successor.
    pub fn into_cache(self) -> ScrapeCache {
        self.state.cache
    }

    /// Scrapes once with scrape timestamp `ts` (milliseconds): fetch, append, stale
    /// markers, report series, commit.
    pub async fn scrape_and_report(&mut self, ts: i64) -> ScrapeOutcome {
        let start = Instant::now();
        let start_ms = self.clock.now_ms();
        if let Some(err) = self.forced_error.clone() {
            return self.finish(Err((err, 0)), &[], ts, start, start_ms);
        }
        let mut buf = bufpool::take(self.body_hint);
        let fetched = self.scraper.fetch(&mut buf).await;
        let fetched = fetched.map_err(|e| {
            let bytes = if e.body_size_limit { -1 } else { 0 };
            (e.message, bytes)
        });
        let outcome = self.finish(fetched, &buf, ts, start, start_ms);
        self.body_hint = buf.len();
        bufpool::give(buf);
        outcome
    }

    fn replace_appender<'a>(
        storage: &'a dyn Appendable,
        app: Box<dyn ScrapeAppender + 'a>,
    ) -> Box<dyn ScrapeAppender + 'a> {
        app.rollback();
        storage.appender()
    }

    /// Everything after the HTTP exchange; synchronous so the appender never lives
    /// across an await.
    fn finish(
        &mut self,
        fetched: Result<String, (String, i64)>,
        body: &[u8],
        ts: i64,
        start: Instant,
        start_ms: i64,
    ) -> ScrapeOutcome {
        let storage: &dyn Appendable = self.storage.as_ref();
        let mut app = storage.appender();
        let bytes: i64;
        let (appended, error) = match fetched {
            Ok(content_type) => {
                bytes = body.len() as i64;
                let (counts, res) = append_body(
                    &mut self.state,
                    &self.options,
                    self.target.public_labels(),
                    app.as_mut(),
                    body,
                    &content_type,
                    ts,
                    self.clock.now_ms(),
                );
                match res {
                    Ok(()) => (counts, None),
                    Err(e) => {
                        tracing::debug!(target = self.target.url(), err = %e, "append failed");
                        app = Self::replace_appender(storage, app);
                        if let Err(e2) = append_empty(&mut self.state.cache, app.as_mut(), ts) {
                            tracing::warn!(err = %e2, "appending stale markers failed");
                            app = Self::replace_appender(storage, app);
                        }
                        (counts, Some(e))
                    }
                }
            }
            Err((e, b)) => {
                bytes = b;
                tracing::debug!(target = self.target.url(), err = %e, "scrape failed");
                if let Err(e2) = append_empty(&mut self.state.cache, app.as_mut(), ts) {
                    tracing::warn!(err = %e2, "appending stale markers failed");
                    app = Self::replace_appender(storage, app);
                }
                (Appended::default(), Some(e))
            }
        };
        let duration = start.elapsed();
        self.target.report(start_ms, duration, error.as_deref());
        let values: ReportValues = [
            if error.is_none() { 1.0 } else { 0.0 },
            duration.as_secs_f64(),
            appended.total as f64,
            appended.added as f64,
            appended.series_added as f64,
            self.timeout.as_secs_f64(),
            self.sample_limit as f64,
            bytes as f64,
        ];
        match self.report.append(app.as_mut(), ts, &values) {
            Ok(()) => {
                if let Err(e) = app.commit() {
                    tracing::error!(target = self.target.url(), err = %e, "scrape commit failed");
                }
            }
            Err(e) => {
                tracing::warn!(target = self.target.url(), err = %e, "appending scrape report failed");
                app.rollback();
            }
        }
        ScrapeOutcome {
            appended,
            error,
            duration,
        }
    }

    /// Stale markers at `ts` for every series of the last scrape and for the report
    /// series (the end of a loop whose target went away).
    pub fn write_end_of_run_stale_markers(&mut self, ts: i64) {
        let storage: &dyn Appendable = self.storage.as_ref();
        let mut app = storage.appender();
        if let Err(e) = append_empty(&mut self.state.cache, app.as_mut(), ts) {
            tracing::warn!(target = self.target.url(), err = %e, "stale append failed");
            app = Self::replace_appender(storage, app);
        }
        if let Err(e) = self.report.append_stale(app.as_mut(), ts) {
            tracing::warn!(target = self.target.url(), err = %e, "stale report failed");
        }
        if let Err(e) = app.commit() {
            tracing::warn!(target = self.target.url(), err = %e, "stale commit failed");
        }
    }

    /// The scrape timestamp: the clock, snapped to the loop's phase when within the
    /// tolerance.
    fn scrape_time(&self, aligned: &mut i64, interval_ms: i64) -> i64 {
        let now = self.clock.now_ms();
        let tolerance = (interval_ms / 100).min(SCRAPE_TIMESTAMP_TOLERANCE_MS);
        while interval_ms > 0 && now - *aligned >= interval_ms {
            *aligned += interval_ms;
        }
        if now - *aligned <= tolerance && now >= *aligned {
            *aligned
        } else {
            now
        }
    }

    /// Runs until told to stop (`ctl`) or until `shutdown` turns true. `stopped` gets the
    /// cache back on a handover (or `None`) as soon as no more scrapes will happen; end
    /// of run stale markers are written afterwards.
    pub(crate) async fn run(
        mut self,
        mut ctl: watch::Receiver<Control>,
        mut shutdown: watch::Receiver<bool>,
        stopped: oneshot::Sender<Option<ScrapeCache>>,
        offset: Duration,
    ) {
        let interval = self.target.interval().max(Duration::from_millis(1));
        let interval_ms = i64::try_from(interval.as_millis()).unwrap_or(i64::MAX);
        let mut last: Option<i64> = None;
        let mut mode: Option<StopMode> = None;
        tokio::select! {
            _ = tokio::time::sleep(offset) => {}
            m = wait_stop(&mut ctl) => mode = m,
            _ = wait_true(&mut shutdown) => {}
        }
        let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let mut aligned = self.clock.now_ms();
        while mode.is_none() && !*shutdown.borrow() {
            let c = ctl.borrow_and_update().clone();
            if let Some(m) = c.stop {
                mode = Some(m);
                break;
            }
            self.forced_error = c.forced_error;
            let ts = self.scrape_time(&mut aligned, interval_ms);
            tokio::select! {
                _ = self.scrape_and_report(ts) => last = Some(ts),
                _ = wait_true(&mut shutdown) => break,
            }
            tokio::select! {
                _ = ticker.tick() => {}
                m = wait_stop(&mut ctl) => mode = m,
                _ = wait_true(&mut shutdown) => {}
            }
        }
        if *shutdown.borrow() {
            let _ = stopped.send(None);
            return;
        }
        match mode {
            Some(StopMode::Handover) => {
                let _ = stopped.send(Some(self.state.cache));
            }
            Some(StopMode::Stale) | None => {
                let _ = stopped.send(None);
                if last.is_some() {
                    self.end_of_run(&mut ticker, &mut shutdown, interval).await;
                }
            }
        }
    }

    /// Prometheus' `endOfRunStaleness`: wait for when the next scrape would have been
    /// (its time is the markers' timestamp), one more interval and 10%, so that a target
    /// that came back under a new loop has been scraped and the markers are ignored.
    async fn end_of_run(
        &mut self,
        ticker: &mut tokio::time::Interval,
        shutdown: &mut watch::Receiver<bool>,
        interval: Duration,
    ) {
        let stale_ts;
        tokio::select! {
            _ = ticker.tick() => stale_ts = self.clock.now_ms(),
            _ = wait_true(shutdown) => return,
        }
        tokio::select! {
            _ = ticker.tick() => {}
            _ = wait_true(shutdown) => return,
        }
        tokio::select! {
            _ = tokio::time::sleep(interval / 10) => {}
            _ = wait_true(shutdown) => return,
        }
        self.write_end_of_run_stale_markers(stale_ts);
    }
}

/// Resolves when the control asks to stop (never if the sender is gone).
async fn wait_stop(ctl: &mut watch::Receiver<Control>) -> Option<StopMode> {
    loop {
        if let Some(m) = ctl.borrow_and_update().stop {
            return Some(m);
        }
        if ctl.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// Resolves when the flag turns true (never if the sender is gone while false).
async fn wait_true(flag: &mut watch::Receiver<bool>) {
    loop {
        if *flag.borrow_and_update() {
            return;
        }
        if flag.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}
