//! Role `endpointslice` in namespace `default` with node metadata: Prometheus'
//! TestEndpointsSlicesDiscoveryWithNodeMetadata, …WithUpdatedNodeMetadata,
//! TestEndpointSliceDiscoveryAdd, …DualStackPreferredSkipsSecondarySlice, a deleted
//! service, and a 410 Gone watch forcing a new list.

use strata_discovery::{LabelSet, TargetGroup};

use super::fake_api::{After, FakeApi, WatchReply, gate};
use crate::{fixture_text, group, k8s_config, ls, start_k8s, state};

const SLICES: &str = "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices";
const SERVICES: &str = "/api/v1/namespaces/default/services";
const PODS: &str = "/api/v1/namespaces/default/pods";
const NODES: &str = "/api/v1/nodes";

fn node(name: &str, az: &str) -> LabelSet {
    ls(&[
        ("__meta_kubernetes_node_label_az", az),
        ("__meta_kubernetes_node_labelpresent_az", "true"),
        ("__meta_kubernetes_node_name", name),
    ])
}

/// TestEndpointsSlicesDiscoveryWithNodeMetadata, with the given node zones and with or
/// without the service.
fn with_node_metadata(foobar_az: &str, barbaz_az: &str, service: bool) -> TargetGroup {
    let ep = |pairs: &[(&str, &str)]| {
        let mut t = ls(pairs);
        t.extend(ls(&[
            ("__meta_kubernetes_endpointslice_port", "9000"),
            ("__meta_kubernetes_endpointslice_port_app_protocol", "http"),
            ("__meta_kubernetes_endpointslice_port_name", "testport"),
            ("__meta_kubernetes_endpointslice_port_protocol", "TCP"),
        ]));
        t
    };
    let mut t1 = ep(&[
        ("__address__", "1.2.3.4:9000"),
        ("__meta_kubernetes_endpointslice_address_target_kind", ""),
        ("__meta_kubernetes_endpointslice_address_target_name", ""),
        (
            "__meta_kubernetes_endpointslice_endpoint_conditions_ready",
            "true",
        ),
        (
            "__meta_kubernetes_endpointslice_endpoint_conditions_serving",
            "true",
        ),
        (
            "__meta_kubernetes_endpointslice_endpoint_conditions_terminating",
            "false",
        ),
        (
            "__meta_kubernetes_endpointslice_endpoint_hostname",
            "testendpoint1",
        ),
        (
            "__meta_kubernetes_endpointslice_endpoint_node_name",
            "foobar",
        ),
        (
            "__meta_kubernetes_endpointslice_endpoint_topology_present_topology",
            "true",
        ),
        (
            "__meta_kubernetes_endpointslice_endpoint_topology_topology",
            "value",
        ),
        (
            "__meta_kubernetes_endpointslice_endpoint_zone",
            "us-east-1a",
        ),
    ]);
    t1.extend(node("foobar", foobar_az));
    let t2 = ep(&[
        ("__address__", "2.3.4.5:9000"),
        (
            "__meta_kubernetes_endpointslice_endpoint_conditions_ready",
            "true",
        ),
        (
            "__meta_kubernetes_endpointslice_endpoint_conditions_serving",
            "true",
        ),
        (
            "__meta_kubernetes_endpointslice_endpoint_conditions_terminating",
            "false",
        ),
        (
            "__meta_kubernetes_endpointslice_endpoint_zone",
            "us-east-1b",
        ),
    ]);
    let t3 = ep(&[
        ("__address__", "3.4.5.6:9000"),
        (
            "__meta_kubernetes_endpointslice_endpoint_conditions_ready",
            "false",
        ),
        (
            "__meta_kubernetes_endpointslice_endpoint_conditions_serving",
            "true",
        ),
        (
            "__meta_kubernetes_endpointslice_endpoint_conditions_terminating",
            "true",
        ),
        (
            "__meta_kubernetes_endpointslice_endpoint_zone",
            "us-east-1c",
        ),
    ]);
    let mut t4 = ep(&[
        ("__address__", "4.5.6.7:9000"),
        (
            "__meta_kubernetes_endpointslice_address_target_kind",
            "Node",
        ),
        (
            "__meta_kubernetes_endpointslice_address_target_name",
            "barbaz",
        ),
        (
            "__meta_kubernetes_endpointslice_endpoint_conditions_ready",
            "true",
        ),
        (
            "__meta_kubernetes_endpointslice_endpoint_conditions_serving",
            "true",
        ),
        (
            "__meta_kubernetes_endpointslice_endpoint_conditions_terminating",
            "false",
        ),
        (
            "__meta_kubernetes_endpointslice_endpoint_zone",
            "us-east-1a",
        ),
    ]);
    t4.extend(node("barbaz", barbaz_az));
    let mut labels = ls(&[
        ("__meta_kubernetes_endpointslice_address_type", "IPv4"),
        ("__meta_kubernetes_endpointslice_name", "testendpoints"),
        (
            "__meta_kubernetes_endpointslice_label_kubernetes_io_service_name",
            "testendpoints",
        ),
        (
            "__meta_kubernetes_endpointslice_labelpresent_kubernetes_io_service_name",
            "true",
        ),
        (
            "__meta_kubernetes_endpointslice_annotation_test_annotation",
            "test",
        ),
        (
            "__meta_kubernetes_endpointslice_annotationpresent_test_annotation",
            "true",
        ),
        ("__meta_kubernetes_namespace", "default"),
    ]);
    if service {
        labels.extend(ls(&[
            ("__meta_kubernetes_service_label_app_name", "test"),
            ("__meta_kubernetes_service_labelpresent_app_name", "true"),
            ("__meta_kubernetes_service_name", "testendpoints"),
        ]));
    }
    group(
        "endpointslice/default/testendpoints",
        labels,
        vec![t1, t2, t3, t4],
    )
}

