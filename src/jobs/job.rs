//! Waiting for the jobs of the other families (translations, lip-syncs, clipping jobs,
//! background removals, proofreads, avatars, voices): poll until each ends, one at a time or
//! many at once.
//!
//! Every kind is a one-stage [`Kind`](crate::jobs::lifecycle::Kind) of the one lifecycle: the
//! statuses that end it, and whether HeyGen answers its statuses in bulk. This driver does the
//! requests and keeps the time; the lifecycle decides what each answer means, as it does for
//! videos. A job is polled through its family's `get` operation; kinds with a bulk statuses
//! operation (translations, lip-syncs) are polled 100 at a time while more than one is
//! waited for, and a status that ends a job in bulk is confirmed by fetching its record.

use std::collections::VecDeque;
use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use futures_core::Stream;
use serde_json::Value;
use tokio::time::Instant;

use crate::api::error::{Error, Result};
use crate::jobs::lifecycle::{self, End, Lifecycle, Next, Observed};
use crate::jobs::wait::{PolledStatus, WaitEvent, WaitOptions, WaitPhase};
use crate::operations::Invocation;
use crate::Client;

/// How many ids a bulk statuses request names.
const IDS_PER_REQUEST: usize = 100;

/// A kind of asynchronous job beyond videos. Each exists when its family's Cargo feature is
/// enabled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum JobKind {
    /// A video translation (one output language), until `completed` or `failed`.
    #[cfg(feature = "translations")]
    VideoTranslation,
    /// A proofread of a translation, until its subtitles are ready (`completed`) or `failed`.
    #[cfg(feature = "translations")]
    Proofread,
    /// A lip-sync job, until `completed` or `failed`.
    #[cfg(feature = "lipsync")]
    Lipsync,
    /// A clipping job, until `completed`, `failed` or `cancelled` (each clip has its own
    /// status beside the job's).
    #[cfg(feature = "clipping")]
    ClippingJob,
    /// A background removal, until it is done or has failed.
    #[cfg(feature = "background-removal")]
    BackgroundRemoval,
    /// A new avatar group, until trained (`completed`) or `failed`; it pauses at
    /// `pending_consent` until consent is given.
    #[cfg(feature = "avatars")]
    Avatar,
    /// A cloned or designed voice, until `complete` or `failed`.
    #[cfg(feature = "voices")]
    Voice,
}

/// What the drivers need of a kind: its lifecycle, and the operations that create, poll and
/// fetch it.
pub(crate) struct Ops {
    pub(crate) life: &'static lifecycle::Kind,
    /// Creates one job (a JSON body).
    pub(crate) create: &'static str,
    /// Where the created job's id is in the create's answer (JSON pointers, tried in order).
    pub(crate) created_id: &'static [&'static str],
    /// Where the URL of the file a finished job made is in its record, if it makes one.
    pub(crate) result_url: Option<&'static str>,
    /// Fetches one job by its id (the only path parameter).
    pub(crate) get: &'static str,
    /// The bulk statuses operation, the query parameter that names the ids, and the member
    /// of each answered item that holds its job's id.
    pub(crate) bulk: Option<(&'static str, &'static str, &'static str)>,
}

impl JobKind {
    pub(crate) fn ops(self) -> Ops {
        match self {
            #[cfg(feature = "translations")]
            JobKind::VideoTranslation => Ops {
                life: &lifecycle::VIDEO_TRANSLATION,
                create: "create_video_translation",
                created_id: &["/video_translation_ids/0"],
                result_url: Some("/video_url"),
                get: "get_video_translation",
                bulk: Some((
                    "get_video_translation_statuses",
                    "video_translation_ids",
                    "video_id",
                )),
            },
            #[cfg(feature = "translations")]
            JobKind::Proofread => Ops {
                life: &lifecycle::PROOFREAD,
                create: "create_proofread",
                created_id: &["/proofread_ids/0"],
                result_url: None,
                get: "get_proofread",
                bulk: None,
            },
            #[cfg(feature = "lipsync")]
            JobKind::Lipsync => Ops {
                life: &lifecycle::LIPSYNC,
                create: "create_lipsync",
                created_id: &["/lipsync_id"],
                result_url: Some("/video_url"),
                get: "get_lipsync",
                bulk: Some(("get_lipsync_statuses", "lipsync_ids", "video_id")),
            },
            #[cfg(feature = "clipping")]
            JobKind::ClippingJob => Ops {
                life: &lifecycle::CLIPPING_JOB,
                create: "create_clipping_job",
                created_id: &["/id", "/job_id"],
                result_url: Some("/clips/0/video_url"),
                get: "get_clipping_job",
                bulk: None,
            },
            #[cfg(feature = "background-removal")]
            JobKind::BackgroundRemoval => Ops {
                life: &lifecycle::BACKGROUND_REMOVAL,
                create: "create_background_removal",
                created_id: &["/id"],
                result_url: Some("/layers/foreground"),
                get: "get_background_removal",
                bulk: None,
            },
            #[cfg(feature = "avatars")]
            JobKind::Avatar => Ops {
                life: &lifecycle::AVATAR,
                create: "create_avatar",
                created_id: &["/avatar_group/id"],
                result_url: None,
                get: "get_avatar_group",
                bulk: None,
            },
            #[cfg(feature = "voices")]
            JobKind::Voice => Ops {
                life: &lifecycle::VOICE,
                create: "clone_voice",
                created_id: &["/voice_clone_id"],
                // A voice's result is the voice itself; its preview is no file to keep.
                result_url: None,
                get: "get_voice",
                bulk: None,
            },
        }
    }

