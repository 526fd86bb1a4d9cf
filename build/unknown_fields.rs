//! Fields HeyGen sends before the spec names them are kept, not dropped.
//!
//! Every object schema that a success response reaches (through `$ref`s, properties, items
//! and alternatives) and that says nothing of `additionalProperties` is given
//! `additionalProperties: {}` before generation (the generator ignores `true`, but turns an
//! equally permissive `{}` into a map). The generator then adds a flattened
//! `extra` map to its type, which holds every member the type does not name, and writes
//! them back when the value is serialized. Request bodies are left alone: their types stay
//! plain to build.

use std::collections::BTreeSet;

use serde_json::Value;

/// Marks the response schemas of `spec` open to unknown members; returns how many it marked.
pub fn keep(spec: &mut Value) -> usize {
    let mut roots = Vec::new();
    if let Some(paths) = spec.get("paths").and_then(Value::as_object) {
        for item in paths.values() {
            for op in item.as_object().into_iter().flat_map(|o| o.values()) {
                let responses = op.get("responses").and_then(Value::as_object);
                for (status, response) in responses.into_iter().flatten() {
                    if status.starts_with('2') {
                        if let Some(schema) = response.pointer("/content/application~1json/schema")
                        {
                            roots.push(schema.clone());
                        }
                    }
                }
            }
        }
    }
    // The component schemas the responses reach, by name.
    let mut named = BTreeSet::new();
    let mut pending: Vec<Value> = roots;
    while let Some(schema) = pending.pop() {
        references(&schema, &mut |name| {
            if named.insert(name.to_string()) {
                if let Some(target) = spec.pointer(&format!("/components/schemas/{name}")) {
                    pending.push(target.clone());
                }
            }
        });
    }
    let mut marked = 0;
    if let Some(schemas) = spec
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        for name in &named {
            if let Some(schema) = schemas.get_mut(name) {
                marked += open(schema);
            }
        }
    }
    // Inline response schemas (not behind a `$ref`).
    if let Some(paths) = spec.get_mut("paths").and_then(Value::as_object_mut) {
        for item in paths.values_mut() {
            for op in item
                .as_object_mut()
                .into_iter()
                .flat_map(|o| o.values_mut())
            {
                let responses = op.get_mut("responses").and_then(Value::as_object_mut);
                for (status, response) in responses.into_iter().flatten() {
                    if status.starts_with('2') {
                        if let Some(schema) =
                            response.pointer_mut("/content/application~1json/schema")
                        {
                            marked += open(schema);
                        }
                    }
                }
            }
        }
    }
    marked
}

/// Calls `found` with the name of every component schema `schema` refers to, at any depth.
fn references(schema: &Value, found: &mut impl FnMut(&str)) {
    match schema {
        Value::Object(map) => {
            if let Some(name) = map
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix("#/components/schemas/"))
            {
                found(name);
            }
            for value in map.values() {
                references(value, found);
            }
        }
        Value::Array(items) => items.iter().for_each(|item| references(item, found)),
        _ => {}
    }
}

/// Opens `schema` and the objects inline in it; stops at `$ref`s (their targets are opened
/// by name). Returns how many objects it opened.
fn open(schema: &mut Value) -> usize {
    let Some(map) = schema.as_object_mut() else {
        return 0;
    };
    if map.contains_key("$ref") {
        return 0;
    }
    let mut opened = 0;
    if map.contains_key("properties") && !map.contains_key("additionalProperties") {
        map.insert(
            "additionalProperties".into(),
            Value::Object(serde_json::Map::new()),
        );
        opened += 1;
    }
    if let Some(properties) = map.get_mut("properties").and_then(Value::as_object_mut) {
        for property in properties.values_mut() {
            opened += open(property);
        }
    }
    if let Some(items) = map.get_mut("items") {
        opened += open(items);
    }
    for key in ["allOf", "oneOf", "anyOf"] {
        if let Some(members) = map.get_mut(key).and_then(Value::as_array_mut) {
            for member in members {
                opened += open(member);
            }
        }
    }
    opened
}
