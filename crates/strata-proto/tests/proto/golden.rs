//! Golden encodings of Store and Info API messages. Every expected byte string is put
//! together by hand from Thanos' field numbers and wire types, so a wrong field number,
//! wire type or enum value in our `.proto` files fails here.
//!
//! A tag byte is `field_number << 3 | wire_type` (0 varint, 1 fixed64, 2 length-delimited).

use prost::Message;
use strata_proto::hintspb::SeriesRequestHints;
use strata_proto::infopb::{
    ExemplarsInfo, InfoResponse, MetricMetadataInfo, QueryApiInfo, RulesInfo, StatusInfo,
    StoreInfo, TargetsInfo, TsdbInfo,
};
use strata_proto::labelpb::{Label, ZLabelSet};
use strata_proto::storepb::{
    Aggr, AggrChunk, Chunk, Func, Grouping, LabelMatcher, LabelNamesRequest, LabelNamesResponse,
    LabelValuesRequest, PartialResponseStrategy, QueryHints, Range, Series, SeriesBatch,
    SeriesRequest, SeriesResponse, ShardInfo, chunk, label_matcher, series_response,
};

/// Asserts that `msg` encodes to exactly `want` and that `want` decodes back to `msg`.
pub fn check<M: Message + Default + PartialEq + std::fmt::Debug>(msg: &M, want: &[u8]) {
    let got = msg.encode_to_vec();
    assert_eq!(
        hex(&got),
        hex(want),
        "encoding of {msg:?} differs (got, then want)"
    );
    assert_eq!(&M::decode(want).unwrap(), msg, "decoding the golden bytes");
}

