//! Endpoint specifications: `--endpoint` values and file SD targets. `host:port` is used
//! as given; `dns+host:port` is resolved (A/AAAA) on every refresh into one endpoint per
//! address, as Thanos' DNS provider does; `dnssrv+`/`dnssrvnoa+` are rejected with a
//! precise error (no SRV resolver yet).

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::error::{Error, Result};

/// One endpoint specification.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EndpointSpec {
    /// `host:port`, dialled as given.
    Static(String),
    /// `dns+host:port`: every A/AAAA address of `host`, with `port`.
    Dns { host: String, port: u16 },
}

/// Splits `host:port` (`[v6]:port` too); the port must be a number.
fn split_host_port(spec: &str, s: &str) -> Result<(String, u16)> {
    let bad = |reason: &str| Error::InvalidEndpoint {
        spec: spec.to_owned(),
        reason: reason.to_owned(),
    };
    let (host, port) = s.rsplit_once(':').ok_or_else(|| bad("want host:port"))?;
    let port: u16 = port
        .parse()
        .map_err(|_| bad("the port must be a number between 0 and 65535"))?;
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    if host.is_empty() {
        return Err(bad("empty host"));
    }
    Ok((host.to_owned(), port))
}

impl EndpointSpec {
    /// Parses an `--endpoint` value or a file SD target.
    pub fn parse(s: &str) -> Result<Self> {
        let t = s.trim();
        if t.starts_with("dnssrv+") || t.starts_with("dnssrvnoa+") {
            return Err(Error::SrvUnsupported(t.to_owned()));
        }
        if t.contains("://") {
            return Err(Error::InvalidEndpoint {
                spec: t.to_owned(),
                reason: "want host:port without a scheme".into(),
            });
        }
        if let Some(rest) = t.strip_prefix("dns+") {
            let (host, port) = split_host_port(t, rest)?;
            return Ok(EndpointSpec::Dns { host, port });
        }
        split_host_port(t, t)?;
        Ok(EndpointSpec::Static(t.to_owned()))
    }

    /// The addresses to dial now.
    pub async fn resolve(&self) -> Result<Vec<String>> {
        match self {
            EndpointSpec::Static(a) => Ok(vec![a.clone()]),
            EndpointSpec::Dns { host, port } => {
                let addrs = tokio::net::lookup_host((host.as_str(), *port))
                    .await
                    .map_err(|e| Error::InvalidEndpoint {
                        spec: format!("dns+{host}:{port}"),
                        reason: format!("lookup failed: {e}"),
                    })?;
                let mut out: Vec<String> = addrs.map(|a| a.to_string()).collect();
                out.sort();
                out.dedup();
                Ok(out)
            }
        }
    }
}

/// One group of a file SD file (Prometheus `file_sd` format); labels are ignored.
#[derive(Debug, Deserialize)]
struct FileGroup {
    #[serde(default)]
    targets: Vec<String>,
    #[serde(default)]
    #[allow(dead_code)]
    labels: BTreeMap<String, String>,
}

/// The endpoint specs of a file SD file: `[{targets: [...], labels: {...}}, ...]` in
/// JSON (`.json`) or YAML (any other name).
pub fn parse_sd_file(path: &Path, text: &str) -> Result<Vec<EndpointSpec>> {
    let err = |reason: String| Error::SdFile {
        path: path.display().to_string(),
        reason,
    };
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    let groups: Vec<FileGroup> = if path.extension().is_some_and(|e| e == "json") {
        serde_json::from_str(text).map_err(|e| err(e.to_string()))?
    } else {
        serde_saphyr::from_str(text).map_err(|e| err(e.to_string()))?
    };
    let mut specs = Vec::new();
    for g in groups {
        for t in g.targets {
            specs.push(EndpointSpec::parse(&t).map_err(|e| err(e.to_string()))?);
        }
    }
    Ok(specs)
}

/// Reads and parses a file SD file.
pub fn read_sd_file(path: &Path) -> Result<Vec<EndpointSpec>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::SdFile {
        path: path.display().to_string(),
        reason: e.to_string(),
    })?;
    parse_sd_file(path, &text)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn parses_endpoint_forms() {
        assert_eq!(
            EndpointSpec::parse("store-0:10901").unwrap(),
            EndpointSpec::Static("store-0:10901".into())
        );
        assert_eq!(
            EndpointSpec::parse("[::1]:10901").unwrap(),
            EndpointSpec::Static("[::1]:10901".into())
        );
        assert_eq!(
            EndpointSpec::parse("dns+thanos-store.monitoring.svc:10901").unwrap(),
            EndpointSpec::Dns {
                host: "thanos-store.monitoring.svc".into(),
                port: 10901
            }
        );
        let e = EndpointSpec::parse("dnssrv+_grpc._tcp.thanos-store").unwrap_err();
        assert!(e.to_string().contains("not supported yet"), "{e}");
        for bad in ["store", "store:port", ":10901", "http://a:1", "dns+a"] {
            assert!(EndpointSpec::parse(bad).is_err(), "{bad}");
        }
    }

    #[tokio::test]
    async fn dns_specs_resolve_to_addresses() {
        let s = EndpointSpec::parse("dns+localhost:10901").unwrap();
        let addrs = s.resolve().await.unwrap();
        assert!(!addrs.is_empty());
        assert!(addrs.iter().all(|a| a.ends_with(":10901")), "{addrs:?}");
    }

    #[test]
    fn parses_file_sd_in_yaml_and_json() {
        let y = "- targets: ['a:1', 'dns+b:2']\n  labels: {x: y}\n- targets: [c:3]\n";
        let specs = parse_sd_file(Path::new("f.yml"), y).unwrap();
        assert_eq!(specs.len(), 3);
        assert_eq!(specs[2], EndpointSpec::Static("c:3".into()));
        let j = r#"[{"targets":["a:1"]}]"#;
        assert_eq!(parse_sd_file(Path::new("f.json"), j).unwrap().len(), 1);
        assert!(parse_sd_file(Path::new("f.yml"), "").unwrap().is_empty());
        let e = parse_sd_file(Path::new("f.json"), "[{").unwrap_err();
        assert!(
            e.to_string().starts_with("endpoint SD file f.json: "),
            "{e}"
        );
        let e = parse_sd_file(Path::new("f.yml"), "- targets: [nope]").unwrap_err();
        assert!(e.to_string().contains("want host:port"), "{e}");
    }
}
