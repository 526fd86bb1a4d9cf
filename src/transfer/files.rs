//! File inputs for Video Agent requests.
//!
//! A [`FileInput`] is serialized exactly as the spec's `type`-discriminated union:
//! `{"type": "url", "url"}`, `{"type": "asset_id", "asset_id"}` or
//! `{"type": "base64", "media_type", "data"}`.
//!
//! Inline or upload? A [`FileInput::from_path`] or [`FileInput::from_bytes`] input travels
//! inside the JSON request, base64-encoded (4/3 of the file's size), on every request that uses
//! it. That suits small files used once. Upload larger or reused files once with
//! [`Assets::upload`](crate::Assets::upload) (streamed, any size) and pass
//! [`FileInput::asset_id`], or let [`Assets::file_input`](crate::Assets::file_input) choose by
//! size. A public URL ([`FileInput::url`]) costs nothing to send; HeyGen
//! downloads it.

use std::path::Path;

use crate::api::error::{Error, InvalidRequest};
use crate::resources::UPLOAD_LIMIT_BYTES;

/// The largest file sent inline: the same 32 MB as an upload.
const MAX_INLINE_BYTES: usize = UPLOAD_LIMIT_BYTES as usize;

pub use crate::api::types::{FileInput, SUPPORTED_MEDIA_TYPES};

/// Constructors that read files or sniff bytes.
impl FileInput {
    /// A file sent inline, with its type detected from its content (png, jpeg, mp4, webm,
    /// mp3, wav, pdf).
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] (field `files`) when the bytes are empty, larger than
    /// 32 MB, or not of a supported type.
    pub fn from_bytes(bytes: impl AsRef<[u8]>) -> Result<Self, Error> {
        let bytes = bytes.as_ref();
        let media_type = detect_media_type(bytes).map_err(Error::InvalidRequest)?;
        Ok(FileInput::base64(media_type, bytes))
    }

    /// Reads a file and sends it inline, with its type detected from its content.
    ///
    /// # Errors
    /// [`Error::Io`] when the file cannot be read; [`Error::InvalidRequest`] (field `files`)
    /// when it is empty, larger than 32 MB, or not of a supported type.
    /// A file over 32 MB is refused before it is read: it cannot travel inline, and a
    /// `FileInput` has no client to upload it with. Use
    /// [`Assets::file_input`](crate::Assets::file_input), which uploads it (through the
    /// direct-upload flow at that size) and references the asset.
    pub async fn from_path(path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        let io = crate::api::error::reading(path);
        let size = tokio::fs::metadata(path).await.map_err(io)?.len();
        if size > UPLOAD_LIMIT_BYTES {
            return Err(Error::InvalidRequest(InvalidRequest {
                field: "files",
                reason: format!(
                    "{} is {size} bytes, over the 32 MB that can travel inline; \
                     `client.assets().file_input(path)` uploads it instead",
                    path.display()
                ),
            }));
        }
        let bytes = tokio::fs::read(path).await.map_err(io)?;
        let media_type = detect_media_type(&bytes).map_err(|e| {
            Error::InvalidRequest(InvalidRequest {
                field: "files",
                reason: format!("{}: {}", path.display(), e.reason),
            })
        })?;
        Ok(FileInput::base64(media_type, bytes))
    }

    /// A file sent inline from data that is already base64-encoded.
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] (field `files`) when the data is not valid base64 or the media
    /// type is not supported.
    pub fn from_base64(
        media_type: impl Into<String>,
        data: impl Into<String>,
    ) -> Result<Self, Error> {
        let input = FileInput::Base64 {
            media_type: media_type.into(),
            data: data.into(),
        };
        input.validate().map_err(Error::InvalidRequest)?;
        Ok(input)
    }
}

/// Detects one of the supported media types from a file's first bytes.
pub(crate) fn detect_media_type(bytes: &[u8]) -> Result<&'static str, InvalidRequest> {
    if bytes.is_empty() {
        return Err(invalid("the file is empty"));
    }
    if bytes.len() > MAX_INLINE_BYTES {
        return Err(invalid(format!(
            "the file is {} bytes; files over {MAX_INLINE_BYTES} bytes must be uploaded",
            bytes.len()
        )));
    }
    sniff(bytes).map_err(invalid)
}

/// The types an asset upload takes: the inline ones, and SRT subtitles.
pub(crate) const UPLOAD_MEDIA_TYPES: &str = "png, jpeg, mp4, webm, mp3, wav, pdf, srt";

/// Detects the type of a file to upload from its first bytes (a few KB are enough), before
/// anything is sent: HeyGen refuses a file whose type it cannot detect only after receiving
/// it whole. An SRT subtitle file is text that starts with its first cue's number.
pub(crate) fn detect_upload_type(head: &[u8]) -> Result<&'static str, String> {
    let text = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    if text.starts_with(b"1\n") || text.starts_with(b"1\r\n") {
        return Ok("application/x-subrip");
    }
    sniff(head).map_err(|_| {
        format!("the file type could not be detected from its content (supported: {UPLOAD_MEDIA_TYPES})")
    })
}

