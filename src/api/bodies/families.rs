//! Client-side checks of the families' request bodies (their schemas are marked
//! `x-heygen-checked`), where HeyGen's rules are richer than the schema: each refusal names
//! its field, and nothing is sent.

// With only some families built in, some shared checks have no user.
#![cfg_attr(not(feature = "full"), allow(dead_code, unused_imports))]

use super::Validate;
use crate::api::error::InvalidRequest;
use crate::api::types::{check_http_url, FileInput};

/// Most characters a speech's text takes.
pub const MAX_SPEECH_CHARS: usize = 5000;
/// Most items one translation or lip-sync batch holds.
pub const MAX_JOB_BATCH_ITEMS: usize = 100;

fn refuse(field: &'static str, reason: impl Into<String>) -> InvalidRequest {
    InvalidRequest::new(field, reason)
}

/// A file HeyGen must fetch or find: a URL or an asset, not inline bytes (the official
/// schemas of these members take those two only).
fn fetched(field: &'static str, file: &FileInput) -> Result<(), InvalidRequest> {
    match file {
        FileInput::Url { url } => check_http_url(field, url),
        FileInput::AssetId { asset_id } if asset_id.trim().is_empty() => {
            Err(refuse(field, "an asset_id must not be empty"))
        }
        FileInput::AssetId { .. } => Ok(()),
        FileInput::Base64 { .. } => Err(refuse(
            field,
            "takes a URL or an uploaded asset, not inline base64 (upload it with `client.assets().upload(..)`)",
        )),
    }
}

fn not_blank(field: &'static str, value: &str) -> Result<(), InvalidRequest> {
    if value.trim().is_empty() {
        Err(refuse(field, "must not be empty"))
    } else {
        Ok(())
    }
}

/// Output languages: at least one, none blank, none twice.
fn languages(languages: &[String]) -> Result<(), InvalidRequest> {
    const FIELD: &str = "output_languages";
    if languages.is_empty() {
        return Err(refuse(
            FIELD,
            "must name at least one language (see `languages()`)",
        ));
    }
    for (i, language) in languages.iter().enumerate() {
        if language.trim().is_empty() {
            return Err(refuse(FIELD, format!("item {i} is empty")));
        }
        if languages[..i].contains(language) {
            return Err(refuse(FIELD, format!("names {language:?} twice")));
        }
    }
    Ok(())
}

/// A part of the source: both ends at or after 0, the start before the end.
fn span(start: Option<f64>, end: Option<f64>) -> Result<(), InvalidRequest> {
    for (field, value) in [("start_time", start), ("end_time", end)] {
        if let Some(value) = value {
            if !value.is_finite() || value < 0.0 {
                return Err(refuse(
                    field,
                    format!("must be 0 or more seconds, got {value}"),
                ));
            }
        }
    }
    if let (Some(start), Some(end)) = (start, end) {
        if start >= end {
            return Err(refuse(
                "end_time",
                format!("must come after start_time ({start} s), got {end} s"),
            ));
        }
    }
    Ok(())
}

fn callback(url: Option<&String>) -> Result<(), InvalidRequest> {
    url.map_or(Ok(()), |url| check_http_url("callback_url", url))
}

fn speakers(count: Option<i64>) -> Result<(), InvalidRequest> {
    match count {
        Some(n) if n < 1 => Err(refuse("speaker_num", format!("must be 1 or more, got {n}"))),
        _ => Ok(()),
    }
}

fn batch_size(field: &'static str, len: usize) -> Result<(), InvalidRequest> {
    if len == 0 || len > MAX_JOB_BATCH_ITEMS {
        Err(refuse(
            field,
            format!("must hold 1 to {MAX_JOB_BATCH_ITEMS} items, got {len}"),
        ))
    } else {
        Ok(())
    }
}

/// The checks of a translation request, shared by a single create and a batch's items.
#[allow(unused_macros)]
macro_rules! check_translation {
    ($request:expr) => {{
        let r = $request;
        fetched("video", &r.video)?;
        if let Some(audio) = &r.audio {
            fetched("audio", audio)?;
        }
        if let Some(srt) = &r.srt {
            fetched("srt", srt)?;
        }
        if r.srt_role.is_some() && r.srt.is_none() {
            return Err(refuse("srt_role", "says what `srt` is; give `srt` too"));
        }
        languages(&r.output_languages)?;
        span(r.start_time, r.end_time)?;
        speakers(r.speaker_num)?;
        callback(r.callback_url.as_ref())
    }};
}

/// The checks of a lip-sync request, shared by a single create and a batch's items.
#[allow(unused_macros)]
macro_rules! check_lipsync {
    ($request:expr) => {{
        let r = $request;
        fetched("video", &r.video)?;
        fetched("audio", &r.audio)?;
        span(r.start_time, r.end_time)?;
        callback(r.callback_url.as_ref())
    }};
}

#[cfg(feature = "translations")]
mod translations {
    use super::*;
    use crate::api::raw::types::{
        CreateProofreadRequest, CreateVideoTranslationBatchRequest, CreateVideoTranslationRequest,
        ReplaceProofreadSrtRequest,
    };

