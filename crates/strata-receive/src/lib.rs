//! `strata receive`: the remote-write receiver tier. It splits writes by tenant, places
//! series on a hashring with replication, and stores them in per-tenant TSDBs.

pub mod error;
pub mod hashring;

pub use error::{Error, Result};
