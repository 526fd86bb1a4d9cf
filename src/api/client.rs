//! The client and its builder.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use progenitor_client::ClientInfo as _;
use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::Method;
use tracing::Instrument as _;

use crate::api::error::{Attempt, CallRecord, Error, RawResult, Result};
use crate::api::raw;
use crate::api::retry::{is_idempotent, RetryPolicy};
use crate::api::types::IdempotencyKey;

/// The production API.
pub const DEFAULT_BASE_URL: &str = "https://api.heygen.com";
/// Environment variable read for the API key.
pub const API_KEY_ENV: &str = "HEYGEN_API_KEY";
/// Environment variable read for the base URL.
pub const BASE_URL_ENV: &str = "HEYGEN_BASE_URL";

/// A HeyGen API client.
///
/// Cheap to clone (the connection pool and configuration are shared), `Send` and `Sync`.
/// Operations are grouped by resource: [`Client::video_agents`], [`Client::videos`],
/// [`Client::assets`], [`Client::webhooks`]. Each method returns a request builder: set
/// optional parameters, then `.await` it.
///
/// ```no_run
/// # async fn run() -> Result<(), heygen_api::Error> {
/// let client = heygen_api::Client::builder().api_key("my-key").build()?;
/// let video = client.videos().get("vid_123").await?;
/// println!("{:?} {:?}", video.status, video.video_url);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    raw: Arc<raw::Client>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.base_url())
            .field("config", &self.raw.inner().config)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A builder with the defaults: API key from `HEYGEN_API_KEY`, base URL from
    /// `HEYGEN_BASE_URL` or [`DEFAULT_BASE_URL`].
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// A client configured from the environment (`HEYGEN_API_KEY`, `HEYGEN_BASE_URL`).
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] when no API key is set.
    pub fn from_env() -> Result<Self> {
        ClientBuilder::default().build()
    }

    /// The base URL requests go to.
    pub fn base_url(&self) -> &str {
        self.raw.baseurl()
    }

    /// The generated client underneath the resource handles. It shares this client's
    /// connection pool, authentication, timeouts and automatic idempotency keys, but each of its
    /// calls is a single attempt: retries live in the request builders. Its methods return
    /// progenitor's types rather than [`Error`].
    pub fn raw(&self) -> &raw::Client {
        &self.raw
    }

    pub(crate) fn http(&self) -> &reqwest::Client {
        self.raw.client()
    }

    pub(crate) fn config(&self) -> &Config {
        &self.raw.inner().config
    }

    /// The HTTP client for presigned URLs: no API key, ever. Built on first use, since
    /// building a client loads the platform's root certificates (milliseconds).
    pub(crate) fn download_http(&self) -> Result<&reqwest::Client> {
        let config = &self.raw.inner().config;
        if let Some(http) = config.download_http.get() {
            return Ok(http);
        }
        let built = reqwest::Client::builder()
            .user_agent(config.download_user_agent.clone())
            .connect_timeout(config.connect_timeout)
            .read_timeout(config.read_timeout)
            .build()
            .map_err(|source| BUILD.transport(source))?;
        Ok(config.download_http.get_or_init(|| built))
    }

    pub(crate) fn raw_config(&self) -> Arc<Config> {
        Arc::clone(&self.raw.inner().config)
    }
}

tokio::task_local! {
    /// The call an attempt belongs to, for the hooks: its options going in, what came back.
    /// Set around each attempt, so the one generated client serves every call unchanged.
    static CALL: Arc<CallContext>;
}

/// The call the running attempt belongs to, if any (none for a direct `raw()` call).
pub(crate) fn current_call() -> Option<Arc<CallContext>> {
    CALL.try_with(Arc::clone).ok()
}

/// Builds a [`Client`]. Setters never fail; [`ClientBuilder::build`] reports problems.
#[must_use]
#[derive(Clone)]
pub struct ClientBuilder {
    credential: Option<Credential>,
    base_url: Option<String>,
    connect_timeout: Duration,
    read_timeout: Duration,
    write_timeout: Duration,
    transfer_timeout: Duration,
    retry: RetryPolicy,
    auto_idempotency: bool,
    user_agent: Option<String>,
    http: Option<reqwest::Client>,
}

