//! Waiting for jobs of any kind (sessions and videos as much as translations, lip-syncs,
//! clipping jobs, background removals, proofreads, avatars and voices), their records as JSON:
//! poll until each ends, one at a time or many at once.
//!
//! Every kind is described once, in the spec (`crate::api::kinds`): its stages, the statuses
//! that end each, and whether HeyGen answers its statuses in bulk. This driver does the requests and keeps
//! the time; the lifecycle decides what each answer means, as it does for videos. A job is
//! polled through its kind's `get` operation; kinds with a bulk statuses operation
//! (translations, lip-syncs) are polled 100 at a time while more than one is waited for, and
//! a status that ends a job in bulk is confirmed by fetching its record.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use futures_core::Stream;
use serde_json::Value;
use tokio::time::Instant;

use crate::api::client::Client;
pub use crate::api::ended::JobEnded;
use crate::api::error::{Error, Result};
use crate::api::kinds::{JobKind, Resource, Stage};
pub use crate::api::outcome::{JobOutcome, JobTimedOut};
use crate::jobs::lifecycle::{End, Lifecycle, Next, Observed};
use crate::jobs::wait::{PollClock, PolledStatus, WaitEvent, WaitOptions, WaitPhase};
use crate::operations::Invocation;

/// How many ids a bulk statuses request names.
const IDS_PER_REQUEST: usize = 100;

impl JobKind {
    /// One bulk statuses request of `stage` for `ids` (at most 100), every page followed;
    /// `None` for a stage without bulk statuses.
    pub(crate) async fn bulk_statuses(
        stage: &'static Stage,
        client: &Client,
        ids: &[String],
    ) -> Option<Result<Value>> {
        let bulk = stage.bulk?;
        Some(
            client
                .invoke(
                    bulk.operation,
                    Invocation::new()
                        .query(bulk.ids, ids.join(","))
                        .all_pages(true),
                )
                .await,
        )
    }

    /// The status a bulk answer of `stage` gives the job `id` (`not_found` included), if it
    /// names it.
    pub(crate) fn bulk_status<'a>(stage: &Stage, page: &'a Value, id: &str) -> Option<&'a str> {
        let bulk = stage.bulk?;
        page.get("data")?
            .as_array()?
            .iter()
            .find(|item| item.get(bulk.member).and_then(Value::as_str) == Some(id))?
            .get("status")?
            .as_str()
    }
}

/// The ends of a multi-job wait, each as it happens. Dropping the stream stops polling.
pub type JobStream<'a, T> = Pin<Box<dyn Stream<Item = JobEnded<T>> + Send + 'a>>;

impl Client {
    /// Waits for one job of `kind` until it ends (or the deadline passes), polling each stage's
    /// `get` operation on the schedule of `options` (a session is given by its id, and
    /// followed to its video). The record is JSON as HeyGen sent it, the last stage's; the
    /// resource handles offer the same wait typed (`videos().wait(..)`, `lipsyncs().wait(..)`).
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
        ids: impl IntoIterator<Item = impl Into<String>>,
        options: WaitOptions,
    ) -> JobStream<'static, Value> {
        let mut seen = std::collections::BTreeSet::new();
        let ids: Vec<String> = ids
            .into_iter()
            .map(Into::into)
            .filter(|id| seen.insert(id.clone()))
            .collect();
        run(self.clone(), kind, ids, options)
    }
}

/// A record of a job of `kind`, fetched with `operation`, typed; a record that does not
/// decode is an unexpected answer of that operation.
pub(crate) fn decode<T: serde::de::DeserializeOwned>(
    kind: JobKind,
    operation: &'static str,
    record: Value,
) -> Result<T> {
    serde_json::from_value(record).map_err(|e| {
        crate::api::error::unexpected_answer(
            operation,
            &format!("the {kind} record does not decode: {e}"),
        )
    })
}

