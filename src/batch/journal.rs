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
use std::hash::{Hash as _, Hasher as _};
use std::io::{BufRead as _, BufReader, Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::Digest as _;

use crate::api::error::{Error, Result};

// A job's kind is written in the journal by its name (`video_agent`, `lipsync`, ...). A
// journal naming a kind this build lacks cannot be read, with the feature to enable.
use crate::api::kinds::JobKind;

/// How a job ended, as the journal records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum FinalState {
    /// The job ended well.
    Completed,
    /// A Video Agent session paused for input (chat mode); the runner does not answer.
    NeedsInput,
    /// The job was refused before sending: its request is invalid.
    Invalid,
    /// HeyGen refused the create (for example 400 or 402).
    Rejected,
    /// The job failed (a render, a session, a translation ...). Journals written by earlier
    /// versions say `video_failed` or `session_failed`; both read as this.
    #[serde(alias = "video_failed", alias = "session_failed")]
    Failed,
}

impl FinalState {
    /// The state's name, as written in the journal.
    pub fn as_str(&self) -> &'static str {
        match self {
            FinalState::Completed => "completed",
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
    /// The job ended. With its kind and request it says all a later run needs of the job,
    /// so that a resume keeps no more than its place in the file.
    Finished {
        key: String,
        state: FinalState,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        video_id: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        kind: Option<JobKind>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        request: Option<String>,
        /// The files its results were saved to, in the download folder.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        files: Vec<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        session_id: Option<String>,
        /// Its record as it ended, so that a later run gives the same result.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        record: Option<Value>,
    },
    /// Everything known of a job, in one line: what compacting a journal writes.
    Job {
        key: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        kind: Option<JobKind>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        idempotency_key: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        at: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        request: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        session_id: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        video_id: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        state: Option<FinalState>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        files: Vec<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        record: Option<Value>,
    },
}

impl Record {
    fn key(&self) -> &str {
        match self {
            Record::Creating { key, .. }
            | Record::Created { key, .. }
            | Record::Video { key, .. }
            | Record::Finished { key, .. }
            | Record::Job { key, .. } => key,
        }
    }

    /// Whether the line alone says all a later run needs of its job: it ended it, and names
    /// its kind (jobs refused before sending are tried again as new, and need nothing).
    fn ends_job_alone(&self) -> bool {
        match self {
            Record::Finished { state, kind, .. }
            | Record::Job {
                state: Some(state),
                kind,
                ..
            } => kind.is_some() || matches!(state, FinalState::Invalid | FinalState::Rejected),
            _ => false,
        }
    }

    /// The one line of a compacted journal for `record`.
    fn snapshot(key: String, record: JobRecord) -> Record {
        let (state, reason) = match record.finished {
            Some((state, reason)) => (Some(state), reason),
            None => (None, None),
        };
        Record::Job {
            key,
            kind: record.kind,
            idempotency_key: record.idempotency_key,
            at: record.create_sent_at,
            request: record.request_hash,
            session_id: record.session_id,
            video_id: record.video_id,
            state,
            reason,
            files: record.files,
            record: record.record,
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
    /// The files its results were saved to (names in the run's download folder), once it
    /// completed in a run that downloads.
    pub files: Vec<String>,
    /// Its record as it ended (as HeyGen sent it), when the journal kept it.
    pub record: Option<Value>,
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
                kind,
                request,
                files,
                session_id,
                record,
                ..
            } => {
                self.video_id = video_id.or(self.video_id.take());
                self.session_id = session_id.or(self.session_id.take());
                self.finished = Some((state, reason));
                self.files = files;
                self.record = record;
                self.kind = kind.or(self.kind);
                self.request_hash = request.or(self.request_hash.take());
            }
            Record::Job {
                kind,
                idempotency_key,
                at,
                request,
                session_id,
                video_id,
                state,
                reason,
                files,
                record,
                ..
            } => {
                *self = JobRecord {
                    files,
                    record,
                    kind,
                    idempotency_key,
                    create_sent_at: at,
                    request_hash: request,
                    session_id,
                    video_id,
                    finished: state.map(|state| (state, reason)),
                };
            }
        }
    }

    /// Whether its create was answered (it exists at HeyGen).
    pub fn is_created(&self) -> bool {
        self.session_id.is_some() || self.video_id.is_some()
    }
}

/// The jobs a journal describes, by key, read without touching the file: every line of every
/// job folded in, so memory grows with the journal. [`journal_jobs`](super::journal_jobs)
/// reads a campaign's journal in memory that does not.
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
        let mut file = File::open(path).map_err(|source| io(path, "reading", source))?;
        let mut jobs: HashMap<String, JobRecord> = HashMap::new();
        let scanned = scan(path, &mut file, |_, record| {
            jobs.entry(record.key().to_string())
                .or_default()
                .apply(record);
        })?;
        Ok(JournalSummary {
            jobs,
            torn_tail: scanned.torn,
        })
    }

    /// How many jobs are in each state: a [`FinalState`] name, `in_flight` (created, not
    /// ended) or `creating` (sent, not answered).
    pub fn counts(&self) -> std::collections::BTreeMap<&'static str, usize> {
        let mut counts = std::collections::BTreeMap::new();
        for job in self.jobs.values() {
            *counts.entry(job.state_name()).or_default() += 1;
        }
        counts
    }
}

