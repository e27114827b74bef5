//! Series from several stores are merged in label order; identical label sets become
//! one series merged by timestamp. Label names and values are merged too.

use strata_model::storage::ReadContext;

use crate::common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merges_series_across_stores() {
    let eu = start(StoreData::new(
        "sidecar",
        &[("region", "eu")],
        vec![
            series(
                &[("__name__", "up"), ("job", "a")],
                regular(0, 15_000, 10, |_| 1.0),
            ),
            series(
                &[("__name__", "up"), ("job", "b")],
                regular(0, 15_000, 10, |_| 0.0),
            ),
        ],
    ))
    .await;
    let us = start(StoreData::new(
        "store",
        &[("region", "us")],
        vec![series(
            &[("__name__", "up"), ("job", "a")],
            regular(0, 15_000, 10, |_| 2.0),
        )],
    ))
    .await;
    let (_set, q) = proxy(&[&eu, &us], Default::default()).await;
    let got = select(
        &q,
        ReadContext::default(),
        r#"{__name__="up"}"#,
        0,
        1_000_000,
    )
    .await
    .unwrap();
    let names: Vec<String> = got.iter().map(|(l, _)| l.to_string()).collect();
    assert_eq!(
        names,
        vec![
            r#"{__name__="up", job="a", region="eu"}"#,
            r#"{__name__="up", job="a", region="us"}"#,
            r#"{__name__="up", job="b", region="eu"}"#,
        ]
    );
    assert_eq!(got[1].1, regular(0, 15_000, 10, |_| 2.0));

    // Samples are limited to the selected range.
    let got = select(&q, ReadContext::default(), r#"up{job="b"}"#, 15_000, 45_000)
        .await
        .unwrap();
    assert_eq!(got[0].1, regular(15_000, 15_000, 3, |_| 0.0));

    let ctx = ReadContext::default();
    assert_eq!(
        label_names(&q, ctx.clone(), None).await.unwrap(),
        vec!["__name__", "job", "region"]
    );
    assert_eq!(
        label_names(&q, ctx, Some("region")).await.unwrap(),
        vec!["eu", "us"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identical_label_sets_merge_by_timestamp() {
    // Two stores without external labels hold overlapping parts of one series.
    let all = regular(0, 10_000, 30, |i| i as f64);
    let s1 = start(StoreData::new(
        "store",
        &[],
        vec![series(&[("__name__", "m")], all[..20].to_vec())],
    ))
    .await;
    let s2 = start(StoreData::new(
        "sidecar",
        &[],
        vec![series(&[("__name__", "m")], all[10..].to_vec())],
    ))
    .await;
    let (_set, q) = proxy(&[&s1, &s2], Default::default()).await;
    let got = select(&q, ReadContext::default(), "m", 0, 1_000_000)
        .await
        .unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].1, all);
}
