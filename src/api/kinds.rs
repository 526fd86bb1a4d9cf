//! The kinds of asynchronous job, each described once in the spec (`x-heygen-jobs`) and
//! generated from it at build time: [`JobKind`] and one [`Description`] per kind. The waits,
//! the batch runner and its journal, the simulator and the CLI all read a kind's facts from
//! here: the operations that create and poll it, its statuses, the files it makes and the
//! webhook events that end it.

use std::fmt;

use serde_json::Value;

/// Which resource a stage polls, for the drivers that read sessions and videos typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Resource {
    /// A Video Agent session.
    Session,
    /// A video.
    Video,
    /// A job polled through its `get` operation, read as JSON.
    Job,
}

/// What a status means for its stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    /// Still going (also every status HeyGen adds that we do not know yet).
    Running,
    /// Ended well.
    Succeeded,
    /// Ended badly.
    Failed,
    /// Paused until the user acts (a chat-mode session, an avatar waiting for consent).
    NeedsInput,
}

/// The operation that answers many statuses of a stage at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Bulk {
    /// Its operation id.
    pub(crate) operation: &'static str,
    /// The query parameter that names the ids (comma-separated).
    pub(crate) ids: &'static str,
    /// The member of each answered item that names its job.
    pub(crate) member: &'static str,
}

/// One stage of a kind: a resource polled until its status ends.
#[derive(Debug)]
pub(crate) struct Stage {
    /// The operation that fetches the stage's record (its id the only path parameter).
    pub(crate) get: &'static str,
    /// The resource polled.
    pub(crate) resource: Resource,
    /// Statuses that end the stage well.
    pub(crate) succeeded: &'static [&'static str],
    /// Statuses that end it badly.
    pub(crate) failed: &'static [&'static str],
    /// Statuses that pause the job until the user acts.
    pub(crate) needs_input: &'static [&'static str],
    /// Its bulk statuses operation, if it has one.
    pub(crate) bulk: Option<Bulk>,
    /// Where the next stage's id is in this stage's record.
    pub(crate) next: Option<&'static str>,
    /// How to list the next stage's resources, for when the record does not name it (or
    /// the stage answers 404 once the next exists).
    pub(crate) list_next: Option<ListNext>,
}

/// The operation that lists a stage's next resources, newest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ListNext {
    /// Its operation id (the stage's id its only path parameter).
    pub(crate) operation: &'static str,
    /// Where the listed resources' ids are in its answer.
    pub(crate) ids: &'static str,
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

    /// Whether the stage can list the next stage's resources.
    pub(crate) fn lists_next(&self) -> bool {
        self.list_next.is_some()
    }
}

/// Everything the crate knows of a kind of job.
#[derive(Debug)]
pub(crate) struct Description {
    /// Its key in the spec and its name in journals (`video_translation`).
    pub(crate) id: &'static str,
    /// What a job of it is called in messages (`video translation`).
    pub(crate) name: &'static str,
    /// The Cargo feature that builds it, if any.
    pub(crate) family: Option<&'static str>,
    /// The operation a batch job of this kind sends.
    pub(crate) create: &'static str,
    /// Where the created jobs' ids are in the create's answer (tried in order; `*` walks).
    pub(crate) created_ids: &'static [&'static str],
    /// The stages, first to last; each but the last leads to the next.
    pub(crate) stages: &'static [Stage],
    /// Where the URLs of the files a finished job made are in its last stage's record.
    pub(crate) results: &'static [&'static str],
    /// Where what tells a job from the others of its create is in its record (a
    /// translation's output language), if the kind says.
    pub(crate) label: Option<&'static str>,
    /// What a job stopped at a `needs_input` status waits for (`consent`, `input`).
    pub(crate) waits_for: &'static str,
    /// Whether a batch run leaves such a job in flight, for the next run to take up again
    /// once the user has acted (an avatar waiting for consent), instead of ending it (a
    /// Video Agent session waiting for a reply).
    pub(crate) resumes: bool,
    /// What the CLI calls it: the command its create is under (`clipping`).
    pub(crate) command: &'static str,
    /// Webhook event types that announce a job of this kind ended well.
    pub(crate) succeeded_events: &'static [&'static str],
    /// Webhook event types that announce it ended badly.
    pub(crate) failed_events: &'static [&'static str],
}