impl JobRecord {
    /// Its state's name, as [`JournalSummary::counts`] counts it: a [`FinalState`] name,
    /// `in_flight` (created, not ended) or `creating` (sent, not answered).
    pub fn state_name(&self) -> &'static str {
        match &self.finished {
            Some((state, _)) => state.as_str(),
            None if self.is_created() => "in_flight",
            None => "creating",
        }
    }
}

/// How far a scan read.
struct Scanned {
    /// The length of the whole lines.
    whole: u64,
    /// Whether a torn last line follows them.
    torn: bool,
}

/// Reads the whole lines of a journal one at a time, from the start, handing each record and
/// the offset of its line to `each`; a torn last line (one without its end, even one cut
/// inside a character) is left out. Memory stays that of one line, whatever the file's size.
fn scan(path: &Path, file: &mut File, each: impl FnMut(u64, Record)) -> Result<Scanned> {
    scan_keeping(path, file, each, None)
}

/// [`scan`], with a damaged line before the last either an error (`dropped` is `None`) or
/// set aside in `dropped` while the reading goes on.
fn scan_keeping(
    path: &Path,
    file: &mut File,
    mut each: impl FnMut(u64, Record),
    mut dropped: Option<&mut Vec<DroppedLine>>,
) -> Result<Scanned> {
    file.seek(SeekFrom::Start(0))
        .map_err(|source| io(path, "reading", source))?;
    let mut reader = BufReader::with_capacity(64 * 1024, file);
    let mut line = Vec::new();
    let mut offset = 0u64;
    let mut number = 0usize;
    loop {
        line.clear();
        let read = reader
            .read_until(b'\n', &mut line)
            .map_err(|source| io(path, "reading", source))?;
        if read == 0 {
            return Ok(Scanned {
                whole: offset,
                torn: false,
            });
        }
        if line.last() != Some(&b'\n') {
            return Ok(Scanned {
                whole: offset,
                torn: true,
            });
        }
        number += 1;
        let text = &line[..read - 1];
        if !text.iter().all(u8::is_ascii_whitespace) {
            match serde_json::from_slice::<Record>(text) {
                Ok(record) => each(offset, record),
                Err(e) => match dropped.as_deref_mut() {
                    Some(dropped) => dropped.push(DroppedLine::of(number, offset, text, &e)),
                    None => {
                        return Err(io(
                            path,
                            "reading",
                            std::io::Error::new(
                                std::io::ErrorKind::InvalidData,
                                format!(
                                    "line {number} is damaged: {e} (`heygen batch salvage`, or \
                                     `batch::salvage_journal`, keeps every readable job and \
                                     lists the lines it could not read)"
                                ),
                            ),
                        ))
                    }
                },
            }
        }
        offset += read as u64;
    }
}

/// A 64-bit hash of a key, the same for the whole process: what the index of ended jobs is
/// sorted by (a match is confirmed by reading the line).
fn short_hash(key: &str) -> u64 {
    let mut hasher = std::hash::DefaultHasher::new();
    key.hash(&mut hasher);
    hasher.finish()
}

/// A 128-bit digest of a key, for the keys a run has taken that are not in the index.
fn long_hash(key: &str) -> u128 {
    let digest = sha2::Sha256::digest(key.as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    u128::from_le_bytes(bytes)
}

/// The index entry's mark for a job a run has taken.
const TAKEN: u64 = 1 << 63;
/// The mark for an ended line that a later attempt of its job replaced.
const REPLACED: u64 = 1 << 62;
const OFFSET: u64 = !(TAKEN | REPLACED);

/// A job not ended, and where its last attempt began.
#[derive(Debug)]
struct Open {
    record: JobRecord,
    /// The offset of the line that began its attempt (`creating`, or a compacted `job`),
    /// when the journal holds it.
    began: Option<u64>,
}

/// What a run learns of a job's key.
#[derive(Debug)]
pub(crate) enum Taken {
    /// The journal has it.
    Known(Box<JobRecord>),
    /// The journal does not have it: a new job.
    New,
    /// This run took the same key before.
    Repeated,
}

/// What a journal held when it was opened, kept small: each job that ended (nearly all of
/// them, in a long campaign) is 16 bytes, a hash of its key and the offset of the line that
/// ended it, read back when the job comes up. Only jobs that did not end are kept whole. Also
/// the keys a run takes, so that a repeated key is noticed.
pub(crate) struct Known {
    path: PathBuf,
    file: Option<File>,
    /// (hash of the key, offset of the line that ended the job, with its marks), sorted.
    ended: Vec<(u64, u64)>,
    open: HashMap<String, Open>,
    /// Keys taken that were not in `ended`.
    taken: std::collections::HashSet<u128>,
}

impl std::fmt::Debug for Known {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Known")
            .field("path", &self.path)
            .field("ended", &self.ended.len())
            .field("open", &self.open.len())
            .finish_non_exhaustive()
    }
}

