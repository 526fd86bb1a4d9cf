//! The simulator's assets: multipart uploads, direct uploads (one or a batch) with their
//! presigned `PUT`s, completion, the account's files, bulk statuses and search.

#![allow(clippy::result_large_err)]

use axum::body::Bytes;
use axum::extract::{Multipart, Path, Query, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use super::http::{
    batch_page, body, data, error, id_lists, idempotent, invalid, not_found, page, page_of,
    remembered, text, Params, Sim,
};
use super::media;
use super::state::{Asset, AssetBatch, PendingUpload, World};
use crate::resources::generated::ids;

/// Starts a direct upload: a presigned URL on the simulator, valid for `upload_url_ttl`.
pub(super) async fn create_direct_upload(
    State(shared): Sim,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    let value = match body(
        crate::resources::generated::ids::CREATE_DIRECT_UPLOAD,
        &bytes,
    ) {
        Ok(value) => value,
        Err(response) => return response,
    };
    let size = value.get("size_bytes").and_then(Value::as_u64).unwrap_or(0);
    if size == 0 {
        return invalid("size_bytes", "The file must not be empty.");
    }
    let mut world = shared.world();
    idempotent(&mut world, "direct-upload", &headers, |world| {
        remembered(start_upload(world, &value))
    })
}

/// Registers a pending direct upload of the file `request` describes, valid for
/// `upload_url_ttl`, and answers where its bytes go.
fn start_upload(world: &mut World, request: &Value) -> Value {
    let asset_id = world.id("ast");
    let token = world.secret();
    let ttl = world.config.upload_url_ttl;
    let content_type = text(request, "content_type").unwrap_or_default();
    let size = request
        .get("size_bytes")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    let now = world.now();
    world.uploads.insert(
        asset_id.clone(),
        PendingUpload {
            name: text(request, "filename").unwrap_or_default(),
            content_type: content_type.clone(),
            size,
            checksum: text(request, "checksum_sha256"),
            token: token.clone(),
            expires: now + ttl,
            received: None,
        },
    );
    let base = world.base().to_string();
    json!({
        "asset_id": asset_id,
        "upload_url": format!("{base}/uploads/{asset_id}?signature={token}"),
        "upload_headers": {"Content-Type": content_type},
        "expires_in_seconds": ttl.as_secs(),
        "max_bytes": size,
        "status": "pending_upload",
    })
}

/// The presigned PUT: checks the signature, the expiry and the size, and hashes the bytes as
/// they stream in (nothing is kept).
pub(super) async fn receive_upload(
    State(shared): Sim,
    Path(asset_id): Path<String>,
    Query(query): Params,
    request: Request,
) -> Response {
    use futures_util::StreamExt as _;
    use sha2::Digest as _;
    let checked = (|| {
        let mut world = shared.world();
        let now = world.now();
        let Some(upload) = world.uploads.get(&asset_id) else {
            return Err(error(
                StatusCode::NOT_FOUND,
                "not_found",
                "No such upload.",
                None,
            ));
        };
        if query.get("signature") != Some(&upload.token) {
            return Err(error(
                StatusCode::FORBIDDEN,
                "access_denied",
                "Bad signature.",
                None,
            ));
        }
        world.puts += 1;
        let expired_early = world.config.expire_first_upload_url && world.puts == 1;
        let Some(upload) = world.uploads.get(&asset_id) else {
            return Err(error(
                StatusCode::NOT_FOUND,
                "not_found",
                "No such upload.",
                None,
            ));
        };
        if expired_early || now > upload.expires {
            return Err(error(
                StatusCode::FORBIDDEN,
                "access_denied",
                "The upload URL expired.",
                None,
            ));
        }
        let (size, checksum) = (upload.size, upload.checksum.clone());
        let fail = world.config.fail_first_upload && world.puts == 1;
        Ok((size, checksum, fail))
    })();
    let (size, checksum, fail) = match checked {
        Ok(checked) => checked,
        Err(refused) => {
            // Read the body before refusing, as a server that answers early and then resets
            // the connection would otherwise make the answer a transport error half the time.
            let mut stream = request.into_body().into_data_stream();
            while let Some(Ok(_)) = stream.next().await {}
            return refused;
        }
    };
    let mut stream = request.into_body().into_data_stream();
    let mut hasher = sha2::Sha256::new();
    let mut received = 0u64;
    while let Some(chunk) = stream.next().await {
        let Ok(chunk) = chunk else {
            return error(
                StatusCode::BAD_REQUEST,
                "incomplete_upload",
                "The body was cut short.",
                None,
            );
        };
        received += chunk.len() as u64;
        if received > size {
            return error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "More bytes than announced.",
                None,
            );
        }
        hasher.update(&chunk);
        if fail && received >= size / 2 {
            return error(
                StatusCode::SERVICE_UNAVAILABLE,
                "internal_error",
                "Injected upload failure.",
                None,
            );
        }
    }
    if received != size {
        return error(
            StatusCode::BAD_REQUEST,
            "incomplete_upload",
            &format!("{received} of {size} bytes arrived."),
            None,
        );
    }
    let digest = hex::encode(hasher.finalize());
    if checksum.is_some_and(|c| !c.eq_ignore_ascii_case(&digest)) {
        return error(
            StatusCode::BAD_REQUEST,
            "checksum_mismatch",
            "The bytes do not match checksum_sha256.",
            None,
        );
    }
    if let Some(upload) = shared.world().uploads.get_mut(&asset_id) {
        upload.received = Some(digest);
    }
    StatusCode::OK.into_response()
}

