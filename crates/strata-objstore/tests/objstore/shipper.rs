//! The shipper against real blocks.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use strata_objstore::block::{delete_block, download_meta, mark_for_deletion, mark_no_compact};
use strata_objstore::shipper::SHIPPER_STATE_FILENAME;
use strata_objstore::thanos_meta::{self, source, thanos_section};
use strata_objstore::{Bucket, Shipper};

use crate::blocks::{SAMPLES_PER_SERIES, SERIES, labels, write_block};
use crate::recording::recording_bucket;

fn shipper(bucket: &Bucket, dir: &Path) -> Shipper {
    Shipper::new(
        bucket.clone(),
        dir,
        &labels(&[("cluster", "eu-1"), ("tenant_id", "team-a")]),
        source::RECEIVE,
    )
    .unwrap()
}

/// Ships a real block to `bucket` and checks what arrived, byte for byte.
pub async fn ship_and_verify(bucket: &Bucket) {
    let data = tempfile::tempdir().unwrap();
    let meta = write_block(data.path(), 1_700_000_000_000);
    let id = meta.ulid.clone();
    let s = shipper(bucket, data.path());
    let stats = s.sync().await.unwrap();
    assert_eq!(stats.uploaded, [id.clone()]);
    assert!(stats.bytes > 0);

    let block = data.path().join(&id);
    let objects = bucket.list(&id).await.unwrap();
    let names: Vec<_> = objects.iter().map(|o| o.name.clone()).collect();
    assert_eq!(
        names,
        [
            format!("{id}/chunks/000001"),
            format!("{id}/index"),
            format!("{id}/meta.json"),
            format!("{id}/tombstones")
        ]
    );
    for rel in ["chunks/000001", "index", "tombstones"] {
        let got = bucket.get(&format!("{id}/{rel}")).await.unwrap();
        assert!(
            got == std::fs::read(block.join(rel)).unwrap(),
            "{rel} differs"
        );
    }

    // meta.json: the local meta plus a filled-in thanos section.
    let up = download_meta(bucket, &id).await.unwrap();
    assert_eq!((up.min_time, up.max_time), (meta.min_time, meta.max_time));
    assert_eq!(up.stats, meta.stats);
    assert_eq!(
        up.stats.num_samples,
        SERIES as u64 * SAMPLES_PER_SERIES as u64
    );
    let t = thanos_section(&up).unwrap().unwrap();
    assert_eq!(t.labels.len(), 2);
    assert_eq!(
        (t.labels["cluster"].as_str(), t.labels["tenant_id"].as_str()),
        ("eu-1", "team-a")
    );
    assert_eq!(
        (t.source.as_str(), t.downsample.resolution, t.version),
        ("receive", 0, 1)
    );
    assert_eq!(t.segment_files, ["000001"]);
    let files: Vec<_> = t
        .files
        .iter()
        .map(|f| (f.rel_path.as_str(), f.size_bytes))
        .collect();
    let size = |rel: &str| std::fs::metadata(block.join(rel)).unwrap().len() as i64;
    assert_eq!(
        files,
        [
            ("chunks/000001", size("chunks/000001")),
            ("index", size("index")),
            ("meta.json", 0),
            ("tombstones", size("tombstones"))
        ]
    );
    let upload_time = t.upload_time.unwrap();
    assert!(
        upload_time.ends_with('Z') && upload_time.starts_with("20"),
        "{upload_time}"
    );

    // The local block is untouched, the staging directory gone, the state recorded.
    let local = strata_tsdb::meta::read_meta(&block).unwrap();
    assert!(thanos_section(&local).unwrap().is_none());
    assert!(!data.path().join("thanos/upload").join(&id).exists());
    assert_eq!(s.uploaded().into_iter().collect::<Vec<_>>(), [id.clone()]);

    // Marks and deletion, in Thanos' layout.
    assert!(mark_for_deletion(bucket, &id, "test").await.unwrap());
    assert!(!mark_for_deletion(bucket, &id, "again").await.unwrap());
    assert!(mark_no_compact(bucket, &id, "manual", "").await.unwrap());
    let mark: thanos_meta::DeletionMark = serde_json::from_slice(
        &bucket
            .get(&format!("{id}/deletion-mark.json"))
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        (mark.id.as_str(), mark.version, mark.details.as_str()),
        (id.as_str(), 1, "test")
    );
    delete_block(bucket, &id).await.unwrap();
    assert!(bucket.list(&id).await.unwrap().is_empty());
}

#[tokio::test]
async fn ships_a_real_block_to_memory() {
    ship_and_verify(&Bucket::in_memory()).await;
}