/// Where the poller gets its answers: the client, or a scripted source in tests.
pub(crate) trait Source: Clone + Send + Sync + 'static {
    /// A stage's record, by the stage's `get` operation and its id.
    fn get(
        &self,
        operation: &'static str,
        id: String,
    ) -> impl Future<Output = Result<Value>> + Send;
    /// A stage's next resources, newest first, by its `list_next` operation.
    fn list(
        &self,
        operation: &'static str,
        id: String,
    ) -> impl Future<Output = Result<Value>> + Send;
    /// One bulk statuses answer of `stage` for `ids`; `None` for a stage without one.
    fn bulk(
        &self,
        stage: &'static Stage,
        ids: Vec<String>,
    ) -> impl Future<Output = Option<Result<Value>>> + Send;
}

impl Source for Client {
    /// The record as the server sent it, every member kept (`null`s too): a wait's record
    /// is the same as a `get`'s.
    async fn get(&self, operation: &'static str, id: String) -> Result<Value> {
        self.invoke(
            operation,
            Invocation::new().path_param(id).raw_response(true),
        )
        .await
    }

    async fn list(&self, operation: &'static str, id: String) -> Result<Value> {
        self.invoke(operation, Invocation::new().path_param(id))
            .await
    }

    async fn bulk(&self, stage: &'static Stage, ids: Vec<String>) -> Option<Result<Value>> {
        JobKind::bulk_statuses(stage, self, &ids).await
    }
}

/// What the poller reports: a poll seen (the wait goes on), or a job's end.
pub(crate) enum Update {
    /// A poll of a job that goes on.
    Progress(WaitEvent),
    /// A job ended (or timed out, or its polls failed for good).
    Ended(Finished),
}

/// A job's end, with what the typed waits need beside the outcome.
pub(crate) struct Finished {
    /// The id the job was asked for by.
    pub(crate) id: String,
    /// How it ended; the record is the one of the stage it ended at.
    pub(crate) outcome: Result<JobOutcome<Value>>,
    /// The resource of the stage it ended at.
    pub(crate) resource: Resource,
    /// Its session's id, for a Video Agent job.
    pub(crate) session_id: Option<String>,
}

impl Finished {
    /// The end as a multi-job wait reports it, labelled where its kind says how.
    fn public(self, kind: JobKind) -> JobEnded<Value> {
        let label = match &self.outcome {
            Ok(outcome) => outcome.record().and_then(|record| kind.label_in(record)),
            Err(_) => None,
        };
        JobEnded {
            id: self.id,
            label,
            outcome: self.outcome,
        }
    }
}

/// A poll seen and not yet reported.
struct Seen {
    resource: Resource,
    progress: Option<i64>,
}

/// One job being waited for.
struct Waited {
    /// The id it was asked for by (its first stage's).
    id: String,
    life: Lifecycle,
    last_status: Option<String>,
    /// The record from the latest single poll (the outcome's record when it ends).
    record: Option<Value>,
    /// The latest error of a poll about it.
    error: Option<Arc<Error>>,
    /// What the lifecycle said last.
    next: Next,
    /// The status (and the resource it was of) last reported.
    reported: Option<(Resource, String)>,
    /// The latest poll, until it is reported.
    seen: Option<Seen>,
    /// When it is polled next (`None`: at once).
    due: Option<Instant>,
    /// Polls of its current stage, for the schedule (a new stage starts afresh).
    stage_polls: u32,
    /// Polls made for it in all.
    polls: u32,
}

impl Waited {
    fn new(id: String, life: Lifecycle) -> Self {
        Waited {
            id,
            life,
            last_status: None,
            record: None,
            error: None,
            next: Next::Poll,
            reported: None,
            seen: None,
            due: None,
            stage_polls: 0,
            polls: 0,
        }
    }

    /// The id of the stage it is at.
    fn current(&self) -> String {
        self.life.id().unwrap_or(&self.id).to_string()
    }
}

/// The one poller: waits for jobs of one kind, each on its own schedule, those at a stage
/// HeyGen answers in bulk 100 a request, all on one clock. Every wait of the crate (one job,
/// many jobs, a video, a session, a family's job) is this.
struct Driver<S> {
    source: S,
    kind: JobKind,
    options: WaitOptions,
    started: Instant,
    clock: PollClock,
    waiting: Vec<Waited>,
    updates: VecDeque<Update>,
}

