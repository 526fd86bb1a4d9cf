//! Many videos at once: a batch runner that keeps at most `concurrency` jobs in flight, polls
//! them in bulk, finishes them from webhook deliveries when it has them, and records every step
//! in a journal so that a crashed run resumes without creating anything twice.
//!
//! ```no_run
//! use futures_util::StreamExt as _;
//! use heygen_api::batch::{BatchRunner, Job};
//! use heygen_api::{Client, CreateVideoAgentRequest};
//!
//! # async fn demo() -> heygen_api::Result<()> {
//! let client = Client::from_env()?;
//! let jobs = ["Intro to Rust", "Ownership", "Traits"].map(|chapter| {
//!     Job::video_agent(CreateVideoAgentRequest::new(format!("A lesson: {chapter}"))).key(chapter)
//! });
//! let mut run = BatchRunner::new(client)
//!     .journal("lessons.journal")
//!     .download_dir("videos")
//!     .run(futures_util::stream::iter(jobs))?;
//! while let Some(outcome) = run.next().await {
//!     println!("{}: {}", outcome.key, outcome.result);
//! }
//! println!("{}", run.summary());
//! # Ok(()) }
//! ```
//!
//! **The cap.** HeyGen answers a create beyond the account's concurrent jobs with 429. The
//! runner then waits as `Retry-After` says and lowers its own cap to what is in flight, raising
//! it again as jobs end; no job fails for it.
//!
//! **Polling.** Videos are polled through `GET /v3/videos/statuses`, 100 ids a request.
//! Sessions without a video yet are polled one `GET /v3/video-agents/{id}` each: the session
//! list carries no status, so it cannot be cheaper. The schedule backs off as a single wait
//! does ([`WaitOptions`]). With webhook deliveries
//! ([`BatchRunner::webhooks`]) a delivery ends its job at once, and polling drops to a slow
//! safety net ([`BatchRunner::safety_net`]).
//!
//! **The journal.** Before a create is sent, its job's key and idempotency key are written;
//! then its session and video ids, then how it ended, with the record it ended with. Running
//! again with the same journal skips finished jobs (each comes back
//! [`JobResult::AlreadyFinished`] with the id, record and files it ended with), re-attaches jobs already created, and sends unanswered creates again
//! with their recorded key, which HeyGen answers with the same session for 24 hours. Jobs that
//! were invalid or refused by HeyGen are tried again (their request may have been fixed).
//! The record with a create's idempotency key is synced to the disk before the create is
//! sent (creates taken together share one sync), so that it survives a power cut, not only a
//! killed process: without it a resume would create the job again, and be billed twice. If a
//! sync fails, the creates waiting on it are not sent: they end [`JobResult::Rejected`] with
//! the reason, the run takes no more jobs, and a later run sends them under their recorded
//! keys. Other records are not synced; losing one costs a repeated request, not a repeated job. Jobs are
//! matched by key: give each job a stable [`Job::key`]. Without one, a job's key is a hash of its
//! request (`auto-<hash>`, then `auto-<hash>-2` for a second identical request, and so on), so
//! moving or inserting jobs changes nothing, and a job whose request changed is a new job.
//!
//! **Cancellation.** Dropping the [`BatchRun`] stops creating and polling at once. Jobs in
//! flight stay in the journal, to resume later.

mod engine;
mod journal;
#[cfg(feature = "receiver")]
#[cfg_attr(docsrs, doc(cfg(feature = "receiver")))]
mod receiver;

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use futures_core::Stream;
use serde_json::Value;
use sha2::{Digest as _, Sha256};

use crate::api::bodies::CreateVideoAgentRequest;
use crate::api::bodies::CreateVideoRequest;
use crate::api::client::Client;
use crate::api::error::{Error, Result};
use crate::api::webhook::WebhookEvent;
use crate::jobs::wait::WaitOptions;
use crate::resources::generated::TypedRecord;

/// The kinds of job, as everywhere in the crate.
pub use crate::api::kinds::JobKind;
pub use journal::{
    compact as compact_journal, journal_jobs, salvage as salvage_journal, Compacted, DroppedLine,
    FinalState, JobRecord, JournalJobs, JournalSummary, Salvaged,
};
#[cfg(feature = "receiver")]
pub use receiver::{ReceiverBuilder, ReceiverStats, WebhookReceiver};

/// The default number of jobs in flight: HeyGen's pay-as-you-go cap.
pub const DEFAULT_CONCURRENCY: usize = 10;

/// One video to make.
#[derive(Debug, Clone)]
pub struct Job {
    key: Option<String>,
    request: JobRequest,
}

/// What a job creates.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum JobRequest {
    /// A Video Agent session from a prompt.
    VideoAgent(CreateVideoAgentRequest),
    /// A video made directly (any of the four kinds).
    Video(CreateVideoRequest),
    /// A job of another family (a translation into one language, a lip-sync, ...): the
    /// body of its create, as JSON.
    Family {
        /// The kind of job.
        kind: JobKind,
        /// The create's body.
        body: Value,
    },
}

