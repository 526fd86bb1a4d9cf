//! Uploads of files over 32 MB: the direct-upload flow, run as one call.
//!
//! 1. the file's type is sniffed from its first bytes;
//! 2. `POST /v3/assets/direct-uploads` answers with a presigned URL and the headers its `PUT`
//!    must carry;
//! 3. the file is streamed to that URL (never with the API key) and hashed as it is read, one
//!    pass over the file; retried within the client's policy; an expired URL (403) starts the
//!    flow over, once;
//! 4. `POST /v3/assets/{asset_id}/complete`, with the SHA-256 of the bytes sent for HeyGen to
//!    check against the bytes it received, makes the asset usable.
//!
//! Many files take the batch road ([`Assets::upload_many`]): every file is hashed first (the
//! batch's completion takes no checksum, so they go with its creation, for the storage to
//! enforce on each `PUT`), one `POST /v3/assets/direct-uploads/batches`, the `PUT`s a few at a
//! time, one `POST /v3/assets/complete/batches`, then `GET /v3/assets/batches/{batch_id}` for
//! each file's status.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use futures_util::StreamExt as _;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use crate::api::client::{Client, RequestOptions};
use crate::api::error::{unexpected_answer, Attempt, Error, Result};
use crate::api::raw::types::DirectUploadRequest;
use crate::api::retry;
use crate::api::types::{Asset, AssetBatchItemsItemStatus, CompletedAsset, Page};
use crate::resources::generated::handles::Assets;
use crate::transfer::files::FileInput;
use crate::transfer::{FileBody, Progress, ProgressFn, TransferStep};

const OPERATION: &str = crate::resources::generated::ids::CREATE_DIRECT_UPLOAD;
const BATCH_OPERATION: &str = crate::resources::generated::ids::CREATE_DIRECT_UPLOAD_BATCH;
/// A PUT to a presigned URL may be repeated: it replaces the same object.
const PUT: Attempt = Attempt {
    operation: OPERATION,
    repeatable: true,
};

/// Uploads `path`, of `size` bytes and of type `content_type` as the caller found them,
/// through the direct-upload flow; with `checksum`, the SHA-256 of the bytes sent goes with
/// the completion.
pub(crate) async fn upload(
    client: &Client,
    path: &Path,
    size: u64,
    content_type: &str,
    progress: Option<ProgressFn>,
    options: RequestOptions,
    checksum: bool,
) -> Result<Asset> {
    let file = LocalFile {
        path: path.to_path_buf(),
        name: file_name(path),
        size,
        checksum: None,
        content_type: content_type.to_string(),
    };
    let done = upload_one(client, &file, progress, options, checksum).await?;
    Ok(Asset {
        asset_id: done.asset_id,
        mime_type: done.mime_type,
        size_bytes: done.size_bytes,
        url: done.url,
        // What the completion answer carried beyond the fields named here.
        extra: done.extra,
    })
}

/// Create, `PUT`, complete: one file, renewing its URL once if it expired. A checksum known
/// beforehand goes with the creation and the completion; otherwise, with `checksum`, the file
/// is hashed as it is sent and the result goes with the completion.
async fn upload_one(
    client: &Client,
    file: &LocalFile,
    progress: Option<ProgressFn>,
    options: RequestOptions,
    checksum: bool,
) -> Result<CompletedAsset> {
    let hash_while_sending = checksum && file.checksum.is_none();
    let mut renewed = false;
    loop {
        let mut create = client
            .assets()
            .direct_upload(
                file.name.clone(),
                file.content_type.clone(),
                file.size as i64,
            )
            .options(options.clone());
        if let Some(known) = &file.checksum {
            create = create.checksum_sha256(known.clone());
        }
        let target = create.await?;
        let sent = match put(
            client,
            &file.path,
            file.size,
            &target,
            progress.clone(),
            hash_while_sending,
        )
        .await
        {
            Ok(sent) => sent,
            // The URL expired (or its signature went stale) before the bytes got in: a new
            // one, once.
            Err(e) if !renewed && e.status().map(|s| s.as_u16()) == Some(403) => {
                tracing::debug!(
                    asset_id = target.asset_id.as_str(),
                    "upload URL refused; renewing"
                );
                renewed = true;
                continue;
            }
            Err(e) => return Err(e),
        };
        let mut complete = client.assets().complete(target.asset_id.as_str());
        match (&file.checksum, sent) {
            (Some(known), _) => complete = complete.checksum_sha256(known.clone()),
            (None, Some(sent)) => complete = complete.checksum_sha256(sent),
            (None, None) if hash_while_sending => {
                return Err(unexpected_answer(
                    OPERATION,
                    "the upload URL answered before the whole file was sent",
                ))
            }
            (None, None) => {}
        }
        return complete.await;
    }
}

