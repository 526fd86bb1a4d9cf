//! The families' asynchronous jobs: each kind waits through the one lifecycle (in bulk where
//! HeyGen can), ends with its own words, and downloads what it made; background removals
//! repeat their `request_id` on every retry.
#![cfg(feature = "full")]

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt as _;
use heygen_api::{Error, FileInput, JobKind, JobOutcome, RequestOptions};
use httpmock::MockServer;
use serde_json::{json, Value};

use common::{client, fast_simulator, quick_wait};

fn source() -> FileInput {
    FileInput::url("https://example.com/talk.mp4")
}

fn translation(id: &str, status: &str) -> Value {
    json!({"id": id, "status": status, "output_language": "Spanish",
           "video_url": (status == "completed").then(|| format!("https://files.example.com/{id}.mp4"))})
}

/// Three translations are polled with one bulk request a round, and each one's record is
/// fetched once, when bulk says it ended.
#[tokio::test]
async fn translations_are_polled_in_bulk_and_each_record_fetched_once() {
    let server = MockServer::start_async().await;
    let ids = ["vt_1", "vt_2", "vt_3"];
    let bulk = server
        .mock_async(|when, then| {
            when.method("GET")
                .path("/v3/video-translations/statuses")
                .query_param("video_translation_ids", "vt_1,vt_2,vt_3");
            then.status(200).json_body(json!({
                "data": ids.iter().map(|id| json!({"video_id": id, "status": "completed"})).collect::<Vec<_>>(),
                "has_more": false, "next_token": null,
            }));
        })
        .await;
    let mut gets = Vec::new();
    for id in ids {
        gets.push(
            server
                .mock_async(|when, then| {
                    when.method("GET")
                        .path(format!("/v3/video-translations/{id}"));
                    then.status(200)
                        .json_body(json!({"data": translation(id, "completed")}));
                })
                .await,
        );
    }
    let client = client(&server.base_url());
    let ended: Vec<_> = client
        .video_translations()
        .wait_many(ids.iter().map(|s| s.to_string()), quick_wait())
        .collect()
        .await;
    assert_eq!(ended.len(), 3);
    for end in &ended {
        let outcome = end.outcome.as_ref().unwrap();
        assert!(outcome.is_completed(), "{}: {outcome:?}", end.id);
        assert_eq!(
            outcome.record().unwrap().video_url.as_deref(),
            Some(format!("https://files.example.com/{}.mp4", end.id).as_str())
        );
    }
    bulk.assert_calls_async(1).await;
    for get in gets {
        get.assert_calls_async(1).await;
    }
}

/// A job bulk does not find is asked about on its own: its 404 ends it with that error; a
/// job still running is polled again until it ends.
#[tokio::test]
async fn a_job_bulk_cannot_find_ends_with_its_own_answer() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method("GET").path("/v3/lipsyncs/statuses");
            then.status(200).json_body(json!({
                "data": [{"video_id": "ls_gone", "status": "not_found"},
                         {"video_id": "ls_ok", "status": "failed"}],
                "has_more": false, "next_token": null,
            }));
        })
        .await;
    let gone = server
        .mock_async(|when, then| {
            when.method("GET").path("/v3/lipsyncs/ls_gone");
            then.status(404)
                .json_body(common::error_body("not_found", "Lipsync not found."));
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method("GET").path("/v3/lipsyncs/ls_ok");
            then.status(200)
                .json_body(json!({"data": {"id": "ls_ok", "status": "failed",
                "failure_message": "The audio is silent."}}));
        })
        .await;
    let client = client(&server.base_url());
    let ended: Vec<_> = client
        .lipsyncs()
        .wait_many(["ls_gone".to_string(), "ls_ok".to_string()], quick_wait())
        .collect()
        .await;
    let by_id = |id: &str| ended.iter().find(|e| e.id == id).unwrap();
    match &by_id("ls_gone").outcome {
        Err(Error::Api(e)) => assert_eq!(e.status.as_u16(), 404),
        other => panic!("{other:?}"),
    }
    match &by_id("ls_ok").outcome {
        Ok(JobOutcome::Failed(lipsync)) => {
            assert_eq!(
                lipsync.failure_message.as_deref(),
                Some("The audio is silent.")
            )
        }
        other => panic!("{other:?}"),
    }
    gone.assert_calls_async(1).await;
}

