//! The simulator's HTTP routes: one handler per operation of `openapi.yaml`.

// Handlers return ready error responses from their helpers; boxing them buys nothing here.
#![allow(clippy::result_large_err)]

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, on, MethodFilter, MethodRouter};
use axum::{Json, Router};
use serde_json::{json, Value};

use super::state::{Endpoint, Session, World};
use super::Shared;
use super::{assets, media};
use crate::contract::Spec;
use crate::types::EventType;

pub(super) type Sim = State<Arc<Shared>>;
pub(super) type Params = Query<HashMap<String, String>>;

/// The stateful handler of an operation, where the simulator models its resource. Every
/// other operation of the spec answers with its documented example.
fn stateful(operation_id: &str, method: MethodFilter) -> Option<MethodRouter<Arc<Shared>>> {
    use crate::resources::generated::ids::*;
    Some(match operation_id {
        CREATE_VIDEO_AGENT_SESSION => on(method, create_session),
        LIST_VIDEO_AGENT_SESSIONS => on(method, list_sessions),
        LIST_VIDEO_AGENT_STYLES => on(method, list_styles),
        GET_VIDEO_AGENT_SESSION => on(method, get_session),
        SEND_VIDEO_AGENT_MESSAGE => on(method, send_message),
        STOP_VIDEO_AGENT_SESSION => on(method, stop_session),
        LIST_SESSION_VIDEOS => on(method, session_videos),
        GET_SESSION_RESOURCE => on(method, get_resource),
        LIST_VIDEOS => on(method, list_videos),
        CREATE_VIDEO => on(method, create_video),
        GET_VIDEO_STATUSES => on(method, video_statuses),
        CREATE_VIDEO_BATCH => on(method, create_video_batch),
        GET_VIDEO_BATCH => on(method, get_video_batch),
        GET_VIDEO => on(method, get_video),
        DELETE_VIDEO => on(method, delete_video),
        UPLOAD_ASSET => on(method, assets::upload_asset),
        CREATE_WEBHOOK_ENDPOINT => on(method, create_endpoint),
        LIST_WEBHOOK_ENDPOINTS => on(method, list_endpoints),
        UPDATE_WEBHOOK_ENDPOINT => on(method, update_endpoint),
        DELETE_WEBHOOK_ENDPOINT => on(method, delete_endpoint),
        ROTATE_WEBHOOK_SECRET => on(method, rotate_secret),
        LIST_WEBHOOK_EVENT_TYPES => on(method, event_types),
        LIST_WEBHOOK_EVENTS => on(method, list_events),
        GET_CURRENT_USER => on(method, current_user),
        CREATE_DIRECT_UPLOAD => on(method, assets::create_direct_upload),
        CREATE_DIRECT_UPLOAD_BATCH => on(method, assets::create_direct_upload_batch),
        COMPLETE_ASSET_BATCH => on(method, assets::complete_asset_batch),
        GET_ASSET_BATCH => on(method, assets::get_asset_batch),
        GET_ASSET_STATUSES => on(method, assets::asset_statuses),
        SEARCH_ASSETS => on(method, assets::search_assets),
        LIST_AVATAR_GROUPS => on(method, list_avatar_groups),
        GET_AVATAR_GROUP => on(method, get_avatar_group),
        LIST_AVATAR_LOOKS => on(method, list_avatar_looks),
        GET_AVATAR_LOOK => on(method, get_avatar_look),
        LIST_VOICES => on(method, list_voices),
        GET_VOICE => on(method, get_voice),
        LIST_BRAND_KITS => on(method, list_brand_kits),
        LIST_ASSETS => on(method, assets::list_assets),
        GET_ASSET => on(method, assets::get_asset),
        DELETE_ASSET => on(method, assets::delete_asset),
        COMPLETE_ASSET => on(method, assets::complete_asset),
        _ => return None,
    })
}

/// The operations the simulator models with state; every other one answers with its example.
pub fn modelled_operations() -> Vec<&'static str> {
    crate::operations::all()
        .iter()
        .filter(|op| stateful(op.id, MethodFilter::GET).is_some())
        .map(|op| op.id)
        .collect()
}

