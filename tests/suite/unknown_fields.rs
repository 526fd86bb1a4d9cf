//! Nothing HeyGen sends is lost: members no spec names reach the library's values (in their
//! `extra` maps, and back out when serialized) and the CLI's JSON output, and `--data`
//! members the spec does not name are sent, with a note that names them.

use crate::common;
use httpmock::MockServer;
use serde_json::{json, Value};

/// A video as HeyGen might send it next week: a new top-level member, a new member inside a
/// nested object, and a `null` the typed value leaves out.
fn tomorrows_video() -> Value {
    json!({"data": {
        "id": "vid_new", "status": "completed", "title": null,
        "video_url": "https://files.test/vid_new.mp4",
        "chapters": [{"at": 0, "name": "Intro"}],
    }})
}

fn tomorrows_session() -> Value {
    json!({"data": {
        "session_id": "sess_new", "status": "thinking", "created_at": 1, "progress": 5,
        "mood": "upbeat",
        "messages": [{"role": "model", "content": "Hi", "type": "text", "tokens": 3}],
    }})
}

#[tokio::test]
async fn library_values_keep_members_no_spec_names() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method("GET").path("/v3/videos/vid_new");
            then.status(200).json_body(tomorrows_video());
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method("GET").path("/v3/video-agents/sess_new");
            then.status(200).json_body(tomorrows_session());
        })
        .await;
    let client = common::client(&server.base_url());

    let video = client.videos().get("vid_new").await.unwrap();
    assert_eq!(video.extra["chapters"], json!([{"at": 0, "name": "Intro"}]));
    // Written back out, the value carries them too.
    let written = serde_json::to_value(&video).unwrap();
    assert_eq!(written["chapters"][0]["name"], "Intro");

    let session = client.video_agents().get("sess_new").await.unwrap();
    assert_eq!(session.extra["mood"], "upbeat");
    assert_eq!(
        session.messages[0].extra["tokens"], 3,
        "nested values keep theirs"
    );

    // Through `invoke`: the typed value, or the server's own JSON when asked.
    use heygen_api::operations::Invocation;
    let typed = client
        .invoke("get_video", Invocation::new().path_param("vid_new"))
        .await
        .unwrap();
    assert_eq!(typed["chapters"][0]["at"], 0);
    let raw = client
        .invoke(
            "get_video",
            Invocation::new().path_param("vid_new").raw_response(true),
        )
        .await
        .unwrap();
    assert_eq!(raw, tomorrows_video()["data"], "exactly what was sent");
}

#[tokio::test]
async fn body_members_no_spec_names_are_sent_and_reported() {
    use std::sync::{Arc, Mutex};
    let server = MockServer::start_async().await;
    let created = server
        .mock_async(|when, then| {
            when.method("POST")
                .path("/v3/webhooks/endpoints")
                .json_body_includes(r#"{"url": "https://example.com/hook", "retries": 5}"#);
            then.status(200).json_body(json!({"data": {
                "endpoint_id": "ep_1", "url": "https://example.com/hook", "events": null,
                "status": "enabled", "created_at": "2026-01-01T00:00:00Z", "secret": "whsec_x",
                "region": "eu"}}));
        })
        .await;
    let client = common::client(&server.base_url());
    let reported = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&reported);
    let invocation = heygen_api::operations::Invocation::new()
        .body(json!({"url": "https://example.com/hook", "retries": 5}))
        .on_unknown_fields(move |names| seen.lock().unwrap().extend(names.to_vec()));
    let answer = client
        .invoke("create_webhook_endpoint", invocation)
        .await
        .unwrap();
    assert_eq!(*reported.lock().unwrap(), ["retries"]);
    created.assert_calls_async(1).await;
    assert_eq!(answer["region"], "eu");

    // The same through a method: `RequestOptions::extra_field`, and a handwritten type keeps
    // the answer's unknown members without showing their values in `Debug`.
    let endpoint = client
        .webhooks()
        .create_endpoint("https://example.com/hook")
        .options(heygen_api::RequestOptions::new().extra_field("retries", json!(5)))
        .await
        .unwrap();
    created.assert_calls_async(2).await;
    assert_eq!(endpoint.extra["region"], "eu");
    let debug = format!("{endpoint:?}");
    assert!(
        debug.contains("region") && !debug.contains("\"eu\""),
        "{debug}"
    );
    assert!(!debug.contains("whsec_x"), "{debug}");
}

