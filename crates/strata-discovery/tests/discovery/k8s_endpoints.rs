//! Role `endpoints`: Prometheus' TestEndpointsDiscoveryWithService, …WithServiceUpdate,
//! …SidecarContainer, …UpdatePod, …Delete and …EmptySubsets, with endpoints, services
//! and pods each listed and watched.

use strata_discovery::{LabelSet, TargetGroup};

use super::fake_api::{After, FakeApi, gate};
use crate::{group, k8s_config, ls, start_k8s, state};

const ENDPOINTS: &str = "/api/v1/endpoints";
const SERVICES: &str = "/api/v1/services";
const PODS: &str = "/api/v1/pods";

/// The targets of Prometheus' `makeEndpoints`.
fn make_endpoints_targets() -> Vec<LabelSet> {
    vec![
        ls(&[
            ("__address__", "1.2.3.4:9000"),
            ("__meta_kubernetes_endpoint_hostname", "testendpoint1"),
            ("__meta_kubernetes_endpoint_node_name", "foobar"),
            ("__meta_kubernetes_endpoint_port_name", "testport"),
            ("__meta_kubernetes_endpoint_port_protocol", "TCP"),
            ("__meta_kubernetes_endpoint_ready", "true"),
        ]),
        ls(&[
            ("__address__", "2.3.4.5:9001"),
            ("__meta_kubernetes_endpoint_port_name", "testport"),
            ("__meta_kubernetes_endpoint_port_protocol", "TCP"),
            ("__meta_kubernetes_endpoint_ready", "true"),
        ]),
        ls(&[
            ("__address__", "2.3.4.5:9001"),
            ("__meta_kubernetes_endpoint_port_name", "testport"),
            ("__meta_kubernetes_endpoint_port_protocol", "TCP"),
            ("__meta_kubernetes_endpoint_ready", "false"),
        ]),
        ls(&[
            ("__address__", "6.7.8.9:9002"),
            ("__meta_kubernetes_endpoint_address_target_kind", "Node"),
            ("__meta_kubernetes_endpoint_address_target_name", "barbaz"),
            ("__meta_kubernetes_endpoint_port_name", "testport"),
            ("__meta_kubernetes_endpoint_port_protocol", "TCP"),
            ("__meta_kubernetes_endpoint_ready", "true"),
        ]),
    ]
}

/// TestEndpointsDiscoveryWithService.
fn with_service() -> TargetGroup {
    group(
        "endpoints/default/testendpoints",
        ls(&[
            ("__meta_kubernetes_namespace", "default"),
            ("__meta_kubernetes_endpoints_name", "testendpoints"),
            ("__meta_kubernetes_service_label_app_name", "test"),
            ("__meta_kubernetes_service_labelpresent_app_name", "true"),
            ("__meta_kubernetes_service_name", "testendpoints"),
            (
                "__meta_kubernetes_endpoints_annotation_test_annotation",
                "test",
            ),
            (
                "__meta_kubernetes_endpoints_annotationpresent_test_annotation",
                "true",
            ),
        ]),
        make_endpoints_targets(),
    )
}

/// The labels Prometheus attaches for the sidecar test's pod.
fn sidecar_pod_labels(extra: &[(&str, &str)]) -> LabelSet {
    let mut l = ls(&[
        ("__meta_kubernetes_pod_host_ip", "2.3.4.5"),
        ("__meta_kubernetes_pod_ip", "4.3.2.1"),
        ("__meta_kubernetes_pod_name", "testpod"),
        ("__meta_kubernetes_pod_node_name", "testnode"),
        ("__meta_kubernetes_pod_phase", ""),
        ("__meta_kubernetes_pod_ready", "unknown"),
        ("__meta_kubernetes_pod_uid", "deadbeef"),
    ]);
    l.extend(ls(extra));
    l
}

