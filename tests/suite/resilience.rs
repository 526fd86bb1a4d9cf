//! Forward compatibility, error mapping and retries, against httpmock.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use heygen_api::types::{EndpointStatus, MessageType};
use heygen_api::{
    Client, CreateVideoAgentRequest, Error, ErrorCode, EventType, RequestOptions, RetryPolicy,
    SessionStatus, VideoStatus,
};
use httpmock::MockServer;
use serde_json::json;

use crate::common::{builder, client, error_body, KEY};

/// The `Idempotency-Key`s a mock saw, in order.
type KeyLog = Arc<Mutex<Vec<Option<String>>>>;

/// Collects the `Idempotency-Key` of every request a mock sees.
fn key_log() -> (
    KeyLog,
    impl Fn(&httpmock::HttpMockRequest) -> bool + Send + Sync + 'static,
) {
    let log: KeyLog = Arc::default();
    let sink = Arc::clone(&log);
    let matcher = move |req: &httpmock::HttpMockRequest| {
        let key = req
            .headers()
            .get("idempotency-key")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        sink.lock().unwrap().push(key);
        true
    };
    (log, matcher)
}

fn created() -> serde_json::Value {
    json!({"data": {"session_id": "s1", "status": "generating", "video_id": "v1", "created_at": 1}})
}

#[tokio::test]
async fn unknown_values_extra_fields_and_nulls_decode() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method("GET").path("/v3/video-agents/s1");
            then.status(200).json_body(json!({"data": {
                "session_id": "s1", "status": "pondering", "created_at": 1, "progress": 12,
                "title": null, "video_id": null, "brand_new_field": {"x": 1},
                "messages": [{"role": "model", "content": "hi", "type": "video_plan",
                              "resource_ids": null, "created_at": null, "mood": "happy"}]
            }}));
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method("GET").path("/v3/videos/v1");
            then.status(200).json_body(json!({"data": {
                "id": "v1", "status": "waiting", "title": null, "created_at": null,
                "completed_at": null, "video_url": null, "thumbnail_url": null, "gif_url": null,
                "captioned_video_url": null, "subtitle_url": null, "duration": null,
                "folder_id": null, "output_language": null, "failure_code": null,
                "failure_message": null, "video_page_url": null, "render_node": "gpu-7"
            }}));
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method("GET").path("/v3/webhooks/endpoints");
            then.status(200).json_body(json!({"data": [{
                "endpoint_id": "ep", "url": "https://x.test", "status": "paused",
                "events": ["video_agent.success", "hologram.ready"], "created_at": "2026-01-01T00:00:00Z",
                "secret": null
            }], "has_more": false, "next_token": null}));
        })
        .await;
    let client = client(&server.base_url());

    let session = client.video_agents().get("s1").await.unwrap();
    assert_eq!(session.status, SessionStatus::Unknown("pondering".into()));
    assert_eq!(session.progress, 12);
    assert_eq!(session.video_id, None);
    assert_eq!(
        session.messages[0].type_,
        MessageType::Unknown("video_plan".into())
    );

    let video = client.videos().get("v1").await.unwrap();
    assert_eq!(video.status, VideoStatus::Unknown("waiting".into()));
    assert_eq!(video.duration, None);

    let endpoints = client.webhooks().list_endpoints().send().await.unwrap();
    let endpoint = &endpoints.items[0];
    assert_eq!(endpoint.status, EndpointStatus::Unknown("paused".into()));
    assert_eq!(
        endpoint.events.as_deref().unwrap(),
        &[
            EventType::VideoAgentSuccess,
            EventType::Unknown("hologram.ready".into())
        ]
    );
    assert!(!endpoints.has_more);
}

