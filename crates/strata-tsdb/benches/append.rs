//! CPU time per appended sample, through the same path receivers and the agent use:
//! `Appender::append` (label lookup) and `append_ref` (cached ref), commit with the WAL
//! on, 1,000 samples per commit (a typical remote-write request is 500-2,000).
//!
//! `cargo bench -p strata-tsdb --bench append`

#![allow(clippy::expect_used, clippy::unwrap_used)]

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use strata_model::Labels;
use strata_tsdb::{Db, DbOptions};

const SERIES: usize = 10_000;
const PER_COMMIT: usize = 1_000;

fn series_labels() -> Vec<Labels> {
    (0..SERIES)
        .map(|i| {
            Labels::new(&[
                ("__name__", format!("bench_metric_{:02}", i % 50)),
                ("cluster", "c1".to_owned()),
                ("instance", format!("10.0.{}.{}:9100", i / 250, i % 250)),
                ("job", format!("job-{}", i % 10)),
                ("namespace", format!("ns-{:02}", i % 25)),
                ("pod", format!("pod-{:06x}", i * 7919)),
            ])
            .expect("valid labels")
        })
        .collect()
}

fn bench_append(c: &mut Criterion) {
    let labels = series_labels();
    let dir = tempfile::tempdir().expect("tempdir");
    let db = Db::open(dir.path(), DbOptions::default()).expect("open");
    // Create every series and one sample so that later appends hit existing series.
    let mut refs = Vec::with_capacity(SERIES);
    let mut app = db.appender();
    for l in &labels {
        refs.push(app.append(l, 0, 0.0).expect("append"));
    }
    app.commit().expect("commit");

    let mut t = 0i64;
    let mut g = c.benchmark_group("append");
    g.throughput(Throughput::Elements(PER_COMMIT as u64));
    let mut pos = 0usize;
    g.bench_function("append_ref+commit (1000 samples)", |b| {
        b.iter_batched(
            || {
                t += 15_000;
                t
            },
            |ts| {
                let mut app = db.appender();
                for _ in 0..PER_COMMIT {
                    pos = (pos + 1) % SERIES;
                    app.append_ref(refs[pos], ts + pos as i64, pos as f64 * 1.5)
                        .expect("append");
                }
                app.commit().expect("commit")
            },
            BatchSize::SmallInput,
        )
    });
    g.bench_function("append_labels+commit (1000 samples)", |b| {
        b.iter_batched(
            || {
                t += 15_000;
                t
            },
            |ts| {
                let mut app = db.appender();
                for _ in 0..PER_COMMIT {
                    pos = (pos + 1) % SERIES;
                    app.append(&labels[pos], ts + pos as i64, pos as f64 * 1.5)
                        .expect("append");
                }
                app.commit().expect("commit")
            },
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

criterion_group!(benches, bench_append);
criterion_main!(benches);