    /// The operation that fetches one job of this kind.
    #[cfg_attr(not(heygen_jobs), allow(dead_code))]
    pub(crate) fn ops_get(self) -> &'static str {
        self.ops().get
    }

    /// The snake-case name the spec and the batch journal use (`video_translation`).
    pub fn as_str(self) -> &'static str {
        match self {
            #[cfg(feature = "translations")]
            JobKind::VideoTranslation => "video_translation",
            #[cfg(feature = "translations")]
            JobKind::Proofread => "proofread",
            #[cfg(feature = "lipsync")]
            JobKind::Lipsync => "lipsync",
            #[cfg(feature = "clipping")]
            JobKind::ClippingJob => "clipping_job",
            #[cfg(feature = "background-removal")]
            JobKind::BackgroundRemoval => "background_removal",
            #[cfg(feature = "avatars")]
            JobKind::Avatar => "avatar",
            #[cfg(feature = "voices")]
            JobKind::Voice => "voice",
        }
    }

    /// A job's status, as its record (any family's, or a video's) says it; empty when the
    /// record has none.
    pub fn status(record: &Value) -> &str {
        record.get("status").and_then(Value::as_str).unwrap_or("")
    }

    /// Why a job failed, as its record says: `failure_message`, `message`, or `error` (its
    /// text, or its `message`).
    pub fn failure_reason(record: &Value) -> Option<String> {
        ["failure_message", "message", "error"]
            .iter()
            .find_map(|key| match record.get(*key) {
                Some(Value::String(text)) if !text.is_empty() => Some(text.clone()),
                Some(Value::Object(error)) => error
                    .get("message")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                _ => None,
            })
    }

    /// The URL of the file a finished job made, read from its record (a translation's or a
    /// lip-sync's video, a clipping job's first clip, a cut-out's foreground, a voice's
    /// preview), if its kind makes one and the record has it.
    pub fn result_url(self, record: &Value) -> Option<&str> {
        record
            .pointer(self.ops().result_url?)
            .and_then(Value::as_str)
            .filter(|url| !url.is_empty())
    }

    /// One bulk statuses request for `ids` (at most 100), every page followed; `None` for a
    /// kind without bulk statuses.
    pub(crate) async fn bulk_statuses(
        self,
        client: &Client,
        ids: &[String],
    ) -> Option<Result<Value>> {
        let (op, param, _) = self.ops().bulk?;
        Some(
            client
                .invoke(
                    op,
                    Invocation::new()
                        .query(param, ids.join(","))
                        .all_pages(true),
                )
                .await,
        )
    }

    /// The status a bulk answer gives the job `id` (`not_found` included), if it names it.
    pub(crate) fn bulk_status<'a>(self, page: &'a Value, id: &str) -> Option<&'a str> {
        let (_, _, member) = self.ops().bulk?;
        page.get("data")?
            .as_array()?
            .iter()
            .find(|item| item.get(member).and_then(Value::as_str) == Some(id))?
            .get("status")?
            .as_str()
    }

    /// What the job is called in messages (`video translation`).
    pub fn name(self) -> &'static str {
        self.ops().life.name
    }

    /// Whether HeyGen answers this kind's statuses many at a time.
    pub fn polls_in_bulk(self) -> bool {
        self.ops().bulk.is_some()
    }
}

impl std::str::FromStr for JobKind {
    type Err = String;

