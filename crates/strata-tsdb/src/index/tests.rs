//! Index writer/reader tests: round trips, layout, corruption, version 1 files.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use proptest::prelude::*;
use strata_model::{Labels, MatchType, Matcher};

use super::*;
use crate::encoding::crc32c;
use crate::mmap::SharedBytes;

fn ls(pairs: &[(&str, &str)]) -> Labels {
    Labels::new(pairs).unwrap()
}

fn chunks(seed: u64, n: usize) -> Vec<ChunkMeta> {
    let mut out = Vec::new();
    let mut t = seed as i64 * 1000 - 5000;
    let mut r = seed * 37 + 8;
    for i in 0..n {
        let mint = t + i as i64;
        let maxt = mint + (seed as i64 % 7) * 100;
        out.push(ChunkMeta {
            mint,
            maxt,
            chunk_ref: r,
        });
        t = maxt;
        r = if i % 2 == 0 {
            r + 1000
        } else {
            r.wrapping_sub(17)
        };
    }
    out
}

/// Writes `series` (any order) to `path`; returns them sorted.
fn write_index(path: &Path, series: &[(Labels, Vec<ChunkMeta>)]) -> Vec<(Labels, Vec<ChunkMeta>)> {
    let mut sorted = series.to_vec();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    sorted.dedup_by(|a, b| a.0 == b.0);
    let mut syms = BTreeSet::new();
    for (l, _) in &sorted {
        for (n, v) in l.iter() {
            syms.insert(n.to_owned());
            syms.insert(v.to_owned());
        }
    }
    let mut w = IndexWriter::create(path).unwrap();
    w.add_symbols(syms.iter().map(String::as_str)).unwrap();
    for (l, c) in &sorted {
        w.add_series(l, c).unwrap();
    }
    let size = w.finish().unwrap();
    assert_eq!(size, std::fs::metadata(path).unwrap().len());
    sorted
}

/// Everything a reader exposes, to compare a possibly corrupted file with the original.
#[derive(Debug, PartialEq)]
struct Snapshot {
    symbols: Vec<String>,
    values: BTreeMap<String, Vec<String>>,
    postings: BTreeMap<(String, String), Vec<u64>>,
    series: Vec<(u64, Labels, Vec<ChunkMeta>)>,
}

fn walk(r: &IndexReader) -> crate::Result<Snapshot> {
    let mut s = Snapshot {
        symbols: r.symbols()?,
        values: BTreeMap::new(),
        postings: BTreeMap::new(),
        series: Vec::new(),
    };
    for n in r.label_names()? {
        let vals = r.label_values(&n)?;
        for v in &vals {
            s.postings
                .insert((n.clone(), v.clone()), r.postings(&n, v)?);
        }
        s.values.insert(n, vals);
    }
    for id in r.all_postings()? {
        let (l, c) = r.series(id)?;
        s.series.push((id, l, c));
    }
    Ok(s)
}

fn sample_series() -> Vec<(Labels, Vec<ChunkMeta>)> {
    let mut v = Vec::new();
    for i in 0..40u64 {
        let job = ["api", "web", "db"][i as usize % 3];
        let inst = format!("host-{}", i % 7);
        let name = if i % 5 == 0 { "errors_total" } else { "up" };
        let mut pairs = vec![("__name__", name), ("job", job)];
        pairs.push(("instance", inst.as_str()));
        if i % 4 == 0 {
            pairs.push(("zone", "eu"));
        }
        v.push((ls(&pairs), chunks(i, (i % 4) as usize)));
    }
    v
}

#[test]
fn round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("index");
    let want = write_index(&p, &sample_series());
    let r = IndexReader::open(&p).unwrap();
    assert_eq!(r.version(), 2);
    assert_eq!(r.size(), std::fs::metadata(&p).unwrap().len());
    assert_eq!(
        r.label_names().unwrap(),
        ["__name__", "instance", "job", "zone"]
    );
    assert_eq!(r.label_values("job").unwrap(), ["api", "db", "web"]);
    assert_eq!(r.label_values("zone").unwrap(), ["eu"]);
    assert!(r.label_values("nope").unwrap().is_empty());
    assert!(r.postings("job", "nope").unwrap().is_empty());
    let syms = r.symbols().unwrap();
    assert!(syms.windows(2).all(|w| w[0] < w[1]));
    assert!(syms.contains(&"host-3".to_owned()));

    let all = r.all_postings().unwrap();
    assert_eq!(all.len(), want.len());
    for (id, (l, c)) in all.iter().zip(&want) {
        assert_eq!(&r.series(*id).unwrap(), &(l.clone(), c.clone()));
    }
    let web = r.postings("job", "web").unwrap();
    let got: Vec<Labels> = web.iter().map(|&id| r.series(id).unwrap().0).collect();
    let exp: Vec<Labels> = want
        .iter()
        .filter(|(l, _)| l.get("job") == Some("web"))
        .map(|(l, _)| l.clone())
        .collect();
    assert_eq!(got, exp);

    let ms = [
        Matcher::equal("__name__", "up"),
        Matcher::new(MatchType::Regex, "job", "api|db").unwrap(),
        Matcher::new(MatchType::NotEqual, "zone", "eu").unwrap(),
    ];
    let sel = r.postings_for_matchers(&ms).unwrap();
    let exp: Vec<u64> = all
        .iter()
        .zip(&want)
        .filter(|(_, (l, _))| Matcher::all_match(&ms, l))
        .map(|(id, _)| *id)
        .collect();
    assert!(!exp.is_empty());
    assert_eq!(sel, exp);
}

