//! The hooks the generated client calls around every request: timeouts, idempotency keys and
//! tracing live here, once, for every operation. Retries are one level up, in
//! [`crate::api::retry`], which runs the generated builder again for each attempt.

use std::time::Instant;

use progenitor_client::{ClientHooks, ClientInfo, OperationInfo};
use reqwest::header::{HeaderName, HeaderValue};
use reqwest::{Method, Request, Response};

use crate::api::client::Shared;
use crate::api::raw;
use crate::api::types::IdempotencyKey;

/// Header carrying the idempotency key.
pub(crate) const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
/// Header the generator adds with the spec's `info.version`; HeyGen does not use it.
const API_VERSION: HeaderName = HeaderName::from_static("api-version");
/// Longest body excerpt logged at DEBUG.
const LOG_BODY_LIMIT: usize = 1024;

impl ClientHooks<Shared> for raw::Client {
    async fn pre<E>(
        &self,
        request: &mut Request,
        _info: &OperationInfo,
    ) -> Result<(), progenitor_client::Error<E>> {
        prepare(self.inner(), request);
        Ok(())
    }

    async fn exec(&self, request: Request, info: &OperationInfo) -> reqwest::Result<Response> {
        execute(self.client(), request, info.operation_id).await
    }
}

/// Sets what every request needs before it is sent: no `api-version`, the caller's client's
/// credentials, the timeout, and the call's `Idempotency-Key`.
pub(crate) fn prepare(shared: &Shared, request: &mut Request) {
    let config = &shared.config;
    let call = crate::api::client::current_call();
    let call = call.as_deref();
    request.headers_mut().remove(API_VERSION);
    if let Some(headers) = &config.per_request_headers {
        for (name, value) in headers {
            request.headers_mut().insert(name, value.clone());
        }
    }
    if let Some(timeout) = call.and_then(|c| c.options.timeout) {
        *request.timeout_mut() = Some(timeout);
    } else if request.timeout().is_none() {
        let timeout = if request.method() == Method::GET || request.method() == Method::HEAD {
            config.read_timeout
        } else {
            config.write_timeout
        };
        *request.timeout_mut() = Some(timeout);
    }
    if let Some(extra) = call.and_then(|c| c.options.extra_fields.as_ref()) {
        add_members(request, extra);
    }
    if request.method() == Method::POST && !request.headers().contains_key(IDEMPOTENCY_KEY) {
        let key = match call {
            // The call fixed its key (or chose none) for all of its attempts.
            Some(call) => call.options.idempotency_key.clone(),
            // A single request through the generated client: a key of its own.
            None => config.auto_idempotency.then(IdempotencyKey::generate),
        };
        if let Some(value) = key.and_then(|k| HeaderValue::from_str(k.as_str()).ok()) {
            request.headers_mut().insert(IDEMPOTENCY_KEY, value);
        }
    }
}

/// Adds `extra` to the request's JSON object body. A member the body has already is left as
/// the typed request wrote it (and checked it): extra members add, never replace.
fn add_members(request: &mut Request, extra: &serde_json::Map<String, serde_json::Value>) {
    let Some(bytes) = request.body().and_then(|b| b.as_bytes()) else {
        return;
    };
    let Ok(serde_json::Value::Object(mut body)) = serde_json::from_slice(bytes) else {
        return;
    };
    for (name, value) in extra {
        body.entry(name.clone()).or_insert_with(|| value.clone());
    }
    if let Ok(bytes) = serde_json::to_vec(&body) {
        *request.body_mut() = Some(bytes.into());
    }
}