impl JobRequest {
    fn kind(&self) -> JobKind {
        match self {
            JobRequest::VideoAgent(_) => JobKind::VideoAgent,
            JobRequest::Video(_) => JobKind::Video,
            JobRequest::Family { kind, .. } => *kind,
        }
    }

    fn to_json(&self) -> Value {
        match self {
            JobRequest::VideoAgent(request) => serde_json::to_value(request),
            JobRequest::Video(request) => serde_json::to_value(request),
            JobRequest::Family { kind, body } => {
                let mut body = body.clone();
                if let Some(members) = body.as_object_mut() {
                    members.insert("kind".into(), Value::String(kind.as_str().into()));
                }
                Ok(body)
            }
        }
        .unwrap_or(Value::Null)
    }
}

impl Job {
    /// A Video Agent job.
    pub fn video_agent(request: CreateVideoAgentRequest) -> Self {
        Job {
            key: None,
            request: JobRequest::VideoAgent(request),
        }
    }

    /// A job that makes a video directly.
    pub fn video(request: CreateVideoRequest) -> Self {
        Job {
            key: None,
            request: JobRequest::Video(request),
        }
    }

    /// A job of another kind than sessions and videos, from its create's typed body: take
    /// it from the create's request builder with `to_body`, which checks it as `send` would
    /// (a translation into exactly one language, so that one job is one result).
    ///
    /// ```no_run
    /// # #[cfg(feature = "lipsync")]
    /// # fn demo(client: &heygen_api::Client) -> heygen_api::Result<heygen_api::batch::Job> {
    /// use heygen_api::{batch::Job, FileInput};
    /// let body = client
    ///     .lipsyncs()
    ///     .create(FileInput::url("https://example.com/talk.mp4"), FileInput::url("https://example.com/es.mp3"))
    ///     .title("Spanish dub")
    ///     .to_body()?;
    /// Ok(Job::new(body).key("dub-es"))
    /// # }
    /// ```
    pub fn new<B: crate::api::kinds::JobBody>(body: B) -> Self {
        // A body that does not serialise is refused by `validate` as not an object.
        let body = serde_json::to_value(&body).unwrap_or(Value::Null);
        Job::family(B::KIND, body)
    }

    /// A job of another kind than sessions and videos (which have [`Job::video_agent`] and
    /// [`Job::video`]), from its create's body as JSON ([`Job::new`] takes it typed).
    pub fn family(kind: JobKind, body: Value) -> Self {
        Job {
            key: None,
            request: JobRequest::Family { kind, body },
        }
    }

    /// The caller's key: names the job in outcomes and in the journal, and matches it when a
    /// run resumes. Unique within a run.
    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.key = Some(key.into());
        self
    }

    /// A job from a JSON object: a job of another family (it has `"kind"`, a [`JobKind`]
    /// name such as `"lipsync"` or `"video_translation"`, beside its create's body), a Video
    /// Agent request (it has `prompt`) or a create-video request (it has `type`), with an
    /// optional `"key"`.
    ///
    /// [`JobKind`]: crate::JobKind
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] naming the field that is missing or malformed.
    pub fn from_json(mut value: Value) -> Result<Self> {
        let Some(object) = value.as_object_mut() else {
            return Err(Error::invalid("job", "must be a JSON object"));
        };
        let key = match object.remove("key") {
            None | Some(Value::Null) => None,
            Some(Value::String(key)) => Some(key),
            Some(_) => return Err(Error::invalid("key", "must be a string")),
        };
        let request = if let Some(kind) = object.remove("kind") {
            let Some(name) = kind.as_str() else {
                return Err(Error::invalid("kind", "must be a string"));
            };
            let kind: JobKind = name
                .parse()
                .map_err(|problem: String| Error::invalid("kind", problem))?;
            match kind {
                JobKind::VideoAgent => JobRequest::VideoAgent(
                    serde_json::from_value(value)
                        .map_err(|e| Error::invalid("prompt", e.to_string()))?,
                ),
                JobKind::Video => JobRequest::Video(
                    serde_json::from_value(value)
                        .map_err(|e| Error::invalid("type", e.to_string()))?,
                ),
                // Without any family built in, sessions and videos are every kind.
                #[allow(unreachable_patterns)]
                kind => JobRequest::Family { kind, body: value },
            }
        } else if object.contains_key("type") {
            let request: CreateVideoRequest =
                serde_json::from_value(value).map_err(|e| Error::invalid("type", e.to_string()))?;
            JobRequest::Video(request)
        } else if object.contains_key("prompt") {
            let request: CreateVideoAgentRequest = serde_json::from_value(value)
                .map_err(|e| Error::invalid("prompt", e.to_string()))?;
            JobRequest::VideoAgent(request)
        } else {
            return Err(Error::invalid(
                "job",
                "needs `prompt` (a Video Agent request), `type` (a create-video request) or `kind` (a job of another family, e.g. \"lipsync\")",
            ));
        };
        Ok(Job { key, request })
    }

    /// The caller's key, if given.
    pub fn caller_key(&self) -> Option<&str> {
        self.key.as_deref()
    }

    /// What the job creates.
    pub fn request(&self) -> &JobRequest {
        &self.request
    }

    /// A hash of the request (16 hex digits).
    fn request_hash(&self) -> String {
        let digest = Sha256::digest(self.request.to_json().to_string().as_bytes());
        hex::encode(digest)[..16].to_string()
    }

    /// The checks the runner makes before sending the job's create (a job that fails them
    /// ends [`JobResult::Invalid`]): to refuse a whole batch before anything is sent.
    ///
    /// # Errors
    /// The member that is missing or invalid, and why.
    pub fn check(&self) -> std::result::Result<(), crate::api::error::InvalidRequest> {
        self.validate()
    }

    fn validate(&self) -> std::result::Result<(), crate::api::error::InvalidRequest> {
        match &self.request {
            JobRequest::VideoAgent(request) => request.validate(),
            JobRequest::Video(request) => request.validate(),
            JobRequest::Family { kind, body } => {
                if !kind.made_from_json() {
                    return Err(crate::api::error::InvalidRequest::new(
                        "kind",
                        format!(
                            "a {kind} is a job of its own: make it with Job::video_agent or Job::video"
                        ),
                    ));
                }
                let Some(members) = body.as_object() else {
                    return Err(crate::api::error::InvalidRequest::new(
                        "body",
                        "must be a JSON object",
                    ));
                };
                // One job, one result: a translation or a proofread in one language.
                match members.get("output_languages").and_then(Value::as_array) {
                    Some(languages) if languages.len() != 1 => Err(crate::api::error::InvalidRequest::new(
                        "output_languages",
                        format!(
                            "a batch job translates into one language, not {}; give one line per language",
                            languages.len()
                        ),
                    )),
                    _ => Ok(()),
                }
            }
        }
    }
}

