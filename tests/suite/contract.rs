//! The spec is the contract: it is linted here, and every operation it lists is exercised
//! against a mock server that checks what the client sends and answers with the spec's own
//! examples. The list of operations comes from `openapi.yaml`, so an operation added to the
//! spec without a test here fails the suite.

use std::collections::BTreeSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use heygen_api::contract::openapiv3::{
    OpenAPI, Parameter, ParameterSchemaOrContent, ReferenceOr, StatusCode,
};
use heygen_api::contract::Spec;
use heygen_api::operations::Invocation;
use heygen_api::{
    Client, CreateVideoAgentRequest, Error, FileInput, Orientation, SendMessageRequest,
};
use httpmock::MockServer;
use serde_json::{json, Value};

use crate::common::{client, response_example, without_nulls, KEY};

fn spec() -> &'static Spec {
    Spec::get().expect("the embedded spec parses")
}

// ---------------------------------------------------------------------------------------------
// Lint
// ---------------------------------------------------------------------------------------------

#[test]
fn the_yaml_parses_as_openapi_3_0() {
    let doc: OpenAPI =
        serde_norway::from_str(heygen_api::contract::SPEC_YAML).expect("valid OpenAPI");
    assert!(doc.openapi.starts_with("3.0."), "{}", doc.openapi);
    assert_eq!(spec().yaml(), heygen_api::contract::SPEC_YAML);
    assert_eq!(&doc, spec().document());
}

#[test]
fn operation_ids_are_unique() {
    let ops = spec().operations();
    let ids: BTreeSet<_> = ops.iter().map(|o| o.id.as_str()).collect();
    assert_eq!(ids.len(), ops.len(), "duplicate operationIds in {ops:?}");
    assert!(ops.iter().all(|o| !o.id.is_empty()));
}

#[test]
fn every_operation_has_one_success_schema_and_the_error_envelope() {
    let doc = spec().document();
    for (path, method, op) in doc.operations() {
        let id = op.operation_id.as_deref().unwrap_or(path);
        let successes: Vec<_> = op
            .responses
            .responses
            .keys()
            .filter(|s| matches!(s, StatusCode::Code(200..=299) | StatusCode::Range(2)))
            .collect();
        assert_eq!(successes.len(), 1, "{id}: success responses {successes:?}");
        assert!(
            op.responses.default.is_none(),
            "{id}: `default` breaks the generator"
        );
        for status in [400, 404, 429, 500, 503] {
            let schema = spec()
                .response_schema(id, status)
                .unwrap_or_else(|e| panic!("{id} {status}: {e}"));
            let ReferenceOr::Reference { reference } = schema else {
                panic!("{id} {status}: error schema should reference ErrorEnvelope");
            };
            assert_eq!(
                reference, "#/components/schemas/ErrorEnvelope",
                "{id} {status}"
            );
        }
        if method == "post" {
            let has_key = op.parameters.iter().any(|p| match p {
                ReferenceOr::Reference { reference } => reference.ends_with("/IdempotencyKey"),
                ReferenceOr::Item(p) => p.parameter_data_ref().name == "Idempotency-Key",
            });
            assert!(has_key, "{id}: POST without the Idempotency-Key parameter");
        }
        let rate_limited = match op.responses.responses.get(&StatusCode::Code(429)) {
            Some(ReferenceOr::Item(response)) => response,
            Some(ReferenceOr::Reference { reference }) => doc
                .components
                .as_ref()
                .and_then(|c| {
                    c.responses
                        .get(reference.trim_start_matches("#/components/responses/"))
                })
                .and_then(|r| r.as_item())
                .unwrap_or_else(|| panic!("{id}: unresolved {reference}")),
            None => panic!("{id}: no 429 response"),
        };
        assert!(
            rate_limited.headers.contains_key("Retry-After"),
            "{id}: the 429 response declares no Retry-After header"
        );
    }
}

