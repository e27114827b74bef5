//! Thanos' hashring tests (`pkg/receive/hashring_test.go`), with their expectations.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use strata_receive::Error;
use strata_receive::hashring::{
    Algorithm, Endpoint, Hashring, HashringConfig, KetamaRing, TenantMatcherType, build,
    hash_series, hash_series_pairs,
};

use super::{endpoints, ketama, labels, zoned};

/// `(address, az)` pairs.
type Zoned<'a> = &'a [(&'a str, &'a str)];

fn ring_config(tenants: &[&str], addresses: &[&str]) -> HashringConfig {
    HashringConfig {
        tenants: tenants.iter().map(|t| t.to_string()).collect(),
        endpoints: endpoints(addresses),
        ..Default::default()
    }
}

fn glob_config(tenants: &[&str], addresses: &[&str]) -> HashringConfig {
    HashringConfig {
        tenant_matcher_type: TenantMatcherType::Glob,
        ..ring_config(tenants, addresses)
    }
}

/// `TestHashringGet`: tenant routing over hashmod rings, replication factor 3.
#[test]
fn hashring_get() {
    // Thanos' series, with its labels in the (unsorted) order the test gives them.
    let series = [("foo", "bar"), ("baz", "qux")];
    let node123 = ["node1", "node2", "node3"];
    let node456 = ["node4", "node5", "node6"];
    // (case, rings, tenant, acceptable nodes or None for an error)
    type Case<'a> = (&'a str, Vec<HashringConfig>, &'a str, Option<&'a [&'a str]>);
    let cases: Vec<Case<'_>> = vec![
        ("empty", vec![], "tenant1", None),
        (
            "simple",
            vec![ring_config(&[], &["node1"])],
            "",
            Some(&["node1"]),
        ),
        (
            "specific",
            vec![
                ring_config(&["tenant2"], &["node2"]),
                ring_config(&[], &["node1"]),
            ],
            "tenant2",
            Some(&["node2"]),
        ),
        (
            "many tenants",
            vec![
                ring_config(&["tenant1"], &["node1"]),
                ring_config(&["tenant2"], &["node2"]),
                ring_config(&["tenant3"], &["node3"]),
            ],
            "tenant1",
            Some(&["node1"]),
        ),
        (
            "many tenants error",
            vec![
                ring_config(&["tenant1"], &["node1"]),
                ring_config(&["tenant2"], &["node2"]),
                ring_config(&["tenant3"], &["node3"]),
            ],
            "tenant4",
            None,
        ),
        (
            "many nodes",
            vec![
                ring_config(&["tenant1"], &node123),
                ring_config(&[], &node456),
            ],
            "tenant1",
            Some(&node123),
        ),
        (
            "many nodes default",
            vec![
                ring_config(&["tenant1"], &node123),
                ring_config(&[], &node456),
            ],
            "",
            Some(&node456),
        ),
        (
            "glob hashring match",
            vec![
                glob_config(&["prefix*"], &node123),
                ring_config(&[], &node456),
            ],
            "prefix-1",
            Some(&node123),
        ),
        (
            "glob hashring not match",
            vec![
                glob_config(&["prefix*"], &node123),
                ring_config(&[], &node456),
            ],
            "suffix-1",
            Some(&node456),
        ),
        (
            "glob hashring multiple matches",
            vec![
                glob_config(&["t1-*", "t2", "t3-*"], &node123),
                ring_config(&[], &node456),
            ],
            "t2",
            Some(&node123),
        ),
    ];
    for (name, configs, tenant, want) in cases {
        let rings = build(&configs, Algorithm::Hashmod, 3).unwrap();
        let hash = hash_series_pairs(tenant, series);
        let got = rings.get_n_hashed(tenant, hash, 0);
        match want {
            Some(nodes) => {
                let got = got.unwrap_or_else(|e| panic!("case {name:?}: {e}"));
                assert!(
                    nodes.contains(&got.address.as_str()),
                    "case {name:?}: got {got}"
                );
            }
            None => assert!(got.is_err(), "case {name:?}: expected an error"),
        }
    }
}

/// `TestKetamaHashringGet`: 10 sections per endpoint, replication factor `n + 1`.
#[test]
fn ketama_hashring_get() {
    let nginx = labels(&[("pod", "nginx")]);
    let thanos = labels(&[("pod", "thanos")]);
    let cases: &[(&[&str], &_, u64, &str)] = &[
        (&["node-1", "node-2", "node-3"], &nginx, 0, "node-2"),
        (&["node-1", "node-2", "node-3"], &nginx, 1, "node-1"),
        (&["node-1", "node-2", "node-3"], &nginx, 2, "node-3"),
        (&["node-1", "node-3", "node-2"], &nginx, 2, "node-3"),
        (
            &["node-0", "node-1", "node-2", "node-3"],
            &nginx,
            0,
            "node-2",
        ),
        (
            &["node-1", "node-2", "node-3", "node-4"],
            &nginx,
            0,
            "node-2",
        ),
        (&["node-1", "node-2", "node-3"], &thanos, 0, "node-3"),
    ];
    for (nodes, series, n, want) in cases {
        let ring = KetamaRing::with_sections(endpoints(nodes), 10, n + 1).unwrap();
        let got = ring.get_n("tenant", series, *n).unwrap();
        assert_eq!(got.address, *want, "nodes {nodes:?} series {series} n {n}");
    }
}

