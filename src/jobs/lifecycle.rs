//! The life of an asynchronous job at HeyGen, as a pure state machine.
//!
//! A job passes through one or more *stages*: a Video Agent session, then the video it
//! renders; a video made directly is its video alone; a batch item is one stage read from its
//! batch. Each stage is a resource polled until its status ends.
//!
//! The drivers (the one poller in `jobs::job`, which every wait uses; the batch wait in
//! `resources::videos`; the batch runner in `batch::engine`) do all the I/O: they poll, list, fetch and receive deliveries,
//! hand what they saw to [`Lifecycle::observe`], and do what the returned [`Next`] says. Time
//! and requests stay with them; every decision about what HeyGen's answers mean is taken here,
//! once, and tested in one table (`lifecycle/tests.rs`).
//!
//! A kind of job is described, not programmed: the spec's `x-heygen-jobs` gives its stages,
//! each with the statuses that end it well, end it badly or pause it, whether it can be polled
//! in bulk, and whether it can be asked for its results when it answers 404 or ends without
//! naming them (`crate::api::kinds`).

use std::fmt;

use crate::api::error::Error;
use crate::api::kinds::{Class, Description, Resource, Stage};

/// A kind of job, as the lifecycle reads it: its stages, from the spec (`x-heygen-jobs`).
pub(crate) type Kind = Description;

/// What a driver saw about the job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Observed<'a> {
    /// A poll of the current stage answered with its status.
    Status {
        /// The status as HeyGen sent it.
        status: &'a str,
        /// The next stage's id, when the answer names one (a session's `video_id`).
        next: Option<&'a str>,
        /// Whether the answer is the resource's whole record (a single `GET`), so that an
        /// ending status needs nothing more; a bulk status is not.
        record: bool,
    },
    /// The current stage's resource is unknown to HeyGen (its own `GET` answered 404).
    NotFound,
    /// A bulk answer says the current stage's resource is `not_found`; its own record
    /// decides, as a bulk answer may lag behind a job just created.
    NotFoundInBulk,
    /// A bulk answer does not name the current stage's resource at all; its own record
    /// decides.
    MissingFromBulk,
    /// A poll or fetch failed.
    PollFailed {
        /// Whether the failure is temporary (429, 5xx, transport).
        retryable: bool,
    },
    /// The current stage's results were listed: the first one's id, or none (also when
    /// listing failed).
    Listed(Option<&'a str>),
    /// A verified delivery announced that the job ended.
    Delivery {
        /// Whether it ended well.
        succeeded: bool,
        /// The last stage's id, when the delivery names it.
        last: Option<&'a str>,
    },
}

impl Observed<'static> {
    /// What a failed request about the current stage means: a temporary failure, the
    /// resource unknown to HeyGen (404), or a failure for good.
    pub(crate) fn failure(error: &Error) -> Self {
        if error.is_retryable() {
            Observed::PollFailed { retryable: true }
        } else if error.status() == Some(reqwest::StatusCode::NOT_FOUND) {
            Observed::NotFound
        } else {
            Observed::PollFailed { retryable: false }
        }
    }
}

/// What the driver does next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Next {
    /// Poll the current stage again, on its schedule.
    Poll,
    /// The job moved on to a later stage, whose id is now known: poll it now, on a fresh
    /// schedule.
    Advance,
    /// Ask the current stage for the next stage's resources (a session's videos), then
    /// report [`Observed::Listed`].
    List,
    /// Fetch the current stage's whole record now and report its status with
    /// `record: true`: an ending was seen in bulk or announced, and the record decides.
    Fetch,
    /// The job is over.
    Done(End),
}

/// How a job ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum End {
    /// The last stage succeeded.
    Succeeded,
    /// The current stage failed (with no later stage known to carry the details).
    Failed,
    /// The job is paused until the user sends a message.
    NeedsInput,
    /// The current stage's resource is unknown to HeyGen, with nothing to follow.
    Gone,
    /// Polls failed for good the allowed number of times in a row.
    PollsFailed,
}

/// Why the driver was asked to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Listing {
    /// The stage answered 404.
    Vanished,
    /// The stage ended well without naming the next stage's id.
    EndedUnnamed,
}

/// One job's state.
#[derive(Clone)]
pub(crate) struct Lifecycle {
    kind: &'static Kind,
    stage: usize,
    /// Each stage's id, once known.
    ids: Vec<Option<String>>,
    /// Polls in a row that failed for good.
    failures: u32,
    /// How many of those end the job.
    failure_limit: u32,
    listing: Option<Listing>,
}

impl fmt::Debug for Lifecycle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lifecycle")
            .field("kind", &self.kind.name)
            .field("stage", &self.stage)
            .field("ids", &self.ids)
            .finish_non_exhaustive()
    }
}

