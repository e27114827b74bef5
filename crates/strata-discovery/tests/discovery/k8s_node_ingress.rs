//! Roles `node` (Prometheus' TestNodeDiscoveryBeforeStart, …Add, …Update, …Delete,
//! …Conditions) and `ingress` (TestIngressDiscoveryAdd with TLS modes).

use strata_discovery::TargetGroup;

use super::fake_api::{After, FakeApi, gate};
use crate::{group, k8s_config, ls, start_k8s, state};

fn node_target(name: &str) -> Vec<strata_discovery::LabelSet> {
    vec![ls(&[
        ("__address__", "1.2.3.4:10250"),
        ("instance", name),
        ("__meta_kubernetes_node_address_InternalIP", "1.2.3.4"),
        ("__meta_kubernetes_node_address_Hostname", name),
    ])]
}

#[tokio::test]
async fn nodes() {
    let api = FakeApi::start().await;
    let events = gate();
    api.list("/api/v1/nodes", "kubernetes/node/list.json")
        .watch_events(
            "/api/v1/nodes",
            Some(&events),
            "kubernetes/node/watch.ndjson",
            After::Hang,
        );
    let mut c = start_k8s(&k8s_config(&api.url, "node", ""));

    let mut want = state(vec![
        // TestNodeDiscoveryBeforeStart.
        group(
            "node/test",
            ls(&[
                ("__meta_kubernetes_node_name", "test"),
                (
                    "__meta_kubernetes_node_provider_id",
                    "aws:///nl-north-7b/i-03149834983492827",
                ),
                ("__meta_kubernetes_node_label_test_label", "testvalue"),
                ("__meta_kubernetes_node_labelpresent_test_label", "true"),
                (
                    "__meta_kubernetes_node_annotation_test_annotation",
                    "testannotationvalue",
                ),
                (
                    "__meta_kubernetes_node_annotationpresent_test_annotation",
                    "true",
                ),
            ]),
            node_target("test"),
        ),
        // TestNodeDiscoveryConditions, "node multiple conditions".
        group(
            "node/cond",
            ls(&[
                ("__meta_kubernetes_node_name", "cond"),
                (
                    "__meta_kubernetes_node_provider_id",
                    "aws:///test-zone/i-test",
                ),
                ("__meta_kubernetes_node_condition_memorypressure", "false"),
                ("__meta_kubernetes_node_condition_ready", "true"),
                ("__meta_kubernetes_node_condition_diskpressure", "false"),
            ]),
            node_target("cond"),
        ),
    ]);
    c.wait_for(&want).await;

    // TestNodeDiscoveryAdd, …Update, …Delete; a node without address sends nothing.
    events.notify_one();
    want.insert(
        "node/test1".into(),
        group(
            "node/test1",
            ls(&[
                ("__meta_kubernetes_node_name", "test1"),
                (
                    "__meta_kubernetes_node_provider_id",
                    "aws:///de-west-3a/i-1",
                ),
            ]),
            node_target("test1"),
        ),
    );
    want.insert(
        "node/test".into(),
        group(
            "node/test",
            ls(&[
                ("__meta_kubernetes_node_label_Unschedulable", "true"),
                ("__meta_kubernetes_node_labelpresent_Unschedulable", "true"),
                ("__meta_kubernetes_node_name", "test"),
                (
                    "__meta_kubernetes_node_provider_id",
                    "aws:///fr-south-1c/i-49508290343823952",
                ),
            ]),
            node_target("test"),
        ),
    );
    want.insert("node/cond".into(), TargetGroup::empty("node/cond"));
    c.wait_for(&want).await;
    c.assert_quiet().await;
    assert!(!c.groups.contains_key("node/noaddr"));
}

/// Prometheus' `expectedTargetGroups` for `makeIngress` with the schemes of the two
/// hosts.
fn expected_ingress(name: &str, scheme1: &str, scheme2: &str) -> TargetGroup {
    let t = |scheme: &str, host: &str, path: &str| {
        ls(&[
            ("__meta_kubernetes_ingress_scheme", scheme),
            ("__meta_kubernetes_ingress_host", host),
            ("__meta_kubernetes_ingress_path", path),
            ("__address__", host),
        ])
    };
    group(
        &format!("ingress/default/{name}"),
        ls(&[
            ("__meta_kubernetes_ingress_name", name),
            ("__meta_kubernetes_namespace", "default"),
            ("__meta_kubernetes_ingress_label_test_label", "testvalue"),
            ("__meta_kubernetes_ingress_labelpresent_test_label", "true"),
            (
                "__meta_kubernetes_ingress_annotation_test_annotation",
                "testannotationvalue",
            ),
            (
                "__meta_kubernetes_ingress_annotationpresent_test_annotation",
                "true",
            ),
            ("__meta_kubernetes_ingress_class_name", "testclass"),
        ]),
        vec![
            t(scheme1, "example.com", "/"),
            t(scheme1, "example.com", "/foo"),
            t(scheme2, "test.example.com", "/"),
        ],
    )
}

#[tokio::test]
async fn ingresses() {
    let api = FakeApi::start().await;
    let path = "/apis/networking.k8s.io/v1/namespaces/default/ingresses";
    let events = gate();
    api.list(path, "kubernetes/ingress/list.json").watch_events(
        path,
        Some(&events),
        "kubernetes/ingress/watch.ndjson",
        After::Hang,
    );
    let cfg = k8s_config(
        &api.url,
        "ingress",
        "    namespaces:\n      names: [default]\n",
    );
    let mut c = start_k8s(&cfg);
    // TLSWildcard and TLSMixed.
    let mut want = state(vec![
        expected_ingress("testingress", "http", "https"),
        expected_ingress("mixedingress", "https", "http"),
    ]);
    c.wait_for(&want).await;
    // TLSYes.
    events.notify_one();
    want.insert(
        "ingress/default/testingress".into(),
        expected_ingress("testingress", "https", "https"),
    );
    c.wait_for(&want).await;
}
