//! Rendered videos: waits and downloads, beside the generated operations.

use std::path::Path;

use tokio::io::AsyncWrite;

use crate::api::error::Result;
use crate::api::kinds::JobKind;
use crate::api::outcome::JobOutcome;
use crate::api::types::{Page, VideoDetail};
use crate::jobs::lifecycle::{Lifecycle, Next, Observed};
use crate::jobs::video_wait::{self, Phase};
use crate::jobs::wait::{PollClock, WaitOptions, WaitStream};
use crate::resources::check_path_param;
use crate::resources::generated::handles::Videos;
use crate::transfer::download::{self, Download, FileDownload, VideoAsset};

impl crate::resources::generated::builders::CreateVideo<'_> {
    /// Sends the request, then waits for the video until it is `completed` or `failed` (or
    /// the deadline passes), as every kind's `send_and_wait` does.
    ///
    /// # Errors
    /// The create's own errors; during the wait, only errors that are not retryable end it.
    pub async fn send_and_wait(self, options: WaitOptions) -> Result<JobOutcome<VideoDetail>> {
        let client = self.client().clone();
        let created = self.send().await?;
        video_wait::run(client, video_start(&created.video_id), options).await
    }
}

fn video_start(video_id: &str) -> Phase {
    Phase::Video {
        session_id: None,
        video_id: video_id.to_string(),
    }
}

/// What [`Videos::wait_batch`] yields.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum BatchUpdate {
    /// An item ended (`completed` or `failed`), in the order items end.
    Item(crate::api::types::VideoBatchItemsItem),
    /// Every item has ended: the batch as it finished, with all its items.
    Done(Box<crate::api::types::VideoBatch>),
    /// The wait's deadline passed first; the batch goes on at HeyGen.
    TimedOut {
        /// Items that had ended.
        ended: usize,
        /// Items in the batch.
        total: usize,
    },
}

/// A stream of a batch's updates; dropping it stops polling.
pub type BatchStream<'a> =
    std::pin::Pin<Box<dyn futures_core::Stream<Item = Result<BatchUpdate>> + Send + 'a>>;

/// What a batch wait keeps between polls.
struct BatchWait {
    client: crate::api::client::Client,
    batch_id: String,
    options: WaitOptions,
    /// The wait's clock, shared with every other wait.
    clock: PollClock,
    deadline: tokio::time::Instant,
    polls: u32,
    /// Items in the batch, as last seen.
    total: usize,
    /// The lifecycles of items not ended yet.
    items: std::collections::HashMap<i64, Lifecycle>,
    ended: std::collections::HashSet<i64>,
    queue: std::collections::VecDeque<BatchUpdate>,
    over: bool,
}

impl BatchWait {
    /// The whole batch: every page of its items, through the pagination stream (and so its
    /// guard against a repeated token).
    async fn fetch(&self) -> Result<crate::api::types::VideoBatch> {
        use futures_util::TryStreamExt as _;
        let mut batch = self.client.videos().batch(self.batch_id.as_str()).await?;
        if let Some(token) = batch.next_token.take().filter(|_| batch.has_more) {
            let (client, batch_id) = (self.client.clone(), self.batch_id.clone());
            let rest = crate::resources::pagination::paginate(
                "get_video_batch",
                Some(token),
                move |token| {
                    let (client, batch_id) = (client.clone(), batch_id.clone());
                    async move {
                        let mut request = client.videos().batch(batch_id);
                        if let Some(token) = token {
                            request = request.token(token);
                        }
                        let page = request.await?;
                        Ok(Page::new(page.items, Some(page.has_more), page.next_token))
                    }
                },
            );
            let rest: Vec<_> = rest.try_collect().await?;
            batch.items.extend(rest);
        }
        batch.has_more = false;
        batch.next_token = None;
        Ok(batch)
    }

