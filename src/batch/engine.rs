//! The batch runner's loop: one task that takes jobs as slots free up, sends their creates,
//! polls what is in flight in bulk, reacts to deliveries, downloads, and journals each step.
//! All network work runs as futures of one set polled by this task, so dropping the task
//! stops everything at once.

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_core::Stream;
use futures_util::stream::FuturesUnordered;
use futures_util::{FutureExt as _, StreamExt as _};
use sha2::Digest as _;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::journal::{FinalState, Journal, Known, Record, Taken};
use super::{BatchEvent, BatchRunner, EventFn, Job, JobReport, JobRequest, JobResult, Summary};
use crate::api::client::{Client, RequestOptions};
use crate::api::error::{Error, Result};
use crate::api::kinds::{JobKind, Resource};
use crate::api::retry::Backoff;
use crate::api::types::{IdempotencyKey, VideoAgentSession, VideoDetail};
use crate::api::webhook::WebhookEvent;
use crate::jobs::lifecycle::{End, Lifecycle, Next, Observed};
use crate::operations::Invocation;
use crate::resources::generated::TypedRecord;
use crate::resources::VideoStatuses;
use crate::transfer::download::VideoAsset;
use serde_json::Value;

type Work = FuturesUnordered<Pin<Box<dyn std::future::Future<Output = Step> + Send>>>;

/// How long to wait before sending again a create refused for concurrency without a
/// `Retry-After`.
const DEFAULT_THROTTLE: Duration = Duration::from_secs(1);

/// `now + wait`, or a moment far off when that is out of range.
fn after(wait: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(wait)
        .unwrap_or_else(|| now + Duration::from_secs(100 * 365 * 24 * 3600))
}

/// Polls that fail for good (4xx) this many times in a row end their job.
const FAILED_POLLS: u32 = 5;

/// Most creates, session polls and video fetches out at once, whatever the number of jobs:
/// it bounds the connections (and the memory) of a large run. Bulk polls are not counted;
/// there is one per 100 videos.
const REQUESTS_AT_ONCE: usize = 32;

/// What a finished piece of work brings back.
enum Step {
    Created {
        key: String,
        job: Box<Job>,
        idempotency_key: String,
        result: Result<(Option<String>, Option<String>)>,
    },
    Bulk {
        ids: Vec<String>,
        result: Result<VideoStatuses>,
    },
    Session {
        key: String,
        result: Result<Box<VideoAgentSession>>,
    },
    Detail {
        key: String,
        result: Result<Box<VideoDetail>>,
    },
    Listed {
        key: String,
        result: Result<Option<String>>,
    },
    /// Bulk statuses of jobs of another family.
    JobBulk {
        kind: crate::api::kinds::JobKind,
        ids: Vec<String>,
        result: Result<Value>,
    },
    /// The record of a job of another family (a poll, or the fetch of an ending).
    JobRecord {
        key: String,
        result: Result<Value>,
    },
    Downloaded {
        key: String,
        result: JobResult,
    },
    /// The journal was synced: these creates, whose records it holds, may go out.
    Synced {
        creates: Vec<Pending>,
        result: Result<()>,
    },
}

/// A create whose `creating` record is written but not yet synced to the disk.
struct Pending {
    key: String,
    job: Job,
    idempotency_key: String,
}

/// A job at HeyGen, not ended.
#[derive(Debug)]
struct Tracked {
    session_id: Option<String>,
    video_id: Option<String>,
    polls: u32,
    next_poll: Instant,
    /// A status poll or a detail fetch is out for it.
    busy: bool,
    /// Its video is finished: its record is being fetched (or downloaded). Polls and
    /// deliveries leave it alone from then on.
    fetching: bool,
    /// What its answers mean, and what comes next.
    life: Lifecycle,
    last_status: Option<String>,
    /// The kind of job, for a job of another family (its id is in `video_id`).
    family: Option<crate::api::kinds::JobKind>,
    /// What the journal's line of its end carries, so that the line alone describes it.
    origin: Origin,
}

/// A job's kind and request hash, as journaled.
#[derive(Debug)]
struct Origin {
    kind: Option<JobKind>,
    request: Option<String>,
}

/// What came with an observation, for the outcome it may lead to.
enum Evidence {
    None,
    Session(Box<VideoAgentSession>),
    Video(Box<VideoDetail>),
    /// A job of another family's record.
    Record(Box<Value>),
    Error(Arc<Error>),
    /// A delivery's failure message.
    Reason(String),
}

/// A finished job whose result is to be downloaded.
enum Finished {
    /// A video (and its session, for Video Agent jobs).
    Video(Option<String>, Box<VideoDetail>),
    /// A job of another family: its kind, id, record and the URLs of its results.
    Job(JobKind, String, Box<Value>, Vec<String>),
}

/// A create refused for concurrency, to send again.
struct Waiting {
    key: String,
    job: Job,
    idempotency_key: String,
    not_before: Instant,
}

pub(super) struct Engine {
    client: Client,
    cap: usize,
    cap_now: usize,
    journal: Option<Journal>,
    /// What the journal held, and the keys taken so far.
    known: Known,
    deadline: Option<Instant>,
    schedule: Backoff,
    /// The schedule without deliveries, for when the delivery channel closes.
    poll_schedule: Backoff,
    /// Polls fall on multiples of the schedule's first interval from here, so that jobs
    /// created at different moments share their bulk requests.
    epoch: Instant,
    webhooks: Option<mpsc::Receiver<WebhookEvent>>,
    download_dir: Option<PathBuf>,
    download_concurrency: usize,
    measure_credits: bool,
    /// Failed jobs of the journal run again ([`BatchRunner::retry_failed`]).
    retry_failed: bool,
    on_event: Option<EventFn>,
    summary: Arc<Mutex<Summary>>,
    sender: mpsc::Sender<JobReport>,

    jobs: HashMap<String, Tracked>,
    by_session: HashMap<String, String>,
    by_video: HashMap<String, String>,
    creating: HashSet<String>,
    /// Creates waiting for the next sync of the journal (counted in `creating`).
    unsynced: Vec<Pending>,
    /// A sync of the journal is out.
    syncing: bool,
    waiting: VecDeque<Waiting>,
    downloads: VecDeque<(String, Finished)>,
    downloading: usize,
    /// Creates, session polls and video fetches out now.
    requests_out: usize,
    /// Video fetches waiting for room under [`REQUESTS_AT_ONCE`].
    details: VecDeque<(String, String)>,
    /// How often each default key's request was seen (by its hash): the second identical
    /// request is `auto-<hash>-2`.
    occurrences: HashMap<u64, u32>,
    input_done: bool,
    stop_taking: bool,
}

/// What woke the loop.
enum Wake {
    Step(Step),
    Delivery(Option<WebhookEvent>),
    Job(Option<Job>),
    Timer,
}

impl Engine {
    pub(super) fn new(
        runner: BatchRunner,
        journal: Option<(Journal, Known)>,
        summary: Arc<Mutex<Summary>>,
        sender: mpsc::Sender<JobReport>,
    ) -> Self {
        let (journal, known) = match journal {
            Some((journal, known)) => (Some(journal), known),
            None => (None, Known::empty()),
        };
        let schedule = if runner.webhooks.is_some() {
            // Deliveries end jobs; polls are only a safety net.
            Backoff {
                initial: runner.safety_net,
                factor: 1.0,
                max: runner.safety_net,
                jitter: 0.1,
            }
        } else {
            runner.poll.schedule()
        };
        Engine {
            client: runner.client,
            cap: runner.concurrency,
            cap_now: runner.concurrency,
            journal,
            known,
            deadline: runner.deadline.map(after),
            // One runner's polls are spread by the grid, not by jitter.
            schedule: Backoff {
                jitter: 0.0,
                ..schedule
            },
            poll_schedule: Backoff {
                jitter: 0.0,
                ..runner.poll.schedule()
            },
            epoch: Instant::now(),
            webhooks: runner.webhooks,
            download_dir: runner.download_dir,
            download_concurrency: runner.download_concurrency,
            measure_credits: runner.measure_credits,
            retry_failed: runner.retry_failed,
            on_event: runner.on_event,
            summary,
            sender,
            jobs: HashMap::new(),
            by_session: HashMap::new(),
            by_video: HashMap::new(),
            creating: HashSet::new(),
            unsynced: Vec::new(),
            syncing: false,
            waiting: VecDeque::new(),
            downloads: VecDeque::new(),
            downloading: 0,
            requests_out: 0,
            details: VecDeque::new(),
            occurrences: HashMap::new(),
            input_done: false,
            stop_taking: false,
        }
    }

