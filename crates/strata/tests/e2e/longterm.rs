//! The long-term path end to end, once over a filesystem bucket and once over a real S3
//! API server (moto) on loopback: two receivers (replicas `r1`, `r2`) take the same
//! writes and ship blocks; `strata query` over the receivers deduplicates; after the
//! receivers' local data is deleted, `strata query` over `strata store` returns the same
//! results as before the upload.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use strata_remote::{rw1, snappy};

use crate::receive::{start_receive, urlencode};
use crate::util::{ChildGuard, free_port, http_get, http_post, strata, tempdir, wait_ready};

const T0: i64 = 1_700_000_000_000;

fn spawn(name: &'static str, args: &[String], ready: SocketAddr) -> ChildGuard {
    let child = strata()
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut g = ChildGuard::new(name, child);
    wait_ready(ready, Duration::from_secs(30), &mut g);
    g
}

fn write(addr: SocketAddr) {
    let names: Vec<String> = (0..20).map(|i| format!("pod-{i}")).collect();
    let labels: Vec<Vec<(&str, &str)>> = names
        .iter()
        .map(|p| vec![("__name__", "http_requests_total"), ("pod", p.as_str())])
        .collect();
    let samples: Vec<Vec<(i64, f64)>> = (0..20)
        .map(|i| {
            (0..240)
                .map(|k| (T0 + k * 15_000, (k * (i + 1)) as f64))
                .collect()
        })
        .collect();
    let body = snappy::compress(&rw1::encode_write_request(
        labels
            .iter()
            .zip(&samples)
            .map(|(l, s)| (l.as_slice(), s.as_slice())),
    ));
    let (code, resp) = http_post(
        addr,
        "/api/v1/receive",
        &[
            ("Content-Encoding", "snappy"),
            ("Content-Type", "application/x-protobuf"),
        ],
        &body,
    )
    .unwrap();
    assert_eq!(code, 204, "{}", String::from_utf8_lossy(&resp));
}

fn query_json(addr: SocketAddr, q: &str, extra: &str) -> serde_json::Value {
    let path = format!(
        "/api/v1/query?query={}&time={}{extra}",
        urlencode(q),
        (T0 + 3_600_000) / 1000
    );
    let (code, body) = http_get(addr, &path).unwrap();
    assert_eq!(code, 200, "{q}: {}", String::from_utf8_lossy(&body));
    let mut v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    if let Some(r) = v["data"]["result"].as_array_mut() {
        r.sort_by_key(|x| x["metric"].to_string());
    }
    v["data"].take()
}

fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn uploaded(dir: &Path) -> usize {
    std::fs::read_to_string(dir.join("default-tenant/thanos.shipper.json"))
        .ok()
        .and_then(|s| serde_json::from_str::<serde_json::Value>(&s).ok())
        .and_then(|v| v["uploaded"].as_array().map(|a| a.len()))
        .unwrap_or(0)
}

fn run_path(objstore_yaml: &str) {
    let tmp = tempdir();
    let cfg = tmp.path().join("objstore.yml");
    std::fs::write(&cfg, objstore_yaml).unwrap();
    let dirs = [tmp.path().join("r1"), tmp.path().join("r2")];
    let recvs: Vec<_> = dirs
        .iter()
        .enumerate()
        .map(|(i, d)| {
            start_receive(
                d,
                &[
                    format!("--label=replica=\"r{}\"", i + 1),
                    format!("--objstore.config-file={}", cfg.display()),
                    "--shipper.interval=1s".into(),
                ],
            )
        })
        .collect();
    for r in &recvs {
        write(r.remote_write);
    }
    let qport = free_port();
    let qaddr: SocketAddr = format!("127.0.0.1:{qport}").parse().unwrap();
    let mut qargs = vec![
        "query".to_string(),
        format!("--http-address={qaddr}"),
        "--query.replica-label=replica".into(),
        "--store.sd-interval=1s".into(),
    ];
    qargs.extend(recvs.iter().map(|r| format!("--endpoint={}", r.grpc)));
    let q = spawn("strata query", &qargs, qaddr);
    let queries = [
        "http_requests_total",
        "sum by (pod) (rate(http_requests_total[5m]))",
        "count(http_requests_total)",
    ];
    let before: Vec<serde_json::Value> = queries.iter().map(|x| query_json(qaddr, x, "")).collect();
    assert_eq!(
        before[0]["result"].as_array().unwrap().len(),
        20,
        "dedup: each series once"
    );
    assert_eq!(before[2]["result"][0]["value"][1], "20");
    let both = query_json(qaddr, "http_requests_total", "&dedup=false");
    assert_eq!(
        both["result"].as_array().unwrap().len(),
        40,
        "without dedup both replicas"
    );
    // rate() over the deduplicated series has no spikes: pod-i grows by i+1 per 15 s.
    for s in before[1]["result"].as_array().unwrap() {
        let pod: i64 = s["metric"]["pod"].as_str().unwrap()[4..].parse().unwrap();
        let v: f64 = s["value"][1].as_str().unwrap().parse().unwrap();
        assert!((v - (pod + 1) as f64 / 15.0).abs() < 1e-9, "{s}");
    }
    drop(q);

    // Cut blocks and wait until both receivers shipped them.
    for r in &recvs {
        let (code, body) = http_post(r.http, "/api/v1/admin/tsdb/flush", &[], b"").unwrap();
        assert_eq!(code, 200, "{}", String::from_utf8_lossy(&body));
    }
    for d in &dirs {
        wait_for("the shipper", || uploaded(d) >= 1);
    }
    for r in recvs {
        let st = r.guard.terminate(Duration::from_secs(20));
        assert!(st.success());
    }
    for d in &dirs {
        std::fs::remove_dir_all(d).unwrap();
    }

    let (sg, sh) = (free_port(), free_port());
    let shttp: SocketAddr = format!("127.0.0.1:{sh}").parse().unwrap();
    let _store = spawn(
        "strata store",
        &[
            "store".into(),
            format!("--grpc-address=127.0.0.1:{sg}"),
            format!("--http-address={shttp}"),
            format!("--data-dir={}", tmp.path().join("store").display()),
            format!("--objstore.config-file={}", cfg.display()),
        ],
        shttp,
    );
    let q2port = free_port();
    let q2: SocketAddr = format!("127.0.0.1:{q2port}").parse().unwrap();
    let _q2 = spawn(
        "strata query",
        &[
            "query".into(),
            format!("--http-address={q2}"),
            "--query.replica-label=replica".into(),
            format!("--endpoint=127.0.0.1:{sg}"),
        ],
        q2,
    );
    let after: Vec<serde_json::Value> = queries.iter().map(|x| query_json(q2, x, "")).collect();
    assert_eq!(
        before, after,
        "results through the store gateway equal those before the upload"
    );
    let (_, stores) = http_get(q2, "/api/v1/stores").unwrap();
    let stores = String::from_utf8_lossy(&stores);
    assert!(stores.contains("replica"), "{stores}");
}

