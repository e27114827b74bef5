//! A shard's sender task: batches of up to `max_samples_per_send`, sent when full or
//! after `batch_send_deadline`, retried with exponential backoff (or `Retry-After`) on
//! recoverable errors and dropped on the others (Prometheus' `runShard` and
//! `sendWriteRequestWithBackoff`).

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

use super::client::StoreError;
use super::encode::RequestEncoder;
use super::queue::QueueCore;
use super::shards::{Item, Mode, Shard};

#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Done,
    Aborted,
}

/// Resolves once an abort has been signalled (or the signal's owner is gone).
async fn aborted(rx: &mut watch::Receiver<bool>) {
    let _ = rx.wait_for(|v| *v).await;
}

pub(crate) async fn run_shard(core: Arc<QueueCore>, shard: Arc<Shard>) {
    let mut abort = core.abort.subscribe();
    let max = core.settings.max_samples_per_send;
    let deadline_every = core.settings.batch_send_deadline;
    let mut batch: Vec<Item> = Vec::with_capacity(max);
    let mut enc = RequestEncoder::new(core.client.protocol(), core.encode_external());
    let mut deadline = Instant::now() + deadline_every;
    loop {
        if *abort.borrow() {
            return;
        }
        let take = {
            let mut st = shard.state.lock();
            let exit = match st.mode {
                Mode::Pause => true,
                Mode::Drain => st.queue.is_empty(),
                Mode::Run => false,
            };
            if exit {
                return;
            }
            let now = Instant::now();
            let n = st.queue.len();
            let go = n >= max || (n > 0 && (now >= deadline || st.mode == Mode::Drain));
            if go {
                batch.extend(st.queue.drain(..n.min(max)));
                st.inflight = batch.first().map(|i| i.seq);
            } else if now >= deadline {
                deadline = now + deadline_every;
            }
            go
        };
        if !take {
            tokio::select! {
                _ = shard.wake.notified() => {}
                _ = tokio::time::sleep_until(deadline) => {}
                _ = aborted(&mut abort) => return,
            }
            continue;
        }
        core.shards.notify_space();
        if send_batch(&core, &mut enc, &batch, &mut abort).await == Outcome::Aborted {
            // Not acknowledged: `inflight` stays set so the progress never passes it.
            return;
        }
        shard.state.lock().inflight = None;
        core.metrics.pending.add(-(batch.len() as i64));
        batch.clear();
        core.progress_notify.notify_one();
        deadline = Instant::now() + deadline_every;
    }
}

async fn send_batch(
    core: &QueueCore,
    enc: &mut RequestEncoder,
    batch: &[Item],
    abort: &mut watch::Receiver<bool>,
) -> Outcome {
    let n = batch.len() as u64;
    let body = enc.encode(batch);
    let highest = batch.iter().map(|i| i.t).max();
    let begin = Instant::now();
    let s = &core.settings;
    let mut backoff = s.min_backoff;
    let mut attempt = 0u32;
    let result = loop {
        core.metrics.samples_total.add(n);
        let t0 = Instant::now();
        let r = tokio::select! {
            r = core.client.store(body.clone(), attempt) => r,
            _ = aborted(abort) => return Outcome::Aborted,
        };
        core.metrics
            .sent_batch_duration
            .observe(t0.elapsed().as_secs_f64());
        match r {
            Ok(stats) => break Ok(stats),
            Err(StoreError::Fatal { reason }) => break Err(reason),
            Err(StoreError::Recoverable {
                reason,
                retry_after,
            }) => {
                let sleep = match retry_after {
                    Some(d) => {
                        tracing::info!(
                            queue = %core.name,
                            duration_ms = d.as_millis() as u64,
                            "Retrying after duration specified by Retry-After header"
                        );
                        d
                    }
                    None => backoff,
                };
                core.disable_resharding_for(sleep * 2);
                tokio::select! {
                    _ = tokio::time::sleep(sleep) => {}
                    _ = aborted(abort) => return Outcome::Aborted,
                }
                core.metrics.retried_total.add(n);
                tracing::warn!(queue = %core.name, url = %core.url, error = %reason, "Failed to send batch, retrying");
                backoff = (sleep * 2).min(s.max_backoff).max(Duration::from_millis(1));
                attempt += 1;
            }
        }
    };
    core.metrics.bytes_total.add(body.len() as u64);
    if let Some(h) = highest {
        core.metrics.highest_sent.set_max(h.div_euclid(1000) as f64);
    }
    match result {
        Ok(stats) => {
            if let Some(written) = stats.samples_written
                && written < n
            {
                core.metrics.failed_total.add(n - written);
                tracing::error!(
                    queue = %core.name,
                    failed = n - written,
                    "we got 2xx status code from the Receiver yet statistics indicate some data was not written"
                );
            }
        }
        Err(reason) => {
            core.metrics.failed_total.add(n);
            tracing::error!(
                queue = %core.name,
                url = %core.url,
                failed_samples = n,
                error = %reason,
                "non-recoverable error: samples dropped"
            );
        }
    }
    core.data_out.incr(n as i64);
    core.data_out_duration
        .incr(i64::try_from(begin.elapsed().as_nanos()).unwrap_or(i64::MAX));
    core.last_send_unix
        .store(super::queue::unix_now(), Ordering::Relaxed);
    Outcome::Done
}
