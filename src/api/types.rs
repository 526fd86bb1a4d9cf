//! The API's data types.
//!
//! Models are generated from `openapi.yaml`, so every field carries the spec's description.
//! Values the server controls (statuses, message types, event types, endpoint statuses) are open
//! enums: a value this version does not know decodes as `Unknown(String)` instead of failing the
//! whole response.

// Every generated model, under its spec name; the handwritten types below take precedence.
pub use crate::api::raw::types::*;

use std::fmt;

use base64::Engine as _;

use crate::api::invalid::InvalidRequest;
use crate::api::open_enum::open_enum;
/// The webhook event types (defined with the webhooks; the generated types name them).
pub use crate::api::webhook::EventType;

// An open enum for every string enum of the spec not written by hand below (`build.rs`).
include!(concat!(env!("OUT_DIR"), "/open_enums.rs"));

/// How the Video Agent runs a session.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[cfg_attr(feature = "contract", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum AgentMode {
    /// One-shot: the agent proceeds on its own and produces one video.
    #[default]
    Generate,
    /// Multi-turn: the agent may pause for decisions (`reviewing`, `waiting_for_input`) and
    /// accepts revisions.
    Chat,
}

/// Video orientation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "contract", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Orientation {
    /// 16:9.
    Landscape,
    /// 9:16.
    Portrait,
}

open_enum! {
    /// Status of a Video Agent session. The create response uses a subset
    /// (`generating`, `thinking`, `completed`, `failed`).
    SessionStatus {
        /// The agent is working (scripting, composing scenes, preparing the storyboard).
        Thinking = "thinking",
        /// The agent is paused, waiting for your input.
        WaitingForInput = "waiting_for_input",
        /// The agent is paused at a review checkpoint (chat mode).
        Reviewing = "reviewing",
        /// The storyboard is approved and the video is rendering.
        Generating = "generating",
        /// The video is ready.
        Completed = "completed",
        /// Something went wrong; the session's messages say what.
        Failed = "failed",
    }
}

impl SessionStatus {
    /// Whether the session will not change on its own any more.
    pub fn is_terminal(&self) -> bool {
        matches!(self, SessionStatus::Completed | SessionStatus::Failed)
    }

    /// Whether the session is paused until it receives a message.
    pub fn needs_input(&self) -> bool {
        matches!(
            self,
            SessionStatus::WaitingForInput | SessionStatus::Reviewing
        )
    }
}

open_enum! {
    /// Status of a rendered video.
    VideoStatus {
        /// Queued for processing.
        Pending = "pending",
        /// Being generated.
        Processing = "processing",
        /// Ready: `video_url` is available.
        Completed = "completed",
        /// Failed: see `failure_code` and `failure_message`.
        Failed = "failed",
    }
}

impl VideoStatus {
    /// Whether the video will not change on its own any more.
    pub fn is_terminal(&self) -> bool {
        matches!(self, VideoStatus::Completed | VideoStatus::Failed)
    }
}

open_enum! {
    /// Type of a session message.
    MessageType {
        /// Plain text.
        Text = "text",
        /// A message referring to resources (`resource_ids`).
        Resource = "resource",
        /// An error report.
        Error = "error",
    }
}

open_enum! {
    /// Status of a webhook endpoint.
    EndpointStatus {
        /// Deliveries are made.
        Enabled = "enabled",
        /// Deliveries are paused.
        Disabled = "disabled",
    }
}

