//! The hashrings file: Thanos' `--receive.hashrings-file` format.
//!
//! ```json
//! [
//!   {"hashring": "tenant-a", "tenants": ["a", "b"], "algorithm": "ketama",
//!    "endpoints": [{"address": "r1:10901", "az": "z1"}, "r2:10901"],
//!    "external_labels": {"team": "a"}},
//!   {"hashring": "default", "endpoints": ["r3:10901"]}
//! ]
//! ```
//!
//! Defaults as in Thanos: no `algorithm` means the command-line default, no
//! `tenant_matcher_type` means `exact`, no `tenants` makes the ring the catch-all.
//! [`parse_config`] checks syntax, types and the enumerations; [`super::build`] checks the
//! rest (duplicate endpoints, AZs with hashmod, replication factor, glob syntax).

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use strata_model::Labels;

use super::Endpoint;
use super::json::{self, RawRing};
use crate::error::{Error, Result};

/// How a ring places series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// `endpoints[(hash + n) % len]` over endpoints sorted by address.
    Hashmod,
    /// Consistent hashing with 1000 sections per endpoint and AZ-aware replicas.
    Ketama,
}

impl Algorithm {
    /// The name used in the file and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Hashmod => "hashmod",
            Algorithm::Ketama => "ketama",
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Algorithm {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "hashmod" => Ok(Algorithm::Hashmod),
            "ketama" => Ok(Algorithm::Ketama),
            other => Err(Error::HashringConfig(unknown_algorithm(other))),
        }
    }
}

fn unknown_algorithm(name: &str) -> String {
    format!("unknown algorithm {name:?} (expected \"hashmod\" or \"ketama\")")
}

/// How a ring's `tenants` are compared with a request's tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum TenantMatcherType {
    /// String equality (the default).
    #[default]
    Exact,
    /// Go `path.Match` patterns.
    Glob,
}

impl TenantMatcherType {
    pub fn as_str(self) -> &'static str {
        match self {
            TenantMatcherType::Exact => "exact",
            TenantMatcherType::Glob => "glob",
        }
    }
}

impl fmt::Display for TenantMatcherType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One element of the hashrings file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HashringConfig {
    /// The ring's name (may be empty).
    pub hashring: String,
    /// Tenants routed to this ring; empty makes it the catch-all.
    pub tenants: Vec<String>,
    pub tenant_matcher_type: TenantMatcherType,
    /// As written (order matters for nothing but `endpoints()` of a ketama ring).
    pub endpoints: Vec<Endpoint>,
    /// `None` when the file does not set it: the command-line default applies.
    pub algorithm: Option<Algorithm>,
    /// Labels added to the blocks of the tenants this ring lists by name.
    pub external_labels: Labels,
}

/// Parses the content of a hashrings file (Thanos' `ParseConfig`). `[]` and `null` give
/// an empty list.
pub fn parse_config(content: &[u8]) -> Result<Vec<HashringConfig>> {
    let raw = json::decode(content)
        .map_err(|e| Error::HashringConfig(format!("configuration file is not parsable: {e}")))?;
    raw.into_iter()
        .enumerate()
        .map(|(i, r)| {
            let what = ring_label(i, &r.hashring);
            convert(r).map_err(|msg| Error::HashringConfig(format!("{what}: {msg}")))
        })
        .collect()
}

/// Reads and parses a hashrings file (Thanos' `loadConfig`): an empty list is an error.
pub fn load_config_file(path: impl AsRef<Path>) -> Result<Vec<HashringConfig>> {
    let path = path.as_ref();
    let content = std::fs::read(path).map_err(|source| Error::HashringFile {
        path: path.to_owned(),
        source,
    })?;
    let configs = parse_config(&content)?;
    if configs.is_empty() {
        return Err(Error::HashringConfig(format!(
            "configuration file is empty: {}",
            path.display()
        )));
    }
    Ok(configs)
}

/// How errors name a ring: its position in the file and its name.
pub(super) fn ring_label(index: usize, name: &str) -> String {
    if name.is_empty() {
        format!("hashring #{index}")
    } else {
        format!("hashring #{index} ({name:?})")
    }
}

