//! `openapi.yaml` is faithful to HeyGen's official per-operation schemas
//! (`tests/fixtures/official-schemas.json`, their facts only; `scripts/official-facts.py`
//! rebuilds it), for every operation both describe:
//! - every field of the official response is present;
//! - nothing is stricter: no required field the official schema does not require, nullable
//!   wherever it is nullable, a type at least as wide, every documented enum value accepted;
//! - every field of the official request can be sent.

use std::collections::BTreeSet;

use heygen_api::contract::Spec;
use serde_json::Value;

const OFFICIAL: &str = include_str!("fixtures/official-schemas.json");

/// The spec as JSON, with `$ref`s resolved on demand.
struct Ours {
    doc: Value,
}

impl Ours {
    fn resolve<'a>(&'a self, schema: &'a Value) -> &'a Value {
        let mut schema = schema;
        for _ in 0..16 {
            match schema.get("$ref").and_then(Value::as_str) {
                Some(reference) => {
                    schema = reference
                        .strip_prefix('#')
                        .and_then(|p| self.doc.pointer(p))
                        .unwrap_or_else(|| panic!("unresolved {reference}"));
                }
                None => break,
            }
        }
        schema
    }

    /// The properties of a schema, through `allOf`, `oneOf` and `anyOf` members.
    fn property<'a>(&'a self, schema: &'a Value, name: &str) -> Option<&'a Value> {
        let schema = self.resolve(schema);
        if let Some(p) = schema.pointer(&format!("/properties/{name}")) {
            return Some(p);
        }
        for key in ["allOf", "oneOf", "anyOf"] {
            for member in schema
                .get(key)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(p) = self.property(member, name) {
                    return Some(p);
                }
            }
        }
        None
    }

    fn required(&self, schema: &Value) -> BTreeSet<String> {
        let schema = self.resolve(schema);
        let mut required: BTreeSet<String> = strings(schema.get("required"));
        for member in schema
            .get("allOf")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            required.extend(self.required(member));
        }
        required
    }

    fn accepts_any_properties(&self, schema: &Value) -> bool {
        let schema = self.resolve(schema);
        schema.get("properties").is_none()
            && ["allOf", "oneOf", "anyOf"]
                .iter()
                .all(|k| schema.get(*k).is_none())
            && schema.get("type").and_then(Value::as_str) != Some("array")
    }
}

fn strings(value: Option<&Value>) -> BTreeSet<String> {
    value
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect()
}

fn kind(schema: &Value) -> Option<&str> {
    schema.get("type").and_then(Value::as_str)
}

/// Compares one official schema with ours at `at`, collecting every way ours is narrower.
fn compare(
    ours: &Ours,
    official: &Value,
    mine: &Value,
    at: &str,
    response: bool,
    out: &mut Vec<String>,
) {
    let theirs = official;
    let mine_resolved = ours.resolve(mine);
    let nullable = |s: &Value| s.get("nullable").and_then(Value::as_bool).unwrap_or(false);
    if nullable(theirs) && !nullable(mine_resolved) && !nullable(mine) {
        out.push(format!(
            "{at}: nullable in the official schema, not in ours"
        ));
    }
    match (kind(theirs), kind(mine_resolved)) {
        (Some(a), Some(b)) if a != b && !(a == "integer" && b == "number") => {
            out.push(format!("{at}: official type {a}, ours {b}"));
        }
        _ => {}
    }
    let their_values = strings(theirs.get("enum"));
    let my_values = strings(mine_resolved.get("enum"));
    if !their_values.is_empty() && !my_values.is_empty() {
        let missing: Vec<_> = their_values.difference(&my_values).collect();
        if !missing.is_empty() {
            out.push(format!("{at}: enum lacks the official values {missing:?}"));
        }
    }
    if let Some(items) = theirs.get("items") {
        if let Some(my_items) = mine_resolved.get("items") {
            compare(ours, items, my_items, &format!("{at}[]"), response, out);
        }
    }
    let Some(properties) = theirs.get("properties").and_then(Value::as_object) else {
        return;
    };
    if ours.accepts_any_properties(mine)
        && mine_resolved.get("additionalProperties") != Some(&Value::Bool(false))
    {
        // A free-form object of ours takes any member.
        return;
    }
    let their_required = strings(theirs.get("required"));
    let my_required = ours.required(mine);
    for name in my_required.difference(&their_required) {
        if properties.contains_key(name) || response {
            out.push(format!(
                "{at}: requires `{name}`, the official schema does not"
            ));
        }
    }
    for (name, their_field) in properties {
        let path = format!("{at}.{name}");
        match ours.property(mine, name) {
            Some(my_field) => compare(ours, their_field, my_field, &path, response, out),
            None => out.push(format!(
                "{path}: {} field missing",
                if response { "response" } else { "request" }
            )),
        }
    }
}

#[test]
fn the_spec_is_faithful_to_the_official_schemas() {
    let spec = Spec::get().unwrap();
    let ours = Ours {
        doc: serde_json::to_value(spec.document()).unwrap(),
    };
    let official: Value = serde_json::from_str(OFFICIAL).unwrap();
    let mut problems = Vec::new();
    let mut compared = 0;
    for op in spec.operations() {
        let Some(theirs) = official["ops"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["path"] == op.path.as_str() && o["method"] == op.method.as_str())
        else {
            continue;
        };
        compared += 1;
        let id = &op.id;
        if let Ok(schema) = spec.response_schema(id, 200) {
            let mine = serde_json::to_value(schema).unwrap();
            if theirs["response"].is_object() {
                compare(
                    &ours,
                    &theirs["response"],
                    &mine,
                    &format!("{id} response"),
                    true,
                    &mut problems,
                );
            }
        }
        if theirs["request"].is_object() && !op.handwritten {
            match ours
                .doc
                .pointer(&format!(
                    "/paths/{}/{}/requestBody/content/application~1json/schema",
                    op.path.replace('~', "~0").replace('/', "~1"),
                    op.method.to_lowercase()
                ))
                .cloned()
            {
                Some(mine) => compare(
                    &ours,
                    &theirs["request"],
                    &mine,
                    &format!("{id} request"),
                    false,
                    &mut problems,
                ),
                None => problems.push(format!(
                    "{id}: the official operation takes a JSON body, ours none"
                )),
            }
        }
    }
    assert!(compared >= 19, "only {compared} operations compared");
    assert!(
        problems.is_empty(),
        "{} differences from the official schemas:\n{}",
        problems.len(),
        problems.join("\n")
    );
}