#[tokio::test]
async fn an_html_502_from_a_proxy_is_a_clear_api_error() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method("GET").path("/v3/videos/v1");
            then.status(502)
                .header("content-type", "text/html")
                .header("x-request-id", "req-502")
                .body("<html><body><h1>502 Bad Gateway</h1></body></html>");
        })
        .await;
    let error = client(&server.base_url())
        .videos()
        .get("v1")
        .await
        .unwrap_err();
    // A GET is retried on 502: one attempt plus the two default retries.
    mock.assert_calls_async(3).await;
    assert_eq!(error.status().map(|s| s.as_u16()), Some(502));
    let Error::Api(failure) = &error else {
        panic!("{error:?}")
    };
    assert_eq!(failure.error.code, ErrorCode::UnclassifiedServerError);
    assert!(failure
        .body_snippet
        .as_deref()
        .unwrap()
        .contains("502 Bad Gateway"));
    assert_eq!(error.request_id(), Some("req-502"));
    assert!(error.is_retryable());
    let shown = error.to_string();
    assert!(
        shown.contains("get_video") && shown.contains("502"),
        "{shown}"
    );
    assert!(
        !shown.contains("<html>"),
        "bodies stay out of Display: {shown}"
    );
}

#[tokio::test]
async fn an_empty_500_is_a_clear_api_error() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method("GET").path("/v3/videos/v1");
            then.status(500);
        })
        .await;
    let client = builder(&server.base_url())
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    let error = client.videos().get("v1").await.unwrap_err();
    mock.assert_calls_async(1).await;
    assert_eq!(error.status().map(|s| s.as_u16()), Some(500));
    assert_eq!(
        error.api_error().unwrap().code,
        ErrorCode::UnclassifiedServerError
    );
    assert!(error.api_error().unwrap().message.contains("500"));
}

#[tokio::test]
async fn api_errors_carry_heygens_fields_once() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method("GET").path("/v3/videos/missing");
            then.status(404)
                .header("x-request-id", "req-404")
                .json_body(json!({"error": {
                    "code": "not_found", "message": "Video not found.", "param": "video_id",
                    "doc_url": "https://developers.heygen.com/docs/error-codes#not-found"
                }}));
        })
        .await;
    let error = client(&server.base_url())
        .videos()
        .get("missing")
        .await
        .unwrap_err();
    let api = error.api_error().unwrap();
    assert_eq!(api.code, ErrorCode::NotFound);
    assert_eq!(api.param.as_deref(), Some("video_id"));
    assert!(api.doc_url.is_some());
    assert_eq!(error.request_id(), Some("req-404"));
    assert!(!error.is_retryable());
    assert!(error.is_not_found());
    assert!(!error.is_rate_limited() && !error.is_unauthorized() && !error.is_timeout());
    let shown = error.to_string();
    assert_eq!(shown.matches("Video not found.").count(), 1, "{shown}");
    assert!(std::error::Error::source(&error).is_none());
}

#[tokio::test]
async fn a_malformed_success_body_is_a_decode_error_with_a_snippet() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method("GET").path("/v3/videos/v1");
            then.status(200)
                .header("x-request-id", "req-bad")
                .body(r#"{"data": {"id": "v1", "stat"#);
        })
        .await;
    let error = client(&server.base_url())
        .videos()
        .get("v1")
        .await
        .unwrap_err();
    let Error::Decode(failure) = &error else {
        panic!("{error:?}")
    };
    assert_eq!(failure.status.as_u16(), 200);
    assert!(failure.snippet.contains(r#""id": "v1""#));
    assert_eq!(error.request_id(), Some("req-bad"));
    assert!(
        std::error::Error::source(&error).is_some(),
        "the JSON error is the source"
    );
}

#[tokio::test]
async fn rate_limits_are_retried_after_the_servers_delay_even_without_a_key() {
    let server = MockServer::start_async().await;
    let (keys, log) = key_log();
    let limited = server
        .mock_async(|when, then| {
            when.method("POST").path("/v3/video-agents").is_true(log);
            then.status(429)
                .header("retry-after", "1")
                .json_body(error_body("rate_limit_exceeded", "slow down"));
        })
        .await;
    limited.up_to_n_times(1);
    let ok = server
        .mock_async(|when, then| {
            when.method("POST").path("/v3/video-agents");
            then.status(200).json_body(created());
        })
        .await;
    let client = builder(&server.base_url())
        .auto_idempotency_key(false)
        .retry_policy(
            RetryPolicy::default()
                .initial_backoff(Duration::from_millis(1))
                .max_backoff(Duration::from_secs(5)),
        )
        .build()
        .unwrap();
    let started = Instant::now();
    let session = client
        .video_agents()
        .create(CreateVideoAgentRequest::new("p"))
        .await
        .unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After: 1 was not honoured"
    );
    assert_eq!(session.session_id, "s1");
    limited.assert_calls_async(1).await;
    ok.assert_calls_async(1).await;
    assert_eq!(keys.lock().unwrap().as_slice(), &[None], "no key was sent");
}

