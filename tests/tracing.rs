//! What the client logs: operations, statuses and request ids, never the API key.
//!
//! Alone in its own test binary: it installs the global tracing subscriber.

#[path = "suite/common.rs"]
mod common;

use std::sync::{Arc, Mutex};

use heygen_api::CreateVideoAgentRequest;
use httpmock::MockServer;
use serde_json::json;

use common::{client, KEY};

fn created() -> serde_json::Value {
    json!({"data": {"session_id": "s1", "status": "generating", "video_id": "v1", "created_at": 1}})
}

#[tokio::test]
async fn tracing_records_operations_and_never_the_key() {
    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let sink = Sink::default();
    let writer = sink.clone();
    // Everything the client side emits (this crate, reqwest, hyper), not the mock server's
    // own request logs, which print the headers it received.
    use tracing_subscriber::layer::SubscriberExt as _;
    let targets = tracing_subscriber::filter::Targets::new()
        .with_target("heygen_api", tracing::Level::TRACE)
        .with_target("reqwest", tracing::Level::TRACE)
        .with_target("hyper_util", tracing::Level::TRACE)
        .with_target("hyper", tracing::Level::TRACE);
    let subscriber = tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(move || writer.clone())
                .with_ansi(false),
        )
        .with(targets);
    tracing::subscriber::set_global_default(subscriber)
        .expect("the only subscriber in this test binary");

    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method("POST").path("/v3/video-agents");
            then.status(200)
                .header("x-request-id", "req-traced")
                .json_body(created());
        })
        .await;
    let client = client(&server.base_url());
    client
        .video_agents()
        .create(CreateVideoAgentRequest::new("secret-free prompt"))
        .await
        .unwrap();
    const WEBHOOK_SECRET: &str = "whsec_tracing_secret_value";
    server
        .mock_async(|when, then| {
            when.method("POST").path("/v3/webhooks/endpoints");
            then.status(200).json_body(json!({"data": {
                "endpoint_id": "ep_1", "url": "https://example.com/h", "events": null,
                "status": "enabled", "created_at": "2026-01-01T00:00:00Z", "secret": WEBHOOK_SECRET
            }}));
        })
        .await;
    let endpoint = client
        .webhooks()
        .create_endpoint("https://example.com/h")
        .send()
        .await
        .unwrap();
    assert_eq!(
        endpoint.secret.as_ref().map(|s| s.expose()),
        Some(WEBHOOK_SECRET)
    );
    assert!(!format!("{endpoint:?}").contains(WEBHOOK_SECRET));
    let verifier = heygen_api::webhook::Verifier::new(WEBHOOK_SECRET);
    assert!(!format!("{verifier:?}").contains(WEBHOOK_SECRET));
    let refusal = verifier.verify(&http::HeaderMap::new(), b"{}").unwrap_err();
    assert!(!format!("{refusal:?} {refusal}").contains(WEBHOOK_SECRET));
    let error = client.videos().get("missing").await.unwrap_err();
    assert!(!format!("{error:?}").contains(KEY));
    assert!(!error.to_string().contains(KEY));
    let log = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
    assert!(log.contains("create_video_agent_session"), "{log}");
    assert!(log.contains("req-traced"), "{log}");
    assert!(log.contains("request finished"), "{log}");
    assert!(!log.contains(KEY), "the API key leaked into logs: {log}");
    assert!(
        log.contains("ep_1"),
        "response bodies are logged at DEBUG: {log}"
    );
    assert!(
        !log.contains(WEBHOOK_SECRET),
        "a webhook secret leaked into logs: {log}"
    );
    assert!(!format!("{client:?}").contains(KEY));
}
