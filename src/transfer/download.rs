//! Downloading the files HeyGen made: finished videos (and their captioned version, subtitles and
//! thumbnail), and any job's results (translations, clips, layers, audio).
//!
//! Downloads are streamed: nothing is held in memory whole. A download to a path is written to
//! a temporary file in the destination's directory and renamed into place only when complete,
//! so a failed download never leaves a partial file at the destination; a durable one (the
//! default) also waits until the file is on disk, so that it is whole after a power cut. A body whose size
//! differs from its `Content-Length` is an error. Presigned URLs are fetched without the API
//! key: it is never sent to the storage host.
//!
//! Downloads are retried with the client's [`RetryPolicy`](crate::RetryPolicy): a failed
//! connection, a timeout, `408`, `429` (after its `Retry-After`) and `5xx` before the body
//! starts; a body cut short (reset, timeout, fewer bytes than announced) restarts a download
//! to a path from the beginning. A writer cannot be rewound, so a download to a writer is not
//! retried once bytes have reached it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::io::{AsyncWrite, AsyncWriteExt as _};

use crate::api::client::Client;
use crate::api::error::{Attempt, Error, Result};
use crate::api::retry;
use crate::api::types::VideoDetail;
use crate::transfer::{Progress, ProgressFn};

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

/// A download of a file HeyGen made, to a path: a video's (from
/// [`Videos::download`](crate::Videos::download)) or any job's result (from
/// [`Client::download`](crate::Client::download)). `.await` it.
#[must_use = "a download does nothing until awaited"]
pub struct FileDownload<'a> {
    client: &'a Client,
    url: Result<String>,
    path: PathBuf,
    progress: Option<ProgressFn>,
    durable: bool,
}

impl std::fmt::Debug for FileDownload<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileDownload")
            .field("path", &self.path)
            .field("on_progress", &self.progress.is_some())
            .field("durable", &self.durable)
            .finish_non_exhaustive()
    }
}

impl<'a> FileDownload<'a> {
    /// A download of `url` to `path` (`url` an error: the download fails with it, nothing
    /// fetched).
    pub(crate) fn new(client: &'a Client, url: Result<String>, path: PathBuf) -> Self {
        FileDownload {
            client,
            url,
            path,
            progress: None,
            durable: true,
        }
    }

    /// Called as bytes arrive.
    pub fn on_progress(mut self, progress: impl Fn(Progress) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(progress));
        self
    }

    /// Whether the file is on disk, not only in the system's cache, before it is renamed into
    /// place and the download answers (`true` by default). A durable download survives a power
    /// cut the moment it answers, which is what a run that records the download as done needs
    /// (the [batch runner](crate::batch) keeps its downloads durable); it is as fast as the
    /// disk takes the bytes. `false` answers as soon as the system has the bytes, as `curl -o`
    /// does: for a file used straight away or that can be fetched again, a power cut can then
    /// leave it shorter than it was, or empty.
    pub fn durable(mut self, durable: bool) -> Self {
        self.durable = durable;
        self
    }
}

impl<'a> std::future::IntoFuture for FileDownload<'a> {
    type Output = Result<Download>;
    type IntoFuture =
        std::pin::Pin<Box<dyn std::future::Future<Output = Self::Output> + Send + 'a>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let url = self.url?;
            to_path(self.client, &url, &self.path, self.progress, self.durable).await
        })
    }
}

/// The former name of [`FileDownload`], from when only videos were downloaded.
#[deprecated(note = "renamed `FileDownload`: it downloads any file HeyGen made")]
pub type DownloadVideo<'a> = FileDownload<'a>;

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

