//! The Store API over a `Queryable`: a receiver's two tenants (series carry tenant and
//! external labels) and a local TSDB with external labels attached by the server.

use std::sync::Arc;

use strata_model::Labels;
use strata_model::clock::system_clock;
use strata_proto::infopb::InfoRequest;
use strata_proto::storepb::{
    LabelNamesRequest, LabelValuesRequest, SeriesRequest, matchers_to_proto,
};
use strata_receive::multitsdb::MultiTsdb;
use strata_receive::query::TenantsQueryable;
use strata_store::{QueryableSource, SeriesLimits, ServerOptions, db_time_range};
use strata_tsdb::{Db, DbOptions};
use tonic::Code;

use crate::common::*;

const T0: i64 = 1_700_000_000_000;

fn receiver_opts() -> ServerOptions {
    ServerOptions {
        component: "receive".into(),
        ..ServerOptions::default()
    }
}

/// Two tenants with the same series names and different samples; the head holds them.
fn tenants(dir: &std::path::Path) -> (Arc<MultiTsdb>, Vec<(Labels, Samples)>) {
    let m = Arc::new(MultiTsdb::open(dir, DbOptions::default(), system_clock()).unwrap());
    let mut want = Vec::new();
    for (i, tenant) in ["t1", "t2"].into_iter().enumerate() {
        let db = m.tenant(tenant).unwrap().db.clone();
        let mut app = db.appender();
        for (j, job) in ["api", "web"].into_iter().enumerate() {
            let l = labels(&[("__name__", "up"), ("job", job)]);
            let s = samples(T0, 5_000, 300, (i * 10 + j) as f64);
            for &(t, v) in &s {
                app.append(&l, t, v).unwrap();
            }
            want.push((
                labels(&[
                    ("__name__", "up"),
                    ("job", job),
                    ("replica", "x"),
                    ("tenant_id", tenant),
                ]),
                s,
            ));
        }
        app.commit().unwrap();
    }
    want.sort_by(|a, b| a.0.cmp(&b.0));
    (m, want)
}

fn tenants_source(m: Arc<MultiTsdb>) -> Arc<QueryableSource> {
    let ext = labels(&[("replica", "x")]);
    let tq = Arc::new(TenantsQueryable::new(m.clone(), "tenant_id", ext.clone()));
    let sets = tq.clone();
    Arc::new(
        QueryableSource::new(tq, Labels::empty())
            .with_label_sets(move || {
                m.tenants()
                    .iter()
                    .map(|t| sets.tenant_labels(&t.tenant))
                    .collect()
            })
            .with_time_range(|| (T0, i64::MAX)),
    )
}

