//! The process' memory allocator: jemalloc, configured to hand freed memory back to the
//! OS within about a second.
//!
//! With glibc's allocator, memory freed when the head is truncated (after a block is
//! written) stayed in the arenas of the threads that had allocated it, so the next
//! allocations of other threads (queries) stacked on top: the ingest benchmark (2 h of
//! 100k series, flush, two queries) peaked at 436-461 MB. With jemalloc and a background
//! purging thread the head's memory is returned before the queries run (peak ~285 MB).

/// The global allocator.
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's built-in options (`malloc_conf`, read once at start-up; the environment
/// variable `_RJEM_MALLOC_CONF` still overrides them): a background thread purges unused
/// dirty pages after 1 s (instead of 10 s, and only when allocations happen to trigger it),
/// and purged pages are released at once (no "muzzy" stage).
#[cfg(not(target_env = "msvc"))]
#[allow(unsafe_code, non_upper_case_globals)]
// SAFETY: jemalloc reads this weak symbol as a NUL-terminated `const char *` during its
// initialisation; the value is a static, immutable, NUL-terminated byte string.
#[unsafe(export_name = "_rjem_malloc_conf")]
pub static malloc_conf: &u8 = &MALLOC_CONF[0];

#[cfg(not(target_env = "msvc"))]
const MALLOC_CONF: &[u8] =
    b"background_thread:true,max_background_threads:1,dirty_decay_ms:1000,muzzy_decay_ms:0\0";

/// A jemalloc setting and the Rust type of its documented C type (`unsigned`, `ssize_t`).
#[cfg(not(target_env = "msvc"))]
trait MallctlValue: Copy {}
#[cfg(not(target_env = "msvc"))]
impl MallctlValue for std::ffi::c_uint {}
#[cfg(not(target_env = "msvc"))]
impl MallctlValue for isize {}

/// Writes the jemalloc setting `name`; errors are ignored (the default stays).
#[cfg(not(target_env = "msvc"))]
#[allow(unsafe_code)]
fn mallctl_set<T: MallctlValue>(name: &std::ffi::CStr, value: T) {
    // SAFETY: `name` is NUL-terminated; the callers below pass writable settings with
    // values of the types jemalloc documents for them, and their sizes; no old value is
    // read (null `oldp`/`oldlenp`).
    unsafe {
        tikv_jemalloc_sys::mallctl(
            name.as_ptr(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            (&raw const value).cast_mut().cast(),
            std::mem::size_of::<T>(),
        );
    }
}

/// Makes the calling thread allocate from arena 0. For processes whose steady state
/// allocates little (`strata agent`: scrapes reuse their buffers), this keeps memory from
/// being spread over per-CPU arenas. Thread caches stay on: with [`lean_arena`] purging
/// at once, turning them off cost more CPU (agent bench 2.02 vs 1.65 µs per scraped
/// sample) than the memory it saved (1 MB).
#[cfg(not(target_env = "msvc"))]
pub fn lean_thread() {
    let arena: std::ffi::c_uint = 0;
    mallctl_set(c"thread.arena", arena);
}

#[cfg(target_env = "msvc")]
pub fn lean_thread() {}

/// Makes arena 0 (where [`lean_thread`] threads allocate) purge freed pages at once
/// instead of after a second: the agent frees a steady stream of buffers (scrape bodies
/// and their decoding, WAL records, request batches, label sets of queued samples), and
/// purging them promptly took about 5 MB off its RSS on the 110k-series agent benchmark.
#[cfg(not(target_env = "msvc"))]
pub fn lean_arena() {
    mallctl_set(c"arena.0.dirty_decay_ms", 0isize);
}

#[cfg(target_env = "msvc")]
pub fn lean_arena() {}
