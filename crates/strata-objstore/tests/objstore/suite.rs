//! The conformance suite every bucket backend must pass (run against memory, the local
//! file system and a real S3 API server).

use bytes::Bytes;
use strata_objstore::Bucket;

/// 6 MiB of non-repeating bytes: more than one 5 MiB part.
pub fn big_payload() -> Vec<u8> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..6 * 1024 * 1024 + 123)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// Runs every check against `bucket`, which must be empty and use 5 MiB parts.
pub async fn run_suite(bucket: &Bucket) {
    put_get_overwrite(bucket).await;
    ranges(bucket).await;
    not_found(bucket).await;
    iterate(bucket).await;
    delete(bucket).await;
    multipart(bucket).await;
    directories(bucket).await;
    invalid_names(bucket).await;
}

async fn put_get_overwrite(b: &Bucket) {
    b.put("obj/a", Bytes::from_static(b"hello")).await.unwrap();
    assert_eq!(b.get("obj/a").await.unwrap().as_ref(), b"hello");
    b.put("obj/a", b"hello, world".to_vec()).await.unwrap();
    assert_eq!(b.get("obj/a").await.unwrap().as_ref(), b"hello, world");
    assert!(b.exists("obj/a").await.unwrap());
    let attrs = b.attributes("obj/a").await.unwrap();
    assert_eq!((attrs.name.as_str(), attrs.size), ("obj/a", 12));
    b.put("obj/empty", Bytes::new()).await.unwrap();
    assert!(b.get("obj/empty").await.unwrap().is_empty());
    assert_eq!(b.attributes("obj/empty").await.unwrap().size, 0);
}

async fn ranges(b: &Bucket) {
    b.put("range/x", b"0123456789".to_vec()).await.unwrap();
    assert_eq!(
        b.get_range("range/x", 0..10).await.unwrap().as_ref(),
        b"0123456789"
    );
    assert_eq!(
        b.get_range("range/x", 3..7).await.unwrap().as_ref(),
        b"3456"
    );
    assert_eq!(b.get_range("range/x", 9..10).await.unwrap().as_ref(), b"9");
}

async fn not_found(b: &Bucket) {
    let e = b.get("nope/x").await.unwrap_err();
    assert!(e.is_not_found(), "{e}");
    assert!(e.to_string().contains("nope/x"), "{e}");
    assert!(
        b.get_range("nope/x", 0..1)
            .await
            .unwrap_err()
            .is_not_found()
    );
    assert!(b.attributes("nope/x").await.unwrap_err().is_not_found());
    assert!(!b.exists("nope/x").await.unwrap());
    // A directory is not an object.
    b.put("dir/file", b"x".to_vec()).await.unwrap();
    assert!(!b.exists("dir").await.unwrap());
    assert!(b.get("dir").await.unwrap_err().is_not_found());
}

async fn iterate(b: &Bucket) {
    for n in ["it/a", "it/b/c", "it/b/d/e", "it/bb", "itx"] {
        b.put(n, n.as_bytes().to_vec()).await.unwrap();
    }
    assert_eq!(
        b.iter("it", false).await.unwrap(),
        ["it/a", "it/b/", "it/bb"]
    );
    assert_eq!(
        b.iter("it/", false).await.unwrap(),
        ["it/a", "it/b/", "it/bb"]
    );
    assert_eq!(b.iter("it/b", false).await.unwrap(), ["it/b/c", "it/b/d/"]);
    assert_eq!(
        b.iter("it", true).await.unwrap(),
        ["it/a", "it/b/c", "it/b/d/e", "it/bb"]
    );
    assert!(b.iter("it/none", false).await.unwrap().is_empty());
    let root = b.iter("", false).await.unwrap();
    assert!(
        root.contains(&"it/".to_owned()) && root.contains(&"itx".to_owned()),
        "{root:?}"
    );
    let listed = b.list("it/b").await.unwrap();
    let names: Vec<_> = listed.iter().map(|o| (o.name.as_str(), o.size)).collect();
    assert_eq!(names, [("it/b/c", 6), ("it/b/d/e", 8)]);
}

async fn delete(b: &Bucket) {
    b.put("del/x", b"x".to_vec()).await.unwrap();
    b.delete("del/x").await.unwrap();
    assert!(!b.exists("del/x").await.unwrap());
    assert!(b.get("del/x").await.unwrap_err().is_not_found());
    // Deleting a missing object succeeds.
    b.delete("del/x").await.unwrap();
    assert!(b.iter("del", false).await.unwrap().is_empty());
}

async fn multipart(b: &Bucket) {
    let data = big_payload();
    b.put("mp/put", data.clone()).await.unwrap();
    assert_eq!(
        b.attributes("mp/put").await.unwrap().size,
        data.len() as u64
    );
    assert!(b.get("mp/put").await.unwrap() == data);

    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("big");
    std::fs::write(&src, &data).unwrap();
    assert_eq!(
        b.upload_file(&src, "mp/file").await.unwrap(),
        data.len() as u64
    );
    let got = b.get("mp/file").await.unwrap();
    assert!(got == data, "multipart upload changed the bytes");
    // A range across the 5 MiB part boundary.
    let at = 5 * 1024 * 1024 - 10;
    let r = b
        .get_range("mp/file", at as u64..(at + 20) as u64)
        .await
        .unwrap();
    assert_eq!(r.as_ref(), &data[at..at + 20]);
    let dst = dir.path().join("back");
    assert_eq!(
        b.download_file("mp/file", &dst).await.unwrap(),
        data.len() as u64
    );
    assert!(std::fs::read(&dst).unwrap() == data);
}

async fn directories(b: &Bucket) {
    let src = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(src.path().join("chunks")).unwrap();
    std::fs::write(src.path().join("chunks/000001"), b"c1").unwrap();
    std::fs::write(src.path().join("chunks/000002"), b"c22").unwrap();
    std::fs::write(src.path().join("index"), b"idx").unwrap();
    let up = b.upload_dir(src.path(), "updir/blk").await.unwrap();
    assert_eq!(
        up,
        [
            ("chunks/000001".to_owned(), 2),
            ("chunks/000002".to_owned(), 3),
            ("index".to_owned(), 3)
        ]
    );
    let dst = tempfile::tempdir().unwrap();
    assert_eq!(b.download_dir("updir/blk", dst.path()).await.unwrap(), 3);
    assert_eq!(
        std::fs::read(dst.path().join("chunks/000002")).unwrap(),
        b"c22"
    );
    assert_eq!(std::fs::read(dst.path().join("index")).unwrap(), b"idx");
}

async fn invalid_names(b: &Bucket) {
    for n in ["", "a//b", "a/../b"] {
        let e = b.put(n, b"x".to_vec()).await.unwrap_err();
        assert!(
            !e.is_not_found() && e.to_string().contains("invalid object name"),
            "{n:?}: {e}"
        );
    }
}
