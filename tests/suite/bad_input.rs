//! Every client-side bad input gets its own specific error, and nothing reaches the server.

use crate::common;
use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use heygen_api::webhook::{self, Verifier, WebhookError};
use heygen_api::{CreateVideoAgentRequest, CreateVideoRequest, Error, FileInput, RequestOptions};
use httpmock::MockServer;

/// What a case must fail with.
enum Expect {
    /// `Error::InvalidRequest` naming this field, with this text in the reason.
    Field(&'static str, &'static str),
    /// An I/O error naming the path.
    Io(&'static str),
    /// This webhook refusal.
    Webhook(fn(&WebhookError) -> bool),
}

#[tokio::test]
async fn the_bad_input_table() {
    let server = MockServer::start_async().await;
    let anything = server
        .mock_async(|_, then| {
            then.status(200).json_body(serde_json::json!({}));
        })
        .await;
    let client = common::client(&server.base_url());
    let agents = client.video_agents();
    let dir = tempfile::tempdir().unwrap();
    let empty_file = dir.path().join("empty.png");
    std::fs::write(&empty_file, b"").unwrap();
    // Sparse: 33 MB that takes no room on disk.
    let huge_file = dir.path().join("huge.mp4");
    std::fs::File::create(&huge_file)
        .unwrap()
        .set_len(33 * 1024 * 1024)
        .unwrap();
    let twenty_one = (0..21).map(|i| FileInput::asset_id(format!("ast_{i}")));
    // 12 MB whose type cannot be detected, and the same over the 32 MB multipart limit.
    let unknown_file = dir.path().join("notes.bin");
    std::fs::write(&unknown_file, vec![7u8; 12_000_000]).unwrap();
    let unknown_huge = dir.path().join("huge.bin");
    std::fs::File::create(&unknown_huge)
        .unwrap()
        .set_len(40 * 1024 * 1024)
        .unwrap();
    let png = dir.path().join("fine.png");
    std::fs::write(&png, common::PNG).unwrap();

    let secret = "whsec_table";
    let body = br#"{"event_type":"video_agent.success","event_data":{}}"#;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let sign = |key: &str, ts: u64| {
        HashMap::from([
            (
                "Heygen-Signature".to_string(),
                webhook::signature(key, body),
            ),
            ("Heygen-Timestamp".to_string(), ts.to_string()),
        ])
    };
    let verifier = Verifier::new(secret);
    let verify = |headers: HashMap<String, String>, body: &[u8]| verifier.verify(&headers, body);