    pub(super) async fn run(mut self, mut input: Pin<Box<dyn Stream<Item = Job> + Send>>) {
        let before = if self.measure_credits {
            self.count(|c| c.balance_checks += 1);
            balance(&self.client).await
        } else {
            None
        };
        let mut work = Work::new();
        let mut webhooks = self.webhooks.take();
        loop {
            let now = Instant::now();
            if self.deadline.is_some_and(|deadline| now >= deadline) {
                self.time_out_all().await;
                break;
            }
            self.send_waiting(&mut work, now);
            self.launch_details(&mut work);
            self.launch_polls(&mut work, now);
            self.launch_downloads(&mut work);
            self.launch_sync(&mut work);
            let can_take = self.can_take();
            if work.is_empty()
                && self.jobs.is_empty()
                && self.waiting.is_empty()
                && self.downloads.is_empty()
                && self.details.is_empty()
                && (self.input_done || self.stop_taking)
            {
                break;
            }
            let wake_at = self.next_wake(now);
            let wake = tokio::select! {
                Some(step) = work.next(), if !work.is_empty() => Wake::Step(step),
                delivery = recv(&mut webhooks), if webhooks.is_some() => Wake::Delivery(delivery),
                job = input.next(), if can_take => Wake::Job(job),
                () = tokio::time::sleep_until(wake_at) => Wake::Timer,
            };
            match wake {
                Wake::Step(step) => self.on_step(step, &mut work).await,
                Wake::Delivery(Some(event)) => self.on_delivery(&event, &mut work).await,
                Wake::Delivery(None) => {
                    // No more deliveries: back to the normal schedule.
                    webhooks = None;
                    self.schedule = self.poll_schedule;
                }
                Wake::Job(Some(job)) => {
                    self.take(job, &mut work).await;
                    // The jobs ready now join it, so that one sync of the journal covers
                    // all their records.
                    while self.can_take() {
                        match input.next().now_or_never() {
                            Some(Some(job)) => self.take(job, &mut work).await,
                            Some(None) => self.input_done = true,
                            None => break,
                        }
                    }
                }
                Wake::Job(None) => self.input_done = true,
                Wake::Timer => {}
            }
        }
        drop(work);
        if self.measure_credits {
            self.count(|c| c.balance_checks += 1);
            let after = balance(&self.client).await;
            if let (Some((before, unit)), Some((after, _))) = (before, after) {
                self.with_summary(|s| {
                    s.credits_used = Some(spent(before, after));
                    s.balance_unit = Some(unit);
                });
            }
        }
        let written = self.journal.as_ref().map_or(0, |j| j.written);
        self.with_summary(|s| s.journal_bytes = written);
    }

    /// Whether a new job may be taken from the input now.
    fn can_take(&self) -> bool {
        let in_use = self.jobs.len() + self.creating.len();
        !self.input_done
            && !self.stop_taking
            && self.waiting.is_empty()
            && in_use < self.cap_now
            && self.requests_out < REQUESTS_AT_ONCE
    }

    /// Syncs the journal for the creates waiting for it, one sync for all of them, unless a
    /// sync is out already (those taken meanwhile wait for the next one).
    fn launch_sync(&mut self, work: &mut Work) {
        if self.syncing || self.unsynced.is_empty() {
            return;
        }
        let Some(journal) = &self.journal else {
            return;
        };
        let syncer = journal.syncer();
        let creates = std::mem::take(&mut self.unsynced);
        self.syncing = true;
        self.with_summary(|s| s.journal_syncs += 1);
        work.push(Box::pin(async move {
            let result = match tokio::task::spawn_blocking(move || syncer.sync()).await {
                Ok(result) => result,
                Err(join) => Err(Error::Io {
                    context: "syncing the journal".into(),
                    source: std::io::Error::other(join.to_string()),
                }),
            };
            Step::Synced { creates, result }
        }));
    }

    /// The next moment something becomes due: a poll, a create to send again, or the
    /// deadline. What is due already but waits for room is left out: the step that makes
    /// room wakes the loop.
    fn next_wake(&self, now: Instant) -> Instant {
        let far = after(Duration::from_secs(3600));
        let polls = self
            .jobs
            .values()
            .filter(|job| !job.busy && !job.fetching)
            .map(|job| job.next_poll);
        let waiting = self.waiting.front().map(|w| w.not_before);
        polls
            .chain(waiting)
            .filter(|moment| *moment > now)
            .chain(self.deadline)
            .min()
            .unwrap_or(far)
            .max(now)
    }

    fn emit(&self, event: BatchEvent) {
        if let Some(callback) = &self.on_event {
            callback(&event);
        }
    }

    fn with_summary(&self, change: impl FnOnce(&mut Summary)) {
        match self.summary.lock() {
            Ok(mut summary) => change(&mut summary),
            Err(poisoned) => change(&mut poisoned.into_inner()),
        }
    }

    fn count(&self, change: impl FnOnce(&mut super::RequestCounts)) {
        self.with_summary(|s| change(&mut s.requests));
    }

    /// Appends to the journal. A journal that cannot be written stops the run from taking
    /// more jobs: what is in flight finishes, and nothing new is created unrecorded.
    fn record(&mut self, record: Record) -> std::result::Result<(), Arc<Error>> {
        let Some(journal) = &mut self.journal else {
            return Ok(());
        };
        journal.append(&record).map_err(|error| {
            tracing::error!(%error, "the journal cannot be written; taking no more jobs");
            self.stop_taking = true;
            let reason = error.to_string();
            self.with_summary(|s| s.stopped_early = Some(reason));
            Arc::new(error)
        })
    }