/// One of the supported media types, from a file's first bytes.
fn sniff(bytes: &[u8]) -> Result<&'static str, String> {
    let Some(kind) = infer::get(bytes) else {
        return Err(format!(
            "the file type could not be detected (supported: {})",
            SUPPORTED_MEDIA_TYPES.join(", ")
        ));
    };
    let media_type = match kind.mime_type() {
        "audio/x-wav" | "audio/wave" | "audio/vnd.wave" => "audio/wav",
        other => other,
    };
    SUPPORTED_MEDIA_TYPES
        .iter()
        .find(|supported| **supported == media_type)
        .copied()
        .ok_or_else(|| {
            format!(
                "{media_type} files are not supported (supported: {})",
                SUPPORTED_MEDIA_TYPES.join(", ")
            )
        })
}

/// The first bytes of a file, enough to detect its type.
pub(crate) async fn head(path: &std::path::Path) -> std::io::Result<Vec<u8>> {
    use tokio::io::AsyncReadExt as _;
    let file = tokio::fs::File::open(path).await?;
    let mut head = Vec::with_capacity(HEAD_BYTES);
    file.take(HEAD_BYTES as u64).read_to_end(&mut head).await?;
    Ok(head)
}

/// How much of a file its type is detected from.
const HEAD_BYTES: usize = 8192;

fn invalid(reason: impl Into<String>) -> InvalidRequest {
    InvalidRequest {
        field: "files",
        reason: reason.into(),
    }
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

    /// Minimal file headers of each supported type.
    pub(crate) fn samples() -> Vec<(&'static str, Vec<u8>)> {
        let mut mp4 = vec![0, 0, 0, 0x18];
        mp4.extend_from_slice(b"ftypmp42\0\0\0\0mp42isom");
        let mut wav = b"RIFF\x24\0\0\0WAVEfmt ".to_vec();
        wav.extend_from_slice(&[0x10, 0, 0, 0, 1, 0, 1, 0]);
        vec![
            ("image/png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec()),
            (
                "image/jpeg",
                vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, b'J', b'F', b'I', b'F'],
            ),
            ("video/mp4", mp4),
            (
                "video/webm",
                vec![0x1A, 0x45, 0xDF, 0xA3, 0x9F, 0x42, 0x86, 0x81, 0x01],
            ),
            ("audio/mpeg", b"ID3\x04\0\0\0\0\0\0".to_vec()),
            ("audio/wav", wav),
            ("application/pdf", b"%PDF-1.7\n%".to_vec()),
        ]
    }

    #[test]
    fn media_types_are_detected_from_content() {
        for (expected, bytes) in samples() {
            let input = FileInput::from_bytes(&bytes).unwrap_or_else(|e| panic!("{expected}: {e}"));
            let FileInput::Base64 { media_type, .. } = &input else {
                panic!("inline expected")
            };
            assert_eq!(media_type, expected);
            assert!(input.validate().is_ok());
        }
    }

    #[test]
    fn unsupported_undetectable_and_empty_files_are_refused() {
        let gif = b"GIF89a\x01\0\x01\0";
        let e = FileInput::from_bytes(gif).unwrap_err().to_string();
        assert!(e.contains("image/gif files are not supported"), "{e}");
        let e = FileInput::from_bytes(b"just some text")
            .unwrap_err()
            .to_string();
        assert!(e.contains("could not be detected"), "{e}");
        let e = FileInput::from_bytes(b"").unwrap_err().to_string();
        assert!(e.contains("empty"), "{e}");
        let e = FileInput::from_base64("image/png", "%%%")
            .unwrap_err()
            .to_string();
        assert!(e.contains("base64"), "{e}");
        assert!(FileInput::from_base64("image/png", "aGk=").is_ok());
    }

    #[tokio::test]
    async fn paths_are_read_and_problems_name_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let png = dir.path().join("logo.png");
        std::fs::write(&png, &samples()[0].1).unwrap();
        assert!(FileInput::from_path(&png).await.is_ok());
        let missing = dir.path().join("missing.png");
        let e = FileInput::from_path(&missing).await.unwrap_err();
        assert!(matches!(e, Error::Io { .. }));
        assert!(e.to_string().contains("missing.png"), "{e}");
        let empty = dir.path().join("empty.pdf");
        std::fs::write(&empty, b"").unwrap();
        let e = FileInput::from_path(&empty).await.unwrap_err().to_string();
        assert!(e.contains("empty.pdf") && e.contains("empty"), "{e}");
    }

    #[test]
    fn debug_hides_inline_bytes() {
        let input = FileInput::base64("image/png", vec![7u8; 3000]);
        let shown = format!("{input:?}");
        assert!(shown.contains("data_len"));
        assert!(shown.len() < 100);
    }
}
