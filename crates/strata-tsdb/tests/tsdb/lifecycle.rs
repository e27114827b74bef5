//! The data directory over time: compaction and WAL checkpoints, retention with safe
//! deletion, leftovers, the lock, read-only opening, corruption, label APIs.

use std::fs;
use std::path::Path;

use strata_model::Matcher;
use strata_model::storage::Queryable;
use strata_tsdb::Db;

use crate::common::*;

const H: i64 = 3600 * 1000;

/// Names in `dir/wal`, sorted.
fn wal_entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir.join("wal"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Two series, one sample a minute over `[from, to)`; one commit per minute.
fn fill(db: &Db, from: i64, to: i64) {
    let mut t = from;
    while t < to {
        append_all(db, &[(series(0), t, t as f64), (series(1), t, -(t as f64))]);
        t += 60_000;
    }
}

#[test]
fn compaction_cuts_aligned_blocks_truncates_head_and_checkpoints_wal() {
    let dir = tempfile::tempdir().unwrap();
    let o = opts(H2, 0);
    let db = open(dir.path(), &o);
    fill(&db, 0, 3 * H);
    assert!(
        db.compact().unwrap().is_empty(),
        "3 h of head is not compacted yet"
    );
    fill(&db, 3 * H, 7 * H);
    let before = select_all(&db);
    let metas = db.compact().unwrap();
    let ranges: Vec<_> = metas.iter().map(|m| (m.min_time, m.max_time)).collect();
    assert_eq!(ranges, vec![(0, H2), (H2, 2 * H2)]);
    for m in &metas {
        assert_eq!(m.stats.num_series, 2);
        assert_eq!(m.stats.num_samples, 2 * 120);
    }
    assert_eq!(db.head().min_time(), Some(2 * H2));
    assert_eq!(block_dirs(dir.path()).len(), 2);
    // The WAL: one checkpoint, no segment it covers.
    let wal = wal_entries(dir.path());
    let cps: Vec<_> = wal
        .iter()
        .filter(|n| n.starts_with("checkpoint."))
        .collect();
    assert_eq!(cps.len(), 1, "{wal:?}");
    let cp: u32 = cps[0]["checkpoint.".len()..].parse().unwrap();
    assert_eq!(cps[0].len(), "checkpoint.".len() + 8);
    for seg in wal.iter().filter(|n| !n.starts_with("checkpoint.")) {
        assert!(
            seg.parse::<u32>().unwrap() > cp,
            "segment {seg} survived {wal:?}"
        );
    }
    assert_eq!(select_all(&db), before);
    drop(db);
    let db = open(dir.path(), &o);
    assert_eq!(
        db.head().min_time(),
        Some(2 * H2),
        "replay skips persisted samples"
    );
    assert_eq!(select_all(&db), before);
    // Writing on and compacting again keeps everything.
    fill(&db, 7 * H, 9 * H);
    let before = select_all(&db);
    assert_eq!(db.compact().unwrap().len(), 1);
    drop(db);
    let db = open(dir.path(), &o);
    assert_eq!(select_all(&db), before);
    assert_eq!(db.blocks().len(), 3);
}

#[test]
fn retention_deletes_old_blocks_but_open_queriers_keep_reading_them() {
    let dir = tempfile::tempdir().unwrap();
    let mut o = opts(H2, 0);
    let db = open(dir.path(), &o);
    fill(&db, 0, 5 * H2);
    db.flush().unwrap();
    assert_eq!(db.blocks().len(), 5);
    let all = select_all(&db);
    drop(db);
    o.retention = Some(2 * H2);
    let db = open(dir.path(), &o);
    let q = db.querier(i64::MIN, i64::MAX).unwrap();
    // Newest block ends at 10 h: blocks ending at 2 h and 4 h are beyond 4 h.
    assert_eq!(db.apply_retention().unwrap(), 2);
    assert_eq!(block_dirs(dir.path()).len(), 3);
    assert!(db.blocks().iter().all(|b| b.meta().min_time >= 2 * H2));
    // The querier opened before still reads the deleted blocks completely.
    let hints = strata_model::storage::SelectHints {
        start: i64::MIN,
        end: i64::MAX,
        ..Default::default()
    };
    let got: Vec<_> = q
        .select(&[], &hints)
        .unwrap()
        .map(|s| {
            let (l, v) = s.unwrap().collect_samples().unwrap();
            (
                l,
                v.into_iter()
                    .map(|(t, v)| (t, v.to_bits()))
                    .collect::<Vec<_>>(),
            )
        })
        .collect();
    assert_eq!(got, all);
    drop(q);
    // New queriers see only what is left.
    let left = select_all(&db);
    assert!(left.iter().all(|(_, s)| s.first().unwrap().0 == 2 * H2));
    drop(db);
    assert_eq!(select_all(&open(dir.path(), &o)), left);
}

#[test]
fn half_written_and_half_deleted_blocks_are_removed_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let o = opts(H2, 0);
    let db = open(dir.path(), &o);
    fill(&db, 0, H);
    db.flush().unwrap();
    let want = select_all(&db);
    drop(db);
    let ulid = "01HZZZZZZZZZZZZZZZZZZZZZZZ";
    for suffix in [".tmp-for-creation", ".tmp-for-deletion"] {
        let tmp = dir.path().join(format!("{ulid}{suffix}"));
        fs::create_dir_all(tmp.join("chunks")).unwrap();
        fs::write(tmp.join("chunks/000001"), b"half").unwrap();
        fs::write(tmp.join("index"), b"").unwrap();
    }
    let db = open(dir.path(), &o);
    let names: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!names.iter().any(|n| n.contains(".tmp-for-")), "{names:?}");
    assert_eq!(select_all(&db), want);
}

