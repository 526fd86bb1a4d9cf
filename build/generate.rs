//! Spec checks and code generation, shared by `build.rs` and the build-script tests.
//! The typed layer over the generated client comes from `typed_layer.rs` beside this file.

use std::path::Path;

use progenitor::{GenerationSettings, Generator, InterfaceStyle, TagStyle, TypeImpl};

/// Schemas replaced by handwritten types: the server-controlled enums (open, with `Unknown`),
/// the file-input union, the error body, the validated request bodies and the idempotency
/// key (checked by hand, instead of one generated newtype per operation, each with a regex).
const REPLACEMENTS: &[(&str, &str)] = &[
    ("CreateSessionStatus", "crate::types::SessionStatus"),
    ("SessionStatus", "crate::types::SessionStatus"),
    ("VideoStatus", "crate::types::VideoStatus"),
    ("MessageType", "crate::types::MessageType"),
    ("WebhookEventType", "crate::webhook::EventType"),
    ("EndpointStatus", "crate::types::EndpointStatus"),
    ("WebhookEndpoint", "crate::types::WebhookEndpoint"),
    ("RotatedSecret", "crate::types::RotatedSecret"),
    ("FileInput", "crate::types::FileInput"),
    ("ApiError", "crate::api::error::ApiError"),
    ("IdempotencyKey", "crate::types::IdempotencyKey"),
    (
        "CreateVideoAgentRequest",
        "crate::api::bodies::CreateVideoAgentRequest",
    ),
    ("AgentMode", "crate::types::AgentMode"),
    ("Orientation", "crate::types::Orientation"),
    (
        "SendMessageRequest",
        "crate::api::bodies::SendMessageRequest",
    ),
    (
        "CreateVideoRequest",
        "crate::api::bodies::CreateVideoRequest",
    ),
];

/// Adds to `out` the name every `$ref` within `value` points to (its last segment), at any
/// depth.
fn refs(value: &serde_json::Value, out: &mut Vec<String>) {
    use serde_json::Value;
    match value {
        Value::Object(members) => {
            if let Some(name) = members
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.rsplit('/').next())
            {
                out.push(name.to_string());
            }
            members.values().for_each(|member| refs(member, out));
        }
        Value::Array(items) => items.iter().for_each(|item| refs(item, out)),
        _ => {}
    }
}

/// Removes the `default` of every schema a request is made of (its parameters, its body, and
/// every schema they refer to), so that the generated types hold `None` for a member nobody
/// set and send nothing for it. Schemas only answered keep theirs: a member HeyGen leaves out
/// of an answer reads as its default.
fn strip_request_defaults(spec: &mut serde_json::Value) {
    use serde_json::Value;
    // What requests are made of: every operation's parameters and body.
    let mut todo = Vec::new();
    for item in spec
        .get("paths")
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|paths| paths.values())
        .filter_map(Value::as_object)
    {
        for (name, part) in item {
            if name == "parameters" {
                refs(part, &mut todo);
            } else if let Some(op) = part.as_object() {
                for key in ["parameters", "requestBody"] {
                    if let Some(found) = op.get(key) {
                        refs(found, &mut todo);
                    }
                }
            }
        }
    }
    // ... and every schema or parameter they refer to, however deep.
    let mut names = std::collections::BTreeSet::new();
    while let Some(name) = todo.pop() {
        if !names.insert(name.clone()) {
            continue;
        }
        for section in ["schemas", "parameters", "requestBodies"] {
            if let Some(found) = spec.pointer(&format!("/components/{section}/{name}")) {
                refs(found, &mut todo);
            }
        }
    }
    if let Some(paths) = spec.get_mut("paths").and_then(Value::as_object_mut) {
        for item in paths.values_mut().filter_map(Value::as_object_mut) {
            for (name, part) in item.iter_mut() {
                if name == "parameters" {
                    strip_defaults(part);
                } else if let Some(op) = part.as_object_mut() {
                    for key in ["parameters", "requestBody"] {
                        if let Some(found) = op.get_mut(key) {
                            strip_defaults(found);
                        }
                    }
                }
            }
        }
    }
    for name in &names {
        for section in ["schemas", "parameters", "requestBodies"] {
            if let Some(found) = spec.pointer_mut(&format!("/components/{section}/{name}")) {
                strip_defaults(found);
            }
        }
    }
}

