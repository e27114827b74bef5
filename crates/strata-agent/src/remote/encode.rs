//! Building a request body from a batch: one `TimeSeries` per sample, as Prometheus
//! sends them, with the external labels merged in (series labels win), protobuf
//! (remote write 1.0 or 2.0), snappy.

use bytes::Bytes;
use strata_model::Labels;
use strata_remote::negotiate::Protocol;
use strata_remote::{TimeSeriesRef, rw1, rw2};

use super::shards::Item;

pub(crate) struct RequestEncoder {
    protocol: Protocol,
    /// Sorted by name; merged into every series (empty when already applied).
    external: Vec<(String, String)>,
    rw1: rw1::RequestBuilder,
    rw2: rw2::RequestBuilder,
    snappy: snap::raw::Encoder,
    /// Compression buffer, reused (only the compressed bytes are copied out).
    compressed: Vec<u8>,
}

/// Appends `labels` merged with `external` (sorted by name; a series label wins over
/// an external label of the same name) to `out`.
pub(crate) fn merge_labels<'a>(
    labels: &'a Labels,
    external: &'a [(String, String)],
    out: &mut Vec<(&'a str, &'a str)>,
) {
    let mut ext = external.iter().peekable();
    for (n, v) in labels.iter() {
        while let Some((en, ev)) = ext.peek() {
            match en.as_str().cmp(n) {
                std::cmp::Ordering::Less => {
                    out.push((en.as_str(), ev.as_str()));
                    ext.next();
                }
                std::cmp::Ordering::Equal => {
                    ext.next();
                    break;
                }
                std::cmp::Ordering::Greater => break,
            }
        }
        out.push((n, v));
    }
    out.extend(ext.map(|(n, v)| (n.as_str(), v.as_str())));
}

impl RequestEncoder {
    pub fn new(protocol: Protocol, external: Vec<(String, String)>) -> Self {
        RequestEncoder {
            protocol,
            external,
            rw1: rw1::RequestBuilder::new(),
            rw2: rw2::RequestBuilder::new(),
            snappy: snap::raw::Encoder::new(),
            compressed: Vec::new(),
        }
    }

    /// The compressed request for `batch`.
    pub fn encode(&mut self, batch: &[Item]) -> Bytes {
        let mut ts = TimeSeriesRef::default();
        let raw = match self.protocol {
            Protocol::V1 => {
                for it in batch {
                    ts.labels.clear();
                    merge_labels(&it.labels, &self.external, &mut ts.labels);
                    ts.samples.clear();
                    ts.samples.push((it.t, it.v));
                    self.rw1.add_series(&ts);
                }
                self.rw1.finish()
            }
            Protocol::V2 => {
                for it in batch {
                    ts.labels.clear();
                    merge_labels(&it.labels, &self.external, &mut ts.labels);
                    ts.samples.clear();
                    ts.samples.push((it.t, it.v));
                    self.rw2.add_series(&ts);
                }
                self.rw2.finish()
            }
        };
        let max = snap::raw::max_compress_len(raw.len());
        if self.compressed.len() < max {
            self.compressed.resize(max, 0);
        }
        match self.snappy.compress(&raw, &mut self.compressed) {
            Ok(n) => Bytes::copy_from_slice(&self.compressed[..n]),
            // Only inputs over 4 GiB fail; batches are far smaller.
            Err(_) => Bytes::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn ext(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn merge_keeps_order_and_series_precedence() {
        let l = Labels::new(&[("__name__", "up"), ("job", "a"), ("zone", "z1")]).unwrap();
        let e = ext(&[
            ("cluster", "c"),
            ("job", "ext"),
            ("region", "r"),
            ("zz", "last"),
        ]);
        let mut out = Vec::new();
        merge_labels(&l, &e, &mut out);
        assert_eq!(
            out,
            vec![
                ("__name__", "up"),
                ("cluster", "c"),
                ("job", "a"),
                ("region", "r"),
                ("zone", "z1"),
                ("zz", "last")
            ]
        );
    }

    #[test]
    fn encodes_decodable_requests() {
        let l = Labels::new(&[("__name__", "up"), ("job", "a")]).unwrap();
        let batch = vec![
            Item {
                series_ref: 1,
                labels: l.clone(),
                t: 1000,
                v: 1.5,
                seq: 1,
            },
            Item {
                series_ref: 1,
                labels: l,
                t: 2000,
                v: 2.5,
                seq: 1,
            },
        ];
        for proto in [Protocol::V1, Protocol::V2] {
            let mut enc = RequestEncoder::new(proto, ext(&[("replica", "r1")]));
            let body = enc.encode(&batch);
            let raw = strata_remote::snappy::decompress(&body, 1 << 20).unwrap();
            let mut got = Vec::new();
            let mut scratch = TimeSeriesRef::default();
            let mut collect = |ts: &TimeSeriesRef<'_>| {
                got.push((
                    ts.labels
                        .iter()
                        .map(|(a, b)| format!("{a}={b}"))
                        .collect::<Vec<_>>()
                        .join(","),
                    ts.samples.clone(),
                ));
                Ok(())
            };
            match proto {
                Protocol::V1 => rw1::for_each_series(&raw, &mut scratch, &mut collect).unwrap(),
                Protocol::V2 => rw2::for_each_series(&raw, &mut scratch, &mut collect).unwrap(),
            }
            assert_eq!(
                got,
                vec![
                    (
                        "__name__=up,job=a,replica=r1".to_string(),
                        vec![(1000, 1.5)]
                    ),
                    (
                        "__name__=up,job=a,replica=r1".to_string(),
                        vec![(2000, 2.5)]
                    ),
                ]
            );
        }
    }
}
