//! Downloading finished videos (and their captioned version, subtitles and thumbnail).
//!
//! Downloads are streamed: nothing is held in memory whole. A download to a path is written to
//! a temporary file in the destination's directory and renamed into place only when complete,
//! so a failed download never leaves a partial file at the destination. A body whose size
//! differs from its `Content-Length` is an error. Presigned URLs are fetched without the API
//! key: it is never sent to the storage host.

use std::path::{Path, PathBuf};

use tokio::io::{AsyncWrite, AsyncWriteExt as _};

use crate::client::{error_from_parts, transport, Client};
use crate::error::{Error, Result};
use crate::transfer::{Progress, ProgressFn};
use crate::types::VideoDetail;

const OPERATION: &str = "download";

/// Which file of a video to download.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum VideoAsset {
    /// The video (`video_url`).
    Video,
    /// The video with captions burned in (`captioned_video_url`).
    Captioned,
    /// The SRT subtitles (`subtitle_url`).
    Subtitles,
    /// The thumbnail image (`thumbnail_url`).
    Thumbnail,
}

impl VideoAsset {
    /// The asset's URL in a video, if HeyGen gave one.
    pub fn url<'v>(&self, video: &'v VideoDetail) -> Option<&'v str> {
        match self {
            VideoAsset::Video => video.video_url.as_deref(),
            VideoAsset::Captioned => video.captioned_video_url.as_deref(),
            VideoAsset::Subtitles => video.subtitle_url.as_deref(),
            VideoAsset::Thumbnail => video.thumbnail_url.as_deref(),
        }
        .filter(|u| !u.is_empty())
    }

    fn field(&self) -> &'static str {
        match self {
            VideoAsset::Video => "video_url",
            VideoAsset::Captioned => "captioned_video_url",
            VideoAsset::Subtitles => "subtitle_url",
            VideoAsset::Thumbnail => "thumbnail_url",
        }
    }
}

/// A finished download.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Download {
    /// Where the file was written (for downloads to a path).
    pub path: Option<PathBuf>,
    /// Bytes written.
    pub bytes: u64,
}

pub(crate) fn asset_url(video: &VideoDetail, asset: VideoAsset) -> Result<&str> {
    asset.url(video).ok_or_else(|| {
        Error::invalid(
            asset.field(),
            format!(
                "is not set on video {} (status {}); only completed videos have download URLs",
                video.id, video.status
            ),
        )
    })
}

/// Streams `url` into a temporary file next to `path`, then renames it into place.
pub(crate) async fn to_path(
    client: &Client,
    url: &str,
    path: &Path,
    progress: Option<ProgressFn>,
) -> Result<Download> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let io = |context: String| move |source| Error::Io { context, source };
    let temp = tempfile::Builder::new()
        .prefix(".heygen-download-")
        .tempfile_in(&dir)
        .map_err(io(format!(
            "creating a temporary file in {}",
            dir.display()
        )))?;
    let (file, temp_path) = temp.into_parts();
    let mut file = tokio::fs::File::from_std(file);
    // On any error below, `temp_path` is dropped and the partial file deleted.
    let bytes = to_writer(client, url, &mut file, progress).await?;
    file.sync_all()
        .await
        .map_err(io(format!("writing {}", temp_path.display())))?;
    drop(file);
    temp_path.persist(path).map_err(|e| Error::Io {
        context: format!("moving the download to {}", path.display()),
        source: e.error,
    })?;
    Ok(Download {
        path: Some(path.to_path_buf()),
        bytes,
    })
}

/// Streams `url` into `writer`, returning the number of bytes written.
pub(crate) async fn to_writer<W: AsyncWrite + Unpin>(
    client: &Client,
    url: &str,
    writer: &mut W,
    progress: Option<ProgressFn>,
) -> Result<u64> {
    crate::files::check_http_url("url", url).map_err(Error::InvalidRequest)?;
    let mut response = client
        .download_http()?
        .get(url)
        .timeout(client.config().upload_timeout)
        .send()
        .await
        .map_err(|e| transport(OPERATION, e))?;
    let status = response.status();
    if !status.is_success() {
        let headers = response.headers().clone();
        let body = response.bytes().await.unwrap_or_default();
        return Err(error_from_parts(OPERATION, status, &headers, &body));
    }
    let expected = response.content_length();
    let mut received = 0u64;
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| transport(OPERATION, e))?
    {
        writer.write_all(&chunk).await.map_err(|source| Error::Io {
            context: "writing the download".into(),
            source,
        })?;
        received += chunk.len() as u64;
        if let Some(report) = &progress {
            report(Progress {
                bytes: received,
                total: expected,
            });
        }
    }
    writer.flush().await.map_err(|source| Error::Io {
        context: "writing the download".into(),
        source,
    })?;
    if let Some(expected) = expected {
        if expected != received {
            return Err(Error::SizeMismatch { expected, received });
        }
    }
    Ok(received)
}
