//! Validated request bodies.
//!
//! Required fields are constructor arguments; optional ones are infallible setters. Nothing is
//! checked until the request is sent: then [`CreateVideoAgentRequest::validate`] runs and a bad
//! request fails with [`Error::InvalidRequest`](crate::Error::InvalidRequest) before any byte
//! leaves the process.

use serde::{Deserialize, Serialize};

mod families;
mod video;

pub use families::{MAX_JOB_BATCH_ITEMS, MAX_SPEECH_CHARS};
pub use video::{AspectRatio, CreateVideoRequest, OutputFormat, Resolution, VideoKind};

use crate::api::error::InvalidRequest;
use crate::api::types::{check_http_url, AgentMode, FileInput, Orientation};

/// Longest prompt or message, in characters (not bytes).
pub const MAX_PROMPT_CHARS: usize = 10_000;
/// Most files one request may carry.
pub const MAX_FILES: usize = 20;

/// Body of `POST /v3/video-agents`: a prompt and optional settings.
///
/// ```
/// use heygen_api::{AgentMode, CreateVideoAgentRequest, FileInput, Orientation};
///
/// let request = CreateVideoAgentRequest::new("A 30-second demo of our note-taking app")
///     .orientation(Orientation::Portrait)
///     .mode(AgentMode::Generate)
///     .file(FileInput::url("https://example.com/logo.png"))
///     .callback_url("https://example.com/hooks/heygen")
///     .callback_id("order-42");
/// assert!(request.validate().is_ok());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "contract", derive(schemars::JsonSchema))]
pub struct CreateVideoAgentRequest {
    /// The prompt for video generation (1-10000 characters).
    prompt: String,
    /// Session mode (default `generate`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    mode: Option<AgentMode>,
    /// Specific avatar ID to use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    avatar_id: Option<String>,
    /// Specific voice ID to use for narration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    voice_id: Option<String>,
    /// Style ID from the styles list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    style_id: Option<String>,
    /// Brand kit ID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    brand_kit_id: Option<String>,
    /// Video orientation; auto-detected when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    orientation: Option<Orientation>,
    /// File attachments (max 20).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    files: Option<Vec<FileInput>>,
    /// URL notified on completion or failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    callback_url: Option<String>,
    /// ID echoed back in the notification.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    callback_id: Option<String>,
    /// When true, the session neither reads nor writes the agent's memory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    incognito_mode: Option<bool>,
    /// Fields this version has no setter for, sent unchanged.
    #[serde(flatten)]
    extra: serde_json::Map<String, serde_json::Value>,
}

impl CreateVideoAgentRequest {
    /// A request with the given prompt and HeyGen's defaults for everything else.
    pub fn new(prompt: impl Into<String>) -> Self {
        CreateVideoAgentRequest {
            prompt: prompt.into(),
            mode: None,
            avatar_id: None,
            voice_id: None,
            style_id: None,
            brand_kit_id: None,
            orientation: None,
            files: None,
            callback_url: None,
            callback_id: None,
            incognito_mode: None,
            extra: serde_json::Map::new(),
        }
    }

    /// Sends a field this version has no setter for, unchanged (HeyGen adds fields before its
    /// spec documents them). A field that has a setter is refused by
    /// [`validate`](Self::validate): use the setter.
    pub fn extra(mut self, name: impl Into<String>, value: serde_json::Value) -> Self {
        self.extra.insert(name.into(), value);
        self
    }

    /// The prompt.
    pub fn prompt(&self) -> &str {
        &self.prompt
    }

    /// Sets the mode: `generate` (default) or `chat`.
    pub fn mode(mut self, mode: AgentMode) -> Self {
        self.mode = Some(mode);
        self
    }

    /// Uses a specific avatar.
    pub fn avatar_id(mut self, id: impl Into<String>) -> Self {
        self.avatar_id = Some(id.into());
        self
    }

    /// Uses a specific narration voice.
    pub fn voice_id(mut self, id: impl Into<String>) -> Self {
        self.voice_id = Some(id.into());
        self
    }

