//! Whole requests as a receiver sees them: headers, snappy body, decoding, validation.

use strata_model::histogram::{Histogram, Span};
use strata_model::sample::{is_stale_nan, stale_nan};
use strata_remote::negotiate::{
    HEADER_EXEMPLARS_WRITTEN, HEADER_HISTOGRAMS_WRITTEN, HEADER_SAMPLES_WRITTEN,
};
use strata_remote::{
    ExemplarRef, HistogramValue, MetadataRef, MetricType, Protocol, TimeSeriesRef, WireHistogram,
    check_content_encoding, negotiate_content_type, rw1, rw2, snappy,
};

/// What a receiver does with a request: negotiate, decompress, decode; returns
/// (series, samples, histograms, exemplars) counts.
fn receive(
    content_type: Option<&str>,
    encoding: Option<&str>,
    body: &[u8],
) -> Result<(usize, usize, usize, usize), String> {
    let proto = negotiate_content_type(content_type).map_err(|e| e.to_string())?;
    check_content_encoding(encoding).map_err(|e| e.to_string())?;
    let raw = snappy::decompress(body, 1 << 20).map_err(|e| e.to_string())?;
    let mut counts = (0, 0, 0, 0);
    let mut scratch = TimeSeriesRef::default();
    let mut count = |ts: &TimeSeriesRef<'_>| {
        counts.0 += 1;
        counts.1 += ts.samples.len();
        counts.2 += ts.histograms.len();
        counts.3 += ts.exemplars.len();
        Ok(())
    };
    match proto {
        Protocol::V1 => rw1::for_each_series(&raw, &mut scratch, &mut count),
        Protocol::V2 => rw2::for_each_series(&raw, &mut scratch, &mut count),
    }
    .map_err(|e| e.to_string())?;
    Ok(counts)
}

fn histogram_series() -> TimeSeriesRef<'static> {
    TimeSeriesRef {
        labels: vec![("__name__", "rpc_seconds"), ("job", "api")],
        histograms: vec![WireHistogram {
            timestamp: 1_700_000_000_000,
            start_timestamp: 1_699_999_000_000,
            value: HistogramValue::Int(Histogram {
                schema: 3,
                zero_threshold: 1e-128,
                zero_count: 1,
                count: 4,
                sum: 2.5,
                positive_spans: vec![Span {
                    offset: 1,
                    length: 2,
                }],
                positive_deltas: vec![1, 1],
                negative_spans: vec![Span {
                    offset: 0,
                    length: 1,
                }],
                negative_deltas: vec![0],
                ..Default::default()
            }),
        }],
        exemplars: vec![ExemplarRef {
            labels: vec![("trace_id", "4bf92f3577b34da6")],
            value: 0.3,
            timestamp: 1_700_000_000_000,
        }],
        metadata: MetadataRef {
            metric_type: MetricType::Histogram,
            help: "RPC latency.",
            unit: "seconds",
        },
        ..Default::default()
    }
}

#[test]
fn a_v2_request_end_to_end() {
    let float = TimeSeriesRef {
        labels: vec![("__name__", "up"), ("job", "api")],
        samples: vec![(1_700_000_000_000, 1.0), (1_700_000_015_000, stale_nan())],
        ..Default::default()
    };
    let body = snappy::compress(&rw2::encode_request([&float, &histogram_series()]));
    let ct = Some(Protocol::V2.content_type());
    assert_eq!(receive(ct, Some("snappy"), &body), Ok((2, 2, 1, 1)));
    // The stale marker's exact bits survive.
    let raw = snappy::decompress(&body, 1 << 20).unwrap();
    let mut scratch = TimeSeriesRef::default();
    let mut stale = 0;
    rw2::for_each_series(&raw, &mut scratch, |ts| {
        stale += ts.samples.iter().filter(|s| is_stale_nan(s.1)).count();
        for h in &ts.histograms {
            assert_eq!(h.value.validate(), Ok(()));
        }
        Ok(())
    })
    .unwrap();
    assert_eq!(stale, 1);
}

#[test]
fn negotiation_failures_are_reported_before_decoding() {
    let body = snappy::compress(&rw2::encode_request([&histogram_series()]));
    let e = receive(Some("application/json"), None, &body).unwrap_err();
    assert!(e.contains("unsupported content type"), "{e}");
    let e = receive(Some(Protocol::V2.content_type()), Some("zstd"), &body).unwrap_err();
    assert!(e.contains("unsupported content encoding \"zstd\""), "{e}");
}

/// The spec reserves 2.0 fields 1–3 so that decoding one message with the other's
/// schema gives an empty request instead of garbage.
#[test]
fn wrong_schema_decodes_to_nothing() {
    let v2 = rw2::encode_request([&histogram_series()]);
    let v1 = {
        let mut b = rw1::RequestBuilder::new();
        b.add_series(&histogram_series());
        b.finish()
    };
    let mut scratch = TimeSeriesRef::default();
    let mut n = 0;
    rw1::for_each_series(&v2, &mut scratch, |_| {
        n += 1;
        Ok(())
    })
    .unwrap();
    rw2::for_each_series(&v1, &mut scratch, |_| {
        n += 1;
        Ok(())
    })
    .unwrap();
    assert_eq!(n, 0);
}

#[test]
fn invalid_histograms_get_a_precise_message() {
    let mut ts = histogram_series();
    if let HistogramValue::Int(h) = &mut ts.histograms[0].value {
        h.count = 5;
    }
    let req = rw2::encode_request([&ts]);
    let mut scratch = TimeSeriesRef::default();
    let mut errors = Vec::new();
    rw2::for_each_series(&req, &mut scratch, |ts| {
        for h in &ts.histograms {
            if let Err(e) = h.value.validate() {
                errors.push(e.to_string());
            }
        }
        Ok(())
    })
    .unwrap();
    assert_eq!(
        errors,
        vec![
            "4 observations found in buckets, but the Count field is 5: histogram's observation count should equal the number of observations found in the buckets (in absence of NaN)"
        ]
    );
}

#[test]
fn scratch_is_reused_across_many_series() {
    let owned: Vec<(String, Vec<(i64, f64)>)> = (0..1000)
        .map(|i| (format!("s{i}"), vec![(i64::from(i), f64::from(i))]))
        .collect();
    let series: Vec<TimeSeriesRef<'_>> = owned
        .iter()
        .map(|(v, s)| TimeSeriesRef {
            labels: vec![("__name__", "m"), ("i", v)],
            samples: s.clone(),
            ..Default::default()
        })
        .collect();
    let req = rw2::encode_request(&series);
    let mut scratch = TimeSeriesRef::default();
    let mut i = 0usize;
    rw2::for_each_series(&req, &mut scratch, |ts| {
        assert_eq!(ts, &series[i]);
        i += 1;
        Ok(())
    })
    .unwrap();
    assert_eq!(i, 1000);
    // One symbol per distinct string: "", "__name__", "m", "i", s0..s999.
    assert_eq!(rw2::symbols(&req).unwrap().len(), 1004);
}

#[test]
fn response_header_names() {
    assert_eq!(
        HEADER_SAMPLES_WRITTEN,
        "X-Prometheus-Remote-Write-Samples-Written"
    );
    assert_eq!(
        HEADER_HISTOGRAMS_WRITTEN,
        "X-Prometheus-Remote-Write-Histograms-Written"
    );
    assert_eq!(
        HEADER_EXEMPLARS_WRITTEN,
        "X-Prometheus-Remote-Write-Exemplars-Written"
    );
}