/// The header that marks an answer taken from the spec's example rather than from state.
pub const EXAMPLE_HEADER: &str = "x-heygen-simulator";

/// Answers with the operation's documented example (marked by [`EXAMPLE_HEADER`]).
fn example(method: MethodFilter, operation_id: &'static str) -> MethodRouter<Arc<Shared>> {
    on(method, move || async move {
        let Some((status, body)) = Spec::get()
            .ok()
            .and_then(|spec| spec.example_response(operation_id))
        else {
            return error(
                StatusCode::NOT_IMPLEMENTED,
                "not_implemented",
                &format!("{operation_id} has no documented example to answer with."),
                None,
            );
        };
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
        let mut response = (status, Json(body)).into_response();
        response
            .headers_mut()
            .insert(EXAMPLE_HEADER, HeaderValue::from_static("example"));
        response
    })
}

/// One route per path of the spec; each operation gets its stateful handler or its example,
/// behind the checks of its parameters.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    let mut paths: Vec<(String, MethodRouter<Arc<Shared>>)> = Vec::new();
    for op in crate::operations::all() {
        let Some(method) = method_filter(op.method) else {
            continue;
        };
        let handler = stateful(op.id, method).unwrap_or_else(|| example(method, op.id));
        let handler = handler.layer(middleware::from_fn(move |request, next| {
            check_parameters(op.id, request, next)
        }));
        match paths.iter_mut().find(|(path, _)| path == op.path) {
            Some((_, existing)) => *existing = std::mem::take(existing).merge(handler),
            None => paths.push((op.path.to_string(), handler)),
        }
    }
    let mut api = Router::new();
    for (path, methods) in paths {
        api = api.route(&path, methods);
    }
    let api = api
        .fallback(|| async {
            error(
                StatusCode::NOT_FOUND,
                "not_found",
                "No such endpoint.",
                None,
            )
        })
        .layer(middleware::from_fn_with_state(Arc::clone(&shared), gate))
        .layer(axum::extract::DefaultBodyLimit::max(40 * 1024 * 1024));
    Router::new()
        .route(
            "/uploads/{asset_id}",
            axum::routing::put(assets::receive_upload)
                .layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route("/files/{name}", get(file))
        .route("/assets/{asset_id}", get(assets::asset_file))
        .merge(api)
        .with_state(shared)
}

fn method_filter(method: &str) -> Option<MethodFilter> {
    Some(match method {
        "get" => MethodFilter::GET,
        "post" => MethodFilter::POST,
        "put" => MethodFilter::PUT,
        "patch" => MethodFilter::PATCH,
        "delete" => MethodFilter::DELETE,
        _ => return None,
    })
}

/// Refuses, as HeyGen does, query and header parameters the spec forbids (an
/// `Idempotency-Key` outside its pattern, a `limit` out of range, a missing required one).
async fn check_parameters(operation_id: &'static str, request: Request, next: Next) -> Response {
    let query: Vec<(String, String)> = Query::try_from_uri(request.uri())
        .map(|Query(pairs)| pairs)
        .unwrap_or_default();
    let checked = Spec::get().map(|spec| {
        spec.validate_parameters(operation_id, |location, name| match location {
            // A value that is not visible ASCII (`Idempotency-Key: é`) is checked as U+FFFD,
            // which no ASCII pattern admits, instead of being taken for absent.
            "header" => request
                .headers()
                .get(name)
                .map(|v| v.to_str().unwrap_or("\u{fffd}")),
            _ => query
                .iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.as_str()),
        })
    });
    match checked {
        Ok(Err(violations)) => {
            let param = violations
                .0
                .first()
                .map(|v| v.pointer.trim_start_matches('/').to_string())
                .unwrap_or_default();
            invalid(&param, violations.to_string())
        }
        _ => next.run(request).await,
    }
}

pub(crate) fn error(
    status: StatusCode,
    code: &str,
    message: &str,
    param: Option<&str>,
) -> Response {
    let body = json!({"error": {
        "code": code,
        "message": message,
        "param": param,
        "doc_url": format!("https://developers.heygen.com/docs/error-codes#{}", code.replace('_', "-")),
    }});
    (status, Json(body)).into_response()
}

