//! The wait state machine on paused tokio time: a 20-minute wait takes milliseconds.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use futures_util::StreamExt as _;
use serde_json::json;

use super::*;
use crate::api::error::{ApiError, ErrorCode, ErrorResponse};
use crate::api::types::{VideoAgentSession, VideoDetail};
use crate::jobs::wait::WaitEvent;
use std::time::Duration;
use tokio::time::Instant;

/// A scripted source: each call pops the next answer (the last one repeats) and is logged.
#[derive(Clone, Default)]
struct Fake {
    sessions: Arc<Mutex<VecDeque<Result<VideoAgentSession>>>>,
    videos: Arc<Mutex<VecDeque<Result<VideoDetail>>>>,
    calls: Arc<Mutex<Vec<(&'static str, Instant)>>>,
}

fn session(status: &str, video_id: Option<&str>) -> Result<VideoAgentSession> {
    Ok(serde_json::from_value(json!({
        "session_id": "s1", "status": status, "created_at": 1, "progress": 10,
        "video_id": video_id,
        "messages": [{"role": "model", "content": "Which voice do you prefer?", "type": "text"},
                     {"role": "model", "content": "Avatar not available", "type": "error"}]
    }))
    .unwrap())
}

fn video(status: &str) -> Result<VideoDetail> {
    Ok(serde_json::from_value(json!({
        "id": "v1", "status": status, "video_url": "https://files.test/v1.mp4",
        "failure_code": if status == "failed" { json!("rendering_failed") } else { json!(null) },
        "failure_message": if status == "failed" { json!("Avatar rendering timed out") } else { json!(null) }
    }))
    .unwrap())
}

fn api_error(status: u16, code: ErrorCode) -> Error {
    Error::Api(Box::new(ErrorResponse {
        operation: "get_video",
        status: reqwest::StatusCode::from_u16(status).unwrap(),
        error: ApiError::new(code, "scripted"),
        request_id: None,
        retry_after: None,
        body_snippet: None,
        repeatable: true,
    }))
}

impl Fake {
    fn with_sessions(self, answers: Vec<Result<VideoAgentSession>>) -> Self {
        *self.sessions.lock().unwrap() = answers.into();
        self
    }
    fn with_videos(self, answers: Vec<Result<VideoDetail>>) -> Self {
        *self.videos.lock().unwrap() = answers.into();
        self
    }
    fn count(&self, what: &str) -> usize {
        self.calls
            .lock()
            .unwrap()
            .iter()
            .filter(|(w, _)| *w == what)
            .count()
    }
    fn times(&self) -> Vec<Instant> {
        self.calls.lock().unwrap().iter().map(|(_, t)| *t).collect()
    }
    fn next<T: Clone>(queue: &Mutex<VecDeque<Result<T>>>) -> Result<T> {
        let mut queue = queue.lock().unwrap();
        let answer = if queue.len() > 1 {
            queue.pop_front()
        } else {
            queue.front().map(clone_result)
        };
        answer.unwrap_or_else(|| Err(api_error(404, ErrorCode::NotFound)))
    }
}

fn clone_result<T: Clone>(r: &Result<T>) -> Result<T> {
    match r {
        Ok(v) => Ok(v.clone()),
        Err(Error::Api(f)) => Err(Error::Api(f.clone())),
        Err(e) => panic!("unclonable scripted error {e:?}"),
    }
}

impl Source for Fake {
    async fn get(&self, operation: &'static str, _id: String) -> Result<serde_json::Value> {
        if operation == JobKind::VideoAgent.describe().stages[0].get {
            self.calls.lock().unwrap().push(("session", Instant::now()));
            Fake::next(&self.sessions).map(|s| serde_json::to_value(s).unwrap())
        } else {
            assert_eq!(operation, JobKind::Video.get_operation());
            self.calls.lock().unwrap().push(("video", Instant::now()));
            Fake::next(&self.videos).map(|v| serde_json::to_value(v).unwrap())
        }
    }
    async fn list(&self, _operation: &'static str, _id: String) -> Result<serde_json::Value> {
        self.calls
            .lock()
            .unwrap()
            .push(("session_videos", Instant::now()));
        let video = Fake::next(&self.videos)?;
        Ok(json!({"data": [video]}))
    }
    async fn bulk(
        &self,
        _stage: &'static crate::api::kinds::Stage,
        _ids: Vec<String>,
    ) -> Option<Result<serde_json::Value>> {
        panic!("one job is never polled in bulk")
    }
}

/// Waiting on video `v1` alone, without a session.
fn only_video() -> Phase {
    Phase::Video {
        session_id: None,
        video_id: "v1".into(),
    }
}

fn quiet() -> WaitOptions {
    WaitOptions::new().jitter(0.0)
}

#[tokio::test(start_paused = true)]
async fn polls_the_session_until_a_video_then_the_video() {
    let fake = Fake::default()
        .with_sessions(vec![
            session("thinking", None),
            session("thinking", None),
            session("generating", Some("v1")),
            // Sessions have been seen answering 404 once the video is known: never asked.
            Err(api_error(404, ErrorCode::NotFound)),
        ])
        .with_videos(vec![
            video("pending"),
            video("processing"),
            video("processing"),
            video("completed"),
        ]);
    let events = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&events);
    let options = quiet().on_progress(move |e: &WaitEvent| seen.lock().unwrap().push(e.clone()));
    let outcome = run::<_, AgentRecord>(fake.clone(), Phase::Session("s1".into()), options)
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
    assert_eq!(fake.count("session"), 3);
    assert_eq!(fake.count("video"), 4);
    let events = events.lock().unwrap();
    let statuses: Vec<_> = events
        .iter()
        .map(|e| (e.status.as_ref().map_or("", |s| s.as_str()), e.changed))
        .collect();
    assert_eq!(
        statuses,
        [
            ("thinking", true),
            ("thinking", false),
            ("generating", true),
            ("pending", true),
            ("processing", true),
            ("processing", false),
            // The poll that ends the wait is reported too.
            ("completed", true),
        ]
    );
    assert_eq!(events[2].video_id.as_deref(), Some("v1"));
    assert_eq!(events.last().unwrap().polls, 7);
    // 2 s, 3 s between session polls; the video is polled at once, then 2 s, 3 s, 4.5 s.
    let t = fake.times();
    let gaps: Vec<_> = t.windows(2).map(|w| (w[1] - w[0]).as_millis()).collect();
    assert_eq!(gaps, [2000, 3000, 0, 2000, 3000, 4500]);
}

