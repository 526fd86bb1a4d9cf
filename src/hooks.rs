//! The hooks the generated client calls around every request: timeouts, idempotency keys,
//! retries and tracing live here, once, for every operation.

use std::time::{Duration, Instant};

use bytes::Bytes;
use progenitor_client::{ClientHooks, ClientInfo, OperationInfo};
use reqwest::header::{HeaderName, HeaderValue};
use reqwest::{Method, Request, Response, StatusCode};
use tracing::Instrument as _;

use crate::client::{CallContext, Config, Shared};
use crate::raw;
use crate::retry::{is_idempotent, should_retry_status};

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
        execute(self.client(), self.inner(), request, info.operation_id).await
    }
}

/// Sets what every request needs before it is sent.
pub(crate) fn prepare(shared: &Shared, request: &mut Request) {
    let config = &shared.config;
    let call = shared.call.as_deref();
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
    if request.method() == Method::POST && !request.headers().contains_key(IDEMPOTENCY_KEY) {
        let key = match call.and_then(|c| c.options.idempotency_key.clone()) {
            Some(key) => Some(key),
            None if config.auto_idempotency => Some(uuid::Uuid::new_v4().to_string()),
            None => None,
        };
        if let Some(value) = key.and_then(|k| HeaderValue::from_str(&k).ok()) {
            request.headers_mut().insert(IDEMPOTENCY_KEY, value);
        }
    }
}

/// Sends a request, retrying as the policy allows. The same request — including its
/// `Idempotency-Key` — is sent on every attempt.
pub(crate) async fn execute(
    http: &reqwest::Client,
    shared: &Shared,
    request: Request,
    operation: &'static str,
) -> reqwest::Result<Response> {
    let span = tracing::debug_span!(
        "heygen_api.request",
        operation,
        method = %request.method(),
        attempts = tracing::field::Empty,
        status = tracing::field::Empty,
        request_id = tracing::field::Empty,
    );
    run(
        http,
        &shared.config,
        shared.call.as_deref(),
        request,
        operation,
    )
    .instrument(span)
    .await
}

async fn run(
    http: &reqwest::Client,
    config: &Config,
    call: Option<&CallContext>,
    mut request: Request,
    operation: &'static str,
) -> reqwest::Result<Response> {
    let safe = is_idempotent(
        request.method(),
        request.headers().contains_key(IDEMPOTENCY_KEY),
    );
    let policy = &config.retry;
    let started = Instant::now();
    let mut retry = 0u32;
    loop {
        let attempt = retry + 1;
        let spare = if retry < policy.get_max_retries() {
            request.try_clone()
        } else {
            None
        };
        if tracing::enabled!(tracing::Level::DEBUG) {
            if let Some(body) = request.body().and_then(|b| b.as_bytes()) {
                tracing::debug!(body = %excerpt(body), "request body");
            }
        }
        let outcome = match http.execute(request).await {
            // The body is read here, inside the retry loop, whenever a failure while reading
            // it may be retried (repeatable requests) or the hooks need it (error statuses,
            // DEBUG logs). A body cut short then counts as a failed attempt.
            Ok(response) => {
                let status = response.status();
                if safe
                    || status.is_client_error()
                    || status.is_server_error()
                    || tracing::enabled!(tracing::Level::DEBUG)
                {
                    buffer(response).await.map(|(r, body)| (r, Some(body)))
                } else {
                    Ok((response, None))
                }
            }
            Err(error) => Err(error),
        };
        if let Some(call) = call {
            call.update(|r| r.attempts = attempt);
        }
        let span = tracing::Span::current();
        span.record("attempts", attempt);

        let (wait, outcome) = match outcome {
            Ok((response, body)) => {
                let status = response.status();
                span.record("status", status.as_u16());
                let request_id = crate::client::request_id(response.headers());
                if let Some(id) = &request_id {
                    span.record("request_id", id.as_str());
                }
                let error_body =
                    body.filter(|_| status.is_client_error() || status.is_server_error());
                let in_progress = status == StatusCode::CONFLICT
                    && error_body.as_deref().is_some_and(is_in_progress);
                if let Some(call) = call {
                    // Success: only what a decode error would need. Errors: everything.
                    let headers = error_body.is_some().then(|| response.headers().clone());
                    call.update(|r| {
                        r.status = Some(status);
                        r.request_id = request_id;
                        r.headers = headers;
                        r.error_body = error_body;
                    });
                }
                let wait = should_retry_status(status, safe, in_progress).then(|| {
                    (
                        policy.delay_after(retry, &response),
                        format!("HTTP {}", status.as_u16()),
                    )
                });
                (wait, Ok(response))
            }
            Err(error) => {
                // Never repeat a write that may have been accepted, unless it carries a key.
                let wait = (safe && !error.is_builder())
                    .then(|| (policy.delay(retry, None), transport_reason(&error)));
                (wait, Err(error))
            }
        };

        match (wait, spare) {
            (Some((wait, reason)), Some(next)) => {
                tracing::debug!(
                    operation,
                    attempt,
                    wait_ms = wait.as_millis() as u64,
                    reason = reason.as_str(),
                    "retrying"
                );
                tokio::time::sleep(wait).await;
                request = next;
                retry += 1;
            }
            _ => {
                tracing::debug!(
                    operation,
                    attempts = attempt,
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    ok = outcome.as_ref().is_ok_and(|r| r.status().is_success()),
                    "request finished"
                );
                return outcome;
            }
        }
    }
}