/// How one job of a run ended: its key and what happened.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct JobReport {
    /// The job's key.
    pub key: String,
    /// What happened.
    pub result: JobResult,
}

/// The former name of [`JobReport`].
#[deprecated(note = "renamed `JobReport` (`JobOutcome` is the outcome of a single wait)")]
pub type JobOutcome = JobReport;

/// What happened to a job of a run: the same variants for every kind of job.
///
/// A job's `id` is the id of what ended: a video's (for a Video Agent job, the video its
/// session made, with the session in `session_id`), or the job's own for every other kind
/// (a session that ended before it had a video is named by its session id).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum JobResult {
    /// The job ended well.
    Completed {
        /// The kind of job.
        kind: JobKind,
        /// What ended: the video, or the job.
        id: String,
        /// The session, for Video Agent jobs.
        session_id: Option<String>,
        /// Its record, typed by its kind.
        record: TypedRecord,
        /// Where each of its results was saved, in the order of [`urls`](Self::urls) (every
        /// clip of a clipping job, every layer of a background removal), when the run
        /// downloads; empty when a download failed.
        files: Vec<PathBuf>,
        /// Why a download failed, if one did (the job itself is fine).
        download_error: Option<Arc<Error>>,
    },
    /// The job failed: a render, a session, a translation ... as HeyGen said, or the runner
    /// lost track of it (deleted, or polls failing).
    Failed {
        /// The kind of job.
        kind: JobKind,
        /// What failed: the video, or the job (or the session, before it had a video).
        id: String,
        /// The session, for Video Agent jobs.
        session_id: Option<String>,
        /// Why, as HeyGen says.
        reason: String,
    },
    /// The job waits for what the runner does not give: a chat-mode session's answer (take
    /// it up with [`chat`](crate::chat)), an avatar's consent (give it, then run again: the
    /// same job is taken up, not made again).
    NeedsInput {
        /// The kind of job.
        kind: JobKind,
        /// The job (the session, for a Video Agent job).
        id: String,
        /// The session, for Video Agent jobs.
        session_id: Option<String>,
    },
    /// The run's deadline passed first. The job stays in the journal as in flight.
    TimedOut {
        /// The session, if one was created.
        session_id: Option<String>,
        /// The video or the job, if known.
        id: Option<String>,
        /// The last status seen.
        last_status: Option<String>,
    },
    /// Refused before sending: the request is invalid (its field is named).
    Invalid(crate::api::error::InvalidRequest),
    /// The job did not start: HeyGen refused its create, the create failed for good, or it
    /// was not sent (the run stopped taking jobs: out of credit, or a journal that cannot be
    /// synced). The error says which.
    Rejected(Arc<Error>),
    /// Finished in an earlier run with this journal: not made again. It comes back with what
    /// the journal kept of how it ended (a journal written before records were kept has no
    /// `record`).
    AlreadyFinished {
        /// How it finished.
        state: FinalState,
        /// Why, for failures, as journaled.
        reason: Option<String>,
        /// The job's request is not the one that was sent under its key: it was edited
        /// since. Give it a new key to make it.
        request_changed: bool,
        /// The kind of job, when journaled.
        kind: Option<JobKind>,
        /// What ended (as for a completed job: see [`JobResult`]), when known.
        id: Option<String>,
        /// The session, for Video Agent jobs.
        session_id: Option<String>,
        /// Its record as it finished, typed, when journaled.
        record: Option<TypedRecord>,
        /// The files its results were saved to, in the run's download folder.
        files: Vec<PathBuf>,
    },
}

