//! The simulator's videos: made directly or in batches, listed, read, deleted, and their
//! bulk statuses.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::http::{
    at_capacity, batch_page, body, check_files, data, id_lists, idempotent, invalid, not_found,
    page_of, remembered, text, Params, Sim,
};
use super::media;

pub(super) async fn list_videos(State(shared): Sim, Query(query): Params) -> Response {
    let mut world = shared.world();
    world.advance();
    let items = world
        .videos
        .values()
        .rev()
        .filter(|v| {
            query
                .get("title")
                .is_none_or(|t| v.title.contains(t.as_str()))
        })
        .filter(|_| !query.contains_key("folder_id"));
    page_of(items, |v| world.video_json(v), &query, 10)
}

/// Starts rendering a video made directly; a `script` containing `[fail:render]` fails.
pub(super) async fn create_video(State(shared): Sim, headers: HeaderMap, bytes: Bytes) -> Response {
    let value = match body(crate::resources::generated::ids::CREATE_VIDEO, &bytes) {
        Ok(value) => value,
        Err(response) => return response,
    };
    // The rules the client checks too: HeyGen refuses what it would refuse.
    if let Err(invalid_request) =
        serde_json::from_value::<crate::api::bodies::CreateVideoRequest>(value.clone())
            .map_err(|e| crate::api::invalid::InvalidRequest::new("type", e.to_string()))
            .and_then(|request| request.validate())
    {
        return invalid(invalid_request.field, invalid_request.reason);
    }
    let mut world = shared.world();
    if let Some(response) = check_files(
        &world,
        &json!({"files": value.get("image").map(|i| vec![i.clone()])}),
    ) {
        return response;
    }
    idempotent(&mut world, "create-video", &headers, |world| {
        if let Some(refused) = at_capacity(world) {
            return refused;
        }
        let id = world.id("vid");
        let script = text(&value, "script").unwrap_or_default();
        let title = text(&value, "title")
            .or_else(|| text(&value, "prompt"))
            .unwrap_or_else(|| script.chars().take(60).collect());
        let video = super::state::Video {
            id: id.clone(),
            session_id: None,
            title,
            started: world.now(),
            created_unix: super::unix_now(),
            fail: script.contains(super::state::FAIL_RENDER)
                || text(&value, "prompt").is_some_and(|p| p.contains(super::state::FAIL_RENDER)),
            charged: false,
            callback_url: text(&value, "callback_url"),
            callback_id: text(&value, "callback_id"),
            notified: false,
        };
        world.add_video(video);
        remembered(json!({
            "video_id": id,
            "status": "pending",
            "output_format": text(&value, "output_format").unwrap_or_else(|| "mp4".into()),
        }))
    })
}

/// Up to 100 videos' statuses in the bulk vocabulary (`queued`, not `pending`); an id the
/// simulator does not know answers `not_found`.
pub(super) async fn video_statuses(State(shared): Sim, Query(query): Params) -> Response {
    let (videos, batches) = match id_lists(&query, "video_ids") {
        Ok(lists) => lists,
        Err(response) => return response,
    };
    let mut world = shared.world();
    world.advance();
    let mut items: Vec<Value> = videos
        .iter()
        .map(|id| match world.videos.get(id) {
            Some(video) => {
                let status = world.bulk_status(video);
                let error = (status == "failed")
                    .then(|| json!({"code": "rendering_failed", "message": "Avatar rendering timed out"}));
                json!({"video_id": id, "status": status, "error": error, "batch_id": null, "item_index": null})
            }
            None => json!({"video_id": id, "status": "not_found", "error": null, "batch_id": null, "item_index": null}),
        })
        .collect();
    for id in &batches {
        match world.batches.get(id) {
            Some(batch) => items.extend(batch.video_ids.iter().enumerate().filter_map(|(index, video_id)| {
                let video = world.videos.get(video_id)?;
                Some(json!({"video_id": video_id, "status": world.bulk_status(video), "error": null, "batch_id": id, "item_index": index}))
            })),
            None => items.push(json!({"video_id": null, "status": "not_found", "error": null, "batch_id": id, "item_index": null})),
        }
    }
    Json(json!({"data": items, "has_more": false, "next_token": null})).into_response()
}

