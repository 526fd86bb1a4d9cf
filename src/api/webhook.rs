//! Turning a webhook delivery into a trusted, typed event.
//!
//! HeyGen signs deliveries to registered endpoints with the endpoint's secret: the
//! `Heygen-Signature` header is the hex HMAC-SHA256 of the raw body (some deliveries have been
//! seen using `Signature`; both are read). `Heygen-Event-Id` identifies the event; retried
//! deliveries repeat it.
//!
//! **What a verified delivery proves.** The signature covers the body only, not the
//! timestamp or the event id. So a delivery that verifies proves that its body was signed
//! with the endpoint's secret, by HeyGen or by whoever else holds the secret; it does not prove
//! when, nor that this is the first time it arrives: a captured delivery re-sent later with a
//! fresh `Heygen-Timestamp` and a new event id is the same signed body. The verifier therefore
//! also:
//! - refuses a delivery with no timestamp ([`WebhookError::MissingTimestamp`]; a deployment
//!   whose deliveries carry none can accept them with [`Verifier::allow_missing_timestamp`])
//!   or one further from now than [`Verifier::tolerance`];
//! - remembers the bodies it accepted (the last [`DEFAULT_REMEMBERED`], shared by its clones;
//!   [`Verifier::remember`]) and refuses the same body again as [`WebhookError::Replayed`],
//!   whatever its headers say. Answer a replay with a 2xx and do not act on it again: it is
//!   also how HeyGen's own retry of a delivery you already took arrives.
//!
//! Acting on a delivery once is then the verifier's job; acting on a *job* once is still
//! yours: fetch the job before trusting a state, as the batch runner does.
//!
//! ```
//! use heygen_api::webhook::{self, Verifier, WebhookEvent};
//!
//! let secret = "whsec_example";
//! let body = br#"{"event_type":"video_agent.success","event_data":{"video_id":"v1","callback_id":"order-42"}}"#;
//! // In a receiver, `headers` is the request's header map; here it is made by the signing helper.
//! let headers = webhook::sign(secret, body, webhook::now_unix(), "evt_1");
//!
//! let delivery = Verifier::new(secret).verify(&headers, body)?;
//! assert_eq!(delivery.event_id.as_deref(), Some("evt_1"));
//! match delivery.event {
//!     WebhookEvent::VideoAgentSuccess(event) => {
//!         assert_eq!(event.video_id(), Some("v1"));
//!         assert_eq!(event.callback_id(), Some("order-42"));
//!     }
//!     other => panic!("unexpected {other:?}"),
//! }
//! # Ok::<(), heygen_api::webhook::WebhookError>(())
//! ```

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use serde_json::{Map, Value};
use sha2::Sha256;

use crate::api::open_enum::open_enum;