/// Streams `url` into a temporary file next to `path`, then renames it into place; `durable`,
/// once the file is on disk.
pub(crate) async fn to_path(
    client: &Client,
    url: &str,
    path: &Path,
    progress: Option<ProgressFn>,
    durable: bool,
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
    // On any error below, `temp_path` is dropped and the partial file deleted.
    let writing = io(format!("writing {}", temp_path.display()));
    let file = FileWriter::start(file, durable);
    let policy = &client.config().retry;
    let received = retry::run(policy, OPERATION, |retry| {
        let (file, progress, temp_path) = (&file, progress.as_ref(), &temp_path);
        async move {
            if retry > 0 {
                // A body cut short: start over from an empty file.
                tracing::debug!(url = %redacted(url), "restarting the download");
                file.ask(Command::Restart)
                    .await
                    .map_err(io(format!("truncating {}", temp_path.display())))?;
            }
            let response = open(client, url).await?;
            stream(response, progress, file).await
        }
    })
    .await;
    let bytes = match received {
        Ok(bytes) => bytes,
        Err(e) => {
            // The thread lets go of the file before it is deleted.
            file.stop().await;
            return Err(e);
        }
    };
    file.finish().await.map_err(writing)?;
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
    let received = stream(response, progress.as_ref(), &mut *writer).await?;
    writer.flush().await.map_err(written)?;
    Ok(received)
}

/// An error writing a download.
fn written(source: std::io::Error) -> Error {
    Error::Io {
        context: "writing the download".into(),
        source,
    }
}

/// Where the chunks of a download go.
trait Put {
    /// Takes the next chunk.
    async fn put(&mut self, chunk: bytes::Bytes) -> Result<()>;
}

impl<W: AsyncWrite + Unpin> Put for &mut W {
    async fn put(&mut self, chunk: bytes::Bytes) -> Result<()> {
        self.write_all(&chunk).await.map_err(written)
    }
}

impl Put for &FileWriter {
    async fn put(&mut self, chunk: bytes::Bytes) -> Result<()> {
        self.write(chunk).await.map_err(written)
    }
}

/// What the thread writing a download to its file is asked to do.
enum Command {
    /// Write these bytes after the others.
    Write(bytes::Bytes),
    /// Empty the file, for an attempt that starts over, then say so.
    Restart(Done),
    /// Make the file durable if it is to be, then say so.
    Finish(Done),
}

/// The answer to a command that is waited for.
type Done = tokio::sync::oneshot::Sender<()>;

/// How many chunks of the body may wait for the writing thread.
const CHUNKS_AHEAD: usize = 16;

/// How many bytes are written before the system is asked to start putting them on disk.
const WRITE_BACK_EVERY: u64 = 16 << 20;

/// A download's file, written by a blocking thread of its own: the chunks of the body go to it
/// as they come, with no copy and no trip to a blocking thread each. A durable download's
/// bytes are handed to the disk as the download goes (on Linux), so the sync at the end waits
/// for little more than the last of them.
struct FileWriter {
    commands: tokio::sync::mpsc::Sender<Command>,
    /// The thread, and with it the first error it met.
    thread: tokio::sync::Mutex<Option<tokio::task::JoinHandle<std::io::Result<()>>>>,
}

impl FileWriter {
    fn start(file: std::fs::File, durable: bool) -> Self {
        let (commands, queue) = tokio::sync::mpsc::channel(CHUNKS_AHEAD);
        let thread = tokio::task::spawn_blocking(move || write_file(file, queue, durable));
        FileWriter {
            commands,
            thread: tokio::sync::Mutex::new(Some(thread)),
        }
    }

    /// Hands a chunk to the thread. A failed write ends the thread: its error comes back here.
    async fn write(&self, chunk: bytes::Bytes) -> std::io::Result<()> {
        if self.commands.send(Command::Write(chunk)).await.is_ok() {
            return Ok(());
        }
        Err(self.error().await)
    }

    /// Hands a command to the thread and waits until it is done.
    async fn ask(&self, command: impl FnOnce(Done) -> Command) -> std::io::Result<()> {
        let (done, answered) = tokio::sync::oneshot::channel();
        if self.commands.send(command(done)).await.is_ok() && answered.await.is_ok() {
            return Ok(());
        }
        Err(self.error().await)
    }

