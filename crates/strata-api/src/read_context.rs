//! The per-request read options Thanos' query API takes (`dedup`, `partial_response`,
//! `replicaLabels[]`) and the tenant, handed to storage as a [`ReadContext`]; storage
//! reports its warnings through the same context.

use strata_model::storage::ReadContext;

use crate::errors::ApiError;
use crate::params::Params;
use crate::tenant::Tenant;

/// Go's `strconv.ParseBool`.
fn parse_go_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// An optional boolean parameter, with Thanos' error for a bad value.
fn bool_param(p: &Params, name: &str) -> Result<Option<bool>, ApiError> {
    match p.get(name) {
        "" => Ok(None),
        s => parse_go_bool(s).map(Some).ok_or_else(|| {
            ApiError::bad_data(format!(
                "'{name}' parameter: strconv.ParseBool: parsing {}: invalid syntax",
                strata_model::gofmt::go_quote(s)
            ))
        }),
    }
}

/// The request's [`ReadContext`]: absent parameters are left to the storage's defaults.
pub fn read_context(p: &Params, tenant: &Tenant) -> Result<ReadContext, ApiError> {
    let replica_labels: Vec<String> = p
        .all("replicaLabels[]")
        .into_iter()
        .map(str::to_owned)
        .collect();
    Ok(ReadContext {
        tenant: tenant.0.clone(),
        dedup: bool_param(p, "dedup")?,
        partial_response: bool_param(p, "partial_response")?,
        replica_labels: (!replica_labels.is_empty()).then_some(replica_labels),
        warnings: Default::default(),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn reads_thanos_parameters() {
        let p = Params::from_query(
            "dedup=false&partial_response=T&replicaLabels[]=a&replicaLabels[]=b",
        );
        let c = read_context(&p, &Tenant(Some("t1".into()))).unwrap();
        assert_eq!(c.dedup, Some(false));
        assert_eq!(c.partial_response, Some(true));
        assert_eq!(c.replica_labels, Some(vec!["a".into(), "b".into()]));
        assert_eq!(c.tenant.as_deref(), Some("t1"));
        let c = read_context(&Params::from_query(""), &Tenant(None)).unwrap();
        assert_eq!(
            (c.dedup, c.partial_response, c.replica_labels),
            (None, None, None)
        );
    }

    #[test]
    fn rejects_bad_booleans_as_thanos_does() {
        let e = read_context(&Params::from_query("dedup=yes"), &Tenant(None)).unwrap_err();
        assert_eq!(
            e.message,
            r#"'dedup' parameter: strconv.ParseBool: parsing "yes": invalid syntax"#
        );
    }
}
