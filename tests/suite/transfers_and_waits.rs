//! Uploads, downloads, pagination streams and waits, through real HTTP (httpmock and scripted
//! servers).

use crate::common;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt as _;
use heygen_api::{
    AgentRecord, CreateVideoAgentRequest, Error, JobOutcome, VideoAsset, VideoDetail, WaitOptions,
    WaitUpdate,
};
use httpmock::MockServer;
use serde_json::json;

use crate::common::{client, cut_response, whole_response, ScriptedServer, KEY};

const PNG_HEADER: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

fn asset_body() -> serde_json::Value {
    json!({"data": {"asset_id": "ast_1", "url": "https://files.test/ast_1.png", "mime_type": "image/png", "size_bytes": 100000}})
}

fn fast_wait() -> WaitOptions {
    WaitOptions::new()
        .initial_interval(Duration::from_millis(5))
        .max_interval(Duration::from_millis(20))
        .deadline(Duration::from_secs(20))
}

#[tokio::test]
async fn uploads_stream_a_file_and_report_progress() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("logo.png");
    let mut content = PNG_HEADER.to_vec();
    content.resize(100_000, 7);
    std::fs::write(&path, &content).unwrap();

    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method("POST")
                .path("/v3/assets")
                .header("x-api-key", KEY)
                .header_exists("idempotency-key")
                .body_includes("filename=\"logo.png\"")
                .is_true(|req| {
                    let ct = req
                        .headers()
                        .get("content-type")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_string();
                    ct.starts_with("multipart/form-data") && req.body_ref().len() > 100_000
                });
            then.status(200).json_body(asset_body());
        })
        .await;
    let sent = Arc::new(AtomicU64::new(0));
    let seen = Arc::clone(&sent);
    let asset = client(&server.base_url())
        .assets()
        .upload(&path)
        .on_progress(move |p| {
            assert_eq!(p.total, Some(100_000));
            seen.store(p.bytes, Ordering::SeqCst);
        })
        .await
        .unwrap();
    mock.assert_calls_async(1).await;
    assert_eq!(asset.asset_id, "ast_1");
    assert_eq!(sent.load(Ordering::SeqCst), 100_000);
}

#[tokio::test]
async fn bytes_over_32_mb_and_missing_files_send_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = MockServer::start_async().await;
    let anything = server
        .mock_async(|_, then| {
            then.status(200).json_body(asset_body());
        })
        .await;
    let client = client(&server.base_url());
    // Bytes in memory go multipart only; a file that large goes the direct-upload way.
    let e = client
        .assets()
        .upload_bytes("big.mp4", vec![0u8; 32 * 1024 * 1024 + 1])
        .await
        .unwrap_err();
    assert_eq!(e.invalid_request().unwrap().field, "file");
    assert!(e.to_string().contains("32 MB"), "{e}");
    let e = client
        .assets()
        .upload(dir.path().join("nope.png"))
        .await
        .unwrap_err();
    assert!(
        matches!(e, Error::Io { .. }) && e.to_string().contains("nope.png"),
        "{e}"
    );
    let empty = dir.path().join("empty.png");
    std::fs::write(&empty, b"").unwrap();
    assert!(client
        .assets()
        .upload(&empty)
        .await
        .unwrap_err()
        .invalid_request()
        .is_some());
    anything.assert_calls_async(0).await;
}

#[tokio::test]
async fn a_rate_limited_upload_is_resent_whole_with_the_same_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.png");
    std::fs::write(&path, PNG_HEADER).unwrap();
    let server = MockServer::start_async().await;
    let keys = Arc::new(std::sync::Mutex::new(Vec::new()));
    type Log = Arc<std::sync::Mutex<Vec<(Option<String>, usize)>>>;
    let logger = |keys: &Log| {
        let log = Arc::clone(keys);
        move |req: &httpmock::HttpMockRequest| {
            let key = req
                .headers()
                .get("idempotency-key")
                .map(|v| v.to_str().unwrap().to_string());
            log.lock().unwrap().push((key, req.body_ref().len()));
            true
        }
    };
    let limited = server
        .mock_async(|when, then| {
            when.method("POST")
                .path("/v3/assets")
                .is_true(logger(&keys));
            then.status(429)
                .header("retry-after", "0")
                .json_body(common::error_body("rate_limit_exceeded", "slow"));
        })
        .await;
    limited.up_to_n_times(1);
    let ok = server
        .mock_async(|when, then| {
            when.method("POST")
                .path("/v3/assets")
                .body_includes("IHDR")
                .is_true(logger(&keys));
            then.status(200).json_body(asset_body());
        })
        .await;
    client(&server.base_url())
        .assets()
        .upload(&path)
        .await
        .unwrap();
    ok.assert_calls_async(1).await;
    let keys = keys.lock().unwrap();
    assert_eq!(keys.len(), 2, "{keys:?}");
    assert!(
        keys[0].0.is_some() && keys.iter().all(|k| k.0 == keys[0].0),
        "{keys:?}"
    );
    assert!(
        keys.iter().all(|k| k.1 == keys[0].1),
        "the whole body was resent: {keys:?}"
    );
}

