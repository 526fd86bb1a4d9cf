//! The batch runner against the simulator: the cap, bulk polling, bad jobs, the journal,
//! webhook-first completion, deadlines, downloads and running out of credit.
#![cfg(feature = "simulator")]

use crate::common;
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt as _;
use heygen_api::batch::{BatchEvent, BatchRunner, FinalState, Job, JobReport, JournalSummary};
use heygen_api::simulator::RunningSimulator;
use heygen_api::{CreateVideoAgentRequest, CreateVideoRequest, RequestOptions};
use serde_json::json;

use crate::common::fast_simulator as fast;

/// A poll schedule for a simulator at 600× speed.
fn quick_polls() -> heygen_api::WaitOptions {
    heygen_api::WaitOptions::new()
        .initial_interval(Duration::from_millis(20))
        .max_interval(Duration::from_millis(80))
}

fn runner(sim: &RunningSimulator) -> BatchRunner {
    BatchRunner::new(sim.client().unwrap())
        .poll(quick_polls())
        .deadline(Duration::from_secs(60))
}

/// `n` jobs: even ones are Video Agent prompts, odd ones videos made directly.
fn mixed_jobs(n: usize) -> Vec<Job> {
    (0..n)
        .map(|i| {
            let job = if i % 2 == 0 {
                Job::video_agent(CreateVideoAgentRequest::new(format!("Clip {i}")))
            } else {
                Job::video(
                    CreateVideoRequest::avatar("look_anna_studio").script(format!("Hello {i}")),
                )
            };
            job.key(format!("job-{i}"))
        })
        .collect()
}

async fn collect(run: &mut heygen_api::batch::BatchRun) -> Vec<JobReport> {
    let mut outcomes = Vec::new();
    while let Some(outcome) = run.next().await {
        outcomes.push(outcome);
    }
    outcomes
}

fn names(outcomes: &[JobReport]) -> std::collections::BTreeMap<&'static str, usize> {
    let mut counts = std::collections::BTreeMap::new();
    for outcome in outcomes {
        *counts.entry(outcome.result.name()).or_default() += 1;
    }
    counts
}

#[tokio::test]
async fn fifty_jobs_ride_out_a_cap_of_five_without_a_failure() {
    let sim = fast().concurrency_limit(5).start().await.unwrap();
    // The runner allows 10 in flight; the account allows 5. The client does not retry, so
    // every 429 reaches the runner.
    let client = heygen_api::Client::builder()
        .api_key(sim.api_key())
        .base_url(sim.base_url())
        .retry_policy(heygen_api::RetryPolicy::none())
        .build()
        .unwrap();
    let mut run = BatchRunner::new(client)
        .poll(quick_polls())
        .deadline(Duration::from_secs(60))
        .run(futures_util::stream::iter(mixed_jobs(50)))
        .unwrap();
    let outcomes = collect(&mut run).await;
    let summary = run.summary();
    assert_eq!(names(&outcomes), [("completed", 50)].into(), "{summary:?}");
    assert!(summary.all_completed());
    assert!(sim.refused_at_capacity() > 0, "the cap was never reached");
    assert_eq!(summary.throttled, sim.refused_at_capacity());
    assert!(sim.peak_jobs_in_flight() <= 5);
    // Nothing was created twice: 25 sessions; 25 direct videos plus the sessions' 25.
    assert_eq!(sim.session_count(), 25);
    assert_eq!(sim.video_count(), 50);
    let keys: BTreeSet<_> = outcomes.iter().map(|o| o.key.clone()).collect();
    assert_eq!(keys.len(), 50);
    sim.shutdown().await;
}

#[tokio::test]
async fn the_runner_keeps_its_own_cap() {
    // The account would allow 10.
    let sim = fast().start().await.unwrap();
    let mut run = runner(&sim)
        .concurrency(3)
        .run(futures_util::stream::iter(mixed_jobs(12)))
        .unwrap();
    let outcomes = collect(&mut run).await;
    assert_eq!(names(&outcomes), [("completed", 12)].into());
    assert!(
        sim.peak_jobs_in_flight() <= 3,
        "{} in flight",
        sim.peak_jobs_in_flight()
    );
    assert!(run.summary().peak_in_flight <= 3);
    assert_eq!(sim.refused_at_capacity(), 0);
    sim.shutdown().await;
}

#[tokio::test]
async fn videos_are_polled_in_bulk() {
    // Slow renders, many jobs at once: one status request covers every video in flight.
    let sim = fast()
        .concurrency_limit(0)
        .render_seconds(600.0)
        .start()
        .await
        .unwrap();
    let jobs = (0..40).map(|i| {
        Job::video(CreateVideoRequest::avatar("look_anna_studio").script(format!("Line {i}")))
    });
    let mut run = runner(&sim)
        .concurrency(40)
        .run(futures_util::stream::iter(jobs.collect::<Vec<_>>()))
        .unwrap();
    let outcomes = collect(&mut run).await;
    assert_eq!(names(&outcomes), [("completed", 40)].into());
    let requests = run.summary().requests;
    assert_eq!(requests.session_polls, 0);
    assert_eq!(requests.video_details, 40);
    // About 1 s of rendering at 20–80 ms intervals: 12+ rounds of polls; per job, that would
    // be 480+ requests, in bulk it stays near the number of rounds.
    assert!(
        requests.bulk_polls < 80,
        "{} bulk polls for 40 jobs",
        requests.bulk_polls
    );
    assert!(requests.bulk_polls >= 5, "{requests:?}");
    sim.shutdown().await;
}