open_enum! {
    /// A webhook event type.
    EventType {
        /// An avatar video completed.
        AvatarVideoSuccess = "avatar_video.success",
        /// An avatar video failed.
        AvatarVideoFail = "avatar_video.fail",
        /// An avatar video GIF completed.
        AvatarVideoGifSuccess = "avatar_video_gif.success",
        /// An avatar video GIF failed.
        AvatarVideoGifFail = "avatar_video_gif.fail",
        /// An avatar video caption completed.
        AvatarVideoCaptionSuccess = "avatar_video_caption.success",
        /// An avatar video caption failed.
        AvatarVideoCaptionFail = "avatar_video_caption.fail",
        /// A video translation completed.
        VideoTranslateSuccess = "video_translate.success",
        /// A video translation failed.
        VideoTranslateFail = "video_translate.fail",
        /// A video translation failed validation before starting.
        VideoTranslatePreflightValidationFailed = "video_translate.preflight.validation_failed",
        /// A video translation could not download its input.
        VideoTranslatePreflightDownloadFailed = "video_translate.preflight.download_failed",
        /// A Video Agent session completed.
        VideoAgentSuccess = "video_agent.success",
        /// A Video Agent session failed.
        VideoAgentFail = "video_agent.fail",
        /// A personalized video event.
        PersonalizedVideo = "personalized_video",
        /// An instant avatar completed.
        InstantAvatarSuccess = "instant_avatar.success",
        /// An instant avatar failed.
        InstantAvatarFail = "instant_avatar.fail",
        /// A photo avatar generation completed.
        PhotoAvatarGenerationSuccess = "photo_avatar_generation.success",
        /// A photo avatar generation failed.
        PhotoAvatarGenerationFail = "photo_avatar_generation.fail",
        /// A photo avatar training completed.
        PhotoAvatarTrainSuccess = "photo_avatar_train.success",
        /// A photo avatar training failed.
        PhotoAvatarTrainFail = "photo_avatar_train.fail",
        /// Adding motion to a photo avatar completed.
        PhotoAvatarAddMotionSuccess = "photo_avatar_add_motion.success",
        /// Adding motion to a photo avatar failed.
        PhotoAvatarAddMotionFail = "photo_avatar_add_motion.fail",
        /// A proofread creation completed.
        ProofreadCreationSuccess = "proofread_creation.success",
        /// A proofread creation failed.
        ProofreadCreationFail = "proofread_creation.fail",
        /// A live avatar completed.
        LiveAvatarSuccess = "live_avatar.success",
        /// A live avatar failed.
        LiveAvatarFail = "live_avatar.fail",
        /// A HyperFrames video completed.
        HyperframesVideoSuccess = "hyperframes_video.success",
        /// A HyperFrames video failed.
        HyperframesVideoFail = "hyperframes_video.fail",
        /// An AI clipping job completed.
        AiClippingSuccess = "ai_clipping.success",
        /// An AI clipping job failed.
        AiClippingFail = "ai_clipping.fail",
        /// A batch finished.
        BatchFinished = "batch.finished",
    }
}

/// The signature header HeyGen documents.
pub const SIGNATURE_HEADER: &str = "heygen-signature";
/// The signature header seen on some production deliveries; read when the first is absent.
pub const FALLBACK_SIGNATURE_HEADER: &str = "signature";
/// When the event was dispatched, in Unix seconds.
pub const TIMESTAMP_HEADER: &str = "heygen-timestamp";
/// The timestamp header seen beside the unprefixed `signature`; read when the first is absent.
pub const FALLBACK_TIMESTAMP_HEADER: &str = "timestamp";
/// Unique ID of the event; repeated on redelivery.
pub const EVENT_ID_HEADER: &str = "heygen-event-id";
/// Default accepted clock difference for `Heygen-Timestamp`, either direction.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(300);
/// Default largest accepted body.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;
/// How many accepted bodies a verifier remembers by default, to refuse them again (32 bytes
/// each, about 3 MiB in all).
pub const DEFAULT_REMEMBERED: usize = 100_000;

type HmacSha256 = Hmac<Sha256>;

/// Read access to request headers, by case-insensitive name.
pub trait Headers {
    /// The value of the first header with this name (any case), if it is valid text.
    fn header(&self, name: &str) -> Option<&str>;
}

impl Headers for http::HeaderMap {
    fn header(&self, name: &str) -> Option<&str> {
        // The names `verify` asks for are looked up pre-parsed.
        let value = match name {
            SIGNATURE_HEADER => self.get(&HEYGEN_SIGNATURE),
            TIMESTAMP_HEADER => self.get(&HEYGEN_TIMESTAMP),
            EVENT_ID_HEADER => self.get(&HEYGEN_EVENT_ID),
            other => self.get(other),
        };
        value.and_then(|v| v.to_str().ok())
    }
}

const HEYGEN_SIGNATURE: http::HeaderName = http::HeaderName::from_static(SIGNATURE_HEADER);
const HEYGEN_TIMESTAMP: http::HeaderName = http::HeaderName::from_static(TIMESTAMP_HEADER);
const HEYGEN_EVENT_ID: http::HeaderName = http::HeaderName::from_static(EVENT_ID_HEADER);