/// TestEndpointsDiscoverySidecarContainer.
fn sidecar(pod_extra: &[(&str, &str)]) -> TargetGroup {
    let target = |pairs: &[(&str, &str)]| {
        let mut t = ls(pairs);
        t.extend(sidecar_pod_labels(pod_extra));
        t
    };
    group(
        "endpoints/default/testsidecar",
        ls(&[
            ("__meta_kubernetes_endpoints_name", "testsidecar"),
            ("__meta_kubernetes_namespace", "default"),
        ]),
        vec![
            target(&[
                ("__address__", "4.3.2.1:9000"),
                ("__meta_kubernetes_endpoint_address_target_kind", "Pod"),
                ("__meta_kubernetes_endpoint_address_target_name", "testpod"),
                ("__meta_kubernetes_endpoint_port_name", "testport"),
                ("__meta_kubernetes_endpoint_port_protocol", "TCP"),
                ("__meta_kubernetes_endpoint_ready", "true"),
                ("__meta_kubernetes_pod_container_image", "c1:latest"),
                ("__meta_kubernetes_pod_container_name", "c1"),
                ("__meta_kubernetes_pod_container_port_name", "mainport"),
                ("__meta_kubernetes_pod_container_port_number", "9000"),
                ("__meta_kubernetes_pod_container_port_protocol", "TCP"),
                ("__meta_kubernetes_pod_container_init", "false"),
            ]),
            target(&[
                ("__address__", "4.3.2.1:9111"),
                ("__meta_kubernetes_endpoint_address_target_kind", "Pod"),
                ("__meta_kubernetes_endpoint_address_target_name", "testpod"),
                ("__meta_kubernetes_endpoint_port_name", "initport"),
                ("__meta_kubernetes_endpoint_port_protocol", "TCP"),
                ("__meta_kubernetes_endpoint_ready", "true"),
                ("__meta_kubernetes_pod_container_image", "ic2:latest"),
                ("__meta_kubernetes_pod_container_name", "ic2"),
                ("__meta_kubernetes_pod_container_port_name", "initport"),
                ("__meta_kubernetes_pod_container_port_number", "9111"),
                ("__meta_kubernetes_pod_container_port_protocol", "TCP"),
                ("__meta_kubernetes_pod_container_init", "true"),
            ]),
            target(&[
                ("__address__", "4.3.2.1:1111"),
                ("__meta_kubernetes_pod_container_image", "ic1:latest"),
                ("__meta_kubernetes_pod_container_name", "ic1"),
                ("__meta_kubernetes_pod_container_port_name", "initport"),
                ("__meta_kubernetes_pod_container_port_number", "1111"),
                ("__meta_kubernetes_pod_container_port_protocol", "TCP"),
                ("__meta_kubernetes_pod_container_init", "true"),
            ]),
        ],
    )
}

/// TestEndpointsDiscoveryUpdatePod, before (`Pending`) and after (`Running`).
fn pod_endpoints(phase: &str, ready: &str) -> TargetGroup {
    group(
        "endpoints/default/podendpoints",
        ls(&[
            ("__meta_kubernetes_namespace", "default"),
            ("__meta_kubernetes_endpoints_name", "podendpoints"),
        ]),
        vec![ls(&[
            ("__address__", "4.3.2.1:9000"),
            ("__meta_kubernetes_endpoint_port_name", "mainport"),
            ("__meta_kubernetes_endpoint_port_protocol", "TCP"),
            ("__meta_kubernetes_endpoint_ready", "true"),
            ("__meta_kubernetes_endpoint_address_target_kind", "Pod"),
            ("__meta_kubernetes_endpoint_address_target_name", "updpod"),
            ("__meta_kubernetes_pod_name", "updpod"),
            ("__meta_kubernetes_pod_ip", "4.3.2.1"),
            ("__meta_kubernetes_pod_ready", ready),
            ("__meta_kubernetes_pod_phase", phase),
            ("__meta_kubernetes_pod_node_name", "testnode"),
            ("__meta_kubernetes_pod_host_ip", "2.3.4.5"),
            ("__meta_kubernetes_pod_container_name", "c1"),
            ("__meta_kubernetes_pod_container_image", "c1:latest"),
            ("__meta_kubernetes_pod_container_port_name", "mainport"),
            ("__meta_kubernetes_pod_container_port_number", "9000"),
            ("__meta_kubernetes_pod_container_port_protocol", "TCP"),
            ("__meta_kubernetes_pod_uid", "deadbeef"),
            ("__meta_kubernetes_pod_container_init", "false"),
        ])],
    )
}

