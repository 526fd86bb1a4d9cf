//! The body of `POST /v3/videos`: a video made directly, in one of four kinds.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::api::invalid::InvalidRequest;
use crate::api::types::{check_http_url, FileInput};

/// Which kind of video a [`CreateVideoRequest`] makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum VideoKind {
    /// An avatar look speaks a script or lip-syncs audio (`type: avatar`).
    Avatar,
    /// An image is animated to speak a script or lip-sync audio (`type: image`).
    Image,
    /// A short cinematic clip of one or more avatars, from a prompt (`type: cinematic_avatar`).
    CinematicAvatar,
    /// A multi-scene video (`type: studio`).
    Studio,
}

impl VideoKind {
    /// The `type` tag on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            VideoKind::Avatar => "avatar",
            VideoKind::Image => "image",
            VideoKind::CinematicAvatar => "cinematic_avatar",
            VideoKind::Studio => "studio",
        }
    }

    fn from_tag(tag: &str) -> Option<Self> {
        [
            VideoKind::Avatar,
            VideoKind::Image,
            VideoKind::CinematicAvatar,
            VideoKind::Studio,
        ]
        .into_iter()
        .find(|k| k.as_str() == tag)
    }
}

/// Frame shape of a created video.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum AspectRatio {
    /// 16:9.
    #[serde(rename = "16:9")]
    Landscape16x9,
    /// 9:16.
    #[serde(rename = "9:16")]
    Portrait9x16,
    /// 4:5.
    #[serde(rename = "4:5")]
    Portrait4x5,
    /// 5:4.
    #[serde(rename = "5:4")]
    Landscape5x4,
    /// 1:1.
    #[serde(rename = "1:1")]
    Square,
    /// Chosen from the inputs.
    #[serde(rename = "auto")]
    Auto,
}

/// Output resolution of a created video.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Resolution {
    /// 3840 × 2160.
    #[serde(rename = "4k")]
    K4,
    /// 1920 × 1080.
    #[serde(rename = "1080p")]
    P1080,
    /// 1280 × 720.
    #[serde(rename = "720p")]
    P720,
}

/// Container of a created video.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum OutputFormat {
    /// MP4 (the default).
    Mp4,
    /// WebM (keeps a removed background transparent).
    Webm,
}

/// Shortest and longest cinematic clip, in seconds.
const CINEMATIC_SECONDS: std::ops::RangeInclusive<i64> = 4..=15;

/// The body of `POST /v3/videos`: a video made directly, in one of four kinds told apart by
/// `type`, serialised with its tag (never guessed from its fields).
///
/// Required fields are constructor arguments, optional ones infallible setters, and
/// [`CreateVideoRequest::extra`] sends a field this version does not know yet, unchanged.
/// Nothing is checked until the request is sent; then [`CreateVideoRequest::validate`] runs
/// and a bad request fails with [`Error::InvalidRequest`](crate::Error::InvalidRequest) before
/// any byte leaves the process.
///
/// ```
/// use heygen_api::{AspectRatio, CreateVideoRequest, Resolution};
///
/// let request = CreateVideoRequest::avatar("look_123")
///     .script("Welcome to the product tour.")
///     .voice_id("voice_42")
///     .aspect_ratio(AspectRatio::Portrait9x16)
///     .resolution(Resolution::P1080)
///     .extra("a_new_field", serde_json::json!(true));
/// assert!(request.validate().is_ok());
/// assert!(CreateVideoRequest::avatar("look_123")
///     .script("Hi")
///     .audio_url("https://example.com/hi.mp3")
///     .validate()
///     .is_err());
/// ```
#[derive(Debug, Clone, PartialEq)]
#[must_use]
pub struct CreateVideoRequest {
    kind: VideoKind,
    fields: Map<String, Value>,
}

impl CreateVideoRequest {
    fn new(kind: VideoKind) -> Self {
        CreateVideoRequest {
            kind,
            fields: Map::new(),
        }
    }

