//! Waiting for a video: poll until it is done, failed, needs input, or the deadline passes.
//!
//! HeyGen documents two phases: poll the session until it has a `video_id`, then poll the video
//! until it is `completed` or `failed`. The session is not polled again once the video is known
//! (sessions have been seen answering 404 while their video finishes).
//!
//! - Unknown statuses count as still running.
//! - Retryable failures (429, 5xx, transport, per-request timeouts) do not end the wait; the next
//!   poll happens on schedule, within the deadline.
//! - The schedule starts at [`WaitOptions::initial_interval`] and grows by
//!   [`WaitOptions::backoff_factor`] up to [`WaitOptions::max_interval`] (2 s → 30 s by default,
//!   ×1.5, ±10 % jitter). The final poll happens just before the deadline, never after it.
//! - Dropping the future (or the stream) stops polling at once.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use futures_core::Stream;
use tokio::time::Instant;

use crate::error::{Error, Result};
pub use crate::outcome::{TimedOut, WaitOutcome};
use crate::retry::Backoff;
use crate::types::{SessionStatus, VideoAgentSession, VideoDetail, VideoStatus};

/// How long and how often to poll.
///
/// ```
/// use std::time::Duration;
/// use heygen_api::WaitOptions;
///
/// let options = WaitOptions::new()
///     .deadline(Duration::from_secs(30 * 60))
///     .on_progress(|event| eprintln!("{:?} {:?}% after {:?}", event.status, event.progress, event.elapsed));
/// ```
#[derive(Clone)]
#[must_use]
pub struct WaitOptions {
    deadline: Duration,
    initial_interval: Duration,
    backoff_factor: f64,
    max_interval: Duration,
    jitter: f64,
    on_progress: Option<ProgressCallback>,
}

/// A wait progress callback.
type ProgressCallback = Arc<dyn Fn(&WaitEvent) + Send + Sync>;

impl fmt::Debug for WaitOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitOptions")
            .field("deadline", &self.deadline)
            .field("initial_interval", &self.initial_interval)
            .field("backoff_factor", &self.backoff_factor)
            .field("max_interval", &self.max_interval)
            .field("jitter", &self.jitter)
            .field("on_progress", &self.on_progress.is_some())
            .finish()
    }
}

impl Default for WaitOptions {
    fn default() -> Self {
        WaitOptions {
            deadline: Duration::from_secs(20 * 60),
            initial_interval: Duration::from_secs(2),
            backoff_factor: 1.5,
            max_interval: Duration::from_secs(30),
            jitter: 0.1,
            on_progress: None,
        }
    }
}

impl WaitOptions {
    /// The defaults: 20-minute deadline, polls every 2 s growing ×1.5 to 30 s, ±10 % jitter.
    pub fn new() -> Self {
        WaitOptions::default()
    }

    /// Gives up after this long (default 20 min).
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }

    /// The wait before the second poll (default 2 s).
    pub fn initial_interval(mut self, interval: Duration) -> Self {
        self.initial_interval = interval;
        self
    }

    /// How much the wait grows after each poll (default 1.5; values below 1 count as 1).
    pub fn backoff_factor(mut self, factor: f64) -> Self {
        self.backoff_factor = factor;
        self
    }

    /// The longest wait between polls (default 30 s).
    pub fn max_interval(mut self, interval: Duration) -> Self {
        self.max_interval = interval;
        self
    }

    /// Randomizes each wait by up to this fraction either way (default 0.1; clamped to 0–0.5).
    pub fn jitter(mut self, fraction: f64) -> Self {
        self.jitter = fraction;
        self
    }

    /// Called after every poll.
    pub fn on_progress(mut self, callback: impl Fn(&WaitEvent) + Send + Sync + 'static) -> Self {
        self.on_progress = Some(Arc::new(callback));
        self
    }

    /// The schedule of polls: the same kind of backoff as retries, with the wait's own
    /// values.
    pub(crate) fn schedule(&self) -> Backoff {
        Backoff {
            initial: self.initial_interval,
            factor: self.backoff_factor,
            max: self.max_interval,
            jitter: self.jitter,
        }
    }

    /// How long a wait may last.
    pub(crate) fn max_wait(&self) -> Duration {
        self.deadline
    }

    /// How long before the deadline the final poll happens.
    fn final_margin(&self) -> Duration {
        (self.deadline / 20).min(Duration::from_secs(1))
    }
}

