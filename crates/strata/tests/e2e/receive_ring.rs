//! Three `strata receive` processes on one ketama hashring with replication factor 3:
//! a bounded load from several tenants goes to whichever receiver is up (as a Kubernetes
//! Service would spread it), one receiver is killed with SIGKILL mid-load and restarted,
//! and afterwards every sample the sender saw acknowledged is queryable, each series
//! once with each sample once.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::time::Duration;

use strata_remote::{rw1, snappy};

use crate::receive::{Receiver, start_receive_on, urlencode};
use crate::util::{free_port, http_get, http_post, tempdir};

const TENANTS: [&str; 3] = ["alpha", "beta", "gamma"];
const SERIES: usize = 60;
const ROUNDS: i64 = 90;
const STEP_MS: i64 = 15_000;

type Key = (String, String); // (tenant, series id)

fn request(round: i64, tenant: &str) -> Vec<u8> {
    let names: Vec<String> = (0..SERIES).map(|i| format!("s{i}")).collect();
    let labels: Vec<Vec<(&str, &str)>> = names
        .iter()
        .map(|n| {
            vec![
                ("__name__", "load_total"),
                ("series", n.as_str()),
                ("src", tenant),
            ]
        })
        .collect();
    let t = 1_700_000_000_000 + round * STEP_MS;
    let samples: Vec<[(i64, f64); 1]> = (0..SERIES)
        .map(|i| [(t, (round * 1000 + i as i64) as f64)])
        .collect();
    let series = labels
        .iter()
        .zip(&samples)
        .map(|(l, s)| (l.as_slice(), s.as_slice()));
    snappy::compress(&rw1::encode_write_request(series))
}

fn send(addr: SocketAddr, tenant: &str, body: &[u8]) -> Option<u16> {
    http_post(
        addr,
        "/api/v1/receive",
        &[
            ("Content-Encoding", "snappy"),
            ("Content-Type", "application/x-protobuf"),
            ("X-Prometheus-Remote-Write-Version", "0.1.0"),
            ("THANOS-TENANT", tenant),
        ],
        body,
    )
    .ok()
    .map(|(code, _)| code)
}

fn series_of(addr: SocketAddr, tenant: &str) -> BTreeMap<String, Vec<(i64, f64)>> {
    let q = format!(r#"load_total{{tenant_id="{tenant}"}}[1d]"#);
    let path = format!("/api/v1/query?query={}&time=1700002000", urlencode(&q));
    let (code, body) = http_get(addr, &path).unwrap();
    assert_eq!(code, 200, "{}", String::from_utf8_lossy(&body));
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let mut out = BTreeMap::new();
    for r in v["data"]["result"].as_array().unwrap() {
        let id = r["metric"]["series"].as_str().unwrap().to_owned();
        let samples: Vec<(i64, f64)> = r["values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                let t = (p[0].as_f64().unwrap() * 1000.0).round() as i64;
                (t, p[1].as_str().unwrap().parse().unwrap())
            })
            .collect();
        assert!(
            out.insert(id, samples).is_none(),
            "a series twice in one receiver"
        );
    }
    out
}