#[test]
fn second_open_fails_with_lock_error_and_read_only_open_works_beside() {
    let dir = tempfile::tempdir().unwrap();
    let o = opts(H2, 30 * 60_000);
    let db = open(dir.path(), &o);
    fill(&db, 0, 3 * H);
    db.flush().unwrap();
    fill(&db, 4 * H, 5 * H);
    // An out-of-order sample in the live WAL.
    append_all(&db, &[(series(0), 5 * H - 90_000, 0.5)]);
    let want = select_all(&db);
    let err = Db::open(dir.path(), o.clone()).err().unwrap().to_string();
    assert!(err.contains("lock"), "{err}");
    let ro = Db::open_read_only(dir.path()).unwrap();
    assert_same(&select_all(&ro), &want, "read-only");
    assert!(ro.compact().is_err() && ro.flush().is_err());
    // The writer is unaffected.
    append_all(&db, &[(series(2), 5 * H, 1.0)]);
    assert!(select_all(&ro).len() == 2, "read-only is a snapshot");
    drop(ro);
    drop(db);
    let db = open(dir.path(), &o);
    assert_eq!(select_all(&db).len(), 3);
}

#[test]
fn label_names_and_values_with_and_without_matchers_over_head_and_blocks() {
    let dir = tempfile::tempdir().unwrap();
    let o = opts(H2, 0);
    let db = open(dir.path(), &o);
    let eu = lbl(&[("__name__", "n"), ("region", "eu")]);
    let us = lbl(&[("__name__", "n"), ("region", "us")]);
    append_all(&db, &[(eu.clone(), 1_000, 1.0), (us.clone(), 1_000, 1.0)]);
    db.flush().unwrap();
    let head = |i: usize| lbl(&[("__name__", "m"), ("i", &i.to_string()), ("job", "a")]);
    append_all(
        &db,
        &[
            (head(0), H2, 1.0),
            (head(1), H2, 1.0),
            (eu.clone(), H2, 2.0),
        ],
    );
    let q = db.querier(i64::MIN, i64::MAX).unwrap();
    let names = |ms: &[Matcher]| q.label_names(ms).unwrap();
    let values = |n: &str, ms: &[Matcher]| q.label_values(n, ms).unwrap();
    assert_eq!(names(&[]), ["__name__", "i", "job", "region"]);
    assert_eq!(
        names(&[Matcher::equal("__name__", "n")]),
        ["__name__", "region"]
    );
    assert_eq!(
        names(&[Matcher::equal("job", "a")]),
        ["__name__", "i", "job"]
    );
    assert_eq!(values("__name__", &[]), ["m", "n"]);
    assert_eq!(values("region", &[]), ["eu", "us"]);
    assert_eq!(values("i", &[Matcher::equal("job", "a")]), ["0", "1"]);
    assert!(values("region", &[Matcher::equal("__name__", "m")]).is_empty());
    let re = Matcher::new(strata_model::MatchType::Regex, "region", "u.*").unwrap();
    assert_eq!(values("region", &[re]), ["us"]);
    assert!(values("nope", &[]).is_empty());
    // Only the head's time range: the block-only series `us` is not seen.
    let q = db.querier(H2, i64::MAX).unwrap();
    assert_eq!(q.label_values("region", &[]).unwrap(), ["eu"]);
    assert_eq!(
        q.label_names(&[Matcher::equal("region", "us")]).unwrap(),
        Vec::<String>::new()
    );
    // Only the block's range.
    let q = db.querier(0, H2 - 1).unwrap();
    assert_eq!(q.label_names(&[]).unwrap(), ["__name__", "region"]);
}