    /// A new job from the input.
    async fn take(&mut self, job: Job, work: &mut Work) {
        // Hashed once: it names an unnamed job and is journaled with the create.
        let request_hash = job.request_hash();
        let key = match job.caller_key() {
            Some(key) => key.to_string(),
            None => {
                let stem = format!("auto-{request_hash}");
                let hash = u64::from_str_radix(&request_hash, 16).unwrap_or_default();
                let seen = self.occurrences.entry(hash).or_insert(0);
                *seen += 1;
                match *seen {
                    1 => stem,
                    n => format!("{stem}-{n}"),
                }
            }
        };
        let known = match self.known.take(&key) {
            Ok(Taken::Repeated) => {
                let invalid = crate::api::error::InvalidRequest::new(
                    "key",
                    "repeats the key of an earlier job",
                );
                self.report(key, JobResult::Invalid(invalid)).await;
                return;
            }
            Ok(Taken::Known(record)) => Some(*record),
            Ok(Taken::New) => None,
            Err(error) => {
                // The journal changed under the run: nothing more is taken from it.
                tracing::error!(%error, "the journal cannot be read; taking no more jobs");
                self.stop_taking = true;
                let reason = error.to_string();
                self.with_summary(|s| s.stopped_early = Some(reason));
                self.report(key, JobResult::Rejected(Arc::new(error))).await;
                return;
            }
        };
        // A job refused before (invalid, or rejected by HeyGen) is tried again as new: its
        // line may have been fixed. So is a failed one, when asked.
        let retry_failed = self.retry_failed;
        let record = known.filter(|record| {
            let again = match &record.finished {
                Some((FinalState::Invalid | FinalState::Rejected, _)) => true,
                Some((FinalState::Failed, _)) => retry_failed,
                _ => false,
            };
            !again
        });
        if let Some(record) = record {
            if let Some((state, reason)) = &record.finished {
                // Kinds that make no file (a proofread, an avatar, a voice) have none to miss.
                let makes_file = record.kind.is_none_or(JobKind::makes_files);
                // The files the journal says were saved, else (a journal from before it said
                // so) the video's name.
                let saved = match (&self.download_dir, record.files.as_slice()) {
                    (Some(_), []) => self.file_for(&key).is_some_and(|path| path.exists()),
                    (Some(dir), files) => files.iter().all(|file| dir.join(file).exists()),
                    (None, _) => true,
                };
                let missing_file = *state == FinalState::Completed && makes_file && !saved;
                match (&record.video_id, missing_file) {
                    (Some(video_id), true) => {
                        // Finished before, but its file is not on disk: fetch and download.
                        let family = record.kind.filter(|kind| kind.made_from_json());
                        let origin = Origin {
                            kind: record.kind,
                            request: record.request_hash.clone(),
                        };
                        self.attach(&key, family, origin, None, Some(video_id.clone()));
                        self.fetch_detail(&key, video_id.clone(), work);
                    }
                    _ => {
                        let request_changed = record
                            .request_hash
                            .as_ref()
                            .is_some_and(|sent| *sent != request_hash);
                        let files = match &self.download_dir {
                            Some(dir) => record.files.iter().map(|file| dir.join(file)).collect(),
                            None => Vec::new(),
                        };
                        let typed = match (record.kind, &record.record) {
                            (Some(kind), Some(json)) => {
                                Some(TypedRecord::decode(kind, json.clone()))
                            }
                            _ => None,
                        };
                        let result = JobResult::AlreadyFinished {
                            state: *state,
                            reason: reason.clone(),
                            request_changed,
                            kind: record.kind,
                            id: record.video_id.clone(),
                            session_id: record.session_id.clone(),
                            record: typed,
                            files,
                        };
                        self.report(key, result).await;
                    }
                }
                return;
            }
            if record.is_created() {
                let family = record.kind.filter(|kind| kind.made_from_json());
                let origin = Origin {
                    kind: record.kind,
                    request: record.request_hash,
                };
                self.attach(&key, family, origin, record.session_id, record.video_id);
                if let Some(tracked) = self.jobs.get_mut(&key) {
                    tracked.next_poll = Instant::now();
                }
                return;
            }
            if let Some(idempotency_key) = record.idempotency_key {
                // Sent before, answer unknown: the same key replays the same job, within
                // HeyGen's 24 hours.
                let age = crate::api::webhook::now_unix()
                    .saturating_sub(record.create_sent_at.unwrap_or(0));
                if age > 24 * 3600 {
                    tracing::warn!(
                        key = key.as_str(),
                        hours = age / 3600,
                        "resending a create whose idempotency key may have expired; \
                         HeyGen may make it twice"
                    );
                }
                self.send_create(key, job, idempotency_key, work);
                return;
            }
        }
        if let Err(invalid) = job.validate() {
            self.finish(key, JobResult::Invalid(invalid)).await;
            return;
        }
        let idempotency_key = IdempotencyKey::generate().as_str().to_string();
        let recorded = self.record(Record::Creating {
            key: key.clone(),
            kind: job.request.kind(),
            idempotency_key: idempotency_key.clone(),
            at: crate::api::webhook::now_unix(),
            request: Some(request_hash),
        });
        match recorded {
            // Sent once the record is on the disk.
            Ok(()) if self.journal.is_some() => {
                self.reserve_create(&key);
                self.unsynced.push(Pending {
                    key,
                    job,
                    idempotency_key,
                });
            }
            Ok(()) => self.send_create(key, job, idempotency_key, work),
            // Not sent: nothing would say it had been.
            Err(error) => self.report(key, JobResult::Rejected(error)).await,
        }
    }

    /// Sends a create now.
    fn send_create(&mut self, key: String, job: Job, idempotency_key: String, work: &mut Work) {
        self.reserve_create(&key);
        self.launch_create(key, job, idempotency_key, work);
    }

    /// Counts a create as out: it takes a slot and a request from here on (a create waiting
    /// for the journal's sync is counted as sent only when it goes).
    fn reserve_create(&mut self, key: &str) {
        self.creating.insert(key.to_string());
        self.requests_out += 1;
        self.emit(BatchEvent::Creating {
            key: key.to_string(),
        });
    }

    /// Sends a create already counted by [`reserve_create`](Self::reserve_create).
    fn launch_create(&mut self, key: String, job: Job, idempotency_key: String, work: &mut Work) {
        self.count(|c| c.creates += 1);
        let client = self.client.clone();
        work.push(Box::pin(async move {
            let options = RequestOptions::new().idempotency_key(idempotency_key.clone());
            let result = match &job.request {
                JobRequest::VideoAgent(request) => client
                    .video_agents()
                    .create(request.clone())
                    .options(options)
                    .await
                    .map(|created| {
                        let video_id = created.video_id.filter(|v| !v.is_empty());
                        (Some(created.session_id), video_id)
                    }),
                JobRequest::Video(request) => client
                    .videos()
                    .create(request.clone())
                    .options(options)
                    .await
                    .map(|created| (None, Some(created.video_id).filter(|v| !v.is_empty()))),
                JobRequest::Family { kind, body } => client
                    .invoke(
                        kind.create_operation(),
                        Invocation::new().body(body.clone()).options(options),
                    )
                    .await
                    .map(|created| (None, kind.created_ids(&created).into_iter().next())),
            };
            Step::Created {
                key,
                job: Box::new(job),
                idempotency_key,
                result,
            }
        }));
    }

    /// Sends again the creates refused for concurrency whose wait is over, as slots allow.
    fn send_waiting(&mut self, work: &mut Work, now: Instant) {
        while !self.stop_taking
            && self.jobs.len() + self.creating.len() < self.cap_now
            && self.requests_out < REQUESTS_AT_ONCE
        {
            match self.waiting.front() {
                Some(waiting) if waiting.not_before <= now => {}
                _ => break,
            }
            if let Some(waiting) = self.waiting.pop_front() {
                self.send_create(waiting.key, waiting.job, waiting.idempotency_key, work);
            }
        }
    }

    /// Starts tracking a job that exists at HeyGen (`family`: a job of another family, its
    /// id in `video_id`).
    fn attach(
        &mut self,
        key: &str,
        family: Option<crate::api::kinds::JobKind>,
        origin: Origin,
        session_id: Option<String>,
        video_id: Option<String>,
    ) {
        if let Some(session_id) = &session_id {
            self.by_session.insert(session_id.clone(), key.to_string());
        }
        if let Some(video_id) = &video_id {
            self.by_video.insert(video_id.clone(), key.to_string());
        }
        self.emit(BatchEvent::InFlight {
            key: key.to_string(),
            session_id: session_id.clone(),
            video_id: video_id.clone(),
        });
        let next_poll = self.on_grid(after(self.schedule.wait(0)));
        let life = match (family, &session_id) {
            (Some(kind), _) => Lifecycle::new(kind.describe(), &[video_id.as_deref()]),
            (None, Some(session)) => Lifecycle::new(
                JobKind::VideoAgent.describe(),
                &[Some(session), video_id.as_deref()],
            ),
            (None, None) => Lifecycle::new(JobKind::Video.describe(), &[video_id.as_deref()]),
        }
        .failure_limit(FAILED_POLLS);
        self.jobs.insert(
            key.to_string(),
            Tracked {
                session_id,
                video_id,
                polls: 0,
                next_poll,
                busy: false,
                fetching: false,
                life,
                last_status: None,
                family,
                origin,
            },
        );
        let in_flight = self.jobs.len();
        self.with_summary(|s| s.peak_in_flight = s.peak_in_flight.max(in_flight));
    }

