//! One convention for every request body: its required member is the method's argument, each
//! optional member is a setter on the request, and `.body(..)` sets a whole body at once. The
//! bodies the crate checks by hand (Video Agent create, send message) follow it as the
//! generated ones do; the body with alternatives (create video) is one value, chosen whole.

use heygen_api::{AgentMode, CreateVideoAgentRequest, FileInput, Orientation, SendMessageRequest};
use httpmock::prelude::*;
use serde_json::json;

use crate::common::{client, response_example};

/// A server that answers `POST path` with the operation's example, only for exactly `body`.
async fn expecting<'a>(
    server: &'a MockServer,
    path: &str,
    body: serde_json::Value,
    operation: &str,
) -> httpmock::Mock<'a> {
    server
        .mock_async(|when, then| {
            when.method(POST).path(path).json_body(body);
            then.status(200)
                .json_body(response_example(operation, "200"));
        })
        .await
}

#[tokio::test]
async fn a_checked_body_is_set_member_by_member_on_the_request() {
    let server = MockServer::start_async().await;
    let files = [FileInput::url("https://example.com/a.png")];
    let expected = CreateVideoAgentRequest::new("A launch video")
        .mode(AgentMode::Chat)
        .avatar_id("av_1")
        .orientation(Orientation::Portrait)
        .files(files.clone())
        .incognito_mode(true);
    let body = serde_json::to_value(&expected).unwrap();
    let sent = expecting(
        &server,
        "/v3/video-agents",
        body,
        "create_video_agent_session",
    )
    .await;
    let client = client(&server.base_url());
    client
        .video_agents()
        .create("A launch video")
        .mode(AgentMode::Chat)
        .avatar_id("av_1")
        .orientation(Orientation::Portrait)
        .files(files)
        .incognito_mode(true)
        .await
        .unwrap();
    sent.assert_calls_async(1).await;
}

#[tokio::test]
async fn a_whole_body_replaces_what_the_setters_set() {
    let server = MockServer::start_async().await;
    let body = json!({"message": "Shorter, please", "voice_id": "v_2"});
    let sent = expecting(
        &server,
        "/v3/video-agents/sess_1",
        body,
        "send_video_agent_message",
    )
    .await;
    let client = client(&server.base_url());
    client
        .video_agents()
        .send_message("sess_1", "first draft")
        .avatar_id("av_9")
        .body(SendMessageRequest::new("Shorter, please").voice_id("v_2"))
        .await
        .unwrap();
    sent.assert_calls_async(1).await;
}

#[tokio::test]
async fn a_whole_checked_body_is_still_accepted_as_the_argument() {
    let server = MockServer::start_async().await;
    let body = json!({"prompt": "p", "mode": "chat", "voice_id": "v_1"});
    let sent = expecting(
        &server,
        "/v3/video-agents",
        body,
        "create_video_agent_session",
    )
    .await;
    let client = client(&server.base_url());
    client
        .video_agents()
        .create(CreateVideoAgentRequest::new("p").mode(AgentMode::Chat))
        .voice_id("v_1")
        .await
        .unwrap();
    sent.assert_calls_async(1).await;
}

#[tokio::test]
async fn a_member_set_on_the_request_is_checked_before_sending() {
    let server = MockServer::start_async().await;
    let any = server
        .mock_async(|when, then| {
            when.any_request();
            then.status(500);
        })
        .await;
    let client = client(&server.base_url());
    let error = client
        .video_agents()
        .create("p")
        .files((0..21).map(|i| FileInput::url(format!("https://example.com/{i}.png"))))
        .await
        .unwrap_err();
    assert_eq!(error.invalid_request().unwrap().field, "files", "{error}");
    let error = client
        .video_agents()
        .send_message("sess_1", "hi")
        .voice_id("")
        .await
        .unwrap_err();
    assert_eq!(
        error.invalid_request().unwrap().field,
        "voice_id",
        "{error}"
    );
    any.assert_calls_async(0).await;
}
