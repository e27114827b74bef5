//! `kubernetes_sd_configs` (Prometheus `discovery/kubernetes.SDConfig`).

use std::fmt;

use serde::{Deserialize, Deserializer};

use crate::http::{HttpClientConfig, HttpDefaults, with_http_client_fields};
use crate::values::HttpUrl;
use crate::yaml::null_default;

/// The kind of object discovered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KubernetesRole {
    Node,
    Pod,
    Service,
    Endpoints,
    EndpointSlice,
    Ingress,
}

impl KubernetesRole {
    pub fn as_str(self) -> &'static str {
        match self {
            KubernetesRole::Node => "node",
            KubernetesRole::Pod => "pod",
            KubernetesRole::Service => "service",
            KubernetesRole::Endpoints => "endpoints",
            KubernetesRole::EndpointSlice => "endpointslice",
            KubernetesRole::Ingress => "ingress",
        }
    }

    /// Roles whose selectors a discovery of this role accepts.
    fn allowed_selectors(self) -> &'static [KubernetesRole] {
        use KubernetesRole::*;
        match self {
            Pod => &[Pod, Node],
            Service => &[Service],
            EndpointSlice => &[Pod, Service, EndpointSlice],
            Endpoints => &[Pod, Service, Endpoints],
            Node => &[Node],
            Ingress => &[Ingress],
        }
    }
}

impl fmt::Display for KubernetesRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for KubernetesRole {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use KubernetesRole::*;
        let s = String::deserialize(d)?;
        [Node, Pod, Service, Endpoints, EndpointSlice, Ingress]
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown Kubernetes SD role {s:?}")))
    }
}

/// `namespaces`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NamespaceDiscovery {
    #[serde(deserialize_with = "null_default")]
    pub own_namespace: bool,
    #[serde(deserialize_with = "null_default")]
    pub names: Vec<String>,
}

/// One entry of `selectors`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SelectorConfig {
    pub role: KubernetesRole,
    #[serde(default)]
    pub label: Option<String>,
    #[serde(default)]
    pub field: Option<String>,
}

/// `attach_metadata`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AttachMetadata {
    #[serde(deserialize_with = "null_default")]
    pub node: bool,
    #[serde(deserialize_with = "null_default")]
    pub namespace: bool,
    #[serde(deserialize_with = "null_default")]
    pub deployment: bool,
    #[serde(deserialize_with = "null_default")]
    pub job: bool,
    #[serde(deserialize_with = "null_default")]
    pub cronjob: bool,
}

/// A Kubernetes service discovery configuration.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "RawKubernetesSdConfig")]
pub struct KubernetesSdConfig {
    pub role: KubernetesRole,
    /// The API server; in-cluster configuration when neither this nor
    /// `kubeconfig_file` is set.
    pub api_server: Option<HttpUrl>,
    pub kubeconfig_file: Option<String>,
    /// The client talking to the API server (only customisable with `api_server`).
    pub http_client: HttpClientConfig,
    pub namespaces: NamespaceDiscovery,
    pub selectors: Vec<SelectorConfig>,
    pub attach_metadata: AttachMetadata,
}

with_http_client_fields! {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct RawKubernetesSdConfig {
        #[serde(default)]
        role: Option<KubernetesRole>,
        #[serde(default)]
        api_server: Option<HttpUrl>,
        #[serde(default)]
        kubeconfig_file: Option<String>,
        #[serde(default, deserialize_with = "null_default")]
        namespaces: NamespaceDiscovery,
        #[serde(default, deserialize_with = "null_default")]
        selectors: Vec<SelectorConfig>,
        #[serde(default, deserialize_with = "null_default")]
        attach_metadata: AttachMetadata,
    }
}

impl TryFrom<RawKubernetesSdConfig> for KubernetesSdConfig {
    type Error = String;