impl Lifecycle {
    /// A job of `kind`, given the ids known of its stages (first to last; missing ones
    /// `None`). It starts at the last stage whose id is known, or at the first. One poll
    /// failing for good ends it, unless [`failure_limit`](Self::failure_limit) says more.
    pub(crate) fn new(kind: &'static Kind, ids: &[Option<&str>]) -> Self {
        let ids: Vec<Option<String>> = (0..kind.stages.len())
            .map(|i| {
                ids.get(i)
                    .copied()
                    .flatten()
                    .filter(|id| !id.is_empty())
                    .map(str::to_string)
            })
            .collect();
        let stage = ids.iter().rposition(Option::is_some).unwrap_or(0);
        Lifecycle {
            kind,
            stage,
            ids,
            failures: 0,
            failure_limit: 1,
            listing: None,
        }
    }

    /// Polls failing for good this many times in a row end the job (at least 1).
    pub(crate) fn failure_limit(mut self, limit: u32) -> Self {
        self.failure_limit = limit.max(1);
        self
    }

    /// The current stage.
    pub(crate) fn stage(&self) -> &'static Stage {
        &self.kind.stages[self.stage]
    }

    /// The current stage's id (`None` only for a job started without any).
    pub(crate) fn id(&self) -> Option<&str> {
        self.ids[self.stage].as_deref()
    }

    /// The id of the stage that polls `resource`, if the job has one and it is known.
    pub(crate) fn id_of(&self, resource: Resource) -> Option<&str> {
        self.kind
            .stages
            .iter()
            .position(|s| s.resource == resource)
            .and_then(|i| self.ids[i].as_deref())
    }

    fn is_last(&self) -> bool {
        self.stage + 1 == self.kind.stages.len()
    }

    /// Records the next stage's id (when there is a next stage and the id is not blank).
    fn name_next(&mut self, id: Option<&str>) {
        if let Some(id) = id.filter(|id| !id.is_empty()) {
            if !self.is_last() {
                self.ids[self.stage + 1] = Some(id.to_string());
            }
        }
    }

    fn next_known(&self) -> bool {
        !self.is_last() && self.ids[self.stage + 1].is_some()
    }

    fn advance(&mut self) -> Next {
        self.stage += 1;
        self.listing = None;
        self.failures = 0;
        Next::Advance
    }

    /// What `observed` means, and what to do next.
    pub(crate) fn observe(&mut self, observed: Observed<'_>) -> Next {
        match observed {
            Observed::Status {
                status,
                next,
                record,
            } => {
                self.failures = 0;
                self.name_next(next);
                match self.stage().classify(status) {
                    Class::NeedsInput => Next::Done(End::NeedsInput),
                    // A later stage carries the outcome: a failed session's video has the
                    // failure's details, a running session's video is what to watch.
                    _ if self.next_known() => self.advance(),
                    Class::Running => Next::Poll,
                    Class::Succeeded | Class::Failed if !record => Next::Fetch,
                    Class::Failed => Next::Done(End::Failed),
                    Class::Succeeded if self.is_last() => Next::Done(End::Succeeded),
                    // Ended without naming what comes next: ask for it, else poll again.
                    Class::Succeeded if self.stage().lists_next() => {
                        self.listing = Some(Listing::EndedUnnamed);
                        Next::List
                    }
                    Class::Succeeded => Next::Poll,
                }
            }
            Observed::NotFound => {
                if self.stage().lists_next() && !self.is_last() {
                    // Sessions have been seen answering 404 once their video exists.
                    self.listing = Some(Listing::Vanished);
                    Next::List
                } else {
                    Next::Done(End::Gone)
                }
            }
            Observed::NotFoundInBulk | Observed::MissingFromBulk => Next::Fetch,
            Observed::PollFailed { retryable: true } => Next::Poll,
            Observed::PollFailed { retryable: false } => {
                self.failures += 1;
                if self.failures >= self.failure_limit {
                    Next::Done(End::PollsFailed)
                } else {
                    Next::Poll
                }
            }
            Observed::Listed(found) => {
                let listing = self.listing.take();
                self.name_next(found);
                if self.next_known() {
                    self.advance()
                } else if listing == Some(Listing::Vanished) {
                    Next::Done(End::Gone)
                } else {
                    Next::Poll
                }
            }
            Observed::Delivery { succeeded, last } => {
                if let Some(last) = last.filter(|id| !id.is_empty()) {
                    let end = self.kind.stages.len() - 1;
                    self.ids[end] = Some(last.to_string());
                    if self.stage != end {
                        self.stage = end;
                        self.listing = None;
                        self.failures = 0;
                    }
                }
                if succeeded || self.is_last() {
                    // The record decides: a delivery's URLs may be temporary, and a failed
                    // video's record has the failure's details.
                    Next::Fetch
                } else {
                    Next::Done(End::Failed)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
