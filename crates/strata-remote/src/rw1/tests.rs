#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use crate::protowire::Writer;
use proptest::prelude::*;
use strata_model::histogram::{Histogram, Span};

fn decode_all(req: &[u8]) -> Result<Vec<TimeSeriesRef<'_>>> {
    let mut out = Vec::new();
    let mut scratch = TimeSeriesRef::default();
    for_each_series(req, &mut scratch, |ts| {
        out.push(ts.clone());
        Ok(())
    })?;
    Ok(out)
}

#[test]
fn round_trips() {
    let labels = [("__name__", "up"), ("job", "a")];
    let samples = [(1000i64, 1.0), (2000, f64::NAN)];
    let req = encode_write_request([(&labels[..], &samples[..])]);
    let seen = decode_all(&req).unwrap();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].labels, labels);
    assert_eq!(seen[0].samples[0], (1000, 1.0));
    assert!(seen[0].samples[1].1.is_nan());
}

#[test]
fn golden_bytes() {
    // TimeSeries{labels:[{name:"a",value:"b"}], samples:[{value:1, timestamp:2}]}
    let req = encode_write_request([(&[("a", "b")][..], &[(2i64, 1.0f64)][..])]);
    let want: Vec<u8> = vec![
        0x0a, 0x15, // field 1, len 21
        0x0a, 0x06, 0x0a, 0x01, b'a', 0x12, 0x01, b'b', // label
        0x12, 0x0b, 0x09, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0x10, 0x02, // sample
    ];
    assert_eq!(req, want);
}

#[test]
fn exemplars_histograms_and_metadata_round_trip() {
    let ts = TimeSeriesRef {
        labels: vec![("__name__", "h")],
        exemplars: vec![ExemplarRef {
            labels: vec![("trace_id", "abc")],
            value: 0.5,
            timestamp: 7,
        }],
        histograms: vec![WireHistogram {
            timestamp: 9,
            start_timestamp: 0,
            value: HistogramValue::Int(Histogram {
                count: 2,
                sum: 1.0,
                positive_spans: vec![Span {
                    offset: 0,
                    length: 1,
                }],
                positive_deltas: vec![2],
                ..Default::default()
            }),
        }],
        ..Default::default()
    };
    let md = MetricMetadataRef {
        metric_type: MetricType::Histogram,
        metric_family_name: "h",
        help: "Help.",
        unit: "seconds",
    };
    let mut b = RequestBuilder::new();
    b.add_series(&ts);
    b.add_metadata(&md);
    let req = b.finish();
    assert!(b.is_empty());
    assert_eq!(decode_all(&req).unwrap(), vec![ts]);
    let mut mds = Vec::new();
    for_each_metadata(&req, |m| {
        mds.push(*m);
        Ok(())
    })
    .unwrap();
    assert_eq!(mds, vec![md]);
}

#[test]
fn errors_name_the_series() {
    let good = encode_write_request([(&[("a", "b")][..], &[(1i64, 1.0)][..])]);
    // Second series: a label whose name is invalid UTF-8.
    let mut w = Writer::default();
    w.message(1, |w| {
        w.message(1, |w| {
            w.bytes(1, &[0xff, 0xfe]);
            w.bytes(2, b"v");
        })
    });
    let mut req = good.clone();
    req.extend_from_slice(&w.buf);
    let e = decode_all(&req).unwrap_err();
    assert_eq!(e.series_index(), Some(1));
    assert!(
        e.to_string()
            .starts_with("time series 1: invalid UTF-8 in label name at byte"),
        "{e}"
    );
    // Truncated: the series' length runs past the end.
    let e = decode_all(&good[..good.len() - 1]).unwrap_err();
    assert!(e.to_string().contains("length exceeds message"), "{e}");
}

#[test]
fn histogram_errors_name_the_histogram() {
    let mut w = Writer::default();
    w.message(1, |w| w.bytes(4, &[0x6a, 0x01, 0x00]));
    let e = decode_all(&w.buf).unwrap_err().to_string();
    assert!(
        e.starts_with("time series 0: histogram 0: invalid protobuf"),
        "{e}"
    );
}

#[test]
fn metadata_errors_name_the_entry() {
    let mut w = Writer::default();
    w.message(3, |w| w.bytes(4, &[0xc3]));
    let e = for_each_metadata(&w.buf, |_| Ok(()))
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("metadata 0: invalid UTF-8 in help"), "{e}");
}

proptest! {
    #[test]
    fn garbage_never_panics(b in proptest::collection::vec(any::<u8>(), 0..300)) {
        let mut scratch = TimeSeriesRef::default();
        let _ = for_each_series(&b, &mut scratch, |_| Ok(()));
        let _ = for_each_metadata(&b, |_| Ok(()));
    }
}