#[tokio::test(start_paused = true)]
async fn a_twenty_minute_wait_times_out_just_before_its_deadline() {
    let fake = Fake::default().with_videos(vec![video("processing")]);
    let begun = Instant::now();
    let real = std::time::Instant::now();
    let start = only_video();
    let outcome = run::<_, AgentRecord>(fake.clone(), start, WaitOptions::new())
        .await
        .unwrap();
    let JobOutcome::TimedOut(t) = &outcome else {
        panic!("{outcome}")
    };
    let deadline = begun + Duration::from_secs(20 * 60);
    let last = *fake.times().last().unwrap();
    assert!(last < deadline, "the final poll came after the deadline");
    assert!(
        deadline - last <= Duration::from_secs(1),
        "the final poll came {:?} early",
        deadline - last
    );
    assert_eq!(t.id.as_str(), "v1");
    assert_eq!(t.last_status.as_deref(), Some("processing"));
    assert_eq!(t.polls as usize, fake.count("video"));
    // 2 s growing to 30 s: about 50 polls instead of 600 at a fixed 2 s.
    assert!((35..=70).contains(&t.polls), "{} polls", t.polls);
    assert!(t.elapsed <= Duration::from_secs(20 * 60));
    assert!(
        real.elapsed() < Duration::from_secs(5),
        "paused time should make this instant"
    );
}

