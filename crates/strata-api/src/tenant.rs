//! The tenant of a request, from Thanos' `THANOS-TENANT` header or the
//! `X-Scope-OrgID` header Cortex, Mimir and Grafana use. Handlers pass it to storage in
//! the request's `ReadContext`; the distributed querier enforces tenancy with it, local
//! storage ignores it.

use std::convert::Infallible;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

/// Header Thanos uses for the tenant.
pub const THANOS_TENANT_HEADER: &str = "thanos-tenant";
/// Header Cortex, Mimir and Grafana use for the tenant.
pub const SCOPE_ORG_ID_HEADER: &str = "x-scope-orgid";

/// The request's tenant, if it named one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tenant(pub Option<String>);

impl Tenant {
    /// `THANOS-TENANT` first, then `X-Scope-OrgID`; empty values count as absent.
    pub fn from_headers(h: &axum::http::HeaderMap) -> Self {
        let get = |name: &str| {
            h.get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        Tenant(get(THANOS_TENANT_HEADER).or_else(|| get(SCOPE_ORG_ID_HEADER)))
    }

    pub fn as_deref(&self) -> Option<&str> {
        self.0.as_deref()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Tenant {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Infallible> {
        if let Some(t) = parts.extensions.get::<Tenant>() {
            return Ok(t.clone());
        }
        Ok(Tenant::from_headers(&parts.headers))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderMap;

    #[test]
    fn reads_tenant_headers() {
        let mut h = HeaderMap::new();
        assert_eq!(Tenant::from_headers(&h), Tenant(None));
        h.insert("X-Scope-OrgID", "b".parse().unwrap());
        assert_eq!(Tenant::from_headers(&h).as_deref(), Some("b"));
        h.insert("THANOS-TENANT", "a".parse().unwrap());
        assert_eq!(Tenant::from_headers(&h).as_deref(), Some("a"));
    }
}
