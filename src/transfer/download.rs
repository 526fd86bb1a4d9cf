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

use crate::api::client::Client;
use crate::api::error::{Attempt, Error, Result};
use crate::api::retry;
use crate::transfer::{Progress, ProgressFn};
use crate::types::VideoDetail;

const OPERATION: &str = "download";
/// A download is a `GET`: repeating it has no second effect.
const DOWNLOAD: Attempt = Attempt {
    operation: OPERATION,
    repeatable: true,
};

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
    // A folder cannot become the file: refused before the body is fetched, not after.
    if path.is_dir() {
        return Err(Error::invalid(
            "path",
            format!("{} is a folder; give the file's name", path.display()),
        ));
    }
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let io = |context: String| move |source| Error::Io { context, source };
    let mut temp = tempfile::Builder::new();
    temp.prefix(".heygen-download-");
    // The finished file gets the mode any new file would (0644 under the usual umask), not
    // the temporary file's private 0600.
    #[cfg(unix)]
    temp.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
    let temp = temp.tempfile_in(&dir).map_err(io(format!(
        "creating a temporary file in {}",
        dir.display()
    )))?;
    let (file, temp_path) = temp.into_parts();
    let file = tokio::fs::File::from_std(file);
    // On any error below, `temp_path` is dropped and the partial file deleted.
    let policy = &client.config().retry;
    let file = tokio::sync::Mutex::new(file);
    let bytes = retry::run(policy, OPERATION, |retry| {
        let (file, progress, temp_path) = (&file, progress.as_ref(), &temp_path);
        async move {
            let mut file = file.lock().await;
            if retry > 0 {
                // A body cut short: start over from an empty file.
                tracing::debug!(url = %redacted(url), "restarting the download");
                let restart = async {
                    file.set_len(0).await?;
                    file.rewind().await.map(drop)
                };
                restart
                    .await
                    .map_err(io(format!("truncating {}", temp_path.display())))?;
            }
            let response = open(client, url).await?;
            stream(response, &mut *file, progress).await
        }
    })
    .await?;
    let file = file.into_inner();
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

/// Streams `url` into `writer`, returning the number of bytes written. The request is
/// retried until its body starts; a writer cannot be rewound, so not after.
pub(crate) async fn to_writer<W: AsyncWrite + Unpin>(
    client: &Client,
    url: &str,
    writer: &mut W,
    progress: Option<ProgressFn>,
) -> Result<u64> {
    let response = retry::run(&client.config().retry, OPERATION, |_| open(client, url)).await?;
    stream(response, writer, progress.as_ref()).await
}

/// The URL without its query, which carries the presigned signature.
fn redacted(url: &str) -> &str {
    url.split(['?', '#']).next().unwrap_or(url)
}

/// Sends the GET (one attempt) and answers with a successful response or the error.
async fn open(client: &Client, url: &str) -> Result<reqwest::Response> {
    crate::types::check_http_url("url", url).map_err(Error::InvalidRequest)?;
    let http = client.download_http()?;
    let response = http
        .get(url)
        .timeout(client.config().transfer_timeout)
        .send()
        .await
        .map_err(|e| DOWNLOAD.transport(e))?;
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    tracing::debug!(url = %redacted(url), status = status.as_u16(), "download refused");
    let headers = response.headers().clone();
    let body = response.bytes().await.unwrap_or_default();
    Err(DOWNLOAD.error_from(status, &headers, &body))
}

/// Streams a response's body into `writer`, returning the number of bytes written.
async fn stream<W: AsyncWrite + Unpin>(
    mut response: reqwest::Response,
    writer: &mut W,
    progress: Option<&ProgressFn>,
) -> Result<u64> {
    let expected = response.content_length();
    let mut received = 0u64;
    while let Some(chunk) = response.chunk().await.map_err(|e| DOWNLOAD.transport(e))? {
        writer.write_all(&chunk).await.map_err(|source| Error::Io {
            context: "writing the download".into(),
            source,
        })?;
        received += chunk.len() as u64;
        if let Some(report) = progress {
            report(Progress::transfer(received, expected));
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
