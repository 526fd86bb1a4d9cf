//! The simulator's jobs beyond videos: translations and their proofreads, lip-syncs, clipping
//! jobs, background removals, avatars being trained and voices being cloned, with their
//! batches and bulk statuses; and the families' catalogues (languages, templates, sounds,
//! glossaries).
//!
//! A job's status is computed from the simulated time since it started, as a video's is: it
//! waits `PENDING_SECONDS`, runs until the configured render time, then ends, `failed` when
//! its request carried `[fail:render]` in a text field. An avatar of a real person (a photo or
//! a digital twin) waits at `pending_consent` until consent is given; its training starts
//! then. Each finished job is paid from the balance like a video, counts against the cap of
//! jobs in flight while it runs, and is announced by webhook where HeyGen has an event type
//! for it.

// Handlers are routed only when their family's feature is on.
#![allow(dead_code)]
// Handlers return ready error responses from their helpers; boxing them buys nothing here.
#![allow(clippy::result_large_err)]

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::http::{
    at_capacity, batch_page, body, data, id_lists, idempotent, invalid, not_found, page, page_of,
    remembered, text, Params, Sim,
};
pub(crate) use super::state::{Family, Job, JobBatch};
use super::state::{World, FAIL_RENDER, PENDING_SECONDS};

/// Where a job stands at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    NeedsConsent,
    Pending,
    Running,
    Completed,
    Failed,
}

/// The languages a video can be translated into.
pub(crate) const LANGUAGES: [&str; 8] = [
    "English",
    "Spanish",
    "French",
    "German",
    "Japanese",
    "Portuguese",
    "Italian",
    "Korean",
];

impl World {
    pub(crate) fn job_phase(&self, job: &Job) -> Phase {
        let Some(started) = job.started else {
            return Phase::NeedsConsent;
        };
        let t = self.elapsed(started);
        let render = self.config.render_seconds.max(PENDING_SECONDS + 0.001);
        if t < PENDING_SECONDS {
            Phase::Pending
        } else if t < render {
            Phase::Running
        } else if job.fail {
            Phase::Failed
        } else {
            Phase::Completed
        }
    }