    let cases: Vec<(&str, Result<(), Error>, Expect)> = vec![
        (
            "empty prompt",
            agents
                .create(CreateVideoAgentRequest::new(""))
                .await
                .map(drop),
            Expect::Field("prompt", "empty"),
        ),
        (
            "whitespace prompt",
            agents
                .create(CreateVideoAgentRequest::new(" \t\n "))
                .await
                .map(drop),
            Expect::Field("prompt", "whitespace"),
        ),
        (
            "10,001-character prompt",
            agents
                .create(CreateVideoAgentRequest::new("é".repeat(10_001)))
                .await
                .map(drop),
            Expect::Field("prompt", "10001 characters"),
        ),
        (
            "21 files",
            agents
                .create(CreateVideoAgentRequest::new("p").files(twenty_one))
                .await
                .map(drop),
            Expect::Field("files", "21 files"),
        ),
        (
            "bad base64",
            FileInput::from_base64("image/png", "not*base64").map(drop),
            Expect::Field("files", "base64"),
        ),
        (
            "unsupported media type",
            FileInput::from_bytes(b"GIF89a\x01\0\x01\0").map(drop),
            Expect::Field("files", "not supported"),
        ),
        (
            "undetectable file",
            FileInput::from_bytes(b"hello").map(drop),
            Expect::Field("files", "could not be detected"),
        ),
        (
            "empty file",
            FileInput::from_path(&empty_file).await.map(drop),
            Expect::Field("files", "empty"),
        ),
        (
            "file too large to send inline",
            FileInput::from_path(&huge_file).await.map(drop),
            Expect::Field("files", "file_input"),
        ),
        (
            "unreadable file",
            FileInput::from_path(dir.path().join("missing.png"))
                .await
                .map(drop),
            Expect::Io("missing.png"),
        ),
        (
            "relative file URL",
            agents
                .create(CreateVideoAgentRequest::new("p").file(FileInput::url("img/logo.png")))
                .await
                .map(drop),
            Expect::Field("files", "absolute"),
        ),
        (
            "relative callback URL",
            agents
                .create(CreateVideoAgentRequest::new("p").callback_url("/hooks"))
                .await
                .map(drop),
            Expect::Field("callback_url", "absolute"),
        ),
        (
            "invalid idempotency key",
            agents
                .create(CreateVideoAgentRequest::new("p"))
                .options(RequestOptions::new().idempotency_key("two words"))
                .await
                .map(drop),
            Expect::Field("idempotency_key", "allowed"),
        ),
        (
            "limit 0",
            agents.list().limit(0).send().await.map(drop),
            Expect::Field("limit", "got 0"),
        ),
        (
            "limit 101",
            client.videos().list().limit(101).send().await.map(drop),
            Expect::Field("limit", "got 101"),
        ),
        (
            "oversized upload",
            client
                .assets()
                .upload_bytes("huge.mp4", vec![0u8; 32 * 1024 * 1024 + 1])
                .await
                .map(drop),
            Expect::Field("file", "32 MB"),
        ),
        (
            "upload of an undetectable type",
            client.assets().upload(&unknown_file).await.map(drop),
            Expect::Field("file", "could not be detected"),
        ),
        (
            "direct upload of an undetectable type",
            client.assets().upload(&unknown_huge).await.map(drop),
            Expect::Field("file", "could not be detected"),
        ),
        (
            "bytes of an undetectable type",
            client
                .assets()
                .upload_bytes("notes.bin", vec![7u8; 1000])
                .await
                .map(drop),
            Expect::Field("file", "notes.bin"),
        ),
        (
            "upload batch with one undetectable file",
            client
                .assets()
                .upload_many([&png, &unknown_file])
                .await
                .map(drop),
            Expect::Field("paths", "notes.bin"),
        ),
        (
            "empty session id",
            agents.get(" ").await.map(drop),
            Expect::Field("session_id", "empty"),
        ),
        (
            "blank message",
            agents.send_message("sess_1", "   ").await.map(drop),
            Expect::Field("message", "whitespace"),
        ),
        (
            "video with script and audio",
            client
                .videos()
                .create(
                    CreateVideoRequest::avatar("look_1")
                        .script("Hi")
                        .audio_asset_id("ast_1"),
                )
                .await
                .map(drop),
            Expect::Field("script", "exclusive"),
        ),
        (
            "avatar video without script or audio",
            client
                .videos()
                .create(CreateVideoRequest::avatar("look_1"))
                .await
                .map(drop),
            Expect::Field("script", "missing"),
        ),
        (
            "avatar video with a blank avatar",
            client
                .videos()
                .create(CreateVideoRequest::avatar(" ").script("Hi"))
                .await
                .map(drop),
            Expect::Field("avatar_id", "blank"),
        ),
        (
            "avatar video with a number for its avatar",
            match serde_json::from_value::<CreateVideoRequest>(
                serde_json::json!({"type": "avatar", "avatar_id": 42, "script": "Hi"}),
            ) {
                Ok(request) => client.videos().create(request).await.map(drop),
                Err(e) => panic!("decoding is the validator's job: {e}"),
            },
            Expect::Field("avatar_id", "expected a string, got 42"),
        ),
        (
            "a body member of the wrong type, by name",
            client
                .invoke(
                    "create_webhook_endpoint",
                    heygen_api::operations::Invocation::new()
                        .body(serde_json::json!({"url": "https://example.com/h", "events": "video_agent.success"})),
                )
                .await
                .map(drop),
            Expect::Field("body", "at `events`: expected an array, got string \"video_agent.success\""),
        ),
        (
            "image video with a relative image URL",
            client
                .videos()
                .create(CreateVideoRequest::image(FileInput::url("/logo.png")).script("Hi"))
                .await
                .map(drop),
            Expect::Field("image", "absolute"),
        ),
        (
            "cinematic clip of 20 seconds",
            client
                .videos()
                .create(CreateVideoRequest::cinematic_avatar("A chase", ["look_1"]).duration(20))
                .await
                .map(drop),
            Expect::Field("duration", "4-15"),
        ),
        (
            "cinematic clip without avatars",
            client
                .videos()
                .create(CreateVideoRequest::cinematic_avatar(
                    "A chase",
                    Vec::<String>::new(),
                ))
                .await
                .map(drop),
            Expect::Field("avatar_id", "at least one"),
        ),
        (
            "studio video without scenes",
            client
                .videos()
                .create(CreateVideoRequest::studio([]))
                .await
                .map(drop),
            Expect::Field("scenes", "at least one"),
        ),
        (
            "empty video batch",
            client
                .videos()
                .create_batch(Vec::<CreateVideoRequest>::new())
                .await
                .map(drop),
            Expect::Field("videos", "1 to 100"),
        ),
        (
            "batch of 101 videos",
            client
                .videos()
                .create_batch((0..101).map(|_| CreateVideoRequest::avatar("look_1").script("x")))
                .await
                .map(drop),
            Expect::Field("videos", "got 101"),
        ),
        (
            "batch with an invalid video",
            client
                .videos()
                .create_batch([
                    CreateVideoRequest::avatar("look_1").script("fine"),
                    CreateVideoRequest::avatar("look_1"),
                ])
                .await
                .map(drop),
            Expect::Field("videos", "item 1"),
        ),
        (
            "studio scene without a type",
            client
                .videos()
                .create(CreateVideoRequest::studio([
                    serde_json::json!({"script": "x"}),
                ]))
                .await
                .map(drop),
            Expect::Field("scenes", "type"),
        ),
        (
            "an engine setting of another engine",
            client
                .videos()
                .create(
                    CreateVideoRequest::avatar("look_1").script("Hi").extra(
                        "engine",
                        serde_json::json!({"type": "avatar_iv", "reference_look_id": "look_2"}),
                    ),
                )
                .await
                .map(drop),
            Expect::Field("engine", "reference_look_id"),
        ),
        (
            "a voice model of another voice engine",
            client
                .videos()
                .create(CreateVideoRequest::avatar("look_1").script("Hi").extra(
                    "voice_settings",
                    serde_json::json!({"engine_settings": {"engine_type": "fish", "model": "eleven_v3"}}),
                ))
                .await
                .map(drop),
            Expect::Field("voice_settings", "not a fish model"),
        ),
        (
            "a watermark image that is half a file input",
            client
                .videos()
                .create(
                    CreateVideoRequest::avatar("look_1")
                        .script("Hi")
                        .extra("watermark", serde_json::json!({"image": {"type": "url"}})),
                )
                .await
                .map(drop),
            Expect::Field("watermark", "file input"),
        ),
        (
            "an avatar scene without its avatar",
            client
                .videos()
                .create(CreateVideoRequest::studio([serde_json::json!(
                    {"type": "avatar_video", "input": {"type": "avatar"}}
                )]))
                .await
                .map(drop),
            Expect::Field("scenes", "avatar_id"),
        ),
        (
            "cinematic clip with a blank prompt",
            client
                .videos()
                .create(CreateVideoRequest::cinematic_avatar(" ", ["look_1"]))
                .await
                .map(drop),
            Expect::Field("prompt", "blank"),
        ),
        (
            "bulk statuses with a blank id",
            client.videos().statuses(["vid_1", ""]).await.map(drop),
            Expect::Field("video_ids", "empty"),
        ),
        (
            "an extra that has a setter",
            agents
                .create(CreateVideoAgentRequest::new("p").extra("mode", serde_json::json!("chat")))
                .await
                .map(drop),
            Expect::Field("extra", "setter"),
        ),
        (
            "video with a non-http callback",
            client
                .videos()
                .create(
                    CreateVideoRequest::avatar("look_1")
                        .script("Hi")
                        .callback_url("mailto:a@b.c"),
                )
                .await
                .map(drop),
            Expect::Field("callback_url", "http"),
        ),
        (
            "webhook without signature",
            verify(HashMap::new(), body).map(drop).map_err(Error::from),
            Expect::Webhook(|e| matches!(e, WebhookError::MissingSignature)),
        ),
        (
            "webhook with the wrong secret",
            verify(sign("whsec_wrong", now), body)
                .map(drop)
                .map_err(Error::from),
            Expect::Webhook(|e| matches!(e, WebhookError::BadSignature)),
        ),
        (
            "webhook with a stale timestamp",
            verify(sign(secret, now - 3600), body)
                .map(drop)
                .map_err(Error::from),
            Expect::Webhook(|e| matches!(e, WebhookError::StaleTimestamp { .. })),
        ),
        (
            "webhook with a non-hex signature",
            verify(
                HashMap::from([("Heygen-Signature".to_string(), "zz-not-hex".to_string())]),
                body,
            )
            .map(drop)
            .map_err(Error::from),
            Expect::Webhook(|e| matches!(e, WebhookError::BadSignature)),
        ),
        (
            "webhook with garbage JSON",
            {
                let garbage = b"{\"event_type\": ";
                let headers = HashMap::from([
                    (
                        "Heygen-Signature".to_string(),
                        webhook::signature(secret, garbage),
                    ),
                    ("Heygen-Timestamp".to_string(), now.to_string()),
                ]);
                verify(headers, garbage).map(drop).map_err(Error::from)
            },
            Expect::Webhook(|e| matches!(e, WebhookError::MalformedPayload(_))),
        ),
        (
            "webhook without a timestamp",
            verify(
                HashMap::from([(
                    "Heygen-Signature".to_string(),
                    webhook::signature(secret, body),
                )]),
                body,
            )
            .map(drop)
            .map_err(Error::from),
            Expect::Webhook(|e| matches!(e, WebhookError::MissingTimestamp)),
        ),
    ];
    assert!(cases.len() >= 48, "{} cases", cases.len());
    for (name, result, expect) in cases {
        let error = match result {
            Ok(()) => panic!("{name}: accepted"),
            Err(error) => error,
        };
        match expect {
            Expect::Field(field, text) => {
                let invalid = error
                    .invalid_request()
                    .unwrap_or_else(|| panic!("{name}: {error:?}"));
                assert_eq!(invalid.field, field, "{name}: {error}");
                assert!(invalid.reason.contains(text), "{name}: {error}");
            }
            Expect::Io(path) => {
                assert!(matches!(error, Error::Io { .. }), "{name}: {error:?}");
                assert!(error.to_string().contains(path), "{name}: {error}");
            }
            Expect::Webhook(check) => match &error {
                Error::Webhook(refusal) => assert!(check(refusal), "{name}: {refusal}"),
                other => panic!("{name}: {other:?}"),
            },
        }
    }
    anything.assert_calls_async(0).await;
}

