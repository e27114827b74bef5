//! Role `ingress`: one target per rule host and path (Prometheus' `ingress.go`).

use super::Ctx;
use crate::kubernetes::labels::{NAMESPACE, PREFIX, add_object_meta, set};
use crate::kubernetes::objects::{Ingress, IngressRule};
use crate::{ADDRESS_LABEL, LabelSet, TargetGroup};

/// A rule's paths, `/` for an empty path; a rule without `http` has the single path
/// `/`, an `http` without paths has none.
fn rule_paths(rule: &IngressRule) -> Vec<String> {
    match &rule.http {
        None => vec!["/".to_owned()],
        Some(http) => http
            .paths
            .iter()
            .map(|p| {
                if p.path.is_empty() {
                    "/".to_owned()
                } else {
                    p.path.clone()
                }
            })
            .collect(),
    }
}

/// Whether the TLS host `pattern` (possibly `*.example.com`) covers `host`.
fn matches_hostname_pattern(pattern: &str, host: &str) -> bool {
    if pattern == host {
        return true;
    }
    let p: Vec<&str> = pattern.split('.').collect();
    let h: Vec<&str> = host.split('.').collect();
    p[0] == "*" && p.len() == h.len() && p[1..] == h[1..]
}

/// Prometheus' `buildIngress`.
pub(crate) fn build_ingress(ctx: &Ctx<'_>, ingress: &Ingress) -> TargetGroup {
    let m = &ingress.metadata;
    let mut tg = TargetGroup::empty(super::source(ctx.role, &m.key()));
    set(&mut tg.labels, NAMESPACE, m.namespace.as_str());
    if let Some(class) = &ingress.spec.ingress_class_name {
        set(
            &mut tg.labels,
            format!("{PREFIX}ingress_class_name"),
            class.as_str(),
        );
    }
    add_object_meta(&mut tg.labels, m, "ingress");
    if ctx.with_namespace() {
        ctx.add_namespace_labels(&mut tg.labels, &m.namespace);
    }
    let tls_hosts: Vec<&str> = ingress
        .spec
        .tls
        .iter()
        .flat_map(|t| t.hosts.iter().map(String::as_str))
        .collect();
    for rule in &ingress.spec.rules {
        let https = tls_hosts
            .iter()
            .any(|p| matches_hostname_pattern(p, &rule.host));
        let scheme = if https { "https" } else { "http" };
        for path in rule_paths(rule) {
            let mut t = LabelSet::new();
            set(&mut t, ADDRESS_LABEL, rule.host.as_str());
            set(&mut t, format!("{PREFIX}ingress_scheme"), scheme);
            set(&mut t, format!("{PREFIX}ingress_host"), rule.host.as_str());
            set(&mut t, format!("{PREFIX}ingress_path"), path);
            tg.targets.push(t);
        }
    }
    tg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostname_patterns() {
        assert!(matches_hostname_pattern("example.com", "example.com"));
        assert!(matches_hostname_pattern(
            "*.example.com",
            "test.example.com"
        ));
        assert!(!matches_hostname_pattern(
            "*.example.com",
            "a.b.example.com"
        ));
        assert!(!matches_hostname_pattern("*.example.com", "example.com"));
    }
}
