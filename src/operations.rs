//! Every operation of the spec: its request builder, and a table to call any operation by name.
//!
//! The request builders (one per operation, named after its `operationId`) are what the
//! resource handles return: set optional parameters, then `.await` the builder. They are
//! generated from `openapi.yaml` at build time, so they always match the spec the crate was
//! built from.
//!
//! [`all`] lists every operation with what the CLI and tests need to know about it, and
//! [`Client::invoke`](crate::Client::invoke) calls one by `operationId` with string
//! parameters and a JSON body, going through the same typed builder, checks and retries as
//! the methods.
//!
//! ```no_run
//! # async fn run(client: heygen_api::Client) -> Result<(), heygen_api::Error> {
//! use heygen_api::operations::Invocation;
//!
//! let video = client
//!     .invoke("get_video", Invocation::new().path_param("vid_123"))
//!     .await?;
//! println!("{}", video["status"]);
//! # Ok(()) }
//! ```

pub use crate::api::kinds::{first_pointed, pointed, pointed_in_place};
use std::future::Future;
use std::pin::Pin;

use serde::Serialize;
use serde_json::Value;

use crate::api::client::RequestOptions;
use crate::api::error::{Error, Result};

pub use crate::resources::generated::builders::*;
pub use crate::resources::UploadAsset;

/// What the crate knows about one operation of the spec.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct OperationInfo {
    /// The `operationId`.
    pub id: &'static str,
    /// HTTP method, lower case.
    pub method: &'static str,
    /// Path template, e.g. `/v3/videos/{video_id}`.
    pub path: &'static str,
    /// The spec tag, which names the resource handle (`videos` → [`Client::videos`](crate::Client::videos)).
    pub resource: &'static str,
    /// The method on the resource handle.
    pub handle_method: &'static str,
    /// The CLI noun (`heygen <command> <verb>`).
    pub command: &'static str,
    /// The CLI verb.
    pub verb: &'static str,
    /// The spec's summary.
    pub summary: &'static str,
    /// Path parameters, in the order the method takes them.
    pub path_params: &'static [&'static str],
    /// Query (and non-key header) parameters, set through the builder.
    pub query_params: &'static [&'static str],
    /// Whether the operation takes a JSON (or multipart) body.
    pub has_body: bool,
    /// Whether the operation is a list that can be streamed page by page.
    pub paged: bool,
    /// Whether the CLI command is written by hand rather than derived from the spec.
    pub cli_handwritten: bool,
    pub(crate) invoke:
        Option<for<'a> fn(&'a crate::api::client::Client, Invocation) -> Invoked<'a>>,
}

impl OperationInfo {
    /// Whether the operation can be called through [`Client::invoke`](crate::Client::invoke)
    /// (every operation except the handwritten multipart upload).
    pub fn invocable(&self) -> bool {
        self.invoke.is_some()
    }
}

/// Every operation of the spec the crate was built from.
pub fn all() -> &'static [OperationInfo] {
    crate::resources::generated::OPERATIONS
}

/// The operation with this `operationId`.
pub fn find(id: &str) -> Option<&'static OperationInfo> {
    all().iter().find(|op| op.id == id)
}

/// The arguments of one call by name: path parameters in order, query parameters as strings,
/// the body as JSON.
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct Invocation {
    pub(crate) path: Vec<String>,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) body: Option<Value>,
    pub(crate) options: RequestOptions,
    pub(crate) all_pages: bool,
    pub(crate) check_only: bool,
    raw: bool,
    on_unknown_fields: Option<UnknownFieldsFn>,
}

/// A report of names.
type NamesFn = dyn Fn(&[String]) + Send + Sync;

/// Called with the names of body members the request type does not name.
#[derive(Clone)]
struct UnknownFieldsFn(std::sync::Arc<NamesFn>);

impl std::fmt::Debug for UnknownFieldsFn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Fn(&[String])")
    }
}

/// Removes the first value of the query parameter `name`.
pub(crate) fn take_query(query: &mut Vec<(String, String)>, name: &str) -> Option<String> {
    let index = query.iter().position(|(key, _)| key == name)?;
    Some(query.remove(index).1)
}

impl Invocation {
    /// No arguments.
    pub fn new() -> Self {
        Invocation::default()
    }

    /// Appends the next path parameter.
    pub fn path_param(mut self, value: impl Into<String>) -> Self {
        self.path.push(value.into());
        self
    }

    /// Sets a query parameter by its spec name; the value is parsed as the parameter's type.
    pub fn query(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.query.push((name.into(), value.into()));
        self
    }