    /// Ends a job: journals it, counts it, and hands its outcome to the stream. A job that
    /// is tracked no more (it ended already) is left alone, except for refusals before any
    /// create. An ending the journal does not keep as final (a job whose kind takes it up
    /// again once the user has acted) leaves the job in flight there for the next run.
    async fn finish(&mut self, key: String, result: JobResult) {
        let before_create = matches!(result, JobResult::Invalid(_) | JobResult::Rejected(_));
        if !before_create && !self.jobs.contains_key(&key) {
            return;
        }
        let mut origin = Origin {
            kind: None,
            request: None,
        };
        if let Some(job) = self.jobs.remove(&key) {
            if let Some(session_id) = &job.session_id {
                self.by_session.remove(session_id);
            }
            if let Some(video_id) = &job.video_id {
                self.by_video.remove(video_id);
            }
            // A job ended: a slot opens, and a lowered cap creeps back up.
            self.cap_now = (self.cap_now + 1).min(self.cap);
            origin = job.origin;
        }
        if let Some(state) = result.final_state() {
            // The names of the files saved, for a later run to find them.
            let files = result.files();
            let files = files
                .iter()
                .filter_map(|file| file.file_name())
                .map(|name| name.to_string_lossy().into_owned())
                .collect();
            let _ = self.record(Record::Finished {
                key: key.clone(),
                state,
                video_id: result.id().map(str::to_string),
                reason: result.reason(),
                kind: origin.kind.or(result.kind()),
                request: origin.request,
                files,
                session_id: result.session_id().map(str::to_string),
                record: result.record().map(TypedRecord::to_json),
            });
        }
        self.report(key, result).await;
    }

    /// Counts an outcome and hands it to the stream.
    async fn report(&mut self, key: String, result: JobResult) {
        self.with_summary(|s| {
            *s.counts.entry(result.result_kind()).or_default() += 1;
            if result.is_failure() {
                s.failures
                    .push((key.clone(), result.reason().unwrap_or_default()));
            }
        });
        self.emit(BatchEvent::Finished { key: key.clone() });
        // A closed stream means the run was dropped; the task is being stopped.
        let _ = self.sender.send(JobReport { key, result }).await;
    }

    async fn on_step(&mut self, step: Step, work: &mut Work) {
        match step {
            Step::Created {
                key,
                job,
                idempotency_key,
                result,
            } => {
                self.creating.remove(&key);
                self.requests_out -= 1;
                self.on_created(key, *job, idempotency_key, result).await;
            }
            Step::Bulk { ids, result } => self.on_bulk(ids, result, work).await,
            Step::Session { key, result } => {
                self.requests_out -= 1;
                self.on_session(key, result, work).await;
            }
            Step::Detail { key, result } => {
                self.requests_out -= 1;
                self.on_detail(key, result, work).await;
            }
            Step::Listed { key, result } => {
                self.requests_out -= 1;
                self.on_listed(key, result, work).await;
            }
            Step::JobBulk { kind, ids, result } => {
                self.on_job_bulk(kind, ids, result, work).await;
            }
            Step::JobRecord { key, result } => {
                self.requests_out -= 1;
                self.on_job_record(key, result, work).await;
            }
            Step::Downloaded { key, result } => {
                self.downloading -= 1;
                self.finish(key, result).await;
            }
            Step::Synced { creates, result } => {
                self.syncing = false;
                match result {
                    Ok(()) => {
                        for pending in creates {
                            self.launch_create(
                                pending.key,
                                pending.job,
                                pending.idempotency_key,
                                work,
                            );
                        }
                    }
                    Err(error) => {
                        // Not sent: their records may not be on the disk. They stay in the
                        // journal, to be sent with the same keys by a later run.
                        tracing::error!(%error, "the journal cannot be synced; taking no more jobs");
                        self.stop_taking = true;
                        let reason = error.to_string();
                        self.with_summary(|s| s.stopped_early = Some(reason));
                        let error = Arc::new(error);
                        for pending in creates {
                            self.creating.remove(&pending.key);
                            self.requests_out -= 1;
                            self.report(pending.key, JobResult::Rejected(Arc::clone(&error)))
                                .await;
                        }
                    }
                }
            }
        }
    }

    async fn on_created(
        &mut self,
        key: String,
        job: Job,
        idempotency_key: String,
        result: Result<(Option<String>, Option<String>)>,
    ) {
        // A create answered without any id could never be polled: it is refused instead of
        // tracked forever.
        let result = result.and_then(|(session_id, video_id)| {
            let session_id = session_id.filter(|id| !id.is_empty());
            let video_id = video_id.filter(|id| !id.is_empty());
            if session_id.is_none() && video_id.is_none() {
                return Err(crate::api::error::unexpected_answer(
                    "create",
                    "the create answered without a session or video id",
                ));
            }
            Ok((session_id, video_id))
        });
        match result {
            Ok((session_id, video_id)) => {
                let _ = self.record(Record::Created {
                    key: key.clone(),
                    session_id: session_id.clone(),
                    video_id: video_id.clone(),
                });
                let family = match &job.request {
                    JobRequest::Family { kind, .. } => Some(*kind),
                    _ => None,
                };
                let origin = Origin {
                    kind: Some(job.request.kind()),
                    request: Some(job.request_hash()),
                };
                self.attach(&key, family, origin, session_id, video_id);
            }
            Err(error) if error.status().map(|s| s.as_u16()) == Some(429) => {
                // Over the account's concurrency: no job fails for it. Slow down to what is in
                // flight, and send it again when HeyGen says.
                let wait = error.retry_after().unwrap_or(DEFAULT_THROTTLE);
                self.cap_now = self.jobs.len().max(1);
                let cap = self.cap_now;
                self.with_summary(|s| s.throttled += 1);
                self.emit(BatchEvent::Throttled { cap });
                self.waiting.push_back(Waiting {
                    key,
                    job,
                    idempotency_key,
                    not_before: after(wait),
                });
            }
            Err(Error::InvalidRequest(invalid)) => {
                self.finish(key, JobResult::Invalid(invalid)).await;
            }
            Err(error) if matches!(error.status().map(|s| s.as_u16()), Some(401..=403)) => {
                // Out of credit, or the credential is refused: every create would fail the
                // same way, so no more are sent. Not journaled as ended, so that a run after
                // a top-up (or with a good key) sends it again.
                self.stop_taking = true;
                let reason = error.to_string();
                self.with_summary(|s| s.stopped_early = Some(reason));
                let error = Arc::new(error);
                self.report(key, JobResult::Rejected(Arc::clone(&error)))
                    .await;
                // Creates waiting after a 429 are not sent either; their journal records
                // stay, to be sent by a later run.
                let waiting: Vec<Waiting> = self.waiting.drain(..).collect();
                for waiting in waiting {
                    self.report(waiting.key, JobResult::Rejected(Arc::clone(&error)))
                        .await;
                }
            }
            Err(error) if error.is_retryable() => {
                // Retries ran out, and the create may have happened: keep the journal's
                // record, so that a resumed run replays the same key.
                self.report(key, JobResult::Rejected(Arc::new(error))).await;
            }
            Err(error) => self.finish(key, JobResult::Rejected(Arc::new(error))).await,
        }
    }