/// Polls the jobs `starts` (each its id and its lifecycle) of `kind` until every one ends,
/// reporting each poll and each end as it happens. Dropping the stream stops polling.
pub(crate) fn drive<S: Source>(
    source: S,
    kind: JobKind,
    starts: Vec<(String, Lifecycle)>,
    options: WaitOptions,
) -> Pin<Box<dyn Stream<Item = Update> + Send>> {
    let started = Instant::now();
    let mut updates = VecDeque::new();
    let mut waiting = Vec::new();
    for (id, life) in starts {
        if id.trim().is_empty() {
            updates.push_back(Update::Ended(Finished {
                id,
                outcome: Err(Error::invalid("id", "must not be empty")),
                resource: life.stage().resource,
                session_id: None,
            }));
        } else {
            waiting.push(Waited::new(id, life));
        }
    }
    let driver = Driver {
        source,
        kind,
        clock: PollClock::new(started, &options),
        options,
        started,
        waiting,
        updates,
    };
    Box::pin(futures_util::stream::unfold(
        driver,
        |mut driver| async move {
            loop {
                if let Some(update) = driver.updates.pop_front() {
                    return Some((update, driver));
                }
                if driver.waiting.is_empty() {
                    return None;
                }
                driver.round_trip().await;
            }
        },
    ))
}

fn run(
    client: Client,
    kind: JobKind,
    ids: Vec<String>,
    options: WaitOptions,
) -> JobStream<'static, Value> {
    use futures_util::StreamExt as _;
    let starts = ids
        .into_iter()
        .map(|id| {
            let life = Lifecycle::new(kind.describe(), &[Some(&id)]);
            (id, life)
        })
        .collect();
    Box::pin(
        drive(client, kind, starts, options).filter_map(move |update| async move {
            match update {
                Update::Ended(finished) => Some(finished.public(kind)),
                Update::Progress(_) => None,
            }
        }),
    )
}

impl<S: Source> Driver<S> {
    /// One round: sleep until the next poll is due (or time everything out), poll the jobs
    /// due, and do what the lifecycle says of each.
    async fn round_trip(&mut self) {
        if self.waiting.iter().all(|job| job.due.is_some()) {
            let Some(due) = self.waiting.iter().filter_map(|job| job.due).min() else {
                return;
            };
            if !self.clock.until(due).await {
                self.time_out_all();
                return;
            }
        }
        let now = Instant::now();
        // The last poll before the deadline is everyone's.
        let last = self.clock.last_poll_made();
        let which: Vec<usize> = (0..self.waiting.len())
            .filter(|&i| last || self.waiting[i].due.is_none_or(|due| due <= now))
            .collect();
        // No request outlives the deadline.
        let remaining = self.clock.deadline().saturating_duration_since(now);
        if tokio::time::timeout(remaining, self.poll(&which))
            .await
            .is_err()
        {
            self.time_out_all();
            return;
        }
        let mut i = 0;
        while i < self.waiting.len() {
            match self.waiting[i].next {
                Next::Done(end) => {
                    let job = self.waiting.remove(i);
                    let finished = self.end(job, end);
                    self.updates.push_back(Update::Ended(finished));
                }
                _ => i += 1,
            }
        }
    }

    /// Polls the jobs `which`, then settles each.
    async fn poll(&mut self, which: &[usize]) {
        // Jobs at a stage HeyGen answers in bulk go 100 a request when there are several;
        // the others are fetched one by one.
        let bulk: Vec<usize> = which
            .iter()
            .copied()
            .filter(|&i| self.waiting[i].life.stage().bulk.is_some())
            .collect();
        if bulk.len() > 1 {
            let single: Vec<usize> = which
                .iter()
                .copied()
                .filter(|i| !bulk.contains(i))
                .collect();
            self.poll_bulk(bulk).await;
            self.poll_each(single).await;
        } else {
            self.poll_each(which.to_vec()).await;
        }
        for &i in which {
            self.settle(i).await;
        }
        // Each job polled again on its schedule, from now. Jobs at the same point of the
        // schedule share one wait, so that they stay due together (and polled in bulk).
        let now = Instant::now();
        let mut waits = std::collections::BTreeMap::new();
        for &i in which {
            let job = &mut self.waiting[i];
            if job.next == Next::Poll {
                let wait = *waits
                    .entry(job.stage_polls)
                    .or_insert_with(|| self.options.schedule().wait(job.stage_polls));
                job.due = Some(now + wait);
                job.stage_polls += 1;
            }
        }
    }