/// Opens `dir` read-only and reads everything; `Err` carries the message.
fn try_read_all(dir: &Path) -> Result<Vec<(strata_model::Labels, Bits)>, String> {
    let db = Db::open_read_only(dir).map_err(|e| e.to_string())?;
    let q = db.querier(i64::MIN, i64::MAX).map_err(|e| e.to_string())?;
    let hints = strata_model::storage::SelectHints {
        start: i64::MIN,
        end: i64::MAX,
        ..Default::default()
    };
    let mut out = Vec::new();
    for s in q.select(&[], &hints).map_err(|e| e.to_string())? {
        let (l, v) = s
            .map_err(|e| e.to_string())?
            .collect_samples()
            .map_err(|e| e.to_string())?;
        out.push((l, v.into_iter().map(|(t, v)| (t, v.to_bits())).collect()));
    }
    q.label_names(&[]).map_err(|e| e.to_string())?;
    q.label_values("i", &[]).map_err(|e| e.to_string())?;
    Ok(out)
}

#[test]
fn corrupted_index_or_chunk_bytes_give_precise_errors_never_panics() {
    let dir = tempfile::tempdir().unwrap();
    let o = opts(H2, 0);
    let db = open(dir.path(), &o);
    fill(&db, 0, H);
    db.flush().unwrap();
    drop(db);
    fs::remove_dir_all(dir.path().join("wal")).unwrap();
    fs::remove_file(dir.path().join("lock")).unwrap();
    let want = try_read_all(dir.path()).unwrap();
    let block = dir.path().join(&block_dirs(dir.path())[0]);
    for file in ["index", "chunks/000001"] {
        let path = block.join(file);
        let orig = fs::read(&path).unwrap();
        let (mut errors, mut same) = (0, 0);
        for off in 0..orig.len() {
            let mut b = orig.clone();
            b[off] ^= 0x5a;
            fs::write(&path, &b).unwrap();
            match try_read_all(dir.path()) {
                Ok(got) => {
                    assert_eq!(got, want, "{file} byte {off} changed data silently");
                    same += 1;
                }
                Err(msg) => {
                    let precise = (msg.contains("corrupt") || msg.contains("invalid"))
                        && msg.contains(&block_dirs(dir.path())[0])
                        && msg.contains(file.split('/').next().unwrap());
                    assert!(precise, "{file} byte {off}: imprecise error {msg:?}");
                    errors += 1;
                }
            }
        }
        fs::write(&path, &orig).unwrap();
        assert!(errors > same, "{file}: {errors} errors, {same} unaffected");
    }
    assert_eq!(try_read_all(dir.path()).unwrap(), want);
}

#[test]
fn read_only_open_tolerates_a_record_still_being_written() {
    let dir = tempfile::tempdir().unwrap();
    let o = opts(H2, 0);
    let db = open(dir.path(), &o);
    fill(&db, 0, H);
    let want = select_all(&db);
    append_all(&db, &[(series(0), H, 1.0), (series(1), H, 1.0)]);
    // A live writer's last record, cut short as a reader may see it mid-write.
    let seg = {
        let mut segs: Vec<_> = fs::read_dir(dir.path().join("wal"))
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_file() && fs::metadata(p).unwrap().len() > 0)
            .collect();
        segs.sort();
        segs.pop().unwrap()
    };
    let bytes = fs::read(&seg).unwrap();
    fs::write(&seg, &bytes[..bytes.len() - 5]).unwrap();
    let ro = Db::open_read_only(dir.path()).unwrap();
    assert_same(&select_all(&ro), &want, "read-only up to the cut record");
    drop(ro);
    drop(db);
    // The writable open repairs the tail and has the same data.
    assert_same(&select_all(&open(dir.path(), &o)), &want, "after repair");
}