#[derive(Clone)]
enum Credential {
    ApiKey(String),
    Bearer(String),
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let credential = match &self.credential {
            Some(Credential::ApiKey(_)) => "api key (redacted)",
            Some(Credential::Bearer(_)) => "bearer token (redacted)",
            None => "from environment",
        };
        f.debug_struct("ClientBuilder")
            .field("credential", &credential)
            .field("base_url", &self.base_url)
            .field("connect_timeout", &self.connect_timeout)
            .field("read_timeout", &self.read_timeout)
            .field("write_timeout", &self.write_timeout)
            .field("transfer_timeout", &self.transfer_timeout)
            .field("retry", &self.retry)
            .field("auto_idempotency", &self.auto_idempotency)
            .finish_non_exhaustive()
    }
}

impl Default for ClientBuilder {
    fn default() -> Self {
        ClientBuilder {
            credential: None,
            base_url: None,
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(30),
            write_timeout: Duration::from_secs(120),
            transfer_timeout: Duration::from_secs(600),
            retry: RetryPolicy::default(),
            auto_idempotency: true,
            user_agent: None,
            http: None,
        }
    }
}

impl ClientBuilder {
    /// Authenticates with an API key (sent as `x-api-key`). Overrides `HEYGEN_API_KEY`.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.credential = Some(Credential::ApiKey(key.into()));
        self
    }

    /// Authenticates with an OAuth bearer token instead of an API key. Usage is then billed
    /// against the web plan.
    pub fn bearer_token(mut self, token: impl Into<String>) -> Self {
        self.credential = Some(Credential::Bearer(token.into()));
        self
    }

    /// Sends requests to another base URL (a proxy, the simulator). Overrides
    /// `HEYGEN_BASE_URL`.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// Time allowed to establish a connection (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Time allowed for a read (`GET`) request (default 30 s).
    pub fn read_timeout(mut self, timeout: Duration) -> Self {
        self.read_timeout = timeout;
        self
    }

    /// Time allowed for a write (`POST`, `PATCH`, `DELETE`) request (default 120 s).
    pub fn write_timeout(mut self, timeout: Duration) -> Self {
        self.write_timeout = timeout;
        self
    }

    /// Time allowed for one upload or download, body included (default 10 min).
    pub fn transfer_timeout(mut self, timeout: Duration) -> Self {
        self.transfer_timeout = timeout;
        self
    }

    /// How failed requests are retried (default: 2 retries, see [`RetryPolicy`]).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Whether every `POST` gets an automatically generated `Idempotency-Key` (default on).
    /// The key is reused across the retries of one call, which makes retrying a create safe.
    /// Without a key, a `POST` is retried only on 429.
    pub fn auto_idempotency_key(mut self, enabled: bool) -> Self {
        self.auto_idempotency = enabled;
        self
    }

    /// Appends a product token to the `User-Agent` (`heygen-api-rust/<version> <yours>`).
    pub fn user_agent(mut self, product: impl Into<String>) -> Self {
        self.user_agent = Some(product.into());
        self
    }

    /// Uses a preconfigured `reqwest::Client` (proxies, custom TLS). Authentication, the user
    /// agent and the connect timeout are then added per request instead of as client defaults.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// Builds the client.
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] when no credential is given or set in `HEYGEN_API_KEY`, the
    /// credential is not a valid header value, or the base URL is not an absolute http(s) URL;
    /// [`Error::Transport`] when the HTTP client cannot be created. (The client for presigned
    /// downloads, which carries no credentials, is created on the first download and reports
    /// the same error there.)
    pub fn build(self) -> Result<Client> {
        let credential = match self.credential {
            Some(credential) => credential,
            None => match std::env::var(API_KEY_ENV) {
                Ok(key) if !key.trim().is_empty() => Credential::ApiKey(key),
                _ => {
                    return Err(Error::invalid(
                        "api_key",
                        format!("is missing: pass ClientBuilder::api_key or set {API_KEY_ENV}"),
                    ))
                }
            },
        };
        let base_url = match self.base_url {
            Some(url) => url,
            None => std::env::var(BASE_URL_ENV)
                .ok()
                .filter(|u| !u.trim().is_empty())
                .unwrap_or_else(|| DEFAULT_BASE_URL.to_string()),
        };
        crate::api::types::check_http_url("base_url", &base_url).map_err(Error::InvalidRequest)?;
        let base_url = base_url.trim_end_matches('/').to_string();

        let mut auth = HeaderMap::new();
        let (name, value, field) = match &credential {
            Credential::ApiKey(key) => ("x-api-key", key.trim().to_string(), "api_key"),
            Credential::Bearer(token) => (
                "authorization",
                format!("Bearer {}", token.trim()),
                "bearer_token",
            ),
        };
        if value.is_empty() || value == "Bearer " {
            return Err(Error::invalid(field, "must not be empty"));
        }
        let mut value = HeaderValue::from_str(&value)
            .map_err(|_| Error::invalid(field, "contains characters not allowed in a header"))?;
        value.set_sensitive(true);
        auth.insert(name, value);

        let user_agent = match &self.user_agent {
            Some(product) => format!("{} {product}", default_user_agent()),
            None => default_user_agent(),
        };
        let user_agent = HeaderValue::from_str(&user_agent).map_err(|_| {
            Error::invalid("user_agent", "contains characters not allowed in a header")
        })?;

        install_crypto_provider();
        // A caller's own client serves downloads too; otherwise one is built on first use.
        let download_http = OnceLock::new();
        if let Some(http) = &self.http {
            let _ = download_http.set(http.clone());
        }
        let config = Config {
            download_http,
            download_user_agent: user_agent.clone(),
            connect_timeout: self.connect_timeout,
            retry: self.retry,
            read_timeout: self.read_timeout,
            write_timeout: self.write_timeout,
            transfer_timeout: self.transfer_timeout,
            auto_idempotency: self.auto_idempotency,
            per_request_headers: None,
        };
        let (http, config) = match self.http {
            Some(http) => {
                let mut headers = auth;
                headers.insert(reqwest::header::USER_AGENT, user_agent);
                let config = Config {
                    per_request_headers: Some(headers),
                    ..config
                };
                (http, config)
            }
            None => {
                let http = reqwest::Client::builder()
                    .default_headers(auth)
                    .user_agent(user_agent)
                    .connect_timeout(self.connect_timeout)
                    .build()
                    .map_err(|source| BUILD.transport(source))?;
                (http, config)
            }
        };
        let shared = Shared {
            config: Arc::new(config),
        };
        Ok(Client {
            raw: Arc::new(raw::Client::new_with_client(&base_url, http, shared)),
        })
    }
}