#[tokio::test]
async fn retry_after_is_clamped_to_the_policy_maximum() {
    let server = MockServer::start_async().await;
    let limited = server
        .mock_async(|when, then| {
            when.method("GET").path("/v3/videos/v1");
            then.status(429)
                .header("retry-after", "3600")
                .json_body(error_body("rate_limit_exceeded", "slow down"));
        })
        .await;
    limited.up_to_n_times(1);
    server
        .mock_async(|when, then| {
            when.method("GET").path("/v3/videos/v1");
            then.status(200)
                .json_body(json!({"data": {"id": "v1", "status": "completed"}}));
        })
        .await;
    let client = client(&server.base_url());
    let video = tokio::time::timeout(Duration::from_secs(20), client.videos().get("v1"))
        .await
        .expect("an hour-long Retry-After must be clamped to the policy's 20 ms")
        .unwrap();
    assert_eq!(video.status, VideoStatus::Completed);
}

#[tokio::test]
async fn an_exhausted_rate_limit_reports_retry_after() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method("GET").path("/v3/videos");
            then.status(429)
                .header("retry-after", "0")
                .json_body(error_body("rate_limit_exceeded", "Too many requests."));
        })
        .await;
    let error = client(&server.base_url())
        .videos()
        .list()
        .send()
        .await
        .unwrap_err();
    mock.assert_calls_async(3).await;
    assert_eq!(
        error.status(),
        Some(heygen_api::StatusCode::TOO_MANY_REQUESTS)
    );
    assert!(error.is_rate_limited() && !error.is_not_found());
    assert_eq!(error.retry_after(), Some(Duration::ZERO));
    assert_eq!(
        error.api_error().unwrap().code,
        ErrorCode::RateLimitExceeded
    );
    assert!(error.is_retryable());
}

#[tokio::test]
async fn server_errors_are_retried_on_get() {
    let server = MockServer::start_async().await;
    let failing = server
        .mock_async(|when, then| {
            when.method("GET").path("/v3/videos/v1");
            then.status(503)
                .json_body(error_body("internal_error", "busy"));
        })
        .await;
    failing.up_to_n_times(2);
    let ok = server
        .mock_async(|when, then| {
            when.method("GET").path("/v3/videos/v1");
            then.status(200)
                .json_body(json!({"data": {"id": "v1", "status": "processing"}}));
        })
        .await;
    let video = client(&server.base_url()).videos().get("v1").await.unwrap();
    assert_eq!(video.status, VideoStatus::Processing);
    failing.assert_calls_async(2).await;
    ok.assert_calls_async(1).await;
}

#[tokio::test]
async fn server_errors_are_not_retried_on_a_post_without_a_key() {
    let server = MockServer::start_async().await;
    let (keys, log) = key_log();
    let mock = server
        .mock_async(|when, then| {
            when.method("POST").path("/v3/video-agents").is_true(log);
            then.status(500)
                .json_body(error_body("internal_error", "oops"));
        })
        .await;
    let client = builder(&server.base_url())
        .auto_idempotency_key(false)
        .build()
        .unwrap();
    let error = client
        .video_agents()
        .create(CreateVideoAgentRequest::new("p"))
        .await
        .unwrap_err();
    mock.assert_calls_async(1).await;
    assert_eq!(error.api_error().unwrap().code, ErrorCode::InternalError);
    assert_eq!(keys.lock().unwrap().as_slice(), &[None]);
}

