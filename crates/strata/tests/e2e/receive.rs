//! `strata receive` as a process: a real Prometheus 2.42 in agent mode remote-writes to
//! it, and the samples are queryable through the receiver's HTTP API.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::{ChildGuard, free_port, http_get, stderr_lines, strata, tempdir, wait_ready};

/// A running `strata receive` with its addresses.
pub struct Receiver {
    pub guard: ChildGuard,
    pub remote_write: SocketAddr,
    pub http: SocketAddr,
    pub grpc: SocketAddr,
}

fn loopback(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

/// Starts `strata receive` on free loopback ports, storing in `dir`, with `extra` flags.
pub fn start_receive(dir: &Path, extra: &[String]) -> Receiver {
    start_receive_on(dir, free_port(), free_port(), free_port(), extra)
}

pub fn start_receive_on(dir: &Path, rw: u16, http: u16, grpc: u16, extra: &[String]) -> Receiver {
    let (remote_write, http, grpc) = (loopback(rw), loopback(http), loopback(grpc));
    let mut child = strata()
        .arg("receive")
        .arg(format!("--remote-write.address={remote_write}"))
        .arg(format!("--http-address={http}"))
        .arg(format!("--grpc-address={grpc}"))
        .arg(format!("--tsdb.path={}", dir.display()))
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let lines = stderr_lines(&mut child);
    std::thread::spawn(move || {
        for l in lines {
            if l.contains("panicked") || l.contains("ERROR") {
                eprintln!("strata receive: {l}");
            }
        }
    });
    let mut guard = ChildGuard::new("strata receive", child);
    wait_ready(http, Duration::from_secs(30), &mut guard);
    Receiver {
        guard,
        remote_write,
        http,
        grpc,
    }
}

/// The result of an instant query as (labels, value) pairs.
pub fn query(addr: SocketAddr, q: &str) -> Vec<(serde_json::Value, f64)> {
    let path = format!("/api/v1/query?query={}", urlencode(q));
    let (code, body) = http_get(addr, &path).unwrap();
    assert_eq!(code, 200, "{q}: {}", String::from_utf8_lossy(&body));
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    v["data"]["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let val = r["value"][1].as_str().unwrap().parse::<f64>().unwrap();
            (r["metric"].clone(), val)
        })
        .collect()
}

pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A metric's value from a text exposition page.
fn metric_value(page: &str, name: &str) -> Option<f64> {
    page.lines()
        .find(|l| l.starts_with(name) && l[name.len()..].starts_with([' ', '{']))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[test]
fn prometheus_agent_remote_writes_to_strata_receive() {
    let Some(prometheus) = strata_testkit::require_tool("prometheus") else {
        return;
    };
    let tmp = tempdir();
    // Debian's Prometheus 2.42 does not send `remote_write.headers` (checked on the wire),
    // so the tenant comes from the default tenant flag.
    let recv = start_receive(
        &tmp.path().join("receive"),
        &["--receive.default-tenant-id=edge".to_string()],
    );
    let prom_port = free_port();
    let cfg = tmp.path().join("agent.yml");
    std::fs::write(
        &cfg,
        format!(
            "global:\n  scrape_interval: 1s\n  external_labels:\n    cluster: edge-1\n\
             scrape_configs:\n  - job_name: prometheus\n    static_configs:\n      - targets: ['127.0.0.1:{prom_port}']\n\
             remote_write:\n  - url: http://{}/api/v1/receive\n    queue_config:\n      batch_send_deadline: 1s\n",
            recv.remote_write
        ),
    )
    .unwrap();
    let prom_addr = loopback(prom_port);
    let child = Command::new(prometheus)
        .arg("--enable-feature=agent")
        .arg(format!("--config.file={}", cfg.display()))
        .arg(format!(
            "--storage.agent.path={}",
            tmp.path().join("agent").display()
        ))
        .arg(format!("--web.listen-address={prom_addr}"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut agent = ChildGuard::new("prometheus agent", child);
    wait_ready(prom_addr, Duration::from_secs(30), &mut agent);

    let deadline = Instant::now() + Duration::from_secs(60);
    let up = loop {
        let r = query(
            recv.http,
            r#"up{job="prometheus",tenant_id="edge",cluster="edge-1"}"#,
        );
        if !r.is_empty() || Instant::now() > deadline {
            break r;
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    assert_eq!(up.len(), 1, "the agent's `up` arrived: {up:?}");
    assert_eq!(up[0].1, 1.0);
    // Several scrapes' worth of the agent's own metrics, all accepted.
    std::thread::sleep(Duration::from_secs(4));
    let n = query(
        recv.http,
        r#"count_over_time(prometheus_build_info{tenant_id="edge"}[1m])"#,
    );
    assert!(n.len() == 1 && n[0].1 >= 3.0, "samples over time: {n:?}");
    let (_, page) = http_get(prom_addr, "/metrics").unwrap();
    let page = String::from_utf8_lossy(&page);
    let sent = metric_value(&page, "prometheus_remote_storage_samples_total")
        .or_else(|| metric_value(&page, "prometheus_remote_storage_succeeded_samples_total"))
        .unwrap_or(0.0);
    let failed =
        metric_value(&page, "prometheus_remote_storage_samples_failed_total").unwrap_or(0.0);
    assert!(sent > 100.0, "agent sent {sent} samples");
    assert_eq!(failed, 0.0, "agent saw failed samples");
    let (_, rpage) = http_get(recv.http, "/metrics").unwrap();
    let rpage = String::from_utf8_lossy(&rpage);
    assert!(
        rpage.contains(
            "thanos_receive_write_samples_sum{code=\"204\",tenant=\"edge\",method=\"post\"}"
        ),
        "{rpage}"
    );
    // The gRPC port (forwarding, Store API) listens too.
    assert!(std::net::TcpStream::connect_timeout(&recv.grpc, Duration::from_secs(2)).is_ok());
    drop(agent);
    let status = recv.guard.terminate(Duration::from_secs(20));
    assert!(status.success(), "strata receive exit status {status}");
    assert!(tmp.path().join("receive/edge/wal").is_dir());
}
