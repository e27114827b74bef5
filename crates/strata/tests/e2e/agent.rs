//! `strata agent` as a process: it scrapes a real node exporter and a synthetic target
//! and remote-writes to `strata receive`, a real Prometheus 2.42 and a real
//! VictoriaMetrics at once; survives a receiver outage and a SIGKILL without losing or
//! (outside the crash) duplicating a sample; starts on a kube-prometheus-style
//! configuration outside Kubernetes.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::agent_support::{
    AgentProc, RecordingReceiver, SynthTarget, eventually, loopback, metric_value, value_counts,
};
use crate::receive::{query, start_receive};
use crate::util::{ChildGuard, free_port, http_get, tempdir, wait_ready};

/// Starts `cmd` (output discarded) and waits for `ready_path` to answer 200.
fn start_peer(
    name: &'static str,
    cmd: &mut Command,
    addr: SocketAddr,
    ready_path: &str,
) -> ChildGuard {
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {name}: {e}"));
    let mut guard = ChildGuard::new(name, child);
    if ready_path == "/-/ready" {
        wait_ready(addr, Duration::from_secs(30), &mut guard);
    } else {
        eventually(&format!("{name} ready"), Duration::from_secs(30), || {
            matches!(http_get(addr, ready_path), Ok((200, _)))
        });
    }
    guard
}

/// The single value of an instant query, if there is exactly one series.
fn single(addr: SocketAddr, q: &str) -> Option<f64> {
    match query(addr, q).as_slice() {
        [(_, v)] => Some(*v),
        _ => None,
    }
}