/// Removes the component schemas that only the replaced schemas (`REPLACEMENTS`) refer to,
/// such as the alternatives of a handwritten union: nothing else names them, and generated
/// they would be public types beside the handwritten ones that stand for them.
fn drop_replaced_parts(spec: &mut serde_json::Value, replaced: &std::collections::BTreeSet<&str>) {
    use serde_json::Value;
    let Some(schemas) = spec
        .pointer("/components/schemas")
        .and_then(Value::as_object)
    else {
        return;
    };
    let closure = |mut todo: Vec<String>| {
        let mut seen = std::collections::BTreeSet::new();
        while let Some(name) = todo.pop() {
            if replaced.contains(name.as_str()) || !seen.insert(name.clone()) {
                continue;
            }
            if let Some(schema) = schemas.get(&name) {
                refs(schema, &mut todo);
            }
        }
        seen
    };
    // What the replaced schemas are made of...
    let mut parts = Vec::new();
    for name in replaced {
        if let Some(schema) = schemas.get(*name) {
            refs(schema, &mut parts);
        }
    }
    let parts = closure(parts);
    // ... and what everything else reaches: the operations and every other schema.
    let mut roots = Vec::new();
    if let Some(paths) = spec.get("paths") {
        refs(paths, &mut roots);
    }
    roots.extend(
        schemas
            .keys()
            .filter(|name| !parts.contains(*name) && !replaced.contains(name.as_str()))
            .cloned(),
    );
    let kept = closure(roots);
    let unused: Vec<String> = parts.difference(&kept).cloned().collect();
    if let Some(schemas) = spec
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        for name in unused {
            schemas.remove(&name);
        }
    }
}

/// Gives a member that is only a reference (`$ref`) the description of the schema it refers
/// to, as a one-item `allOf` (a `$ref`'s siblings are ignored), so its field has a doc.
fn describe_references(spec: &mut serde_json::Value) {
    use serde_json::Value;
    fn walk(value: &mut Value, descriptions: &std::collections::BTreeMap<String, Value>) {
        match value {
            Value::Object(members) => {
                if let Some(Value::Object(properties)) = members.get_mut("properties") {
                    for member in properties.values_mut() {
                        let target = member
                            .as_object()
                            .filter(|m| m.len() == 1)
                            .and_then(|m| m.get("$ref"))
                            .and_then(Value::as_str)
                            .and_then(|r| r.strip_prefix("#/components/schemas/"));
                        if let Some(description) = target.and_then(|t| descriptions.get(t)) {
                            let reference = member.clone();
                            *member = serde_json::json!({
                                "allOf": [reference],
                                "description": description,
                            });
                        }
                    }
                }
                members
                    .values_mut()
                    .for_each(|member| walk(member, descriptions));
            }
            Value::Array(items) => items.iter_mut().for_each(|item| walk(item, descriptions)),
            _ => {}
        }
    }
    let descriptions = spec
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .map(|schemas| {
            schemas
                .iter()
                .filter_map(|(name, schema)| {
                    Some((name.clone(), schema.get("description")?.clone()))
                })
                .collect()
        })
        .unwrap_or_default();
    walk(spec, &descriptions);
}