fn convert(raw: RawRing) -> std::result::Result<HashringConfig, String> {
    let algorithm = match raw.algorithm.as_str() {
        "" => None,
        other => Some(
            other
                .parse::<Algorithm>()
                .map_err(|_| unknown_algorithm(other))?,
        ),
    };
    let tenant_matcher_type = match raw.tenant_matcher_type.as_str() {
        "" | "exact" => TenantMatcherType::Exact,
        "glob" => TenantMatcherType::Glob,
        other => {
            return Err(format!(
                "unknown tenant_matcher_type {other:?} (expected \"exact\" or \"glob\")"
            ));
        }
    };
    if raw.shard_size > 0 {
        return Err(format!(
            "shuffle_sharding_config.shard_size {} is set, but shuffle sharding is not supported",
            raw.shard_size
        ));
    }
    let endpoints = raw
        .endpoints
        .into_iter()
        .enumerate()
        .map(|(i, e)| {
            if e.address.is_empty() {
                Err(format!("endpoint #{i}: endpoint address must be set"))
            } else {
                Ok(Endpoint {
                    address: e.address,
                    az: e.az,
                })
            }
        })
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let pairs: Vec<(&str, &str)> = raw
        .external_labels
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let external_labels = Labels::new(&pairs).map_err(|e| format!("external_labels: {e}"))?;
    Ok(HashringConfig {
        hashring: raw.hashring,
        tenants: raw.tenants,
        tenant_matcher_type,
        endpoints,
        algorithm,
        external_labels,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn err(json: &str) -> String {
        parse_config(json.as_bytes()).unwrap_err().to_string()
    }

    #[test]
    fn defaults() {
        let c = parse_config(br#"[{"endpoints": ["a:1"]}]"#).unwrap();
        assert_eq!(
            c,
            [HashringConfig {
                endpoints: vec![Endpoint::new("a:1")],
                ..Default::default()
            }]
        );
    }

    #[test]
    fn full_ring() {
        let c = parse_config(
            br#"[{"hashring": "h", "tenants": ["t*"], "tenant_matcher_type": "glob",
                  "algorithm": "ketama", "endpoints": [{"address": "a:1", "az": "z"}],
                  "external_labels": {"b": "2", "a": "1"},
                  "shuffle_sharding_config": {"shard_size": 0, "cache_size": 5}}]"#,
        )
        .unwrap();
        let r = &c[0];
        assert_eq!(r.hashring, "h");
        assert_eq!(r.tenants, ["t*"]);
        assert_eq!(r.tenant_matcher_type, TenantMatcherType::Glob);
        assert_eq!(r.algorithm, Some(Algorithm::Ketama));
        assert_eq!(r.endpoints, [Endpoint::with_az("a:1", "z")]);
        assert_eq!(r.external_labels.to_string(), r#"{a="1", b="2"}"#);
    }

    #[test]
    fn precise_errors() {
        assert_eq!(
            err(
                r#"[{"endpoints": ["a"]}, {"hashring": "x", "algorithm": "ketma", "endpoints": ["a"]}]"#
            ),
            "hashring configuration: hashring #1 (\"x\"): unknown algorithm \"ketma\" \
             (expected \"hashmod\" or \"ketama\")"
        );
        assert_eq!(
            err(r#"[{"tenant_matcher_type": "regex", "endpoints": ["a"]}]"#),
            "hashring configuration: hashring #0: unknown tenant_matcher_type \"regex\" \
             (expected \"exact\" or \"glob\")"
        );
        assert_eq!(
            err(r#"[{"endpoints": ["a", {"az": "z"}]}]"#),
            "hashring configuration: hashring #0: endpoint #1: endpoint address must be set"
        );
        assert!(
            err(r#"[{"endpoints": ["a"], "shuffle_sharding_config": {"shard_size": 2}}]"#)
                .contains("shuffle sharding is not supported")
        );
        assert!(
            err(r#"[{"endpoints": ["a"], "external_labels": {"": "x"}}]"#)
                .contains("external_labels")
        );
        let e = err(r#"[{"endpoints": [1]}]"#);
        assert!(e.starts_with("hashring configuration: configuration file is not parsable: "));
        assert!(e.contains("line 1 column"), "{e}");
    }

    #[test]
    fn empty_file_is_an_error_only_when_loaded() {
        assert!(parse_config(b"[]").unwrap().is_empty());
        let dir = tempfile_dir();
        let path = dir.join("empty.json");
        std::fs::write(&path, "[]").unwrap();
        assert!(
            load_config_file(&path)
                .unwrap_err()
                .to_string()
                .contains("configuration file is empty")
        );
        let missing = dir.join("missing.json");
        assert!(matches!(
            load_config_file(&missing),
            Err(Error::HashringFile { .. })
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    fn tempfile_dir() -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "strata-hashring-config-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}