fn completed_video(base: &str) -> VideoDetail {
    serde_json::from_value(json!({
        "id": "v1", "status": "completed",
        "video_url": format!("{base}/files/v1.mp4"),
        "thumbnail_url": format!("{base}/files/v1.jpg"),
        "captioned_video_url": null
    }))
    .unwrap()
}

#[tokio::test]
async fn downloads_stream_to_the_destination_without_the_api_key() {
    let server = MockServer::start_async().await;
    let content: Vec<u8> = (0..50_000u32).map(|i| (i % 251) as u8).collect();
    let mock = server
        .mock_async(|when, then| {
            when.method("GET")
                .path("/files/v1.mp4")
                .header_missing("x-api-key")
                .header_missing("authorization");
            then.status(200)
                .header("content-type", "video/mp4")
                .body(content.clone());
        })
        .await;
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("out.mp4");
    let got = Arc::new(AtomicU64::new(0));
    let seen = Arc::clone(&got);
    let client = client(&server.base_url());
    let video = completed_video(&server.base_url());
    let download = client
        .videos()
        .download(&video, VideoAsset::Video, &target)
        .on_progress(move |p| seen.store(p.bytes, Ordering::SeqCst))
        .await
        .unwrap();
    mock.assert_calls_async(1).await;
    assert_eq!(download.bytes, 50_000);
    assert_eq!(got.load(Ordering::SeqCst), 50_000);
    assert_eq!(std::fs::read(&target).unwrap(), content);
    #[cfg(unix)]
    {
        // The finished file has the mode any new file gets under the umask (0644 usually),
        // not the temporary file's 0600.
        use std::os::unix::fs::PermissionsExt as _;
        let reference = tempfile::tempdir().unwrap();
        let plain = reference.path().join("plain");
        std::fs::write(&plain, b"x").unwrap();
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&target), mode(&plain), "{:o}", mode(&target));
    }
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        leftovers,
        [std::ffi::OsString::from("out.mp4")],
        "temporary files left behind"
    );

    let mut sink = Vec::new();
    let written = client
        .videos()
        .download_to_writer(&video, VideoAsset::Video, &mut sink)
        .await
        .unwrap();
    assert_eq!(written.bytes, 50_000);
    assert_eq!(sink, content);

    let e = client
        .videos()
        .download(&video, VideoAsset::Captioned, &target)
        .await
        .unwrap_err();
    assert_eq!(e.invalid_request().unwrap().field, "captioned_video_url");
}

/// A response that announces 1,000 bytes, sends 400 and hangs up.
fn short() -> Vec<u8> {
    cut_response("video/mp4", 1000, &[1u8; 400])
}

/// A whole 1,000-byte response.
fn whole() -> Vec<u8> {
    whole_response("video/mp4", &[7u8; 1000])
}