#[test]
fn three_receivers_rf3_survive_a_sigkill() {
    let tmp = tempdir();
    let ports: Vec<(u16, u16, u16)> = (0..3)
        .map(|_| (free_port(), free_port(), free_port()))
        .collect();
    let ring = tmp.path().join("hashrings.json");
    let endpoints: Vec<String> = ports
        .iter()
        .map(|p| format!("\"127.0.0.1:{}\"", p.2))
        .collect();
    std::fs::write(
        &ring,
        format!(
            r#"[{{"hashring": "default", "endpoints": [{}]}}]"#,
            endpoints.join(", ")
        ),
    )
    .unwrap();
    let flags = |i: usize| {
        vec![
            format!("--receive.hashrings-file={}", ring.display()),
            format!("--receive.local-endpoint=127.0.0.1:{}", ports[i].2),
            "--receive.replication-factor=3".to_string(),
            "--receive-forward-timeout=2s".to_string(),
        ]
    };
    let start = |i: usize| {
        start_receive_on(
            &tmp.path().join(format!("r{i}")),
            ports[i].0,
            ports[i].1,
            ports[i].2,
            &flags(i),
        )
    };
    let mut recvs: Vec<Option<Receiver>> = (0..3).map(|i| Some(start(i))).collect();
    let rw: Vec<SocketAddr> = recvs
        .iter()
        .map(|r| r.as_ref().unwrap().remote_write)
        .collect();

    let mut acked: BTreeMap<Key, Vec<(i64, f64)>> = BTreeMap::new();
    let mut unacked_rounds = 0;
    for round in 0..ROUNDS {
        if round == 30 {
            // SIGKILL mid-load: no shutdown path runs.
            let mut r = recvs[1].take().unwrap();
            let mut child = r.guard.child.take().unwrap();
            child.kill().unwrap();
            child.wait().unwrap();
        }
        if round == 60 {
            recvs[1] = Some(start(1));
        }
        for (k, tenant) in TENANTS.iter().enumerate() {
            let body = request(round, tenant);
            // Try receivers in turn, as a sender retries through a Service.
            let mut ok = false;
            for attempt in 0..6 {
                let addr = rw[(round as usize + k + attempt) % 3];
                match send(addr, tenant, &body) {
                    Some(c) if (200..300).contains(&c) => {
                        ok = true;
                        break;
                    }
                    Some(c) => assert!(c == 503 || c == 500, "round {round}: status {c}"),
                    None => {}
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            if !ok {
                unacked_rounds += 1;
                continue;
            }
            let t = 1_700_000_000_000 + round * STEP_MS;
            for i in 0..SERIES {
                acked
                    .entry((tenant.to_string(), format!("s{i}")))
                    .or_default()
                    .push((t, (round * 1000 + i as i64) as f64));
            }
        }
    }
    assert_eq!(
        unacked_rounds, 0,
        "with 2 of 3 receivers up every write reaches quorum"
    );

    // Every acknowledged sample is stored, once per series, on the receivers.
    let https: Vec<SocketAddr> = recvs.iter().map(|r| r.as_ref().unwrap().http).collect();
    let mut stored: BTreeMap<Key, BTreeSet<(i64, u64)>> = BTreeMap::new();
    for tenant in TENANTS {
        for h in &https {
            for (id, samples) in series_of(*h, tenant) {
                let set = stored.entry((tenant.to_string(), id)).or_default();
                let mut seen = BTreeSet::new();
                for (t, v) in samples {
                    assert!(seen.insert(t), "sample at {t} twice in one series");
                    set.insert((t, v.to_bits()));
                }
            }
        }
    }
    assert_eq!(stored.len(), TENANTS.len() * SERIES, "series");
    for (key, samples) in &acked {
        let got = stored.get(key).unwrap_or_else(|| panic!("{key:?} missing"));
        for (t, v) in samples {
            assert!(
                got.contains(&(*t, v.to_bits())),
                "{key:?} lost acknowledged sample at {t}"
            );
        }
        // One value per timestamp across replicas.
        let ts: BTreeSet<i64> = got.iter().map(|(t, _)| *t).collect();
        assert_eq!(ts.len(), got.len(), "{key:?}: replicas disagree on a value");
    }
    // The restarted receiver replayed its WAL: it holds what it acknowledged before the kill.
    let before_kill = series_of(https[1], "alpha");
    assert!(
        before_kill
            .values()
            .any(|s| s.iter().any(|(t, _)| *t < 1_700_000_000_000 + 30 * STEP_MS)),
        "the killed receiver kept its data"
    );
    let (_, m) = http_get(https[0], "/metrics").unwrap();
    let m = String::from_utf8_lossy(&m);
    assert!(m.contains("thanos_receive_replications_total"), "{m}");
    assert!(m.contains("thanos_receive_replication_factor 3"), "{m}");
}
