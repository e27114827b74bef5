//! A scrape target: its labels after relabeling, its URL, identity hash and the state of
//! its last scrape (for `/api/v1/targets`).

use std::fmt::Write as _;
use std::time::Duration;

use parking_lot::Mutex;
use strata_model::Labels;

/// Label prefix of the URL parameters (`__param_module`).
pub const PARAM_LABEL_PREFIX: &str = "__param_";
/// Labels with this prefix are internal: not attached to scraped series.
pub const RESERVED_LABEL_PREFIX: &str = "__";

/// FNV-1a, 64 bits (Go's `hash/fnv` `New64a`).
pub(crate) fn fnv1a64(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for &b in *p {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h
}

/// Health of a target as the targets API reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TargetHealth {
    /// Not scraped yet.
    #[default]
    Unknown,
    Up,
    Down,
}

impl TargetHealth {
    /// Prometheus' spelling: `unknown`, `up`, `down`.
    pub fn as_str(self) -> &'static str {
        match self {
            TargetHealth::Unknown => "unknown",
            TargetHealth::Up => "up",
            TargetHealth::Down => "down",
        }
    }
}

/// The outcome of a target's last scrape.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ScrapeStatus {
    pub health: TargetHealth,
    /// Empty after a successful scrape.
    pub last_error: String,
    /// Start of the last scrape (Unix milliseconds); 0 before the first.
    pub last_scrape_ms: i64,
    pub last_scrape_duration: Duration,
}

/// One target of a scrape pool.
#[derive(Debug)]
pub struct Target {
    job: String,
    labels: Labels,
    public: Labels,
    discovered: Mutex<Labels>,
    url: String,
    interval: Duration,
    timeout: Duration,
    hash: u64,
    status: Mutex<ScrapeStatus>,
}

impl Target {
    /// A target from its relabeled labels (which carry `__address__`, `__scheme__`,
    /// `__metrics_path__`, `__param_*`, `__scrape_interval__` and `__scrape_timeout__`),
    /// the labels it was discovered with, and the config's URL parameters.
    pub fn new(
        job: &str,
        labels: Labels,
        discovered: Labels,
        params: &std::collections::BTreeMap<String, Vec<String>>,
        interval: Duration,
        timeout: Duration,
    ) -> Self {
        let url = build_url(&labels, params);
        let hash = fnv1a64(&[format!("{:016}", labels.hash()).as_bytes(), url.as_bytes()]);
        let public = Labels::from_sorted(
            labels
                .iter()
                .filter(|(n, _)| !n.starts_with(RESERVED_LABEL_PREFIX)),
        );
        Target {
            job: job.to_owned(),
            labels,
            public,
            discovered: Mutex::new(discovered),
            url,
            interval,
            timeout,
            hash,
            status: Mutex::new(ScrapeStatus::default()),
        }
    }

    /// The scrape config's job name (the scrape pool).
    pub fn job(&self) -> &str {
        &self.job
    }

    /// All labels after relabeling, internal ones (`__address__`, ...) included.
    pub fn labels(&self) -> &Labels {
        &self.labels
    }

    /// The labels attached to every scraped series (no `__` prefix).
    pub fn public_labels(&self) -> &Labels {
        &self.public
    }

    /// The labels before relabeling.
    pub fn discovered_labels(&self) -> Labels {
        self.discovered.lock().clone()
    }

    pub(crate) fn set_discovered_labels(&self, l: Labels) {
        *self.discovered.lock() = l;
    }

