//! Request parameters: the URL query plus, for `POST` with
//! `application/x-www-form-urlencoded`, the body (whose values come first, as in Go's
//! `Request.Form`), and the parsing of each kind of parameter with Prometheus' errors.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{Method, header};
use strata_model::Matcher;
use strata_model::matcher::parse_selector;

use crate::errors::ApiError;
use crate::timeparse::{parse_duration_ns, parse_time};

/// Every parameter of a request, in order.
#[derive(Debug, Clone, Default)]
pub struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    /// Parameters from an urlencoded query string.
    pub fn from_query(q: &str) -> Self {
        Params {
            pairs: form_urlencoded::parse(q.as_bytes()).into_owned().collect(),
        }
    }

    /// The first value of `name`, or "" (Go's `FormValue`).
    pub fn get(&self, name: &str) -> &str {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }

    /// Every value of `name`.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.pairs
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// A timestamp in milliseconds; `default` when absent or empty.
    pub fn time_or(&self, name: &str, default: i64) -> Result<i64, ApiError> {
        match self.get(name) {
            "" => Ok(default),
            s => parse_time(s).map_err(|e| ApiError::invalid_param(name, e)),
        }
    }

    /// A required timestamp in milliseconds.
    pub fn time(&self, name: &str) -> Result<i64, ApiError> {
        parse_time(self.get(name)).map_err(|e| ApiError::invalid_param(name, e))
    }

    /// An optional duration in nanoseconds.
    pub fn duration(&self, name: &str) -> Result<Option<i64>, ApiError> {
        match self.get(name) {
            "" => Ok(None),
            s => parse_duration_ns(s)
                .map(Some)
                .map_err(|e| ApiError::invalid_param(name, e)),
        }
    }

    /// `limit`: 0 (no limit) when absent; non-negative.
    pub fn limit(&self) -> Result<usize, ApiError> {
        let s = self.get("limit");
        if s.is_empty() {
            return Ok(0);
        }
        let n = parse_go_int(s).map_err(|e| ApiError::invalid_param("limit", e))?;
        usize::try_from(n)
            .map_err(|_| ApiError::invalid_param("limit", "limit must be non-negative"))
    }

    /// The `match[]` selectors: one matcher set each. Each selector must have a matcher
    /// that does not match the empty string.
    pub fn matcher_sets(&self) -> Result<Vec<Vec<Matcher>>, ApiError> {
        let mut sets = Vec::new();
        for s in self.all("match[]") {
            let ms = parse_selector(s).map_err(|e| ApiError::bad_data(e.to_string()))?;
            sets.push(ms);
        }
        if sets.iter().any(|ms| ms.iter().all(Matcher::matches_empty)) {
            return Err(ApiError::bad_data(
                "match[] must contain at least one non-empty matcher",
            ));
        }
        Ok(sets)
    }
}

/// Go's `strconv.Atoi`, with its error texts.
fn parse_go_int(s: &str) -> Result<i64, String> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "strconv.Atoi: parsing {}: invalid syntax",
            strata_model::gofmt::go_quote(s)
        ));
    }
    s.parse::<i64>().map_err(|_| {
        format!(
            "strconv.Atoi: parsing {}: value out of range",
            strata_model::gofmt::go_quote(s)
        )
    })
}

impl<S: Send + Sync> FromRequest<S> for Params {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let query = Params::from_query(req.uri().query().unwrap_or(""));
        let is_form = matches!(*req.method(), Method::POST | Method::PUT | Method::PATCH)
            && req
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(';').next())
                .is_some_and(|v| {
                    v.trim()
                        .eq_ignore_ascii_case("application/x-www-form-urlencoded")
                });
        if !is_form {
            return Ok(query);
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            ApiError::bad_data(format!("error parsing form values: {}", e.body_text()))
        })?;
        let mut pairs: Vec<(String, String)> =
            form_urlencoded::parse(&bytes).into_owned().collect();
        pairs.extend(query.pairs);
        Ok(Params { pairs })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_params() {
        let p = Params::from_query("match[]=up&match[]=%7Bjob%3D%22a%22%7D&limit=2&x=");
        assert_eq!(p.all("match[]"), ["up", r#"{job="a"}"#]);
        assert_eq!(p.limit(), Ok(2));
        assert_eq!(p.get("x"), "");
        assert_eq!(p.get("missing"), "");
        assert_eq!(p.matcher_sets().map(|s| s.len()), Ok(2));
    }

    #[test]
    fn rejects_bad_params() {
        let p = Params::from_query("limit=x&start=y&match[]=%7Ba%3D%22%22%7D");
        assert_eq!(
            p.limit().unwrap_err().message,
            r#"invalid parameter "limit": strconv.Atoi: parsing "x": invalid syntax"#
        );
        assert_eq!(
            p.time_or("start", 0).unwrap_err().message,
            r#"invalid parameter "start": cannot parse "y" to a valid timestamp"#
        );
        assert_eq!(
            p.matcher_sets().unwrap_err().message,
            "match[] must contain at least one non-empty matcher"
        );
        let p = Params::from_query("limit=-1");
        assert_eq!(
            p.limit().unwrap_err().message,
            r#"invalid parameter "limit": limit must be non-negative"#
        );
    }
}
