//! Role `pod`: one target per declared container port, or one per container without
//! ports (Prometheus' `pod.go`).

use super::Ctx;
use crate::kubernetes::labels::{NAMESPACE, PREFIX, add_object_meta, join_host_port, set};
use crate::kubernetes::objects::{Container, ContainerStatus, Pod};
use crate::{ADDRESS_LABEL, LabelSet, TargetGroup};

pub(crate) const CONTAINER_NAME: &str = "__meta_kubernetes_pod_container_name";
pub(crate) const CONTAINER_ID: &str = "__meta_kubernetes_pod_container_id";
pub(crate) const CONTAINER_IMAGE: &str = "__meta_kubernetes_pod_container_image";
pub(crate) const CONTAINER_PORT_NAME: &str = "__meta_kubernetes_pod_container_port_name";
pub(crate) const CONTAINER_PORT_NUMBER: &str = "__meta_kubernetes_pod_container_port_number";
pub(crate) const CONTAINER_PORT_PROTOCOL: &str = "__meta_kubernetes_pod_container_port_protocol";
pub(crate) const CONTAINER_INIT: &str = "__meta_kubernetes_pod_container_init";

/// The containers followed by the init containers, each with its init flag.
pub(crate) fn all_containers(pod: &Pod) -> impl Iterator<Item = (&Container, bool)> {
    pod.spec
        .containers
        .iter()
        .map(|c| (c, false))
        .chain(pod.spec.init_containers.iter().map(|c| (c, true)))
}