#[tokio::test]
async fn bad_jobs_fail_alone_with_their_field_named() {
    let sim = fast().start().await.unwrap();
    // Lines that are not jobs are refused before a run.
    for (line, field) in [
        (json!([1, 2]), "job"),
        (json!({"title": "neither"}), "job"),
        (json!({"prompt": "p", "key": 7}), "key"),
        (json!({"type": "hologram", "script": "x"}), "type"),
        (json!({"kind": "video_agent", "prompt": 7}), "prompt"),
        (json!({"kind": "gizmo"}), "kind"),
    ] {
        let error = Job::from_json(line.clone()).unwrap_err();
        assert_eq!(
            error.invalid_request().map(|i| i.field),
            Some(field),
            "{line}"
        );
    }
    let jobs = vec![
        Job::from_json(json!({"prompt": "A good one", "key": "good"})).unwrap(),
        // Valid JSON, invalid request: neither a script nor audio.
        Job::from_json(json!({"type": "avatar", "avatar_id": "look_anna_studio", "key": "mute"}))
            .unwrap(),
        Job::video_agent(CreateVideoAgentRequest::new("")).key("empty"),
        Job::video_agent(CreateVideoAgentRequest::new("Again")).key("good"),
        Job::from_json(json!({"type": "avatar", "avatar_id": "look_anna_studio", "script": "Hi"}))
            .unwrap(),
        // A session or a video named by its kind is read as its own typed request...
        Job::from_json(json!({"kind": "video_agent", "prompt": "By kind", "key": "by-kind"}))
            .unwrap(),
        // ... and is no body to send as is.
        Job::family(heygen_api::JobKind::Video, json!({"type": "avatar"})).key("raw-video"),
    ];
    let mut run = runner(&sim).run(futures_util::stream::iter(jobs)).unwrap();
    let outcomes = collect(&mut run).await;
    let by_key: std::collections::HashMap<_, _> = outcomes
        .iter()
        .map(|o| (o.key.as_str(), &o.result))
        .collect();
    assert!(by_key["good"].is_success());
    let field = |key: &str| match by_key[key] {
        heygen_api::batch::JobResult::Invalid(invalid) => invalid.field,
        other => panic!("{key}: {other}"),
    };
    assert_eq!(field("mute"), "script");
    assert_eq!(field("empty"), "prompt");
    assert_eq!(field("raw-video"), "kind");
    assert!(matches!(
        by_key["by-kind"],
        heygen_api::batch::JobResult::Completed { .. }
    ));
    // The repeated key fails; the first job with it is unharmed.
    assert_eq!(outcomes.len(), 7);
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| o.key == "good" && o.result.name() == "invalid")
            .count(),
        1
    );
    // The unnamed job got a key from its request.
    assert!(outcomes.iter().any(|o| o.key.starts_with("auto-")));
    assert_eq!(sim.session_count(), 2, "invalid jobs are never sent");
    assert_eq!(run.summary().failures.len(), 4);
    sim.shutdown().await;
}

