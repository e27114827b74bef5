//! Target groups per role, built from the cached objects exactly as Prometheus'
//! `discovery/kubernetes` builds them.

mod endpoints;
mod endpointslice;
mod ingress;
mod node;
mod pod;
mod service;

use strata_config::discovery::kubernetes::{AttachMetadata, KubernetesRole};

use super::cache::{Cache, Kind};
use super::labels::{add_labels_and_annotations, add_object_meta};
use crate::{LabelSet, TargetGroup};

pub(crate) use endpoints::{Referenced, endpoints_referencing};
pub(crate) use endpointslice::{slices_of_service, slices_referencing};

/// What a role builder reads: the cache and which metadata to attach.
pub(crate) struct Ctx<'a> {
    pub cache: &'a Cache,
    pub role: KubernetesRole,
    pub attach: &'a AttachMetadata,
}

impl Ctx<'_> {
    /// Whether node metadata is attached (a node watcher runs): pod, endpoints and
    /// endpointslice roles with `attach_metadata.node`.
    pub fn with_node(&self) -> bool {
        use KubernetesRole::*;
        self.attach.node && matches!(self.role, Pod | Endpoints | EndpointSlice)
    }

    /// Whether namespace metadata is attached (a namespace watcher runs).
    pub fn with_namespace(&self) -> bool {
        self.attach.namespace && self.role != KubernetesRole::Node
    }

    /// Whether replica sets are watched for `__meta_kubernetes_pod_deployment_name`.
    pub fn with_deployment(&self) -> bool {
        use KubernetesRole::*;
        self.attach.deployment && matches!(self.role, Pod | Endpoints | EndpointSlice)
    }

    /// Whether `__meta_kubernetes_pod_job_name` is set.
    pub fn with_job(&self) -> bool {
        use KubernetesRole::*;
        self.attach.job && matches!(self.role, Pod | Endpoints | EndpointSlice)
    }

    /// Whether jobs are watched for `__meta_kubernetes_pod_cronjob_name`.
    pub fn with_cronjob(&self) -> bool {
        use KubernetesRole::*;
        self.attach.cronjob && matches!(self.role, Pod | Endpoints | EndpointSlice)
    }

    /// Prometheus' `addNodeLabels`: the node's name, labels and annotations when the
    /// node is known.
    pub fn add_node_labels(&self, ls: &mut LabelSet, node_name: Option<&str>) {
        if let Some(node) = node_name.and_then(|n| self.cache.nodes.get(n)) {
            add_object_meta(ls, &node.metadata, "node");
        }
    }

    /// Prometheus' `addNamespaceLabels`.
    pub fn add_namespace_labels(&self, ls: &mut LabelSet, namespace: &str) {
        if let Some(ns) = self.cache.namespaces.get(namespace) {
            add_labels_and_annotations(ls, &ns.metadata, "namespace");
        }
    }
}

/// The kinds a discovery of `role` watches, given what metadata it attaches. The first
/// is the role's own kind.
pub(crate) fn watched_kinds(role: KubernetesRole, attach: &AttachMetadata) -> Vec<Kind> {
    use KubernetesRole as R;
    let mut kinds = match role {
        R::Pod => vec![Kind::Pod],
        R::Service => vec![Kind::Service],
        R::Endpoints => vec![Kind::Endpoints, Kind::Service, Kind::Pod],
        R::EndpointSlice => vec![Kind::EndpointSlice, Kind::Service, Kind::Pod],
        R::Node => vec![Kind::Node],
        R::Ingress => vec![Kind::Ingress],
    };
    let cache = Cache::default();
    let ctx = Ctx {
        cache: &cache,
        role,
        attach,
    };
    if ctx.with_node() {
        kinds.push(Kind::Node);
    }
    if ctx.with_namespace() {
        kinds.push(Kind::Namespace);
    }
    if ctx.with_deployment() {
        kinds.push(Kind::ReplicaSet);
    }
    if ctx.with_job() || ctx.with_cronjob() {
        kinds.push(Kind::Job);
    }
    kinds
}

/// The kind whose objects become target groups.
pub(crate) fn primary_kind(role: KubernetesRole) -> Kind {
    watched_kinds(role, &AttachMetadata::default())[0]
}

/// The source of the group of the primary object at `key`.
pub(crate) fn source(role: KubernetesRole, key: &str) -> String {
    let prefix = match role {
        KubernetesRole::Pod => "pod",
        KubernetesRole::Service => "svc",
        KubernetesRole::Endpoints => "endpoints",
        KubernetesRole::EndpointSlice => "endpointslice",
        KubernetesRole::Node => "node",
        KubernetesRole::Ingress => "ingress",
    };
    format!("{prefix}/{key}")
}

/// The group of the primary object at `key`: an empty group when the object is gone;
/// `None` when nothing is to be sent (a node without address, as in Prometheus).
pub(crate) fn build(ctx: &Ctx<'_>, key: &str) -> Option<TargetGroup> {
    let c = ctx.cache;
    let group = match ctx.role {
        KubernetesRole::Pod => c.pods.get(key).map(|o| pod::build_pod(ctx, o)),
        KubernetesRole::Service => c.services.get(key).map(|o| service::build_service(ctx, o)),
        KubernetesRole::Endpoints => c
            .endpoints
            .get(key)
            .map(|o| endpoints::build_endpoints(ctx, o)),
        KubernetesRole::EndpointSlice => c
            .endpoint_slices
            .get(key)
            .map(|o| endpointslice::build_endpoint_slice(ctx, o)),
        KubernetesRole::Node => match c.nodes.get(key) {
            Some(n) => return node::build_node(n),
            None => None,
        },
        KubernetesRole::Ingress => c.ingresses.get(key).map(|o| ingress::build_ingress(ctx, o)),
    };
    Some(group.unwrap_or_else(|| TargetGroup::empty(source(ctx.role, key))))
}

#[cfg(test)]
pub(crate) mod test_util {
    //! Builds label sets from literal pairs.
    use crate::LabelSet;

    pub fn ls(pairs: &[(&str, &str)]) -> LabelSet {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }
}