/// Sends one request (one attempt; the retry loop is in [`crate::api::retry`]) and records what
/// came back for the call's error mapping.
pub(crate) async fn execute(
    http: &reqwest::Client,
    request: Request,
    operation: &'static str,
) -> reqwest::Result<Response> {
    let debug = tracing::enabled!(tracing::Level::DEBUG);
    // What the log line names: the method and the path (never the query or a header).
    let route = debug.then(|| (request.method().clone(), request.url().path().to_string()));
    if tracing::enabled!(tracing::Level::TRACE) {
        if let Some(body) = request.body().and_then(|b| b.as_bytes()) {
            tracing::trace!(operation, body = %redacted_excerpt(body), "request body");
        }
    }
    let started = Instant::now();
    let mut outcome = http.execute(request).await;
    let call = crate::api::client::current_call();
    let raw = call.as_deref().and_then(|c| c.options.raw.as_ref());
    if tracing::enabled!(tracing::Level::TRACE) || raw.is_some() {
        if let Ok(response) = outcome {
            outcome = buffer(response, raw).await;
        }
    }
    if let (Some(call), Ok(response)) = (call.as_deref(), &outcome) {
        let status = response.status();
        // Kept as the header value (a reference count, no copy): it becomes text only if an
        // error needs it.
        let request_id = response
            .headers()
            .get(crate::api::error::REQUEST_ID)
            .cloned();
        // Success: only what a decode error would need. Errors: the headers too.
        let headers = (status.is_client_error() || status.is_server_error())
            .then(|| response.headers().clone());
        call.update(|r| {
            r.attempts += 1;
            r.status = Some(status);
            r.request_id = request_id;
            r.headers = headers;
        });
    }
    if let Some((method, path)) = route {
        let (attempt, request_id) = call.as_deref().map_or((None, None), |c| {
            let record = c.snapshot();
            let id = record
                .request_id
                .as_ref()
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            (Some(record.attempts), id)
        });
        tracing::debug!(
            operation,
            method = %method,
            path,
            status = outcome.as_ref().ok().map(|r| r.status().as_u16()),
            request_id,
            attempt,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "response"
        );
    }
    outcome
}

/// Reads a whole body and hands back an equivalent response: status, version, headers,
/// extensions and URL are moved over, not copied.
/// Reads the whole body of `response` (to log it, or to keep a success's body in `raw`) and
/// hands the response on with the same body.
async fn buffer(
    response: Response,
    raw: Option<&crate::api::client::RawSlot>,
) -> reqwest::Result<Response> {
    use http_body_util::BodyExt as _;
    use reqwest::ResponseBuilderExt as _;

    let url = response.url().clone();
    let (mut parts, body) = http::Response::<reqwest::Body>::from(response).into_parts();
    let body = body.collect().await?.to_bytes();
    tracing::trace!(status = parts.status.as_u16(), body = %redacted_excerpt(&body), "response body");
    if let Some(raw) = raw.filter(|_| parts.status.is_success()) {
        raw.put(body.clone());
    }
    // reqwest keeps the URL in an extension only its response builder can set.
    if let Ok(carrier) = http::Response::builder().url(url).body(()) {
        parts.extensions.extend(carrier.into_parts().0.extensions);
    }
    Ok(Response::from(http::Response::from_parts(parts, body)))
}

/// A loggable excerpt of a body, with webhook secrets blanked out.
fn redacted_excerpt(body: &[u8]) -> String {
    crate::api::error::excerpt(&redact(body), LOG_BODY_LIMIT)
}

/// Replaces the value of every `secret` member of a JSON body (webhook signing secrets come
/// back from create and rotate-secret) so that it never reaches a log.
pub(crate) fn redact(body: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    fn walk(value: &mut serde_json::Value) {
        match value {
            serde_json::Value::Object(map) => {
                for (key, member) in map.iter_mut() {
                    if key == "secret" && member.is_string() {
                        *member = serde_json::Value::String("[redacted]".into());
                    } else {
                        walk(member);
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(walk),
            _ => {}
        }
    }
    let mentions_secret = body.windows(8).any(|w| w == b"\"secret\"");
    if !mentions_secret {
        return std::borrow::Cow::Borrowed(body);
    }
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(mut value) => {
            walk(&mut value);
            std::borrow::Cow::Owned(value.to_string().into_bytes())
        }
        // Not JSON but mentions a secret: log nothing of it.
        Err(_) => std::borrow::Cow::Borrowed(b"[body withheld: mentions a secret]"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted_from_logged_bodies() {
        let body = br#"{"data":{"endpoint_id":"ep","secret":"whsec_live_value","nested":[{"secret":"whsec_2"}]}}"#;
        let logged = redacted_excerpt(body);
        assert!(
            !logged.contains("whsec_live_value") && !logged.contains("whsec_2"),
            "{logged}"
        );
        assert!(logged.contains("[redacted]") && logged.contains("\"ep\""));
        assert!(!redacted_excerpt(br#"not json "secret": whsec_x"#).contains("whsec_x"));
        assert_eq!(redacted_excerpt(br#"{"a":1}"#), r#"{"a":1}"#);
    }
}
