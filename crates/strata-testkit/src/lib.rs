//! Test support shared by the test suites of every crate.
//!
//! Tests that need a real peer (promtool, Prometheus, VictoriaMetrics, an S3 server)
//! call [`require_tool`]. On a developer machine without the tool such a test is skipped
//! with a message; in CI (`CI=true` or `STRATA_REQUIRE_TOOLS=1`) a missing tool fails the
//! test, so nothing is skipped silently where it matters.

#![allow(clippy::print_stderr, clippy::expect_used, clippy::unwrap_used)]

use std::path::{Path, PathBuf};

/// True when missing peer tools must fail tests instead of skipping them.
pub fn tools_required() -> bool {
    let set = |k: &str| {
        std::env::var(k)
            .map(|v| !v.is_empty() && v != "0" && v != "false")
            .unwrap_or(false)
    };
    set("CI") || set("STRATA_REQUIRE_TOOLS")
}

/// Finds `name` on `PATH`. Returns `None` (and says so) when it is missing and tools
/// are not required; panics when they are.
pub fn require_tool(name: &str) -> Option<PathBuf> {
    if let Some(p) = find_on_path(name) {
        return Some(p);
    }
    if tools_required() {
        panic!("required tool `{name}` is not installed (CI must install it; see .ci/run)");
    }
    eprintln!(
        "SKIPPED: `{name}` is not installed; set CI=true or STRATA_REQUIRE_TOOLS=1 to make this a failure"
    );
    None
}

fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    p.metadata()
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// The repository's `../shared` folder (test data, bench harness).
pub fn shared_dir() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let candidates = [
        manifest.join("../../../shared"),
        PathBuf::from("/work/shared"),
    ];
    for c in candidates {
        if c.is_dir() {
            return c;
        }
    }
    panic!("the shared folder (../shared beside the repository) is missing");
}