    fn set(mut self, field: &str, value: impl Serialize) -> Self {
        let value = serde_json::to_value(value).unwrap_or(Value::Null);
        self.fields.insert(field.to_string(), value);
        self
    }

    /// An avatar look (`avatar_id`, a look's ID) speaks a script or lip-syncs audio.
    pub fn avatar(avatar_id: impl Into<String>) -> Self {
        Self::new(VideoKind::Avatar).set("avatar_id", avatar_id.into())
    }

    /// An image is brought to life to speak a script or lip-sync audio.
    pub fn image(image: FileInput) -> Self {
        Self::new(VideoKind::Image).set("image", image)
    }

    /// A cinematic clip from a prompt, starring these avatar looks.
    pub fn cinematic_avatar(
        prompt: impl Into<String>,
        avatar_ids: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        let ids: Vec<String> = avatar_ids.into_iter().map(Into::into).collect();
        Self::new(VideoKind::CinematicAvatar)
            .set("prompt", prompt.into())
            .set("avatar_id", ids)
    }

    /// A multi-scene video. Each scene is the JSON HeyGen documents for a studio scene
    /// (`avatar_video`, `image` or `video`, told apart by `type`).
    pub fn studio(scenes: impl IntoIterator<Item = Value>) -> Self {
        Self::new(VideoKind::Studio).set("scenes", scenes.into_iter().collect::<Vec<_>>())
    }

    /// The kind of video.
    pub fn kind(&self) -> VideoKind {
        self.kind
    }

    /// What the avatar says (not with `audio_url` or `audio_asset_id`).
    pub fn script(self, script: impl Into<String>) -> Self {
        self.set("script", script.into())
    }

    /// The voice that speaks the script (default: the avatar's own).
    pub fn voice_id(self, voice_id: impl Into<String>) -> Self {
        self.set("voice_id", voice_id.into())
    }

    /// Audio to lip-sync, from a public URL (not with `script`).
    pub fn audio_url(self, url: impl Into<String>) -> Self {
        self.set("audio_url", url.into())
    }

    /// Audio to lip-sync, uploaded earlier (not with `script`).
    pub fn audio_asset_id(self, asset_id: impl Into<String>) -> Self {
        self.set("audio_asset_id", asset_id.into())
    }

    /// Frame shape (default 16:9).
    pub fn aspect_ratio(self, ratio: AspectRatio) -> Self {
        self.set("aspect_ratio", ratio)
    }

    /// Output resolution.
    pub fn resolution(self, resolution: Resolution) -> Self {
        self.set("resolution", resolution)
    }

    /// Container (default MP4).
    pub fn output_format(self, format: OutputFormat) -> Self {
        self.set("output_format", format)
    }

    /// A solid background color, e.g. `#FFFFFF`.
    pub fn background_color(self, color: impl Into<String>) -> Self {
        let color = color.into();
        self.set(
            "background",
            serde_json::json!({"type": "color", "value": color}),
        )
    }

    /// Whether the avatar's own background is removed.
    pub fn remove_background(self, remove: bool) -> Self {
        self.set("remove_background", remove)
    }

    /// SRT captions are made beside the video.
    pub fn captions(self) -> Self {
        self.set("caption", serde_json::json!({"file_format": "srt"}))
    }

    /// How the avatar moves, in words.
    pub fn motion_prompt(self, prompt: impl Into<String>) -> Self {
        self.set("motion_prompt", prompt.into())
    }

    /// Length of a cinematic clip, 4–15 seconds (not with `auto_duration`).
    pub fn duration(self, seconds: u32) -> Self {
        self.set("duration", seconds)
    }

    /// A cinematic clip long enough for its prompt.
    pub fn auto_duration(self, auto: bool) -> Self {
        self.set("auto_duration", auto)
    }

    /// The URL notified when the video is done or failed.
    pub fn callback_url(self, url: impl Into<String>) -> Self {
        self.set("callback_url", url.into())
    }