/// Which resource a poll looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum WaitPhase {
    /// The session, until it has a `video_id`.
    Session,
    /// The video, until it is done.
    Video,
}

/// The status one poll saw: the session's or the video's, typed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PolledStatus {
    /// A session's status.
    Session(SessionStatus),
    /// A video's status.
    Video(VideoStatus),
}

impl PolledStatus {
    /// The status as sent by HeyGen.
    pub fn as_str(&self) -> &str {
        match self {
            PolledStatus::Session(status) => status.as_str(),
            PolledStatus::Video(status) => status.as_str(),
        }
    }
}

impl fmt::Display for PolledStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What one poll saw.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct WaitEvent {
    /// Which resource was polled.
    pub phase: WaitPhase,
    /// The session, when waiting on one.
    pub session_id: Option<String>,
    /// The video, once known.
    pub video_id: Option<String>,
    /// The status seen (`None` when the poll failed and will be retried).
    pub status: Option<PolledStatus>,
    /// Whether the status differs from the previous poll's.
    pub changed: bool,
    /// The session's progress (0–100), when reported.
    pub progress: Option<i64>,
    /// How many polls have been made so far, this one included.
    pub polls: u32,
    /// Time since the wait started.
    pub elapsed: Duration,
    /// The retryable error this poll ended with, if any (the wait goes on).
    pub error: Option<Arc<Error>>,
}

/// One item of a wait stream.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum WaitUpdate {
    /// A poll happened; the wait goes on.
    Progress(WaitEvent),
    /// The wait is over; the stream ends after this item.
    Done(WaitOutcome),
}

impl WaitOutcome {
    /// The finished video, or [`Error::Wait`] describing why there is none.
    pub fn into_video(self) -> Result<VideoDetail> {
        match self {
            WaitOutcome::Completed { video, .. } => Ok(*video),
            other => Err(Error::Wait(Box::new(other))),
        }
    }
}

/// Where the waiter gets its statuses from (the client, or a fake in tests).
pub(crate) trait Source: Send + Sync {
    fn session(&self, id: &str) -> impl Future<Output = Result<VideoAgentSession>> + Send;
    fn video(&self, id: &str) -> impl Future<Output = Result<VideoDetail>> + Send;
    fn session_videos(&self, id: &str) -> impl Future<Output = Result<Vec<VideoDetail>>> + Send;
}

impl Source for crate::Client {
    async fn session(&self, id: &str) -> Result<VideoAgentSession> {
        self.video_agents().get(id).await
    }
    async fn video(&self, id: &str) -> Result<VideoDetail> {
        self.videos().get(id).await
    }
    async fn session_videos(&self, id: &str) -> Result<Vec<VideoDetail>> {
        Ok(self.video_agents().videos(id).await?.items)
    }
}

/// What is being polled: the session until it has a video, then the video. A wait starts in
/// either phase.
#[derive(Debug, Clone)]
pub(crate) enum Phase {
    Session(String),
    Video {
        session_id: Option<String>,
        video_id: String,
    },
}

impl Phase {
    /// The session and video ids known in this phase.
    fn ids(&self) -> (Option<String>, Option<String>) {
        match self {
            Phase::Session(id) => (Some(id.clone()), None),
            Phase::Video {
                session_id,
                video_id,
            } => (session_id.clone(), Some(video_id.clone())),
        }
    }
}

enum Step {
    Event(WaitEvent),
    Done(WaitOutcome),
}

struct Waiter<S> {
    source: S,
    options: WaitOptions,
    phase: Phase,
    started: Instant,
    deadline: Instant,
    /// Polls made in the current phase, for the schedule.
    phase_polls: u32,
    polls: u32,
    last_status: Option<PolledStatus>,
    /// When the next poll is due (`None`: now).
    next_poll: Option<Instant>,
    final_poll_done: bool,
}

impl<S: Source> Waiter<S> {
    fn new(source: S, start: Phase, options: WaitOptions) -> Self {
        let started = Instant::now();
        Waiter {
            source,
            deadline: started + options.deadline,
            phase_polls: 0,
            options,
            phase: start,
            started,
            polls: 0,
            last_status: None,
            next_poll: None,
            final_poll_done: false,
        }
    }