/// A run holds its journal until its stream ends: a second run of it, or its compaction, is
/// refused meanwhile and changes nothing; after the end, both go ahead.
#[cfg(unix)]
#[tokio::test]
async fn a_journal_is_held_by_its_run_until_the_run_ends() {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("run.journal");
    let sim = fast().start().await.unwrap();
    let mut first = runner(&sim)
        .journal(&journal)
        .run(futures_util::stream::iter(mixed_jobs(2)))
        .unwrap();
    let held = |error: heygen_api::Error| {
        let text = format!("{error}: {:?}", std::error::Error::source(&error));
        assert!(text.contains("another run has it open"), "{text}");
    };
    held(
        runner(&sim)
            .journal(&journal)
            .run(futures_util::stream::iter(mixed_jobs(2)))
            .unwrap_err(),
    );
    held(heygen_api::batch::compact_journal(&journal).unwrap_err());
    assert_eq!(names(&collect(&mut first).await), [("completed", 2)].into());
    // The first run's stream has ended; the run itself is still in hand.
    let mut second = runner(&sim)
        .journal(&journal)
        .run(futures_util::stream::iter(mixed_jobs(2)))
        .unwrap();
    assert_eq!(
        names(&collect(&mut second).await),
        [("already_finished", 2)].into()
    );
    drop(first);
    assert_eq!(
        heygen_api::batch::compact_journal(&journal).unwrap().jobs,
        2
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn a_dropped_run_resumes_from_its_journal_without_creating_twice() {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("run.journal");
    let sim = fast().render_seconds(300.0).start().await.unwrap();
    let mut run = runner(&sim)
        .journal(&journal)
        .run(futures_util::stream::iter(mixed_jobs(20)))
        .unwrap();
    // Stop as soon as a few jobs ended: the rest are in flight or not started.
    let mut first = Vec::new();
    while first.len() < 3 {
        first.push(run.next().await.unwrap());
    }
    drop(run);
    let created = sim.session_count() + sim.video_count();
    assert!(created < 30, "the run was stopped early ({created})");
    let before = JournalSummary::read(&journal).unwrap();
    // Some jobs are unfinished: created, or sent and not yet answered.
    let counts = before.counts();
    let unfinished = counts.get("in_flight").unwrap_or(&0) + counts.get("creating").unwrap_or(&0);
    assert!(unfinished > 0, "{counts:?}");

    let mut run = runner(&sim)
        .journal(&journal)
        .run(futures_util::stream::iter(mixed_jobs(20)))
        .unwrap();
    let outcomes = collect(&mut run).await;
    // The first run may have finished more jobs than were read from its stream.
    let counts = names(&outcomes);
    assert!(counts["already_finished"] >= 3, "{counts:?}");
    assert_eq!(counts["already_finished"] + counts["completed"], 20);
    assert_eq!(sim.session_count(), 10, "no session was created twice");
    assert_eq!(sim.video_count(), 20, "no video was created twice");
    let after = JournalSummary::read(&journal).unwrap();
    assert_eq!(after.counts(), [("completed", 20)].into());
    sim.shutdown().await;
}

#[tokio::test]
async fn a_create_sent_but_unanswered_is_replayed_with_its_recorded_key() {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("run.journal");
    let sim = fast().start().await.unwrap();
    let client = sim.client().unwrap();
    // A run that crashed after sending this create, before writing its answer.
    let key = "replay-0123";
    std::fs::write(
        &journal,
        format!(
            "{}\n{{\"event\":\"created\",\"key\":\"torn",
            json!({"event": "creating", "key": "only", "kind": "video_agent",
                   "idempotency_key": key, "at": 1})
        ),
    )
    .unwrap();
    let sent = client
        .video_agents()
        .create(CreateVideoAgentRequest::new("Only once"))
        .options(RequestOptions::new().idempotency_key(key))
        .await
        .unwrap();
    let jobs = vec![Job::video_agent(CreateVideoAgentRequest::new("Only once")).key("only")];
    let mut run = runner(&sim)
        .journal(&journal)
        .run(futures_util::stream::iter(jobs))
        .unwrap();
    // The torn line the crash left is cut away, and the run says how much it cut.
    let torn = "{\"event\":\"created\",\"key\":\"torn".len() as u64;
    assert_eq!(run.summary().journal_cut_tail, Some(torn));
    let outcomes = collect(&mut run).await;
    assert!(outcomes[0].result.is_success(), "{}", outcomes[0].result);
    assert_eq!(sim.session_count(), 1);
    match &outcomes[0].result {
        heygen_api::batch::JobResult::Completed { session_id, .. } => {
            assert_eq!(session_id.as_deref(), Some(sent.session_id.as_str()));
        }
        other => panic!("{other}"),
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn deliveries_end_jobs_and_polling_stays_at_the_safety_net() {
    let sim = fast().start().await.unwrap();
    let client = sim.client().unwrap();
    let (receiver, deliveries) = common::delivering_receiver(&client).await;

    // Between the receiver and the runner: note when each delivery arrived.
    let arrived = Arc::new(Mutex::new(std::collections::HashMap::new()));
    let (forward, inbox) = tokio::sync::mpsc::channel(64);
    let noted = Arc::clone(&arrived);
    let mut deliveries = deliveries;
    tokio::spawn(async move {
        while let Some(event) = deliveries.recv().await {
            let payload = event.payload().unwrap();
            let id = payload
                .session_id()
                .or(payload.video_id())
                .unwrap()
                .to_string();
            noted.lock().unwrap().insert(id, std::time::Instant::now());
            if forward.send(event).await.is_err() {
                break;
            }
        }
    });

    let mut run = runner(&sim)
        .webhooks(inbox)
        .safety_net(Duration::from_secs(3600))
        .run(futures_util::stream::iter(mixed_jobs(8)))
        .unwrap();
    let mut completed = 0;
    while let Some(outcome) = run.next().await {
        let ended = std::time::Instant::now();
        let heygen_api::batch::JobResult::Completed { session_id, id, .. } = &outcome.result else {
            panic!("{}: {}", outcome.key, outcome.result);
        };
        let id = session_id.clone().unwrap_or_else(|| id.clone());
        let delivered = arrived.lock().unwrap()[&id];
        let took = ended - delivered;
        assert!(took < Duration::from_secs(1), "{}: {took:?}", outcome.key);
        completed += 1;
    }
    assert_eq!(completed, 8);
    let requests = run.summary().requests;
    assert_eq!(requests.polls(), 0, "deliveries, not polls, ended the jobs");
    assert_eq!(requests.video_details, 8);
    drop(receiver);
    sim.shutdown().await;
}

#[tokio::test]
async fn the_deadline_times_jobs_out_and_keeps_them_resumable() {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("run.journal");
    let sim = fast().render_seconds(1_000_000.0).start().await.unwrap();
    let mut run = runner(&sim)
        .journal(&journal)
        .deadline(Duration::from_millis(300))
        .run(futures_util::stream::iter(mixed_jobs(4)))
        .unwrap();
    let outcomes = collect(&mut run).await;
    assert_eq!(names(&outcomes), [("timed_out", 4)].into());
    assert!(run.summary().timed_out());
    assert!(!run.summary().all_completed());
    let counts = JournalSummary::read(&journal).unwrap().counts();
    assert_eq!(counts.get("in_flight"), Some(&4), "{counts:?}");
    sim.shutdown().await;
}

#[tokio::test]
async fn finished_videos_are_downloaded_once() {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("run.journal");
    let videos = dir.path().join("videos");
    let sim = fast().start().await.unwrap();
    let events = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&events);
    let mut run = runner(&sim)
        .journal(&journal)
        .download_dir(&videos)
        .on_event(move |event| {
            if let BatchEvent::Finished { key } = event {
                seen.lock().unwrap().push(key.clone());
            }
        })
        .run(futures_util::stream::iter(mixed_jobs(3)))
        .unwrap();
    let outcomes = collect(&mut run).await;
    assert_eq!(names(&outcomes), [("completed", 3)].into());
    assert_eq!(events.lock().unwrap().len(), 3);
    for i in 0..3 {
        let file = videos.join(format!("job-{i}.mp4"));
        assert!(std::fs::metadata(&file).unwrap().len() > 1000, "{file:?}");
    }
    assert_eq!(run.summary().requests.downloads, 3);

    // Again: finished jobs are skipped; one whose file went missing is fetched again.
    std::fs::remove_file(videos.join("job-1.mp4")).unwrap();
    let mut run = runner(&sim)
        .journal(&journal)
        .download_dir(&videos)
        .run(futures_util::stream::iter(mixed_jobs(3)))
        .unwrap();
    let outcomes = collect(&mut run).await;
    assert_eq!(
        names(&outcomes),
        [("already_finished", 2), ("completed", 1)].into()
    );
    assert!(videos.join("job-1.mp4").exists());
    assert_eq!(run.summary().requests.downloads, 1);
    assert_eq!(run.summary().requests.creates, 0);
    sim.shutdown().await;
}

#[tokio::test]
async fn running_out_of_credit_stops_new_creates_and_reports_what_was_spent() {
    let sim = fast()
        .balance_usd(0.25)
        .usd_per_second(0.05)
        .concurrency_limit(0)
        .start()
        .await
        .unwrap();
    let jobs = (0..6).map(|i| {
        Job::video(CreateVideoRequest::avatar("look_anna_studio").script(format!("Line {i}")))
            .key(format!("v{i}"))
    });
    let mut run = runner(&sim)
        .concurrency(1)
        .run(futures_util::stream::iter(jobs.collect::<Vec<_>>()))
        .unwrap();
    let outcomes = collect(&mut run).await;
    let summary = run.summary();
    // 2 s videos at $0.05/s: two fit in $0.25, the third create is refused, and the rest are
    // not started.
    assert_eq!(
        names(&outcomes),
        [("completed", 2), ("rejected", 1)].into(),
        "{summary:?}"
    );
    assert!(summary
        .stopped_early
        .as_deref()
        .is_some_and(|r| r.contains("insufficient_credit")));
    assert_eq!(summary.credits_used, Some(0.2));
    // Said plainly, in the wallet's currency.
    assert_eq!(summary.balance_unit.as_deref(), Some("usd"));
    let text = summary.to_string();
    assert!(
        text.starts_with("2 completed, 1 failed to start;") && text.contains("0.20 USD spent"),
        "{text}"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn failed_jobs_run_again_on_resume_only_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("run.journal");
    let sim = fast().start().await.unwrap();
    let jobs = |render: &str| {
        vec![
            Job::video_agent(CreateVideoAgentRequest::new("Fine")).key("fine"),
            Job::video_agent(CreateVideoAgentRequest::new(render)).key("render"),
        ]
    };
    let mut run = runner(&sim)
        .journal(&journal)
        .run(futures_util::stream::iter(jobs("[fail:render] please")))
        .unwrap();
    let first = collect(&mut run).await;
    assert_eq!(names(&first), [("completed", 1), ("failed", 1)].into());
    let failed_session = |outcomes: &[JobReport]| {
        outcomes
            .iter()
            .find(|o| o.key == "render")
            .and_then(|o| match &o.result {
                heygen_api::batch::JobResult::Failed { session_id, .. }
                | heygen_api::batch::JobResult::Completed { session_id, .. } => session_id.clone(),
                _ => None,
            })
    };
    let first_session = failed_session(&first).unwrap();

    // Without asking, a failed job stays failed.
    let mut run = runner(&sim)
        .journal(&journal)
        .run(futures_util::stream::iter(jobs("[fail:render] please")))
        .unwrap();
    assert_eq!(
        names(&collect(&mut run).await),
        [("already_finished", 2)].into()
    );
    assert_eq!(run.summary().requests.creates, 0);
    assert!(
        run.summary().to_string().starts_with("2 already done;"),
        "{}",
        run.summary()
    );

    // Asked, it is created again (a new session: a new idempotency key), and the completed
    // one is left alone.
    let mut run = runner(&sim)
        .journal(&journal)
        .retry_failed(true)
        .run(futures_util::stream::iter(jobs("Fine this time")))
        .unwrap();
    let again = collect(&mut run).await;
    assert_eq!(
        names(&again),
        [("already_finished", 1), ("completed", 1)].into()
    );
    assert_eq!(run.summary().requests.creates, 1);
    assert_ne!(failed_session(&again).unwrap(), first_session);
    let read = JournalSummary::read(&journal).unwrap();
    assert_eq!(read.counts(), [("completed", 2)].into());
    sim.shutdown().await;
}

#[tokio::test]
async fn the_journal_records_final_states() {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("run.journal");
    let sim = fast().start().await.unwrap();
    let jobs = vec![
        Job::video_agent(CreateVideoAgentRequest::new("Fine")).key("fine"),
        Job::video_agent(CreateVideoAgentRequest::new("[fail:render] please")).key("render"),
        Job::video_agent(CreateVideoAgentRequest::new("[fail:session] please")).key("session"),
    ];
    let mut run = runner(&sim)
        .journal(&journal)
        .run(futures_util::stream::iter(jobs))
        .unwrap();
    let outcomes = collect(&mut run).await;
    assert_eq!(names(&outcomes), [("completed", 1), ("failed", 2)].into());
    // A failed render is named by its video, beside its session; a session that failed
    // before it had a video, by the session.
    let result = |key: &str| &outcomes.iter().find(|o| o.key == key).unwrap().result;
    let render = result("render");
    assert!(render.session_id().is_some());
    assert_ne!(render.id(), render.session_id(), "{render}");
    let session = result("session");
    assert_eq!(session.kind(), Some(heygen_api::JobKind::VideoAgent));
    assert_eq!(session.id(), session.session_id(), "{session}");
    let read = JournalSummary::read(&journal).unwrap();
    let state = |key: &str| read.jobs[key].finished.as_ref().map(|(state, _)| *state);
    assert_eq!(state("fine"), Some(FinalState::Completed));
    assert_eq!(state("render"), Some(FinalState::Failed));
    assert_eq!(state("session"), Some(FinalState::Failed));
    assert!(read.jobs["session"].finished.as_ref().unwrap().1.is_some());
    sim.shutdown().await;
}

#[tokio::test]
async fn a_job_refused_as_invalid_is_tried_again_once_fixed() {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("run.journal");
    let sim = fast().start().await.unwrap();
    let broken = vec![Job::video(CreateVideoRequest::avatar("look_anna_studio")).key("k")];
    let mut run = runner(&sim)
        .journal(&journal)
        .run(futures_util::stream::iter(broken))
        .unwrap();
    assert_eq!(names(&collect(&mut run).await), [("invalid", 1)].into());
    let fixed =
        vec![Job::video(CreateVideoRequest::avatar("look_anna_studio").script("Now")).key("k")];
    let mut run = runner(&sim)
        .journal(&journal)
        .run(futures_util::stream::iter(fixed))
        .unwrap();
    assert_eq!(names(&collect(&mut run).await), [("completed", 1)].into());
    let read = JournalSummary::read(&journal).unwrap();
    assert_eq!(read.counts(), [("completed", 1)].into());
    sim.shutdown().await;
}

#[tokio::test]
async fn repeated_and_unrelated_deliveries_end_each_job_once() {
    use heygen_api::webhook::parse_unsigned_callback;
    let dir = tempfile::tempdir().unwrap();
    let sim = fast().render_seconds(1.0).start().await.unwrap();
    let (deliveries, inbox) = tokio::sync::mpsc::channel(64);
    let videos = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&videos);
    // Keys that are not file-name safe, and would collide once made so.
    let jobs = ["日本", "中国"]
        .map(|key| Job::video(CreateVideoRequest::avatar("look_anna_studio").script(key)).key(key));
    let mut run = runner(&sim)
        .webhooks(inbox)
        .safety_net(Duration::from_secs(3600))
        .download_dir(dir.path())
        .on_event(move |event| {
            if let BatchEvent::InFlight {
                video_id: Some(video_id),
                ..
            } = event
            {
                seen.lock().unwrap().push(video_id.clone());
            }
        })
        .run(futures_util::stream::iter(jobs))
        .unwrap();
    common::eventually(Duration::from_secs(10), "both jobs in flight", || {
        let videos = Arc::clone(&videos);
        async move { videos.lock().unwrap().len() == 2 }
    })
    .await;
    let ids = videos.lock().unwrap().clone();
    // The deliveries below announce finished renders: wait until they are.
    let client = sim.client().unwrap();
    common::eventually(Duration::from_secs(10), "both renders end", || {
        let (client, ids) = (client.clone(), ids.clone());
        async move {
            for id in &ids {
                match client.videos().get(id.as_str()).await {
                    Ok(video) if video.status.is_terminal() => {}
                    _ => return false,
                }
            }
            true
        }
    })
    .await;
    for video_id in &ids {
        for body in [
            format!(
                r#"{{"event_type":"avatar_video_caption.fail","event_data":{{"video_id":"{video_id}","msg":"no captions"}}}}"#
            ),
            format!(
                r#"{{"event_type":"avatar_video.success","event_data":{{"video_id":"{video_id}"}}}}"#
            ),
            format!(
                r#"{{"event_type":"avatar_video.success","event_data":{{"video_id":"{video_id}"}}}}"#
            ),
        ] {
            deliveries
                .send(parse_unsigned_callback(body.as_bytes()).unwrap())
                .await
                .unwrap();
        }
    }
    let outcomes = collect(&mut run).await;
    assert_eq!(names(&outcomes), [("completed", 2)].into(), "{outcomes:?}");
    let summary = run.summary();
    assert_eq!(summary.requests.video_details, 2);
    assert_eq!(summary.requests.downloads, 2, "two keys, two files");
    let files: BTreeSet<_> = outcomes
        .iter()
        .map(|o| match &o.result {
            heygen_api::batch::JobResult::Completed { files, .. } => files[0].clone(),
            other => panic!("{other}"),
        })
        .collect();
    assert_eq!(files.len(), 2);
    sim.shutdown().await;
}

#[tokio::test]
async fn polls_that_fail_for_good_end_their_job_and_an_empty_video_id_is_no_video() {
    use httpmock::MockServer;
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method("POST").path("/v3/videos");
            then.status(200)
                .json_body(json!({"data": {"video_id": "v1", "status": "pending"}}));
        })
        .await;
    let refused = server
        .mock_async(|when, then| {
            when.method("GET").path("/v3/videos/statuses");
            then.status(403).json_body(json!({"error": {
                "code": "access_denied", "message": "Not yours."}}));
        })
        .await;
    // A session created with `"video_id": ""`: polled as a session, not as a video.
    server
        .mock_async(|when, then| {
            when.method("POST").path("/v3/video-agents");
            then.status(200).json_body(json!({"data": {
                "session_id": "s1", "status": "thinking", "created_at": 1, "video_id": ""}}));
        })
        .await;
    let session = server
        .mock_async(|when, then| {
            when.method("GET").path("/v3/video-agents/s1");
            then.status(200).json_body(json!({"data": {
                "session_id": "s1", "status": "failed", "created_at": 1, "progress": 0,
                "messages": [{"role": "model", "type": "error", "content": "No avatar."}]}}));
        })
        .await;
    let client = common::client(&server.base_url());
    let jobs = vec![
        Job::video(CreateVideoRequest::avatar("look_1").script("Hi")).key("video"),
        Job::video_agent(CreateVideoAgentRequest::new("Hi")).key("agent"),
    ];
    let mut run = BatchRunner::new(client)
        .poll(quick_polls())
        .measure_credits(false)
        .deadline(Duration::from_secs(20))
        .run(futures_util::stream::iter(jobs))
        .unwrap();
    let outcomes = collect(&mut run).await;
    let by_key: std::collections::HashMap<_, _> = outcomes
        .iter()
        .map(|o| (o.key.as_str(), &o.result))
        .collect();
    let reason = by_key["video"].reason().unwrap_or_default();
    assert_eq!(by_key["video"].name(), "failed", "{reason}");
    assert_eq!(by_key["video"].kind(), Some(heygen_api::JobKind::Video));
    assert!(reason.contains("5 times"), "{reason}");
    assert_eq!(refused.calls_async().await, 5);
    // The session failed before it had a video: it is named by the session.
    assert_eq!(by_key["agent"].name(), "failed");
    assert_eq!(by_key["agent"].id(), by_key["agent"].session_id());
    assert!(by_key["agent"].reason().unwrap().contains("No avatar."));
    assert_eq!(session.calls_async().await, 1);
}

#[tokio::test]
async fn unnamed_jobs_keep_their_keys_when_the_list_changes() {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("run.journal");
    let sim = fast().start().await.unwrap();
    let prompt = |text: &str| Job::video_agent(CreateVideoAgentRequest::new(text));
    // Two identical requests are two jobs.
    let first = vec![prompt("Same"), prompt("Same"), prompt("Other")];
    let mut run = runner(&sim)
        .journal(&journal)
        .run(futures_util::stream::iter(first))
        .unwrap();
    let outcomes = collect(&mut run).await;
    let keys: BTreeSet<_> = outcomes.iter().map(|o| o.key.clone()).collect();
    assert_eq!(keys.len(), 3, "{keys:?}");
    assert_eq!(sim.session_count(), 3);
    // A job inserted in front, the rest moved: only the new one is created.
    let second = vec![
        prompt("New"),
        prompt("Other"),
        prompt("Same"),
        prompt("Same"),
    ];
    let mut run = runner(&sim)
        .journal(&journal)
        .run(futures_util::stream::iter(second))
        .unwrap();
    let outcomes = collect(&mut run).await;
    assert_eq!(
        names(&outcomes),
        [("already_finished", 3), ("completed", 1)].into()
    );
    assert_eq!(sim.session_count(), 4);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_refused_credential_stops_new_creates() {
    use httpmock::MockServer;
    let server = MockServer::start_async().await;
    let creates = server
        .mock_async(|when, then| {
            when.method("POST").path("/v3/video-agents");
            then.status(401).json_body(json!({"error": {
                "code": "unauthorized", "message": "Invalid API key."}}));
        })
        .await;
    let jobs = (0..5).map(|i| Job::video_agent(CreateVideoAgentRequest::new(format!("P{i}"))));
    let mut run = BatchRunner::new(common::client(&server.base_url()))
        .concurrency(1)
        .measure_credits(false)
        .run(futures_util::stream::iter(jobs.collect::<Vec<_>>()))
        .unwrap();
    let outcomes = collect(&mut run).await;
    assert_eq!(names(&outcomes), [("rejected", 1)].into());
    assert_eq!(
        creates.calls_async().await,
        1,
        "the other four were not sent"
    );
    assert!(run
        .summary()
        .stopped_early
        .is_some_and(|reason| reason.contains("unauthorized")));
}

/// A job finished in an earlier run comes back with the result it finished with: its kind,
/// its id and session, its typed record (so its URL) and the file it was saved to. So a run
/// dropped after a job ended, before its outcome was taken, loses nothing.
#[tokio::test]
async fn a_job_finished_before_comes_back_with_its_result() {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("run.journal");
    let videos = dir.path().join("videos");
    let sim = fast().start().await.unwrap();
    let jobs = || {
        futures_util::stream::iter(vec![
            Job::video_agent(CreateVideoAgentRequest::new("Hello")).key("agent"),
            Job::video(CreateVideoRequest::avatar("look_anna_studio").script("Hi")).key("direct"),
        ])
    };
    let mut run = runner(&sim)
        .journal(&journal)
        .download_dir(&videos)
        .run(jobs())
        .unwrap();
    let first = collect(&mut run).await;
    assert_eq!(names(&first), [("completed", 2)].into(), "{first:?}");
    let mut run = runner(&sim)
        .journal(&journal)
        .download_dir(&videos)
        .run(jobs())
        .unwrap();
    let again = collect(&mut run).await;
    assert_eq!(names(&again), [("already_finished", 2)].into());
    for key in ["agent", "direct"] {
        let result = |outcomes: &[JobReport]| {
            let found = outcomes.iter().find(|o| o.key == key).unwrap();
            found.result.clone()
        };
        let (before, now) = (result(&first), result(&again));
        assert_eq!(now.kind(), before.kind(), "{key}");
        assert!(now.id().is_some(), "{key}");
        assert_eq!(now.id(), before.id(), "{key}");
        assert_eq!(now.session_id(), before.session_id(), "{key}");
        assert_eq!(now.files(), before.files(), "{key}");
        assert_eq!(now.files().len(), 1, "{key}");
        assert_eq!(now.urls(), before.urls(), "{key}");
        assert!(!now.urls().is_empty(), "{key}");
        let video = now.record().and_then(|r| r.video()).expect("a typed video");
        assert_eq!(Some(video.id.as_str()), before.id(), "{key}");
    }
    let kind = |key: &str| again.iter().find(|o| o.key == key).unwrap().result.kind();
    assert_eq!(kind("agent"), Some(heygen_api::JobKind::VideoAgent));
    assert_eq!(kind("direct"), Some(heygen_api::JobKind::Video));
    sim.shutdown().await;
}

#[tokio::test]
async fn a_finished_job_whose_request_changed_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("run.journal");
    let sim = fast().start().await.unwrap();
    let job = |prompt: &str| Job::video_agent(CreateVideoAgentRequest::new(prompt)).key("intro");
    let mut run = runner(&sim)
        .journal(&journal)
        .run(futures_util::stream::iter(vec![job("Hello")]))
        .unwrap();
    assert_eq!(names(&collect(&mut run).await), [("completed", 1)].into());
    for (prompt, changed) in [("Hello", false), ("Hello, edited", true)] {
        let mut run = runner(&sim)
            .journal(&journal)
            .run(futures_util::stream::iter(vec![job(prompt)]))
            .unwrap();
        let outcomes = collect(&mut run).await;
        match &outcomes[0].result {
            heygen_api::batch::JobResult::AlreadyFinished {
                request_changed, ..
            } => assert_eq!(*request_changed, changed, "{prompt}"),
            other => panic!("{other}"),
        }
        assert_eq!(
            outcomes[0].result.to_string().contains("changed since"),
            changed
        );
    }
    assert_eq!(sim.session_count(), 1);
    sim.shutdown().await;
}

/// The three cases where the runner once disagreed with the single wait: it now drives the
/// same lifecycle, so each ends as a wait ends.
#[tokio::test]
async fn sessions_that_vanish_end_unnamed_or_fail_with_a_video_end_as_a_wait_does() {
    use httpmock::MockServer;
    let server = MockServer::start_async().await;
    for (prompt, session_id, video_id) in [
        ("vanishes", "s_gone", "v_gone"),
        ("unnamed", "s_unnamed", "v_unnamed"),
        ("render fails", "s_fail", "v_fail"),
    ] {
        server
            .mock_async(|when, then| {
                when.method("POST")
                    .path("/v3/video-agents")
                    .body_includes(prompt);
                then.status(200).json_body(json!({"data": {
                    "session_id": session_id, "status": "thinking", "created_at": 1}}));
            })
            .await;
        server
            .mock_async(|when, then| {
                when.method("GET")
                    .path(format!("/v3/video-agents/{session_id}/videos"));
                then.status(200)
                    .json_body(json!({"data": [{"id": video_id, "status": "processing"}],
                    "has_more": false}));
            })
            .await;
    }
    // A session that answers 404: its video is found through the session's videos.
    server
        .mock_async(|when, then| {
            when.method("GET").path("/v3/video-agents/s_gone");
            then.status(404).json_body(json!({"error": {
                "code": "not_found", "message": "No such session."}}));
        })
        .await;
    // Completed without naming its video.
    server
        .mock_async(|when, then| {
            when.method("GET").path("/v3/video-agents/s_unnamed");
            then.status(200).json_body(json!({"data": {
                "session_id": "s_unnamed", "status": "completed", "created_at": 1, "progress": 100}}));
        })
        .await;
    // Failed, with a video that has the failure's details.
    server
        .mock_async(|when, then| {
            when.method("GET").path("/v3/video-agents/s_fail");
            then.status(200).json_body(json!({"data": {
                "session_id": "s_fail", "status": "failed", "created_at": 1, "progress": 100,
                "video_id": "v_fail", "messages": []}}));
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method("GET").path("/v3/videos/statuses");
            then.status(200).json_body(json!({"data": [
                {"video_id": "v_gone", "status": "completed"},
                {"video_id": "v_unnamed", "status": "completed"},
                {"video_id": "v_fail", "status": "failed"}]}));
        })
        .await;
    for (video_id, status) in [
        ("v_gone", "completed"),
        ("v_unnamed", "completed"),
        ("v_fail", "failed"),
    ] {
        server
            .mock_async(|when, then| {
                when.method("GET").path(format!("/v3/videos/{video_id}"));
                then.status(200).json_body(json!({"data": {
                    "id": video_id, "status": status,
                    "video_url": format!("https://files.test/{video_id}.mp4"),
                    "failure_code": (status == "failed").then_some("rendering_failed"),
                    "failure_message": (status == "failed").then_some("The avatar timed out.")}}));
            })
            .await;
    }
    let client = common::client(&server.base_url());
    let jobs = ["vanishes", "unnamed", "render fails"]
        .map(|prompt| Job::video_agent(CreateVideoAgentRequest::new(prompt)).key(prompt));
    let mut run = BatchRunner::new(client)
        .poll(quick_polls())
        .measure_credits(false)
        .deadline(Duration::from_secs(20))
        .run(futures_util::stream::iter(jobs))
        .unwrap();
    let outcomes = collect(&mut run).await;
    let by_key: std::collections::HashMap<_, _> = outcomes
        .iter()
        .map(|o| (o.key.as_str(), &o.result))
        .collect();
    assert_eq!(by_key["vanishes"].name(), "completed", "{outcomes:?}");
    assert_eq!(by_key["unnamed"].name(), "completed", "{outcomes:?}");
    assert_eq!(by_key["render fails"].name(), "failed", "{outcomes:?}");
    // Its video failed: it is named by the video, beside its session.
    assert!(by_key["render fails"].session_id().is_some());
    assert_ne!(
        by_key["render fails"].id(),
        by_key["render fails"].session_id()
    );
    let reason = by_key["render fails"].reason().unwrap_or_default();
    assert!(
        reason.contains("rendering_failed") && reason.contains("The avatar timed out."),
        "{reason}"
    );
}

/// A session poll still out when a delivery moves the job on to its video answers late; that
/// answer is about the session and is dropped, not read as the video's.
#[tokio::test]
async fn a_late_session_answer_is_not_read_as_the_videos() {
    use heygen_api::webhook::parse_unsigned_callback;
    use httpmock::MockServer;
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method("POST").path("/v3/video-agents");
            then.status(200).json_body(json!({"data": {
                "session_id": "s1", "status": "thinking", "created_at": 1}}));
        })
        .await;
    let session_polls = server
        .mock_async(|when, then| {
            when.method("GET").path("/v3/video-agents/s1");
            then.status(200)
                .delay(Duration::from_millis(400))
                .json_body(json!({"data": {
                    "session_id": "s1", "status": "completed", "created_at": 1, "progress": 100}}));
        })
        .await;
    // The video is still rendering whenever it is asked about.
    server
        .mock_async(|when, then| {
            when.method("GET").path("/v3/videos/v1");
            then.status(200)
                .json_body(json!({"data": {"id": "v1", "status": "processing"}}));
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method("GET").path("/v3/videos/statuses");
            then.status(200)
                .json_body(json!({"data": [{"video_id": "v1", "status": "processing"}]}));
        })
        .await;
    let (deliveries, inbox) = tokio::sync::mpsc::channel(4);
    let mut run = BatchRunner::new(common::client(&server.base_url()))
        .poll(quick_polls())
        .webhooks(inbox)
        .safety_net(Duration::from_millis(50))
        .measure_credits(false)
        .deadline(Duration::from_secs(2))
        .run(futures_util::stream::iter([Job::video_agent(
            CreateVideoAgentRequest::new("Late"),
        )
        .key("late")]))
        .unwrap();
    // Once the session poll is out, a delivery names the video.
    common::eventually(Duration::from_secs(5), "the session poll is out", || {
        let polls = &session_polls;
        async move { polls.calls_async().await > 0 }
    })
    .await;
    let delivery =
        br#"{"event_type":"video_agent.success","event_data":{"session_id":"s1","video_id":"v1"}}"#;
    deliveries
        .send(parse_unsigned_callback(delivery).unwrap())
        .await
        .unwrap();
    let outcomes = collect(&mut run).await;
    assert_eq!(outcomes.len(), 1);
    // The video never finished: the job runs until the deadline. Reading the session's late
    // "completed" as the video's would have ended it as failed.
    assert_eq!(outcomes[0].result.name(), "timed_out", "{outcomes:?}");
}

