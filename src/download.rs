//! Downloading finished videos (and their captioned version, subtitles and thumbnail).
//!
//! Downloads are streamed: nothing is held in memory whole. A download to a path is written to
//! a temporary file in the destination's directory and renamed into place only when complete,
//! so a failed download never leaves a partial file at the destination. A body whose size
//! differs from its `Content-Length` is an error. Presigned URLs are fetched without the API
//! key: it is never sent to the storage host.
//!
//! Downloads are retried with the client's [`RetryPolicy`](crate::RetryPolicy): a failed
//! connection, a timeout, `408`, `429` (after its `Retry-After`) and `5xx` before the body
//! starts; a body cut short (reset, timeout, fewer bytes than announced) restarts a download
//! to a path from the beginning. A writer cannot be rewound, so a download to a writer is not
//! retried once bytes have reached it.

use std::path::{Path, PathBuf};

use tokio::io::{AsyncSeekExt as _, AsyncWrite, AsyncWriteExt as _};

use crate::client::{error_from_parts, transport, Client};
use crate::error::{Error, Result};
use crate::retry::should_retry_status;
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
    let policy = &client.config().retry;
    let mut retry = 0;
    let bytes = loop {
        let response = open(client, url, &mut retry).await?;
        match stream(response, &mut file, progress.as_ref()).await {
            Ok(bytes) => break bytes,
            Err(error) if cut_short(&error) && retry < policy.get_max_retries() => {
                let wait = policy.delay(retry, None);
                tracing::debug!(url = %redacted(url), wait_ms = wait.as_millis() as u64, %error, "restarting the download");
                tokio::time::sleep(wait).await;
                retry += 1;
                let restart = async {
                    file.set_len(0).await?;
                    file.rewind().await.map(drop)
                };
                restart
                    .await
                    .map_err(io(format!("truncating {}", temp_path.display())))?;
            }
            Err(error) => return Err(error),
        }
    };
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
    let response = open(client, url, &mut 0).await?;
    stream(response, writer, progress.as_ref()).await
}

/// Whether a download failed part-way through the body (and can start over).
fn cut_short(error: &Error) -> bool {
    matches!(
        error,
        Error::Transport { .. } | Error::Timeout { .. } | Error::SizeMismatch { .. }
    )
}

/// The URL without its query, which carries the presigned signature.
fn redacted(url: &str) -> &str {
    url.split(['?', '#']).next().unwrap_or(url)
}

/// Sends the GET until a response is successful, retrying what is safe to retry before a body
/// is read; `retry` counts retries already spent by this download.
async fn open(client: &Client, url: &str, retry: &mut u32) -> Result<reqwest::Response> {
    crate::files::check_http_url("url", url).map_err(Error::InvalidRequest)?;
    let http = client.download_http()?;
    let config = client.config();
    loop {
        let outcome = http.get(url).timeout(config.upload_timeout).send().await;
        let wait = match &outcome {
            Ok(response) if response.status().is_success() => None,
            Ok(response) => should_retry_status(response.status(), true, false)
                .then(|| config.retry.delay_after(*retry, response)),
            Err(error) => (!error.is_builder()).then(|| config.retry.delay(*retry, None)),
        };
        match wait {
            Some(wait) if *retry < config.retry.get_max_retries() => {
                tracing::debug!(url = %redacted(url), wait_ms = wait.as_millis() as u64, "retrying the download");
                tokio::time::sleep(wait).await;
                *retry += 1;
            }
            _ => {
                let response = outcome.map_err(|e| transport(OPERATION, e))?;
                let status = response.status();
                if status.is_success() {
                    return Ok(response);
                }
                let headers = response.headers().clone();
                let body = response.bytes().await.unwrap_or_default();
                return Err(error_from_parts(OPERATION, status, &headers, &body));
            }
        }
    }
}

/// Streams a response's body into `writer`, returning the number of bytes written.
async fn stream<W: AsyncWrite + Unpin>(
    mut response: reqwest::Response,
    writer: &mut W,
    progress: Option<&ProgressFn>,
) -> Result<u64> {
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
        if let Some(report) = progress {
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