    /// Polls every job that is due (or nearly): videos in bulk, 100 a request; sessions
    /// without a video one by one.
    fn launch_polls(&mut self, work: &mut Work, now: Instant) {
        let mut videos = Vec::new();
        let mut sessions = Vec::new();
        let mut family_bulk: Vec<(crate::api::kinds::JobKind, Vec<String>)> = Vec::new();
        let mut family_single: Vec<(String, crate::api::kinds::JobKind, String)> = Vec::new();
        let room = REQUESTS_AT_ONCE.saturating_sub(self.requests_out);
        for (key, job) in &mut self.jobs {
            if job.busy || job.fetching || job.next_poll > now {
                continue;
            }
            let Some(id) = job.life.id() else {
                continue;
            };
            if let Some(kind) = job.family {
                if kind.polls_in_bulk() {
                    match family_bulk.iter_mut().find(|(k, _)| *k == kind) {
                        Some((_, ids)) => ids.push(id.to_string()),
                        None => family_bulk.push((kind, vec![id.to_string()])),
                    }
                    job.busy = true;
                } else if sessions.len() + family_single.len() < room {
                    family_single.push((key.clone(), kind, id.to_string()));
                    job.busy = true;
                }
            } else if job.life.stage().bulk.is_some() {
                videos.push(id.to_string());
                job.busy = true;
            } else if sessions.len() + family_single.len() < room {
                // The others stay due, for the next turn.
                sessions.push((key.clone(), id.to_string()));
                job.busy = true;
            }
        }
        for chunk in videos.chunks(crate::resources::STATUS_IDS_PER_REQUEST) {
            self.count(|c| c.bulk_polls += 1);
            let client = self.client.clone();
            let ids = chunk.to_vec();
            work.push(Box::pin(async move {
                let result = client.videos().statuses(ids.clone()).await;
                Step::Bulk { ids, result }
            }));
        }
        for (key, session_id) in sessions {
            self.requests_out += 1;
            self.count(|c| c.session_polls += 1);
            let client = self.client.clone();
            work.push(Box::pin(async move {
                let result = client.video_agents().get(session_id).await.map(Box::new);
                Step::Session { key, result }
            }));
        }
        for (kind, ids) in family_bulk {
            for chunk in ids.chunks(crate::resources::STATUS_IDS_PER_REQUEST) {
                self.count(|c| c.bulk_polls += 1);
                let client = self.client.clone();
                let ids = chunk.to_vec();
                work.push(Box::pin(async move {
                    let stage = kind.describe().stages.last();
                    let result = match stage {
                        Some(stage) => JobKind::bulk_statuses(stage, &client, &ids).await,
                        None => None,
                    }
                    .unwrap_or_else(|| {
                        Err(crate::api::error::Error::invalid(
                            "kind",
                            "no bulk statuses",
                        ))
                    });
                    Step::JobBulk { kind, ids, result }
                }));
            }
        }
        for (key, kind, id) in family_single {
            self.requests_out += 1;
            self.count(|c| c.job_polls += 1);
            self.push_job_record(key, kind, id, work);
        }
    }

    /// Fetches a family job's record.
    fn push_job_record(
        &self,
        key: String,
        kind: crate::api::kinds::JobKind,
        id: String,
        work: &mut Work,
    ) {
        let client = self.client.clone();
        work.push(Box::pin(async move {
            let result = client
                .invoke(kind.get_operation(), Invocation::new().path_param(id))
                .await;
            Step::JobRecord { key, result }
        }));
    }

    /// The grid point nearest to `moment`, so that jobs due at about the same time are
    /// polled together.
    fn on_grid(&self, moment: Instant) -> Instant {
        on_grid(self.epoch, self.schedule.initial, moment, Instant::now())
    }

    /// Schedules a job's next poll.
    fn poll_later(&mut self, key: &str, status: Option<String>) {
        let schedule = self.schedule;
        let polls = self.jobs.get(key).map_or(0, |job| job.polls + 1);
        let next_poll = self.on_grid(after(schedule.wait(polls)));
        let mut changed = None;
        if let Some(job) = self.jobs.get_mut(key) {
            job.busy = false;
            job.polls = polls;
            job.next_poll = next_poll;
            if status.is_some() && status != job.last_status {
                job.last_status.clone_from(&status);
                changed = status;
            }
        }
        if let Some(status) = changed {
            self.emit(BatchEvent::Status {
                key: key.to_string(),
                status,
            });
        }
    }

    /// Hands what was seen of a job to its lifecycle, and does what it says. `status` is
    /// the status seen, if any, for the job's events.
    async fn observe(
        &mut self,
        key: &str,
        observed: Observed<'_>,
        evidence: Evidence,
        work: &mut Work,
    ) {
        let Some(job) = self.jobs.get_mut(key) else {
            return;
        };
        let status = match observed {
            Observed::Status { status, .. } => Some(status.to_string()),
            _ => None,
        };
        let next = job.life.observe(observed);
        // A later stage may have become known: from now on it is what is polled.
        if let Some(video_id) = job.life.id_of(Resource::Video).map(str::to_string) {
            self.learn_video(key, &video_id);
        }
        self.act(key, next, status, evidence, work).await;
    }

