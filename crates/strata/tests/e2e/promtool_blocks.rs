//! Blocks written by `promtool tsdb create-blocks-from openmetrics` are dumped by
//! Strata exactly as promtool dumps them, with and without selectors and time ranges.

use std::process::Command;

use crate::data::{START_S, WINDOW_MS, openmetrics};
use crate::util::*;

#[test]
fn promtool_blocks_dump_identically() {
    let Some(promtool) = strata_testkit::require_tool("promtool") else {
        return;
    };
    let tmp = tempdir();
    let (text, want) = openmetrics();
    let input = tmp.path().join("input.om");
    std::fs::write(&input, &text).unwrap();
    let dir = tmp.path().join("data");
    run_ok(
        Command::new(&promtool)
            .args(["tsdb", "create-blocks-from", "openmetrics"])
            .arg(&input)
            .arg(&dir),
    );
    ensure_wal(&dir);

    let pdump = promtool_dump(&promtool, &dir, &[]);
    // The oracle first: promtool reads back what was generated.
    assert_same_series(
        "promtool dump of promtool blocks",
        &want,
        &parse_dump(&pdump),
    );
    assert_same_dump("full dump", &pdump, &strata_dump(&dir, &[]));
    assert_same_list(&promtool, &dir);
    for block in block_ids(&dir) {
        assert_same_analyze(&promtool, &dir, &block);
    }

    let start_ms = START_S * 1000;
    let boundary = (start_ms.div_euclid(WINDOW_MS) + 1) * WINDOW_MS;
    let cases: Vec<Vec<String>> = vec![
        vec![r#"--match={__name__="e2e_temperature"}"#.into()],
        vec![r#"--match={__name__=~"e2e_(requests|latency).*", code!="500"}"#.into()],
        vec![r#"--match={city=~".*京|Z.*"}"#.into()],
        vec![r#"--match=e2e_requests_total{path=~".*\\\\.*"}"#.into()],
        vec![r#"--match={__name__=~"e2e_latency.*", le!~"\\+Inf|0\\.1"}"#.into()],
        vec![r#"--match={__name__="no_such_metric"}"#.into()],
        vec![
            format!("--min-time={}", boundary - 3_600_000),
            format!("--max-time={}", boundary + 1_800_000),
        ],
        vec![
            format!("--min-time={}", boundary),
            format!("--max-time={}", boundary),
        ],
        vec![
            format!("--min-time={}", start_ms + 90_000),
            format!("--max-time={}", start_ms + 4 * 3_600_000 + 123),
            r#"--match={__name__=~"e2e_t.*|e2e_sparse"}"#.into(),
        ],
        vec![format!("--max-time={}", start_ms - 1)],
    ];
    for flags in cases {
        let p = promtool_dump(&promtool, &dir, &flags);
        let s = strata_dump(&dir, &flags);
        assert_same_dump(&format!("dump {flags:?}"), &p, &s);
    }
}

/// The block directories (ULIDs) of `dir`.
pub fn block_ids(dir: &std::path::Path) -> Vec<String> {
    let mut ids: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter(|e| e.path().join("meta.json").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    ids.sort();
    ids
}
