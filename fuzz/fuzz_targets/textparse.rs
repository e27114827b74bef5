#![no_main]
//! Parses arbitrary input in both exposition formats until an error or the end.

use libfuzzer_sys::fuzz_target;
use strata_textparse::{Format, Parser};

fuzz_target!(|data: &[u8]| {
    for format in [Format::PrometheusText, Format::OpenMetrics] {
        let Ok(mut p) = Parser::from_bytes(data, format) else {
            return;
        };
        while let Ok(Some(_)) = p.next_entry() {}
    }
});