/// A key that makes a write safe to repeat: HeyGen replays the first response to every request
/// that carries the same key (for 24 hours; keys are scoped per endpoint and resource).
/// 1–255 characters from `A-Z a-z 0-9 _ - : .`.
///
/// ```
/// use heygen_api::types::IdempotencyKey;
///
/// let key: IdempotencyKey = "order-42:create".parse()?;
/// assert_eq!(key.as_str(), "order-42:create");
/// assert!("has space".parse::<IdempotencyKey>().is_err());
/// # Ok::<(), heygen_api::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// Checks `key` against the documented length and characters.
    ///
    /// # Errors
    /// [`Error::InvalidRequest`](crate::Error::InvalidRequest) for field `idempotency_key`,
    /// saying which rule the key breaks.
    pub fn new(key: impl Into<String>) -> Result<Self, InvalidRequest> {
        let key = key.into();
        let length = key.chars().count();
        if !(1..=255).contains(&length) {
            return Err(InvalidRequest::new(
                "idempotency_key",
                format!("must be 1-255 characters long, got {length}"),
            ));
        }
        if let Some(bad) = key
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | ':' | '.')))
        {
            return Err(InvalidRequest::new(
                "idempotency_key",
                format!("contains {bad:?}; allowed are A-Z, a-z, 0-9, '_', '-', ':' and '.'"),
            ));
        }
        Ok(IdempotencyKey(key))
    }

    /// A fresh random key (a UUID v4), as the client adds to `POST`s.
    pub fn generate() -> Self {
        IdempotencyKey(uuid::Uuid::new_v4().to_string())
    }

    /// The key as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for IdempotencyKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for IdempotencyKey {
    type Err = InvalidRequest;
    fn from_str(key: &str) -> Result<Self, InvalidRequest> {
        IdempotencyKey::new(key)
    }
}

impl TryFrom<&str> for IdempotencyKey {
    type Error = InvalidRequest;
    fn try_from(key: &str) -> Result<Self, InvalidRequest> {
        IdempotencyKey::new(key)
    }
}

impl TryFrom<String> for IdempotencyKey {
    type Error = InvalidRequest;
    fn try_from(key: String) -> Result<Self, InvalidRequest> {
        IdempotencyKey::new(key)
    }
}

impl From<IdempotencyKey> for String {
    fn from(key: IdempotencyKey) -> Self {
        key.0
    }
}

impl<'de> serde::Deserialize<'de> for IdempotencyKey {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let key = String::deserialize(deserializer)?;
        IdempotencyKey::new(key).map_err(serde::de::Error::custom)
    }
}

#[cfg(feature = "contract")]
impl schemars::JsonSchema for IdempotencyKey {
    fn schema_name() -> String {
        "IdempotencyKey".to_string()
    }

    fn json_schema(gen: &mut schemars::gen::SchemaGenerator) -> schemars::schema::Schema {
        let mut schema = <String as schemars::JsonSchema>::json_schema(gen).into_object();
        schema.string().min_length = Some(1);
        schema.string().max_length = Some(255);
        schema.string().pattern = Some(r"^[A-Za-z0-9_\-:.]{1,255}$".to_string());
        schema.into()
    }
}

/// A webhook signing secret. Its value never appears in `Debug` output; read it with
/// [`WebhookSecret::expose`] (or convert it into a `String`) to configure a
/// [`Verifier`](crate::webhook::Verifier).
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "contract", derive(schemars::JsonSchema))]
#[serde(transparent)]
pub struct WebhookSecret(String);

impl WebhookSecret {
    /// The secret itself.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret(redacted)")
    }
}

impl From<WebhookSecret> for String {
    fn from(secret: WebhookSecret) -> Self {
        secret.0
    }
}

impl From<&WebhookSecret> for String {
    fn from(secret: &WebhookSecret) -> Self {
        secret.0.clone()
    }
}

/// A registered webhook endpoint.
#[derive(Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "contract", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct WebhookEndpoint {
    /// Endpoint ID.
    pub endpoint_id: String,
    /// URL receiving deliveries.
    pub url: String,
    /// Subscribed event types; `None` means all events.
    #[serde(default)]
    pub events: Option<Vec<EventType>>,
    /// Whether deliveries are made.
    pub status: EndpointStatus,
    /// ISO 8601 timestamp.
    pub created_at: String,
    /// The signing secret: only returned on create (list responses have `null`).
    #[serde(default)]
    pub secret: Option<WebhookSecret>,
    /// Members HeyGen sent that this version does not name, unchanged.
    #[serde(flatten, default)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// The names of the unknown members only: their values may be secrets.
struct ExtraNames<'a>(&'a serde_json::Map<String, serde_json::Value>);

impl std::fmt::Debug for ExtraNames<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.0.keys()).finish()
    }
}

impl std::fmt::Debug for WebhookEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookEndpoint")
            .field("endpoint_id", &self.endpoint_id)
            .field("url", &self.url)
            .field("events", &self.events)
            .field("status", &self.status)
            .field("created_at", &self.created_at)
            .field("secret", &self.secret)
            .field("extra", &ExtraNames(&self.extra))
            .finish()
    }
}