#[test]
fn layout_follows_the_format() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("index");
    write_index(&p, &sample_series());
    let b = std::fs::read(&p).unwrap();
    assert_eq!(&b[..5], &[0xBA, 0xAA, 0xD7, 0x00, 2]);
    let toc = &b[b.len() - TOC_LEN..];
    assert_eq!(
        crc32c(&toc[..48]),
        u32::from_be_bytes(toc[48..].try_into().unwrap())
    );
    let off = |i: usize| u64::from_be_bytes(toc[i * 8..i * 8 + 8].try_into().unwrap()) as usize;
    assert_eq!(off(0), 5, "symbols follow the header");
    // Sections in file order: symbols, series, label indices, postings, label offset
    // table, postings offset table. The TOC points before any padding.
    assert!(off(1) < off(2) && off(2) <= off(4) && off(4) < off(3) && off(3) < off(5));
    // The label index of the first label name (4-byte aligned): one name, its values.
    let li = off(2).next_multiple_of(4);
    let len = u32::from_be_bytes(b[li..li + 4].try_into().unwrap()) as usize;
    assert_eq!(&b[li + 4..li + 8], &1u32.to_be_bytes());
    let n = u32::from_be_bytes(b[li + 8..li + 12].try_into().unwrap()) as usize;
    assert_eq!(len, 8 + 4 * n);
    assert_eq!(
        crc32c(&b[li + 4..li + 4 + len]),
        u32::from_be_bytes(b[li + 4 + len..li + 8 + len].try_into().unwrap())
    );
    // The first postings list lists every series.
    let r = IndexReader::open(&p).unwrap();
    let all = r.all_postings().unwrap();
    let po = off(4).next_multiple_of(4);
    assert_eq!(
        u32::from_be_bytes(b[po + 4..po + 8].try_into().unwrap()) as usize,
        all.len()
    );
    // The postings offset table starts with ("", "").
    let pt = off(5);
    assert_eq!(&b[pt + 8..pt + 11], &[2, 0, 0]);
    for id in all {
        assert!(id * 16 >= off(1) as u64 && id * 16 < off(2) as u64);
    }
}

#[test]
fn writer_rejects_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("index");
    let mut w = IndexWriter::create(&p).unwrap();
    assert!(w.add_symbols(["b", "a"]).is_err());
    let mut w = IndexWriter::create(&p).unwrap();
    assert!(w.add_symbols(["a", "a"]).is_err());
    let mut w = IndexWriter::create(&p).unwrap();
    w.add_symbols(["a", "b", "c"]).unwrap();
    assert!(
        w.add_series(&ls(&[("a", "z")]), &[]).is_err(),
        "unknown symbol"
    );
    w.add_series(&ls(&[("a", "c")]), &[]).unwrap();
    assert!(
        w.add_series(&ls(&[("a", "b")]), &[]).is_err(),
        "out of order"
    );
    assert!(w.add_series(&ls(&[("a", "c")]), &[]).is_err(), "duplicate");
    assert!(w.add_symbols(["d"]).is_err(), "symbols after series");
    let bad = ChunkMeta {
        mint: 10,
        maxt: 5,
        chunk_ref: 0,
    };
    assert!(w.add_series(&ls(&[("b", "c")]), &[bad]).is_err());
    w.add_series(&ls(&[("b", "c")]), &chunks(3, 3)).unwrap();
    w.finish().unwrap();
    let r = IndexReader::open(&p).unwrap();
    assert_eq!(r.all_postings().unwrap().len(), 2);
}

#[test]
fn empty_index() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("index");
    IndexWriter::create(&p).unwrap().finish().unwrap();
    let r = IndexReader::open(&p).unwrap();
    assert!(r.symbols().unwrap().is_empty());
    assert!(r.label_names().unwrap().is_empty());
    assert!(r.all_postings().unwrap().is_empty());
    assert!(r.postings_for_matchers(&[]).unwrap().is_empty());
}

