//! The Strata PromQL parser behind `/api/v1/format_query` and `/api/v1/parse_query`.

use strata_promql::parser::{json::to_json, parse};

use crate::state::QueryParser;

/// [`QueryParser`] over `strata_promql::parser`.
#[derive(Debug, Clone, Copy, Default)]
pub struct PromQlParser;

impl QueryParser for PromQlParser {
    fn format_query(&self, query: &str) -> Result<String, String> {
        parse(query)
            .map(|e| e.to_string())
            .map_err(|e| e.to_string())
    }

    fn parse_query_json(&self, query: &str) -> Result<String, String> {
        parse(query)
            .map(|e| to_json(&e).to_string())
            .map_err(|e| e.to_string())
    }
}
