//! The crate's one error type.
//!
//! [`Error`] says which layer failed: HeyGen answered with an error ([`Error::Api`]), the
//! connection failed ([`Error::Transport`]), a deadline passed ([`Error::Timeout`]), a body could
//! not be decoded ([`Error::Decode`]), or the request was refused before anything was sent
//! ([`Error::InvalidRequest`]). Each variant's `Display` describes its own layer only; the
//! underlying cause is reachable through [`std::error::Error::source`], so error reporters print
//! each cause once.

use std::fmt;
use std::time::{Duration, SystemTime};

use reqwest::header::HeaderMap;
use reqwest::StatusCode;
use serde::{Deserialize, Serialize};

pub use crate::api::invalid::InvalidRequest;
use crate::api::open_enum::open_enum;

/// Longest body excerpt kept in an error, in bytes.
pub(crate) const SNIPPET_LIMIT: usize = 512;

/// A specialized `Result` for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong when talking to HeyGen.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// HeyGen answered with an HTTP error status (4xx/5xx).
    Api(Box<ErrorResponse>),
    /// The request could not be sent or the response could not be read (DNS, TLS, connection
    /// reset, body cut short).
    Transport {
        /// The operation that failed.
        operation: &'static str,
        /// The underlying HTTP error.
        source: reqwest::Error,
        /// Whether repeating the request cannot have a second effect (a read, or a write
        /// carrying an `Idempotency-Key`).
        repeatable: bool,
    },
    /// The request did not finish within its timeout. A timed-out `POST` without an
    /// `Idempotency-Key` may still have been accepted by the server.
    Timeout {
        /// The operation that timed out.
        operation: &'static str,
        /// The underlying HTTP error.
        source: reqwest::Error,
        /// Whether repeating the request cannot have a second effect (a read, or a write
        /// carrying an `Idempotency-Key`).
        repeatable: bool,
    },
    /// A response arrived but its body could not be decoded.
    Decode(Box<DecodeFailure>),
    /// The request was refused before anything was sent.
    InvalidRequest(InvalidRequest),
    /// A job's wait ended without its result: the job failed, needs you to act, or the
    /// deadline passed first. The outcome (its record as JSON) says which; see
    /// [`JobOutcome::into_result`](crate::JobOutcome::into_result).
    Wait(Box<crate::api::outcome::JobOutcome<serde_json::Value>>),
    /// A download's size differs from its `Content-Length`; the partial file was removed.
    SizeMismatch {
        /// Bytes announced by the server.
        expected: u64,
        /// Bytes received.
        received: u64,
    },
    /// A list operation handed out a page token it had already given, which would loop
    /// forever.
    RepeatedPageToken {
        /// The list operation.
        operation: &'static str,
        /// The repeated token.
        token: String,
    },
    /// A webhook delivery was refused (see [`webhook`](crate::webhook)).
    Webhook(crate::api::webhook::WebhookError),
    /// A local file could not be read or written.
    Io {
        /// What was being done, e.g. `reading /tmp/a.png`.
        context: String,
        /// The underlying I/O error.
        source: std::io::Error,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Api(failure) => fmt::Display::fmt(failure, f),
            Error::Transport { operation, .. } => {
                write!(f, "{operation}: the request could not be completed")
            }
            Error::Timeout { operation, .. } => write!(f, "{operation}: the request timed out"),
            Error::Decode(failure) => fmt::Display::fmt(failure, f),
            Error::InvalidRequest(invalid) => fmt::Display::fmt(invalid, f),
            Error::Wait(outcome) => fmt::Display::fmt(outcome, f),
            Error::SizeMismatch { expected, received } => write!(
                f,
                "download incomplete: expected {expected} bytes, received {received}"
            ),
            Error::RepeatedPageToken { operation, token } => write!(
                f,
                "{operation}: the server repeated the page token {token:?}; stopping instead of looping"
            ),
            Error::Webhook(_) => write!(f, "webhook delivery refused"),
            Error::Io { context, .. } => write!(f, "I/O error while {context}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Api(_)
            | Error::InvalidRequest(_)
            | Error::Wait(_)
            | Error::SizeMismatch { .. }
            | Error::RepeatedPageToken { .. } => None,
            Error::Transport { source, .. } | Error::Timeout { source, .. } => Some(source),
            Error::Decode(failure) => Some(&failure.source),
            Error::Io { source, .. } => Some(source),
            Error::Webhook(refusal) => Some(refusal),
        }
    }
}