impl Known {
    /// Nothing known: a run without a journal.
    pub(crate) fn empty() -> Self {
        Known {
            path: PathBuf::new(),
            file: None,
            ended: Vec::new(),
            open: HashMap::new(),
            taken: std::collections::HashSet::new(),
        }
    }

    /// Folds a journal, one line at a time; `file` is kept, to read lines back.
    fn fold(path: &Path, file: File) -> Result<(Known, Scanned)> {
        Self::fold_keeping(path, file, None)
    }

    /// [`Known::fold`], with damaged lines set aside in `dropped` rather than an error.
    fn fold_keeping(
        path: &Path,
        mut file: File,
        dropped: Option<&mut Vec<DroppedLine>>,
    ) -> Result<(Known, Scanned)> {
        let mut ended = Vec::new();
        let mut open: HashMap<String, Open> = HashMap::new();
        let scanned = scan_keeping(
            path,
            &mut file,
            |offset, record| {
                if record.ends_job_alone() {
                    ended.push((short_hash(record.key()), offset));
                    open.remove(record.key());
                    return;
                }
                let begins = matches!(record, Record::Creating { .. } | Record::Job { .. });
                let job = open.entry(record.key().to_string()).or_insert(Open {
                    record: JobRecord::default(),
                    began: None,
                });
                let attempt = job.record.idempotency_key.clone();
                job.record.apply(record);
                if begins && (job.began.is_none() || job.record.idempotency_key != attempt) {
                    job.began = Some(offset);
                }
            },
            dropped,
        )?;
        ended.sort_unstable();
        let mut known = Known {
            path: path.to_path_buf(),
            file: Some(file),
            ended,
            open,
            taken: std::collections::HashSet::new(),
        };
        known.settle()?;
        Ok((known, scanned))
    }

    /// A job both ended and open (an ended job tried again, or a line written after its end):
    /// the later of the two stands.
    fn settle(&mut self) -> Result<()> {
        // A job that ended more than once (refused, then tried again and ended): its last
        // end stands. Only lines of one hash are compared, read back for their keys.
        let mut i = 0;
        while i < self.ended.len() {
            let hash = self.ended[i].0;
            let mut end = i + 1;
            while end < self.ended.len() && self.ended[end].0 == hash {
                end += 1;
            }
            if end - i > 1 {
                let mut latest: HashMap<String, usize> = HashMap::new();
                for j in i..end {
                    let (key, _) = self.key_at(self.ended[j].1 & OFFSET)?;
                    // Sorted by offset within a hash: the later line replaces the earlier.
                    if let Some(earlier) = latest.insert(key, j) {
                        self.ended[earlier].1 |= REPLACED;
                    }
                }
            }
            i = end;
        }
        let keys: Vec<String> = self.open.keys().cloned().collect();
        for key in keys {
            let Some(index) = self.find(&key)? else {
                continue;
            };
            let ended_at = self.ended[index].1 & OFFSET;
            let began = self.open.get(&key).and_then(|job| job.began);
            if began.is_some_and(|began| began > ended_at) {
                // Tried again after it ended: every earlier end of it is replaced.
                let hash = short_hash(&key);
                let first = self.ended.partition_point(|(h, _)| *h < hash);
                for i in first..self.ended.len() {
                    if self.ended[i].0 != hash {
                        break;
                    }
                    if self.key_at(self.ended[i].1 & OFFSET)?.0 == key {
                        self.ended[i].1 |= REPLACED;
                    }
                }
            } else {
                self.open.remove(&key);
            }
        }
        Ok(())
    }

    /// The index of the latest ended line of `key` still standing, read back to be sure.
    fn find(&mut self, key: &str) -> Result<Option<usize>> {
        let hash = short_hash(key);
        let first = self.ended.partition_point(|(h, _)| *h < hash);
        let last = self.ended.partition_point(|(h, _)| *h <= hash);
        for i in (first..last).rev() {
            if self.ended[i].1 & REPLACED != 0 {
                continue;
            }
            if self.key_at(self.ended[i].1 & OFFSET)?.0 == key {
                return Ok(Some(i));
            }
        }
        Ok(None)
    }

    /// The key and record of the line at `offset`.
    fn key_at(&mut self, offset: u64) -> Result<(String, Record)> {
        let path = self.path.clone();
        let damaged = |detail: String| {
            io(
                &path,
                "reading",
                std::io::Error::new(std::io::ErrorKind::InvalidData, detail),
            )
        };
        let Some(file) = &mut self.file else {
            return Err(damaged("no journal is open".into()));
        };
        file.seek(SeekFrom::Start(offset))
            .map_err(|source| io(&path, "reading", source))?;
        let mut line = Vec::new();
        BufReader::with_capacity(1024, &mut *file)
            .read_until(b'\n', &mut line)
            .map_err(|source| io(&path, "reading", source))?;
        let record: Record = serde_json::from_slice(line.trim_ascii_end())
            .map_err(|e| damaged(format!("the line at byte {offset} changed: {e}")))?;
        Ok((record.key().to_string(), record))
    }

