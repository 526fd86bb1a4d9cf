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
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use futures_core::Stream;
use serde_json::Value;
use tokio::time::Instant;

use crate::api::client::Client;
use crate::api::error::{Error, Result};
use crate::api::kinds::{JobKind, Stage};
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
    /// The status the progress callback was last told.
    reported: Option<String>,
}

impl Waited {
    /// The id of the stage it is at.
    fn current(&self) -> String {
        self.life.id().unwrap_or(&self.id).to_string()
    }
}

struct Driver {
    client: Client,
    kind: JobKind,
    options: WaitOptions,
    started: Instant,
    clock: PollClock,
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
                life: Lifecycle::new(kind.describe(), &[Some(&id)]),
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
        clock: PollClock::new(started, &options),
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
            let due = Instant::now() + self.options.schedule().wait(self.round - 1);
            if !self.clock.until(due).await {
                self.time_out_all();
                return;
            }
        }
        self.round += 1;
        self.polls += 1;
        // Jobs at a stage HeyGen answers in bulk go 100 a request when there are several;
        // the others are fetched one by one.
        let bulk: Vec<usize> = (0..self.waiting.len())
            .filter(|&i| self.waiting[i].life.stage().bulk.is_some())
            .collect();
        if bulk.len() > 1 {
            let single: Vec<usize> = (0..self.waiting.len())
                .filter(|i| !bulk.contains(i))
                .collect();
            self.poll_bulk(bulk).await;
            self.poll_each(single).await;
        } else {
            self.poll_each((0..self.waiting.len()).collect()).await;
        }
        self.report();
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

    /// Fetches the record of the stage job `i` is at.
    async fn fetch(&mut self, i: usize) {
        let job = &mut self.waiting[i];
        let get = job.life.stage().get;
        let answer = self
            .client
            .invoke(get, Invocation::new().path_param(job.current()))
            .await;
        observe_record(job, answer);
    }

    /// Polls the jobs `which` with their stage's `get`, a few at a time.
    async fn poll_each(&mut self, which: Vec<usize>) {
        use futures_util::StreamExt as _;
        let requests: Vec<_> = which
            .iter()
            .map(|&i| {
                let job = &self.waiting[i];
                fetch_record(self.client.clone(), i, job.life.stage().get, job.current())
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
            let Some(answer) = JobKind::bulk_statuses(stage, &self.client, &ids).await else {
                continue;
            };
            match answer {
                Ok(page) => {
                    for &i in &same {
                        let job = &mut self.waiting[i];
                        let status = JobKind::bulk_status(stage, &page, &job.current());
                        job.error = None;
                        job.record = None;
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

    /// What comes next for job `i`, after doing what the lifecycle asked: fetching the
    /// record (an ending seen in bulk), listing the next stage's resources, or polling the
    /// stage the job moved on to.
    async fn settle(&mut self, i: usize) -> Next {
        // Each step moves the job on; a kind has few stages, so this ends quickly.
        for _ in 0..8 {
            match self.waiting[i].next {
                Next::Fetch | Next::Advance => self.fetch(i).await,
                Next::List => self.list(i).await,
                next => return next,
            }
        }
        Next::Poll
    }

    /// Lists the next stage's resources of job `i` and tells the lifecycle the newest.
    async fn list(&mut self, i: usize) {
        let job = &mut self.waiting[i];
        let Some(list) = job.life.stage().list_next else {
            job.next = Next::Poll;
            return;
        };
        let answer = self
            .client
            .invoke(list.operation, Invocation::new().path_param(job.current()))
            .await;
        let first = answer.ok().and_then(|page| {
            crate::api::kinds::pointed(&page, list.ids)
                .first()
                .map(|id| id.to_string())
        });
        job.next = job.life.observe(Observed::Listed(first.as_deref()));
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

/// The record of job `i`'s stage, fetched with `get`.
async fn fetch_record(
    client: Client,
    i: usize,
    get: &'static str,
    id: String,
) -> (usize, Result<Value>) {
    (
        i,
        client.invoke(get, Invocation::new().path_param(id)).await,
    )
}

/// Tells the lifecycle what a single `get` answered.
fn observe_record(job: &mut Waited, answer: Result<Value>) {
    job.next = match answer {
        Ok(record) => {
            let status = JobKind::status(&record).to_string();
            let stage = job.life.stage();
            let next = stage
                .next
                .and_then(|pointer| record.pointer(pointer))
                .and_then(Value::as_str)
                .map(str::to_string);
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
            let next = job.life.observe(Observed::failure(&error));
            job.record = None;
            job.error = Some(Arc::new(error));
            next
        }
    };
}