    /// Fetches the record of the stage job `i` is at.
    async fn fetch(&mut self, i: usize) {
        let job = &mut self.waiting[i];
        let answer = self.source.get(job.life.stage().get, job.current()).await;
        observe_record(job, answer);
    }

    /// Polls the jobs `which` with their stage's `get`, a few at a time.
    async fn poll_each(&mut self, which: Vec<usize>) {
        use futures_util::StreamExt as _;
        let requests: Vec<_> = which
            .iter()
            .map(|&i| {
                let job = &self.waiting[i];
                let source = self.source.clone();
                let (get, id) = (job.life.stage().get, job.current());
                async move { (i, source.get(get, id).await) }
            })
            .collect();
        let answers: Vec<(usize, Result<Value>)> = futures_util::stream::iter(requests)
            .buffered(8)
            .collect()
            .await;
        for (i, answer) in answers {
            observe_record(&mut self.waiting[i], answer);
        }
    }

    /// Polls the jobs `which` in bulk, 100 ids a request. A request refused for good falls
    /// back to polling its jobs one by one, so that each ends with its own answer.
    async fn poll_bulk(&mut self, which: Vec<usize>) {
        for chunk in which.chunks(IDS_PER_REQUEST).map(<[usize]>::to_vec) {
            let stage = self.waiting[chunk[0]].life.stage();
            let (same, other): (Vec<usize>, Vec<usize>) = chunk
                .iter()
                .partition(|&&i| std::ptr::eq(self.waiting[i].life.stage(), stage));
            self.poll_each(other).await;
            let ids: Vec<String> = same.iter().map(|&i| self.waiting[i].current()).collect();
            let Some(answer) = self.source.bulk(stage, ids).await else {
                continue;
            };
            match answer {
                Ok(page) => {
                    for &i in &same {
                        let job = &mut self.waiting[i];
                        let status = JobKind::bulk_status(stage, &page, &job.current());
                        job.error = None;
                        job.record = None;
                        job.polls += 1;
                        job.seen = Some(Seen {
                            resource: stage.resource,
                            progress: None,
                        });
                        job.next = match status {
                            Some("not_found") => job.life.observe(Observed::NotFoundInBulk),
                            None => job.life.observe(Observed::MissingFromBulk),
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
                    for &i in &same {
                        let job = &mut self.waiting[i];
                        job.polls += 1;
                        job.seen = Some(Seen {
                            resource: stage.resource,
                            progress: None,
                        });
                        job.next = job.life.observe(Observed::failure(&error));
                        job.error = Some(Arc::clone(&error));
                    }
                }
                Err(error) => {
                    tracing::debug!(error = %error, "bulk statuses refused; polling one by one");
                    self.poll_each(same).await;
                }
            }
        }
    }

    /// Does what the lifecycle asked of job `i` until it is to be polled again on its
    /// schedule, or ended: fetching the record (an ending seen in bulk), listing the next
    /// stage's resources, polling the stage the job moved on to at once, on a fresh schedule.
    async fn settle(&mut self, i: usize) {
        // Each step moves the job on; a kind has few stages, so this ends quickly.
        for _ in 0..8 {
            match self.waiting[i].next {
                Next::Advance => {
                    self.report(i);
                    self.waiting[i].stage_polls = 0;
                    self.clock.reopen();
                    self.fetch(i).await;
                }
                Next::Fetch => {
                    self.report(i);
                    self.fetch(i).await;
                }
                Next::List => self.list(i).await,
                Next::Poll => break,
                Next::Done(_) => {
                    // The last poll is reported too; its error, if any, is the job's outcome.
                    self.report_last(i);
                    return;
                }
            }
        }
        self.report(i);
        self.waiting[i].next = Next::Poll;
    }

    /// Lists the next stage's resources of job `i` and tells the lifecycle the newest.
    async fn list(&mut self, i: usize) {
        let job = &mut self.waiting[i];
        let Some(list) = job.life.stage().list_next else {
            job.next = Next::Poll;
            return;
        };
        let answer = self.source.list(list.operation, job.current()).await;
        let first = answer.ok().and_then(|page| {
            crate::api::kinds::pointed(&page, list.ids)
                .first()
                .map(|id| id.to_string())
        });
        if first.is_some() {
            tracing::debug!(
                job = job.current().as_str(),
                next = first.as_deref().unwrap_or_default(),
                "following the job's next stage, as listed"
            );
        }
        job.next = job.life.observe(Observed::Listed(first.as_deref()));
    }

    fn end(&self, job: Waited, end: End) -> Finished {
        let resource = job.life.stage().resource;
        let session_id = job.life.id_of(Resource::Session).map(str::to_string);
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
        Finished {
            id: job.id,
            outcome,
            resource,
            session_id,
        }
    }

    fn time_out_all(&mut self) {
        for job in self.waiting.drain(..) {
            self.updates.push_back(Update::Ended(Finished {
                outcome: Ok(JobOutcome::TimedOut(JobTimedOut {
                    kind: self.kind,
                    id: job.id.clone(),
                    reached: job
                        .life
                        .id()
                        .filter(|current| *current != job.id)
                        .map(str::to_string),
                    last_status: job.last_status,
                    elapsed: self.started.elapsed(),
                    polls: job.polls,
                })),
                resource: job.life.stage().resource,
                session_id: job.life.id_of(Resource::Session).map(str::to_string),
                id: job.id,
            }));
        }
    }

    /// Reports job `i`'s latest poll, if it has not been: to the progress callback and to the
    /// stream.
    fn report(&mut self, i: usize) {
        self.report_poll(i, true);
    }

    /// Reports job `i`'s poll that ended it, leaving its error (if any) to its outcome.
    fn report_last(&mut self, i: usize) {
        self.report_poll(i, false);
    }

    fn report_poll(&mut self, i: usize, with_error: bool) {
        let job = &mut self.waiting[i];
        let Some(seen) = job.seen.take() else {
            return;
        };
        let status = job
            .error
            .is_none()
            .then(|| job.last_status.clone())
            .flatten()
            .map(|status| (seen.resource, status));
        let changed = status.is_some() && job.reported != status;
        if status.is_some() {
            job.reported.clone_from(&status);
        }
        let event = WaitEvent {
            phase: match seen.resource {
                Resource::Session => WaitPhase::Session,
                Resource::Video => WaitPhase::Video,
                Resource::Job => WaitPhase::Job,
            },
            session_id: job.life.id_of(Resource::Session).map(str::to_string),
            video_id: job.life.id_of(Resource::Video).map(str::to_string),
            job_id: (seen.resource == Resource::Job).then(|| job.id.clone()),
            status: status.map(|(resource, status)| match resource {
                Resource::Session => PolledStatus::Session(status.as_str().into()),
                Resource::Video => PolledStatus::Video(status.as_str().into()),
                Resource::Job => PolledStatus::Job(status),
            }),
            changed,
            progress: seen.progress,
            polls: job.polls,
            elapsed: self.started.elapsed(),
            error: job.error.clone().filter(|_| with_error),
        };
        if let Some(callback) = self.options.progress_callback() {
            callback(&event);
        }
        self.updates.push_back(Update::Progress(event));
    }
}

/// Tells the lifecycle what a single `get` answered.
fn observe_record(job: &mut Waited, answer: Result<Value>) {
    job.polls += 1;
    let stage = job.life.stage();
    job.next = match answer {
        Ok(record) => {
            let status = crate::api::kinds::record_status(&record).to_string();
            let next = stage
                .next
                .and_then(|pointer| record.pointer(pointer))
                .and_then(Value::as_str)
                .map(str::to_string);
            job.seen = Some(Seen {
                resource: stage.resource,
                progress: record.get("progress").and_then(Value::as_i64),
            });
            job.error = None;
            job.last_status = Some(status.clone());
            let verdict = job.life.observe(Observed::Status {
                status: &status,
                next: next.as_deref(),
                record: true,
            });
            job.record = Some(record);
            verdict
        }
        Err(error) => {
            job.seen = Some(Seen {
                resource: stage.resource,
                progress: None,
            });
            let next = job.life.observe(Observed::failure(&error));
            job.record = None;
            job.error = Some(Arc::new(error));
            next
        }
    };
}