    /// Applies a style from the styles list.
    pub fn style_id(mut self, id: impl Into<String>) -> Self {
        self.style_id = Some(id.into());
        self
    }

    /// Applies a brand kit.
    pub fn brand_kit_id(mut self, id: impl Into<String>) -> Self {
        self.brand_kit_id = Some(id.into());
        self
    }

    /// Fixes the orientation instead of letting the agent choose.
    pub fn orientation(mut self, orientation: Orientation) -> Self {
        self.orientation = Some(orientation);
        self
    }

    /// Attaches one file.
    pub fn file(mut self, file: FileInput) -> Self {
        self.files.get_or_insert_with(Vec::new).push(file);
        self
    }

    /// Attaches several files.
    pub fn files(mut self, files: impl IntoIterator<Item = FileInput>) -> Self {
        self.files.get_or_insert_with(Vec::new).extend(files);
        self
    }

    /// Asks HeyGen to notify this URL on completion or failure.
    pub fn callback_url(mut self, url: impl Into<String>) -> Self {
        self.callback_url = Some(url.into());
        self
    }

    /// An ID echoed back in the notification, to correlate it with this request.
    pub fn callback_id(mut self, id: impl Into<String>) -> Self {
        self.callback_id = Some(id.into());
        self
    }

    /// Disables memory injection and extraction for this session.
    pub fn incognito_mode(mut self, enabled: bool) -> Self {
        self.incognito_mode = Some(enabled);
        self
    }

    /// Checks the request as HeyGen would: prompt 1–10,000 characters and not blank, at most
    /// 20 valid files, absolute http(s) callback URL, no empty IDs.
    pub fn validate(&self) -> Result<(), InvalidRequest> {
        check_text("prompt", &self.prompt)?;
        check_files(self.files.as_deref())?;
        for (field, value) in [
            ("avatar_id", &self.avatar_id),
            ("voice_id", &self.voice_id),
            ("style_id", &self.style_id),
            ("brand_kit_id", &self.brand_kit_id),
            ("callback_id", &self.callback_id),
        ] {
            check_optional_id(field, value.as_deref())?;
        }
        if let Some(url) = &self.callback_url {
            check_http_url("callback_url", url)?;
        }
        check_extra(
            &self.extra,
            &[
                "prompt",
                "mode",
                "avatar_id",
                "voice_id",
                "style_id",
                "brand_kit_id",
                "orientation",
                "files",
                "callback_url",
                "callback_id",
                "incognito_mode",
            ],
        )
    }
}

/// Body of `POST /v3/video-agents/{session_id}`: a follow-up message to a chat-mode session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "contract", derive(schemars::JsonSchema))]
pub struct SendMessageRequest {
    /// What to tell the agent, 1-10,000 characters.
    message: String,
    /// Override avatar for this message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    avatar_id: Option<String>,
    /// Override voice for this message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    voice_id: Option<String>,
    /// Brand kit ID to apply for this message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    brand_kit_id: Option<String>,
    /// File attachments (max 20).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    files: Option<Vec<FileInput>>,
    /// Fields this version has no setter for, sent unchanged.
    #[serde(flatten)]
    extra: serde_json::Map<String, serde_json::Value>,
}

impl SendMessageRequest {
    /// A message with the given text.
    pub fn new(message: impl Into<String>) -> Self {
        SendMessageRequest {
            message: message.into(),
            avatar_id: None,
            voice_id: None,
            brand_kit_id: None,
            files: None,
            extra: serde_json::Map::new(),
        }
    }

    /// Sends a field this version has no setter for, unchanged. A field that has a setter is
    /// refused by [`validate`](Self::validate): use the setter.
    pub fn extra(mut self, name: impl Into<String>, value: serde_json::Value) -> Self {
        self.extra.insert(name.into(), value);
        self
    }

    /// The message text.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Overrides the avatar for this message.
    pub fn avatar_id(mut self, id: impl Into<String>) -> Self {
        self.avatar_id = Some(id.into());
        self
    }

    /// Overrides the voice for this message.
    pub fn voice_id(mut self, id: impl Into<String>) -> Self {
        self.voice_id = Some(id.into());
        self
    }