#[tokio::test]
async fn a_keyed_post_is_retried_with_the_same_key() {
    let server = MockServer::start_async().await;
    let (keys, log) = key_log();
    let failing = server
        .mock_async(|when, then| {
            when.method("POST").path("/v3/video-agents").is_true(log);
            then.status(502).body("bad gateway");
        })
        .await;
    failing.up_to_n_times(2);
    let (ok_keys, ok_log) = key_log();
    let succeeding = server
        .mock_async(|when, then| {
            when.method("POST").path("/v3/video-agents").is_true(ok_log);
            then.status(200).json_body(created());
        })
        .await;
    let client = client(&server.base_url());
    client
        .video_agents()
        .create(CreateVideoAgentRequest::new("p"))
        .await
        .unwrap();
    // Exactly three attempts: two answered 502, the third 200.
    failing.assert_calls_async(2).await;
    succeeding.assert_calls_async(1).await;
    // Every key a matcher saw (the failing one also sees the third request before it is
    // exhausted) is the one key of the call.
    let mut all = keys.lock().unwrap().clone();
    all.extend(ok_keys.lock().unwrap().iter().cloned());
    let first = all[0].clone().expect("an automatic key is sent");
    assert!(uuid::Uuid::parse_str(&first).is_ok(), "{first}");
    assert!(
        all.iter().all(|k| k.as_deref() == Some(first.as_str())),
        "{all:?}"
    );

    // A caller-chosen key is sent as given.
    client
        .video_agents()
        .create(CreateVideoAgentRequest::new("p"))
        .options(RequestOptions::new().idempotency_key("order-42"))
        .await
        .unwrap();
    let last = ok_keys.lock().unwrap().last().cloned().flatten();
    assert_eq!(last.as_deref(), Some("order-42"));
}

#[tokio::test]
async fn request_in_progress_waits_and_retries_the_same_key() {
    let server = MockServer::start_async().await;
    let (keys, log) = key_log();
    let busy = server
        .mock_async(|when, then| {
            when.method("POST").path("/v3/video-agents").is_true(log);
            then.status(409)
                .json_body(error_body("request_in_progress", "still working"));
        })
        .await;
    busy.up_to_n_times(1);
    let ok = server
        .mock_async(|when, then| {
            when.method("POST").path("/v3/video-agents");
            then.status(200).json_body(created());
        })
        .await;
    let client = client(&server.base_url());
    client
        .video_agents()
        .create(CreateVideoAgentRequest::new("p"))
        .options(RequestOptions::new().idempotency_key("k-1"))
        .await
        .unwrap();
    busy.assert_calls_async(1).await;
    ok.assert_calls_async(1).await;
    assert_eq!(keys.lock().unwrap()[0].as_deref(), Some("k-1"));

    // Any other conflict is final.
    let conflict = server
        .mock_async(|when, then| {
            when.method("POST").path("/v3/video-agents/s9");
            then.status(409)
                .json_body(error_body("conflict", "not in chat mode"));
        })
        .await;
    let error = client
        .video_agents()
        .send_message("s9", "hi")
        .await
        .unwrap_err();
    conflict.assert_calls_async(1).await;
    assert_eq!(error.api_error().unwrap().code, ErrorCode::Conflict);
}

#[tokio::test]
async fn a_timed_out_post_without_a_key_is_never_retried() {
    let server = MockServer::start_async().await;
    let slow = server
        .mock_async(|when, then| {
            when.method("POST").path("/v3/video-agents");
            then.status(200)
                .delay(Duration::from_millis(600))
                .json_body(created());
        })
        .await;
    let keyless = builder(&server.base_url())
        .auto_idempotency_key(false)
        .write_timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    let error = keyless
        .video_agents()
        .create(CreateVideoAgentRequest::new("p"))
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Timeout { .. }), "{error:?}");
    assert!(!error.is_retryable());
    // A request's timeout, not a wait's: nothing says where a job stood.
    assert!(error.is_timeout() && error.wait_timed_out().is_none());
    slow.assert_calls_async(1).await;

    // With a key, the same timeout is retried (the server deduplicates).
    let keyed = builder(&server.base_url())
        .write_timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    let error = keyed
        .video_agents()
        .create(CreateVideoAgentRequest::new("p"))
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Timeout { .. }), "{error:?}");
    slow.assert_calls_async(1 + 3).await;
}

#[tokio::test]
async fn a_refused_connection_is_a_transport_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let client = client(&format!("http://127.0.0.1:{port}"));
    let error = client.videos().get("v1").await.unwrap_err();
    assert!(matches!(error, Error::Transport { .. }), "{error:?}");
    assert!(error.is_retryable());
    assert!(std::error::Error::source(&error).is_some());
    assert!(!error.to_string().contains(KEY));
}