/// TestEndpointSliceDiscoveryAdd (slice named `podslice`).
fn pod_slice() -> TargetGroup {
    let pod = ls(&[
        ("__meta_kubernetes_pod_host_ip", "2.3.4.5"),
        ("__meta_kubernetes_pod_ip", "1.2.3.4"),
        ("__meta_kubernetes_pod_name", "testpod"),
        ("__meta_kubernetes_pod_node_name", "testnode"),
        ("__meta_kubernetes_pod_phase", ""),
        ("__meta_kubernetes_pod_ready", "unknown"),
        ("__meta_kubernetes_pod_uid", "deadbeef"),
        ("__meta_kubernetes_pod_container_init", "false"),
    ]);
    let mut t1 = ls(&[
        ("__address__", "4.3.2.1:9000"),
        ("__meta_kubernetes_endpointslice_address_target_kind", "Pod"),
        (
            "__meta_kubernetes_endpointslice_address_target_name",
            "testpod",
        ),
        (
            "__meta_kubernetes_endpointslice_endpoint_conditions_ready",
            "false",
        ),
        ("__meta_kubernetes_endpointslice_port", "9000"),
        ("__meta_kubernetes_endpointslice_port_name", "testport"),
        ("__meta_kubernetes_endpointslice_port_protocol", "TCP"),
        ("__meta_kubernetes_pod_container_name", "c1"),
        ("__meta_kubernetes_pod_container_image", "c1:latest"),
        ("__meta_kubernetes_pod_container_port_name", "mainport"),
        ("__meta_kubernetes_pod_container_port_number", "9000"),
        ("__meta_kubernetes_pod_container_port_protocol", "TCP"),
    ]);
    t1.extend(pod.clone());
    let mut t2 = ls(&[
        ("__address__", "1.2.3.4:9001"),
        ("__meta_kubernetes_pod_container_name", "c2"),
        ("__meta_kubernetes_pod_container_image", "c2:latest"),
        ("__meta_kubernetes_pod_container_port_name", "sideport"),
        ("__meta_kubernetes_pod_container_port_number", "9001"),
        ("__meta_kubernetes_pod_container_port_protocol", "TCP"),
    ]);
    t2.extend(pod);
    group(
        "endpointslice/default/podslice",
        ls(&[
            ("__meta_kubernetes_endpointslice_address_type", "IPv4"),
            ("__meta_kubernetes_endpointslice_name", "podslice"),
            ("__meta_kubernetes_namespace", "default"),
        ]),
        vec![t1, t2],
    )
}

