//! `POST /v3/assets`: multipart upload, written by hand (the generator cannot produce
//! multipart bodies) and contract-tested against the spec like every other operation.

use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;

use reqwest::multipart::{Form, Part};

use crate::api::client::{CallOptions, Client, RequestOptions, Shared};
use crate::api::error::{request_id, snippet, Attempt, DecodeFailure, Error, Result};
use crate::api::hooks::{execute, prepare, IDEMPOTENCY_KEY};
use crate::api::raw::types::AssetResponse;
use crate::api::retry;
use crate::api::types::{Asset, IdempotencyKey};
use crate::resources::generated::handles::Assets;
use crate::transfer::files::FileInput;
use crate::transfer::{FileBody, Progress, ProgressFn};

/// Largest file HeyGen accepts: 32 MB.
pub const UPLOAD_LIMIT_BYTES: u64 = 32 * 1024 * 1024;

/// Largest local file [`Assets::file_input`] sends inline rather than uploading.
pub const INLINE_THRESHOLD_BYTES: u64 = 4 * 1024 * 1024;

const OPERATION: &str = crate::resources::generated::ids::UPLOAD_ASSET;

/// Inline a file as [`FileInput::base64`](crate::FileInput::base64) when it is small (it
/// travels inside the JSON request, about 4/3 of its size); upload it once and pass
/// [`FileInput::asset_id`](crate::FileInput::asset_id) when it is large or reused.
impl<'a> Assets<'a> {
    /// A file input for a local file, decided by size: files up to
    /// [`INLINE_THRESHOLD_BYTES`] (4 MB) are sent inline (type detected from their content),
    /// larger ones are uploaded first and referenced by asset id.
    pub async fn file_input(&self, path: impl AsRef<Path>) -> Result<FileInput> {
        let path = path.as_ref();
        let size = tokio::fs::metadata(path)
            .await
            .map_err(crate::api::error::reading(path))?
            .len();
        if size <= INLINE_THRESHOLD_BYTES {
            FileInput::from_path(path).await
        } else {
            let asset = self.upload(path).await?;
            Ok(FileInput::asset_id(asset.asset_id))
        }
    }

    /// Uploads a file from disk, streamed (never read into memory whole): multipart up to
    /// 32 MB, the direct-upload flow above that (a `PUT` to a presigned URL, the file hashed as
    /// it goes, then completion with its SHA-256), as one call either way. Set progress reporting and per-call options on the
    /// returned request, then `.await` it.
    pub fn upload(&self, path: impl AsRef<Path>) -> UploadAsset<'a> {
        UploadAsset::new(self.client, Source::Path(path.as_ref().to_path_buf()))
    }

    /// Uploads bytes under a file name (multipart, at most 32 MB). HeyGen detects the type
    /// from the bytes.
    pub fn upload_bytes(
        &self,
        file_name: impl Into<String>,
        bytes: impl Into<Bytes>,
    ) -> UploadAsset<'a> {
        UploadAsset::new(
            self.client,
            Source::Bytes {
                name: file_name.into(),
                bytes: bytes.into(),
            },
        )
    }
}

/// What an upload sends.
#[derive(Debug, Clone)]
enum Source {
    Path(std::path::PathBuf),
    Bytes { name: String, bytes: Bytes },
}

/// An upload built by [`Assets::upload`] or [`Assets::upload_bytes`] (`POST /v3/assets`,
/// multipart). Await it, or call [`send`](Self::send).
#[must_use = "a request does nothing until it is awaited"]
pub struct UploadAsset<'a> {
    client: &'a Client,
    source: Source,
    progress: Option<ProgressFn>,
    options: RequestOptions,
    checksum: bool,
}

impl std::fmt::Debug for UploadAsset<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let source = match &self.source {
            Source::Path(path) => format!("{}", path.display()),
            Source::Bytes { name, bytes } => format!("{name} ({} bytes)", bytes.len()),
        };
        f.debug_struct("UploadAsset")
            .field("source", &source)
            .field("progress", &self.progress.is_some())
            .field("options", &self.options)
            .field("checksum", &self.checksum)
            .finish_non_exhaustive()
    }
}

impl<'a> UploadAsset<'a> {
    fn new(client: &'a Client, source: Source) -> Self {
        UploadAsset {
            client,
            source,
            progress: None,
            options: RequestOptions::new(),
            checksum: true,
        }
    }

