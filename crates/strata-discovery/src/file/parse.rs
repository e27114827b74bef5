//! The content of a `file_sd` file: a JSON or YAML list of `{targets, labels}`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;
use strata_config::yaml::null_default;

use crate::error::{Error, Result};
use crate::{ADDRESS_LABEL, LabelSet, TargetGroup};

/// The label naming the file a group comes from.
pub const FILEPATH_LABEL: &str = "__meta_filepath";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGroup {
    #[serde(default, deserialize_with = "null_default")]
    targets: Vec<String>,
    #[serde(default, deserialize_with = "null_default")]
    labels: BTreeMap<String, String>,
}

/// The source of group `index` of `path` (Prometheus' `fileSource`).
pub(crate) fn source(path: &str, index: usize) -> String {
    format!("{path}:{index}")
}

/// Parses the file `path` (the extension decides JSON or YAML) into its target groups,
/// with sources `path:index` and the `__meta_filepath` label.
pub(crate) fn parse_target_groups(path: &str, content: &[u8]) -> Result<Vec<TargetGroup>> {
    let err = |message: String| Error::TargetFile {
        path: PathBuf::from(path),
        message,
    };
    let ext = path
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    let raw: Option<Vec<Option<RawGroup>>> = match ext.as_str() {
        "json" => serde_json::from_slice(content).map_err(|e| err(e.to_string()))?,
        "yml" | "yaml" => {
            let text = std::str::from_utf8(content).map_err(|e| err(e.to_string()))?;
            strata_config::yaml::from_str(text).map_err(|e| err(e.to_string()))?
        }
        other => return Err(err(format!("unhandled file extension {other:?}"))),
    };
    let mut groups = Vec::new();
    for (i, g) in raw.unwrap_or_default().into_iter().enumerate() {
        let g = g.ok_or_else(|| err("nil target group item found".to_owned()))?;
        if g.labels.keys().any(String::is_empty) {
            return Err(err("\"\" is not a valid label name".to_owned()));
        }
        let mut labels = g.labels;
        labels.insert(FILEPATH_LABEL.to_owned(), path.to_owned());
        let targets = g
            .targets
            .into_iter()
            .map(|t| LabelSet::from([(ADDRESS_LABEL.to_owned(), t)]))
            .collect();
        groups.push(TargetGroup {
            source: source(path, i),
            targets,
            labels,
        });
    }
    Ok(groups)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn addr(a: &str) -> LabelSet {
        LabelSet::from([(ADDRESS_LABEL.to_owned(), a.to_owned())])
    }

    /// Prometheus' `fixtures/valid.json` / `valid.yml` read as the expected groups.
    fn expected(path: &str) -> Vec<TargetGroup> {
        vec![
            TargetGroup {
                source: format!("{path}:0"),
                targets: vec![addr("localhost:9090"), addr("example.org:443")],
                labels: LabelSet::from([
                    ("foo".to_owned(), "bar".to_owned()),
                    (FILEPATH_LABEL.to_owned(), path.to_owned()),
                ]),
            },
            TargetGroup {
                source: format!("{path}:1"),
                targets: vec![addr("my.domain")],
                labels: LabelSet::from([(FILEPATH_LABEL.to_owned(), path.to_owned())]),
            },
        ]
    }

    #[test]
    fn valid_json_and_yaml() {
        let json = r#"[
            {"targets": ["localhost:9090", "example.org:443"], "labels": {"foo": "bar"}},
            {"targets": ["my.domain"]}
        ]"#;
        assert_eq!(
            parse_target_groups("a/valid.json", json.as_bytes()).unwrap(),
            expected("a/valid.json")
        );
        let yaml = "- targets: ['localhost:9090', 'example.org:443']\n  labels:\n    foo: bar\n\n- targets: ['my.domain']\n";
        assert_eq!(
            parse_target_groups("a/valid.YML", yaml.as_bytes()).unwrap(),
            expected("a/valid.YML")
        );
    }

    #[test]
    fn empty_documents_have_no_groups() {
        assert!(parse_target_groups("x.json", b"[]").unwrap().is_empty());
        assert!(parse_target_groups("x.json", b"null").unwrap().is_empty());
        assert!(parse_target_groups("x.yml", b"").unwrap().is_empty());
        assert!(
            parse_target_groups("x.yml", b"# nothing\n")
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn invalid_files() {
        // Prometheus' fixtures/invalid_nil.json and .yml.
        let nil_json = r#"[{"targets": ["localhost:9090"], "labels": {"foo": "bar"}}, null]"#;
        let e = parse_target_groups("x.json", nil_json.as_bytes()).unwrap_err();
        assert!(e.to_string().contains("nil target group item found"), "{e}");
        let nil_yaml = "- targets: ['localhost:9090']\n  labels:\n    foo: bar\n-\n";
        let e = parse_target_groups("x.yml", nil_yaml.as_bytes()).unwrap_err();
        assert!(e.to_string().contains("nil target group item found"), "{e}");
        for (path, text) in [
            ("x.json", r#"[{"targets": [], "extra": 1}]"#),
            ("x.json", "[{"),
            ("x.json", r#"[{"targets": [], "labels": {"": "v"}}]"#),
            ("x.yml", "- targets: []\n  extra: 1\n"),
            ("x.yml", "- targets: [\n"),
            ("x.yml", "targets: []\n"),
        ] {
            assert!(
                parse_target_groups(path, text.as_bytes()).is_err(),
                "{path}: {text}"
            );
        }
    }

    #[test]
    fn yaml_scalars_read_as_strings() {
        let g =
            parse_target_groups("x.yml", b"- targets: ['h:1']\n  labels:\n    port: 80\n").unwrap();
        assert_eq!(g[0].labels["port"], "80");
    }
}
