//! One row per case: a kind, the ids a job starts with, what was observed in order, and what
//! each observation must lead to. Every driver of the lifecycle inherits these answers.

use super::*;
use crate::api::kinds::{JobKind, Resource};

use End::*;
use Next::*;
use Observed::*;

fn status(status: &str) -> Observed<'_> {
    Status {
        status,
        next: None,
        record: true,
    }
}

fn status_naming<'a>(status: &'a str, next: &'a str) -> Observed<'a> {
    Status {
        status,
        next: Some(next),
        record: true,
    }
}

fn bulk(status: &str) -> Observed<'_> {
    Status {
        status,
        next: None,
        record: false,
    }
}

struct Row {
    case: &'static str,
    kind: &'static Kind,
    ids: [Option<&'static str>; 2],
    steps: Vec<(Observed<'static>, Next)>,
    /// The resource polled after the last step.
    then: Resource,
}

const SESSION_ONLY: [Option<&str>; 2] = [Some("s1"), None];
const VIDEO_ONLY: [Option<&str>; 2] = [Some("v1"), None];

fn rows() -> Vec<Row> {
    vec![
        Row {
            case: "a session runs, names its video, which renders",
            kind: JobKind::VideoAgent.describe(),
            ids: SESSION_ONLY,
            steps: vec![
                (status("thinking"), Poll),
                (status_naming("generating", "v1"), Advance),
                (status("processing"), Poll),
                (status("completed"), Done(Succeeded)),
            ],
            then: Resource::Video,
        },
        Row {
            case: "a session that answers 404 is followed through its videos",
            kind: JobKind::VideoAgent.describe(),
            ids: SESSION_ONLY,
            steps: vec![
                (status("generating"), Poll),
                (NotFound, List),
                (Listed(Some("v1")), Advance),
                (status("completed"), Done(Succeeded)),
            ],
            then: Resource::Video,
        },
        Row {
            case: "a session that answers 404 and has no video is not found",
            kind: JobKind::VideoAgent.describe(),
            ids: SESSION_ONLY,
            steps: vec![(NotFound, List), (Listed(None), Done(Gone))],
            then: Resource::Session,
        },
        Row {
            case: "a session completed without a video id lists its videos",
            kind: JobKind::VideoAgent.describe(),
            ids: SESSION_ONLY,
            steps: vec![
                (status("completed"), List),
                (Listed(Some("v1")), Advance),
                (status("completed"), Done(Succeeded)),
            ],
            then: Resource::Video,
        },
        Row {
            case: "a session completed without a video id or videos is polled again",
            kind: JobKind::VideoAgent.describe(),
            ids: SESSION_ONLY,
            steps: vec![
                (status("completed"), List),
                (Listed(None), Poll),
                (status_naming("completed", "v1"), Advance),
            ],
            then: Resource::Video,
        },
        Row {
            case: "a session that failed with a video is followed to the video's failure",
            kind: JobKind::VideoAgent.describe(),
            ids: SESSION_ONLY,
            steps: vec![
                (status_naming("failed", "v1"), Advance),
                (status("failed"), Done(Failed)),
            ],
            then: Resource::Video,
        },
        Row {
            case: "a session that failed without a video ends the job",
            kind: JobKind::VideoAgent.describe(),
            ids: SESSION_ONLY,
            steps: vec![(status("failed"), Done(Failed))],
            then: Resource::Session,
        },
        Row {
            case: "a paused chat session needs input, even with a video named",
            kind: JobKind::VideoAgent.describe(),
            ids: SESSION_ONLY,
            steps: vec![
                (status("thinking"), Poll),
                (status_naming("reviewing", "v1"), Done(NeedsInput)),
            ],
            then: Resource::Session,
        },
        Row {
            case: "waiting_for_input needs input",
            kind: JobKind::VideoAgent.describe(),
            ids: SESSION_ONLY,
            steps: vec![(status("waiting_for_input"), Done(NeedsInput))],
            then: Resource::Session,
        },
        Row {
            case: "unknown statuses count as running",
            kind: JobKind::VideoAgent.describe(),
            ids: SESSION_ONLY,
            steps: vec![
                (status("contemplating"), Poll),
                (status_naming("generating", "v1"), Advance),
                (status("upscaling"), Poll),
            ],
            then: Resource::Video,
        },
        Row {
            case: "a blank video id is no video",
            kind: JobKind::VideoAgent.describe(),
            ids: SESSION_ONLY,
            steps: vec![(status_naming("generating", ""), Poll)],
            then: Resource::Session,
        },
        Row {
            case: "a job resumed with both ids starts at the video",
            kind: JobKind::VideoAgent.describe(),
            ids: [Some("s1"), Some("v1")],
            steps: vec![(status("completed"), Done(Succeeded))],
            then: Resource::Video,
        },
        Row {
            case: "a video seen ending in bulk is fetched; its record decides",
            kind: JobKind::Video.describe(),
            ids: VIDEO_ONLY,
            steps: vec![
                (bulk("queued"), Poll),
                (bulk("completed"), Fetch),
                (status("completed"), Done(Succeeded)),
            ],
            then: Resource::Video,
        },
        Row {
            case: "a video seen failing in bulk is fetched for the failure's details",
            kind: JobKind::Video.describe(),
            ids: VIDEO_ONLY,
            steps: vec![(bulk("failed"), Fetch), (status("failed"), Done(Failed))],
            then: Resource::Video,
        },
        Row {
            case: "a record that is not finished after all is polled again",
            kind: JobKind::Video.describe(),
            ids: VIDEO_ONLY,
            steps: vec![(bulk("completed"), Fetch), (status("processing"), Poll)],
            then: Resource::Video,
        },
        Row {
            case: "a video HeyGen does not know is not found",
            kind: JobKind::Video.describe(),
            ids: VIDEO_ONLY,
            steps: vec![(bulk("processing"), Poll), (NotFound, Done(Gone))],
            then: Resource::Video,
        },
        Row {
            case: "temporary failures never end a job",
            kind: JobKind::Video.describe(),
            ids: VIDEO_ONLY,
            steps: vec![
                (PollFailed { retryable: true }, Poll),
                (PollFailed { retryable: true }, Poll),
                (status("completed"), Done(Succeeded)),
            ],
            then: Resource::Video,
        },
        Row {
            case: "one failure for good ends a job by default",
            kind: JobKind::Video.describe(),
            ids: VIDEO_ONLY,
            steps: vec![(PollFailed { retryable: false }, Done(PollsFailed))],
            then: Resource::Video,
        },
        Row {
            case: "a delivery of success makes the video's record be fetched",
            kind: JobKind::VideoAgent.describe(),
            ids: SESSION_ONLY,
            steps: vec![
                (
                    Delivery {
                        succeeded: true,
                        last: Some("v1"),
                    },
                    Fetch,
                ),
                (status("completed"), Done(Succeeded)),
            ],
            then: Resource::Video,
        },
        Row {
            case: "a delivery of failure naming the video fetches it for the details",
            kind: JobKind::VideoAgent.describe(),
            ids: SESSION_ONLY,
            steps: vec![(
                Delivery {
                    succeeded: false,
                    last: Some("v1"),
                },
                Fetch,
            )],
            then: Resource::Video,
        },
        Row {
            case: "a delivery of failure before any video ends the session",
            kind: JobKind::VideoAgent.describe(),
            ids: SESSION_ONLY,
            steps: vec![(
                Delivery {
                    succeeded: false,
                    last: None,
                },
                Done(Failed),
            )],
            then: Resource::Session,
        },
        Row {
            case: "a delivery of success without a video id polls the session now",
            kind: JobKind::VideoAgent.describe(),
            ids: SESSION_ONLY,
            steps: vec![
                (
                    Delivery {
                        succeeded: true,
                        last: None,
                    },
                    Fetch,
                ),
                (status("completed"), List),
            ],
            then: Resource::Session,
        },
        Row {
            case: "a batch item ends with its status",
            kind: JobKind::Video.describe(),
            ids: [Some("0"), None],
            steps: vec![
                (status("queued"), Poll),
                (status("processing"), Poll),
                (status("failed"), Done(Failed)),
            ],
            then: Resource::Video,
        },
        #[cfg(feature = "translations")]
        Row {
            case: "a translation seen ending in bulk is confirmed by its record",
            kind: JobKind::VideoTranslation.describe(),
            ids: VIDEO_ONLY,
            steps: vec![
                (bulk("running"), Poll),
                (bulk("completed"), Fetch),
                (status("completed"), Done(Succeeded)),
            ],
            then: Resource::Job,
        },
        #[cfg(feature = "clipping")]
        Row {
            case: "a cancelled clipping job ended badly",
            kind: JobKind::ClippingJob.describe(),
            ids: VIDEO_ONLY,
            steps: vec![
                (status("running"), Poll),
                (status("cancelled"), Done(Failed)),
            ],
            then: Resource::Job,
        },
        #[cfg(feature = "avatars")]
        Row {
            case: "an avatar waiting for consent needs the user",
            kind: JobKind::Avatar.describe(),
            ids: VIDEO_ONLY,
            steps: vec![
                (status("processing"), Poll),
                (status("pending_consent"), Done(NeedsInput)),
            ],
            then: Resource::Job,
        },
        #[cfg(feature = "voices")]
        Row {
            case: "a voice is `complete`, not `completed`",
            kind: JobKind::Voice.describe(),
            ids: VIDEO_ONLY,
            steps: vec![
                (status("processing"), Poll),
                (status("complete"), Done(Succeeded)),
            ],
            then: Resource::Job,
        },
        #[cfg(feature = "lipsync")]
        Row {
            case: "a lip-sync bulk does not find is confirmed by its own answer",
            kind: JobKind::Lipsync.describe(),
            ids: VIDEO_ONLY,
            steps: vec![(NotFoundInBulk, Fetch), (NotFound, Done(Gone))],
            then: Resource::Job,
        },
        #[cfg(feature = "lipsync")]
        Row {
            case: "a lip-sync bulk does not find but its record does goes on",
            kind: JobKind::Lipsync.describe(),
            ids: VIDEO_ONLY,
            steps: vec![(NotFoundInBulk, Fetch), (status("running"), Poll)],
            then: Resource::Job,
        },
        Row {
            case: "a video bulk says is not_found is confirmed by its own answer",
            kind: JobKind::Video.describe(),
            ids: VIDEO_ONLY,
            steps: vec![
                (bulk("processing"), Poll),
                (NotFoundInBulk, Fetch),
                (NotFound, Done(Gone)),
            ],
            then: Resource::Video,
        },
        Row {
            case: "a video a bulk answer leaves out is fetched, and its record decides",
            kind: JobKind::Video.describe(),
            ids: VIDEO_ONLY,
            steps: vec![
                (MissingFromBulk, Fetch),
                (status("completed"), Done(Succeeded)),
            ],
            then: Resource::Video,
        },
        Row {
            case: "a session's video a bulk answer leaves out is fetched",
            kind: JobKind::VideoAgent.describe(),
            ids: [Some("s1"), Some("v1")],
            steps: vec![(MissingFromBulk, Fetch), (status("failed"), Done(Failed))],
            then: Resource::Video,
        },
    ]
}

#[test]
fn every_case_of_the_table() {
    for row in rows() {
        let mut life = Lifecycle::new(row.kind, &row.ids);
        for (i, (observed, expected)) in row.steps.iter().enumerate() {
            let next = life.observe(*observed);
            assert_eq!(
                next, *expected,
                "{}: step {i} ({observed:?}) led to {next:?}",
                row.case
            );
        }
        assert_eq!(life.stage().resource, row.then, "{}", row.case);
    }
}

#[test]
fn failures_for_good_end_a_job_only_in_a_row() {
    let mut life = Lifecycle::new(JobKind::Video.describe(), &[Some("v1")]).failure_limit(3);
    let failed = PollFailed { retryable: false };
    assert_eq!(life.observe(failed), Poll);
    assert_eq!(life.observe(failed), Poll);
    // An answer resets the count.
    assert_eq!(life.observe(bulk("processing")), Poll);
    assert_eq!(life.observe(failed), Poll);
    assert_eq!(life.observe(failed), Poll);
    assert_eq!(life.observe(failed), Done(PollsFailed));
}

#[test]
fn ids_follow_the_stages() {
    let mut life = Lifecycle::new(JobKind::VideoAgent.describe(), &[Some("s1")]);
    assert_eq!(life.id(), Some("s1"));
    assert_eq!(life.id_of(Resource::Video), None);
    life.observe(status_naming("generating", "v1"));
    assert_eq!(life.id(), Some("v1"));
    assert_eq!(life.id_of(Resource::Session), Some("s1"));
    assert!(life.stage().bulk.is_some());
}

#[test]
fn a_failed_request_is_temporary_gone_or_for_good() {
    use crate::api::error::{ApiError, ErrorCode, ErrorResponse};
    let answered = |status: u16, code: ErrorCode| {
        Error::Api(Box::new(ErrorResponse {
            operation: "get_video",
            status: reqwest::StatusCode::from_u16(status).unwrap(),
            error: ApiError::new(code, "scripted"),
            request_id: None,
            retry_after: None,
            body_snippet: None,
            repeatable: true,
        }))
    };
    assert_eq!(
        Observed::failure(&answered(503, ErrorCode::InternalError)),
        PollFailed { retryable: true }
    );
    assert_eq!(
        Observed::failure(&answered(404, ErrorCode::NotFound)),
        NotFound
    );
    assert_eq!(
        Observed::failure(&answered(401, ErrorCode::Unauthorized)),
        PollFailed { retryable: false }
    );
}