    /// The URL scraped.
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn interval(&self) -> Duration {
        self.interval
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Identity within the pool: FNV-1a of the label hash (16 zero-padded digits) and the
    /// URL, as Prometheus computes it.
    pub fn hash(&self) -> u64 {
        self.hash
    }

    /// The last scrape's outcome.
    pub fn status(&self) -> ScrapeStatus {
        self.status.lock().clone()
    }

    pub(crate) fn report(&self, start_ms: i64, dur: Duration, err: Option<&str>) {
        let mut s = self.status.lock();
        s.health = if err.is_none() {
            TargetHealth::Up
        } else {
            TargetHealth::Down
        };
        s.last_error = err.unwrap_or("").to_owned();
        s.last_scrape_ms = start_ms;
        s.last_scrape_duration = dur;
    }

    /// Time until this target's first scrape: Prometheus' jitter, which spreads targets
    /// over the interval by their hash (mixed with the per-process `seed`) while keeping
    /// each target's phase fixed in absolute time.
    pub fn offset(&self, seed: u64, now_ns: i128) -> Duration {
        let interval = self.interval.as_nanos().max(1);
        let now = u128::try_from(now_ns.max(0)).unwrap_or(0);
        let base = interval - now % interval;
        let offset = u128::from(self.hash ^ seed) % interval;
        let mut next = base + offset;
        if next > interval {
            next -= interval;
        }
        Duration::from_nanos(u64::try_from(next).unwrap_or(u64::MAX))
    }
}

/// Go's `url.QueryEscape`: unreserved bytes as is, space as `+`, the rest `%XX`.
fn query_escape(s: &str, out: &mut String) {
    for &b in s.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(b))
            }
            b' ' => out.push('+'),
            _ => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
}

/// The scrape URL: `__scheme__://__address____metrics_path__?params`, where `__param_x`
/// labels replace the first value of the config's parameter `x` (or add it), and the
/// query is sorted by key as Go's `url.Values.Encode` writes it.
fn build_url(
    labels: &Labels,
    config_params: &std::collections::BTreeMap<String, Vec<String>>,
) -> String {
    let mut params = config_params.clone();
    for (n, v) in labels.iter() {
        if let Some(k) = n.strip_prefix(PARAM_LABEL_PREFIX) {
            match params.get_mut(k) {
                Some(vals) if !vals.is_empty() => vals[0] = v.to_owned(),
                _ => {
                    params.insert(k.to_owned(), vec![v.to_owned()]);
                }
            }
        }
    }
    let scheme = labels.get("__scheme__").unwrap_or("");
    let host = labels.get("__address__").unwrap_or("");
    let path = labels.get("__metrics_path__").unwrap_or("");
    let mut url = format!("{scheme}://{host}");
    if !path.is_empty() && !path.starts_with('/') {
        url.push('/');
    }
    url.push_str(path);
    let mut first = true;
    for (k, vals) in &params {
        for v in vals {
            url.push(if first { '?' } else { '&' });
            first = false;
            query_escape(k, &mut url);
            url.push('=');
            query_escape(v, &mut url);
        }
    }
    url
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn target(pairs: &[(&str, &str)], params: &[(&str, &[&str])]) -> Target {
        let params = params
            .iter()
            .map(|(k, v)| (k.to_string(), v.iter().map(|s| s.to_string()).collect()))
            .collect();
        Target::new(
            "job",
            Labels::new(pairs).unwrap(),
            Labels::empty(),
            &params,
            Duration::from_secs(15),
            Duration::from_secs(10),
        )
    }

    #[test]
    fn fnv_matches_reference_vectors() {
        assert_eq!(fnv1a64(&[b""]), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(&[b"a"]), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(&[b"foo", b"bar"]), fnv1a64(&[b"foobar"]));
    }

    #[test]
    fn url_from_labels_and_params() {
        let t = target(
            &[
                ("__address__", "example.com:9115"),
                ("__scheme__", "https"),
                ("__metrics_path__", "/probe"),
                ("__param_target", "a b&c"),
                ("instance", "x"),
            ],
            &[("module", &["http_2xx", "other"]), ("target", &["old"])],
        );
        assert_eq!(
            t.url(),
            "https://example.com:9115/probe?module=http_2xx&module=other&target=a+b%26c"
        );
        assert_eq!(t.public_labels().to_string(), r#"{instance="x"}"#);
    }

    #[test]
    fn offset_is_within_interval_and_pinned_to_absolute_time() {
        let t = target(&[("__address__", "a:1"), ("__scheme__", "http")], &[]);
        let i = 15_000_000_000i128;
        let o1 = t.offset(7, 3 * i + 1_000);
        let o2 = t.offset(7, 3 * i + 1_000_000_000);
        assert!(o1.as_nanos() <= i as u128 && o2.as_nanos() <= i as u128);
        // Both point at the same absolute phase.
        let phase = |now: i128, o: Duration| (now + o.as_nanos() as i128) % i;
        assert_eq!(phase(3 * i + 1_000, o1), phase(3 * i + 1_000_000_000, o2));
    }
}