/// Streams the file to the presigned URL with the headers it asks for, retried as the policy
/// allows (the file is reopened, and hashed anew, for every attempt). With `checksum`, answers
/// the SHA-256 of the bytes the accepted attempt sent.
async fn put(
    client: &Client,
    path: &Path,
    size: u64,
    target: &crate::api::types::DirectUpload,
    progress: Option<ProgressFn>,
    checksum: bool,
) -> Result<Option<String>> {
    let mut headers = HeaderMap::new();
    for (name, value) in &target.upload_headers {
        let (Ok(name), Some(Ok(value))) = (
            HeaderName::from_bytes(name.as_bytes()),
            value.as_str().map(HeaderValue::from_str),
        ) else {
            return Err(Error::invalid(
                "upload_headers",
                format!("the header {name:?} cannot be sent"),
            ));
        };
        headers.insert(name, value);
    }
    let http = client.download_http()?;
    let timeout = client.config().transfer_timeout;
    retry::run(&client.config().retry, OPERATION, |_| {
        let headers = headers.clone();
        let progress = progress.clone();
        async move {
            let file = tokio::fs::File::open(path)
                .await
                .map_err(crate::api::error::reading(path))?
                .into_std()
                .await;
            let body = FileBody::new(file, size, progress, checksum);
            let sent = body.checksum();
            let response = http
                .put(target.upload_url.as_str())
                .headers(headers)
                .header(reqwest::header::CONTENT_LENGTH, size)
                .timeout(timeout)
                .body(body.body)
                .send()
                .await
                .map_err(|e| PUT.transport(e))?;
            let status = response.status();
            if status.is_success() {
                return Ok(sent.get());
            }
            let response_headers = response.headers().clone();
            let body = response.bytes().await.unwrap_or_default();
            Err(PUT.error_from(status, &response_headers, &body))
        }
    })
    .await
}

/// How many presigned `PUT`s of a batch run at once.
const PARALLEL_PUTS: usize = 4;

/// One file of [`Assets::upload_many`]: the asset it became and where it stands.
#[derive(Debug, Clone, serde::Serialize)]
#[non_exhaustive]
pub struct UploadedFile {
    /// The file on disk.
    pub path: PathBuf,
    /// The asset its bytes became.
    pub asset_id: String,
    /// The MIME type sniffed from its first bytes.
    pub content_type: String,
    /// Its size in bytes.
    pub size_bytes: u64,
    /// Where it stands after completion: `completed`, `processing` while HeyGen still works
    /// on it, or `failed`.
    pub status: AssetBatchItemsItemStatus,
    /// Why it failed: the error of its `PUT`, or the reason the batch gives.
    pub error: Option<String>,
}

/// The uploaded file, by its asset's id.
impl From<UploadedFile> for crate::api::types::FileInput {
    fn from(file: UploadedFile) -> Self {
        crate::api::types::FileInput::asset_id(file.asset_id)
    }
}

/// The uploaded file, by its asset's id.
impl From<&UploadedFile> for crate::api::types::FileInput {
    fn from(file: &UploadedFile) -> Self {
        crate::api::types::FileInput::asset_id(file.asset_id.as_str())
    }
}

impl UploadedFile {
    /// Whether the asset is usable as an input now.
    pub fn is_completed(&self) -> bool {
        self.status == AssetBatchItemsItemStatus::Completed
    }

    /// The asset as a request's file input.
    pub fn file_input(&self) -> FileInput {
        FileInput::asset_id(self.asset_id.clone())
    }
}

/// What [`Assets::upload_many`] uploaded: the batch, and each file in the order given.
#[derive(Debug, Clone, serde::Serialize)]
#[non_exhaustive]
pub struct UploadedBatch {
    /// The upload batch (see [`Assets::batch`]).
    pub batch_id: String,
    /// One entry per file, in the order given.
    pub files: Vec<UploadedFile>,
}

impl UploadedBatch {
    /// The files that failed (those still `processing` are not among them).
    pub fn failed(&self) -> impl Iterator<Item = &UploadedFile> {
        self.files
            .iter()
            .filter(|file| file.status == AssetBatchItemsItemStatus::Failed)
    }
}

/// A local file about to be uploaded.
struct LocalFile {
    path: PathBuf,
    name: String,
    size: u64,
    /// Its SHA-256, when it was read for it before anything was sent.
    checksum: Option<String>,
    content_type: String,
}

