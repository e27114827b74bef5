//! Tenancy enforcement (`--query.enforce-tenancy`): every selection is restricted to
//! `<tenant label>="<tenant>"`. As Thanos' enforcer (prom-label-proxy without
//! error-on-replace) does, matchers the request had on the tenant label are replaced,
//! so a request cannot widen (or name another) tenant. Series a store returns that
//! still do not carry the tenant are dropped by the querier as well.

use strata_model::{MatchType, Matcher};

use crate::error::{Error, Result};

/// `ms` without matchers on `label`, plus `label="tenant"`; returns the list and the
/// tenant matcher.
pub fn enforce(ms: &[Matcher], label: &str, tenant: &str) -> Result<(Vec<Matcher>, Matcher)> {
    let tm = Matcher::new(MatchType::Equal, label, tenant)
        .map_err(|e| Error::InvalidOption(format!("tenant matcher: {e}")))?;
    let mut out: Vec<Matcher> = ms.iter().filter(|m| m.name != label).cloned().collect();
    out.push(tm.clone());
    Ok((out, tm))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn replaces_matchers_on_the_tenant_label() {
        let ms = vec![
            Matcher::new(MatchType::Equal, "__name__", "up").unwrap(),
            Matcher::new(MatchType::Regex, "tenant_id", ".+").unwrap(),
        ];
        let (out, tm) = enforce(&ms, "tenant_id", "a").unwrap();
        let s: Vec<String> = out.iter().map(|m| m.to_string()).collect();
        assert_eq!(s, vec![r#"__name__="up""#, r#"tenant_id="a""#]);
        assert!(tm.matches("a") && !tm.matches("b"));
    }
}
