//! A data directory written by a real Prometheus that received remote write: Strata
//! dumps its WAL (snappy-compressed records, m-mapped head chunks beside it) exactly as
//! promtool does.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::util::*;

/// The stale marker Prometheus writes when a series disappears.
const STALE_NAN: u64 = 0x7ff0_0000_0000_0002;

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn len_field(out: &mut Vec<u8>, field: u32, body: &[u8]) {
    varint(out, u64::from(field << 3 | 2));
    varint(out, body.len() as u64);
    out.extend_from_slice(body);
}

/// A series to remote-write: labels in name order, samples in time order.
type Series<'a> = (Vec<(&'a str, String)>, Vec<(i64, f64)>);

/// `prometheus.WriteRequest` with only `timeseries` (field 1) set.
fn write_request(series: &[Series<'_>]) -> Vec<u8> {
    let mut req = Vec::new();
    for (labels, samples) in series {
        let mut ts = Vec::new();
        for (n, v) in labels {
            let mut l = Vec::new();
            len_field(&mut l, 1, n.as_bytes());
            len_field(&mut l, 2, v.as_bytes());
            len_field(&mut ts, 1, &l);
        }
        for &(t, v) in samples {
            let mut s = Vec::new();
            s.push(1 << 3 | 1); // field 1, 64-bit
            s.extend_from_slice(&v.to_bits().to_le_bytes());
            s.push(2 << 3); // field 2, varint
            varint(&mut s, t as u64);
            len_field(&mut ts, 2, &s);
        }
        len_field(&mut req, 1, &ts);
    }
    req
}

/// A Prometheus with the remote-write receiver on a free loopback port, storing in `dir`.
fn start_prometheus(
    prometheus: &Path,
    tmp: &Path,
    dir: &Path,
) -> (ChildGuard, std::net::SocketAddr) {
    let cfg = tmp.join("prometheus.yml");
    std::fs::write(&cfg, "global:\n  scrape_interval: 15s\n").unwrap();
    let port = free_port();
    let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let child = Command::new(prometheus)
        .arg(format!("--config.file={}", cfg.display()))
        .arg(format!("--storage.tsdb.path={}", dir.display()))
        .arg(format!("--web.listen-address={addr}"))
        .arg("--web.enable-remote-write-receiver")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut guard = ChildGuard::new("prometheus", child);
    wait_ready(addr, Duration::from_secs(30), &mut guard);
    (guard, addr)
}

fn remote_write(addr: std::net::SocketAddr, series: &[Series<'_>]) {
    let body = snap::raw::Encoder::new()
        .compress_vec(&write_request(series))
        .unwrap();
    let (code, resp) = http_post(
        addr,
        "/api/v1/write",
        &[
            ("Content-Encoding", "snappy"),
            ("Content-Type", "application/x-protobuf"),
            ("X-Prometheus-Remote-Write-Version", "0.1.0"),
        ],
        &body,
    )
    .unwrap();
    assert!(
        (200..300).contains(&code),
        "remote write answered {code}: {}",
        String::from_utf8_lossy(&resp)
    );
}

/// Sends `all` in time slices of `per` samples per series, oldest first.
fn remote_write_in_slices(addr: std::net::SocketAddr, all: &[Series<'_>], per: usize) {
    let n = all.iter().map(|s| s.1.len()).max().unwrap_or(0);
    for from in (0..n).step_by(per) {
        let slice: Vec<Series<'_>> = all
            .iter()
            .map(|(l, s)| {
                (
                    l.clone(),
                    s[from.min(s.len())..(from + per).min(s.len())].to_vec(),
                )
            })
            .collect();
        remote_write(addr, &slice);
    }
}

fn expected(all: &[Series<'_>]) -> SeriesMap {
    all.iter()
        .map(|(l, s)| {
            let mut key: LabelSet = l.iter().map(|(n, v)| ((*n).into(), v.clone())).collect();
            key.sort();
            (key, s.clone())
        })
        .collect()
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

#[test]
fn prometheus_remote_write_wal_dumps_identically() {
    let Some(promtool) = strata_testkit::require_tool("promtool") else {
        return;
    };
    let Some(prometheus) = strata_testkit::require_tool("prometheus") else {
        return;
    };
    let tmp = tempdir();
    let dir = tmp.path().join("data");
    let (guard, addr) = start_prometheus(&prometheus, tmp.path(), &dir);

    // 150 samples per series at 10 s steps, ending a minute ago: within what the head
    // accepts, and more than one chunk per series.
    let start = now_ms() - 60_000 - 150 * 10_000;
    let stamps: Vec<i64> = (0..150).map(|i| start + i * 10_000 + i % 7).collect();
    let mut all: Vec<Series<'_>> = Vec::new();
    for (k, zone) in ["eu-1", "us-2", "ünïcode \"zone\"\n2"].iter().enumerate() {
        let samples = stamps
            .iter()
            .enumerate()
            .map(|(i, &t)| {
                let v = match i % 11 {
                    4 => f64::NAN,
                    7 if k == 1 => f64::from_bits(STALE_NAN),
                    9 => f64::INFINITY * if i % 2 == 0 { 1.0 } else { -1.0 },
                    _ => (i as f64) * 0.1 + k as f64 * 1e10,
                };
                (t, v)
            })
            .collect();
        all.push((
            vec![
                ("__name__", "rw_gauge".into()),
                ("instance", format!("host-{k}")),
                ("job", "rw".into()),
                ("zone", (*zone).into()),
            ],
            samples,
        ));
    }
    all.push((
        vec![("__name__", "rw_total".into()), ("job", "rw".into())],
        stamps.iter().map(|&t| (t, (t - start) as f64)).collect(),
    ));

    // Send in three requests of 50 samples per series, in time order.
    remote_write_in_slices(addr, &all, 50);

    let status = guard.terminate(Duration::from_secs(30));
    assert!(status.success(), "prometheus exit status {status}");

    let pdump = promtool_dump(&promtool, &dir, &[]);
    let got = parse_dump(&pdump);
    let want = expected(&all);
    assert_same_series("promtool dump of remote-written data", &want, &got);
    assert_same_dump("full dump", &pdump, &strata_dump(&dir, &[]));

    let mid = stamps[75];
    for flags in [
        vec![r#"--match={__name__="rw_gauge", zone=~"eu.*|ü[^x]*"}"#.to_owned()],
        vec![r#"--match=rw_total"#.to_owned()],
        vec![
            format!("--min-time={mid}"),
            format!("--max-time={}", mid + 100_000),
        ],
    ] {
        let p = promtool_dump(&promtool, &dir, &flags);
        assert_same_dump(&format!("dump {flags:?}"), &p, &strata_dump(&dir, &flags));
    }
}

/// Four hours of remote-written data make Prometheus compact its head into a block and
/// truncate it: Strata dumps the block plus what the WAL still holds above it as promtool
/// does.
#[test]
fn prometheus_compacted_block_and_wal_dump_identically() {
    let Some(promtool) = strata_testkit::require_tool("promtool") else {
        return;
    };
    let Some(prometheus) = strata_testkit::require_tool("prometheus") else {
        return;
    };
    let tmp = tempdir();
    let dir = tmp.path().join("data");
    let (guard, addr) = start_prometheus(&prometheus, tmp.path(), &dir);

    // 4 h at 30 s steps, sent oldest first in 20-minute slices: every slice is within the
    // hour the head accepts behind its newest sample.
    let start = now_ms() - 4 * 3_600_000;
    let stamps: Vec<i64> = (0..480).map(|i| start + i * 30_000).collect();
    let mut all: Vec<Series<'_>> = Vec::new();
    for k in 0..4 {
        all.push((
            vec![
                ("__name__", "rw_compacted".into()),
                ("shard", format!("s{k}")),
            ],
            stamps
                .iter()
                .enumerate()
                .map(|(i, &t)| {
                    let v = if i % 13 == 5 {
                        f64::NAN
                    } else {
                        (i * (k + 1)) as f64 / 7.0
                    };
                    (t, v)
                })
                .collect(),
        ));
    }
    remote_write_in_slices(addr, &all, 40);

    // The head now spans more than 3 h: the commit triggers a head compaction.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let block = loop {
        let found = std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .find(|p| p.join("meta.json").is_file());
        if let Some(b) = found {
            // Let a compaction that cuts more than one block finish.
            std::thread::sleep(Duration::from_millis(1000));
            break b;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "Prometheus did not compact a block"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    let status = guard.terminate(Duration::from_secs(30));
    assert!(status.success(), "prometheus exit status {status}");
    let meta = std::fs::read_to_string(block.join("meta.json")).unwrap();
    let block_max: i64 = serde_json::from_str::<serde_json::Value>(&meta).unwrap()["maxTime"]
        .as_i64()
        .unwrap();

    let list = run_ok(Command::new(&promtool).args(["tsdb", "list"]).arg(&dir));
    assert!(
        stamps[0] < block_max && block_max < stamps[479],
        "the block holds part of the data and the head the rest: block max {block_max}, data {}..{}\n{list}",
        stamps[0],
        stamps[479]
    );

    let pdump = promtool_dump(&promtool, &dir, &[]);
    assert_same_series(
        "promtool dump of a compacted Prometheus dir",
        &expected(&all),
        &parse_dump(&pdump),
    );
    assert_same_dump("full dump", &pdump, &strata_dump(&dir, &[]));
    for flags in [
        vec![
            format!("--min-time={}", block_max - 600_000),
            format!("--max-time={}", block_max + 600_000),
        ],
        vec![
            r#"--match={shard=~"s[13]"}"#.to_owned(),
            format!("--max-time={}", block_max - 1),
        ],
    ] {
        let p = promtool_dump(&promtool, &dir, &flags);
        assert_same_dump(&format!("dump {flags:?}"), &p, &strata_dump(&dir, &flags));
    }
}