    /// Your identifier, echoed in the notification.
    pub fn callback_id(self, id: impl Into<String>) -> Self {
        self.set("callback_id", id.into())
    }

    /// The video's name in the HeyGen app.
    pub fn title(self, title: impl Into<String>) -> Self {
        self.set("title", title.into())
    }

    /// Sends a field this version has no setter for, unchanged (HeyGen adds fields before the
    /// spec documents them). It overrides a setter's value of the same name; `type` stays the
    /// kind's.
    pub fn extra(mut self, name: impl Into<String>, value: Value) -> Self {
        let name = name.into();
        if name != "type" {
            self.fields.insert(name, value);
        }
        self
    }

    fn text(&self, field: &str) -> Option<&str> {
        self.fields.get(field).and_then(Value::as_str)
    }

    /// Checks the request as HeyGen would, without sending anything: the kind's required
    /// fields, a script or one audio source (never both), http(s) URLs, a valid image, a
    /// cinematic clip's length and avatars, at least one studio scene.
    ///
    /// # Errors
    /// The first problem found, naming its field.
    pub fn validate(&self) -> Result<(), InvalidRequest> {
        let blank = |field: &'static str| InvalidRequest::new(field, "must not be blank");
        // Text members hold text: `42` is refused as what it is, not taken for a blank.
        let avatar_id = (self.kind == VideoKind::Avatar).then_some("avatar_id");
        for field in TEXT_FIELDS.into_iter().chain(avatar_id) {
            match self.fields.get(field) {
                None | Some(Value::Null | Value::String(_)) => {}
                Some(other) => {
                    return Err(InvalidRequest::new(
                        field_name(field),
                        format!("expected a string, got {other}"),
                    ))
                }
            }
        }
        for field in ["script", "voice_id", "audio_asset_id", "callback_id"] {
            if self.text(field).is_some_and(|v| v.trim().is_empty()) {
                return Err(blank(field_name(field)));
            }
        }
        for field in ["audio_url", "callback_url"] {
            if let Some(url) = self.text(field) {
                check_http_url(field_name(field), url)?;
            }
        }
        let audio = ["audio_url", "audio_asset_id"]
            .into_iter()
            .filter(|f| self.fields.get(*f).is_some_and(|v| !v.is_null()))
            .count();
        let script = self.text("script").is_some();
        match self.kind {
            VideoKind::Avatar | VideoKind::Image => {
                if self.kind == VideoKind::Avatar
                    && self.text("avatar_id").is_none_or(|v| v.trim().is_empty())
                {
                    return Err(blank("avatar_id"));
                }
                if self.kind == VideoKind::Image {
                    let image: FileInput = self
                        .fields
                        .get("image")
                        .cloned()
                        .and_then(|v| serde_json::from_value(v).ok())
                        .ok_or_else(|| InvalidRequest::new("image", "must be a file input"))?;
                    image
                        .validate()
                        .map_err(|e| InvalidRequest::new("image", e.reason))?;
                }
                if audio > 1 {
                    return Err(InvalidRequest::new(
                        "audio_url",
                        "and audio_asset_id are exclusive: give one audio source",
                    ));
                }
                if script && audio > 0 {
                    return Err(InvalidRequest::new(
                        "script",
                        "and audio (audio_url or audio_asset_id) are exclusive: give one",
                    ));
                }
                if !script && audio == 0 {
                    return Err(InvalidRequest::new(
                        "script",
                        "is missing: give a script, audio_url or audio_asset_id",
                    ));
                }
            }
            VideoKind::CinematicAvatar => {
                if self.text("prompt").is_none_or(|p| p.trim().is_empty()) {
                    return Err(blank("prompt"));
                }
                let ids = self.fields.get("avatar_id").and_then(Value::as_array);
                if ids.is_none_or(|ids| {
                    ids.is_empty()
                        || ids
                            .iter()
                            .any(|id| id.as_str().is_none_or(|s| s.trim().is_empty()))
                }) {
                    return Err(InvalidRequest::new(
                        "avatar_id",
                        "must name at least one avatar look, none blank",
                    ));
                }
                if let Some(seconds) = self.fields.get("duration").and_then(Value::as_i64) {
                    if !CINEMATIC_SECONDS.contains(&seconds) {
                        return Err(InvalidRequest::new(
                            "duration",
                            format!("must be 4-15 seconds, got {seconds}"),
                        ));
                    }
                    if self.fields.get("auto_duration") == Some(&Value::Bool(true)) {
                        return Err(InvalidRequest::new(
                            "duration",
                            "and auto_duration are exclusive",
                        ));
                    }
                }
            }
            VideoKind::Studio => {
                let scenes = self.fields.get("scenes").and_then(Value::as_array);
                if scenes.is_none_or(|s| s.is_empty()) {
                    return Err(InvalidRequest::new(
                        "scenes",
                        "must hold at least one scene",
                    ));
                }
                for (index, scene) in scenes.into_iter().flatten().enumerate() {
                    alternatives::scene(scene).map_err(|reason| {
                        InvalidRequest::new("scenes", format!("scene {index}: {reason}"))
                    })?;
                }
            }
        }
        self.check_alternatives()
    }