/// Building an HTTP client (nothing is sent, so nothing to repeat).
const BUILD: Attempt = Attempt {
    operation: "build_client",
    repeatable: false,
};

/// One attempt of a generated call, boxed: the generated builder is run again for every
/// attempt, so nothing of a request is cloned or kept between attempts.
pub(crate) type AttemptFuture<'r, T> = Pin<Box<dyn Future<Output = RawResult<T>> + Send + 'r>>;

/// Calls one operation through the generated client: checks the options, fixes the
/// `Idempotency-Key` for every attempt (the caller's, or a new one for a `POST` when the client
/// adds keys), and runs the attempts under the client's retry policy.
pub(crate) async fn call<T>(
    client: &Client,
    operation: &'static str,
    method: Method,
    options: RequestOptions,
    mut attempt: impl for<'r> FnMut(&'r raw::Client) -> AttemptFuture<'r, T> + Send,
) -> Result<T> {
    let mut options = options.into_call()?;
    let config = client.config();
    if method == Method::POST && options.idempotency_key.is_none() && config.auto_idempotency {
        options.idempotency_key = Some(IdempotencyKey::generate());
    }
    let step = Attempt {
        operation,
        repeatable: is_idempotent(&method, options.idempotency_key.is_some()),
    };
    let context = CallContext::new(options);
    let raw = client.raw();
    let debug = tracing::enabled!(tracing::Level::DEBUG);
    let span = tracing::debug_span!(
        "heygen_api.request",
        operation,
        method = %method,
        attempts = tracing::field::Empty,
        status = tracing::field::Empty,
        request_id = tracing::field::Empty,
    );
    let policy = &config.retry;
    let started = std::time::Instant::now();
    let outcome = crate::api::retry::run(policy, operation, |retry| {
        let pending = CALL.scope(Arc::clone(&context), attempt(raw));
        let context = &context;
        async move {
            let result = pending.await;
            if debug {
                let span = tracing::Span::current();
                span.record("attempts", retry + 1);
                let record = context.snapshot();
                if let Some(status) = record.status {
                    span.record("status", status.as_u16());
                }
                if let Some(id) = record.request_id.as_ref().and_then(|v| v.to_str().ok()) {
                    span.record("request_id", id);
                }
            }
            match result {
                Ok(value) => Ok(value.into_inner()),
                // Boxed: the error path's state stays out of every call's future, which is
                // moved (copied) several times on the way to being polled.
                error => Box::pin(step.finish(error, &context.snapshot())).await,
            }
        }
    });
    // The span costs a wrapper poll per call; with DEBUG off nothing would record it.
    let outcome = if debug {
        outcome.instrument(span.clone()).await
    } else {
        outcome.await
    };
    if debug {
        span.in_scope(|| {
            tracing::debug!(
                operation,
                attempts = context.snapshot().attempts,
                elapsed_ms = started.elapsed().as_millis() as u64,
                ok = outcome.is_ok(),
                "request finished"
            );
        });
    }
    outcome
}