    impl Validate for CreateVideoTranslationRequest {
        fn validate(&self) -> Result<(), InvalidRequest> {
            check_translation!(self)
        }
    }

    impl Validate for CreateVideoTranslationBatchRequest {
        fn validate(&self) -> Result<(), InvalidRequest> {
            batch_size("video_translations", self.video_translations.len())?;
            for item in &self.video_translations {
                let checked: Result<(), InvalidRequest> = (|| check_translation!(item))();
                checked?;
            }
            callback(self.callback_url.as_ref())
        }
    }

    impl Validate for CreateProofreadRequest {
        fn validate(&self) -> Result<(), InvalidRequest> {
            fetched("video", &self.video)?;
            if let Some(srt) = &self.srt {
                fetched("srt", srt)?;
            }
            not_blank("title", &self.title)?;
            languages(&self.output_languages)?;
            speakers(self.speaker_num)
        }
    }

    impl Validate for ReplaceProofreadSrtRequest {
        fn validate(&self) -> Result<(), InvalidRequest> {
            fetched("srt", &self.srt)
        }
    }
}

#[cfg(feature = "lipsync")]
mod lipsyncs {
    use super::*;
    use crate::api::raw::types::{CreateLipsyncBatchRequest, CreateLipsyncRequest};

    impl Validate for CreateLipsyncRequest {
        fn validate(&self) -> Result<(), InvalidRequest> {
            check_lipsync!(self)
        }
    }

    impl Validate for CreateLipsyncBatchRequest {
        fn validate(&self) -> Result<(), InvalidRequest> {
            batch_size("lipsyncs", self.lipsyncs.len())?;
            for item in &self.lipsyncs {
                let checked: Result<(), InvalidRequest> = (|| check_lipsync!(item))();
                checked?;
            }
            callback(self.callback_url.as_ref())
        }
    }
}

#[cfg(feature = "clipping")]
impl Validate for crate::api::raw::types::CreateClippingJobRequest {
    fn validate(&self) -> Result<(), InvalidRequest> {
        fetched("video", &self.video)?;
        callback(self.callback_url.as_ref())
    }
}

#[cfg(feature = "background-removal")]
impl Validate for crate::api::raw::types::CreateBackgroundRemovalRequest {
    fn validate(&self) -> Result<(), InvalidRequest> {
        fetched("video", &self.video)
    }
}

#[cfg(feature = "voices")]
mod voices {
    use super::*;
    use crate::api::raw::types::{CloneVoiceRequest, CreateSpeechRequest, DesignVoiceRequest};

    impl Validate for CreateSpeechRequest {
        fn validate(&self) -> Result<(), InvalidRequest> {
            not_blank("voice_id", &self.voice_id)?;
            let chars = self.text.chars().count();
            if self.text.trim().is_empty() || chars > MAX_SPEECH_CHARS {
                return Err(refuse(
                    "text",
                    format!("must be 1 to {MAX_SPEECH_CHARS} characters, got {chars}"),
                ));
            }
            if let Some(speed) = self.speed.filter(|speed| !(0.5..=2.0).contains(speed)) {
                return Err(refuse(
                    "speed",
                    format!("must be between 0.5 and 2.0, got {speed}"),
                ));
            }
            if let Some(input_type) = self
                .input_type
                .as_deref()
                .filter(|input_type| !matches!(*input_type, "text" | "ssml"))
            {
                return Err(refuse(
                    "input_type",
                    format!("must be `text` or `ssml`, got {input_type:?}"),
                ));
            }
            Ok(())
        }
    }

    impl Validate for DesignVoiceRequest {
        fn validate(&self) -> Result<(), InvalidRequest> {
            not_blank("prompt", &self.prompt)
        }
    }

    impl Validate for CloneVoiceRequest {
        fn validate(&self) -> Result<(), InvalidRequest> {
            not_blank("voice_name", &self.voice_name)?;
            match &self.audio {
                // A recording may be given inline; its type must be one HeyGen takes.
                FileInput::Base64 { .. } => self.audio.validate().map_err(|mut e| {
                    e.field = "audio";
                    e
                }),
                other => fetched("audio", other),
            }
        }
    }
}

#[cfg(feature = "avatars")]
impl Validate for crate::api::raw::types::CreateAvatarRequest {
    fn validate(&self) -> Result<(), InvalidRequest> {
        use crate::api::types::CreateAvatarRequestType as Kind;
        not_blank("name", &self.name)?;
        match &self.type_ {
            Kind::Prompt => match &self.prompt {
                Some(prompt) if !prompt.trim().is_empty() => Ok(()),
                _ => Err(refuse(
                    "prompt",
                    "a `prompt` avatar is made from a prompt; give one",
                )),
            },
            kind => match &self.file {
                Some(file) => file.validate().map_err(|mut e| {
                    e.field = "file";
                    e
                }),
                None => Err(refuse(
                    "file",
                    format!(
                        "a `{}` avatar is made from a file (a photo or footage); give one",
                        kind.as_str()
                    ),
                )),
            },
        }
    }
}