#[tokio::test]
async fn endpoints_follow_services_and_pods() {
    let api = FakeApi::start().await;
    let (svc_events, pod_events, ep_events) = (gate(), gate(), gate());
    api.list(ENDPOINTS, "kubernetes/endpoints/list.json")
        .list(SERVICES, "kubernetes/endpoints/services-list.json")
        .list(PODS, "kubernetes/endpoints/pods-list.json")
        .watch_events(
            SERVICES,
            Some(&svc_events),
            "kubernetes/endpoints/services-watch.ndjson",
            After::Hang,
        )
        .watch_events(
            PODS,
            Some(&pod_events),
            "kubernetes/endpoints/pods-watch.ndjson",
            After::Hang,
        )
        .watch_events(
            ENDPOINTS,
            Some(&ep_events),
            "kubernetes/endpoints/watch.ndjson",
            After::Hang,
        );
    let mut c = start_k8s(&k8s_config(&api.url, "endpoints", ""));

    // Nothing is sent before all three lists are in: the first update already has the
    // service's and the pods' labels.
    let mut want = state(vec![
        with_service(),
        sidecar(&[]),
        pod_endpoints("Pending", "false"),
    ]);
    c.wait_for(&want).await;
    assert_eq!(c.messages.len(), 1);

    // TestEndpointsDiscoveryWithServiceUpdate.
    svc_events.notify_one();
    let mut updated = with_service();
    updated
        .labels
        .remove("__meta_kubernetes_service_label_app_name");
    updated.labels.extend(ls(&[
        ("__meta_kubernetes_service_label_app_name", "svc"),
        ("__meta_kubernetes_service_label_component", "testing"),
        ("__meta_kubernetes_service_labelpresent_component", "true"),
    ]));
    want.insert(updated.source.clone(), updated);
    c.wait_for(&want).await;

    // TestEndpointsDiscoveryUpdatePod: a phase change rebuilds the endpoints; a label
    // change of the sidecar pod alone does not (Prometheus follows phases only).
    pod_events.notify_one();
    want.insert(
        "endpoints/default/podendpoints".into(),
        pod_endpoints("Running", "true"),
    );
    c.wait_for(&want).await;
    c.assert_quiet().await;
    assert_eq!(c.groups["endpoints/default/testsidecar"], sidecar(&[]));

    // The endpoints change: the sidecar's group now carries the pod's new label;
    // TestEndpointsDiscoveryDelete; TestEndpointsDiscoveryEmptySubsets (with the
    // updated service's labels).
    ep_events.notify_one();
    let pod_label = [
        ("__meta_kubernetes_pod_label_version", "v2"),
        ("__meta_kubernetes_pod_labelpresent_version", "true"),
    ];
    want.insert("endpoints/default/testsidecar".into(), sidecar(&pod_label));
    want.insert(
        "endpoints/default/podendpoints".into(),
        TargetGroup::empty("endpoints/default/podendpoints"),
    );
    want.insert(
        "endpoints/default/testendpoints".into(),
        group(
            "endpoints/default/testendpoints",
            ls(&[
                ("__meta_kubernetes_namespace", "default"),
                ("__meta_kubernetes_endpoints_name", "testendpoints"),
                ("__meta_kubernetes_service_name", "testendpoints"),
                ("__meta_kubernetes_service_label_app_name", "svc"),
                ("__meta_kubernetes_service_labelpresent_app_name", "true"),
                ("__meta_kubernetes_service_label_component", "testing"),
                ("__meta_kubernetes_service_labelpresent_component", "true"),
            ]),
            vec![],
        ),
    );
    c.wait_for(&want).await;
}
