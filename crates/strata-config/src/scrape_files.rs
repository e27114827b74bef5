//! `scrape_config_files`: more scrape configs read from files matching glob patterns
//! (Prometheus' `Config.GetScrapeConfigs`). Each file holds only `scrape_configs`; its
//! entries inherit from the main file's `global`, job names must stay unique across all
//! files, and relative paths are relative to the file that holds them.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::scrape::ScrapeConfig;
use crate::yaml::null_default;
use crate::{Config, paths};

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct ScrapeConfigFile {
    #[serde(deserialize_with = "null_default")]
    scrape_configs: Vec<ScrapeConfig>,
}

/// Matches one path component against a pattern with `*` (any run of characters) and
/// `?` (one character).
fn component_matches(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    let (mut pi, mut ni) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ni < n.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == n[ni]) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            pi += 1;
            mark = ni;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ni = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// The files matching `pattern` (wildcards only in the last component), sorted.
fn glob(pattern: &str) -> Result<Vec<PathBuf>> {
    let path = Path::new(pattern);
    let Some(file_pattern) = path.file_name().and_then(|f| f.to_str()) else {
        return Ok(Vec::new());
    };
    if !file_pattern.contains(['*', '?']) {
        return Ok(if path.exists() {
            vec![path.to_owned()]
        } else {
            Vec::new()
        });
    }
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(Error::Io {
                path: dir.to_owned(),
                source,
            });
        }
    };
    let mut out: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .filter(|e| {
            e.file_name()
                .to_str()
                .is_some_and(|n| component_matches(file_pattern, n))
        })
        .map(|e| e.path())
        .collect();
    out.sort();
    Ok(out)
}

/// Appends the scrape configs of every file matching `cfg.scrape_config_files`.
pub(crate) fn load_scrape_config_files(cfg: &mut Config) -> Result<()> {
    let mut jobs: HashSet<String> = cfg
        .scrape_configs
        .iter()
        .map(|s| s.job_name.clone())
        .collect();
    for pattern in cfg.scrape_config_files.clone() {
        for file in glob(&pattern)? {
            let text = std::fs::read_to_string(&file).map_err(|source| Error::Io {
                path: file.clone(),
                source,
            })?;
            let in_file = |e: Error| e.in_file(file.clone());
            let parsed: ScrapeConfigFile = crate::yaml::from_str(&text).map_err(in_file)?;
            let mut extra = Config {
                scrape_configs: parsed.scrape_configs,
                ..Config::default()
            };
            for (i, sc) in extra.scrape_configs.iter_mut().enumerate() {
                sc.apply_global(&cfg.global).map_err(|(f, m)| {
                    in_file(Error::invalid(format!("scrape_configs[{i}].{f}"), m))
                })?;
                if !jobs.insert(sc.job_name.clone()) {
                    return Err(in_file(Error::invalid(
                        format!("scrape_configs[{i}].job_name"),
                        format!(
                            "found multiple scrape configs with job name {:?}",
                            sc.job_name
                        ),
                    )));
                }
            }
            let dir = file.parent().unwrap_or(Path::new("."));
            paths::set_directory(&mut extra, dir);
            cfg.scrape_configs.append(&mut extra.scrape_configs);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        assert!(component_matches("*.yml", "a.yml"));
        assert!(component_matches("job-?.yml", "job-1.yml"));
        assert!(!component_matches("*.yml", "a.yaml"));
        assert!(component_matches("a*b*c", "aXXbYYc"));
        assert!(!component_matches("a*b", "abc"));
    }
}