    /// Applies a brand kit for this message.
    pub fn brand_kit_id(mut self, id: impl Into<String>) -> Self {
        self.brand_kit_id = Some(id.into());
        self
    }

    /// Attaches one file.
    pub fn file(mut self, file: FileInput) -> Self {
        self.files.get_or_insert_with(Vec::new).push(file);
        self
    }

    /// Attaches several files.
    pub fn files(mut self, files: impl IntoIterator<Item = FileInput>) -> Self {
        self.files.get_or_insert_with(Vec::new).extend(files);
        self
    }

    /// Checks the message as HeyGen would: 1–10,000 characters, not blank, at most 20 valid
    /// files, no empty IDs.
    pub fn validate(&self) -> Result<(), InvalidRequest> {
        check_text("message", &self.message)?;
        check_files(self.files.as_deref())?;
        for (field, value) in [
            ("avatar_id", &self.avatar_id),
            ("voice_id", &self.voice_id),
            ("brand_kit_id", &self.brand_kit_id),
        ] {
            check_optional_id(field, value.as_deref())?;
        }
        check_extra(
            &self.extra,
            &["message", "avatar_id", "voice_id", "brand_kit_id", "files"],
        )
    }
}

/// An extra field must be one the request has no setter for.
fn check_extra(
    extra: &serde_json::Map<String, serde_json::Value>,
    known: &[&str],
) -> Result<(), InvalidRequest> {
    match extra.keys().find(|k| known.contains(&k.as_str())) {
        Some(name) => Err(InvalidRequest {
            field: "extra",
            reason: format!("`{name}` has a setter of its own; set it there"),
        }),
        None => Ok(()),
    }
}

impl From<&str> for CreateVideoAgentRequest {
    fn from(prompt: &str) -> Self {
        CreateVideoAgentRequest::new(prompt)
    }
}

impl From<String> for CreateVideoAgentRequest {
    fn from(prompt: String) -> Self {
        CreateVideoAgentRequest::new(prompt)
    }
}

impl From<&str> for SendMessageRequest {
    fn from(message: &str) -> Self {
        SendMessageRequest::new(message)
    }
}

impl From<String> for SendMessageRequest {
    fn from(message: String) -> Self {
        SendMessageRequest::new(message)
    }
}

fn check_text(field: &'static str, text: &str) -> Result<(), InvalidRequest> {
    let fail = |reason: String| Err(InvalidRequest { field, reason });
    let chars = text.chars().count();
    if chars == 0 {
        return fail("must not be empty".into());
    }
    if text.trim().is_empty() {
        return fail("must not be only whitespace".into());
    }
    if chars > MAX_PROMPT_CHARS {
        return fail(format!(
            "is {chars} characters long; the limit is {MAX_PROMPT_CHARS}"
        ));
    }
    Ok(())
}

fn check_files(files: Option<&[FileInput]>) -> Result<(), InvalidRequest> {
    let files = files.unwrap_or_default();
    if files.len() > MAX_FILES {
        return Err(InvalidRequest {
            field: "files",
            reason: format!("has {} files; the limit is {MAX_FILES}", files.len()),
        });
    }
    for (index, file) in files.iter().enumerate() {
        file.validate().map_err(|e| InvalidRequest {
            field: "files",
            reason: format!("item {index}: {}", e.reason),
        })?;
    }
    Ok(())
}

fn check_optional_id(field: &'static str, value: Option<&str>) -> Result<(), InvalidRequest> {
    match value {
        Some(v) if v.trim().is_empty() => Err(InvalidRequest {
            field,
            reason: "must not be empty when set".into(),
        }),
        _ => Ok(()),
    }
}

/// Client-side checks of a request body, run before anything is sent. The generated request
/// builders call it for every body; bodies without checks of their own get an empty impl from
/// the generator (schemas marked `x-heygen-checked` are implemented here instead).
pub(crate) trait Validate {
    /// The first problem found, naming its field.
    fn validate(&self) -> Result<(), InvalidRequest> {
        Ok(())
    }
}

