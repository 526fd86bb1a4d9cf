//! The contract this crate was built from, for your own contract tests.
//!
//! The crate embeds `openapi.yaml` as it was at build time. Use it to check recordings, fakes
//! and fixtures against the same schemas the client was generated from:
//!
//! ```
//! use heygen_api::contract::Spec;
//!
//! let spec = Spec::get()?;
//! let recorded = serde_json::json!({
//!     "data": {"id": "vid_1", "status": "completed", "video_url": null}
//! });
//! spec.validate_response("get_video", 200, &recorded)?;
//!
//! let wrong = serde_json::json!({"data": {"status": 7}});
//! let violations = spec.validate_response("get_video", 200, &wrong).unwrap_err();
//! assert!(violations.to_string().contains("/data/status"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The validator covers what the spec uses: `$ref`, `type`, `nullable`, `enum`, `required`,
//! `properties`, `additionalProperties`, `items`, `minLength`/`maxLength` (in characters),
//! `pattern`, `minimum`/`maximum`, `minItems`/`maxItems`, `oneOf` (with `discriminator`),
//! `anyOf`, `allOf` and `not`.

use std::fmt;
use std::sync::OnceLock;

use openapiv3::{AdditionalProperties, OpenAPI, Operation, ReferenceOr, Schema, SchemaKind, Type};
use serde_json::Value;

/// `openapi.yaml` as the crate was built from it.
pub const SPEC_YAML: &str = include_str!("../openapi.yaml");

/// The `openapiv3` crate the document is parsed with, re-exported so versions match.
pub use openapiv3;

const SPEC_JSON: &str = include_str!(concat!(env!("OUT_DIR"), "/openapi.json"));

/// The parsed contract.
#[derive(Debug)]
pub struct Spec {
    document: OpenAPI,
}

/// One operation of the spec.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct OperationRef {
    /// The `operationId`.
    pub id: String,
    /// HTTP method, upper case.
    pub method: String,
    /// Path template, e.g. `/v3/videos/{video_id}`.
    pub path: String,
    /// Whether the operation is implemented by hand rather than generated.
    pub handwritten: bool,
}

/// Why a value does not match the contract.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// JSON pointer to the offending value (`""` for the root).
    pub pointer: String,
    /// What is wrong.
    pub message: String,
}

/// Every way a value failed to match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violations(pub Vec<Violation>);

