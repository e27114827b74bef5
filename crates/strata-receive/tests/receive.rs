//! Integration tests of the receiver.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod receive {
    pub mod http;
}
