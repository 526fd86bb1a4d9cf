//! Jobs of the kinds the spec describes (`x-heygen-jobs`) that no handler here models by hand:
//! a kind added to the spec alone is simulated from its description. Its create answers with
//! the spec's example, a new id written where the description says created ids are; its `get`
//! answers with the example record, the job's status (one of the stage's own words) and, once
//! it succeeded, a URL of this simulator for every result the description names; its bulk
//! statuses operation, if it has one, answers for many ids.
//!
//! A job's time passes as a video's does: it waits `PENDING_SECONDS`, runs until the
//! configured render time, then ends, failed when its request carried `[fail:render]`.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse as _, Response};
use axum::routing::{on, MethodFilter, MethodRouter};
use serde_json::{json, Map, Value};

use super::http::{body, data, idempotent, not_found, remembered, Params, Sim};
use super::state::{DescribedJob, World, FAIL_RENDER, PENDING_SECONDS};
use super::Shared;
use crate::api::kinds::{pointed, JobKind, Stage};
use crate::contract::Spec;

/// The kind's one stage, when the kind has one (kinds of several stages are modelled by hand).
fn single_stage(kind: JobKind) -> Option<&'static Stage> {
    match kind.describe().stages {
        [stage] => Some(stage),
        _ => None,
    }
}

/// The kinds simulated from their description: one stage, and neither its create nor its
/// `get` modelled by hand.
pub(crate) fn kinds(modelled: impl Fn(&str) -> bool) -> Vec<JobKind> {
    JobKind::ALL
        .iter()
        .copied()
        .filter(|kind| {
            single_stage(*kind)
                .is_some_and(|stage| !modelled(kind.create_operation()) && !modelled(stage.get))
        })
        .collect()
}

/// The handler of `operation_id` if it creates, fetches or bulk-polls a described kind.
pub(crate) fn route(
    operation_id: &str,
    method: MethodFilter,
    kinds: &[JobKind],
) -> Option<MethodRouter<std::sync::Arc<Shared>>> {
    for &kind in kinds {
        let stage = single_stage(kind)?;
        if operation_id == kind.create_operation() {
            return Some(on(method, move |s, h, b| create(s, h, b, kind)));
        }
        if operation_id == stage.get {
            return Some(on(method, move |s, p| get(s, p, kind)));
        }
        if stage
            .bulk
            .is_some_and(|bulk| bulk.operation == operation_id)
        {
            return Some(on(method, move |s, q| statuses(s, q, kind)));
        }
    }
    None
}

/// The `data` of the operation's documented success example, or an empty object.
fn example(operation_id: &str) -> Value {
    Spec::get()
        .ok()
        .and_then(|spec| spec.example_response(operation_id))
        .and_then(|(_, body)| body.get("data").cloned())
        .filter(Value::is_object)
        .unwrap_or_else(|| Value::Object(Map::new()))
}

/// Writes `leaf(n)` at every place `pointer` reaches in `value`, making the objects on the
/// way; a `*` step fills an array of two items (or every member of an object that has some).
fn write(value: &mut Value, pointer: &str, leaf: &dyn Fn(usize) -> Value) {
    fn walk(value: &mut Value, parts: &[&str], leaf: &dyn Fn(usize) -> Value, n: &mut usize) {
        let Some((first, rest)) = parts.split_first() else {
            *n += 1;
            *value = leaf(*n);
            return;
        };
        if *first == "*" {
            match value {
                Value::Object(members) if !members.is_empty() => {
                    for member in members.values_mut() {
                        walk(member, rest, leaf, n);
                    }
                }
                _ => {
                    let mut items = vec![Value::Null, Value::Null];
                    for item in &mut items {
                        walk(item, rest, leaf, n);
                    }
                    *value = Value::Array(items);
                }
            }
            return;
        }
        if !value.is_object() {
            *value = Value::Object(Map::new());
        }
        if let Value::Object(members) = value {
            let member = members.entry(first.to_string()).or_insert(Value::Null);
            walk(member, rest, leaf, n);
        }
    }
    let parts: Vec<&str> = pointer.trim_start_matches('/').split('/').collect();
    walk(value, &parts, leaf, &mut 0);
}