    /// Reports progress as bytes are sent (again from zero if an attempt is retried).
    pub fn on_progress(mut self, progress: impl Fn(Progress) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(progress));
        self
    }

    /// Whether a file over 32 MB goes up with its SHA-256, for HeyGen to check the bytes it
    /// received against (default: yes). The file is hashed as it is sent, so the checksum costs
    /// no second read; it bounds the upload at the speed of SHA-256 on one core (about
    /// 1.4 GB/s on the project's benchmark machine, `BENCHMARKS.md` row 13), far above most
    /// links to HeyGen. Turn it off only where the link is faster than that. Smaller files go up in one request and carry no checksum
    /// either way.
    pub fn checksum(mut self, checksum: bool) -> Self {
        self.checksum = checksum;
        self
    }

    /// Per-call options: idempotency key, timeout (default: the client's transfer timeout).
    pub fn options(mut self, options: RequestOptions) -> Self {
        self.options = options;
        self
    }

    /// Checks the file, then uploads it, retrying as the client's policy allows.
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] for an empty file or one over 32 MB, or bad options (nothing
    /// is sent); [`Error::Io`] when the file cannot be read; any error of the call.
    pub async fn send(self) -> Result<Asset> {
        let request_options = self.options.clone();
        let options = self.options.into_call()?;
        match self.source {
            Source::Path(path) => {
                let io = crate::api::error::reading(&path);
                let size = tokio::fs::metadata(&path).await.map_err(io)?.len();
                let mut content_type = "";
                if size > 0 {
                    // A type HeyGen cannot detect is refused before the file is sent.
                    let head = crate::transfer::files::head(&path).await.map_err(io)?;
                    content_type =
                        crate::transfer::files::detect_upload_type(&head).map_err(|reason| {
                            Error::invalid("file", format!("{}: {reason}", path.display()))
                        })?;
                }
                if size > UPLOAD_LIMIT_BYTES {
                    // Over the multipart limit: the direct-upload flow, as one call.
                    return super::direct_upload::upload(
                        self.client,
                        &path,
                        size,
                        content_type,
                        self.progress,
                        request_options,
                        self.checksum,
                    )
                    .await;
                }
                if size == 0 {
                    return Err(Error::invalid(
                        "file",
                        format!("{} is empty", path.display()),
                    ));
                }
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "upload".into());
                let progress = self.progress;
                let path = &path;
                send(self.client, options, || {
                    let name = name.clone();
                    let progress = progress.clone();
                    async move {
                        // Reopened for every attempt: a retry sends the whole file again.
                        let file = tokio::fs::File::open(path).await.map_err(io)?;
                        let file = file.into_std().await;
                        let body = FileBody::new(file, size, progress, false).body;
                        Ok(Part::stream_with_length(body, size).file_name(name))
                    }
                })
                .await
            }
            Source::Bytes { name, bytes } => {
                check_size(bytes.len() as u64)?;
                if bytes.is_empty() {
                    return Err(Error::invalid("file", "is empty"));
                }
                crate::transfer::files::detect_upload_type(&bytes)
                    .map_err(|reason| Error::invalid("file", format!("{name}: {reason}")))?;
                let total = bytes.len() as u64;
                let progress = self.progress;
                send(self.client, options, || {
                    let part = Part::stream_with_length(reqwest::Body::from(bytes.clone()), total)
                        .file_name(name.clone());
                    if let Some(report) = &progress {
                        report(Progress::transfer(total, Some(total)));
                    }
                    async move { Ok(part) }
                })
                .await
            }
        }
    }
}

impl<'a> std::future::IntoFuture for UploadAsset<'a> {
    type Output = Result<Asset>;
    type IntoFuture =
        std::pin::Pin<Box<dyn std::future::Future<Output = Result<Asset>> + Send + 'a>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}

/// Sends the multipart request under the client's retry policy, building the file part afresh
/// for every attempt (a streamed body cannot be replayed). Every attempt carries the call's
/// idempotency key (the caller's, or one of its own): a retried upload is the same upload.
async fn send<F, Fut>(client: &Client, options: CallOptions, make_part: F) -> Result<Asset>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<Part>>,
{
    let config = client.config();
    let shared = Shared {
        config: client.raw_config(),
    };
    let key = options
        .idempotency_key
        .or_else(|| config.auto_idempotency.then(IdempotencyKey::generate));
    let timeout = options.timeout.unwrap_or(config.transfer_timeout);
    let upload = Attempt {
        operation: OPERATION,
        repeatable: key.is_some(),
    };
    let url = format!("{}/v3/assets", client.base_url());
    retry::run(&config.retry, OPERATION, |_| {
        let (make_part, shared, url, key) = (&make_part, &shared, &url, &key);
        async move {
            let mut builder = client
                .http()
                .post(url)
                .header(reqwest::header::ACCEPT, "application/json")
                .timeout(timeout)
                .multipart(Form::new().part("file", make_part().await?));
            if let Some(key) = key {
                builder = builder.header(IDEMPOTENCY_KEY, key.as_str());
            }
            let mut request = builder.build().map_err(|e| upload.transport(e))?;
            prepare(shared, &mut request);
            let response = execute(client.http(), request, OPERATION)
                .await
                .map_err(|e| upload.transport(e))?;
            decode(upload, response).await
        }
    })
    .await
}

fn check_size(size: u64) -> Result<()> {
    if size > UPLOAD_LIMIT_BYTES {
        return Err(Error::invalid(
            "file",
            format!("is {size} bytes; the upload limit is {UPLOAD_LIMIT_BYTES} bytes (32 MB)"),
        ));
    }
    Ok(())
}

async fn decode(upload: Attempt, response: reqwest::Response) -> Result<Asset> {
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.bytes().await.map_err(|e| upload.transport(e))?;
    if !status.is_success() {
        return Err(upload.error_from(status, &headers, &body));
    }
    let envelope = serde_json::from_slice::<AssetResponse>(&body).map_err(|source| {
        Error::Decode(Box::new(DecodeFailure {
            operation: OPERATION,
            status,
            snippet: snippet(&body),
            request_id: request_id(&headers),
            source,
        }))
    })?;
    envelope
        .data
        .ok_or_else(|| crate::api::error::missing_data(OPERATION))
}
