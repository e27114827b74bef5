//! Index writer/reader tests: round trips, layout, corruption, version 1 files.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use proptest::prelude::*;
use strata_model::{Labels, MatchType, Matcher};

use super::*;
use crate::encoding::crc32c;
use crate::mmap::SharedBytes;

pub(super) fn ls(pairs: &[(&str, &str)]) -> Labels {
    Labels::new(pairs).unwrap()
}

pub(super) fn chunks(seed: u64, n: usize) -> Vec<ChunkMeta> {
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
pub(super) fn write_index(
    path: &Path,
    series: &[(Labels, Vec<ChunkMeta>)],
) -> Vec<(Labels, Vec<ChunkMeta>)> {
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
pub(super) struct Snapshot {
    pub symbols: Vec<String>,
    pub values: BTreeMap<String, Vec<String>>,
    pub postings: BTreeMap<(String, String), Vec<u64>>,
    pub series: Vec<(u64, Labels, Vec<ChunkMeta>)>,
}

pub(super) fn walk(r: &IndexReader) -> crate::Result<Snapshot> {
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

pub(super) fn sample_series() -> Vec<(Labels, Vec<ChunkMeta>)> {
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

#[test]
fn reader_is_shareable() {
    fn check<T: Clone + Send + Sync + 'static>() {}
    check::<IndexReader>();
}
