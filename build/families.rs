//! Families of operations, each behind a Cargo feature of the same name.
//!
//! An operation belongs to the family its `x-heygen-family` names, else to its first tag's
//! `x-heygen-family`, else to no family: the always-built core. Before anything is generated,
//! the operations of families that are not enabled are removed from the spec, with every
//! component schema only they reach, and every tag left without operations. The client, the
//! typed layer, the CLI's commands, the embedded copy of the spec and the simulator all read
//! the pruned spec, so a family turned off leaves nothing behind.

use std::collections::BTreeSet;

use serde_json::Value;

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// The family of the operation `op` (of a spec whose tags are `spec["tags"]`).
pub fn of(spec: &Value, op: &Value) -> Option<String> {
    if let Some(family) = op.get("x-heygen-family").and_then(Value::as_str) {
        return Some(family.to_string());
    }
    let tag = op.pointer("/tags/0").and_then(Value::as_str)?;
    spec.get("tags")
        .and_then(Value::as_array)?
        .iter()
        .find(|t| t.get("name").and_then(Value::as_str) == Some(tag))?
        .get("x-heygen-family")
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// Every family the spec names (the tests check each is a Cargo feature).
#[allow(dead_code)]
pub fn named(spec: &Value) -> BTreeSet<String> {
    let mut families = BTreeSet::new();
    for (_, _, op) in operations(spec) {
        families.extend(of(spec, op));
    }
    families
}

/// The Cargo feature's environment variable, as cargo sets it for build scripts.
pub fn feature_variable(family: &str) -> String {
    format!(
        "CARGO_FEATURE_{}",
        family.to_ascii_uppercase().replace('-', "_")
    )
}

/// Every operation of the spec: its path, its method and itself.
fn operations(spec: &Value) -> Vec<(String, &'static str, &Value)> {
    let mut ops = Vec::new();
    for (path, item) in spec
        .get("paths")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        for method in METHODS {
            if let Some(op) = item.get(method) {
                ops.push((path.clone(), method, op));
            }
        }
    }
    ops
}

/// Removes from `spec` the operations of the families `enabled` refuses, the component
/// schemas that only they reached, and the tags they leave empty. Returns the removed
/// operations' ids.
pub fn prune(spec: &mut Value, enabled: &dyn Fn(&str) -> bool) -> Vec<String> {
    let before = reachable(spec);
    let mut removed = Vec::new();
    let mut doomed: Vec<(String, &'static str)> = Vec::new();
    for (path, method, op) in operations(spec) {
        if of(spec, op).is_some_and(|family| !enabled(&family)) {
            doomed.push((path, method));
            removed.extend(
                op.get("operationId")
                    .and_then(Value::as_str)
                    .map(str::to_string),
            );
        }
    }
    if doomed.is_empty() {
        return removed;
    }
    if let Some(paths) = spec.get_mut("paths").and_then(Value::as_object_mut) {
        for (path, method) in &doomed {
            if let Some(item) = paths.get_mut(path).and_then(Value::as_object_mut) {
                item.remove(*method);
                if !METHODS.iter().any(|m| item.contains_key(*m)) {
                    paths.remove(path);
                }
            }
        }
    }
    // Schemas the removed operations alone reached go too; the others stay, referred to
    // or not (handwritten code may name them).
    let after = reachable(spec);
    if let Some(schemas) = spec
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        for name in before.difference(&after) {
            schemas.remove(name);
        }
    }
    let used: BTreeSet<String> = operations(spec)
        .iter()
        .filter_map(|(_, _, op)| op.pointer("/tags/0").and_then(Value::as_str))
        .map(str::to_string)
        .collect();
    if let Some(tags) = spec.get_mut("tags").and_then(Value::as_array_mut) {
        tags.retain(|t| {
            t.get("name")
                .and_then(Value::as_str)
                .is_some_and(|n| used.contains(n))
        });
    }
    removed
}

/// The component schemas the paths reach, through every `$ref` (components included).
fn reachable(spec: &Value) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut pending: Vec<&Value> = spec.get("paths").into_iter().collect();
    while let Some(value) = pending.pop() {
        match value {
            Value::Object(map) => {
                for (key, member) in map {
                    if key == "$ref" {
                        if let Some(target) = member.as_str() {
                            let pointer = target.trim_start_matches('#');
                            if let Some(name) = pointer.strip_prefix("/components/schemas/") {
                                if !seen.insert(name.to_string()) {
                                    continue;
                                }
                            }
                            if let Some(found) = spec.pointer(pointer) {
                                pending.push(found);
                            }
                        }
                    } else {
                        pending.push(member);
                    }
                }
            }
            Value::Array(items) => pending.extend(items),
            _ => {}
        }
    }
    seen
}
