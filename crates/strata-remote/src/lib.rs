//! Prometheus remote write on the wire.
//!
//! [`rw1`] decodes and encodes remote write 1.0 `WriteRequest` messages without an
//! intermediate owned message tree: the decoder hands out borrowed label strings and
//! samples straight from the request buffer. [`snappy`] wraps the block format the
//! protocol uses.

pub mod error;
pub mod protowire;
pub mod rw1;
pub mod snappy;

pub use error::{Error, Result};