/// Removes every `default` of a schema within `value`.
fn strip_defaults(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(members) => {
            let is_schema = members.contains_key("type")
                || members.contains_key("$ref")
                || members.contains_key("allOf")
                || members.contains_key("enum");
            if is_schema {
                members.remove("default");
            }
            for (name, member) in members.iter_mut() {
                // Examples are data, not schemas.
                if name != "example" && name != "examples" {
                    strip_defaults(member);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(strip_defaults),
        _ => {}
    }
}

/// Generates everything from the spec at `spec_path` into `out_dir`, keeping only the
/// operations of the families `enabled` accepts (and those of no family).
pub fn run(spec_path: &Path, out_dir: &Path, enabled: &dyn Fn(&str) -> bool) -> Result<(), String> {
    let text =
        std::fs::read_to_string(spec_path).map_err(|e| format!("cannot read the spec: {e}"))?;

    let mut value: serde_json::Value =
        serde_norway::from_str(&text).map_err(|e| format!("not valid YAML: {e}"))?;
    let version = value
        .get("openapi")
        .and_then(|v| v.as_str())
        .ok_or("missing the `openapi` version field")?;
    if !version.starts_with("3.0.") {
        return Err(format!(
            "OpenAPI {version} is not supported; the generator reads 3.0.x only"
        ));
    }
    // Every kind of job with its family, before the families turned off are removed.
    let kinds = crate::kinds::families(&value)?;
    crate::families::prune(&mut value, enabled);
    crate::kinds::prune(&mut value);
    write(
        &out_dir.join("kinds.rs"),
        &crate::kinds::source(&value, &kinds)?,
    )?;
    write(
        &out_dir.join("openapi.json"),
        &serde_json::to_string(&value).map_err(|e| e.to_string())?,
    )?;

    // Every other string enum becomes an open enum (see `open_enums.rs`).
    let mut generated = value.clone();
    let handwritten: std::collections::BTreeSet<&str> =
        REPLACEMENTS.iter().map(|(name, _)| *name).collect();
    let enums = crate::open_enums::prepare(&mut generated, &handwritten);
    // Response types keep the members they do not name.
    crate::unknown_fields::keep(&mut generated);
    // A schema's `default` says what HeyGen does when a member is left out; it is not a value
    // to send. Without it, a member the user did not set stays out of the request.
    strip_request_defaults(&mut generated);
    // Schemas only a handwritten type is made of would be generated for nothing.
    drop_replaced_parts(&mut generated, &handwritten);
    write(
        &out_dir.join("open_enums.rs"),
        &crate::open_enums::source(&enums),
    )?;

    let prepared = generated.clone();
    describe_references(&mut generated);
    let mut spec: openapiv3::OpenAPI = serde_json::from_value(generated)
        .map_err(|e| format!("not a valid OpenAPI 3.0 document: {e}"))?;
    check_operation_ids(&spec)?;
    remove_handwritten(&mut spec);

    let mut settings = GenerationSettings::default();
    settings
        .with_interface(InterfaceStyle::Builder)
        .with_tag(TagStyle::Merged)
        .with_inner_type(quote_path("crate::api::client::Shared")?);
    // JSON schemas of the generated types only for contract tests (feature `contract`).
    if std::env::var_os("CARGO_FEATURE_CONTRACT").is_some() {
        settings.with_derive("schemars::JsonSchema");
    }
    for (schema, replacement) in REPLACEMENTS {
        settings.with_replacement(schema, replacement, std::iter::empty::<TypeImpl>());
    }
    for open in &enums {
        settings.with_replacement(
            &open.name,
            format!("crate::types::{}", open.name),
            std::iter::empty::<TypeImpl>(),
        );
    }

    // The typed layer is written from the prepared spec and the generator's type space.
    let mut replaced: std::collections::BTreeMap<String, String> = REPLACEMENTS
        .iter()
        .map(|(schema, path)| (schema.to_string(), path.to_string()))
        .collect();
    for open in &enums {
        replaced.insert(open.name.clone(), format!("crate::types::{}", open.name));
    }
    let mut layer = Ok(String::new());
    let mut client = generate(&settings, &spec, |g, s| {
        let tokens = g.generate_tokens(s)?;
        layer = crate::typed_layer::generate(&prepared, g.get_type_space(), &replaced);
        Ok(tokens)
    })?;
    crate::polish::polish(&mut client);
    write(&out_dir.join("codegen.rs"), &prettyplease::unparse(&client))?;
    write(&out_dir.join("typed_layer.rs"), &layer?)?;
    let mocks = prettyplease::unparse(&generate(&settings, &spec, |g, s| {
        g.httpmock(s, "heygen_api::raw")
    })?);
    // The mocks live in the test crates, where `crate::` is not this crate.
    write(
        &out_dir.join("httpmock.rs"),
        &mocks
            .replace("crate::api::bodies::", "heygen_api::")
            .replace("crate::api::error::", "heygen_api::")
            .replace("crate::", "heygen_api::"),
    )?;
    Ok(())
}

fn quote_path(path: &str) -> Result<proc_macro2::TokenStream, String> {
    path.parse()
        .map_err(|e| format!("invalid Rust path {path}: {e}"))
}

fn write(path: &Path, content: &str) -> Result<(), String> {
    std::fs::write(path, content).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Every operation needs a unique operationId: it becomes the method name.
fn check_operation_ids(spec: &openapiv3::OpenAPI) -> Result<(), String> {
    let mut seen = std::collections::BTreeMap::new();
    for (path, method, op) in spec.operations() {
        let id = op
            .operation_id
            .as_deref()
            .ok_or_else(|| format!("{} {path} has no operationId", method.to_uppercase()))?;
        if let Some(first) =
            seen.insert(id.to_string(), format!("{} {path}", method.to_uppercase()))
        {
            return Err(format!(
                "operationId `{id}` is used twice ({first} and {} {path})",
                method.to_uppercase()
            ));
        }
    }
    Ok(())
}

/// Drops the operations that are implemented by hand (`x-heygen-handwritten: true`).
fn remove_handwritten(spec: &mut openapiv3::OpenAPI) {
    for item in spec.paths.paths.values_mut() {
        let openapiv3::ReferenceOr::Item(item) = item else {
            continue;
        };
        for op in [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.options,
            &mut item.head,
            &mut item.patch,
            &mut item.trace,
        ] {
            let handwritten = op.as_ref().is_some_and(|op| {
                op.extensions
                    .get("x-heygen-handwritten")
                    .and_then(|v| v.as_bool())
                    .unwrap_or(false)
            });
            if handwritten {
                *op = None;
            }
        }
    }
}

/// Runs one generator pass and parses the result. The generator panics on some
/// unsupported constructs; the panic is caught and reported as a spec problem.
fn generate(
    settings: &GenerationSettings,
    spec: &openapiv3::OpenAPI,
    pass: impl FnOnce(
        &mut Generator,
        &openapiv3::OpenAPI,
    ) -> Result<proc_macro2::TokenStream, progenitor::Error>,
) -> Result<syn::File, String> {
    let previous_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut generator = Generator::new(settings);
        pass(&mut generator, spec)
    }));
    std::panic::set_hook(previous_hook);
    let tokens = match outcome {
        Ok(Ok(tokens)) => tokens,
        Ok(Err(e)) => return Err(format!("the generator rejected the spec: {e}")),
        Err(panic) => {
            let reason = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "unknown reason".into());
            return Err(format!(
                "the generator cannot handle the spec ({reason}); common causes: a `default` \
                 response beside a 2xx, two success schemas in one operation, a non-JSON body"
            ));
        }
    };
    syn::parse2(tokens).map_err(|e| format!("generated code does not parse: {e}"))
}
