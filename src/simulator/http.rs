//! What the simulator's handlers share: answers (data, errors, pages, batches), bodies
//! checked against the spec, replays of an `Idempotency-Key`, and the cap of jobs in flight.

// Handlers return ready error responses from their helpers; boxing them buys nothing here.
#![allow(clippy::result_large_err)]

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::state::World;
use super::Shared;
use crate::contract::Spec;

pub(super) type Sim = State<Arc<Shared>>;
pub(super) type Params = Query<HashMap<String, String>>;

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
pub(super) fn at_capacity(world: &mut World) -> Option<Response> {
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
    let now = world.now();
    let scale = world.config.time_scale;
    world
        .idempotency
        .expire(|stored| now.saturating_duration_since(stored).as_secs_f64() * scale);
    if let Some(key) = &key {
        if let Some(stored) = world.idempotency.get(key) {
            return (StatusCode::OK, Json(stored.clone())).into_response();
        }
    }
    let response = act(world);
    if let (Some(Remember(body)), Some(key)) =
        (response.extensions().get::<Remember>().cloned(), key)
    {
        world.idempotency.insert(key, body, now);
    }
    response
}

/// A successful body to remember for idempotent replays.
#[derive(Clone)]
pub(super) struct Remember(Value);

pub(super) fn remembered(value: Value) -> Response {
    let body = json!({ "data": value });
    let mut response = Json(body.clone()).into_response();
    response.extensions_mut().insert(Remember(body));
    response
}

pub(super) fn limit(query: &HashMap<String, String>, default: usize) -> Result<usize, Response> {
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
            _ => return Err(invalid("token", TOKEN_INVALID)),
        },
    };
    let end = (offset + limit).min(len);
    Ok((offset..end, (end < len).then(|| format!("pg_{end}"))))
}

/// One page of `items` (newest first), with an opaque token for the next.
pub(super) fn page(items: Vec<Value>, query: &HashMap<String, String>, default: usize) -> Response {
    page_of(items, |item| item, query, default)
}

/// One page of `items` (newest first), each written as JSON by `json` only if it is on the
/// page: items before the page are walked past, not written, and those after it are not
/// visited beyond the first. A list costs its page, not every record the simulator holds.
pub(super) fn page_of<T>(
    items: impl IntoIterator<Item = T>,
    json: impl FnMut(T) -> Value,
    query: &HashMap<String, String>,
    default: usize,
) -> Response {
    let limit = match limit(query, default) {
        Ok(limit) => limit,
        Err(response) => return response,
    };
    let offset = match query.get("token") {
        None => 0,
        Some(token) => match token
            .strip_prefix("pg_")
            .and_then(|t| t.parse::<usize>().ok())
        {
            Some(offset) => offset,
            None => return invalid("token", TOKEN_INVALID),
        },
    };
    let mut items = items.into_iter();
    if offset > 0 && items.by_ref().take(offset).count() < offset {
        return invalid("token", TOKEN_INVALID);
    }
    let data: Vec<Value> = items.by_ref().take(limit).map(json).collect();
    let next = items
        .next()
        .is_some()
        .then(|| format!("pg_{}", offset + data.len()));
    Json(json!({
        "data": data,
        "has_more": next.is_some(),
        "next_token": next,
    }))
    .into_response()
}

/// What a page token that names no page is told.
const TOKEN_INVALID: &str = "The page token is invalid or expired.";

pub(super) fn check_files(world: &World, value: &Value) -> Option<Response> {
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

/// Items whose `field` equals the query's value for `param`, when the query has one.
pub(super) fn filtered(
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
pub(super) fn one_of(items: Vec<Value>, field: &str, id: &str, what: &str) -> Response {
    match items.into_iter().find(|item| item[field] == id) {
        Some(item) => data(item),
        None => not_found(what),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn read(response: Response) -> (StatusCode, Value) {
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap_or_default();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    fn query(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// A list writes only its page: the items before it are walked past and the one after it
    /// only looked at, so the third page of 10 out of 1,000 writes 10 records, not 1,000.
    #[tokio::test]
    async fn a_page_writes_only_its_own_items() {
        let written = std::cell::Cell::new(0);
        let write = |i: usize| {
            written.set(written.get() + 1);
            json!(i)
        };
        let asked = query(&[("limit", "10"), ("token", "pg_20")]);
        let (status, page) = read(page_of(0..1000, write, &asked, 10)).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(page["data"], json!((20..30).collect::<Vec<_>>()));
        assert_eq!(page["has_more"], true);
        assert_eq!(page["next_token"], "pg_30");
        assert_eq!(written.get(), 10);

        // Of 25 items: the last page says so; a token at the very end is an empty last page;
        // one past the end names no page, nor does a limit of 0.
        let of_25 = |pairs: &[(&str, &str)]| read(page_of(0..25, |i| json!(i), &query(pairs), 10));
        let (_, last) = of_25(&[("token", "pg_20")]).await;
        assert_eq!(last["data"], json!([20, 21, 22, 23, 24]));
        assert_eq!(last["has_more"], false);
        assert!(last["next_token"].is_null());
        let (status, end) = of_25(&[("token", "pg_25")]).await;
        assert_eq!((status, end["data"].clone()), (StatusCode::OK, json!([])));
        assert_eq!(
            of_25(&[("token", "pg_26")]).await.0,
            StatusCode::BAD_REQUEST
        );
        assert_eq!(of_25(&[("limit", "0")]).await.0, StatusCode::BAD_REQUEST);
    }
}