#[tokio::test]
async fn bearer_tokens_replace_the_api_key() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method("GET")
                .path("/v3/videos/v1")
                .header("authorization", "Bearer oauth-token")
                .header_missing("x-api-key");
            then.status(200)
                .json_body(json!({"data": {"id": "v1", "status": "completed"}}));
        })
        .await;
    let client = Client::builder()
        .bearer_token("oauth-token")
        .base_url(server.base_url())
        .build()
        .unwrap();
    client.videos().get("v1").await.unwrap();
    mock.assert_calls_async(1).await;
}

#[tokio::test]
async fn the_401_codes_in_either_spelling_are_understood() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method("GET").path("/v3/videos/a");
            then.status(401)
                .json_body(error_body("unauthorized", "Unauthorized"));
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method("GET").path("/v3/videos/b");
            then.status(401).json_body(error_body(
                "authentication_failed",
                "Invalid or expired API key.",
            ));
        })
        .await;
    let client = client(&server.base_url());
    let a = client.videos().get("a").await.unwrap_err();
    let b = client.videos().get("b").await.unwrap_err();
    assert_eq!(a.api_error().unwrap().code, ErrorCode::Unauthorized);
    assert!(a.is_unauthorized() && !a.is_not_found());
    assert_eq!(b.api_error().unwrap().code, ErrorCode::AuthenticationFailed);
    assert!(!a.is_retryable() && !b.is_retryable());
}

#[tokio::test]
async fn a_success_without_data_is_a_decode_error_and_an_empty_list_is_empty() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method("GET").path("/v3/videos/v1");
            then.status(200).json_body(json!({}));
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method("GET").path("/v3/videos");
            then.status(200).json_body(json!({"has_more": false}));
        })
        .await;
    let client = client(&server.base_url());
    let error = client.videos().get("v1").await.unwrap_err();
    assert!(matches!(error, Error::Decode(_)), "{error:?}");
    assert!(error.to_string().contains("get_video"), "{error}");
    let page = client.videos().list().await.unwrap();
    assert!(page.items.is_empty() && !page.has_more);
}

#[tokio::test]
async fn fields_the_spec_lacks_are_sent_unchanged() {
    let server = MockServer::start_async().await;
    let agent = server
        .mock_async(|when, then| {
            when.method("POST")
                .path("/v3/video-agents")
                .json_body_includes(r#"{"prompt": "p", "brand_new_knob": {"level": 3}}"#);
            then.status(200).json_body(created());
        })
        .await;
    let video = server
        .mock_async(|when, then| {
            when.method("POST")
                .path("/v3/videos")
                .json_body_includes(r#"{"type": "avatar", "engine": {"type": "avatar_v"}}"#);
            then.status(200)
                .json_body(json!({"data": {"video_id": "vid_1", "status": "pending"}}));
        })
        .await;
    let message = server
        .mock_async(|when, then| {
            when.method("POST")
                .path("/v3/video-agents/sess_1")
                .json_body_includes(r#"{"message": "ok", "tone": "warm"}"#);
            then.status(200).json_body(
                json!({"data": {"session_id": "sess_1", "run_id": "run_1", "title": null}}),
            );
        })
        .await;
    let client = client(&server.base_url());
    client
        .video_agents()
        .create(CreateVideoAgentRequest::new("p").extra("brand_new_knob", json!({"level": 3})))
        .await
        .unwrap();
    client
        .videos()
        .create(
            heygen_api::CreateVideoRequest::avatar("look_1")
                .script("s")
                .extra("engine", json!({"type": "avatar_v"})),
        )
        .await
        .unwrap();
    client
        .video_agents()
        .send_message(
            "sess_1",
            heygen_api::SendMessageRequest::new("ok").extra("tone", json!("warm")),
        )
        .await
        .unwrap();
    agent.assert_calls_async(1).await;
    video.assert_calls_async(1).await;
    message.assert_calls_async(1).await;

    // An extra that has a setter of its own is refused, and nothing is sent.
    let refused = client
        .video_agents()
        .create(CreateVideoAgentRequest::new("p").extra("prompt", json!("other")))
        .await
        .unwrap_err();
    assert_eq!(refused.invalid_request().unwrap().field, "extra");
    agent.assert_calls_async(1).await;
}
