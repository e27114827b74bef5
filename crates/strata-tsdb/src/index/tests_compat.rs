//! Compatibility with Prometheus: reading a version 1 index it wrote, and, when
//! `promtool` is installed, having it read our files and reproducing its files byte for
//! byte.

use strata_model::{MatchType, Matcher};

use super::tests::{chunks, ls, sample_series, walk, write_index};
use super::*;
use crate::encoding::crc32c;

#[test]
fn reads_format_v1() {
    let p = strata_testkit::shared_dir().join("testdata/tsdb/index_format_v1/index");
    let r = IndexReader::open(&p).unwrap();
    assert_eq!(r.version(), 1);
    let s = walk(&r).unwrap();
    assert_eq!(s.series.len(), 102);
    assert_eq!(r.label_names().unwrap(), ["bar", "foo"]);
    let bars = r.label_values("bar").unwrap();
    assert_eq!(bars.len(), 100);
    assert!(bars.windows(2).all(|w| w[0] < w[1]));
    let syms = r.symbols().unwrap();
    assert_eq!(syms.len(), 104);
    assert_eq!(&syms[100..], ["bar", "baz", "foo", "meh"]);
    // Series references are file offsets; the first series is {bar="0"}.
    let all = r.all_postings().unwrap();
    assert_eq!(all[0], 0x143);
    let (l, c) = r.series(all[0]).unwrap();
    assert_eq!(l, ls(&[("bar", "0")]));
    assert_eq!(
        c,
        [ChunkMeta {
            mint: 0,
            maxt: 0,
            chunk_ref: 8
        }]
    );
    assert_eq!(r.label_values("foo").unwrap(), ["bar", "baz"]);
    for (id, l, c) in &s.series {
        assert_eq!(c.len(), 1, "{l}");
        assert_eq!(l.len(), 1, "{id} {l}");
    }
    let sel = r
        .postings_for_matchers(&[Matcher::equal("foo", "bar")])
        .unwrap();
    assert_eq!(sel.len(), 1);
    assert_eq!(r.series(sel[0]).unwrap().0, ls(&[("foo", "bar")]));
    let sel = r
        .postings_for_matchers(&[Matcher::new(MatchType::NotEqual, "foo", "").unwrap()])
        .unwrap();
    assert_eq!(sel.len(), 2);
    let sel = r
        .postings_for_matchers(&[Matcher::new(MatchType::Equal, "foo", "").unwrap()])
        .unwrap();
    assert_eq!(sel.len(), 100);
    let sel = r
        .postings_for_matchers(&[Matcher::new(MatchType::Regex, "bar", "1.*").unwrap()])
        .unwrap();
    assert_eq!(sel.len(), 11);
}

/// Checks our files with Prometheus' own reader when `promtool` is installed: writes a
/// block (index, empty chunks directory, tombstones, meta.json) and runs
/// `promtool tsdb analyze` on it.
#[test]
fn promtool_reads_our_index() {
    if strata_testkit::require_tool("promtool").is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let ulid = "01HZZZZZZZZZZZZZZZZZZZZZZZ";
    let block = dir.path().join(ulid);
    std::fs::create_dir_all(block.join("chunks")).unwrap();
    // promtool's analysis assumes every series has a chunk.
    let series: Vec<_> = sample_series()
        .into_iter()
        .enumerate()
        .map(|(i, (l, _))| (l, chunks(i as u64, 1 + i % 3)))
        .collect();
    let want = write_index(&block.join("index"), &series);
    // An empty tombstones file: magic 0x0130BA30, version 1, CRC32C of nothing.
    let mut t = 0x0130_BA30u32.to_be_bytes().to_vec();
    t.push(1);
    t.extend_from_slice(&crc32c(&[]).to_be_bytes());
    std::fs::write(block.join("tombstones"), t).unwrap();
    let meta = format!(
        r#"{{"ulid":"{ulid}","minTime":0,"maxTime":1000,"stats":{{"numSeries":{}}},"compaction":{{"level":1,"sources":["{ulid}"]}},"version":1}}"#,
        want.len()
    );
    std::fs::write(block.join("meta.json"), meta).unwrap();
    let out = std::process::Command::new("promtool")
        .args(["tsdb", "analyze"])
        .arg(dir.path())
        .arg(ulid)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "promtool failed: {stdout}\n{stderr}");
    assert!(
        stdout.contains(&format!("Series: {}", want.len())),
        "{stdout}"
    );
    assert!(stdout.contains("Label names: 4"), "{stdout}");
    assert!(stdout.contains("job"), "{stdout}");
}

/// Reads an index written by Prometheus itself (`promtool tsdb create-blocks-from`), when
/// `promtool` is installed, and rewrites it with our writer: the bytes must be identical.
#[test]
fn reads_and_reproduces_prometheus_index() {
    if strata_testkit::require_tool("promtool").is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.om");
    let mut om = String::from("# TYPE up gauge\n");
    // Several chunks per series (120 samples each), varied label sets.
    for i in 0..300u64 {
        let t = 1_600_000_000 + i * 15;
        for (inst, job) in [("a:9090", "prom"), ("b:9090", "prom")] {
            om.push_str(&format!(
                "up{{instance=\"{inst}\",job=\"{job}\"}} {i} {t}\n"
            ));
        }
        if i % 2 == 0 {
            om.push_str(&format!(
                "up{{instance=\"c:9100\",job=\"node\",zone=\"eu\"}} 1 {t}\n"
            ));
        }
    }
    om.push_str("# EOF\n");
    std::fs::write(&input, om).unwrap();
    let out = dir.path().join("out");
    let st = std::process::Command::new("promtool")
        .args(["tsdb", "create-blocks-from", "openmetrics"])
        .arg(&input)
        .arg(&out)
        .output()
        .unwrap();
    assert!(st.status.success(), "{st:?}");
    let block = std::fs::read_dir(&out)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let r = IndexReader::open(&block.join("index")).unwrap();
    assert_eq!(r.version(), 2);
    assert_eq!(
        r.label_names().unwrap(),
        ["__name__", "instance", "job", "zone"]
    );
    let s = walk(&r).unwrap();
    assert_eq!(s.series.len(), 3);
    let (_, l, c) = &s.series[0];
    assert_eq!(
        l,
        &ls(&[("__name__", "up"), ("instance", "a:9090"), ("job", "prom")])
    );
    assert_eq!(c.len(), 3);
    assert_eq!(c[0].mint, 1_600_000_000_000);
    assert_eq!(c[2].maxt, 1_600_000_000_000 + 299 * 15_000);
    assert!(
        c.windows(2)
            .all(|w| w[0].maxt < w[1].mint && w[0].chunk_ref < w[1].chunk_ref)
    );
    let sel = r
        .postings_for_matchers(&[Matcher::new(MatchType::Regex, "job", "prom").unwrap()])
        .unwrap();
    assert_eq!(sel.len(), 2);

    let p = dir.path().join("ours");
    let mut w = IndexWriter::create(&p).unwrap();
    w.add_symbols(s.symbols.iter().map(String::as_str)).unwrap();
    for (_, l, c) in &s.series {
        w.add_series(l, c).unwrap();
    }
    w.finish().unwrap();
    let theirs = std::fs::read(block.join("index")).unwrap();
    let ours = std::fs::read(&p).unwrap();
    assert_eq!(ours, theirs);
}
