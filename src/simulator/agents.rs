//! The simulator's Video Agent sessions: create, list, read, message, stop, their videos and
//! resources, and the style catalogue.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::http::{
    at_capacity, body, check_files, data, error, idempotent, invalid, not_found, page, page_of,
    remembered, text, Params, Sim,
};
use super::state::{Session, World};
use super::{media, Shared};

pub(super) async fn create_session(
    State(shared): Sim,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    let value = match body("create_video_agent_session", &bytes) {
        Ok(value) => value,
        Err(response) => return response,
    };
    let prompt = text(&value, "prompt").unwrap_or_default();
    if prompt.trim().is_empty() {
        return invalid("prompt", "prompt must not be blank.");
    }
    let mut world = shared.world();
    if let Some(response) = check_files(&world, &value) {
        return response;
    }
    idempotent(&mut world, "create", &headers, |world| {
        if let Some(refused) = at_capacity(world) {
            return refused;
        }
        let id = world.id("sess");
        let title: String = prompt.chars().take(60).collect();
        let session = Session {
            id: id.clone(),
            chat: text(&value, "mode").as_deref() == Some("chat"),
            created: world.now(),
            created_unix: super::unix_now(),
            title,
            render_from: None,
            video_id: None,
            stopped: false,
            callback_url: text(&value, "callback_url"),
            callback_id: text(&value, "callback_id"),
            messages: vec![
                json!({"role": "user", "content": prompt, "type": "text", "resource_ids": null, "created_at": super::unix_now()}),
            ],
            notified: false,
            revisions: 0,
            prompt,
        };
        let status = world.create_status(&session);
        world.add_session(session);
        remembered(json!({
            "session_id": id,
            "status": status,
            "video_id": null,
            "created_at": super::unix_now(),
        }))
    })
}

pub(super) async fn list_sessions(State(shared): Sim, Query(query): Params) -> Response {
    let world = shared.world();
    page_of(
        world.sessions.values().rev(),
        |s| json!({"session_id": s.id, "created_at": s.created_unix, "title": s.title}),
        &query,
        20,
    )
}

pub(super) async fn list_styles(Query(query): Params) -> Response {
    let styles: Vec<Value> = media::styles()
        .into_iter()
        .filter(|s| match query.get("tag") {
            Some(tag) => s["tags"]
                .as_array()
                .is_some_and(|t| t.iter().any(|x| x == tag)),
            None => true,
        })
        .collect();
    page(styles, &query, 20)
}

pub(super) fn with_session(
    shared: &Shared,
    id: &str,
    f: impl FnOnce(&mut World, &str) -> Response,
) -> Response {
    let mut world = shared.world();
    world.advance();
    if !world.sessions.contains_key(id) {
        return not_found("Session");
    }
    f(&mut world, id)
}

pub(super) async fn get_session(State(shared): Sim, Path(id): Path<String>) -> Response {
    with_session(&shared, &id, |world, id| {
        let Some(session) = world.sessions.get(id) else {
            return not_found("Session");
        };
        if world.config.session_404_after_video && session.video_id.is_some() {
            return not_found("Session");
        }
        data(world.session_json(session))
    })
}

pub(super) async fn send_message(
    State(shared): Sim,
    Path(id): Path<String>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    let value = match body("send_video_agent_message", &bytes) {
        Ok(value) => value,
        Err(response) => return response,
    };
    let message = text(&value, "message").unwrap_or_default();
    if message.trim().is_empty() {
        return invalid("message", "message must not be blank.");
    }
    with_session(&shared, &id, |world, id| {
        if let Some(response) = check_files(world, &value) {
            return response;
        }
        let Some(session) = world.sessions.get(id) else {
            return not_found("Session");
        };
        if !session.chat {
            return error(
                StatusCode::CONFLICT,
                "conflict",
                "Messages are only accepted by sessions created in chat mode.",
                None,
            );
        }
        let run_id = world.id("run");
        idempotent(world, &format!("message {id}"), &headers, |world| {
            let now = world.now();
            let Some(session) = world.sessions.get_mut(id) else {
                return not_found("Session");
            };
            session.messages.insert(0, json!({"role": "user", "content": message, "type": "text", "resource_ids": null, "created_at": super::unix_now()}));
            if session.video_id.is_none() && session.render_from.is_none() {
                if approves(&message) {
                    session.render_from = Some(now);
                } else {
                    // Feedback: the agent revises its storyboard and asks again.
                    session.revisions += 1;
                    let revision = session.revisions;
                    session.messages.insert(0, json!({
                        "role": "model",
                        "content": format!("Storyboard revision {revision}: changed as you asked. Reply to approve or request more changes."),
                        "type": "resource",
                        "resource_ids": ["res_storyboard"],
                        "created_at": super::unix_now(),
                    }));
                }
            }
            let title = session.title.clone();
            remembered(json!({"session_id": id, "run_id": run_id, "title": title}))
        })
    })
}

/// Whether a chat message approves the storyboard (anything else is feedback on it).
pub(super) fn approves(message: &str) -> bool {
    let message = message.to_lowercase();
    ["approve", "render", "looks good", "looks great", "go ahead"]
        .iter()
        .any(|word| message.contains(word))
}

pub(super) async fn stop_session(
    State(shared): Sim,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Response {
    if !bytes.is_empty() {
        if let Err(response) = body("stop_video_agent_session", &bytes) {
            return response;
        }
    }
    with_session(&shared, &id, |world, id| {
        if let Some(session) = world.sessions.get_mut(id) {
            session.stopped = true;
        }
        data(json!({"session_id": id}))
    })
}

pub(super) async fn session_videos(State(shared): Sim, Path(id): Path<String>) -> Response {
    with_session(&shared, &id, |world, id| {
        let items: Vec<Value> = world
            .session_videos
            .get(id)
            .into_iter()
            .flatten()
            .rev()
            .filter_map(|video| world.videos.get(video))
            .map(|v| world.video_json(v))
            .collect();
        Json(json!({"data": items, "has_more": false, "next_token": null})).into_response()
    })
}

pub(super) async fn get_resource(
    State(shared): Sim,
    Path((id, resource_id)): Path<(String, String)>,
) -> Response {
    with_session(&shared, &id, |world, _| {
        if resource_id != "res_storyboard" {
            return not_found("Resource");
        }
        let base = world.base().to_string();
        data(json!({
            "resource_id": resource_id,
            "resource_type": "draft",
            "source_type": "generated",
            "url": format!("{base}/files/storyboard.json"),
            "preview_url": format!("{base}/files/thumbnail.jpg"),
            "thumbnail_url": format!("{base}/files/thumbnail.jpg"),
            "metadata": {"scenes": 4},
            "created_at": super::unix_now(),
        }))
    })
}
