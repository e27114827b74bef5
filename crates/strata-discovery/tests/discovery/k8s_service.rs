//! Role `service`: Prometheus' TestServiceDiscoveryAdd, …Update and …Delete, then a
//! watch answered with HTTP 410 Gone, which forces a new list.

use strata_discovery::TargetGroup;

use super::fake_api::{After, FakeApi, WatchReply, gate};
use crate::{fixture_text, group, k8s_config, ls, start_k8s, state};

const SERVICES: &str = "/api/v1/services";

fn single_port(name: &str, port: &str, kind: &str, extra: &[(&str, &str)]) -> TargetGroup {
    let mut t = ls(&[
        ("__meta_kubernetes_service_port_protocol", "TCP"),
        ("__address__", &format!("{name}.default.svc:{port}")),
        ("__meta_kubernetes_service_type", kind),
        ("__meta_kubernetes_service_port_name", "testport"),
        ("__meta_kubernetes_service_port_number", port),
    ]);
    t.extend(ls(extra));
    group(
        &format!("svc/default/{name}"),
        ls(&[
            ("__meta_kubernetes_service_name", name),
            ("__meta_kubernetes_namespace", "default"),
        ]),
        vec![t],
    )
}

/// TestServiceDiscoveryUpdate (`makeMultiPortService`).
fn multi_port() -> TargetGroup {
    group(
        "svc/default/testservice",
        ls(&[
            ("__meta_kubernetes_service_name", "testservice"),
            ("__meta_kubernetes_namespace", "default"),
            ("__meta_kubernetes_service_label_test_label", "testvalue"),
            ("__meta_kubernetes_service_labelpresent_test_label", "true"),
            (
                "__meta_kubernetes_service_annotation_test_annotation",
                "testannotationvalue",
            ),
            (
                "__meta_kubernetes_service_annotationpresent_test_annotation",
                "true",
            ),
        ]),
        vec![
            ls(&[
                ("__meta_kubernetes_service_port_protocol", "TCP"),
                ("__address__", "testservice.default.svc:30900"),
                ("__meta_kubernetes_service_type", "ClusterIP"),
                ("__meta_kubernetes_service_cluster_ip", "10.0.0.1"),
                ("__meta_kubernetes_service_port_name", "testport0"),
                ("__meta_kubernetes_service_port_number", "30900"),
            ]),
            ls(&[
                ("__meta_kubernetes_service_port_protocol", "UDP"),
                ("__address__", "testservice.default.svc:30901"),
                ("__meta_kubernetes_service_type", "ClusterIP"),
                ("__meta_kubernetes_service_cluster_ip", "10.0.0.1"),
                ("__meta_kubernetes_service_port_name", "testport1"),
                ("__meta_kubernetes_service_port_number", "30901"),
            ]),
        ],
    )
}

#[tokio::test]
async fn services_list_watch_gone_relist() {
    let api = FakeApi::start().await;
    let events = gate();
    let end_watch = gate();
    let gone = gate();
    api.list(SERVICES, "kubernetes/service/list.json")
        .watch_events(
            SERVICES,
            Some(&events),
            "kubernetes/service/watch.ndjson",
            After::CloseOn(end_watch.clone()),
        )
        .watch(
            SERVICES,
            WatchReply::Status {
                before: Some(gone.clone()),
                code: 410,
                body: fixture_text("kubernetes/common/gone.json"),
            },
        )
        .list(SERVICES, "kubernetes/service/relist.json");
    let mut c = start_k8s(&k8s_config(&api.url, "service", ""));

    // TestServiceDiscoveryAdd.
    let mut want = state(vec![
        single_port(
            "testservice",
            "30900",
            "ClusterIP",
            &[("__meta_kubernetes_service_cluster_ip", "10.0.0.1")],
        ),
        single_port(
            "testservice-external",
            "31900",
            "ExternalName",
            &[("__meta_kubernetes_service_external_name", "FooExternalName")],
        ),
        single_port(
            "testservice-loadbalancer",
            "31900",
            "LoadBalancer",
            &[
                ("__meta_kubernetes_service_cluster_ip", "10.0.0.1"),
                ("__meta_kubernetes_service_loadbalancer_ip", "127.0.0.1"),
            ],
        ),
        single_port(
            "testservice-lb-ingress",
            "31900",
            "LoadBalancer",
            &[
                ("__meta_kubernetes_service_cluster_ip", "10.0.0.1"),
                (
                    "__meta_kubernetes_service_loadbalancer_ip",
                    "192.168.1.15,2001:db8::1",
                ),
            ],
        ),
    ]);
    c.wait_for(&want).await;

    // TestServiceDiscoveryUpdate and …Delete.
    events.notify_one();
    want.insert("svc/default/testservice".into(), multi_port());
    want.insert(
        "svc/default/testservice-external".into(),
        TargetGroup::empty("svc/default/testservice-external"),
    );
    c.wait_for(&want).await;

    // 410 on the next watch: list again; the load balancer service is gone.
    end_watch.notify_one();
    gone.notify_one();
    want.insert(
        "svc/default/testservice-loadbalancer".into(),
        TargetGroup::empty("svc/default/testservice-loadbalancer"),
    );
    c.wait_for(&want).await;
    c.assert_quiet().await;
    let lists = api
        .requests(SERVICES)
        .iter()
        .filter(|r| !r.is_watch())
        .count();
    assert_eq!(lists, 2);
}
