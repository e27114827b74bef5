//! `file_sd_configs`: target groups read from JSON and YAML files (Prometheus'
//! `discovery/file`).
//!
//! Files are polled: every poll interval the patterns are expanded and each file's
//! modification time, size and inode are compared with the last read; changed files are
//! re-read. Every `refresh_interval` all files are re-read. A file that fails to read or
//! parse keeps its previous groups (the error is logged, as Prometheus does); a file that
//! disappears (or shrinks) removes its groups with empty groups. Only groups whose
//! content changed are sent.

mod glob;
mod parse;

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use strata_config::discovery::FileSdConfig;

use crate::{TargetGroup, Updates};

pub use parse::FILEPATH_LABEL;

/// How often files are checked for changes unless [`FileDiscovery::with_poll_interval`]
/// says otherwise.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(1);

/// One `file_sd_configs` entry.
#[derive(Debug, Clone)]
pub struct FileDiscovery {
    patterns: Vec<String>,
    refresh_interval: Duration,
    poll_interval: Duration,
}

impl FileDiscovery {
    /// The discovery of `cfg` (paths as in the configuration; `strata_config::load` has
    /// made them relative to the configuration file's directory).
    pub fn new(cfg: &FileSdConfig) -> Self {
        FileDiscovery {
            patterns: cfg.files.clone(),
            refresh_interval: cfg.refresh_interval.to_std(),
            poll_interval: DEFAULT_POLL_INTERVAL,
        }
    }

    /// Checks for changed files every `interval` (default [`DEFAULT_POLL_INTERVAL`]).
    pub fn with_poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = interval.max(Duration::from_millis(1));
        self
    }

    /// Reads the files now and sends their groups, then keeps watching them. Returns when
    /// the receiver of `tx` is gone.
    pub async fn run(self, tx: Updates) {
        let mut files = FileSet::new(self.patterns);
        let refresh = self.refresh_interval.max(Duration::from_millis(1));
        let mut next_full = tokio::time::Instant::now();
        let mut poll = tokio::time::interval(self.poll_interval);
        poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = poll.tick() => {}
                _ = tx.closed() => return,
            }
            let force = tokio::time::Instant::now() >= next_full;
            if force {
                next_full = tokio::time::Instant::now() + refresh;
            }
            let result = tokio::task::spawn_blocking(move || {
                let changes = files.refresh(force);
                (files, changes)
            })
            .await;
            let changes;
            (files, changes) = match result {
                Ok(r) => r,
                Err(e) => {
                    tracing::error!(error = %e, "file discovery refresh panicked");
                    return;
                }
            };
            if !changes.is_empty() && tx.send(changes).await.is_err() {
                return;
            }
        }
    }
}

/// What identifies a version of a file without reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    modified: Option<SystemTime>,
    len: u64,
    inode: u64,
}

impl Stamp {
    fn of(path: &str) -> Option<Stamp> {
        let m = std::fs::metadata(path).ok()?;
        #[cfg(unix)]
        let inode = std::os::unix::fs::MetadataExt::ino(&m);
        #[cfg(not(unix))]
        let inode = 0;
        Some(Stamp {
            modified: m.modified().ok(),
            len: m.len(),
            inode,
        })
    }
}

#[derive(Debug, Default)]
struct FileState {
    /// The stamp of the last read attempt (successful or not).
    stamp: Option<Stamp>,
    /// The groups last sent for the file.
    groups: Vec<TargetGroup>,
}

/// The files of one configuration and what was last sent for each.
#[derive(Debug)]
struct FileSet {
    patterns: Vec<String>,
    files: BTreeMap<String, FileState>,
}

impl FileSet {
    fn new(patterns: Vec<String>) -> Self {
        FileSet {
            patterns,
            files: BTreeMap::new(),
        }
    }

    /// The files the patterns match now, each once, in pattern order.
    fn list(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for p in &self.patterns {
            match glob::glob(p) {
                Ok(paths) => {
                    for path in paths {
                        if !out.contains(&path) {
                            out.push(path);
                        }
                    }
                }
                Err(glob::BadPattern) => {
                    tracing::error!(glob = %p, "error expanding glob: syntax error in pattern");
                }
            }
        }
        out
    }

    /// Re-reads the files whose stamp changed (all of them when `force`), and returns
    /// the groups that changed, including empty groups for groups that are gone.
    fn refresh(&mut self, force: bool) -> Vec<TargetGroup> {
        let paths = self.list();
        let mut changes = Vec::new();
        for path in &paths {
            let stamp = Stamp::of(path);
            let state = self.files.entry(path.clone()).or_default();
            if !force && state.stamp.is_some() && state.stamp == stamp {
                continue;
            }
            state.stamp = stamp;
            let read = std::fs::read(path)
                .map_err(|e| crate::Error::io(path, e))
                .and_then(|content| parse::parse_target_groups(path, &content));
            match read {
                Ok(groups) => {
                    diff_into(&state.groups, &groups, &mut changes);
                    state.groups = groups;
                }
                Err(e) => {
                    tracing::error!(path = %path, error = %e, "error reading file");
                }
            }
        }
        let gone: Vec<String> = self
            .files
            .keys()
            .filter(|f| !paths.contains(f))
            .cloned()
            .collect();
        for path in gone {
            if let Some(state) = self.files.remove(&path) {
                tracing::debug!(path = %path, "file_sd refresh found file that should be removed");
                diff_into(&state.groups, &[], &mut changes);
            }
        }
        changes
    }
}

/// Appends to `out` what turns `old` into `new` (both indexed by position).
fn diff_into(old: &[TargetGroup], new: &[TargetGroup], out: &mut Vec<TargetGroup>) {
    for (i, g) in new.iter().enumerate() {
        if old.get(i) != Some(g) {
            out.push(g.clone());
        }
    }
    for g in old.iter().skip(new.len()) {
        out.push(TargetGroup::empty(g.source.clone()));
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn refresh_reports_only_changes() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap();
        let a = format!("{d}/a.json");
        std::fs::write(&a, r#"[{"targets": ["h:1"]}, {"targets": ["h:2"]}]"#).unwrap();
        let mut set = FileSet::new(vec![format!("{d}/*.json")]);
        assert_eq!(set.refresh(false).len(), 2);
        assert!(set.refresh(false).is_empty());
        assert!(set.refresh(true).is_empty());

        // Shrinks: the second group goes, the first is unchanged.
        std::fs::write(&a, r#"[{"targets": ["h:1"]}]"#).unwrap();
        let changes = set.refresh(false);
        assert_eq!(changes, vec![TargetGroup::empty(format!("{a}:1"))]);

        // Invalid: nothing changes, the groups stay.
        std::fs::write(&a, "[{").unwrap();
        assert!(set.refresh(false).is_empty());
        assert_eq!(set.files[&a].groups.len(), 1);

        std::fs::remove_file(&a).unwrap();
        assert_eq!(
            set.refresh(false),
            vec![TargetGroup::empty(format!("{a}:0"))]
        );
        assert!(set.files.is_empty());
    }
}
