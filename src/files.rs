//! File inputs for Video Agent requests.
//!
//! A [`FileInput`] is serialized exactly as the spec's `type`-discriminated union:
//! `{"type": "url", "url"}`, `{"type": "asset_id", "asset_id"}` or
//! `{"type": "base64", "media_type", "data"}`.

use std::fmt;

use base64::Engine as _;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::InvalidRequest;

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
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
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
                    Err(invalid("an asset_id must not be empty"))
                } else {
                    Ok(())
                }
            }
            FileInput::Base64 { media_type, data } => {
                if !SUPPORTED_MEDIA_TYPES.contains(&media_type.as_str()) {
                    return Err(invalid(format!(
                        "media type {media_type:?} is not supported (supported: {})",
                        SUPPORTED_MEDIA_TYPES.join(", ")
                    )));
                }
                if data.is_empty() {
                    return Err(invalid("base64 data must not be empty"));
                }
                base64::engine::general_purpose::STANDARD
                    .decode(data)
                    .map_err(|e| invalid(format!("data is not valid base64: {e}")))?;
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

fn invalid(reason: impl Into<String>) -> InvalidRequest {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serializes_as_the_tagged_union() {
        assert_eq!(
            serde_json::to_value(FileInput::url("https://x.test/a.png")).unwrap(),
            serde_json::json!({"type": "url", "url": "https://x.test/a.png"})
        );
        assert_eq!(
            serde_json::to_value(FileInput::asset_id("ast_1")).unwrap(),
            serde_json::json!({"type": "asset_id", "asset_id": "ast_1"})
        );
        assert_eq!(
            serde_json::to_value(FileInput::base64("image/png", b"hi")).unwrap(),
            serde_json::json!({"type": "base64", "media_type": "image/png", "data": "aGk="})
        );
        // The tag decides the variant: no guessing from the fields.
        let parsed: FileInput =
            serde_json::from_str(r#"{"type":"asset_id","asset_id":"a","url":"https://x"}"#)
                .unwrap();
        assert_eq!(parsed, FileInput::asset_id("a"));
    }

    #[test]
    fn validation_names_the_problem() {
        assert!(FileInput::url("https://x.test/a.png").validate().is_ok());
        let e = FileInput::url("/relative/a.png").validate().unwrap_err();
        assert!(e.reason.contains("absolute"), "{e}");
        assert!(FileInput::url("ftp://x.test/a").validate().is_err());
        let e = FileInput::base64("text/plain", b"x")
            .validate()
            .unwrap_err();
        assert!(e.reason.contains("not supported"), "{e}");
        let bad = FileInput::Base64 {
            media_type: "image/png".into(),
            data: "not base64!".into(),
        };
        assert!(bad.validate().unwrap_err().reason.contains("base64"));
        assert!(FileInput::asset_id(" ").validate().is_err());
    }

    #[test]
    fn debug_hides_inline_bytes() {
        let input = FileInput::base64("image/png", vec![7u8; 3000]);
        let shown = format!("{input:?}");
        assert!(shown.contains("data_len"));
        assert!(shown.len() < 100);
    }
}
