//! The one place that talks to the YAML library (serde-saphyr), so swapping it touches
//! only this file. Errors carry the line and column the parser reports and the path of
//! the field being read.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};

use crate::error::{Error, Position};

/// Deserializes one YAML document. An empty document reads as `T::default()`.
pub fn from_str<T: DeserializeOwned + Default>(input: &str) -> Result<T, Error> {
    if input.trim().is_empty() || only_comments(input) {
        return Ok(T::default());
    }
    let mut path = String::new();
    let result = serde_saphyr::with_deserializer_from_str(input, |de| {
        serde_path_to_error::deserialize(de).map_err(|e| {
            path = e.path().to_string();
            e.into_inner()
        })
    });
    result.map_err(|e| {
        let position = e.location().map(|l| Position {
            line: l.line(),
            column: l.column(),
        });
        Error::Yaml {
            file: None,
            field: path,
            position,
            message: strip_position(&e.without_snippet().to_string()).to_owned(),
        }
    })
}

/// Drops the parser's own " at line N, column M" suffix (the position is kept apart).
fn strip_position(msg: &str) -> &str {
    if let Some(i) = msg.rfind(" at line ") {
        let tail = &msg[i + " at line ".len()..];
        let ok = tail.split_once(", column ").is_some_and(|(l, c)| {
            !l.is_empty()
                && !c.is_empty()
                && l.bytes().all(|b| b.is_ascii_digit())
                && c.bytes().all(|b| b.is_ascii_digit())
        });
        if ok {
            return &msg[..i];
        }
    }
    msg
}

fn only_comments(input: &str) -> bool {
    input.lines().all(|l| {
        let t = l.trim();
        t.is_empty() || t.starts_with('#') || t == "---"
    })
}

/// Reads an explicit YAML null as the type's default (Prometheus' YAML decoder leaves a
/// null field at its zero value), e.g. `rule_files:` followed only by comments.
pub fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}