include!(concat!(env!("OUT_DIR"), "/kinds.rs"));

/// Every string a JSON pointer reaches in `value`, as the spec's extensions write pointers: a
/// `*` step walks every item of an array or every member of an object, and a pointer that
/// ends at an array takes its strings. Empty strings are left out.
///
/// ```
/// let answer = serde_json::json!({"clips": [{"video_url": "a"}, {"video_url": "b"}]});
/// assert_eq!(heygen_api::operations::pointed(&answer, "/clips/*/video_url"), ["a", "b"]);
/// ```
pub fn pointed<'v>(value: &'v Value, pointer: &str) -> Vec<&'v str> {
    pointed_in_place(value, pointer)
        .into_iter()
        .map(|(_, text)| text)
        .collect()
}

/// [`pointed`], each string with its place: what each `*` step walked through (an item's
/// number from 1, or a member's name), joined by `-`; empty for a pointer without `*`.
/// Files are named by it: the second clip of a clipping job is `2`, a cut-out's layer
/// `foreground`.
///
/// ```
/// let record = serde_json::json!({"layers": {"foreground": "f.webm", "mask": "m.webm"}});
/// let found = heygen_api::operations::pointed_in_place(&record, "/layers/*");
/// assert_eq!(found, [("foreground".to_string(), "f.webm"), ("mask".to_string(), "m.webm")]);
/// ```
pub fn pointed_in_place<'v>(value: &'v Value, pointer: &str) -> Vec<(String, &'v str)> {
    fn walk<'v>(
        value: &'v Value,
        parts: &[&str],
        place: &mut Vec<String>,
        out: &mut Vec<(String, &'v str)>,
    ) {
        match parts.split_first() {
            None => match value {
                Value::String(text) if !text.is_empty() => out.push((place.join("-"), text)),
                Value::Array(items) => {
                    for (n, item) in items.iter().enumerate() {
                        if let Some(text) = item.as_str().filter(|t| !t.is_empty()) {
                            place.push((n + 1).to_string());
                            out.push((place.join("-"), text));
                            place.pop();
                        }
                    }
                }
                _ => {}
            },
            Some((&"*", rest)) => match value {
                Value::Array(items) => {
                    for (n, item) in items.iter().enumerate() {
                        place.push((n + 1).to_string());
                        walk(item, rest, place, out);
                        place.pop();
                    }
                }
                Value::Object(members) => {
                    for (name, item) in members {
                        place.push(name.clone());
                        walk(item, rest, place, out);
                        place.pop();
                    }
                }
                _ => {}
            },
            Some((part, rest)) => {
                let next = match value {
                    Value::Object(members) => members.get(*part),
                    Value::Array(items) => part.parse::<usize>().ok().and_then(|i| items.get(i)),
                    _ => None,
                };
                if let Some(next) = next {
                    walk(next, rest, place, out);
                }
            }
        }
    }
    let mut out = Vec::new();
    let parts: Vec<&str> = pointer.trim_start_matches('/').split('/').collect();
    walk(value, &parts, &mut Vec::new(), &mut out);
    out
}

/// The strings the first of `pointers` that reaches any reaches in `value` (see [`pointed`]):
/// how a create's answer is read for the ids of the jobs it started, when the spec names
/// several places they may be.
///
/// ```
/// let answer = serde_json::json!({"job_id": "j1"});
/// assert_eq!(heygen_api::operations::first_pointed(&answer, ["/id", "/job_id"]), ["j1"]);
/// ```
pub fn first_pointed<'v, 'p>(
    value: &'v Value,
    pointers: impl IntoIterator<Item = &'p str>,
) -> Vec<&'v str> {
    pointers
        .into_iter()
        .map(|pointer| pointed(value, pointer))
        .find(|found| !found.is_empty())
        .unwrap_or_default()
}

