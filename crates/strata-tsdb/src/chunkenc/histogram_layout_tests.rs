//! Tests of the layout helpers.

#![allow(clippy::unwrap_used)]

use super::*;

fn span(offset: i32, length: u32) -> Span {
    Span { offset, length }
}

fn indices(spans: &[Span]) -> Vec<i64> {
    let mut it = BucketIter::new(spans);
    std::iter::from_fn(|| it.next_idx()).collect()
}

#[test]
fn bucket_indices() {
    assert_eq!(
        indices(&[span(-2, 2), span(3, 1), span(0, 0), span(1, 2)]),
        vec![-2, -1, 3, 5, 6]
    );
    assert!(indices(&[]).is_empty());
    assert_eq!(indices(&[span(4, 0), span(2, 1)]), vec![6]);
}

#[test]
fn forward_inserts_of_the_prometheus_example() {
    // Old: buckets 0 1 4 8 9 13 15; new: 0 1 2 4 6 7 8 9 13 14 15.
    let a = [span(0, 2), span(2, 1), span(3, 2), span(3, 1), span(1, 1)];
    let b = [span(0, 3), span(1, 1), span(1, 4), span(3, 3)];
    let a_deltas = [6i64, -3, 0, -1, 2, 1, -4];
    let b_deltas = [7i64, -2, -4, 2, -2, -1, 2, 3, 0, -5, 1];
    let (fwd, back) = expand_spans_and_buckets(&a, &b, &a_deltas, &b_deltas, true).unwrap();
    assert!(back.is_empty());
    assert_eq!(
        fwd,
        vec![
            Insert {
                pos: 2,
                num: 1,
                bucket_idx: 2
            },
            Insert {
                pos: 3,
                num: 2,
                bucket_idx: 6
            },
            Insert {
                pos: 6,
                num: 1,
                bucket_idx: 14
            },
        ]
    );
    // Old values 6 3 3 2 4 5 1 become 6 3 0 3 0 0 2 4 5 0 1.
    let recoded = insert(&a_deltas, 11, &fwd, true);
    assert_eq!(recoded, vec![6, -3, -3, 3, -3, 0, 2, 2, 1, -5, 1]);
    let abs = insert(&[6.0, 3.0, 3.0, 2.0, 4.0, 5.0, 1.0], 11, &fwd, false);
    assert_eq!(
        abs,
        vec![6.0, 3.0, 0.0, 3.0, 0.0, 0.0, 2.0, 4.0, 5.0, 0.0, 1.0]
    );
    // Decreasing a bucket is a reset.
    let mut lower = b_deltas;
    lower[0] = 5;
    assert!(expand_spans_and_buckets(&a, &b, &a_deltas, &lower, true).is_none());
}

#[test]
fn backward_inserts_and_span_adjustment() {
    // The chunk has 0 1 2 (1 empty); the histogram has 0 2 plus a new bucket 5.
    let a = [span(0, 3)];
    let b = [span(0, 1), span(1, 1), span(2, 1)];
    let (fwd, back) =
        expand_spans_and_buckets(&a, &b, &[1.0, 0.0, 2.0], &[2.0, 3.0, 1.0], false).unwrap();
    assert_eq!(
        fwd,
        vec![Insert {
            pos: 3,
            num: 1,
            bucket_idx: 5
        }]
    );
    assert_eq!(
        back,
        vec![Insert {
            pos: 1,
            num: 1,
            bucket_idx: 1
        }]
    );
    let adjusted = adjust_for_inserts(&b, &back);
    assert_eq!(adjusted, vec![span(0, 3), span(2, 1)]);
    assert_eq!(
        insert(&[2.0, 3.0, 1.0], 4, &back, false),
        vec![2.0, 0.0, 3.0, 1.0]
    );
    // Omitting a bucket that holds observations is not allowed.
    assert!(expand_spans_and_buckets(&a, &b, &[1.0, 1.0, 2.0], &[2.0, 3.0, 1.0], false).is_none());
}

#[test]
fn both_ways_merges_layouts() {
    let (fwd, back, merged) = expand_spans_both_ways(&[span(0, 2)], &[span(-1, 1), span(2, 1)]);
    assert_eq!(merged, vec![span(-1, 4)]);
    assert_eq!(indices(&merged), vec![-1, 0, 1, 2]);
    // a gets -1 before position 0 and 2 at the end; b gets 0 and 1 before its position 1.
    assert_eq!(
        fwd.iter().map(|i| (i.pos, i.num)).collect::<Vec<_>>(),
        vec![(0, 1), (2, 1)]
    );
    assert_eq!(
        back.iter().map(|i| (i.pos, i.num)).collect::<Vec<_>>(),
        vec![(1, 2)]
    );
}

#[test]
fn inserts_at_the_end_and_spans_matching() {
    assert_eq!(
        insert(
            &[3i64, 1],
            4,
            &[Insert {
                pos: 2,
                num: 2,
                bucket_idx: 0
            }],
            true
        ),
        vec![3, 1, -4, 0]
    );
    assert!(spans_match(&[span(0, 2)], &[span(0, 2), span(3, 0)]));
    assert!(spans_match(&[span(1, 0), span(2, 2)], &[span(3, 2)]));
    assert!(!spans_match(&[span(0, 2)], &[span(1, 2)]));
    assert!(spans_match(&[], &[span(5, 0)]));
}