#[tokio::test(start_paused = true)]
async fn a_failed_video_and_a_failed_session_are_distinct_outcomes() {
    let fake = Fake::default().with_videos(vec![video("processing"), video("failed")]);
    let outcome = run::<_, AgentRecord>(fake, only_video(), quiet())
        .await
        .unwrap();
    let JobOutcome::Failed(AgentRecord::Video { video, .. }) = &outcome else {
        panic!("{outcome}")
    };
    assert_eq!(video.failure_code.as_deref(), Some("rendering_failed"));
    assert!(outcome.to_string().contains("Avatar rendering timed out"));
    assert!(matches!(outcome.clone().into_video(), Err(Error::Wait(_))));

    let fake =
        Fake::default().with_sessions(vec![session("thinking", None), session("failed", None)]);
    let outcome = run::<_, AgentRecord>(fake, Phase::Session("s1".into()), quiet())
        .await
        .unwrap();
    assert!(
        matches!(outcome, JobOutcome::Failed(AgentRecord::Session(_))),
        "{outcome}"
    );
    assert!(
        outcome.to_string().contains("Avatar not available"),
        "{outcome}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_paused_chat_session_needs_input() {
    for status in ["reviewing", "waiting_for_input"] {
        let fake =
            Fake::default().with_sessions(vec![session("thinking", None), session(status, None)]);
        let outcome = run::<_, AgentRecord>(fake, Phase::Session("s1".into()), quiet())
            .await
            .unwrap();
        let JobOutcome::NeedsInput(AgentRecord::Session(session)) = &outcome else {
            panic!("{outcome}")
        };
        assert_eq!(session.status.as_str(), status);
        assert_eq!(outcome.messages()[0].content, "Which voice do you prefer?");
    }
}

#[tokio::test(start_paused = true)]
async fn unknown_statuses_count_as_running() {
    let fake = Fake::default()
        .with_sessions(vec![
            session("pondering", None),
            session("generating", Some("v1")),
        ])
        .with_videos(vec![video("waiting"), video("queued"), video("completed")]);
    let outcome = run::<_, AgentRecord>(fake.clone(), Phase::Session("s1".into()), quiet())
        .await
        .unwrap();
    assert!(outcome.is_completed(), "{outcome}");
    assert_eq!(fake.count("video"), 3);
}

#[tokio::test(start_paused = true)]
async fn retryable_errors_do_not_end_the_wait_but_others_do() {
    let fake = Fake::default().with_videos(vec![
        Err(api_error(429, ErrorCode::RateLimitExceeded)),
        Err(api_error(503, ErrorCode::InternalError)),
        video("completed"),
    ]);
    let events = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&events);
    let options = quiet().on_progress(move |e: &WaitEvent| seen.lock().unwrap().push(e.clone()));
    let outcome = run::<_, AgentRecord>(fake, only_video(), options)
        .await
        .unwrap();
    assert!(outcome.is_completed());
    {
        let events = events.lock().unwrap();
        assert_eq!(events.len(), 3);
        assert!(events[..2]
            .iter()
            .all(|e| e.error.is_some() && e.status.is_none()));
        assert!(events[2].error.is_none());
    }

    let fake = Fake::default().with_videos(vec![Err(api_error(401, ErrorCode::Unauthorized))]);
    let error = run::<_, AgentRecord>(fake, only_video(), quiet())
        .await
        .unwrap_err();
    assert_eq!(error.api_error().unwrap().code, ErrorCode::Unauthorized);
}

#[tokio::test(start_paused = true)]
async fn a_completed_session_without_a_video_id_asks_for_its_videos() {
    let fake = Fake::default()
        .with_sessions(vec![session("completed", None)])
        .with_videos(vec![video("completed")]);
    let outcome = run::<_, AgentRecord>(fake.clone(), Phase::Session("s1".into()), quiet())
        .await
        .unwrap();
    assert!(outcome.is_completed());
    assert_eq!(fake.count("session_videos"), 1);
}