    /// Takes a key for the run: what the journal knows of it, once.
    pub(crate) fn take(&mut self, key: &str) -> Result<Taken> {
        if let Some(job) = self.open.remove(key) {
            self.taken.insert(long_hash(key));
            return Ok(Taken::Known(Box::new(job.record)));
        }
        if let Some(index) = self.find(key)? {
            let (taken, offset) = (self.ended[index].1 & TAKEN != 0, self.ended[index].1);
            if taken {
                return Ok(Taken::Repeated);
            }
            let (_, record) = self.key_at(offset & OFFSET)?;
            self.ended[index].1 |= TAKEN;
            let mut job = JobRecord::default();
            job.apply(record);
            return Ok(Taken::Known(Box::new(job)));
        }
        if self.taken.insert(long_hash(key)) {
            Ok(Taken::New)
        } else {
            Ok(Taken::Repeated)
        }
    }

    /// How many jobs the journal held (those taken included).
    fn len(&self) -> usize {
        self.ended
            .iter()
            .filter(|(_, offset)| offset & REPLACED == 0)
            .count()
            + self.open.len()
    }

    /// Hands every job to `each` once: those that ended in the order they ended, with what
    /// their last end line says, then those that did not, with all the journal says.
    fn each_job(mut self, mut each: impl FnMut(String, JobRecord) -> Result<()>) -> Result<()> {
        let mut ended = std::mem::take(&mut self.ended);
        ended.retain(|(_, offset)| offset & REPLACED == 0);
        ended.sort_unstable_by_key(|(_, offset)| offset & OFFSET);
        for (_, offset) in ended {
            let (key, record) = self.key_at(offset & OFFSET)?;
            let mut job = JobRecord::default();
            job.apply(record);
            each(key, job)?;
        }
        let mut open: Vec<(String, Open)> = self.open.drain().collect();
        open.sort_by_key(|(_, job)| job.began);
        for (key, job) in open {
            each(key, job.record)?;
        }
        Ok(())
    }

    /// Writes one line per job, in the order the jobs ended (jobs not ended last); returns
    /// how many.
    fn write_compacted(self, out: &mut impl std::io::Write, to: &Path) -> Result<u64> {
        let mut jobs = 0;
        self.each_job(|key, job| {
            let mut line = serde_json::to_vec(&Record::snapshot(key, job)).map_err(|e| {
                io(
                    to,
                    "writing",
                    std::io::Error::new(std::io::ErrorKind::InvalidData, e),
                )
            })?;
            line.push(b'\n');
            out.write_all(&line)
                .map_err(|source| io(to, "writing", source))?;
            jobs += 1;
            Ok(())
        })?;
        Ok(jobs)
    }
}

/// What [`journal_jobs`](super::journal_jobs) read.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct JournalJobs {
    /// How many jobs the journal holds.
    pub jobs: u64,
    /// How many are in each state, as [`JournalSummary::counts`] counts them.
    pub counts: std::collections::BTreeMap<&'static str, usize>,
    /// Whether a torn last line was skipped.
    pub torn_tail: bool,
}

/// Hands every job of a journal to `each`, one at a time, with what the journal says of it:
/// the jobs that ended, in the order they ended, then those that did not (and those ended by
/// a version of this crate that wrote less in the line). Memory does not grow
/// with the journal beyond the index a resume keeps (16 bytes per ended job), so a campaign's
/// journal of millions of jobs is read in tens of MiB (`heygen batch status`), where
/// [`JournalSummary::read`] holds every job whole. Of a job that ended, `each` sees what its
/// last line says (its kind, request hash, video, and how it ended and why), not its session
/// or idempotency key. The journal is only read: a run may have it open.
///
/// # Errors
/// [`Error::Io`] when it cannot be read or a line other than the last is damaged.
pub fn journal_jobs(
    path: impl AsRef<Path>,
    mut each: impl FnMut(&str, &JobRecord),
) -> Result<JournalJobs> {
    let path = path.as_ref();
    let file = File::open(path).map_err(|source| io(path, "reading", source))?;
    let (known, scanned) = Known::fold(path, file)?;
    let mut read = JournalJobs {
        jobs: 0,
        counts: std::collections::BTreeMap::new(),
        torn_tail: scanned.torn,
    };
    known.each_job(|key, job| {
        each(&key, &job);
        read.jobs += 1;
        *read.counts.entry(job.state_name()).or_default() += 1;
        Ok(())
    })?;
    Ok(read)
}

/// What compacting a journal did ([`compact_journal`](super::compact_journal)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Compacted {
    /// Jobs in the journal: one line each now.
    pub jobs: u64,
    /// Its size before.
    pub bytes_before: u64,
    /// Its size after.
    pub bytes_after: u64,
}

