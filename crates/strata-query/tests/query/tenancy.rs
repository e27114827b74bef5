//! Tenancy enforcement as a property: for random selectors, a tenant's queries never
//! return another tenant's series, whatever matchers on the tenant label the request
//! carries, even from a store that ignores matchers.

use proptest::prelude::*;
use strata_model::storage::{Queryable, ReadContext, SelectHints};
use strata_model::{MatchType, Matcher};
use strata_query::{ProxyQueryable, QueryOptions};

use crate::common::*;

const TENANTS: [&str; 3] = ["A", "B", "C"];

fn tenant_series() -> Vec<StoredSeries> {
    let mut out = Vec::new();
    for t in TENANTS {
        for job in ["x", "y"] {
            out.push(series(
                &[("__name__", "up"), ("job", job), ("tenant_id", t)],
                regular(0, 1_000, 3, |_| 1.0),
            ));
        }
        out.push(series(
            &[("__name__", "http"), ("tenant_id", t)],
            regular(0, 1_000, 3, |_| 2.0),
        ));
    }
    out.push(series(
        &[("__name__", "up"), ("job", "x")],
        regular(0, 1_000, 3, |_| 3.0),
    ));
    out
}

struct Setup {
    _rt: tokio::runtime::Runtime,
    _stores: Vec<Running>,
    q: ProxyQueryable,
}

fn setup() -> Setup {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (stores, q) = rt.block_on(async {
        let receive = start(StoreData::new(
            "receive",
            &[("receive", "r1")],
            tenant_series(),
        ))
        .await;
        // A store whose external labels say it holds only tenant B.
        let b_only = start(StoreData::new(
            "sidecar",
            &[("tenant_id", "B")],
            vec![series(
                &[("__name__", "up"), ("job", "x")],
                regular(0, 1_000, 3, |_| 4.0),
            )],
        ))
        .await;
        // A misbehaving store that returns everything it has.
        let mut sloppy = StoreData::new("store", &[], tenant_series());
        sloppy.ignore_matchers = true;
        let sloppy = start(sloppy).await;
        let opts = QueryOptions {
            enforce_tenancy: true,
            ..QueryOptions::default()
        };
        let (_set, q) = proxy(&[&receive, &b_only, &sloppy], opts).await;
        (vec![receive, b_only, sloppy], q)
    });
    Setup {
        _rt: rt,
        _stores: stores,
        q,
    }
}

fn matcher() -> impl Strategy<Value = Matcher> {
    let name = prop::sample::select(vec!["__name__", "tenant_id", "job", "receive"]);
    let kind = prop::sample::select(vec![
        MatchType::Equal,
        MatchType::NotEqual,
        MatchType::Regex,
        MatchType::NotRegex,
    ]);
    let value = prop::sample::select(vec![
        "A", "B", "C", "up", "http", "x", "", ".*", ".+", "A|B", "B.*", "r1",
    ]);
    (name, kind, value).prop_map(|(n, k, v)| Matcher::new(k, n, v).unwrap())
}

#[test]
fn a_tenant_never_sees_another_tenants_series() {
    let s = setup();
    // The tenant does see its own data.
    let q =
        s.q.querier_with(
            0,
            10_000,
            &ReadContext {
                tenant: Some("A".into()),
                ..ReadContext::default()
            },
        )
        .unwrap();
    let all: Vec<_> = q
        .select(&[Matcher::equal("__name__", "up")], &SelectHints::default())
        .unwrap()
        .map(|s| s.unwrap().labels.to_string())
        .collect();
    // The sloppy store adds `http{tenant_id="A"}`: the querier filters by tenant only.
    assert_eq!(
        all,
        vec![
            r#"{__name__="http", tenant_id="A"}"#,
            r#"{__name__="up", job="x", receive="r1", tenant_id="A"}"#,
            r#"{__name__="up", job="x", tenant_id="A"}"#,
            r#"{__name__="up", job="y", receive="r1", tenant_id="A"}"#,
            r#"{__name__="up", job="y", tenant_id="A"}"#,
        ]
    );

    let cfg = ProptestConfig {
        cases: 64,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    proptest!(cfg, |(
        ms in prop::collection::vec(matcher(), 0..4),
        tenant in prop::sample::select(TENANTS.to_vec()),
        bound in any::<bool>(),
    )| {
        // The tenant comes from the request or from a queryable bound to it.
        let (q, ctx) = if bound {
            (s.q.with_tenant(tenant), ReadContext::default())
        } else {
            (s.q.clone(), ReadContext { tenant: Some(tenant.into()), ..ReadContext::default() })
        };
        let querier = q.querier_with(0, 10_000, &ctx).unwrap();
        let hints = SelectHints { start: 0, end: 10_000, sorted: true, labels_only: false };
        for series in querier.select(&ms, &hints).unwrap() {
            let l = series.unwrap().labels;
            prop_assert_eq!(l.get("tenant_id"), Some(tenant), "{} leaked to {}", l, tenant);
        }
        for v in querier.label_values("tenant_id", &ms).unwrap() {
            prop_assert_eq!(v.as_str(), tenant);
        }
    });
}
