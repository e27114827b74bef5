//! The state of one Kubernetes discovery: the cache, which primary objects need their
//! group rebuilt after a change (Prometheus' event handlers and indexes), and whether
//! every watcher has delivered its first list (Prometheus' `WaitForCacheSync`).

use std::collections::{BTreeSet, HashSet};

use strata_config::discovery::kubernetes::{AttachMetadata, KubernetesRole};

use super::cache::{Cache, Kind, Object};
use super::roles::{self, Ctx, Referenced};
use super::watch::WatchEvent;
use crate::TargetGroup;

pub(crate) struct State {
    role: KubernetesRole,
    attach: AttachMetadata,
    cache: Cache,
    /// Primary keys whose group must be rebuilt.
    dirty: BTreeSet<String>,
    /// Watchers (kind, namespace) that have not listed yet.
    unsynced: HashSet<(Kind, String)>,
}

impl State {
    pub fn new(role: KubernetesRole, attach: AttachMetadata, watchers: &[(Kind, String)]) -> Self {
        State {
            role,
            attach,
            cache: Cache::default(),
            dirty: BTreeSet::new(),
            unsynced: watchers.iter().cloned().collect(),
        }
    }

    pub fn synced(&self) -> bool {
        self.unsynced.is_empty()
    }

    pub fn apply(&mut self, ev: WatchEvent) {
        match ev {
            WatchEvent::Apply(kind, obj) => {
                let key = obj.meta().key();
                let old = self.cache.insert(obj);
                self.changed(kind, &key, old.as_ref(), true);
            }
            WatchEvent::Delete(kind, obj) => {
                let key = obj.meta().key();
                let old = self.cache.remove(kind, &key);
                self.changed(kind, &key, old.as_ref(), false);
            }
            WatchEvent::Replace {
                kind,
                namespace,
                objects,
            } => {
                let mut gone: BTreeSet<String> =
                    self.cache.keys(kind, &namespace).into_iter().collect();
                for obj in objects {
                    let key = obj.meta().key();
                    gone.remove(&key);
                    let old = self.cache.insert(obj.clone());
                    if old.as_ref() != Some(&obj) {
                        self.changed(kind, &key, old.as_ref(), true);
                    }
                }
                for key in gone {
                    let old = self.cache.remove(kind, &key);
                    self.changed(kind, &key, old.as_ref(), false);
                }
                self.unsynced.remove(&(kind, namespace));
            }
        }
    }

    /// Marks what depends on the object of `kind` at `key` (`old` is what was cached
    /// before; `exists` whether it is cached now).
    fn changed(&mut self, kind: Kind, key: &str, old: Option<&Object>, exists: bool) {
        use KubernetesRole as R;
        let primary = roles::primary_kind(self.role);
        let c = &self.cache;
        let dependents: Vec<String> = match (self.role, kind) {
            (_, k) if k == primary => vec![key.to_owned()],
            (R::Pod, Kind::Node) => c
                .pods
                .iter()
                .filter(|(_, p)| p.spec.node_name == key)
                .map(|(k, _)| k.clone())
                .collect(),
            (R::Endpoints, Kind::Node) => roles::endpoints_referencing(c, Referenced::Node(key)),
            (R::EndpointSlice, Kind::Node) => roles::slices_referencing(c, Referenced::Node(key)),
            // Namespaces matter on update only, as in Prometheus.
            (_, Kind::Namespace) if old.is_some() && exists => c.keys(primary, key),
            (R::Pod, Kind::ReplicaSet | Kind::Job) => {
                let (ns, name) = key.split_once('/').unwrap_or(("", key));
                let owner_kind = if kind == Kind::Job {
                    "Job"
                } else {
                    "ReplicaSet"
                };
                c.pods
                    .iter()
                    .filter(|(_, p)| {
                        p.metadata.namespace == ns
                            && p.metadata
                                .controller()
                                .is_some_and(|o| o.kind == owner_kind && o.name == name)
                    })
                    .map(|(k, _)| k.clone())
                    .collect()
            }
            (R::Endpoints, Kind::Service) if c.endpoints.contains_key(key) => vec![key.to_owned()],
            (R::EndpointSlice, Kind::Service) => roles::slices_of_service(c, key),
            // Endpoints follow pod phase changes only.
            (R::Endpoints, Kind::Pod) => {
                let old_phase = match old {
                    Some(Object::Pod(p)) => Some(p.status.phase.as_str()),
                    _ => None,
                };
                let new_phase = c.pods.get(key).map(|p| p.status.phase.as_str());
                match (old_phase, new_phase) {
                    (Some(a), Some(b)) if a != b => {
                        roles::endpoints_referencing(c, Referenced::Pod(key))
                    }
                    _ => Vec::new(),
                }
            }
            _ => Vec::new(),
        };
        self.dirty.extend(dependents);
    }

    /// The groups of every changed primary object, once all watchers have listed.
    pub fn flush(&mut self) -> Vec<TargetGroup> {
        if !self.synced() {
            return Vec::new();
        }
        let ctx = Ctx {
            cache: &self.cache,
            role: self.role,
            attach: &self.attach,
        };
        std::mem::take(&mut self.dirty)
            .iter()
            .filter_map(|key| roles::build(&ctx, key))
            .collect()
    }
}
