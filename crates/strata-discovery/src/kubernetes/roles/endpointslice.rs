//! Role `endpointslice`: one target per endpoint address and slice port, with the
//! endpoint conditions, the service's and the backing pod's labels (Prometheus'
//! `endpointslice.go`).

use super::Ctx;
use super::endpoints::{Referenced, SeenPods, add_container_labels, resolve_pod};
use super::pod::pod_labels;
use super::service::service_labels;
use crate::kubernetes::cache::Cache;
use crate::kubernetes::labels::{
    NAMESPACE, PREFIX, PRESENT, add_object_meta, join_host_port, merge, sanitize, set,
};
use crate::kubernetes::objects::{EndpointSlice, Service, SliceEndpoint, SlicePort};
use crate::{ADDRESS_LABEL, LabelSet, TargetGroup};

/// The label naming a slice's service.
pub(crate) const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";

/// The keys of the slices of the service at `namespace/name`.
pub(crate) fn slices_of_service(cache: &Cache, service_key: &str) -> Vec<String> {
    cache
        .endpoint_slices
        .iter()
        .filter(|(_, s)| {
            s.metadata
                .labels
                .get(SERVICE_NAME_LABEL)
                .is_some_and(|n| format!("{}/{n}", s.metadata.namespace) == service_key)
        })
        .map(|(k, _)| k.clone())
        .collect()
}

/// The keys of the slices whose endpoints reference the node `what` (Prometheus' node
/// index; slices have no pod index).
pub(crate) fn slices_referencing(cache: &Cache, what: Referenced<'_>) -> Vec<String> {
    let Referenced::Node(name) = what else {
        return Vec::new();
    };
    let refers = |e: &SliceEndpoint| match e.target_ref.as_ref().map(|r| r.kind.as_str()) {
        Some("Pod") => e.node_name.as_deref() == Some(name),
        Some("Node") => e.target_ref.as_ref().is_some_and(|r| r.name == name),
        _ => false,
    };
    cache
        .endpoint_slices
        .iter()
        .filter(|(_, s)| s.endpoints.iter().any(refers))
        .map(|(k, _)| k.clone())
        .collect()
}

/// A dual-stack service's slice of its secondary address family: Prometheus reports it
/// without targets.
fn non_primary_ip_family(svc: Option<&Service>, slice: &EndpointSlice) -> bool {
    let Some(svc) = svc else {
        return false;
    };
    let dual = matches!(
        svc.spec.ip_family_policy.as_deref(),
        Some("PreferDualStack" | "RequireDualStack")
    );
    match svc.spec.ip_families.first() {
        Some(primary) if dual => *primary != slice.address_type,
        _ => false,
    }
}

fn endpoint_target(ctx: &Ctx<'_>, addr: &str, ep: &SliceEndpoint, port: &SlicePort) -> LabelSet {
    let p = PREFIX;
    let mut t = LabelSet::new();
    let address = match port.port {
        Some(n) => join_host_port(addr, n),
        None => addr.to_owned(),
    };
    set(&mut t, ADDRESS_LABEL, address);
    if let Some(n) = &port.name {
        set(&mut t, format!("{p}endpointslice_port_name"), n.as_str());
    }
    if let Some(proto) = &port.protocol {
        set(
            &mut t,
            format!("{p}endpointslice_port_protocol"),
            proto.as_str(),
        );
    }
    if let Some(n) = port.port {
        set(&mut t, format!("{p}endpointslice_port"), n.to_string());
    }
    if let Some(a) = &port.app_protocol {
        set(
            &mut t,
            format!("{p}endpointslice_port_app_protocol"),
            a.as_str(),
        );
    }
    let conditions = [
        ("ready", ep.conditions.ready),
        ("serving", ep.conditions.serving),
        ("terminating", ep.conditions.terminating),
    ];
    for (name, value) in conditions {
        if let Some(v) = value {
            let n = format!("{p}endpointslice_endpoint_conditions_{name}");
            set(&mut t, n, v.to_string());
        }
    }
    if let Some(h) = &ep.hostname {
        set(
            &mut t,
            format!("{p}endpointslice_endpoint_hostname"),
            h.as_str(),
        );
    }
    if let Some(r) = &ep.target_ref {
        set(
            &mut t,
            format!("{p}endpointslice_address_target_kind"),
            r.kind.as_str(),
        );
        set(
            &mut t,
            format!("{p}endpointslice_address_target_name"),
            r.name.as_str(),
        );
    }
    if let Some(n) = &ep.node_name {
        set(
            &mut t,
            format!("{p}endpointslice_endpoint_node_name"),
            n.as_str(),
        );
    }
    if let Some(z) = &ep.zone {
        set(
            &mut t,
            format!("{p}endpointslice_endpoint_zone"),
            z.as_str(),
        );
    }
    for (k, v) in &ep.deprecated_topology {
        let n = sanitize(k);
        set(
            &mut t,
            format!("{p}endpointslice_endpoint_topology_{n}"),
            v.as_str(),
        );
        let present = format!("{p}endpointslice_endpoint_topology_present_{n}");
        set(&mut t, present, PRESENT);
    }
    if ctx.with_node() {
        match ep.target_ref.as_ref().filter(|r| r.kind == "Node") {
            Some(r) => ctx.add_node_labels(&mut t, Some(&r.name)),
            None => ctx.add_node_labels(&mut t, ep.node_name.as_deref()),
        }
    }
    t
}

/// Prometheus' `buildEndpointSlice`.
pub(crate) fn build_endpoint_slice(ctx: &Ctx<'_>, slice: &EndpointSlice) -> TargetGroup {
    let m = &slice.metadata;
    let mut tg = TargetGroup::empty(super::source(ctx.role, &m.key()));
    set(&mut tg.labels, NAMESPACE, m.namespace.as_str());
    let address_type = slice.address_type.as_str();
    set(
        &mut tg.labels,
        format!("{PREFIX}endpointslice_address_type"),
        address_type,
    );
    add_object_meta(&mut tg.labels, m, "endpointslice");
    let svc = m
        .labels
        .get(SERVICE_NAME_LABEL)
        .and_then(|name| ctx.cache.services.get(&format!("{}/{name}", m.namespace)));
    if let Some(svc) = svc {
        merge(&mut tg.labels, service_labels(svc));
    }
    if ctx.with_namespace() {
        ctx.add_namespace_labels(&mut tg.labels, &m.namespace);
    }
    if non_primary_ip_family(svc, slice) {
        return tg;
    }

    let mut seen = SeenPods::new();
    for ep in &slice.endpoints {
        for port in &slice.ports {
            for addr in &ep.addresses {
                let mut t = endpoint_target(ctx, addr, ep, port);
                if let Some(pod) = resolve_pod(ctx.cache, ep.target_ref.as_ref()) {
                    seen.record(pod, port.port);
                    merge(&mut t, pod_labels(ctx, pod));
                    if let Some(n) = port.port {
                        add_container_labels(&mut t, pod, n, None);
                    }
                }
                tg.targets.push(t);
            }
        }
    }
    let rest = seen.remaining_targets(ctx);
    tg.targets.extend(rest);
    tg
}