impl Error {
    /// The HTTP status of the response that caused the error, if there was one.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Error::Api(failure) => Some(failure.status),
            Error::Decode(failure) => Some(failure.status),
            Error::Transport { source, .. } | Error::Timeout { source, .. } => source.status(),
            Error::InvalidRequest(_)
            | Error::Io { .. }
            | Error::Wait(_)
            | Error::SizeMismatch { .. }
            | Error::RepeatedPageToken { .. }
            | Error::Webhook(_) => None,
        }
    }

    /// HeyGen's error body (`code`, `message`, `param`, `doc_url`), for API errors.
    pub fn api_error(&self) -> Option<&ApiError> {
        match self {
            Error::Api(failure) => Some(&failure.error),
            _ => None,
        }
    }

    /// The `X-Request-Id` of the failed response, when HeyGen sent one. Quote it to support.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Error::Api(failure) => failure.request_id.as_deref(),
            Error::Decode(failure) => failure.request_id.as_deref(),
            _ => None,
        }
    }

    /// How long the server asked to wait (`Retry-After`), for rate-limited responses.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::Api(failure) => failure.retry_after,
            _ => None,
        }
    }

    /// The client-side validation failure, when nothing was sent.
    pub fn invalid_request(&self) -> Option<&InvalidRequest> {
        match self {
            Error::InvalidRequest(invalid) => Some(invalid),
            _ => None,
        }
    }

    /// Whether the same call may succeed if repeated: exactly the failures the client's own
    /// retry loop repeats (see [`RetryPolicy`](crate::RetryPolicy)).
    ///
    /// - 429 on any request, and 409 `request_in_progress` (the same key is still running);
    /// - 408, 500, 502, 503, 504, transport failures and timeouts, only when repeating the
    ///   request cannot have a second effect: a read, or a write carrying an
    ///   `Idempotency-Key`. A keyless write that timed out may have been accepted.
    /// - a download whose size did not match.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Api(failure) => retry_status(
                failure.status,
                failure.repeatable,
                failure.error.code == ErrorCode::RequestInProgress,
            ),
            Error::Transport {
                source, repeatable, ..
            } => *repeatable && !source.is_builder(),
            Error::Timeout { repeatable, .. } => *repeatable,
            Error::SizeMismatch { .. } => true,
            Error::Decode(_)
            | Error::InvalidRequest(_)
            | Error::Io { .. }
            | Error::Wait(_)
            | Error::RepeatedPageToken { .. }
            | Error::Webhook(_) => false,
        }
    }

    /// Whether HeyGen does not know what was asked for (404): a deleted video, a mistyped id,
    /// another account's job.
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(StatusCode::NOT_FOUND)
    }

    /// Whether HeyGen refused the call for its rate or concurrency limits (429); see
    /// [`retry_after`](Self::retry_after) for how long it asked to wait.
    pub fn is_rate_limited(&self) -> bool {
        self.status() == Some(StatusCode::TOO_MANY_REQUESTS)
    }

    /// Whether the API key was refused (401) or may not do what was asked (403).
    pub fn is_unauthorized(&self) -> bool {
        matches!(
            self.status(),
            Some(StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN)
        )
    }

    /// Whether something ran out of time: a request that got no answer within its timeout
    /// ([`Error::Timeout`]), or a wait whose deadline passed before the job ended
    /// ([`Error::Wait`] with [`JobOutcome::TimedOut`](crate::JobOutcome::TimedOut), from
    /// [`into_result`](crate::JobOutcome::into_result)). Tell them apart with
    /// [`wait_timed_out`](Self::wait_timed_out): the job of a wait that timed out goes on at
    /// HeyGen; a request that timed out may or may not have been received.
    ///
    /// A wait that is not turned into a `Result` reports its deadline as
    /// `Ok(JobOutcome::TimedOut(..))`, not as an error.
    pub fn is_timeout(&self) -> bool {
        matches!(self, Error::Timeout { .. }) || self.wait_timed_out().is_some()
    }

    /// Where the job stood, for a wait whose deadline passed before the job ended.
    pub fn wait_timed_out(&self) -> Option<&crate::api::outcome::JobTimedOut> {
        match self {
            Error::Wait(outcome) => match outcome.as_ref() {
                crate::api::outcome::JobOutcome::TimedOut(timed_out) => Some(timed_out),
                _ => None,
            },
            _ => None,
        }
    }

    pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Error::InvalidRequest(InvalidRequest {
            field,
            reason: reason.into(),
        })
    }
}

