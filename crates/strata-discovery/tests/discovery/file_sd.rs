//! file_sd over temporary files (Prometheus' `discovery/file` fixtures): JSON and YAML
//! through globs, changes, invalid files keeping their groups, removal, new files.

use std::path::Path;
use std::time::Duration;

use strata_discovery::TargetGroup;
use strata_discovery::file::FileDiscovery;

use crate::{Collector, fixture_text, group, job_sd, ls, state};

/// Writes through a temporary file and a rename, so the poller never sees a half
/// written file.
fn write_atomic(to: &Path, content: &str) {
    let tmp = to.with_extension("tmp");
    std::fs::write(&tmp, content).unwrap();
    std::fs::rename(&tmp, to).unwrap();
}

fn copy_fixture(name: &str, to: &Path) {
    write_atomic(to, &fixture_text(&format!("file/{name}")));
}

/// The groups of Prometheus' `valid.json` / `valid.yml` read from `path`.
fn valid(path: &str) -> Vec<TargetGroup> {
    vec![
        group(
            &format!("{path}:0"),
            ls(&[("foo", "bar"), ("__meta_filepath", path)]),
            vec![
                ls(&[("__address__", "localhost:9090")]),
                ls(&[("__address__", "example.org:443")]),
            ],
        ),
        group(
            &format!("{path}:1"),
            ls(&[("__meta_filepath", path)]),
            vec![ls(&[("__address__", "my.domain")])],
        ),
    ]
}

/// The groups of Prometheus' `valid2.yml` read from `path`.
fn valid2(path: &str) -> Vec<TargetGroup> {
    vec![
        group(
            &format!("{path}:0"),
            ls(&[("__meta_filepath", path)]),
            vec![ls(&[("__address__", "my.domain")])],
        ),
        group(
            &format!("{path}:1"),
            ls(&[("foo", "bar"), ("fred", "baz"), ("__meta_filepath", path)]),
            vec![ls(&[("__address__", "localhost:9090")])],
        ),
        group(
            &format!("{path}:2"),
            ls(&[("scheme", "https"), ("__meta_filepath", path)]),
            vec![ls(&[("__address__", "example.org:443")])],
        ),
    ]
}

fn start(dir: &Path, patterns: &[&str]) -> Collector {
    let files: Vec<String> = patterns
        .iter()
        .map(|p| format!("'{}/{p}'", dir.display()))
        .collect();
    let sd = job_sd(&format!(
        "  file_sd_configs:\n  - files: [{}]\n    refresh_interval: 1h\n",
        files.join(", ")
    ));
    let d =
        FileDiscovery::new(&sd.file_sd_configs[0]).with_poll_interval(Duration::from_millis(20));
    Collector::spawn(|tx| d.run(tx))
}

#[tokio::test]
async fn json_and_yaml_through_globs() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap().to_owned();
    let json = format!("{d}/valid.json");
    let yml = format!("{d}/targets-a.yml");
    copy_fixture("valid.json", Path::new(&json));
    copy_fixture("valid.yml", Path::new(&yml));
    std::fs::write(format!("{d}/ignored.txt"), "not a target file").unwrap();
    let mut c = start(dir.path(), &["*.json", "targets-*.yml"]);

    let mut want = state([valid(&json), valid(&yml)].concat());
    c.wait_for(&want).await;

    // A change: the file grows to three groups.
    copy_fixture("valid2.yml", Path::new(&yml));
    want.extend(state(valid2(&yml)));
    c.wait_for(&want).await;

    // Invalid content keeps the previous groups (the error is logged).
    write_atomic(Path::new(&yml), "- targets: ['a:1']\n  bogus: field\n");
    c.assert_quiet().await;
    copy_fixture("invalid_nil.json", Path::new(&json));
    c.assert_quiet().await;

    // Valid again, with fewer groups: the third group goes.
    copy_fixture("valid.yml", Path::new(&yml));
    want.extend(state(valid(&yml)));
    want.insert(format!("{yml}:2"), TargetGroup::empty(format!("{yml}:2")));
    c.wait_for(&want).await;

    // Removal removes the file's groups; a new matching file adds its own.
    std::fs::remove_file(&json).unwrap();
    let yml2 = format!("{d}/targets-b.yml");
    copy_fixture("valid.yml", Path::new(&yml2));
    want.insert(format!("{json}:0"), TargetGroup::empty(format!("{json}:0")));
    want.insert(format!("{json}:1"), TargetGroup::empty(format!("{json}:1")));
    want.extend(state(valid(&yml2)));
    c.wait_for(&want).await;
}

#[tokio::test]
async fn missing_files_send_nothing_until_they_appear() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = start(dir.path(), &["sd.json"]);
    c.assert_quiet().await;
    let path = format!("{}/sd.json", dir.path().display());
    write_atomic(
        Path::new(&path),
        r#"[{"targets": ["h:1"], "labels": {"env": "prod"}}]"#,
    );
    let want = state(vec![group(
        &format!("{path}:0"),
        ls(&[("env", "prod"), ("__meta_filepath", &path)]),
        vec![ls(&[("__address__", "h:1")])],
    )]);
    c.wait_for(&want).await;
}