/// What happened to a job, without the details: a [`JobResult`]'s name, counted in a
/// [`Summary`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ResultKind {
    /// [`JobResult::Completed`], its files saved.
    Completed,
    /// [`JobResult::Completed`], but a download failed.
    DownloadFailed,
    /// [`JobResult::Failed`].
    Failed,
    /// [`JobResult::NeedsInput`].
    NeedsInput,
    /// [`JobResult::TimedOut`].
    TimedOut,
    /// [`JobResult::Invalid`].
    Invalid,
    /// [`JobResult::Rejected`].
    Rejected,
    /// [`JobResult::AlreadyFinished`].
    AlreadyFinished,
}

impl ResultKind {
    /// The name, in snake case (`already_finished`).
    pub fn as_str(self) -> &'static str {
        match self {
            ResultKind::Completed => "completed",
            ResultKind::DownloadFailed => "download_failed",
            ResultKind::Failed => "failed",
            ResultKind::NeedsInput => "needs_input",
            ResultKind::TimedOut => "timed_out",
            ResultKind::Invalid => "invalid",
            ResultKind::Rejected => "rejected",
            ResultKind::AlreadyFinished => "already_finished",
        }
    }

    /// As a person says it, in counts: `already done`, `failed to start`.
    pub fn in_words(self) -> &'static str {
        in_words(self.as_str())
    }
}

impl fmt::Display for ResultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl JobResult {
    /// Whether the job ended well (and its downloads, when there were any).
    pub fn is_success(&self) -> bool {
        match self {
            JobResult::Completed { download_error, .. } => download_error.is_none(),
            JobResult::AlreadyFinished { state, .. } => *state == FinalState::Completed,
            _ => false,
        }
    }

    /// Whether the job failed (timed-out jobs have not).
    pub fn is_failure(&self) -> bool {
        !self.is_success() && !matches!(self, JobResult::TimedOut { .. })
    }

    /// What happened, without the details.
    pub fn result_kind(&self) -> ResultKind {
        match self {
            JobResult::Completed {
                download_error: Some(_),
                ..
            } => ResultKind::DownloadFailed,
            JobResult::Completed { .. } => ResultKind::Completed,
            JobResult::Failed { .. } => ResultKind::Failed,
            JobResult::NeedsInput { .. } => ResultKind::NeedsInput,
            JobResult::TimedOut { .. } => ResultKind::TimedOut,
            JobResult::Invalid(_) => ResultKind::Invalid,
            JobResult::Rejected(_) => ResultKind::Rejected,
            JobResult::AlreadyFinished { .. } => ResultKind::AlreadyFinished,
        }
    }

    /// A short name: [`ResultKind::as_str`] of [`result_kind`](Self::result_kind).
    pub fn name(&self) -> &'static str {
        self.result_kind().as_str()
    }

    /// The kind of job, when known.
    pub fn kind(&self) -> Option<JobKind> {
        match self {
            JobResult::Completed { kind, .. }
            | JobResult::Failed { kind, .. }
            | JobResult::NeedsInput { kind, .. } => Some(*kind),
            JobResult::AlreadyFinished { kind, .. } => *kind,
            _ => None,
        }
    }

    /// What ended (a video, or the job), when known: see [`JobResult`].
    pub fn id(&self) -> Option<&str> {
        match self {
            JobResult::Completed { id, .. }
            | JobResult::Failed { id, .. }
            | JobResult::NeedsInput { id, .. } => Some(id),
            JobResult::TimedOut { id, .. } | JobResult::AlreadyFinished { id, .. } => id.as_deref(),
            JobResult::Invalid(_) | JobResult::Rejected(_) => None,
        }
    }

    /// The session, for Video Agent jobs.
    pub fn session_id(&self) -> Option<&str> {
        match self {
            JobResult::Completed { session_id, .. }
            | JobResult::Failed { session_id, .. }
            | JobResult::NeedsInput { session_id, .. }
            | JobResult::TimedOut { session_id, .. }
            | JobResult::AlreadyFinished { session_id, .. } => session_id.as_deref(),
            JobResult::Invalid(_) | JobResult::Rejected(_) => None,
        }
    }

    /// The finished job's record, typed by its kind.
    pub fn record(&self) -> Option<&TypedRecord> {
        match self {
            JobResult::Completed { record, .. } => Some(record),
            JobResult::AlreadyFinished { record, .. } => record.as_ref(),
            _ => None,
        }
    }

    /// The URLs of the files the finished job made, in its record's order (empty for a kind
    /// that makes none). HeyGen's URLs expire: a run that downloads keeps the files.
    pub fn urls(&self) -> Vec<String> {
        self.record().map(TypedRecord::urls).unwrap_or_default()
    }

    /// The files its results were saved to, in the order of [`urls`](Self::urls).
    pub fn files(&self) -> &[PathBuf] {
        match self {
            JobResult::Completed { files, .. } | JobResult::AlreadyFinished { files, .. } => files,
            _ => &[],
        }
    }

    /// Why it failed, if it did.
    pub fn reason(&self) -> Option<String> {
        match self {
            JobResult::Completed {
                download_error: Some(e),
                ..
            } => Some(format!("download failed: {e}")),
            JobResult::Failed { reason, .. } => Some(reason.clone()),
            JobResult::NeedsInput { kind, .. } => {
                let kind = kind.describe();
                Some(if kind.resumes {
                    format!(
                        "it waits for {}; give it, then run the same command again",
                        kind.waits_for
                    )
                } else {
                    format!("the {} waits for {}", kind.name, kind.waits_for)
                })
            }
            JobResult::Invalid(invalid) => Some(invalid.to_string()),
            JobResult::Rejected(error) => Some(error.to_string()),
            JobResult::AlreadyFinished {
                state,
                reason: Some(reason),
                ..
            } if *state != FinalState::Completed => {
                Some(format!("{} before: {reason}", state.as_str()))
            }
            _ => None,
        }
    }

    /// How the journal records this ending; `None` for endings it does not record as final
    /// (a deadline, a job finished before, a job that waits for what its kind takes up again,
    /// such as an avatar's consent).
    fn final_state(&self) -> Option<FinalState> {
        Some(match self {
            JobResult::Completed { .. } => FinalState::Completed,
            JobResult::Failed { .. } => FinalState::Failed,
            JobResult::NeedsInput { kind, .. } if !kind.describe().resumes => {
                FinalState::NeedsInput
            }
            JobResult::Invalid(_) => FinalState::Invalid,
            JobResult::Rejected(_) => FinalState::Rejected,
            JobResult::NeedsInput { .. }
            | JobResult::TimedOut { .. }
            | JobResult::AlreadyFinished { .. } => return None,
        })
    }
}