    /// A kind by its snake-case name (`video_translation`, `proofread`, `lipsync`,
    /// `clipping_job`, `background_removal`, `avatar`, `voice`), as the spec's `x-heygen-wait`
    /// names it. A kind whose family is not built in is refused with the feature to enable.
    fn from_str(name: &str) -> std::result::Result<Self, Self::Err> {
        let built: Option<JobKind> = match name {
            #[cfg(feature = "translations")]
            "video_translation" => Some(JobKind::VideoTranslation),
            #[cfg(feature = "translations")]
            "proofread" => Some(JobKind::Proofread),
            #[cfg(feature = "lipsync")]
            "lipsync" => Some(JobKind::Lipsync),
            #[cfg(feature = "clipping")]
            "clipping_job" => Some(JobKind::ClippingJob),
            #[cfg(feature = "background-removal")]
            "background_removal" => Some(JobKind::BackgroundRemoval),
            #[cfg(feature = "avatars")]
            "avatar" => Some(JobKind::Avatar),
            #[cfg(feature = "voices")]
            "voice" => Some(JobKind::Voice),
            _ => None,
        };
        if let Some(kind) = built {
            return Ok(kind);
        }
        let feature = match name {
            "video_translation" | "proofread" => "translations",
            "lipsync" => "lipsync",
            "clipping_job" => "clipping",
            "background_removal" => "background-removal",
            "avatar" => "avatars",
            "voice" => "voices",
            other => {
                return Err(format!(
                    "`{other}` is not a kind of job (kinds: video_translation, proofread, lipsync, clipping_job, background_removal, avatar, voice)"
                ))
            }
        };
        Err(format!(
            "jobs of kind `{name}` need the `{feature}` feature of heygen-api"
        ))
    }
}

impl fmt::Display for JobKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How the wait for one job ended. `T` is the job's record as its family's `get` answers it
/// (JSON for [`Client::wait_for_jobs`], typed from the families' handles).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum JobOutcome<T> {
    /// The job ended well; its record has the results' URLs.
    Completed(T),
    /// The job ended badly; its record says why.
    Failed(T),
    /// The job is paused until you act (an avatar waiting for consent).
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
    /// The job.
    pub id: String,
    /// The last status seen.
    pub last_status: Option<String>,
    /// How long the wait lasted.
    pub elapsed: Duration,
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
    pub fn try_map<U>(self, f: impl FnOnce(T) -> Result<U>) -> Result<JobOutcome<U>> {
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

/// One job's end, as a multi-job wait reports it.
#[derive(Debug)]
#[non_exhaustive]
pub struct JobEnded<T> {
    /// The job.
    pub id: String,
    /// How its wait ended, or the error that ended it (the job unknown to HeyGen, polls that
    /// failed for good).
    pub outcome: Result<JobOutcome<T>>,
}

/// The ends of a multi-job wait, each as it happens. Dropping the stream stops polling.
pub type JobStream<'a, T> = Pin<Box<dyn Stream<Item = JobEnded<T>> + Send + 'a>>;

impl Client {
    /// Waits for one job of `kind` until it ends (or the deadline passes), polling its
    /// family's `get` operation on the schedule of `options`. The record is JSON as HeyGen
    /// sent it; the families' handles offer the same wait typed (`lipsyncs().wait(..)`).
    ///
    /// # Errors
    /// An empty id (nothing is sent); the job unknown to HeyGen (404); polls failing for good.
    pub async fn wait_for_job(
        &self,
        kind: JobKind,
        id: &str,
        options: WaitOptions,
    ) -> Result<JobOutcome<Value>> {
        crate::resources::check_path_param("id", id)?;
        use futures_util::StreamExt as _;
        let mut ended = self.wait_for_jobs(kind, [id.to_string()], options);
        match ended.next().await {
            Some(end) => end.outcome,
            None => Err(Error::invalid("wait", "ended without an outcome")),
        }
    }

    /// Waits for many jobs of one kind, yielding each as it ends. Kinds HeyGen answers in
    /// bulk are polled 100 ids a request; the others one request per job and poll. Every id
    /// yields exactly one [`JobEnded`]; ids given twice are waited for once. Blank ids end at
    /// once with an error.
    pub fn wait_for_jobs(
        &self,
        kind: JobKind,
        ids: impl IntoIterator<Item = String>,
        options: WaitOptions,
    ) -> JobStream<'static, Value> {
        let mut seen = std::collections::BTreeSet::new();
        let ids: Vec<String> = ids
            .into_iter()
            .filter(|id| seen.insert(id.clone()))
            .collect();
        run(self.clone(), kind, ids, options)
    }
}