/// Finishes a direct upload whose bytes are in; the asset becomes usable.
pub(super) async fn complete_asset(
    State(shared): Sim,
    Path(asset_id): Path<String>,
    bytes: Bytes,
) -> Response {
    let value = if bytes.is_empty() {
        json!({})
    } else {
        match body(crate::resources::generated::ids::COMPLETE_ASSET, &bytes) {
            Ok(value) => value,
            Err(response) => return response,
        }
    };
    let mut world = shared.world();
    let base = world.base().to_string();
    let Some(upload) = world.uploads.get(&asset_id).cloned() else {
        return not_found("Upload");
    };
    let Some(digest) = upload.received.clone() else {
        return invalid("asset_id", "The upload's bytes have not arrived.");
    };
    if text(&value, "checksum_sha256").is_some_and(|c| !c.eq_ignore_ascii_case(&digest)) {
        return invalid("checksum_sha256", "The bytes do not match checksum_sha256.");
    }
    finish(&mut world, &asset_id, &upload);
    data(json!({
        "asset_id": asset_id,
        "url": format!("{base}/assets/{asset_id}"),
        "mime_type": upload.content_type,
        "size_bytes": upload.size,
        "status": "processing",
    }))
}

/// An asset as `GET /v3/assets` describes it.
fn asset_record(world: &World, id: &str, asset: &Asset) -> Value {
    let kind = asset.mime_type.split('/').next().unwrap_or("file");
    json!({
        "id": id,
        "name": asset.name,
        "type": kind,
        "owner": "simulated",
        "space_id": "space_simulated",
        "uploaded_at": asset.uploaded_unix,
        "url": format!("{}/assets/{id}", world.base()),
        "folder_id": null,
    })
}

pub(super) async fn list_assets(State(shared): Sim, Query(query): Params) -> Response {
    let world = shared.world();
    page_of(
        world.assets.iter().rev(),
        |(id, asset)| asset_record(&world, id, asset),
        &query,
        20,
    )
}

pub(super) async fn get_asset(State(shared): Sim, Path(id): Path<String>) -> Response {
    let world = shared.world();
    match world.assets.get(&id) {
        Some(asset) => data(asset_record(&world, &id, asset)),
        None => not_found("Asset"),
    }
}

pub(super) async fn delete_asset(State(shared): Sim, Path(id): Path<String>) -> Response {
    let mut world = shared.world();
    match world.assets.remove(&id) {
        Some(_) => data(json!({"id": id})),
        None => not_found("Asset"),
    }
}