/// What a job is called beside its id: a Video Agent job's id is its video's.
fn noun(kind: JobKind) -> &'static str {
    match kind {
        JobKind::VideoAgent => JobKind::Video.name(),
        kind => kind.name(),
    }
}

/// ` → first` and ` and N more`, for the files saved.
fn write_files(f: &mut fmt::Formatter<'_>, files: &[PathBuf]) -> fmt::Result {
    if let Some(first) = files.first() {
        write!(f, " → {}", first.display())?;
    }
    if files.len() > 1 {
        write!(f, " and {} more", files.len() - 1)?;
    }
    Ok(())
}

impl fmt::Display for JobResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JobResult::Completed {
                kind,
                id,
                files,
                download_error,
                ..
            } => {
                write!(f, "completed: {} {id}", noun(*kind))?;
                write_files(f, files)?;
                if let Some(error) = download_error {
                    write!(f, " (download failed: {error})")?;
                }
                Ok(())
            }
            JobResult::Failed {
                kind, id, reason, ..
            } => write!(f, "failed: {} {id}: {reason}", noun(*kind)),
            JobResult::TimedOut { last_status, .. } => write!(
                f,
                "timed out (last status: {})",
                last_status.as_deref().unwrap_or("none")
            ),
            JobResult::AlreadyFinished {
                state,
                reason,
                request_changed,
                files,
                ..
            } => {
                write!(f, "already done ({})", in_words(state.as_str()))?;
                if let Some(reason) = reason {
                    write!(f, ": {reason}")?;
                }
                write_files(f, files)?;
                if *request_changed {
                    write!(
                        f,
                        "; its request has changed since (give it a new key to make it)"
                    )?;
                }
                Ok(())
            }
            // Its field and why, without a second "invalid".
            JobResult::Invalid(invalid) => write!(
                f,
                "invalid: `{}` {} (nothing was sent)",
                invalid.field, invalid.reason
            ),
            other => write!(
                f,
                "{}: {}",
                other.result_kind().in_words(),
                other.reason().unwrap_or_default()
            ),
        }
    }
}

/// A step of the run, for progress displays ([`BatchRunner::on_event`]).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum BatchEvent {
    /// A job's create is being sent.
    Creating {
        /// The job.
        key: String,
    },
    /// A job exists at HeyGen (created now, or re-attached from the journal).
    InFlight {
        /// The job.
        key: String,
        /// Its session, for Video Agent jobs.
        session_id: Option<String>,
        /// Its video, once known.
        video_id: Option<String>,
    },
    /// A poll saw a job's status.
    Status {
        /// The job.
        key: String,
        /// The status as HeyGen said it.
        status: String,
    },
    /// HeyGen refused a create for concurrency: the runner slows to `cap` jobs in flight.
    Throttled {
        /// The cap now in force.
        cap: usize,
    },
    /// A job's video is being downloaded.
    Downloading {
        /// The job.
        key: String,
    },
    /// A job ended (its outcome follows on the stream).
    Finished {
        /// The job.
        key: String,
    },
}