/// `check_only` makes every check a call makes and sends nothing: a request that holds
/// answers `null`, one that does not gets the same error the call would.
#[tokio::test]
async fn an_invocation_that_only_checks_sends_nothing() {
    use heygen_api::operations::Invocation;
    let server = MockServer::start_async().await;
    let anything = server
        .mock_async(|_, then| {
            then.status(200).json_body(serde_json::json!({}));
        })
        .await;
    let client = common::client(&server.base_url());
    let fine = Invocation::new()
        .body(serde_json::json!({"prompt": "A short hello"}))
        .check_only(true);
    let answer = client
        .invoke("create_video_agent_session", fine)
        .await
        .unwrap();
    assert_eq!(answer, serde_json::Value::Null);
    let bad = Invocation::new()
        .body(serde_json::json!({"prompt": ""}))
        .check_only(true);
    match client.invoke("create_video_agent_session", bad).await {
        Err(Error::InvalidRequest(invalid)) => assert_eq!(invalid.field, "prompt"),
        other => panic!("{other:?}"),
    }
    let out_of_range = Invocation::new().query("limit", "1000").check_only(true);
    match client.invoke("list_videos", out_of_range).await {
        Err(Error::InvalidRequest(invalid)) => assert_eq!(invalid.field, "limit"),
        other => panic!("{other:?}"),
    }
    // More ids than a statuses request takes, in all, are refused here.
    let ids = (0..101)
        .map(|i| format!("v{i}"))
        .collect::<Vec<_>>()
        .join(",");
    let too_many = Invocation::new().query("video_ids", ids);
    match client.invoke("get_video_statuses", too_many).await {
        Err(Error::InvalidRequest(invalid)) => {
            assert!(invalid.field.contains("video_ids"), "{invalid}");
            assert!(invalid.reason.contains("at most 100"), "{invalid}");
        }
        other => panic!("{other:?}"),
    }
    // A number the spec bounds.
    let score = Invocation::new()
        .query("query", "rain")
        .query("min_score", "3");
    match client.invoke("search_sounds", score).await {
        Err(Error::InvalidRequest(invalid)) => {
            assert_eq!(invalid.field, "min_score");
            assert!(
                invalid.reason.contains("between 0 and 1, got 3"),
                "{invalid}"
            );
        }
        other => panic!("{other:?}"),
    }
    let split = Invocation::new()
        .query(
            "video_ids",
            (0..60)
                .map(|i| format!("v{i}"))
                .collect::<Vec<_>>()
                .join(","),
        )
        .query(
            "batch_ids",
            (0..41)
                .map(|i| format!("b{i}"))
                .collect::<Vec<_>>()
                .join(","),
        );
    match client.invoke("get_video_statuses", split).await {
        Err(Error::InvalidRequest(invalid)) => {
            assert!(
                invalid.reason.contains("got 101"),
                "100 in all, not each: {invalid}"
            )
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(anything.calls_async().await, 0, "nothing was sent");
}
