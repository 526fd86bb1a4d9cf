//! How a wait ended, for every kind of job: the one outcome type ([`JobOutcome`]), the data a
//! wait produces and [`Error::Wait`](crate::Error::Wait) carries. How an outcome becomes a
//! `Result` is `ended.rs`'s (this module names no error).

use std::fmt;
use std::time::Duration;

use serde_json::Value;

use crate::api::kinds::JobKind;
use crate::api::types::{MessageType, SessionMessage, VideoAgentSession, VideoDetail};

/// How the wait for a job ended. `T` is the job's record as the stage it ended at answers it:
/// [`VideoDetail`] for a video, [`AgentRecord`] for a Video Agent session, a family's record
/// (`types::VideoTranslation`, `types::Lipsync`, ...) from its handle, JSON from
/// [`Client::wait_for_job`](crate::Client::wait_for_job).
///
/// [`into_result`](Self::into_result) turns it into a `Result`: the record when it completed,
/// else [`Error::Wait`](crate::Error::Wait) saying how it ended.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum JobOutcome<T> {
    /// The job ended well; its record has the results' URLs.
    Completed(T),
    /// The job ended badly; its record says why.
    Failed(T),
    /// The job is paused until you act (a chat-mode session waiting for a message, an avatar
    /// waiting for consent).
    NeedsInput(T),
    /// The deadline passed first. The job goes on at HeyGen; wait again to resume.
    TimedOut(JobTimedOut),
}

/// Where a job's wait stood when its deadline passed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct JobTimedOut {
    /// The kind of job.
    pub kind: JobKind,
    /// The job, by the id it was waited for by (a session's, for a Video Agent job).
    pub id: String,
    /// The id of the later stage it had reached, if any (a session's video).
    pub reached: Option<String>,
    /// The last status seen.
    pub last_status: Option<String>,
    /// How long the wait lasted.
    pub elapsed: Duration,
    /// How many polls were made for it.
    pub polls: u32,
}

/// A Video Agent job's record: its video once it has one, else its session.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum AgentRecord {
    /// The session's video: rendered (completed) or not (failed; see `failure_code` and
    /// `failure_message`).
    Video {
        /// The session that made it.
        session_id: Option<String>,
        /// The video.
        video: Box<VideoDetail>,
    },
    /// The session, which ended before it had a video (failed: its `error` messages say why),
    /// or paused for a message (`waiting_for_input`, `reviewing`).
    Session(Box<VideoAgentSession>),
}

/// As HeyGen sent it: the video's record, or the session's.
impl serde::Serialize for AgentRecord {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        match self {
            AgentRecord::Video { video, .. } => video.serialize(serializer),
            AgentRecord::Session(session) => session.serialize(serializer),
        }
    }
}

impl AgentRecord {
    /// The video, once the session has one.
    pub fn video(&self) -> Option<&VideoDetail> {
        match self {
            AgentRecord::Video { video, .. } => Some(video),
            AgentRecord::Session(_) => None,
        }
    }

    /// The session, when the job ended before its video.
    pub fn session(&self) -> Option<&VideoAgentSession> {
        match self {
            AgentRecord::Session(session) => Some(session),
            AgentRecord::Video { .. } => None,
        }
    }

    /// The session's id, when known.
    pub fn session_id(&self) -> Option<&str> {
        match self {
            AgentRecord::Session(session) => Some(&session.session_id),
            AgentRecord::Video { session_id, .. } => session_id.as_deref(),
        }
    }

    /// The session's latest messages (newest first), when the job ended before its video: the
    /// errors of a failed session, the question of a paused one.
    pub fn messages(&self) -> &[SessionMessage] {
        match self {
            AgentRecord::Session(session) => &session.messages,
            AgentRecord::Video { .. } => &[],
        }
    }
}

impl<T> JobOutcome<T> {
    /// The job's record, unless the wait timed out.
    pub fn record(&self) -> Option<&T> {
        match self {
            JobOutcome::Completed(t) | JobOutcome::Failed(t) | JobOutcome::NeedsInput(t) => Some(t),
            JobOutcome::TimedOut(_) => None,
        }
    }

    /// Whether the job ended well.
    pub fn is_completed(&self) -> bool {
        matches!(self, JobOutcome::Completed(_))
    }

