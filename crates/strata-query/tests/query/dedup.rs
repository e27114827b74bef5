//! Replica deduplication: replicas differing only in the `replica` external label are
//! one series when deduplicating (gaps of one replica filled from the other, no rate
//! spikes through the PromQL engine), and all replicas without deduplication.

use strata_model::storage::ReadContext;
use strata_promql::value::Value;
use strata_promql::{Engine, QueryOptions as EngineOptions};
use strata_query::{DedupFunc, ProxyQueryable};

use crate::common::*;

const STEP: i64 = 15_000;
/// One hour of 15s samples.
const N: i64 = 240;

fn counter(offset: i64) -> Samples {
    // A counter growing by 1 per 15s, read at its own timestamps.
    regular(offset, STEP, N, move |i| {
        (offset + i * STEP) as f64 / STEP as f64
    })
}

fn without(s: &Samples, from: i64, to: i64) -> Samples {
    s.iter()
        .copied()
        .filter(|(t, _)| *t < from || *t > to)
        .collect()
}

async fn replicas(a: Samples, b: Samples, chunk_b: usize) -> (Running, Running) {
    let mut sa = series(&[("__name__", "x"), ("job", "j")], a);
    sa.chunk_len = 120;
    let mut sb = series(&[("__name__", "x"), ("job", "j")], b);
    sb.chunk_len = chunk_b;
    let r0 = start(StoreData::new("sidecar", &[("replica", "0")], vec![sa])).await;
    let r1 = start(StoreData::new("sidecar", &[("replica", "1")], vec![sb])).await;
    (r0, r1)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identical_replicas_are_one_series_and_both_without_dedup() {
    let data = counter(0);
    let (r0, r1) = replicas(data.clone(), data.clone(), 120).await;
    let (_set, q) = proxy(&[&r0, &r1], opts_with_replicas(&["replica"])).await;

    let got = select(&q, ReadContext::default(), "x", 0, i64::MAX)
        .await
        .unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0.to_string(), r#"{__name__="x", job="j"}"#);
    assert_eq!(got[0].1, data);
    // Stores were asked to drop the replica label themselves.
    let (req, _) = r0.store.seen.lock().unwrap()[0].clone();
    assert_eq!(req.without_replica_labels, vec!["replica"]);

    let off = ReadContext {
        dedup: Some(false),
        ..ReadContext::default()
    };
    let got = select(&q, off, "x", 0, i64::MAX).await.unwrap();
    let names: Vec<String> = got.iter().map(|(l, _)| l.to_string()).collect();
    assert_eq!(
        names,
        vec![
            r#"{__name__="x", job="j", replica="0"}"#,
            r#"{__name__="x", job="j", replica="1"}"#,
        ]
    );
    assert!(got.iter().all(|(_, s)| *s == data));

    // The replicaLabels[] parameter overrides the configured labels.
    let other = ReadContext {
        replica_labels: Some(vec!["job".into()]),
        ..ReadContext::default()
    };
    let got = select(&q, other, "x", 0, i64::MAX).await.unwrap();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].0.to_string(), r#"{__name__="x", replica="0"}"#);

    // Label names and values leave the replica label out when deduplicating.
    let ctx = ReadContext::default();
    assert_eq!(
        label_names(&q, ctx.clone(), None).await.unwrap(),
        vec!["__name__", "job"]
    );
    assert!(
        label_names(&q, ctx, Some("replica"))
            .await
            .unwrap()
            .is_empty()
    );
}

/// Rate over the deduplicated series, step 30s over the middle 40 minutes.
async fn rates(q: &ProxyQueryable) -> Vec<f64> {
    let q = q.clone();
    tokio::task::spawn_blocking(move || {
        let res = Engine::default()
            .range_query(
                &q,
                "rate(x[5m])",
                600_000,
                3_000_000,
                30_000,
                &EngineOptions::default(),
            )
            .unwrap();
        let Value::Matrix(m) = res.value else {
            panic!("want a matrix");
        };
        assert_eq!(m.len(), 1, "one deduplicated series");
        m[0].floats.iter().map(|(_, v)| *v).collect()
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gap_in_one_replica_is_filled_without_rate_spikes() {
    let full = counter(0);
    let gappy = without(&full, 1_200_000, 1_800_000);
    let want_rate = 1.0 / 15.0;
    for (a, b) in [(gappy.clone(), full.clone()), (full.clone(), gappy.clone())] {
        let (r0, r1) = replicas(a, b, 50).await;
        let (_set, q) = proxy(&[&r0, &r1], opts_with_replicas(&["replica"])).await;
        let got = select(&q, ReadContext::default(), "x", 0, i64::MAX)
            .await
            .unwrap();
        assert_eq!(got.len(), 1);
        let samples = &got[0].1;
        // Every sample is a real one; the gap is filled except for the penalty window
        // (twice the scrape interval after the last sample before it).
        assert!(samples.iter().all(|s| full.contains(s)));
        let want = without(&full, 1_200_000, 1_200_000 + STEP);
        assert!(want.iter().all(|s| samples.contains(s)), "gap not filled");
        // Windows that start in the penalty window see a 45s hole, which rate()'s
        // extrapolation turns into a slightly lower rate; a replica switch that broke
        // the counter would show as a reset, many times the real rate.
        for r in rates(&q).await {
            assert!((r - want_rate).abs() < want_rate * 0.1, "rate spike: {r}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn penalty_follows_one_ha_replica_and_chain_merges_all() {
    // An HA pair: the second replica scrapes 5s later and misses 20 minutes.
    let a = counter(0);
    let b = without(&counter(5_000), 1_200_000, 2_400_000);
    let (r0, r1) = replicas(b.clone(), a.clone(), 120).await;
    let (_set, q) = proxy(&[&r0, &r1], opts_with_replicas(&["replica"])).await;
    let got = select(&q, ReadContext::default(), "x", 0, i64::MAX)
        .await
        .unwrap();
    let s = &got[0].1;
    let min_gap = s.windows(2).map(|w| w[1].0 - w[0].0).min().unwrap();
    assert!(
        min_gap >= STEP - 5_000,
        "penalty dedup mixed replicas: gap {min_gap}"
    );
    assert!(s.len() >= (N - 4) as usize, "{} samples", s.len());
    for r in rates(&q).await {
        assert!((r - 1.0 / 15.0).abs() < 0.05 / 15.0, "rate spike: {r}");
    }

    let mut opts = opts_with_replicas(&["replica"]);
    opts.dedup_func = DedupFunc::Chain;
    let (_set, q) = proxy(&[&r0, &r1], opts).await;
    let got = select(&q, ReadContext::default(), "x", 0, i64::MAX)
        .await
        .unwrap();
    assert_eq!(
        got[0].1.len(),
        a.len() + b.len(),
        "chain keeps every sample"
    );
}