/// The body of a create that starts one job of a kind: what a batch job of that kind is made
/// from ([`Job::new`](crate::batch::Job::new)). Every kind whose jobs are made from a body has
/// its create's body implement it (generated from the spec); take one from the create's
/// request builder with its `to_body`.
pub trait JobBody: serde::Serialize {
    /// The kind of job the create starts.
    const KIND: JobKind;
}

impl JobKind {
    /// The kind's name, as the spec, the batch journal and a jobs file write it
    /// (`video_translation`).
    pub fn as_str(self) -> &'static str {
        self.describe().id
    }

    /// What a job of this kind is called in messages (`video translation`).
    pub fn name(self) -> &'static str {
        self.describe().name
    }

    /// The Cargo feature that builds this kind, if it needs one.
    pub fn feature(self) -> Option<&'static str> {
        self.describe().family
    }

    /// The operation a batch job of this kind sends to create it.
    pub fn create_operation(self) -> &'static str {
        self.describe().create
    }

    /// The operation that fetches a job of this kind by its id (the first stage's, for a
    /// kind of several stages: a session before its video).
    pub fn get_operation(self) -> &'static str {
        self.describe().stages[0].get
    }

    /// The ids of the jobs a create of this kind started, read from its answer: the first
    /// place the spec names that holds any.
    pub fn created_ids(self, answer: &Value) -> Vec<String> {
        first_pointed(answer, self.describe().created_ids.iter().copied())
            .into_iter()
            .map(str::to_string)
            .collect()
    }

    /// The URLs of every file a finished job made, read from its record (a translation's
    /// video, every clip of a clipping job, every layer of a background removal, a voice's
    /// preview), in the record's order; empty for a kind that makes no file.
    pub fn result_urls(self, record: &Value) -> Vec<&str> {
        self.results_in_place(record)
            .into_iter()
            .map(|(_, url)| url)
            .collect()
    }

    /// [`result_urls`](Self::result_urls), each with its place in the record (see
    /// [`pointed_in_place`](crate::operations::pointed_in_place)): a clip's number, a layer's
    /// name; empty for a kind of one result.
    pub fn results_in_place(self, record: &Value) -> Vec<(String, &str)> {
        self.describe()
            .results
            .iter()
            .flat_map(|pointer| pointed_in_place(record, pointer))
            .collect()
    }

    /// The URL of the first file a finished job made (see [`result_urls`](Self::result_urls)
    /// for every file).
    pub fn result_url(self, record: &Value) -> Option<&str> {
        self.result_urls(record).into_iter().next()
    }

    /// Whether a batch job of this kind is made from a JSON body (every kind but sessions and
    /// videos, which have typed requests of their own).
    pub(crate) fn made_from_json(self) -> bool {
        self.describe().stages[0].resource == Resource::Job
    }

    /// Where the URLs of the files a finished job makes are in its record (JSON pointers, as
    /// [`pointed`](crate::operations::pointed) reads them); empty for a kind that makes none.
    pub fn results(self) -> &'static [&'static str] {
        self.describe().results
    }

    /// What tells a job of this kind from the others its create started, read from its
    /// record where the kind says (a translation's output language); `None` for a kind whose
    /// jobs differ only by id.
    pub fn label_in(self, record: &Value) -> Option<String> {
        let pointer = self.describe().label?;
        record
            .pointer(pointer)
            .and_then(Value::as_str)
            .filter(|text| !text.is_empty())
            .map(str::to_string)
    }

    /// Whether a job of this kind makes files.
    pub fn makes_files(self) -> bool {
        !self.describe().results.is_empty()
    }

    /// Whether HeyGen answers this kind's statuses many at a time at every stage (videos,
    /// translations, lip-syncs). A Video Agent job is not: its session is polled alone, though
    /// its video, once known, is polled in bulk with others.
    pub fn polls_in_bulk(self) -> bool {
        self.describe().stages.iter().all(|s| s.bulk.is_some())
    }

    /// Whether a webhook event of type `event` ends a job of this kind: `Some(true)` when it
    /// ended well, `Some(false)` badly, `None` when the event is not one of its own.
    pub fn ended_by(self, event: &str) -> Option<bool> {
        let description = self.describe();
        if description.succeeded_events.contains(&event) {
            Some(true)
        } else if description.failed_events.contains(&event) {
            Some(false)
        } else {
            None
        }
    }

    /// Whether a webhook event of type `event` ends a job of some kind built in.
    pub fn any_ended_by(event: &str) -> bool {
        JobKind::ALL
            .iter()
            .any(|kind| kind.ended_by(event).is_some())
    }

    /// The status a record of this kind gives its job (its `status`); empty when it has none.
    pub fn status_in(self, record: &Value) -> &str {
        record_status(record)
    }

    /// Why a job of this kind failed, as its record says: `failure_message`, `message`, or
    /// `error` (its text, or its `message`).
    pub fn failure_in(self, record: &Value) -> Option<String> {
        record_failure(record)
    }

    /// A job's status, as its record says it.
    #[deprecated(note = "use `kind.status_in(&record)`")]
    pub fn status(record: &Value) -> &str {
        record_status(record)
    }

    /// Why a job failed, as its record says.
    #[deprecated(note = "use `kind.failure_in(&record)`")]
    pub fn failure_reason(record: &Value) -> Option<String> {
        record_failure(record)
    }
}

