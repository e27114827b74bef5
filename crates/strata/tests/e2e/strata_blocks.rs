//! Data written by Strata is read correctly by the real Prometheus tools.

use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::data::{WINDOW_MS, openmetrics, per_window};
use crate::util::*;

/// `strata tools tsdb import-openmetrics` blocks: promtool lists and analyzes them with
/// the right counts, and `promtool tsdb dump` prints exactly the generated samples.
#[test]
fn strata_import_blocks_are_read_by_promtool() {
    let Some(promtool) = strata_testkit::require_tool("promtool") else {
        return;
    };
    let tmp = tempdir();
    let (text, want) = openmetrics();
    let input = tmp.path().join("input.om");
    std::fs::write(&input, &text).unwrap();
    let dir = tmp.path().join("data");
    let out = run_ok(
        strata()
            .args(["tools", "tsdb", "import-openmetrics"])
            .arg(&input)
            .arg(&dir),
    );
    let windows = per_window(&want);
    assert!(windows.len() > 2, "the data spans more than two windows");
    assert_eq!(
        out.lines().filter(|l| l.starts_with("BLOCK ULID")).count(),
        windows.len(),
        "one block per window:\n{out}"
    );
    ensure_wal(&dir);

    // promtool tsdb list: one row per window with its series and sample counts.
    let list = run_ok(Command::new(&promtool).args(["tsdb", "list"]).arg(&dir));
    let mut rows: BTreeMap<i64, (String, usize, usize, usize)> = BTreeMap::new();
    for line in list.lines().skip(1) {
        let cols: Vec<&str> = line.split_whitespace().collect();
        assert!(cols.len() >= 7, "promtool tsdb list row: {line:?}");
        let mint: i64 = cols[1].parse().unwrap();
        let samples: usize = cols[4].parse().unwrap();
        let chunks: usize = cols[5].parse().unwrap();
        let series: usize = cols[6].parse().unwrap();
        let win = mint.div_euclid(WINDOW_MS) * WINDOW_MS;
        rows.insert(win, (cols[0].to_owned(), samples, chunks, series));
    }
    assert_eq!(
        rows.keys().collect::<Vec<_>>(),
        windows.keys().collect::<Vec<_>>(),
        "promtool tsdb list windows:\n{list}"
    );
    // Full windows hold series of 240 and 480 samples: more than one chunk each.
    assert!(
        rows.values().any(|r| r.2 > r.3),
        "multi-chunk series:\n{list}"
    );
    for (win, (ulid, samples, chunks, series)) in &rows {
        let (want_samples, want_series) = windows[win];
        assert_eq!(
            (*samples, *series),
            (want_samples, want_series),
            "samples and series of block {ulid}:\n{list}"
        );
        assert!(
            *chunks >= *series,
            "block {ulid}: a chunk per series at least"
        );

        // promtool tsdb analyze on each block reports its series count.
        let analyze = run_ok(
            Command::new(&promtool)
                .args(["tsdb", "analyze"])
                .arg(&dir)
                .arg(ulid),
        );
        assert!(
            analyze.contains(&format!("Block ID: {ulid}"))
                && analyze.contains(&format!("\nSeries: {want_series}\n")),
            "promtool tsdb analyze {ulid}:\n{analyze}"
        );
    }

    assert_same_list(&promtool, &dir);
    for ulid in rows.values().map(|r| &r.0) {
        assert_same_analyze(&promtool, &dir, ulid);
    }

    // promtool tsdb dump: exactly what went in.
    let pdump = promtool_dump(&promtool, &dir, &[]);
    assert_same_series("promtool dump of Strata blocks", &want, &parse_dump(&pdump));
    // And Strata's own dump agrees byte for byte.
    assert_same_dump("dump of Strata blocks", &pdump, &strata_dump(&dir, &[]));
}