/// A wait that outlives its deadline says where the job stood. (Real time: paused time
/// would jump past the deadline while a request to the mock is in flight.)
#[tokio::test]
async fn a_job_that_does_not_end_times_out_with_its_last_status() {
    let server = MockServer::start_async().await;
    let polls = server
        .mock_async(|when, then| {
            when.method("GET").path("/v3/ai-clipping/clip_1");
            then.status(200)
                .json_body(json!({"data": {"id": "clip_1", "status": "running", "clips": []}}));
        })
        .await;
    let client = client(&server.base_url());
    let outcome = client
        .ai_clipping()
        .wait(
            "clip_1",
            heygen_api::WaitOptions::new()
                .deadline(Duration::from_millis(1500))
                .initial_interval(Duration::from_millis(100)),
        )
        .await
        .unwrap();
    match outcome {
        JobOutcome::TimedOut(t) => {
            assert_eq!(t.kind, JobKind::ClippingJob);
            assert_eq!(t.last_status.as_deref(), Some("running"));
            assert!(t.elapsed >= Duration::from_millis(1400), "{:?}", t.elapsed);
        }
        other => panic!("{other:?}"),
    }
    // 100 ms growing ×1.5 within 1.5 s: a handful of polls, not hundreds.
    let calls = polls.calls_async().await;
    assert!((3..=10).contains(&calls), "{calls} polls");
}

/// HeyGen ignores `Idempotency-Key` on background removals and recognises a repeat by the
/// body's `request_id`: the client fills one in, and a retry carries the same one.
#[tokio::test]
async fn a_retried_background_removal_repeats_its_request_id() {
    let server = MockServer::start_async().await;
    let seen: Arc<Mutex<Vec<Option<String>>>> = Arc::default();
    let log = |seen: &Arc<Mutex<Vec<Option<String>>>>| {
        let sink = Arc::clone(seen);
        move |req: &httpmock::HttpMockRequest| {
            let body: Value = serde_json::from_slice(req.body_ref()).unwrap_or(Value::Null);
            sink.lock()
                .unwrap()
                .push(body["request_id"].as_str().map(str::to_string));
            true
        }
    };
    let failing = server
        .mock_async(|when, then| {
            when.method("POST")
                .path("/v3/background-removals")
                .is_true(log(&seen));
            then.status(503).body("unavailable");
        })
        .await;
    failing.up_to_n_times(1);
    server
        .mock_async(|when, then| {
            when.method("POST")
                .path("/v3/background-removals")
                .is_true(log(&seen));
            then.status(200)
                .json_body(json!({"data": {"id": "bgr_1", "status": "pending", "layers": {}}}));
        })
        .await;
    let client = client(&server.base_url());
    client.background_removals().create(source()).await.unwrap();
    let ids = seen.lock().unwrap().clone();
    let first = ids[0].clone().expect("a request_id is filled in");
    assert!(uuid::Uuid::parse_str(&first).is_ok(), "{first}");
    assert!(ids.len() >= 2, "the create was retried: {ids:?}");
    assert!(
        ids.iter().all(|id| id.as_deref() == Some(first.as_str())),
        "{ids:?}"
    );

    // A call's own idempotency key is its request_id (a resumed create repeats it); one set
    // by hand is sent as set.
    seen.lock().unwrap().clear();
    client
        .background_removals()
        .create(source())
        .options(RequestOptions::new().idempotency_key("order-7"))
        .await
        .unwrap();
    client
        .background_removals()
        .create(source())
        .request_id("mine")
        .await
        .unwrap();
    let ids = seen.lock().unwrap().clone();
    assert!(
        ids.contains(&Some("order-7".into())) && ids.contains(&Some("mine".into())),
        "{ids:?}"
    );
}