    /// The fields where HeyGen takes one of several shapes (the spec merges them into one
    /// object): each must be one shape, whole, with nothing of another.
    fn check_alternatives(&self) -> Result<(), InvalidRequest> {
        let present = |name: &str| self.fields.get(name).filter(|v| !v.is_null());
        if let Some(engine) = present("engine") {
            alternatives::engine(engine).map_err(|reason| InvalidRequest::new("engine", reason))?;
        }
        if let Some(settings) = present("voice_settings") {
            alternatives::voice_settings(settings)
                .map_err(|reason| InvalidRequest::new("voice_settings", reason))?;
        }
        if let Some(watermark) = present("watermark") {
            alternatives::watermark(watermark)
                .map_err(|reason| InvalidRequest::new("watermark", reason))?;
        }
        if let Some(references) = present("references") {
            let references = references.as_array().ok_or_else(|| {
                InvalidRequest::new("references", "must be a list of file inputs")
            })?;
            for (index, reference) in references.iter().enumerate() {
                alternatives::file(reference).map_err(|reason| {
                    InvalidRequest::new("references", format!("{index}: {reason}"))
                })?;
            }
        }
        Ok(())
    }
}

/// The shapes HeyGen takes where its schema offers alternatives, checked before sending.
/// Each check says what is wrong in words that name the member at fault.
mod alternatives {
    use serde_json::Value;

    use crate::api::types::FileInput;

    /// The engines of an avatar video, told apart by `type`.
    const ENGINES: &[&str] = &["avatar_iii", "avatar_iv", "avatar_v"];

    /// The voice engines, told apart by `engine_type`, with their models and settings.
    const VOICE_ENGINES: &[(&str, &[&str], &[&str])] = &[
        (
            "elevenlabs",
            &[
                "eleven_multilingual_v2",
                "eleven_turbo_v2_5",
                "eleven_flash_v2_5",
                "eleven_v3",
            ],
            &[
                "similarity_boost",
                "stability",
                "style",
                "use_speaker_boost",
            ],
        ),
        ("fish", &["s1", "s2-pro"], &["similarity", "stability"]),
        ("starfish", &[], &[]),
    ];

    /// The kinds of studio scene, and what the kind of an avatar scene's input can be.
    const SCENES: &[&str] = &["avatar_video", "image", "video"];
    const SCENE_INPUTS: &[&str] = &["avatar", "image"];

    fn object(value: &Value) -> Result<&serde_json::Map<String, Value>, String> {
        value
            .as_object()
            .ok_or_else(|| "must be an object".to_string())
    }

