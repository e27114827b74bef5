//! Integration tests of the agent storage and remote write against an in-process
//! receiver (axum on 127.0.0.1:0) that decodes requests and can be told to fail.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod agent {
    pub mod crash;
    pub mod failures;
    pub mod flow;
    pub mod harness;
    pub mod receiver;
    pub mod reshard;
    pub mod runtime;
}
