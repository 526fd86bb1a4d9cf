//! `/v3/videos`: rendered videos.

use std::path::Path;
use std::sync::Arc;

use tokio::io::AsyncWrite;

use crate::client::{call, CallOptions, Client};
use crate::download::{self, Download, VideoAsset};
use crate::error::Result;
use crate::resources::{check_id, check_limit};
use crate::transfer::Progress;
use crate::types::{DeletedVideo, Page, VideoDetail};
use crate::wait::{self, Phase, WaitOptions, WaitOutcome, WaitStream};

fn video_start(video_id: &str) -> Phase {
    Phase::Video {
        session_id: None,
        video_id: video_id.to_string(),
    }
}

/// Rendered videos. Get one with [`Client::videos`].
#[derive(Debug, Clone, Copy)]
pub struct Videos<'a> {
    client: &'a Client,
}

impl<'a> Videos<'a> {
    pub(crate) fn new(client: &'a Client) -> Self {
        Videos { client }
    }

    /// Gets a video's status, URLs, duration and failure details.
    pub async fn get(&self, video_id: &str) -> Result<VideoDetail> {
        check_id("video_id", video_id)?;
        let response = call!(self.client, "get_video", CallOptions::default(), |raw| raw
            .get_video()
            .video_id(video_id)
            .send())?;
        Ok(response.data)
    }

    /// Permanently deletes a video. Deleting it again answers 404.
    pub async fn delete(&self, video_id: &str) -> Result<DeletedVideo> {
        check_id("video_id", video_id)?;
        let response = call!(self.client, "delete_video", CallOptions::default(), |raw| {
            raw.delete_video().video_id(video_id).send()
        })?;
        Ok(response.data)
    }

    /// Waits until the video is `completed` or `failed` (or the deadline passes).
    pub async fn wait(&self, video_id: &str, options: WaitOptions) -> Result<WaitOutcome> {
        check_id("video_id", video_id)?;
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

    /// Lists the account's videos.
    pub fn list(&self) -> ListVideos<'a> {
        ListVideos {
            client: self.client,
            limit: None,
            token: None,
            folder_id: None,
            title: None,
        }
    }
}

/// A page request for [`Videos::list`].
#[derive(Debug, Clone)]
#[must_use]
pub struct ListVideos<'a> {
    client: &'a Client,
    limit: Option<u32>,
    token: Option<String>,
    folder_id: Option<String>,
    title: Option<String>,
}

paged!(ListVideos, VideoDetail, "list_videos", "10");

impl ListVideos<'_> {
    /// Only videos in this folder.
    pub fn folder_id(mut self, folder_id: impl Into<String>) -> Self {
        self.folder_id = Some(folder_id.into());
        self
    }

    /// Only videos whose title contains this text.
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }

    /// Fetches the page.
    pub async fn send(self) -> Result<Page<VideoDetail>> {
        let limit = check_limit(self.limit)?;
        let list = call!(self.client, "list_videos", CallOptions::default(), |raw| {
            let mut builder = raw.list_videos();
            if let Some(limit) = limit {
                builder = builder.limit(limit);
            }
            if let Some(token) = &self.token {
                builder = builder.token(token.clone());
            }
            if let Some(folder_id) = &self.folder_id {
                builder = builder.folder_id(folder_id.clone());
            }
            if let Some(title) = &self.title {
                builder = builder.title(title.clone());
            }
            builder.send()
        })?;
        Ok(Page::new(list.data, list.has_more, list.next_token))
    }
}
