//! The batch journal: an append-only file of JSON lines, one per step of a job, written before
//! the step's effect can be lost (the idempotency key before its create is sent).
//!
//! Each line is written whole to a file opened for appending, so a process killed at any
//! moment leaves at most one torn last line; it is cut off when the journal is opened again
//! (a write that fails part-way is cut off at once, and the journal then takes no more). A torn line anywhere else means the file was damaged, and opening fails.
//!
//! Lines reach the operating system at once, so they survive the process. Only the `creating`
//! records are also synced to the disk before their creates are sent (see [`Syncer`]): that
//! record is the one a power cut must not take, since without it a resume would send the
//! create again under a new idempotency key, and HeyGen would make (and bill) the job twice.
//! Every other record may be lost to a power cut at no cost but requests: a lost `created`
//! leaves the job `creating`, and its create is sent again with the recorded key, which HeyGen
//! answers with the same job; a lost `video` or `finished` line leaves the job in flight, and
//! it is polled again. The journal is also synced once when it is opened, so that what a killed
//! process left in the operating system's cache is on the disk before anything is resent.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::api::error::{Error, Result};

/// What a job was: the operation its create calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum JobKind {
    /// `POST /v3/video-agents`: a prompt.
    VideoAgent,
    /// `POST /v3/videos`: a video made directly.
    Video,
    /// `POST /v3/video-translations`: a translation into one language.
    VideoTranslation,
    /// `POST /v3/video-translations/proofreads`: a proofread in one language.
    Proofread,
    /// `POST /v3/lipsyncs`.
    Lipsync,
    /// `POST /v3/ai-clipping`.
    ClippingJob,
    /// `POST /v3/background-removals`.
    BackgroundRemoval,
    /// `POST /v3/avatars`.
    Avatar,
    /// `POST /v3/voices/clone`.
    Voice,
}

impl JobKind {
    /// The kind's name, as written in the journal (`video_agent`, `lipsync`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::VideoAgent => "video_agent",
            JobKind::Video => "video",
            JobKind::VideoTranslation => "video_translation",
            JobKind::Proofread => "proofread",
            JobKind::Lipsync => "lipsync",
            JobKind::ClippingJob => "clipping_job",
            JobKind::BackgroundRemoval => "background_removal",
            JobKind::Avatar => "avatar",
            JobKind::Voice => "voice",
        }
    }

    /// The family job it is, when it is not a video (and its family is built in).
    pub(crate) fn family(self) -> Option<crate::JobKind> {
        self.as_str().parse().ok()
    }

    /// The journal's name of a family job.
    pub(crate) fn of_family(kind: crate::JobKind) -> Self {
        match kind.as_str() {
            "video_translation" => JobKind::VideoTranslation,
            "proofread" => JobKind::Proofread,
            "lipsync" => JobKind::Lipsync,
            "clipping_job" => JobKind::ClippingJob,
            "background_removal" => JobKind::BackgroundRemoval,
            "avatar" => JobKind::Avatar,
            // `voice`: every other family kind is named above.
            _ => JobKind::Voice,
        }
    }
}

/// How a job ended, as the journal records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FinalState {
    /// The video is ready.
    Completed,
    /// The video's render failed.
    VideoFailed,
    /// The session failed before it had a video.
    SessionFailed,
    /// The session paused for input (chat mode); the runner does not answer.
    NeedsInput,
    /// The job was refused before sending: its request is invalid.
    Invalid,
    /// HeyGen refused the create (for example 400 or 402).
    Rejected,
    /// A job of another family (a translation, a lip-sync, ...) failed, or waits for
    /// something the runner cannot give (an avatar's consent).
    Failed,
}

impl FinalState {
    /// The state's name, as written in the journal.
    pub fn as_str(&self) -> &'static str {
        match self {
            FinalState::Completed => "completed",
            FinalState::VideoFailed => "video_failed",
            FinalState::SessionFailed => "session_failed",
            FinalState::NeedsInput => "needs_input",
            FinalState::Invalid => "invalid",
            FinalState::Rejected => "rejected",
            FinalState::Failed => "failed",
        }
    }
}

