//! A video's or a session's wait: where it starts, and its end typed as a
//! [`JobOutcome`](crate::JobOutcome) of a [`VideoDetail`] or an [`AgentRecord`]. The polling is
//! the one poller's (`crate::jobs::job`).

use serde_json::Value;

use crate::api::error::{Error, Result};
use crate::api::kinds::{JobKind, Resource};
use crate::api::outcome::{AgentRecord, JobOutcome};
use crate::api::types::VideoDetail;
pub(crate) use crate::jobs::job::Source;
use crate::jobs::job::{decode, Finished, Update};
use crate::jobs::lifecycle::Lifecycle;
use crate::jobs::wait::{WaitOptions, WaitStream, WaitUpdate};

/// Where a wait starts: a session (which leads to its video), or a video.
#[derive(Debug, Clone)]
pub(crate) enum Phase {
    Session(String),
    Video {
        session_id: Option<String>,
        video_id: String,
    },
}

impl Phase {
    /// The job's kind, the id it is waited for by, and its lifecycle, started here.
    fn start(self) -> (JobKind, String, Lifecycle) {
        match self {
            Phase::Session(id) => {
                let life = Lifecycle::new(JobKind::VideoAgent.describe(), &[Some(&id)]);
                (JobKind::VideoAgent, id, life)
            }
            Phase::Video {
                session_id: Some(session_id),
                video_id,
            } => {
                let life = Lifecycle::new(
                    JobKind::VideoAgent.describe(),
                    &[Some(&session_id), Some(&video_id)],
                );
                (JobKind::VideoAgent, session_id, life)
            }
            Phase::Video {
                session_id: None,
                video_id,
            } => {
                let life = Lifecycle::new(JobKind::Video.describe(), &[Some(&video_id)]);
                (JobKind::Video, video_id, life)
            }
        }
    }
}

/// How a video's or a session's record is typed.
pub(crate) trait Typed: Sized + Send + 'static {
    /// The record of the stage (`resource`, fetched with `operation`) the job ended at.
    fn typed(
        kind: JobKind,
        operation: &'static str,
        resource: Resource,
        session_id: Option<String>,
        record: Value,
    ) -> Result<Self>;
}

impl Typed for VideoDetail {
    fn typed(
        kind: JobKind,
        operation: &'static str,
        _: Resource,
        _: Option<String>,
        record: Value,
    ) -> Result<Self> {
        decode(kind, operation, record)
    }
}

impl Typed for AgentRecord {
    fn typed(
        kind: JobKind,
        operation: &'static str,
        resource: Resource,
        session_id: Option<String>,
        record: Value,
    ) -> Result<Self> {
        Ok(match resource {
            Resource::Session => AgentRecord::Session(Box::new(decode(kind, operation, record)?)),
            _ => AgentRecord::Video {
                session_id,
                video: Box::new(decode(kind, operation, record)?),
            },
        })
    }
}

/// A job's end, its record typed.
fn outcome<T: Typed>(kind: JobKind, finished: Finished) -> Result<JobOutcome<T>> {
    let operation = kind
        .describe()
        .stages
        .iter()
        .find(|stage| stage.resource == finished.resource)
        .map_or("wait", |stage| stage.get);
    let (resource, session_id) = (finished.resource, finished.session_id);
    finished
        .outcome?
        .try_map(|record| T::typed(kind, operation, resource, session_id, record))
}

/// Streams the wait: a `Progress` item per poll, then one `Done` (or an error) and the end.
/// The polling is the one poller's (`crate::jobs::job`).
pub(crate) fn stream<S: Source, T: Typed>(
    source: S,
    start: Phase,
    options: WaitOptions,
) -> WaitStream<'static, T> {
    use futures_util::StreamExt as _;
    let (kind, id, life) = start.start();
    Box::pin(
        crate::jobs::job::drive(source, kind, vec![(id, life)], options).map(move |update| {
            match update {
                Update::Progress(event) => Ok(WaitUpdate::Progress(event)),
                Update::Ended(finished) => outcome(kind, finished).map(WaitUpdate::Done),
            }
        }),
    )
}

/// Runs the wait to its end, reporting progress to the options' callback.
pub(crate) async fn run<S: Source, T: Typed>(
    source: S,
    start: Phase,
    options: WaitOptions,
) -> Result<JobOutcome<T>> {
    use futures_util::StreamExt as _;
    let mut updates = stream(source, start, options);
    while let Some(update) = updates.next().await {
        if let WaitUpdate::Done(outcome) = update? {
            return Ok(outcome);
        }
    }
    // The stream always ends with `Done` or an error; this is unreachable in practice.
    Err(Error::invalid("wait", "ended without an outcome"))
}

#[cfg(test)]
mod tests;
