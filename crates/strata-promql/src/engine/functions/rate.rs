use super::{Args, Ctx, Output};
use crate::error::Result;

pub(super) fn call(_name: &str, _a: &mut Args<'_>, _ctx: &mut Ctx<'_>) -> Result<Option<Output>> {
    Ok(None)
}
