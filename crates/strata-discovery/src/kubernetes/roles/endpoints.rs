//! Role `endpoints`: one target per address and port of an `Endpoints` object, with the
//! service's and the backing pod's labels, plus the pod's other container ports
//! (Prometheus' `endpoints.go`).

use super::Ctx;
use super::pod::{
    CONTAINER_IMAGE, CONTAINER_INIT, CONTAINER_NAME, CONTAINER_PORT_NAME, CONTAINER_PORT_NUMBER,
    CONTAINER_PORT_PROTOCOL, all_containers, pod_labels,
};
use super::service::service_labels;
use crate::kubernetes::cache::Cache;
use crate::kubernetes::labels::{NAMESPACE, PREFIX, add_object_meta, join_host_port, merge, set};
use crate::kubernetes::objects::{EndpointAddress, EndpointPort, Endpoints, ObjectReference, Pod};
use crate::{ADDRESS_LABEL, LabelSet, TargetGroup};

/// What an object can be referenced as by endpoints.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Referenced<'a> {
    /// A pod, by `namespace/name`.
    Pod(&'a str),
    /// A node, by name.
    Node(&'a str),
}

/// The keys of the `Endpoints` whose ready addresses reference `what` (Prometheus'
/// pod and node indexes).
pub(crate) fn endpoints_referencing(cache: &Cache, what: Referenced<'_>) -> Vec<String> {
    let refers = |a: &EndpointAddress| {
        let Some(r) = &a.target_ref else {
            return false;
        };
        match what {
            Referenced::Pod(key) => r.kind == "Pod" && format!("{}/{}", r.namespace, r.name) == key,
            Referenced::Node(name) => match r.kind.as_str() {
                "Pod" => a.node_name.as_deref() == Some(name),
                "Node" => r.name == name,
                _ => false,
            },
        }
    };
    cache
        .endpoints
        .iter()
        .filter(|(_, e)| e.subsets.iter().flat_map(|s| &s.addresses).any(refers))
        .map(|(k, _)| k.clone())
        .collect()
}

/// The pod a target reference names, when it is a known pod.
pub(crate) fn resolve_pod<'a>(cache: &'a Cache, r: Option<&ObjectReference>) -> Option<&'a Pod> {
    let r = r.filter(|r| r.kind == "Pod")?;
    cache.pods.get(&format!("{}/{}", r.namespace, r.name))
}

/// Pods seen behind addresses, in order of first appearance, with the ports they
/// serve.
pub(crate) struct SeenPods<'a> {
    pods: Vec<(&'a Pod, Vec<i32>)>,
}

impl<'a> SeenPods<'a> {
    pub fn new() -> Self {
        SeenPods { pods: Vec::new() }
    }

    pub fn record(&mut self, pod: &'a Pod, port: Option<i32>) {
        let key = (&pod.metadata.namespace, &pod.metadata.name);
        let i = match self
            .pods
            .iter()
            .position(|(p, _)| (&p.metadata.namespace, &p.metadata.name) == key)
        {
            Some(i) => i,
            None => {
                self.pods.push((pod, Vec::new()));
                self.pods.len() - 1
            }
        };
        if let Some(port) = port {
            self.pods[i].1.push(port);
        }
    }

    /// Targets for the container ports of the seen pods that no address served.
    pub fn remaining_targets(&self, ctx: &Ctx<'_>) -> Vec<LabelSet> {
        let mut out = Vec::new();
        for (pod, served) in &self.pods {
            if pod.status.pod_ip.is_empty() {
                continue;
            }
            for (c, init) in all_containers(pod) {
                for cport in &c.ports {
                    if served.contains(&cport.container_port) {
                        continue;
                    }
                    let port = cport.container_port.to_string();
                    let mut t = LabelSet::new();
                    set(
                        &mut t,
                        ADDRESS_LABEL,
                        join_host_port(&pod.status.pod_ip, &port),
                    );
                    set(&mut t, CONTAINER_NAME, c.name.as_str());
                    set(&mut t, CONTAINER_IMAGE, c.image.as_str());
                    set(&mut t, CONTAINER_PORT_NAME, cport.name.as_str());
                    set(&mut t, CONTAINER_PORT_NUMBER, port);
                    set(&mut t, CONTAINER_PORT_PROTOCOL, cport.protocol.as_str());
                    set(&mut t, CONTAINER_INIT, init.to_string());
                    merge(&mut t, pod_labels(ctx, pod));
                    out.push(t);
                }
            }
        }
        out
    }
}

