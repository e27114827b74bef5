//! Golden encodings of the receivers' write forwarding messages (`thanos.WriteRequest`
//! and the `prometheus_copy` types it carries), assembled by hand from field numbers.

use strata_proto::prompb::{
    BucketSpan, Exemplar, Histogram, MetricMetadata, Sample, TimeSeries, histogram, metric_metadata,
};
use strata_proto::storepb::{TimeSeriesTenantTuple, WriteRequest};

use crate::golden::{LABEL_A1, check, label_a1};

#[test]
fn write_request() {
    let req = WriteRequest {
        timeseries: vec![TimeSeries {
            labels: vec![label_a1()],
            samples: vec![Sample {
                value: 1.0,
                timestamp: 1000,
            }],
            exemplars: vec![Exemplar {
                labels: vec![label_a1()],
                value: 2.0,
                timestamp: 3,
            }],
            histograms: vec![Histogram {
                count: Some(histogram::Count::CountInt(1)),
                sum: 2.0,
                schema: -1,
                zero_count: Some(histogram::ZeroCount::ZeroCountInt(0)),
                positive_spans: vec![BucketSpan {
                    offset: -1,
                    length: 2,
                }],
                positive_deltas: vec![1, -1],
                reset_hint: histogram::ResetHint::No.into(),
                timestamp: 5,
                ..Histogram::default()
            }],
        }],
        tenant: "t".into(),
        replica: 1,
        timeseries_tenant_data: vec![TimeSeriesTenantTuple {
            timeseries: vec![TimeSeries::default()],
            tenant: "u".into(),
        }],
    };
    let mut want = vec![
        0x0a, 0x4a, // WriteRequest field 1 timeseries, 74 bytes:
        0x0a, 0x06, //   TimeSeries field 1 labels, 6 bytes
    ];
    want.extend(LABEL_A1);
    want.extend([
        0x12, 0x0c, //   TimeSeries field 2 samples, 12 bytes:
        0x09, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, //     Sample field 1 value, fixed64 1.0
        0x10, 0xe8, 0x07, //     Sample field 2 timestamp = 1000
        0x1a, 0x13, //   TimeSeries field 3 exemplars, 19 bytes:
        0x0a, 0x06, //     Exemplar field 1 labels, 6 bytes
    ]);
    want.extend(LABEL_A1);
    want.extend([
        0x11, 0, 0, 0, 0, 0, 0, 0, 0x40, //     Exemplar field 2 value, fixed64 2.0
        0x18, 0x03, //     Exemplar field 3 timestamp = 3
        0x22, 0x1d, //   TimeSeries field 4 histograms, 29 bytes:
        0x08, 0x01, //     Histogram field 1 count_int = 1
        0x19, 0, 0, 0, 0, 0, 0, 0, 0x40, //     field 3 sum, fixed64 2.0
        0x20, 0x01, //     field 4 schema, sint32 -1 (zigzag 1)
        0x30, 0x00, //     field 6 zero_count_int = 0 (set oneof: written)
        0x5a, 0x04, //     field 11 positive_spans, 4 bytes:
        0x08, 0x01, //       BucketSpan field 1 offset, sint32 -1 (zigzag 1)
        0x10, 0x02, //       field 2 length = 2
        0x62, 0x02, 0x02, 0x01, //     field 12 positive_deltas, packed sint64: 1, -1
        0x70, 0x02, //     field 14 reset_hint = NO (2)
        0x78, 0x05, //     field 15 timestamp = 5
        0x12, 0x01, b't', // WriteRequest field 2 tenant
        0x18, 0x01, // field 3 replica = 1
        0x22, 0x05, // field 4 timeseriesTenantData, 5 bytes:
        0x0a, 0x00, //   TimeSeriesTenantTuple field 1 timeseries: one empty TimeSeries
        0x12, 0x01, b'u', //   field 2 tenant
    ]);
    check(&req, &want);
}

#[test]
fn float_histogram_fields() {
    let h = Histogram {
        count: Some(histogram::Count::CountFloat(1.0)),
        zero_threshold: 1.0,
        zero_count: Some(histogram::ZeroCount::ZeroCountFloat(1.0)),
        negative_spans: vec![BucketSpan {
            offset: 1,
            length: 1,
        }],
        negative_deltas: vec![-2],
        negative_counts: vec![1.0],
        positive_counts: vec![1.0],
        custom_values: vec![1.0],
        ..Histogram::default()
    };
    const ONE: [u8; 8] = [0, 0, 0, 0, 0, 0, 0xf0, 0x3f]; // 1.0 as little-endian f64
    let mut want = vec![0x11]; // field 2 count_float, fixed64
    want.extend(ONE);
    want.push(0x29); // field 5 zero_threshold, fixed64
    want.extend(ONE);
    want.push(0x39); // field 7 zero_count_float, fixed64
    want.extend(ONE);
    want.extend([
        0x42, 0x04, // field 8 negative_spans, 4 bytes:
        0x08, 0x02, //   offset, sint32 1 (zigzag 2)
        0x10, 0x01, //   length 1
        0x4a, 0x01, 0x03, // field 9 negative_deltas, packed sint64 -2 (zigzag 3)
        0x52, 0x08, // field 10 negative_counts, packed doubles, 8 bytes
    ]);
    want.extend(ONE);
    want.extend([0x6a, 0x08]); // field 13 positive_counts, packed doubles
    want.extend(ONE);
    want.extend([0x82, 0x01, 0x08]); // field 16 custom_values (tag 130 = 0x82 0x01), packed
    want.extend(ONE);
    check(&h, &want);
}

#[test]
fn metric_metadata() {
    let m = MetricMetadata {
        r#type: metric_metadata::MetricType::Stateset.into(),
        metric_family_name: "m".into(),
        help: "h".into(),
        unit: "u".into(),
    };
    let want = [
        0x08, 0x07, // field 1 type = STATESET (7)
        0x12, 0x01, b'm', // field 2 metric_family_name
        0x22, 0x01, b'h', // field 4 help
        0x2a, 0x01, b'u', // field 5 unit
    ];
    check(&m, &want);
}
