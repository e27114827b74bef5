//! Decoding the hashrings JSON the way Thanos (Go's `encoding/json`) reads it.
//!
//! What Go does and this copies: object keys match field names case-insensitively (an
//! exact match is not needed; Go also folds `ſ` to `s` and the Kelvin sign to `k`),
//! unknown keys are ignored, a repeated key overwrites the earlier one, `null` leaves a
//! string or struct field unchanged and empties a list or map, `null` inside a string list
//! or map is `""`. An endpoint is either a string (the address) or an object with
//! `address`, `az` and `capnproto_address`.
//!
//! Only the syntax and the types are checked here; [`super::config`] turns the result into
//! a [`super::HashringConfig`] and validates it.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// One element of the top-level array, as written.
#[derive(Debug, Default)]
pub(super) struct RawRing {
    pub hashring: String,
    pub tenants: Vec<String>,
    pub tenant_matcher_type: String,
    pub endpoints: Vec<RawEndpoint>,
    pub algorithm: String,
    pub external_labels: BTreeMap<String, String>,
    /// `shuffle_sharding_config.shard_size` (Go `int`); shuffle sharding is on when > 0.
    pub shard_size: i64,
}

/// An endpoint as written.
#[derive(Debug, Default)]
pub(super) struct RawEndpoint {
    pub address: String,
    pub az: String,
}

/// Decodes the whole file: `null` is an empty list, as Go's nil slice.
pub(super) fn decode(content: &[u8]) -> serde_json::Result<Vec<RawRing>> {
    let rings: Option<Vec<Nullable<RawRing>>> = serde_json::from_slice(content)?;
    Ok(rings
        .unwrap_or_default()
        .into_iter()
        .map(|r| r.0.unwrap_or_default())
        .collect())
}

/// Go's case folding of a field name: ASCII letters to upper case, and the two non-ASCII
/// characters whose fold set holds an ASCII letter (`ſ` → `S`, Kelvin sign → `K`).
fn fold(c: char) -> char {
    match c {
        '\u{17f}' => 'S',
        '\u{212a}' => 'K',
        c => c.to_ascii_uppercase(),
    }
}

/// Whether a JSON key names `field` under Go's matching rules.
fn key_is(key: &str, field: &str) -> bool {
    key.chars().map(fold).eq(field.chars().map(fold))
}

/// A value where `null` means "absent".
struct Nullable<T>(Option<T>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Nullable<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Option::<T>::deserialize(d).map(Nullable)
    }
}

/// A list of strings where a `null` element is `""`; a `null` list is empty.
fn string_list<'de, A: MapAccess<'de>>(map: &mut A) -> Result<Vec<String>, A::Error> {
    let list: Option<Vec<Option<String>>> = map.next_value()?;
    Ok(list
        .unwrap_or_default()
        .into_iter()
        .map(Option::unwrap_or_default)
        .collect())
}

/// Overwrites `field` unless the value is `null`.
fn set_string<'de, A: MapAccess<'de>>(map: &mut A, field: &mut String) -> Result<(), A::Error> {
    if let Some(s) = map.next_value::<Option<String>>()? {
        *field = s;
    }
    Ok(())
}

impl<'de> Deserialize<'de> for RawRing {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(RingVisitor)
    }
}

struct RingVisitor;

impl<'de> Visitor<'de> for RingVisitor {
    type Value = RawRing;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a hashring object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawRing, A::Error> {
        let mut ring = RawRing::default();
        while let Some(key) = map.next_key::<String>()? {
            if key_is(&key, "hashring") {
                set_string(&mut map, &mut ring.hashring)?;
            } else if key_is(&key, "tenants") {
                ring.tenants = string_list(&mut map)?;
            } else if key_is(&key, "tenant_matcher_type") {
                set_string(&mut map, &mut ring.tenant_matcher_type)?;
            } else if key_is(&key, "endpoints") {
                let list: Option<Vec<RawEndpoint>> = map.next_value()?;
                ring.endpoints = list.unwrap_or_default();
            } else if key_is(&key, "algorithm") {
                set_string(&mut map, &mut ring.algorithm)?;
            } else if key_is(&key, "external_labels") {
                let labels: Option<BTreeMap<String, Option<String>>> = map.next_value()?;
                ring.external_labels = labels
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(k, v)| (k, v.unwrap_or_default()))
                    .collect();
            } else if key_is(&key, "shuffle_sharding_config") {
                if let Some(ShuffleSharding {
                    shard_size: Some(size),
                }) = map.next_value::<Option<ShuffleSharding>>()?
                {
                    ring.shard_size = size;
                }
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(ring)
    }
}

/// The part of `shuffle_sharding_config` that decides whether it is on.
struct ShuffleSharding {
    shard_size: Option<i64>,
}

impl<'de> Deserialize<'de> for ShuffleSharding {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ShuffleSharding;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a shuffle_sharding_config object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ShuffleSharding, A::Error> {
                let mut shard_size = None;
                while let Some(key) = map.next_key::<String>()? {
                    if key_is(&key, "shard_size") {
                        if let Some(size) = map.next_value::<Option<i64>>()? {
                            shard_size = Some(size);
                        }
                    } else {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                Ok(ShuffleSharding { shard_size })
            }
        }
        d.deserialize_map(V)
    }
}

impl<'de> Deserialize<'de> for RawEndpoint {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(EndpointVisitor)
    }
}

