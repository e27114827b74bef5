//! Label helpers shared by the roles: sanitised names, object metadata labels, address
//! formatting.

use super::objects::ObjectMeta;
use crate::LabelSet;

pub(crate) const PREFIX: &str = "__meta_kubernetes_";
pub(crate) const NAMESPACE: &str = "__meta_kubernetes_namespace";
pub(crate) const PRESENT: &str = "true";

/// Prometheus' `strutil.SanitizeLabelName`: every character outside `[a-zA-Z0-9_]`
/// becomes `_`.
pub(crate) fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Go's `net.JoinHostPort`: brackets around hosts containing a colon.
pub(crate) fn join_host_port(host: &str, port: impl std::fmt::Display) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

pub(crate) fn set(ls: &mut LabelSet, name: impl Into<String>, value: impl Into<String>) {
    ls.insert(name.into(), value.into());
}

/// `__meta_kubernetes_<resource>_label_<name>` and `_labelpresent_` for every label, and
/// the same for annotations.
pub(crate) fn add_labels_and_annotations(ls: &mut LabelSet, meta: &ObjectMeta, resource: &str) {
    for (k, v) in &meta.labels {
        let n = sanitize(k);
        set(ls, format!("{PREFIX}{resource}_label_{n}"), v.as_str());
        set(ls, format!("{PREFIX}{resource}_labelpresent_{n}"), PRESENT);
    }
    for (k, v) in &meta.annotations {
        let n = sanitize(k);
        set(ls, format!("{PREFIX}{resource}_annotation_{n}"), v.as_str());
        set(
            ls,
            format!("{PREFIX}{resource}_annotationpresent_{n}"),
            PRESENT,
        );
    }
}

/// `__meta_kubernetes_<role>_name` plus the labels and annotations of the object.
pub(crate) fn add_object_meta(ls: &mut LabelSet, meta: &ObjectMeta, role: &str) {
    set(ls, format!("{PREFIX}{role}_name"), meta.name.as_str());
    add_labels_and_annotations(ls, meta, role);
}

/// Merges `other` into `ls` (values of `other` win, as `LabelSet.Merge` does).
pub(crate) fn merge(ls: &mut LabelSet, other: LabelSet) {
    ls.extend(other);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitizes_like_prometheus() {
        assert_eq!(sanitize("app.kubernetes.io/name"), "app_kubernetes_io_name");
        assert_eq!(sanitize("test-label"), "test_label");
        assert_eq!(sanitize("ünï"), "_n_");
        assert_eq!(sanitize("Unschedulable"), "Unschedulable");
    }

    #[test]
    fn joins_host_port() {
        assert_eq!(join_host_port("1.2.3.4", 80), "1.2.3.4:80");
        assert_eq!(join_host_port("2001:db8::1", "80"), "[2001:db8::1]:80");
    }
}