impl fmt::Display for Violations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, v) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            let at = if v.pointer.is_empty() {
                "/"
            } else {
                &v.pointer
            };
            write!(f, "{at}: {}", v.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for Violations {}

impl Violations {
    fn one(message: impl Into<String>) -> Self {
        Violations(vec![Violation {
            pointer: String::new(),
            message: message.into(),
        }])
    }
}

impl Spec {
    /// The embedded spec, parsed once.
    ///
    /// # Errors
    /// When the embedded document cannot be parsed (it was checked at build time, so this
    /// indicates a corrupted build).
    pub fn get() -> Result<&'static Spec, Violations> {
        static SPEC: OnceLock<Result<Spec, String>> = OnceLock::new();
        SPEC.get_or_init(|| {
            serde_json::from_str::<OpenAPI>(SPEC_JSON)
                .map(|document| Spec { document })
                .map_err(|e| format!("embedded openapi.yaml does not parse: {e}"))
        })
        .as_ref()
        .map_err(|e| Violations::one(e.clone()))
    }

    /// The YAML text of the spec.
    pub fn yaml(&self) -> &'static str {
        SPEC_YAML
    }

    /// The parsed document.
    pub fn document(&self) -> &OpenAPI {
        &self.document
    }

    /// Every operation, in document order.
    pub fn operations(&self) -> Vec<OperationRef> {
        self.document
            .operations()
            .map(|(path, method, op)| OperationRef {
                id: op.operation_id.clone().unwrap_or_default(),
                method: method.to_uppercase(),
                path: path.to_string(),
                handwritten: op
                    .extensions
                    .get("x-heygen-handwritten")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
            })
            .collect()
    }

    /// The operation with this `operationId`.
    pub fn operation(&self, operation_id: &str) -> Option<&Operation> {
        self.document
            .operations()
            .find(|(_, _, op)| op.operation_id.as_deref() == Some(operation_id))
            .map(|(_, _, op)| op)
    }

    /// The parameters of an operation (the path item's and its own), resolved, each with its
    /// location: `"path"`, `"query"`, `"header"` or `"cookie"`.
    pub fn parameters(&self, operation_id: &str) -> Vec<(&'static str, &openapiv3::ParameterData)> {
        let mut out = Vec::new();
        for (_, item) in self.document.paths.iter() {
            let ReferenceOr::Item(item) = item else {
                continue;
            };
            let owns = item
                .iter()
                .any(|(_, op)| op.operation_id.as_deref() == Some(operation_id));
            if !owns {
                continue;
            }
            let own = item
                .iter()
                .find(|(_, op)| op.operation_id.as_deref() == Some(operation_id))
                .map(|(_, op)| op.parameters.iter())
                .into_iter()
                .flatten();
            for parameter in item.parameters.iter().chain(own) {
                let parameter = match parameter {
                    ReferenceOr::Item(p) => Some(p),
                    ReferenceOr::Reference { reference } => reference
                        .strip_prefix("#/components/parameters/")
                        .and_then(|name| self.document.components.as_ref()?.parameters.get(name))
                        .and_then(|p| p.as_item()),
                };
                if let Some(parameter) = parameter {
                    let location = match parameter {
                        openapiv3::Parameter::Query { .. } => "query",
                        openapiv3::Parameter::Header { .. } => "header",
                        openapiv3::Parameter::Path { .. } => "path",
                        openapiv3::Parameter::Cookie { .. } => "cookie",
                    };
                    out.push((location, parameter.parameter_data_ref()));
                }
            }
        }
        out
    }

    /// Checks the query and header parameters of a request against an operation's: every
    /// required one is present and every value matches its schema (read as the schema's
    /// type: `"7"` is the integer 7 for an integer parameter). `value(location, name)` looks a
    /// parameter up in the request (`location` is `"query"` or `"header"`; header names are
    /// matched case-insensitively by the caller).
    ///
    /// # Errors
    /// The violations found; each pointer is the parameter's name.
    pub fn validate_parameters<'v>(
        &self,
        operation_id: &str,
        value: impl Fn(&str, &str) -> Option<&'v str>,
    ) -> Result<(), Violations> {
        let mut found = Vec::new();
        for (location, parameter) in self.parameters(operation_id) {
            let openapiv3::ParameterSchemaOrContent::Schema(schema) = &parameter.format else {
                continue;
            };
            if !matches!(location, "query" | "header") {
                continue;
            }
            let given = value(location, &parameter.name);
            let Some(given) = given else {
                if parameter.required {
                    push(&mut found, &parameter.name, "is required");
                }
                continue;
            };
            let typed = self.coerce(schema, given);
            let mut inner = Vec::new();
            self.check_ref(schema, &typed, "", &mut inner, 0);
            for violation in inner {
                push(&mut found, &parameter.name, violation.message);
            }
        }
        if found.is_empty() {
            Ok(())
        } else {
            Err(Violations(found))
        }
    }

    /// Reads a parameter's text as its schema's type.
    fn coerce(&self, schema: &ReferenceOr<Schema>, text: &str) -> Value {
        let schema = match schema {
            ReferenceOr::Item(schema) => Some(schema),
            ReferenceOr::Reference { reference } => {
                self.lookup(reference).and_then(|s| s.as_item())
            }
        };
        match schema.map(|s| &s.schema_kind) {
            Some(SchemaKind::Type(Type::Integer(_))) => text
                .parse::<i64>()
                .map(Value::from)
                .unwrap_or_else(|_| Value::String(text.into())),
            Some(SchemaKind::Type(Type::Number(_))) => text
                .parse::<f64>()
                .ok()
                .and_then(|n| serde_json::Number::from_f64(n).map(Value::Number))
                .unwrap_or_else(|| Value::String(text.into())),
            Some(SchemaKind::Type(Type::Boolean(_))) => match text {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                other => Value::String(other.into()),
            },
            _ => Value::String(text.into()),
        }
    }

    /// The JSON schema of an operation's JSON request body, with every `$ref` replaced by the
    /// schema it names (a reference that recurs inside itself is left as is).
    pub fn request_schema(&self, operation_id: &str) -> Option<Value> {
        let op = self.operation(operation_id)?;
        let body = op.request_body.as_ref()?.as_item()?;
        let schema = body.content.get("application/json")?.schema.as_ref()?;
        let schema = serde_json::to_value(schema).ok()?;
        Some(self.inline(schema, &mut Vec::new()))
    }

    /// The JSON schema of one of an operation's parameters, by name, with every `$ref`
    /// replaced by the schema it names and the parameter's description beside it.
    pub fn parameter_schema(&self, operation_id: &str, name: &str) -> Option<Value> {
        let (_, data) = self
            .parameters(operation_id)
            .into_iter()
            .find(|(_, data)| data.name == name)?;
        let openapiv3::ParameterSchemaOrContent::Schema(schema) = &data.format else {
            return None;
        };
        let mut schema = self.inline(serde_json::to_value(schema).ok()?, &mut Vec::new());
        if let (Some(description), Some(members)) = (&data.description, schema.as_object_mut()) {
            members
                .entry("description")
                .or_insert_with(|| Value::String(description.clone()));
        }
        Some(schema)
    }

    fn inline(&self, value: Value, stack: &mut Vec<String>) -> Value {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(reference)) = map.get("$ref") {
                    let reference = reference.clone();
                    if stack.contains(&reference) {
                        return Value::Object(map);
                    }
                    let Some(target) = self
                        .lookup(&reference)
                        .and_then(|s| serde_json::to_value(s).ok())
                    else {
                        return Value::Object(map);
                    };
                    stack.push(reference);
                    let inlined = self.inline(target, stack);
                    stack.pop();
                    return inlined;
                }
                // Our own extensions say how the crate is generated, not what HeyGen takes.
                Value::Object(
                    map.into_iter()
                        .filter(|(k, _)| !k.starts_with("x-heygen-"))
                        .map(|(k, v)| (k, self.inline(v, stack)))
                        .collect(),
                )
            }
            Value::Array(items) => {
                Value::Array(items.into_iter().map(|v| self.inline(v, stack)).collect())
            }
            other => other,
        }
    }

    /// The documented example of an operation's success response: its status and body.
    pub fn example_response(&self, operation_id: &str) -> Option<(u16, Value)> {
        let op = self.operation(operation_id)?;
        op.responses
            .responses
            .iter()
            .find_map(|(status, response)| {
                let openapiv3::StatusCode::Code(code @ 200..=299) = status else {
                    return None;
                };
                let response = response.as_item()?;
                let media = response.content.get("application/json")?;
                let example = media.example.clone().or_else(|| {
                    media
                        .examples
                        .values()
                        .find_map(|e| e.as_item().and_then(|e| e.value.clone()))
                })?;
                Some((*code, example))
            })
    }

    /// Checks a value against a schema in `components/schemas`.
    ///
    /// # Errors
    /// The violations found, or one saying the schema does not exist.
    pub fn validate_schema(&self, name: &str, value: &Value) -> Result<(), Violations> {
        self.validate_value(
            &ReferenceOr::Reference {
                reference: format!("#/components/schemas/{name}"),
            },
            value,
        )
    }

    /// Checks a JSON request body against an operation's request schema.
    ///
    /// # Errors
    /// The violations found, or one saying the operation has no JSON request body.
    pub fn validate_request(&self, operation_id: &str, value: &Value) -> Result<(), Violations> {
        let op = self
            .operation(operation_id)
            .ok_or_else(|| Violations::one(format!("no operation `{operation_id}`")))?;
        let body = match &op.request_body {
            Some(ReferenceOr::Item(body)) => body,
            Some(ReferenceOr::Reference { reference }) => {
                let name = reference.trim_start_matches("#/components/requestBodies/");
                match self
                    .document
                    .components
                    .as_ref()
                    .and_then(|c| c.request_bodies.get(name))
                {
                    Some(ReferenceOr::Item(body)) => body,
                    _ => return Err(Violations::one(format!("unresolved {reference}"))),
                }
            }
            None => {
                return Err(Violations::one(format!(
                    "`{operation_id}` has no request body"
                )))
            }
        };
        let schema = body
            .content
            .get("application/json")
            .and_then(|m| m.schema.as_ref())
            .ok_or_else(|| Violations::one(format!("`{operation_id}` has no JSON request body")))?;
        self.validate_value(schema, value)
    }

    /// Checks a JSON response body against the schema the spec gives for `status` (an exact
    /// code first, then its range such as `4XX`, then `default`).
    ///
    /// # Errors
    /// The violations found, or one saying the status is not documented.
    pub fn validate_response(
        &self,
        operation_id: &str,
        status: u16,
        value: &Value,
    ) -> Result<(), Violations> {
        let schema = self.response_schema(operation_id, status)?;
        self.validate_value(schema, value)
    }

    /// The JSON schema documented for an operation's response with this status.
    ///
    /// # Errors
    /// When the operation or a schema for the status does not exist.
    pub fn response_schema(
        &self,
        operation_id: &str,
        status: u16,
    ) -> Result<&ReferenceOr<Schema>, Violations> {
        use openapiv3::StatusCode as S;
        let op = self
            .operation(operation_id)
            .ok_or_else(|| Violations::one(format!("no operation `{operation_id}`")))?;
        let responses = &op.responses;
        let response = responses
            .responses
            .get(&S::Code(status))
            .or_else(|| responses.responses.get(&S::Range(status / 100)))
            .or(responses.default.as_ref())
            .ok_or_else(|| {
                Violations::one(format!("`{operation_id}` documents no {status} response"))
            })?;
        let response = match response {
            ReferenceOr::Item(r) => r,
            ReferenceOr::Reference { reference } => {
                let name = reference.trim_start_matches("#/components/responses/");
                match self
                    .document
                    .components
                    .as_ref()
                    .and_then(|c| c.responses.get(name))
                {
                    Some(ReferenceOr::Item(r)) => r,
                    _ => return Err(Violations::one(format!("unresolved {reference}"))),
                }
            }
        };
        response
            .content
            .get("application/json")
            .and_then(|m| m.schema.as_ref())
            .ok_or_else(|| Violations::one(format!("`{operation_id}` {status} has no JSON body")))
    }

    /// Checks a value against any schema of (or referenced from) this spec.
    ///
    /// # Errors
    /// The violations found.
    pub fn validate_value(
        &self,
        schema: &ReferenceOr<Schema>,
        value: &Value,
    ) -> Result<(), Violations> {
        let mut found = Vec::new();
        self.check_ref(schema, value, "", &mut found, 0);
        if found.is_empty() {
            Ok(())
        } else {
            Err(Violations(found))
        }
    }

    fn lookup(&self, reference: &str) -> Option<&ReferenceOr<Schema>> {
        let name = reference.strip_prefix("#/components/schemas/")?;
        self.document.components.as_ref()?.schemas.get(name)
    }

    fn check_ref(
        &self,
        schema: &ReferenceOr<Schema>,
        value: &Value,
        at: &str,
        out: &mut Vec<Violation>,
        depth: usize,
    ) {
        match schema {
            ReferenceOr::Item(schema) => self.check(schema, value, at, out, depth),
            ReferenceOr::Reference { reference } => {
                self.check_reference(reference, value, at, out, depth)
            }
        }
    }

    fn check_boxed(
        &self,
        schema: &ReferenceOr<Box<Schema>>,
        value: &Value,
        at: &str,
        out: &mut Vec<Violation>,
        depth: usize,
    ) {
        match schema {
            ReferenceOr::Item(schema) => self.check(schema, value, at, out, depth),
            ReferenceOr::Reference { reference } => {
                self.check_reference(reference, value, at, out, depth)
            }
        }
    }

    fn check_reference(
        &self,
        reference: &str,
        value: &Value,
        at: &str,
        out: &mut Vec<Violation>,
        depth: usize,
    ) {
        if depth > 64 {
            return push(out, at, "schema nesting too deep (recursive $ref?)");
        }
        match self.lookup(reference) {
            Some(schema) => self.check_ref(schema, value, at, out, depth + 1),
            None => push(out, at, format!("unresolved reference {reference}")),
        }
    }

    fn matches(&self, schema: &ReferenceOr<Schema>, value: &Value, depth: usize) -> bool {
        let mut found = Vec::new();
        self.check_ref(schema, value, "", &mut found, depth + 1);
        found.is_empty()
    }

    fn check(
        &self,
        schema: &Schema,
        value: &Value,
        at: &str,
        out: &mut Vec<Violation>,
        depth: usize,
    ) {
        let data = &schema.schema_data;
        if value.is_null() {
            if data.nullable || matches!(schema.schema_kind, SchemaKind::Any(_)) {
                return;
            }
            return push(out, at, "must not be null");
        }
        match &schema.schema_kind {
            SchemaKind::Type(Type::String(t)) => {
                let Some(s) = value.as_str() else {
                    return push(out, at, format!("expected a string, got {}", kind(value)));
                };
                if !t.enumeration.is_empty()
                    && !t.enumeration.iter().any(|e| e.as_deref() == Some(s))
                {
                    let allowed: Vec<_> = t.enumeration.iter().flatten().collect();
                    push(out, at, format!("{s:?} is not one of {allowed:?}"));
                }
                let chars = s.chars().count();
                if let Some(min) = t.min_length {
                    if chars < min {
                        push(
                            out,
                            at,
                            format!("is {chars} characters; the minimum is {min}"),
                        );
                    }
                }
                if let Some(max) = t.max_length {
                    if chars > max {
                        push(
                            out,
                            at,
                            format!("is {chars} characters; the maximum is {max}"),
                        );
                    }
                }
                if let Some(pattern) = &t.pattern {
                    match regress::Regex::new(pattern) {
                        Ok(re) if re.find(s).is_none() => {
                            push(out, at, format!("does not match the pattern {pattern}"))
                        }
                        Ok(_) => {}
                        Err(e) => push(out, at, format!("invalid pattern {pattern}: {e}")),
                    }
                }
            }
            SchemaKind::Type(Type::Integer(t)) => {
                let n = match (value.as_i64(), value.as_u64()) {
                    (Some(n), _) => n as f64,
                    (None, Some(n)) => n as f64,
                    _ => return push(out, at, format!("expected an integer, got {}", kind(value))),
                };
                if !t.enumeration.is_empty()
                    && !t.enumeration.iter().flatten().any(|e| *e as f64 == n)
                {
                    push(out, at, format!("{n} is not an allowed value"));
                }
                check_range(
                    n,
                    t.minimum.map(|m| m as f64),
                    t.maximum.map(|m| m as f64),
                    t.exclusive_minimum,
                    t.exclusive_maximum,
                    at,
                    out,
                );
            }
            SchemaKind::Type(Type::Number(t)) => {
                let Some(n) = value.as_f64() else {
                    return push(out, at, format!("expected a number, got {}", kind(value)));
                };
                check_range(
                    n,
                    t.minimum,
                    t.maximum,
                    t.exclusive_minimum,
                    t.exclusive_maximum,
                    at,
                    out,
                );
            }
            SchemaKind::Type(Type::Boolean(_)) => {
                if !value.is_boolean() {
                    push(out, at, format!("expected a boolean, got {}", kind(value)));
                }
            }
            SchemaKind::Type(Type::Object(t)) => {
                let Some(map) = value.as_object() else {
                    return push(out, at, format!("expected an object, got {}", kind(value)));
                };
                for name in &t.required {
                    if !map.contains_key(name) {
                        push(out, at, format!("missing required property `{name}`"));
                    }
                }
                for (name, item) in map {
                    let here = format!("{at}/{}", escape(name));
                    match t.properties.get(name) {
                        Some(schema) => self.check_boxed(schema, item, &here, out, depth + 1),
                        None => match &t.additional_properties {
                            Some(AdditionalProperties::Any(false)) => {
                                push(out, &here, "is not an allowed property")
                            }
                            Some(AdditionalProperties::Schema(schema)) => {
                                self.check_ref(schema, item, &here, out, depth + 1)
                            }
                            _ => {}
                        },
                    }
                }
            }
            SchemaKind::Type(Type::Array(t)) => {
                let Some(items) = value.as_array() else {
                    return push(out, at, format!("expected an array, got {}", kind(value)));
                };
                if let Some(min) = t.min_items {
                    if items.len() < min {
                        push(
                            out,
                            at,
                            format!("has {} items; the minimum is {min}", items.len()),
                        );
                    }
                }
                if let Some(max) = t.max_items {
                    if items.len() > max {
                        push(
                            out,
                            at,
                            format!("has {} items; the maximum is {max}", items.len()),
                        );
                    }
                }
                if let Some(schema) = &t.items {
                    for (i, item) in items.iter().enumerate() {
                        self.check_boxed(schema, item, &format!("{at}/{i}"), out, depth + 1);
                    }
                }
            }
            SchemaKind::OneOf { one_of } => {
                if let Some(discriminator) = &data.discriminator {
                    let tag = value
                        .get(&discriminator.property_name)
                        .and_then(Value::as_str);
                    let Some(tag) = tag else {
                        return push(
                            out,
                            at,
                            format!("missing discriminator `{}`", discriminator.property_name),
                        );
                    };
                    match discriminator.mapping.get(tag) {
                        Some(reference) => {
                            self.check_reference(reference, value, at, out, depth + 1)
                        }
                        None => push(
                            out,
                            at,
                            format!(
                                "unknown `{}` {tag:?} (expected one of {:?})",
                                discriminator.property_name,
                                discriminator.mapping.keys().collect::<Vec<_>>()
                            ),
                        ),
                    }
                } else {
                    let hits = one_of
                        .iter()
                        .filter(|s| self.matches(s, value, depth))
                        .count();
                    if hits != 1 {
                        push(
                            out,
                            at,
                            format!("matches {hits} of the oneOf schemas; exactly 1 required"),
                        );
                    }
                }
            }
            SchemaKind::AnyOf { any_of } => {
                if !any_of.iter().any(|s| self.matches(s, value, depth)) {
                    push(out, at, "matches none of the anyOf schemas");
                }
            }
            SchemaKind::AllOf { all_of } => {
                for schema in all_of {
                    self.check_ref(schema, value, at, out, depth + 1);
                }
            }
            SchemaKind::Not { not } => {
                if self.matches(not, value, depth) {
                    push(out, at, "matches a schema it must not match");
                }
            }
            SchemaKind::Any(_) => {}
        }
    }
}