/// One job being waited for.
struct Waited {
    id: String,
    life: Lifecycle,
    last_status: Option<String>,
    /// The record from the latest single poll (the outcome's record when it ends).
    record: Option<Value>,
    /// The latest error of a poll about it.
    error: Option<Arc<Error>>,
    /// What the lifecycle said last.
    next: Next,
    /// The status the progress callback was last told.
    reported: Option<String>,
}

struct Driver {
    client: Client,
    kind: JobKind,
    ops: Ops,
    options: WaitOptions,
    started: Instant,
    deadline: Instant,
    waiting: Vec<Waited>,
    ended: VecDeque<JobEnded<Value>>,
    polls: u32,
    round: u32,
}

fn run(
    client: Client,
    kind: JobKind,
    ids: Vec<String>,
    options: WaitOptions,
) -> JobStream<'static, Value> {
    let started = Instant::now();
    let ops = kind.ops();
    let mut ended = VecDeque::new();
    let mut waiting = Vec::new();
    for id in ids {
        if id.trim().is_empty() {
            ended.push_back(JobEnded {
                id,
                outcome: Err(Error::invalid("id", "must not be empty")),
            });
        } else {
            waiting.push(Waited {
                life: Lifecycle::new(ops.life, &[Some(&id)]),
                id,
                last_status: None,
                record: None,
                error: None,
                next: Next::Poll,
                reported: None,
            });
        }
    }
    let driver = Driver {
        client,
        kind,
        ops,
        deadline: started + options.max_wait(),
        options,
        started,
        waiting,
        ended,
        polls: 0,
        round: 0,
    };
    Box::pin(futures_util::stream::unfold(
        driver,
        |mut driver| async move {
            loop {
                if let Some(end) = driver.ended.pop_front() {
                    return Some((end, driver));
                }
                if driver.waiting.is_empty() {
                    return None;
                }
                driver.round_trip().await;
            }
        },
    ))
}

impl Driver {
    /// One round: sleep until it is due (or time everything out), poll every job, act on
    /// what the lifecycle says.
    async fn round_trip(&mut self) {
        if self.round > 0 {
            let wait = self.options.schedule().wait(self.round - 1);
            let now = Instant::now();
            let last_call = self.deadline - final_margin(&self.options);
            if now >= last_call {
                self.time_out_all();
                return;
            }
            tokio::time::sleep_until((now + wait).min(last_call)).await;
        }
        self.round += 1;
        self.polls += 1;
        match self.ops.bulk {
            Some(_) if self.waiting.len() > 1 => self.poll_bulk().await,
            _ => self.poll_each().await,
        }
        // Jobs whose ending was seen in bulk are confirmed by their record.
        let mut i = 0;
        while i < self.waiting.len() {
            let next = self.settle(i).await;
            match next {
                Next::Done(end) => {
                    let job = self.waiting.remove(i);
                    let ended = self.end(job, end);
                    self.ended.push_back(ended);
                }
                _ => i += 1,
            }
        }
    }

    /// Polls every job with its `get`, a few at a time.
    async fn poll_each(&mut self) {
        use futures_util::StreamExt as _;
        let client = &self.client;
        let get = self.ops.get;
        let ids: Vec<String> = self.waiting.iter().map(|w| w.id.clone()).collect();
        let answers: Vec<(String, Result<Value>)> = futures_util::stream::iter(ids)
            .map(|id| async move {
                let answer = client
                    .invoke(get, Invocation::new().path_param(id.clone()))
                    .await;
                (id, answer)
            })
            .buffered(8)
            .collect()
            .await;
        for (id, answer) in answers {
            if let Some(job) = self.waiting.iter_mut().find(|w| w.id == id) {
                observe_record(job, answer);
            }
        }
        self.report();
    }