/// One line of the journal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub(crate) enum Record {
    /// Written before the create is sent: the key that makes sending it again harmless.
    Creating {
        key: String,
        kind: JobKind,
        idempotency_key: String,
        /// When the create was first sent (Unix seconds): HeyGen replays a key for 24 hours.
        at: u64,
        /// A hash of the request, to notice a job whose request changed under its key.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        request: Option<String>,
    },
    /// The create's answer.
    Created {
        key: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        session_id: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        video_id: Option<String>,
    },
    /// A session's video became known.
    Video { key: String, video_id: String },
    /// The job ended.
    Finished {
        key: String,
        state: FinalState,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        video_id: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
}

impl Record {
    fn key(&self) -> &str {
        match self {
            Record::Creating { key, .. }
            | Record::Created { key, .. }
            | Record::Video { key, .. }
            | Record::Finished { key, .. } => key,
        }
    }
}

/// What the journal knows of one job.
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct JobRecord {
    /// What the job creates, once its create was sent.
    pub kind: Option<JobKind>,
    /// The idempotency key its create was (or is to be) sent with.
    pub idempotency_key: Option<String>,
    /// When its create was first sent (Unix seconds).
    pub create_sent_at: Option<u64>,
    /// A hash of the request that was sent.
    pub request_hash: Option<String>,
    /// Its session (Video Agent jobs).
    pub session_id: Option<String>,
    /// Its video, once known.
    pub video_id: Option<String>,
    /// How it ended, and why (for failures).
    pub finished: Option<(FinalState, Option<String>)>,
}

impl JobRecord {
    fn apply(&mut self, record: Record) {
        match record {
            Record::Creating {
                kind,
                idempotency_key,
                at,
                request,
                ..
            } => {
                if self.idempotency_key.as_deref() != Some(idempotency_key.as_str()) {
                    // A new attempt (the job was refused before and is tried again): what the
                    // old one left no longer applies.
                    *self = JobRecord::default();
                }
                self.kind = Some(kind);
                self.idempotency_key = Some(idempotency_key);
                self.create_sent_at.get_or_insert(at);
                if request.is_some() {
                    self.request_hash = request;
                }
            }
            Record::Created {
                session_id,
                video_id,
                ..
            } => {
                self.session_id = session_id.or(self.session_id.take());
                self.video_id = video_id.or(self.video_id.take());
            }
            Record::Video { video_id, .. } => self.video_id = Some(video_id),
            Record::Finished {
                state,
                video_id,
                reason,
                ..
            } => {
                self.video_id = video_id.or(self.video_id.take());
                self.finished = Some((state, reason));
            }
        }
    }

    /// Whether its create was answered (it exists at HeyGen).
    pub fn is_created(&self) -> bool {
        self.session_id.is_some() || self.video_id.is_some()
    }
}

/// The jobs a journal describes, by key, read without touching the file (`heygen batch
/// status`).
#[derive(Debug, Clone, Default)]
pub struct JournalSummary {
    /// Every job, by key.
    pub jobs: HashMap<String, JobRecord>,
    /// Whether a torn last line was skipped.
    pub torn_tail: bool,
}

impl JournalSummary {
    /// Reads a journal.
    ///
    /// # Errors
    /// [`Error::Io`] when it cannot be read or a line other than the last is damaged.
    pub fn read(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let mut bytes = Vec::new();
        File::open(path)
            .and_then(|mut file| file.read_to_end(&mut bytes))
            .map_err(|source| io(path, "reading", source))?;
        let (jobs, whole) = fold(path, &bytes)?;
        Ok(JournalSummary {
            jobs,
            torn_tail: whole < bytes.len(),
        })
    }

    /// How many jobs are in each state: a [`FinalState`] name, `in_flight` (created, not
    /// ended) or `creating` (sent, not answered).
    pub fn counts(&self) -> std::collections::BTreeMap<&'static str, usize> {
        let mut counts = std::collections::BTreeMap::new();
        for job in self.jobs.values() {
            let state = match &job.finished {
                Some((state, _)) => state.as_str(),
                None if job.is_created() => "in_flight",
                None => "creating",
            };
            *counts.entry(state).or_default() += 1;
        }
        counts
    }
}