/// Labels of the container of `pod` that declares `port`; the protocol label is
/// `protocol` when given (the endpoints role takes the endpoint port's), else the
/// container port's.
pub(crate) fn add_container_labels(t: &mut LabelSet, pod: &Pod, port: i32, protocol: Option<&str>) {
    for (c, init) in all_containers(pod) {
        if let Some(cport) = c.ports.iter().find(|p| p.container_port == port) {
            set(t, CONTAINER_NAME, c.name.as_str());
            set(t, CONTAINER_IMAGE, c.image.as_str());
            set(t, CONTAINER_PORT_NAME, cport.name.as_str());
            set(t, CONTAINER_PORT_NUMBER, port.to_string());
            let protocol = protocol.unwrap_or(cport.protocol.as_str());
            set(t, CONTAINER_PORT_PROTOCOL, protocol);
            set(t, CONTAINER_INIT, init.to_string());
            // Prometheus breaks out of the port loop only: a later container declaring
            // the same port overwrites these labels.
        }
    }
}

/// Prometheus' `buildEndpoints`.
pub(crate) fn build_endpoints(ctx: &Ctx<'_>, eps: &Endpoints) -> TargetGroup {
    let m = &eps.metadata;
    let mut tg = TargetGroup::empty(super::source(ctx.role, &m.key()));
    set(&mut tg.labels, NAMESPACE, m.namespace.as_str());
    if let Some(svc) = ctx.cache.services.get(&m.key()) {
        merge(&mut tg.labels, service_labels(svc));
    }
    add_object_meta(&mut tg.labels, m, "endpoints");
    if ctx.with_namespace() {
        ctx.add_namespace_labels(&mut tg.labels, &m.namespace);
    }

    let mut seen = SeenPods::new();
    let p = PREFIX;
    let mut add = |addr: &EndpointAddress, port: &EndpointPort, ready: &str| {
        let mut t = LabelSet::new();
        set(&mut t, ADDRESS_LABEL, join_host_port(&addr.ip, port.port));
        set(&mut t, format!("{p}endpoint_port_name"), port.name.as_str());
        set(
            &mut t,
            format!("{p}endpoint_port_protocol"),
            port.protocol.as_str(),
        );
        set(&mut t, format!("{p}endpoint_ready"), ready);
        if let Some(r) = &addr.target_ref {
            set(
                &mut t,
                format!("{p}endpoint_address_target_kind"),
                r.kind.as_str(),
            );
            set(
                &mut t,
                format!("{p}endpoint_address_target_name"),
                r.name.as_str(),
            );
        }
        if let Some(n) = &addr.node_name {
            set(&mut t, format!("{p}endpoint_node_name"), n.as_str());
        }
        if !addr.hostname.is_empty() {
            set(
                &mut t,
                format!("{p}endpoint_hostname"),
                addr.hostname.as_str(),
            );
        }
        if ctx.with_node() {
            if let Some(n) = &addr.node_name {
                ctx.add_node_labels(&mut t, Some(n));
            } else if let Some(r) = addr.target_ref.as_ref().filter(|r| r.kind == "Node") {
                ctx.add_node_labels(&mut t, Some(&r.name));
            }
        }
        if let Some(pod) = resolve_pod(ctx.cache, addr.target_ref.as_ref()) {
            seen.record(pod, Some(port.port));
            merge(&mut t, pod_labels(ctx, pod));
            add_container_labels(&mut t, pod, port.port, Some(&port.protocol));
        }
        tg.targets.push(t);
    };
    for subset in &eps.subsets {
        for port in &subset.ports {
            for addr in &subset.addresses {
                add(addr, port, "true");
            }
            for addr in &subset.not_ready_addresses {
                add(addr, port, "false");
            }
        }
    }
    match m
        .labels
        .get("endpoints.kubernetes.io/over-capacity")
        .map(String::as_str)
    {
        Some("truncated") => tracing::warn!(
            endpoint = %m.name,
            "number of endpoints in one Endpoints object exceeds 1000 and has been truncated, please use \"role: endpointslice\" instead"
        ),
        Some("warning") => tracing::warn!(
            endpoint = %m.name,
            "number of endpoints in one Endpoints object exceeds 1000, please use \"role: endpointslice\" instead"
        ),
        _ => {}
    }
    let rest = seen.remaining_targets(ctx);
    tg.targets.extend(rest);
    tg
}