/// Prometheus' `podReady`: the lowercased status of the `Ready` condition, or
/// `unknown`.
fn ready(pod: &Pod) -> String {
    pod.status
        .conditions
        .iter()
        .find(|c| c.kind == "Ready")
        .map(|c| c.status.to_lowercase())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// Prometheus' `podLabels`: the pod-level labels shared by the pod, endpoints and
/// endpointslice roles (no namespace).
pub(crate) fn pod_labels(ctx: &Ctx<'_>, pod: &Pod) -> LabelSet {
    let mut ls = LabelSet::new();
    let p = PREFIX;
    set(&mut ls, format!("{p}pod_ip"), pod.status.pod_ip.as_str());
    set(&mut ls, format!("{p}pod_ready"), ready(pod));
    set(&mut ls, format!("{p}pod_phase"), pod.status.phase.as_str());
    set(
        &mut ls,
        format!("{p}pod_node_name"),
        pod.spec.node_name.as_str(),
    );
    set(
        &mut ls,
        format!("{p}pod_host_ip"),
        pod.status.host_ip.as_str(),
    );
    set(&mut ls, format!("{p}pod_uid"), pod.metadata.uid.as_str());
    add_object_meta(&mut ls, &pod.metadata, "pod");

    let Some(owner) = pod.metadata.controller() else {
        return ls;
    };
    if !owner.kind.is_empty() {
        set(
            &mut ls,
            format!("{p}pod_controller_kind"),
            owner.kind.as_str(),
        );
    }
    if !owner.name.is_empty() {
        set(
            &mut ls,
            format!("{p}pod_controller_name"),
            owner.name.as_str(),
        );
    }
    let owner_key = format!("{}/{}", pod.metadata.namespace, owner.name);
    match owner.kind.as_str() {
        "ReplicaSet" if ctx.with_deployment() => {
            let deployment = ctx
                .cache
                .replica_sets
                .get(&owner_key)
                .and_then(|rs| rs.metadata.controller())
                .filter(|o| o.kind == "Deployment");
            if let Some(d) = deployment {
                set(&mut ls, format!("{p}pod_deployment_name"), d.name.as_str());
            }
        }
        "Job" => {
            if ctx.with_job() {
                set(&mut ls, format!("{p}pod_job_name"), owner.name.as_str());
            }
            if ctx.with_cronjob() {
                let cronjob = ctx
                    .cache
                    .jobs
                    .get(&owner_key)
                    .and_then(|j| j.metadata.controller())
                    .filter(|o| o.kind == "CronJob");
                if let Some(c) = cronjob {
                    set(&mut ls, format!("{p}pod_cronjob_name"), c.name.as_str());
                }
            }
        }
        _ => {}
    }
    ls
}

fn container_id(statuses: &[ContainerStatus], name: &str) -> String {
    statuses
        .iter()
        .find(|s| s.name == name)
        .map(|s| s.container_id.clone())
        .unwrap_or_default()
}

/// Prometheus' `buildPod`.
pub(crate) fn build_pod(ctx: &Ctx<'_>, pod: &Pod) -> TargetGroup {
    let mut tg = TargetGroup::empty(super::source(ctx.role, &pod.metadata.key()));
    if pod.status.pod_ip.is_empty() {
        return tg;
    }
    if ctx.with_node() && !ctx.cache.nodes.contains_key(&pod.spec.node_name) {
        return tg;
    }
    tg.labels = pod_labels(ctx, pod);
    set(&mut tg.labels, NAMESPACE, pod.metadata.namespace.as_str());
    if ctx.with_node() {
        ctx.add_node_labels(&mut tg.labels, Some(&pod.spec.node_name));
    }
    if ctx.with_namespace() {
        ctx.add_namespace_labels(&mut tg.labels, &pod.metadata.namespace);
    }

    let ip = &pod.status.pod_ip;
    for (c, init) in all_containers(pod) {
        let statuses = if init {
            &pod.status.init_container_statuses
        } else {
            &pod.status.container_statuses
        };
        let id = container_id(statuses, &c.name);
        let mut base = LabelSet::new();
        set(&mut base, CONTAINER_NAME, c.name.as_str());
        set(&mut base, CONTAINER_ID, id);
        set(&mut base, CONTAINER_IMAGE, c.image.as_str());
        set(&mut base, CONTAINER_INIT, init.to_string());
        if c.ports.is_empty() {
            let mut t = base;
            set(&mut t, ADDRESS_LABEL, ip.as_str());
            tg.targets.push(t);
            continue;
        }
        for port in &c.ports {
            let mut t = base.clone();
            set(
                &mut t,
                ADDRESS_LABEL,
                join_host_port(ip, port.container_port),
            );
            set(
                &mut t,
                CONTAINER_PORT_NUMBER,
                port.container_port.to_string(),
            );
            set(&mut t, CONTAINER_PORT_NAME, port.name.as_str());
            set(&mut t, CONTAINER_PORT_PROTOCOL, port.protocol.as_str());
            tg.targets.push(t);
        }
    }
    tg
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use strata_config::discovery::kubernetes::{AttachMetadata, KubernetesRole};

    use super::*;
    use crate::kubernetes::cache::Cache;
    use crate::kubernetes::roles::test_util::ls;

    /// Prometheus' `makeInitContainerPods` (TestPodDiscoveryInitContainer).
    fn init_container_pod() -> Pod {
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": "testpod", "namespace": "default", "uid": "abc123"},
            "spec": {
                "nodeName": "testnode",
                "containers": [{"name": "testcontainer", "image": "testcontainer:latest",
                    "ports": [{"name": "testport", "protocol": "TCP", "containerPort": 9000}]}],
                "initContainers": [{"name": "initcontainer", "image": "initcontainer:latest"}]
            },
            "status": {
                "podIP": "1.2.3.4", "hostIP": "2.3.4.5", "phase": "Pending",
                "conditions": [{"type": "Ready", "status": "False"}],
                "containerStatuses": [{"name": "testcontainer", "containerID": "docker://a1b2c3d4e5f6"}],
                "initContainerStatuses": [{"name": "initcontainer", "containerID": "containerd://6f5e4d3c2b1a"}]
            }
        }))
        .unwrap()
    }

    #[test]
    fn init_containers_are_targets() {
        let cache = Cache::default();
        let attach = AttachMetadata::default();
        let ctx = Ctx {
            cache: &cache,
            role: KubernetesRole::Pod,
            attach: &attach,
        };
        let tg = build_pod(&ctx, &init_container_pod());
        assert_eq!(tg.source, "pod/default/testpod");
        assert_eq!(
            tg.targets,
            vec![
                ls(&[
                    ("__address__", "1.2.3.4:9000"),
                    ("__meta_kubernetes_pod_container_name", "testcontainer"),
                    (
                        "__meta_kubernetes_pod_container_image",
                        "testcontainer:latest"
                    ),
                    ("__meta_kubernetes_pod_container_port_name", "testport"),
                    ("__meta_kubernetes_pod_container_port_number", "9000"),
                    ("__meta_kubernetes_pod_container_port_protocol", "TCP"),
                    ("__meta_kubernetes_pod_container_init", "false"),
                    (
                        "__meta_kubernetes_pod_container_id",
                        "docker://a1b2c3d4e5f6"
                    ),
                ]),
                ls(&[
                    ("__address__", "1.2.3.4"),
                    ("__meta_kubernetes_pod_container_name", "initcontainer"),
                    (
                        "__meta_kubernetes_pod_container_image",
                        "initcontainer:latest"
                    ),
                    ("__meta_kubernetes_pod_container_init", "true"),
                    (
                        "__meta_kubernetes_pod_container_id",
                        "containerd://6f5e4d3c2b1a"
                    ),
                ]),
            ]
        );
        assert_eq!(
            tg.labels,
            ls(&[
                ("__meta_kubernetes_pod_name", "testpod"),
                ("__meta_kubernetes_namespace", "default"),
                ("__meta_kubernetes_pod_node_name", "testnode"),
                ("__meta_kubernetes_pod_ip", "1.2.3.4"),
                ("__meta_kubernetes_pod_host_ip", "2.3.4.5"),
                ("__meta_kubernetes_pod_ready", "false"),
                ("__meta_kubernetes_pod_phase", "Pending"),
                ("__meta_kubernetes_pod_uid", "abc123"),
            ])
        );
    }

    #[test]
    fn node_metadata_requires_the_node() {
        let mut cache = Cache::default();
        let attach = AttachMetadata {
            node: true,
            ..AttachMetadata::default()
        };
        let pod = init_container_pod();
        let tg = build_pod(
            &Ctx {
                cache: &cache,
                role: KubernetesRole::Pod,
                attach: &attach,
            },
            &pod,
        );
        assert_eq!(tg, TargetGroup::empty("pod/default/testpod"));
        cache.nodes.insert(
            "testnode".into(),
            serde_json::from_value(serde_json::json!({
                "metadata": {"name": "testnode", "labels": {"l1": "v1"}}
            }))
            .unwrap(),
        );
        let tg = build_pod(
            &Ctx {
                cache: &cache,
                role: KubernetesRole::Pod,
                attach: &attach,
            },
            &pod,
        );
        assert_eq!(tg.labels["__meta_kubernetes_node_name"], "testnode");
        assert_eq!(tg.labels["__meta_kubernetes_node_label_l1"], "v1");
        assert_eq!(tg.labels["__meta_kubernetes_node_labelpresent_l1"], "true");
    }
}
