//! The CLI fails cleanly: non-zero exit, a message naming the problem, no panic.

use crate::util::*;

fn assert_fails(args: &[&std::ffi::OsStr], want: &[&str]) {
    let out = run(strata().args(args));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "{args:?} should fail; stderr: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{args:?} panicked: {stderr}");
    for w in want {
        assert!(
            stderr.contains(w),
            "{args:?}: stderr should mention {w:?}: {stderr}"
        );
    }
}

fn os(s: &str) -> &std::ffi::OsStr {
    s.as_ref()
}

#[test]
fn cli_errors_are_reported_without_panics() {
    let tmp = tempdir();
    let missing = tmp.path().join("missing");
    let dump = [os("tools"), os("tsdb"), os("dump")];

    assert_fails(
        &[&dump[..], &[missing.as_os_str()]].concat(),
        &[missing.to_str().unwrap(), "not found"],
    );
    for tool in ["list", "analyze"] {
        assert_fails(
            &[os("tools"), os("tsdb"), os(tool), missing.as_os_str()],
            &[missing.to_str().unwrap()],
        );
    }
    // An empty directory has no block to analyze.
    assert_fails(
        &[
            os("tools"),
            os("tsdb"),
            os("analyze"),
            tmp.path().as_os_str(),
        ],
        &["no blocks"],
    );

    for (sel, why) in [
        ("{foo", "invalid selector"),
        ("{a=~\"(\"}", "invalid regular expression"),
        ("{a=\"unterminated}", "invalid selector"),
    ] {
        let flag = format!("--match={sel}");
        assert_fails(
            &[&dump[..], &[os(&flag), tmp.path().as_os_str()]].concat(),
            &[why],
        );
    }

    let import = |name: &str, text: &str| -> Vec<std::ffi::OsString> {
        let file = tmp.path().join(name);
        std::fs::write(&file, text).unwrap();
        vec![
            "tools".into(),
            "tsdb".into(),
            "import-openmetrics".into(),
            file.into(),
            tmp.path().join(format!("out-{name}")).into(),
        ]
    };
    let cases: Vec<(Vec<std::ffi::OsString>, Vec<&str>)> = vec![
        (
            import("noeof.om", "# TYPE a gauge\na 1 100\n"),
            vec!["# EOF"],
        ),
        (
            import(
                "ooo.om",
                "# TYPE a gauge\na{x=\"1\"} 1 100\na{x=\"1\"} 2 50\n# EOF\n",
            ),
            vec!["out of order", "{__name__=\"a\", x=\"1\"}", "50000"],
        ),
        (
            import("nots.om", "# TYPE a gauge\na 1\n# EOF\n"),
            vec!["timestamp"],
        ),
        (
            import("garbage.om", "this is not openmetrics\n# EOF\n"),
            vec!["line 1"],
        ),
        (
            vec![
                "tools".into(),
                "tsdb".into(),
                "import-openmetrics".into(),
                missing.clone().into(),
            ],
            vec![missing.to_str().unwrap()],
        ),
    ];
    for (args, want) in cases {
        let refs: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
        assert_fails(&refs, &want);
    }
}