    /// Polls the jobs in bulk, 100 ids a request. A request refused for good falls back to
    /// polling its jobs one by one, so that each ends with its own answer.
    async fn poll_bulk(&mut self) {
        let ids: Vec<String> = self.waiting.iter().map(|w| w.id.clone()).collect();
        for chunk in ids.chunks(IDS_PER_REQUEST) {
            let Some(answer) = self.kind.bulk_statuses(&self.client, chunk).await else {
                return;
            };
            match answer {
                Ok(page) => {
                    for id in chunk {
                        let Some(job) = self.waiting.iter_mut().find(|w| &w.id == id) else {
                            continue;
                        };
                        let status = self.kind.bulk_status(&page, id);
                        job.error = None;
                        job.record = None;
                        job.next = match status {
                            Some("not_found") | None => job.life.observe(Observed::NotFound),
                            Some(status) => {
                                job.last_status = Some(status.to_string());
                                job.life.observe(Observed::Status {
                                    status,
                                    next: None,
                                    record: false,
                                })
                            }
                        };
                    }
                }
                Err(error) if error.is_retryable() => {
                    let error = Arc::new(error);
                    for id in chunk {
                        if let Some(job) = self.waiting.iter_mut().find(|w| &w.id == id) {
                            job.next = job.life.observe(Observed::failure(&error));
                            job.error = Some(Arc::clone(&error));
                        }
                    }
                }
                Err(error) => {
                    tracing::debug!(error = %error, "bulk statuses refused; polling one by one");
                    for id in chunk {
                        let answer = self
                            .client
                            .invoke(self.ops.get, Invocation::new().path_param(id.clone()))
                            .await;
                        if let Some(job) = self.waiting.iter_mut().find(|w| &w.id == id) {
                            observe_record(job, answer);
                        }
                    }
                }
            }
        }
        self.report();
    }

    /// What comes next for job `i`, its record fetched first when the lifecycle asks for it
    /// (an ending seen in bulk) or when bulk did not find it (its own answer decides).
    async fn settle(&mut self, i: usize) -> Next {
        let job = &mut self.waiting[i];
        let confirm = match job.next {
            Next::Fetch => true,
            Next::Done(End::Gone) => job.error.is_none() && job.record.is_none(),
            _ => false,
        };
        if confirm {
            let answer = self
                .client
                .invoke(self.ops.get, Invocation::new().path_param(job.id.clone()))
                .await;
            observe_record(job, answer);
        }
        match job.next {
            // A record always decides; this cannot stay, but never loops if it did.
            Next::Fetch | Next::Advance | Next::List => Next::Poll,
            next => next,
        }
    }

    fn end(&self, job: Waited, end: End) -> JobEnded<Value> {
        let outcome = match (end, job.record) {
            (End::Succeeded, Some(record)) => Ok(JobOutcome::Completed(record)),
            (End::Failed, Some(record)) => Ok(JobOutcome::Failed(record)),
            (End::NeedsInput, Some(record)) => Ok(JobOutcome::NeedsInput(record)),
            (_, _) => Err(match job.error.map(Arc::try_unwrap) {
                Some(Ok(error)) => error,
                Some(Err(shared)) => Error::invalid("wait", shared.to_string()),
                None => Error::invalid("wait", format!("the {} ended without a record", self.kind)),
            }),
        };
        JobEnded {
            id: job.id,
            outcome,
        }
    }

    fn time_out_all(&mut self) {
        for job in self.waiting.drain(..) {
            self.ended.push_back(JobEnded {
                outcome: Ok(JobOutcome::TimedOut(JobTimedOut {
                    kind: self.kind,
                    id: job.id.clone(),
                    last_status: job.last_status,
                    elapsed: self.started.elapsed(),
                })),
                id: job.id,
            });
        }
    }

    /// Tells the progress callback what this round saw, a job at a time.
    fn report(&mut self) {
        let Some(callback) = self.options.progress_callback() else {
            return;
        };
        for job in &mut self.waiting {
            let changed = job.last_status.is_some() && job.reported != job.last_status;
            job.reported.clone_from(&job.last_status);
            let event = WaitEvent::job(
                job.id.clone(),
                job.last_status.clone().map(PolledStatus::Job),
                changed,
                self.polls,
                self.started.elapsed(),
                job.error.clone(),
            );
            debug_assert_eq!(event.phase, WaitPhase::Job);
            callback(&event);
        }
    }
}

/// Tells the lifecycle what a single `get` answered.
fn observe_record(job: &mut Waited, answer: Result<Value>) {
    job.next = match answer {
        Ok(record) => {
            let status = JobKind::status(&record).to_string();
            job.error = None;
            job.last_status = Some(status.clone());
            let next = job.life.observe(Observed::Status {
                status: &status,
                next: None,
                record: true,
            });
            job.record = Some(record);
            next
        }
        Err(error) => {
            let next = job.life.observe(Observed::failure(&error));
            job.record = None;
            job.error = Some(Arc::new(error));
            next
        }
    };
}

/// How long before the deadline the final poll happens.
fn final_margin(options: &WaitOptions) -> Duration {
    (options.max_wait() / 20).min(Duration::from_secs(1))
}