pub(super) fn invalid(param: &str, message: impl AsRef<str>) -> Response {
    error(
        StatusCode::BAD_REQUEST,
        "invalid_parameter",
        message.as_ref(),
        Some(param),
    )
}

pub(super) fn not_found(what: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        "not_found",
        &format!("{what} not found."),
        None,
    )
}

pub(super) fn data(value: Value) -> Response {
    Json(json!({ "data": value })).into_response()
}

/// Authentication, request ids, latency and injected faults, for every API route.
async fn gate(State(shared): Sim, request: Request, next: Next) -> Response {
    let (latency, key, fault, lose, after_effect) = {
        let mut world = shared.world();
        world.requests += 1;
        let n = world.requests;
        let config = world.config.clone();
        let lose = config
            .lose_response_every
            .is_some_and(|every| n % every == 0);
        let fault = if config.rate_limit_every.is_some_and(|every| n % every == 0) {
            Some(StatusCode::TOO_MANY_REQUESTS)
        } else if config.error_rate > 0.0 && world.rng.f64() < config.error_rate {
            Some(StatusCode::INTERNAL_SERVER_ERROR)
        } else {
            None
        };
        (
            config.latency,
            config.api_key,
            fault,
            lose,
            config.errors_after_effect,
        )
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let headers = request.headers();
    let given = headers
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or_else(|| {
            headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .map(str::to_string)
        });
    let request_id = format!("req_{}", uuid::Uuid::new_v4().simple());
    let mut response = if given.as_deref() != Some(key.as_str()) {
        error(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Missing or unknown API key: send a valid key in the x-api-key header.",
            None,
        )
    } else {
        match fault {
            Some(StatusCode::TOO_MANY_REQUESTS) => {
                let mut r = error(
                    StatusCode::TOO_MANY_REQUESTS,
                    "rate_limit_exceeded",
                    "Rate limit reached; wait as long as Retry-After says, then try again.",
                    None,
                );
                r.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
                r
            }
            Some(_) => {
                if after_effect {
                    // The request takes effect; only its answer is the error.
                    drop(next.run(request).await);
                }
                error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal_error",
                    "Injected server error.",
                    None,
                )
            }
            None if lose => lose_body(next.run(request).await),
            None => next.run(request).await,
        }
    };
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}

/// Keeps a response's status and headers and breaks its body: the handler has run (its
/// effect is stored), but the client never reads the answer.
fn lose_body(response: Response) -> Response {
    let (mut parts, _) = response.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    let broken = futures_util::stream::once(async {
        Err::<Bytes, _>(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "simulated loss of the answer",
        ))
    });
    Response::from_parts(parts, axum::body::Body::from_stream(broken))
}

/// Parses a JSON body and checks it against the operation's request schema.
pub(super) fn body(operation: &str, bytes: &Bytes) -> Result<Value, Response> {
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|e| invalid("body", format!("The body is not valid JSON: {e}")))?;
    let spec = Spec::get().map_err(|_| {
        error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "spec unavailable",
            None,
        )
    })?;
    if let Err(violations) = spec.validate_request(operation, &value) {
        let first = violations.0.first();
        let param = first
            .map(|v| {
                let field = v
                    .pointer
                    .trim_start_matches('/')
                    .split('/')
                    .next()
                    .unwrap_or("");
                if field.is_empty() {
                    // A missing required property names itself in the message.
                    v.message.split('`').nth(1).unwrap_or("body").to_string()
                } else {
                    field.to_string()
                }
            })
            .unwrap_or_else(|| "body".into());
        return Err(invalid(&param, violations.to_string()));
    }
    Ok(value)
}

