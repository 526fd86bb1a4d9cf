//! progenitor's generated, typed httpmock helpers drive the handwritten client.

mod mocks {
    #![allow(dead_code, clippy::all)]
    include!(concat!(env!("OUT_DIR"), "/httpmock.rs"));
}

use heygen_api::raw::types::{ErrorEnvelope, VideoAgentSessionResponse, VideoResponse};
use heygen_api::{ErrorCode, SessionStatus, VideoStatus};
use httpmock::MockServer;
use mocks::MockServerExt as _;

use crate::common::{client, error_body, response_example};

#[test]
fn generated_mock_helpers_serve_typed_bodies() {
    let server = MockServer::start();
    let video: VideoResponse =
        serde_json::from_value(response_example("get_video", "200")).unwrap();
    let session: VideoAgentSessionResponse =
        serde_json::from_value(response_example("get_video_agent_session", "200")).unwrap();
    let not_found: ErrorEnvelope =
        serde_json::from_value(error_body("not_found", "Video not found.")).unwrap();

    let found = server.get_video(|when, then| {
        when.video_id("v_abc123def456");
        then.ok(&video);
    });
    let missing = server.get_video(|when, then| {
        when.video_id("gone");
        then.client_error(404, &not_found);
    });
    let agent = server.get_video_agent_session(|when, then| {
        when.session_id("sess_abc123");
        then.ok(&session);
    });

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let client = client(&server.base_url());
        let got = client.videos().get("v_abc123def456").await.unwrap();
        assert_eq!(got.status, VideoStatus::Completed);
        assert_eq!(got.duration, Some(30.5));
        let error = client.videos().get("gone").await.unwrap_err();
        assert_eq!(error.api_error().unwrap().code, ErrorCode::NotFound);
        let s = client.video_agents().get("sess_abc123").await.unwrap();
        assert_eq!(s.status, SessionStatus::Reviewing);
        assert_eq!(s.messages.len(), 2);
    });
    found.assert_calls(1);
    missing.assert_calls(1);
    agent.assert_calls(1);
}
