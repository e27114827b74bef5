//! promtool agrees that the fixtures are valid.
//!
//! Debian's promtool (2.42) is built without Kubernetes service discovery, so the check
//! runs on a copy of each fixture with its `kubernetes_sd_configs` blocks removed;
//! everything else (relabel rules, HTTP client settings, remote write) is still checked.

use std::process::Command;

use super::fixture;

/// Removes `kubernetes_sd_configs:` keys and everything indented below them.
fn without_kubernetes_sd(text: &str) -> String {
    let mut out = Vec::new();
    let mut skip_deeper_than: Option<usize> = None;
    for line in text.lines() {
        let indent = line.len() - line.trim_start().len();
        if let Some(limit) = skip_deeper_than {
            if line.trim().is_empty() || indent > limit {
                continue;
            }
            skip_deeper_than = None;
        }
        if line.trim_start().starts_with("kubernetes_sd_configs:") {
            skip_deeper_than = Some(indent);
            continue;
        }
        out.push(line);
    }
    out.join("\n") + "\n"
}

#[test]
fn promtool_accepts_the_fixtures() {
    let Some(promtool) = strata_testkit::require_tool("promtool") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    for name in ["kube-prometheus.yml", "static-and-file.yml"] {
        let text = std::fs::read_to_string(fixture(name)).unwrap();
        // Strata reads the original.
        super::parse(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let copy = dir.path().join(name);
        std::fs::write(&copy, without_kubernetes_sd(&text)).unwrap();
        let out = Command::new(&promtool)
            .args(["check", "config", "--syntax-only", "--agent"])
            .arg(&copy)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "promtool rejects {name}:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
