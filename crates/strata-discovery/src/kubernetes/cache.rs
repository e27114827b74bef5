//! The objects watched by one Kubernetes discovery, by kind and key, and the typed
//! envelope watchers use to hand them over.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;

use super::objects::{EndpointSlice, Endpoints, Ingress, MetaOnly, Node, ObjectMeta, Pod, Service};

/// A kind of object discovery watches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Kind {
    Pod,
    Service,
    Endpoints,
    EndpointSlice,
    Node,
    Namespace,
    ReplicaSet,
    Job,
    Ingress,
}

impl Kind {
    /// The API group path and the plural resource name.
    fn api(self) -> (&'static str, &'static str) {
        match self {
            Kind::Pod => ("/api/v1", "pods"),
            Kind::Service => ("/api/v1", "services"),
            Kind::Endpoints => ("/api/v1", "endpoints"),
            Kind::EndpointSlice => ("/apis/discovery.k8s.io/v1", "endpointslices"),
            Kind::Node => ("/api/v1", "nodes"),
            Kind::Namespace => ("/api/v1", "namespaces"),
            Kind::ReplicaSet => ("/apis/apps/v1", "replicasets"),
            Kind::Job => ("/apis/batch/v1", "jobs"),
            Kind::Ingress => ("/apis/networking.k8s.io/v1", "ingresses"),
        }
    }

    /// Whether objects of this kind live outside namespaces.
    pub fn cluster_scoped(self) -> bool {
        matches!(self, Kind::Node | Kind::Namespace)
    }

    /// The collection path, within `namespace` unless it is empty (all namespaces).
    pub fn path(self, namespace: &str) -> String {
        let (group, plural) = self.api();
        if namespace.is_empty() || self.cluster_scoped() {
            format!("{group}/{plural}")
        } else {
            format!("{group}/namespaces/{namespace}/{plural}")
        }
    }

    pub fn name(self) -> &'static str {
        self.api().1
    }
}

/// A watched object.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Object {
    Pod(Pod),
    Service(Service),
    Endpoints(Endpoints),
    EndpointSlice(EndpointSlice),
    Node(Node),
    Namespace(MetaOnly),
    ReplicaSet(MetaOnly),
    Job(MetaOnly),
    Ingress(Ingress),
}

impl Object {
    pub fn meta(&self) -> &ObjectMeta {
        match self {
            Object::Pod(o) => &o.metadata,
            Object::Service(o) => &o.metadata,
            Object::Endpoints(o) => &o.metadata,
            Object::EndpointSlice(o) => &o.metadata,
            Object::Node(o) => &o.metadata,
            Object::Namespace(o) | Object::ReplicaSet(o) | Object::Job(o) => &o.metadata,
            Object::Ingress(o) => &o.metadata,
        }
    }

    /// Decodes one object of `kind` from JSON.
    pub fn decode(kind: Kind, value: serde_json::Value) -> serde_json::Result<Object> {
        fn de<T: DeserializeOwned>(v: serde_json::Value) -> serde_json::Result<T> {
            serde_json::from_value(v)
        }
        Ok(match kind {
            Kind::Pod => Object::Pod(de(value)?),
            Kind::Service => Object::Service(de(value)?),
            Kind::Endpoints => Object::Endpoints(de(value)?),
            Kind::EndpointSlice => Object::EndpointSlice(de(value)?),
            Kind::Node => Object::Node(de(value)?),
            Kind::Namespace => Object::Namespace(de(value)?),
            Kind::ReplicaSet => Object::ReplicaSet(de(value)?),
            Kind::Job => Object::Job(de(value)?),
            Kind::Ingress => Object::Ingress(de(value)?),
        })
    }
}