    async fn act(
        &mut self,
        key: &str,
        next: Next,
        status: Option<String>,
        evidence: Evidence,
        work: &mut Work,
    ) {
        let Some(job) = self.jobs.get_mut(key) else {
            return;
        };
        match next {
            Next::Poll => {
                job.fetching = false;
                if let Evidence::Error(error) = &evidence {
                    tracing::debug!(%error, key, "a poll failed; polling again later");
                }
                self.poll_later(key, status);
            }
            Next::Advance => {
                job.fetching = false;
                job.polls = 0;
                self.poll_later(key, status);
            }
            Next::List => {
                let session_id = job.session_id.clone().unwrap_or_default();
                job.busy = true;
                self.requests_out += 1;
                self.count(|c| c.session_polls += 1);
                let client = self.client.clone();
                let key = key.to_string();
                work.push(Box::pin(async move {
                    let result = client
                        .video_agents()
                        .videos(session_id)
                        .await
                        .map(|page| page.items.into_iter().next().map(|video| video.id));
                    Step::Listed { key, result }
                }));
            }
            Next::Fetch => match job.life.stage().resource {
                Resource::Session => {
                    // The session's record decides: poll it now (or, with a poll out, when
                    // that one answers).
                    job.next_poll = Instant::now();
                }
                _ => {
                    if let Some(video_id) = job.life.id().map(str::to_string) {
                        self.fetch_detail(key, video_id, work);
                    }
                }
            },
            Next::Done(end) if job.family.is_some() => {
                let (Some(kind), Some(id)) = (job.family, job.video_id.clone()) else {
                    return;
                };
                let result = match (end, evidence) {
                    (End::Succeeded, Evidence::Record(record)) => {
                        let urls: Vec<String> = kind
                            .result_urls(&record)
                            .into_iter()
                            .map(str::to_string)
                            .collect();
                        if self.download_dir.is_some() && !urls.is_empty() {
                            self.downloads.push_back((
                                key.to_string(),
                                Finished::Job(kind, id, record, urls),
                            ));
                            return;
                        }
                        JobResult::Completed {
                            kind,
                            id,
                            session_id: None,
                            record: TypedRecord::decode(kind, *record),
                            files: Vec::new(),
                            download_error: None,
                        }
                    }
                    // Whether it is journaled as ended is the kind's to say (`finish`).
                    (End::NeedsInput, _) => JobResult::NeedsInput {
                        kind,
                        id,
                        session_id: None,
                    },
                    (End::Failed, Evidence::Record(record)) => {
                        let reason = kind
                            .failure_in(&record)
                            .unwrap_or_else(|| format!("the {kind} failed"));
                        failed(kind, id, None, reason)
                    }
                    (End::Gone, evidence) => {
                        let mut reason = format!("HeyGen does not know this {kind} (deleted?)");
                        if let Evidence::Error(error) = evidence {
                            reason = format!("{reason}: {error}");
                        }
                        failed(kind, id, None, reason)
                    }
                    (End::PollsFailed, Evidence::Error(error)) => failed(
                        kind,
                        id,
                        None,
                        format!("polling failed {FAILED_POLLS} times in a row: {error}"),
                    ),
                    (_, Evidence::Reason(reason)) => failed(kind, id, None, reason),
                    (end, _) => failed(kind, id, None, format!("the job ended: {end:?}")),
                };
                self.finish(key.to_string(), result).await;
            }
            Next::Done(end) => {
                let (session_id, video_id) = (job.session_id.clone(), job.video_id.clone());
                let result = match (end, evidence) {
                    (End::Succeeded, Evidence::Video(video)) => {
                        if self.download_dir.is_some() {
                            self.downloads
                                .push_back((key.to_string(), Finished::Video(session_id, video)));
                            return;
                        }
                        let kind = video_kind(&session_id);
                        JobResult::Completed {
                            kind,
                            id: video.id.clone(),
                            session_id,
                            record: TypedRecord::of_video(kind, *video),
                            files: Vec::new(),
                            download_error: None,
                        }
                    }
                    (End::Failed, Evidence::Video(video)) => {
                        let reason = [
                            video.failure_code.as_deref(),
                            video.failure_message.as_deref(),
                        ]
                        .into_iter()
                        .flatten()
                        .collect::<Vec<_>>()
                        .join(": ");
                        let reason = if reason.is_empty() {
                            "the render failed".into()
                        } else {
                            reason
                        };
                        failed(video_kind(&session_id), video.id, session_id, reason)
                    }
                    (End::Failed, Evidence::Session(session)) => {
                        let reason =
                            crate::api::outcome::JobOutcome::Failed(session.clone()).to_string();
                        let id = session.session_id;
                        failed(JobKind::VideoAgent, id.clone(), Some(id), reason)
                    }
                    (End::NeedsInput, _) => JobResult::NeedsInput {
                        kind: JobKind::VideoAgent,
                        id: session_id.clone().unwrap_or_default(),
                        session_id,
                    },
                    (End::Gone, evidence) => {
                        let what = match job.life.stage().resource {
                            Resource::Session => "session",
                            _ => "video",
                        };
                        let mut reason = format!("HeyGen does not know this {what} (deleted?)");
                        if let Evidence::Error(error) = evidence {
                            reason = format!("{reason}: {error}");
                        }
                        failure(session_id, video_id, reason)
                    }
                    (End::PollsFailed, Evidence::Error(error)) => failure(
                        session_id,
                        video_id,
                        format!("polling failed {FAILED_POLLS} times in a row: {error}"),
                    ),
                    (_, Evidence::Reason(reason)) => failure(session_id, video_id, reason),
                    (end, _) => failure(session_id, video_id, format!("the job ended: {end:?}")),
                };
                self.finish(key.to_string(), result).await;
            }
        }
    }

    /// A poll or fetch that failed: a temporary failure is polled again later; one that
    /// fails for good ends the job after [`FAILED_POLLS`] in a row.
    async fn poll_failed(&mut self, key: &str, error: Arc<Error>, work: &mut Work) {
        let observed = Observed::failure(&error);
        self.observe(key, observed, Evidence::Error(error), work)
            .await;
    }

    /// Fetches a finished video's record (now, or when there is room), once: a job whose
    /// record is being fetched is not fetched again.
    fn fetch_detail(&mut self, key: &str, video_id: String, work: &mut Work) {
        match self.jobs.get_mut(key) {
            Some(job) if !job.fetching => {
                job.busy = true;
                job.fetching = true;
            }
            _ => return,
        }
        self.start_detail(key, video_id, work);
    }

    fn start_detail(&mut self, key: &str, video_id: String, work: &mut Work) {
        if self.requests_out >= REQUESTS_AT_ONCE {
            self.details.push_back((key.to_string(), video_id));
            return;
        }
        self.requests_out += 1;
        self.count(|c| c.video_details += 1);
        if let Some(kind) = self.jobs.get(key).and_then(|job| job.family) {
            self.push_job_record(key.to_string(), kind, video_id, work);
            return;
        }
        let client = self.client.clone();
        let key = key.to_string();
        work.push(Box::pin(async move {
            let result = client.videos().get(video_id).await.map(Box::new);
            Step::Detail { key, result }
        }));
    }

    async fn on_bulk(&mut self, ids: Vec<String>, result: Result<VideoStatuses>, work: &mut Work) {
        let statuses = match result {
            Ok(statuses) => statuses,
            Err(error) => {
                let error = Arc::new(error);
                for id in &ids {
                    if let Some(key) = self.by_video.get(id).cloned() {
                        if self.current(&key, Resource::Video) {
                            self.poll_failed(&key, Arc::clone(&error), work).await;
                        }
                    }
                }
                return;
            }
        };
        let mut answered = HashSet::new();
        for item in statuses.items {
            let Some(video_id) = item.video_id else {
                continue;
            };
            let Some(key) = self.by_video.get(&video_id).cloned() else {
                continue;
            };
            answered.insert(video_id.clone());
            if !self.current(&key, Resource::Video) {
                continue; // a delivery got there first
            }
            let observed = Observed::Status {
                status: item.status.as_str(),
                next: None,
                record: false,
            };
            self.observe(&key, observed, Evidence::None, work).await;
        }
        for video_id in statuses.not_found {
            if let Some(key) = self.by_video.get(&video_id).cloned() {
                answered.insert(video_id.clone());
                if self.current(&key, Resource::Video) {
                    self.observe(&key, Observed::NotFoundInBulk, Evidence::None, work)
                        .await;
                }
            }
        }
        for id in ids.iter().filter(|id| !answered.contains(*id)) {
            if let Some(key) = self.by_video.get(id).cloned() {
                if self.current(&key, Resource::Video) {
                    self.observe(&key, Observed::MissingFromBulk, Evidence::None, work)
                        .await;
                }
            }
        }
    }

    /// Bulk statuses of family jobs (translations, lip-syncs): each item names its job in
    /// `video_id`; an id the answer leaves out, or `not_found`, is asked about on its own.
    async fn on_job_bulk(
        &mut self,
        kind: crate::api::kinds::JobKind,
        ids: Vec<String>,
        result: Result<Value>,
        work: &mut Work,
    ) {
        let page = match result {
            Ok(page) => page,
            Err(error) => {
                let error = Arc::new(error);
                for id in &ids {
                    if let Some(key) = self.by_video.get(id).cloned() {
                        if self.current(&key, Resource::Job) {
                            self.poll_failed(&key, Arc::clone(&error), work).await;
                        }
                    }
                }
                return;
            }
        };
        for id in &ids {
            let Some(key) = self.by_video.get(id).cloned() else {
                continue;
            };
            if !self.current(&key, Resource::Job) {
                continue; // a delivery got there first
            }
            let stage = kind.describe().stages.last();
            let status = stage.and_then(|stage| JobKind::bulk_status(stage, &page, id));
            let observed = match status {
                Some("not_found") => Observed::NotFoundInBulk,
                None => Observed::MissingFromBulk,
                Some(status) => Observed::Status {
                    status,
                    next: None,
                    record: false,
                },
            };
            self.observe(&key, observed, Evidence::None, work).await;
        }
    }