    fn try_from(mut raw: RawKubernetesSdConfig) -> Result<Self, String> {
        let role = raw.role.ok_or(
            "role missing (one of: pod, service, endpoints, endpointslice, node, ingress)",
        )?;
        let http_client = raw.take_http_client(HttpDefaults::STANDARD)?;
        let kubeconfig = raw.kubeconfig_file.filter(|k| !k.is_empty());
        let custom_http = http_client != HttpClientConfig::default();
        if raw.api_server.is_some() && kubeconfig.is_some() {
            return Err("cannot use 'kubeconfig_file' and 'api_server' simultaneously".into());
        }
        if kubeconfig.is_some() && custom_http {
            return Err(
                "cannot use a custom HTTP client configuration together with 'kubeconfig_file'"
                    .into(),
            );
        }
        if raw.api_server.is_none() && custom_http {
            return Err("to use custom HTTP client configuration please provide the 'api_server' URL explicitly".into());
        }
        if raw.api_server.is_some() && raw.namespaces.own_namespace {
            return Err(
                "cannot use 'api_server' and 'namespaces.own_namespace' simultaneously".into(),
            );
        }
        if kubeconfig.is_some() && raw.namespaces.own_namespace {
            return Err(
                "cannot use 'kubeconfig_file' and 'namespaces.own_namespace' simultaneously".into(),
            );
        }
        let mut seen = Vec::new();
        for s in &raw.selectors {
            if seen.contains(&s.role) {
                return Err(format!("duplicated selector role: {}", s.role));
            }
            seen.push(s.role);
            let allowed = role.allowed_selectors();
            if !allowed.contains(&s.role) {
                let names: Vec<&str> = allowed.iter().map(|r| r.as_str()).collect();
                return Err(format!(
                    "{role} role supports only {} selectors",
                    names.join(", ")
                ));
            }
            if let Some(f) = s.field.as_deref() {
                check_field_selector(f)?;
            }
            if let Some(l) = s.label.as_deref() {
                check_label_selector(l)?;
            }
        }
        Ok(KubernetesSdConfig {
            role,
            api_server: raw.api_server,
            kubeconfig_file: kubeconfig,
            http_client,
            namespaces: raw.namespaces,
            selectors: raw.selectors,
            attach_metadata: raw.attach_metadata,
        })
    }
}

/// A field selector is a comma-separated list of `key=value`, `key==value` or
/// `key!=value` terms.
fn check_field_selector(s: &str) -> Result<(), String> {
    for term in s.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        let key = term.split(['=', '!']).next().unwrap_or("");
        if key.is_empty() || !term.contains('=') {
            return Err(format!(
                "invalid selector: '{s}'; can't understand '{term}'"
            ));
        }
    }
    Ok(())
}

/// A label selector: terms `key`, `!key`, `key=v`, `key==v`, `key!=v`,
/// `key in (a,b)`, `key notin (a,b)`, separated by commas outside parentheses.
fn check_label_selector(s: &str) -> Result<(), String> {
    let mut depth = 0i32;
    let mut start = 0;
    let mut terms = Vec::new();
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                terms.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
        if depth < 0 {
            return Err(format!(
                "unable to parse requirement: unbalanced ')' in {s:?}"
            ));
        }
    }
    if depth != 0 {
        return Err(format!(
            "unable to parse requirement: unbalanced '(' in {s:?}"
        ));
    }
    terms.push(&s[start..]);
    let key_ok = |k: &str| {
        !k.is_empty()
            && k.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
    };
    for term in terms.into_iter().map(str::trim).filter(|t| !t.is_empty()) {
        let ok = if let Some(k) = term.strip_prefix('!') {
            key_ok(k.trim())
        } else if let Some((k, _)) = term.split_once("!=").or_else(|| term.split_once('=')) {
            key_ok(k.trim())
        } else if let Some((k, rest)) = term
            .split_once(" notin ")
            .or_else(|| term.split_once(" in "))
        {
            let rest = rest.trim();
            key_ok(k.trim()) && rest.starts_with('(') && rest.ends_with(')')
        } else {
            key_ok(term)
        };
        if !ok {
            return Err(format!("unable to parse requirement: {term:?}"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors() {
        assert!(check_field_selector("metadata.name=foo,spec.nodeName!=x").is_ok());
        assert!(check_field_selector("metadata.status-Running").is_err());
        assert!(check_label_selector("app=foo,!canary,tier in (a, b),env notin (x)").is_ok());
        assert!(check_label_selector("app in (a").is_err());
        assert!(check_label_selector("a b").is_err());
    }
}