impl<'a> Assets<'a> {
    /// Uploads several files of any size through one direct-upload batch: every file is read
    /// and hashed first (an unreadable or empty one fails the call before anything is sent),
    /// then one batch is created, the bytes go to their presigned URLs a few at a time
    /// (retried within the client's policy; a file whose URL expired goes through the
    /// single-file flow instead), and the batch is completed.
    ///
    /// A file whose bytes could not be delivered does not fail the call: it comes back
    /// `failed`, with the reason, beside the files that made it (see
    /// [`UploadedBatch::failed`]). Await the request; `.on_progress(..)` hears the checksums
    /// and then the bytes sent, counted over all the files.
    pub fn upload_many<P: AsRef<Path>>(
        &self,
        paths: impl IntoIterator<Item = P>,
    ) -> UploadMany<'a> {
        UploadMany {
            client: self.client,
            paths: paths
                .into_iter()
                .map(|p| p.as_ref().to_path_buf())
                .collect(),
            progress: None,
        }
    }
}

/// Several files through one upload batch, built by [`Assets::upload_many`]. Await it.
#[must_use = "a request does nothing until it is awaited"]
pub struct UploadMany<'a> {
    client: &'a Client,
    paths: Vec<PathBuf>,
    progress: Option<ProgressFn>,
}

impl std::fmt::Debug for UploadMany<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UploadMany")
            .field("paths", &self.paths)
            .field("progress", &self.progress.is_some())
            .finish_non_exhaustive()
    }
}

impl<'a> std::future::IntoFuture for UploadMany<'a> {
    type Output = Result<UploadedBatch>;
    type IntoFuture =
        std::pin::Pin<Box<dyn std::future::Future<Output = Result<UploadedBatch>> + Send + 'a>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}

/// Bytes done of one step over several files, each file's count kept apart (a retried `PUT`
/// starts its file over without counting it twice).
struct Tally {
    step: TransferStep,
    done: Vec<AtomicU64>,
    total: u64,
    report: ProgressFn,
}

impl Tally {
    fn new(step: TransferStep, files: usize, total: u64, report: ProgressFn) -> Self {
        Tally {
            step,
            done: (0..files).map(|_| AtomicU64::new(0)).collect(),
            total,
            report,
        }
    }

    fn file(&self, index: usize, bytes: u64) {
        if let Some(slot) = self.done.get(index) {
            slot.store(bytes, Ordering::Relaxed);
        }
        let bytes = self.done.iter().map(|d| d.load(Ordering::Relaxed)).sum();
        (self.report)(Progress {
            step: self.step,
            bytes,
            total: Some(self.total),
        });
    }
}

impl UploadMany<'_> {
    /// Reports progress: the checksums first ([`TransferStep::Checksum`]), then the bytes
    /// sent ([`TransferStep::Transfer`]), each counted over all the files.
    pub fn on_progress(mut self, progress: impl Fn(Progress) + Send + Sync + 'static) -> Self {
        self.progress = Some(std::sync::Arc::new(progress));
        self
    }

