//! Role `pod`: Prometheus' TestPodDiscoveryBeforeRun, …InitContainer, …Add, …Update,
//! …Delete, …UpdateEmptyPodIP, …Namespaces and …WithNodeMetadataUpdateNode, played
//! through list, watch, an expired watch and a second list.

use strata_discovery::TargetGroup;
use strata_discovery::kubernetes::KubernetesDiscovery;

use super::fake_api::{After, FakeApi, gate};
use crate::{group, k8s_config, ls, start_k8s, state};

const PODS: &str = "/api/v1/pods";

/// Prometheus' `expectedPodTargetGroups` for `makePods` (named `name`).
pub fn expected_pod(ns: &str, name: &str, ip: &str, uid: &str) -> TargetGroup {
    group(
        &format!("pod/{ns}/{name}"),
        ls(&[
            ("__meta_kubernetes_pod_name", name),
            ("__meta_kubernetes_namespace", ns),
            ("__meta_kubernetes_pod_node_name", "testnode"),
            ("__meta_kubernetes_pod_ip", ip),
            ("__meta_kubernetes_pod_host_ip", "2.3.4.5"),
            ("__meta_kubernetes_pod_ready", "true"),
            ("__meta_kubernetes_pod_phase", "Running"),
            ("__meta_kubernetes_pod_uid", uid),
        ]),
        vec![ls(&[
            ("__address__", &format!("{ip}:9000")),
            ("__meta_kubernetes_pod_container_name", "testcontainer"),
            (
                "__meta_kubernetes_pod_container_image",
                "testcontainer:latest",
            ),
            ("__meta_kubernetes_pod_container_port_name", "testport"),
            ("__meta_kubernetes_pod_container_port_number", "9000"),
            ("__meta_kubernetes_pod_container_port_protocol", "TCP"),
            ("__meta_kubernetes_pod_container_init", "false"),
            (
                "__meta_kubernetes_pod_container_id",
                "docker://a1b2c3d4e5f6",
            ),
        ])],
    )
}

/// TestPodDiscoveryBeforeRun (`makeMultiPortPods`).
fn multi_port_pod() -> TargetGroup {
    group(
        "pod/default/testpod",
        ls(&[
            ("__meta_kubernetes_pod_name", "testpod"),
            ("__meta_kubernetes_namespace", "default"),
            ("__meta_kubernetes_pod_label_test_label", "testvalue"),
            ("__meta_kubernetes_pod_labelpresent_test_label", "true"),
            (
                "__meta_kubernetes_pod_annotation_test_annotation",
                "testannotationvalue",
            ),
            (
                "__meta_kubernetes_pod_annotationpresent_test_annotation",
                "true",
            ),
            ("__meta_kubernetes_pod_node_name", "testnode"),
            ("__meta_kubernetes_pod_ip", "1.2.3.4"),
            ("__meta_kubernetes_pod_host_ip", "2.3.4.5"),
            ("__meta_kubernetes_pod_ready", "true"),
            ("__meta_kubernetes_pod_phase", "Running"),
            ("__meta_kubernetes_pod_uid", "abc123"),
            (
                "__meta_kubernetes_pod_controller_kind",
                "testcontrollerkind",
            ),
            (
                "__meta_kubernetes_pod_controller_name",
                "testcontrollername",
            ),
        ]),
        vec![
            ls(&[
                ("__address__", "1.2.3.4:9000"),
                ("__meta_kubernetes_pod_container_name", "testcontainer0"),
                (
                    "__meta_kubernetes_pod_container_image",
                    "testcontainer0:latest",
                ),
                ("__meta_kubernetes_pod_container_port_name", "testport0"),
                ("__meta_kubernetes_pod_container_port_number", "9000"),
                ("__meta_kubernetes_pod_container_port_protocol", "TCP"),
                ("__meta_kubernetes_pod_container_init", "false"),
                (
                    "__meta_kubernetes_pod_container_id",
                    "docker://a1b2c3d4e5f6",
                ),
            ]),
            ls(&[
                ("__address__", "1.2.3.4:9001"),
                ("__meta_kubernetes_pod_container_name", "testcontainer0"),
                (
                    "__meta_kubernetes_pod_container_image",
                    "testcontainer0:latest",
                ),
                ("__meta_kubernetes_pod_container_port_name", "testport1"),
                ("__meta_kubernetes_pod_container_port_number", "9001"),
                ("__meta_kubernetes_pod_container_port_protocol", "UDP"),
                ("__meta_kubernetes_pod_container_init", "false"),
                (
                    "__meta_kubernetes_pod_container_id",
                    "docker://a1b2c3d4e5f6",
                ),
            ]),
            ls(&[
                ("__address__", "1.2.3.4"),
                ("__meta_kubernetes_pod_container_name", "testcontainer1"),
                (
                    "__meta_kubernetes_pod_container_image",
                    "testcontainer1:latest",
                ),
                ("__meta_kubernetes_pod_container_init", "false"),
                (
                    "__meta_kubernetes_pod_container_id",
                    "containerd://6f5e4d3c2b1a",
                ),
            ]),
        ],
    )
}

