//! Feeds arbitrary bytes to the index reader and walks everything it exposes. Errors are
//! expected; panics, hangs and huge allocations are bugs.
#![no_main]

use libfuzzer_sys::fuzz_target;
use strata_tsdb::index::IndexReader;
use strata_tsdb::mmap::SharedBytes;

fuzz_target!(|data: &[u8]| {
    let Ok(r) = IndexReader::from_bytes(SharedBytes::from_vec(data.to_vec())) else {
        return;
    };
    let _ = r.version();
    let _ = r.symbols();
    if let Ok(names) = r.label_names() {
        for n in names {
            if let Ok(values) = r.label_values(&n) {
                for v in values {
                    let _ = r.postings(&n, &v);
                }
            }
        }
    }
    if let Ok(all) = r.all_postings() {
        for id in all {
            let _ = r.series(id);
        }
    }
});