impl From<InvalidRequest> for Error {
    fn from(invalid: InvalidRequest) -> Self {
        Error::InvalidRequest(invalid)
    }
}

impl From<crate::api::webhook::WebhookError> for Error {
    fn from(refusal: crate::api::webhook::WebhookError) -> Self {
        Error::Webhook(refusal)
    }
}

/// An answer from HeyGen with an error status: the status, HeyGen's error body
/// ([`ApiError`]), the request id, and what the retry loop needs to know.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ErrorResponse {
    /// The operation that failed (its `operationId` in `openapi.yaml`).
    pub operation: &'static str,
    /// HTTP status.
    pub status: StatusCode,
    /// HeyGen's error body. When the body was not HeyGen's JSON envelope (an HTML page from a
    /// proxy, an empty body), the code is derived from the status and
    /// [`ErrorResponse::body_snippet`] keeps the start of the body.
    pub error: ApiError,
    /// The `X-Request-Id` response header.
    pub request_id: Option<String>,
    /// The `Retry-After` response header, parsed (seconds or HTTP-date).
    pub retry_after: Option<Duration>,
    /// The start of a body that was not HeyGen's error envelope (at most 512 bytes).
    pub body_snippet: Option<String>,
    /// Whether repeating the request cannot have a second effect.
    pub(crate) repeatable: bool,
}

impl fmt::Display for ErrorResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: HeyGen answered {} {}: {}",
            self.operation,
            self.status.as_u16(),
            self.error.code,
            self.error.message
        )?;
        if let Some(param) = &self.error.param {
            write!(f, " (param `{param}`)")?;
        }
        if let Some(id) = &self.request_id {
            write!(f, " [request id {id}]")?;
        }
        Ok(())
    }
}

/// A response body that could not be decoded.
#[derive(Debug)]
#[non_exhaustive]
pub struct DecodeFailure {
    /// The operation whose response failed to decode.
    pub operation: &'static str,
    /// HTTP status of the response.
    pub status: StatusCode,
    /// The start of the body (at most 512 bytes, lossily converted to UTF-8).
    pub snippet: String,
    /// The `X-Request-Id` response header.
    pub request_id: Option<String>,
    /// The JSON error.
    pub source: serde_json::Error,
}

impl fmt::Display for DecodeFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: the {} response body could not be decoded (body starts with {:?})",
            self.operation,
            self.status.as_u16(),
            self.snippet
        )
    }
}

/// HeyGen's error body, the `error` member of an error answer: `code`, `message`, `param`,
/// `doc_url`. The whole answer is an [`ErrorResponse`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "contract", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct ApiError {
    /// Machine-readable error code.
    pub code: ErrorCode,
    /// Human-readable error message.
    #[serde(default)]
    pub message: String,
    /// Which request field caused the error. Only present for validation errors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub param: Option<String>,
    /// Link to the error's documentation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doc_url: Option<String>,
}