    fn tag<'a>(
        map: &'a serde_json::Map<String, Value>,
        name: &str,
        allowed: &[&str],
    ) -> Result<&'a str, String> {
        let value = map
            .get(name)
            .and_then(Value::as_str)
            .ok_or_else(|| format!("needs `{name}`: one of {}", allowed.join(", ")))?;
        if allowed.contains(&value) {
            Ok(value)
        } else {
            Err(format!(
                "`{name}` {value:?} is not one of {}",
                allowed.join(", ")
            ))
        }
    }

    fn set(map: &serde_json::Map<String, Value>, name: &str) -> bool {
        map.get(name).is_some_and(|v| !v.is_null())
    }

    /// `engine`: one of the avatar engines; `reference_look_id` only with `avatar_v`.
    pub(super) fn engine(value: &Value) -> Result<(), String> {
        let map = object(value)?;
        let engine = tag(map, "type", ENGINES)?;
        if engine != "avatar_v" && set(map, "reference_look_id") {
            return Err(format!(
                "`reference_look_id` is for the avatar_v engine, not {engine}"
            ));
        }
        Ok(())
    }

    /// `voice_settings`: its `engine_settings`, when given, are one engine's: its
    /// `engine_type`, one of its models, and none of another engine's settings.
    pub(super) fn voice_settings(value: &Value) -> Result<(), String> {
        let map = object(value)?;
        let Some(settings) = map.get("engine_settings").filter(|v| !v.is_null()) else {
            return Ok(());
        };
        let settings = object(settings).map_err(|e| format!("`engine_settings` {e}"))?;
        let names: Vec<&str> = VOICE_ENGINES.iter().map(|(name, ..)| *name).collect();
        let engine =
            tag(settings, "engine_type", &names).map_err(|e| format!("`engine_settings` {e}"))?;
        let Some((_, models, own)) = VOICE_ENGINES.iter().find(|(name, ..)| *name == engine) else {
            return Ok(());
        };
        if let Some(model) = settings.get("model").filter(|v| !v.is_null()) {
            let model = model.as_str().unwrap_or_default();
            if !models.contains(&model) {
                return Err(if models.is_empty() {
                    format!("the {engine} engine takes no `model`")
                } else {
                    format!(
                        "model {model:?} is not a {engine} model: one of {}",
                        models.join(", ")
                    )
                });
            }
        }
        for (other, _, theirs) in VOICE_ENGINES.iter().filter(|(name, ..)| *name != engine) {
            if let Some(field) = theirs
                .iter()
                .find(|field| !own.contains(field) && set(settings, field))
            {
                return Err(format!(
                    "`{field}` is a setting of the {other} engine, not of {engine}"
                ));
            }
        }
        Ok(())
    }

    /// A file input: a URL, an asset ID or base64 data, whole.
    pub(super) fn file(value: &Value) -> Result<(), String> {
        let file: FileInput = serde_json::from_value(value.clone()).map_err(|_| {
            "must be a file input: {type: url, url}, {type: asset_id, asset_id} or \
             {type: base64, media_type, data}"
                .to_string()
        })?;
        file.validate().map_err(|e| e.reason)
    }

    /// `watermark`: an `image` that is a file input.
    pub(super) fn watermark(value: &Value) -> Result<(), String> {
        let map = object(value)?;
        let image = map
            .get("image")
            .ok_or_else(|| "needs an `image`".to_string())?;
        file(image).map_err(|e| format!("`image` {e}"))
    }

    /// A studio scene: an avatar or animated image speaking, a still image, or a video clip.
    pub(super) fn scene(value: &Value) -> Result<(), String> {
        let map = object(value)?;
        match tag(map, "type", SCENES)? {
            "avatar_video" => {
                let input = map
                    .get("input")
                    .ok_or_else(|| "an avatar_video scene needs an `input`".to_string())?;
                let input = object(input).map_err(|e| format!("`input` {e}"))?;
                match tag(input, "type", SCENE_INPUTS).map_err(|e| format!("`input` {e}"))? {
                    "avatar" => {
                        if input
                            .get("avatar_id")
                            .and_then(Value::as_str)
                            .is_none_or(|id| id.trim().is_empty())
                        {
                            return Err("`input.avatar_id` must name an avatar look".into());
                        }
                        if let Some(engine) = input.get("engine").filter(|v| !v.is_null()) {
                            self::engine(engine).map_err(|e| format!("`input.engine` {e}"))?;
                        }
                    }
                    _ => {
                        let image = input
                            .get("image")
                            .ok_or_else(|| "an image input needs an `image`".to_string())?;
                        file(image).map_err(|e| format!("`input.image` {e}"))?;
                        if set(input, "engine") {
                            return Err("`input.engine` is for avatar inputs, not image".into());
                        }
                    }
                }
                if let Some(settings) = input.get("voice_settings").filter(|v| !v.is_null()) {
                    voice_settings(settings).map_err(|e| format!("`input.voice_settings` {e}"))?;
                }
            }
            kind => {
                let source = map.get("source").ok_or_else(|| {
                    format!(
                        "a{} {kind} scene needs a `source`",
                        if kind == "image" { "n" } else { "" }
                    )
                })?;
                file(source).map_err(|e| format!("`source` {e}"))?;
                if let Some(settings) = map.get("voice_settings").filter(|v| !v.is_null()) {
                    voice_settings(settings).map_err(|e| format!("`voice_settings` {e}"))?;
                }
            }
        }
        Ok(())
    }
}

