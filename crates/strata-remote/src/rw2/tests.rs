#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use crate::protowire::Writer;
use proptest::prelude::*;

fn decode_all(req: &[u8]) -> Result<Vec<TimeSeriesRef<'_>>> {
    let mut out = Vec::new();
    let mut scratch = TimeSeriesRef::default();
    for_each_series(req, &mut scratch, |ts| {
        out.push(ts.clone());
        Ok(())
    })?;
    Ok(out)
}

/// `up{job="a"} 1 @2`, a counter with help "h", assembled by hand from the field
/// numbers of `io.prometheus.write.v2` (tag byte = field << 3 | wire type; wire type 0
/// varint, 1 fixed64, 2 length-delimited).
fn golden() -> Vec<u8> {
    let mut b = vec![
        0x22, 0x00, // Request.symbols (4, LEN) [0] = ""
        0x22, 0x08, b'_', b'_', b'n', b'a', b'm', b'e', b'_', b'_', // [1] = "__name__"
        0x22, 0x02, b'u', b'p', // [2] = "up"
        0x22, 0x03, b'j', b'o', b'b', // [3] = "job"
        0x22, 0x01, b'a', // [4] = "a"
        0x22, 0x01, b'h', // [5] = "h"
        0x2a, 25, // Request.timeseries (5, LEN), 25 bytes:
        0x0a, 0x04, 1, 2, 3, 4, //   TimeSeries.labels_refs (1, LEN packed) [1 2 3 4]
        0x12, 0x0b, //   TimeSeries.samples (2, LEN), 11 bytes:
        0x09, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, //     Sample.value (1, fixed64) 1.0
        0x10, 0x02, //     Sample.timestamp (2, varint) 2
        0x2a, 0x04, //   TimeSeries.metadata (5, LEN), 4 bytes:
        0x08, 0x01, //     Metadata.type (1, varint) METRIC_TYPE_COUNTER
        0x18, 0x05, //     Metadata.help_ref (3, varint) 5
    ];
    b.shrink_to_fit();
    b
}

fn golden_series() -> TimeSeriesRef<'static> {
    TimeSeriesRef {
        labels: vec![("__name__", "up"), ("job", "a")],
        samples: vec![(2, 1.0)],
        metadata: MetadataRef {
            metric_type: MetricType::Counter,
            help: "h",
            unit: "",
        },
        ..Default::default()
    }
}

#[test]
fn golden_bytes_encode_and_decode() {
    assert_eq!(encode_request([&golden_series()]), golden());
    assert_eq!(decode_all(&golden()).unwrap(), vec![golden_series()]);
}

#[test]
fn builder_interns_and_resets() {
    let mut b = RequestBuilder::new();
    assert_eq!(b.symbol(""), 0);
    assert_eq!(b.symbol("x"), 1);
    assert_eq!(b.symbol("x"), 1);
    b.add_series(&golden_series());
    assert_eq!(b.series_count(), 1);
    let first = b.finish();
    assert!(b.is_empty());
    // After finish the table starts over, so the same series encodes the same way.
    b.add_series(&golden_series());
    assert_eq!(b.finish(), golden());
    assert_ne!(first, golden());
}

/// A request from raw symbols and one series body.
fn request(symbols: &[&str], series: impl FnOnce(&mut Writer)) -> Vec<u8> {
    let mut w = Writer::default();
    for s in symbols {
        w.bytes(4, s.as_bytes());
    }
    w.message(5, series);
    w.buf
}

#[test]
fn unpacked_refs_and_symbols_after_series() {
    let mut w = Writer::default();
    w.message(5, |w| {
        w.uint64(1, 1);
        w.packed_varints(1, [2u64, 1].into_iter());
        w.uint64(1, 2);
        w.int64(6, 77);
    });
    for s in ["", "a", "b"] {
        w.bytes(4, s.as_bytes());
    }
    let got = decode_all(&w.buf).unwrap();
    assert_eq!(got[0].labels, vec![("a", "b"), ("a", "b")]);
    assert_eq!(got[0].created_timestamp, 77);
}