/// Rewrites a journal with one line per job, all that a later run needs of it (its kind,
/// idempotency key, request hash, ids, and how it ended). The new journal is written beside
/// the old one, synced, and put in its place in one rename, so that a crash leaves one or the
/// other whole. A torn last line is dropped. A journal a run has open is refused: the lines
/// the run appended during the compaction would be lost with the old file.
///
/// # Errors
/// [`Error::Io`] when a run has the journal open, when it cannot be read, a line other than
/// the last is damaged, or the new journal cannot be written.
pub fn compact(path: impl AsRef<Path>) -> Result<Compacted> {
    let path = path.as_ref();
    let reader = File::open(path).map_err(|source| io(path, "opening", source))?;
    // Held until the new journal is in place.
    lock(path, &reader)?;
    let bytes_before = reader
        .metadata()
        .map_err(|source| io(path, "reading", source))?
        .len();
    let (known, _) = Known::fold(path, reader)?;
    let (jobs, bytes_after) = replace_with(path, known)?;
    Ok(Compacted {
        jobs,
        bytes_before,
        bytes_after,
    })
}

/// Writes one line per job of `known` beside `path`, then puts it in place of `path` in one
/// rename; how many jobs, and the new size.
fn replace_with(path: &Path, known: Known) -> Result<(u64, u64)> {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".compacting");
    let new = path.with_file_name(name);
    let file = File::create(&new).map_err(|source| io(&new, "creating", source))?;
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, file);
    let written = known.write_compacted(&mut out, &new).and_then(|jobs| {
        let file = out
            .into_inner()
            .map_err(|e| io(&new, "writing", e.into_error()))?;
        file.sync_all()
            .map_err(|source| io(&new, "syncing", source))?;
        Ok((jobs, file))
    });
    let (jobs, file) = match written {
        Ok(done) => done,
        Err(error) => {
            let _ = std::fs::remove_file(&new);
            return Err(error);
        }
    };
    let bytes_after = file
        .metadata()
        .map_err(|source| io(&new, "reading", source))?
        .len();
    std::fs::rename(&new, path).map_err(|source| io(path, "replacing", source))?;
    // The rename itself reaches the disk with its directory.
    #[cfg(unix)]
    if let Some(dir) = path.parent() {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        if let Ok(dir) = File::open(dir) {
            let _ = dir.sync_all();
        }
    }
    Ok((jobs, bytes_after))
}

/// A line of a journal that could not be read, as [`salvage`] set it aside.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DroppedLine {
    /// Its number in the file, from 1.
    pub number: usize,
    /// Where it starts in the file, in bytes.
    pub offset: u64,
    /// The job it names, when a key can still be read in it (`"key":"…"`).
    pub key: Option<String>,
    /// The job it names is in no line that reads: the journal no longer knows it, and a run
    /// of its jobs file would create it again under a new idempotency key.
    pub job_lost: bool,
    /// Why it could not be read.
    pub reason: String,
    /// Its first 200 characters (invalid UTF-8 replaced).
    pub text: String,
}

impl DroppedLine {
    fn of(number: usize, offset: u64, line: &[u8], error: &serde_json::Error) -> Self {
        let text = String::from_utf8_lossy(line);
        let key = text.find("\"key\":\"").and_then(|at| {
            let rest = &text[at + 7..];
            rest.find('"').map(|end| rest[..end].to_string())
        });
        DroppedLine {
            number,
            offset,
            key,
            job_lost: false,
            reason: error.to_string(),
            text: text.chars().take(200).collect(),
        }
    }
}

/// What [`salvage`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Salvaged {
    /// The jobs the journal holds now, one line each.
    pub jobs: u64,
    /// The lines that could not be read, in file order; empty when nothing was damaged (the
    /// journal is then left as it was).
    pub dropped: Vec<DroppedLine>,
    /// Where the journal as it was is kept, byte for byte, when lines were dropped.
    pub original: Option<PathBuf>,
    /// Whether a torn last line was left out.
    pub torn_tail: bool,
}

/// Makes a journal with damaged lines usable again, losing nothing silently: every line that
/// reads is kept (the journal is rewritten with one line per job, as [`compact`] writes it),
/// each line that does not is listed with the job it names where a key can be read, and the
/// file as it was is kept beside it (`<journal>.damaged`, or `.damaged.2` and on when that
/// exists). A job whose lines were all dropped ([`DroppedLine::job_lost`]) is unknown to the
/// next run, which would create it again under a new idempotency key: look it up at HeyGen
/// before running again. A journal with no damaged line is left untouched. Refused while a run
/// has the journal open.
///
/// # Errors
/// [`Error::Io`] when a run has the journal open, it cannot be read, or the copy or the new
/// journal cannot be written.
pub fn salvage(path: impl AsRef<Path>) -> Result<Salvaged> {
    let path = path.as_ref();
    let reader = File::open(path).map_err(|source| io(path, "opening", source))?;
    // Held until the new journal is in place.
    lock(path, &reader)?;
    let mut dropped = Vec::new();
    let (mut known, scanned) = Known::fold_keeping(path, reader, Some(&mut dropped))?;
    for line in &mut dropped {
        if let Some(key) = &line.key {
            line.job_lost = !known.open.contains_key(key) && known.find(key)?.is_none();
        }
    }
    if dropped.is_empty() {
        return Ok(Salvaged {
            jobs: known.len() as u64,
            dropped,
            original: None,
            torn_tail: scanned.torn,
        });
    }
    let mut copy = None;
    for n in 1..1000 {
        let mut name = path.file_name().unwrap_or_default().to_os_string();
        name.push(if n == 1 {
            ".damaged".to_string()
        } else {
            format!(".damaged.{n}")
        });
        let candidate = path.with_file_name(name);
        if !candidate.exists() {
            copy = Some(candidate);
            break;
        }
    }
    let copy = copy.ok_or_else(|| {
        io(
            path,
            "keeping a copy of",
            std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                "999 damaged copies are there already",
            ),
        )
    })?;
    std::fs::copy(path, &copy).map_err(|source| io(&copy, "writing", source))?;
    File::open(&copy)
        .and_then(|file| file.sync_all())
        .map_err(|source| io(&copy, "syncing", source))?;
    let (jobs, _) = replace_with(path, known)?;
    Ok(Salvaged {
        jobs,
        dropped,
        original: Some(copy),
        torn_tail: scanned.torn,
    })
}