/// TestEndpointSliceDiscoveryDualStackPreferredSkipsSecondarySlice.
fn dual_stack(name: &str, kind: &str, target: Option<&str>) -> TargetGroup {
    group(
        &format!("endpointslice/default/{name}"),
        ls(&[
            ("__meta_kubernetes_namespace", "default"),
            ("__meta_kubernetes_endpointslice_address_type", kind),
            ("__meta_kubernetes_endpointslice_name", name),
            (
                "__meta_kubernetes_endpointslice_label_kubernetes_io_service_name",
                "testsvc",
            ),
            (
                "__meta_kubernetes_endpointslice_labelpresent_kubernetes_io_service_name",
                "true",
            ),
            ("__meta_kubernetes_service_name", "testsvc"),
        ]),
        target
            .map(|a| {
                vec![ls(&[
                    ("__address__", a),
                    (
                        "__meta_kubernetes_endpointslice_endpoint_conditions_ready",
                        "true",
                    ),
                    ("__meta_kubernetes_endpointslice_port", "9000"),
                    ("__meta_kubernetes_endpointslice_port_name", "http"),
                    ("__meta_kubernetes_endpointslice_port_protocol", "TCP"),
                ])]
            })
            .unwrap_or_default(),
    )
}

#[tokio::test]
async fn endpoint_slices_with_node_metadata() {
    let api = FakeApi::start().await;
    let (foobar, barbaz, svc_events, gone) = (gate(), gate(), gate(), gate());
    api.list(SLICES, "kubernetes/endpointslice/list.json")
        .list(SERVICES, "kubernetes/endpointslice/services-list.json")
        .list(PODS, "kubernetes/endpointslice/pods-list.json")
        .list(NODES, "kubernetes/endpointslice/nodes-list.json")
        .watch_events(
            NODES,
            Some(&foobar),
            "kubernetes/endpointslice/nodes-watch-1.ndjson",
            After::Close,
        )
        .watch_events(
            NODES,
            Some(&barbaz),
            "kubernetes/endpointslice/nodes-watch-2.ndjson",
            After::Hang,
        )
        .watch_events(
            SERVICES,
            Some(&svc_events),
            "kubernetes/endpointslice/services-watch.ndjson",
            After::Hang,
        )
        .watch(
            SLICES,
            WatchReply::Status {
                before: Some(gone.clone()),
                code: 410,
                body: fixture_text("kubernetes/common/gone.json"),
            },
        )
        .list(SLICES, "kubernetes/endpointslice/relist.json");
    let cfg = k8s_config(
        &api.url,
        "endpointslice",
        "    namespaces:\n      names: [default]\n    attach_metadata:\n      node: true\n",
    );
    let mut c = start_k8s(&cfg);

    let mut want = state(vec![
        with_node_metadata("us-east1", "us-west2", true),
        pod_slice(),
        dual_stack("testsvc-ipv4", "IPv4", Some("1.2.3.4:9000")),
        dual_stack("testsvc-ipv6", "IPv6", None),
    ]);
    c.wait_for(&want).await;

    // TestEndpointsSlicesDiscoveryWithUpdatedNodeMetadata: the endpoint naming foobar
    // by nodeName only (its targetRef is empty) is not indexed, so nothing is rebuilt.
    foobar.notify_one();
    c.assert_quiet().await;
    // barbaz is a target reference: the slice is rebuilt (and picks up foobar's new
    // labels too).
    barbaz.notify_one();
    let slice = with_node_metadata("us-central1", "eu-west3", true);
    want.insert(slice.source.clone(), slice);
    c.wait_for(&want).await;

    // The service goes away: its labels go with it.
    svc_events.notify_one();
    let slice = with_node_metadata("us-central1", "eu-west3", false);
    want.insert(slice.source.clone(), slice);
    c.wait_for(&want).await;

    // 410 Gone on the slice watch: list again; the pod slice is gone.
    gone.notify_one();
    want.insert(
        "endpointslice/default/podslice".into(),
        TargetGroup::empty("endpointslice/default/podslice"),
    );
    c.wait_for(&want).await;
    assert!(
        api.requests("/apis/discovery.k8s.io/v1/endpointslices")
            .is_empty()
    );
}