/// `heygen-api-rust/<version>`.
pub fn default_user_agent() -> String {
    concat!("heygen-api-rust/", env!("CARGO_PKG_VERSION")).to_string()
}

/// reqwest is built without a bundled rustls provider; install `ring` unless the application
/// chose one.
///
/// rustls 0.23.48 marks `ring`'s provider deprecated because it has no post-quantum key
/// exchange; the one that has it, aws-lc-rs, is the large C build this feature avoids. The
/// choice stays with the application: one that installs a provider before building a client
/// (aws-lc-rs's, for post-quantum key exchange) keeps it.
#[cfg(feature = "rustls")]
#[allow(deprecated)]
pub(crate) fn install_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

#[cfg(not(feature = "rustls"))]
pub(crate) fn install_crypto_provider() {}

/// Configuration shared by every copy of a client. Opaque.
#[derive(Clone)]
pub struct Shared {
    pub(crate) config: Arc<Config>,
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shared")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

pub(crate) struct Config {
    pub(crate) retry: RetryPolicy,
    pub(crate) read_timeout: Duration,
    pub(crate) write_timeout: Duration,
    pub(crate) transfer_timeout: Duration,
    pub(crate) auto_idempotency: bool,
    /// Authentication and user agent, when the caller supplied their own reqwest client.
    pub(crate) per_request_headers: Option<HeaderMap>,
    /// Client for downloads from presigned URLs, without authentication headers.
    pub(crate) download_http: OnceLock<reqwest::Client>,
    pub(crate) download_user_agent: HeaderValue,
    pub(crate) connect_timeout: Duration,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("retry", &self.retry)
            .field("read_timeout", &self.read_timeout)
            .field("write_timeout", &self.write_timeout)
            .field("transfer_timeout", &self.transfer_timeout)
            .field("auto_idempotency", &self.auto_idempotency)
            .finish_non_exhaustive()
    }
}

/// Options for one call.
///
/// ```
/// use std::time::Duration;
/// use heygen_api::RequestOptions;
///
/// let options = RequestOptions::new()
///     .idempotency_key("order-42-create")
///     .timeout(Duration::from_secs(60));
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
#[must_use]
pub struct RequestOptions {
    idempotency_key: Option<String>,
    timeout: Option<Duration>,
    extra_fields: Option<serde_json::Map<String, serde_json::Value>>,
    raw: Option<RawSlot>,
}

/// The names of the extra members only: their values may be secrets.
impl fmt::Debug for RequestOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let extra: Option<Vec<&String>> = self.extra_fields.as_ref().map(|m| m.keys().collect());
        f.debug_struct("RequestOptions")
            .field("idempotency_key", &self.idempotency_key)
            .field("timeout", &self.timeout)
            .field("extra_fields", &extra)
            .field("raw", &self.raw.is_some())
            .finish()
    }
}

/// Where a call leaves the body of its success answer, as received, when asked to.
#[derive(Clone, Default)]
pub(crate) struct RawSlot(Arc<Mutex<Option<bytes::Bytes>>>);

impl RawSlot {
    pub(crate) fn put(&self, body: bytes::Bytes) {
        match self.0.lock() {
            Ok(mut slot) => *slot = Some(body),
            Err(poisoned) => *poisoned.into_inner() = Some(body),
        }
    }

    pub(crate) fn take(&self) -> Option<bytes::Bytes> {
        match self.0.lock() {
            Ok(mut slot) => slot.take(),
            Err(poisoned) => poisoned.into_inner().take(),
        }
    }
}

impl fmt::Debug for RawSlot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RawSlot")
    }
}

impl PartialEq for RawSlot {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for RawSlot {}

impl RequestOptions {
    /// Default options: an automatic idempotency key on `POST`s (unless disabled on the
    /// client) and the client's timeouts.
    pub fn new() -> Self {
        RequestOptions::default()
    }

    /// Uses this `Idempotency-Key` (1–255 characters from `A-Z a-z 0-9 _ : . -`). A repeat
    /// within 24 hours with the same key replays the first response instead of acting twice.
    pub fn idempotency_key(mut self, key: impl Into<String>) -> Self {
        self.idempotency_key = Some(key.into());
        self
    }

    /// The idempotency key given, if one was (read by operations with an
    /// `x-heygen-request-id`).
    #[cfg_attr(not(feature = "background-removal"), allow(dead_code))]
    pub(crate) fn given_idempotency_key(&self) -> Option<&str> {
        self.idempotency_key.as_deref()
    }