/// TestPodDiscoveryInitContainer (`makeInitContainerPods`, named `initpod`).
fn init_container_pod() -> TargetGroup {
    let mut g = expected_pod("default", "initpod", "1.2.3.4", "abc123");
    g.targets.push(ls(&[
        ("__address__", "1.2.3.4"),
        ("__meta_kubernetes_pod_container_name", "initcontainer"),
        (
            "__meta_kubernetes_pod_container_image",
            "initcontainer:latest",
        ),
        ("__meta_kubernetes_pod_container_init", "true"),
        (
            "__meta_kubernetes_pod_container_id",
            "containerd://6f5e4d3c2b1a",
        ),
    ]));
    g.labels
        .insert("__meta_kubernetes_pod_phase".into(), "Pending".into());
    g.labels
        .insert("__meta_kubernetes_pod_ready".into(), "false".into());
    g
}

#[tokio::test]
async fn pods_list_watch_expire_relist() {
    let api = FakeApi::start().await;
    let events = gate();
    let end_watch = gate();
    api.list(PODS, "kubernetes/pod/list.json")
        .watch_events(
            PODS,
            Some(&events),
            "kubernetes/pod/watch.ndjson",
            After::CloseOn(end_watch.clone()),
        )
        .watch_events(PODS, None, "kubernetes/common/expired.ndjson", After::Close)
        .list(PODS, "kubernetes/pod/relist.json");
    let cfg = k8s_config(
        &api.url,
        "pod",
        "    selectors:\n    - role: pod\n      label: app in (web,db)\n      field: status.phase!=Failed\n",
    );
    let mut c = start_k8s(&cfg);

    // The first list: one message with every pod (the one without IP has no targets).
    let mut want = state(vec![
        multi_port_pod(),
        init_container_pod(),
        TargetGroup::empty("pod/default/pendingpod"),
    ]);
    c.wait_for(&want).await;
    assert_eq!(c.messages.len(), 1, "the first list arrives as one update");

    // ADDED, MODIFIED, DELETED and a BOOKMARK.
    events.notify_one();
    want.insert(
        "pod/default/addedpod".into(),
        expected_pod("default", "addedpod", "1.2.3.4", "abc123"),
    );
    want.insert(
        "pod/default/testpod".into(),
        expected_pod("default", "testpod", "1.2.3.4", "abc123"),
    );
    want.insert(
        "pod/default/initpod".into(),
        TargetGroup::empty("pod/default/initpod"),
    );
    c.wait_for(&want).await;

    // The watch ends; the next one (from the bookmark's version) expires: list again.
    end_watch.notify_one();
    want.insert(
        "pod/default/testpod".into(),
        TargetGroup::empty("pod/default/testpod"),
    );
    want.insert(
        "pod/default/relistpod".into(),
        expected_pod("default", "relistpod", "10.0.0.7", "r3l"),
    );
    c.wait_for(&want).await;
    // Unchanged pods are not sent again after the new list.
    let last: Vec<&str> = c
        .messages
        .last()
        .unwrap()
        .iter()
        .map(|g| g.source.as_str())
        .collect();
    assert!(!last.contains(&"pod/default/addedpod"), "{last:?}");

    // Wait for the watch after the second list, then check the request sequence.
    for _ in 0..100 {
        if api.requests(PODS).len() >= 5 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let reqs = api.requests(PODS);
    let shape: Vec<(bool, Option<&str>)> = reqs
        .iter()
        .map(|r| (r.is_watch(), r.param("resourceVersion")))
        .collect();
    assert_eq!(
        shape,
        vec![
            (false, None),
            (true, Some("1000")),
            (true, Some("1010")),
            (false, None),
            (true, Some("2000")),
        ]
    );
    for r in &reqs {
        assert_eq!(r.param("labelSelector"), Some("app in (web,db)"));
        assert_eq!(r.param("fieldSelector"), Some("status.phase!=Failed"));
        if r.is_watch() {
            assert_eq!(r.param("allowWatchBookmarks"), Some("true"));
            assert!(r.param("timeoutSeconds").is_some());
        } else {
            assert_eq!(r.param("limit"), Some("500"));
        }
    }
}

#[tokio::test]
async fn pods_in_namespaces_with_node_metadata() {
    let api = FakeApi::start().await;
    let node_events = gate();
    let ns1 = "/api/v1/namespaces/ns1/pods";
    let ns2 = "/api/v1/namespaces/ns2/pods";
    let nodes = "/api/v1/nodes";
    api.list(ns1, "kubernetes/pod/ns1-list.json")
        .list(ns2, "kubernetes/pod/ns2-list.json")
        .list(nodes, "kubernetes/pod/nodes-list.json")
        .watch_events(
            nodes,
            Some(&node_events),
            "kubernetes/pod/nodes-watch.ndjson",
            After::Hang,
        );
    let cfg = k8s_config(
        &api.url,
        "pod",
        "    namespaces:\n      names: [ns1, ns2]\n    attach_metadata:\n      node: true\n    selectors:\n    - role: node\n      label: pool=a\n",
    );
    let mut c = start_k8s(&cfg);

    // TestPodDiscoveryWithNodeMetadata: labels of the pod's node; a pod on an unknown
    // node has no targets.
    let with_node = |labels: &[(&str, &str)]| {
        let mut g = expected_pod("ns1", "testpod", "1.2.3.4", "abc123");
        g.labels
            .insert("__meta_kubernetes_node_name".into(), "testnode".into());
        for (k, v) in labels {
            g.labels
                .insert(format!("__meta_kubernetes_node_label_{k}"), (*v).into());
            g.labels.insert(
                format!("__meta_kubernetes_node_labelpresent_{k}"),
                "true".into(),
            );
        }
        g
    };
    let mut want = state(vec![
        with_node(&[("l1", "v1")]),
        TargetGroup::empty("pod/ns2/testpod"),
    ]);
    c.wait_for(&want).await;

    // TestPodDiscoveryWithNodeMetadataUpdateNode; the added node brings the other pod.
    node_events.notify_one();
    let mut other = expected_pod("ns2", "testpod", "1.2.3.4", "abc123");
    other
        .labels
        .insert("__meta_kubernetes_pod_node_name".into(), "othernode".into());
    other
        .labels
        .insert("__meta_kubernetes_node_name".into(), "othernode".into());
    other
        .labels
        .insert("__meta_kubernetes_node_label_l3".into(), "v3".into());
    other.labels.insert(
        "__meta_kubernetes_node_labelpresent_l3".into(),
        "true".into(),
    );
    want = state(vec![with_node(&[("l2", "v2")]), other]);
    c.wait_for(&want).await;

    assert_eq!(
        api.requests(nodes)[0].param("labelSelector"),
        Some("pool=a")
    );
    assert_eq!(api.requests(ns1)[0].param("labelSelector"), None);
    assert!(api.requests(PODS).is_empty(), "namespaced lists only");
}

#[tokio::test]
async fn server_errors_are_retried() {
    let api = FakeApi::start().await;
    api.list_raw(
        PODS,
        500,
        r#"{"kind":"Status","message":"etcd leader changed","code":500}"#.into(),
    )
    .list_raw(
        PODS,
        403,
        r#"{"kind":"Status","message":"pods is forbidden","code":403}"#.into(),
    )
    .list(PODS, "kubernetes/pod/relist.json");
    let cfg = k8s_config(&api.url, "pod", "");
    let d = KubernetesDiscovery::new(&cfg)
        .unwrap()
        .with_retry_delay(std::time::Duration::from_millis(10));
    let mut c = crate::Collector::spawn(|tx| d.run(tx));
    let want = state(vec![
        expected_pod("default", "addedpod", "1.2.3.4", "abc123"),
        TargetGroup::empty("pod/default/testpod"),
        expected_pod("default", "relistpod", "10.0.0.7", "r3l"),
    ]);
    c.wait_for(&want).await;
    assert_eq!(
        api.requests(PODS).iter().filter(|r| !r.is_watch()).count(),
        3
    );
}
