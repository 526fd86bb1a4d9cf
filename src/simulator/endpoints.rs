//! The simulator's webhook endpoints: register, list, update, delete, rotate the secret, and
//! the event types and events.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::http::{
    body, data, idempotent, invalid, not_found, page, page_of, remembered, text, Params, Sim,
};
use super::state::Endpoint;
use crate::api::types::EventType;

pub(super) fn endpoint_json(endpoint: &Endpoint, with_secret: bool) -> Value {
    json!({
        "endpoint_id": endpoint.id,
        "url": endpoint.url,
        "events": endpoint.events,
        "status": "enabled",
        "created_at": endpoint.created_at,
        "secret": with_secret.then(|| endpoint.secret.clone()),
    })
}

pub(super) fn check_events(value: &Value) -> Option<Response> {
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

pub(super) async fn create_endpoint(
    State(shared): Sim,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    let value = match body("create_webhook_endpoint", &bytes) {
        Ok(value) => value,
        Err(response) => return response,
    };
    if let Some(response) = check_events(&value) {
        return response;
    }
    let url = text(&value, "url").unwrap_or_default();
    if crate::api::types::check_http_url("url", &url).is_err() {
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

pub(super) async fn list_endpoints(State(shared): Sim, Query(query): Params) -> Response {
    let world = shared.world();
    let items = world
        .endpoints
        .values()
        .rev()
        .map(|e| endpoint_json(e, false))
        .collect();
    page(items, &query, 10)
}

pub(super) async fn update_endpoint(
    State(shared): Sim,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Response {
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
        if crate::api::types::check_http_url("url", &url).is_err() {
            return invalid("url", "url must be an absolute http(s) URL.");
        }
        endpoint.url = url;
    }
    if let Some(events) = value.get("events") {
        endpoint.events = serde_json::from_value(events.clone()).ok();
    }
    data(endpoint_json(endpoint, false))
}

pub(super) async fn delete_endpoint(State(shared): Sim, Path(id): Path<String>) -> Response {
    let mut world = shared.world();
    if world.endpoints.remove(&id).is_none() {
        return not_found("Endpoint");
    }
    Json(json!({"data": {}, "error": null})).into_response()
}

pub(super) async fn rotate_secret(State(shared): Sim, Path(id): Path<String>) -> Response {
    let mut world = shared.world();
    let secret = world.secret();
    let Some(endpoint) = world.endpoints.get_mut(&id) else {
        return not_found("Endpoint");
    };
    endpoint.secret = secret.clone();
    data(json!({"endpoint_id": id, "secret": secret}))
}

pub(super) async fn event_types() -> Response {
    let items: Vec<Value> = EventType::KNOWN
        .iter()
        .map(|name| json!({"event_type": name, "description": format!("Fired on {name}.")}))
        .collect();
    Json(json!({"data": items, "has_more": false, "next_token": null})).into_response()
}

pub(super) async fn list_events(State(shared): Sim, Query(query): Params) -> Response {
    let world = shared.world();
    let items = world
        .events
        .iter()
        .rev()
        .filter(|e| query.get("event_type").is_none_or(|t| &e.event_type == t))
        .filter(|e| {
            query
                .get("entity_id")
                .is_none_or(|id| e.entity_id.as_ref() == Some(id))
        });
    page_of(
        items,
        |e| json!({"event_id": e.id, "event_type": e.event_type, "event_data": e.data, "created_at": e.created_at}),
        &query,
        10,
    )
}
