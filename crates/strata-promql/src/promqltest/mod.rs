//! The promqltest script language of Prometheus' PromQL conformance files: parsing
//! ([`script`], [`series`]), an in-memory storage ([`storage`]), result comparison
//! ([`compare`]) and a runner that executes scripts against the [`crate::Engine`]
//! ([`runner`]).
//!
//! Format reference: `shared/testdata/promql/FORMAT.md`. Not done yet: the reference
//! runner's extra `@`-invariance and range-mode cross-checks (FORMAT.md §6).

pub mod compare;
pub mod runner;
pub mod script;
pub mod series;
pub mod storage;

pub use runner::{EvalOutcome, Outcome, Runner, involves_histograms, test_engine_options};
pub use script::{
    Command, Eval, EvalKind, Expected, ExpectedSeries, Load, Script, ScriptError, TextMatch,
    parse_script,
};
pub use storage::TestStorage;

#[cfg(test)]
mod tests_compare;
#[cfg(test)]
mod tests_parse;
