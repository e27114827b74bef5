//! [`prost::Name`] for the `hintspb` messages, so they pack into and out of the Store
//! API's `google.protobuf.Any` fields with `prost_types::Any::from_msg` / `to_msg`.
//!
//! Thanos packs hints with gogo's `types.MarshalAny`, whose type URLs are
//! `type.googleapis.com/hintspb.<Message>`; we write the same. Unpacking compares only
//! the name after the last `/`, so any prefix is accepted.

use crate::pb::hintspb::{
    LabelNamesRequestHints, LabelNamesResponseHints, LabelValuesRequestHints,
    LabelValuesResponseHints, SeriesRequestHints, SeriesResponseHints,
};

/// Prefix of the type URLs Thanos writes into `Any` hints.
pub const GOGO_TYPE_URL_PREFIX: &str = "type.googleapis.com/";

macro_rules! hint_name {
    ($($t:ident),* $(,)?) => {$(
        impl prost::Name for $t {
            const NAME: &'static str = stringify!($t);
            const PACKAGE: &'static str = "hintspb";

            fn type_url() -> String {
                format!("{GOGO_TYPE_URL_PREFIX}hintspb.{}", stringify!($t))
            }
        }
    )*};
}

hint_name!(
    SeriesRequestHints,
    SeriesResponseHints,
    LabelNamesRequestHints,
    LabelNamesResponseHints,
    LabelValuesRequestHints,
    LabelValuesResponseHints,
);

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::pb::hintspb::Block;
    use prost_types::Any;

    #[test]
    fn packs_with_thanos_type_url_and_unpacks() {
        let h = SeriesResponseHints {
            queried_blocks: vec![Block {
                id: "01H000000000000000000000AA".into(),
            }],
            query_stats: None,
        };
        let any = Any::from_msg(&h).unwrap();
        assert_eq!(
            any.type_url,
            "type.googleapis.com/hintspb.SeriesResponseHints"
        );
        assert_eq!(any.to_msg::<SeriesResponseHints>().unwrap(), h);
        assert!(any.to_msg::<SeriesRequestHints>().is_err());
    }
}