/// A journal held by a run: an advisory lock on a handle of its own, released when this is
/// dropped (or when the process ends, however it ends). A second run, or a compaction, of a
/// journal a run holds is refused rather than left to interleave or lose its lines. On Unix
/// only: elsewhere the lock would also bar the run's own other handles on the file.
#[derive(Debug)]
pub(crate) struct JournalLock {
    _file: Option<File>,
}

/// Takes the lock of the journal at `path`.
fn hold(path: &Path) -> Result<JournalLock> {
    if cfg!(unix) {
        let file = File::open(path).map_err(|source| io(path, "opening", source))?;
        lock(path, &file)?;
        Ok(JournalLock { _file: Some(file) })
    } else {
        Ok(JournalLock { _file: None })
    }
}

#[cfg(not(unix))]
fn lock(_: &Path, _: &File) -> Result<()> {
    Ok(())
}

#[cfg(unix)]
fn lock(path: &Path, file: &File) -> Result<()> {
    match file.try_lock() {
        Ok(()) => Ok(()),
        Err(std::fs::TryLockError::WouldBlock) => Err(io(
            path,
            "opening",
            std::io::Error::new(
                std::io::ErrorKind::WouldBlock,
                "another run has it open; wait for that run to end",
            ),
        )),
        Err(std::fs::TryLockError::Error(source)) => Err(io(path, "locking", source)),
    }
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
    /// The journal's lock, until the run takes it to hold in its own hands.
    lock: Option<JournalLock>,
    /// The bytes of a torn last line cut off on opening, if there was one.
    cut_tail: Option<u64>,
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
    pub(crate) fn open(path: &Path) -> Result<(Journal, Known)> {
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)
            .map_err(|source| io(path, "opening", source))?;
        let lock = hold(path)?;
        let reader = File::open(path).map_err(|source| io(path, "opening", source))?;
        let (known, scanned) = Known::fold(path, reader)?;
        let mut cut_tail = None;
        if scanned.torn {
            tracing::warn!(journal = %path.display(), "cutting off a torn last line");
            let length = file
                .metadata()
                .map_err(|source| io(path, "repairing", source))?
                .len();
            cut_tail = Some(length.saturating_sub(scanned.whole));
            truncate(path, scanned.whole).map_err(|source| io(path, "repairing", source))?;
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
                len: scanned.whole,
                written: 0,
                broken: false,
                lock: Some(lock),
                cut_tail,
            },
            known,
        ))
    }

    /// The bytes of a torn last line cut off when the journal was opened, if there was one.
    pub(crate) fn cut_tail(&self) -> Option<u64> {
        self.cut_tail
    }

    /// The journal's lock, for the run to hold: the run's handle lets go of it the moment the
    /// run is dropped, while its engine may take a moment more to stop.
    pub(crate) fn take_lock(&mut self) -> Option<JournalLock> {
        self.lock.take()
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
        assert_eq!(jobs.len(), 0);
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
                kind: None,
                request: None,
                files: Vec::new(),
                session_id: None,
                record: None,
            })
            .unwrap();
        drop(journal);
        let (_, mut jobs) = Journal::open(&path).unwrap();
        let a = known(&mut jobs, "a");
        assert_eq!(a.idempotency_key.as_deref(), Some("idem-a"));
        assert_eq!(a.session_id.as_deref(), Some("s1"));
        assert_eq!(a.video_id.as_deref(), Some("v1"));
        assert_eq!(a.finished, Some((FinalState::Completed, None)));
        let b = known(&mut jobs, "b");
        assert!(!b.is_created() && b.finished.is_none());
        // Each key is taken once; a key the journal never saw is new, once.
        assert!(matches!(jobs.take("a"), Ok(Taken::Repeated)));
        assert!(matches!(jobs.take("c"), Ok(Taken::New)));
        assert!(matches!(jobs.take("c"), Ok(Taken::Repeated)));
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

    /// What the journal knows of `key`, which it must know.
    fn known(jobs: &mut Known, key: &str) -> JobRecord {
        match jobs.take(key) {
            Ok(Taken::Known(record)) => *record,
            other => panic!("{key}: {other:?}"),
        }
    }

    fn finished(key: &str, state: FinalState, kind: Option<JobKind>) -> Record {
        Record::Finished {
            key: key.into(),
            state,
            video_id: Some(format!("v-{key}")),
            reason: None,
            kind,
            request: kind.map(|_| format!("req-{key}")),
            files: Vec::new(),
            session_id: None,
            record: None,
        }
    }

    fn write(path: &Path, records: &[Record]) {
        let (mut journal, _) = Journal::open(path).unwrap();
        for record in records {
            journal.append(record).unwrap();
        }
    }

    /// Ended jobs, ended jobs tried again, jobs in flight and an end written by an older
    /// version (without the job's kind).
    fn campaign() -> Vec<Record> {
        let created = |key: &str| Record::Created {
            key: key.into(),
            session_id: None,
            video_id: Some(format!("v-{key}")),
        };
        vec![
            creating("done"),
            created("done"),
            finished("done", FinalState::Completed, Some(JobKind::Video)),
            creating("again"),
            finished("again", FinalState::Rejected, None),
            Record::Creating {
                key: "again".into(),
                kind: JobKind::Video,
                idempotency_key: "second".into(),
                at: 2,
                request: None,
            },
            created("again"),
            creating("flying"),
            created("flying"),
            creating("old"),
            finished("old", FinalState::Failed, None),
            creating("twice"),
            finished("twice", FinalState::Rejected, None),
            creating("twice"),
            finished("twice", FinalState::Completed, Some(JobKind::Video)),
        ]
    }

    /// What a run learns of each key of [`campaign`].
    fn learned(jobs: &mut Known) -> Vec<(String, Option<FinalState>, Option<String>, bool)> {
        ["done", "again", "flying", "old", "twice"]
            .iter()
            .map(|key| {
                let job = known(jobs, key);
                let state = job.finished.as_ref().map(|(state, _)| *state);
                let created = job.is_created();
                (key.to_string(), state, job.idempotency_key, created)
            })
            .collect()
    }

    #[test]
    fn ended_jobs_are_read_back_from_their_line_and_later_attempts_stand() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j");
        write(&path, &campaign());
        let (_, mut jobs) = Journal::open(&path).unwrap();
        // Four lines ended jobs alone, one of them replaced by a later end of its job; three
        // jobs are kept whole (tried again, in flight, ended by an older version).
        assert_eq!(
            (jobs.ended.len(), jobs.open.len(), jobs.len()),
            (4, 3, 5),
            "{jobs:?}"
        );
        let done = known(&mut jobs, "done");
        assert_eq!(done.finished, Some((FinalState::Completed, None)));
        assert_eq!(done.kind, Some(JobKind::Video));
        assert_eq!(done.request_hash.as_deref(), Some("req-done"));
        assert_eq!(done.video_id.as_deref(), Some("v-done"));
        let again = known(&mut jobs, "again");
        assert_eq!(again.finished, None, "tried again after it was refused");
        assert_eq!(again.idempotency_key.as_deref(), Some("second"));
        assert!(again.is_created());
        let old = known(&mut jobs, "old");
        assert_eq!(old.finished, Some((FinalState::Failed, None)));
        assert_eq!(old.idempotency_key.as_deref(), Some("idem-old"));
        let twice = known(&mut jobs, "twice");
        assert_eq!(twice.finished, Some((FinalState::Completed, None)));
        assert!(known(&mut jobs, "flying").is_created());
    }

    #[test]
    fn a_compacted_journal_has_one_line_per_job_and_tells_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j");
        write(&path, &campaign());
        let before = learned(&mut Journal::open(&path).unwrap().1);
        let compacted = compact(&path).unwrap();
        assert_eq!(compacted.jobs, 5);
        assert!(
            compacted.bytes_after < compacted.bytes_before,
            "{compacted:?}"
        );
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 5, "{text}");
        assert!(!dir.path().join("j.compacting").exists());
        let (_, mut jobs) = Journal::open(&path).unwrap();
        assert_eq!(learned(&mut jobs), before);
        // Compacting again changes no line (their order may change: every line of a
        // compacted journal that ended its job now says so alone).
        compact(&path).unwrap();
        let sorted = |text: &str| {
            let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
            lines.sort();
            lines
        };
        assert_eq!(
            sorted(&std::fs::read_to_string(&path).unwrap()),
            sorted(&text)
        );
    }

    #[test]
    fn jobs_read_one_at_a_time_tell_what_the_whole_fold_tells() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j");
        write(&path, &campaign());
        // A torn last line: skipped by both.
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        file.write_all(br#"{"event":"creating","key":"torn""#)
            .unwrap();
        let whole = JournalSummary::read(&path).unwrap();
        let mut seen = Vec::new();
        let read = journal_jobs(&path, |key, job| {
            seen.push((key.to_string(), job.state_name(), job.finished.clone()));
        })
        .unwrap();
        assert_eq!(read.jobs, 5);
        assert_eq!(read.counts, whole.counts());
        assert!(read.torn_tail && whole.torn_tail);
        // Jobs whose last line ended them alone first, in the order they ended; then the rest
        // (not ended, or ended by an older version: `old`).
        let keys: Vec<&str> = seen.iter().map(|(key, ..)| key.as_str()).collect();
        assert_eq!(&keys[..2], ["done", "twice"], "{seen:?}");
        let mut expected: Vec<_> = whole
            .jobs
            .iter()
            .map(|(key, job)| (key.clone(), job.state_name(), job.finished.clone()))
            .collect();
        expected.sort_by(|a, b| a.0.cmp(&b.0));
        seen.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(seen, expected);
        // And after compaction, the same again.
        compact(&path).unwrap();
        let mut again = Vec::new();
        journal_jobs(&path, |key, job| {
            again.push((key.to_string(), job.state_name(), job.finished.clone()));
        })
        .unwrap();
        again.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(again, expected);
    }

    /// A journal a run has open is refused to a second run and to compaction, and left as it
    /// was; once the run closes it, both go ahead.
    #[cfg(unix)]
    #[test]
    fn a_journal_in_use_is_refused_to_a_second_run_and_to_compaction() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j");
        let (mut journal, _) = Journal::open(&path).unwrap();
        journal.append(&creating("a")).unwrap();
        journal.append(&creating("a")).unwrap();
        let before = std::fs::read(&path).unwrap();
        let refused = |error: Error| {
            let Error::Io { context, source } = &error else {
                panic!("{error:?}");
            };
            assert!(context.contains(&path.display().to_string()), "{context}");
            assert_eq!(source.kind(), std::io::ErrorKind::WouldBlock, "{source}");
            assert!(source.to_string().contains("another run has it open"));
        };
        refused(Journal::open(&path).unwrap_err());
        refused(compact(&path).unwrap_err());
        assert_eq!(std::fs::read(&path).unwrap(), before);
        assert!(!dir.path().join("j.compacting").exists());
        drop(journal);
        assert_eq!(compact(&path).unwrap().jobs, 1);
        Journal::open(&path).unwrap();
    }

    /// Journals written before failures had one name say `video_failed` and
    /// `session_failed`: both still read, as `failed`.
    #[test]
    fn the_failures_of_older_journals_read_as_failed() {
        for old in ["video_failed", "session_failed", "failed"] {
            let line = format!(r#"{{"event":"finished","key":"k","state":"{old}"}}"#);
            let record: Record = serde_json::from_str(&line).unwrap();
            assert!(
                matches!(
                    record,
                    Record::Finished {
                        state: FinalState::Failed,
                        ..
                    }
                ),
                "{old}"
            );
        }
        let line = r#"{"event":"finished","key":"k","state":"exploded"}"#;
        assert!(serde_json::from_str::<Record>(line).is_err());
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
            kind: None,
            request: None,
            files: Vec::new(),
            session_id: None,
            record: None,
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
    fn salvage_keeps_every_readable_job_and_lists_what_it_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j");
        let line = |record: &Record| serde_json::to_string(record).unwrap();
        let a = line(&creating("a"));
        let b = line(&creating("b"));
        let c_end = line(&finished("c", FinalState::Completed, Some(JobKind::Video)));
        let a_end = line(&finished("a", FinalState::Completed, None));
        // b's only line torn, a line without a key, then a's second line torn: a keeps its
        // first line; b is lost; c reads whole.
        let text = format!(
            "{a}\n{}\nnot json\n{c_end}\n{}\n",
            &b[..b.len() - 5],
            &a_end[..a_end.len() - 3]
        );
        std::fs::write(&path, &text).unwrap();
        assert!(Journal::open(&path).is_err());

        let salvaged = salvage(&path).unwrap();
        assert_eq!(salvaged.jobs, 2);
        let dropped: Vec<_> = salvaged
            .dropped
            .iter()
            .map(|d| (d.number, d.key.as_deref(), d.job_lost))
            .collect();
        assert_eq!(
            dropped,
            [
                (2, Some("b"), true),
                (3, None, false),
                (5, Some("a"), false)
            ]
        );
        let original = salvaged.original.unwrap();
        assert_eq!(std::fs::read_to_string(&original).unwrap(), text);
        // The journal opens again, with a in flight and c ended.
        let (_, mut jobs) = Journal::open(&path).unwrap();
        assert_eq!(jobs.len(), 2);
        assert!(jobs.find("c").unwrap().is_some());
        assert_eq!(
            known(&mut jobs, "a").idempotency_key.as_deref(),
            Some("idem-a")
        );

        // Nothing more to set aside: the file is left as it is, and no copy is made.
        let after = std::fs::read(&path).unwrap();
        let again = salvage(&path).unwrap();
        assert!(again.dropped.is_empty() && again.original.is_none());
        assert_eq!(std::fs::read(&path).unwrap(), after);
        // A second salvage that drops lines keeps its copy under a new name.
        std::fs::write(&path, format!("{a}\nnoise\n{a}\n")).unwrap();
        let second = salvage(&path).unwrap();
        assert!(second.original.unwrap().ends_with("j.damaged.2"));
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
