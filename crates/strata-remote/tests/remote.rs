//! Integration tests of the remote-write codecs through the public API: property round
//! trips for 1.0 and 2.0 (series with histograms, exemplars and metadata), whole
//! requests through snappy and content negotiation, and decoder robustness.
//!
//! Modules are `#[cfg(test)]` so that clippy's allow-unwrap-in-tests covers their helpers.

#[cfg(test)]
#[path = "remote/generate.rs"]
mod generate;

#[cfg(test)]
#[path = "remote/roundtrip.rs"]
mod roundtrip;

#[cfg(test)]
#[path = "remote/requests.rs"]
mod requests;