#[tokio::test(start_paused = true)]
async fn dropping_the_wait_stops_polling() {
    let fake = Fake::default().with_videos(vec![video("processing")]);
    let start = only_video();
    let waited = tokio::time::timeout(
        Duration::from_secs(60),
        run::<_, AgentRecord>(fake.clone(), start, quiet()),
    )
    .await;
    assert!(
        waited.is_err(),
        "the wait should still be running after a minute"
    );
    let polls = fake.count("video");
    assert!(polls > 3);
    tokio::time::sleep(Duration::from_secs(3600)).await;
    assert_eq!(
        fake.count("video"),
        polls,
        "polling went on after the future was dropped"
    );
}

#[tokio::test(start_paused = true)]
async fn the_stream_yields_each_poll_then_the_outcome() {
    let fake = Fake::default().with_videos(vec![
        video("pending"),
        video("processing"),
        video("completed"),
    ]);
    let updates: Vec<_> = stream::<_, AgentRecord>(
        fake,
        Phase::Video {
            session_id: Some("s1".into()),
            video_id: "v1".into(),
        },
        quiet(),
    )
    .collect()
    .await;
    assert_eq!(updates.len(), 4);
    let statuses: Vec<_> = updates[..3]
        .iter()
        .map(|u| match u {
            Ok(WaitUpdate::Progress(e)) => {
                e.status.as_ref().map_or(String::new(), |s| s.to_string())
            }
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(statuses, ["pending", "processing", "completed"]);
    assert!(matches!(
        &updates[3],
        Ok(WaitUpdate::Done(JobOutcome::Completed(_)))
    ));
}

#[test]
fn intervals_grow_to_the_maximum_and_jitter_is_bounded() {
    let schedule = WaitOptions::new().schedule();
    assert_eq!(schedule.nominal(0), Duration::from_secs(2));
    assert_eq!(schedule.nominal(1), Duration::from_secs(3));
    assert_eq!(schedule.nominal(20), Duration::from_secs(30));
    for n in [0, 3, 20] {
        let nominal = schedule.nominal(n).as_secs_f64();
        for _ in 0..100 {
            let j = schedule.wait(n).as_secs_f64();
            assert!(
                j >= nominal * 0.9 - 1e-9 && j <= nominal * 1.1 + 1e-9,
                "{n}: {j}"
            );
        }
    }
    let flat = WaitOptions::new().backoff_factor(0.2).schedule();
    assert_eq!(
        flat.nominal(5),
        Duration::from_secs(2),
        "a factor below 1 counts as 1"
    );
}

#[tokio::test(start_paused = true)]
async fn a_session_failed_by_its_render_reports_the_video_failure() {
    let fake = Fake::default()
        .with_sessions(vec![session("failed", Some("v1"))])
        .with_videos(vec![video("failed")]);
    let outcome = run::<_, AgentRecord>(fake.clone(), Phase::Session("s1".into()), quiet())
        .await
        .unwrap();
    let JobOutcome::Failed(AgentRecord::Video { video, session_id }) = &outcome else {
        panic!("{outcome}")
    };
    assert_eq!(session_id.as_deref(), Some("s1"));
    assert_eq!(video.failure_code.as_deref(), Some("rendering_failed"));
    assert_eq!(fake.count("video"), 1);
}

#[tokio::test(start_paused = true)]
async fn a_session_that_vanishes_is_followed_through_its_videos() {
    let fake = Fake::default()
        .with_sessions(vec![
            session("thinking", None),
            Err(api_error(404, ErrorCode::NotFound)),
        ])
        .with_videos(vec![video("completed")]);
    let outcome = run::<_, AgentRecord>(fake.clone(), Phase::Session("s1".into()), quiet())
        .await
        .unwrap();
    assert!(outcome.is_completed(), "{outcome}");
    assert_eq!(fake.count("session_videos"), 1);

    // A session that never existed stays an error.
    let fake = Fake::default().with_sessions(vec![Err(api_error(404, ErrorCode::NotFound))]);
    *fake.videos.lock().unwrap() = VecDeque::from(vec![Err(api_error(404, ErrorCode::NotFound))]);
    let error = run::<_, AgentRecord>(fake, Phase::Session("s1".into()), quiet())
        .await
        .unwrap_err();
    assert_eq!(error.status().map(|s| s.as_u16()), Some(404));
}
