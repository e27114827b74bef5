//! The job-level runner: static, file and Kubernetes providers behind one channel,
//! with sources prefixed by provider.

use std::time::Duration;

use strata_discovery::{JobDiscovery, TargetGroup};

use super::fake_api::FakeApi;
use super::k8s_pod::expected_pod;
use crate::{Collector, group, job_sd, ls, state};

fn prefixed(provider: &str, mut g: TargetGroup) -> TargetGroup {
    g.source = format!("{provider}:{}", g.source);
    g
}

#[tokio::test]
async fn one_channel_for_every_provider() {
    let api = FakeApi::start().await;
    api.list("/api/v1/pods", "kubernetes/pod/relist.json");
    let dir = tempfile::tempdir().unwrap();
    let file = format!("{}/sd.json", dir.path().display());
    std::fs::write(&file, r#"[{"targets": ["h:1"]}]"#).unwrap();
    let sd = job_sd(&format!(
        "  static_configs:\n  - targets: ['a:1', 'b:2']\n    labels: {{env: prod}}\n  - targets: ['c:3']\n  file_sd_configs:\n  - files: ['{file}']\n  - files: ['{file}']\n  kubernetes_sd_configs:\n  - api_server: {}\n    role: pod\n  consul_sd_configs:\n  - server: localhost:8500\n",
        api.url
    ));
    let job = JobDiscovery::new(&sd)
        .unwrap()
        .with_file_poll_interval(Duration::from_millis(20));
    let mut c = Collector::spawn(|tx| job.run(tx));

    let file_group = |provider: &str| {
        prefixed(
            provider,
            group(
                &format!("{file}:0"),
                ls(&[("__meta_filepath", &file)]),
                vec![ls(&[("__address__", "h:1")])],
            ),
        )
    };
    let want = state(vec![
        group(
            "static/0:0",
            ls(&[("env", "prod")]),
            vec![ls(&[("__address__", "a:1")]), ls(&[("__address__", "b:2")])],
        ),
        group("static/0:1", ls(&[]), vec![ls(&[("__address__", "c:3")])]),
        // The same file in two configs: two groups, told apart by provider.
        file_group("file/0"),
        file_group("file/1"),
        prefixed(
            "kubernetes/0",
            expected_pod("default", "addedpod", "1.2.3.4", "abc123"),
        ),
        prefixed("kubernetes/0", TargetGroup::empty("pod/default/testpod")),
        prefixed(
            "kubernetes/0",
            expected_pod("default", "relistpod", "10.0.0.7", "r3l"),
        ),
    ]);
    c.wait_for(&want).await;
    // Static groups come first, in one message.
    assert_eq!(c.messages[0].len(), 2);
    assert_eq!(c.messages[0][0].source, "static/0:0");
}

#[tokio::test]
async fn lenient_runner_skips_unusable_providers() {
    let sd = job_sd(
        "  static_configs:\n  - targets: ['a:1']\n  kubernetes_sd_configs:\n  - role: pod\n    kubeconfig_file: /nonexistent\n",
    );
    assert!(JobDiscovery::new(&sd).is_err());
    // The future does not borrow the configuration.
    let mut c = Collector::spawn(|tx| strata_discovery::run_providers(&sd, tx));
    let want = state(vec![group(
        "static/0:0",
        ls(&[]),
        vec![ls(&[("__address__", "a:1")])],
    )]);
    c.wait_for(&want).await;
}
