//! The simulator's route table (one handler per modelled operation of `openapi.yaml`, the
//! spec's example for the others) and the middleware every route passes: authentication,
//! injected faults, and the spec's checks of parameters.

// Handlers return ready error responses from their helpers; boxing them buys nothing here.
#![allow(clippy::result_large_err)]

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Query, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, on, MethodFilter, MethodRouter};
use axum::{Json, Router};

use super::http::{error, invalid, Sim};
use super::Shared;
use super::{agents, assets, catalogue, described, endpoints, jobs, videos};
use crate::contract::Spec;

/// The stateful handler of an operation, where the simulator models its resource. Every
/// other operation of the spec answers with its documented example.
fn stateful(operation_id: &str, method: MethodFilter) -> Option<MethodRouter<Arc<Shared>>> {
    use crate::resources::generated::ids::*;
    Some(match operation_id {
        CREATE_VIDEO_AGENT_SESSION => on(method, agents::create_session),
        LIST_VIDEO_AGENT_SESSIONS => on(method, agents::list_sessions),
        LIST_VIDEO_AGENT_STYLES => on(method, agents::list_styles),
        GET_VIDEO_AGENT_SESSION => on(method, agents::get_session),
        SEND_VIDEO_AGENT_MESSAGE => on(method, agents::send_message),
        STOP_VIDEO_AGENT_SESSION => on(method, agents::stop_session),
        LIST_SESSION_VIDEOS => on(method, agents::session_videos),
        GET_SESSION_RESOURCE => on(method, agents::get_resource),
        LIST_VIDEOS => on(method, videos::list_videos),
        CREATE_VIDEO => on(method, videos::create_video),
        GET_VIDEO_STATUSES => on(method, videos::video_statuses),
        CREATE_VIDEO_BATCH => on(method, videos::create_video_batch),
        GET_VIDEO_BATCH => on(method, videos::get_video_batch),
        GET_VIDEO => on(method, videos::get_video),
        DELETE_VIDEO => on(method, videos::delete_video),
        UPLOAD_ASSET => on(method, assets::upload_asset),
        CREATE_WEBHOOK_ENDPOINT => on(method, endpoints::create_endpoint),
        LIST_WEBHOOK_ENDPOINTS => on(method, endpoints::list_endpoints),
        UPDATE_WEBHOOK_ENDPOINT => on(method, endpoints::update_endpoint),
        DELETE_WEBHOOK_ENDPOINT => on(method, endpoints::delete_endpoint),
        ROTATE_WEBHOOK_SECRET => on(method, endpoints::rotate_secret),
        LIST_WEBHOOK_EVENT_TYPES => on(method, endpoints::event_types),
        LIST_WEBHOOK_EVENTS => on(method, endpoints::list_events),
        GET_CURRENT_USER => on(method, catalogue::current_user),
        CREATE_DIRECT_UPLOAD => on(method, assets::create_direct_upload),
        CREATE_DIRECT_UPLOAD_BATCH => on(method, assets::create_direct_upload_batch),
        COMPLETE_ASSET_BATCH => on(method, assets::complete_asset_batch),
        GET_ASSET_BATCH => on(method, assets::get_asset_batch),
        GET_ASSET_STATUSES => on(method, assets::asset_statuses),
        SEARCH_ASSETS => on(method, assets::search_assets),
        LIST_AVATAR_GROUPS => on(method, catalogue::list_avatar_groups),
        GET_AVATAR_GROUP => on(method, catalogue::get_avatar_group),
        LIST_AVATAR_LOOKS => on(method, catalogue::list_avatar_looks),
        GET_AVATAR_LOOK => on(method, catalogue::get_avatar_look),
        LIST_VOICES => on(method, catalogue::list_voices),
        GET_VOICE => on(method, catalogue::get_voice),
        LIST_BRAND_KITS => on(method, catalogue::list_brand_kits),
        LIST_ASSETS => on(method, assets::list_assets),
        GET_ASSET => on(method, assets::get_asset),
        DELETE_ASSET => on(method, assets::delete_asset),
        COMPLETE_ASSET => on(method, assets::complete_asset),
        SEARCH_SOUNDS => on(method, jobs::search_sounds),
        LIST_BRAND_GLOSSARIES => on(method, jobs::list_glossaries),
        _ => return families(operation_id, method),
    })
}