#[tokio::test]
async fn tenants_are_served_with_their_labels_and_exact_samples() {
    let dir = tempfile::tempdir().unwrap();
    let (m, want) = tenants(dir.path());
    let served = serve(tenants_source(m), receiver_opts()).await;
    let mut c = served.store().await;

    let got = series(&mut c, req(r#"{__name__="up"}"#, 0, i64::MAX))
        .await
        .unwrap();
    assert_eq!(got.decoded(), want);
    // 300 samples re-encoded as chunks of at most 120.
    let counts: Vec<usize> = got.series[0]
        .chunks
        .iter()
        .map(|c| decode_one(c).len())
        .collect();
    assert_eq!(counts, [120, 120, 60]);
    assert!(got.hints.is_none());

    let got = series(
        &mut c,
        req(
            r#"{__name__="up", tenant_id="t2", job=~"w.*"}"#,
            0,
            i64::MAX,
        ),
    )
    .await
    .unwrap();
    assert_eq!(got.decoded(), want[3..4].to_vec());

    // The range trims samples (chunks are re-encoded from the selected samples).
    let (lo, hi) = (T0 + 10 * 5_000, T0 + 20 * 5_000);
    let got = series(&mut c, req(r#"{job="api", tenant_id="t1"}"#, lo, hi))
        .await
        .unwrap();
    assert_eq!(
        got.decoded(),
        [(want[0].0.clone(), want[0].1[10..=20].to_vec())]
    );

    let e = series(&mut c, req(r#"{tenant_id="t1"}"#, 0, i64::MAX))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    assert!(
        e.message().contains("no matchers specified"),
        "{}",
        e.message()
    );

    // Without the tenant label, both tenants' series of a job merge into one.
    let got = series(
        &mut c,
        SeriesRequest {
            without_replica_labels: vec!["tenant_id".into()],
            ..req(r#"{__name__="up"}"#, 0, i64::MAX)
        },
    )
    .await
    .unwrap();
    assert_eq!(
        got.labels(),
        [
            labels(&[("__name__", "up"), ("job", "api"), ("replica", "x")]),
            labels(&[("__name__", "up"), ("job", "web"), ("replica", "x")]),
        ]
    );
    assert_eq!(got.series[0].chunks.len(), 6);

    let skip = series(
        &mut c,
        SeriesRequest {
            skip_chunks: true,
            ..req(r#"{__name__="up"}"#, 0, i64::MAX)
        },
    )
    .await
    .unwrap();
    assert_eq!(
        skip.labels(),
        want.iter().map(|w| w.0.clone()).collect::<Vec<_>>()
    );
    assert!(skip.series.iter().all(|s| s.chunks.is_empty()));
}

fn decode_one(c: &strata_proto::storepb::AggrChunk) -> Samples {
    decode(&strata_proto::storepb::Series {
        labels: Vec::new(),
        chunks: vec![c.clone()],
    })
}

#[tokio::test]
async fn tenants_labels_info_and_limits() {
    let dir = tempfile::tempdir().unwrap();
    let (m, _) = tenants(dir.path());
    let source = tenants_source(m);
    let served = serve(source.clone(), receiver_opts()).await;
    let mut c = served.store().await;

    let r = c
        .label_names(LabelNamesRequest {
            start: 0,
            end: i64::MAX,
            ..LabelNamesRequest::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(r.names, ["__name__", "job", "replica", "tenant_id"]);
    assert!(r.hints.is_none());
    let values = |label: &str, s: &str| LabelValuesRequest {
        label: label.into(),
        start: 0,
        end: i64::MAX,
        matchers: matchers_to_proto(&sel(s)),
        ..LabelValuesRequest::default()
    };
    let r = c
        .label_values(values("tenant_id", "{}"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(r.values, ["t1", "t2"]);
    let r = c
        .label_values(values("job", r#"{tenant_id="t1"}"#))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(r.values, ["api", "web"]);

    let info = served
        .info()
        .await
        .info(InfoRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(info.component_type, "receive");
    let sets: Vec<Labels> = info
        .label_sets
        .iter()
        .map(|s| s.to_labels().unwrap())
        .collect();
    assert_eq!(
        sets,
        [
            labels(&[("replica", "x"), ("tenant_id", "t1")]),
            labels(&[("replica", "x"), ("tenant_id", "t2")]),
        ]
    );
    let store = info.store.unwrap();
    assert_eq!((store.min_time, store.max_time), (T0, i64::MAX));
    assert_eq!(store.tsdb_infos.len(), 2);

    let limited = serve(
        source,
        ServerOptions {
            limits: SeriesLimits {
                max_samples: 500,
                ..SeriesLimits::default()
            },
            ..receiver_opts()
        },
    )
    .await;
    let e = series(
        &mut limited.store().await,
        req(r#"{__name__="up"}"#, 0, i64::MAX),
    )
    .await
    .unwrap_err();
    assert_eq!(e.code(), Code::ResourceExhausted);
    assert!(e.message().contains("samples limit"), "{}", e.message());
}

#[tokio::test]
async fn local_tsdb_with_attached_external_labels() {
    let dir = tempfile::tempdir().unwrap();
    let db = Arc::new(Db::open(dir.path(), DbOptions::default()).unwrap());
    let l = labels(&[("__name__", "temp"), ("cluster", "inner"), ("room", "a")]);
    let s = samples(T0, 1_000, 130, 3.0);
    let mut app = db.appender();
    for &(t, v) in &s {
        app.append(&l, t, v).unwrap();
    }
    app.commit().unwrap();
    let ext = labels(&[("cluster", "home"), ("replica", "0")]);
    let d = db.clone();
    let source =
        Arc::new(QueryableSource::new(db.clone(), ext).with_time_range(move || db_time_range(&d)));
    let served = serve(source, ServerOptions::default()).await;
    let mut c = served.store().await;

    // The external label replaces the series' own `cluster`.
    let want = labels(&[
        ("__name__", "temp"),
        ("cluster", "home"),
        ("replica", "0"),
        ("room", "a"),
    ]);
    for sel in [
        r#"{__name__="temp"}"#,
        r#"{__name__="temp", cluster="home"}"#,
    ] {
        let got = series(&mut c, req(sel, 0, i64::MAX)).await.unwrap();
        assert_eq!(got.decoded(), [(want.clone(), s.clone())], "{sel}");
    }
    let got = series(
        &mut c,
        req(r#"{__name__="temp", cluster="inner"}"#, 0, i64::MAX),
    )
    .await
    .unwrap();
    assert!(got.series.is_empty());

    let names = c
        .label_names(LabelNamesRequest {
            start: 0,
            end: i64::MAX,
            without_replica_labels: vec!["replica".into()],
            ..LabelNamesRequest::default()
        })
        .await
        .unwrap()
        .into_inner()
        .names;
    assert_eq!(names, ["__name__", "cluster", "room"]);
    let v = |label: &str, s: &str| LabelValuesRequest {
        label: label.into(),
        start: 0,
        end: i64::MAX,
        matchers: matchers_to_proto(&sel(s)),
        ..LabelValuesRequest::default()
    };
    let got = c
        .label_values(v("cluster", "{}"))
        .await
        .unwrap()
        .into_inner()
        .values;
    assert_eq!(got, ["home"]);
    let got = c
        .label_values(v("cluster", r#"{room="a"}"#))
        .await
        .unwrap()
        .into_inner()
        .values;
    assert_eq!(got, ["home"]);
    let got = c
        .label_values(v("cluster", r#"{room="b"}"#))
        .await
        .unwrap()
        .into_inner()
        .values;
    assert!(got.is_empty());
    let got = c
        .label_values(v("room", r#"{cluster="other"}"#))
        .await
        .unwrap()
        .into_inner()
        .values;
    assert!(got.is_empty());

    let info = served
        .info()
        .await
        .info(InfoRequest {})
        .await
        .unwrap()
        .into_inner();
    let store = info.store.unwrap();
    assert_eq!((store.min_time, store.max_time), (T0, i64::MAX));
    assert_eq!(info.label_sets.len(), 1);
}
