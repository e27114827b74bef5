//! Per-tenant write limits from Thanos' limits file (`--receive.limits-config-file`),
//! enforced locally:
//!
//! ```yaml
//! write:
//!   global:
//!     max_concurrency: 30            # concurrent write requests (0: unlimited)
//!   default:
//!     request:
//!       size_bytes_limit: 1048576    # compressed body bytes
//!       series_limit: 1000
//!       samples_limit: 10000
//!     head_series_limit: 100000      # active series in the tenant's head
//!   tenants:
//!     team-a:
//!       request: {series_limit: 5000}
//!       head_series_limit: 0         # 0 = unlimited
//! ```
//!
//! A tenant's entry overrides the default field by field; an absent or zero limit is
//! unlimited. Request limits answer 413 (the same request can never succeed), the head
//! series limit and the concurrency limit 429 with `Retry-After` (it may succeed later).

use std::collections::HashMap;

use serde::Deserialize;

use crate::error::{Error, Result};

/// The limits file.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsConfig {
    #[serde(default)]
    pub write: WriteLimits,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WriteLimits {
    #[serde(default)]
    pub global: GlobalLimits,
    #[serde(default)]
    pub default: TenantLimits,
    #[serde(default)]
    pub tenants: HashMap<String, TenantLimits>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GlobalLimits {
    #[serde(default)]
    pub max_concurrency: Option<u64>,
    /// Thanos queries a meta-monitoring Prometheus for head series; Strata counts them
    /// locally, so these are accepted and ignored.
    #[serde(default)]
    pub meta_monitoring_url: Option<String>,
    #[serde(default)]
    pub meta_monitoring_limit_query: Option<String>,
    #[serde(default)]
    pub meta_monitoring_http_client: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantLimits {
    #[serde(default)]
    pub request: RequestLimits,
    #[serde(default)]
    pub head_series_limit: Option<u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestLimits {
    #[serde(default)]
    pub size_bytes_limit: Option<u64>,
    #[serde(default)]
    pub series_limit: Option<u64>,
    #[serde(default)]
    pub samples_limit: Option<u64>,
}

/// The limits that apply to one tenant; `None` is unlimited.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EffectiveLimits {
    pub size_bytes: Option<u64>,
    pub series: Option<u64>,
    pub samples: Option<u64>,
    pub head_series: Option<u64>,
}

fn nonzero(v: Option<u64>) -> Option<u64> {
    v.filter(|&x| x > 0)
}

impl LimitsConfig {
    /// Parses the YAML limits file.
    pub fn parse(yaml: &str) -> Result<LimitsConfig> {
        if yaml.trim().is_empty() {
            return Ok(LimitsConfig::default());
        }
        serde_saphyr::from_str(yaml).map_err(|e| Error::LimitsConfig(e.to_string()))
    }

    /// Reads and parses the limits file.
    pub fn load(path: &std::path::Path) -> Result<LimitsConfig> {
        let s = std::fs::read_to_string(path).map_err(|e| Error::Io {
            what: format!("reading limits file {}", path.display()),
            source: e,
        })?;
        Self::parse(&s).map_err(|e| Error::LimitsConfig(format!("{}: {e}", path.display())))
    }

    /// Limits of `tenant`: its own entry, field by field over the default.
    pub fn for_tenant(&self, tenant: &str) -> EffectiveLimits {
        let d = &self.write.default;
        let t = self.write.tenants.get(tenant);
        let pick = |f: fn(&TenantLimits) -> Option<u64>| nonzero(t.and_then(f).or_else(|| f(d)));
        // A tenant entry that sets a limit to 0 means unlimited, overriding the default.
        let pick_explicit = |f: fn(&TenantLimits) -> Option<u64>| match t.and_then(f) {
            Some(v) => nonzero(Some(v)),
            None => pick(f),
        };
        EffectiveLimits {
            size_bytes: pick_explicit(|l| l.request.size_bytes_limit),
            series: pick_explicit(|l| l.request.series_limit),
            samples: pick_explicit(|l| l.request.samples_limit),
            head_series: pick_explicit(|l| l.head_series_limit),
        }
    }

    /// The global concurrency limit (`None`: unlimited).
    pub fn max_concurrency(&self) -> Option<u64> {
        nonzero(self.write.global.max_concurrency)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const FILE: &str = "
write:
  global:
    max_concurrency: 30
  default:
    request:
      size_bytes_limit: 1024
      series_limit: 1000
      samples_limit: 10
    head_series_limit: 1000
  tenants:
    acme:
      request:
        series_limit: 5
      head_series_limit: 0
";

    #[test]
    fn tenant_overrides_default_field_by_field() {
        let c = LimitsConfig::parse(FILE).unwrap();
        assert_eq!(c.max_concurrency(), Some(30));
        assert_eq!(
            c.for_tenant("acme"),
            EffectiveLimits {
                size_bytes: Some(1024),
                series: Some(5),
                samples: Some(10),
                head_series: None,
            }
        );
        assert_eq!(c.for_tenant("other").series, Some(1000));
        assert_eq!(
            LimitsConfig::parse("").unwrap().for_tenant("x"),
            EffectiveLimits::default()
        );
    }

    #[test]
    fn unknown_fields_are_rejected() {
        let e = LimitsConfig::parse("write:\n  default:\n    request:\n      series: 1\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("series"), "{e}");
    }
}