impl BatchEvent {
    /// The phase a job entered with this event, if it entered one.
    pub fn phase(&self) -> Option<JobPhase> {
        match self {
            BatchEvent::Creating { .. } => Some(JobPhase::Creating),
            BatchEvent::InFlight {
                video_id: Some(_), ..
            } => Some(JobPhase::Rendering),
            BatchEvent::InFlight { .. } => Some(JobPhase::AgentWorking),
            BatchEvent::Downloading { .. } => Some(JobPhase::Downloading),
            _ => None,
        }
    }
}

/// Where a job in flight stands, for progress displays ([`BatchEvent::phase`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum JobPhase {
    /// Its create is being sent.
    Creating,
    /// The Video Agent works on it: a session without a video yet.
    AgentWorking,
    /// Its video renders.
    Rendering,
    /// Its video is being downloaded.
    Downloading,
}

impl fmt::Display for JobPhase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            JobPhase::Creating => "creating",
            JobPhase::AgentWorking => "agent working",
            JobPhase::Rendering => "rendering",
            JobPhase::Downloading => "downloading",
        })
    }
}

/// Requests the runner sent, by purpose (retries of one call count once).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct RequestCounts {
    /// Creates, including those refused for concurrency and sent again.
    pub creates: u64,
    /// `GET /v3/videos/statuses` requests.
    pub bulk_polls: u64,
    /// `GET /v3/video-agents/{id}` requests.
    pub session_polls: u64,
    /// Polls of single jobs of other families (kinds without bulk statuses).
    pub job_polls: u64,
    /// `GET /v3/videos/{id}` requests for finished videos.
    pub video_details: u64,
    /// Video downloads.
    pub downloads: u64,
    /// `GET /v3/users/me`, before and after, for the credits used.
    pub balance_checks: u64,
}

impl RequestCounts {
    /// All requests.
    pub fn total(&self) -> u64 {
        self.creates
            + self.bulk_polls
            + self.session_polls
            + self.job_polls
            + self.video_details
            + self.downloads
            + self.balance_checks
    }

    /// The requests that only asked how jobs were doing.
    pub fn polls(&self) -> u64 {
        self.bulk_polls + self.session_polls + self.job_polls
    }
}

/// What a run did, so far or in all.
#[derive(Debug, Clone, Default, serde::Serialize)]
#[non_exhaustive]
pub struct Summary {
    /// Jobs per outcome.
    pub counts: BTreeMap<ResultKind, u64>,
    /// Every job that failed, with why.
    pub failures: Vec<(String, String)>,
    /// Requests sent, by purpose.
    pub requests: RequestCounts,
    /// What the account's balance went down by during the run, in [`balance_unit`]
    /// (dollars or credits), when HeyGen reports a balance.
    ///
    /// [`balance_unit`]: Self::balance_unit
    pub credits_used: Option<f64>,
    /// The unit of the balance: the wallet's currency as HeyGen names it (`usd`), or
    /// `credits` for usage-based accounts.
    pub balance_unit: Option<String>,
    /// The most jobs the runner had in flight at once.
    pub peak_in_flight: usize,
    /// Times HeyGen refused a create for concurrency.
    pub throttled: u64,
    /// Why the run stopped taking new jobs early, if it did: out of credit (402), a refused
    /// credential (401, 403), or a journal that could not be written.
    pub stopped_early: Option<String>,
    /// Bytes written to the journal.
    pub journal_bytes: u64,
    /// Syncs of the journal to the disk before creates (one covers every create taken
    /// together).
    pub journal_syncs: u64,
    /// The bytes of a torn last line (a run cut off while writing it) that opening the
    /// journal cut away, if there was one; no job is lost by it, the line was never whole.
    pub journal_cut_tail: Option<u64>,
}

impl Summary {
    /// Jobs with the given outcome.
    pub fn count(&self, outcome: ResultKind) -> u64 {
        self.counts.get(&outcome).copied().unwrap_or(0)
    }

    /// Whether every job completed (including those finished before a resume).
    pub fn all_completed(&self) -> bool {
        self.counts
            .keys()
            .all(|outcome| matches!(outcome, ResultKind::Completed | ResultKind::AlreadyFinished))
            && self.failures.is_empty()
    }

    /// Whether some job timed out.
    pub fn timed_out(&self) -> bool {
        self.count(ResultKind::TimedOut) > 0
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let counts: Vec<String> = self
            .counts
            .iter()
            .map(|(outcome, n)| format!("{n} {}", outcome.in_words()))
            .collect();
        write!(
            f,
            "{}; {} requests ({} poll{})",
            if counts.is_empty() {
                "no job finished".to_string()
            } else {
                counts.join(", ")
            },
            self.requests.total(),
            self.requests.polls(),
            if self.requests.polls() == 1 { "" } else { "s" }
        )?;
        if let Some(credits) = self.credits_used {
            match self.balance_unit.as_deref() {
                Some("credits") | None => write!(f, "; {credits:.2} credits used")?,
                Some(currency) => {
                    write!(f, "; {credits:.2} {} spent", currency.to_uppercase())?;
                }
            }
        }
        if let Some(reason) = &self.stopped_early {
            write!(f, "; stopped early: {reason}")?;
        }
        Ok(())
    }
}

