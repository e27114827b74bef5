//! Role `node`: one target per node, at the kubelet port of its preferred address
//! (Prometheus' `node.go`).

use std::collections::BTreeMap;

use crate::kubernetes::labels::{PREFIX, add_object_meta, join_host_port, sanitize, set};
use crate::kubernetes::objects::Node;
use crate::{ADDRESS_LABEL, LabelSet, TargetGroup};

/// Address types in order of preference.
const ADDRESS_PREFERENCE: [&str; 6] = [
    "InternalIP",
    "InternalDNS",
    "ExternalIP",
    "ExternalDNS",
    "LegacyHostIP",
    "Hostname",
];

/// Prometheus' `buildNode`; `None` when the node has no usable address (Prometheus
/// logs and sends nothing).
pub(crate) fn build_node(node: &Node) -> Option<TargetGroup> {
    let m = &node.metadata;
    let mut tg = TargetGroup::empty(format!("node/{}", m.name));
    set(
        &mut tg.labels,
        format!("{PREFIX}node_provider_id"),
        node.spec.provider_id.as_str(),
    );
    for c in &node.status.conditions {
        let name = sanitize(&c.kind.to_lowercase());
        set(
            &mut tg.labels,
            format!("{PREFIX}node_condition_{name}"),
            c.status.to_lowercase(),
        );
    }
    add_object_meta(&mut tg.labels, m, "node");

    let mut by_type: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for a in &node.status.addresses {
        by_type
            .entry(a.kind.as_str())
            .or_default()
            .push(a.address.as_str());
    }
    let Some(address) = ADDRESS_PREFERENCE
        .iter()
        .find_map(|t| by_type.get(t).and_then(|a| a.first()))
    else {
        tracing::warn!(node = %m.name, "no node address found: host address unknown");
        return None;
    };
    let mut t = LabelSet::new();
    let port = node.status.daemon_endpoints.kubelet_endpoint.port;
    set(&mut t, ADDRESS_LABEL, join_host_port(address, port));
    set(&mut t, "instance", m.name.as_str());
    for (kind, addresses) in &by_type {
        if let Some(a) = addresses.first() {
            set(
                &mut t,
                sanitize(&format!("{PREFIX}node_address_{kind}")),
                *a,
            );
        }
    }
    tg.targets.push(t);
    Some(tg)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::kubernetes::roles::test_util::ls;

    #[test]
    fn address_preference_and_conditions() {
        let node: Node = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "test"},
            "spec": {"providerID": "aws:///test-zone/i-test"},
            "status": {
                "addresses": [
                    {"type": "Hostname", "address": "test"},
                    {"type": "ExternalIP", "address": "5.6.7.8"},
                    {"type": "InternalDNS", "address": "test.internal"},
                    {"type": "ExternalIP", "address": "9.9.9.9"}
                ],
                "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
                "conditions": [
                    {"type": "MemoryPressure", "status": "False"},
                    {"type": "Ready", "status": "Unknown"}
                ]
            }
        }))
        .unwrap();
        let tg = build_node(&node).unwrap();
        assert_eq!(
            tg.targets,
            vec![ls(&[
                ("__address__", "test.internal:10250"),
                ("instance", "test"),
                ("__meta_kubernetes_node_address_Hostname", "test"),
                ("__meta_kubernetes_node_address_ExternalIP", "5.6.7.8"),
                (
                    "__meta_kubernetes_node_address_InternalDNS",
                    "test.internal"
                ),
            ])]
        );
        assert_eq!(
            tg.labels,
            ls(&[
                ("__meta_kubernetes_node_name", "test"),
                (
                    "__meta_kubernetes_node_provider_id",
                    "aws:///test-zone/i-test"
                ),
                ("__meta_kubernetes_node_condition_memorypressure", "false"),
                ("__meta_kubernetes_node_condition_ready", "unknown"),
            ])
        );
        let bare: Node =
            serde_json::from_value(serde_json::json!({"metadata": {"name": "x"}})).unwrap();
        assert_eq!(build_node(&bare), None);
    }
}