    /// Polls until something is to be yielded.
    async fn step(&mut self) -> Option<Result<BatchUpdate>> {
        loop {
            if let Some(update) = self.queue.pop_front() {
                return Some(Ok(update));
            }
            if self.over {
                return None;
            }
            if self.polls > 0 {
                let due =
                    tokio::time::Instant::now() + self.options.schedule().wait(self.polls - 1);
                if !self.clock.until(due).await {
                    self.over = true;
                    return Some(Ok(BatchUpdate::TimedOut {
                        ended: self.ended.len(),
                        total: self.total,
                    }));
                }
            }
            self.polls += 1;
            let batch = match self.fetch().await {
                Ok(batch) => batch,
                Err(e) if e.is_retryable() && tokio::time::Instant::now() < self.deadline => {
                    continue;
                }
                Err(e) => {
                    self.over = true;
                    return Some(Err(e));
                }
            };
            self.total = batch.items.len();
            for item in &batch.items {
                if self.ended.contains(&item.item_index) {
                    continue;
                }
                let life = self.items.entry(item.item_index).or_insert_with(|| {
                    Lifecycle::new(
                        JobKind::Video.describe(),
                        &[Some(&item.item_index.to_string())],
                    )
                });
                let next = life.observe(Observed::Status {
                    status: item.status.as_str(),
                    next: None,
                    record: true,
                });
                if let Next::Done(_) = next {
                    self.items.remove(&item.item_index);
                    self.ended.insert(item.item_index);
                    self.queue.push_back(BatchUpdate::Item(item.clone()));
                }
            }
            let all_ended = !batch.items.is_empty()
                && batch
                    .items
                    .iter()
                    .all(|item| self.ended.contains(&item.item_index));
            if all_ended {
                self.over = true;
                self.queue.push_back(BatchUpdate::Done(Box::new(batch)));
            } else if tokio::time::Instant::now() >= self.deadline {
                self.over = true;
                self.queue.push_back(BatchUpdate::TimedOut {
                    ended: self.ended.len(),
                    total: batch.items.len(),
                });
            }
        }
    }
}

/// Most ids one bulk status request takes.
pub const STATUS_IDS_PER_REQUEST: usize = 100;

/// The statuses of many videos, from [`Videos::statuses`].
#[derive(Debug, Clone, serde::Serialize)]
#[non_exhaustive]
pub struct VideoStatuses {
    /// One entry per id HeyGen knows, in the order of the answers.
    pub items: Vec<crate::api::types::VideoStatusItem>,
    /// The ids HeyGen answered `not_found` for: unknown, deleted, or not the caller's.
    pub not_found: Vec<String>,
    /// How many requests were made (one per 100 ids).
    pub requests: usize,
}

impl<'a> Videos<'a> {
    /// Waits for a whole batch, yielding each item as it ends, then the finished batch. Polls
    /// `GET /v3/videos/batches/{batch_id}` (every page) on the wait's schedule; retryable
    /// failures do not end it. Dropping the stream stops polling.
    pub fn wait_batch(
        &self,
        batch_id: impl Into<String>,
        options: WaitOptions,
    ) -> BatchStream<'static> {
        let clock = PollClock::new(tokio::time::Instant::now(), &options);
        let state = BatchWait {
            client: self.client.clone(),
            batch_id: batch_id.into(),
            deadline: clock.deadline(),
            clock,
            options,
            polls: 0,
            total: 0,
            items: std::collections::HashMap::new(),
            ended: std::collections::HashSet::new(),
            queue: std::collections::VecDeque::new(),
            over: false,
        };
        Box::pin(futures_util::stream::unfold(
            state,
            |mut state| async move {
                let update = state.step().await?;
                Some((update, state))
            },
        ))
    }

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
    /// `failed` (or the deadline passes). See [`WaitOptions`] for the schedule. The same as
    /// `create(request).send_and_wait(options)`, the shape every kind's create has.
    ///
    /// # Errors
    /// Validation and API errors from the create call; during the wait, only errors that are not
    /// retryable end it early.
    pub async fn create_and_wait(
        &self,
        request: crate::api::bodies::CreateVideoRequest,
        options: WaitOptions,
    ) -> Result<JobOutcome<VideoDetail>> {
        self.create(request).send_and_wait(options).await
    }

    /// Waits until the video is `completed` or `failed` (or the deadline passes).
    pub async fn wait(
        &self,
        video_id: &str,
        options: WaitOptions,
    ) -> Result<JobOutcome<VideoDetail>> {
        check_path_param("video_id", video_id)?;
        video_wait::run(self.client.clone(), video_start(video_id), options).await
    }

    /// [`wait`](Self::wait) as a stream of updates. Dropping the stream stops polling.
    pub fn wait_stream(
        &self,
        video_id: &str,
        options: WaitOptions,
    ) -> WaitStream<'static, VideoDetail> {
        video_wait::stream(self.client.clone(), video_start(video_id), options)
    }

    /// Downloads one of a completed video's files to `path`, streamed, through a temporary
    /// file renamed into place when complete and on disk. `.await` it; `.on_progress(..)`
    /// reports bytes as they arrive, as on uploads and waits; `.durable(false)` leaves the file
    /// to the system's cache.
    pub fn download(
        &self,
        video: &VideoDetail,
        asset: VideoAsset,
        path: impl AsRef<Path>,
    ) -> FileDownload<'a> {
        FileDownload::new(
            self.client,
            download::asset_url(video, asset).map(str::to_string),
            path.as_ref().to_path_buf(),
        )
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
