//! From discovered target groups to targets: Prometheus' `PopulateLabels` and
//! `TargetsFromGroup`, and the target groups of `static_configs`.

use std::time::Duration;

use strata_config::ScrapeConfig;
use strata_discovery::{LabelSet, TargetGroup};
use strata_model::Labels;
use strata_model::duration::parse_duration_ms;
use strata_relabel::{RelabelBuilder, process_builder};

use crate::target::{PARAM_LABEL_PREFIX, Target};

pub const ADDRESS_LABEL: &str = "__address__";
pub const SCHEME_LABEL: &str = "__scheme__";
pub const METRICS_PATH_LABEL: &str = "__metrics_path__";
pub const SCRAPE_INTERVAL_LABEL: &str = "__scrape_interval__";
pub const SCRAPE_TIMEOUT_LABEL: &str = "__scrape_timeout__";
pub const META_LABEL_PREFIX: &str = "__meta_";
pub const JOB_LABEL: &str = "job";
pub const INSTANCE_LABEL: &str = "instance";
const CONVERT_NHCB_LABEL: &str = "__convert_classic_histograms_to_nhcb__";
const ALWAYS_CLASSIC_LABEL: &str = "__always_scrape_classic_histograms__";
const NATIVE_HISTOGRAMS_LABEL: &str = "__scrape_native_histograms__";

/// Prometheus' `model.Duration.String()`: `1m`, `15s`, `1h30m`, `2w`, `100ms`; years and
/// weeks only when they divide the duration.
pub fn prometheus_duration_string(ms: i64) -> String {
    if ms == 0 {
        return "0s".to_owned();
    }
    let mut out = String::new();
    if ms < 0 {
        out.push('-');
    }
    let mut rest = ms.unsigned_abs();
    const DAY: u64 = 86_400_000;
    for (unit, mult, exact) in [
        ("y", 365 * DAY, true),
        ("w", 7 * DAY, true),
        ("d", DAY, false),
        ("h", 3_600_000, false),
        ("m", 60_000, false),
        ("s", 1000, false),
        ("ms", 1, false),
    ] {
        if exact && !rest.is_multiple_of(mult) {
            continue;
        }
        let v = rest / mult;
        if v > 0 {
            out.push_str(&format!("{v}{unit}"));
            rest -= v * mult;
        }
    }
    out
}

/// Go's `strconv.ParseBool`.
fn parse_go_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// Sets `b` to the labels of a target before relabeling: the target's labels, the
/// group's labels it does not override, and the scrape config's defaults for `job`,
/// `__scrape_interval__`, `__scrape_timeout__`, `__metrics_path__`, `__scheme__`, the
/// histogram switches and `__param_*` (each only where not already set).
pub fn populate_discovered_labels(
    b: &mut RelabelBuilder,
    cfg: &ScrapeConfig,
    target: &LabelSet,
    group: &LabelSet,
) {
    b.clear();
    for (n, v) in target {
        b.set(n, v);
    }
    for (n, v) in group {
        if !target.contains_key(n) {
            b.set(n, v);
        }
    }
    let bool_str = |x: bool| if x { "true" } else { "false" };
    let defaults = [
        (JOB_LABEL, cfg.job_name.clone()),
        (
            SCRAPE_INTERVAL_LABEL,
            prometheus_duration_string(cfg.scrape_interval.as_millis()),
        ),
        (
            SCRAPE_TIMEOUT_LABEL,
            prometheus_duration_string(cfg.scrape_timeout.as_millis()),
        ),
        (METRICS_PATH_LABEL, cfg.metrics_path.clone()),
        (SCHEME_LABEL, cfg.scheme.clone()),
        (
            CONVERT_NHCB_LABEL,
            bool_str(cfg.convert_classic_histograms_to_nhcb).to_owned(),
        ),
        (
            ALWAYS_CLASSIC_LABEL,
            bool_str(cfg.always_scrape_classic_histograms).to_owned(),
        ),
        (
            NATIVE_HISTOGRAMS_LABEL,
            bool_str(cfg.scrape_native_histograms).to_owned(),
        ),
    ];
    for (n, v) in defaults {
        if b.get(n).unwrap_or("").is_empty() {
            b.set(n, &v);
        }
    }
    for (k, vals) in &cfg.params {
        let name = format!("{PARAM_LABEL_PREFIX}{k}");
        if let Some(first) = vals.first()
            && b.get(&name).unwrap_or("").is_empty()
        {
            b.set(&name, first);
        }
    }
}

/// A target's labels after relabeling, or why it has none.
#[derive(Debug, Clone, PartialEq)]
pub enum Populated {
    /// The target to scrape, with its interval and timeout.
    Keep {
        labels: Labels,
        interval: Duration,
        timeout: Duration,
    },
    /// A relabel rule dropped it.
    Dropped,
}