/// An outcome's name ([`ResultKind::as_str`], [`FinalState::as_str`]) as a person says it,
/// for counts: `already_finished` is `already done`, `rejected` is `failed to start`.
pub fn in_words(name: &str) -> &str {
    match name {
        "already_finished" => "already done",
        "download_failed" => "failed to download",
        "needs_input" => "waiting for input",
        "timed_out" => "still running at the deadline",
        "rejected" => "failed to start",
        other => other,
    }
}

type EventFn = Arc<dyn Fn(&BatchEvent) + Send + Sync>;

/// Configures and starts a batch run. Setters never fail; [`run`](Self::run) checks.
#[must_use]
pub struct BatchRunner {
    client: Client,
    concurrency: usize,
    journal: Option<PathBuf>,
    deadline: Option<Duration>,
    poll: WaitOptions,
    webhooks: Option<tokio::sync::mpsc::Receiver<WebhookEvent>>,
    safety_net: Duration,
    download_dir: Option<PathBuf>,
    download_concurrency: usize,
    measure_credits: bool,
    retry_failed: bool,
    on_event: Option<EventFn>,
}

impl fmt::Debug for BatchRunner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BatchRunner")
            .field("concurrency", &self.concurrency)
            .field("journal", &self.journal)
            .field("deadline", &self.deadline)
            .field("webhooks", &self.webhooks.is_some())
            .field("safety_net", &self.safety_net)
            .field("download_dir", &self.download_dir)
            .finish_non_exhaustive()
    }
}

impl BatchRunner {
    /// A runner with HeyGen's default cap of 10 jobs in flight, no journal, no deadline and
    /// the default poll schedule.
    pub fn new(client: Client) -> Self {
        BatchRunner {
            client,
            concurrency: DEFAULT_CONCURRENCY,
            journal: None,
            deadline: None,
            poll: WaitOptions::new(),
            webhooks: None,
            safety_net: Duration::from_secs(120),
            download_dir: None,
            download_concurrency: 4,
            measure_credits: true,
            retry_failed: false,
            on_event: None,
        }
    }

    /// At most this many jobs in flight (created and not ended). Match the account's cap:
    /// 10 on pay-as-you-go, 20 or more on Enterprise.
    pub fn concurrency(mut self, jobs: usize) -> Self {
        self.concurrency = jobs;
        self
    }

    /// Records every step in this file, and resumes from what it already holds.
    pub fn journal(mut self, path: impl Into<PathBuf>) -> Self {
        self.journal = Some(path.into());
        self
    }

    /// Ends the run after this long: jobs in flight come out as
    /// [`JobResult::TimedOut`] (and stay in the journal), jobs not started are not started.
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// The poll schedule: its initial interval, growth and largest interval (its deadline
    /// and progress callback are not used; see [`deadline`](Self::deadline)).
    pub fn poll(mut self, schedule: WaitOptions) -> Self {
        self.poll = schedule;
        self
    }

    /// Verified webhook deliveries (from the caller's own receiver, or a
    /// `WebhookReceiver`): a delivery ends its job at once, and polling falls back to the
    /// [`safety_net`](Self::safety_net) interval.
    pub fn webhooks(mut self, deliveries: tokio::sync::mpsc::Receiver<WebhookEvent>) -> Self {
        self.webhooks = Some(deliveries);
        self
    }

    /// How often each job is polled when deliveries are expected (default 2 minutes).
    pub fn safety_net(mut self, interval: Duration) -> Self {
        self.safety_net = interval;
        self
    }

