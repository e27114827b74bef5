//! Storage that reads the request's [`ReadContext`]: the Thanos parameters and the
//! tenant reach it, and its warnings come back in the response.

use std::sync::{Arc, Mutex};

use strata_api::{ApiState, router};
use strata_model::storage::{
    Querier, Queryable, ReadContext, SelectHints, Series, SeriesSet, VecSamples,
};
use strata_model::{Labels, Matcher};
use strata_promql::Engine;

use super::get;

/// One series `up{job="a"} 1`; every querier opened with a context warns with the
/// options it saw and records them.
#[derive(Default)]
struct Warning {
    seen: Mutex<Vec<String>>,
}

struct Fixed;

impl Querier for Fixed {
    fn select(&self, _: &[Matcher], h: &SelectHints) -> strata_model::Result<SeriesSet> {
        let s = Series {
            labels: Labels::new(&[("__name__", "up"), ("job", "a")])?,
            samples: Box::new(VecSamples::new(vec![(h.end.min(10_000), 1.0)])),
        };
        Ok(Box::new(vec![Ok(s)].into_iter()))
    }
    fn label_names(&self, _: &[Matcher]) -> strata_model::Result<Vec<String>> {
        Ok(vec!["__name__".into(), "job".into()])
    }
    fn label_values(&self, _: &str, _: &[Matcher]) -> strata_model::Result<Vec<String>> {
        Ok(vec!["a".into()])
    }
}

impl Queryable for Warning {
    fn querier(&self, _: i64, _: i64) -> strata_model::Result<Box<dyn Querier>> {
        Ok(Box::new(Fixed))
    }
    fn querier_with(
        &self,
        _: i64,
        _: i64,
        ctx: &ReadContext,
    ) -> strata_model::Result<Box<dyn Querier>> {
        let seen = format!(
            "tenant={:?} dedup={:?} partial={:?} replicas={:?}",
            ctx.tenant, ctx.dedup, ctx.partial_response, ctx.replica_labels
        );
        self.seen.lock().unwrap().push(seen);
        ctx.warnings.push("store 10.0.0.1:10901 is down");
        Ok(Box::new(Fixed))
    }
}

#[tokio::test]
async fn storage_warnings_and_thanos_parameters() {
    let storage = Arc::new(Warning::default());
    let app = router(ApiState::new(storage.clone(), Engine::default()));

    let (status, _, body) = get(
        &app,
        "/api/v1/query?query=up&time=10&dedup=false&partial_response=1&replicaLabels[]=replica",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"up","job":"a"},"value":[10,"1"]}]},"warnings":["store 10.0.0.1:10901 is down"]}"#
    );
    assert_eq!(
        storage.seen.lock().unwrap().last().unwrap(),
        r#"tenant=None dedup=Some(false) partial=Some(true) replicas=Some(["replica"])"#
    );

    let (status, _, body) = get(&app, "/api/v1/query_range?query=up&start=0&end=10&step=10").await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.ends_with(r#","warnings":["store 10.0.0.1:10901 is down"]}"#),
        "{body}"
    );

    for uri in [
        "/api/v1/labels",
        "/api/v1/label/job/values",
        "/api/v1/series?match[]=up",
    ] {
        let (status, _, body) = get(&app, uri).await;
        assert_eq!(status, 200, "{uri}: {body}");
        assert!(
            body.contains(r#""warnings":["store 10.0.0.1:10901 is down"]"#),
            "{uri}: {body}"
        );
    }

    let (status, _, body) = get(&app, "/api/v1/query?query=up&dedup=maybe").await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body.contains(r#"'dedup' parameter: strconv.ParseBool: parsing \"maybe\": invalid syntax"#),
        "{body}"
    );
}