fn parse_label_duration(b: &RelabelBuilder, name: &str, what: &str) -> Result<Duration, String> {
    let s = b.get(name).unwrap_or("");
    let ms = parse_duration_ms(s).map_err(|e| format!("error parsing scrape {what}: {e}"))?;
    if ms == 0 {
        return Err(format!("scrape {what} cannot be 0"));
    }
    Ok(Duration::from_millis(u64::try_from(ms).unwrap_or(0)))
}

/// Prometheus' `PopulateLabels`: discovered labels, `relabel_configs`, checks of the
/// address, interval, timeout and boolean switches, removal of `__meta_*` labels and the
/// default `instance` (the address; Prometheus 3 adds no default port). `b` holds the
/// discovered labels afterwards only if the target was dropped.
pub fn populate_labels(
    b: &mut RelabelBuilder,
    cfg: &ScrapeConfig,
    target: &LabelSet,
    group: &LabelSet,
) -> Result<Populated, String> {
    populate_discovered_labels(b, cfg, target, group);
    if !process_builder(b, &cfg.relabel_configs) {
        return Ok(Populated::Dropped);
    }
    let addr = b.get(ADDRESS_LABEL).unwrap_or("").to_owned();
    if addr.is_empty() {
        return Err("no address".to_owned());
    }
    if addr.contains('/') {
        return Err(format!("{addr:?} is not a valid hostname"));
    }
    let interval = parse_label_duration(b, SCRAPE_INTERVAL_LABEL, "interval")?;
    let timeout = parse_label_duration(b, SCRAPE_TIMEOUT_LABEL, "timeout")?;
    if timeout > interval {
        return Err(format!(
            "scrape timeout cannot be greater than scrape interval ({:?} > {:?})",
            b.get(SCRAPE_TIMEOUT_LABEL).unwrap_or(""),
            b.get(SCRAPE_INTERVAL_LABEL).unwrap_or("")
        ));
    }
    for (name, desc) in [
        (CONVERT_NHCB_LABEL, "convert classic histograms to nhcb"),
        (ALWAYS_CLASSIC_LABEL, "always scrape classic histograms"),
        (NATIVE_HISTOGRAMS_LABEL, "scrape native histograms"),
    ] {
        let v = b.get(name).unwrap_or("");
        if !v.is_empty() && parse_go_bool(v).is_none() {
            return Err(format!(
                "error parsing {desc}: strconv.ParseBool: parsing {v:?}: invalid syntax"
            ));
        }
    }
    let meta: Vec<String> = b
        .iter()
        .filter(|(n, _)| n.starts_with(META_LABEL_PREFIX))
        .map(|(n, _)| n.to_owned())
        .collect();
    for n in meta {
        b.del(&n);
    }
    if b.get(INSTANCE_LABEL).unwrap_or("").is_empty() {
        b.set(INSTANCE_LABEL, &addr);
    }
    Ok(Populated::Keep {
        labels: b.labels(),
        interval,
        timeout,
    })
}

/// Targets of one group: `(kept, dropped discovered label sets, failures)`.
pub struct GroupTargets {
    pub targets: Vec<Target>,
    pub dropped: Vec<Labels>,
    pub failures: Vec<String>,
}

/// Prometheus' `TargetsFromGroup`.
pub fn targets_from_group(
    b: &mut RelabelBuilder,
    group: &TargetGroup,
    cfg: &ScrapeConfig,
) -> GroupTargets {
    let mut out = GroupTargets {
        targets: Vec::new(),
        dropped: Vec::new(),
        failures: Vec::new(),
    };
    for (i, tl) in group.targets.iter().enumerate() {
        match populate_labels(b, cfg, tl, &group.labels) {
            Ok(Populated::Keep {
                labels,
                interval,
                timeout,
            }) => {
                populate_discovered_labels(b, cfg, tl, &group.labels);
                let discovered = b.labels();
                out.targets.push(Target::new(
                    &cfg.job_name,
                    labels,
                    discovered,
                    &cfg.params,
                    interval,
                    timeout,
                ));
            }
            Ok(Populated::Dropped) => {
                populate_discovered_labels(b, cfg, tl, &group.labels);
                out.dropped.push(b.labels());
            }
            Err(e) => out
                .failures
                .push(format!("instance {i} in group {}: {e}", group.source)),
        }
    }
    out
}