    /// Syncs the file if it is to be durable and ends the thread, which closes the file.
    async fn finish(self) -> std::io::Result<()> {
        self.ask(Command::Finish).await?;
        self.stop().await;
        Ok(())
    }

    /// Ends the thread once it has written what it was given.
    async fn stop(self) {
        let FileWriter { commands, thread } = self;
        drop(commands);
        if let Some(thread) = thread.into_inner() {
            let _ = thread.await;
        }
    }

    /// Why the thread stopped.
    async fn error(&self) -> std::io::Error {
        let thread = self.thread.lock().await.take();
        match thread {
            Some(thread) => match thread.await {
                Ok(Err(e)) => e,
                Ok(Ok(())) => std::io::Error::other("the file was closed"),
                Err(e) => std::io::Error::other(format!("writing the file stopped: {e}")),
            },
            None => std::io::Error::other("writing the file failed"),
        }
    }
}

/// The writing thread of a [`FileWriter`]: runs its commands until told to finish or until a
/// write fails (the error is its result). A `durable` file is handed to the disk as it is
/// written and synced at the end; any other is left to the system's cache.
fn write_file(
    mut file: std::fs::File,
    mut queue: tokio::sync::mpsc::Receiver<Command>,
    durable: bool,
) -> std::io::Result<()> {
    use std::io::{Seek as _, Write as _};
    let (mut written, mut handed) = (0u64, 0u64);
    while let Some(command) = queue.blocking_recv() {
        match command {
            Command::Write(chunk) => {
                file.write_all(&chunk)?;
                written += chunk.len() as u64;
                if durable && written - handed >= WRITE_BACK_EVERY {
                    write_back(&file, handed, written - handed);
                    handed = written;
                }
            }
            Command::Restart(done) => {
                file.set_len(0)?;
                file.rewind()?;
                (written, handed) = (0, 0);
                let _ = done.send(());
            }
            Command::Finish(done) => {
                if durable {
                    file.sync_all()?;
                }
                let _ = done.send(());
            }
        }
    }
    Ok(())
}

/// Asks the system to start writing `len` bytes from `offset` to disk now rather than when its
/// cache fills or the final sync asks: the pages go to disk in the background while the
/// download goes on. (`POSIX_FADV_DONTNEED` on pages just written starts their write-back;
/// they stay cached, as they are not clean yet.) A hint: where it is not available, nothing
/// happens.
fn write_back(file: &std::fs::File, offset: u64, len: u64) {
    #[cfg(target_os = "linux")]
    {
        let _ = rustix::fs::fadvise(
            file,
            offset,
            std::num::NonZeroU64::new(len),
            rustix::fs::Advice::DontNeed,
        );
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (file, offset, len);
}

/// The URL without its query, which carries the presigned signature.
fn redacted(url: &str) -> &str {
    url.split(['?', '#']).next().unwrap_or(url)
}

/// Sends the GET (one attempt) and answers with a successful response or the error.
async fn open(client: &Client, url: &str) -> Result<reqwest::Response> {
    crate::api::types::check_http_url("url", url).map_err(Error::InvalidRequest)?;
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

/// Streams a response's body through `put`, a chunk at a time, returning the number of bytes.
async fn stream(
    mut response: reqwest::Response,
    progress: Option<&ProgressFn>,
    mut sink: impl Put,
) -> Result<u64> {
    let expected = response.content_length();
    let mut received = 0u64;
    while let Some(chunk) = response.chunk().await.map_err(|e| DOWNLOAD.transport(e))? {
        let len = chunk.len() as u64;
        sink.put(chunk).await?;
        received += len;
        if let Some(report) = progress {
            report(Progress::transfer(received, expected));
        }
    }
    if let Some(expected) = expected {
        if expected != received {
            return Err(Error::SizeMismatch { expected, received });
        }
    }
    Ok(received)
}
