//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::time::Duration;

use heygen_api::{Client, RetryPolicy};
use serde_json::Value;

/// The API key every test client sends.
pub const KEY: &str = "test-key-0123456789";

/// A client for a mock server, with near-instant retries.
pub fn client(base_url: &str) -> Client {
    builder(base_url).build().expect("test client builds")
}

/// The builder behind [`client`].
pub fn builder(base_url: &str) -> heygen_api::ClientBuilder {
    Client::builder()
        .api_key(KEY)
        .base_url(base_url)
        .retry_policy(
            RetryPolicy::default()
                .initial_backoff(Duration::from_millis(1))
                .max_backoff(Duration::from_millis(20)),
        )
}

/// Drops `null` members recursively, so that "absent" and "null" compare equal.
pub fn without_nulls(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), without_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_nulls).collect()),
        other => other.clone(),
    }
}

/// The JSON example the spec gives for an operation's response with this status.
pub fn response_example(operation_id: &str, status: &str) -> Value {
    let spec = heygen_api::contract::Spec::get().expect("spec parses");
    let op = spec.operation(operation_id).expect("operation exists");
    let response = op
        .responses
        .responses
        .get(&openapiv3::StatusCode::Code(
            status.parse().expect("numeric status"),
        ))
        .and_then(|r| r.as_item())
        .expect("inline response");
    response.content["application/json"]
        .example
        .clone()
        .expect("the spec gives an example")
}

/// An error envelope body.
pub fn error_body(code: &str, message: &str) -> Value {
    serde_json::json!({"error": {"code": code, "message": message, "param": null, "doc_url": null}})
}

/// Polls `ready` every 10 ms until it holds, failing the test with `what` after `within`.
/// Use it instead of a fixed sleep to wait for something that happens in the background.
pub async fn eventually<F, Fut>(within: Duration, what: &str, mut ready: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + within;
    while !ready().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "not within {within:?}: {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