/// `TestKetamaHashringBadConfigIsRejected`.
#[test]
fn ketama_bad_config_is_rejected() {
    assert!(KetamaRing::with_sections(endpoints(&["node-1"]), 1, 2).is_err());
}

/// `makeSeries`: `pod="nginx-<i>"` for 10000 series, hashed for tenant "tenant".
fn nginx_series() -> Vec<(String, u64)> {
    (0..10_000)
        .map(|i| {
            let value = format!("nginx-{i}");
            let hash = hash_series("tenant", &labels(&[("pod", &value)]));
            (value, hash)
        })
        .collect()
}

/// `assignReplicatedSeries`: node address → the series it holds in any replica.
fn assign(
    series: &[(String, u64)],
    nodes: Vec<Endpoint>,
    rf: u64,
) -> HashMap<String, HashSet<String>> {
    let ring = ketama(nodes, rf);
    let mut out: HashMap<String, HashSet<String>> = HashMap::new();
    for n in 0..rf {
        for (name, hash) in series {
            let e = ring.get_n_hashed("tenant", *hash, n).unwrap();
            out.entry(e.address.clone())
                .or_default()
                .insert(name.clone());
        }
    }
    out
}

/// Asserts that no node of `initial` gets a series it did not hold before the resize.
fn assert_no_new_series_on_initial_nodes(initial: Vec<Endpoint>, resized: Vec<Endpoint>, rf: u64) {
    let series = nginx_series();
    let before = assign(&series, initial.clone(), rf);
    let after = assign(&series, resized, rf);
    for node in &initial {
        let empty = HashSet::new();
        let held = before.get(&node.address).unwrap_or(&empty);
        for s in after.get(&node.address).unwrap_or(&empty) {
            assert!(
                held.contains(s),
                "node {node} got new series {s} after resizing"
            );
        }
    }
}

/// `TestKetamaHashringConsistency`.
#[test]
fn ketama_consistency() {
    let series = nginx_series();
    let a = assign(&series, endpoints(&["node-1", "node-2", "node-3"]), 1);
    let b = assign(&series, endpoints(&["node-1", "node-2", "node-3"]), 1);
    assert_eq!(a, b);
}

/// `TestKetamaHashringIncreaseAtEnd`, `…IncreaseInMiddle`, `…ReplicationConsistency`.
#[test]
fn ketama_resizing_moves_series_only_to_new_nodes() {
    assert_no_new_series_on_initial_nodes(
        endpoints(&["node-1", "node-2", "node-3"]),
        endpoints(&["node-1", "node-2", "node-3", "node-4", "node-5"]),
        1,
    );
    assert_no_new_series_on_initial_nodes(
        endpoints(&["node-1", "node-3"]),
        endpoints(&["node-1", "node-2", "node-3"]),
        1,
    );
    assert_no_new_series_on_initial_nodes(
        endpoints(&["node-1", "node-4", "node-5"]),
        endpoints(&["node-4", "node-3", "node-1", "node-2", "node-5"]),
        2,
    );
}

/// `TestKetamaHashringReplicationConsistencyWithAZs`.
#[test]
fn ketama_resizing_with_azs() {
    let abc = [("a", "1"), ("b", "2"), ("c", "3")];
    let cases: &[(Zoned<'_>, Zoned<'_>, u64)] = &[
        (
            &abc,
            &[("b", "2"), ("c", "3"), ("a", "1"), ("d", "2"), ("e", "4")],
            3,
        ),
        (
            &abc,
            &[
                ("a", "1"),
                ("b", "2"),
                ("c", "3"),
                ("d", "1"),
                ("e", "2"),
                ("f", "3"),
            ],
            3,
        ),
        (
            &abc,
            &[
                ("a", "1"),
                ("b", "2"),
                ("c", "3"),
                ("d", "4"),
                ("e", "5"),
                ("f", "6"),
            ],
            3,
        ),
        (
            &abc,
            &[
                ("a", "1"),
                ("b", "2"),
                ("c", "3"),
                ("d", "4"),
                ("e", "5"),
                ("f", "6"),
            ],
            2,
        ),
        (
            &[("a", "1"), ("c", "2"), ("f", "3")],
            &[("a", "1"), ("b", "1"), ("c", "2"), ("d", "2"), ("f", "3")],
            2,
        ),
    ];
    for (initial, resized, rf) in cases {
        assert_no_new_series_on_initial_nodes(zoned(initial), zoned(resized), *rf);
    }
}

