//! Block sync: deletion marks, removed blocks, new blocks, restarts, the sync loop, and a
//! gateway without chunk cache.

use std::time::Duration;

use strata_objstore::block::{delete_block, mark_for_deletion};
use strata_store::{GatewayOptions, ServerOptions, StoreGateway};

use crate::common::*;
use crate::gateway::{C_START, T0, fixture, gateway, test_opts};

fn ids(gw: &StoreGateway) -> Vec<String> {
    gw.blocks().into_iter().map(|b| b.id).collect()
}

#[tokio::test]
async fn marked_and_deleted_blocks_disappear_after_a_sync() {
    let f = fixture().await;
    let gw = gateway(&f, test_opts()).await;
    let served = serve(gw.clone(), ServerOptions::default()).await;
    let mut c = served.store().await;
    let cache = f.tmp.path().join("cache");
    assert!(cache.join(&f.ids[1]).join("index").is_file());

    assert!(
        mark_for_deletion(&f.bucket, &f.ids[1], "test")
            .await
            .unwrap()
    );
    // Still served until the next sync.
    let got = series(&mut c, req(r#"{__name__="up"}"#, 0, i64::MAX))
        .await
        .unwrap();
    assert_eq!(got.series.len(), 6);
    let st = gw.sync().await.unwrap();
    assert_eq!((st.blocks, st.dropped, st.loaded), (2, 1, 0));
    let got = series(&mut c, req(r#"{__name__="up"}"#, 0, i64::MAX))
        .await
        .unwrap();
    assert_eq!(got.series.len(), 4);
    assert!(got.labels().iter().all(|l| l.get("replica") != Some("r2")));
    assert!(
        !cache.join(&f.ids[1]).exists(),
        "cache of the dropped block is removed"
    );

    delete_block(&f.bucket, &f.ids[2]).await.unwrap();
    let st = gw.sync().await.unwrap();
    assert_eq!((st.blocks, st.dropped), (1, 1));
    assert_eq!(ids(&gw), [f.ids[0].clone()]);
    let info = gw.blocks();
    assert_eq!(info[0].min_time, T0);
}

#[tokio::test]
async fn deletion_marks_are_honoured_after_the_delay_only() {
    let f = fixture().await;
    let opts = GatewayOptions {
        ignore_deletion_marks_delay: Duration::from_secs(3600),
        ..test_opts()
    };
    let gw = gateway(&f, opts).await;
    mark_for_deletion(&f.bucket, &f.ids[0], "test")
        .await
        .unwrap();
    let st = gw.sync().await.unwrap();
    assert_eq!(
        (st.blocks, st.dropped),
        (3, 0),
        "a fresh mark keeps the block"
    );
}

#[tokio::test]
async fn new_blocks_are_picked_up_by_the_sync_loop_and_restarts_reuse_the_cache() {
    let f = fixture().await;
    let gw = gateway(&f, test_opts()).await;
    let served = serve(gw.clone(), ServerOptions::default()).await;
    let mut c = served.store().await;
    let sync = gw.spawn_sync_loop();

    let later = C_START + 24 * 3600 * 1000;
    let dir = write_block(
        f.tmp.path(),
        &[(
            labels(&[("__name__", "late")]),
            samples(later, 1000, 10, 7.0),
        )],
    );
    let id = upload(&f.bucket, &dir, &[("cluster", "asia")]).await;
    let mut found = Vec::new();
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        found = series(&mut c, req(r#"{__name__="late"}"#, 0, i64::MAX))
            .await
            .unwrap()
            .decoded();
        if !found.is_empty() {
            break;
        }
    }
    sync.abort();
    assert_eq!(
        found,
        [(
            labels(&[("__name__", "late"), ("cluster", "asia")]),
            samples(later, 1000, 10, 7.0)
        )]
    );

    // A restarted gateway finds every index in its cache directory.
    let index = f.tmp.path().join("cache").join(&id).join("index");
    let before = std::fs::metadata(&index).unwrap().modified().unwrap();
    drop(served);
    let gw2 =
        StoreGateway::new(f.bucket.clone(), &f.tmp.path().join("cache"), test_opts()).unwrap();
    let st = gw2.sync().await.unwrap();
    assert_eq!((st.blocks, st.loaded), (4, 4));
    assert_eq!(
        std::fs::metadata(&index).unwrap().modified().unwrap(),
        before
    );
}

#[tokio::test]
async fn works_without_chunk_cache_and_caches_pages_with_one() {
    let f = fixture().await;
    let none = GatewayOptions {
        chunk_cache_bytes: 0,
        ..test_opts()
    };
    let gw = gateway(&f, none).await;
    let served = serve(gw.clone(), ServerOptions::default()).await;
    let got = series(
        &mut served.store().await,
        req(r#"{__name__=~".+"}"#, 0, i64::MAX),
    )
    .await
    .unwrap();
    assert_eq!(got.decoded(), f.all);
    assert_eq!(gw.cache_stats().bytes, 0);

    let gw =
        StoreGateway::new(f.bucket.clone(), &f.tmp.path().join("cache2"), test_opts()).unwrap();
    gw.sync().await.unwrap();
    let gw = std::sync::Arc::new(gw);
    let served = serve(gw.clone(), ServerOptions::default()).await;
    let mut c = served.store().await;
    series(&mut c, req(r#"{__name__=~".+"}"#, 0, i64::MAX))
        .await
        .unwrap();
    let first = gw.cache_stats();
    assert!(first.misses > 0 && first.bytes > 0);
    let again = series(&mut c, req(r#"{__name__=~".+"}"#, 0, i64::MAX))
        .await
        .unwrap();
    assert_eq!(again.decoded(), f.all);
    let second = gw.cache_stats();
    assert_eq!(
        second.misses, first.misses,
        "the second query is served from the cache"
    );
    assert!(second.hits > first.hits);
}