/// A 402 when the balance cannot pay for one more render, or a 429 when a new job would
/// exceed the concurrency limit (a replay is neither).
fn at_capacity(world: &mut World) -> Option<Response> {
    world.advance();
    if !world.can_afford_a_render() {
        return Some(error(
            StatusCode::PAYMENT_REQUIRED,
            "insufficient_credit",
            &format!(
                "The balance (${:.2}) cannot pay for another render.",
                world.balance_usd()
            ),
            None,
        ));
    }
    // Without a limit, nothing is counted (counting walks every job).
    let limit = world.config.concurrency_limit?;
    let in_flight = world.jobs_in_flight();
    if in_flight < limit {
        // The job about to be created is in flight too.
        world.peak_jobs = world.peak_jobs.max(in_flight + 1);
        return None;
    }
    world.refused_at_capacity += 1;
    let mut response = error(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limit_exceeded",
        &format!("{limit} jobs are already in flight; wait as long as Retry-After says."),
        None,
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    Some(response)
}

/// Replays the stored answer for a repeated `Idempotency-Key`, or runs `act` and stores it.
pub(super) fn idempotent(
    world: &mut World,
    scope: &str,
    headers: &HeaderMap,
    act: impl FnOnce(&mut World) -> Response,
) -> Response {
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(|k| format!("{scope} {k}"));
    if let Some(key) = &key {
        if let Some(stored) = world.idempotency.get(key) {
            return (StatusCode::OK, Json(stored.clone())).into_response();
        }
    }
    let response = act(world);
    if let (Some(Remember(body)), Some(key)) =
        (response.extensions().get::<Remember>().cloned(), key)
    {
        world.idempotency.insert(key, body);
    }
    response
}

/// A successful body to remember for idempotent replays.
#[derive(Clone)]
struct Remember(Value);

pub(super) fn remembered(value: Value) -> Response {
    let body = json!({ "data": value });
    let mut response = Json(body.clone()).into_response();
    response.extensions_mut().insert(Remember(body));
    response
}

fn limit(query: &HashMap<String, String>, default: usize) -> Result<usize, Response> {
    match query.get("limit") {
        None => Ok(default),
        Some(raw) => match raw.parse::<usize>() {
            Ok(n @ 1..=100) => Ok(n),
            _ => Err(invalid(
                "limit",
                "limit must be an integer between 1 and 100.",
            )),
        },
    }
}

/// The window of `len` items a request asks for (its `limit`, its `token`): the range, and the
/// token of the next page if there is one.
pub(super) fn window(
    len: usize,
    query: &HashMap<String, String>,
    default: usize,
) -> Result<(std::ops::Range<usize>, Option<String>), Response> {
    let limit = limit(query, default)?;
    let offset = match query.get("token") {
        None => 0,
        Some(token) => match token
            .strip_prefix("pg_")
            .and_then(|t| t.parse::<usize>().ok())
        {
            Some(offset) if offset <= len => offset,
            _ => return Err(invalid("token", "The page token is invalid or expired.")),
        },
    };
    let end = (offset + limit).min(len);
    Ok((offset..end, (end < len).then(|| format!("pg_{end}"))))
}

/// One page of `items` (newest first), with an opaque token for the next.
pub(super) fn page(items: Vec<Value>, query: &HashMap<String, String>, default: usize) -> Response {
    let (range, next) = match window(items.len(), query, default) {
        Ok(window) => window,
        Err(response) => return response,
    };
    Json(json!({
        "data": items[range].to_vec(),
        "has_more": next.is_some(),
        "next_token": next,
    }))
    .into_response()
}

fn check_files(world: &World, value: &Value) -> Option<Response> {
    for file in value
        .get("files")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if file.get("type").and_then(Value::as_str) == Some("asset_id") {
            let id = file.get("asset_id").and_then(Value::as_str).unwrap_or("");
            if !world.assets.contains_key(id) {
                return Some(invalid("files", format!("Asset {id} does not exist.")));
            }
        }
        if file.get("type").and_then(Value::as_str) == Some("url") {
            let url = file.get("url").and_then(Value::as_str).unwrap_or("");
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                return Some(error(
                    StatusCode::BAD_REQUEST,
                    "download_failed",
                    &format!("Could not download {url}."),
                    Some("files"),
                ));
            }
        }
    }
    None
}