/// The status a job's record gives (every kind's record says it in `status`).
pub(crate) fn record_status(record: &Value) -> &str {
    record.get("status").and_then(Value::as_str).unwrap_or("")
}

/// Why a job's record says it failed: `failure_message`, `message`, or `error` (its text, or
/// its `message`).
pub(crate) fn record_failure(record: &Value) -> Option<String> {
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

impl std::str::FromStr for JobKind {
    type Err = String;

    /// A kind by its name (`video_agent`, `video`, `video_translation`, `lipsync`, ...), as
    /// the spec's `x-heygen-jobs` names it, or by the CLI command its jobs are made with
    /// (`clipping` for `clipping_job`, `video-agent`, `translation`). A kind whose family is
    /// not built in is refused with the feature to enable.
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        if let Some(kind) = JobKind::ALL.iter().find(|kind| kind.as_str() == name) {
            return Ok(*kind);
        }
        // A command names a kind when it makes only that kind (`translation` makes both
        // translations and proofreads: it names neither).
        let made: Vec<JobKind> = JobKind::ALL
            .iter()
            .copied()
            .filter(|kind| kind.describe().command == name)
            .collect();
        match made.as_slice() {
            [kind] => return Ok(*kind),
            [] => {}
            several => {
                let names: Vec<&str> = several.iter().map(|kind| kind.as_str()).collect();
                return Err(format!(
                    "`{name}` makes several kinds of job: say which ({})",
                    names.join(", ")
                ));
            }
        }
        if let Some((_, feature)) = UNBUILT.iter().find(|(unbuilt, _)| *unbuilt == name) {
            return Err(format!(
                "jobs of kind `{name}` need the `{feature}` feature of heygen-api"
            ));
        }
        let known: Vec<String> = JobKind::ALL
            .iter()
            .map(|kind| {
                let command = kind.describe().command;
                let alone = JobKind::ALL
                    .iter()
                    .filter(|other| other.describe().command == command)
                    .count()
                    == 1;
                if command == kind.as_str() || !alone {
                    kind.as_str().to_string()
                } else {
                    format!("{} ({command})", kind.as_str())
                }
            })
            .chain(UNBUILT.iter().map(|(unbuilt, _)| unbuilt.to_string()))
            .collect();
        Err(format!(
            "`{name}` is not a kind of job (kinds: {})",
            known.join(", ")
        ))
    }
}

