//! Thanos-compatible hashrings (placeholder; being built).