    /// The job's status in its family's words.
    pub(crate) fn job_status(&self, job: &Job) -> &'static str {
        let phase = self.job_phase(job);
        match (job.family, phase) {
            (_, Phase::NeedsConsent) => "pending_consent",
            (_, Phase::Failed) => "failed",
            (Family::Voice, Phase::Completed) => "complete",
            (_, Phase::Completed) => "completed",
            (Family::Translation | Family::Lipsync | Family::Clipping, Phase::Pending) => "pending",
            (Family::Translation | Family::Lipsync | Family::Clipping, Phase::Running) => "running",
            (Family::BackgroundRemoval, Phase::Pending) => "pending",
            _ => "processing",
        }
    }

    /// A job's status in the bulk vocabulary of batches (`queued`, `processing`, ...).
    fn job_bulk_status(&self, job: &Job) -> &'static str {
        match self.job_phase(job) {
            Phase::NeedsConsent | Phase::Pending => "queued",
            Phase::Running => "processing",
            Phase::Completed => "completed",
            Phase::Failed => "failed",
        }
    }

    /// Jobs of the families still running.
    pub(crate) fn family_jobs_in_flight(&self) -> usize {
        self.unsettled_jobs()
            .filter(|j| matches!(self.job_phase(j), Phase::Pending | Phase::Running))
            .count()
    }

    /// The family jobs that can still change by themselves.
    pub(crate) fn unsettled_jobs(&self) -> impl Iterator<Item = &Job> {
        self.unsettled
            .jobs
            .iter()
            .filter_map(|id| self.jobs.get(id))
    }

    /// Whether a job can no longer change by itself: ended, announced, charged if it
    /// completed.
    pub(crate) fn job_settled(&self, job: &Job) -> bool {
        job.notified
            && match self.job_phase(job) {
                Phase::Completed => job.charged,
                Phase::Failed => true,
                _ => false,
            }
    }

    /// Takes the cost of newly finished jobs from the balance, at a video's price.
    pub(crate) fn charge_finished_jobs(&mut self) {
        let cost = self.video_cost();
        let done: Vec<String> = self
            .unsettled_jobs()
            .filter(|j| !j.charged && self.job_phase(j) == Phase::Completed)
            .map(|j| j.id.clone())
            .collect();
        for id in done {
            if let Some(job) = self.jobs.get_mut(&id) {
                job.charged = true;
                self.spent_usd += cost;
            }
        }
    }

    fn new_job(&mut self, family: Family, title: String, request: &Value, facts: Value) -> String {
        let id = self.id(family.prefix());
        let fail = [
            "title",
            "name",
            "prompt",
            "voice_name",
            "text",
            "request_id",
        ]
        .iter()
        .any(|k| text(request, k).is_some_and(|t| t.contains(FAIL_RENDER)));
        let waits_for_consent = family == Family::Avatar
            && matches!(
                facts.get("type").and_then(Value::as_str),
                Some("photo" | "digital_twin")
            );
        let now = self.now();
        self.unsettled.jobs.insert(id.clone());
        self.jobs.insert(
            id.clone(),
            Job {
                id: id.clone(),
                family,
                title,
                started: (!waits_for_consent).then_some(now),
                created_unix: super::unix_now(),
                fail,
                charged: false,
                // Families HeyGen has no event type for are never announced.
                notified: event_types(family).is_none(),
                callback_url: text(request, "callback_url"),
                callback_id: text(request, "callback_id"),
                facts,
            },
        );
        id
    }

    /// The job's record as its family's `get` answers it.
    pub(crate) fn job_json(&self, job: &Job) -> Value {
        let base = self.base();
        let phase = self.job_phase(job);
        let status = self.job_status(job);
        let done = phase == Phase::Completed;
        let failed = phase == Phase::Failed;
        let file = |suffix: &str| done.then(|| format!("{base}/files/{}{suffix}", job.id));
        let failure = failed.then_some("The source could not be processed.");
        match job.family {
            Family::Translation => json!({
                "id": job.id,
                "title": job.title,
                "status": status,
                "input_language": job.facts["input_language"],
                "output_language": job.facts["output_language"],
                "created_at": job.created_unix,
                "duration": done.then_some(super::media::DURATION_SECONDS),
                "video_url": file(".mp4"),
                "audio_url": file(".wav"),
                "srt_caption_url": file(".srt"),
                "vtt_caption_url": null,
                "translate_audio_only": job.facts["translate_audio_only"],
                "callback_id": job.callback_id,
                "failure_message": failure,
            }),
            Family::Proofread => json!({
                "id": job.id,
                "title": job.title,
                "status": status,
                "input_language": job.facts["input_language"],
                "output_language": job.facts["output_language"],
                "created_at": job.created_unix,
                "submitted_for_review": job.facts.get("srt_replaced").is_some(),
                "failure_message": failure,
            }),
            Family::Lipsync => json!({
                "id": job.id,
                "title": job.title,
                "status": status,
                "created_at": job.created_unix,
                "duration": done.then_some(super::media::DURATION_SECONDS),
                "video_url": file(".mp4"),
                "caption_url": file(".srt"),
                "callback_id": job.callback_id,
                "failure_message": failure,
            }),
            Family::Clipping => {
                let clips: Vec<Value> = if done {
                    (1..=2)
                        .map(|n| {
                            let clip = format!("{}_c{n}", job.id);
                            json!({
                                "id": clip,
                                "title": format!("{} (clip {n})", job.title),
                                "status": "completed",
                                "duration_seconds": super::media::DURATION_SECONDS,
                                "aspect_ratio": job.facts["aspect_ratio"],
                                "video_url": format!("{base}/files/{clip}.mp4"),
                                "thumbnail_url": format!("{base}/files/{clip}.jpg"),
                                "virality_score": 90 - n,
                                "failure_message": null,
                            })
                        })
                        .collect()
                } else {
                    Vec::new()
                };
                let progress = match phase {
                    Phase::Completed | Phase::Failed => 100,
                    Phase::Running => 50,
                    _ => 0,
                };
                json!({
                    "id": job.id,
                    "title": job.title,
                    "status": status,
                    "progress": progress,
                    "created_at": job.created_unix,
                    "source_duration": super::media::DURATION_SECONDS,
                    "input_language": job.facts["input_language"],
                    "output_settings": job.facts["output_settings"],
                    "clips": clips,
                    "callback_id": job.callback_id,
                    "failure_message": failure,
                })
            }
            Family::BackgroundRemoval => {
                let layers = if done {
                    json!({"foreground": format!("{base}/files/{}.mp4", job.id)})
                } else {
                    json!({})
                };
                json!({
                    "id": job.id,
                    "status": status,
                    "created_at": job.created_unix,
                    "completed_at": done.then(super::unix_now),
                    "duration": done.then_some(super::media::DURATION_SECONDS),
                    "layers": layers,
                    "error": failure,
                })
            }
            Family::Avatar => json!({
                "id": job.id,
                "name": job.title,
                "created_at": job.created_unix,
                "looks_count": 1,
                "status": status,
                "consent_status": if phase == Phase::NeedsConsent { "pending" } else { "approved" },
                "gender": null,
                "default_voice_id": null,
                "preview_image_url": done.then(|| format!("{base}/files/thumbnail.jpg")),
                "preview_video_url": null,
                "error": failed.then(|| json!({"code": "training_failed", "message": "The footage could not be used for training."})),
            }),
            Family::Voice => json!({
                "voice_id": job.id,
                "name": job.title,
                "language": job.facts.get("language").cloned().unwrap_or(json!("English")),
                "gender": job.facts.get("gender").cloned().unwrap_or(json!("female")),
                "preview_audio_url": file(".wav"),
                "support_pause": true,
                "support_interactive_avatar": false,
                "status": status,
                "created_at": job.created_unix,
                "failure_message": failure,
            }),
        }
    }

    /// The look of an avatar being made (one per group).
    fn avatar_look_json(&self, job: &Job) -> Value {
        let done = self.job_phase(job) == Phase::Completed;
        let kind = match job.facts.get("type").and_then(Value::as_str) {
            Some("digital_twin") => "digital_twin",
            _ => "photo_avatar",
        };
        json!({
            "id": format!("{}_look", job.id),
            "name": job.facts.get("look_name").cloned().unwrap_or(json!(job.title)),
            "avatar_type": kind,
            "group_id": job.id,
            "status": self.job_status(job),
            "gender": null,
            "default_voice_id": null,
            "preview_image_url": done.then(|| format!("{}/files/thumbnail.jpg", self.base())),
            "preview_video_url": null,
            "image_width": 512,
            "image_height": 512,
            "preferred_orientation": "portrait",
            "supported_api_engines": ["avatar_iv"],
            "tags": [],
            "error": null,
        })
    }

    /// The event a finished job is announced with, and its data.
    pub(crate) fn job_event(&self, job: &Job) -> Option<(&'static str, Value)> {
        let (success, fail) = event_types(job.family)?;
        let done = self.job_phase(job) == Phase::Completed;
        let base = self.base();
        let mut data = match job.family {
            Family::Translation => json!({
                "video_translate_id": job.id,
                "output_language": job.facts["output_language"],
            }),
            Family::Avatar => json!({"avatar_group_id": job.id}),
            _ => json!({"id": job.id}),
        };
        data["callback_id"] = json!(job.callback_id);
        if done {
            data["url"] = json!(format!("{base}/files/{}.mp4", job.id));
            Some((success, data))
        } else {
            data["message"] = json!("The source could not be processed.");
            Some((fail, data))
        }
    }
}