#[test]
fn agent_scrapes_and_writes_to_receive_prometheus_and_victoriametrics() {
    let (Some(node_exporter), Some(prometheus), Some(vm)) = (
        strata_testkit::require_tool("prometheus-node-exporter"),
        strata_testkit::require_tool("prometheus"),
        strata_testkit::require_tool("victoria-metrics"),
    ) else {
        return;
    };
    let tmp = tempdir();
    let node_addr = loopback(free_port());
    let _node = start_peer(
        "node exporter",
        Command::new(node_exporter).arg(format!("--web.listen-address={node_addr}")),
        node_addr,
        "/metrics",
    );
    let synth = SynthTarget::start();
    let recv = start_receive(&tmp.path().join("receive"), &[]);
    let prom_addr = loopback(free_port());
    let prom_cfg = tmp.path().join("prometheus.yml");
    std::fs::write(&prom_cfg, "scrape_configs: []\n").unwrap();
    let _prom = start_peer(
        "prometheus",
        Command::new(prometheus)
            .arg(format!("--config.file={}", prom_cfg.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                tmp.path().join("prom").display()
            ))
            .arg(format!("--web.listen-address={prom_addr}"))
            .arg("--web.enable-remote-write-receiver"),
        prom_addr,
        "/-/ready",
    );
    let vm_addr = loopback(free_port());
    let _vm = start_peer(
        "victoria-metrics",
        Command::new(vm)
            .arg(format!("-httpListenAddr={vm_addr}"))
            .arg(format!(
                "-storageDataPath={}",
                tmp.path().join("vm").display()
            ))
            .arg("-search.latencyOffset=0s")
            .arg("-search.disableCache"),
        vm_addr,
        "/health",
    );

    let cfg = tmp.path().join("agent.yml");
    let queue = "    queue_config:\n      batch_send_deadline: 1s\n";
    std::fs::write(
        &cfg,
        format!(
            "global:\n  scrape_interval: 1s\n  external_labels:\n    agent: e2e\n\
             scrape_configs:\n  - job_name: node\n    static_configs:\n      - targets: ['{node_addr}']\n\
             \x20 - job_name: synth\n    static_configs:\n      - targets: ['{}']\n\
             remote_write:\n  - url: http://{}/api/v1/receive\n{queue}  - url: http://{prom_addr}/api/v1/write\n{queue}  - url: http://{vm_addr}/api/v1/write\n{queue}",
            synth.addr, recv.remote_write
        ),
    )
    .unwrap();
    let agent = AgentProc::start(&cfg, &tmp.path().join("agent"), free_port(), &[]);

    let sinks = [
        ("strata receive", recv.http),
        ("prometheus", prom_addr),
        ("victoria-metrics", vm_addr),
    ];
    for (name, addr) in sinks {
        eventually(
            &format!("node and synth series in {name}"),
            Duration::from_secs(40),
            || {
                single(
                    addr,
                    r#"count({__name__=~"node_.+",job="node",agent="e2e"})"#,
                )
                .is_some_and(|n| n > 100.0)
                    && single(
                        addr,
                        r#"synth_counter{job="synth",agent="e2e",source="test"}"#,
                    )
                    .is_some_and(|v| v >= 1.0)
            },
        );
    }
    // The same CPU series everywhere.
    let cpus: Vec<Option<f64>> = sinks
        .iter()
        .map(|(_, a)| single(*a, r#"count(node_cpu_seconds_total{agent="e2e"})"#))
        .collect();
    assert!(
        cpus[0].is_some() && cpus.iter().all(|c| *c == cpus[0]),
        "{cpus:?}"
    );
    let page = agent.metrics();
    assert_eq!(
        metric_value(&page, "prometheus_config_last_reload_successful"),
        Some(1.0)
    );
    assert_eq!(
        metric_value(&page, "prometheus_remote_storage_samples_failed_total"),
        Some(0.0)
    );
    let (code, body) = http_get(agent.addr, "/api/v1/targets").unwrap();
    assert_eq!(code, 200);
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let active = v["data"]["activeTargets"].as_array().unwrap();
    assert_eq!(active.len(), 2, "{v}");
    assert!(active.iter().all(|t| t["health"] == "up"), "{v}");
    let status = agent.guard.terminate(Duration::from_secs(30));
    assert!(status.success(), "strata agent exit status {status}");
}

/// Every value 1..=max arrived, except those in `may_miss`.
fn assert_no_gaps(values: &[u64], may_miss: impl Fn(u64) -> bool) -> u64 {
    let counts = value_counts(values);
    let max = *counts.keys().last().expect("values received");
    let missing: Vec<u64> = (1..=max).filter(|v| !counts.contains_key(v)).collect();
    assert!(
        missing.iter().all(|v| may_miss(*v)),
        "values missing: {missing:?} (max {max})"
    );
    max
}

#[test]
fn agent_outage_and_kill_lose_nothing_from_the_wal() {
    let tmp = tempdir();
    let synth = SynthTarget::start();
    let mut recv = RecordingReceiver::new(free_port());
    recv.start();
    let cfg = tmp.path().join("agent.yml");
    std::fs::write(
        &cfg,
        format!(
            "global:\n  scrape_interval: 1s\n\
             scrape_configs:\n  - job_name: synth\n    static_configs:\n      - targets: ['{}']\n\
             remote_write:\n  - url: {}\n    name: sink\n    queue_config:\n      batch_send_deadline: 500ms\n      min_backoff: 100ms\n      max_backoff: 1s\n",
            synth.addr,
            recv.url()
        ),
    )
    .unwrap();
    let data = tmp.path().join("agent");
    let port = free_port();
    let agent = AgentProc::start(&cfg, &data, port, &[]);
    eventually("the first samples", Duration::from_secs(20), || {
        recv.counter_values().len() >= 3
    });

    // Outage: scraping goes on into the WAL.
    recv.stop();
    let before = recv.counter_values().len();
    std::thread::sleep(Duration::from_secs(12));
    assert_eq!(recv.counter_values().len(), before, "the receiver was down");
    let served = synth.served.load(std::sync::atomic::Ordering::SeqCst);
    recv.start();
    eventually("the outage's backlog", Duration::from_secs(20), || {
        recv.counter_values()
            .iter()
            .max()
            .is_some_and(|m| *m >= served)
    });
    let values = recv.counter_values();
    let counts = value_counts(&values);
    let dups: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(dups.is_empty(), "duplicates after the outage: {dups:?}");
    assert_no_gaps(&values, |_| false);
    assert!(
        values.len() as u64 >= served.min(12),
        "{} of {served}",
        values.len()
    );

    // Down again: what is scraped now is only in the WAL when the agent is killed.
    recv.stop();
    std::thread::sleep(Duration::from_secs(4));
    let at_kill = synth.served.load(std::sync::atomic::Ordering::SeqCst);
    agent.kill();
    let agent = AgentProc::start(&cfg, &data, port, &[]);
    recv.start();
    eventually(
        "the samples scraped before the kill, and new ones",
        Duration::from_secs(30),
        || {
            recv.counter_values()
                .iter()
                .max()
                .is_some_and(|m| *m >= at_kill + 2)
        },
    );
    let values = recv.counter_values();
    // Only a scrape in flight at the kill (served, not yet committed) may be missing.
    let max = assert_no_gaps(&values, |v| v >= at_kill);
    let missing = (1..=max).filter(|v| !values.contains(v)).count();
    assert!(missing <= 1, "{missing} values missing around the kill");
    // The queue's progress is stored within a second of each acknowledgement, and
    // nothing was acknowledged in the seconds before the kill: nothing is repeated.
    let counts = value_counts(&values);
    let dups: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(dups.is_empty(), "duplicates after the restart: {dups:?}");
    let status = agent.guard.terminate(Duration::from_secs(30));
    assert!(status.success(), "strata agent exit status {status}");
}

#[test]
fn kube_prometheus_configuration_starts_outside_kubernetes() {
    let tmp = tempdir();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../strata-config/tests/fixtures/kube-prometheus.yml");
    let agent = AgentProc::start(
        &fixture,
        &tmp.path().join("agent"),
        free_port(),
        &[
            "--storage.remote.flush-deadline=2s",
            "--enable-feature=agent",
        ],
    );
    // Kubernetes discovery without an API server is logged, not fatal (as in
    // Prometheus); the static targets run.
    eventually(
        "the discovery error in the log",
        Duration::from_secs(10),
        || agent.logged("cannot create service discovery"),
    );
    let (code, body) = http_get(agent.addr, "/api/v1/targets?scrapePool=blackbox").unwrap();
    assert_eq!(code, 200);
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let urls: Vec<&str> = v["data"]["activeTargets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["scrapeUrl"].as_str().unwrap())
        .collect();
    assert_eq!(urls.len(), 2, "{v}");
    assert!(
        urls.iter()
            .all(|u| u.starts_with("http://blackbox-exporter.monitoring.svc:9115/probe?")),
        "{urls:?}"
    );
    // The fixture names TLS files that exist only in a pod: those parts are reported
    // (and the WAL is kept for the remote-write queue that cannot start).
    let page = agent.metrics();
    assert_eq!(
        metric_value(&page, "prometheus_config_last_reload_successful"),
        Some(0.0)
    );
    assert!(
        agent.logged("receive-ca.crt"),
        "the missing CA file is named in the log"
    );
    let status = agent.guard.terminate(Duration::from_secs(30));
    assert!(status.success(), "strata agent exit status {status}");
}