#[tokio::test]
async fn a_download_cut_short_starts_over_and_completes() {
    // Durable (the default) or left to the system's cache: the same file, renamed into place.
    for durable in [true, false] {
        let server = ScriptedServer::start(vec![short(), whole()]);
        let base = server.base.clone();
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.mp4");
        let download = client(&base)
            .videos()
            .download(&completed_video(&base), VideoAsset::Video, &target)
            .durable(durable)
            .await
            .unwrap();
        assert_eq!(download.bytes, 1000);
        assert_eq!(download.path.as_deref(), Some(target.as_path()));
        // The 400 bytes of the first attempt were discarded, not kept in front of the rest.
        assert_eq!(std::fs::read(&target).unwrap(), vec![7u8; 1000]);
        assert_eq!(server.requests() as u64, 2);
        // No temporary file left beside it.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}

#[tokio::test]
async fn a_download_to_a_writer_is_not_repeated_once_bytes_reached_it() {
    let server = ScriptedServer::start(vec![short(), whole()]);
    let base = server.base.clone();
    let mut sink = Vec::new();
    let e = client(&base)
        .videos()
        .download_to_writer(&completed_video(&base), VideoAsset::Video, &mut sink)
        .await
        .unwrap_err();
    assert!(
        matches!(e, Error::Transport { .. } | Error::SizeMismatch { .. }),
        "{e:?}"
    );
    assert!(e.is_retryable());
    assert_eq!(
        sink.len(),
        400,
        "the writer holds what arrived, and only that"
    );
    assert_eq!(server.requests() as u64, 1);
}

#[tokio::test]
async fn downloads_retry_refusals_that_may_pass_before_the_body() {
    let server = MockServer::start_async().await;
    let unavailable = server
        .mock_async(|when, then| {
            when.method("GET").path("/files/v1.mp4");
            then.status(503).body("busy");
        })
        .await;
    unavailable.up_to_n_times(1);
    let limited = server
        .mock_async(|when, then| {
            when.method("GET").path("/files/v1.mp4");
            then.status(429)
                .header("retry-after", "0")
                .body("slow down");
        })
        .await;
    limited.up_to_n_times(1);
    let ok = server
        .mock_async(|when, then| {
            when.method("GET").path("/files/v1.mp4");
            then.status(200).body(vec![3u8; 64]);
        })
        .await;
    let mut sink = Vec::new();
    let download = client(&server.base_url())
        .videos()
        .download_to_writer(
            &completed_video(&server.base_url()),
            VideoAsset::Video,
            &mut sink,
        )
        .await
        .unwrap();
    assert_eq!((download.bytes, sink), (64, vec![3u8; 64]));
    unavailable.assert_calls_async(1).await;
    limited.assert_calls_async(1).await;
    ok.assert_calls_async(1).await;
}

#[tokio::test]
async fn a_cut_download_leaves_no_partial_file_and_keeps_the_old_one() {
    let server = ScriptedServer::start(vec![short()]);
    let base = server.base.clone();
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("out.mp4");
    std::fs::write(&target, b"previous").unwrap();
    let client = client(&base);
    let e = client
        .videos()
        .download(&completed_video(&base), VideoAsset::Video, &target)
        .await
        .unwrap_err();
    assert!(
        matches!(e, Error::Transport { .. } | Error::SizeMismatch { .. }),
        "{e:?}"
    );
    assert_eq!(std::fs::read(&target).unwrap(), b"previous");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "a temporary file was left behind"
    );
    // The first attempt and the policy's two retries, no more.
    assert_eq!(server.requests() as u64, 3);
}

#[tokio::test]
async fn a_refused_download_is_an_api_error_and_writes_nothing() {
    let server = MockServer::start_async().await;
    let refused = server
        .mock_async(|when, then| {
            when.method("GET").path("/files/v1.mp4");
            then.status(403)
                .body("<Error><Code>AccessDenied</Code></Error>");
        })
        .await;
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("out.mp4");
    let e = client(&server.base_url())
        .videos()
        .download(
            &completed_video(&server.base_url()),
            VideoAsset::Video,
            &target,
        )
        .await
        .unwrap_err();
    assert_eq!(e.status().map(|s| s.as_u16()), Some(403));
    refused.assert_calls_async(1).await;
    assert!(!target.exists());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[tokio::test]
async fn a_download_to_a_folder_is_refused_before_anything_is_fetched() {
    let server = MockServer::start_async().await;
    let any = server
        .mock_async(|_, then| {
            then.status(200).body("bytes");
        })
        .await;
    let dir = tempfile::tempdir().unwrap();
    let e = client(&server.base_url())
        .videos()
        .download(
            &completed_video(&server.base_url()),
            VideoAsset::Video,
            dir.path(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.invalid_request().map(|i| i.field), Some("path"), "{e}");
    any.assert_calls_async(0).await;
}

#[tokio::test]
async fn list_streams_follow_tokens_with_the_page_size() {
    let server = MockServer::start_async().await;
    let video = |id: &str| json!({"id": id, "status": "completed"});
    server
        .mock_async(|when, then| {
            when.method("GET")
                .path("/v3/videos")
                .query_param("limit", "2")
                .query_param_missing("token");
            then.status(200).json_body(
                json!({"data": [video("a"), video("b")], "has_more": true, "next_token": "t1"}),
            );
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method("GET")
                .path("/v3/videos")
                .query_param("limit", "2")
                .query_param("token", "t1");
            then.status(200)
                .json_body(json!({"data": [video("c")], "has_more": false, "next_token": null}));
        })
        .await;
    let client = client(&server.base_url());
    let ids: Vec<String> = client
        .videos()
        .list()
        .limit(2)
        .stream()
        .map(|v| v.unwrap().id)
        .collect()
        .await;
    assert_eq!(ids, ["a", "b", "c"]);

    server
        .mock_async(|when, then| {
            when.method("GET")
                .path("/v3/webhooks/endpoints")
                .query_param_missing("token");
            then.status(200)
                .json_body(json!({"data": [], "has_more": true, "next_token": "loop"}));
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method("GET")
                .path("/v3/webhooks/endpoints")
                .query_param("token", "loop");
            then.status(200)
                .json_body(json!({"data": [], "has_more": true, "next_token": "loop"}));
        })
        .await;
    let results: Vec<_> = client.webhooks().list_endpoints().stream().collect().await;
    assert_eq!(results.len(), 1);
    assert!(matches!(&results[0], Err(Error::RepeatedPageToken { token, .. }) if token == "loop"));
}

#[tokio::test]
async fn create_and_wait_follows_the_session_then_the_video() {
    let server = MockServer::start_async().await;
    server.mock_async(|when, then| {
        when.method("POST").path("/v3/video-agents");
        then.status(200).json_body(json!({"data": {"session_id": "s1", "status": "thinking", "video_id": null, "created_at": 1}}));
    }).await;
    let thinking = server.mock_async(|when, then| {
        when.method("GET").path("/v3/video-agents/s1");
        then.status(200).json_body(json!({"data": {"session_id": "s1", "status": "thinking", "created_at": 1, "progress": 20}}));
    }).await;
    thinking.up_to_n_times(1);
    let generating = server.mock_async(|when, then| {
        when.method("GET").path("/v3/video-agents/s1");
        then.status(200).json_body(json!({"data": {"session_id": "s1", "status": "generating", "video_id": "v1", "created_at": 1, "progress": 60}}));
    }).await;
    generating.up_to_n_times(1);
    let gone = server
        .mock_async(|when, then| {
            when.method("GET").path("/v3/video-agents/s1");
            then.status(404)
                .json_body(common::error_body("not_found", "Session not found"));
        })
        .await;
    let processing = server
        .mock_async(|when, then| {
            when.method("GET").path("/v3/videos/v1");
            then.status(200)
                .json_body(json!({"data": {"id": "v1", "status": "processing"}}));
        })
        .await;
    processing.up_to_n_times(2);
    server.mock_async(|when, then| {
        when.method("GET").path("/v3/videos/v1");
        then.status(200).json_body(json!({"data": {"id": "v1", "status": "completed", "video_url": "https://files.test/v1.mp4"}}));
    }).await;

    let client = client(&server.base_url());
    let outcome = client
        .video_agents()
        .create_and_wait(CreateVideoAgentRequest::new("A demo"), fast_wait())
        .await
        .unwrap();
    let JobOutcome::Completed(AgentRecord::Video { session_id, video }) = &outcome else {
        panic!("{outcome}")
    };
    assert_eq!(session_id.as_deref(), Some("s1"));
    assert_eq!(
        video.video_url.as_deref(),
        Some("https://files.test/v1.mp4")
    );
    thinking.assert_calls_async(1).await;
    generating.assert_calls_async(1).await;
    gone.assert_calls_async(0).await;

    // Resuming on the video from elsewhere, as a stream.
    let updates: Vec<_> = client
        .videos()
        .wait_stream("v1", fast_wait())
        .collect()
        .await;
    assert!(matches!(
        updates.last(),
        Some(Ok(WaitUpdate::Done(JobOutcome::Completed(_))))
    ));
}

#[tokio::test]
async fn uploads_take_the_same_per_call_options_as_every_request() {
    let server = MockServer::start_async().await;
    let keyed = server
        .mock_async(|when, then| {
            when.method("POST")
                .path("/v3/assets")
                .header("idempotency-key", "logo-upload-1");
            then.status(200).json_body(asset_body());
        })
        .await;
    let client = client(&server.base_url());
    client
        .assets()
        .upload_bytes("logo.png", PNG_HEADER.to_vec())
        .options(heygen_api::RequestOptions::new().idempotency_key("logo-upload-1"))
        .await
        .unwrap();
    keyed.assert_calls_async(1).await;

    let refused = client
        .assets()
        .upload_bytes("logo.png", PNG_HEADER.to_vec())
        .options(heygen_api::RequestOptions::new().idempotency_key("not a key"))
        .await
        .unwrap_err();
    assert_eq!(refused.invalid_request().unwrap().field, "idempotency_key");
    keyed.assert_calls_async(1).await;
}

/// A file over 32 MB that is not all zeros: an MP4's first box, then bytes that vary, and a
/// last chunk shorter than the others.
fn large_mp4(dir: &std::path::Path) -> (std::path::PathBuf, Vec<u8>) {
    let path = dir.join("talk.mp4");
    let mut content = b"\0\0\0\x18ftypisom\0\0\x02\0isomiso2".to_vec();
    let mut state = 0x2545_f491_u32;
    content.extend((0..32 * 1024 * 1024 + 100_003).map(|_| {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        state as u8
    }));
    std::fs::write(&path, &content).unwrap();
    (path, content)
}

/// The direct-upload endpoints on `server`: the creation (checked for no checksum: none is
/// known before the file is read), the `PUT`, refused once with a 503 after its whole body
/// came in, and the completion, answered when `completion` holds.
async fn direct_upload_mocks<'s>(
    server: &'s MockServer,
    content: &[u8],
    completion: impl Fn(&httpmock::HttpMockRequest) -> bool + Send + Sync + 'static,
) -> (httpmock::Mock<'s>, httpmock::Mock<'s>, httpmock::Mock<'s>) {
    let size = content.len();
    let base = server.base_url();
    let created = server
        .mock_async(|when, then| {
            when.method("POST")
                .path("/v3/assets/direct-uploads")
                .json_body_includes(format!(r#"{{"size_bytes": {size}}}"#))
                .is_true(|req| !String::from_utf8_lossy(req.body_ref()).contains("checksum"));
            then.status(200).json_body(json!({"data": {
                "asset_id": "ast_big", "upload_url": format!("{base}/put/ast_big"),
                "upload_headers": {"Content-Type": "video/mp4"}, "expires_in_seconds": 3600,
                "max_bytes": size, "status": "pending_upload"
            }}));
        })
        .await;
    let refused = server
        .mock_async(|when, then| {
            when.method("PUT")
                .path("/put/ast_big")
                .is_true(move |req| req.body_ref().len() == size);
            then.status(503)
                .header("retry-after", "0")
                .json_body(common::error_body("internal_error", "try again"));
        })
        .await;
    refused.up_to_n_times(1);
    let expected = content.to_vec();
    let put = server
        .mock_async(|when, then| {
            when.method("PUT")
                .path("/put/ast_big")
                .header("content-type", "video/mp4")
                .header_missing("x-api-key")
                .is_true(move |req| req.body_ref() == expected.as_slice());
            then.status(200);
        })
        .await;
    let completed = server
        .mock_async(|when, then| {
            when.method("POST")
                .path("/v3/assets/ast_big/complete")
                .is_true(completion);
            then.status(200).json_body(json!({"data": {
                "asset_id": "ast_big", "url": "https://files.test/ast_big.mp4",
                "mime_type": "video/mp4", "size_bytes": size, "status": "processing"
            }}));
        })
        .await;
    (created, put, completed)
}

/// A file over 32 MB is read once: created first, hashed while its `PUT` streams (anew for a
/// retried `PUT`), and completed with the SHA-256 of the bytes that went out.
#[tokio::test]
async fn a_large_upload_reads_its_file_once_and_completes_with_its_checksum() {
    use sha2::Digest as _;
    let dir = tempfile::tempdir().unwrap();
    let (path, content) = large_mp4(dir.path());
    let checksum = hex::encode(sha2::Sha256::digest(&content));
    let server = MockServer::start_async().await;
    let expected = json!({ "checksum_sha256": checksum });
    let (created, put, completed) = direct_upload_mocks(&server, &content, move |req| {
        serde_json::from_slice::<serde_json::Value>(req.body_ref()).ok() == Some(expected.clone())
    })
    .await;
    let steps = Arc::new(std::sync::Mutex::new(Vec::new()));
    let heard = Arc::clone(&steps);
    let asset = client(&server.base_url())
        .assets()
        .upload(&path)
        .on_progress(move |p| heard.lock().unwrap().push((p.step, p.bytes)))
        .await
        .unwrap();
    assert_eq!(asset.asset_id, "ast_big");
    created.assert_calls_async(1).await;
    put.assert_calls_async(1).await;
    completed.assert_calls_async(1).await;
    let steps = steps.lock().unwrap();
    assert!(
        steps
            .iter()
            .all(|(step, _)| *step == heygen_api::TransferStep::Transfer),
        "no separate checksum pass: {steps:?}"
    );
    assert_eq!(steps.last().map(|s| s.1), Some(content.len() as u64));
    // Two PUTs, each reported from its start.
    assert_eq!(
        steps.windows(2).filter(|w| w[1].1 < w[0].1).count(),
        1,
        "{steps:?}"
    );
}

/// `.checksum(false)` sends the file without hashing it: the completion carries no checksum.
#[tokio::test]
async fn a_large_upload_without_its_checksum_completes_without_one() {
    let dir = tempfile::tempdir().unwrap();
    let (path, content) = large_mp4(dir.path());
    let server = MockServer::start_async().await;
    let (created, put, completed) = direct_upload_mocks(&server, &content, |req| {
        !String::from_utf8_lossy(req.body_ref()).contains("checksum")
    })
    .await;
    client(&server.base_url())
        .assets()
        .upload(&path)
        .checksum(false)
        .await
        .unwrap();
    created.assert_calls_async(1).await;
    put.assert_calls_async(1).await;
    completed.assert_calls_async(1).await;
}

/// A file that shrinks while it is sent fails the upload with the reason, and is not
/// completed.
#[tokio::test]
async fn a_file_that_shrinks_while_sent_fails_the_upload_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let (path, content) = large_mp4(dir.path());
    let server = MockServer::start_async().await;
    let (_, put, completed) = direct_upload_mocks(&server, &content, |_| true).await;
    let shrink = path.clone();
    let error = client(&server.base_url())
        .assets()
        .upload(&path)
        .on_progress(move |_| {
            let _ = std::fs::OpenOptions::new()
                .write(true)
                .open(&shrink)
                .and_then(|f| f.set_len(16 * 1024 * 1024));
        })
        .await
        .unwrap_err();
    let chain = causes(&error);
    assert!(
        chain.contains("the file ended after") && chain.contains("changed while being sent"),
        "{chain}"
    );
    put.assert_calls_async(0).await;
    completed.assert_calls_async(0).await;
}

/// A storage server that accepts a `PUT` before taking its whole body leaves the file
/// unchecked: the upload is not completed, and the error says why.
#[tokio::test]
async fn a_put_accepted_before_its_body_arrived_is_not_completed() {
    use std::io::{Read as _, Write as _};
    let dir = tempfile::tempdir().unwrap();
    let (path, content) = large_mp4(dir.path());
    let storage = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let put_url = format!("http://{}/put/ast_big", storage.local_addr().unwrap());
    std::thread::spawn(move || {
        let (mut stream, _) = storage.accept().unwrap();
        let mut head = [0u8; 65536];
        let _ = stream.read(&mut head);
        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
        // Holds the connection open without reading the rest.
        std::thread::sleep(Duration::from_secs(3));
    });
    let server = MockServer::start_async().await;
    let size = content.len();
    server
        .mock_async(|when, then| {
            when.method("POST").path("/v3/assets/direct-uploads");
            then.status(200).json_body(json!({"data": {
                "asset_id": "ast_big", "upload_url": put_url, "upload_headers": {},
                "expires_in_seconds": 3600, "max_bytes": size, "status": "pending_upload"
            }}));
        })
        .await;
    let completed = server
        .mock_async(|when, then| {
            when.method("POST").path("/v3/assets/ast_big/complete");
            then.status(200).json_body(asset_body());
        })
        .await;
    let error = client(&server.base_url())
        .assets()
        .upload(&path)
        .await
        .unwrap_err();
    let chain = causes(&error);
    assert!(
        chain.contains("answered before the whole file was sent"),
        "{chain}"
    );
    completed.assert_calls_async(0).await;
}

/// An error and its causes, on one line.
fn causes(error: &Error) -> String {
    let mut chain = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        chain.push_str(" / ");
        chain.push_str(&cause.to_string());
        source = cause.source();
    }
    chain
}