    fn timed_out(&self) -> WaitOutcome {
        let (session_id, video_id) = self.phase.ids();
        WaitOutcome::TimedOut(TimedOut {
            session_id,
            video_id,
            last_status: self.last_status.as_ref().map(|s| s.as_str().to_string()),
            elapsed: self.started.elapsed(),
            polls: self.polls,
        })
    }

    /// Sleeps until the next poll is due, or reports the timeout.
    async fn sleep(&mut self) -> Option<WaitOutcome> {
        let last_call = self.deadline - self.options.final_margin();
        if let Some(due) = self.next_poll {
            let now = Instant::now();
            if self.final_poll_done || now >= self.deadline {
                return Some(self.timed_out());
            }
            let wake = if due >= last_call {
                self.final_poll_done = true;
                last_call.max(now)
            } else {
                due
            };
            tokio::time::sleep_until(wake).await;
        }
        None
    }

    fn schedule(&mut self) {
        let wait = self.options.schedule().wait(self.phase_polls);
        self.next_poll = Some(Instant::now() + wait);
        self.phase_polls += 1;
    }

    async fn step(&mut self) -> Result<Step> {
        if let Some(outcome) = self.sleep().await {
            return Ok(Step::Done(outcome));
        }
        self.polls += 1;
        let remaining = self.deadline.saturating_duration_since(Instant::now());
        match &self.phase {
            Phase::Session(id) => {
                let id = id.clone();
                let polled = tokio::time::timeout(remaining, self.source.session(&id)).await;
                let session = match polled {
                    Err(_elapsed) => return Ok(Step::Done(self.timed_out())),
                    Ok(Err(e)) if e.is_retryable() => {
                        return Ok(self.failed_poll(WaitPhase::Session, e))
                    }
                    Ok(Err(e)) if e.status() == Some(reqwest::StatusCode::NOT_FOUND) => {
                        // Sessions have been seen answering 404 as soon as their video exists:
                        // ask for the session's videos before giving up.
                        return self.video_of_vanished_session(id, remaining, e).await;
                    }
                    Ok(Err(e)) => return Err(e),
                    Ok(Ok(session)) => session,
                };
                let mut event = self.event(
                    WaitPhase::Session,
                    Some(PolledStatus::Session(session.status.clone())),
                    Some(i64::from(session.progress)),
                );
                let known_video = session.video_id.clone().filter(|v| !v.is_empty());
                if session.status == SessionStatus::Failed {
                    if let Some(video_id) = known_video {
                        // The render failed: the video has the failure details.
                        self.follow_video(id, video_id);
                        return Ok(Step::Event(event));
                    }
                    return Ok(Step::Done(WaitOutcome::SessionFailed {
                        session: Box::new(session),
                    }));
                }
                if session.status.needs_input() {
                    return Ok(Step::Done(WaitOutcome::NeedsInput {
                        session: Box::new(session),
                    }));
                }
                let mut video_id = session.video_id.clone().filter(|v| !v.is_empty());
                if video_id.is_none() && session.status == SessionStatus::Completed {
                    // Completed without a video id: ask the session for its videos.
                    if let Ok(Ok(videos)) =
                        tokio::time::timeout(remaining, self.source.session_videos(&id)).await
                    {
                        video_id = videos.into_iter().next().map(|v| v.id);
                    }
                }
                event.video_id.clone_from(&video_id);
                match video_id {
                    Some(video_id) => self.follow_video(id, video_id),
                    None => self.schedule(),
                }
                Ok(Step::Event(event))
            }
            Phase::Video {
                session_id,
                video_id,
            } => {
                let (session_id, video_id) = (session_id.clone(), video_id.clone());
                let polled = tokio::time::timeout(remaining, self.source.video(&video_id)).await;
                let video = match polled {
                    Err(_elapsed) => return Ok(Step::Done(self.timed_out())),
                    Ok(Err(e)) if e.is_retryable() => {
                        return Ok(self.failed_poll(WaitPhase::Video, e))
                    }
                    Ok(Err(e)) => return Err(e),
                    Ok(Ok(video)) => video,
                };
                let event = self.event(
                    WaitPhase::Video,
                    Some(PolledStatus::Video(video.status.clone())),
                    None,
                );
                match video.status {
                    VideoStatus::Completed => Ok(Step::Done(WaitOutcome::Completed {
                        session_id,
                        video: Box::new(video),
                    })),
                    VideoStatus::Failed => Ok(Step::Done(WaitOutcome::VideoFailed {
                        session_id,
                        video: Box::new(video),
                    })),
                    _ => {
                        self.schedule();
                        Ok(Step::Event(event))
                    }
                }
            }
        }
    }

