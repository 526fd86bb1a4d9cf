//! The life of an asynchronous job at HeyGen, as a pure state machine.
//!
//! A job passes through one or more *stages*: a Video Agent session, then the video it
//! renders; a video made directly is its video alone; a batch item is one stage read from its
//! batch. Each stage is a resource polled until its status ends.
//!
//! The drivers (the single wait in `wait`, the batch wait in `resources::videos`, the batch
//! runner in `batch::engine`) do all the I/O: they poll, list, fetch and receive deliveries,
//! hand what they saw to [`Lifecycle::observe`], and do what the returned [`Next`] says. Time
//! and requests stay with them; every decision about what HeyGen's answers mean is taken here,
//! once, and tested in one table (`lifecycle/tests.rs`).
//!
//! A kind of job is described, not programmed: its stages, each with the statuses that end it
//! well, end it badly or pause it, whether it can be polled in bulk, and whether it can be
//! asked for its results when it answers 404 or ends without naming them.

use std::fmt;

use crate::api::error::Error;

/// What a status means for its stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    /// Still going (also every status HeyGen adds that we do not know yet).
    Running,
    /// Ended well.
    Succeeded,
    /// Ended badly.
    Failed,
    /// Paused until the user sends something (a chat-mode session).
    NeedsInput,
}

/// Which resource a stage polls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Resource {
    /// A Video Agent session.
    Session,
    /// A video.
    Video,
    /// An item of a video batch.
    BatchItem,
    /// A job of another family, polled with its family's `get`.
    #[cfg_attr(not(heygen_jobs), allow(dead_code))]
    Job,
}

/// One stage of a job: a resource, polled until its status ends.
#[derive(Debug)]
pub(crate) struct Stage {
    /// The resource polled.
    pub(crate) resource: Resource,
    /// Statuses that end the stage well.
    succeeded: &'static [&'static str],
    /// Statuses that end the stage badly.
    failed: &'static [&'static str],
    /// Statuses that pause the job until the user acts.
    needs_input: &'static [&'static str],
    /// Whether the stage can be polled many at a time (a bulk status operation).
    pub(crate) bulk: bool,
    /// Whether the stage can list the next stage's resources (a session's videos), for when
    /// it answers 404 or ends without naming the next stage's id.
    pub(crate) lists_next: bool,
}

impl Stage {
    /// What `status` means for this stage.
    pub(crate) fn classify(&self, status: &str) -> Class {
        if self.succeeded.contains(&status) {
            Class::Succeeded
        } else if self.failed.contains(&status) {
            Class::Failed
        } else if self.needs_input.contains(&status) {
            Class::NeedsInput
        } else {
            Class::Running
        }
    }
}

/// A kind of job: its stages, in order.
#[derive(Debug)]
pub(crate) struct Kind {
    /// What the job is called in messages.
    pub(crate) name: &'static str,
    /// The stages, first to last; each but the last leads to the next.
    pub(crate) stages: &'static [Stage],
}

/// A Video Agent session, until it names its video.
const SESSION: Stage = Stage {
    resource: Resource::Session,
    succeeded: &["completed"],
    failed: &["failed"],
    needs_input: &["waiting_for_input", "reviewing"],
    bulk: false,
    lists_next: true,
};

/// A video, until it is rendered. `GET /v3/videos/{id}` says `pending`, the bulk statuses
/// say `queued`; both are running, as is every status not named here.
const VIDEO: Stage = Stage {
    resource: Resource::Video,
    succeeded: &["completed"],
    failed: &["failed"],
    needs_input: &[],
    bulk: true,
    lists_next: false,
};

/// An item of a video batch, read from the batch.
const BATCH_ITEM: Stage = Stage {
    resource: Resource::BatchItem,
    succeeded: &["completed"],
    failed: &["failed"],
    needs_input: &[],
    bulk: true,
    lists_next: false,
};

/// A Video Agent session that leads to a video.
pub(crate) static VIDEO_AGENT: Kind = Kind {
    name: "Video Agent session",
    stages: &[SESSION, VIDEO],
};

/// A video made directly (`POST /v3/videos`).
pub(crate) static VIDEO_DIRECT: Kind = Kind {
    name: "video",
    stages: &[VIDEO],
};

/// An item of a video batch (`POST /v3/videos/batches`).
pub(crate) static VIDEO_BATCH_ITEM: Kind = Kind {
    name: "batch item",
    stages: &[BATCH_ITEM],
};

/// The one stage of a job of another family.
#[cfg_attr(not(heygen_jobs), allow(dead_code))]
const fn job(
    succeeded: &'static [&'static str],
    failed: &'static [&'static str],
    needs_input: &'static [&'static str],
    bulk: bool,
) -> Stage {
    Stage {
        resource: Resource::Job,
        succeeded,
        failed,
        needs_input,
        bulk,
        lists_next: false,
    }
}

/// A video translation (one output language); statuses in bulk too.
#[cfg(feature = "translations")]
pub(crate) static VIDEO_TRANSLATION: Kind = Kind {
    name: "video translation",
    stages: &[job(&["completed"], &["failed"], &[], true)],
};

/// A proofread: `processing` until its subtitles are ready.
#[cfg(feature = "translations")]
pub(crate) static PROOFREAD: Kind = Kind {
    name: "proofread",
    stages: &[job(&["completed"], &["failed"], &[], false)],
};

/// A lip-sync job; statuses in bulk too.
#[cfg(feature = "lipsync")]
pub(crate) static LIPSYNC: Kind = Kind {
    name: "lip-sync job",
    stages: &[job(&["completed"], &["failed"], &[], true)],
};

/// A clipping job. A cancelled job made no clips: it ended badly.
#[cfg(feature = "clipping")]
pub(crate) static CLIPPING_JOB: Kind = Kind {
    name: "clipping job",
    stages: &[job(&["completed"], &["failed", "cancelled"], &[], false)],
};

/// A background removal. HeyGen documents no status values for it: the words its other
/// families end with are taken, both spellings.
#[cfg(feature = "background-removal")]
pub(crate) static BACKGROUND_REMOVAL: Kind = Kind {
    name: "background removal",
    stages: &[job(
        &["completed", "complete", "succeeded", "success"],
        &["failed", "fail", "error", "cancelled"],
        &[],
        false,
    )],
};

/// A new avatar group, trained once consent is given.
#[cfg(feature = "avatars")]
pub(crate) static AVATAR: Kind = Kind {
    name: "avatar",
    stages: &[job(
        &["completed"],
        &["failed"],
        &["pending_consent"],
        false,
    )],
};

/// A cloned or designed voice: `complete`, not `completed`.
#[cfg(feature = "voices")]
pub(crate) static VOICE: Kind = Kind {
    name: "voice",
    stages: &[job(&["complete", "completed"], &["failed"], &[], false)],
};

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
    /// The current stage's resource is unknown to HeyGen (404, or `not_found` in bulk).
    NotFound,
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
                    Class::Succeeded if self.stage().lists_next => {
                        self.listing = Some(Listing::EndedUnnamed);
                        Next::List
                    }
                    Class::Succeeded => Next::Poll,
                }
            }
            Observed::NotFound => {
                if self.stage().lists_next && !self.is_last() {
                    // Sessions have been seen answering 404 once their video exists.
                    self.listing = Some(Listing::Vanished);
                    Next::List
                } else {
                    Next::Done(End::Gone)
                }
            }
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
