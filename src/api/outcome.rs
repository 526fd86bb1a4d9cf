//! How a wait for a video ended: the data a wait produces and
//! [`Error::Wait`](crate::Error::Wait) carries.

use std::fmt;
use std::time::Duration;

use crate::api::types::{MessageType, SessionMessage, VideoAgentSession, VideoDetail};

/// How a wait ended.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum WaitOutcome {
    /// The video is ready.
    Completed {
        /// The session that produced it, when waiting on a session.
        session_id: Option<String>,
        /// The finished video (`video_url` and friends are set).
        video: Box<VideoDetail>,
    },
    /// The video failed to render: see `failure_code` and `failure_message`.
    VideoFailed {
        /// The session that produced it, when waiting on a session.
        session_id: Option<String>,
        /// The failed video.
        video: Box<VideoDetail>,
    },
    /// The session failed before producing a video; its `error` messages say why.
    SessionFailed {
        /// The failed session.
        session: Box<VideoAgentSession>,
    },
    /// The session is paused (`waiting_for_input` or `reviewing`, chat mode) until you send a
    /// message; then wait on it again.
    NeedsInput {
        /// The paused session, with the agent's latest messages.
        session: Box<VideoAgentSession>,
    },
    /// The deadline passed first. The work goes on at HeyGen; wait again to resume.
    TimedOut(TimedOut),
}

/// Where a wait stood when its deadline passed.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct TimedOut {
    /// The session waited on, if any.
    pub session_id: Option<String>,
    /// The video, if it was known.
    pub video_id: Option<String>,
    /// The last status seen.
    pub last_status: Option<String>,
    /// How long the wait lasted.
    pub elapsed: Duration,
    /// How many polls were made.
    pub polls: u32,
}

impl WaitOutcome {
    /// The video, for `Completed` and `VideoFailed`.
    pub fn video(&self) -> Option<&VideoDetail> {
        match self {
            WaitOutcome::Completed { video, .. } | WaitOutcome::VideoFailed { video, .. } => {
                Some(video)
            }
            _ => None,
        }
    }

    /// Whether the video is ready.
    pub fn is_completed(&self) -> bool {
        matches!(self, WaitOutcome::Completed { .. })
    }

    /// The session's error messages, for `SessionFailed`; its latest messages (newest
    /// first) for `NeedsInput`.
    pub fn messages(&self) -> &[SessionMessage] {
        match self {
            WaitOutcome::SessionFailed { session } | WaitOutcome::NeedsInput { session } => {
                &session.messages
            }
            _ => &[],
        }
    }
}

impl fmt::Display for WaitOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WaitOutcome::Completed { video, .. } => write!(f, "video {} completed", video.id),
            WaitOutcome::VideoFailed { video, .. } => {
                write!(f, "video {} failed", video.id)?;
                if let Some(code) = &video.failure_code {
                    write!(f, " ({code})")?;
                }
                if let Some(message) = &video.failure_message {
                    write!(f, ": {message}")?;
                }
                Ok(())
            }
            WaitOutcome::SessionFailed { session } => {
                write!(f, "session {} failed", session.session_id)?;
                let errors: Vec<&str> = session
                    .messages
                    .iter()
                    .filter(|m| m.type_ == MessageType::Error)
                    .map(|m| m.content.as_str())
                    .collect();
                if !errors.is_empty() {
                    write!(f, ": {}", errors.join("; "))?;
                }
                Ok(())
            }
            WaitOutcome::NeedsInput { session } => write!(
                f,
                "session {} is {} and needs a message to continue",
                session.session_id, session.status
            ),
            WaitOutcome::TimedOut(t) => {
                write!(
                    f,
                    "gave up after {} and {} polls",
                    readable_duration(t.elapsed),
                    t.polls
                )?;
                if let Some(status) = &t.last_status {
                    write!(f, " (last status {status})")?;
                }
                Ok(())
            }
        }
    }
}

/// A duration as the crate writes it in messages, and as a person reads it: `1.9s` under a
/// minute, `3m 12s` under an hour, `2h 5m` beyond.
pub fn readable_duration(duration: std::time::Duration) -> String {
    let seconds = duration.as_secs();
    match seconds {
        0..=59 => format!("{:.1}s", duration.as_secs_f64()),
        60..=3599 => format!("{}m {}s", seconds / 60, seconds % 60),
        _ => format!("{}h {}m", seconds / 3600, seconds % 3600 / 60),
    }
}

#[cfg(test)]
mod readable_tests {
    use std::time::Duration;

    #[test]
    fn durations_read_as_a_person_says_them() {
        for (duration, text) in [
            (Duration::from_millis(1_913), "1.9s"),
            (Duration::from_millis(59_940), "59.9s"),
            (Duration::from_secs(192), "3m 12s"),
            (Duration::from_secs(7_500), "2h 5m"),
        ] {
            assert_eq!(super::readable_duration(duration), text);
        }
    }
}
