//! Bit-exactness against Prometheus itself: a real Prometheus scrapes native histograms
//! (integer counters with new, vanishing and resetting buckets, and float gauges that
//! change schema) from a tiny protobuf exporter; then
//! - every histogram chunk it completed (in `chunks_head/`) re-encodes to the same bytes
//!   with our appenders (encodings 2 and 3),
//! - every histogram record of its WAL re-encodes to the same bytes with our encoders,
//! - our replay of its WAL yields the histograms of those chunks.
//!
//! (Prometheus 2.42's snapshot API cannot be used: re-encoding an open histogram chunk
//! fails there with "detected unexpected counter reset".)

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use strata_model::Matcher;
use strata_model::histogram::{FloatHistogram, Histogram, Span};
use strata_tsdb::Db;
use strata_tsdb::chunkenc::histogram::{
    ENC_FLOAT_HISTOGRAM, ENC_HISTOGRAM, decode_histogram_chunk, decode_integer_histograms,
};
use strata_tsdb::chunkenc::{FloatHistogramChunk, HistogramChunk};
use strata_tsdb::wal::histogram_record::{
    decode_float_histogram_samples, decode_histogram_samples, encode_float_histogram_samples,
    encode_histogram_samples,
};
use strata_tsdb::wal::reader::WalReader;
use strata_tsdb::wal::record::{RecordType, decode_series, record_type};

use crate::histograms::{essence, float_hist, hist};

// --- A protobuf exporter ----------------------------------------------------------

fn varint(b: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        b.push((v as u8) | 0x80);
        v >>= 7;
    }
    b.push(v as u8);
}

fn key(b: &mut Vec<u8>, field: u64, wire: u64) {
    varint(b, field << 3 | wire);
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn bytes_field(b: &mut Vec<u8>, field: u64, payload: &[u8]) {
    key(b, field, 2);
    varint(b, payload.len() as u64);
    b.extend_from_slice(payload);
}

fn double_field(b: &mut Vec<u8>, field: u64, v: f64) {
    key(b, field, 1);
    b.extend_from_slice(&v.to_le_bytes());
}

fn spans_field(b: &mut Vec<u8>, field: u64, spans: &[Span]) {
    for s in spans {
        let mut m = Vec::new();
        key(&mut m, 1, 0);
        varint(&mut m, zigzag(i64::from(s.offset)));
        key(&mut m, 2, 0);
        varint(&mut m, u64::from(s.length));
        bytes_field(b, field, &m);
    }
}

fn int_histogram_msg(h: &Histogram) -> Vec<u8> {
    let mut m = Vec::new();
    key(&mut m, 1, 0);
    varint(&mut m, h.count);
    double_field(&mut m, 2, h.sum);
    key(&mut m, 5, 0);
    varint(&mut m, zigzag(i64::from(h.schema)));
    double_field(&mut m, 6, h.zero_threshold);
    key(&mut m, 7, 0);
    varint(&mut m, h.zero_count);
    spans_field(&mut m, 9, &h.negative_spans);
    spans_field(&mut m, 12, &h.positive_spans);
    for (field, deltas) in [(10, &h.negative_deltas), (13, &h.positive_deltas)] {
        let mut p = Vec::new();
        for &d in deltas.iter() {
            varint(&mut p, zigzag(d));
        }
        bytes_field(&mut m, field, &p);
    }
    m
}

fn float_histogram_msg(h: &FloatHistogram) -> Vec<u8> {
    let mut m = Vec::new();
    double_field(&mut m, 4, h.count);
    double_field(&mut m, 2, h.sum);
    key(&mut m, 5, 0);
    varint(&mut m, zigzag(i64::from(h.schema)));
    double_field(&mut m, 6, h.zero_threshold);
    double_field(&mut m, 8, h.zero_count);
    spans_field(&mut m, 9, &h.negative_spans);
    spans_field(&mut m, 12, &h.positive_spans);
    for (field, counts) in [(11, &h.negative_buckets), (14, &h.positive_buckets)] {
        let p: Vec<u8> = counts.iter().flat_map(|c| c.to_le_bytes()).collect();
        bytes_field(&mut m, field, &p);
    }
    m
}

/// One delimited MetricFamily with one unlabelled metric holding `histogram`.
fn family(out: &mut Vec<u8>, name: &str, metric_type: u64, histogram: &[u8]) {
    let mut metric = Vec::new();
    bytes_field(&mut metric, 7, histogram);
    let mut mf = Vec::new();
    bytes_field(&mut mf, 1, name.as_bytes());
    key(&mut mf, 3, 0);
    varint(&mut mf, metric_type);
    bytes_field(&mut mf, 4, &metric);
    varint(out, mf.len() as u64);
    out.extend_from_slice(&mf);
}

/// The float gauge: its schema changes every 15 scrapes, which completes a chunk.
fn gauge(n: u64) -> FloatHistogram {
    FloatHistogram {
        schema: if (n / 15) % 2 == 1 { 1 } else { 2 },
        ..float_hist(n)
    }
}

fn scrape_body(n: u64) -> Vec<u8> {
    let mut body = Vec::new();
    family(
        &mut body,
        "strata_test_hist",
        4,
        &int_histogram_msg(&hist(n)),
    );
    family(
        &mut body,
        "strata_test_gauge_hist",
        5,
        &float_histogram_msg(&gauge(n)),
    );
    body
}

/// Serves the n-th scrape the n-th histograms; returns the address and the count.
fn start_exporter() -> (SocketAddr, Arc<AtomicU64>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let served = Arc::new(AtomicU64::new(0));
    let counter = served.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let mut req = Vec::new();
            let mut buf = [0u8; 4096];
            while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                match conn.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => req.extend_from_slice(&buf[..n]),
                }
            }
            let n = counter.load(Ordering::SeqCst);
            let body = scrape_body(n);
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            if conn
                .write_all(head.as_bytes())
                .and_then(|()| conn.write_all(&body))
                .is_ok()
            {
                counter.fetch_add(1, Ordering::SeqCst);
            }
        }
    });
    (addr, served)
}