struct EndpointVisitor;

impl<'de> Visitor<'de> for EndpointVisitor {
    type Value = RawEndpoint;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(r#"an endpoint: "host:port" or {"address": "host:port", "az": "zone"}"#)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<RawEndpoint, E> {
        Ok(RawEndpoint {
            address: v.to_owned(),
            az: String::new(),
        })
    }

    /// Go decodes `null` as an unchanged (empty) address; validation rejects it.
    fn visit_unit<E: de::Error>(self) -> Result<RawEndpoint, E> {
        Ok(RawEndpoint::default())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawEndpoint, A::Error> {
        let mut endpoint = RawEndpoint::default();
        while let Some(key) = map.next_key::<String>()? {
            if key_is(&key, "address") {
                set_string(&mut map, &mut endpoint.address)?;
            } else if key_is(&key, "az") {
                set_string(&mut map, &mut endpoint.az)?;
            } else {
                // `capnproto_address` (Thanos' Cap'n Proto replication) and unknown keys.
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(endpoint)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, _seq: A) -> Result<RawEndpoint, A::Error> {
        Err(de::Error::invalid_type(de::Unexpected::Seq, &self))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn keys_fold_like_go() {
        assert!(key_is("Hashring", "hashring"));
        assert!(key_is("HASHRING", "hashring"));
        assert!(key_is("ha\u{17f}hring", "hashring"));
        assert!(!key_is("hash_ring", "hashring"));
        assert!(!key_is("hashrings", "hashring"));
    }

    #[test]
    fn nulls_and_repeats_follow_go() {
        let rings = decode(
            br#"[{"hashring": "a", "hashring": null, "Tenants": ["x", null],
                  "endpoints": ["n1", {"address": "n2", "az": "z", "capnproto_address": "n2:1"}],
                  "external_labels": {"k": "v", "e": null}, "unknown": [1, {"x": 2}]},
                 null]"#,
        )
        .unwrap();
        assert_eq!(rings.len(), 2);
        let r = &rings[0];
        assert_eq!(r.hashring, "a");
        assert_eq!(r.tenants, ["x", ""]);
        assert_eq!(r.endpoints[0].address, "n1");
        assert_eq!(
            (r.endpoints[1].address.as_str(), r.endpoints[1].az.as_str()),
            ("n2", "z")
        );
        assert_eq!(r.external_labels.get("e").map(String::as_str), Some(""));
        assert!(rings[1].endpoints.is_empty());
    }

    #[test]
    fn null_document_is_empty() {
        assert!(decode(b"null").unwrap().is_empty());
        assert!(decode(b" [] ").unwrap().is_empty());
    }

    #[test]
    fn type_errors_are_reported() {
        assert!(decode(b"{}").is_err());
        assert!(decode(b"").is_err());
        assert!(decode(br#"[{"endpoints": [1]}]"#).is_err());
        assert!(decode(br#"[{"endpoints": [["a"]]}]"#).is_err());
        assert!(decode(br#"[{"tenants": "a"}]"#).is_err());
        assert!(decode(br#"[{"external_labels": {"a": 1}}]"#).is_err());
        assert!(decode(br#"[{"shuffle_sharding_config": {"shard_size": 1.5}}]"#).is_err());
        assert!(decode(br#"[] x"#).is_err());
    }
}