    /// The outcome with its record changed by `f`.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> JobOutcome<U> {
        match self {
            JobOutcome::Completed(t) => JobOutcome::Completed(f(t)),
            JobOutcome::Failed(t) => JobOutcome::Failed(f(t)),
            JobOutcome::NeedsInput(t) => JobOutcome::NeedsInput(f(t)),
            JobOutcome::TimedOut(t) => JobOutcome::TimedOut(t),
        }
    }

    /// The outcome with its record changed by `f`, which may fail.
    pub fn try_map<U, E>(self, f: impl FnOnce(T) -> Result<U, E>) -> Result<JobOutcome<U>, E> {
        Ok(match self {
            JobOutcome::Completed(t) => JobOutcome::Completed(f(t)?),
            JobOutcome::Failed(t) => JobOutcome::Failed(f(t)?),
            JobOutcome::NeedsInput(t) => JobOutcome::NeedsInput(f(t)?),
            JobOutcome::TimedOut(t) => JobOutcome::TimedOut(t),
        })
    }

    /// A word for how it ended: `completed`, `failed`, `needs input` or `timed out`.
    pub fn as_str(&self) -> &'static str {
        match self {
            JobOutcome::Completed(_) => "completed",
            JobOutcome::Failed(_) => "failed",
            JobOutcome::NeedsInput(_) => "needs input",
            JobOutcome::TimedOut(_) => "timed out",
        }
    }
}

impl<T: serde::Serialize> JobOutcome<T> {
    /// The outcome with its record as JSON.
    pub fn as_json(&self) -> JobOutcome<Value> {
        match self {
            JobOutcome::TimedOut(t) => JobOutcome::TimedOut(t.clone()),
            JobOutcome::Completed(t) => JobOutcome::Completed(json(t)),
            JobOutcome::Failed(t) => JobOutcome::Failed(json(t)),
            JobOutcome::NeedsInput(t) => JobOutcome::NeedsInput(json(t)),
        }
    }
}

fn json<T: serde::Serialize>(record: &T) -> Value {
    serde_json::to_value(record).unwrap_or(Value::Null)
}

impl JobOutcome<AgentRecord> {
    /// The video, when the session had one (rendered or failed).
    pub fn video(&self) -> Option<&VideoDetail> {
        self.record().and_then(AgentRecord::video)
    }

    /// The session's latest messages (newest first) when it ended before a video: why it
    /// failed, or what it asks.
    pub fn messages(&self) -> &[SessionMessage] {
        self.record().map_or(&[], AgentRecord::messages)
    }
}

/// What a record is called in a message, and by which id.
fn named(record: &Value) -> String {
    if let Some(id) = record.get("session_id").and_then(Value::as_str) {
        if record.get("messages").is_some() {
            return format!("session {id}");
        }
    }
    if let Some(id) = record.get("id").and_then(Value::as_str) {
        // A video's record is the one with a failure code or a page (a translation's has
        // neither).
        return if record.get("failure_code").is_some() || record.get("video_page_url").is_some() {
            format!("video {id}")
        } else {
            format!("job {id}")
        };
    }
    record
        .as_object()
        .and_then(|fields| {
            fields
                .iter()
                .find(|(name, value)| name.ends_with("_id") && value.is_string())
        })
        .and_then(|(_, id)| id.as_str())
        .map_or_else(|| "the job".to_string(), |id| format!("job {id}"))
}