/// Every watched object by kind, keyed `namespace/name` (`name` when cluster-scoped).
#[derive(Debug, Default)]
pub(crate) struct Cache {
    pub pods: BTreeMap<String, Pod>,
    pub services: BTreeMap<String, Service>,
    pub endpoints: BTreeMap<String, Endpoints>,
    pub endpoint_slices: BTreeMap<String, EndpointSlice>,
    pub nodes: BTreeMap<String, Node>,
    pub namespaces: BTreeMap<String, MetaOnly>,
    pub replica_sets: BTreeMap<String, MetaOnly>,
    pub jobs: BTreeMap<String, MetaOnly>,
    pub ingresses: BTreeMap<String, Ingress>,
}

impl Cache {
    /// Stores `obj`, returning the previous object with its key.
    pub fn insert(&mut self, obj: Object) -> Option<Object> {
        let key = obj.meta().key();
        match obj {
            Object::Pod(o) => self.pods.insert(key, o).map(Object::Pod),
            Object::Service(o) => self.services.insert(key, o).map(Object::Service),
            Object::Endpoints(o) => self.endpoints.insert(key, o).map(Object::Endpoints),
            Object::EndpointSlice(o) => self
                .endpoint_slices
                .insert(key, o)
                .map(Object::EndpointSlice),
            Object::Node(o) => self.nodes.insert(key, o).map(Object::Node),
            Object::Namespace(o) => self.namespaces.insert(key, o).map(Object::Namespace),
            Object::ReplicaSet(o) => self.replica_sets.insert(key, o).map(Object::ReplicaSet),
            Object::Job(o) => self.jobs.insert(key, o).map(Object::Job),
            Object::Ingress(o) => self.ingresses.insert(key, o).map(Object::Ingress),
        }
    }

    /// Removes the object of `kind` at `key`.
    pub fn remove(&mut self, kind: Kind, key: &str) -> Option<Object> {
        match kind {
            Kind::Pod => self.pods.remove(key).map(Object::Pod),
            Kind::Service => self.services.remove(key).map(Object::Service),
            Kind::Endpoints => self.endpoints.remove(key).map(Object::Endpoints),
            Kind::EndpointSlice => self.endpoint_slices.remove(key).map(Object::EndpointSlice),
            Kind::Node => self.nodes.remove(key).map(Object::Node),
            Kind::Namespace => self.namespaces.remove(key).map(Object::Namespace),
            Kind::ReplicaSet => self.replica_sets.remove(key).map(Object::ReplicaSet),
            Kind::Job => self.jobs.remove(key).map(Object::Job),
            Kind::Ingress => self.ingresses.remove(key).map(Object::Ingress),
        }
    }

    /// The keys of `kind` within `namespace` (all when empty).
    pub fn keys(&self, kind: Kind, namespace: &str) -> Vec<String> {
        fn ks<T>(m: &BTreeMap<String, T>, ns: &str) -> Vec<String> {
            if ns.is_empty() {
                return m.keys().cloned().collect();
            }
            let prefix = format!("{ns}/");
            m.keys()
                .filter(|k| k.starts_with(&prefix))
                .cloned()
                .collect()
        }
        let ns = if kind.cluster_scoped() { "" } else { namespace };
        match kind {
            Kind::Pod => ks(&self.pods, ns),
            Kind::Service => ks(&self.services, ns),
            Kind::Endpoints => ks(&self.endpoints, ns),
            Kind::EndpointSlice => ks(&self.endpoint_slices, ns),
            Kind::Node => ks(&self.nodes, ns),
            Kind::Namespace => ks(&self.namespaces, ns),
            Kind::ReplicaSet => ks(&self.replica_sets, ns),
            Kind::Job => ks(&self.jobs, ns),
            Kind::Ingress => ks(&self.ingresses, ns),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(Kind::Pod.path(""), "/api/v1/pods");
        assert_eq!(Kind::Pod.path("ns1"), "/api/v1/namespaces/ns1/pods");
        assert_eq!(
            Kind::EndpointSlice.path("a"),
            "/apis/discovery.k8s.io/v1/namespaces/a/endpointslices"
        );
        assert_eq!(Kind::Node.path("a"), "/api/v1/nodes");
    }
}