/// A freshly issued signing secret.
#[derive(Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "contract", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct RotatedSecret {
    /// Endpoint ID.
    pub endpoint_id: String,
    /// The new signing secret; the old one stops working immediately.
    pub secret: WebhookSecret,
    /// Members HeyGen sent that this version does not name, unchanged.
    #[serde(flatten, default)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl std::fmt::Debug for RotatedSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RotatedSecret")
            .field("endpoint_id", &self.endpoint_id)
            .field("secret", &self.secret)
            .field("extra", &ExtraNames(&self.extra))
            .finish()
    }
}

/// One page of a list operation.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct Page<T> {
    /// The items on this page.
    #[serde(rename = "data")]
    pub items: Vec<T>,
    /// Whether more pages are available.
    pub has_more: bool,
    /// The cursor for the next page, to pass as `token`.
    pub next_token: Option<String>,
}

impl<T> Page<T> {
    pub(crate) fn new(items: Vec<T>, has_more: Option<bool>, next_token: Option<String>) -> Self {
        let next_token = next_token.filter(|t| !t.is_empty());
        Page {
            has_more: has_more.unwrap_or(next_token.is_some()),
            items,
            next_token,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// File inputs: the type (its constructors from files and bytes are in `files`).
// ---------------------------------------------------------------------------------------------

/// The media types HeyGen accepts as attachments.
pub const SUPPORTED_MEDIA_TYPES: &[&str] = &[
    "image/png",
    "image/jpeg",
    "video/mp4",
    "video/webm",
    "audio/mpeg",
    "audio/wav",
    "application/pdf",
];

/// A file attached to a Video Agent request.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "contract", derive(schemars::JsonSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum FileInput {
    /// A publicly accessible HTTPS URL HeyGen downloads.
    Url {
        /// Publicly accessible HTTPS URL for the asset.
        url: String,
    },
    /// An asset uploaded earlier (see `Client::assets`).
    AssetId {
        /// HeyGen asset ID from the asset upload endpoint.
        asset_id: String,
    },
    /// The file's bytes, inline.
    Base64 {
        /// MIME type of the encoded content (e.g. `image/png`).
        media_type: String,
        /// Base64-encoded file content.
        data: String,
    },
}

impl FileInput {
    /// A file HeyGen downloads from a public URL.
    pub fn url(url: impl Into<String>) -> Self {
        FileInput::Url { url: url.into() }
    }

    /// A file uploaded earlier, by its asset ID.
    pub fn asset_id(asset_id: impl Into<String>) -> Self {
        FileInput::AssetId {
            asset_id: asset_id.into(),
        }
    }

    /// A file sent inline: the bytes are base64-encoded.
    pub fn base64(media_type: impl Into<String>, bytes: impl AsRef<[u8]>) -> Self {
        FileInput::Base64 {
            media_type: media_type.into(),
            data: base64::engine::general_purpose::STANDARD.encode(bytes),
        }
    }

    /// Checks the input as HeyGen would, without sending anything.
    pub fn validate(&self) -> Result<(), InvalidRequest> {
        match self {
            FileInput::Url { url } => check_http_url("files", url),
            FileInput::AssetId { asset_id } => {
                if asset_id.trim().is_empty() {
                    Err(invalid_file("an asset_id must not be empty"))
                } else {
                    Ok(())
                }
            }
            FileInput::Base64 { media_type, data } => {
                if !SUPPORTED_MEDIA_TYPES.contains(&media_type.as_str()) {
                    return Err(invalid_file(format!(
                        "media type {media_type:?} is not supported (supported: {})",
                        SUPPORTED_MEDIA_TYPES.join(", ")
                    )));
                }
                if data.is_empty() {
                    return Err(invalid_file("base64 data must not be empty"));
                }
                base64::engine::general_purpose::STANDARD
                    .decode(data)
                    .map_err(|e| invalid_file(format!("data is not valid base64: {e}")))?;
                Ok(())
            }
        }
    }
}

impl fmt::Debug for FileInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FileInput::Url { url } => f.debug_struct("Url").field("url", url).finish(),
            FileInput::AssetId { asset_id } => f
                .debug_struct("AssetId")
                .field("asset_id", asset_id)
                .finish(),
            // Inline data can be megabytes: show its size, not its content.
            FileInput::Base64 { media_type, data } => f
                .debug_struct("Base64")
                .field("media_type", media_type)
                .field("data_len", &data.len())
                .finish(),
        }
    }
}