impl<S: std::hash::BuildHasher> Headers for HashMap<String, String, S> {
    fn header(&self, name: &str) -> Option<&str> {
        self.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl Headers for BTreeMap<String, String> {
    fn header(&self, name: &str) -> Option<&str> {
        self.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl Headers for [(String, String)] {
    fn header(&self, name: &str) -> Option<&str> {
        self.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl Headers for Vec<(String, String)> {
    fn header(&self, name: &str) -> Option<&str> {
        self.as_slice().header(name)
    }
}

/// Why a delivery was refused.
#[derive(Debug)]
#[non_exhaustive]
pub enum WebhookError {
    /// Neither `Heygen-Signature` nor `Signature` was present.
    MissingSignature,
    /// The signature does not match the body under any configured secret (or is not hex).
    BadSignature,
    /// `Heygen-Timestamp` is further from now than the tolerance.
    StaleTimestamp {
        /// The delivery's timestamp (Unix seconds).
        timestamp: u64,
        /// The verifier's clock (Unix seconds).
        now: u64,
        /// The accepted difference.
        tolerance: Duration,
    },
    /// `Heygen-Timestamp` is not a Unix time in seconds.
    InvalidTimestamp(String),
    /// No `Heygen-Timestamp` (nor `timestamp`) header: its age cannot be checked.
    MissingTimestamp,
    /// This body was accepted before (a replay, or a retry of a delivery already taken):
    /// answer it with a 2xx and do not act on it again.
    Replayed {
        /// The delivery's event id, if it has one.
        event_id: Option<String>,
    },
    /// The body is larger than the verifier accepts.
    BodyTooLarge {
        /// The body's size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The body is not a webhook payload (`{"event_type", "event_data"}`).
    MalformedPayload(String),
    /// The verifier has no secret to check against.
    NoSecret,
}

impl fmt::Display for WebhookError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WebhookError::MissingSignature => {
                write!(f, "webhook has no Heygen-Signature (or Signature) header")
            }
            WebhookError::BadSignature => write!(f, "webhook signature does not match the body"),
            WebhookError::StaleTimestamp {
                timestamp,
                now,
                tolerance,
            } => write!(
                f,
                "webhook timestamp {timestamp} is more than {}s from now ({now})",
                tolerance.as_secs()
            ),
            WebhookError::InvalidTimestamp(value) => {
                write!(f, "webhook timestamp {value:?} is not Unix seconds")
            }
            WebhookError::MissingTimestamp => write!(
                f,
                "webhook has no Heygen-Timestamp header, so its age cannot be checked"
            ),
            WebhookError::Replayed { event_id } => match event_id {
                Some(id) => write!(
                    f,
                    "webhook body was accepted before (event {id}): a replay or a retry"
                ),
                None => write!(f, "webhook body was accepted before: a replay or a retry"),
            },
            WebhookError::BodyTooLarge { size, limit } => {
                write!(f, "webhook body is {size} bytes; the limit is {limit}")
            }
            WebhookError::MalformedPayload(why) => write!(f, "webhook payload is malformed: {why}"),
            WebhookError::NoSecret => write!(f, "webhook verifier has no secret"),
        }
    }
}

impl std::error::Error for WebhookError {}

/// A signing secret, kept as a MAC already keyed with it (the key schedule runs once, not per
/// delivery); its value never appears in `Debug`.
#[derive(Clone)]
struct Secret(HmacSha256);

impl Secret {
    /// `None` only if HMAC refused the key, which it does for no length.
    fn new(secret: String) -> Option<Self> {
        HmacSha256::new_from_slice(secret.as_bytes())
            .ok()
            .map(Secret)
    }

    fn signed(&self, body: &[u8], signature: &[u8]) -> bool {
        let mut mac = self.0.clone();
        mac.update(body);
        mac.verify_slice(signature).is_ok()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(redacted)")
    }
}

type Clock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

/// The signatures of the bodies a verifier accepted, the oldest forgotten first.
#[derive(Debug, Default)]
struct Accepted {
    order: std::collections::VecDeque<[u8; 32]>,
    known: std::collections::HashSet<[u8; 32]>,
}

impl Accepted {
    /// Notes `signature`, forgetting the oldest beyond `most`; `false` if it was known.
    fn note(&mut self, signature: [u8; 32], most: usize) -> bool {
        if !self.known.insert(signature) {
            return false;
        }
        self.order.push_back(signature);
        while self.order.len() > most {
            if let Some(oldest) = self.order.pop_front() {
                self.known.remove(&oldest);
            }
        }
        true
    }
}

/// Verifies deliveries against one or more endpoint secrets.
///
/// Several secrets are accepted at once so that a rotation does not drop deliveries signed
/// with the previous secret while the new one is rolled out.
#[derive(Clone)]
#[must_use]
pub struct Verifier {
    secrets: Vec<Secret>,
    tolerance: Duration,
    max_body: usize,
    clock: Clock,
    timestamp_required: bool,
    remembered: usize,
    accepted: Arc<std::sync::Mutex<Accepted>>,
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("secrets", &self.secrets.len())
            .field("tolerance", &self.tolerance)
            .field("max_body", &self.max_body)
            .field("timestamp_required", &self.timestamp_required)
            .field("remembered", &self.remembered)
            .finish_non_exhaustive()
    }
}

impl Verifier {
    /// A verifier for one endpoint secret (the whole string, e.g. `whsec_…`, is the key).
    pub fn new(secret: impl Into<String>) -> Self {
        Verifier {
            secrets: Secret::new(secret.into()).into_iter().collect(),
            tolerance: DEFAULT_TOLERANCE,
            max_body: DEFAULT_MAX_BODY_BYTES,
            clock: Arc::new(SystemTime::now),
            timestamp_required: true,
            remembered: DEFAULT_REMEMBERED,
            accepted: Arc::default(),
        }
    }

    /// Accepts deliveries that carry no timestamp (their age unchecked), for a deployment
    /// whose deliveries come without one. A timestamp that is there is still checked.
    pub fn allow_missing_timestamp(mut self) -> Self {
        self.timestamp_required = false;
        self
    }

    /// How many accepted bodies to remember, to refuse them again as
    /// [`WebhookError::Replayed`] (default [`DEFAULT_REMEMBERED`]; 0 remembers none, for a
    /// receiver that de-duplicates on its own). The memory is shared by the verifier's clones.
    pub fn remember(mut self, deliveries: usize) -> Self {
        self.remembered = deliveries;
        self
    }

    /// Also accepts deliveries signed with this secret (during a rotation).
    pub fn add_secret(mut self, secret: impl Into<String>) -> Self {
        self.secrets.extend(Secret::new(secret.into()));
        self
    }

    /// Accepted clock difference for `Heygen-Timestamp`, either direction (default 300 s).
    pub fn tolerance(mut self, tolerance: Duration) -> Self {
        self.tolerance = tolerance;
        self
    }

    /// Largest accepted body (default 1 MiB).
    pub fn max_body_bytes(mut self, limit: usize) -> Self {
        self.max_body = limit;
        self
    }

    /// Replaces the clock used for the timestamp check (for tests).
    pub fn clock(mut self, clock: impl Fn() -> SystemTime + Send + Sync + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Checks a delivery's signature and timestamp, parses it, and refuses a body it accepted
    /// before.
    ///
    /// Pass the request's headers and its **raw** body bytes, exactly as received: a
    /// re-serialized JSON body will not verify.
    ///
    /// # Errors
    /// [`WebhookError`] saying which check failed.
    pub fn verify<H: Headers + ?Sized>(
        &self,
        headers: &H,
        body: &[u8],
    ) -> Result<Delivery, WebhookError> {
        if body.len() > self.max_body {
            return Err(WebhookError::BodyTooLarge {
                size: body.len(),
                limit: self.max_body,
            });
        }
        if self.secrets.is_empty() {
            return Err(WebhookError::NoSecret);
        }
        let signature = headers
            .header(SIGNATURE_HEADER)
            .or_else(|| headers.header(FALLBACK_SIGNATURE_HEADER))
            .ok_or(WebhookError::MissingSignature)?;
        let signature = signature.trim_ascii();
        let signature = signature.strip_prefix("sha256=").unwrap_or(signature);
        // 64 hex digits, decoded on the stack; anything else fails before any MAC runs.
        let mut expected = [0u8; 32];
        hex::decode_to_slice(signature, &mut expected).map_err(|_| WebhookError::BadSignature)?;
        if !self
            .secrets
            .iter()
            .any(|secret| secret.signed(body, &expected))
        {
            return Err(WebhookError::BadSignature);
        }
        let timestamp = match headers
            .header(TIMESTAMP_HEADER)
            .or_else(|| headers.header(FALLBACK_TIMESTAMP_HEADER))
        {
            Some(value) => Some(self.check_timestamp(value)?),
            None if self.timestamp_required => return Err(WebhookError::MissingTimestamp),
            None => None,
        };
        let event = parse(body)?;
        let event_id = headers
            .header(EVENT_ID_HEADER)
            .map(str::to_string)
            .or_else(|| {
                event
                    .payload()
                    .and_then(|p| p.event_id().map(str::to_string))
            });
        // Last, once everything else holds: a refused delivery is not remembered.
        if self.remembered > 0 {
            let fresh = match self.accepted.lock() {
                Ok(mut accepted) => accepted.note(expected, self.remembered),
                Err(poisoned) => poisoned.into_inner().note(expected, self.remembered),
            };
            if !fresh {
                return Err(WebhookError::Replayed { event_id });
            }
        }
        Ok(Delivery {
            event,
            event_id,
            timestamp,
        })
    }

    fn check_timestamp(&self, value: &str) -> Result<u64, WebhookError> {
        let timestamp: u64 = value
            .trim_ascii()
            .parse()
            .map_err(|_| WebhookError::InvalidTimestamp(value.chars().take(64).collect()))?;
        let now = (self.clock)()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        if now.abs_diff(timestamp) > self.tolerance.as_secs() {
            return Err(WebhookError::StaleTimestamp {
                timestamp,
                now,
                tolerance: self.tolerance,
            });
        }
        Ok(timestamp)
    }
}

/// A verified delivery.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Delivery {
    /// The event.
    pub event: WebhookEvent,
    /// `Heygen-Event-Id` (or the body's `event_id`): de-duplicate on it, since failed
    /// deliveries are retried.
    pub event_id: Option<String>,
    /// `Heygen-Timestamp`, when sent.
    pub timestamp: Option<u64>,
}

/// Parses a per-request `callback_url` delivery **without verifying it**. Such deliveries are
/// not known to be signed, so treat their content as a hint: fetch the video
/// (`client.videos().get(..)`) before acting on it.
///
/// # Errors
/// [`WebhookError::MalformedPayload`] when the body is not a webhook payload;
/// [`WebhookError::BodyTooLarge`] over 1 MiB.
pub fn parse_unsigned_callback(body: &[u8]) -> Result<WebhookEvent, WebhookError> {
    if body.len() > DEFAULT_MAX_BODY_BYTES {
        return Err(WebhookError::BodyTooLarge {
            size: body.len(),
            limit: DEFAULT_MAX_BODY_BYTES,
        });
    }
    parse(body)
}

/// The hex HMAC-SHA256 of `body` under `secret`, as HeyGen puts in `Heygen-Signature`.
pub fn signature(secret: &str, body: &[u8]) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = match HmacSha256::new_from_slice(secret.as_bytes()) {
        Ok(mac) => mac,
        Err(_) => return String::new(),
    };
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// The headers HeyGen sends with a delivery of `body`: signature, timestamp and event id.
/// For tests of your receiver, and for the simulator.
pub fn sign(secret: &str, body: &[u8], timestamp: u64, event_id: &str) -> http::HeaderMap {
    let mut headers = http::HeaderMap::new();
    let pairs = [
        (SIGNATURE_HEADER, signature(secret, body)),
        (TIMESTAMP_HEADER, timestamp.to_string()),
        (EVENT_ID_HEADER, event_id.to_string()),
        ("content-type", "application/json".to_string()),
    ];
    for (name, value) in pairs {
        if let Ok(value) = http::HeaderValue::from_str(&value) {
            headers.insert(http::HeaderName::from_static(name), value);
        }
    }
    headers
}

/// The current Unix time in seconds.
pub fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// An event's fields, read from wherever HeyGen puts them.
///
/// The known fields are read from `event_data` on demand (nothing is copied at parse time);
/// [`EventPayload::data`] has everything as sent.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct EventPayload {
    /// The event type.
    pub event_type: EventType,
    /// `event_data` as sent.
    pub data: Map<String, Value>,
    /// `event_id` from the top level of the body, when present.
    event_id: Option<String>,
    /// `callback_id` from the top level of the body, when present.
    top_callback_id: Option<String>,
}

impl EventPayload {
    fn field(&self, key: &str) -> Option<&str> {
        match self.data.get(key)? {
            Value::String(s) if !s.is_empty() => Some(s),
            _ => None,
        }
    }

    /// `event_id` from the body, when present (deliveries carry it in `Heygen-Event-Id`).
    pub fn event_id(&self) -> Option<&str> {
        self.event_id.as_deref()
    }

    /// The Video Agent session (video_agent events).
    pub fn session_id(&self) -> Option<&str> {
        self.field("session_id")
    }

    /// The video.
    pub fn video_id(&self) -> Option<&str> {
        self.field("video_id")
    }

    /// The job of another family the event concerns: a translation's `video_translate_id`,
    /// an avatar's `avatar_group_id`, a proofread's `proofread_id`, or the `job_id` or `id`
    /// of a clipping job.
    pub fn job_id(&self) -> Option<&str> {
        [
            "video_translate_id",
            "video_translation_id",
            "avatar_group_id",
            "proofread_id",
            "job_id",
            "id",
        ]
        .iter()
        .find_map(|key| self.field(key))
    }

    /// The finished file's URL (`url` or `video_url`).
    pub fn url(&self) -> Option<&str> {
        self.field("url").or_else(|| self.field("video_url"))
    }

    /// The `callback_id` given at creation, from `event_data` or the top level.
    pub fn callback_id(&self) -> Option<&str> {
        self.field("callback_id")
            .or(self.top_callback_id.as_deref())
    }

    /// Machine-readable failure reason, for failure events.
    pub fn failure_code(&self) -> Option<&str> {
        self.field("failure_code")
    }

    /// Failure text, from whichever of `failure_message`, `message`, `msg` is present.
    pub fn failure_message(&self) -> Option<&str> {
        self.field("failure_message")
            .or_else(|| self.field("message"))
            .or_else(|| self.field("msg"))
    }

    /// Whether this is a failure event (`….fail`, `….failed`).
    pub fn is_failure(&self) -> bool {
        let name = self.event_type.as_str();
        name.ends_with(".fail") || name.ends_with("_failed")
    }
}

macro_rules! webhook_events {
    ($($variant:ident),+ $(,)?) => {
        /// A webhook event. Each documented event type is a variant; types this version does
        /// not know arrive as [`WebhookEvent::Unknown`].
        #[derive(Debug, Clone, PartialEq)]
        #[non_exhaustive]
        pub enum WebhookEvent {
            $(
                #[doc = concat!("The `", stringify!($variant), "` event (see [`EventType::", stringify!($variant), "`]).")]
                $variant(EventPayload),
            )+
            /// An event type this version does not know.
            Unknown {
                /// The `event_type` as sent.
                event_type: String,
                /// The whole body.
                raw: Value,
            },
        }

        impl WebhookEvent {
            /// The variant of a payload whose type is known (unknown types never get here).
            fn from_known(payload: EventPayload) -> Self {
                match &payload.event_type {
                    $( EventType::$variant => WebhookEvent::$variant(payload), )+
                    other => WebhookEvent::Unknown {
                        event_type: other.as_str().to_string(),
                        raw: Value::Object(payload.data),
                    },
                }
            }

            /// The fields of a known event.
            pub fn payload(&self) -> Option<&EventPayload> {
                match self {
                    $( WebhookEvent::$variant(payload) => Some(payload), )+
                    WebhookEvent::Unknown { .. } => None,
                }
            }
        }
    };
}

webhook_events!(
    AvatarVideoSuccess,
    AvatarVideoFail,
    AvatarVideoGifSuccess,
    AvatarVideoGifFail,
    AvatarVideoCaptionSuccess,
    AvatarVideoCaptionFail,
    VideoTranslateSuccess,
    VideoTranslateFail,
    VideoTranslatePreflightValidationFailed,
    VideoTranslatePreflightDownloadFailed,
    VideoAgentSuccess,
    VideoAgentFail,
    PersonalizedVideo,
    InstantAvatarSuccess,
    InstantAvatarFail,
    PhotoAvatarGenerationSuccess,
    PhotoAvatarGenerationFail,
    PhotoAvatarTrainSuccess,
    PhotoAvatarTrainFail,
    PhotoAvatarAddMotionSuccess,
    PhotoAvatarAddMotionFail,
    ProofreadCreationSuccess,
    ProofreadCreationFail,
    LiveAvatarSuccess,
    LiveAvatarFail,
    HyperframesVideoSuccess,
    HyperframesVideoFail,
    AiClippingSuccess,
    AiClippingFail,
    BatchFinished,
);

impl WebhookEvent {
    /// The event type as sent.
    pub fn event_type(&self) -> &str {
        match self {
            WebhookEvent::Unknown { event_type, .. } => event_type,
            known => known.payload().map_or("", |p| p.event_type.as_str()),
        }
    }
}

fn text_value(value: Option<Value>) -> Option<String> {
    match value? {
        Value::String(s) if !s.is_empty() => Some(s),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Parses a body, with a specific error for each way it can be malformed.
fn parse(body: &[u8]) -> Result<WebhookEvent, WebhookError> {
    let mut raw: Value = serde_json::from_slice(body)
        .map_err(|e| WebhookError::MalformedPayload(format!("not JSON ({e})")))?;
    let top = raw
        .as_object_mut()
        .ok_or_else(|| WebhookError::MalformedPayload("not a JSON object".into()))?;
    let event_type = match top.get("event_type").or_else(|| top.get("event")) {
        Some(Value::String(t)) if !t.is_empty() => EventType::from(t.as_str()),
        _ => {
            return Err(WebhookError::MalformedPayload(
                "no `event_type` string".into(),
            ))
        }
    };
    if !matches!(
        top.get("event_data"),
        None | Some(Value::Null | Value::Object(_))
    ) {
        return Err(WebhookError::MalformedPayload(
            "`event_data` is not an object".into(),
        ));
    }
    if let EventType::Unknown(name) = event_type {
        return Ok(WebhookEvent::Unknown {
            event_type: name,
            raw,
        });
    }
    // Known event: move the data out instead of copying it.
    let data = match top.remove("event_data") {
        Some(Value::Object(data)) => data,
        _ => Map::new(),
    };
    let payload = EventPayload {
        event_type,
        event_id: text_value(top.remove("event_id")),
        top_callback_id: text_value(top.remove("callback_id")),
        data,
    };
    Ok(WebhookEvent::from_known(payload))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_appear_in_debug() {
        let verifier = Verifier::new("whsec_very_secret").add_secret("whsec_other_secret");
        let shown = format!("{verifier:?}");
        assert!(
            !shown.contains("very_secret") && !shown.contains("other_secret"),
            "{shown}"
        );
    }

    #[test]
    fn signatures_are_read_in_either_case_and_with_a_prefix() {
        let body = br#"{"event_type":"video_agent.success"}"#;
        let good = signature("whsec_x", body);
        // The same body again and again, without a timestamp: the signature alone is checked.
        let verifier = Verifier::new("whsec_x")
            .allow_missing_timestamp()
            .remember(0);
        for sig in [good.clone(), good.to_uppercase(), format!("sha256={good}")] {
            let mut headers = http::HeaderMap::new();
            headers.insert(SIGNATURE_HEADER, http::HeaderValue::from_str(&sig).unwrap());
            assert!(verifier.verify(&headers, body).is_ok(), "{sig}");
        }
        let mut flipped = good.into_bytes();
        flipped[10] = if flipped[10] == b'0' { b'1' } else { b'0' };
        let mut headers = http::HeaderMap::new();
        headers.insert(
            SIGNATURE_HEADER,
            http::HeaderValue::from_bytes(&flipped).unwrap(),
        );
        assert!(matches!(
            verifier.verify(&headers, body),
            Err(WebhookError::BadSignature)
        ));
    }

    #[test]
    fn signatures_of_the_wrong_length_are_refused_before_any_mac() {
        let body = br#"{"event_type":"video_agent.success"}"#;
        let good = signature("whsec_x", body);
        let verifier = Verifier::new("whsec_x").allow_missing_timestamp();
        for sig in [&good[..62], &format!("{good}00")[..], &good[..]] {
            let mut headers = http::HeaderMap::new();
            headers.insert(SIGNATURE_HEADER, http::HeaderValue::from_str(sig).unwrap());
            let result = verifier.verify(&headers, body);
            assert_eq!(result.is_ok(), sig.len() == 64, "{sig}: {result:?}");
        }
    }

    /// The signature covers the body alone: the same body under a new event id and a fresh
    /// timestamp is a replay, refused once accepted; refused deliveries are not remembered;
    /// the memory is bounded and shared by clones.
    #[test]
    fn a_body_accepted_once_is_refused_again_whatever_its_headers() {
        let body = br#"{"event_type":"video_agent.success","event_data":{"video_id":"v1"}}"#;
        let verifier = Verifier::new("whsec_x");
        let forged = sign("whsec_other", body, now_unix(), "evt_0");
        assert!(matches!(
            verifier.verify(&forged, body),
            Err(WebhookError::BadSignature)
        ));
        let first = sign("whsec_x", body, now_unix(), "evt_1");
        assert!(
            verifier.verify(&first, body).is_ok(),
            "not poisoned by the forgery"
        );
        let replay = sign("whsec_x", body, now_unix() + 60, "evt_2");
        match verifier.clone().verify(&replay, body) {
            Err(WebhookError::Replayed { event_id }) => {
                assert_eq!(event_id.as_deref(), Some("evt_2"))
            }
            other => panic!("{other:?}"),
        }
        // None remembered: the receiver de-duplicates on its own.
        let forgetful = Verifier::new("whsec_x").remember(0);
        assert!(forgetful.verify(&first, body).is_ok());
        assert!(forgetful.verify(&replay, body).is_ok());
        // Two remembered: the oldest of three is forgotten.
        let small = Verifier::new("whsec_x").remember(2);
        let bodies: Vec<String> = (0..3)
            .map(|n| {
                format!(
                    r#"{{"event_type":"avatar_video.success","event_data":{{"video_id":"v{n}"}}}}"#
                )
            })
            .collect();
        for body in &bodies {
            let headers = sign("whsec_x", body.as_bytes(), now_unix(), "evt");
            assert!(small.verify(&headers, body.as_bytes()).is_ok());
        }
        let oldest = sign("whsec_x", bodies[0].as_bytes(), now_unix(), "evt");
        assert!(small.verify(&oldest, bodies[0].as_bytes()).is_ok());
        let newest = sign("whsec_x", bodies[2].as_bytes(), now_unix(), "evt");
        assert!(matches!(
            small.verify(&newest, bodies[2].as_bytes()),
            Err(WebhookError::Replayed { .. })
        ));
    }

    /// No timestamp, no delivery, unless the verifier is told to accept it; `timestamp`
    /// (unprefixed) is read as well.
    #[test]
    fn a_delivery_without_a_timestamp_is_refused_unless_allowed() {
        let body = br#"{"event_type":"video_agent.success","event_data":{}}"#;
        let mut headers = http::HeaderMap::new();
        headers.insert(
            FALLBACK_SIGNATURE_HEADER,
            http::HeaderValue::from_str(&signature("whsec_x", body)).unwrap(),
        );
        assert!(matches!(
            Verifier::new("whsec_x").verify(&headers, body),
            Err(WebhookError::MissingTimestamp)
        ));
        assert!(Verifier::new("whsec_x")
            .allow_missing_timestamp()
            .verify(&headers, body)
            .is_ok());
        headers.insert(
            FALLBACK_TIMESTAMP_HEADER,
            http::HeaderValue::from_str(&now_unix().to_string()).unwrap(),
        );
        let delivery = Verifier::new("whsec_x").verify(&headers, body).unwrap();
        assert!(delivery.timestamp.is_some());
    }

    #[test]
    fn every_known_event_type_has_a_variant() {
        for name in EventType::KNOWN {
            let body = format!(r#"{{"event_type":"{name}","event_data":{{}}}}"#);
            let event = parse_unsigned_callback(body.as_bytes()).unwrap();
            assert!(event.payload().is_some(), "{name} parsed as {event:?}");
            assert_eq!(event.event_type(), *name);
        }
    }
}