    /// Timeout for each attempt of this call.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Adds a member to the call's JSON body, sent unchanged: for a field HeyGen takes that
    /// this version of the spec does not name yet. A member the request sets itself is kept
    /// as the request set it (and checked it), so this never bypasses a check. A call without
    /// a JSON object body ignores it.
    pub fn extra_field(mut self, name: impl Into<String>, value: serde_json::Value) -> Self {
        self.extra_fields
            .get_or_insert_with(serde_json::Map::new)
            .insert(name.into(), value);
        self
    }

    /// Keeps the body of the call's success answer, as received, in `slot`.
    pub(crate) fn keep_raw(mut self, slot: RawSlot) -> Self {
        self.raw = Some(slot);
        self
    }

    pub(crate) fn into_call(self) -> Result<CallOptions> {
        let idempotency_key = match self.idempotency_key {
            Some(key) => Some(IdempotencyKey::new(key)?),
            None => None,
        };
        Ok(CallOptions {
            idempotency_key,
            timeout: self.timeout,
            extra_fields: self.extra_fields,
            raw: self.raw,
        })
    }
}

/// Per-call options, checked.
#[derive(Debug, Clone, Default)]
pub(crate) struct CallOptions {
    /// The `Idempotency-Key` of every attempt of the call: the caller's, or one generated
    /// for the call.
    pub(crate) idempotency_key: Option<IdempotencyKey>,
    /// Timeout for each attempt, overriding the class default.
    pub(crate) timeout: Option<Duration>,
    /// Members added to the JSON body.
    pub(crate) extra_fields: Option<serde_json::Map<String, serde_json::Value>>,
    /// Where the success answer's body goes, as received.
    pub(crate) raw: Option<RawSlot>,
}

/// What the hooks saw of one call: options going in, the last response coming out.
#[derive(Debug, Default)]
pub(crate) struct CallContext {
    pub(crate) options: CallOptions,
    pub(crate) record: Mutex<CallRecord>,
}

impl CallContext {
    pub(crate) fn new(options: CallOptions) -> Arc<Self> {
        Arc::new(CallContext {
            options,
            record: Mutex::new(CallRecord::default()),
        })
    }

    pub(crate) fn snapshot(&self) -> CallRecord {
        match self.record.lock() {
            Ok(record) => record.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    pub(crate) fn update(&self, f: impl FnOnce(&mut CallRecord)) {
        match self.record.lock() {
            Ok(mut record) => f(&mut record),
            Err(poisoned) => f(&mut poisoned.into_inner()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idempotency_keys_follow_the_documented_pattern() {
        let check_idempotency_key =
            |key: &str| RequestOptions::new().idempotency_key(key).into_call();
        assert!(check_idempotency_key("3f2b8c4e-9a1d:x.y_z").is_ok());
        assert!(check_idempotency_key("").is_err());
        assert!(check_idempotency_key(&"k".repeat(256)).is_err());
        assert!(check_idempotency_key(&"k".repeat(255)).is_ok());
        let e = check_idempotency_key("has space").unwrap_err();
        assert_eq!(e.invalid_request().unwrap().field, "idempotency_key");
    }

    #[test]
    fn client_is_send_sync_and_clone() {
        fn check<T: Send + Sync + Clone + 'static>() {}
        check::<Client>();
    }

    #[test]
    fn debug_never_shows_the_key() {
        let builder = Client::builder()
            .api_key("sk_super_secret_value")
            .base_url("http://127.0.0.1:1");
        assert!(!format!("{builder:?}").contains("sk_super_secret_value"));
        let client = builder.build().unwrap();
        let shown = format!("{client:?}");
        assert!(!shown.contains("sk_super_secret_value"), "{shown}");
        assert!(shown.contains("127.0.0.1"));
    }

    #[test]
    fn build_reports_bad_settings() {
        let e = Client::builder()
            .api_key("k")
            .base_url("not a url")
            .build()
            .unwrap_err();
        assert_eq!(e.invalid_request().unwrap().field, "base_url");
        let e = Client::builder().api_key("  ").build().unwrap_err();
        assert_eq!(e.invalid_request().unwrap().field, "api_key");
        let e = Client::builder().api_key("bad\nkey").build().unwrap_err();
        assert!(!e.to_string().contains("bad\nkey"));
    }

    #[test]
    fn trailing_slashes_are_dropped_from_the_base_url() {
        let client = Client::builder()
            .api_key("k")
            .base_url("http://127.0.0.1:9/")
            .build()
            .unwrap();
        assert_eq!(client.base_url(), "http://127.0.0.1:9");
    }
}