fn invalid_file(reason: impl Into<String>) -> InvalidRequest {
    InvalidRequest {
        field: "files",
        reason: reason.into(),
    }
}

/// Checks that `value` is an absolute `http` or `https` URL with a host.
pub(crate) fn check_http_url(field: &'static str, value: &str) -> Result<(), InvalidRequest> {
    let fail = |why: String| InvalidRequest { field, reason: why };
    let url = reqwest::Url::parse(value)
        .map_err(|e| fail(format!("must be an absolute http(s) URL ({value:?}: {e})")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(fail(format!(
            "must be an absolute http(s) URL, got {value:?}"
        )));
    }
    Ok(())
}

/// An uploaded asset, by its id.
impl From<Asset> for FileInput {
    fn from(asset: Asset) -> Self {
        FileInput::asset_id(asset.asset_id)
    }
}

/// An uploaded asset, by its id.
impl From<&Asset> for FileInput {
    fn from(asset: &Asset) -> Self {
        FileInput::asset_id(asset.asset_id.as_str())
    }
}

/// A file HeyGen downloads from this URL.
impl From<reqwest::Url> for FileInput {
    fn from(url: reqwest::Url) -> Self {
        FileInput::url(String::from(url))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_asset_and_a_url_are_file_inputs() {
        let asset: Asset = serde_json::from_value(serde_json::json!({
            "asset_id": "ast_1", "mime_type": "image/png", "size_bytes": 3,
            "url": "https://files.test/ast_1.png"
        }))
        .unwrap();
        assert_eq!(FileInput::from(&asset), FileInput::asset_id("ast_1"));
        assert_eq!(FileInput::from(asset), FileInput::asset_id("ast_1"));
        let url = reqwest::Url::parse("https://example.com/logo.png").unwrap();
        assert_eq!(
            FileInput::from(url),
            FileInput::url("https://example.com/logo.png")
        );
    }

    #[test]
    fn open_enums_round_trip_known_and_unknown_values() {
        for raw in SessionStatus::KNOWN {
            let status: SessionStatus = serde_json::from_value(serde_json::json!(raw)).unwrap();
            assert!(!status.is_unknown());
            assert_eq!(
                serde_json::to_value(&status).unwrap(),
                serde_json::json!(raw)
            );
        }
        let status: SessionStatus = serde_json::from_str("\"queued_for_gpu\"").unwrap();
        assert_eq!(status, SessionStatus::Unknown("queued_for_gpu".into()));
        assert_eq!(
            serde_json::to_string(&status).unwrap(),
            "\"queued_for_gpu\""
        );
        assert!(!status.is_terminal());
        let video: VideoStatus = "waiting".parse().unwrap();
        assert!(video.is_unknown());
        assert_eq!(
            EventType::from("video_agent.fail"),
            EventType::VideoAgentFail
        );
    }

    #[test]
    fn webhook_secrets_stay_out_of_debug() {
        let endpoint: WebhookEndpoint = serde_json::from_value(serde_json::json!({
            "endpoint_id": "ep", "url": "https://x.test", "status": "enabled",
            "created_at": "2026-01-01T00:00:00Z", "secret": "whsec_hidden"
        }))
        .unwrap();
        assert!(!format!("{endpoint:?}").contains("whsec_hidden"));
        assert_eq!(
            endpoint.secret.as_ref().map(WebhookSecret::expose),
            Some("whsec_hidden")
        );
        assert!(serde_json::to_string(&endpoint)
            .unwrap()
            .contains("whsec_hidden"));
    }

    #[test]
    fn pages_without_has_more_follow_the_token() {
        let page = Page::new(vec![1], None, Some("t".into()));
        assert!(page.has_more);
        let page: Page<i32> = Page::new(vec![], Some(true), Some(String::new()));
        assert_eq!(page.next_token, None);
    }
}
