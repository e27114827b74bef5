//! Decodes arbitrary bytes as a remote write 2.0 request (and, for good measure, as a
//! 1.0 request), validates every histogram, and re-encodes what decoded: the encoder's
//! output must decode to the same series. Errors are fine; panics are bugs.

#![no_main]

use libfuzzer_sys::fuzz_target;
use strata_remote::{TimeSeriesRef, rw1, rw2};

fuzz_target!(|data: &[u8]| {
    let mut scratch = TimeSeriesRef::default();
    let mut decoded = Vec::new();
    let ok = rw2::for_each_series(data, &mut scratch, |ts| {
        for h in &ts.histograms {
            let _ = h.value.validate();
            let _ = h.value.to_float();
        }
        decoded.push(ts.clone());
        Ok(())
    });
    if ok.is_ok() {
        let again = rw2::encode_request(&decoded);
        let mut redecoded = Vec::new();
        let mut scratch2 = TimeSeriesRef::default();
        let res = rw2::for_each_series(&again, &mut scratch2, |ts| {
            redecoded.push(ts.clone());
            Ok(())
        });
        assert!(res.is_ok(), "re-encoded request does not decode: {res:?}");
        assert_eq!(format!("{decoded:?}"), format!("{redecoded:?}"));
    }
    let _ = rw1::for_each_series(data, &mut scratch, |_| Ok(()));
    let _ = rw1::for_each_metadata(data, |_| Ok(()));
});