/// One video into three languages, waited in bulk against the simulator, each translation
/// downloaded with progress.
#[tokio::test]
async fn a_video_is_translated_into_three_languages_and_downloaded() {
    let sim = fast_simulator().start().await.unwrap();
    let client = sim.client().unwrap();
    let seen: Arc<Mutex<Vec<(String, String, bool)>>> = Arc::default();
    let log = Arc::clone(&seen);
    let ended = client
        .video_translations()
        .create(source(), ["Spanish", "French", "German"].map(String::from))
        .send_and_wait(quick_wait().on_progress(move |event| {
            if let (Some(id), Some(status)) = (&event.job_id, &event.status) {
                log.lock()
                    .unwrap()
                    .push((id.clone(), status.to_string(), event.changed));
            }
        }))
        .await
        .unwrap();
    // `changed` marks a job's status moving, once per move.
    let seen = seen.lock().unwrap().clone();
    for end in &ended {
        let moves: Vec<&str> = seen
            .iter()
            .filter(|(id, _, changed)| *id == end.id && *changed)
            .map(|(_, status, _)| status.as_str())
            .collect();
        assert!(moves.windows(2).all(|w| w[0] != w[1]), "{moves:?}");
        assert_eq!(moves.last(), Some(&"completed"), "{moves:?}");
    }
    assert!(
        seen.iter().any(|(_, _, changed)| !changed),
        "repeated statuses are not moves"
    );
    let languages: Vec<_> = ended
        .iter()
        .map(|end| {
            let outcome = end.outcome.as_ref().unwrap();
            assert!(outcome.is_completed(), "{outcome:?}");
            outcome.record().unwrap().output_language.clone().unwrap()
        })
        .collect();
    assert_eq!(
        languages,
        ["Spanish", "French", "German"],
        "in the order asked"
    );
    let dir = tempfile::tempdir().unwrap();
    for end in &ended {
        let record = end.outcome.as_ref().unwrap().record().unwrap();
        let bytes = Arc::new(Mutex::new(0u64));
        let counted = Arc::clone(&bytes);
        let path = dir.path().join(format!("{}.mp4", end.id));
        let download = client
            .download(record.video_url.as_deref().unwrap(), &path)
            .on_progress(move |p| *counted.lock().unwrap() = p.bytes)
            .await
            .unwrap();
        assert!(download.bytes > 1000);
        assert_eq!(std::fs::metadata(&path).unwrap().len(), download.bytes);
        assert_eq!(
            *bytes.lock().unwrap(),
            download.bytes,
            "progress saw every byte"
        );
    }
    // Three translations in flight cost three renders once done.
    sim.shutdown().await;
}

/// Each kind ends in its own words: a lip-sync that fails says why, a voice is `complete`,
/// a clipping job yields its clips, an avatar of a real person waits for consent.
#[tokio::test]
async fn each_kind_ends_in_its_own_words() {
    let sim = fast_simulator().start().await.unwrap();
    let client = sim.client().unwrap();

    let failed = client
        .lipsyncs()
        .create(source(), FileInput::url("https://example.com/voice.mp3"))
        .title("dub [fail:render]")
        .send_and_wait(quick_wait())
        .await
        .unwrap();
    match failed {
        JobOutcome::Failed(lipsync) => assert!(lipsync.failure_message.is_some()),
        other => panic!("{other:?}"),
    }

    let voice = client
        .voices()
        .clone(FileInput::url("https://example.com/voice.mp3"), "Mine")
        .send_and_wait(quick_wait())
        .await
        .unwrap();
    match voice {
        JobOutcome::Completed(voice) => {
            assert_eq!(voice.status.as_ref().map(|s| s.as_str()), Some("complete"))
        }
        other => panic!("{other:?}"),
    }

    let clips = client
        .ai_clipping()
        .create(source())
        .send_and_wait(quick_wait())
        .await
        .unwrap();
    match clips {
        JobOutcome::Completed(job) => {
            assert_eq!(job.clips.len(), 2);
            assert!(job.clips.iter().all(|c| c.video_url.is_some()));
        }
        other => panic!("{other:?}"),
    }

    let removal = client
        .background_removals()
        .create(source())
        .send_and_wait(quick_wait())
        .await
        .unwrap();
    assert!(removal.is_completed(), "{removal:?}");

    let waiting = client
        .avatars()
        .create("digital_twin", "Me")
        .file(source())
        .send_and_wait(quick_wait())
        .await
        .unwrap();
    let group = match waiting {
        JobOutcome::NeedsInput(group) => {
            assert_eq!(
                group.status.as_ref().map(|s| s.as_str()),
                Some("pending_consent")
            );
            group.id
        }
        other => panic!("{other:?}"),
    };
    client
        .avatars()
        .consent(&group)
        .consent_video(source())
        .await
        .unwrap();
    let trained = client.avatars().wait(&group, quick_wait()).await.unwrap();
    assert!(trained.is_completed(), "{trained:?}");
    sim.shutdown().await;
}

/// Waiting is refused before anything is sent for a blank id.
#[tokio::test]
async fn a_blank_job_id_is_refused() {
    let client = client("http://127.0.0.1:9");
    match client
        .wait_for_job(JobKind::Lipsync, " ", quick_wait())
        .await
    {
        Err(Error::InvalidRequest(e)) => assert_eq!(e.field, "id"),
        other => panic!("{other:?}"),
    }
}