/// The top-level members that hold text in every kind of video.
const TEXT_FIELDS: [&str; 8] = [
    "script",
    "voice_id",
    "audio_asset_id",
    "callback_id",
    "audio_url",
    "callback_url",
    "title",
    "motion_prompt",
];

/// Field names as `&'static str`, for errors.
fn field_name(field: &str) -> &'static str {
    match field {
        "avatar_id" => "avatar_id",
        "title" => "title",
        "motion_prompt" => "motion_prompt",
        "script" => "script",
        "voice_id" => "voice_id",
        "audio_asset_id" => "audio_asset_id",
        "callback_id" => "callback_id",
        "audio_url" => "audio_url",
        "callback_url" => "callback_url",
        _ => "body",
    }
}

impl Serialize for CreateVideoRequest {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap as _;
        let mut map = serializer.serialize_map(Some(self.fields.len() + 1))?;
        map.serialize_entry("type", self.kind.as_str())?;
        for (name, value) in &self.fields {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for CreateVideoRequest {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut fields = Map::<String, Value>::deserialize(deserializer)?;
        let tag = match fields.remove("type") {
            Some(Value::String(tag)) => tag,
            _ => return Err(serde::de::Error::custom(
                "a create-video request needs a `type`: avatar, image, cinematic_avatar or studio",
            )),
        };
        let kind = VideoKind::from_tag(&tag).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "unknown video type {tag:?}: avatar, image, cinematic_avatar or studio"
            ))
        })?;
        Ok(CreateVideoRequest { kind, fields })
    }
}

#[cfg(feature = "contract")]
impl schemars::JsonSchema for CreateVideoRequest {
    fn schema_name() -> String {
        "CreateVideoRequest".into()
    }

    fn json_schema(_: &mut schemars::gen::SchemaGenerator) -> schemars::schema::Schema {
        use schemars::schema::{InstanceType, ObjectValidation, SchemaObject};
        let kinds = ["avatar", "image", "cinematic_avatar", "studio"]
            .map(|k| serde_json::Value::String(k.into()))
            .to_vec();
        let tag = SchemaObject {
            instance_type: Some(InstanceType::String.into()),
            enum_values: Some(kinds),
            ..Default::default()
        };
        let mut object = ObjectValidation::default();
        object.properties.insert("type".into(), tag.into());
        object.required.insert("type".into());
        SchemaObject {
            instance_type: Some(InstanceType::Object.into()),
            object: Some(Box::new(object)),
            ..Default::default()
        }
        .into()
    }
}