/// `strata up` writes its self-scrape into a WAL that promtool reads: the `up` series
/// is there, and promtool's dump equals Strata's.
#[test]
fn strata_up_wal_is_read_by_promtool() {
    let Some(promtool) = strata_testkit::require_tool("promtool") else {
        return;
    };
    let tmp = tempdir();
    let dir = tmp.path().join("data");
    let mut child = strata()
        .args([
            "up",
            "--http-address",
            "127.0.0.1:0",
            "--scrape-interval",
            "1s",
        ])
        .arg("--data-dir")
        .arg(&dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let lines = stderr_lines(&mut child);
    let mut guard = ChildGuard::new("strata up", child);
    let addr = loop {
        let line = lines
            .recv_timeout(Duration::from_secs(20))
            .expect("strata up logs its address");
        if !line.contains("strata up: serving") {
            continue;
        }
        if let Some(a) = line
            .split_whitespace()
            .find_map(|w| w.strip_prefix("address="))
        {
            break a.parse::<std::net::SocketAddr>().unwrap();
        }
    };
    assert!(addr.ip().is_loopback());
    wait_ready(addr, Duration::from_secs(20), &mut guard);
    let (code, body) = http_get(addr, "/metrics").unwrap();
    assert_eq!(code, 200);
    assert!(String::from_utf8_lossy(&body).contains('\n'));
    // Two self-scrapes at least (the first runs at start).
    std::thread::sleep(Duration::from_millis(2200));
    // The Prometheus HTTP API on the same port, as Grafana calls it.
    let (code, body) = http_get(addr, "/api/v1/query?query=1%2B1&time=10").unwrap();
    assert_eq!(
        (code, String::from_utf8_lossy(&body).as_ref()),
        (
            200,
            r#"{"status":"success","data":{"resultType":"scalar","result":[10,"2"]}}"#
        )
    );
    let (code, body) = http_get(addr, "/api/v1/query?query=up").unwrap();
    let body = String::from_utf8_lossy(&body).into_owned();
    assert_eq!(code, 200, "{body}");
    assert!(
        body.contains(r#""resultType":"vector""#)
            && body.contains(r#""job":"strata""#)
            && body.contains(r#","1"]"#),
        "{body}"
    );
    let (code, body) = http_get(addr, "/api/v1/label/job/values").unwrap();
    assert_eq!(
        (code, String::from_utf8_lossy(&body).as_ref()),
        (200, r#"{"status":"success","data":["strata"]}"#)
    );
    let (code, body) = http_get(addr, "/api/v1/query?query=sum(").unwrap();
    assert_eq!(code, 400, "{}", String::from_utf8_lossy(&body));
    let status = guard.terminate(Duration::from_secs(20));
    assert!(status.success(), "strata up exit status {status}");
    let rest: Vec<String> = lines.try_iter().collect();
    assert!(
        !rest.iter().any(|l| l.contains("panicked")),
        "strata up stderr: {rest:#?}"
    );

    // The default tenant's TSDB, as Thanos receive lays tenants out.
    let dir = dir.join("tsdb").join("default-tenant");
    assert!(dir.join("wal").is_dir(), "strata up keeps a WAL");
    let pdump = promtool_dump(&promtool, &dir, &[]);
    let series = parse_dump(&pdump);
    let up: Vec<_> = series
        .iter()
        .filter(|(l, _)| l.iter().any(|(n, v)| n == "__name__" && v == "up"))
        .collect();
    assert_eq!(up.len(), 1, "one `up` series in:\n{pdump}");
    let (labels, samples) = up[0];
    assert!(
        labels.contains(&("job".into(), "strata".into()))
            && labels.contains(&("instance".into(), addr.to_string())),
        "labels of up: {labels:?}"
    );
    assert!(samples.len() >= 2, "self-scraped `up` samples: {samples:?}");
    assert!(samples.iter().all(|s| s.1 == 1.0));
    assert_same_dump("dump of strata up's WAL", &pdump, &strata_dump(&dir, &[]));
}
