//! `openapi.yaml` is faithful to HeyGen's official per-operation schemas
//! (`tests/fixtures/official-schemas.json`, their facts only; `scripts/official-facts.py`
//! rebuilds it), for every operation both describe:
//! - every field of the official response is present;
//! - nothing is stricter: no required field the official schema does not require, nullable
//!   wherever it is nullable, a type at least as wide, every documented enum value accepted;
//! - every field of the official request can be sent, in each of its alternatives (`oneOf`).
//!
//! Property names are facts even when they are `title` or `description`: the fixture drops
//! only annotations, never properties.

use std::collections::BTreeSet;

use heygen_api::contract::Spec;
use serde_json::Value;

const OFFICIAL: &str = include_str!("../fixtures/official-schemas.json");

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
    // Alternatives: every one of them must be expressible with ours, compared with our
    // alternative that shares the most of its fields (or with ours whole, where the spec
    // merged them into one object).
    let my_members: Vec<&Value> = mine_resolved
        .get("oneOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .collect();
    for (i, member) in theirs
        .get("oneOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let names = |schema: &Value| -> BTreeSet<String> {
            schema
                .get("properties")
                .and_then(Value::as_object)
                .map(|p| p.keys().cloned().collect())
                .unwrap_or_default()
        };
        let theirs_names = names(member);
        let closest = my_members
            .iter()
            .max_by_key(|mine| {
                names(ours.resolve(mine))
                    .intersection(&theirs_names)
                    .count()
            })
            .copied()
            .unwrap_or(mine);
        let at = format!("{at}<alternative {i}>");
        compare(ours, member, closest, &at, response, out);
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

/// Every way `doc` (the spec as JSON) is narrower than the official schemas, and how many
/// operations both describe.
fn differences(doc: Value) -> (Vec<String>, usize) {
    let ours = Ours { doc };
    let official: Value = serde_json::from_str(OFFICIAL).unwrap();
    let mut problems = Vec::new();
    let mut compared = 0;
    let paths = ours.doc["paths"].as_object().unwrap().clone();
    for (path, item) in &paths {
        for (method, operation) in item.as_object().unwrap() {
            let Some(id) = operation.get("operationId").and_then(Value::as_str) else {
                continue; // `parameters` shared by the path's operations
            };
            let Some(theirs) = official["ops"].as_array().unwrap().iter().find(|o| {
                o["path"] == path.as_str() && o["method"] == method.to_uppercase().as_str()
            }) else {
                continue;
            };
            compared += 1;
            let response = operation.pointer("/responses/200/content/application~1json/schema");
            if let (Some(mine), true) = (response, theirs["response"].is_object()) {
                let at = format!("{id} response");
                compare(&ours, &theirs["response"], mine, &at, true, &mut problems);
            }
            if theirs["request"].is_object() {
                // The official CLI describes an upload's form as a JSON object; ours is the
                // multipart form HeyGen takes. Their fields are compared all the same.
                let body = ["application~1json", "multipart~1form-data"]
                    .iter()
                    .find_map(|media| {
                        operation.pointer(&format!("/requestBody/content/{media}/schema"))
                    });
                match body {
                    Some(mine) => {
                        let at = format!("{id} request");
                        compare(&ours, &theirs["request"], mine, &at, false, &mut problems);
                    }
                    None => problems.push(format!(
                        "{id}: the official operation takes a JSON body, ours none"
                    )),
                }
            }
        }
    }
    (problems, compared)
}

fn our_spec() -> Value {
    serde_json::to_value(Spec::get().unwrap().document()).unwrap()
}

#[test]
fn the_spec_is_faithful_to_the_official_schemas() {
    let (problems, compared) = differences(our_spec());
    assert_eq!(compared, 85, "operations compared");
    assert!(
        problems.is_empty(),
        "{} differences from the official schemas:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// The check itself: properties named like the annotations it ignores (`title`,
/// `description`) are seen, in requests, responses and each alternative of a `oneOf`.
#[test]
fn the_check_sees_a_property_named_title_go_missing() {
    for (schema, pointer, expected) in [
        (
            "VideoBatch",
            "/components/schemas/VideoBatch/properties",
            "get_video_batch response.data.title: response field missing",
        ),
        (
            "CreateVideoFromStudio",
            "/components/schemas/CreateVideoFromStudio/properties",
            "create_video request<alternative 3>.title: request field missing",
        ),
        (
            "DirectUploadBatchRequest",
            "/components/schemas/DirectUploadBatchRequest/properties",
            "create_direct_upload_batch request.title: request field missing",
        ),
    ] {
        let mut doc = our_spec();
        let removed = doc
            .pointer_mut(pointer)
            .and_then(Value::as_object_mut)
            .and_then(|properties| properties.remove("title"));
        assert!(removed.is_some(), "{schema} has no `title` to remove");
        let (problems, _) = differences(doc);
        assert!(
            problems.iter().any(|p| p == expected),
            "{schema} without `title` went unseen: {problems:?}"
        );
    }
}
