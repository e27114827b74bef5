#![allow(dead_code)]
//! Helpers shared by the integration tests.

use strata_textparse::{Entry, Error, Format, Parser};

/// Parses everything, panicking on error.
pub fn all(input: &str, format: Format) -> Vec<Entry<'_>> {
    let mut p = Parser::new(input, format);
    let mut out = Vec::new();
    loop {
        match p.next_entry() {
            Ok(Some(e)) => out.push(e),
            Ok(None) => return out,
            Err(e) => panic!("unexpected error {e} in {input:?}"),
        }
    }
}

/// Parses until the first error and returns it as a string (panics if there is none).
pub fn err(input: &str, format: Format) -> String {
    first_err(input, format)
        .unwrap_or_else(|| panic!("expected an error for {input:?}"))
        .to_string()
}

pub fn first_err(input: &str, format: Format) -> Option<Error> {
    let mut p = Parser::new(input, format);
    loop {
        match p.next_entry() {
            Ok(Some(_)) => {}
            Ok(None) => return None,
            Err(e) => return Some(e),
        }
    }
}

/// The single sample of a one-line input, as (name, labels, value, ts).
pub fn sample(input: &str, format: Format) -> (String, Vec<(String, String)>, f64, Option<i64>) {
    for e in all(input, format) {
        if let Entry::Sample {
            name,
            labels,
            value,
            timestamp_ms,
            ..
        } = e
        {
            let labels = labels
                .into_iter()
                .map(|(n, v)| (n.into_owned(), v.into_owned()))
                .collect();
            return (name.into_owned(), labels, value, timestamp_ms);
        }
    }
    panic!("no sample in {input:?}")
}

pub fn l(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
        .collect()
}