#[tokio::test]
async fn meta_json_is_uploaded_last() {
    let data = tempfile::tempdir().unwrap();
    let a = write_block(data.path(), 0).ulid;
    let b = write_block(data.path(), 3 * 3600 * 1000).ulid;
    let (bucket, log) = recording_bucket(None);
    let stats = shipper(&bucket, data.path()).sync().await.unwrap();
    assert_eq!(stats.uploaded, [a.clone(), b.clone()], "oldest first");
    let puts = log.puts();
    let want = |id: &str| {
        vec![
            format!("{id}/chunks/000001"),
            format!("{id}/index"),
            format!("{id}/tombstones"),
            format!("{id}/meta.json"),
        ]
    };
    assert_eq!(puts, [want(&a), want(&b)].concat());
}

#[tokio::test]
async fn restart_uploads_nothing_again() {
    let data = tempfile::tempdir().unwrap();
    let a = write_block(data.path(), 0).ulid;
    let (bucket, log) = recording_bucket(None);
    assert_eq!(
        shipper(&bucket, data.path()).sync().await.unwrap().uploaded,
        [a.clone()]
    );
    log.take();

    // A new shipper (a restarted process) reads the state: no request at all.
    let stats = shipper(&bucket, data.path()).sync().await.unwrap();
    assert!(stats.uploaded.is_empty());
    assert_eq!(stats.already_shipped, 1);
    assert!(log.take().is_empty());

    // Without the state file, the bucket is asked and nothing is re-uploaded.
    std::fs::remove_file(data.path().join(SHIPPER_STATE_FILENAME)).unwrap();
    let stats = shipper(&bucket, data.path()).sync().await.unwrap();
    assert_eq!(stats.found_in_bucket, [a.clone()]);
    assert_eq!(log.take(), [format!("head {a}/meta.json")]);
    assert!(data.path().join(SHIPPER_STATE_FILENAME).exists());

    // A garbled state file is rebuilt the same way.
    std::fs::write(data.path().join(SHIPPER_STATE_FILENAME), "{garbage").unwrap();
    let stats = shipper(&bucket, data.path()).sync().await.unwrap();
    assert_eq!(stats.found_in_bucket, [a.clone()]);
    log.take();

    // Only a new block is uploaded.
    let b = write_block(data.path(), 3 * 3600 * 1000).ulid;
    let stats = shipper(&bucket, data.path()).sync().await.unwrap();
    assert_eq!(
        (stats.uploaded, stats.already_shipped),
        (vec![b.clone()], 1)
    );
    assert!(log.puts().iter().all(|p| p.starts_with(&b)));
}

#[tokio::test]
async fn failed_upload_is_retried_and_meta_never_leaks() {
    let data = tempfile::tempdir().unwrap();
    let a = write_block(data.path(), 0).ulid;
    let (bucket, log) = recording_bucket(None);
    let s = shipper(&bucket, data.path());
    log.fail_writes_to(Some("/index"));
    let e = s.sync().await.unwrap_err();
    assert!(e.to_string().contains("index"), "{e}");
    assert!(!bucket.exists(&format!("{a}/meta.json")).await.unwrap());
    assert!(s.uploaded().is_empty());
    assert!(!data.path().join("thanos/upload").join(&a).exists());

    // A failure of meta.json itself leaves the block invisible too.
    log.fail_writes_to(Some("/meta.json"));
    assert!(s.sync().await.is_err());
    assert!(!bucket.exists(&format!("{a}/meta.json")).await.unwrap());

    log.fail_writes_to(None);
    log.take();
    let stats = s.sync().await.unwrap();
    assert_eq!(stats.uploaded, [a.clone()]);
    assert_eq!(log.puts().last().unwrap(), &format!("{a}/meta.json"));
}