/// Folds the whole lines of `bytes` (a torn tail, even one cut inside a character, is left
/// out); returns the jobs and the length of the whole lines.
fn fold(path: &Path, bytes: &[u8]) -> Result<(HashMap<String, JobRecord>, usize)> {
    let whole = bytes.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    let damaged = |detail: String| {
        io(
            path,
            "reading",
            std::io::Error::new(std::io::ErrorKind::InvalidData, detail),
        )
    };
    let text = std::str::from_utf8(&bytes[..whole])
        .map_err(|e| damaged(format!("it is not UTF-8 at byte {}", e.valid_up_to())))?;
    let mut jobs: HashMap<String, JobRecord> = HashMap::new();
    for (number, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let record: Record = serde_json::from_str(line)
            .map_err(|e| damaged(format!("line {} is damaged: {e}", number + 1)))?;
        jobs.entry(record.key().to_string())
            .or_default()
            .apply(record);
    }
    Ok((jobs, whole))
}

fn io(path: &Path, doing: &str, source: std::io::Error) -> Error {
    Error::Io {
        context: format!("{doing} the journal {}", path.display()),
        source,
    }
}

/// An open journal: what it held when opened, and the file to append to.
pub(crate) struct Journal {
    path: PathBuf,
    file: Arc<File>,
    /// The file's length: the end of its last whole line.
    len: u64,
    /// Bytes appended since opening.
    pub(crate) written: u64,
    /// An append failed: nothing more is written, so that no line lands after a torn one.
    broken: bool,
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Journal")
            .field("path", &self.path)
            .field("len", &self.len)
            .field("broken", &self.broken)
            .finish_non_exhaustive()
    }
}

/// A sync of the journal to the disk, of everything appended before it was made; it owns what
/// it needs, to run on a blocking thread.
pub(crate) struct Syncer {
    path: PathBuf,
    file: Arc<File>,
}

impl Syncer {
    /// Syncs the file's data (`fdatasync`: the lines and the file's length, not its times).
    pub(crate) fn sync(self) -> Result<()> {
        self.file
            .sync_data()
            .map_err(|source| io(&self.path, "syncing", source))?;
        Ok(())
    }
}

impl Journal {
    /// Opens (or creates) a journal, cutting off a torn last line, and returns what it held.
    pub(crate) fn open(path: &Path) -> Result<(Journal, HashMap<String, JobRecord>)> {
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)
            .map_err(|source| io(path, "opening", source))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)
            .map_err(|source| io(path, "reading", source))?;
        let (jobs, whole) = fold(path, &bytes)?;
        if whole < bytes.len() {
            tracing::warn!(
                journal = %path.display(),
                bytes = bytes.len() - whole,
                "cutting off a torn last line"
            );
            truncate(path, whole as u64).map_err(|source| io(path, "repairing", source))?;
            file.seek(SeekFrom::End(0))
                .map_err(|source| io(path, "repairing", source))?;
        }
        // What an earlier process left may still be only in the operating system's cache:
        // on the disk before any of its creates is sent again.
        file.sync_data()
            .map_err(|source| io(path, "syncing", source))?;
        Ok((
            Journal {
                path: path.to_path_buf(),
                file: Arc::new(file),
                len: whole as u64,
                written: 0,
                broken: false,
            },
            jobs,
        ))
    }

    /// A sync of everything appended so far, to run on a blocking thread.
    pub(crate) fn syncer(&self) -> Syncer {
        Syncer {
            path: self.path.clone(),
            file: Arc::clone(&self.file),
        }
    }

    /// Appends one record as one line. If the write fails part-way, the partial line is cut
    /// off again and the journal takes nothing more.
    pub(crate) fn append(&mut self, record: &Record) -> Result<()> {
        if self.broken {
            return Err(io(
                &self.path,
                "writing",
                std::io::Error::other("an earlier write failed; the journal takes no more"),
            ));
        }
        let mut line = serde_json::to_vec(record).map_err(|e| {
            io(
                &self.path,
                "writing",
                std::io::Error::new(std::io::ErrorKind::InvalidData, e),
            )
        })?;
        line.push(b'\n');
        if let Err(source) = (&*self.file).write_all(&line) {
            self.broken = true;
            if let Err(error) = truncate(&self.path, self.len) {
                tracing::error!(%error, "could not cut off a partly written journal line");
            }
            return Err(io(&self.path, "writing", source));
        }
        self.len += line.len() as u64;
        self.written += line.len() as u64;
        Ok(())
    }
}

