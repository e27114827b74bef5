//! The API over a real TSDB: every endpoint's exact status, content type and body, as
//! Prometheus answers, including the calls Grafana makes.

#![cfg(test)]

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, header};
use http_body_util::BodyExt;
use strata_api::{ApiState, BuildInfo, HeadTsdbStatus, RuntimeInfo, RuntimeInfoProvider, router};
use strata_model::Labels;
use strata_promql::Engine;
use strata_tsdb::{Db, DbOptions};
use tower::ServiceExt;

struct FixedRuntime;

impl RuntimeInfoProvider for FixedRuntime {
    fn runtime_info(&self) -> RuntimeInfo {
        RuntimeInfo {
            start_time_ms: 1_435_781_451_781,
            cwd: "/data".into(),
            hostname: "host".into(),
            server_time_ms: 1_435_781_461_000,
            reload_config_success: true,
            last_config_time_ms: 1_435_781_451_000,
            corruption_count: 0,
            goroutine_count: 8,
            gomaxprocs: 2,
            gomemlimit: 9_223_372_036_854_775_807,
            gogc: String::new(),
            godebug: String::new(),
            storage_retention: "15d".into(),
        }
    }
}

type SeriesDef = (
    &'static [(&'static str, &'static str)],
    &'static [(i64, f64)],
);

struct Fixture {
    _dir: tempfile::TempDir,
    app: Router,
    bare: Router,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let db = Arc::new(Db::open(dir.path(), DbOptions::default()).unwrap());
    let series: &[SeriesDef] = &[
        (
            &[
                ("__name__", "up"),
                ("instance", "a:9090"),
                ("job", "prometheus"),
            ],
            &[(1_000_000, 1.0), (1_015_000, 1.0)],
        ),
        (
            &[("__name__", "up"), ("instance", "b:9100"), ("job", "node")],
            &[(1_000_000, 0.0), (1_015_000, 1.0)],
        ),
        (
            &[
                ("__name__", "process_start_time_seconds"),
                ("instance", "a:9090"),
                ("job", "prometheus"),
                ("service.name", "api"),
            ],
            &[(1_000_000, 1.4e9)],
        ),
    ];
    let mut app = db.appender();
    for (labels, samples) in series {
        let l = Labels::new(labels).unwrap();
        for (t, v) in *samples {
            app.append(&l, *t, *v).unwrap();
        }
    }
    app.commit().unwrap();

    let mut st = ApiState::new(db.clone(), Engine::default());
    // Without the optional providers (and without a parser) to pin the `unavailable` answers.
    let bare = {
        let mut b = st.clone();
        b.parser = None;
        router(b)
    };
    st.app_name = "Prometheus Server".into();
    st.build_info = BuildInfo {
        version: "0.1.0".into(),
        revision: "abc123".into(),
        branch: "main".into(),
        build_user: "ci@strata".into(),
        build_date: "20250101-00:00:00".into(),
        go_version: "rustc 1.95.0".into(),
    };
    st.runtime_info = Some(Arc::new(FixedRuntime));
    st.flags = BTreeMap::from([
        ("storage.tsdb.path".into(), "data/".into()),
        ("query.timeout".into(), "2m".into()),
    ]);
    st.tsdb_status = Some(Arc::new(HeadTsdbStatus::new(db.head().clone())));
    Fixture {
        _dir: dir,
        app: router(st),
        bare,
    }
}

/// Sends a request; returns status, content type and body.
async fn call(app: &Router, method: &str, uri: &str, form: Option<&str>) -> (u16, String, String) {
    let mut req = Request::builder().method(method).uri(uri);
    let body = match form {
        Some(f) => {
            req = req.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
            Body::from(f.to_owned())
        }
        None => Body::empty(),
    };
    let resp = app.clone().oneshot(req.body(body).unwrap()).await.unwrap();
    let status = resp.status().as_u16();
    let ct = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (status, ct, String::from_utf8(bytes.to_vec()).unwrap())
}

async fn get(app: &Router, uri: &str) -> (u16, String, String) {
    call(app, "GET", uri, None).await
}

fn json(status: u16, body: &str) -> (u16, String, String) {
    (status, "application/json".into(), body.into())
}

