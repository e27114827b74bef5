//! `info()`: enriches series with the data labels of matching info series
//! (`target_info` by default).

use super::eval::{Evaluator, StepValue};
use crate::error::{QueryError, Result};
use crate::parser::ast::Call;

/// Evaluates `info(v, selector?)` at `t`.
pub fn eval_info(_ev: &mut Evaluator, _c: &Call, _t: i64) -> Result<StepValue> {
    Err(QueryError::Execution("info() is not supported yet".into()))
}
