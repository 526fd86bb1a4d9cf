//! Uploads of files over 32 MB: the direct-upload flow, run as one call.
//!
//! 1. the file's SHA-256 is computed (streamed) and its type sniffed from its first bytes;
//! 2. `POST /v3/assets/direct-uploads` answers with a presigned URL and the headers its `PUT`
//!    must carry;
//! 3. the file is streamed to that URL (never with the API key), retried within the client's
//!    policy; an expired URL (403) starts the flow over, once;
//! 4. `POST /v3/assets/{asset_id}/complete` makes the asset usable.

use std::path::Path;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use sha2::{Digest as _, Sha256};
use tokio::io::AsyncReadExt as _;

use crate::client::{Client, RequestOptions};
use crate::error::{Attempt, Error, Result};
use crate::retry;
use crate::transfer::{file_body, ProgressFn};
use crate::types::Asset;

const OPERATION: &str = crate::resources::generated::ids::CREATE_DIRECT_UPLOAD;
/// A PUT to a presigned URL may be repeated: it replaces the same object.
const PUT: Attempt = Attempt {
    operation: OPERATION,
    repeatable: true,
};

/// Uploads `path` (`size` bytes) through the direct-upload flow.
pub(crate) async fn upload(
    client: &Client,
    path: &Path,
    size: u64,
    progress: Option<ProgressFn>,
    options: RequestOptions,
) -> Result<Asset> {
    let io = |source| Error::Io {
        context: format!("reading {}", path.display()),
        source,
    };
    let (checksum, content_type) = digest(path).await.map_err(io)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "upload".into());
    let mut renewed = false;
    loop {
        let target = client
            .assets()
            .direct_upload(name.clone(), content_type.clone(), size as i64)
            .checksum_sha256(checksum.clone())
            .options(options.clone())
            .await?;
        match put(client, path, size, &target, progress.as_ref()).await {
            Ok(()) => {}
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
        }
        let done = client
            .assets()
            .complete(target.asset_id.as_str())
            .checksum_sha256(checksum.clone())
            .await?;
        return Ok(Asset {
            asset_id: done.asset_id,
            mime_type: done.mime_type,
            size_bytes: done.size_bytes,
            url: done.url,
        });
    }
}

/// The file's hex SHA-256 and its MIME type, sniffed from its first bytes.
async fn digest(path: &Path) -> std::io::Result<(String, String)> {
    let mut file = tokio::fs::File::open(path).await?;
    let mut hasher = Sha256::new();
    let mut head = Vec::new();
    let mut buffer = vec![0u8; 256 * 1024];
    loop {
        let read = file.read(&mut buffer).await?;
        if read == 0 {
            break;
        }
        if head.len() < 8192 {
            head.extend_from_slice(&buffer[..read.min(8192 - head.len())]);
        }
        hasher.update(&buffer[..read]);
    }
    let content_type = infer::get(&head)
        .map(|kind| kind.mime_type().to_string())
        .unwrap_or_else(|| "application/octet-stream".into());
    Ok((hex::encode(hasher.finalize()), content_type))
}

/// Streams the file to the presigned URL with the headers it asks for, retried as the policy
/// allows (the file is reopened for every attempt).
async fn put(
    client: &Client,
    path: &Path,
    size: u64,
    target: &crate::types::DirectUpload,
    progress: Option<&ProgressFn>,
) -> Result<()> {
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
        let progress = progress.cloned();
        async move {
            let file = tokio::fs::File::open(path)
                .await
                .map_err(|source| Error::Io {
                    context: format!("reading {}", path.display()),
                    source,
                })?;
            let response = http
                .put(target.upload_url.as_str())
                .headers(headers)
                .header(reqwest::header::CONTENT_LENGTH, size)
                .timeout(timeout)
                .body(file_body(file, size, progress))
                .send()
                .await
                .map_err(|e| PUT.transport(e))?;
            let status = response.status();
            if status.is_success() {
                return Ok(());
            }
            let response_headers = response.headers().clone();
            let body = response.bytes().await.unwrap_or_default();
            Err(PUT.error_from(status, &response_headers, &body))
        }
    })
    .await
}
