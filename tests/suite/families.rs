//! The families' asynchronous jobs: each kind waits through the one lifecycle (in bulk where
//! HeyGen can), ends with its own words, and downloads what it made; background removals
//! repeat their `request_id` on every retry.
#![cfg(feature = "full")]

use crate::common;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt as _;
use heygen_api::{Error, FileInput, JobKind, JobOutcome, RequestOptions};
use httpmock::MockServer;
use serde_json::{json, Value};

use crate::common::{client, fast_simulator, quick_wait};

fn source() -> FileInput {
    FileInput::url("https://example.com/talk.mp4")
}

fn translation(id: &str, status: &str) -> Value {
    json!({"id": id, "status": status, "output_language": "Spanish",
           "video_url": (status == "completed").then(|| format!("https://files.example.com/{id}.mp4"))})
}

/// Translations are polled with one bulk request a round, and a job's record is fetched once,
/// when bulk says it ended; jobs bulk says are running are never fetched.
#[tokio::test]
async fn translations_are_polled_in_bulk_and_each_record_fetched_once() {
    let server = MockServer::start_async().await;
    let ids = ["vt_1", "vt_2", "vt_3", "vt_4"];
    let status = |id: &str, status: &str| json!({"video_id": id, "status": status});
    let first = server
        .mock_async(|when, then| {
            when.method("GET")
                .path("/v3/video-translations/statuses")
                .query_param("video_translation_ids", "vt_1,vt_2,vt_3,vt_4");
            then.status(200).json_body(json!({
                "data": [status("vt_1", "completed"), status("vt_2", "completed"),
                         status("vt_3", "running"), status("vt_4", "running")],
                "has_more": false, "next_token": null,
            }));
        })
        .await;
    let later = server
        .mock_async(|when, then| {
            when.method("GET")
                .path("/v3/video-translations/statuses")
                .query_param("video_translation_ids", "vt_3,vt_4");
            then.status(200).json_body(json!({
                "data": [status("vt_3", "running"), status("vt_4", "running")],
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
                    // Were the running ones fetched, they would end here.
                    then.status(200)
                        .json_body(json!({"data": translation(id, "completed")}));
                })
                .await,
        );
    }
    let client = client(&server.base_url());
    let ended: Vec<_> = client
        .video_translations()
        .wait_many(ids, quick_wait().deadline(Duration::from_millis(600)))
        .collect()
        .await;
    assert_eq!(ended.len(), 4);
    for end in &ended[..2] {
        let outcome = end.outcome.as_ref().unwrap();
        assert!(outcome.is_completed(), "{}: {outcome:?}", end.id);
        assert_eq!(
            outcome.record().unwrap().video_url.as_deref(),
            Some(format!("https://files.example.com/{}.mp4", end.id).as_str())
        );
    }
    for end in &ended[2..] {
        match end.outcome.as_ref().unwrap() {
            JobOutcome::TimedOut(t) => assert_eq!(t.last_status.as_deref(), Some("running")),
            other => panic!("{}: {other:?}", end.id),
        }
    }
    first.assert_calls_async(1).await;
    assert!(
        later.calls_async().await >= 1,
        "the two left were polled in bulk"
    );
    gets[0].assert_calls_async(1).await;
    gets[1].assert_calls_async(1).await;
    gets[2].assert_calls_async(0).await;
    gets[3].assert_calls_async(0).await;
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

/// Translations whose wait ends before they do still say their language: the record says
/// none, so it is the language asked in the same place as the job's id.
#[tokio::test]
async fn translations_that_time_out_still_say_their_language() {
    let sim = fast_simulator().render_seconds(1e9).start().await.unwrap();
    let client = sim.client().unwrap();
    let ended = client
        .video_translations()
        .create(source(), ["Japanese", "Spanish"])
        .send_and_wait(quick_wait().deadline(Duration::from_millis(200)))
        .await
        .unwrap();
    assert_eq!(ended.len(), 2);
    for (end, language) in ended.iter().zip(["Japanese", "Spanish"]) {
        let outcome = end.outcome.as_ref().unwrap();
        assert!(outcome.record().is_none(), "{outcome:?}");
        assert_eq!(end.label.as_deref(), Some(language), "{}", end.id);
    }
    sim.shutdown().await;
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
        .create(source(), ["Spanish", "French", "German"])
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
    // Each end says its language itself.
    let labels: Vec<_> = ended.iter().map(|end| end.label.as_deref()).collect();
    assert_eq!(labels, [Some("Spanish"), Some("French"), Some("German")]);
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

mod batch {
    use super::*;
    use heygen_api::batch::{BatchRunner, FinalState, Job, JobResult, JournalSummary};
    use heygen_api::{CreateVideoRequest, JobKind};

    fn polls() -> heygen_api::WaitOptions {
        heygen_api::WaitOptions::new()
            .initial_interval(Duration::from_millis(20))
            .max_interval(Duration::from_millis(80))
    }

    /// A lip-sync job from its typed request, as `client.lipsyncs().create(..)` builds it.
    fn lipsync(i: usize, title: &str) -> Job {
        // Making a body sends nothing: any client will do.
        let client = heygen_api::Client::builder()
            .api_key("unused")
            .build()
            .unwrap();
        let body = client
            .lipsyncs()
            .create(
                FileInput::url("https://example.com/a.mp4"),
                FileInput::url(format!("https://example.com/{i}.mp3")),
            )
            .title(title)
            .to_body()
            .unwrap();
        Job::new(body).key(format!("lipsync-{i}"))
    }

    fn jobs() -> Vec<Job> {
        let mut jobs: Vec<Job> = (0..4).map(|i| lipsync(i, "dub")).collect();
        jobs.push(lipsync(4, "dub [fail:render]"));
        for language in ["Spanish", "French", "German"] {
            jobs.push(
                Job::from_json(json!({
                    "key": format!("tr-{language}"),
                    "kind": "video_translation",
                    "video": {"type": "url", "url": "https://example.com/a.mp4"},
                    "output_languages": [language],
                }))
                .unwrap(),
            );
        }
        jobs.push(
            Job::from_json(json!({
                "key": "tr-two",
                "kind": "video_translation",
                "video": {"type": "url", "url": "https://example.com/a.mp4"},
                "output_languages": ["Spanish", "French"],
            }))
            .unwrap(),
        );
        jobs.push(
            Job::family(
                JobKind::ClippingJob,
                json!({"video": {"type": "url", "url": "https://example.com/k.mp4"}}),
            )
            .key("clips"),
        );
        jobs.push(
            Job::video(CreateVideoRequest::avatar("look_anna_studio").script("Hi")).key("video"),
        );
        jobs
    }

    /// Lip-syncs, translations, a clipping job and a video in one run: the families polled in
    /// bulk where HeyGen can, each result downloaded, a failure and an invalid line alone; a
    /// second run finds everything done in its journal and creates nothing.
    #[tokio::test]
    async fn a_batch_runs_every_family_beside_videos_and_resumes_without_creating_twice() {
        let sim = fast_simulator().start().await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let journal = dir.path().join("run.journal");
        let files = dir.path().join("out");
        let mut run = BatchRunner::new(sim.client().unwrap())
            .poll(polls())
            .deadline(Duration::from_secs(60))
            .journal(&journal)
            .download_dir(&files)
            .run(futures_util::stream::iter(jobs()))
            .unwrap();
        let mut outcomes = Vec::new();
        while let Some(outcome) = run.next().await {
            outcomes.push(outcome);
        }
        let by_key = |key: &str| &outcomes.iter().find(|o| o.key == key).unwrap().result;
        for key in ["lipsync-0", "lipsync-3", "tr-Spanish", "tr-German", "clips"] {
            match by_key(key) {
                JobResult::Completed {
                    files, record, id, ..
                } => {
                    assert!(std::fs::metadata(&files[0]).unwrap().len() > 1000, "{key}");
                    assert_eq!(record.to_json()["status"], "completed", "{key}");
                    assert_eq!(record.to_json()["id"], id.as_str(), "{key}");
                }
                other => panic!("{key}: {other}"),
            }
        }
        // Each kind's record comes back typed: a translation says its language.
        match by_key("tr-Spanish").record() {
            Some(heygen_api::TypedRecord::VideoTranslation(translation)) => {
                assert_eq!(translation.output_language.as_deref(), Some("Spanish"))
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            by_key("lipsync-0").record(),
            Some(heygen_api::TypedRecord::Lipsync(_))
        ));
        let video = by_key("video");
        assert_eq!(video.files().len(), 1, "{video}");
        assert_eq!(video.kind(), Some(JobKind::Video));
        assert_eq!(
            video
                .record()
                .and_then(|r| r.video())
                .map(|v| v.id.as_str()),
            video.id()
        );
        // Every clip is saved, each under the job's key and its place in the record.
        let clips = match by_key("clips") {
            JobResult::Completed { files, record, .. } => {
                let urls = by_key("clips").urls();
                assert!(urls.len() >= 2, "{record:?}");
                assert_eq!(urls, record.urls());
                assert_eq!(files.len(), urls.len());
                for (n, file) in files.iter().enumerate() {
                    assert_eq!(*file, dir.path().join(format!("out/clips-{}.mp4", n + 1)));
                    assert!(std::fs::metadata(file).unwrap().len() > 1000, "{file:?}");
                }
                files.clone()
            }
            other => panic!("{other}"),
        };
        match by_key("lipsync-4") {
            JobResult::Failed {
                kind: JobKind::Lipsync,
                reason,
                ..
            } => {
                assert!(reason.contains("could not be processed"), "{reason}")
            }
            other => panic!("{other}"),
        }
        match by_key("tr-two") {
            JobResult::Invalid(invalid) => assert_eq!(invalid.field, "output_languages"),
            other => panic!("{other}"),
        }
        let requests = run.summary().requests;
        assert_eq!(requests.creates, 10, "every valid line created once");
        // Lip-syncs and translations share bulk polls; the clipping job is polled alone.
        assert!(
            requests.bulk_polls > 0 && requests.job_polls > 0,
            "{requests:?}"
        );
        let journaled = JournalSummary::read(&journal).unwrap();
        assert_eq!(
            journaled.jobs["lipsync-4"].finished.as_ref().map(|f| f.0),
            Some(FinalState::Failed)
        );
        let names: Vec<String> = clips
            .iter()
            .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            journaled.jobs["clips"].files, names,
            "the journal names every clip"
        );
        assert_eq!(journaled.jobs["tr-Spanish"].files, ["tr-Spanish.mp4"]);
        // A clip lost since is fetched again on the next run; the others are kept.
        std::fs::remove_file(&clips[1]).unwrap();

        let mut again = BatchRunner::new(sim.client().unwrap())
            .poll(polls())
            .journal(&journal)
            .download_dir(&files)
            .run(futures_util::stream::iter(jobs()))
            .unwrap();
        while let Some(outcome) = again.next().await {
            if outcome.key == "clips" {
                assert!(
                    matches!(&outcome.result, JobResult::Completed { files, .. } if *files == clips),
                    "{}",
                    outcome.result
                );
                continue;
            }
            assert!(
                matches!(
                    outcome.result,
                    JobResult::AlreadyFinished { .. } | JobResult::Invalid(_)
                ),
                "{}: {}",
                outcome.key,
                outcome.result
            );
        }
        let requests = again.summary().requests;
        assert_eq!(requests.creates, 0, "nothing made twice");
        assert_eq!(requests.downloads, 1, "only the lost clip: {requests:?}");
        assert!(std::fs::metadata(&clips[1]).unwrap().len() > 1000);
        sim.shutdown().await;
    }

    /// Lip-syncs are polled in bulk: no single poll, a bulk poll a round for all of them.
    #[tokio::test]
    async fn a_batch_polls_lipsyncs_in_bulk() {
        let sim = fast_simulator().start().await.unwrap();
        let mut run = BatchRunner::new(sim.client().unwrap())
            .poll(polls())
            .deadline(Duration::from_secs(30))
            .run(futures_util::stream::iter(
                (0..6).map(|i| lipsync(i, "dub")),
            ))
            .unwrap();
        while let Some(outcome) = run.next().await {
            assert!(outcome.result.is_success(), "{}", outcome.result);
        }
        let requests = run.summary().requests;
        assert_eq!(requests.job_polls, 0, "{requests:?}");
        assert!(requests.bulk_polls > 0, "{requests:?}");
        assert_eq!(requests.video_details, 6, "each ending confirmed once");
        sim.shutdown().await;
    }

    /// A run cut short by its deadline leaves family jobs in flight in its journal; the next
    /// run takes them up by their ids, with no new create.
    #[tokio::test]
    async fn family_jobs_in_flight_are_taken_up_again_from_the_journal() {
        let sim = fast_simulator()
            .render_seconds(120.0)
            .start()
            .await
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let journal = dir.path().join("run.journal");
        let lines = || (0..3).map(|i| lipsync(i, "dub")).collect::<Vec<_>>();
        let mut first = BatchRunner::new(sim.client().unwrap())
            .poll(polls())
            .deadline(Duration::from_millis(60))
            .journal(&journal)
            .run(futures_util::stream::iter(lines()))
            .unwrap();
        while let Some(outcome) = first.next().await {
            assert_eq!(outcome.result.name(), "timed_out", "{}", outcome.result);
        }
        let mut second = BatchRunner::new(sim.client().unwrap())
            .poll(polls())
            .deadline(Duration::from_secs(30))
            .journal(&journal)
            .run(futures_util::stream::iter(lines()))
            .unwrap();
        let mut completed = 0;
        while let Some(outcome) = second.next().await {
            assert!(
                matches!(outcome.result, JobResult::Completed { .. }),
                "{}",
                outcome.result
            );
            completed += 1;
        }
        assert_eq!(completed, 3);
        assert_eq!(
            second.summary().requests.creates,
            0,
            "taken up, not made again"
        );
        sim.shutdown().await;
    }

    /// An avatar waiting for consent is not ended in the journal: after consent, the same
    /// command takes up the same avatar instead of making another.
    #[tokio::test]
    async fn an_avatar_waiting_for_consent_is_taken_up_again_not_made_twice() {
        let sim = fast_simulator().start().await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let journal = dir.path().join("run.journal");
        let line = || {
            vec![Job::family(
                JobKind::Avatar,
                json!({"type": "digital_twin", "name": "Me",
                       "file": {"type": "url", "url": "https://example.com/me.mp4"}}),
            )
            .key("me")]
        };
        let run = |retry: bool| {
            BatchRunner::new(sim.client().unwrap())
                .poll(polls())
                .deadline(Duration::from_secs(30))
                .journal(&journal)
                .retry_failed(retry)
                .run(futures_util::stream::iter(line()))
                .unwrap()
        };
        let mut first = run(false);
        let outcome = first.next().await.unwrap();
        let JobResult::NeedsInput {
            kind: JobKind::Avatar,
            id,
            ..
        } = &outcome.result
        else {
            panic!("{}", outcome.result);
        };
        let reason = outcome.result.reason().unwrap_or_default();
        assert!(reason.contains("consent"), "{reason}");
        let group = id.clone();
        drop(first);
        let client = sim.client().unwrap();
        client
            .avatars()
            .consent(&group)
            .consent_video(source())
            .await
            .unwrap();
        let mut second = run(true);
        let outcome = second.next().await.unwrap();
        match &outcome.result {
            JobResult::Completed { id, .. } => assert_eq!(*id, group, "the same avatar"),
            other => panic!("{other}"),
        }
        assert_eq!(second.summary().requests.creates, 0, "no second avatar");
        sim.shutdown().await;
    }

    /// With deliveries, translations and clipping jobs end on their webhook events: no poll.
    #[tokio::test]
    async fn family_jobs_end_on_their_deliveries() {
        let sim = fast_simulator().start().await.unwrap();
        let client = sim.client().unwrap();
        let (receiver, deliveries) = common::delivering_receiver(&client).await;
        let mut jobs: Vec<Job> = ["Spanish", "French"]
            .iter()
            .map(|language| {
                Job::family(
                    JobKind::VideoTranslation,
                    json!({"video": {"type": "url", "url": "https://example.com/a.mp4"},
                           "output_languages": [language]}),
                )
                .key(*language)
            })
            .collect();
        jobs.push(
            Job::family(
                JobKind::ClippingJob,
                json!({"video": {"type": "url", "url": "https://example.com/k.mp4"}}),
            )
            .key("clips"),
        );
        let mut run = BatchRunner::new(client)
            .poll(polls())
            .deadline(Duration::from_secs(30))
            .webhooks(deliveries)
            .safety_net(Duration::from_secs(3600))
            .run(futures_util::stream::iter(jobs))
            .unwrap();
        let mut completed = 0;
        while let Some(outcome) = run.next().await {
            assert!(
                matches!(outcome.result, JobResult::Completed { .. }),
                "{}: {}",
                outcome.key,
                outcome.result
            );
            completed += 1;
        }
        assert_eq!(completed, 3);
        let requests = run.summary().requests;
        assert_eq!(
            requests.polls(),
            0,
            "deliveries, not polls, ended the jobs: {requests:?}"
        );
        assert_eq!(
            requests.video_details, 3,
            "each ending confirmed by its record"
        );
        drop(receiver);
        sim.shutdown().await;
    }
}

/// Where HeyGen's rules are richer than the schemas, a request is refused before anything is
/// sent, naming its field.
#[tokio::test]
async fn family_requests_break_no_rule_unsent() {
    // Nothing listens here: a request that went out would be a transport error.
    let client = client("http://127.0.0.1:9");
    let inline = FileInput::base64("video/mp4", b"\x00\x00\x00\x18ftypmp42");
    let refused = |result: heygen_api::Result<()>, field: &str| match result {
        Err(Error::InvalidRequest(e)) => assert_eq!(e.field, field, "{e}"),
        other => panic!("{field}: {other:?}"),
    };
    let tr = || client.video_translations();
    refused(
        tr().create(source(), Vec::<String>::new()).await.map(drop),
        "output_languages",
    );
    refused(
        tr().create(source(), ["Spanish", "Spanish"])
            .await
            .map(drop),
        "output_languages",
    );
    refused(
        tr().create(inline.clone(), ["Spanish"]).await.map(drop),
        "video",
    );
    refused(
        tr().create(source(), ["Spanish"])
            .start_time(10.0)
            .end_time(5.0)
            .await
            .map(drop),
        "end_time",
    );
    refused(
        tr().create(source(), ["Spanish"])
            .srt_role(heygen_api::types::CreateVideoTranslationRequestSrtRole::Input)
            .await
            .map(drop),
        "srt_role",
    );
    refused(
        tr().create(source(), ["Spanish"])
            .callback_url("/hooks")
            .await
            .map(drop),
        "callback_url",
    );
    refused(
        client
            .lipsyncs()
            .create(source(), inline.clone())
            .await
            .map(drop),
        "audio",
    );
    refused(
        client.voices().speech("", "voice_paige").await.map(drop),
        "text",
    );
    refused(
        client
            .voices()
            .speech("Hello", "voice_paige")
            .speed(3.0)
            .await
            .map(drop),
        "speed",
    );
    refused(
        client
            .voices()
            .speech("x".repeat(heygen_api::MAX_SPEECH_CHARS + 1), "voice_paige")
            .await
            .map(drop),
        "text",
    );
    refused(
        client.avatars().create("photo", "Me").await.map(drop),
        "file",
    );
    refused(
        client.avatars().create("prompt", "Guide").await.map(drop),
        "prompt",
    );
    refused(
        client.voices().clone(source(), " ").await.map(drop),
        "voice_name",
    );
    refused(
        client.background_removals().create(inline).await.map(drop),
        "video",
    );
    refused(
        client
            .lipsyncs()
            .create_batch(Vec::<
                heygen_api::types::CreateLipsyncBatchRequestLipsyncsItem,
            >::new())
            .await
            .map(drop),
        "lipsyncs",
    );
}

/// A request carries what the user set and nothing else: the spec's defaults say what HeyGen
/// does with a member left out; they are not sent as values.
#[tokio::test]
async fn a_job_created_without_options_sends_only_its_inputs() {
    let server = MockServer::start_async().await;
    let sent: Arc<Mutex<Vec<Value>>> = Arc::default();
    let log = Arc::clone(&sent);
    let created = server
        .mock_async(move |when, then| {
            let log = Arc::clone(&log);
            when.method("POST")
                .path("/v3/lipsyncs")
                .is_true(move |request| {
                    let body: Value = serde_json::from_slice(request.body().as_ref()).unwrap();
                    log.lock().unwrap().push(body);
                    true
                });
            then.status(200)
                .json_body(json!({"data": {"lipsync_id": "ls_1"}}));
        })
        .await;
    let client = client(&server.base_url());
    let audio = FileInput::url("https://example.com/voice.mp3");
    client
        .lipsyncs()
        .create(source(), audio.clone())
        .await
        .unwrap();
    client
        .lipsyncs()
        .create(source(), audio)
        .enable_caption(true)
        .await
        .unwrap();
    created.assert_calls_async(2).await;
    let sent = sent.lock().unwrap().clone();
    let members = |body: &Value| -> Vec<String> {
        let mut names: Vec<String> = body.as_object().unwrap().keys().cloned().collect();
        names.sort();
        names
    };
    assert_eq!(members(&sent[0]), ["audio", "video"], "{}", sent[0]);
    assert_eq!(
        members(&sent[1]),
        ["audio", "enable_caption", "video"],
        "{}",
        sent[1]
    );
    assert_eq!(sent[1]["enable_caption"], true);
}

/// Every kind's create answer gives its jobs' ids the same way, whatever HeyGen names them
/// (`lipsync_id`, `video_translation_ids`, `session_id`, `video_id`, a clipping job's `id`).
#[tokio::test]
async fn every_create_answer_names_its_jobs_by_one_accessor() {
    let sim = fast_simulator().start().await.unwrap();
    let client = sim.client().unwrap();
    let lipsync = client
        .lipsyncs()
        .create(source(), FileInput::url("https://example.com/a.mp3"))
        .await
        .unwrap();
    assert_eq!(lipsync.job_id(), Some(lipsync.lipsync_id.clone()));
    let translations = client
        .video_translations()
        .create(source(), ["Spanish", "French"])
        .await
        .unwrap();
    assert_eq!(translations.job_ids(), translations.video_translation_ids);
    assert_eq!(translations.job_ids().len(), 2);
    let session = client
        .video_agents()
        .create(heygen_api::CreateVideoAgentRequest::new("A short hello"))
        .await
        .unwrap();
    assert_eq!(session.job_id(), Some(session.session_id.clone()));
    let video = client
        .videos()
        .create(heygen_api::CreateVideoRequest::avatar("look_anna_studio").script("Hi"))
        .await
        .unwrap();
    assert_eq!(video.job_id(), Some(video.video_id.clone()));
    let clipping = client.ai_clipping().create(source()).await.unwrap();
    let id = clipping.job_id().expect("a clipping job's id");
    assert_eq!(Some(&id), clipping.id.as_ref().or(clipping.job_id.as_ref()));
    sim.shutdown().await;
}