fn hex(b: &[u8]) -> String {
    b.iter()
        .map(|x| format!("{x:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `thanos.Label{name: "a", value: "1"}`.
pub fn label_a1() -> Label {
    Label {
        name: "a".into(),
        value: "1".into(),
    }
}

/// The encoding of [`label_a1`]: 6 bytes.
pub const LABEL_A1: [u8; 6] = [
    0x0a, 0x01, b'a', // field 1 (name), length-delimited, 1 byte
    0x12, 0x01, b'1', // field 2 (value), length-delimited, 1 byte
];

fn any_u() -> prost_types::Any {
    prost_types::Any {
        type_url: "u".into(),
        value: vec![0x01],
    }
}

/// The encoding of [`any_u`]: 6 bytes.
const ANY_U: [u8; 6] = [
    0x0a, 0x01, b'u', // google.protobuf.Any field 1 (type_url)
    0x12, 0x01, 0x01, // field 2 (value)
];

#[test]
fn series_request() {
    let req = SeriesRequest {
        min_time: 1,
        max_time: 2,
        matchers: vec![LabelMatcher {
            r#type: label_matcher::Type::Re.into(),
            name: "a".into(),
            value: "b".into(),
        }],
        max_resolution_window: 3,
        aggregates: vec![Aggr::Count.into(), Aggr::Sum.into()],
        partial_response_disabled: true,
        partial_response_strategy: PartialResponseStrategy::Abort.into(),
        skip_chunks: true,
        hints: Some(any_u()),
        step: 4,
        range: 5,
        query_hints: Some(QueryHints {
            step_millis: 6,
            func: Some(Func { name: "f".into() }),
            grouping: Some(Grouping {
                by: true,
                labels: vec!["g".into()],
            }),
            range: Some(Range { millis: 7 }),
            projection_labels: vec!["p".into()],
            projection_include: true,
            series_hash_label_name: "h".into(),
        }),
        shard_info: Some(ShardInfo {
            shard_index: 1,
            total_shards: 2,
            by: true,
            labels: vec!["s".into()],
        }),
        without_replica_labels: vec!["r".into()],
        limit: 8,
        response_batch_size: 9,
    };
    let mut want = vec![
        0x08, 0x01, // field 1 min_time, varint 1
        0x10, 0x02, // field 2 max_time, varint 2
        0x1a, 0x08, // field 3 matchers, length-delimited, 8 bytes:
        0x08, 0x02, //   LabelMatcher field 1 type = RE (2)
        0x12, 0x01, b'a', //   field 2 name
        0x1a, 0x01, b'b', //   field 3 value
        0x20, 0x03, // field 4 max_resolution_window, varint 3
        0x2a, 0x02, 0x01, 0x02, // field 5 aggregates, packed: COUNT (1), SUM (2)
        0x30, 0x01, // field 6 partial_response_disabled = true
        0x38, 0x01, // field 7 partial_response_strategy = ABORT (1)
        0x40, 0x01, // field 8 skip_chunks = true
        0x4a, 0x06, // field 9 hints (Any), 6 bytes
    ];
    want.extend(ANY_U);
    want.extend([
        0x50, 0x04, // field 10 step, varint 4
        0x58, 0x05, // field 11 range, varint 5
        0x62, 0x1a, // field 12 query_hints, 26 bytes:
        0x08, 0x06, //   QueryHints field 1 step_millis = 6
        0x12, 0x03, 0x0a, 0x01, b'f', //   field 2 func: Func field 1 name "f"
        0x22, 0x05, //   field 4 grouping, 5 bytes:
        0x08, 0x01, //     Grouping field 1 by = true
        0x1a, 0x01, b'g', //     field 3 labels "g"
        0x2a, 0x02, 0x08, 0x07, //   field 5 range: Range field 1 millis = 7
        0x32, 0x01, b'p', //   field 6 projection_labels "p"
        0x38, 0x01, //   field 7 projection_include = true
        0x42, 0x01, b'h', //   field 8 series_hash_label_name "h"
        0x6a, 0x09, // field 13 shard_info, 9 bytes:
        0x08, 0x01, //   ShardInfo field 1 shard_index = 1
        0x10, 0x02, //   field 2 total_shards = 2
        0x18, 0x01, //   field 3 by = true
        0x22, 0x01, b's', //   field 4 labels "s"
        0x72, 0x01, b'r', // field 14 without_replica_labels "r"
        0x78, 0x08, // field 15 limit, varint 8
        0x80, 0x01, 0x09, // field 16 response_batch_size (tag 128 = varint 0x80 0x01), 9
    ]);
    check(&req, &want);
}

#[test]
fn series_response_series_with_xor_chunk() {
    let resp = SeriesResponse {
        result: Some(series_response::Result::Series(Series {
            labels: vec![label_a1()],
            chunks: vec![AggrChunk {
                min_time: 1000,
                max_time: 2000,
                raw: Some(Chunk {
                    r#type: chunk::Encoding::Xor.into(),
                    data: vec![0x00, 0x01, 0x02].into(),
                    hash: 5,
                }),
                ..AggrChunk::default()
            }],
        })),
    };
    let mut want = vec![
        0x0a, 0x19, // SeriesResponse field 1 series, 25 bytes:
        0x0a, 0x06, //   Series field 1 labels, 6 bytes
    ];
    want.extend(LABEL_A1);
    want.extend([
        0x12, 0x0f, //   Series field 2 chunks, 15 bytes:
        0x08, 0xe8, 0x07, //     AggrChunk field 1 min_time = 1000
        0x10, 0xd0, 0x0f, //     field 2 max_time = 2000
        0x1a, 0x07, //     field 3 raw, 7 bytes (type XOR = 0 is the default: not written)
        0x12, 0x03, 0x00, 0x01, 0x02, //       Chunk field 2 data
        0x18, 0x05, //       Chunk field 3 hash = 5
    ]);
    check(&resp, &want);
}

#[test]
fn series_response_warning_hints_and_batch() {
    let warning = SeriesResponse {
        result: Some(series_response::Result::Warning("w".into())),
    };
    check(&warning, &[0x12, 0x01, b'w']); // field 2 warning, "w"

    let hints = SeriesResponse {
        result: Some(series_response::Result::Hints(any_u())),
    };
    let mut want = vec![0x1a, 0x06]; // field 3 hints, 6 bytes
    want.extend(ANY_U);
    check(&hints, &want);

    let batch = SeriesResponse {
        result: Some(series_response::Result::Batch(SeriesBatch {
            series: vec![Series::default()],
        })),
    };
    // field 4 batch, 2 bytes: SeriesBatch field 1 series, an empty Series
    check(&batch, &[0x22, 0x02, 0x0a, 0x00]);
}

#[test]
fn chunk_encodings_and_downsampled_aggregates() {
    let c = |e: chunk::Encoding| Chunk {
        r#type: e.into(),
        ..Chunk::default()
    };
    check(&c(chunk::Encoding::Histogram), &[0x08, 0x01]); // field 1 type = HISTOGRAM (1)
    check(&c(chunk::Encoding::FloatHistogram), &[0x08, 0x02]); // FLOAT_HISTOGRAM (2)

    let empty = Some(Chunk::default());
    let aggr = AggrChunk {
        count: empty.clone(),
        sum: empty.clone(),
        min: empty.clone(),
        max: empty.clone(),
        counter: empty,
        ..AggrChunk::default()
    };
    let want = [
        0x22, 0x00, // field 4 count
        0x2a, 0x00, // field 5 sum
        0x32, 0x00, // field 6 min
        0x3a, 0x00, // field 7 max
        0x42, 0x00, // field 8 counter
    ];
    check(&aggr, &want);
}

#[test]
fn label_names_and_values() {
    let eq_ab = LabelMatcher {
        r#type: label_matcher::Type::Eq.into(),
        name: "a".into(),
        value: "b".into(),
    };
    const EQ_AB: [u8; 6] = [
        0x12, 0x01, b'a', // LabelMatcher field 2 name (type EQ = 0 not written)
        0x1a, 0x01, b'b', // field 3 value
    ];
    let names = LabelNamesRequest {
        partial_response_disabled: true,
        partial_response_strategy: PartialResponseStrategy::Abort.into(),
        start: 1,
        end: 2,
        hints: None,
        matchers: vec![eq_ab.clone()],
        without_replica_labels: vec!["r".into()],
        limit: 3,
    };
    let mut want = vec![
        0x08, 0x01, // field 1 partial_response_disabled
        0x10, 0x01, // field 2 partial_response_strategy = ABORT
        0x18, 0x01, // field 3 start = 1
        0x20, 0x02, // field 4 end = 2
        0x32, 0x06, // field 6 matchers, 6 bytes
    ];
    want.extend(EQ_AB);
    want.extend([
        0x3a, 0x01, b'r', // field 7 without_replica_labels
        0x40, 0x03, // field 8 limit = 3
    ]);
    check(&names, &want);

    let values = LabelValuesRequest {
        label: "a".into(),
        partial_response_disabled: true,
        partial_response_strategy: PartialResponseStrategy::Abort.into(),
        start: 1,
        end: 2,
        hints: Some(any_u()),
        matchers: vec![eq_ab],
        without_replica_labels: vec!["r".into()],
        limit: 3,
    };
    let mut want = vec![
        0x0a, 0x01, b'a', // field 1 label
        0x10, 0x01, // field 2 partial_response_disabled
        0x18, 0x01, // field 3 partial_response_strategy = ABORT
        0x20, 0x01, // field 4 start = 1
        0x28, 0x02, // field 5 end = 2
        0x32, 0x06, // field 6 hints, 6 bytes
    ];
    want.extend(ANY_U);
    want.extend([0x3a, 0x06]); // field 7 matchers, 6 bytes
    want.extend(EQ_AB);
    want.extend([
        0x42, 0x01, b'r', // field 8 without_replica_labels
        0x48, 0x03, // field 9 limit = 3
    ]);
    check(&values, &want);

    // LabelValuesResponse has the same layout as LabelNamesResponse.
    let resp = LabelNamesResponse {
        names: vec!["a".into()],
        warnings: vec!["w".into()],
        hints: Some(prost_types::Any::default()),
    };
    let want = [
        0x0a, 0x01, b'a', // field 1 names
        0x12, 0x01, b'w', // field 2 warnings
        0x1a, 0x00, // field 3 hints, empty Any
    ];
    check(&resp, &want);
}

#[test]
fn series_request_hints() {
    let h = SeriesRequestHints {
        block_matchers: vec![LabelMatcher {
            r#type: label_matcher::Type::Nre.into(),
            name: "a".into(),
            value: "b".into(),
        }],
        enable_query_stats: true,
    };
    let want = [
        0x0a, 0x08, // field 1 block_matchers, 8 bytes:
        0x08, 0x03, //   type = NRE (3)
        0x12, 0x01, b'a', //   name
        0x1a, 0x01, b'b', //   value
        0x10, 0x01, // field 2 enable_query_stats = true
    ];
    check(&h, &want);
}

#[test]
fn info_response() {
    let zset = ZLabelSet {
        labels: vec![label_a1()],
    };
    let resp = InfoResponse {
        label_sets: vec![zset.clone()],
        component_type: "receive".into(),
        store: Some(StoreInfo {
            min_time: -1,
            max_time: 2,
            supports_sharding: true,
            supports_without_replica_labels: true,
            tsdb_infos: vec![TsdbInfo {
                labels: Some(zset),
                min_time: 3,
                max_time: 4,
            }],
            supports_projections: true,
        }),
        rules: Some(RulesInfo {}),
        metric_metadata: Some(MetricMetadataInfo {}),
        targets: Some(TargetsInfo {}),
        exemplars: Some(ExemplarsInfo {
            min_time: 5,
            max_time: 6,
        }),
        query: Some(QueryApiInfo {}),
        status: Some(StatusInfo {}),
    };
    let mut want = vec![
        0x0a, 0x08, // field 1 label_sets, 8 bytes:
        0x0a, 0x06, //   ZLabelSet field 1 labels, 6 bytes
    ];
    want.extend(LABEL_A1);
    want.extend([0x12, 0x07]); // field 2 ComponentType, 7 bytes
    want.extend(b"receive");
    want.extend([
        0x1a, 0x23, // field 3 store, 35 bytes:
        0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0x01, //   StoreInfo field 1 min_time = -1 (int64: ten-byte varint)
        0x10, 0x02, //   field 2 max_time = 2
        0x18, 0x01, //   field 3 supports_sharding
        0x28, 0x01, //   field 5 supports_without_replica_labels (4 is reserved)
        0x32, 0x0e, //   field 6 tsdb_infos, 14 bytes:
        0x0a, 0x08, //     TSDBInfo field 1 labels (ZLabelSet), 8 bytes
        0x0a, 0x06, //       ZLabelSet field 1 labels, 6 bytes
    ]);
    want.extend(LABEL_A1);
    want.extend([
        0x10, 0x03, //     TSDBInfo field 2 min_time = 3
        0x18, 0x04, //     field 3 max_time = 4
        0x38, 0x01, //   StoreInfo field 7 supports_projections
        0x22, 0x00, // field 4 rules (empty message)
        0x2a, 0x00, // field 5 metric_metadata
        0x32, 0x00, // field 6 targets
        0x3a, 0x04, // field 7 exemplars, 4 bytes:
        0x08, 0x05, //   ExemplarsInfo field 1 min_time = 5
        0x10, 0x06, //   field 2 max_time = 6
        0x42, 0x00, // field 8 query
        0x4a, 0x00, // field 9 status
    ]);
    check(&resp, &want);
}