#[test]
fn long_term_path_over_a_filesystem_bucket() {
    let tmp = tempdir();
    let bucket = tmp.path().join("bucket");
    run_path(&format!(
        "type: FILESYSTEM\nconfig:\n  directory: {}\n",
        bucket.display()
    ));
}

struct Moto(Child);

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn long_term_path_over_s3() {
    let Some(moto) = strata_testkit::require_tool("moto_server") else {
        return;
    };
    let mut child = Command::new(moto)
        .args(["-H", "127.0.0.1", "-p", "0"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let err = child.stderr.take().unwrap();
    let moto = Moto(child);
    let mut lines = BufReader::new(err).lines();
    let mut port = None;
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(rest) = line.split("http://127.0.0.1:").nth(1) {
            port = rest
                .split(|c: char| !c.is_ascii_digit())
                .next()
                .and_then(|p| p.parse::<u16>().ok());
            break;
        }
    }
    // Keep draining its log so it never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    let port = port.expect("moto_server prints its address");
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let (code, _) = crate::util::http_put(addr, "/strata-e2e").unwrap();
    assert_eq!(code, 200, "creating the bucket");
    run_path(&format!(
        "type: S3\nconfig:\n  bucket: strata-e2e\n  endpoint: 127.0.0.1:{port}\n  insecure: true\n  region: us-east-1\n  access_key: test\n  secret_key: test\n"
    ));
    drop(moto);
}

/// `strata up` runs the whole path in one process: what it shipped to its filesystem
/// bucket stays queryable after the local blocks are gone (read through its in-process
/// store gateway).
#[test]
fn strata_up_reads_shipped_blocks_from_its_bucket() {
    let tmp = tempdir();
    let data = tmp.path().join("data");
    let start = || {
        let port = free_port();
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let g = spawn(
            "strata up",
            &[
                "up".into(),
                format!("--http-address={addr}"),
                format!("--data-dir={}", data.display()),
                "--scrape-interval=0s".into(),
                "--shipper.interval=1s".into(),
            ],
            addr,
        );
        (g, addr)
    };
    let (up, addr) = start();
    write(addr);
    let before = query_json(addr, "sum(http_requests_total)", "");
    let (code, _) = http_post(addr, "/api/v1/admin/tsdb/flush", &[], b"").unwrap();
    assert_eq!(code, 200);
    let tenant_dir = data.join("tsdb");
    wait_for("the shipper", || uploaded(&tenant_dir) >= 1);
    assert!(up.terminate(Duration::from_secs(20)).success());
    // Delete the local blocks: only the bucket holds the data now.
    let tdir = tenant_dir.join("default-tenant");
    for e in std::fs::read_dir(&tdir).unwrap() {
        let p = e.unwrap().path();
        if p.join("meta.json").exists() {
            std::fs::remove_dir_all(&p).unwrap();
        }
    }
    let (_up, addr) = start();
    let after = query_json(addr, "sum(http_requests_total)", "");
    assert_eq!(before, after);
    assert_eq!(
        after["result"].as_array().map(|a| a.len()),
        Some(1),
        "{after}"
    );
}