    /// Downloads each finished video to `<dir>/<key>.mp4` (a file already there is kept). A
    /// key with characters other than ASCII letters, digits, `-`, `_` and `.` has them
    /// replaced by `_` and a short hash of the key added, so that keys never share a file.
    /// Each file is on disk before it gets its name (a durable download), so a resume after a
    /// power cut that finds the file finds it whole.
    pub fn download_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.download_dir = Some(dir.into());
        self
    }

    /// On a resume, runs again the jobs the journal says failed (their video or session
    /// failed), each as a new job with a new idempotency key, instead of reporting them as
    /// already finished. Jobs refused before (invalid, or rejected by HeyGen) are always tried
    /// again; completed ones never are. Off by default.
    pub fn retry_failed(mut self, retry: bool) -> Self {
        self.retry_failed = retry;
        self
    }

    /// At most this many downloads at once (default 4), apart from the jobs' cap.
    pub fn download_concurrency(mut self, downloads: usize) -> Self {
        self.download_concurrency = downloads;
        self
    }

    /// Whether to read the account's balance before and after, to report the credits used
    /// (default on; two requests).
    pub fn measure_credits(mut self, measure: bool) -> Self {
        self.measure_credits = measure;
        self
    }

    /// Called at every step, for progress displays. Keep it quick: it runs on the runner.
    pub fn on_event(mut self, callback: impl Fn(&BatchEvent) + Send + Sync + 'static) -> Self {
        self.on_event = Some(Arc::new(callback));
        self
    }

    /// Starts the run on the current Tokio runtime and returns the stream of outcomes, in the
    /// order jobs end. Jobs are taken from `jobs` only as slots free up, so the stream may be
    /// endless or huge.
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] for a concurrency of 0; [`Error::Io`] when the journal or
    /// the download directory cannot be opened.
    pub fn run<S>(self, jobs: S) -> Result<BatchRun>
    where
        S: Stream<Item = Job> + Send + 'static,
    {
        if self.concurrency == 0 {
            return Err(Error::invalid("concurrency", "must be at least 1"));
        }
        if self.download_concurrency == 0 {
            return Err(Error::invalid("download_concurrency", "must be at least 1"));
        }
        let mut journal = match &self.journal {
            Some(path) => Some(journal::Journal::open(path)?),
            None => None,
        };
        let lock = journal
            .as_mut()
            .and_then(|(journal, _)| journal.take_lock());
        if let Some(dir) = &self.download_dir {
            std::fs::create_dir_all(dir).map_err(|source| Error::Io {
                context: format!("creating {}", dir.display()),
                source,
            })?;
        }
        let summary = Arc::new(Mutex::new(Summary {
            journal_cut_tail: journal.as_ref().and_then(|(journal, _)| journal.cut_tail()),
            ..Summary::default()
        }));
        let (sender, outcomes) = tokio::sync::mpsc::channel(256);
        let engine = engine::Engine::new(self, journal, Arc::clone(&summary), sender);
        let task = tokio::spawn(engine.run(Box::pin(jobs)));
        Ok(BatchRun {
            outcomes,
            summary,
            task,
            lock,
        })
    }
}

/// A running batch: a stream of [`JobReport`]s in the order jobs end. Dropping it stops the
/// run. Up to 256 outcomes wait for the reader; a reader that stops reading pauses the run.
/// The run holds its journal (on Unix) until its stream has ended or it is dropped: another
/// run of the same journal, or its compaction, is refused meanwhile, in this process or any
/// other.
#[must_use = "a batch runs only while its stream is kept"]
pub struct BatchRun {
    outcomes: tokio::sync::mpsc::Receiver<JobReport>,
    summary: Arc<Mutex<Summary>>,
    task: tokio::task::JoinHandle<()>,
    /// The journal's lock, let go of when the stream ends or the run is dropped.
    lock: Option<journal::JournalLock>,
}

impl fmt::Debug for BatchRun {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BatchRun")
            .field("summary", &self.summary())
            .finish_non_exhaustive()
    }
}

impl BatchRun {
    /// What the run has done so far (in all, once the stream has ended).
    pub fn summary(&self) -> Summary {
        match self.summary.lock() {
            Ok(summary) => summary.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }
}

impl Stream for BatchRun {
    type Item = JobReport;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<JobReport>> {
        let next = self.outcomes.poll_recv(cx);
        if let Poll::Ready(None) = next {
            // The run is over: its journal is free for the next.
            self.lock = None;
        }
        next
    }
}

impl Drop for BatchRun {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Appends the journal lines of `jobs` typical Video Agent jobs (sent, created, video known,
/// completed) to `path`, as a run does; returns the bytes written. With `sync_every`, the
/// journal is synced after every that many `creating` records, as a run syncs before sending
/// that many creates together. For the journal-overhead benchmark (feature `bench`, which only
/// the crate's own dev-dependency enables); not part of the API.
#[cfg(feature = "bench")]
#[doc(hidden)]
pub fn journal_sample_jobs(
    path: &std::path::Path,
    jobs: usize,
    sync_every: Option<usize>,
) -> Result<u64> {
    let (mut journal, _) = journal::Journal::open(path)?;
    for i in 0..jobs {
        let key = format!("job-{i}");
        journal.append(&journal::Record::Creating {
            key: key.clone(),
            kind: JobKind::VideoAgent,
            idempotency_key: crate::api::types::IdempotencyKey::generate()
                .as_str()
                .to_string(),
            at: crate::api::webhook::now_unix(),
            request: Some(format!("{i:016x}")),
        })?;
        if sync_every.is_some_and(|group| (i + 1) % group.max(1) == 0) {
            journal.syncer().sync()?;
        }
        journal.append(&journal::Record::Created {
            key: key.clone(),
            session_id: Some(format!("sess_{i:024}")),
            video_id: None,
        })?;
        journal.append(&journal::Record::Video {
            key: key.clone(),
            video_id: format!("vid_{i:024}"),
        })?;
        journal.append(&journal::Record::Finished {
            key,
            state: FinalState::Completed,
            video_id: Some(format!("vid_{i:024}")),
            reason: None,
            kind: Some(JobKind::VideoAgent),
            request: Some(format!("{i:016x}")),
            files: Vec::new(),
            session_id: None,
            record: None,
        })?;
    }
    Ok(journal.written)
}
