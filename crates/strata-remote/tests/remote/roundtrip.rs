//! Property round trips: encode → decode gives back the series (and 1.0 metadata).

use proptest::collection::vec;
use proptest::prelude::*;
use strata_remote::{MetricMetadataRef, MetricType, TimeSeriesRef, rw1, rw2, snappy};

use crate::generate::{OwnedSeries, same, series, v1_view};

fn decode_v1(req: &[u8]) -> Vec<TimeSeriesRef<'_>> {
    let mut out = Vec::new();
    let mut scratch = TimeSeriesRef::default();
    rw1::for_each_series(req, &mut scratch, |ts| {
        out.push(ts.clone());
        Ok(())
    })
    .unwrap();
    out
}

fn decode_v2(req: &[u8]) -> Vec<TimeSeriesRef<'_>> {
    let mut out = Vec::new();
    let mut scratch = TimeSeriesRef::default();
    rw2::for_each_series(req, &mut scratch, |ts| {
        out.push(ts.clone());
        Ok(())
    })
    .unwrap();
    out
}

fn refs(s: &[OwnedSeries]) -> Vec<TimeSeriesRef<'_>> {
    s.iter().map(OwnedSeries::as_ref).collect()
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 200,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn v1_round_trip(
        input in vec(series(), 0..5),
        md in vec((proptest::sample::select(MetricType::ALL.to_vec()), ".{0,4}", ".{0,4}", ".{0,4}"), 0..3),
    ) {
        let mut b = rw1::RequestBuilder::new();
        for s in &input {
            b.add_series(&s.as_ref());
        }
        let mds: Vec<MetricMetadataRef<'_>> = md
            .iter()
            .map(|(t, n, h, u)| MetricMetadataRef {
                metric_type: *t,
                metric_family_name: n,
                help: h,
                unit: u,
            })
            .collect();
        for m in &mds {
            b.add_metadata(m);
        }
        let req = b.finish();
        let want: Vec<OwnedSeries> = input.iter().map(v1_view).collect();
        let got = decode_v1(&req);
        prop_assert!(same(&got, &refs(&want)), "got {got:?}\nwant {want:?}");
        let mut got_md = Vec::new();
        rw1::for_each_metadata(&req, |m| {
            got_md.push(*m);
            Ok(())
        })
        .unwrap();
        prop_assert_eq!(got_md, mds);
    }

    #[test]
    fn v2_round_trip(input in vec(series(), 0..5)) {
        let want = refs(&input);
        let req = rw2::encode_request(&want);
        let got = decode_v2(&req);
        prop_assert!(same(&got, &want), "got {got:?}\nwant {want:?}");
        // Re-encoding what was decoded gives the same bytes (the encoding is canonical).
        prop_assert_eq!(rw2::encode_request(&got), req);
    }

    #[test]
    fn v2_round_trip_through_snappy(input in vec(series(), 1..4)) {
        let want = refs(&input);
        let body = snappy::compress(&rw2::encode_request(&want));
        let raw = snappy::decompress(&body, 1 << 20).unwrap();
        prop_assert!(same(&decode_v2(&raw), &want));
    }

    #[test]
    fn builder_reuse_matches_fresh_builders(a in vec(series(), 1..3), b in vec(series(), 1..3)) {
        let mut builder = rw2::RequestBuilder::new();
        for s in &a {
            builder.add_series(&s.as_ref());
        }
        let first = builder.finish();
        for s in &b {
            builder.add_series(&s.as_ref());
        }
        let second = builder.finish();
        prop_assert_eq!(first, rw2::encode_request(&refs(&a)));
        prop_assert_eq!(second, rw2::encode_request(&refs(&b)));
    }
}