/// Queues up to 100 videos; each renders like a video made directly.
pub(super) async fn create_video_batch(
    State(shared): Sim,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    let value = match body(crate::resources::generated::ids::CREATE_VIDEO_BATCH, &bytes) {
        Ok(value) => value,
        Err(response) => return response,
    };
    let videos = value
        .get("videos")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if videos.is_empty() || videos.len() > 100 {
        return invalid("videos", "A batch holds 1 to 100 videos.");
    }
    for (index, video) in videos.iter().enumerate() {
        if let Err(e) =
            serde_json::from_value::<crate::api::bodies::CreateVideoRequest>(video.clone())
                .map_err(|e| crate::api::invalid::InvalidRequest::new("type", e.to_string()))
                .and_then(|request| request.validate())
        {
            return invalid(
                "videos",
                format!("Item {index}: `{}` {}", e.field, e.reason),
            );
        }
    }
    let mut world = shared.world();
    idempotent(&mut world, "create-batch", &headers, |world| {
        let batch_id = world.id("batch");
        let mut video_ids = Vec::new();
        for video in &videos {
            let id = world.id("vid");
            let script = text(video, "script").unwrap_or_default();
            world.add_video(super::state::Video {
                id: id.clone(),
                session_id: None,
                title: text(video, "title").unwrap_or_else(|| script.chars().take(60).collect()),
                started: world.now(),
                created_unix: super::unix_now(),
                fail: script.contains(super::state::FAIL_RENDER),
                charged: false,
                callback_url: text(video, "callback_url"),
                callback_id: text(video, "callback_id"),
                notified: false,
            });
            video_ids.push(id);
        }
        let total = video_ids.len();
        world.batches.insert(
            batch_id.clone(),
            super::state::Batch {
                title: text(&value, "title"),
                created_unix: super::unix_now(),
                video_ids,
            },
        );
        remembered(json!({"batch_id": batch_id, "status": "processing", "total_items": total}))
    })
}

/// A batch's status, counts and one page of its items.
pub(super) async fn get_video_batch(
    State(shared): Sim,
    Path(id): Path<String>,
    Query(query): Params,
) -> Response {
    let mut world = shared.world();
    world.advance();
    let Some(batch) = world.batches.get(&id) else {
        return not_found("Batch");
    };
    let items: Vec<Value> = batch
        .video_ids
        .iter()
        .enumerate()
        .map(|(index, video_id)| {
            let status = world
                .videos
                .get(video_id)
                .map_or("failed", |video| world.bulk_status(video));
            let error = (status == "failed").then(
                || json!({"code": "rendering_failed", "message": "Avatar rendering timed out"}),
            );
            json!({"item_index": index, "video_id": video_id, "status": status, "error": error})
        })
        .collect();
    batch_page(
        &id,
        batch.title.as_deref(),
        batch.created_unix,
        items,
        &query,
    )
}

pub(super) async fn get_video(State(shared): Sim, Path(id): Path<String>) -> Response {
    let mut world = shared.world();
    world.advance();
    match world.videos.get(&id) {
        Some(video) => data(world.video_json(video)),
        None => not_found("Video"),
    }
}

pub(super) async fn delete_video(State(shared): Sim, Path(id): Path<String>) -> Response {
    let mut world = shared.world();
    world.advance();
    if world.videos.remove(&id).is_none() {
        return not_found("Video");
    }
    world.deleted_videos.insert(id.clone());
    data(json!({"id": id, "deleted": true}))
}

/// A file of a video, served without authentication, as HeyGen's file host serves
/// presigned URLs.
pub(super) async fn file(State(shared): Sim, Path(name): Path<String>) -> Response {
    use axum::http::{header, StatusCode};
    shared.file_delay().await;
    let world = shared.world();
    let known = |suffix: &str| {
        name.strip_suffix(suffix)
            .is_some_and(|id| world.videos.contains_key(id))
    };
    let gone = world.config.files_gone;
    let (content_type, body): (&str, Bytes) = if gone {
        return (StatusCode::NOT_FOUND, "NoSuchKey").into_response();
    } else if let Some(content_type) = super::jobs::serves(&world, &name) {
        let body = match content_type {
            "video/mp4" => Bytes::from_static(media::SAMPLE_MP4),
            "image/jpeg" => Bytes::from_static(media::SAMPLE_JPG),
            "application/x-subrip" => Bytes::from_static(media::SAMPLE_SRT.as_bytes()),
            _ => {
                let stem = name.trim_end_matches(".wav");
                let seconds = world
                    .speeches
                    .get(stem)
                    .copied()
                    .unwrap_or(media::DURATION_SECONDS);
                Bytes::from(super::jobs::silence_wav(seconds))
            }
        };
        (content_type, body)
    } else if known("_captioned.mp4") || known(".mp4") || super::described::serves(&world, &name) {
        ("video/mp4", Bytes::from_static(media::SAMPLE_MP4))
    } else if known(".jpg") || name == "thumbnail.jpg" {
        ("image/jpeg", Bytes::from_static(media::SAMPLE_JPG))
    } else if known(".srt") {
        (
            "application/x-subrip",
            Bytes::from_static(media::SAMPLE_SRT.as_bytes()),
        )
    } else if name == "storyboard.json" {
        ("application/json", Bytes::from_static(br#"{"scenes":4}"#))
    } else {
        return (StatusCode::NOT_FOUND, "NoSuchKey").into_response();
    };
    ([(header::CONTENT_TYPE, content_type)], body).into_response()
}