#[cfg(feature = "cli")]
#[test]
fn the_cli_prints_what_the_server_sent_and_names_unknown_data_fields() {
    use std::process::Command;
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(MockServer::start_async());
    runtime.block_on(async {
        server
            .mock_async(|when, then| {
                when.method("GET").path("/v3/videos/vid_new");
                then.status(200).json_body(tomorrows_video());
            })
            .await;
    });
    let heygen = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_heygen"))
            .args(args)
            .env("HEYGEN_BASE_URL", server.base_url())
            .env("HEYGEN_API_KEY", common::KEY)
            .output()
            .unwrap()
    };
    let output = heygen(&["--json", "video", "get", "vid_new"]);
    assert!(output.status.success(), "{output:?}");
    let printed: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(printed, tomorrows_video()["data"]);

    let created = runtime.block_on(async {
        server
            .mock_async(|when, then| {
                when.method("POST")
                    .path("/v3/webhooks/endpoints")
                    .json_body_includes(r#"{"retries": 5}"#);
                then.status(200).json_body(json!({"data": {
                    "endpoint_id": "ep_1", "url": "https://example.com/hook", "events": null,
                    "status": "enabled", "created_at": "2026-01-01T00:00:00Z", "secret": null}}));
            })
            .await
    });
    let output = heygen(&[
        "webhook",
        "create-endpoint",
        "--data",
        r#"{"url": "https://example.com/hook", "retries": 5}"#,
    ]);
    assert!(output.status.success(), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let notes: Vec<&str> = stderr.lines().filter(|l| l.contains("`retries`")).collect();
    assert_eq!(notes.len(), 1, "{stderr}");
    assert_eq!(created.calls(), 1, "the unknown member was sent");
}

/// Response types decode by the spec's rules while keeping what it does not name: a required
/// member missing is an error naming it, a required member may be `null` but not missing, an
/// optional one may be either, a member twice is an error, and every other member is kept in
/// `extra`, nested types too, and written back as it came.
#[test]
fn one_pass_decoding_keeps_the_derives_rules() {
    use heygen_api::raw::types::CurrentUser;
    let user = json!({
        "username": "ada", "email": null, "first_name": "Ada", "last_name": null,
        "wallet": {"currency": "usd", "remaining_balance": 94.4, "tomorrow": 1},
        "favourite_colour": "teal",
    });
    let decoded: CurrentUser = serde_json::from_value(user.clone()).unwrap();
    assert_eq!(decoded.username, "ada");
    assert_eq!(decoded.email, None);
    assert_eq!(decoded.first_name.as_deref(), Some("Ada"));
    assert!(decoded.subscription.is_none());
    assert_eq!(decoded.extra["favourite_colour"], "teal");
    assert_eq!(decoded.wallet.as_ref().unwrap().extra["tomorrow"], 1);
    // What it was decoded from comes back whole, from bytes as from a value.
    let again: CurrentUser = serde_json::from_slice(user.to_string().as_bytes()).unwrap();
    assert_eq!(serde_json::to_value(&again).unwrap(), user);
    let refused = |value: Value| {
        serde_json::from_value::<CurrentUser>(value)
            .unwrap_err()
            .to_string()
    };
    let mut missing = user.clone();
    missing.as_object_mut().unwrap().remove("username");
    assert!(refused(missing).contains("missing field `username`"));
    let mut nullable_missing = user.clone();
    nullable_missing.as_object_mut().unwrap().remove("email");
    assert!(refused(nullable_missing).contains("missing field `email`"));
    let twice = r#"{"username": "a", "username": "b", "email": null, "first_name": null, "last_name": null}"#;
    let error = serde_json::from_str::<CurrentUser>(twice)
        .unwrap_err()
        .to_string();
    assert!(error.contains("duplicate field `username`"), "{error}");
    assert!(
        refused(json!({"username": 7, "email": null, "first_name": null, "last_name": null}))
            .contains("invalid type")
    );
}