pub(super) async fn upload_asset(
    State(shared): Sim,
    headers: HeaderMap,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    let mut multipart = match multipart {
        Ok(multipart) => multipart,
        Err(rejection) => {
            return invalid(
                "file",
                format!("The body must be multipart/form-data with a `file` part: {rejection}"),
            )
        }
    };
    let mut file = None;
    loop {
        match multipart.next_field().await {
            Ok(Some(field)) if field.name() == Some("file") => {
                let name = field.file_name().unwrap_or("upload").to_string();
                match field.bytes().await {
                    Ok(bytes) => file = Some((name, bytes)),
                    Err(e) => return invalid("file", format!("Could not read the file: {e}")),
                }
            }
            Ok(Some(_)) => continue,
            Ok(None) => break,
            Err(e) => return invalid("file", format!("Malformed multipart body: {e}")),
        }
    }
    let Some((name, bytes)) = file else {
        return invalid(
            "file",
            "A `file` part is required, sent as multipart/form-data.",
        );
    };
    if bytes.len() as u64 > crate::resources::UPLOAD_LIMIT_BYTES {
        return error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "The file exceeds 32 MB.",
            Some("file"),
        );
    }
    let mime_type = match crate::transfer::files::detect_upload_type(&bytes) {
        Ok(mime) => mime,
        Err(reason) => return invalid("file", reason),
    };
    let mut world = shared.world();
    idempotent(&mut world, "upload", &headers, |world| {
        let id = world.id("ast");
        let size = bytes.len();
        let url = format!("{}/assets/{id}", world.base());
        world.assets.insert(
            id.clone(),
            Asset {
                name: name.clone(),
                mime_type: mime_type.to_string(),
                uploaded_unix: super::unix_now(),
                bytes,
            },
        );
        remembered(json!({"asset_id": id, "url": url, "mime_type": mime_type, "size_bytes": size}))
    })
}

pub(super) async fn asset_file(State(shared): Sim, Path(id): Path<String>) -> Response {
    shared.file_delay().await;
    let world = shared.world();
    match world.assets.get(&id) {
        Some(asset) => (
            [(header::CONTENT_TYPE, asset.mime_type.clone())],
            asset.bytes.clone(),
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "NoSuchKey").into_response(),
    }
}

/// Makes a direct upload whose bytes are in a usable asset (again: the first time counts).
fn finish(world: &mut World, asset_id: &str, upload: &PendingUpload) {
    world.assets.entry(asset_id.to_string()).or_insert(Asset {
        name: upload.name.clone(),
        mime_type: upload.content_type.clone(),
        uploaded_unix: super::unix_now(),
        bytes: Bytes::new(),
    });
}

/// Starts direct uploads of several files: one presigned URL each, in order.
pub(super) async fn create_direct_upload_batch(
    State(shared): Sim,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    let value = match body(ids::CREATE_DIRECT_UPLOAD_BATCH, &bytes) {
        Ok(value) => value,
        Err(response) => return response,
    };
    let files = value
        .get("files")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if files.is_empty() {
        return invalid("files", "A batch holds at least one file.");
    }
    if let Some(index) = files
        .iter()
        .position(|f| f.get("size_bytes").and_then(Value::as_u64).unwrap_or(0) == 0)
    {
        return invalid(
            "files",
            format!("Item {index}: the file must not be empty."),
        );
    }
    let mut world = shared.world();
    idempotent(&mut world, "direct-upload-batch", &headers, |world| {
        let batch_id = world.id("abatch");
        let items: Vec<Value> = files.iter().map(|f| start_upload(world, f)).collect();
        let asset_ids = items
            .iter()
            .filter_map(|item| text(item, "asset_id"))
            .collect();
        world.asset_batches.insert(
            batch_id.clone(),
            AssetBatch {
                created_unix: super::unix_now(),
                asset_ids,
                completed: false,
                title: text(&value, "title"),
            },
        );
        remembered(json!({"batch_id": batch_id, "items": items}))
    })
}

/// Finishes every upload of a batch whose bytes are in; the others fail. Repeating it changes
/// nothing.
pub(super) async fn complete_asset_batch(State(shared): Sim, bytes: Bytes) -> Response {
    let value = match body(ids::COMPLETE_ASSET_BATCH, &bytes) {
        Ok(value) => value,
        Err(response) => return response,
    };
    let batch_id = text(&value, "batch_id").unwrap_or_default();
    let mut world = shared.world();
    let Some(batch) = world.asset_batches.get(&batch_id).cloned() else {
        return not_found("Batch");
    };
    if !batch.completed {
        for asset_id in &batch.asset_ids {
            if let Some(upload) = world.uploads.get(asset_id).cloned() {
                if upload.received.is_some() {
                    finish(&mut world, asset_id, &upload);
                }
            }
        }
        if let Some(batch) = world.asset_batches.get_mut(&batch_id) {
            batch.completed = true;
        }
    }
    let any = batch
        .asset_ids
        .iter()
        .any(|id| world.assets.contains_key(id));
    data(json!({
        "batch_id": batch_id,
        "status": if any { "completed" } else { "failed" },
    }))
}