/// Cuts the file to `len` bytes, through a handle opened for writing (one opened for
/// appending may not be allowed to on every platform).
fn truncate(path: &Path, len: u64) -> std::io::Result<()> {
    OpenOptions::new().write(true).open(path)?.set_len(len)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creating(key: &str) -> Record {
        Record::Creating {
            key: key.into(),
            kind: JobKind::Video,
            idempotency_key: format!("idem-{key}"),
            at: 1,
            request: None,
        }
    }

    #[test]
    fn records_fold_into_the_state_of_each_job() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j");
        let (mut journal, jobs) = Journal::open(&path).unwrap();
        assert!(jobs.is_empty());
        journal.append(&creating("a")).unwrap();
        journal
            .append(&Record::Created {
                key: "a".into(),
                session_id: Some("s1".into()),
                video_id: None,
            })
            .unwrap();
        journal.append(&creating("b")).unwrap();
        journal
            .append(&Record::Video {
                key: "a".into(),
                video_id: "v1".into(),
            })
            .unwrap();
        journal
            .append(&Record::Finished {
                key: "a".into(),
                state: FinalState::Completed,
                video_id: None,
                reason: None,
            })
            .unwrap();
        drop(journal);
        let (_, jobs) = Journal::open(&path).unwrap();
        let a = &jobs["a"];
        assert_eq!(a.idempotency_key.as_deref(), Some("idem-a"));
        assert_eq!(a.session_id.as_deref(), Some("s1"));
        assert_eq!(a.video_id.as_deref(), Some("v1"));
        assert_eq!(a.finished, Some((FinalState::Completed, None)));
        assert!(!jobs["b"].is_created() && jobs["b"].finished.is_none());
        let counts = JournalSummary::read(&path).unwrap().counts();
        assert_eq!(counts["completed"], 1);
        assert_eq!(counts["creating"], 1);
    }

    #[test]
    fn a_torn_last_line_is_cut_off_and_appending_goes_on_cleanly() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j");
        let whole = format!("{}\n", serde_json::to_string(&creating("a")).unwrap());
        std::fs::write(&path, format!("{whole}{{\"event\":\"created\",\"ke")).unwrap();
        assert!(JournalSummary::read(&path).unwrap().torn_tail);
        let (mut journal, jobs) = Journal::open(&path).unwrap();
        assert_eq!(jobs.len(), 1);
        journal.append(&creating("b")).unwrap();
        drop(journal);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 2, "{text}");
        let (_, jobs) = Journal::open(&path).unwrap();
        assert_eq!(jobs.len(), 2);
    }

    #[test]
    fn a_line_torn_inside_a_character_is_cut_off_too() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j");
        let whole = format!("{}\n", serde_json::to_string(&creating("a")).unwrap());
        let torn = serde_json::to_string(&creating("日本")).unwrap();
        let cut = torn.find('本').unwrap() + 1; // inside the character's three bytes
        let mut bytes = whole.into_bytes();
        bytes.extend_from_slice(&torn.as_bytes()[..cut]);
        std::fs::write(&path, &bytes).unwrap();
        assert!(JournalSummary::read(&path).unwrap().torn_tail);
        let (_, jobs) = Journal::open(&path).unwrap();
        assert_eq!(jobs.len(), 1);
    }

    #[test]
    fn a_new_attempt_replaces_what_an_earlier_one_left() {
        let mut job = JobRecord::default();
        job.apply(creating("a"));
        job.apply(Record::Finished {
            key: "a".into(),
            state: FinalState::Rejected,
            video_id: None,
            reason: Some("400".into()),
        });
        job.apply(Record::Creating {
            key: "a".into(),
            kind: JobKind::Video,
            idempotency_key: "second".into(),
            at: 5,
            request: None,
        });
        assert_eq!(job.finished, None);
        assert_eq!(job.idempotency_key.as_deref(), Some("second"));
        assert_eq!(job.create_sent_at, Some(5));
    }

    #[test]
    fn a_damaged_line_before_the_last_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j");
        let good = serde_json::to_string(&creating("a")).unwrap();
        std::fs::write(&path, format!("{good}\nnot json\n{good}\n")).unwrap();
        let error = Journal::open(&path).unwrap_err();
        let cause = std::error::Error::source(&error).unwrap().to_string();
        assert!(cause.contains("line 2"), "{error}: {cause}");
    }
}