impl fmt::Display for JobKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl serde::Serialize for JobKind {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for JobKind {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A kind is named by its journal name, or by the CLI command that makes it when that
    /// command makes no other kind.
    #[test]
    fn kinds_are_named_as_the_cli_names_them_when_that_is_one_kind() {
        assert_eq!("video_agent".parse::<JobKind>(), Ok(JobKind::VideoAgent));
        assert_eq!("video-agent".parse::<JobKind>(), Ok(JobKind::VideoAgent));
        assert_eq!("video".parse::<JobKind>(), Ok(JobKind::Video));
        let unknown = "gadget".parse::<JobKind>().unwrap_err();
        assert!(unknown.contains("video_agent (video-agent)"), "{unknown}");
        #[cfg(feature = "clipping")]
        assert_eq!("clipping".parse::<JobKind>(), Ok(JobKind::ClippingJob));
        #[cfg(feature = "translations")]
        {
            let both = "translation".parse::<JobKind>().unwrap_err();
            assert!(both.contains("makes several kinds"), "{both}");
            assert!(
                both.contains("video_translation") && both.contains("proofread"),
                "{both}"
            );
        }
    }

    #[test]
    fn pointers_walk_arrays_and_objects() {
        let record = json!({
            "clips": [{"video_url": "a"}, {"video_url": ""}, {"video_url": "b"}],
            "layers": {"foreground": "f", "mask": "m"},
            "ids": ["x", "y"],
            "one": "z",
        });
        assert_eq!(pointed(&record, "/clips/*/video_url"), ["a", "b"]);
        assert_eq!(pointed(&record, "/layers/*"), ["f", "m"]);
        assert_eq!(pointed(&record, "/ids"), ["x", "y"]);
        assert_eq!(pointed(&record, "/ids/1"), ["y"]);
        assert_eq!(pointed(&record, "/one"), ["z"]);
        assert!(pointed(&record, "/missing/*").is_empty());
    }

    #[test]
    fn every_kind_is_found_by_its_name_and_keeps_it_in_json() {
        for kind in JobKind::ALL {
            assert_eq!(kind.as_str().parse::<JobKind>(), Ok(*kind));
            let json = serde_json::to_string(kind).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
            assert_eq!(serde_json::from_str::<JobKind>(&json).ok(), Some(*kind));
            assert!(!kind.describe().stages.is_empty());
        }
        let err = "nope".parse::<JobKind>().unwrap_err();
        assert!(
            err.contains("not a kind of job") && err.contains("video_agent"),
            "{err}"
        );
        for (name, feature) in UNBUILT {
            let err = name.parse::<JobKind>().unwrap_err();
            assert!(err.contains(feature), "{err}");
        }
    }

    #[test]
    fn videos_and_sessions_are_kinds_like_the_others() {
        let session = JobKind::VideoAgent.describe();
        assert_eq!(session.stages.len(), 2);
        assert_eq!(session.stages[0].resource, Resource::Session);
        assert_eq!(session.stages[1].resource, Resource::Video);
        assert_eq!(
            JobKind::Video.result_urls(&json!({"video_url": "https://x/v.mp4"})),
            ["https://x/v.mp4"]
        );
        assert_eq!(
            JobKind::VideoAgent.created_ids(&json!({"session_id": "s1", "video_id": null})),
            ["s1"]
        );
        assert_eq!(
            JobKind::VideoAgent.ended_by("video_agent.success"),
            Some(true)
        );
        assert_eq!(JobKind::Video.ended_by("avatar_video.fail"), Some(false));
        assert_eq!(JobKind::Video.ended_by("video_agent.fail"), None);
    }
}
