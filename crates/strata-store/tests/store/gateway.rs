//! The store gateway over three blocks: two replicas of one cluster (`eu`, replicas `r1`
//! and `r2`, identical data) and a later block of cluster `us`.

use std::sync::Arc;
use std::time::Duration;

use strata_model::Labels;
use strata_objstore::Bucket;
use strata_proto::hintspb::{LabelNamesResponseHints, SeriesRequestHints};
use strata_proto::infopb::InfoRequest;
use strata_proto::storepb::{
    LabelNamesRequest, LabelValuesRequest, SeriesRequest, matchers_to_proto,
};
use strata_store::extlabels::finalize;
use strata_store::{GatewayOptions, SeriesLimits, ServerOptions, StoreGateway};
use tonic::Code;

use crate::common::*;

pub const T0: i64 = 1_700_000_000_000;
pub const C_START: i64 = T0 + 3 * 3600 * 1000;
pub const EU_END: i64 = T0 + 249 * 10_000;

pub struct Fixture {
    pub tmp: tempfile::TempDir,
    pub bucket: Bucket,
    /// ULIDs of the blocks eu/r1, eu/r2, us/r1.
    pub ids: [String; 3],
    /// Every series with its final labels (external labels attached), sorted.
    pub all: Vec<(Labels, Samples)>,
}

fn block_series(start: i64, step: i64, n: i64, seed: f64) -> Vec<(Labels, Samples)> {
    vec![
        (
            labels(&[("__name__", "up"), ("job", "api"), ("instance", "a")]),
            samples(start, step, n, seed),
        ),
        (
            labels(&[("__name__", "up"), ("job", "web"), ("instance", "b")]),
            samples(start, step, n, seed + 1.0),
        ),
        (
            labels(&[
                ("__name__", "http_requests_total"),
                ("job", "api"),
                ("code", "200"),
            ]),
            samples(start, step, n, seed + 2.0),
        ),
    ]
}

pub const EXT: [&[(&str, &str)]; 3] = [
    &[("cluster", "eu"), ("replica", "r1")],
    &[("cluster", "eu"), ("replica", "r2")],
    &[("cluster", "us"), ("replica", "r1")],
];

pub async fn fixture() -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let bucket = Bucket::filesystem(&tmp.path().join("bucket")).unwrap();
    let eu = block_series(T0, 10_000, 250, 1.0);
    let us = block_series(C_START, 15_000, 200, 11.0);
    let mut ids = Vec::new();
    let mut all = Vec::new();
    for (i, data) in [&eu, &eu, &us].into_iter().enumerate() {
        let dir = write_block(tmp.path(), data);
        ids.push(upload(&bucket, &dir, EXT[i]).await);
        let ext = labels(EXT[i]);
        for (l, s) in data {
            all.push((finalize(l, &ext, &[]), s.clone()));
        }
    }
    all.sort_by(|a, b| a.0.cmp(&b.0));
    Fixture {
        tmp,
        bucket,
        ids: ids.try_into().unwrap(),
        all,
    }
}

pub fn test_opts() -> GatewayOptions {
    GatewayOptions {
        sync_interval: Duration::from_millis(200),
        chunk_cache_bytes: 1 << 20,
        block_sync_concurrency: 4,
        ignore_deletion_marks_delay: Duration::ZERO,
    }
}

pub async fn gateway(f: &Fixture, opts: GatewayOptions) -> Arc<StoreGateway> {
    let gw = StoreGateway::new(f.bucket.clone(), &f.tmp.path().join("cache"), opts).unwrap();
    let st = gw.sync().await.unwrap();
    assert_eq!((st.blocks, st.loaded, st.failed), (3, 3, 0));
    Arc::new(gw)
}

fn expected(f: &Fixture, filter: impl Fn(&Labels) -> bool) -> Vec<(Labels, Samples)> {
    f.all.iter().filter(|(l, _)| filter(l)).cloned().collect()
}