    /// Reads and hashes every file, then uploads them through one batch.
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] when no file is given or one is empty or of a type HeyGen
    /// cannot detect, [`Error::Io`] when one cannot be read (nothing is sent in either case);
    /// any error of the batch's creation, completion or listing.
    pub async fn send(self) -> Result<UploadedBatch> {
        let client = self.client;
        if self.paths.is_empty() {
            return Err(Error::invalid("paths", "give at least one file to upload"));
        }
        let mut sizes = Vec::with_capacity(self.paths.len());
        for path in &self.paths {
            let meta = tokio::fs::metadata(path)
                .await
                .map_err(crate::api::error::reading(path))?;
            sizes.push(meta.len());
        }
        let total: u64 = sizes.iter().sum();
        let tally = |step| {
            self.progress
                .clone()
                .map(|report| std::sync::Arc::new(Tally::new(step, sizes.len(), total, report)))
        };
        let hashed = tally(TransferStep::Checksum);
        let mut files = Vec::new();
        for (index, path) in self.paths.iter().enumerate() {
            let report = hashed
                .as_ref()
                .map(|tally| move |bytes: u64, _: u64| tally.file(index, bytes));
            files.push(
                read_local(
                    path,
                    report.as_ref().map(|f| f as &(dyn Fn(u64, u64) + Sync)),
                )
                .await?,
            );
        }
        let sent = tally(TransferStep::Transfer);
        let requests = files.iter().map(|file| DirectUploadRequest {
            checksum_sha256: file.checksum.clone(),
            content_type: file.content_type.clone(),
            filename: file.name.clone(),
            size_bytes: file.size as i64,
        });
        let batch = client.assets().direct_upload_batch(requests).await?;
        if batch.items.len() != files.len() {
            return Err(unexpected_answer(
                BATCH_OPERATION,
                &format!(
                    "{} upload URLs came back for {} files",
                    batch.items.len(),
                    files.len()
                ),
            ));
        }
        // The futures are made first, then run a few at a time.
        let puts: Vec<_> = files
            .iter()
            .zip(&batch.items)
            .enumerate()
            .map(|(index, (file, target))| {
                let report: Option<ProgressFn> = sent.clone().map(|tally| {
                    std::sync::Arc::new(move |p: Progress| tally.file(index, p.bytes)) as ProgressFn
                });
                put(client, &file.path, file.size, target, report, false)
            })
            .collect();
        let delivered: Vec<Result<Option<String>>> = futures_util::stream::iter(puts)
            .buffered(PARALLEL_PUTS)
            .collect()
            .await;
        // Files whose URL expired start over alone; their batch items will fail.
        let mut alone: Vec<Option<Result<crate::api::types::CompletedAsset>>> = Vec::new();
        for (file, result) in files.iter().zip(&delivered) {
            alone.push(match result {
                Err(e) if e.status().map(|s| s.as_u16()) == Some(403) => {
                    Some(upload_one(client, file, None, RequestOptions::new(), true).await)
                }
                _ => None,
            });
        }
        client
            .assets()
            .complete_batch(batch.batch_id.clone())
            .await?;
        let items: Vec<_> = {
            use futures_util::TryStreamExt as _;
            let batch_id = batch.batch_id.clone();
            crate::resources::pagination::paginate("get_asset_batch", None, move |token| {
                let batch_id = batch_id.clone();
                async move {
                    let mut request = client.assets().batch(batch_id).limit(100);
                    if let Some(token) = token {
                        request = request.token(token);
                    }
                    let page = request.await?;
                    Ok(Page::new(page.items, Some(page.has_more), page.next_token))
                }
            })
            .try_collect()
            .await?
        };
        let mut items: std::collections::HashMap<_, _> = items
            .into_iter()
            .map(|item| (item.item_index, item))
            .collect();
        let mut uploaded = Vec::with_capacity(files.len());
        for (index, ((file, target), (delivered, alone))) in files
            .into_iter()
            .zip(batch.items)
            .zip(delivered.into_iter().zip(alone))
            .enumerate()
        {
            let item = items.remove(&(index as i64));
            let (asset_id, status, error) = match (alone, delivered) {
                (Some(Ok(done)), _) => (
                    done.asset_id,
                    AssetBatchItemsItemStatus::from(done.status),
                    None,
                ),
                (Some(Err(e)), _) | (None, Err(e)) => (
                    target.asset_id,
                    AssetBatchItemsItemStatus::Failed,
                    Some(error_chain(&e)),
                ),
                (None, Ok(_)) => match item {
                    Some(item) => (
                        target.asset_id,
                        item.status,
                        item.error.map(|e| serde_json::Value::Object(e).to_string()),
                    ),
                    None => (
                        target.asset_id,
                        AssetBatchItemsItemStatus::Failed,
                        Some("the batch does not list this file".into()),
                    ),
                },
            };
            uploaded.push(UploadedFile {
                path: file.path,
                asset_id,
                content_type: file.content_type,
                size_bytes: file.size,
                status,
                error,
            });
        }
        Ok(UploadedBatch {
            batch_id: batch.batch_id,
            files: uploaded,
        })
    }
}

/// An error with its causes, on one line.
fn error_chain(error: &Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Reads a file's size, checksum and type; an empty file is refused. `checksum` hears the
/// bytes hashed so far and the file's size.
async fn read_local(
    path: &Path,
    checksum: Option<&(dyn Fn(u64, u64) + Sync)>,
) -> Result<LocalFile> {
    let mut file = inspect_local(path).await?;
    let size = file.size;
    let io = crate::api::error::reading(path);
    let reader = tokio::fs::File::open(path)
        .await
        .map_err(io)?
        .into_std()
        .await;
    let sum = crate::transfer::checksum(reader, size, |bytes| {
        if let Some(report) = checksum {
            report(bytes, size);
        }
    })
    .await
    .map_err(io)?;
    file.checksum = Some(sum);
    Ok(file)
}

/// Reads a file's size and type; an empty file, or one of a type HeyGen cannot detect, is
/// refused.
async fn inspect_local(path: &Path) -> Result<LocalFile> {
    let io = crate::api::error::reading(path);
    let size = tokio::fs::metadata(path).await.map_err(io)?.len();
    if size == 0 {
        return Err(Error::invalid(
            "paths",
            format!("{} is empty; there is nothing to upload", path.display()),
        ));
    }
    // A type HeyGen cannot detect is refused before the file is read whole or sent.
    let head = crate::transfer::files::head(path).await.map_err(io)?;
    let content_type = crate::transfer::files::detect_upload_type(&head)
        .map_err(|reason| Error::invalid("paths", format!("{}: {reason}", path.display())))?
        .to_string();
    Ok(LocalFile {
        path: path.to_path_buf(),
        name: file_name(path),
        size,
        checksum: None,
        content_type,
    })
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "upload".into())
}
