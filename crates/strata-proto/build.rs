//! Compiles the Thanos `.proto` files under `proto/` with pure-Rust tooling: `protox`
//! parses them into a descriptor set, `tonic-prost-build` generates messages, clients and
//! servers. No `protoc` is needed.

use std::error::Error;

const PROTOS: &[&str] = &[
    "store/labelpb/types.proto",
    "store/storepb/types.proto",
    "store/storepb/rpc.proto",
    "store/storepb/prompb/types.proto",
    "store/hintspb/hints.proto",
    "info/infopb/rpc.proto",
];

fn main() -> Result<(), Box<dyn Error>> {
    println!("cargo:rerun-if-changed=proto");
    for p in PROTOS {
        println!("cargo:rerun-if-changed=proto/{p}");
    }
    let fds = protox::compile(PROTOS, ["proto"])?;
    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        // Chunk payloads are the bulk of a Series stream: share the receive buffer.
        .bytes(".thanos.Chunk.data")
        .bytes(".prometheus_copy.Chunk.data")
        .include_file("thanos_protos.rs")
        .compile_fds(fds)?;
    Ok(())
}