/// The stateful handlers of the families built in (each behind its Cargo feature).
fn families(operation_id: &str, method: MethodFilter) -> Option<MethodRouter<Arc<Shared>>> {
    #[allow(unused_imports)]
    use crate::resources::generated::ids::*;
    #[allow(unused_imports)]
    use jobs::Family::*;
    #[allow(unused_imports)]
    use jobs::*;
    let _ = method;
    match operation_id {
        #[cfg(feature = "translations")]
        CREATE_VIDEO_TRANSLATION => Some(on(method, create_translation)),
        #[cfg(feature = "translations")]
        LIST_VIDEO_TRANSLATIONS => Some(on(method, |s, q| list(s, q, Translation))),
        #[cfg(feature = "translations")]
        GET_VIDEO_TRANSLATION => Some(on(method, |s, p| get(s, p, Translation))),
        #[cfg(feature = "translations")]
        UPDATE_VIDEO_TRANSLATION => Some(on(method, |s, p, b| {
            rename(s, p, b, (UPDATE_VIDEO_TRANSLATION, Translation))
        })),
        #[cfg(feature = "translations")]
        DELETE_VIDEO_TRANSLATION => Some(on(method, |s, p| delete(s, p, Translation))),
        #[cfg(feature = "translations")]
        LIST_TRANSLATION_LANGUAGES => Some(on(method, languages_list)),
        #[cfg(feature = "translations")]
        GET_VIDEO_TRANSLATION_STATUSES => Some(on(method, |s, q| {
            statuses(s, q, ("video_translation_ids", Translation))
        })),
        #[cfg(feature = "translations")]
        CREATE_VIDEO_TRANSLATION_BATCH => Some(on(method, |s, h, b| {
            create_batch(
                s,
                h,
                b,
                (
                    CREATE_VIDEO_TRANSLATION_BATCH,
                    "video_translations",
                    Translation,
                ),
            )
        })),
        #[cfg(feature = "translations")]
        GET_VIDEO_TRANSLATION_BATCH => Some(on(method, get_batch)),
        #[cfg(feature = "translations")]
        CREATE_PROOFREAD => Some(on(method, create_proofread)),
        #[cfg(feature = "translations")]
        GET_PROOFREAD => Some(on(method, |s, p| get(s, p, Proofread))),
        #[cfg(feature = "translations")]
        GENERATE_FROM_PROOFREAD => Some(on(method, generate_from_proofread)),
        #[cfg(feature = "translations")]
        GET_PROOFREAD_SRT => Some(on(method, proofread_srt)),
        #[cfg(feature = "translations")]
        REPLACE_PROOFREAD_SRT => Some(on(method, replace_proofread_srt)),
        #[cfg(feature = "lipsync")]
        CREATE_LIPSYNC => Some(on(method, create_lipsync)),
        #[cfg(feature = "lipsync")]
        LIST_LIPSYNCS => Some(on(method, |s, q| list(s, q, Lipsync))),
        #[cfg(feature = "lipsync")]
        GET_LIPSYNC => Some(on(method, |s, p| get(s, p, Lipsync))),
        #[cfg(feature = "lipsync")]
        UPDATE_LIPSYNC => Some(on(method, |s, p, b| {
            rename(s, p, b, (UPDATE_LIPSYNC, Lipsync))
        })),
        #[cfg(feature = "lipsync")]
        DELETE_LIPSYNC => Some(on(method, |s, p| delete(s, p, Lipsync))),
        #[cfg(feature = "lipsync")]
        GET_LIPSYNC_STATUSES => Some(on(method, |s, q| statuses(s, q, ("lipsync_ids", Lipsync)))),
        #[cfg(feature = "lipsync")]
        CREATE_LIPSYNC_BATCH => Some(on(method, |s, h, b| {
            create_batch(s, h, b, (CREATE_LIPSYNC_BATCH, "lipsyncs", Lipsync))
        })),
        #[cfg(feature = "lipsync")]
        GET_LIPSYNC_BATCH => Some(on(method, get_batch)),
        #[cfg(feature = "clipping")]
        CREATE_CLIPPING_JOB => Some(on(method, create_clipping_job)),
        #[cfg(feature = "clipping")]
        LIST_CLIPPING_JOBS => Some(on(method, |s, q| list(s, q, Clipping))),
        #[cfg(feature = "clipping")]
        GET_CLIPPING_JOB => Some(on(method, |s, p| get(s, p, Clipping))),
        #[cfg(feature = "clipping")]
        DELETE_CLIPPING_JOB => Some(on(method, |s, p| delete(s, p, Clipping))),
        #[cfg(feature = "background-removal")]
        CREATE_BACKGROUND_REMOVAL => Some(on(method, create_background_removal)),
        #[cfg(feature = "background-removal")]
        LIST_BACKGROUND_REMOVALS => Some(on(method, |s, q| list(s, q, BackgroundRemoval))),
        #[cfg(feature = "background-removal")]
        GET_BACKGROUND_REMOVAL => Some(on(method, |s, p| get(s, p, BackgroundRemoval))),
        #[cfg(feature = "background-removal")]
        DELETE_BACKGROUND_REMOVAL => Some(on(method, |s, p| delete(s, p, BackgroundRemoval))),
        #[cfg(feature = "templates")]
        LIST_TEMPLATES => Some(on(method, list_templates)),
        #[cfg(feature = "templates")]
        GET_TEMPLATE => Some(on(method, get_template)),
        #[cfg(feature = "templates")]
        GENERATE_FROM_TEMPLATE => Some(on(method, generate_from_template)),
        #[cfg(feature = "voices")]
        DESIGN_VOICE => Some(on(method, design_voice)),
        #[cfg(feature = "voices")]
        CLONE_VOICE => Some(on(method, clone_voice)),
        #[cfg(feature = "voices")]
        DELETE_VOICE => Some(on(method, |s, p| delete(s, p, Voice))),
        #[cfg(feature = "voices")]
        CREATE_SPEECH => Some(on(method, create_speech)),
        #[cfg(feature = "avatars")]
        CREATE_AVATAR => Some(on(method, create_avatar)),
        #[cfg(feature = "avatars")]
        GIVE_AVATAR_CONSENT => Some(on(method, give_consent)),
        #[cfg(feature = "avatars")]
        UPDATE_AVATAR_LOOK => Some(on(method, rename_look)),
        #[cfg(feature = "avatars")]
        DELETE_AVATAR_GROUP => Some(on(method, |s, p| delete(s, p, Avatar))),
        #[cfg(feature = "avatars")]
        DELETE_AVATAR_LOOK => Some(on(method, delete_look)),
        _ => None,
    }
}