    /// A family job's record: a poll's answer, or the fetch of its ending.
    async fn on_job_record(&mut self, key: String, result: Result<Value>, work: &mut Work) {
        if let Some(job) = self.jobs.get_mut(&key) {
            // The fetch (if this was one) is answered; the lifecycle says what comes next.
            job.fetching = false;
        } else {
            return;
        }
        match result {
            Ok(record) => {
                let status = crate::api::kinds::record_status(&record).to_string();
                let observed = Observed::Status {
                    status: &status,
                    next: None,
                    record: true,
                };
                self.observe(&key, observed, Evidence::Record(Box::new(record)), work)
                    .await;
            }
            Err(error) => self.poll_failed(&key, Arc::new(error), work).await,
        }
    }

    /// Whether an answer about `resource` still concerns the job: it is tracked, no record
    /// fetch is out for it, and it has not moved on to a later stage since the request left.
    /// A stale answer is dropped, flags untouched: what moved the job on owns them.
    fn current(&self, key: &str, resource: Resource) -> bool {
        self.jobs
            .get(key)
            .is_some_and(|job| !job.fetching && job.life.stage().resource == resource)
    }

    async fn on_session(
        &mut self,
        key: String,
        result: Result<Box<VideoAgentSession>>,
        work: &mut Work,
    ) {
        if !self.current(&key, Resource::Session) {
            return;
        }
        match result {
            Ok(session) => {
                let status = session.status.as_str().to_string();
                let video_id = session.video_id.clone();
                let observed = Observed::Status {
                    status: &status,
                    next: video_id.as_deref(),
                    record: true,
                };
                self.observe(&key, observed, Evidence::Session(session), work)
                    .await;
            }
            Err(error) => self.poll_failed(&key, Arc::new(error), work).await,
        }
    }

    /// The answer to listing a session's videos (it answered 404, or completed without
    /// naming its video).
    async fn on_listed(&mut self, key: String, result: Result<Option<String>>, work: &mut Work) {
        if !self.current(&key, Resource::Session) {
            return;
        }
        let found = result.ok().flatten();
        self.observe(
            &key,
            Observed::Listed(found.as_deref()),
            Evidence::None,
            work,
        )
        .await;
    }

    /// A session's video became known: from now on it is polled in bulk.
    fn learn_video(&mut self, key: &str, video_id: &str) {
        let Some(job) = self.jobs.get_mut(key) else {
            return;
        };
        if job.video_id.as_deref() == Some(video_id) {
            return;
        }
        let previous = job.video_id.replace(video_id.to_string());
        let session_id = job.session_id.clone();
        if let Some(previous) = previous {
            self.by_video.remove(&previous);
        }
        self.by_video.insert(video_id.to_string(), key.to_string());
        let _ = self.record(Record::Video {
            key: key.to_string(),
            video_id: video_id.to_string(),
        });
        self.emit(BatchEvent::InFlight {
            key: key.to_string(),
            session_id,
            video_id: Some(video_id.to_string()),
        });
    }

    async fn on_detail(&mut self, key: String, result: Result<Box<VideoDetail>>, work: &mut Work) {
        match result {
            Ok(video) => {
                let status = video.status.as_str().to_string();
                let observed = Observed::Status {
                    status: &status,
                    next: None,
                    record: true,
                };
                self.observe(&key, observed, Evidence::Video(video), work)
                    .await;
            }
            Err(error) => self.poll_failed(&key, Arc::new(error), work).await,
        }
    }

    /// A verified delivery: ends its job at once (or fetches its video to do so). Only the
    /// events that end a session or a video count; a job whose video is being fetched
    /// already ignores them (deliveries come at least once).
    async fn on_delivery(&mut self, event: &WebhookEvent, work: &mut Work) {
        // The event types the kinds' descriptions say end a job.
        let ends_a_job = JobKind::any_ended_by(event.event_type());
        let Some(payload) = event.payload().filter(|_| ends_a_job) else {
            return;
        };
        let key = payload
            .session_id()
            .and_then(|s| self.by_session.get(s))
            .or_else(|| payload.video_id().and_then(|v| self.by_video.get(v)))
            .or_else(|| payload.job_id().and_then(|j| self.by_video.get(j)))
            .cloned();
        let Some(key) = key else {
            return;
        };
        if self.jobs.get(&key).is_none_or(|job| job.fetching) {
            return;
        }
        let family = self.jobs.get(&key).and_then(|job| job.family).is_some();
        let observed = Observed::Delivery {
            succeeded: !payload.is_failure(),
            last: if family {
                payload.job_id()
            } else {
                payload.video_id()
            },
        };
        let reason = payload
            .failure_message()
            .unwrap_or("the job failed")
            .to_string();
        self.observe(&key, observed, Evidence::Reason(reason), work)
            .await;
    }

    fn launch_details(&mut self, work: &mut Work) {
        while self.requests_out < REQUESTS_AT_ONCE {
            let Some((key, video_id)) = self.details.pop_front() else {
                break;
            };
            if self.jobs.contains_key(&key) {
                self.start_detail(&key, video_id, work);
            }
        }
    }

    /// The name a job's files start with: its key, or, for a key that had to change (or
    /// would make an empty or overlong name), a short form with a hash of the key, so that
    /// two keys never share a file.
    fn base_name(key: &str) -> String {
        let name: String = key
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let name = name.trim_start_matches('.');
        if name == key && !name.is_empty() && name.len() <= 120 {
            name.to_string()
        } else {
            let digest = sha2::Sha256::digest(key.as_bytes());
            let short: String = name.chars().take(80).collect();
            format!("{short}-{}", &hex::encode(digest)[..12])
        }
    }

    /// Where a job's video is downloaded.
    fn file_for(&self, key: &str) -> Option<PathBuf> {
        let file = format!("{}.mp4", Self::base_name(key));
        Some(self.download_dir.as_ref()?.join(file))
    }

    /// Where each of a job's result files is downloaded: `<key>.<extension>` for one,
    /// `<key>-<n>.<extension>` (from 1) for several, the extension the URL's own (else
    /// `mp4`).
    fn files_for(&self, key: &str, urls: &[String]) -> Option<Vec<PathBuf>> {
        let dir = self.download_dir.as_ref()?;
        let base = Self::base_name(key);
        Some(
            urls.iter()
                .enumerate()
                .map(|(n, url)| {
                    let extension = url_extension(url).unwrap_or("mp4");
                    if urls.len() == 1 {
                        dir.join(format!("{base}.{extension}"))
                    } else {
                        dir.join(format!("{base}-{}.{extension}", n + 1))
                    }
                })
                .collect(),
        )
    }

    fn launch_downloads(&mut self, work: &mut Work) {
        while self.downloading < self.download_concurrency {
            let Some((key, finished)) = self.downloads.pop_front() else {
                break;
            };
            let paths = match &finished {
                Finished::Video(..) => self.file_for(&key).map(|path| vec![path]),
                Finished::Job(_, _, _, urls) => self.files_for(&key, urls),
            };
            let Some(paths) = paths else {
                break;
            };
            self.downloading += 1;
            self.emit(BatchEvent::Downloading { key: key.clone() });
            let client = self.client.clone();
            // A file at its final name is whole: downloads land under a temporary name, and
            // are on disk before they get it (durable), so a resume after a power cut that
            // finds the file finds it whole.
            let missing: Vec<bool> = paths.iter().map(|path| !path.exists()).collect();
            let fresh = missing.iter().filter(|m| **m).count() as u64;
            self.count(|c| c.downloads += fresh);
            work.push(Box::pin(async move {
                let result = match finished {
                    Finished::Video(session_id, video) => {
                        let path = paths.into_iter().next().unwrap_or_default();
                        let download_error = if missing.first() == Some(&true) {
                            client
                                .videos()
                                .download(&video, VideoAsset::Video, &path)
                                .durable(true)
                                .await
                                .err()
                                .map(Arc::new)
                        } else {
                            None
                        };
                        let kind = video_kind(&session_id);
                        JobResult::Completed {
                            kind,
                            id: video.id.clone(),
                            session_id,
                            record: TypedRecord::of_video(kind, *video),
                            files: if download_error.is_none() {
                                vec![path]
                            } else {
                                Vec::new()
                            },
                            download_error,
                        }
                    }
                    Finished::Job(kind, id, record, urls) => {
                        let mut download_error = None;
                        for ((url, path), missing) in urls.iter().zip(&paths).zip(&missing) {
                            if !missing {
                                continue;
                            }
                            if let Err(error) = client.download(url, path).durable(true).await {
                                download_error = Some(Arc::new(error));
                                break;
                            }
                        }
                        let files = if download_error.is_none() {
                            paths
                        } else {
                            Vec::new()
                        };
                        JobResult::Completed {
                            kind,
                            id,
                            session_id: None,
                            record: TypedRecord::decode(kind, *record),
                            files,
                            download_error,
                        }
                    }
                };
                Step::Downloaded { key, result }
            }));
        }
    }

