//! Rendered videos: waits and downloads, beside the generated operations.

use std::path::Path;
use std::sync::Arc;

use tokio::io::AsyncWrite;

use crate::download::{self, Download, VideoAsset};
use crate::error::Result;
use crate::resources::check_path_param;
use crate::resources::generated::handles::Videos;
use crate::transfer::Progress;
use crate::types::VideoDetail;
use crate::wait::{self, Phase, WaitOptions, WaitOutcome, WaitStream};

fn video_start(video_id: &str) -> Phase {
    Phase::Video {
        session_id: None,
        video_id: video_id.to_string(),
    }
}

/// Most ids one bulk status request takes.
pub const STATUS_IDS_PER_REQUEST: usize = 100;

/// The statuses of many videos, from [`Videos::statuses`].
#[derive(Debug, Clone, serde::Serialize)]
#[non_exhaustive]
pub struct VideoStatuses {
    /// One entry per id HeyGen knows, in the order of the answers.
    pub items: Vec<crate::types::VideoStatusItem>,
    /// The ids HeyGen answered `not_found` for: unknown, deleted, or not the caller's.
    pub not_found: Vec<String>,
    /// How many requests were made (one per 100 ids).
    pub requests: usize,
}

impl Videos<'_> {
    /// The statuses of any number of videos: one `GET /v3/videos/statuses` per 100 ids (see
    /// [`statuses_page`](Self::statuses_page) for one request). Every id HeyGen does not know
    /// is reported in [`VideoStatuses::not_found`]. Statuses here use the bulk vocabulary:
    /// `queued`, `processing`, `completed`, `failed`.
    ///
    /// # Errors
    /// [`Error::InvalidRequest`](crate::Error::InvalidRequest) for a blank id (nothing is
    /// sent); the first error of a request otherwise.
    pub async fn statuses(
        &self,
        video_ids: impl IntoIterator<Item = impl Into<String>>,
    ) -> Result<VideoStatuses> {
        let ids: Vec<String> = video_ids.into_iter().map(Into::into).collect();
        for id in &ids {
            check_path_param("video_ids", id)?;
        }
        let mut out = VideoStatuses {
            items: Vec::new(),
            not_found: Vec::new(),
            requests: 0,
        };
        for chunk in ids.chunks(STATUS_IDS_PER_REQUEST) {
            let page = self.statuses_page().video_ids(chunk.join(",")).await?;
            out.requests += 1;
            for item in page.items {
                if item.status == "not_found" {
                    out.not_found.extend(item.video_id.clone());
                } else {
                    out.items.push(item);
                }
            }
        }
        Ok(out)
    }

    /// Creates a video and waits for it: the video is polled until it is `completed` or
    /// `failed` (or the deadline passes). See [`WaitOptions`] for the schedule.
    ///
    /// # Errors
    /// Validation and API errors from the create call; during the wait, only errors that are not
    /// retryable end it early.
    pub async fn create_and_wait(
        &self,
        request: crate::CreateVideoRequest,
        options: WaitOptions,
    ) -> Result<WaitOutcome> {
        let created = self.create(request).await?;
        wait::run(self.client.clone(), video_start(&created.video_id), options).await
    }

    /// Waits until the video is `completed` or `failed` (or the deadline passes).
    pub async fn wait(&self, video_id: &str, options: WaitOptions) -> Result<WaitOutcome> {
        check_path_param("video_id", video_id)?;
        wait::run(self.client.clone(), video_start(video_id), options).await
    }

    /// [`wait`](Self::wait) as a stream of updates. Dropping the stream stops polling.
    pub fn wait_stream(&self, video_id: &str, options: WaitOptions) -> WaitStream<'static> {
        wait::stream(self.client.clone(), video_start(video_id), options)
    }

    /// Downloads one of a completed video's files to `path`, streamed, through a temporary
    /// file renamed into place when complete.
    pub async fn download(
        &self,
        video: &VideoDetail,
        asset: VideoAsset,
        path: impl AsRef<Path>,
    ) -> Result<Download> {
        let url = download::asset_url(video, asset)?;
        download::to_path(self.client, url, path.as_ref(), None).await
    }

    /// [`download`](Self::download), reporting progress as bytes arrive.
    pub async fn download_with_progress(
        &self,
        video: &VideoDetail,
        asset: VideoAsset,
        path: impl AsRef<Path>,
        progress: impl Fn(Progress) + Send + Sync + 'static,
    ) -> Result<Download> {
        let url = download::asset_url(video, asset)?;
        download::to_path(self.client, url, path.as_ref(), Some(Arc::new(progress))).await
    }

    /// Streams one of a completed video's files into a writer. On a size mismatch the writer
    /// has received a partial file; the error says so.
    pub async fn download_to_writer<W: AsyncWrite + Unpin>(
        &self,
        video: &VideoDetail,
        asset: VideoAsset,
        writer: &mut W,
    ) -> Result<Download> {
        let url = download::asset_url(video, asset)?;
        let bytes = download::to_writer(self.client, url, writer, None).await?;
        Ok(Download { path: None, bytes })
    }
}