#[test]
fn symbol_ref_out_of_range_names_the_series() {
    let ok = request(&["", "a"], |w| w.packed_varints(1, [1u64, 1].into_iter()));
    let bad = request(&["", "a"], |w| w.packed_varints(1, [1u64, 9].into_iter()));
    let mut req = ok.clone();
    req.extend_from_slice(&bad[bad.len() - 6..]); // the second series only
    let e = decode_all(&req).unwrap_err();
    assert_eq!(e.series_index(), Some(1));
    assert_eq!(
        e.to_string(),
        "time series 1: label value reference 9 is outside of the symbols table (size 2)"
    );
}

#[test]
fn odd_number_of_refs() {
    let req = request(&["", "a"], |w| w.packed_varints(1, [1u64].into_iter()));
    assert_eq!(
        decode_all(&req).unwrap_err().to_string(),
        "time series 0: labels_refs has an odd number of references (1); they must be name/value pairs"
    );
}

#[test]
fn symbols_table_rules() {
    let req = request(&["x", "a"], |w| w.packed_varints(1, [1u64, 1].into_iter()));
    assert_eq!(
        decode_all(&req).unwrap_err().to_string(),
        "the symbols table must start with the empty string, but starts with \"x\""
    );
    let req = request(&[], |_| {});
    assert!(matches!(decode_all(&req), Err(Error::EmptySymbolTable)));
    // No series: nothing to check.
    assert!(decode_all(&[]).unwrap().is_empty());
}

#[test]
fn exemplar_and_metadata_refs() {
    let req = request(&["", "a"], |w| {
        w.packed_varints(1, [1u64, 1].into_iter());
        w.message(4, |w| w.packed_varints(1, [1u64, 5].into_iter()));
    });
    assert_eq!(
        decode_all(&req).unwrap_err().to_string(),
        "time series 0: exemplar 0: label value reference 5 is outside of the symbols table (size 2)"
    );
    let req = request(&["", "a"], |w| {
        w.message(4, |w| w.packed_varints(1, [1u64].into_iter()));
    });
    assert!(
        decode_all(&req)
            .unwrap_err()
            .to_string()
            .contains("exemplar labels_refs has an odd number")
    );
    let req = request(&["", "a"], |w| w.message(5, |w| w.uint64(4, 3)));
    assert_eq!(
        decode_all(&req).unwrap_err().to_string(),
        "time series 0: metadata unit_ref 3 is outside of the symbols table (size 2)"
    );
}

#[test]
fn invalid_utf8_symbol_and_truncation() {
    let mut req = golden();
    req[7] = 0xff; // inside "__name__"
    let e = decode_all(&req).unwrap_err().to_string();
    assert_eq!(e, "invalid UTF-8 in symbol at byte 4");
    // A message may end at any field boundary, so only cuts inside a field fail: every
    // cut inside the series (which starts at byte 27) and inside a symbol.
    let g = golden();
    assert_eq!(g[27], 0x2a);
    for cut in (28..g.len()).chain([1, 5, 13]) {
        assert!(
            decode_all(&g[..cut]).is_err(),
            "prefix of {cut} bytes decoded"
        );
    }
    assert!(decode_all(&g[..27]).unwrap().is_empty());
}

#[test]
fn start_timestamps_per_sample() {
    let ts = TimeSeriesRef {
        labels: vec![("__name__", "c")],
        samples: vec![(10, 1.0), (20, 2.0)],
        sample_start_timestamps: vec![0, 5],
        ..Default::default()
    };
    let req = encode_request([&ts]);
    assert_eq!(decode_all(&req).unwrap(), vec![ts]);
}

#[test]
fn callback_errors_stop_decoding() {
    let mut scratch = TimeSeriesRef::default();
    let mut n = 0;
    let e = for_each_series(&golden(), &mut scratch, |_| {
        n += 1;
        Err(Error::Snappy("stop".into()))
    });
    assert!(e.is_err());
    assert_eq!(n, 1);
}

proptest! {
    #[test]
    fn garbage_never_panics(b in proptest::collection::vec(any::<u8>(), 0..300)) {
        let mut scratch = TimeSeriesRef::default();
        let _ = for_each_series(&b, &mut scratch, |_| Ok(()));
    }

    #[test]
    fn mutated_golden_never_panics(i in 0usize..64, byte in any::<u8>()) {
        let mut g = golden();
        let n = g.len();
        g[i % n] = byte;
        let mut scratch = TimeSeriesRef::default();
        let _ = for_each_series(&g, &mut scratch, |_| Ok(()));
    }
}