fn bad(msg: &str) -> (u16, String, String) {
    json(
        400,
        &format!(r#"{{"status":"error","errorType":"bad_data","error":"{msg}"}}"#),
    )
}

const UP_A: &str = r#"{"__name__":"up","instance":"a:9090","job":"prometheus"}"#;
const UP_B: &str = r#"{"__name__":"up","instance":"b:9100","job":"node"}"#;
const PST: &str = r#"{"__name__":"process_start_time_seconds","instance":"a:9090","job":"prometheus","service.name":"api"}"#;
const EMPTY_VECTOR: &str = r#"{"status":"success","data":{"resultType":"vector","result":[]}}"#;
const EMPTY_MATRIX: &str = r#"{"status":"success","data":{"resultType":"matrix","result":[]}}"#;

#[tokio::test]
async fn query_endpoints() {
    let f = fixture();
    let app = &f.app;
    // Grafana's health check.
    assert_eq!(
        get(app, "/api/v1/query?query=1%2B1&time=1435781451.781").await,
        json(
            200,
            r#"{"status":"success","data":{"resultType":"scalar","result":[1435781451.781,"2"]}}"#
        )
    );
    assert_eq!(
        get(app, "/api/v1/query?query=up&time=1015").await,
        json(
            200,
            &format!(
                r#"{{"status":"success","data":{{"resultType":"vector","result":[{{"metric":{UP_A},"value":[1015,"1"]}},{{"metric":{UP_B},"value":[1015,"1"]}}]}}}}"#
            )
        )
    );
    assert_eq!(
        get(
            app,
            "/api/v1/query?query=sum%20by%20(job)%20(up)&time=1015.5"
        )
        .await,
        json(
            200,
            r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"job":"prometheus"},"value":[1015.500,"1"]},{"metric":{"job":"node"},"value":[1015.500,"1"]}]}}"#
        )
    );
    // A range selector in an instant query returns a matrix.
    assert_eq!(
        get(app, "/api/v1/query?query=up%5B30s%5D&time=1020").await,
        json(
            200,
            &format!(
                r#"{{"status":"success","data":{{"resultType":"matrix","result":[{{"metric":{UP_A},"values":[[1000,"1"],[1015,"1"]]}},{{"metric":{UP_B},"values":[[1000,"0"],[1015,"1"]]}}]}}}}"#
            )
        )
    );
    // Infos travel in the envelope.
    assert_eq!(
        get(app, "/api/v1/query?query=rate(up%5B5m%5D)&time=1020").await,
        json(
            200,
            r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"instance":"a:9090","job":"prometheus"},"value":[1020,"0"]},{"metric":{"instance":"b:9100","job":"node"},"value":[1020,"0.0044444444444444444"]}]},"infos":["PromQL info: metric might not be a counter, name does not end in _total/_sum/_count/_bucket: \"up\""]}"#
        )
    );
    assert_eq!(
        get(app, "/api/v1/query?query=%22hello%22&time=10").await,
        json(
            200,
            r#"{"status":"success","data":{"resultType":"string","result":[10,"hello"]}}"#
        )
    );
    assert_eq!(
        get(app, "/api/v1/query?query=sum(&time=10").await,
        bad(r#"invalid parameter \"query\": 1:5: parse error: unclosed left parenthesis"#)
    );
    assert_eq!(
        call(
            app,
            "POST",
            "/api/v1/query",
            Some("query=up&time=2015-07-01T20:10:51.781Z")
        )
        .await,
        json(200, EMPTY_VECTOR)
    );
    assert_eq!(
        get(app, "/api/v1/query?query=up&time=x").await,
        bad(r#"invalid parameter \"time\": cannot parse \"x\" to a valid timestamp"#)
    );
    assert_eq!(
        get(app, "/api/v1/query?query=up&timeout=soon").await,
        bad(r#"invalid parameter \"timeout\": cannot parse \"soon\" to a valid duration"#)
    );
    assert_eq!(
        get(app, "/api/v1/query?query=up&lookback_delta=x").await,
        bad(r#"error parsing lookback delta duration: cannot parse \"x\" to a valid duration"#)
    );
    // Thanos' parameters are accepted; stats=all adds timings (which vary) and samples.
    let (status, ct, body) = get(
        app,
        "/api/v1/query?query=up&time=1&dedup=true&partial_response=false&max_source_resolution=auto&replicaLabels[]=replica&stats=all&timeout=30s&lookback_delta=1m",
    )
    .await;
    assert_eq!((status, ct.as_str()), (200, "application/json"));
    assert!(
        body.starts_with(r#"{"status":"success","data":{"resultType":"vector","result":[],"stats":{"timings":{"evalTotalTime":"#),
        "{body}"
    );
    assert!(
        body.ends_with(r#""samples":{"totalQueryableSamples":0,"peakSamples":0}}}}"#),
        "{body}"
    );

    let qr = "/api/v1/query_range?query=up";
    assert_eq!(
        get(app, &format!("{qr}&start=0&end=60&step=15s")).await,
        json(200, EMPTY_MATRIX)
    );
    assert_eq!(
        get(app, &format!("{qr}&start=990&end=1020&step=15")).await,
        json(
            200,
            &format!(
                r#"{{"status":"success","data":{{"resultType":"matrix","result":[{{"metric":{UP_A},"values":[[1005,"1"],[1020,"1"]]}},{{"metric":{UP_B},"values":[[1005,"0"],[1020,"1"]]}}]}}}}"#
            )
        )
    );
    assert_eq!(
        call(
            app,
            "POST",
            "/api/v1/query_range",
            Some("query=up&start=0&end=60&step=15")
        )
        .await,
        json(200, EMPTY_MATRIX)
    );
    assert_eq!(
        get(app, &format!("{qr}&start=x&end=60&step=15s")).await,
        bad(r#"invalid parameter \"start\": cannot parse \"x\" to a valid timestamp"#)
    );
    assert_eq!(
        get(app, &format!("{qr}&start=0&step=15s")).await,
        bad(r#"invalid parameter \"end\": cannot parse \"\" to a valid timestamp"#)
    );
    assert_eq!(
        get(app, &format!("{qr}&start=60&end=0&step=15s")).await,
        bad("end timestamp must not be before start time")
    );
    assert_eq!(
        get(app, &format!("{qr}&start=0&end=60&step=x")).await,
        bad(r#"invalid parameter \"step\": cannot parse \"x\" to a valid duration"#)
    );
    assert_eq!(
        get(app, &format!("{qr}&start=0&end=60&step=0")).await,
        bad(
            "zero or negative query resolution step widths are not accepted. Try a positive integer"
        )
    );
    assert_eq!(
        get(app, &format!("{qr}&start=0&end=60&step=-1")).await,
        bad(
            "zero or negative query resolution step widths are not accepted. Try a positive integer"
        )
    );
    assert_eq!(
        get(app, &format!("{qr}&start=0&end=11001&step=1")).await,
        bad(
            "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)"
        )
    );
    let (status, _, body) = get(app, &format!("{qr}&start=0&end=11000&step=1")).await;
    assert_eq!(status, 200, "11,000 points are allowed: {body}");

    assert_eq!(
        get(app, "/api/v1/query_exemplars?query=up&start=0&end=60").await,
        json(200, r#"{"status":"success","data":[]}"#)
    );
    assert_eq!(
        get(app, "/api/v1/query_exemplars?query=up&start=60&end=0").await,
        bad("end timestamp must not be before start timestamp")
    );
}

#[tokio::test]
async fn format_and_parse_query() {
    let f = fixture();
    assert_eq!(
        get(&f.app, "/api/v1/format_query?query=sum(up)").await,
        json(200, r#"{"status":"success","data":"sum(up)"}"#)
    );
    assert_eq!(
        call(&f.app, "POST", "/api/v1/format_query", Some("query=")).await,
        bad(r#"invalid parameter \"query\": 1:1: parse error: no expression found in input"#)
    );
    assert_eq!(
        get(&f.app, "/api/v1/parse_query?query=up").await,
        json(
            200,
            r#"{"status":"success","data":{"anchored":false,"matchers":[{"name":"__name__","type":"=","value":"up"}],"name":"up","offset":0,"smoothed":false,"startOrEnd":null,"timestamp":null,"type":"vectorSelector"}}"#
        )
    );
    let unavailable = json(
        503,
        r#"{"status":"error","errorType":"unavailable","error":"the PromQL parser is not available"}"#,
    );
    assert_eq!(
        get(&f.bare, "/api/v1/format_query?query=up").await,
        unavailable
    );
    assert_eq!(
        get(&f.bare, "/api/v1/parse_query?query=up").await,
        unavailable
    );
}

#[tokio::test]
async fn series() {
    let f = fixture();
    let app = &f.app;
    // Grafana posts a form.
    assert_eq!(
        call(
            app,
            "POST",
            "/api/v1/series",
            Some("match%5B%5D=up&match%5B%5D=process_start_time_seconds%7Bjob%3D%22prometheus%22%7D&start=0&end=2000")
        )
        .await,
        json(200, &format!(r#"{{"status":"success","data":[{PST},{UP_A},{UP_B}]}}"#))
    );
    assert_eq!(
        get(
            app,
            "/api/v1/series?match[]=up&match[]=up%7Bjob%3D%22node%22%7D"
        )
        .await,
        json(
            200,
            &format!(r#"{{"status":"success","data":[{UP_A},{UP_B}]}}"#)
        )
    );
    assert_eq!(
        get(app, "/api/v1/series?match[]=up&limit=1").await,
        json(
            200,
            &format!(
                r#"{{"status":"success","data":[{UP_A}],"warnings":["results truncated due to limit"]}}"#
            )
        )
    );
    assert_eq!(
        get(app, "/api/v1/series?match[]=up&start=2000&end=3000").await,
        json(200, r#"{"status":"success","data":[]}"#)
    );
    assert_eq!(
        get(app, "/api/v1/series").await,
        bad("no match[] parameter provided")
    );
    assert_eq!(
        get(app, "/api/v1/series?match[]=%7Bjob%3D~%22.*%22%7D").await,
        bad("match[] must contain at least one non-empty matcher")
    );
    assert_eq!(
        get(app, "/api/v1/series?match[]=up%7B").await,
        bad(r#"invalid selector \"up{\": expected a label name"#)
    );
    assert_eq!(
        get(app, "/api/v1/series?match[]=up&limit=-1").await,
        bad(r#"invalid parameter \"limit\": limit must be non-negative"#)
    );
    assert_eq!(
        get(app, "/api/v1/series?match[]=up&start=yesterday").await,
        bad(r#"invalid parameter \"start\": cannot parse \"yesterday\" to a valid timestamp"#)
    );
}

#[tokio::test]
async fn labels_and_values() {
    let f = fixture();
    let app = &f.app;
    let names = r#"{"status":"success","data":["__name__","instance","job","service.name"]}"#;
    // Grafana: GET /api/v1/labels?start&end.
    assert_eq!(
        get(app, "/api/v1/labels?start=0&end=2000").await,
        json(200, names)
    );
    assert_eq!(get(app, "/api/v1/labels").await, json(200, names));
    assert_eq!(
        call(app, "POST", "/api/v1/labels", Some("match[]=up")).await,
        json(
            200,
            r#"{"status":"success","data":["__name__","instance","job"]}"#
        )
    );
    assert_eq!(
        get(app, "/api/v1/labels?limit=2").await,
        json(
            200,
            r#"{"status":"success","data":["__name__","instance"],"warnings":["results truncated due to limit"]}"#
        )
    );
    assert_eq!(
        get(app, "/api/v1/labels?start=-292273086-05-16T16:47:06Z&end=292277025-08-18T07:12:54.999999999Z").await,
        json(200, names)
    );
    assert_eq!(
        get(app, "/api/v1/labels?end=x").await,
        bad(r#"invalid parameter \"end\": cannot parse \"x\" to a valid timestamp"#)
    );

    // Grafana: GET /api/v1/label/__name__/values?start&end&match[].
    assert_eq!(
        get(app, "/api/v1/label/__name__/values?start=0&end=2000").await,
        json(
            200,
            r#"{"status":"success","data":["process_start_time_seconds","up"]}"#
        )
    );
    assert_eq!(
        get(
            app,
            "/api/v1/label/__name__/values?start=0&end=2000&match[]=%7Bjob%3D%22node%22%7D"
        )
        .await,
        json(200, r#"{"status":"success","data":["up"]}"#)
    );
    assert_eq!(
        get(
            app,
            "/api/v1/label/job/values?match[]=up&match[]=process_start_time_seconds"
        )
        .await,
        json(200, r#"{"status":"success","data":["node","prometheus"]}"#)
    );
    assert_eq!(
        get(app, "/api/v1/label/job/values?limit=1").await,
        json(
            200,
            r#"{"status":"success","data":["node"],"warnings":["results truncated due to limit"]}"#
        )
    );
    // UTF-8 names in Prometheus 3's escaped form.
    assert_eq!(
        get(app, "/api/v1/label/U__service_2e_name/values").await,
        json(200, r#"{"status":"success","data":["api"]}"#)
    );
    assert_eq!(
        get(app, "/api/v1/label/nope/values").await,
        json(200, r#"{"status":"success","data":[]}"#)
    );
    assert_eq!(
        get(
            app,
            "/api/v1/label/job/values?match[]=%7Bjob%21%3D%22%22%7D&limit=x"
        )
        .await,
        bad(r#"invalid parameter \"limit\": strconv.Atoi: parsing \"x\": invalid syntax"#)
    );
}

#[tokio::test]
async fn metadata_and_status() {
    let f = fixture();
    let app = &f.app;
    assert_eq!(
        get(app, "/api/v1/metadata").await,
        json(200, r#"{"status":"success","data":{}}"#)
    );
    assert_eq!(
        get(app, "/api/v1/metadata?limit=x").await,
        bad("limit must be a number")
    );
    assert_eq!(
        get(app, "/api/v1/status/buildinfo").await,
        json(
            200,
            r#"{"status":"success","data":{"version":"0.1.0","revision":"abc123","branch":"main","buildUser":"ci@strata","buildDate":"20250101-00:00:00","goVersion":"rustc 1.95.0"}}"#
        )
    );
    assert_eq!(
        get(app, "/api/v1/status/runtimeinfo").await,
        json(
            200,
            concat!(
                r#"{"status":"success","data":{"startTime":"2015-07-01T20:10:51.781Z","CWD":"/data","#,
                r#""hostname":"host","serverTime":"2015-07-01T20:11:01Z","reloadConfigSuccess":true,"#,
                r#""lastConfigTime":"2015-07-01T20:10:51Z","corruptionCount":0,"goroutineCount":8,"#,
                r#""GOMAXPROCS":2,"GOMEMLIMIT":9223372036854775807,"GOGC":"","GODEBUG":"","#,
                r#""storageRetention":"15d"}}"#
            )
        )
    );
    assert_eq!(
        get(app, "/api/v1/status/flags").await,
        json(
            200,
            r#"{"status":"success","data":{"query.timeout":"2m","storage.tsdb.path":"data/"}}"#
        )
    );
    assert_eq!(
        get(app, "/api/v1/status/tsdb").await,
        json(
            200,
            concat!(
                r#"{"status":"success","data":{"headStats":{"numSeries":3,"numLabelPairs":7,"#,
                r#""chunkCount":3,"minTime":1000000,"maxTime":1015000},"#,
                r#""seriesCountByMetricName":[{"name":"up","value":2},{"name":"process_start_time_seconds","value":1}],"#,
                r#""labelValueCountByLabelName":[{"name":"__name__","value":2},{"name":"instance","value":2},{"name":"job","value":2},{"name":"service.name","value":1}],"#,
                r#""memoryInBytesByLabelName":[{"name":"__name__","value":28},{"name":"job","value":14},{"name":"instance","value":12},{"name":"service.name","value":3}],"#,
                r#""seriesCountByLabelValuePair":[{"name":"__name__=up","value":2},{"name":"instance=a:9090","value":2},{"name":"job=prometheus","value":2},"#,
                r#"{"name":"__name__=process_start_time_seconds","value":1},{"name":"instance=b:9100","value":1},{"name":"job=node","value":1},{"name":"service.name=api","value":1}]}}"#
            )
        )
    );
    let (status, _, body) = get(app, "/api/v1/status/tsdb?limit=1").await;
    assert_eq!(status, 200);
    assert!(
        body.contains(r#""seriesCountByMetricName":[{"name":"up","value":2}],"#),
        "{body}"
    );
    assert_eq!(
        get(app, "/api/v1/status/tsdb?limit=0").await,
        bad("limit must be a positive number")
    );
    assert_eq!(
        get(&f.bare, "/api/v1/status/tsdb").await,
        json(
            503,
            r#"{"status":"error","errorType":"unavailable","error":"TSDB status is not available"}"#
        )
    );
}

#[tokio::test]
async fn health() {
    let f = fixture();
    let text = |b: &str| (200, "text/plain; charset=utf-8".to_owned(), b.to_owned());
    assert_eq!(
        get(&f.app, "/-/healthy").await,
        text("Prometheus Server is Healthy.\n")
    );
    assert_eq!(
        get(&f.app, "/-/ready").await,
        text("Prometheus Server is Ready.\n")
    );
    assert_eq!(
        get(&f.bare, "/-/healthy").await,
        text("Strata is Healthy.\n")
    );
    // Tenant headers are accepted on any endpoint.
    let req = Request::builder()
        .uri("/api/v1/labels")
        .header("THANOS-TENANT", "team-a")
        .header("X-Scope-OrgID", "team-b")
        .body(Body::empty())
        .unwrap();
    assert_eq!(f.app.clone().oneshot(req).await.unwrap().status(), 200);
}

#[path = "api/read_context.rs"]
mod read_context;
