//! CPU time per decoded sample of XOR chunks through `XorIter::drain_range`, the path
//! PromQL selectors take. Each iteration decodes 64 different 120-sample chunks (15 s
//! scrape interval, an occasional millisecond of jitter) so that the branch predictor
//! cannot learn one chunk by heart:
//! - counter: a monotonically growing count (small XOR windows, repeated values),
//! - gauge: a value with two decimals wandering around (varying windows),
//! - constant: the same value throughout (`up`).
//!
//! `cargo bench -p strata-tsdb --bench xor_decode`

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use strata_tsdb::chunkenc::{XorChunk, XorIter};

const CHUNKS: usize = 64;
const SAMPLES: usize = 120;

/// xorshift64*: deterministic data without a `rand` dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn chunks(seed: u64, mut value: impl FnMut(&mut Rng, usize) -> f64) -> Vec<Vec<u8>> {
    let mut rng = Rng(seed);
    (0..CHUNKS)
        .map(|c| {
            let mut chunk = XorChunk::new();
            let mut t = 1_700_000_000_000 + (c * SAMPLES) as i64 * 15_000;
            for i in 0..SAMPLES {
                // One sample in 30 is scraped a few milliseconds late.
                let jitter = if rng.below(30) == 0 {
                    rng.below(5) as i64
                } else {
                    0
                };
                chunk.append(t + jitter, value(&mut rng, i));
                t += 15_000;
            }
            chunk.bytes().to_vec()
        })
        .collect()
}

fn counter_chunks() -> Vec<Vec<u8>> {
    let mut total = 1_234_567.0f64;
    chunks(1, move |rng, _| {
        // An idle period now and then repeats the value.
        if rng.below(8) != 0 {
            total += rng.below(200) as f64;
        }
        total
    })
}

fn gauge_chunks() -> Vec<Vec<u8>> {
    let mut level = 512.0f64;
    chunks(2, move |rng, _| {
        level += (rng.below(2001) as f64 - 1000.0) / 100.0;
        (level * 100.0).round() / 100.0
    })
}

fn constant_chunks() -> Vec<Vec<u8>> {
    chunks(3, |_, _| 1.0)
}

fn bench_decode(c: &mut Criterion) {
    let mut g = c.benchmark_group("xor_decode");
    g.throughput(Throughput::Elements((CHUNKS * SAMPLES) as u64));
    let cases: [(&str, Vec<Vec<u8>>); 3] = [
        ("counter", counter_chunks()),
        ("gauge", gauge_chunks()),
        ("constant", constant_chunks()),
    ];
    for (name, data) in &cases {
        let mut out = Vec::with_capacity(CHUNKS * SAMPLES);
        g.bench_function(*name, |b| {
            b.iter(|| {
                out.clear();
                for chunk in data {
                    let mut it = XorIter::new(&chunk[..]);
                    it.drain_range(&mut out, i64::MIN, i64::MAX).unwrap();
                }
                black_box(out.len())
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench_decode);
criterion_main!(benches);