pub(super) fn text(value: &Value, key: &str) -> Option<String> {
    value.get(key).and_then(Value::as_str).map(str::to_string)
}

async fn create_session(State(shared): Sim, headers: HeaderMap, bytes: Bytes) -> Response {
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
            created: std::time::Instant::now(),
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
        world.sessions.insert(id.clone(), session);
        remembered(json!({
            "session_id": id,
            "status": status,
            "video_id": null,
            "created_at": super::unix_now(),
        }))
    })
}

async fn list_sessions(State(shared): Sim, Query(query): Params) -> Response {
    let world = shared.world();
    let items = world
        .sessions
        .values()
        .rev()
        .map(|s| json!({"session_id": s.id, "created_at": s.created_unix, "title": s.title}))
        .collect();
    page(items, &query, 20)
}

async fn list_styles(Query(query): Params) -> Response {
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

fn with_session(
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

async fn get_session(State(shared): Sim, Path(id): Path<String>) -> Response {
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

async fn send_message(
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
            let Some(session) = world.sessions.get_mut(id) else {
                return not_found("Session");
            };
            session.messages.insert(0, json!({"role": "user", "content": message, "type": "text", "resource_ids": null, "created_at": super::unix_now()}));
            if session.video_id.is_none() && session.render_from.is_none() {
                if approves(&message) {
                    session.render_from = Some(std::time::Instant::now());
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
fn approves(message: &str) -> bool {
    let message = message.to_lowercase();
    ["approve", "render", "looks good", "looks great", "go ahead"]
        .iter()
        .any(|word| message.contains(word))
}

async fn stop_session(State(shared): Sim, Path(id): Path<String>, bytes: Bytes) -> Response {
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

async fn session_videos(State(shared): Sim, Path(id): Path<String>) -> Response {
    with_session(&shared, &id, |world, id| {
        let items: Vec<Value> = world
            .videos
            .values()
            .rev()
            .filter(|v| v.session_id.as_deref() == Some(id))
            .map(|v| world.video_json(v))
            .collect();
        Json(json!({"data": items, "has_more": false, "next_token": null})).into_response()
    })
}

async fn get_resource(
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

async fn list_videos(State(shared): Sim, Query(query): Params) -> Response {
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
        .filter(|_| !query.contains_key("folder_id"))
        .map(|v| world.video_json(v))
        .collect();
    page(items, &query, 10)
}

/// Starts rendering a video made directly; a `script` containing `[fail:render]` fails.
async fn create_video(State(shared): Sim, headers: HeaderMap, bytes: Bytes) -> Response {
    let value = match body(crate::resources::generated::ids::CREATE_VIDEO, &bytes) {
        Ok(value) => value,
        Err(response) => return response,
    };
    // The rules the client checks too: HeyGen refuses what it would refuse.
    if let Err(invalid_request) = serde_json::from_value::<crate::CreateVideoRequest>(value.clone())
        .map_err(|e| crate::invalid::InvalidRequest::new("type", e.to_string()))
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
            started: std::time::Instant::now(),
            created_unix: super::unix_now(),
            fail: script.contains(super::state::FAIL_RENDER)
                || text(&value, "prompt").is_some_and(|p| p.contains(super::state::FAIL_RENDER)),
            charged: false,
            callback_url: text(&value, "callback_url"),
            callback_id: text(&value, "callback_id"),
            notified: false,
        };
        world.videos.insert(id.clone(), video);
        remembered(json!({
            "video_id": id,
            "status": "pending",
            "output_format": text(&value, "output_format").unwrap_or_else(|| "mp4".into()),
        }))
    })
}

/// Up to 100 videos' statuses in the bulk vocabulary (`queued`, not `pending`); an id the
/// simulator does not know answers `not_found`.
async fn video_statuses(State(shared): Sim, Query(query): Params) -> Response {
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

/// The simulated account, with what is left of its balance.
async fn current_user(State(shared): Sim) -> Response {
    let mut world = shared.world();
    world.advance();
    let balance = (world.balance_usd() * 100.0).round() / 100.0;
    data(json!({
        "username": "simulated",
        "email": "simulated@example.com",
        "first_name": "Sim",
        "last_name": "Ulator",
        "billing_type": "wallet",
        "wallet": {
            "currency": "usd",
            "remaining_balance": balance,
            "auto_reload": {"enabled": false, "amount_usd": null, "threshold_usd": null},
        },
        "subscription": null,
        "usage_based": null,
    }))
}

/// Queues up to 100 videos; each renders like a video made directly.
async fn create_video_batch(State(shared): Sim, headers: HeaderMap, bytes: Bytes) -> Response {
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
        if let Err(e) = serde_json::from_value::<crate::CreateVideoRequest>(video.clone())
            .map_err(|e| crate::invalid::InvalidRequest::new("type", e.to_string()))
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
            world.videos.insert(
                id.clone(),
                super::state::Video {
                    id: id.clone(),
                    session_id: None,
                    title: text(video, "title")
                        .unwrap_or_else(|| script.chars().take(60).collect()),
                    started: std::time::Instant::now(),
                    created_unix: super::unix_now(),
                    fail: script.contains(super::state::FAIL_RENDER),
                    charged: false,
                    callback_url: text(video, "callback_url"),
                    callback_id: text(video, "callback_id"),
                    notified: false,
                },
            );
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
async fn get_video_batch(
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

/// The comma-separated `first` and `batch_ids` lists of a bulk-status query: at most 100 ids in
/// all, and at least one.
pub(super) fn id_lists(
    query: &HashMap<String, String>,
    first: &str,
) -> Result<(Vec<String>, Vec<String>), Response> {
    let split = |name: &str| -> Vec<String> {
        query
            .get(name)
            .map(|v| {
                v.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    };
    let (ids, batches) = (split(first), split("batch_ids"));
    if ids.len() + batches.len() > 100 {
        return Err(invalid(first, "At most 100 ids per request."));
    }
    if ids.is_empty() && batches.is_empty() {
        return Err(invalid(first, format!("Give {first} or batch_ids.")));
    }
    Ok((ids, batches))
}

/// A batch as its `GET` describes it: status and counts derived from its items, and one page
/// of them.
pub(super) fn batch_page(
    id: &str,
    title: Option<&str>,
    created_unix: u64,
    items: Vec<Value>,
    query: &HashMap<String, String>,
) -> Response {
    let mut counts = serde_json::Map::new();
    for item in &items {
        let status = item["status"].as_str().unwrap_or("").to_string();
        let count = counts.get(&status).and_then(Value::as_u64).unwrap_or(0) + 1;
        counts.insert(status, json!(count));
    }
    let finished = items
        .iter()
        .all(|i| matches!(i["status"].as_str(), Some("completed" | "failed")));
    let status = match (finished, counts.contains_key("completed")) {
        (false, _) => "processing",
        (true, true) => "completed",
        (true, false) => "failed",
    };
    let (range, next) = match window(items.len(), query, 100) {
        Ok(window) => window,
        Err(response) => return response,
    };
    data(json!({
        "batch_id": id,
        "title": title,
        "status": status,
        "total_items": items.len(),
        "counts_by_status": counts,
        "created_at": created_unix,
        "items": items[range].to_vec(),
        "has_more": next.is_some(),
        "next_token": next,
    }))
}

async fn get_video(State(shared): Sim, Path(id): Path<String>) -> Response {
    let mut world = shared.world();
    world.advance();
    match world.videos.get(&id) {
        Some(video) => data(world.video_json(video)),
        None => not_found("Video"),
    }
}

async fn delete_video(State(shared): Sim, Path(id): Path<String>) -> Response {
    let mut world = shared.world();
    world.advance();
    if world.videos.remove(&id).is_none() {
        return not_found("Video");
    }
    world.deleted_videos.insert(id.clone());
    data(json!({"id": id, "deleted": true}))
}

/// Items whose `field` equals the query's value for `param`, when the query has one.
fn filtered(
    items: Vec<Value>,
    query: &HashMap<String, String>,
    param: &str,
    field: &str,
) -> Vec<Value> {
    match query.get(param) {
        Some(wanted) => items
            .into_iter()
            .filter(|item| {
                item[field]
                    .as_str()
                    .is_some_and(|v| v.eq_ignore_ascii_case(wanted))
            })
            .collect(),
        None => items,
    }
}

/// One item of a seeded catalogue by id, or 404.
fn one_of(items: Vec<Value>, field: &str, id: &str, what: &str) -> Response {
    match items.into_iter().find(|item| item[field] == id) {
        Some(item) => data(item),
        None => not_found(what),
    }
}

async fn list_avatar_groups(Query(query): Params) -> Response {
    // The seeded groups are public: asking for the account's own finds none.
    let groups = if query.get("ownership").map(String::as_str) == Some("private") {
        Vec::new()
    } else {
        media::avatar_groups()
    };
    page(groups, &query, 20)
}

async fn get_avatar_group(Path(id): Path<String>) -> Response {
    one_of(media::avatar_groups(), "id", &id, "Avatar group")
}

async fn list_avatar_looks(Query(query): Params) -> Response {
    let looks = filtered(media::avatar_looks(), &query, "group_id", "group_id");
    let looks = filtered(looks, &query, "avatar_type", "avatar_type");
    let looks = if query.get("ownership").map(String::as_str) == Some("private") {
        Vec::new()
    } else {
        looks
    };
    page(looks, &query, 20)
}

async fn get_avatar_look(Path(id): Path<String>) -> Response {
    one_of(media::avatar_looks(), "id", &id, "Avatar look")
}

async fn list_voices(Query(query): Params) -> Response {
    let kind = query
        .get("type")
        .cloned()
        .unwrap_or_else(|| "public".into());
    let voices = media::voices()
        .into_iter()
        .filter(|v| v["type"] == kind.as_str())
        .collect();
    let voices = filtered(voices, &query, "language", "language");
    let voices = filtered(voices, &query, "gender", "gender");
    page(voices, &query, 20)
}

async fn get_voice(Path(id): Path<String>) -> Response {
    match media::voices()
        .into_iter()
        .find(|v| v["voice_id"] == id.as_str())
    {
        Some(voice) => data(json!({
            "voice_id": voice["voice_id"],
            "name": voice["name"],
            "language": voice["language"],
            "gender": voice["gender"],
            "preview_audio_url": voice["preview_audio_url"],
            "support_pause": voice["support_pause"],
            "support_interactive_avatar": false,
            "status": "complete",
            "created_at": 1_704_067_200,
            "failure_message": null,
        })),
        None => not_found("Voice"),
    }
}

async fn list_brand_kits(Query(query): Params) -> Response {
    page(media::brand_kits(), &query, 20)
}

fn endpoint_json(endpoint: &Endpoint, with_secret: bool) -> Value {
    json!({
        "endpoint_id": endpoint.id,
        "url": endpoint.url,
        "events": endpoint.events,
        "status": "enabled",
        "created_at": endpoint.created_at,
        "secret": with_secret.then(|| endpoint.secret.clone()),
    })
}

fn check_events(value: &Value) -> Option<Response> {
    for event in value
        .get("events")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let name = event.as_str().unwrap_or("");
        if EventType::from(name).is_unknown() {
            return Some(invalid("events", format!("Unknown event type {name}.")));
        }
    }
    None
}

async fn create_endpoint(State(shared): Sim, headers: HeaderMap, bytes: Bytes) -> Response {
    let value = match body("create_webhook_endpoint", &bytes) {
        Ok(value) => value,
        Err(response) => return response,
    };
    if let Some(response) = check_events(&value) {
        return response;
    }
    let url = text(&value, "url").unwrap_or_default();
    if crate::types::check_http_url("url", &url).is_err() {
        return invalid("url", "url must be an absolute http(s) URL.");
    }
    let mut world = shared.world();
    idempotent(&mut world, "endpoint", &headers, |world| {
        let endpoint = Endpoint {
            id: world.id("ep"),
            url,
            events: value
                .get("events")
                .and_then(|e| serde_json::from_value(e.clone()).ok()),
            entity_id: text(&value, "entity_id"),
            secret: world.secret(),
            created_at: super::iso_now(),
        };
        let json = endpoint_json(&endpoint, true);
        world.endpoints.insert(endpoint.id.clone(), endpoint);
        remembered(json)
    })
}

async fn list_endpoints(State(shared): Sim, Query(query): Params) -> Response {
    let world = shared.world();
    let items = world
        .endpoints
        .values()
        .rev()
        .map(|e| endpoint_json(e, false))
        .collect();
    page(items, &query, 10)
}

async fn update_endpoint(State(shared): Sim, Path(id): Path<String>, bytes: Bytes) -> Response {
    let value = match body("update_webhook_endpoint", &bytes) {
        Ok(value) => value,
        Err(response) => return response,
    };
    if let Some(response) = check_events(&value) {
        return response;
    }
    let mut world = shared.world();
    let Some(endpoint) = world.endpoints.get_mut(&id) else {
        return not_found("Endpoint");
    };
    if let Some(url) = text(&value, "url") {
        if crate::types::check_http_url("url", &url).is_err() {
            return invalid("url", "url must be an absolute http(s) URL.");
        }
        endpoint.url = url;
    }
    if let Some(events) = value.get("events") {
        endpoint.events = serde_json::from_value(events.clone()).ok();
    }
    data(endpoint_json(endpoint, false))
}

async fn delete_endpoint(State(shared): Sim, Path(id): Path<String>) -> Response {
    let mut world = shared.world();
    if world.endpoints.remove(&id).is_none() {
        return not_found("Endpoint");
    }
    Json(json!({"data": {}, "error": null})).into_response()
}

async fn rotate_secret(State(shared): Sim, Path(id): Path<String>) -> Response {
    let mut world = shared.world();
    let secret = world.secret();
    let Some(endpoint) = world.endpoints.get_mut(&id) else {
        return not_found("Endpoint");
    };
    endpoint.secret = secret.clone();
    data(json!({"endpoint_id": id, "secret": secret}))
}

async fn event_types() -> Response {
    let items: Vec<Value> = EventType::KNOWN
        .iter()
        .map(|name| json!({"event_type": name, "description": format!("Fired on {name}.")}))
        .collect();
    Json(json!({"data": items, "has_more": false, "next_token": null})).into_response()
}

async fn list_events(State(shared): Sim, Query(query): Params) -> Response {
    let world = shared.world();
    let items = world
        .events
        .iter()
        .rev()
        .filter(|e| query.get("event_type").is_none_or(|t| &e.event_type == t))
        .filter(|e| query.get("entity_id").is_none_or(|id| e.entity_id.as_ref() == Some(id)))
        .map(|e| json!({"event_id": e.id, "event_type": e.event_type, "event_data": e.data, "created_at": e.created_at}))
        .collect();
    page(items, &query, 10)
}

/// Presigned-style file URLs: no authentication, like HeyGen's CDN.
async fn file(State(shared): Sim, Path(name): Path<String>) -> Response {
    let world = shared.world();
    let known = |suffix: &str| {
        name.strip_suffix(suffix)
            .is_some_and(|id| world.videos.contains_key(id))
    };
    let (content_type, body): (&str, Bytes) = if known("_captioned.mp4") || known(".mp4") {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::generated::ids;

    /// An operation the simulator keeps no state for (one added to the spec alone) answers
    /// with the spec's example, marked as such.
    #[tokio::test]
    async fn an_operation_without_state_answers_its_example() {
        let shared = Arc::new(Shared {
            world: std::sync::Mutex::new(World::new(super::super::Simulator::new().config)),
            http: reqwest::Client::new(),
        });
        let app = Router::new()
            .route("/x", example(MethodFilter::GET, ids::GET_ASSET_BATCH))
            .with_state(shared);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        let response = reqwest::get(format!("http://{address}/x")).await.unwrap();
        assert_eq!(response.headers()[EXAMPLE_HEADER], "example");
        let body: Value = response.json().await.unwrap();
        assert_eq!(
            Some((200, body)),
            Spec::get().unwrap().example_response(ids::GET_ASSET_BATCH)
        );
    }
}
