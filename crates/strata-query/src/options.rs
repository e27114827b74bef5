//! The querier's options, as Thanos query's flags set them.

use std::str::FromStr;
use std::time::Duration;

use tonic::codegen::http::HeaderMap;

use crate::error::{Error, Result};

/// Thanos' default tenant header (`--query.tenant-header`); also the gRPC metadata key
/// the tenant is forwarded to stores under.
pub const DEFAULT_TENANT_HEADER: &str = "THANOS-TENANT";
/// Thanos' default tenant (`--query.default-tenant-id`).
pub const DEFAULT_TENANT: &str = "default-tenant";
/// Thanos' default tenant label (`--query.tenant-label-name`).
pub const DEFAULT_TENANT_LABEL: &str = "tenant_id";

/// How replicas of one series are merged (`--deduplication.func`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DedupFunc {
    /// Thanos' default: follow one replica and switch only after a gap of more than
    /// twice the last sample interval (HA Prometheus pairs scraping at different times).
    #[default]
    Penalty,
    /// 1:1 merge of all replicas' samples, each timestamp once (receivers, whose
    /// replicas hold the same samples).
    Chain,
}

impl FromStr for DedupFunc {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "" | "penalty" => Ok(DedupFunc::Penalty),
            "chain" => Ok(DedupFunc::Chain),
            other => Err(Error::InvalidOption(format!(
                "deduplication func {other:?}: want \"penalty\" or \"chain\""
            ))),
        }
    }
}

/// Options of [`ProxyQueryable`](crate::ProxyQueryable).
#[derive(Debug, Clone)]
pub struct QueryOptions {
    /// `--query.replica-label`: labels whose values tell replicas apart; removed from
    /// results when deduplicating.
    pub replica_labels: Vec<String>,
    /// `--deduplication.func`.
    pub dedup_func: DedupFunc,
    /// `--query.partial-response`: the default of the `partial_response` parameter.
    pub partial_response_default: bool,
    /// `--query.enforce-tenancy`: every selection gets `<tenant_label>="<tenant>"`.
    pub enforce_tenancy: bool,
    /// `--query.tenant-header`: the HTTP header naming the tenant.
    pub tenant_header: String,
    /// `--query.default-tenant-id`: the tenant of requests that name none.
    pub default_tenant: String,
    /// `--query.tenant-label-name`.
    pub tenant_label: String,
    /// Longest wait for one store's answer (Thanos `--store.response-timeout`); a store
    /// that takes longer has failed.
    pub store_timeout: Duration,
}

impl Default for QueryOptions {
    fn default() -> Self {
        QueryOptions {
            replica_labels: Vec::new(),
            dedup_func: DedupFunc::Penalty,
            partial_response_default: true,
            enforce_tenancy: false,
            tenant_header: DEFAULT_TENANT_HEADER.into(),
            default_tenant: DEFAULT_TENANT.into(),
            tenant_label: DEFAULT_TENANT_LABEL.into(),
            store_timeout: Duration::from_secs(120),
        }
    }
}

impl QueryOptions {
    /// The tenant of an HTTP request, as Thanos reads it: the configured header, then
    /// `THANOS-TENANT`; `None` when neither is set (the default tenant applies).
    pub fn tenant_from_headers(&self, headers: &HeaderMap) -> Option<String> {
        let get = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        get(&self.tenant_header).or_else(|| get(DEFAULT_TENANT_HEADER))
    }

    /// `tenant`, or the default tenant when absent or empty, checked with Thanos' rule
    /// (`path.Base(tenant) == tenant`: no `/`).
    pub fn resolve_tenant(&self, tenant: Option<&str>) -> Result<String> {
        let t = tenant
            .filter(|t| !t.is_empty())
            .unwrap_or(&self.default_tenant);
        if t.is_empty() || t.contains('/') {
            return Err(Error::InvalidTenant(t.to_owned()));
        }
        Ok(t.to_owned())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn tenant_comes_from_the_configured_header_then_thanos_tenant() {
        let o = QueryOptions {
            tenant_header: "X-Scope-OrgID".into(),
            ..QueryOptions::default()
        };
        let mut h = HeaderMap::new();
        assert_eq!(o.tenant_from_headers(&h), None);
        h.insert("thanos-tenant", "b".parse().unwrap());
        assert_eq!(o.tenant_from_headers(&h).as_deref(), Some("b"));
        h.insert("x-scope-orgid", "a".parse().unwrap());
        assert_eq!(o.tenant_from_headers(&h).as_deref(), Some("a"));
    }

    #[test]
    fn tenants_are_defaulted_and_validated() {
        let o = QueryOptions::default();
        assert_eq!(o.resolve_tenant(None).unwrap(), "default-tenant");
        assert_eq!(o.resolve_tenant(Some("")).unwrap(), "default-tenant");
        assert_eq!(o.resolve_tenant(Some("team-a")).unwrap(), "team-a");
        let e = o.resolve_tenant(Some("../b")).unwrap_err();
        assert_eq!(e.to_string(), r#"tenant name not valid: "../b""#);
    }

    #[test]
    fn dedup_func_names() {
        assert_eq!("penalty".parse::<DedupFunc>().unwrap(), DedupFunc::Penalty);
        assert_eq!("chain".parse::<DedupFunc>().unwrap(), DedupFunc::Chain);
        assert!("other".parse::<DedupFunc>().is_err());
    }
}