/// Where one upload stands: `queued` until its bytes are in, `processing` until it is
/// completed, then `completed`; `failed` when its batch was completed without its bytes.
fn upload_status(world: &World, asset_id: &str, batch_completed: bool) -> (&'static str, Value) {
    if world.assets.contains_key(asset_id) {
        return ("completed", Value::Null);
    }
    match world.uploads.get(asset_id) {
        Some(_) if batch_completed => (
            "failed",
            json!({"code": "upload_incomplete", "message": "The file's bytes never arrived."}),
        ),
        Some(upload) if upload.received.is_some() => ("processing", Value::Null),
        Some(_) => ("queued", Value::Null),
        None => ("not_found", Value::Null),
    }
}

/// A batch's items (one per file, in order) with their statuses.
fn batch_items(world: &World, batch_id: &str, batch: &AssetBatch) -> Vec<Value> {
    batch
        .asset_ids
        .iter()
        .enumerate()
        .map(|(index, asset_id)| {
            let (status, error) = upload_status(world, asset_id, batch.completed);
            json!({
                "batch_id": batch_id,
                "item_index": index,
                "status": status,
                "video_id": null,
                "error": error,
            })
        })
        .collect()
}

/// A batch of uploads: its status, counts and one page of its items.
pub(super) async fn get_asset_batch(
    State(shared): Sim,
    Path(id): Path<String>,
    Query(query): Params,
) -> Response {
    let world = shared.world();
    let Some(batch) = world.asset_batches.get(&id) else {
        return not_found("Batch");
    };
    let items = batch_items(&world, &id, batch);
    batch_page(
        &id,
        batch.title.as_deref(),
        batch.created_unix,
        items,
        &query,
    )
}

/// Statuses of uploads named by asset id (in the order asked) or by batch; an unknown id
/// answers `not_found`.
pub(super) async fn asset_statuses(State(shared): Sim, Query(query): Params) -> Response {
    let (assets, batches) = match id_lists(&query, "asset_ids") {
        Ok(lists) => lists,
        Err(response) => return response,
    };
    let world = shared.world();
    let mut items: Vec<Value> = assets
        .iter()
        .map(|id| {
            let batch = world
                .asset_batches
                .iter()
                .find(|(_, batch)| batch.asset_ids.contains(id));
            let (status, error) =
                upload_status(&world, id, batch.is_some_and(|(_, b)| b.completed));
            let index = batch.and_then(|(_, b)| b.asset_ids.iter().position(|a| a == id));
            json!({
                "batch_id": batch.map(|(batch_id, _)| batch_id),
                "item_index": index,
                "status": status,
                "video_id": null,
                "error": error,
            })
        })
        .collect();
    for id in &batches {
        match world.asset_batches.get(id) {
            Some(batch) => items.extend(batch_items(&world, id, batch)),
            None => items.push(json!({"batch_id": id, "status": "not_found", "item_index": null, "video_id": null, "error": null})),
        }
    }
    axum::Json(json!({"data": items, "has_more": false, "next_token": null})).into_response()
}

/// Search by text: the account's own images (`personal`, matched on file names) or the
/// seeded public library (`public`, matched on names and tags).
pub(super) async fn search_assets(State(shared): Sim, Query(query): Params) -> Response {
    let needle = query
        .get("query")
        .map(|q| q.trim().to_lowercase())
        .unwrap_or_default();
    if needle.is_empty() {
        return invalid("query", "Give something to search for.");
    }
    let kind = query.get("type").map(String::as_str).unwrap_or("image");
    let items = if query.get("scope").map(String::as_str) == Some("personal") {
        let world = shared.world();
        world
            .assets
            .iter()
            .rev()
            .filter(|(_, asset)| {
                let icon = asset.mime_type == "image/svg+xml";
                asset.mime_type.starts_with("image/")
                    && icon == (kind == "icon")
                    && asset.name.to_lowercase().contains(&needle)
            })
            .map(|(id, _)| {
                json!({
                    "id": id,
                    "type": kind,
                    "url": format!("{}/assets/{id}", world.base()),
                    "width": null,
                    "height": null,
                    "orientation": null,
                    "is_transparent": null,
                })
            })
            .collect()
    } else {
        media::library(kind, &needle)
    };
    page(items, &query, 20)
}