fn check_range(
    n: f64,
    minimum: Option<f64>,
    maximum: Option<f64>,
    exclusive_min: bool,
    exclusive_max: bool,
    at: &str,
    out: &mut Vec<Violation>,
) {
    if let Some(min) = minimum {
        if n < min || (exclusive_min && n == min) {
            push(out, at, format!("{n} is below the minimum {min}"));
        }
    }
    if let Some(max) = maximum {
        if n > max || (exclusive_max && n == max) {
            push(out, at, format!("{n} is above the maximum {max}"));
        }
    }
}

fn push(out: &mut Vec<Violation>, at: &str, message: impl Into<String>) {
    out.push(Violation {
        pointer: at.to_string(),
        message: message.into(),
    });
}

fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn validator_catches_each_kind_of_violation() {
        let spec = Spec::get().unwrap();
        let ok = json!({"prompt": "p", "files": [{"type": "url", "url": "https://x"}]});
        spec.validate_request("create_video_agent_session", &ok)
            .unwrap();

        let cases = [
            (json!({}), "missing required property `prompt`"),
            (json!({"prompt": ""}), "minimum is 1"),
            (json!({"prompt": 5}), "expected a string"),
            (json!({"prompt": "p", "mode": "film"}), "is not one of"),
            (
                json!({"prompt": "p", "files": [{"type": "disk"}]}),
                "unknown `type`",
            ),
            (
                json!({"prompt": "p", "files": [{"type": "url"}]}),
                "missing required property `url`",
            ),
            (
                json!({"prompt": "p", "incognito_mode": "yes"}),
                "expected a boolean",
            ),
        ];
        for (value, expected) in cases {
            let err = spec
                .validate_request("create_video_agent_session", &value)
                .unwrap_err()
                .to_string();
            assert!(err.contains(expected), "{value}: {err}");
        }
        let files: Vec<_> = (0..21)
            .map(|_| json!({"type": "asset_id", "asset_id": "a"}))
            .collect();
        let err = spec
            .validate_request(
                "create_video_agent_session",
                &json!({"prompt": "p", "files": files}),
            )
            .unwrap_err();
        assert!(err.to_string().contains("maximum is 20"), "{err}");
    }

    #[test]
    fn responses_resolve_codes_then_ranges() {
        let spec = Spec::get().unwrap();
        let error = json!({"error": {"code": "x", "message": "m", "param": null}});
        spec.validate_response("get_video", 404, &error).unwrap();
        spec.validate_response("get_video", 503, &error).unwrap();
        assert!(spec.validate_response("get_video", 302, &error).is_err());
        let err = spec
            .validate_response(
                "get_video",
                200,
                &json!({"data": {"id": "v", "status": "done", "duration": "long"}}),
            )
            .unwrap_err()
            .to_string();
        assert!(err.contains("/data/status"), "{err}");
        assert!(err.contains("/data/duration"), "{err}");
    }

    #[test]
    fn patterns_and_integers_are_checked() {
        let spec = Spec::get().unwrap();
        let key = spec
            .document()
            .components
            .as_ref()
            .and_then(|c| c.parameters.get("IdempotencyKey"))
            .unwrap();
        let ReferenceOr::Item(openapiv3::Parameter::Header { parameter_data, .. }) = key else {
            panic!("IdempotencyKey is a header parameter");
        };
        let openapiv3::ParameterSchemaOrContent::Schema(schema) = &parameter_data.format else {
            panic!("schema expected");
        };
        assert!(spec.validate_value(schema, &json!("abc-123:x.y")).is_ok());
        assert!(spec.validate_value(schema, &json!("has space")).is_err());
        assert!(spec
            .validate_schema(
                "VideoAgentSession",
                &json!({"session_id": "s", "status": "thinking", "created_at": 1.5})
            )
            .is_err());
        assert!(spec
            .validate_schema(
                "VideoAgentSession",
                &json!({"session_id": "s", "status": "thinking", "created_at": 1, "progress": 101})
            )
            .is_err());
    }
}
