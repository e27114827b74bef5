//! `strata tools`: offline tools that read and write data directories with the same
//! output formats as Prometheus' `promtool tsdb`.

mod analyze;
mod dump;
mod import;
mod list;

use crate::cli::{ToolsArgs, ToolsCommand, TsdbCommand};

pub fn run(args: ToolsArgs) -> anyhow::Result<()> {
    match args.command {
        ToolsCommand::Tsdb(t) => match t.command {
            TsdbCommand::Dump(a) => dump::run(&a),
            TsdbCommand::Analyze(a) => analyze::run(&a),
            TsdbCommand::ImportOpenmetrics(a) => import::run(&a),
            TsdbCommand::List(a) => list::run(&a),
        },
    }
}

/// Writes to stdout, treating a closed pipe (`| head`) as a normal end.
pub(crate) fn ignore_broken_pipe(r: anyhow::Result<()>) -> anyhow::Result<()> {
    match r {
        Err(e)
            if e.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe) =>
        {
            Ok(())
        }
        other => other,
    }
}
