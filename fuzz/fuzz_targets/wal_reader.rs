//! Feeds arbitrary bytes to the WAL reader as segment 00000000 and decodes every record.
//! Errors are fine; panics, hangs and huge allocations are bugs.

#![no_main]

use libfuzzer_sys::fuzz_target;
use strata_tsdb::wal::record::{decode_samples, decode_series, decode_tombstones};
use strata_tsdb::wal::{WalReader, repair_torn_tail};

fn read_all(dir: &std::path::Path) {
    let Ok(mut reader) = WalReader::open(dir, 0, None) else {
        return;
    };
    while let Ok(Some(rec)) = reader.next_record() {
        let _ = decode_series(&rec, &mut Vec::new());
        let _ = decode_samples(&rec, &mut Vec::new());
        let _ = decode_tombstones(&rec, &mut Vec::new());
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(tmp) = tempfile::tempdir() else {
        return;
    };
    if std::fs::write(tmp.path().join("00000000"), data).is_err() {
        return;
    }
    read_all(tmp.path());
    // Repair may truncate the segment; what is left must read without panicking too.
    let _ = repair_torn_tail(tmp.path());
    read_all(tmp.path());
});