// --- Prometheus -------------------------------------------------------------------

struct Prometheus(Option<Child>);

impl Prometheus {
    fn terminate(mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &c.id().to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(30);
            while c.try_wait().unwrap().is_none() {
                assert!(Instant::now() < deadline, "prometheus did not stop");
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn http(addr: SocketAddr, method: &str, path: &str) -> Option<(u16, String)> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    s.write_all(req.as_bytes()).ok()?;
    let mut resp = String::new();
    s.read_to_string(&mut resp).ok()?;
    let code = resp.get(9..12)?.parse().ok()?;
    let body = resp.split_once("\r\n\r\n").map(|(_, b)| b.to_owned())?;
    Some((code, body))
}

fn start_prometheus(bin: &Path, tmp: &Path, target: SocketAddr) -> (Prometheus, SocketAddr) {
    let cfg = tmp.join("prometheus.yml");
    std::fs::write(
        &cfg,
        format!(
            "global:\n  scrape_interval: 100ms\n  scrape_timeout: 100ms\nscrape_configs:\n  - job_name: hist\n    static_configs:\n      - targets: ['{target}']\n"
        ),
    )
    .unwrap();
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let child = Command::new(bin)
        .arg(format!("--config.file={}", cfg.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            tmp.join("data").display()
        ))
        .arg(format!("--web.listen-address={addr}"))
        .arg("--enable-feature=native-histograms")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let p = Prometheus(Some(child));
    let deadline = Instant::now() + Duration::from_secs(30);
    while http(addr, "GET", "/-/ready").map(|r| r.0) != Some(200) {
        assert!(Instant::now() < deadline, "prometheus did not become ready");
        std::thread::sleep(Duration::from_millis(100));
    }
    (p, addr)
}

// --- The checks -------------------------------------------------------------------

/// Re-encodes a Prometheus histogram chunk with our appenders.
fn reencode(encoding: u8, data: &[u8]) -> Vec<u8> {
    let header = data[2] & 0b1100_0000;
    if encoding == ENC_HISTOGRAM {
        let mut c = HistogramChunk::new();
        for (t, h) in decode_integer_histograms(data).unwrap() {
            c.append(t, &h, None).unwrap();
        }
        c.set_counter_reset_header(header);
        c.bytes().to_vec()
    } else {
        let mut c = FloatHistogramChunk::new();
        for s in decode_histogram_chunk(ENC_FLOAT_HISTOGRAM, data).unwrap() {
            c.append(s.t, &s.h, None).unwrap();
        }
        c.set_counter_reset_header(header);
        c.bytes().to_vec()
    }
}

#[test]
fn prometheus_histogram_chunks_and_records_are_bit_exact() {
    let Some(bin) = strata_testkit::require_tool("prometheus") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let (target, served) = start_exporter();
    let (prom, _addr) = start_prometheus(&bin, tmp.path(), target);
    // 45 scrapes: a counter reset at 40, new buckets every 7, a vanishing one.
    let deadline = Instant::now() + Duration::from_secs(60);
    while served.load(Ordering::SeqCst) < 45 {
        assert!(Instant::now() < deadline, "prometheus scraped too little");
        std::thread::sleep(Duration::from_millis(50));
    }
    prom.terminate();
    let data = tmp.path().join("data");

    // Completed head chunks: series ref, mint, maxt, encoding, uvarint length, data, CRC.
    let mut compared = [0usize; 2];
    let mut from_chunks: Vec<(u64, Vec<String>)> = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(data.join("chunks_head"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    for f in files {
        let b = std::fs::read(&f).unwrap();
        let mut pos = 8;
        while pos + 26 <= b.len() {
            let series_ref = u64::from_be_bytes(b[pos..pos + 8].try_into().unwrap());
            let enc = b[pos + 24];
            // The end of the written part (files may be longer).
            let Some((len, n)) = strata_tsdb::encoding::uvarint(&b[pos + 25..]) else {
                break;
            };
            let start = pos + 25 + n;
            if enc == 0 || start + len as usize + 4 > b.len() {
                break;
            }
            let chunk = &b[start..start + len as usize];
            pos = start + len as usize + 4;
            if enc != ENC_HISTOGRAM && enc != ENC_FLOAT_HISTOGRAM {
                continue;
            }
            assert_eq!(
                reencode(enc, chunk),
                chunk,
                "chunk of series {series_ref} in {}",
                f.display()
            );
            compared[usize::from(enc == ENC_FLOAT_HISTOGRAM)] += 1;
            let hs = decode_histogram_chunk(enc, chunk).unwrap();
            from_chunks.push((series_ref, hs.iter().map(|s| essence(s.t, &s.h)).collect()));
        }
    }
    assert!(
        compared[0] >= 1 && compared[1] >= 2,
        "chunks compared: {compared:?}"
    );

    // WAL records.
    let mut reader = WalReader::open(&data.join("wal"), 0, None).unwrap();
    let mut records = [0usize; 2];
    let mut names: std::collections::HashMap<u64, String> = Default::default();
    while let Some(rec) = reader.next_record().unwrap() {
        let mut again = Vec::new();
        match record_type(&rec) {
            RecordType::Series => {
                let mut out = Vec::new();
                decode_series(&rec, &mut out).unwrap();
                for s in out {
                    names.insert(
                        s.series_ref,
                        s.labels.get("__name__").unwrap_or_default().to_owned(),
                    );
                }
                continue;
            }
            RecordType::HistogramSamples => {
                let mut out = Vec::new();
                decode_histogram_samples(&rec, &mut out).unwrap();
                let refs: Vec<_> = out.iter().map(|s| (s.series_ref, s.t, &s.h)).collect();
                encode_histogram_samples(&refs, false, &mut again);
                records[0] += 1;
            }
            RecordType::FloatHistogramSamples => {
                let mut out = Vec::new();
                decode_float_histogram_samples(&rec, &mut out).unwrap();
                let refs: Vec<_> = out.iter().map(|s| (s.series_ref, s.t, &s.h)).collect();
                encode_float_histogram_samples(&refs, false, &mut again);
                records[1] += 1;
            }
            _ => continue,
        }
        assert_eq!(again, rec);
    }
    assert!(records[0] >= 45 && records[1] >= 45, "records: {records:?}");

    // Our replay of Prometheus' WAL holds what its chunks hold.
    let db = Db::open_read_only(&data).unwrap();
    for (series_ref, want) in &from_chunks {
        let name = &names[series_ref];
        let got = db
            .select_histograms(&[Matcher::equal("__name__", name)], i64::MIN, i64::MAX)
            .unwrap();
        assert_eq!(got.len(), 1, "{name}");
        let got: Vec<String> = got[0].1.iter().map(|(t, h)| essence(*t, h)).collect();
        let first = got
            .iter()
            .position(|g| *g == want[0])
            .unwrap_or_else(|| panic!("{name}: {}", want[0]));
        assert_eq!(&got[first..first + want.len()], &want[..], "{name}");
    }
}
