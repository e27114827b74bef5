//! Running independent pieces of a query's work on a few scoped threads.
//!
//! Used for work that is per series and needs no shared mutable state: decoding the
//! selected series and evaluating selector leaves series-major. Results come back in
//! the order of the inputs, and the error returned is the one of the first failing
//! input in that order, so the outcome does not depend on thread scheduling.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crate::error::Result;

/// The number of threads the engine uses by default: the machine's parallelism.
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Applies `f` to every item (with its index) on up to `threads` threads, the calling
/// thread included, and returns the outputs in item order. After an item fails, items
/// not yet started are skipped; the error of the lowest failing index is returned
/// (every lower index was started before it, so it was evaluated).
pub fn try_map<I, O, F>(items: Vec<I>, threads: usize, f: F) -> Result<Vec<O>>
where
    I: Send,
    O: Send,
    F: Fn(usize, I) -> Result<O> + Sync,
{
    let n = items.len();
    let threads = threads.clamp(1, n.max(1));
    if threads == 1 {
        return items
            .into_iter()
            .enumerate()
            .map(|(i, x)| f(i, x))
            .collect();
    }
    let slots: Vec<Mutex<Option<I>>> = items.into_iter().map(|x| Mutex::new(Some(x))).collect();
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let work = || {
        let mut done: Vec<(usize, Result<O>)> = Vec::new();
        while !failed.load(Ordering::Relaxed) {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(slot) = slots.get(i) else { break };
            let item = match slot.lock() {
                Ok(mut g) => g.take(),
                Err(p) => p.into_inner().take(),
            };
            let Some(item) = item else { continue };
            let r = f(i, item);
            if r.is_err() {
                failed.store(true, Ordering::Relaxed);
            }
            done.push((i, r));
        }
        done
    };
    let mut all: Vec<(usize, Result<O>)> = std::thread::scope(|scope| {
        let helpers: Vec<_> = (1..threads).map(|_| scope.spawn(work)).collect();
        let mut all = work();
        for h in helpers {
            match h.join() {
                Ok(v) => all.extend(v),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        all
    });
    all.sort_by_key(|(i, _)| *i);
    let mut out = Vec::with_capacity(n);
    for (_, r) in all {
        out.push(r?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::QueryError;

    #[test]
    fn keeps_order_and_reports_the_first_error() {
        for threads in [1, 2, 4] {
            let out = try_map((0..100).collect(), threads, |i, x: u32| {
                assert_eq!(i as u32, x);
                Ok(x * 2)
            })
            .unwrap_or_default();
            assert_eq!(out, (0..100).map(|x| x * 2).collect::<Vec<_>>());
            let err = try_map((0..100).collect(), threads, |_, x: u32| {
                if x == 37 || x == 80 {
                    Err(QueryError::Execution(format!("bad {x}")))
                } else {
                    Ok(x)
                }
            });
            assert!(matches!(err, Err(QueryError::Execution(m)) if m == "bad 37"));
        }
        let empty: Vec<u8> = try_map(Vec::new(), 4, |_, x: u8| Ok(x)).unwrap_or_default();
        assert!(empty.is_empty());
    }
}
