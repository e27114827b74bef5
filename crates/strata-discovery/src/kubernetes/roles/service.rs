//! Role `service`: one target per service port, addressed by the service's DNS name
//! (Prometheus' `service.go`).

use super::Ctx;
use crate::kubernetes::labels::{NAMESPACE, PREFIX, add_object_meta, join_host_port, set};
use crate::kubernetes::objects::Service;
use crate::{ADDRESS_LABEL, LabelSet, TargetGroup};

/// Prometheus' `serviceLabels`: namespace, name, labels and annotations.
pub(crate) fn service_labels(svc: &Service) -> LabelSet {
    let mut ls = LabelSet::new();
    set(&mut ls, NAMESPACE, svc.metadata.namespace.as_str());
    add_object_meta(&mut ls, &svc.metadata, "service");
    ls
}

/// The load balancer's ingress IPs joined by commas, or `spec.loadBalancerIP`.
fn load_balancer_ips(svc: &Service) -> String {
    let ips: Vec<&str> = svc
        .status
        .load_balancer
        .ingress
        .iter()
        .map(|i| i.ip.as_str())
        .filter(|ip| !ip.is_empty())
        .collect();
    if ips.is_empty() {
        svc.spec.load_balancer_ip.clone()
    } else {
        ips.join(",")
    }
}

/// Prometheus' `buildService`.
pub(crate) fn build_service(ctx: &Ctx<'_>, svc: &Service) -> TargetGroup {
    let m = &svc.metadata;
    let mut tg = TargetGroup::empty(super::source(ctx.role, &m.key()));
    tg.labels = service_labels(svc);
    if ctx.with_namespace() {
        ctx.add_namespace_labels(&mut tg.labels, &m.namespace);
    }
    let p = PREFIX;
    for port in &svc.spec.ports {
        let mut t = LabelSet::new();
        let host = format!("{}.{}.svc", m.name, m.namespace);
        set(&mut t, ADDRESS_LABEL, join_host_port(&host, port.port));
        set(&mut t, format!("{p}service_port_name"), port.name.as_str());
        set(
            &mut t,
            format!("{p}service_port_number"),
            port.port.to_string(),
        );
        set(
            &mut t,
            format!("{p}service_port_protocol"),
            port.protocol.as_str(),
        );
        set(&mut t, format!("{p}service_type"), svc.spec.kind.as_str());
        if svc.spec.kind == "ExternalName" {
            let name = svc.spec.external_name.as_str();
            set(&mut t, format!("{p}service_external_name"), name);
        } else {
            set(
                &mut t,
                format!("{p}service_cluster_ip"),
                svc.spec.cluster_ip.as_str(),
            );
        }
        if svc.spec.kind == "LoadBalancer" {
            set(
                &mut t,
                format!("{p}service_loadbalancer_ip"),
                load_balancer_ips(svc),
            );
        }
        tg.targets.push(t);
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

    #[test]
    fn load_balancer_from_ingress() {
        // Prometheus' makeLoadBalancerServiceFromIngress.
        let svc: Service = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "testservice-lb-ingress", "namespace": "default"},
            "spec": {"ports": [{"name": "testport", "protocol": "TCP", "port": 31900}],
                     "type": "LoadBalancer", "clusterIP": "10.0.0.1"},
            "status": {"loadBalancer": {"ingress": [{"ip": "192.168.1.15"}, {"ip": "2001:db8::1"}]}}
        }))
        .unwrap();
        let cache = Cache::default();
        let attach = AttachMetadata::default();
        let ctx = Ctx {
            cache: &cache,
            role: KubernetesRole::Service,
            attach: &attach,
        };
        let tg = build_service(&ctx, &svc);
        assert_eq!(tg.source, "svc/default/testservice-lb-ingress");
        assert_eq!(
            tg.targets,
            vec![ls(&[
                ("__meta_kubernetes_service_port_protocol", "TCP"),
                ("__address__", "testservice-lb-ingress.default.svc:31900"),
                ("__meta_kubernetes_service_type", "LoadBalancer"),
                ("__meta_kubernetes_service_port_name", "testport"),
                ("__meta_kubernetes_service_port_number", "31900"),
                ("__meta_kubernetes_service_cluster_ip", "10.0.0.1"),
                (
                    "__meta_kubernetes_service_loadbalancer_ip",
                    "192.168.1.15,2001:db8::1"
                ),
            ])]
        );
        assert_eq!(
            tg.labels,
            ls(&[
                ("__meta_kubernetes_service_name", "testservice-lb-ingress"),
                ("__meta_kubernetes_namespace", "default"),
            ])
        );
    }
}
