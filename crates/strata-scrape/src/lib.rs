//! The scrape engine of `strata agent`: Prometheus' scrape manager, pools, targets and
//! scrape loops, appending to any storage that implements [`Appendable`].
//!
//! - Targets ([`populate`]): target groups (from `static_configs` or discovery) become
//!   targets with Prometheus' `PopulateLabels` semantics; a target's identity is the
//!   hash of its labels and URL.
//! - Loops ([`ScrapeLoop`]): each target is scraped at a fixed phase of its interval
//!   (hash of the target mixed with a per-process seed), with Prometheus' `Accept`
//!   header, gzip, the scrape timeout (also sent as
//!   `X-Prometheus-Scrape-Timeout-Seconds`), the body size limit and the config's
//!   authentication and TLS. Bodies are parsed with `strata_textparse`; `honor_labels`,
//!   `honor_timestamps`, `metric_relabel_configs` and the sample and label limits apply
//!   as in Prometheus, and every scrape writes the report series (`up`, ...).
//! - Staleness: a series of the previous scrape missing from this one, or every series
//!   after a failed scrape, gets a stale marker at this scrape's timestamp; a removed
//!   target's series get one two intervals later (Prometheus' end-of-run markers).
//! - Hot path ([`cache`], [`lines`]): a per-target cache maps the series text of a line
//!   to its final labels and storage reference; for a cached series only the value and
//!   timestamp are parsed and nothing is allocated.
//! - [`ScrapeManager`]: one pool per scrape config; [`ScrapeManager::apply_config`]
//!   reloads (unchanged targets keep their loop and cache; loops restart only when the
//!   config scrapes or appends differently, keeping their cache when series still map
//!   the same way), [`ScrapeManager::update_targets`] feeds discovery,
//!   [`ScrapeManager::targets`] shows health for the targets API.

pub mod append;
pub mod appender;
mod bufpool;
pub mod cache;
pub mod client;
pub mod error;
pub mod lines;
pub mod manager;
pub mod memory;
pub mod mutate;
mod pool;
pub mod populate;
pub mod report;
pub mod scrape_loop;
pub mod scraper;
pub mod target;

pub use append::{AppendOptions, Appended};
pub use appender::{AppendError, Appendable, ScrapeAppender};
pub use cache::ScrapeCache;
pub use client::ScrapeClient;
pub use error::{Error, Result};
pub use manager::{ScrapeManager, ScrapeOptions, TargetsSnapshot};
pub use memory::MemoryStorage;
pub use scrape_loop::{ScrapeLoop, ScrapeOutcome};
pub use target::{ScrapeStatus, Target, TargetHealth};