impl Validate for CreateVideoAgentRequest {
    fn validate(&self) -> Result<(), InvalidRequest> {
        CreateVideoAgentRequest::validate(self)
    }
}

impl Validate for SendMessageRequest {
    fn validate(&self) -> Result<(), InvalidRequest> {
        SendMessageRequest::validate(self)
    }
}

impl Validate for crate::api::raw::types::CreateWebhookEndpointRequest {
    fn validate(&self) -> Result<(), InvalidRequest> {
        check_http_url("url", &self.url)
    }
}

/// Most videos one batch holds.
pub const MAX_BATCH_VIDEOS: usize = 100;

impl Validate for crate::api::raw::types::CreateVideoBatchRequest {
    fn validate(&self) -> Result<(), InvalidRequest> {
        if self.videos.is_empty() || self.videos.len() > MAX_BATCH_VIDEOS {
            return Err(InvalidRequest {
                field: "videos",
                reason: format!(
                    "must hold 1 to {MAX_BATCH_VIDEOS} videos, got {}",
                    self.videos.len()
                ),
            });
        }
        for (index, video) in self.videos.iter().enumerate() {
            video.validate().map_err(|e| InvalidRequest {
                field: "videos",
                reason: format!("item {index}: `{}` {}", e.field, e.reason),
            })?;
        }
        if let Some(url) = &self.callback_url {
            check_http_url("callback_url", url)?;
        }
        Ok(())
    }
}

impl Validate for crate::api::raw::types::UpdateWebhookEndpointRequest {
    fn validate(&self) -> Result<(), InvalidRequest> {
        if let Some(url) = &self.url {
            check_http_url("url", url)?;
        }
        if self.url.is_none() && self.events.is_none() {
            return Err(InvalidRequest {
                field: "url",
                reason: "or events must be set: nothing to update".into(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompt_length_counts_characters_not_bytes() {
        let multibyte = "é".repeat(MAX_PROMPT_CHARS);
        assert!(multibyte.len() > MAX_PROMPT_CHARS);
        assert!(CreateVideoAgentRequest::new(multibyte).validate().is_ok());
        let too_long = "é".repeat(MAX_PROMPT_CHARS + 1);
        let e = CreateVideoAgentRequest::new(too_long)
            .validate()
            .unwrap_err();
        assert_eq!(e.field, "prompt");
        assert!(e.reason.contains("10001"), "{e}");
    }

    #[test]
    fn blank_prompts_and_too_many_files_are_refused() {
        assert_eq!(
            CreateVideoAgentRequest::new("")
                .validate()
                .unwrap_err()
                .reason,
            "must not be empty"
        );
        assert!(CreateVideoAgentRequest::new(" \n\t ")
            .validate()
            .unwrap_err()
            .reason
            .contains("whitespace"));
        let files = (0..21).map(|i| FileInput::asset_id(format!("a{i}")));
        let e = CreateVideoAgentRequest::new("p")
            .files(files)
            .validate()
            .unwrap_err();
        assert_eq!(e.field, "files");
        assert!(e.reason.contains("21"));
        let twenty = (0..20).map(|i| FileInput::asset_id(format!("a{i}")));
        assert!(CreateVideoAgentRequest::new("p")
            .files(twenty)
            .validate()
            .is_ok());
    }

    #[test]
    fn callback_url_must_be_absolute() {
        let e = CreateVideoAgentRequest::new("p")
            .callback_url("/hooks")
            .validate()
            .unwrap_err();
        assert_eq!(e.field, "callback_url");
        assert!(CreateVideoAgentRequest::new("p")
            .callback_url("https://example.com/hooks")
            .validate()
            .is_ok());
    }

    #[test]
    fn serializes_only_what_was_set() {
        let body = serde_json::to_value(
            CreateVideoAgentRequest::new("p")
                .orientation(Orientation::Portrait)
                .mode(AgentMode::Chat),
        )
        .unwrap();
        assert_eq!(
            body,
            serde_json::json!({"prompt": "p", "orientation": "portrait", "mode": "chat"})
        );
        let e = SendMessageRequest::new("   ").validate().unwrap_err();
        assert_eq!(e.field, "message");
    }
}