    /// The JSON body; it is decoded into the operation's typed body before anything is sent.
    pub fn body(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }

    /// The JSON body set so far, if any.
    pub fn body_ref(&self) -> Option<&Value> {
        self.body.as_ref()
    }

    /// Per-call options.
    pub fn options(mut self, options: RequestOptions) -> Self {
        self.options = options;
        self
    }

    /// With `true`, [`invoke`](crate::Client::invoke) makes every check a call makes before
    /// sending (the path, the query, the body against its type and its limits) and stops
    /// there: it sends nothing, and answers `null` when the request could go. A caller that
    /// must do something costly first (upload a file) learns before that whether the rest
    /// of its request holds.
    pub fn check_only(mut self, check_only: bool) -> Self {
        self.check_only = check_only;
        self
    }

    /// For a paged list: follow every page and answer with all items.
    pub fn all_pages(mut self, all: bool) -> Self {
        self.all_pages = all;
        self
    }

    /// Answers with the server's own JSON (the answer's `data` object, or the whole answer
    /// for a list or an answer without one), every member and `null` included, instead of the typed value written
    /// back as JSON. A call that follows every page answers with the typed items.
    pub fn raw_response(mut self, raw: bool) -> Self {
        self.raw = raw;
        self
    }

    /// Called, before anything is sent, with the names of the body's top-level members
    /// that the operation's request type does not name. They are sent all the same,
    /// unchanged (see [`RequestOptions::extra_field`]): a field HeyGen takes before the spec
    /// does works, and a typo can be told to the user.
    pub fn on_unknown_fields(mut self, report: impl Fn(&[String]) + Send + Sync + 'static) -> Self {
        self.on_unknown_fields = Some(UnknownFieldsFn(std::sync::Arc::new(report)));
        self
    }

    /// The slot for the raw answer, when one was asked for; the call's options fill it.
    pub(crate) fn raw_slot(&mut self) -> Option<crate::api::client::RawSlot> {
        if !self.raw {
            return None;
        }
        let slot = crate::api::client::RawSlot::default();
        self.options = std::mem::take(&mut self.options).keep_raw(slot.clone());
        Some(slot)
    }
}

/// The future of one call by name.
pub(crate) type Invoked<'a> = Pin<Box<dyn Future<Output = Result<Value>> + Send + 'a>>;

impl crate::api::client::Client {
    /// Calls the operation `operation_id` with string parameters and a JSON body, through the
    /// same typed request builder as the resource handle's method. Answers with the operation's
    /// result as JSON (the `data` of the response; `{data, has_more, next_token}` for lists).
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] for an unknown operation, a missing path parameter, an
    /// unknown or unparsable query parameter, or a body that does not decode into the
    /// operation's body type (nothing is sent); otherwise the call's own errors.
    pub async fn invoke(&self, operation_id: &str, invocation: Invocation) -> Result<Value> {
        let Some(op) = find(operation_id) else {
            return Err(Error::InvalidRequest(crate::api::error::InvalidRequest {
                field: "operation",
                reason: format!("{operation_id:?} is not an operation of the spec"),
            }));
        };
        match op.invoke {
            Some(invoke) => invoke(self, invocation).await,
            None => Err(Error::InvalidRequest(crate::api::error::InvalidRequest {
                field: "operation",
                reason: format!(
                    "{operation_id} is implemented by hand; call its method on the resource handle"
                ),
            })),
        }
    }
}

/// The invocation's body as the operation's request type. Members of the body that the type
/// does not name are not dropped: they are reported and sent unchanged.
pub(crate) fn decode_body<T: serde::de::DeserializeOwned + Serialize>(
    invocation: &mut Invocation,
) -> Result<T> {
    let body = invocation.body.take();
    let given = body.as_ref().and_then(Value::as_object).cloned();
    let typed: T = decode_json(body)?;
    let Some(given) = given else {
        return Ok(typed);
    };
    let kept = serde_json::to_value(&typed).ok();
    let kept = kept.as_ref().and_then(Value::as_object);
    let empty = |v: &Value| match v {
        Value::Null => true,
        Value::Array(items) => items.is_empty(),
        Value::Object(members) => members.is_empty(),
        _ => false,
    };
    // Every member the typed value did not write back is sent as given. Only those with a
    // value are reported: a known optional member given as `null`, `[]` or `{}` is left out
    // of the typed value too, and is no typo.
    let unknown: Vec<(String, Value)> = given
        .into_iter()
        .filter(|(name, _)| !kept.is_some_and(|k| k.contains_key(name)))
        .collect();
    if unknown.is_empty() {
        return Ok(typed);
    }
    let names: Vec<String> = unknown
        .iter()
        .filter(|(_, value)| !empty(value))
        .map(|(name, _)| name.clone())
        .collect();
    if let (Some(report), false) = (&invocation.on_unknown_fields, names.is_empty()) {
        (report.0)(&names);
    }
    let mut options = std::mem::take(&mut invocation.options);
    for (name, value) in unknown {
        options = options.extra_field(name, value);
    }
    invocation.options = options;
    Ok(typed)
}