impl ApiError {
    /// An error body with the given code and message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            code,
            message: message.into(),
            param: None,
            doc_url: None,
        }
    }

    /// Sets the offending request field.
    pub fn with_param(mut self, param: impl Into<String>) -> Self {
        self.param = Some(param.into());
        self
    }

    /// The error HeyGen's own tooling assumes when a response is not a JSON error envelope.
    pub(crate) fn from_status(status: StatusCode) -> Self {
        let code = match status.as_u16() {
            400 => ErrorCode::ValidationError,
            401 => ErrorCode::Unauthorized,
            402 => ErrorCode::InsufficientCredit,
            403 => ErrorCode::Forbidden,
            404 => ErrorCode::NotFound,
            409 => ErrorCode::Conflict,
            413 => ErrorCode::PayloadTooLarge,
            429 => ErrorCode::RateLimitExceeded,
            500..=599 => ErrorCode::UnclassifiedServerError,
            _ => ErrorCode::UnclassifiedClientError,
        };
        let reason = status.canonical_reason().unwrap_or("error");
        ApiError::new(
            code,
            format!(
                "HTTP {} {reason} without a HeyGen error body",
                status.as_u16()
            ),
        )
    }
}

open_enum! {
    /// A HeyGen error code. Codes this version does not know are kept in
    /// [`ErrorCode::Unknown`].
    ErrorCode {
        /// 400: a parameter is invalid; see `param`.
        InvalidParameter = "invalid_parameter",
        /// 400: validation failed (also used when a 400 carries no HeyGen body).
        ValidationError = "validation_error",
        /// 400: a URL given as input could not be downloaded.
        DownloadFailed = "download_failed",
        /// 401: the API key is invalid, expired, or missing.
        Unauthorized = "unauthorized",
        /// 401: authentication failed (the spelling used in HeyGen's OpenAPI examples).
        AuthenticationFailed = "authentication_failed",
        /// 402: not enough credits.
        InsufficientCredit = "insufficient_credit",
        /// A usage quota was exceeded.
        QuotaExceeded = "quota_exceeded",
        /// 403: the key lacks permission.
        Forbidden = "forbidden",
        /// 403: access to the resource is denied.
        ResourceAccessDenied = "resource_access_denied",
        /// 404: the resource does not exist.
        NotFound = "not_found",
        /// 409: a request with the same `Idempotency-Key` is still in flight.
        RequestInProgress = "request_in_progress",
        /// 409: the request conflicts with the resource's state.
        Conflict = "conflict",
        /// 413: the body is too large.
        PayloadTooLarge = "payload_too_large",
        /// 429: too many requests or concurrent jobs.
        RateLimitExceeded = "rate_limit_exceeded",
        /// A resource limit was exceeded.
        ResourceLimitExceeded = "resource_limit_exceeded",
        /// 5xx: HeyGen failed.
        InternalError = "internal_error",
        /// A 5xx without a HeyGen error body.
        UnclassifiedServerError = "unclassified_server_error",
        /// A 4xx without a HeyGen error body.
        UnclassifiedClientError = "unclassified_client_error",
    }
}

#[derive(Debug, Default, Clone)]
pub(crate) struct CallRecord {
    pub(crate) attempts: u32,
    pub(crate) status: Option<StatusCode>,
    /// Headers of the last response, kept for error statuses only.
    pub(crate) headers: Option<HeaderMap>,
    /// `X-Request-Id` of the last response.
    pub(crate) request_id: Option<reqwest::header::HeaderValue>,
}

/// Whether a response with this status is retried. `repeatable`: repeating the request cannot
/// have a second effect; `in_progress`: a 409 body carried `request_in_progress`.
pub(crate) fn retry_status(status: StatusCode, repeatable: bool, in_progress: bool) -> bool {
    match status.as_u16() {
        429 => true,
        409 => in_progress,
        408 | 500 | 502 | 503 | 504 => repeatable,
        _ => false,
    }
}