#[tokio::test]
async fn only_complete_level1_blocks_with_samples_are_shipped() {
    let data = tempfile::tempdir().unwrap();
    let a = write_block(data.path(), 0);
    // A block still being written, one without meta.json, an empty one, a compacted one.
    let tmp = data
        .path()
        .join(format!("{}.tmp-for-creation", ulid::Ulid::generate()));
    std::fs::create_dir_all(tmp.join("chunks")).unwrap();
    std::fs::copy(
        data.path().join(&a.ulid).join("meta.json"),
        tmp.join("meta.json"),
    )
    .unwrap();
    let broken = ulid::Ulid::generate().to_string();
    std::fs::create_dir_all(data.path().join(&broken)).unwrap();
    let copy_block = |tweak: &dyn Fn(&mut strata_tsdb::meta::BlockMeta)| {
        let id = ulid::Ulid::generate().to_string();
        let dir = data.path().join(&id);
        std::fs::create_dir_all(dir.join("chunks")).unwrap();
        std::fs::copy(data.path().join(&a.ulid).join("index"), dir.join("index")).unwrap();
        let mut m = a.clone();
        m.ulid = id.clone();
        m.compaction.sources = vec![id.clone()];
        tweak(&mut m);
        strata_tsdb::meta::write_meta(&dir, &m).unwrap();
        id
    };
    let empty = copy_block(&|m| m.stats.num_samples = 0);
    let compacted = copy_block(&|m| {
        m.compaction.level = 2;
        m.compaction.sources = vec![a.ulid.clone()];
    });

    let bucket = Bucket::in_memory();
    let stats = shipper(&bucket, data.path()).sync().await.unwrap();
    assert_eq!(stats.uploaded, [a.ulid.clone()]);
    assert_eq!(stats.corrupted, [broken]);
    assert_eq!((stats.skipped_empty, stats.skipped_compacted), (1, 1));
    let top = bucket.iter("", false).await.unwrap();
    assert_eq!(top, [format!("{}/", a.ulid)]);

    let s = shipper(&bucket, data.path()).with_upload_compacted(true);
    let stats = s.sync().await.unwrap();
    assert_eq!(stats.uploaded, [compacted.clone()]);
    assert!(!bucket.exists(&format!("{empty}/meta.json")).await.unwrap());
}

#[tokio::test]
async fn labels_are_required() {
    let e = Shipper::new(
        Bucket::in_memory(),
        "/nonexistent",
        &labels(&[]),
        source::SIDECAR,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("empty external labels"), "{e}");
    // A missing data directory has nothing to ship.
    let s = Shipper::new(
        Bucket::in_memory(),
        "/nonexistent/strata",
        &labels(&[("a", "b")]),
        source::SIDECAR,
    )
    .unwrap();
    assert_eq!(s.deletable(Duration::ZERO).unwrap(), Vec::<String>::new());
}

#[tokio::test]
async fn deletable_needs_upload_and_age() {
    let data = tempfile::tempdir().unwrap();
    let h = 3600 * 1000;
    let old = write_block(data.path(), 0).ulid;
    let new = write_block(data.path(), 10 * h).ulid;
    let (bucket, log) = recording_bucket(None);
    let s = shipper(&bucket, data.path());
    // Nothing uploaded yet: nothing may go, however old.
    assert!(s.deletable(Duration::from_secs(3600)).unwrap().is_empty());
    log.fail_writes_to(Some(&format!("{new}/meta.json")));
    assert!(s.sync().await.is_err());
    // The old block is in the bucket; the new one is not and is within retention anyway.
    assert_eq!(
        s.deletable(Duration::from_secs(3600)).unwrap(),
        [old.clone()]
    );
    assert!(
        s.deletable(Duration::from_secs(20 * 3600))
            .unwrap()
            .is_empty()
    );
    log.fail_writes_to(None);
    s.sync().await.unwrap();
    assert_eq!(s.deletable(Duration::ZERO).unwrap(), [old]);
}

#[tokio::test]
async fn promtool_reads_a_block_downloaded_from_the_bucket() {
    let Some(promtool) = strata_testkit::require_tool("promtool") else {
        return;
    };
    let store = tempfile::tempdir().unwrap();
    let bucket = Bucket::from_yaml(&format!(
        "type: FILESYSTEM\nconfig:\n  directory: {}\n",
        store.path().display()
    ))
    .unwrap();
    let data = tempfile::tempdir().unwrap();
    let id = write_block(data.path(), 1_700_000_000_000).ulid;
    shipper(&bucket, data.path()).sync().await.unwrap();

    let back = tempfile::tempdir().unwrap();
    assert_eq!(
        bucket
            .download_dir(&id, &back.path().join(&id))
            .await
            .unwrap(),
        4
    );
    let out = Command::new(&promtool)
        .args(["tsdb", "analyze"])
        .arg(back.path())
        .arg(&id)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "promtool failed: {text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains(&format!("Block ID: {id}"))
            && text.contains(&format!("\nSeries: {SERIES}\n")),
        "{text}"
    );
    // The downloaded meta.json carries the thanos section and still opens as a block.
    let m = strata_tsdb::meta::read_meta(&back.path().join(&id)).unwrap();
    assert_eq!(thanos_section(&m).unwrap().unwrap().source, "receive");
    let db = strata_tsdb::Db::open_read_only(back.path()).unwrap();
    assert_eq!(db.blocks().len(), 1);
}