/// [`decode_body`] for an operation whose body may be left out.
pub(crate) fn decode_optional_body<T: serde::de::DeserializeOwned + Serialize>(
    invocation: &mut Invocation,
) -> Result<Option<T>> {
    if invocation.body.is_none() {
        return Ok(None);
    }
    decode_body(invocation).map(Some)
}

/// The answer of an invoked call: the server's JSON when it was kept, else `value`'s.
pub(crate) fn answer<T: Serialize>(
    value: &T,
    raw: Option<crate::api::client::RawSlot>,
) -> Result<Value> {
    if let Some(body) = raw.and_then(|slot| slot.take()) {
        if let Ok(mut whole) = serde_json::from_slice::<Value>(&body) {
            // One object: its `data`. A list: the whole page, its paging members included.
            return Ok(match whole.get_mut("data") {
                Some(data) if !data.is_array() => data.take(),
                _ => whole,
            });
        }
    }
    to_json(value)
}

pub(crate) fn decode_json<T: serde::de::DeserializeOwned>(body: Option<Value>) -> Result<T> {
    let body = body.ok_or_else(|| Error::invalid("body", "is required"))?;
    decode(body)
}

/// Reads a JSON body as a request type. A mismatch is refused before anything is sent, naming
/// the member and what it should have been: `` `body` at `events`: expected a sequence, got
/// string "video_agent.success" ``.
///
/// # Errors
/// [`Error::InvalidRequest`] with the field `body`.
pub fn decode<T: serde::de::DeserializeOwned>(body: Value) -> Result<T> {
    serde_path_to_error::deserialize(body).map_err(|e| {
        let path = e.path().to_string();
        let problem = readable(&e.inner().to_string());
        if path == "." {
            Error::invalid("body", problem)
        } else {
            Error::invalid("body", format!("at `{path}`: {problem}"))
        }
    })
}

/// serde's "invalid type: integer `42`, expected a string" as "expected a string, got
/// integer `42`": what to give first, in JSON's words (an array, an object).
fn readable(message: &str) -> String {
    let message = ["invalid type: ", "invalid value: "]
        .iter()
        .find_map(|prefix| message.strip_prefix(prefix))
        .and_then(|rest| rest.split_once(", expected "))
        .map(|(got, expected)| format!("expected {expected}, got {got}"))
        .or_else(|| {
            let name = message.strip_prefix("missing field ")?;
            Some(format!("{name} is required"))
        })
        .unwrap_or_else(|| message.to_string());
    message
        .replace("a sequence", "an array")
        .replace("got sequence", "got an array")
        .replace("a map", "an object")
        .replace("got map", "got an object")
}

pub(crate) fn parse_query<T: std::str::FromStr>(name: &'static str, value: &str) -> Result<T>
where
    T::Err: std::fmt::Display,
{
    value
        .parse()
        .map_err(|e| Error::invalid(name, format!("{value:?} is not valid: {e}")))
}

/// A whole-number query value, checked against the spec's bounds with the same message as a
/// value set in code (`must be between 1 and 100, got -5`).
pub(crate) fn parse_integer<T: TryFrom<i128>>(
    name: &'static str,
    value: &str,
    minimum: Option<i128>,
    maximum: Option<i128>,
) -> Result<T> {
    let number: i128 = value
        .trim()
        .parse()
        .map_err(|_| Error::invalid(name, format!("{value:?} is not a whole number")))?;
    crate::resources::check_range(name, number, minimum, maximum)?;
    T::try_from(number).map_err(|_| Error::invalid(name, format!("{number} is out of range")))
}

pub(crate) fn unknown_parameter(name: &str) -> Error {
    Error::InvalidRequest(crate::api::error::InvalidRequest {
        field: "query",
        reason: format!("{name:?} is not a parameter of this operation"),
    })
}

pub(crate) fn to_json<T: Serialize>(value: &T) -> Result<Value> {
    serde_json::to_value(value).map_err(|e| Error::invalid("response", e.to_string()))
}
