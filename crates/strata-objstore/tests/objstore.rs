//! Integration tests of strata-objstore: one conformance suite over every backend
//! (memory, file system, a real S3 API server), and the shipper over real TSDB blocks.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cloned_ref_to_slice_refs
)]

#[path = "objstore/blocks.rs"]
mod blocks;
#[path = "objstore/moto.rs"]
mod moto;
#[path = "objstore/recording.rs"]
mod recording;
#[path = "objstore/shipper.rs"]
mod shipper;
#[path = "objstore/suite.rs"]
mod suite;

use strata_objstore::Bucket;

const PART: usize = 5 * 1024 * 1024;

#[tokio::test]
async fn suite_memory() {
    suite::run_suite(&Bucket::in_memory().with_part_size(PART)).await;
}

#[tokio::test]
async fn suite_filesystem() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = format!(
        "type: FILESYSTEM\nconfig:\n  directory: {}\n",
        dir.path().join("bucket").display()
    );
    let bucket = Bucket::from_yaml(&yaml).unwrap().with_part_size(PART);
    suite::run_suite(&bucket).await;
    // The objects are plain files under the directory.
    assert!(dir.path().join("bucket/obj/a").is_file());
}

#[tokio::test]
async fn suite_prefixed() {
    let inner = Bucket::in_memory().with_part_size(PART);
    suite::run_suite(&inner.clone().with_prefix("tenant/a").unwrap()).await;
    assert_eq!(inner.iter("", false).await.unwrap(), ["tenant/"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suite_s3_moto() {
    let Some(bin) = strata_testkit::require_tool("moto_server") else {
        return;
    };
    let moto = moto::Moto::start(&bin);
    moto.create_bucket("strata-suite");
    let bucket = Bucket::from_yaml(&moto.yaml("strata-suite")).unwrap();
    suite::run_suite(&bucket).await;

    // Large objects really go up in parts.
    let (recorded, log) = recording::recording_bucket(Some(bucket.store().clone()));
    let recorded = recorded.with_part_size(PART);
    recorded
        .put("mp/again", suite::big_payload())
        .await
        .unwrap();
    recorded.put("small", b"x".to_vec()).await.unwrap();
    assert_eq!(
        log.take(),
        ["multipart mp/again", "put mp/again", "put small"]
    );
    assert!(bucket.get("mp/again").await.unwrap() == suite::big_payload());

    // Prefix from the YAML, then the shipper against S3.
    moto.create_bucket("strata-blocks");
    let yaml = format!("{}prefix: receive/tenant-a\n", moto.yaml("strata-blocks"));
    let prefixed = Bucket::from_yaml(&yaml).unwrap();
    shipper::ship_and_verify(&prefixed).await;
    let whole = Bucket::from_yaml(&moto.yaml("strata-blocks")).unwrap();
    assert!(
        whole
            .iter("", false)
            .await
            .unwrap()
            .iter()
            .all(|n| n == "receive/")
    );

    // A bucket that does not exist is an error, not "not found".
    let missing = Bucket::from_yaml(&moto.yaml("no-such-bucket")).unwrap();
    let e = missing.put("x", b"x".to_vec()).await.unwrap_err();
    assert!(!e.is_not_found(), "{e}");
    let e = missing.iter("", false).await.unwrap_err();
    assert!(
        !e.is_not_found() && e.to_string().contains("no-such-bucket"),
        "{e}"
    );
}