#[tokio::test]
async fn series_are_sorted_with_external_labels_and_exact_samples() {
    let f = fixture().await;
    let served = serve(gateway(&f, test_opts()).await, ServerOptions::default()).await;
    let mut c = served.store().await;
    let got = series(&mut c, req(r#"{__name__=~".+"}"#, 0, i64::MAX))
        .await
        .unwrap();
    assert_eq!(got.series.len(), 9);
    assert_eq!(got.decoded(), f.all);
    // Chunks are sent as stored: the head cut the 250 samples of eu into several.
    let eu = got
        .series
        .iter()
        .filter(|s| series_labels(s).get("cluster") == Some("eu"));
    assert!(eu.clone().count() == 6 && eu.clone().all(|s| s.chunks.len() > 1));
    let hints = got.hints.unwrap();
    let mut queried: Vec<String> = hints.queried_blocks.into_iter().map(|b| b.id).collect();
    queried.sort();
    let mut ids = f.ids.to_vec();
    ids.sort();
    assert_eq!(queried, ids);
}

#[tokio::test]
async fn matchers_select_series_and_stores() {
    let f = fixture().await;
    let served = serve(gateway(&f, test_opts()).await, ServerOptions::default()).await;
    let mut c = served.store().await;
    type Want = Box<dyn Fn(&Labels) -> bool>;
    let cases: Vec<(&str, Want)> = vec![
        (
            r#"{__name__=~"up|http.*", cluster="us"}"#,
            Box::new(|l| l.get("cluster") == Some("us")),
        ),
        (
            r#"{job=~"a.*", cluster!="us"}"#,
            Box::new(|l| l.get("job") == Some("api") && l.get("cluster") == Some("eu")),
        ),
        (
            r#"{__name__="up", replica=~"r2"}"#,
            Box::new(|l| l.metric_name() == Some("up") && l.get("replica") == Some("r2")),
        ),
        (
            r#"{__name__="up", job!~"api|x"}"#,
            Box::new(|l| l.metric_name() == Some("up") && l.get("job") == Some("web")),
        ),
        (
            r#"{instance=~"a|b", cluster=~"e.*"}"#,
            Box::new(|l| l.metric_name() == Some("up") && l.get("cluster") == Some("eu")),
        ),
        (r#"{__name__="up", cluster="asia"}"#, Box::new(|_| false)),
        (r#"{__name__="nope"}"#, Box::new(|_| false)),
        // Only external-label matchers select no series, as in Thanos' bucket store.
        (r#"{cluster="eu"}"#, Box::new(|_| false)),
    ];
    for (s, want) in cases {
        let got = series(&mut c, req(s, 0, i64::MAX)).await.unwrap();
        assert_eq!(got.decoded(), expected(&f, want), "{s}");
    }
}

#[tokio::test]
async fn time_range_selects_blocks_and_whole_overlapping_chunks() {
    let f = fixture().await;
    let served = serve(gateway(&f, test_opts()).await, ServerOptions::default()).await;
    let mut c = served.store().await;
    // The last samples of the eu blocks: whole chunks come back, and only those that
    // overlap the range.
    let (lo, hi) = (T0 + 245 * 10_000, T0 + 246 * 10_000);
    let got = series(&mut c, req(r#"{job="api"}"#, lo, hi)).await.unwrap();
    let want = expected(&f, |l| {
        l.get("job") == Some("api") && l.get("cluster") == Some("eu")
    });
    assert_eq!(
        got.labels(),
        want.iter().map(|w| w.0.clone()).collect::<Vec<_>>()
    );
    for (s, (_, all)) in got.series.iter().zip(&want) {
        assert!(
            s.chunks
                .iter()
                .all(|c| c.min_time <= hi && c.max_time >= lo)
        );
        let dec = decode(s);
        assert!(
            dec.len() < all.len(),
            "chunks outside the range are left out"
        );
        let start = all.iter().position(|x| *x == dec[0]).unwrap();
        assert_eq!(dec, all[start..start + dec.len()].to_vec());
        assert!(dec.iter().any(|x| x.0 == lo) && dec.iter().any(|x| x.0 == hi));
    }
    // A range between the blocks, and one after everything.
    for (lo, hi) in [(EU_END + 1, C_START - 1), (i64::MAX - 10, i64::MAX)] {
        let got = series(&mut c, req(r#"{job="api"}"#, lo, hi)).await.unwrap();
        assert!(got.series.is_empty(), "{lo}..{hi}");
    }
    // Inverted range: nothing.
    let got = series(&mut c, req(r#"{job="api"}"#, 10, 5)).await.unwrap();
    assert!(got.series.is_empty());
}

#[tokio::test]
async fn skip_chunks_returns_labels_only() {
    let f = fixture().await;
    let served = serve(gateway(&f, test_opts()).await, ServerOptions::default()).await;
    let mut c = served.store().await;
    let r = SeriesRequest {
        skip_chunks: true,
        ..req(r#"{__name__="up"}"#, 0, i64::MAX)
    };
    let got = series(&mut c, r).await.unwrap();
    let want = expected(&f, |l| l.metric_name() == Some("up"));
    assert_eq!(
        got.labels(),
        want.iter().map(|w| w.0.clone()).collect::<Vec<_>>()
    );
    assert!(got.series.iter().all(|s| s.chunks.is_empty()));
}

#[tokio::test]
async fn without_replica_labels_merges_replicas_and_dedups_chunks() {
    let f = fixture().await;
    let served = serve(gateway(&f, test_opts()).await, ServerOptions::default()).await;
    let mut c = served.store().await;
    let r = SeriesRequest {
        without_replica_labels: vec!["replica".into()],
        ..req(r#"{__name__=~"up|http_requests_total"}"#, 0, i64::MAX)
    };
    let got = series(&mut c, r).await.unwrap();
    let mut want: Vec<(Labels, Samples)> = f
        .all
        .iter()
        .map(|(l, s)| {
            (
                finalize(l, &Labels::empty(), &["replica".into()]),
                s.clone(),
            )
        })
        .collect();
    want.sort_by(|a, b| a.0.cmp(&b.0));
    want.dedup_by(|a, b| a.0 == b.0);
    assert_eq!(want.len(), 6);
    // The two eu replicas hold identical chunks: each is sent once.
    assert_eq!(got.decoded(), want);
}

#[tokio::test]
async fn limits_fail_with_resource_exhausted_and_request_limit_truncates() {
    let f = fixture().await;
    let gw = gateway(&f, test_opts()).await;
    let limited = |limits| ServerOptions {
        limits,
        ..ServerOptions::default()
    };
    let s1 = serve(
        gw.clone(),
        limited(SeriesLimits {
            max_series: 5,
            ..SeriesLimits::default()
        }),
    )
    .await;
    let e = series(
        &mut s1.store().await,
        req(r#"{__name__="up"}"#, 0, i64::MAX),
    )
    .await
    .unwrap_err();
    assert_eq!(e.code(), Code::ResourceExhausted);
    assert_eq!(
        e.message(),
        "exceeded series limit: limit 5 violated (got 6)"
    );

    let s2 = serve(
        gw.clone(),
        limited(SeriesLimits {
            max_samples: 1000,
            ..SeriesLimits::default()
        }),
    )
    .await;
    let mut c2 = s2.store().await;
    let e = series(&mut c2, req(r#"{__name__="up"}"#, 0, i64::MAX))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::ResourceExhausted);
    assert!(
        e.message().contains("exceeded samples limit: limit 1000"),
        "{}",
        e.message()
    );
    // Within the limit: 4 series of 250 samples.
    let ok = series(
        &mut c2,
        req(r#"{__name__="up", cluster="eu"}"#, 0, i64::MAX),
    )
    .await
    .unwrap();
    assert_eq!(ok.series.len(), 4);

    let s3 = serve(
        gw.clone(),
        limited(SeriesLimits {
            max_chunk_bytes: 100,
            ..SeriesLimits::default()
        }),
    )
    .await;
    let e = series(
        &mut s3.store().await,
        req(r#"{__name__="up"}"#, 0, i64::MAX),
    )
    .await
    .unwrap_err();
    assert!(e.message().contains("chunk bytes limit"), "{}", e.message());

    let s4 = serve(gw, ServerOptions::default()).await;
    let got = series(
        &mut s4.store().await,
        SeriesRequest {
            limit: 2,
            ..req(r#"{__name__="up"}"#, 0, i64::MAX)
        },
    )
    .await
    .unwrap();
    assert_eq!(got.series.len(), 2);
}

#[tokio::test]
async fn batched_responses_carry_the_same_series() {
    let f = fixture().await;
    let served = serve(gateway(&f, test_opts()).await, ServerOptions::default()).await;
    let mut c = served.store().await;
    let got = series(
        &mut c,
        SeriesRequest {
            response_batch_size: 4,
            ..req(r#"{__name__=~".+"}"#, 0, i64::MAX)
        },
    )
    .await
    .unwrap();
    assert_eq!((got.batches, got.messages), (3, 3));
    assert_eq!(got.decoded(), f.all);
}

#[tokio::test]
async fn label_names_and_values_include_external_labels() {
    let f = fixture().await;
    let served = serve(gateway(&f, test_opts()).await, ServerOptions::default()).await;
    let mut c = served.store().await;
    let names = |start, end, s: &str, without: &[&str]| LabelNamesRequest {
        start,
        end,
        matchers: matchers_to_proto(&sel(s)),
        without_replica_labels: without.iter().map(|s| s.to_string()).collect(),
        ..LabelNamesRequest::default()
    };
    let r = c
        .label_names(names(0, i64::MAX, "{}", &[]))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        r.names,
        ["__name__", "cluster", "code", "instance", "job", "replica"]
    );
    let h: LabelNamesResponseHints = r.hints.unwrap().to_msg().unwrap();
    assert_eq!(h.queried_blocks.len(), 3);
    let r = c
        .label_names(names(
            0,
            i64::MAX,
            r#"{__name__="http_requests_total"}"#,
            &["replica"],
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(r.names, ["__name__", "cluster", "code", "job"]);
    // Only the us block overlaps this range.
    let r = c
        .label_names(names(C_START, i64::MAX, r#"{job="web"}"#, &[]))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        r.names,
        ["__name__", "cluster", "instance", "job", "replica"]
    );

    let values = |label: &str, start, end, s: &str| LabelValuesRequest {
        label: label.into(),
        start,
        end,
        matchers: matchers_to_proto(&sel(s)),
        ..LabelValuesRequest::default()
    };
    let v = |r: tonic::Response<strata_proto::storepb::LabelValuesResponse>| r.into_inner().values;
    assert_eq!(
        v(c.label_values(values("job", 0, i64::MAX, "{}"))
            .await
            .unwrap()),
        ["api", "web"]
    );
    assert_eq!(
        v(c.label_values(values("cluster", 0, i64::MAX, "{}"))
            .await
            .unwrap()),
        ["eu", "us"]
    );
    assert_eq!(
        v(
            c.label_values(values("cluster", 0, EU_END, r#"{job="web"}"#))
                .await
                .unwrap()
        ),
        ["eu"]
    );
    assert_eq!(
        v(
            c.label_values(values("instance", 0, i64::MAX, r#"{job="api"}"#))
                .await
                .unwrap()
        ),
        ["a"]
    );
    assert_eq!(
        v(
            c.label_values(values("replica", 0, i64::MAX, r#"{cluster="us"}"#))
                .await
                .unwrap()
        ),
        ["r1"]
    );
    let mut lim = values("job", 0, i64::MAX, "{}");
    lim.limit = 1;
    assert_eq!(v(c.label_values(lim).await.unwrap()), ["api"]);
    let mut without = values("replica", 0, i64::MAX, "{}");
    without.without_replica_labels = vec!["replica".into()];
    assert!(v(c.label_values(without).await.unwrap()).is_empty());
    let e = c
        .label_values(values("", 0, i64::MAX, "{}"))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
}

#[tokio::test]
async fn info_announces_label_sets_time_range_and_store() {
    let f = fixture().await;
    let served = serve(gateway(&f, test_opts()).await, ServerOptions::default()).await;
    let info = served
        .info()
        .await
        .info(InfoRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(info.component_type, "store");
    let sets: Vec<Labels> = info
        .label_sets
        .iter()
        .map(|s| s.to_labels().unwrap())
        .collect();
    assert_eq!(sets, EXT.iter().map(|e| labels(e)).collect::<Vec<_>>());
    let store = info.store.unwrap();
    assert_eq!(store.min_time, T0);
    // Block max times are exclusive: the last sample plus one.
    assert_eq!(store.max_time, C_START + 199 * 15_000 + 1);
    assert!(store.supports_without_replica_labels);
    assert_eq!(store.tsdb_infos.len(), 3);
}

#[tokio::test]
async fn block_matcher_hints_choose_blocks() {
    let f = fixture().await;
    let served = serve(gateway(&f, test_opts()).await, ServerOptions::default()).await;
    let mut c = served.store().await;
    let hints = SeriesRequestHints {
        block_matchers: matchers_to_proto(&sel(&format!(r#"{{__block_id="{}"}}"#, f.ids[1]))),
        enable_query_stats: false,
    };
    let r = SeriesRequest {
        hints: Some(prost_types::Any::from_msg(&hints).unwrap()),
        ..req(r#"{__name__="up"}"#, 0, i64::MAX)
    };
    let got = series(&mut c, r).await.unwrap();
    assert_eq!(
        got.decoded(),
        expected(&f, |l| l.metric_name() == Some("up")
            && l.get("replica") == Some("r2"))
    );
    let ids: Vec<String> = got
        .hints
        .unwrap()
        .queried_blocks
        .into_iter()
        .map(|b| b.id)
        .collect();
    assert_eq!(ids, [f.ids[1].clone()]);
    // Malformed hints are the caller's fault.
    let bad = SeriesRequest {
        hints: Some(prost_types::Any {
            type_url: "x/hintspb.SeriesRequestHints".into(),
            value: vec![0xff, 0xff],
        }),
        ..req(r#"{__name__="up"}"#, 0, i64::MAX)
    };
    assert_eq!(
        series(&mut c, bad).await.unwrap_err().code(),
        Code::InvalidArgument
    );
    let bad_re = req(r#"{__name__="up"}"#, 0, 1);
    let mut bad_re = bad_re;
    bad_re.matchers[0].r#type = 2;
    bad_re.matchers[0].value = "(".into();
    assert_eq!(
        series(&mut c, bad_re).await.unwrap_err().code(),
        Code::InvalidArgument
    );
}