    /// The deadline passed: every job in flight, waiting or being created comes out timed out.
    async fn time_out_all(&mut self) {
        let mut timed_out: Vec<(String, JobResult)> = self
            .jobs
            .drain()
            .map(|(key, job)| {
                let result = JobResult::TimedOut {
                    session_id: job.session_id,
                    id: job.video_id,
                    last_status: job.last_status,
                };
                (key, result)
            })
            .collect();
        let unsent = self
            .waiting
            .drain(..)
            .map(|w| w.key)
            .chain(self.creating.drain());
        timed_out.extend(unsent.map(|key| {
            let result = JobResult::TimedOut {
                session_id: None,
                id: None,
                last_status: None,
            };
            (key, result)
        }));
        timed_out.sort_by(|a, b| a.0.cmp(&b.0));
        for (key, result) in timed_out {
            self.report(key, result).await;
        }
    }
}

/// A video or a session's failure: its video's, once it has one, else its session's.
fn failure(session_id: Option<String>, video_id: Option<String>, reason: String) -> JobResult {
    let kind = video_kind(&session_id);
    match (video_id, session_id) {
        (Some(id), session_id) => failed(kind, id, session_id, reason),
        (None, session_id) => {
            let id = session_id.clone().unwrap_or_default();
            failed(kind, id, session_id, reason)
        }
    }
}

fn failed(kind: JobKind, id: String, session_id: Option<String>, reason: String) -> JobResult {
    JobResult::Failed {
        kind,
        id,
        session_id,
        reason,
    }
}

/// The kind of a job on the video path: a Video Agent job has a session.
fn video_kind(session_id: &Option<String>) -> JobKind {
    if session_id.is_some() {
        JobKind::VideoAgent
    } else {
        JobKind::Video
    }
}

/// What the balance went down by, without the noise of binary floats (`94.4 - 94.1` is not
/// `0.3` in them): rounded to a millionth, below any unit HeyGen bills in.
fn spent(before: f64, after: f64) -> f64 {
    ((before - after).max(0.0) * 1e6).round() / 1e6
}

async fn recv(deliveries: &mut Option<mpsc::Receiver<WebhookEvent>>) -> Option<WebhookEvent> {
    match deliveries {
        Some(receiver) => receiver.recv().await,
        None => std::future::pending().await,
    }
}

/// What is left of the account's balance, and its unit: the wallet's (in its currency), or
/// the usage-based credits.
async fn balance(client: &Client) -> Option<(f64, String)> {
    let me = client.users().me().await.ok()?;
    let wallet = me.wallet.and_then(|wallet| {
        let left = wallet.remaining_balance?;
        Some((left, wallet.currency.to_string()))
    });
    wallet.or_else(|| {
        let left = me.usage_based?.remaining_credits?;
        Some((left, "credits".to_string()))
    })
}

/// The point of the grid (`epoch` plus multiples of `grid`) nearest to `moment`, and never
/// before `now`. Rounding to the nearest point, not up, keeps polls on time: a job polled
/// just after a grid point, and due again one interval later, lands on the next point, not on
/// the one after it.
fn on_grid(epoch: Instant, grid: Duration, moment: Instant, now: Instant) -> Instant {
    let grid = grid.as_nanos().max(1);
    let offset = moment.saturating_duration_since(epoch).as_nanos();
    let mut ticks = (offset + grid / 2) / grid;
    let at = |ticks: u128| {
        u64::try_from(ticks.saturating_mul(grid))
            .ok()
            .and_then(|nanos| epoch.checked_add(Duration::from_nanos(nanos)))
            .unwrap_or(moment)
    };
    while at(ticks) < now {
        ticks += 1;
    }
    at(ticks)
}

/// The extension of the file a URL names (`mp4` of `https://x/a.mp4?sig=1`), if it has a
/// short, plain one.
fn url_extension(url: &str) -> Option<&str> {
    let path = url.split(['?', '#']).next()?;
    let file = path.rsplit('/').next()?;
    let (_, extension) = file.rsplit_once('.')?;
    (!extension.is_empty()
        && extension.len() <= 5
        && extension.chars().all(|c| c.is_ascii_alphanumeric()))
    .then_some(extension)
}

#[cfg(test)]
mod tests {

    #[test]
    fn money_spent_carries_no_float_noise() {
        assert_ne!(
            (94.4_f64 - 94.1).to_string(),
            "0.3",
            "the noise this removes"
        );
        assert_eq!(super::spent(94.4, 94.1).to_string(), "0.3");
        assert_eq!(super::spent(10.0, 8.9).to_string(), "1.1");
        assert_eq!(
            super::spent(3.0, 3.5),
            0.0,
            "a top-up during the run is not spent"
        );
        assert_eq!(super::spent(1.000_000_4, 1.0), 0.0);
    }
    use super::*;

    /// A safety net of 10 s polls a job every 10 s, on the grid: a job created 1.3 s in is
    /// polled at 10 s, 20 s and 30 s, even though each poll is handled a little after its
    /// grid point (before, each next poll rounded up past the point it was due at: 20 s,
    /// 40 s).
    #[tokio::test(start_paused = true)]
    async fn the_safety_net_polls_on_time() {
        let epoch = Instant::now();
        let net = Duration::from_secs(10);
        tokio::time::advance(Duration::from_millis(1300)).await;
        let mut polls = Vec::new();
        let mut next = on_grid(epoch, net, Instant::now() + net, Instant::now());
        for _ in 0..3 {
            tokio::time::sleep_until(next).await;
            // The poll is answered a little after it was due.
            tokio::time::advance(Duration::from_millis(40)).await;
            polls.push((next - epoch).as_secs_f64());
            next = on_grid(epoch, net, Instant::now() + net, Instant::now());
        }
        assert_eq!(polls, [10.0, 20.0, 30.0]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_grid_point_is_never_in_the_past() {
        let epoch = Instant::now();
        tokio::time::advance(Duration::from_millis(5400)).await;
        let now = Instant::now();
        // Due now: the nearest point (5 s) has passed, so the next one is taken.
        let due = on_grid(epoch, Duration::from_secs(1), now, now);
        assert_eq!(due - epoch, Duration::from_secs(6));
        // Due in 2.4 s with a grid of 1 s: the nearest point, 8 s.
        let due = on_grid(
            epoch,
            Duration::from_secs(1),
            now + Duration::from_millis(2400),
            now,
        );
        assert_eq!(due - epoch, Duration::from_secs(8));
    }

    #[test]
    fn a_result_file_keeps_its_url_extension() {
        assert_eq!(url_extension("https://x/a/clip.mp4?sig=a.b"), Some("mp4"));
        assert_eq!(url_extension("https://x/preview.wav#t"), Some("wav"));
        assert_eq!(url_extension("https://x/layer"), None);
        assert_eq!(url_extension("https://x.y/dir.d/file"), None);
        assert_eq!(url_extension("https://x/a.tar-gz"), None);
    }
}
