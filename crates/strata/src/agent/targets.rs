//! `GET /api/v1/targets` in Prometheus' JSON shape, from the scrape manager's targets.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use strata_model::Labels;
use strata_scrape::{Target, TargetsSnapshot};

use super::Web;

fn label_map(l: &Labels) -> Value {
    let m: Map<String, Value> = l
        .iter()
        .map(|(n, v)| (n.to_string(), Value::String(v.to_string())))
        .collect();
    Value::Object(m)
}

/// A duration as Prometheus' `model.Duration` prints it (`1m`, `15s`).
fn prom_duration(d: std::time::Duration) -> String {
    strata_model::duration::prom_duration_string(i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn active(pool: &str, t: &Target) -> Value {
    let st = t.status();
    let last_scrape = if st.last_scrape_ms == 0 {
        // Go's zero time.
        "0001-01-01T00:00:00Z".to_owned()
    } else {
        strata_api::timeparse::format_rfc3339_ms(st.last_scrape_ms)
    };
    json!({
        "discoveredLabels": label_map(&t.discovered_labels()),
        "labels": label_map(t.public_labels()),
        "scrapePool": pool,
        "scrapeUrl": t.url(),
        "globalUrl": t.url(),
        "lastError": st.last_error,
        "lastScrape": last_scrape,
        "lastScrapeDuration": st.last_scrape_duration.as_secs_f64(),
        "health": st.health.as_str(),
        "scrapeInterval": prom_duration(t.interval()),
        "scrapeTimeout": prom_duration(t.timeout()),
    })
}

/// The `data` object for the `state` (`active`, `dropped`, `any`/empty) and
/// `scrapePool` parameters.
pub(crate) fn targets_data(snap: &TargetsSnapshot, state: &str, pool: Option<&str>) -> Value {
    let want = |p: &str| pool.is_none_or(|x| x == p);
    let show_active = state.is_empty() || state == "any" || state == "active";
    let show_dropped = state.is_empty() || state == "any" || state == "dropped";
    let mut data = Map::new();
    if show_active {
        let list: Vec<Value> = snap
            .active
            .iter()
            .filter(|(p, _)| want(p))
            .flat_map(|(p, ts)| ts.iter().map(move |t| active(p, t)))
            .collect();
        data.insert("activeTargets".into(), Value::Array(list));
    }
    if show_dropped {
        let list: Vec<Value> = snap
            .dropped
            .iter()
            .filter(|(p, _)| want(p))
            .flat_map(|(_, ls)| ls.iter().map(|l| json!({"discoveredLabels": label_map(l)})))
            .collect();
        data.insert("droppedTargets".into(), Value::Array(list));
        let counts: Map<String, Value> = snap
            .dropped_counts
            .iter()
            .filter(|(p, _)| want(p))
            .map(|(p, n)| (p.clone(), json!(n)))
            .collect();
        data.insert("droppedTargetCounts".into(), Value::Object(counts));
    }
    Value::Object(data)
}

pub(crate) async fn targets(
    State(web): State<Arc<Web>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let Some(agent) = web.agent.get() else {
        return super::not_ready();
    };
    let snap = agent.targets();
    let state = q
        .get("state")
        .map(|s| s.to_ascii_lowercase())
        .unwrap_or_default();
    let data = targets_data(&snap, &state, q.get("scrapePool").map(String::as_str));
    (
        StatusCode::OK,
        Json(json!({"status": "success", "data": data})),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn shape_and_filters() {
        let mut snap = TargetsSnapshot::default();
        let t = Target::new(
            "node",
            Labels::new(&[
                ("__address__", "127.0.0.1:9100"),
                ("__metrics_path__", "/metrics"),
                ("__scheme__", "http"),
                ("instance", "127.0.0.1:9100"),
                ("job", "node"),
            ])
            .unwrap(),
            Labels::new(&[("__address__", "127.0.0.1:9100")]).unwrap(),
            &Default::default(),
            std::time::Duration::from_secs(60),
            std::time::Duration::from_secs(10),
        );
        snap.active.insert("node".into(), vec![Arc::new(t)]);
        snap.dropped.insert(
            "node".into(),
            vec![Labels::new(&[("__address__", "x:1")]).unwrap()],
        );
        snap.dropped_counts.insert("node".into(), 1);
        let d = targets_data(&snap, "", None);
        let a = &d["activeTargets"][0];
        assert_eq!(a["scrapeUrl"], "http://127.0.0.1:9100/metrics");
        assert_eq!(a["labels"]["job"], "node");
        assert!(a["labels"].get("__address__").is_none());
        assert_eq!(a["health"], "unknown");
        assert_eq!(a["scrapeInterval"], "1m");
        assert_eq!(a["scrapeTimeout"], "10s");
        assert_eq!(a["lastScrape"], "0001-01-01T00:00:00Z");
        assert_eq!(
            d["droppedTargets"][0]["discoveredLabels"]["__address__"],
            "x:1"
        );
        assert_eq!(d["droppedTargetCounts"]["node"], 1);
        let only = targets_data(&snap, "active", Some("other"));
        assert_eq!(only["activeTargets"].as_array().unwrap().len(), 0);
        assert!(only.get("droppedTargets").is_none());
    }
}