/// Parses `Retry-After`: delay-seconds or an HTTP-date.
pub(crate) fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    if let Ok(seconds) = value.parse::<f64>() {
        return Duration::try_from_secs_f64(seconds).ok();
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

/// The result of one generated call.
pub(crate) type RawResult<T> = std::result::Result<
    progenitor_client::ResponseValue<T>,
    progenitor_client::Error<crate::api::raw::types::ErrorEnvelope>,
>;

/// What is known of a request when its outcome is mapped.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Attempt {
    pub(crate) operation: &'static str,
    /// Whether repeating it cannot have a second effect.
    pub(crate) repeatable: bool,
}

impl Attempt {
    /// Maps the outcome of one generated call. `record` is what the hooks saw of the
    /// response (its status, when the generated code reports only a decode failure).
    pub(crate) async fn finish<T>(self, result: RawResult<T>, record: &CallRecord) -> Result<T> {
        use progenitor_client::Error as P;
        let error = match result {
            Ok(value) => return Ok(value.into_inner()),
            Err(error) => error,
        };
        Err(match error {
            P::ErrorResponse(value) => {
                let status = value.status();
                let headers = value.headers().clone();
                self.api_failure(status, &headers, value.into_inner().error, None)
            }
            P::InvalidResponsePayload(body, source) => {
                let status = record.status.unwrap_or(StatusCode::OK);
                let headers = record.headers.clone().unwrap_or_default();
                if status.is_client_error() || status.is_server_error() {
                    self.api_failure(
                        status,
                        &headers,
                        ApiError::from_status(status),
                        Some(snippet(&body)),
                    )
                } else {
                    Error::Decode(Box::new(DecodeFailure {
                        operation: self.operation,
                        status,
                        snippet: snippet(&body),
                        request_id: record
                            .request_id
                            .as_ref()
                            .and_then(|v| v.to_str().ok())
                            .map(str::to_string),
                        source,
                    }))
                }
            }
            P::UnexpectedResponse(response) => self.unexpected(response).await,
            P::CommunicationError(source)
            | P::ResponseBodyError(source)
            | P::InvalidUpgrade(source) => self.transport(source),
            P::InvalidRequest(reason) | P::Custom(reason) => Error::invalid("request", reason),
        })
    }

    pub(crate) fn transport(self, source: reqwest::Error) -> Error {
        let (operation, repeatable) = (self.operation, self.repeatable);
        if source.is_timeout() {
            Error::Timeout {
                operation,
                source,
                repeatable,
            }
        } else {
            Error::Transport {
                operation,
                source,
                repeatable,
            }
        }
    }

    /// Maps a response whose status the spec does not list.
    pub(crate) async fn unexpected(self, response: reqwest::Response) -> Error {
        let status = response.status();
        let headers = response.headers().clone();
        match response.bytes().await {
            Ok(body) => self.error_from(status, &headers, &body),
            Err(source) => self.transport(source),
        }
    }

    /// Maps a non-success status and body, parsing HeyGen's envelope when present.
    pub(crate) fn error_from(self, status: StatusCode, headers: &HeaderMap, body: &[u8]) -> Error {
        #[derive(serde::Deserialize)]
        struct Envelope {
            error: ApiError,
        }
        if status.is_client_error() || status.is_server_error() {
            match serde_json::from_slice::<Envelope>(body) {
                Ok(envelope) => self.api_failure(status, headers, envelope.error, None),
                Err(_) => self.api_failure(
                    status,
                    headers,
                    ApiError::from_status(status),
                    Some(snippet(body)),
                ),
            }
        } else {
            let source = <serde_json::Error as serde::de::Error>::custom(format!(
                "unexpected HTTP status {status}"
            ));
            Error::Decode(Box::new(DecodeFailure {
                operation: self.operation,
                status,
                snippet: snippet(body),
                request_id: request_id(headers),
                source,
            }))
        }
    }