#[test]
fn corrupted_bytes_give_errors_not_panics() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("index");
    write_index(&p, &sample_series()[..12]);
    let orig = std::fs::read(&p).unwrap();
    let want =
        walk(&IndexReader::from_bytes(SharedBytes::from_vec(orig.clone())).unwrap()).unwrap();
    for i in 0..orig.len() {
        for mask in [0x01u8, 0x80, 0xff] {
            let mut b = orig.clone();
            b[i] ^= mask;
            let got = IndexReader::from_bytes(SharedBytes::from_vec(b)).and_then(|r| walk(&r));
            // Padding and the unused label indices are not read: flipping them is harmless,
            // but anything read must be the original or an error.
            if let Ok(s) = got {
                assert_eq!(
                    s, want,
                    "byte {i} mask {mask:#x} changed the result silently"
                );
            }
        }
    }
    for n in 0..orig.len() {
        let b = orig[..n].to_vec();
        assert!(
            IndexReader::from_bytes(SharedBytes::from_vec(b))
                .and_then(|r| walk(&r))
                .is_err(),
            "truncated to {n}"
        );
    }
}

#[test]
fn reads_format_v1() {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/testdata/tsdb/index_format_v1/index");
    let p = if p.exists() {
        p
    } else {
        Path::new("/work/shared/testdata/tsdb/index_format_v1/index").to_path_buf()
    };
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

fn arb_series() -> impl Strategy<Value = Vec<(Labels, Vec<ChunkMeta>)>> {
    let pair = (
        prop::sample::select(vec!["__name__", "a", "b", "long_label_name", "ü"]),
        prop::sample::select(vec!["x", "y", "", "zzz", "0", "1", "ünï"]),
    );
    let labels = prop::collection::vec(pair, 0..5).prop_map(|ps| {
        let mut b = strata_model::LabelsBuilder::new();
        for (n, v) in ps {
            b.set(n, v);
        }
        b.build().unwrap()
    });
    prop::collection::vec((labels, 0u64..50, 0usize..5), 0..40).prop_map(|v| {
        v.into_iter()
            .map(|(l, seed, n)| (l, chunks(seed, n)))
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn index_round_trip(series in arb_series()) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("index");
        let want = write_index(&p, &series);
        let r = IndexReader::open(&p).unwrap();
        let s = walk(&r).unwrap();
        prop_assert_eq!(s.series.len(), want.len());
        for ((_, l, c), (wl, wc)) in s.series.iter().zip(&want) {
            prop_assert_eq!(l, wl);
            prop_assert_eq!(c, wc);
        }
        let mut model: BTreeMap<(String, String), Vec<u64>> = BTreeMap::new();
        for (id, l, _) in &s.series {
            for (n, v) in l.iter() {
                model.entry((n.to_owned(), v.to_owned())).or_default().push(*id);
            }
        }
        prop_assert_eq!(&s.postings, &model);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn mutated_index_never_panics(
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        cut in prop::option::of(any::<prop::sample::Index>()),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("index");
        write_index(&p, &sample_series()[..6]);
        let mut b = std::fs::read(&p).unwrap();
        for (i, x) in edits {
            let i = i.index(b.len());
            b[i] = x;
        }
        if let Some(c) = cut {
            b.truncate(c.index(b.len()));
        }
        let _ = IndexReader::from_bytes(SharedBytes::from_vec(b)).and_then(|r| walk(&r));
    }

    #[test]
    fn random_bytes_never_panic(mut b in prop::collection::vec(any::<u8>(), 0..200), v1 in any::<bool>()) {
        if b.len() >= 5 {
            b[..4].copy_from_slice(&MAGIC.to_be_bytes());
            b[4] = if v1 { FORMAT_V1 } else { FORMAT_V2 };
        }
        if b.len() >= 5 + TOC_LEN {
            let n = b.len();
            let c = crc32c(&b[n - TOC_LEN..n - 4]);
            b[n - 4..].copy_from_slice(&c.to_be_bytes());
        }
        let _ = IndexReader::from_bytes(SharedBytes::from_vec(b)).and_then(|r| walk(&r));
    }
}

/// Checks our files with Prometheus' own reader when `promtool` is installed: writes a
/// block (index, empty chunks directory, tombstones, meta.json) and runs
/// `promtool tsdb analyze` on it.
#[test]
fn promtool_reads_our_index() {
    let Ok(out) = std::process::Command::new("promtool")
        .arg("--version")
        .output()
    else {
        eprintln!("promtool not installed, skipping");
        return;
    };
    assert!(out.status.success());
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

#[test]
fn reader_is_shareable() {
    fn check<T: Clone + Send + Sync + 'static>() {}
    check::<IndexReader>();
}

/// Reads an index written by Prometheus itself (`promtool tsdb create-blocks-from`), when
/// `promtool` is installed, and rewrites it with our writer: the bytes must be identical.
#[test]
fn reads_and_reproduces_prometheus_index() {
    if std::process::Command::new("promtool")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("promtool not installed, skipping");
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
