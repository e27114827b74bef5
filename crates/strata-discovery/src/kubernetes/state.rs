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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use serde_json::json;

    use super::*;

    fn obj(kind: Kind, v: serde_json::Value) -> Object {
        Object::decode(kind, v).unwrap()
    }

    fn owned_pod(name: &str, owner_kind: &str, owner: &str) -> Object {
        obj(
            Kind::Pod,
            json!({
                "metadata": {"name": name, "namespace": "default", "uid": "pod123",
                    "ownerReferences": [{"kind": owner_kind, "name": owner, "controller": true}]},
                "spec": {"nodeName": "testnode", "containers": [{"name": "c", "image": "i"}]},
                "status": {"podIP": "1.2.3.4", "phase": "Running"}
            }),
        )
    }

    fn owned(kind: Kind, name: &str, owner_kind: &str, owner: &str) -> Object {
        obj(
            kind,
            json!({"metadata": {"name": name, "namespace": "default",
                "ownerReferences": [{"kind": owner_kind, "name": owner, "controller": true}]}}),
        )
    }

    fn namespace(labels: serde_json::Value) -> Object {
        obj(
            Kind::Namespace,
            json!({"metadata": {"name": "default", "labels": labels}}),
        )
    }

    fn replace(kind: Kind, objects: Vec<Object>) -> WatchEvent {
        WatchEvent::Replace {
            kind,
            namespace: String::new(),
            objects,
        }
    }

    /// Prometheus' TestPodDiscoveryWithDeployment, …WithCronJob and
    /// …WithUpdatedNamespaceMetadata, through the dependency tracking.
    #[test]
    fn pod_metadata_from_owners_and_namespace() {
        let attach = AttachMetadata {
            namespace: true,
            deployment: true,
            job: true,
            cronjob: true,
            ..AttachMetadata::default()
        };
        let kinds = roles::watched_kinds(KubernetesRole::Pod, &attach);
        assert_eq!(
            kinds,
            vec![Kind::Pod, Kind::Namespace, Kind::ReplicaSet, Kind::Job]
        );
        let scopes: Vec<(Kind, String)> = kinds.iter().map(|k| (*k, String::new())).collect();
        let mut s = State::new(KubernetesRole::Pod, attach, &scopes);
        s.apply(replace(
            Kind::Pod,
            vec![
                owned_pod("rspod", "ReplicaSet", "testdeployment-rs-abc"),
                owned_pod("jobpod", "Job", "testcronjob-job-abc"),
            ],
        ));
        s.apply(replace(
            Kind::ReplicaSet,
            vec![owned(
                Kind::ReplicaSet,
                "testdeployment-rs-abc",
                "Deployment",
                "testdeployment",
            )],
        ));
        s.apply(replace(
            Kind::Namespace,
            vec![namespace(json!({"app": "web"}))],
        ));
        assert!(s.flush().is_empty(), "jobs have not been listed yet");
        s.apply(replace(
            Kind::Job,
            vec![owned(
                Kind::Job,
                "testcronjob-job-abc",
                "CronJob",
                "testcronjob",
            )],
        ));
        let groups = s.flush();
        assert_eq!(groups.len(), 2);
        let by_source =
            |gs: &[TargetGroup], src: &str| gs.iter().find(|g| g.source == src).cloned().unwrap();
        let rs = by_source(&groups, "pod/default/rspod");
        assert_eq!(
            rs.labels["__meta_kubernetes_pod_deployment_name"],
            "testdeployment"
        );
        assert_eq!(
            rs.labels["__meta_kubernetes_pod_controller_kind"],
            "ReplicaSet"
        );
        assert_eq!(rs.labels["__meta_kubernetes_namespace_label_app"], "web");
        let job = by_source(&groups, "pod/default/jobpod");
        assert_eq!(
            job.labels["__meta_kubernetes_pod_job_name"],
            "testcronjob-job-abc"
        );
        assert_eq!(
            job.labels["__meta_kubernetes_pod_cronjob_name"],
            "testcronjob"
        );
        assert!(
            !job.labels
                .contains_key("__meta_kubernetes_pod_deployment_name")
        );

        // A namespace update rebuilds every pod in it.
        s.apply(WatchEvent::Apply(
            Kind::Namespace,
            namespace(json!({"app": "api"})),
        ));
        let groups = s.flush();
        assert_eq!(groups.len(), 2);
        assert!(
            groups
                .iter()
                .all(|g| g.labels["__meta_kubernetes_namespace_label_app"] == "api")
        );

        // A replica set change rebuilds its pods only.
        s.apply(WatchEvent::Apply(
            Kind::ReplicaSet,
            owned(
                Kind::ReplicaSet,
                "testdeployment-rs-abc",
                "Deployment",
                "renamed",
            ),
        ));
        let groups = s.flush();
        assert_eq!(groups.len(), 1);
        assert_eq!(
            groups[0].labels["__meta_kubernetes_pod_deployment_name"],
            "renamed"
        );

        // Deleting the pod sends its empty group.
        s.apply(WatchEvent::Delete(
            Kind::Pod,
            owned_pod("rspod", "ReplicaSet", "testdeployment-rs-abc"),
        ));
        assert_eq!(s.flush(), vec![TargetGroup::empty("pod/default/rspod")]);
    }
}