#[test]
fn every_example_validates_against_its_schema() {
    let doc = spec().document();
    let mut checked = 0;
    let components = doc.components.as_ref().expect("components");
    for (name, schema) in &components.schemas {
        if let ReferenceOr::Item(item) = schema {
            if let Some(example) = &item.schema_data.example {
                spec()
                    .validate_value(schema, example)
                    .unwrap_or_else(|e| panic!("schema {name} example: {e}"));
                checked += 1;
            }
            // Property-level examples.
            if let heygen_api::contract::openapiv3::SchemaKind::Type(
                heygen_api::contract::openapiv3::Type::Object(object),
            ) = &item.schema_kind
            {
                for (prop, prop_schema) in &object.properties {
                    if let ReferenceOr::Item(p) = prop_schema {
                        if let Some(example) = &p.schema_data.example {
                            let as_ref = ReferenceOr::Item((**p).clone());
                            spec()
                                .validate_value(&as_ref, example)
                                .unwrap_or_else(|e| panic!("{name}.{prop} example: {e}"));
                            checked += 1;
                        }
                    }
                }
            }
        }
    }
    for (name, response) in &components.responses {
        if let ReferenceOr::Item(response) = response {
            for media in response.content.values() {
                if let (Some(schema), Some(example)) = (&media.schema, &media.example) {
                    spec()
                        .validate_value(schema, example)
                        .unwrap_or_else(|e| panic!("response {name} example: {e}"));
                    checked += 1;
                }
            }
        }
    }
    for (name, parameter) in &components.parameters {
        if let ReferenceOr::Item(parameter) = parameter {
            let data = parameter.parameter_data_ref();
            if let (ParameterSchemaOrContent::Schema(schema), Some(example)) =
                (&data.format, &data.example)
            {
                spec()
                    .validate_value(schema, example)
                    .unwrap_or_else(|e| panic!("parameter {name} example: {e}"));
                checked += 1;
            }
        }
    }
    for (path, method, op) in doc.operations() {
        let id = op.operation_id.as_deref().unwrap_or(path);
        if let Some(ReferenceOr::Item(body)) = &op.request_body {
            for media in body.content.values() {
                if let (Some(schema), Some(example)) = (&media.schema, &media.example) {
                    spec()
                        .validate_value(schema, example)
                        .unwrap_or_else(|e| panic!("{id} request example: {e}"));
                    checked += 1;
                }
            }
        }
        for (status, response) in &op.responses.responses {
            if let ReferenceOr::Item(response) = response {
                for media in response.content.values() {
                    if let (Some(schema), Some(example)) = (&media.schema, &media.example) {
                        spec()
                            .validate_value(schema, example)
                            .unwrap_or_else(|e| panic!("{method} {path} {status} example: {e}"));
                        checked += 1;
                    }
                }
            }
        }
    }
    assert!(checked >= 40, "only {checked} examples checked");
}

#[test]
fn list_operations_bound_their_page_size() {
    for (path, _, op) in spec().document().operations() {
        for parameter in &op.parameters {
            let ReferenceOr::Item(Parameter::Query { parameter_data, .. }) = parameter else {
                continue;
            };
            if parameter_data.name != "limit" {
                continue;
            }
            let ParameterSchemaOrContent::Schema(schema) = &parameter_data.format else {
                panic!("{path}: limit without schema");
            };
            // Every page size is bounded: at least 1, at most 100 (some lists stop at 50).
            let ReferenceOr::Item(item) = schema else {
                panic!("{path}: limit by reference");
            };
            let heygen_api::contract::openapiv3::SchemaKind::Type(
                heygen_api::contract::openapiv3::Type::Integer(bounds),
            ) = &item.schema_kind
            else {
                panic!("{path}: limit is not an integer");
            };
            let max = bounds
                .maximum
                .unwrap_or_else(|| panic!("{path}: no maximum"));
            assert_eq!(bounds.minimum, Some(1), "{path}");
            assert!((1..=100).contains(&max), "{path}: maximum {max}");
            assert!(spec().validate_value(schema, &json!(1)).is_ok(), "{path}");
            assert!(spec().validate_value(schema, &json!(max)).is_ok(), "{path}");
            assert!(spec().validate_value(schema, &json!(0)).is_err(), "{path}");
            assert!(
                spec().validate_value(schema, &json!(max + 1)).is_err(),
                "{path}"
            );
        }
    }
}

