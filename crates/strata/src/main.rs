//! The `strata` binary: one subcommand per component, named as Thanos names them, and
//! `up` for everything in one process. Components live in library crates; this crate
//! only parses flags and wires them together.

mod agent;
mod alloc;
mod cli;
mod grpc_listener;
mod logging;
mod query;
mod receive;
mod ship;
mod store;
mod tools;
mod up;

use std::process::ExitCode;

use clap::Parser;

use cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Err(e) = logging::init(&cli.log) {
        eprintln!("strata: {e:#}");
        return ExitCode::from(2);
    }
    let result = match cli.command {
        Command::Up(args) => up::run(args),
        Command::Tools(t) => tools::run(t),
        Command::Agent(args) => agent::run(args),
        Command::Receive(args) => receive::run(args),
        Command::Query(args) => query::run(args),
        Command::Store(args) => store::run(args),
        Command::Compact(_) => not_built("compact", "the bucket compactor"),
        Command::Rule(_) => not_built("rule", "the ruler"),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("strata: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn not_built(cmd: &str, what: &str) -> anyhow::Result<()> {
    anyhow::bail!(
        "`strata {cmd}` ({what}) is not part of this build yet; `strata up` runs the single-node TSDB and `strata tools tsdb` inspects data"
    )
}