/// `TestKetamaHashringEvenAZSpread`: the replicas of one series cover
/// `min(rf, #AZs)` zones, no zone holding more than one replica above the least used.
#[test]
fn ketama_even_az_spread() {
    let series = labels(&[("foo", "bar")]);
    let cases: &[(Zoned<'_>, u64)] = &[
        (&[("a", "1"), ("b", "2"), ("c", "1"), ("d", "2")], 1),
        (&[("a", ""), ("b", ""), ("c", ""), ("d", "")], 1),
        (&[("a", "1"), ("b", "2"), ("c", "1"), ("d", "2")], 2),
        (
            &[
                ("a", "1"),
                ("b", "2"),
                ("c", "3"),
                ("d", "1"),
                ("e", "2"),
                ("f", "3"),
            ],
            3,
        ),
        (
            &[
                ("a", ""),
                ("b", ""),
                ("c", ""),
                ("d", ""),
                ("e", ""),
                ("f", ""),
                ("g", ""),
            ],
            3,
        ),
        (
            &[
                ("a", "1"),
                ("b", "2"),
                ("c", "3"),
                ("d", "1"),
                ("e", "2"),
                ("f", "3"),
                ("g", "4"),
                ("h", "4"),
                ("i", "4"),
                ("j", "5"),
                ("k", "5"),
                ("l", "5"),
            ],
            10,
        ),
    ];
    for (nodes, rf) in cases {
        let ring = ketama(zoned(nodes), *rf);
        let zones: BTreeSet<&str> = nodes.iter().map(|(_, z)| *z).collect();
        let mut spread: BTreeMap<String, i64> = BTreeMap::new();
        for n in 0..*rf {
            let e = ring.get_n("default-tenant", &series, n).unwrap();
            *spread.entry(e.az.clone()).or_default() += 1;
        }
        assert_eq!(
            spread.len(),
            (*rf as usize).min(zones.len()),
            "{nodes:?} rf {rf}"
        );
        let least = spread.values().copied().min().unwrap();
        assert!(
            spread.values().all(|&c| c - least <= 1),
            "{nodes:?} rf {rf}: {spread:?}"
        );
    }
}

/// `TestKetamaHashringEvenNodeSpread`: every node holds within 10% of its fair share.
#[test]
fn ketama_even_node_spread() {
    let cases: &[(Zoned<'_>, u64, u64)] = &[
        (&[("a", "1"), ("b", "2"), ("c", "1"), ("d", "2")], 2, 1000),
        (&[("a", ""), ("b", ""), ("c", ""), ("d", "")], 2, 1000),
        (
            &[
                ("a", "1"),
                ("b", "2"),
                ("c", "3"),
                ("d", "2"),
                ("e", "1"),
                ("f", "3"),
            ],
            3,
            10000,
        ),
        (NINE, 2, 10000),
        (NINE, 9, 10000),
    ];
    for (nodes, rf, num_series) in cases {
        let ring = ketama(zoned(nodes), *rf);
        let optimal = (num_series * rf) as f64 / nodes.len() as f64;
        let optimal = optimal.trunc();
        let mut spread: HashMap<String, u64> = HashMap::new();
        for i in 0..*num_series {
            let hash = hash_series("default-tenant", &labels(&[("foo", &i.to_string())]));
            for n in 0..*rf {
                let e = ring.get_n_hashed("default-tenant", hash, n).unwrap();
                *spread.entry(e.address.clone()).or_default() += 1;
            }
        }
        for (node, count) in spread {
            let diff = (count as f64 - optimal).abs() / optimal;
            assert!(
                diff < 0.1,
                "{nodes:?} rf {rf}: node {node} has {count}, optimal {optimal}"
            );
        }
    }
}

const NINE: &[(&str, &str)] = &[
    ("a", "1"),
    ("b", "2"),
    ("c", "3"),
    ("d", "2"),
    ("e", "1"),
    ("f", "3"),
    ("g", "1"),
    ("h", "2"),
    ("i", "3"),
];

/// `TestInvalidAZHashringCfg`.
#[test]
fn hashmod_rejects_azs() {
    let configs = [HashringConfig {
        endpoints: zoned(&[("a", "1"), ("b", "2")]),
        ..Default::default()
    }];
    let err = build(&configs, Algorithm::Hashmod, 2).unwrap_err();
    assert!(matches!(err, Error::HashringConfig(_)));
    assert!(
        err.to_string().ends_with(
            "Hashmod algorithm does not support AZ aware hashring configuration. \
             Either use Ketama or remove AZ configuration."
        ),
        "{err}"
    );
}