    async fn video_of_vanished_session(
        &mut self,
        id: String,
        remaining: Duration,
        error: Error,
    ) -> Result<Step> {
        let videos = tokio::time::timeout(remaining, self.source.session_videos(&id)).await;
        let Ok(Ok(videos)) = videos else {
            return Err(error);
        };
        let Some(video_id) = videos.into_iter().next().map(|v| v.id) else {
            return Err(error);
        };
        tracing::debug!(
            session_id = id.as_str(),
            video_id = video_id.as_str(),
            "session answered 404; following its video"
        );
        let mut event = self.event(WaitPhase::Session, None, None);
        event.video_id = Some(video_id.clone());
        event.error = Some(Arc::new(error));
        self.follow_video(id, video_id);
        Ok(Step::Event(event))
    }

    /// Switches from the session to its video, polled right away on a fresh schedule.
    fn follow_video(&mut self, session_id: String, video_id: String) {
        self.phase = Phase::Video {
            session_id: Some(session_id),
            video_id,
        };
        self.next_poll = None;
        self.phase_polls = 0;
        self.final_poll_done = false;
    }

    fn failed_poll(&mut self, phase: WaitPhase, error: Error) -> Step {
        tracing::debug!(error = %error, "poll failed; waiting goes on");
        let mut event = self.event(phase, None, None);
        event.changed = false;
        event.error = Some(Arc::new(error));
        self.schedule();
        Step::Event(event)
    }

    fn event(
        &mut self,
        phase: WaitPhase,
        status: Option<PolledStatus>,
        progress: Option<i64>,
    ) -> WaitEvent {
        let changed = status.is_some() && self.last_status != status;
        if status.is_some() {
            self.last_status.clone_from(&status);
        }
        let (session_id, video_id) = self.phase.ids();
        WaitEvent {
            phase,
            session_id,
            video_id,
            status,
            changed,
            progress,
            polls: self.polls,
            elapsed: self.started.elapsed(),
            error: None,
        }
    }
}

/// A boxed stream of wait updates.
pub type WaitStream<'a> = Pin<Box<dyn Stream<Item = Result<WaitUpdate>> + Send + 'a>>;

/// Streams the wait: a `Progress` item per poll, then one `Done` (or an error) and the end.
pub(crate) fn stream<'a, S: Source + 'a>(
    source: S,
    start: Phase,
    options: WaitOptions,
) -> WaitStream<'a> {
    let waiter = Waiter::new(source, start, options);
    Box::pin(futures_util::stream::unfold(
        Some(waiter),
        |state| async move {
            let mut waiter = state?;
            match waiter.step().await {
                Ok(Step::Event(event)) => {
                    if let Some(callback) = &waiter.options.on_progress {
                        callback(&event);
                    }
                    Some((Ok(WaitUpdate::Progress(event)), Some(waiter)))
                }
                Ok(Step::Done(outcome)) => Some((Ok(WaitUpdate::Done(outcome)), None)),
                Err(error) => Some((Err(error), None)),
            }
        },
    ))
}

/// Runs the wait to its end, reporting progress to the options' callback.
pub(crate) async fn run<S: Source>(
    source: S,
    start: Phase,
    options: WaitOptions,
) -> Result<WaitOutcome> {
    use futures_util::StreamExt as _;
    let mut updates = stream(source, start, options);
    while let Some(update) = updates.next().await {
        if let WaitUpdate::Done(outcome) = update? {
            return Ok(outcome);
        }
    }
    // The stream always ends with `Done` or an error; this is unreachable in practice.
    Err(Error::invalid("wait", "ended without an outcome"))
}

#[cfg(test)]
mod tests;