impl crate::api::bodies::Validate for CreateVideoRequest {
    fn validate(&self) -> Result<(), InvalidRequest> {
        CreateVideoRequest::validate(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_tag_is_written_and_read_and_never_guessed() {
        let request = CreateVideoRequest::image(FileInput::url("https://example.com/a.png"))
            .script("Hi")
            .aspect_ratio(AspectRatio::Square);
        let value = serde_json::to_value(&request).unwrap();
        assert_eq!(value["type"], "image");
        assert_eq!(value["aspect_ratio"], "1:1");
        assert_eq!(value["image"]["type"], "url");
        let back: CreateVideoRequest = serde_json::from_value(value).unwrap();
        assert_eq!(back, request);
        // Fields alone never decide the kind.
        assert!(serde_json::from_value::<CreateVideoRequest>(json!({"avatar_id": "a"})).is_err());
        assert!(serde_json::from_value::<CreateVideoRequest>(json!({"type": "hologram"})).is_err());
    }

    #[test]
    fn extra_fields_are_sent_unchanged_but_never_the_tag() {
        let request = CreateVideoRequest::avatar("a")
            .script("s")
            .extra("engine", json!({"type": "avatar_v"}))
            .extra("type", json!("studio"));
        let value = serde_json::to_value(&request).unwrap();
        assert_eq!(value["engine"]["type"], "avatar_v");
        assert_eq!(value["type"], "avatar");
    }

    #[test]
    fn each_kind_checks_its_own_rules() {
        let field = |r: CreateVideoRequest| r.validate().unwrap_err().field;
        assert_eq!(
            field(CreateVideoRequest::avatar(" ").script("s")),
            "avatar_id"
        );
        assert_eq!(field(CreateVideoRequest::avatar("a")), "script");
        assert_eq!(
            field(
                CreateVideoRequest::avatar("a")
                    .audio_url("https://e.com/a.mp3")
                    .audio_asset_id("x")
            ),
            "audio_url"
        );
        assert_eq!(
            field(CreateVideoRequest::avatar("a").audio_url("ftp://e.com/a.mp3")),
            "audio_url"
        );
        assert_eq!(
            field(CreateVideoRequest::image(FileInput::url("nope")).script("s")),
            "image"
        );
        assert_eq!(
            field(CreateVideoRequest::cinematic_avatar(
                "p",
                Vec::<String>::new()
            )),
            "avatar_id"
        );
        assert_eq!(
            field(CreateVideoRequest::cinematic_avatar("p", ["a"]).duration(16)),
            "duration"
        );
        assert_eq!(
            field(
                CreateVideoRequest::cinematic_avatar("p", ["a"])
                    .duration(8)
                    .auto_duration(true)
            ),
            "duration"
        );
        assert_eq!(field(CreateVideoRequest::studio([])), "scenes");
        assert!(CreateVideoRequest::avatar("a")
            .audio_asset_id("ast_1")
            .validate()
            .is_ok());
        assert!(CreateVideoRequest::cinematic_avatar("A chase", ["a", "b"])
            .duration(15)
            .validate()
            .is_ok());
        assert!(CreateVideoRequest::studio([json!({"type": "image",
            "source": {"type": "url", "url": "https://example.com/a.png"}})])
        .validate()
        .is_ok());
    }

    /// Where HeyGen takes one of several shapes, each shape is whole and alone.
    #[test]
    fn alternatives_are_one_shape_each() {
        let avatar = || CreateVideoRequest::avatar("look_1").script("Hi");
        let refused = |request: CreateVideoRequest, field: &str, words: &str| {
            let error = request.validate().expect_err(words);
            assert_eq!(error.field, field, "{error}");
            assert!(error.reason.contains(words), "{error}");
        };
        let accepted = |request: CreateVideoRequest| {
            if let Err(error) = request.validate() {
                panic!("{error}");
            }
        };
        // Engines.
        accepted(avatar().extra(
            "engine",
            json!({"type": "avatar_v", "reference_look_id": "l2"}),
        ));
        accepted(avatar().extra("engine", json!(null)));
        refused(
            avatar().extra(
                "engine",
                json!({"type": "avatar_iv", "reference_look_id": "l2"}),
            ),
            "engine",
            "avatar_v",
        );
        refused(
            avatar().extra("engine", json!({"type": "avatar_ix"})),
            "engine",
            "avatar_iii",
        );
        refused(
            avatar().extra("engine", json!({})),
            "engine",
            "needs `type`",
        );
        // Voice engines, their models and settings.
        let voice = |settings: Value| {
            avatar().extra("voice_settings", json!({"engine_settings": settings}))
        };
        accepted(voice(
            json!({"engine_type": "elevenlabs", "model": "eleven_v3", "style": 0.5}),
        ));
        accepted(voice(
            json!({"engine_type": "fish", "model": "s2-pro", "similarity": 0.5}),
        ));
        accepted(voice(json!(null)));
        refused(
            voice(json!({"engine_type": "fish", "model": "eleven_v3"})),
            "voice_settings",
            "not a fish model",
        );
        refused(
            voice(json!({"engine_type": "elevenlabs", "similarity": 0.5})),
            "voice_settings",
            "of the fish engine",
        );
        refused(
            voice(json!({"engine_type": "starfish", "model": "s1"})),
            "voice_settings",
            "takes no `model`",
        );
        refused(
            voice(json!({"model": "s1"})),
            "voice_settings",
            "engine_type",
        );
        // Watermarks and references are file inputs, whole.
        accepted(avatar().extra(
            "watermark",
            json!({"image": {"type": "asset_id", "asset_id": "a1"}}),
        ));
        refused(
            avatar().extra("watermark", json!({"image": {"type": "url"}})),
            "watermark",
            "file input",
        );
        refused(
            avatar().extra("watermark", json!({"opacity": 0.5})),
            "watermark",
            "`image`",
        );
        let clip = || CreateVideoRequest::cinematic_avatar("A chase", ["look_1"]);
        accepted(clip().extra(
            "references",
            json!([{"type": "url", "url": "https://example.com/r.png"}]),
        ));
        refused(
            clip().extra(
                "references",
                json!([{"type": "url", "url": "https://example.com/r.png"},
                {"type": "base64", "data": "AAAA"}]),
            ),
            "references",
            "1: ",
        );
        // Studio scenes.
        let scene = |scene: Value| CreateVideoRequest::studio([scene]);
        accepted(scene(
            json!({"type": "avatar_video", "input": {"type": "avatar", "avatar_id": "look_1",
            "engine": {"type": "avatar_iii"}}}),
        ));
        accepted(scene(
            json!({"type": "avatar_video", "input": {"type": "image",
            "image": {"type": "asset_id", "asset_id": "a1"}}}),
        ));
        accepted(scene(
            json!({"type": "video", "source": {"type": "asset_id", "asset_id": "a2"}}),
        ));
        refused(scene(json!({"type": "avatar_video"})), "scenes", "`input`");
        refused(
            scene(json!({"type": "avatar_video", "input": {"type": "avatar"}})),
            "scenes",
            "avatar_id",
        );
        refused(
            scene(json!({"type": "avatar_video", "input": {"type": "image",
                "image": {"type": "asset_id", "asset_id": "a1"}, "engine": {"type": "avatar_iv"}}})),
            "scenes",
            "for avatar inputs",
        );
        refused(scene(json!({"type": "video"})), "scenes", "`source`");
        refused(
            scene(json!({"type": "slideshow"})),
            "scenes",
            "avatar_video",
        );
        refused(
            scene(
                json!({"type": "image", "source": {"type": "asset_id", "asset_id": "a1"},
                "voice_settings": {"engine_settings": {"engine_type": "fish", "model": "eleven_v3"}}}),
            ),
            "scenes",
            "scene 0: `voice_settings`",
        );
    }

    #[test]
    fn a_title_is_sent() {
        let request = CreateVideoRequest::avatar("look_1")
            .script("Hi")
            .title("Welcome");
        assert_eq!(serde_json::to_value(&request).unwrap()["title"], "Welcome");
    }
}
