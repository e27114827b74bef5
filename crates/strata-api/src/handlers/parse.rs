//! `/api/v1/format_query` and `/api/v1/parse_query`, through the [`QueryParser`] in
//! the state (the PromQL parser plugs in there).
//!
//! [`QueryParser`]: crate::state::QueryParser

use std::sync::Arc;

use axum::extract::State;

use crate::errors::{ApiError, ErrorType};
use crate::json::{ApiResponse, JsonStyle, write_str};
use crate::params::Params;
use crate::state::{ApiState, QueryParser};

fn parser(st: &ApiState) -> Result<Arc<dyn QueryParser>, ApiError> {
    st.parser
        .clone()
        .ok_or_else(|| ApiError::new(ErrorType::Unavailable, "the PromQL parser is not available"))
}

/// `GET|POST /api/v1/format_query`: the query pretty-printed, as a JSON string.
pub async fn format_query(State(st): State<ApiState>, p: Params) -> Result<ApiResponse, ApiError> {
    let formatted = parser(&st)?
        .format_query(p.get("query"))
        .map_err(|e| ApiError::invalid_param("query", e))?;
    let mut data = String::new();
    write_str(&mut data, &formatted, JsonStyle::Iter);
    Ok(ApiResponse::new(data))
}

/// `GET|POST /api/v1/parse_query`: the query's syntax tree as JSON.
pub async fn parse_query(State(st): State<ApiState>, p: Params) -> Result<ApiResponse, ApiError> {
    let tree = parser(&st)?
        .parse_query_json(p.get("query"))
        .map_err(|e| ApiError::invalid_param("query", e))?;
    Ok(ApiResponse::new(tree))
}
