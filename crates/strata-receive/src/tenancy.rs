//! Which tenant a write belongs to: Thanos' tenant header (configurable, default
//! `THANOS-TENANT`), then `X-Scope-OrgID` (Cortex, Mimir, Grafana), then the default
//! tenant. Tenant ids name directories, so they are validated.

use axum::http::HeaderMap;

use crate::error::{Error, Result};

/// Thanos' default tenant header.
pub const DEFAULT_TENANT_HEADER: &str = "THANOS-TENANT";
/// The header Cortex, Mimir and Grafana use; always accepted as a fallback.
pub const SCOPE_ORG_ID_HEADER: &str = "X-Scope-OrgID";
/// Thanos' default tenant id.
pub const DEFAULT_TENANT_ID: &str = "default-tenant";
/// Thanos' default tenant label name.
pub const DEFAULT_TENANT_LABEL: &str = "tenant_id";

/// How tenants are identified and labelled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantOptions {
    /// Header carrying the tenant id (`--receive.tenant-header`).
    pub header: String,
    /// Tenant of requests that name none (`--receive.default-tenant-id`).
    pub default_tenant: String,
    /// Label that carries the tenant id on the tenant's data (`--receive.tenant-label-name`);
    /// empty attaches no label.
    pub label_name: String,
}

impl Default for TenantOptions {
    fn default() -> Self {
        TenantOptions {
            header: DEFAULT_TENANT_HEADER.into(),
            default_tenant: DEFAULT_TENANT_ID.into(),
            label_name: DEFAULT_TENANT_LABEL.into(),
        }
    }
}

impl TenantOptions {
    /// The tenant of a request with these headers.
    pub fn tenant_of(&self, headers: &HeaderMap) -> Result<String> {
        let get = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
                .filter(|v| !v.is_empty())
        };
        let t = get(&self.header)
            .or_else(|| get(SCOPE_ORG_ID_HEADER))
            .unwrap_or(&self.default_tenant);
        validate_tenant(t)?;
        Ok(t.to_owned())
    }
}

/// A tenant id must be usable as a directory name: not empty, at most 255 bytes, not
/// `.` or `..`, and free of path separators and control characters.
pub fn validate_tenant(t: &str) -> Result<()> {
    let reason = if t.is_empty() {
        Some("it is empty")
    } else if t.len() > 255 {
        Some("it is longer than 255 bytes")
    } else if t == "." || t == ".." {
        Some("it is a relative path")
    } else if t.contains(['/', '\\']) {
        Some("it contains a path separator")
    } else if t.chars().any(char::is_control) {
        Some("it contains a control character")
    } else {
        None
    };
    match reason {
        Some(r) => Err(Error::InvalidTenant {
            tenant: t.chars().take(64).collect(),
            reason: r.into(),
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn header_order_and_default() {
        let o = TenantOptions::default();
        let mut h = HeaderMap::new();
        assert_eq!(o.tenant_of(&h).unwrap(), "default-tenant");
        h.insert("x-scope-orgid", "b".parse().unwrap());
        assert_eq!(o.tenant_of(&h).unwrap(), "b");
        h.insert("thanos-tenant", "a".parse().unwrap());
        assert_eq!(o.tenant_of(&h).unwrap(), "a");
        let custom = TenantOptions {
            header: "X-Tenant".into(),
            ..TenantOptions::default()
        };
        assert_eq!(custom.tenant_of(&h).unwrap(), "b");
    }

    #[test]
    fn rejects_unsafe_ids() {
        for bad in ["..", ".", "a/b", "a\\b", "a\u{0}b", ""] {
            assert!(validate_tenant(bad).is_err(), "{bad:?}");
        }
        assert!(validate_tenant(&"x".repeat(256)).is_err());
        validate_tenant("team-a.prod_1").unwrap();
    }
}