/// Whether an error body says `request_in_progress` (the same key is still being processed).
fn is_in_progress(body: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| {
            v.pointer("/error/code")
                .and_then(|c| c.as_str())
                .map(|c| c == "request_in_progress")
        })
        .unwrap_or(false)
}

fn transport_reason(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "timeout".into()
    } else if error.is_connect() {
        "connection failed".into()
    } else {
        "transport error".into()
    }
}

/// Reads a whole body and hands back an equivalent response: status, version, headers,
/// extensions and URL are moved over, not copied.
async fn buffer(response: Response) -> reqwest::Result<(Response, Bytes)> {
    use http_body_util::BodyExt as _;
    use reqwest::ResponseBuilderExt as _;

    let url = response.url().clone();
    let (mut parts, body) = http::Response::<reqwest::Body>::from(response).into_parts();
    let body = body.collect().await?.to_bytes();
    tracing::debug!(status = parts.status.as_u16(), body = %excerpt(&body), "response body");
    // reqwest keeps the URL in an extension only its response builder can set.
    if let Ok(carrier) = http::Response::builder().url(url).body(()) {
        parts.extensions.extend(carrier.into_parts().0.extensions);
    }
    Ok((
        Response::from(http::Response::from_parts(parts, body.clone())),
        body,
    ))
}

/// A loggable excerpt of a body, with webhook secrets blanked out.
fn excerpt(body: &[u8]) -> String {
    crate::error::excerpt(&redact(body), LOG_BODY_LIMIT)
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

/// The wait `execute` would use, exposed for code that retries outside the generated client
/// (uploads, whose streamed bodies cannot be cloned).
pub(crate) fn upload_wait(config: &Config, retry: u32, response: &Response) -> Option<Duration> {
    (response.status() == StatusCode::TOO_MANY_REQUESTS && retry < config.retry.get_max_retries())
        .then(|| config.retry.delay_after(retry, response))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted_from_logged_bodies() {
        let body = br#"{"data":{"endpoint_id":"ep","secret":"whsec_live_value","nested":[{"secret":"whsec_2"}]}}"#;
        let logged = excerpt(body);
        assert!(
            !logged.contains("whsec_live_value") && !logged.contains("whsec_2"),
            "{logged}"
        );
        assert!(logged.contains("[redacted]") && logged.contains("\"ep\""));
        assert!(!excerpt(br#"not json "secret": whsec_x"#).contains("whsec_x"));
        assert_eq!(excerpt(br#"{"a":1}"#), r#"{"a":1}"#);
    }
}