/// The event types of a family's jobs (success, failure), where HeyGen has them.
fn event_types(family: Family) -> Option<(&'static str, &'static str)> {
    match family {
        Family::Translation => Some(("video_translate.success", "video_translate.fail")),
        Family::Proofread => Some(("proofread_creation.success", "proofread_creation.fail")),
        Family::Clipping => Some(("ai_clipping.success", "ai_clipping.fail")),
        Family::Avatar => Some(("photo_avatar_train.success", "photo_avatar_train.fail")),
        Family::Lipsync | Family::BackgroundRemoval | Family::Voice => None,
    }
}

/// A job of `family` by id, with the world advanced, or 404.
fn find<'w>(world: &'w World, family: Family, id: &str) -> Result<&'w Job, Response> {
    world
        .jobs
        .get(id)
        .filter(|j| j.family == family)
        .ok_or_else(|| not_found(family.noun()))
}

/// The file a request names, checked as a video's inputs are: an asset must exist, a URL must
/// be one the simulator could fetch.
fn check_file(world: &World, field: &str, file: Option<&Value>) -> Option<Response> {
    let file = file?;
    super::http::check_files(world, &json!({ "files": [file] })).map(|_| {
        invalid(
            field,
            format!("`{field}` names a file that cannot be read."),
        )
    })
}

// --- Generic operations, one family at a time -------------------------------------------

pub(super) async fn list(State(shared): Sim, Query(query): Params, family: Family) -> Response {
    let world = shared.world();
    let items = world.jobs.values().rev().filter(|j| j.family == family);
    page_of(items, |j| world.job_json(j), &query, 10)
}

pub(super) async fn get(State(shared): Sim, Path(id): Path<String>, family: Family) -> Response {
    let mut world = shared.world();
    world.charge_finished_jobs();
    match find(&world, family, &id) {
        Ok(job) => data(world.job_json(job)),
        Err(response) => response,
    }
}