/// Why a record says its job failed: a failure message, or a session's error messages.
fn why(record: &Value) -> Option<String> {
    let errors: Vec<&str> = record
        .get("messages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|m| m.get("type").and_then(Value::as_str) == Some(MessageType::Error.as_str()))
        .filter_map(|m| m.get("content").and_then(Value::as_str))
        .collect();
    if !errors.is_empty() {
        return Some(errors.join("; "));
    }
    crate::api::kinds::record_failure(record)
}

impl<T: serde::Serialize> fmt::Display for JobOutcome<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let JobOutcome::TimedOut(t) = self {
            write!(f, "the {} {}", t.kind.name(), t.id)?;
            if let Some(reached) = &t.reached {
                write!(f, " (now at {reached})")?;
            }
            write!(
                f,
                " is still going after {} and {} poll{}",
                readable_duration(t.elapsed),
                t.polls,
                if t.polls == 1 { "" } else { "s" }
            )?;
            if let Some(status) = &t.last_status {
                write!(f, " (last status {status})")?;
            }
            return Ok(());
        }
        let record = self.record().map(json).unwrap_or(Value::Null);
        let name = named(&record);
        match self {
            JobOutcome::Completed(_) => write!(f, "{name} completed"),
            JobOutcome::Failed(_) => {
                write!(f, "{name} failed")?;
                if let Some(code) = record.get("failure_code").and_then(Value::as_str) {
                    write!(f, " ({code})")?;
                }
                match why(&record) {
                    Some(reason) => write!(f, ": {reason}"),
                    None => Ok(()),
                }
            }
            _ => {
                let status = record
                    .get("status")
                    .and_then(Value::as_str)
                    .unwrap_or("paused");
                if record.get("messages").is_some() {
                    write!(f, "{name} is {status} and needs a message to continue")
                } else {
                    write!(f, "{name} is {status} and waits for you to act")
                }
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
mod outcome_tests {
    use serde_json::json;

    use super::*;
    use crate::api::error::Error;

    fn video(status: &str) -> VideoDetail {
        serde_json::from_value(json!({
            "id": "v1", "status": status, "video_url": "https://files.test/v1.mp4",
            "failure_code": (status == "failed").then_some("rendering_failed"),
            "failure_message": (status == "failed").then_some("Avatar rendering timed out"),
            "video_page_url": (status == "completed").then_some("https://app.test/videos/v1"),
        }))
        .unwrap()
    }

    fn session(status: &str) -> AgentRecord {
        AgentRecord::Session(Box::new(
            serde_json::from_value(json!({
                "session_id": "s1", "status": status, "created_at": 1, "progress": 10,
                "messages": [{"role": "model", "content": "Avatar not available", "type": "error"},
                             {"role": "model", "content": "Which voice?", "type": "text"}]
            }))
            .unwrap(),
        ))
    }

    fn agent_video(status: &str) -> AgentRecord {
        AgentRecord::Video {
            session_id: Some("s1".into()),
            video: Box::new(video(status)),
        }
    }

    #[test]
    fn a_completed_job_is_its_record_and_every_other_ending_an_error_saying_how() {
        assert_eq!(
            JobOutcome::Completed(video("completed")).to_string(),
            "video v1 completed"
        );
        assert_eq!(
            JobOutcome::Completed(video("completed"))
                .into_result()
                .unwrap()
                .id,
            "v1"
        );
        let error = JobOutcome::Failed(video("failed"))
            .into_result()
            .unwrap_err();
        let Error::Wait(outcome) = &error else {
            panic!("{error:?}")
        };
        assert_eq!(
            outcome.record().and_then(|r| r["failure_code"].as_str()),
            Some("rendering_failed")
        );
        assert_eq!(
            error.to_string(),
            "video v1 failed (rendering_failed): Avatar rendering timed out"
        );
        assert!(!error.is_timeout() && error.wait_timed_out().is_none());
        let timed_out = JobOutcome::<AgentRecord>::TimedOut(JobTimedOut {
            kind: JobKind::VideoAgent,
            id: "s1".into(),
            reached: Some("v1".into()),
            last_status: Some("processing".into()),
            elapsed: Duration::from_secs(75),
            polls: 9,
        });
        let error = timed_out.into_video().unwrap_err();
        assert!(error.is_timeout());
        assert_eq!(error.wait_timed_out().map(|t| t.polls), Some(9));
        assert_eq!(
            error.to_string(),
            "the Video Agent session s1 (now at v1) is still going after 1m 15s and 9 polls \
             (last status processing)"
        );
    }

    #[test]
    fn a_session_ends_with_its_video_once_it_has_one_else_with_itself() {
        let done = JobOutcome::Completed(agent_video("completed"));
        assert_eq!(done.video().map(|v| v.id.as_str()), Some("v1"));
        assert_eq!(done.clone().into_video().unwrap().id, "v1");
        assert_eq!(
            JobOutcome::Failed(agent_video("failed")).to_string(),
            "video v1 failed (rendering_failed): Avatar rendering timed out"
        );
        let failed = JobOutcome::Failed(session("failed"));
        assert!(failed.video().is_none());
        assert_eq!(failed.messages().len(), 2);
        assert_eq!(
            failed.into_video().unwrap_err().to_string(),
            "session s1 failed: Avatar not available"
        );
        assert_eq!(
            JobOutcome::NeedsInput(session("reviewing")).to_string(),
            "session s1 is reviewing and needs a message to continue"
        );
    }

    #[test]
    fn an_agent_record_is_written_as_heygen_sent_it() {
        let written = serde_json::to_value(agent_video("completed")).unwrap();
        assert_eq!(written, serde_json::to_value(video("completed")).unwrap());
        let written = serde_json::to_value(session("failed")).unwrap();
        assert_eq!(written["session_id"], "s1");
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