    fn api_failure(
        self,
        status: StatusCode,
        headers: &HeaderMap,
        error: ApiError,
        body_snippet: Option<String>,
    ) -> Error {
        Error::Api(Box::new(ErrorResponse {
            operation: self.operation,
            status,
            error,
            request_id: request_id(headers),
            retry_after: retry_after(headers, std::time::SystemTime::now()),
            body_snippet,
            repeatable: self.repeatable,
        }))
    }
}

/// The error of reading the local file `path`, for `map_err`.
pub(crate) fn reading(path: &std::path::Path) -> impl Fn(std::io::Error) -> Error + Copy + '_ {
    move |source| Error::Io {
        context: format!("reading {}", path.display()),
        source,
    }
}

/// A success whose envelope has no `data`: nothing to return.
pub(crate) fn missing_data(operation: &'static str) -> Error {
    unexpected_answer(operation, "the response has no `data` member")
}

/// A success that decoded but cannot be what was asked for (`reason` says why).
pub(crate) fn unexpected_answer(operation: &'static str, reason: &str) -> Error {
    Error::Decode(Box::new(DecodeFailure {
        operation,
        status: StatusCode::OK,
        snippet: String::new(),
        request_id: None,
        source: <serde_json::Error as serde::de::Error>::custom(reason),
    }))
}

/// `X-Request-Id`, HeyGen's identifier of a request (quote it to support).
pub(crate) const REQUEST_ID: reqwest::header::HeaderName =
    reqwest::header::HeaderName::from_static("x-request-id");

pub(crate) fn request_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// Cuts a body to at most [`SNIPPET_LIMIT`] bytes of (lossy) UTF-8.
pub(crate) fn snippet(body: &[u8]) -> String {
    excerpt(body, SNIPPET_LIMIT)
}

/// Cuts a body to at most `limit` bytes of (lossy) UTF-8, marking the cut with `…`.
pub(crate) fn excerpt(body: &[u8], limit: usize) -> String {
    let cut = &body[..body.len().min(limit)];
    let mut text = String::from_utf8_lossy(cut).into_owned();
    if body.len() > limit {
        text.push('…');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn error_is_send_sync_and_small() {
        assert_send_sync::<Error>();
        assert!(
            std::mem::size_of::<Error>() <= 64,
            "{}",
            std::mem::size_of::<Error>()
        );
    }

    #[test]
    fn unknown_codes_are_kept() {
        let e: ApiError =
            serde_json::from_str(r#"{"code":"brand_new_code","message":"m"}"#).unwrap();
        assert_eq!(e.code, ErrorCode::Unknown("brand_new_code".into()));
        assert_eq!(e.code.to_string(), "brand_new_code");
        let e: ApiError =
            serde_json::from_str(r#"{"code":"not_found","message":"m","param":null}"#).unwrap();
        assert_eq!(e.code, ErrorCode::NotFound);
    }

    #[test]
    fn fallback_codes_follow_the_status() {
        assert_eq!(
            ApiError::from_status(StatusCode::BAD_GATEWAY).code,
            ErrorCode::UnclassifiedServerError
        );
        assert_eq!(
            ApiError::from_status(StatusCode::UNAUTHORIZED).code,
            ErrorCode::Unauthorized
        );
        assert_eq!(
            ApiError::from_status(StatusCode::IM_A_TEAPOT).code,
            ErrorCode::UnclassifiedClientError
        );
    }

    #[test]
    fn snippets_are_bounded() {
        let body = vec![b'x'; 10_000];
        let s = snippet(&body);
        assert!(s.len() <= SNIPPET_LIMIT + '…'.len_utf8());
        assert!(s.ends_with('…'));
        assert_eq!(snippet(b"short"), "short");
    }

    #[test]
    fn invalid_request_names_the_field() {
        let e = Error::invalid("prompt", "must not be empty");
        assert_eq!(
            e.to_string(),
            "invalid request: `prompt` must not be empty (nothing was sent)"
        );
        assert!(std::error::Error::source(&e).is_none());
        assert!(!e.is_retryable());
    }
}