/// A chat-mode session that pauses for a reply ends the job: its kind says so, the journal
/// keeps it as ended, and the same command run again makes no second session. (An avatar
/// waiting for consent is the other case: taken up again, `tests/suite/families.rs`.)
#[tokio::test]
async fn a_session_waiting_for_a_reply_ends_its_job_and_is_not_made_again() {
    use heygen_api::batch::JobResult;
    use heygen_api::types::AgentMode;
    let sim = fast().start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("chat.journal");
    let jobs = || {
        vec![
            Job::video_agent(CreateVideoAgentRequest::new("Talk it over").mode(AgentMode::Chat))
                .key("chat"),
        ]
    };
    let mut first = runner(&sim)
        .journal(&journal)
        .run(futures_util::stream::iter(jobs()))
        .unwrap();
    let outcomes = collect(&mut first).await;
    let JobResult::NeedsInput { session_id, .. } = &outcomes[0].result else {
        panic!("{}", outcomes[0].result);
    };
    assert!(session_id.is_some());
    assert_eq!(
        outcomes[0].result.reason().as_deref(),
        Some("the Video Agent session waits for input")
    );
    drop(first);
    let mut second = runner(&sim)
        .journal(&journal)
        .run(futures_util::stream::iter(jobs()))
        .unwrap();
    let outcomes = collect(&mut second).await;
    match &outcomes[0].result {
        JobResult::AlreadyFinished { state, .. } => assert_eq!(*state, FinalState::NeedsInput),
        other => panic!("{other}"),
    }
    assert_eq!(second.summary().requests.creates, 0);
    assert_eq!(sim.session_count(), 1);
    sim.shutdown().await;
}
