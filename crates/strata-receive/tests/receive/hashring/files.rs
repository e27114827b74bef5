//! The hashrings file: Thanos' `config_test.go` cases, the examples of Thanos'
//! `docs/components/receive.md`, and `load_file`.

use std::path::PathBuf;

use strata_receive::Error;
use strata_receive::hashring::{
    Algorithm, Endpoint, Hashring, TenantMatcherType, hash_series, load_file, parse_config,
};

use super::{ketama, labels, zoned};

/// A file in a fresh directory under the system temporary directory; removed on drop.
struct TempFile {
    dir: PathBuf,
    path: PathBuf,
}

impl TempFile {
    fn new(name: &str, content: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "strata-receive-hashring-{}-{name}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("hashrings.json");
        std::fs::write(&path, content).unwrap();
        TempFile { dir, path }
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `TestUnmarshalEndpointSlice` (the Cap'n Proto address is accepted and not kept).
#[test]
fn endpoint_forms() {
    let endpoints = |json: &str| {
        parse_config(format!(r#"[{{"endpoints": {json}}}]"#).as_bytes())
            .map(|mut c| c.remove(0).endpoints)
    };
    assert!(endpoints(r#"[{"az": "az-1"}]"#).is_err());
    assert_eq!(
        endpoints(r#"["node-1"]"#).unwrap(),
        [Endpoint::new("node-1")]
    );
    assert_eq!(
        endpoints(r#"[{"address": "node-1", "az": "az-1"}]"#).unwrap(),
        [Endpoint::with_az("node-1", "az-1")]
    );
    assert_eq!(
        endpoints(r#"["node-1:80"]"#).unwrap(),
        [Endpoint::new("node-1:80")]
    );
    assert_eq!(
        endpoints(r#"[{"address": "node-1", "capnproto_address": "node-1:81"}]"#).unwrap(),
        [Endpoint::new("node-1")]
    );
}

/// `TestValidateConfig`: what loading a file accepts.
#[test]
fn load_file_validation() {
    for (name, content, want) in [
        ("null", "null", "configuration file is empty"),
        ("empty", "[]", "configuration file is empty"),
        ("unparsable", "{}", "configuration file is not parsable"),
    ] {
        let file = TempFile::new(name, content);
        let err = load_file(&file.path, Algorithm::Hashmod, 1).unwrap_err();
        assert!(err.to_string().contains(want), "{name}: {err}");
    }
    let file = TempFile::new("valid", r#"[{"endpoints": [{"address": "node1"}]}]"#);
    let rings = load_file(&file.path, Algorithm::Hashmod, 1).unwrap();
    assert_eq!(rings.endpoints(), [Endpoint::new("node1")]);

    let missing = std::env::temp_dir().join("strata-receive-hashring-missing/none.json");
    assert!(matches!(
        load_file(&missing, Algorithm::Hashmod, 1),
        Err(Error::HashringFile { .. })
    ));
}

/// The AZ-aware example of Thanos' receive docs, loaded from a file: placement equals a
/// ketama ring built directly, and every series' three replicas are in three zones.
#[test]
fn docs_az_example() {
    let file = TempFile::new(
        "az",
        r#"[
            {
                "endpoints": [
                    {"address": "127.0.0.1:10907", "az": "A"},
                    {"address": "127.0.0.1:11907", "az": "B"},
                    {"address": "127.0.0.1:12907", "az": "C"},
                    {"address": "127.0.0.1:13907", "az": "A"},
                    {"address": "127.0.0.1:14907", "az": "B"},
                    {"address": "127.0.0.1:15907", "az": "C"}
                ]
            }
        ]"#,
    );
    let rings = load_file(&file.path, Algorithm::Ketama, 3).unwrap();
    let direct = ketama(
        zoned(&[
            ("127.0.0.1:10907", "A"),
            ("127.0.0.1:11907", "B"),
            ("127.0.0.1:12907", "C"),
            ("127.0.0.1:13907", "A"),
            ("127.0.0.1:14907", "B"),
            ("127.0.0.1:15907", "C"),
        ]),
        3,
    );
    for i in 0..200 {
        let s = labels(&[("__name__", "x"), ("i", &i.to_string())]);
        let hash = hash_series("t", &s);
        let mut zones: Vec<&str> = (0..3)
            .map(|n| {
                let e = rings.get_n_hashed("t", hash, n).unwrap();
                assert_eq!(e, direct.get_n_hashed("t", hash, n).unwrap());
                e.az.as_str()
            })
            .collect();
        zones.sort_unstable();
        assert_eq!(zones, ["A", "B", "C"]);
    }
}

/// The tenant examples of the docs, with Go's field-name matching and ignored keys.
#[test]
fn docs_tenant_examples() {
    let rings = parse_config(
        br#"[
            {"hashring": "tenant-a-b", "tenants": ["tenant-a", "tenant-b"],
             "endpoints": ["127.0.0.1:10901"], "external_labels": {"ring": "ab"}},
            {"Hashring": "glob", "TENANTS": ["foo*"], "tenant_matcher_type": "glob",
             "endpoints": ["127.0.0.1:10902"], "comment": "ignored"},
            {"hashring": "default", "endpoints": ["127.0.0.1:10903"]}
        ]"#,
    )
    .unwrap();
    assert_eq!(rings[1].hashring, "glob");
    assert_eq!(rings[1].tenant_matcher_type, TenantMatcherType::Glob);
    let multi = strata_receive::hashring::build(&rings, Algorithm::Hashmod, 1).unwrap();
    let ring_of = |t: &str| multi.hashring_for_tenant(t).unwrap().name().to_owned();
    assert_eq!(ring_of("tenant-b"), "tenant-a-b");
    assert_eq!(ring_of("foobar"), "glob");
    assert_eq!(ring_of("foo/bar"), "default");
    assert_eq!(ring_of("bar"), "default");
    assert_eq!(
        multi
            .external_labels_for_tenant("tenant-a")
            .map(|l| l.to_string()),
        Some(r#"{ring="ab"}"#.to_owned())
    );
    let s = labels(&[("a", "b")]);
    assert_eq!(
        multi.get_n("tenant-a", &s, 0).unwrap().address,
        "127.0.0.1:10901"
    );
}