impl World {
    /// The status of a described job, in its stage's words.
    fn described_status(&self, job: &DescribedJob) -> &'static str {
        let Some(stage) = single_stage(job.kind) else {
            return "processing";
        };
        let t = self.elapsed(job.started);
        let render = self.config.render_seconds.max(PENDING_SECONDS + 0.001);
        // A word that means "still going" to the stage: one it does not list.
        let running = ["processing", "running", "in_progress", "pending_work"]
            .into_iter()
            .find(|word| stage.classify(word) == crate::api::kinds::Class::Running)
            .unwrap_or("processing");
        if t < render {
            running
        } else if job.fail {
            stage.failed[0]
        } else {
            stage.succeeded[0]
        }
    }

    fn described_json(&self, id: &str, job: &DescribedJob) -> Value {
        let Some(stage) = single_stage(job.kind) else {
            return Value::Null;
        };
        let mut record = example(stage.get);
        let status = self.described_status(job);
        record["status"] = json!(status);
        // Files only once it succeeded (none of the example's own).
        let done = stage.succeeded.contains(&status);
        let base = self.base().to_string();
        for pointer in job.kind.results() {
            write(&mut record, pointer, &|n| {
                if done {
                    json!(format!("{base}/files/{id}-{n}.mp4"))
                } else {
                    Value::Null
                }
            });
        }
        record
    }
}

/// Whether the simulator serves the file `name` of a described job (`<id>-<n>.mp4`).
pub(crate) fn serves(world: &World, name: &str) -> bool {
    name.strip_suffix(".mp4")
        .and_then(|stem| stem.rsplit_once('-'))
        .is_some_and(|(id, n)| n.parse::<usize>().is_ok() && world.described.contains_key(id))
}

async fn create(State(shared): Sim, headers: HeaderMap, bytes: Bytes, kind: JobKind) -> Response {
    let operation = kind.create_operation();
    let request = match body(operation, &bytes) {
        Ok(value) => value,
        Err(response) => return response,
    };
    let fail = request.to_string().contains(FAIL_RENDER);
    let mut world = shared.world();
    idempotent(&mut world, operation, &headers, |world| {
        let id = world.id(kind.as_str());
        let started = world.now();
        world.described.insert(
            id.clone(),
            DescribedJob {
                kind,
                started,
                fail,
            },
        );
        let mut answer = example(operation);
        if let Some(pointer) = kind.describe().created_ids.first() {
            let is_list = !pointed(&answer, pointer).is_empty()
                && answer.pointer(pointer).is_some_and(Value::is_array);
            let id = id.clone();
            write(&mut answer, pointer, &move |_| {
                if is_list {
                    json!([id])
                } else {
                    json!(id)
                }
            });
        }
        remembered(answer)
    })
}

async fn get(State(shared): Sim, Path(id): Path<String>, kind: JobKind) -> Response {
    let world = shared.world();
    match world.described.get(&id).filter(|job| job.kind == kind) {
        Some(job) => data(world.described_json(&id, job)),
        None => not_found(kind.name()),
    }
}

async fn statuses(State(shared): Sim, Query(query): Params, kind: JobKind) -> Response {
    let Some(bulk) = single_stage(kind).and_then(|stage| stage.bulk) else {
        return not_found(kind.name());
    };
    let world = shared.world();
    let items: Vec<Value> = query
        .get(bulk.ids)
        .map(String::as_str)
        .unwrap_or_default()
        .split(',')
        .filter(|id| !id.is_empty())
        .map(|id| {
            let status = world
                .described
                .get(id)
                .filter(|job| job.kind == kind)
                .map_or("not_found", |job| world.described_status(job));
            json!({ bulk.member: id, "status": status })
        })
        .collect();
    axum::Json(json!({"data": items, "has_more": false, "next_token": null})).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_are_written_where_the_description_points() {
        let mut record = json!({"clips": [], "layers": {"a": null, "b": null}});
        let leaf = |n: usize| json!(format!("u{n}"));
        write(&mut record, "/clips/*/video_url", &leaf);
        write(&mut record, "/layers/*", &leaf);
        write(&mut record, "/video/url", &leaf);
        assert_eq!(
            record,
            json!({"clips": [{"video_url": "u1"}, {"video_url": "u2"}],
                   "layers": {"a": "u1", "b": "u2"}, "video": {"url": "u1"}})
        );
    }
}
