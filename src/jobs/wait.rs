//! Waiting: its options, its one clock, and what each poll reports.
//!
//! The polling is the one poller's (`crate::jobs::job`), for videos and sessions
//! (`crate::jobs::video_wait` types their ends) as for every other kind; what each answer means (follow the session's video, list a vanished session's
//! videos, end) is decided by the job's lifecycle (`crate::jobs::lifecycle`), which the batch
//! runner drives too.
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
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use futures_core::Stream;
use tokio::time::Instant;

use crate::api::error::{Error, Result};
use crate::api::outcome::JobOutcome;
use crate::api::retry::Backoff;
use crate::api::types::{SessionStatus, VideoStatus};

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

    /// The progress callback, if one was given.
    #[cfg_attr(not(heygen_jobs), allow(dead_code))]
    pub(crate) fn progress_callback(&self) -> Option<&ProgressCallback> {
        self.on_progress.as_ref()
    }

    /// How long a wait may last.
    pub(crate) fn max_wait(&self) -> Duration {
        self.deadline
    }

    /// How long before the deadline the final poll happens.
    pub(crate) fn final_margin(&self) -> Duration {
        (self.deadline / 20).min(Duration::from_secs(1))
    }
}

/// The one clock of a wait's polls, shared by every wait (one job, many jobs, a video batch):
/// a poll is made when it is due, except that the last one is made a little before the
/// deadline ([`WaitOptions::final_margin`]) instead of after it, and once that last poll has
/// been made, or the deadline has passed, the wait is over.
#[derive(Debug, Clone)]
pub(crate) struct PollClock {
    deadline: Instant,
    last_call: Instant,
    final_poll_done: bool,
}

impl PollClock {
    /// A clock for a wait that started at `started`.
    pub(crate) fn new(started: Instant, options: &WaitOptions) -> Self {
        let deadline = started + options.max_wait();
        PollClock {
            deadline,
            last_call: deadline - options.final_margin(),
            final_poll_done: false,
        }
    }

    /// The deadline.
    pub(crate) fn deadline(&self) -> Instant {
        self.deadline
    }

    /// The job moved on to a stage polled afresh: it may have a last poll of its own before
    /// the deadline.
    pub(crate) fn reopen(&mut self) {
        self.final_poll_done = false;
    }

    /// Whether the last poll before the deadline has been made (or is the one now due).
    pub(crate) fn last_poll_made(&self) -> bool {
        self.final_poll_done
    }

    /// Sleeps until a poll due at `due` may be made: `false` when the wait is over instead
    /// (its last poll made, or its deadline passed).
    pub(crate) async fn until(&mut self, due: Instant) -> bool {
        let now = Instant::now();
        if self.final_poll_done || now >= self.deadline {
            return false;
        }
        let wake = if due >= self.last_call {
            self.final_poll_done = true;
            self.last_call.max(now)
        } else {
            due
        };
        tokio::time::sleep_until(wake).await;
        true
    }
}

#[cfg(test)]
mod clock_tests {
    use super::*;

    /// Polls come when due; the last one a margin before the deadline, not after it; then
    /// the wait is over. (A video batch's wait had no such last poll: it slept to the deadline
    /// and gave up.)
    #[tokio::test(start_paused = true)]
    async fn the_last_poll_comes_just_before_the_deadline() {
        let start = Instant::now();
        let options = WaitOptions::new().deadline(Duration::from_secs(10));
        let mut clock = PollClock::new(start, &options);
        let mut polls = Vec::new();
        for due in [4, 8, 12, 16] {
            if !clock.until(start + Duration::from_secs(due)).await {
                break;
            }
            polls.push(start.elapsed().as_millis());
        }
        assert_eq!(polls, [4000, 8000, 9500]);
        clock.reopen();
        assert!(clock.until(start + Duration::from_secs(20)).await);
        assert!(!clock.until(start + Duration::from_secs(20)).await);
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
    /// A job of another family (a translation, a lip-sync, ...), until it ends.
    Job,
}

/// The status one poll saw: the session's or the video's, typed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PolledStatus {
    /// A session's status.
    Session(SessionStatus),
    /// A video's status.
    Video(VideoStatus),
    /// The status of a job of another family, as sent by HeyGen (each family has its own
    /// words: `completed` for a translation, `complete` for a voice).
    Job(String),
}

impl PolledStatus {
    /// The status as sent by HeyGen.
    pub fn as_str(&self) -> &str {
        match self {
            PolledStatus::Session(status) => status.as_str(),
            PolledStatus::Video(status) => status.as_str(),
            PolledStatus::Job(status) => status,
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
    /// The job, when waiting on a job of another family.
    pub job_id: Option<String>,
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
    /// The error this poll ended with, if any, when the wait goes on: a temporary one, or a
    /// session's 404 that its videos got past.
    pub error: Option<Arc<Error>>,
}

/// One item of a wait stream. `T` is the job's record, as [`JobOutcome`] has it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum WaitUpdate<T> {
    /// A poll happened (the one that ends the wait too).
    Progress(WaitEvent),
    /// The wait is over; the stream ends after this item.
    Done(JobOutcome<T>),
}

/// A boxed stream of wait updates.
pub type WaitStream<'a, T> = Pin<Box<dyn Stream<Item = Result<WaitUpdate<T>>> + Send + 'a>>;