pub(super) async fn rename(
    State(shared): Sim,
    Path(id): Path<String>,
    bytes: Bytes,
    (operation, family): (&'static str, Family),
) -> Response {
    let value = match body(operation, &bytes) {
        Ok(value) => value,
        Err(response) => return response,
    };
    let mut world = shared.world();
    if let Err(response) = find(&world, family, &id) {
        return response;
    }
    let title = text(&value, "title").unwrap_or_default();
    if let Some(job) = world.jobs.get_mut(&id) {
        job.title = title;
    }
    match world.jobs.get(&id) {
        Some(job) => data(world.job_json(job)),
        None => not_found(family.noun()),
    }
}

pub(super) async fn delete(State(shared): Sim, Path(id): Path<String>, family: Family) -> Response {
    let mut world = shared.world();
    if let Err(response) = find(&world, family, &id) {
        return response;
    }
    world.jobs.remove(&id);
    match family {
        Family::BackgroundRemoval => data(json!({"id": id, "deleted": true})),
        Family::Voice => data(json!({"voice_id": id})),
        _ => data(json!({"id": id})),
    }
}

/// Bulk statuses of translations or lip-syncs (`video_id` names each job, as HeyGen's
/// shared read model does); an unknown id answers `not_found`.
pub(super) async fn statuses(
    State(shared): Sim,
    Query(query): Params,
    (param, family): (&'static str, Family),
) -> Response {
    let (ids, batches) = match id_lists(&query, param) {
        Ok(lists) => lists,
        Err(response) => return response,
    };
    let mut world = shared.world();
    world.charge_finished_jobs();
    let mut items: Vec<Value> = ids
        .iter()
        .map(|id| match world.jobs.get(id).filter(|j| j.family == family) {
            Some(job) => {
                let status = world.job_status(job);
                let error = (status == "failed").then(|| json!({"code": "processing_failed", "message": "The source could not be processed."}));
                json!({"video_id": id, "status": status, "error": error, "batch_id": null, "item_index": null})
            }
            None => json!({"video_id": id, "status": "not_found", "error": null, "batch_id": null, "item_index": null}),
        })
        .collect();
    for id in &batches {
        match world.job_batches.get(id) {
            Some(batch) => items.extend(batch.job_ids.iter().enumerate().filter_map(|(index, job_id)| {
                let job = world.jobs.get(job_id)?;
                Some(json!({"video_id": job_id, "status": world.job_status(job), "error": null, "batch_id": id, "item_index": index}))
            })),
            None => items.push(json!({"video_id": null, "status": "not_found", "error": null, "batch_id": id, "item_index": null})),
        }
    }
    Json(json!({"data": items, "has_more": false, "next_token": null})).into_response()
}

pub(super) async fn get_batch(
    State(shared): Sim,
    Path(id): Path<String>,
    Query(query): Params,
) -> Response {
    let mut world = shared.world();
    world.charge_finished_jobs();
    let Some(batch) = world.job_batches.get(&id) else {
        return not_found("Batch");
    };
    let items = batch
        .job_ids
        .iter()
        .enumerate()
        .filter_map(|(index, job_id)| {
            let job = world.jobs.get(job_id)?;
            let status = world.job_bulk_status(job);
            Some(json!({
                "item_index": index,
                "video_id": job_id,
                "status": status,
                "error": (status == "failed").then(|| json!({"code": "processing_failed"})),
            }))
        })
        .collect();
    batch_page(
        &id,
        batch.title.as_deref(),
        batch.created_unix,
        items,
        &query,
    )
}

// --- Translations and proofreads --------------------------------------------------------

/// The output languages of a request, each one HeyGen offers.
fn languages(value: &Value) -> Result<Vec<String>, Response> {
    let wanted: Vec<String> = value
        .get("output_languages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|l| l.as_str().map(str::to_string))
        .collect();
    if wanted.is_empty() {
        return Err(invalid(
            "output_languages",
            "Give at least one output language.",
        ));
    }
    if let Some(unknown) = wanted.iter().find(|l| !LANGUAGES.contains(&l.as_str())) {
        return Err(invalid(
            "output_languages",
            format!("{unknown} is not a supported language; see /v3/video-translations/languages."),
        ));
    }
    Ok(wanted)
}

/// Starts one translation per output language.
fn start_translations(world: &mut World, value: &Value) -> Result<Vec<String>, Response> {
    let wanted = languages(value)?;
    if let Some(response) = check_file(world, "video", value.get("video")) {
        return Err(response);
    }
    let title = text(value, "title").unwrap_or_else(|| "Translated video".into());
    Ok(wanted
        .into_iter()
        .map(|language| {
            let facts = json!({
                "output_language": language,
                "input_language": value.get("input_language").cloned().unwrap_or(json!("English")),
                "translate_audio_only": value.get("translate_audio_only").cloned().unwrap_or(json!(false)),
            });
            world.new_job(Family::Translation, title.clone(), value, facts)
        })
        .collect())
}

pub(super) async fn create_translation(
    State(shared): Sim,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    let value = match body("create_video_translation", &bytes) {
        Ok(value) => value,
        Err(response) => return response,
    };
    let mut world = shared.world();
    idempotent(&mut world, "create-translation", &headers, |world| {
        if let Some(refused) = at_capacity(world) {
            return refused;
        }
        match start_translations(world, &value) {
            Ok(ids) => remembered(json!({ "video_translation_ids": ids })),
            Err(response) => response,
        }
    })
}

pub(super) async fn languages_list() -> Response {
    data(json!({ "languages": LANGUAGES }))
}

pub(super) async fn create_proofread(
    State(shared): Sim,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    let value = match body("create_proofread", &bytes) {
        Ok(value) => value,
        Err(response) => return response,
    };
    let mut world = shared.world();
    idempotent(&mut world, "create-proofread", &headers, |world| {
        let wanted = match languages(&value) {
            Ok(wanted) => wanted,
            Err(response) => return response,
        };
        if let Some(response) = check_file(world, "video", value.get("video")) {
            return response;
        }
        let title = text(&value, "title").unwrap_or_else(|| "Proofread".into());
        let ids: Vec<String> = wanted
            .into_iter()
            .map(|language| {
                let facts = json!({
                    "output_language": language,
                    "input_language": value.get("input_language").cloned().unwrap_or(json!("English")),
                });
                world.new_job(Family::Proofread, title.clone(), &value, facts)
            })
            .collect();
        remembered(json!({ "proofread_ids": ids, "status": "processing" }))
    })
}

pub(super) async fn generate_from_proofread(
    State(shared): Sim,
    Path(id): Path<String>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    let value = if bytes.is_empty() {
        json!({})
    } else {
        match body("generate_from_proofread", &bytes) {
            Ok(value) => value,
            Err(response) => return response,
        }
    };
    let mut world = shared.world();
    idempotent(&mut world, &format!("generate-{id}"), &headers, |world| {
        let proofread = match find(world, Family::Proofread, &id) {
            Ok(job) => job.clone(),
            Err(response) => return response,
        };
        if world.job_phase(&proofread) != Phase::Completed {
            return invalid("proofread_id", "The proofread is not completed yet.");
        }
        if let Some(refused) = at_capacity(world) {
            return refused;
        }
        let mut request = value.clone();
        request["title"] = json!(proofread.title);
        let facts = json!({
            "output_language": proofread.facts["output_language"],
            "input_language": proofread.facts["input_language"],
            "translate_audio_only": value.get("translate_audio_only").cloned().unwrap_or(json!(false)),
        });
        let job = world.new_job(
            Family::Translation,
            proofread.title.clone(),
            &request,
            facts,
        );
        remembered(json!({ "video_translation_id": job, "status": "processing" }))
    })
}

pub(super) async fn proofread_srt(State(shared): Sim, Path(id): Path<String>) -> Response {
    let world = shared.world();
    match find(&world, Family::Proofread, &id) {
        Ok(job) if world.job_phase(job) == Phase::Completed => data(json!({
            "srt_url": format!("{}/files/{id}.srt", world.base()),
            "original_srt_url": null,
        })),
        Ok(_) => invalid(
            "proofread_id",
            "The proofread's subtitles are not ready yet.",
        ),
        Err(response) => response,
    }
}

pub(super) async fn replace_proofread_srt(
    State(shared): Sim,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Response {
    let value = match body("replace_proofread_srt", &bytes) {
        Ok(value) => value,
        Err(response) => return response,
    };
    let mut world = shared.world();
    if let Some(response) = check_file(&world, "srt", value.get("srt")) {
        return response;
    }
    match find(&world, Family::Proofread, &id) {
        Ok(job) if world.job_phase(job) != Phase::Completed => {
            return invalid(
                "proofread_id",
                "The proofread's subtitles are not ready yet.",
            )
        }
        Ok(_) => {}
        Err(response) => return response,
    }
    if let Some(job) = world.jobs.get_mut(&id) {
        job.facts["srt_replaced"] = json!(true);
    }
    match world.jobs.get(&id) {
        Some(job) => data(world.job_json(job)),
        None => not_found("Proofread"),
    }
}

// --- Lip-syncs --------------------------------------------------------------------------

fn start_lipsync(world: &mut World, value: &Value) -> Result<String, Response> {
    for field in ["video", "audio"] {
        if let Some(response) = check_file(world, field, value.get(field)) {
            return Err(response);
        }
    }
    let title = text(value, "title").unwrap_or_else(|| "Lipsync".into());
    Ok(world.new_job(Family::Lipsync, title, value, json!({})))
}

pub(super) async fn create_lipsync(
    State(shared): Sim,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    let value = match body("create_lipsync", &bytes) {
        Ok(value) => value,
        Err(response) => return response,
    };
    let mut world = shared.world();
    idempotent(&mut world, "create-lipsync", &headers, |world| {
        if let Some(refused) = at_capacity(world) {
            return refused;
        }
        match start_lipsync(world, &value) {
            Ok(id) => remembered(json!({ "lipsync_id": id })),
            Err(response) => response,
        }
    })
}

/// Queues up to 100 translation or lip-sync requests; each item is made on its own, and one
/// that cannot be made does not stop the others (it is not in the batch).
pub(super) async fn create_batch(
    State(shared): Sim,
    headers: HeaderMap,
    bytes: Bytes,
    (operation, member, family): (&'static str, &'static str, Family),
) -> Response {
    let value = match body(operation, &bytes) {
        Ok(value) => value,
        Err(response) => return response,
    };
    let items: Vec<Value> = value
        .get(member)
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if items.is_empty() || items.len() > 100 {
        return invalid(member, "Give between 1 and 100 items.");
    }
    let mut world = shared.world();
    idempotent(&mut world, operation, &headers, |world| {
        let mut job_ids = Vec::new();
        for item in &items {
            let made = match family {
                Family::Translation => start_translations(world, item),
                _ => start_lipsync(world, item).map(|id| vec![id]),
            };
            job_ids.extend(made.unwrap_or_default());
        }
        let id = world.id("batch");
        let total = job_ids.len();
        world.job_batches.insert(
            id.clone(),
            JobBatch {
                title: text(&value, "title"),
                created_unix: super::unix_now(),
                job_ids,
            },
        );
        remembered(json!({"batch_id": id, "status": "processing", "total_items": total}))
    })
}

// --- Clipping and background removal ----------------------------------------------------

pub(super) async fn create_clipping_job(
    State(shared): Sim,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    let value = match body("create_clipping_job", &bytes) {
        Ok(value) => value,
        Err(response) => return response,
    };
    let mut world = shared.world();
    idempotent(&mut world, "create-clipping", &headers, |world| {
        if let Some(refused) = at_capacity(world) {
            return refused;
        }
        if let Some(response) = check_file(world, "video", value.get("video")) {
            return response;
        }
        let settings = value.get("output_settings").cloned().unwrap_or(json!({}));
        let facts = json!({
            "aspect_ratio": settings.get("aspect_ratio").cloned().unwrap_or(json!("portrait")),
            "output_settings": settings,
            "input_language": value.get("input_language").cloned().unwrap_or(Value::Null),
        });
        let title = text(&value, "title").unwrap_or_else(|| "Clips".into());
        let id = world.new_job(Family::Clipping, title, &value, facts);
        remembered(json!({ "id": id, "status": "pending" }))
    })
}

/// Starts a background removal. HeyGen ignores `Idempotency-Key` here: a repeated
/// `request_id` answers with the job it started first.
pub(super) async fn create_background_removal(State(shared): Sim, bytes: Bytes) -> Response {
    let value = match body("create_background_removal", &bytes) {
        Ok(value) => value,
        Err(response) => return response,
    };
    let mut world = shared.world();
    if let Some(request_id) = text(&value, "request_id") {
        if let Some(id) = world.background_requests.get(&request_id).cloned() {
            if let Some(job) = world.jobs.get(&id) {
                return data(world.job_json(job));
            }
        }
    }
    if let Some(refused) = at_capacity(&mut world) {
        return refused;
    }
    if let Some(response) = check_file(&world, "video", value.get("video")) {
        return response;
    }
    let title = text(&value, "title").unwrap_or_else(|| "Background removal".into());
    let id = world.new_job(Family::BackgroundRemoval, title, &value, json!({}));
    if let Some(request_id) = text(&value, "request_id") {
        world.background_requests.insert(request_id, id.clone());
    }
    match world.jobs.get(&id) {
        Some(job) => data(world.job_json(job)),
        None => not_found("Background removal"),
    }
}

// --- Templates --------------------------------------------------------------------------

/// The seeded templates: (id, name, variables).
const TEMPLATES: [(&str, &str, &[&str]); 2] = [
    ("tpl_welcome", "Welcome message", &["first_name", "company"]),
    ("tpl_offer", "Seasonal offer", &["first_name", "discount"]),
];

fn template_json(id: &str, name: &str, variables: &[&str], whole: bool) -> Value {
    let mut template = json!({
        "id": id,
        "name": name,
        "aspect_ratio": "16:9",
        "thumbnail_url": format!("https://cdn.heygen.com/templates/{id}.jpg"),
        "created_at": 1_704_067_200,
        "updated_at": 1_704_067_200,
    });
    if whole {
        let vars: serde_json::Map<String, Value> = variables
            .iter()
            .map(|v| (v.to_string(), json!({"name": v, "type": "text"})))
            .collect();
        template["scene_ids"] = json!([format!("{id}_s1")]);
        template["scenes"] = json!([{
            "scene_id": format!("{id}_s1"),
            "script": variables.iter().map(|v| format!("{{{{{v}}}}}")).collect::<Vec<_>>().join(", "),
            "variables": variables.iter().map(|v| json!({"name": v, "variable_type": "text"})).collect::<Vec<_>>(),
        }]);
        template["variables"] = Value::Object(vars);
    }
    template
}

pub(super) async fn list_templates(Query(query): Params) -> Response {
    let items = TEMPLATES
        .iter()
        .map(|(id, name, vars)| template_json(id, name, vars, false))
        .collect();
    page(items, &query, 10)
}

pub(super) async fn get_template(Path(id): Path<String>) -> Response {
    match TEMPLATES.iter().find(|(t, _, _)| *t == id) {
        Some((id, name, vars)) => data(template_json(id, name, vars, true)),
        None => not_found("Template"),
    }
}

/// Renders a video from a template: every variable must be filled, and none other; the
/// video then renders like any other.
pub(super) async fn generate_from_template(
    State(shared): Sim,
    Path(id): Path<String>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    let value = match body("generate_from_template", &bytes) {
        Ok(value) => value,
        Err(response) => return response,
    };
    let Some((_, name, vars)) = TEMPLATES.iter().find(|(t, _, _)| *t == id) else {
        return not_found("Template");
    };
    let given = value.get("variables").and_then(Value::as_object);
    if let Some(missing) = vars
        .iter()
        .find(|v| !given.is_some_and(|g| g.contains_key(**v)))
    {
        return invalid(
            "variables",
            format!("The template's variable `{missing}` is missing."),
        );
    }
    if let Some(unknown) = given
        .into_iter()
        .flat_map(|g| g.keys())
        .find(|k| !vars.contains(&k.as_str()))
    {
        return invalid(
            "variables",
            format!("The template has no variable `{unknown}`."),
        );
    }
    let mut world = shared.world();
    idempotent(&mut world, &format!("template-{id}"), &headers, |world| {
        if let Some(refused) = at_capacity(world) {
            return refused;
        }
        let video_id = world.id("vid");
        let title = text(&value, "title").unwrap_or_else(|| name.to_string());
        let variables = value
            .get("variables")
            .map(Value::to_string)
            .unwrap_or_default();
        let video = super::state::Video {
            id: video_id.clone(),
            session_id: None,
            fail: title.contains(FAIL_RENDER) || variables.contains(FAIL_RENDER),
            title,
            started: world.now(),
            created_unix: super::unix_now(),
            charged: false,
            callback_url: text(&value, "callback_url"),
            callback_id: text(&value, "callback_id"),
            notified: false,
        };
        let answer = world.video_json(&video);
        world.add_video(video);
        remembered(answer)
    })
}

// --- Voices and speech ------------------------------------------------------------------

pub(super) async fn design_voice(State(shared): Sim, headers: HeaderMap, bytes: Bytes) -> Response {
    let value = match body("design_voice", &bytes) {
        Ok(value) => value,
        Err(response) => return response,
    };
    let mut world = shared.world();
    idempotent(&mut world, "design-voice", &headers, |world| {
        let seed = value.get("seed").and_then(Value::as_i64).unwrap_or(0);
        let gender = text(&value, "gender").unwrap_or_else(|| "female".into());
        let voices: Vec<Value> = (1..=2)
            .map(|n| {
                let mut request = value.clone();
                request["name"] = json!(format!("Designed voice {n}"));
                let facts = json!({"gender": gender, "language": "English"});
                let id = world.new_job(
                    Family::Voice,
                    format!("Designed voice {n}"),
                    &request,
                    facts,
                );
                json!({
                    "voice_id": id,
                    "name": format!("Designed voice {n}"),
                    "language": "English",
                    "gender": gender,
                    "preview_audio_url": format!("{}/files/{id}.wav", world.base()),
                    "support_pause": true,
                    "support_locale": false,
                    "type": "private",
                })
            })
            .collect();
        remembered(json!({ "voices": voices, "seed": seed }))
    })
}

pub(super) async fn clone_voice(State(shared): Sim, headers: HeaderMap, bytes: Bytes) -> Response {
    let value = match body("clone_voice", &bytes) {
        Ok(value) => value,
        Err(response) => return response,
    };
    let mut world = shared.world();
    idempotent(&mut world, "clone-voice", &headers, |world| {
        if let Some(response) = check_file(world, "audio", value.get("audio")) {
            return response;
        }
        let name = text(&value, "voice_name").unwrap_or_default();
        let facts = json!({"language": value.get("language").cloned().unwrap_or(json!("English"))});
        let id = world.new_job(Family::Voice, name, &value, facts);
        remembered(json!({ "voice_clone_id": id }))
    })
}

/// A voice of the account (cloned or designed), or of the seeded catalogue.
pub(crate) fn voice_json(world: &World, id: &str) -> Option<Value> {
    world
        .jobs
        .get(id)
        .filter(|j| j.family == Family::Voice)
        .map(|job| world.job_json(job))
}

/// Speaks a text: the audio is a WAV of silence as long as the text would take to say.
pub(super) async fn create_speech(
    State(shared): Sim,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    let value = match body("create_speech", &bytes) {
        Ok(value) => value,
        Err(response) => return response,
    };
    let text_given = text(&value, "text").unwrap_or_default();
    if text_given.trim().is_empty() || text_given.chars().count() > 5000 {
        return invalid("text", "text must be between 1 and 5000 characters.");
    }
    let voice = text(&value, "voice_id").unwrap_or_default();
    let mut world = shared.world();
    let known = voice_json(&world, &voice).is_some()
        || super::media::voices()
            .iter()
            .any(|v| v["voice_id"] == voice.as_str());
    if !known {
        return invalid("voice_id", format!("Voice {voice} does not exist."));
    }
    idempotent(&mut world, "speech", &headers, |world| {
        let id = world.id("tts");
        let speed = value
            .get("speed")
            .and_then(Value::as_f64)
            .unwrap_or(1.0)
            .clamp(0.5, 2.0);
        let mut at = 0.0;
        let words: Vec<Value> = text_given
            .split_whitespace()
            .map(|word| {
                let length = 0.3 / speed;
                let stamp = json!({"word": word, "start": at, "end": at + length});
                at += length;
                stamp
            })
            .collect();
        world.speeches.insert(id.clone(), at);
        remembered(json!({
            "audio_url": format!("{}/files/{id}.wav", world.base()),
            "duration": at,
            "request_id": id,
            "word_timestamps": words,
        }))
    })
}

// --- Avatars ----------------------------------------------------------------------------

pub(super) async fn create_avatar(
    State(shared): Sim,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    let value = match body("create_avatar", &bytes) {
        Ok(value) => value,
        Err(response) => return response,
    };
    let kind = text(&value, "type").unwrap_or_default();
    let needs = match kind.as_str() {
        "prompt" => "prompt",
        _ => "file",
    };
    if value.get(needs).is_none_or(Value::is_null) {
        return invalid(needs, format!("A `{kind}` avatar needs `{needs}`."));
    }
    let mut world = shared.world();
    if let Some(response) = check_file(&world, "file", value.get("file")) {
        return response;
    }
    idempotent(&mut world, "create-avatar", &headers, |world| {
        let name = text(&value, "name").unwrap_or_default();
        let id = world.new_job(Family::Avatar, name, &value, json!({"type": kind}));
        let Some(job) = world.jobs.get(&id) else {
            return not_found("Avatar group");
        };
        remembered(json!({
            "avatar_group": world.job_json(job),
            "avatar_item": world.avatar_look_json(job),
        }))
    })
}

pub(super) async fn give_consent(
    State(shared): Sim,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Response {
    let value = if bytes.is_empty() {
        json!({})
    } else {
        match body("give_avatar_consent", &bytes) {
            Ok(value) => value,
            Err(response) => return response,
        }
    };
    let mut world = shared.world();
    if let Err(response) = find(&world, Family::Avatar, &id) {
        return response;
    }
    if let Some(response) = check_file(&world, "consent_video", value.get("consent_video")) {
        return response;
    }
    let base = world.base().to_string();
    // A consent video is consent; without one, the person is sent a page, and consent is
    // taken as given when the page is asked for (there is no one to click it here).
    let url = value
        .get("consent_video")
        .is_none_or(Value::is_null)
        .then(|| format!("{base}/consent/{id}"));
    let now = world.now();
    if let Some(job) = world.jobs.get_mut(&id) {
        if job.started.is_none() {
            job.started = Some(now);
        }
    }
    match world.jobs.get(&id) {
        Some(job) => data(json!({ "avatar_group": world.job_json(job), "url": url })),
        None => not_found("Avatar group"),
    }
}

/// An avatar group of the account, being made or made.
pub(crate) fn avatar_group_json(world: &World, id: &str) -> Option<Value> {
    world
        .jobs
        .get(id)
        .filter(|j| j.family == Family::Avatar)
        .map(|job| world.job_json(job))
}

pub(super) async fn rename_look(
    State(shared): Sim,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Response {
    let value = match body("update_avatar_look", &bytes) {
        Ok(value) => value,
        Err(response) => return response,
    };
    let mut world = shared.world();
    let group = id.strip_suffix("_look").unwrap_or_default().to_string();
    if find(&world, Family::Avatar, &group).is_err() {
        return if super::media::avatar_looks()
            .iter()
            .any(|l| l["id"] == id.as_str())
        {
            super::http::error(
                axum::http::StatusCode::FORBIDDEN,
                "forbidden",
                "Public looks cannot be renamed.",
                None,
            )
        } else {
            not_found("Avatar look")
        };
    }
    if let Some(job) = world.jobs.get_mut(&group) {
        job.facts["look_name"] = value.get("name").cloned().unwrap_or(Value::Null);
    }
    match world.jobs.get(&group) {
        Some(job) => data(world.avatar_look_json(job)),
        None => not_found("Avatar look"),
    }
}

pub(super) async fn delete_look(State(shared): Sim, Path(id): Path<String>) -> Response {
    let mut world = shared.world();
    let group = id.strip_suffix("_look").unwrap_or_default().to_string();
    if find(&world, Family::Avatar, &group).is_err() {
        return not_found("Avatar look");
    }
    world.jobs.remove(&group);
    data(json!({ "id": id }))
}

// --- Catalogues -------------------------------------------------------------------------

pub(super) async fn search_sounds(Query(query): Params) -> Response {
    let words: Vec<String> = query
        .get("query")
        .map(|q| {
            q.to_lowercase()
                .split_whitespace()
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let kind = query.get("type").map(String::as_str).unwrap_or("music");
    let sounds = [
        (
            "snd_calm_piano",
            "Calm piano",
            "music",
            "soft calm piano for explainers",
        ),
        (
            "snd_upbeat_pop",
            "Upbeat pop",
            "music",
            "bright upbeat pop for launches",
        ),
        (
            "snd_rain",
            "Rain on a window",
            "sound_effects",
            "steady rain ambience",
        ),
        (
            "snd_whoosh",
            "Whoosh",
            "sound_effects",
            "fast whoosh transition",
        ),
    ];
    let items: Vec<Value> = sounds
        .iter()
        .filter(|(_, _, k, _)| *k == kind)
        .filter_map(|(id, name, k, about)| {
            let hits = words
                .iter()
                .filter(|w| about.contains(w.as_str()) || name.to_lowercase().contains(w.as_str()))
                .count();
            let score = if words.is_empty() {
                0.0
            } else {
                hits as f64 / words.len() as f64
            };
            let minimum = query
                .get("min_score")
                .and_then(|s| s.parse::<f64>().ok())
                .unwrap_or(0.7);
            (score >= minimum).then(|| {
                json!({
                    "id": id,
                    "name": name,
                    "description": about,
                    "type": k,
                    "audio_url": format!("https://cdn.heygen.com/sounds/{id}.mp3"),
                    "score": score,
                    "duration": 30.0,
                    "peak_offset": null,
                    "placement": null,
                })
            })
        })
        .collect();
    page(items, &query, 10)
}

pub(super) async fn list_glossaries(Query(query): Params) -> Response {
    let items = vec![json!({
        "brand_glossary_id": "gls_product_names",
        "name": "Product names",
        "created_at": "2026-01-05T10:00:00Z",
        "updated_at": "2026-03-01T09:30:00Z",
    })];
    page(items, &query, 10)
}

/// Whether `name` is a file of a family's job (`<id>.mp4`, `<id>_c1.mp4`, ...).
pub(crate) fn serves(world: &World, name: &str) -> Option<&'static str> {
    let (stem, extension) = name.rsplit_once('.')?;
    let id = stem.split("_c").next().unwrap_or(stem);
    let known = world.jobs.contains_key(id) || world.speeches.contains_key(stem);
    known.then_some(match extension {
        "mp4" => "video/mp4",
        "jpg" => "image/jpeg",
        "srt" => "application/x-subrip",
        "wav" => "audio/wav",
        _ => return None,
    })
}

/// A WAV file of silence lasting `seconds` (16 kHz, 16-bit mono).
pub(crate) fn silence_wav(seconds: f64) -> Vec<u8> {
    let samples = (seconds.clamp(0.1, 60.0) * 16_000.0) as u32;
    let data_len = samples * 2;
    let mut wav = Vec::with_capacity(44 + data_len as usize);
    wav.extend_from_slice(b"RIFF");
    wav.extend_from_slice(&(36 + data_len).to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt ");
    wav.extend_from_slice(&16u32.to_le_bytes());
    wav.extend_from_slice(&1u16.to_le_bytes());
    wav.extend_from_slice(&1u16.to_le_bytes());
    wav.extend_from_slice(&16_000u32.to_le_bytes());
    wav.extend_from_slice(&32_000u32.to_le_bytes());
    wav.extend_from_slice(&2u16.to_le_bytes());
    wav.extend_from_slice(&16u16.to_le_bytes());
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&data_len.to_le_bytes());
    wav.resize(44 + data_len as usize, 0);
    wav
}