/// The kinds of job the simulator models from their description in the spec alone (one
/// stage, and no handler written for them): a kind added to the spec is simulated at once.
pub fn described_kinds() -> Vec<crate::api::kinds::JobKind> {
    described::kinds(|op| stateful(op, MethodFilter::GET).is_some())
}

/// The handler of an operation: written for it, or from its kind's description.
fn modelled(
    operation_id: &str,
    method: MethodFilter,
    kinds: &[crate::api::kinds::JobKind],
) -> Option<MethodRouter<Arc<Shared>>> {
    stateful(operation_id, method).or_else(|| described::route(operation_id, method, kinds))
}

/// The operations the simulator models with state; every other one answers with its example.
pub fn modelled_operations() -> Vec<&'static str> {
    let kinds = described_kinds();
    crate::operations::all()
        .iter()
        .filter(|op| modelled(op.id, MethodFilter::GET, &kinds).is_some())
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
    let kinds = described_kinds();
    for op in crate::operations::all() {
        let Some(method) = method_filter(op.method) else {
            continue;
        };
        let handler = modelled(op.id, method, &kinds).unwrap_or_else(|| example(method, op.id));
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
        .route("/files/{name}", get(videos::file))
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
        } else if config.error_rate > 0.0 && world.faults.f64() < config.error_rate {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::generated::ids;
    use crate::simulator::state::World;
    use serde_json::Value;

    /// An operation the simulator keeps no state for (one added to the spec alone) answers
    /// with the spec's example, marked as such.
    #[tokio::test]
    async fn an_operation_without_state_answers_its_example() {
        crate::api::client::install_crypto_provider();
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
