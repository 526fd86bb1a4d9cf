//! A job's end as a `Result`: the record of a job that completed, or
//! [`Error::Wait`](crate::Error::Wait) saying how it ended; and one job's end in a multi-job
//! wait.

use crate::api::error::{Error, Result};
use crate::api::outcome::{AgentRecord, JobOutcome};
use crate::api::types::VideoDetail;

/// One job's end, as a multi-job wait reports it.
#[derive(Debug)]
#[non_exhaustive]
pub struct JobEnded<T> {
    /// The job.
    pub id: String,
    /// What tells this job from the others its create started, when they differ by more
    /// than their ids: a translation's output language.
    pub label: Option<String>,
    /// How its wait ended, or the error that ended it (the job unknown to HeyGen, polls that
    /// failed for good).
    pub outcome: Result<JobOutcome<T>>,
}

impl<T: serde::Serialize> JobOutcome<T> {
    /// The record of a job that completed; otherwise [`Error::Wait`](crate::Error::Wait)
    /// with the outcome (its record as JSON), which says how it ended.
    pub fn into_result(self) -> Result<T> {
        match self {
            JobOutcome::Completed(record) => Ok(record),
            other => Err(Error::Wait(Box::new(other.as_json()))),
        }
    }
}

impl JobOutcome<VideoDetail> {
    /// The rendered video, or [`Error::Wait`](crate::Error::Wait) saying why there is none.
    pub fn into_video(self) -> Result<VideoDetail> {
        self.into_result()
    }
}

impl JobOutcome<AgentRecord> {
    /// The session's rendered video, or [`Error::Wait`](crate::Error::Wait) saying why there
    /// is none.
    pub fn into_video(self) -> Result<VideoDetail> {
        match self {
            JobOutcome::Completed(AgentRecord::Video { video, .. }) => Ok(*video),
            other => Err(Error::Wait(Box::new(other.as_json()))),
        }
    }
}
