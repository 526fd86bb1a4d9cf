//! Server-controlled values never break decoding: every string enum of the spec becomes an
//! open enum (a variant per documented value, plus `Unknown(String)`), except the schemas
//! already mapped to a handwritten type.
//!
//! Before generation, enums written inline (a property's `enum`, an item's, a parameter's)
//! are moved into `components/schemas` under a name made from where they stand
//! (`CurrentUser` + `billing_type` → `CurrentUserBillingType`), so that each has a name to
//! replace; a nullable one is referred to as `allOf: [$ref]` with `nullable: true`, which the
//! generator reads as an `Option`. Single-value enums are type tags of a union and stay.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde_json::{json, Map, Value};

/// An enum to generate: its schema name, description and values.
pub struct OpenEnum {
    pub name: String,
    pub description: String,
    pub values: Vec<String>,
}

/// Hoists inline enums into components, then lists every enum component whose name is not in
/// `handwritten`. `spec` is changed in place.
pub fn prepare(spec: &mut Value, handwritten: &BTreeSet<&str>) -> Vec<OpenEnum> {
    let mut hoisted: BTreeMap<String, Value> = BTreeMap::new();
    if let Some(schemas) = spec
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        for (name, schema) in schemas.iter_mut() {
            if !is_enum(schema) {
                walk(schema, name, &mut hoisted);
            }
        }
    }
    if let Some(paths) = spec.get_mut("paths").and_then(Value::as_object_mut) {
        for item in paths.values_mut() {
            let Some(item) = item.as_object_mut() else {
                continue;
            };
            for op in item.values_mut() {
                let Some(id) = op.get("operationId").and_then(Value::as_str) else {
                    continue;
                };
                let owner = camel(id);
                for p in op
                    .get_mut("parameters")
                    .and_then(Value::as_array_mut)
                    .into_iter()
                    .flatten()
                {
                    let name = p
                        .get("name")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string();
                    if let Some(schema) = p.get_mut("schema") {
                        visit(schema, &format!("{owner}{}", camel(&name)), &mut hoisted);
                    }
                }
                if let Some(schema) =
                    op.pointer_mut("/requestBody/content/application~1json/schema")
                {
                    visit(schema, &format!("{owner}Request"), &mut hoisted);
                }
                if let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) {
                    for response in responses.values_mut() {
                        if let Some(schema) =
                            response.pointer_mut("/content/application~1json/schema")
                        {
                            visit(schema, &format!("{owner}Response"), &mut hoisted);
                        }
                    }
                }
            }
        }
    }
    if let Some(schemas) = spec
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        for (name, schema) in hoisted {
            schemas.entry(name).or_insert(schema);
        }
    }
    let mut enums = Vec::new();
    for (name, schema) in spec
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        if is_enum(schema) && !handwritten.contains(name.as_str()) {
            enums.push(OpenEnum {
                name: name.clone(),
                description: schema
                    .get("description")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
                values: schema["enum"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect(),
            });
        }
    }
    enums
}

/// A string enum of two or more values (one value is a union's type tag).
fn is_enum(schema: &Value) -> bool {
    schema.get("type").and_then(Value::as_str) == Some("string")
        && schema
            .get("enum")
            .and_then(Value::as_array)
            .is_some_and(|values| values.len() > 1 && values.iter().all(Value::is_string))
}

/// Replaces `schema` by a reference if it is an inline enum, otherwise looks inside it.
fn visit(schema: &mut Value, name: &str, hoisted: &mut BTreeMap<String, Value>) {
    if is_enum(schema) {
        let mut component = schema.clone();
        let nullable = component
            .as_object_mut()
            .and_then(|c| c.remove("nullable"))
            .and_then(|n| n.as_bool())
            .unwrap_or(false);
        let reference = json!({ "$ref": format!("#/components/schemas/{name}") });
        let description = schema.get("description").cloned();
        hoisted.insert(name.to_string(), component);
        *schema = if nullable {
            let mut wrapper = Map::new();
            wrapper.insert("allOf".into(), json!([reference]));
            wrapper.insert("nullable".into(), json!(true));
            if let Some(description) = description {
                wrapper.insert("description".into(), description);
            }
            Value::Object(wrapper)
        } else {
            reference
        };
        return;
    }
    walk(schema, name, hoisted);
}

/// Visits the properties, items and members of a schema.
fn walk(schema: &mut Value, name: &str, hoisted: &mut BTreeMap<String, Value>) {
    if let Some(properties) = schema.get_mut("properties").and_then(Value::as_object_mut) {
        for (field, property) in properties.iter_mut() {
            visit(property, &format!("{name}{}", camel(field)), hoisted);
        }
    }
    if let Some(items) = schema.get_mut("items") {
        visit(items, &format!("{name}Item"), hoisted);
    }
    if let Some(extra) = schema.get_mut("additionalProperties") {
        if extra.is_object() {
            visit(extra, &format!("{name}Value"), hoisted);
        }
    }
    for key in ["allOf", "oneOf", "anyOf"] {
        for (i, member) in schema
            .get_mut(key)
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
            .enumerate()
        {
            visit(member, &format!("{name}{}", i + 1), hoisted);
        }
    }
}

/// The Rust source of the open enums, for `src/api/types.rs`.
pub fn source(enums: &[OpenEnum]) -> String {
    let mut out = String::from("// Generated by build.rs from openapi.yaml. Do not edit.\n");
    for e in enums {
        let about = if e.description.is_empty() {
            format!("The spec's `{}` values.", e.name)
        } else {
            e.description.clone()
        };
        writeln!(
            out,
            "open_enum! {{\n    #[doc = {about:?}]\n    {} {{",
            e.name
        )
        .ok();
        let mut used = BTreeSet::new();
        for value in &e.values {
            let mut variant = camel(value);
            if variant.is_empty() || variant.starts_with(|c: char| c.is_ascii_digit()) {
                variant = format!("V{variant}");
            }
            while !used.insert(variant.clone()) {
                variant.push('_');
            }
            writeln!(
                out,
                "        #[doc = {:?}]\n        {variant} = {value:?},",
                format!("`{value}`")
            )
            .ok();
        }
        out.push_str("    }\n}\n");
    }
    out
}

/// `billing_type` → `BillingType`; `video-agents` → `VideoAgents`; `16:9` → `16x9`;
/// `video_agent.success` → `VideoAgentSuccess`. Names of types and variants alike.
pub fn camel(text: &str) -> String {
    text.replace(':', "x")
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut c = p.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}
