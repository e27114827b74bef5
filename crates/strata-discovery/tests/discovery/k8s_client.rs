//! How the Kubernetes client connects: credentials from `api_server` HTTP settings
//! (re-read token files), basic auth, extra headers, kubeconfig files, and the errors
//! of unusable configurations.

use std::time::Duration;

use strata_discovery::kubernetes::KubernetesDiscovery;

use super::fake_api::{After, FakeApi, Request, gate};
use crate::{Collector, job_sd, k8s_config, start_k8s};

const PODS: &str = "/api/v1/pods";

async fn wait_requests(api: &FakeApi, n: usize) -> Vec<Request> {
    for _ in 0..500 {
        let r = api.all_requests();
        if r.len() >= n {
            return r;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("fewer than {n} requests: {:?}", api.all_requests());
}

#[tokio::test]
async fn bearer_token_file_is_reread() {
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("token");
    std::fs::write(&token, "first\n").unwrap();
    let api = FakeApi::start().await;
    let g = gate();
    api.watch_events(
        PODS,
        Some(&g),
        "kubernetes/common/empty.ndjson",
        After::Close,
    );
    let extra = format!(
        "    authorization:\n      credentials_file: {}\n    http_headers:\n      X-Tenant:\n        values: [team-a]\n",
        token.display()
    );
    let _c = start_k8s(&k8s_config(&api.url, "pod", &extra));
    let reqs = wait_requests(&api, 2).await;
    assert_eq!(reqs[0].authorization.as_deref(), Some("Bearer first"));
    assert_eq!(reqs[1].authorization.as_deref(), Some("Bearer first"));
    // The token rotates; the next watch uses the new one.
    std::fs::write(&token, "second").unwrap();
    g.notify_one();
    let reqs = wait_requests(&api, 3).await;
    assert_eq!(reqs[2].authorization.as_deref(), Some("Bearer second"));
    assert_eq!(reqs[2].param("resourceVersion"), Some("1"));
}

#[tokio::test]
async fn basic_auth() {
    let api = FakeApi::start().await;
    let extra = "    basic_auth:\n      username: user\n      password: pass\n";
    let _c = start_k8s(&k8s_config(&api.url, "service", extra));
    let reqs = wait_requests(&api, 1).await;
    // base64("user:pass")
    assert_eq!(reqs[0].authorization.as_deref(), Some("Basic dXNlcjpwYXNz"));
    assert_eq!(reqs[0].path, "/api/v1/services");
}

#[tokio::test]
async fn kubeconfig_file() {
    let api = FakeApi::start().await;
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: local\n  cluster:\n    server: {}\ncontexts:\n- name: local\n  context:\n    cluster: local\n    user: me\n    namespace: ignored\ncurrent-context: local\nusers:\n- name: me\n  user:\n    token: kube-token\n",
            api.url
        ),
    )
    .unwrap();
    let body = format!(
        "  kubernetes_sd_configs:\n  - role: node\n    kubeconfig_file: {}\n",
        kubeconfig.display()
    );
    let cfg = job_sd(&body).kubernetes_sd_configs.remove(0);
    let d = KubernetesDiscovery::new(&cfg).unwrap();
    let _c = Collector::spawn(|tx| d.run(tx));
    let reqs = wait_requests(&api, 1).await;
    assert_eq!(reqs[0].authorization.as_deref(), Some("Bearer kube-token"));
    assert_eq!(reqs[0].path, "/api/v1/nodes");
}

#[tokio::test]
async fn unusable_configurations() {
    let missing = job_sd(
        "  kubernetes_sd_configs:\n  - role: pod\n    kubeconfig_file: /nonexistent/kubeconfig\n",
    )
    .kubernetes_sd_configs
    .remove(0);
    let e = KubernetesDiscovery::new(&missing).unwrap_err();
    assert!(e.to_string().contains("/nonexistent/kubeconfig"), "{e}");

    let oauth = job_sd(
        "  kubernetes_sd_configs:\n  - role: pod\n    api_server: https://k8s.example\n    oauth2:\n      client_id: a\n      client_secret: b\n      token_url: https://auth.example/token\n",
    )
    .kubernetes_sd_configs
    .remove(0);
    let e = KubernetesDiscovery::new(&oauth).unwrap_err();
    assert!(e.to_string().contains("oauth2"), "{e}");

    let bad_ca = job_sd(
        "  kubernetes_sd_configs:\n  - role: pod\n    api_server: https://k8s.example\n    tls_config:\n      ca: not a certificate\n",
    )
    .kubernetes_sd_configs
    .remove(0);
    assert!(KubernetesDiscovery::new(&bad_ca).is_err());

    if std::env::var_os("KUBERNETES_SERVICE_HOST").is_none() {
        let in_cluster = job_sd("  kubernetes_sd_configs:\n  - role: pod\n")
            .kubernetes_sd_configs
            .remove(0);
        let e = KubernetesDiscovery::new(&in_cluster).unwrap_err();
        assert!(e.to_string().contains("KUBERNETES_SERVICE_HOST"), "{e}");
    }
}
