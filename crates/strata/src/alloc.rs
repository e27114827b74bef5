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

/// Makes the calling thread allocate from arena 0 without a thread cache. For processes
/// whose steady state allocates little (`strata agent`: scrapes reuse their buffers), this
/// keeps memory from being spread over per-thread caches and per-CPU arenas (about 2 MB
/// less RSS on the agent benchmark, no measurable CPU cost). Errors are ignored: the
/// defaults stay.
#[cfg(not(target_env = "msvc"))]
#[allow(unsafe_code)]
pub fn lean_thread() {
    let no_tcache = false;
    let arena: std::ffi::c_uint = 0;
    // SAFETY: `mallctl` is given NUL-terminated names of writable settings and pointers
    // to values of the types jemalloc documents for them (`bool`, `unsigned`), with
    // their sizes; no old value is read (null `oldp`/`oldlenp`).
    unsafe {
        tikv_jemalloc_sys::mallctl(
            c"thread.tcache.enabled".as_ptr(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            (&raw const no_tcache).cast_mut().cast(),
            std::mem::size_of::<bool>(),
        );
        tikv_jemalloc_sys::mallctl(
            c"thread.arena".as_ptr(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            (&raw const arena).cast_mut().cast(),
            std::mem::size_of::<std::ffi::c_uint>(),
        );
    }
}

#[cfg(target_env = "msvc")]
pub fn lean_thread() {}