#[test]
fn handwritten_request_schemas_match_the_spec() {
    // The handwritten request types replace the generated ones; check that what they
    // serialize is what the spec accepts, field by field.
    let full = CreateVideoAgentRequest::new("A demo")
        .mode(heygen_api::AgentMode::Chat)
        .avatar_id("av")
        .voice_id("vo")
        .style_id("st")
        .brand_kit_id("bk")
        .orientation(Orientation::Landscape)
        .file(FileInput::url("https://example.com/a.png"))
        .file(FileInput::asset_id("ast_1"))
        .file(FileInput::base64("image/png", [0x89, b'P', b'N', b'G']))
        .callback_url("https://example.com/hook")
        .callback_id("cb")
        .incognito_mode(true);
    spec()
        .validate_request(
            "create_video_agent_session",
            &serde_json::to_value(&full).unwrap(),
        )
        .unwrap();
    let message = SendMessageRequest::new("go")
        .avatar_id("a")
        .file(FileInput::asset_id("x"));
    spec()
        .validate_request(
            "send_video_agent_message",
            &serde_json::to_value(&message).unwrap(),
        )
        .unwrap();

    // The JSON Schemas derived from the handwritten types list the same properties as the spec.
    for (rust, spec_name) in [
        (
            serde_json::to_value(schemars::schema_for!(CreateVideoAgentRequest)).unwrap(),
            "CreateVideoAgentRequest",
        ),
        (
            serde_json::to_value(schemars::schema_for!(SendMessageRequest)).unwrap(),
            "SendMessageRequest",
        ),
    ] {
        let rust_props: BTreeSet<String> = rust["properties"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        let rust_required: BTreeSet<String> = rust["required"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect();
        let components = spec().document().components.as_ref().unwrap();
        let ReferenceOr::Item(schema) = &components.schemas[spec_name] else {
            panic!("{spec_name} is inline");
        };
        let heygen_api::contract::openapiv3::SchemaKind::Type(
            heygen_api::contract::openapiv3::Type::Object(object),
        ) = &schema.schema_kind
        else {
            panic!("{spec_name} is an object");
        };
        let spec_props: BTreeSet<String> = object.properties.keys().cloned().collect();
        let spec_required: BTreeSet<String> = object.required.iter().cloned().collect();
        assert_eq!(rust_props, spec_props, "{spec_name} properties");
        assert_eq!(rust_required, spec_required, "{spec_name} required");
    }

    // The file-input union: each variant of the derived schema has the type tag, properties
    // and required members of the spec's schema that the discriminator maps the tag to.
    let file_schema = serde_json::to_value(schemars::schema_for!(FileInput)).unwrap();
    let shape = |variant: &Value| {
        let properties: BTreeSet<String> = variant["properties"]
            .as_object()
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default();
        let required: BTreeSet<String> = variant["required"]
            .as_array()
            .map(|r| {
                r.iter()
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        (properties, required)
    };
    let ours: std::collections::BTreeMap<String, _> = file_schema["oneOf"]
        .as_array()
        .expect("a oneOf of variants")
        .iter()
        .map(|variant| {
            let tag = &variant["properties"]["type"];
            let tag = tag["enum"][0]
                .as_str()
                .or(tag["const"].as_str())
                .expect("a type tag");
            (tag.to_string(), shape(variant))
        })
        .collect();
    let spec_json = serde_json::to_value(spec().document()).unwrap();
    let theirs: std::collections::BTreeMap<String, _> = spec_json["components"]["schemas"]
        ["FileInput"]["discriminator"]["mapping"]
        .as_object()
        .expect("a discriminator mapping")
        .iter()
        .map(|(tag, reference)| {
            let name = reference.as_str().unwrap().rsplit('/').next().unwrap();
            (
                tag.clone(),
                shape(&spec_json["components"]["schemas"][name]),
            )
        })
        .collect();
    assert_eq!(ours.len(), 3, "{file_schema}");
    assert_eq!(ours, theirs, "FileInput variants against the spec");
}

// ---------------------------------------------------------------------------------------------
// Every operation against a mock server
// ---------------------------------------------------------------------------------------------

type Call = Box<dyn FnOnce(Client) -> Pin<Box<dyn Future<Output = Result<Value, Error>> + Send>>>;

struct Case {
    operation: &'static str,
    method: &'static str,
    path: String,
    query: Vec<(String, String)>,
    /// Where the decoded result sits in the example response (`/data` for most).
    result_pointer: Option<&'static str>,
    call: Call,
}

fn value<T: serde::Serialize>(t: T) -> Value {
    serde_json::to_value(t).expect("results serialize")
}

/// A value a parameter's schema accepts: an enum's first value, an integer bound, or a string
/// made from its name.
fn sample(
    spec: &Spec,
    name: &str,
    schema: &ReferenceOr<heygen_api::contract::openapiv3::Schema>,
) -> String {
    let schema = match schema {
        ReferenceOr::Item(schema) => schema.clone(),
        ReferenceOr::Reference { reference } => {
            let name = reference.trim_start_matches("#/components/schemas/");
            spec.document().components.as_ref().unwrap().schemas[name]
                .as_item()
                .unwrap()
                .clone()
        }
    };
    use heygen_api::contract::openapiv3::{SchemaKind, Type};
    match schema.schema_kind {
        SchemaKind::Type(Type::Integer(i)) => i.maximum.or(i.minimum).unwrap_or(3).to_string(),
        // Halfway between the bounds: a fraction reads back the same once sent.
        SchemaKind::Type(Type::Number(n)) => match (n.minimum, n.maximum) {
            (Some(low), Some(high)) => ((low + high) / 2.0).to_string(),
            _ => "0.5".into(),
        },
        SchemaKind::Type(Type::String(s)) => s
            .enumeration
            .iter()
            .flatten()
            .next()
            .cloned()
            .unwrap_or_else(|| format!("q_{name}")),
        _ => format!("q_{name}"),
    }
}

/// The request example of an operation's JSON body.
fn request_example(operation_id: &str) -> Option<Value> {
    let op = spec().operation(operation_id)?;
    let body = op.request_body.as_ref()?.as_item()?;
    body.content.get("application/json")?.example.clone()
}

/// One case per operation, from the operation table: every path parameter, every query
/// parameter (a value its schema accepts) and the body's documented example, through
/// `Client::invoke` and so through the operation's typed request builder.
fn cases() -> Vec<Case> {
    let spec = spec();
    let mut cases = Vec::new();
    for op in heygen_api::operations::all() {
        if !op.invocable() {
            continue;
        }
        let mut path = op.path.to_string();
        let mut invocation = Invocation::new();
        for name in op.path_params {
            let value = format!("p_{name}");
            path = path.replace(&format!("{{{name}}}"), &value);
            invocation = invocation.path_param(value);
        }
        let mut query = Vec::new();
        for (location, parameter) in spec.parameters(op.id) {
            if location != "query" {
                continue;
            }
            let ParameterSchemaOrContent::Schema(schema) = &parameter.format else {
                continue;
            };
            let value = sample(spec, &parameter.name, schema);
            invocation = invocation.query(parameter.name.clone(), value.clone());
            query.push((parameter.name.clone(), value));
        }
        if op.has_body {
            let body = request_example(op.id)
                .unwrap_or_else(|| panic!("{}: the spec gives no request example", op.id));
            invocation = invocation.body(body);
        }
        let id = op.id;
        cases.push(Case {
            operation: op.id,
            method: http_method(op.method),
            path,
            query,
            // Lists answer with their whole page; everything else with its `data`.
            result_pointer: Some(
                if response_example(op.id, "200").get("next_token").is_some() {
                    ""
                } else {
                    "/data"
                },
            ),
            call: Box::new(move |c: Client| {
                Box::pin(async move { c.invoke(id, invocation).await })
            }),
        });
    }
    cases.push(upload_case());
    cases
}

fn http_method(method: &str) -> &'static str {
    match method {
        "get" => "GET",
        "post" => "POST",
        "put" => "PUT",
        "patch" => "PATCH",
        "delete" => "DELETE",
        other => panic!("unexpected method {other}"),
    }
}

/// The multipart upload is written by hand; its case is too.
fn upload_case() -> Case {
    let call = |c: Client| -> Pin<Box<dyn Future<Output = Result<Value, Error>> + Send>> {
        Box::pin(async move {
            c.assets()
                .upload_bytes("logo.png", b"\x89PNG\r\n\x1a\nrest-of-png".to_vec())
                .await
                .map(value)
        })
    };
    Case {
        operation: "upload_asset",
        method: "POST",
        path: "/v3/assets".into(),
        query: vec![],
        result_pointer: Some("/data"),
        call: Box::new(call),
    }
}

#[test]
fn every_spec_operation_has_a_contract_case() {
    let in_spec: BTreeSet<String> = spec().operations().into_iter().map(|o| o.id).collect();
    let tested: BTreeSet<String> = cases().iter().map(|c| c.operation.to_string()).collect();
    let untested: Vec<_> = in_spec.difference(&tested).collect();
    let stale: Vec<_> = tested.difference(&in_spec).collect();
    assert!(
        untested.is_empty(),
        "operations without a contract test: {untested:?}"
    );
    assert!(
        stale.is_empty(),
        "contract tests for operations not in the spec: {stale:?}"
    );
}

#[tokio::test]
async fn every_operation_sends_what_the_spec_says_and_decodes_its_example() {
    let ops = spec().operations();
    for case in cases() {
        let op = ops
            .iter()
            .find(|o| o.id == case.operation)
            .expect("listed in the spec");
        assert_eq!(op.method, case.method, "{}", case.operation);
        let example = response_example(case.operation, "200");
        let server = MockServer::start_async().await;
        let seen: Arc<Mutex<Vec<String>>> = Arc::default();
        let problems = Arc::clone(&seen);
        let operation = case.operation;
        let method = case.method;
        let handwritten = op.handwritten;
        let mock = server
            .mock_async(|when, then| {
                let mut when = when
                    .method(case.method)
                    .path(case.path.as_str())
                    .header("x-api-key", KEY);
                for (name, value) in &case.query {
                    when = when.query_param(name.as_str(), value.as_str());
                }
                when.is_true(move |req| {
                    let mut problems = problems.lock().unwrap();
                    let headers = req.headers();
                    if method == "POST" && !headers.contains_key("idempotency-key") {
                        problems.push("POST without Idempotency-Key".into());
                    }
                    if headers.contains_key("api-version") {
                        problems.push("stray api-version header".into());
                    }
                    let agent = headers
                        .get("user-agent")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("");
                    if !agent.starts_with("heygen-api-rust/") {
                        problems.push(format!("user agent {agent:?}"));
                    }
                    let body = req.body_ref();
                    if handwritten {
                        let content_type = headers
                            .get("content-type")
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("");
                        let text = String::from_utf8_lossy(body);
                        if !content_type.starts_with("multipart/form-data")
                            || !text.contains("name=\"file\"")
                            || !text.contains("filename=\"logo.png\"")
                            || !text.contains("rest-of-png")
                        {
                            problems.push(format!("bad multipart body: {content_type} {text}"));
                        }
                    } else if !body.is_empty() {
                        match serde_json::from_slice::<Value>(body) {
                            Ok(json) => {
                                if let Err(e) =
                                    Spec::get().unwrap().validate_request(operation, &json)
                                {
                                    problems.push(format!("body {json} violates the spec: {e}"));
                                }
                            }
                            Err(e) => problems.push(format!("body is not JSON: {e}")),
                        }
                    }
                    true
                });
                then.status(200)
                    .header("content-type", "application/json")
                    .json_body(example.clone());
            })
            .await;

        let client = client(&server.base_url());
        let result = (case.call)(client)
            .await
            .unwrap_or_else(|e| panic!("{operation}: {e:?}"));
        mock.assert_calls_async(1).await;
        let problems = seen.lock().unwrap().clone();
        assert!(problems.is_empty(), "{operation}: {problems:?}");
        if let Some(pointer) = case.result_pointer {
            let expected = example.pointer(pointer).expect("pointer into example");
            assert_eq!(
                without_nulls(&result),
                without_nulls(expected),
                "{operation}: decoded result differs from the spec example"
            );
        }
    }
}

/// The hand-checked idempotency key (a handwritten type that replaces the generated one)
/// refuses and accepts exactly what the spec's schema does, and says the same bounds.
#[test]
fn idempotency_keys_agree_with_the_spec_and_never_decode_invalid() {
    let spec = Spec::get().unwrap();
    for key in [
        "3f2b8c4e-9a1d-4c6e-8f7a-2b5d9e0c1a4f",
        "a",
        "x:y.z_1-2",
        &"k".repeat(255),
    ] {
        assert!(heygen_api::types::IdempotencyKey::new(key).is_ok(), "{key}");
        assert!(spec
            .validate_schema("IdempotencyKey", &serde_json::json!(key))
            .is_ok());
    }
    for key in ["", "has space", "ключ", "a/b", &"k".repeat(256)] {
        assert!(
            heygen_api::types::IdempotencyKey::new(key).is_err(),
            "{key}"
        );
        assert!(spec
            .validate_schema("IdempotencyKey", &serde_json::json!(key))
            .is_err());
        assert!(
            serde_json::from_value::<heygen_api::types::IdempotencyKey>(serde_json::json!(key))
                .is_err()
        );
    }
    let key: heygen_api::types::IdempotencyKey = serde_json::from_str("\"order-42\"").unwrap();
    assert_eq!(serde_json::to_string(&key).unwrap(), "\"order-42\"");
    let schema =
        serde_json::to_value(schemars::schema_for!(heygen_api::types::IdempotencyKey)).unwrap();
    let documented = &spec.document().components.as_ref().unwrap().schemas["IdempotencyKey"];
    let documented = serde_json::to_value(documented).unwrap();
    for field in ["minLength", "maxLength", "pattern"] {
        assert_eq!(schema[field], documented[field], "{field}");
    }
}