/// The target groups of a scrape config's `static_configs` (source = index, as
/// Prometheus' static provider names them).
pub fn static_groups(cfg: &ScrapeConfig) -> Vec<TargetGroup> {
    cfg.service_discovery
        .static_configs
        .iter()
        .enumerate()
        .map(|(i, sc)| TargetGroup {
            source: i.to_string(),
            targets: sc
                .targets
                .iter()
                .map(|t| LabelSet::from([(ADDRESS_LABEL.to_owned(), t.clone())]))
                .collect(),
            labels: sc
                .labels
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn durations_print_like_prometheus() {
        for (ms, s) in [
            (60_000, "1m"),
            (15_000, "15s"),
            (5_400_000, "1h30m"),
            (1_209_600_000, "2w"),
            (100, "100ms"),
            (86_400_000 * 8, "8d"),
            (0, "0s"),
        ] {
            assert_eq!(prometheus_duration_string(ms), s);
        }
    }

    fn cfg(extra: &str) -> ScrapeConfig {
        let extra: String = extra.lines().map(|l| format!("    {l}\n")).collect();
        let yaml = format!(
            "global:\n  scrape_interval: 30s\nscrape_configs:\n  - job_name: j\n{extra}    static_configs:\n      - targets: ['a:1']\n"
        );
        strata_config::parse(&yaml)
            .unwrap()
            .scrape_configs
            .remove(0)
    }

    fn ls(pairs: &[(&str, &str)]) -> LabelSet {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn keep(c: &ScrapeConfig, t: &[(&str, &str)], g: &[(&str, &str)]) -> Result<Populated, String> {
        populate_labels(&mut RelabelBuilder::new(), c, &ls(t), &ls(g))
    }

    #[test]
    fn populate_defaults_and_meta_removal() {
        let c = cfg("params:\n  module: [m1, m2]");
        let r = keep(
            &c,
            &[("__address__", "h:9100"), ("__meta_x", "1"), ("zone", "t")],
            &[("zone", "g"), ("team", "a")],
        )
        .unwrap();
        let Populated::Keep {
            labels,
            interval,
            timeout,
        } = r
        else {
            panic!("dropped")
        };
        assert_eq!(
            labels.to_string(),
            r#"{__address__="h:9100", __always_scrape_classic_histograms__="false", __convert_classic_histograms_to_nhcb__="false", __metrics_path__="/metrics", __param_module="m1", __scheme__="http", __scrape_interval__="30s", __scrape_native_histograms__="false", __scrape_timeout__="10s", instance="h:9100", job="j", team="a", zone="t"}"#
        );
        assert_eq!((interval.as_secs(), timeout.as_secs()), (30, 10));
    }

    #[test]
    fn populate_relabeling_and_errors() {
        let c = cfg(
            "relabel_configs:\n  - source_labels: [__meta_port]\n    regex: '(.+)'\n    target_label: __address__\n    replacement: 'host:$1'\n  - source_labels: [__meta_drop]\n    regex: 'yes'\n    action: drop\n  - source_labels: [__meta_interval]\n    regex: '(.+)'\n    target_label: __scrape_interval__",
        );
        match keep(&c, &[("__address__", "a"), ("__meta_port", "80")], &[]).unwrap() {
            Populated::Keep { labels, .. } => {
                assert_eq!(labels.get("__address__"), Some("host:80"));
                assert_eq!(labels.get("instance"), Some("host:80"));
                assert!(!labels.has("__meta_port"));
            }
            Populated::Dropped => panic!("dropped"),
        }
        assert_eq!(
            keep(&c, &[("__address__", "a"), ("__meta_drop", "yes")], &[]),
            Ok(Populated::Dropped)
        );
        assert_eq!(keep(&c, &[], &[]), Err("no address".to_owned()));
        assert_eq!(
            keep(&c, &[("__address__", "a/b")], &[]),
            Err("\"a/b\" is not a valid hostname".to_owned())
        );
        let e = keep(&c, &[("__address__", "a"), ("__meta_interval", "5s")], &[]).unwrap_err();
        assert!(e.starts_with("scrape timeout cannot be greater"), "{e}");
        let e = keep(&c, &[("__address__", "a"), ("__meta_interval", "x")], &[]).unwrap_err();
        assert!(e.starts_with("error parsing scrape interval"), "{e}");
    }

    #[test]
    fn static_groups_by_index() {
        let c = cfg("");
        let g = static_groups(&c);
        assert_eq!(g.len(), 1);
        assert_eq!(g[0].source, "0");
        assert_eq!(g[0].targets[0]["__address__"], "a:1");
    }

    #[test]
    fn go_bools() {
        assert_eq!(parse_go_bool("True"), Some(true));
        assert_eq!(parse_go_bool("F"), Some(false));
        assert_eq!(parse_go_bool("yes"), None);
    }
}
