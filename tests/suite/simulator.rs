//! The simulator against the spec and the client: every operation it serves answers with
//! bodies that validate against `openapi.yaml`, and its lifecycle, faults and webhooks behave
//! as documented.

use crate::common;
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use heygen_api::contract::Spec;
use heygen_api::simulator::RunningSimulator;
use heygen_api::webhook::{self, Verifier, WebhookEvent};
use heygen_api::{
    AgentMode, AgentRecord, CreateVideoAgentRequest, ErrorCode, EventType, FileInput, JobOutcome,
    SessionStatus,
};
use serde_json::{json, Value};

use crate::common::{fast_simulator as fast, quick_wait, PNG};

/// Calls the simulator directly and checks the answer against the spec.
struct Checker<'a> {
    sim: &'a RunningSimulator,
    http: reqwest::Client,
    covered: BTreeSet<String>,
}

impl Checker<'_> {
    async fn call(
        &mut self,
        operation: &str,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let url = format!("{}{path}", self.sim.base_url());
        let mut request = self
            .http
            .request(method.parse().unwrap(), &url)
            .header("x-api-key", self.sim.api_key());
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        self.check(operation, response).await
    }

    async fn check(&mut self, operation: &str, response: reqwest::Response) -> (u16, Value) {
        let status = response.status().as_u16();
        assert!(
            response.headers().contains_key("x-request-id"),
            "{operation}: no request id"
        );
        let value: Value = response
            .json()
            .await
            .unwrap_or_else(|e| panic!("{operation}: not JSON: {e}"));
        Spec::get()
            .unwrap()
            .validate_response(operation, status, &value)
            .unwrap_or_else(|e| panic!("{operation} {status} {value}: {e}"));
        self.covered.insert(operation.to_string());
        (status, value)
    }
}

#[tokio::test]
async fn every_response_validates_against_the_spec() {
    let sim = fast().start().await.unwrap();
    let mut c = Checker {
        sim: &sim,
        http: reqwest::Client::new(),
        covered: BTreeSet::new(),
    };

    let (_, endpoint) = c
        .call(
            "create_webhook_endpoint",
            "POST",
            "/v3/webhooks/endpoints",
            Some(json!({"url": "http://127.0.0.1:9/hook", "events": ["video_agent.success"]})),
        )
        .await;
    let endpoint_id = endpoint["data"]["endpoint_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(endpoint["data"]["secret"]
        .as_str()
        .unwrap()
        .starts_with("whsec_"));
    let (_, list) = c
        .call(
            "list_webhook_endpoints",
            "GET",
            "/v3/webhooks/endpoints?limit=5",
            None,
        )
        .await;
    assert_eq!(
        list["data"][0]["secret"],
        Value::Null,
        "secrets are only shown on create"
    );
    c.call(
        "update_webhook_endpoint",
        "PATCH",
        &format!("/v3/webhooks/endpoints/{endpoint_id}"),
        Some(json!({"events": ["video_agent.fail"]})),
    )
    .await;
    let (_, rotated) = c
        .call(
            "rotate_webhook_secret",
            "POST",
            &format!("/v3/webhooks/endpoints/{endpoint_id}/rotate-secret"),
            None,
        )
        .await;
    assert_ne!(rotated["data"]["secret"], endpoint["data"]["secret"]);
    c.call(
        "list_webhook_event_types",
        "GET",
        "/v3/webhooks/event-types",
        None,
    )
    .await;

    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(PNG.to_vec()).file_name("logo.png"),
    );
    let upload = c
        .http
        .post(format!("{}/v3/assets", sim.base_url()))
        .header("x-api-key", sim.api_key())
        .multipart(form)
        .send()
        .await
        .unwrap();
    // The seeded catalogue: lists filter and page, gets find what lists show.
    let (_, groups) = c
        .call("list_avatar_groups", "GET", "/v3/avatars?limit=2", None)
        .await;
    assert_eq!(groups["data"].as_array().unwrap().len(), 2);
    assert_eq!(groups["has_more"], true);
    c.call("get_avatar_group", "GET", "/v3/avatars/avg_anna", None)
        .await;
    let (_, looks) = c
        .call(
            "list_avatar_looks",
            "GET",
            "/v3/avatars/looks?group_id=avg_anna",
            None,
        )
        .await;
    assert_eq!(looks["data"].as_array().unwrap().len(), 2);
    let look_id = looks["data"][0]["id"].as_str().unwrap().to_string();
    c.call(
        "get_avatar_look",
        "GET",
        &format!("/v3/avatars/looks/{look_id}"),
        None,
    )
    .await;
    let (_, voices) = c
        .call("list_voices", "GET", "/v3/voices?language=French", None)
        .await;
    assert_eq!(voices["data"][0]["voice_id"], "voice_ines");
    c.call("get_voice", "GET", "/v3/voices/voice_ines", None)
        .await;
    let (status, _) = c
        .call("get_voice", "GET", "/v3/voices/voice_nope", None)
        .await;
    assert_eq!(status, 404);
    c.call("list_brand_kits", "GET", "/v3/brand-kits", None)
        .await;
    let (_, direct) = c
        .call(
            "create_direct_upload",
            "POST",
            "/v3/assets/direct-uploads",
            Some(json!({"filename": "logo.png", "content_type": "image/png", "size_bytes": PNG.len()})),
        )
        .await;
    let direct = &direct["data"];
    let put = c
        .http
        .put(direct["upload_url"].as_str().unwrap())
        .header("content-type", "image/png")
        .body(PNG.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 200);
    let (_, completed) = c
        .call(
            "complete_asset",
            "POST",
            &format!(
                "/v3/assets/{}/complete",
                direct["asset_id"].as_str().unwrap()
            ),
            Some(json!({})),
        )
        .await;
    assert_eq!(completed["data"]["size_bytes"], PNG.len());
    let (_, asset) = c.check("upload_asset", upload).await;
    let asset_id = asset["data"]["asset_id"].as_str().unwrap().to_string();
    assert_eq!(asset["data"]["mime_type"], "image/png");
    let (_, listed) = c
        .call("list_assets", "GET", "/v3/assets?username=ada", None)
        .await;
    assert!(listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["id"] == asset_id.as_str() && a["name"] == "logo.png"));
    c.call("get_asset", "GET", &format!("/v3/assets/{asset_id}"), None)
        .await;

    let (_, created) = c
        .call(
            "create_video_agent_session",
            "POST",
            "/v3/video-agents",
            Some(
                json!({"prompt": "A demo", "files": [{"type": "asset_id", "asset_id": asset_id}]}),
            ),
        )
        .await;
    let session_id = created["data"]["session_id"].as_str().unwrap().to_string();
    c.call(
        "list_video_agent_sessions",
        "GET",
        "/v3/video-agents?limit=1",
        None,
    )
    .await;
    c.call(
        "list_video_agent_styles",
        "GET",
        "/v3/video-agents/styles?tag=cinematic",
        None,
    )
    .await;
    c.call(
        "get_video_agent_session",
        "GET",
        &format!("/v3/video-agents/{session_id}"),
        None,
    )
    .await;

    let (_, chat) = c
        .call(
            "create_video_agent_session",
            "POST",
            "/v3/video-agents",
            Some(json!({"prompt": "Chat", "mode": "chat"})),
        )
        .await;
    let chat_id = chat["data"]["session_id"].as_str().unwrap().to_string();
    c.call(
        "send_video_agent_message",
        "POST",
        &format!("/v3/video-agents/{chat_id}"),
        Some(json!({"message": "Approved"})),
    )
    .await;
    c.call(
        "get_session_resource",
        "GET",
        &format!("/v3/video-agents/{chat_id}/resources/res_storyboard"),
        None,
    )
    .await;
    c.call(
        "stop_video_agent_session",
        "POST",
        &format!("/v3/video-agents/{chat_id}/stop"),
        Some(json!({})),
    )
    .await;

    // Let the first session finish (60 simulated seconds at ×600).
    let client = sim.client().unwrap();
    let outcome = client
        .video_agents()
        .wait(&session_id, quick_wait())
        .await
        .unwrap();
    let video_id = outcome.video().unwrap().id.clone();
    c.call(
        "list_session_videos",
        "GET",
        &format!("/v3/video-agents/{session_id}/videos"),
        None,
    )
    .await;
    let (_, made) = c
        .call(
            "create_video",
            "POST",
            "/v3/videos",
            Some(json!({"type": "avatar", "avatar_id": "look_1", "script": "Hi"})),
        )
        .await;
    assert!(made["data"]["video_id"].is_string());
    let made_id = made["data"]["video_id"].as_str().unwrap();
    let (_, statuses) = c
        .call(
            "get_video_statuses",
            "GET",
            &format!("/v3/videos/statuses?video_ids={made_id},vid_nope"),
            None,
        )
        .await;
    assert_eq!(statuses["data"][1]["status"], "not_found");
    let (_, queued) = c
        .call(
            "create_video_batch",
            "POST",
            "/v3/videos/batches",
            Some(json!({"videos": [{"type": "avatar", "avatar_id": "look_1", "script": "Hi"}]})),
        )
        .await;
    let batch_id = queued["data"]["batch_id"].as_str().unwrap();
    c.call(
        "get_video_batch",
        "GET",
        &format!("/v3/videos/batches/{batch_id}?limit=1"),
        None,
    )
    .await;
    c.call("list_videos", "GET", "/v3/videos?limit=2", None)
        .await;
    let (_, video) = c
        .call("get_video", "GET", &format!("/v3/videos/{video_id}"), None)
        .await;
    assert_eq!(video["data"]["status"], "completed");
    // The finished session's event is recorded by the simulator's ticker.
    let events_client = sim.client().unwrap();
    common::eventually(Duration::from_secs(10), "an event is recorded", || async {
        !events_client
            .webhooks()
            .events()
            .await
            .unwrap()
            .items
            .is_empty()
    })
    .await;
    let (_, events) = c
        .call("list_webhook_events", "GET", "/v3/webhooks/events", None)
        .await;
    assert!(!events["data"].as_array().unwrap().is_empty());
    let (_, me) = c
        .call("get_current_user", "GET", "/v3/users/me", None)
        .await;
    assert!(me["data"]["username"].is_string());
    c.call(
        "delete_video",
        "DELETE",
        &format!("/v3/videos/{video_id}"),
        None,
    )
    .await;
    let (status, again) = c
        .call(
            "delete_video",
            "DELETE",
            &format!("/v3/videos/{video_id}"),
            None,
        )
        .await;
    assert_eq!(
        (status, again["error"]["code"].as_str()),
        (404, Some("not_found"))
    );
    // A direct-upload batch: started, one file's bytes delivered, completed, then read back
    // through the batch, the bulk statuses and search.
    let (_, started) = c
        .call(
            "create_direct_upload_batch",
            "POST",
            "/v3/assets/direct-uploads/batches",
            Some(json!({"files": [
                {"filename": "a.png", "content_type": "image/png", "size_bytes": PNG.len()},
                {"filename": "b.png", "content_type": "image/png", "size_bytes": 3},
            ]})),
        )
        .await;
    let upload_batch = started["data"]["batch_id"].as_str().unwrap().to_string();
    let put = c
        .http
        .put(started["data"]["items"][0]["upload_url"].as_str().unwrap())
        .body(PNG)
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 200);
    c.call(
        "complete_asset_batch",
        "POST",
        "/v3/assets/complete/batches",
        Some(json!({"batch_id": upload_batch})),
    )
    .await;
    let (_, read) = c
        .call(
            "get_asset_batch",
            "GET",
            &format!("/v3/assets/batches/{upload_batch}"),
            None,
        )
        .await;
    assert_eq!(
        read["data"]["counts_by_status"],
        json!({"completed": 1, "failed": 1})
    );
    c.call(
        "get_asset_statuses",
        "GET",
        &format!("/v3/assets/statuses?batch_ids={upload_batch}&asset_ids={asset_id}"),
        None,
    )
    .await;
    c.call(
        "search_assets",
        "GET",
        "/v3/assets/search?query=a.png&type=image&scope=personal",
        None,
    )
    .await;
    c.call(
        "delete_asset",
        "DELETE",
        &format!("/v3/assets/{asset_id}"),
        None,
    )
    .await;
    let (status, _) = c
        .call("get_asset", "GET", &format!("/v3/assets/{asset_id}"), None)
        .await;
    assert_eq!(status, 404, "a deleted asset is gone");
    c.call(
        "delete_webhook_endpoint",
        "DELETE",
        &format!("/v3/webhooks/endpoints/{endpoint_id}"),
        None,
    )
    .await;

    // Errors validate too.
    let (status, bad) = c
        .call(
            "create_video_agent_session",
            "POST",
            "/v3/video-agents",
            Some(json!({"prompt": ""})),
        )
        .await;
    assert_eq!(
        (status, bad["error"]["param"].as_str()),
        (400, Some("prompt"))
    );
    let (status, _) = c
        .call(
            "create_video_agent_session",
            "POST",
            "/v3/video-agents",
            Some(
                json!({"prompt": "p", "files": [{"type": "asset_id", "asset_id": "ast_missing"}]}),
            ),
        )
        .await;
    assert_eq!(status, 400);

    walk_families(&mut c).await;
    walk_described_kinds(&mut c).await;

    // Every operation the simulator models with state was walked through above; the others
    // answer with their examples (`every_operation_of_the_spec_is_served`).
    let modelled: BTreeSet<String> = heygen_api::simulator::modelled_operations()
        .into_iter()
        .map(str::to_string)
        .collect();
    let missing: Vec<_> = modelled.difference(&c.covered).collect();
    assert!(
        missing.is_empty(),
        "operations the simulator was not checked on: {missing:?}"
    );
    sim.shutdown().await;
}

/// The kinds of job the simulator makes from their description alone (none in this crate's
/// spec; a kind added to a copy of it in `tests/suite/spec_edit.rs`): each created with its example
/// body, then fetched until it ends, then asked about in bulk if it can be.
async fn walk_described_kinds(c: &mut Checker<'_>) {
    let spec = Spec::get().unwrap();
    for kind in heygen_api::simulator::described_kinds() {
        let create = heygen_api::operations::find(kind.create_operation()).unwrap();
        let body = spec
            .operation(create.id)
            .and_then(|o| o.request_body.as_ref()?.as_item())
            .and_then(|b| b.content.get("application/json")?.example.clone());
        let (status, created) = c.call(create.id, "POST", create.path, body.clone()).await;
        assert_eq!(status, 200, "{}: {created}", create.id);
        let id = kind.created_ids(&created["data"]).remove(0);
        let get = heygen_api::operations::find(kind.get_operation()).unwrap();
        let path = get
            .path
            .replace(&format!("{{{}}}", get.path_params[0]), &id);
        // It starts running, and ends with a status of its own, its files named.
        let (_, first) = c.call(get.id, "GET", &path, None).await;
        let running = first["data"]["status"].clone();
        let mut record = first["data"].clone();
        for _ in 0..250 {
            if record["status"] != running {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            let (status, answer) = c.call(get.id, "GET", &path, None).await;
            assert_eq!(status, 200, "{}: {answer}", get.id);
            record = answer["data"].clone();
        }
        assert_ne!(record["status"], running, "{kind} never ended: {record}");
        assert_eq!(
            kind.result_urls(&record).is_empty(),
            kind.results().is_empty()
        );
        let unknown = get
            .path
            .replace(&format!("{{{}}}", get.path_params[0]), "nope");
        let (status, _) = c.call(get.id, "GET", &unknown, None).await;
        assert_eq!(status, 404);
    }
}

/// The families built in, each operation called in an order that makes sense (create, wait,
/// read, change, delete), every answer checked against the spec.
async fn walk_families(c: &mut Checker<'_>) {
    let video = json!({"type": "url", "url": "https://example.com/talk.mp4"});
    let audio = json!({"type": "url", "url": "https://example.com/voice.mp3"});
    // Past any render: the simulator's clock moves on at once, with no sleep deciding it.
    let render = std::time::Duration::from_secs(120);
    c.call(
        "search_sounds",
        "GET",
        "/v3/audio/sounds?query=calm%20piano",
        None,
    )
    .await;
    c.call("list_brand_glossaries", "GET", "/v3/brand-glossaries", None)
        .await;
    #[cfg(feature = "translations")]
    {
        let (_, languages) = c
            .call(
                "list_translation_languages",
                "GET",
                "/v3/video-translations/languages",
                None,
            )
            .await;
        assert!(languages["data"]["languages"].as_array().unwrap().len() > 2);
        let (status, created) = c
            .call(
                "create_video_translation",
                "POST",
                "/v3/video-translations",
                Some(json!({"video": video, "output_languages": ["Spanish", "French"]})),
            )
            .await;
        assert_eq!(status, 200, "{created}");
        let ids = created["data"]["video_translation_ids"]
            .as_array()
            .unwrap()
            .clone();
        assert_eq!(ids.len(), 2, "one translation per language");
        let id = ids[0].as_str().unwrap();
        let (status, _) = c
            .call(
                "create_video_translation",
                "POST",
                "/v3/video-translations",
                Some(json!({"video": video, "output_languages": ["Klingon"]})),
            )
            .await;
        assert_eq!(status, 400, "an unknown language is refused");
        c.call(
            "get_video_translation_statuses",
            "GET",
            &format!("/v3/video-translations/statuses?video_translation_ids={id},vt_missing"),
            None,
        )
        .await;
        c.sim.advance(render);
        let (_, translation) = c
            .call(
                "get_video_translation",
                "GET",
                &format!("/v3/video-translations/{id}"),
                None,
            )
            .await;
        assert_eq!(translation["data"]["status"], "completed");
        assert_eq!(translation["data"]["output_language"], "Spanish");
        c.call(
            "list_video_translations",
            "GET",
            "/v3/video-translations",
            None,
        )
        .await;
        let (_, renamed) = c
            .call(
                "update_video_translation",
                "PATCH",
                &format!("/v3/video-translations/{id}"),
                Some(json!({"title": "Renamed"})),
            )
            .await;
        assert_eq!(renamed["data"]["title"], "Renamed");
        let (_, batch) = c
            .call(
                "create_video_translation_batch",
                "POST",
                "/v3/video-translations/batches",
                Some(json!({"video_translations": [{"video": video, "output_languages": ["German"]}]})),
            )
            .await;
        let batch_id = batch["data"]["batch_id"].as_str().unwrap();
        c.call(
            "get_video_translation_batch",
            "GET",
            &format!("/v3/video-translations/batches/{batch_id}"),
            None,
        )
        .await;
        let (_, proofreads) = c
            .call(
                "create_proofread",
                "POST",
                "/v3/video-translations/proofreads",
                Some(json!({"video": video, "output_languages": ["Italian"], "title": "Review"})),
            )
            .await;
        let proofread = proofreads["data"]["proofread_ids"][0].as_str().unwrap();
        c.sim.advance(render);
        c.call(
            "get_proofread",
            "GET",
            &format!("/v3/video-translations/proofreads/{proofread}"),
            None,
        )
        .await;
        let (_, srt) = c
            .call(
                "get_proofread_srt",
                "GET",
                &format!("/v3/video-translations/proofreads/{proofread}/srt"),
                None,
            )
            .await;
        assert!(srt["data"]["srt_url"].as_str().unwrap().ends_with(".srt"));
        c.call(
            "replace_proofread_srt",
            "PUT",
            &format!("/v3/video-translations/proofreads/{proofread}/srt"),
            Some(json!({"srt": {"type": "url", "url": "https://example.com/fixed.srt"}})),
        )
        .await;
        let (_, generated) = c
            .call(
                "generate_from_proofread",
                "POST",
                &format!("/v3/video-translations/proofreads/{proofread}/generate"),
                Some(json!({})),
            )
            .await;
        assert!(generated["data"]["video_translation_id"].is_string());
        c.call(
            "delete_video_translation",
            "DELETE",
            &format!("/v3/video-translations/{id}"),
            None,
        )
        .await;
        let (status, _) = c
            .call(
                "get_video_translation",
                "GET",
                &format!("/v3/video-translations/{id}"),
                None,
            )
            .await;
        assert_eq!(status, 404, "a deleted translation is gone");
    }
    #[cfg(feature = "lipsync")]
    {
        let (_, created) = c
            .call(
                "create_lipsync",
                "POST",
                "/v3/lipsyncs",
                Some(json!({"video": video, "audio": audio})),
            )
            .await;
        let id = created["data"]["lipsync_id"].as_str().unwrap().to_string();
        c.call(
            "get_lipsync_statuses",
            "GET",
            &format!("/v3/lipsyncs/statuses?lipsync_ids={id}"),
            None,
        )
        .await;
        c.sim.advance(render);
        let (_, lipsync) = c
            .call("get_lipsync", "GET", &format!("/v3/lipsyncs/{id}"), None)
            .await;
        assert_eq!(lipsync["data"]["status"], "completed");
        c.call("list_lipsyncs", "GET", "/v3/lipsyncs?limit=5", None)
            .await;
        c.call(
            "update_lipsync",
            "PATCH",
            &format!("/v3/lipsyncs/{id}"),
            Some(json!({"title": "Dubbed"})),
        )
        .await;
        let (_, batch) = c
            .call(
                "create_lipsync_batch",
                "POST",
                "/v3/lipsyncs/batches",
                Some(json!({"lipsyncs": [{"video": video, "audio": audio}, {"video": video, "audio": audio}]})),
            )
            .await;
        assert_eq!(batch["data"]["total_items"], 2);
        let batch_id = batch["data"]["batch_id"].as_str().unwrap();
        c.call(
            "get_lipsync_batch",
            "GET",
            &format!("/v3/lipsyncs/batches/{batch_id}"),
            None,
        )
        .await;
        c.call(
            "delete_lipsync",
            "DELETE",
            &format!("/v3/lipsyncs/{id}"),
            None,
        )
        .await;
    }
    #[cfg(feature = "clipping")]
    {
        let (_, created) = c
            .call(
                "create_clipping_job",
                "POST",
                "/v3/ai-clipping",
                Some(json!({"video": video, "output_settings": {"aspect_ratio": "square"}})),
            )
            .await;
        let id = created["data"]["id"].as_str().unwrap().to_string();
        c.sim.advance(render);
        let (_, job) = c
            .call(
                "get_clipping_job",
                "GET",
                &format!("/v3/ai-clipping/{id}"),
                None,
            )
            .await;
        assert_eq!(job["data"]["status"], "completed");
        assert_eq!(
            job["data"]["clips"].as_array().unwrap().len(),
            2,
            "a job yields clips"
        );
        c.call("list_clipping_jobs", "GET", "/v3/ai-clipping", None)
            .await;
        c.call(
            "delete_clipping_job",
            "DELETE",
            &format!("/v3/ai-clipping/{id}"),
            None,
        )
        .await;
    }
    #[cfg(feature = "background-removal")]
    {
        let body = json!({"video": video, "request_id": "req-1"});
        let (_, first) = c
            .call(
                "create_background_removal",
                "POST",
                "/v3/background-removals",
                Some(body.clone()),
            )
            .await;
        let (_, again) = c
            .call(
                "create_background_removal",
                "POST",
                "/v3/background-removals",
                Some(body),
            )
            .await;
        assert_eq!(
            first["data"]["id"], again["data"]["id"],
            "the same request_id is one job"
        );
        let id = first["data"]["id"].as_str().unwrap().to_string();
        c.call(
            "get_background_removal",
            "GET",
            &format!("/v3/background-removals/{id}"),
            None,
        )
        .await;
        c.call(
            "list_background_removals",
            "GET",
            "/v3/background-removals",
            None,
        )
        .await;
        c.call(
            "delete_background_removal",
            "DELETE",
            &format!("/v3/background-removals/{id}"),
            None,
        )
        .await;
    }
    #[cfg(feature = "templates")]
    {
        let (_, templates) = c.call("list_templates", "GET", "/v3/templates", None).await;
        let id = templates["data"][0]["id"].as_str().unwrap().to_string();
        let (_, template) = c
            .call("get_template", "GET", &format!("/v3/templates/{id}"), None)
            .await;
        let variables: serde_json::Map<String, Value> = template["data"]["variables"]
            .as_object()
            .unwrap()
            .keys()
            .map(|k| (k.clone(), json!("Ada")))
            .collect();
        let (status, _) = c
            .call(
                "generate_from_template",
                "POST",
                &format!("/v3/templates/{id}"),
                Some(json!({"variables": {}})),
            )
            .await;
        assert_eq!(status, 400, "a variable left out is refused");
        let (status, video) = c
            .call(
                "generate_from_template",
                "POST",
                &format!("/v3/templates/{id}"),
                Some(json!({"variables": variables})),
            )
            .await;
        assert_eq!(status, 200);
        let video_id = video["data"]["id"].as_str().unwrap();
        c.call("get_video", "GET", &format!("/v3/videos/{video_id}"), None)
            .await;
    }
    #[cfg(feature = "voices")]
    {
        let (_, designed) = c
            .call(
                "design_voice",
                "POST",
                "/v3/voices",
                Some(json!({"prompt": "A warm, low narrator"})),
            )
            .await;
        assert_eq!(designed["data"]["voices"].as_array().unwrap().len(), 2);
        let (_, cloned) = c
            .call(
                "clone_voice",
                "POST",
                "/v3/voices/clone",
                Some(json!({"audio": audio, "voice_name": "Mine"})),
            )
            .await;
        let id = cloned["data"]["voice_clone_id"]
            .as_str()
            .unwrap()
            .to_string();
        c.sim.advance(render);
        let (_, voice) = c
            .call("get_voice", "GET", &format!("/v3/voices/{id}"), None)
            .await;
        assert_eq!(voice["data"]["status"], "complete");
        let (_, speech) = c
            .call(
                "create_speech",
                "POST",
                "/v3/voices/speech",
                Some(json!({"text": "Hello there", "voice_id": id})),
            )
            .await;
        assert_eq!(
            speech["data"]["word_timestamps"].as_array().unwrap().len(),
            2
        );
        c.call("delete_voice", "DELETE", &format!("/v3/voices/{id}"), None)
            .await;
    }
    #[cfg(feature = "avatars")]
    {
        let (_, created) = c
            .call(
                "create_avatar",
                "POST",
                "/v3/avatars",
                Some(json!({"type": "digital_twin", "name": "Me", "file": video})),
            )
            .await;
        let group = created["data"]["avatar_group"]["id"]
            .as_str()
            .unwrap()
            .to_string();
        let look = created["data"]["avatar_item"]["id"]
            .as_str()
            .unwrap()
            .to_string();
        c.sim.advance(render);
        let (_, waiting) = c
            .call(
                "get_avatar_group",
                "GET",
                &format!("/v3/avatars/{group}"),
                None,
            )
            .await;
        assert_eq!(
            waiting["data"]["status"], "pending_consent",
            "a twin waits for consent"
        );
        c.call(
            "give_avatar_consent",
            "POST",
            &format!("/v3/avatars/{group}/consent"),
            Some(json!({"consent_video": video})),
        )
        .await;
        c.sim.advance(render);
        let (_, trained) = c
            .call(
                "get_avatar_group",
                "GET",
                &format!("/v3/avatars/{group}"),
                None,
            )
            .await;
        assert_eq!(trained["data"]["status"], "completed");
        c.call(
            "update_avatar_look",
            "PATCH",
            &format!("/v3/avatars/looks/{look}"),
            Some(json!({"name": "Me, smiling"})),
        )
        .await;
        c.call(
            "delete_avatar_look",
            "DELETE",
            &format!("/v3/avatars/looks/{look}"),
            None,
        )
        .await;
        let (_, other) = c
            .call(
                "create_avatar",
                "POST",
                "/v3/avatars",
                Some(json!({"type": "prompt", "name": "Guide", "prompt": "A guide"})),
            )
            .await;
        let other = other["data"]["avatar_group"]["id"]
            .as_str()
            .unwrap()
            .to_string();
        c.call(
            "delete_avatar_group",
            "DELETE",
            &format!("/v3/avatars/{other}"),
            None,
        )
        .await;
    }
    let _ = (&video, &audio, render);
}

#[tokio::test]
async fn authentication_is_required() {
    let sim = fast().api_key("right-key").start().await.unwrap();
    let wrong = heygen_api::Client::builder()
        .api_key("wrong-key")
        .base_url(sim.base_url())
        .build()
        .unwrap();
    let error = wrong.videos().list().send().await.unwrap_err();
    assert_eq!(error.status().map(|s| s.as_u16()), Some(401));
    assert_eq!(error.api_error().unwrap().code, ErrorCode::Unauthorized);
    assert!(error.request_id().is_some());
    let bearer = heygen_api::Client::builder()
        .bearer_token("right-key")
        .base_url(sim.base_url())
        .build()
        .unwrap();
    assert!(bearer.videos().list().send().await.is_ok());
    let missing = reqwest::get(format!("{}/v3/videos", sim.base_url()))
        .await
        .unwrap();
    assert_eq!(missing.status(), 401);
}

#[tokio::test]
async fn chat_sessions_pause_for_review_until_a_message_arrives() {
    let sim = fast().start().await.unwrap();
    let client = sim.client().unwrap();
    let agents = client.video_agents();
    let created = agents
        .create(CreateVideoAgentRequest::new("Chat demo").mode(AgentMode::Chat))
        .await
        .unwrap();
    let outcome = agents
        .wait(&created.session_id, quick_wait())
        .await
        .unwrap();
    let JobOutcome::NeedsInput(AgentRecord::Session(session)) = &outcome else {
        panic!("{outcome}")
    };
    assert_eq!(session.status, SessionStatus::Reviewing);
    assert!(outcome.messages()[0].content.contains("storyboard"));
    agents
        .send_message(&created.session_id, "Looks great, render it")
        .await
        .unwrap();
    let outcome = agents
        .wait(&created.session_id, quick_wait())
        .await
        .unwrap();
    assert!(outcome.is_completed(), "{outcome}");
    // Generate-mode sessions refuse messages.
    let plain = agents
        .create(CreateVideoAgentRequest::new("Plain"))
        .await
        .unwrap();
    let error = agents
        .send_message(&plain.session_id, "hi")
        .await
        .unwrap_err();
    assert_eq!(error.api_error().unwrap().code, ErrorCode::Conflict);
}

#[tokio::test]
async fn prompts_can_make_sessions_and_videos_fail_and_stop_works() {
    let sim = fast().start().await.unwrap();
    let client = sim.client().unwrap();
    let agents = client.video_agents();
    let outcome = agents
        .create_and_wait(
            CreateVideoAgentRequest::new("Demo [fail:render]"),
            quick_wait(),
        )
        .await
        .unwrap();
    let JobOutcome::Failed(AgentRecord::Video { video, .. }) = &outcome else {
        panic!("{outcome}")
    };
    assert_eq!(video.failure_code.as_deref(), Some("rendering_failed"));
    assert!(video.failure_message.is_some());
    let outcome = agents
        .create_and_wait(
            CreateVideoAgentRequest::new("Demo [fail:session]"),
            quick_wait(),
        )
        .await
        .unwrap();
    assert!(
        matches!(outcome, JobOutcome::Failed(AgentRecord::Session(_))),
        "{outcome}"
    );
    let chat = agents
        .create(CreateVideoAgentRequest::new("Stop me").mode(AgentMode::Chat))
        .await
        .unwrap();
    agents.stop(&chat.session_id).await.unwrap();
    let outcome = agents.wait(&chat.session_id, quick_wait()).await.unwrap();
    assert!(outcome.to_string().contains("stopped"), "{outcome}");
}

#[tokio::test]
async fn lists_paginate_with_real_tokens_and_uploads_are_usable() {
    let sim = fast().start().await.unwrap();
    let client = sim.client().unwrap();
    for i in 0..7 {
        client
            .video_agents()
            .create(CreateVideoAgentRequest::new(format!("Video {i}")))
            .await
            .unwrap();
    }
    let page = client.video_agents().list().limit(3).send().await.unwrap();
    assert_eq!(page.items.len(), 3);
    assert!(page.has_more);
    use futures_util::StreamExt as _;
    let all: Vec<_> = client
        .video_agents()
        .list()
        .limit(3)
        .stream()
        .map(|s| s.unwrap().title)
        .collect()
        .await;
    assert_eq!(all.len(), 7);
    assert_eq!(all[0].as_deref(), Some("Video 6"), "newest first");
    let bad = client
        .video_agents()
        .list()
        .token("forged")
        .send()
        .await
        .unwrap_err();
    assert_eq!(bad.api_error().unwrap().param.as_deref(), Some("token"));

    let asset = client
        .assets()
        .upload_bytes("logo.png", PNG.to_vec())
        .await
        .unwrap();
    let fetched = reqwest::get(&asset.url)
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(&fetched[..], PNG);
    let ok = client
        .video_agents()
        .create(
            CreateVideoAgentRequest::new("With logo").file(FileInput::asset_id(&asset.asset_id)),
        )
        .await;
    assert!(ok.is_ok());
    // A type HeyGen cannot detect is refused before sending.
    let text = client
        .assets()
        .upload_bytes("notes.txt", b"plain text".to_vec())
        .await
        .unwrap_err();
    assert_eq!(
        text.invalid_request().map(|i| i.field),
        Some("file"),
        "{text}"
    );
}

#[tokio::test]
async fn injected_faults_are_survived_by_the_client() {
    // Every 3rd request is rate limited, sessions 404 once their video exists, statuses are
    // outside the spec's enums: the wait still completes.
    let sim = fast()
        .rate_limit_every(3)
        .session_404_after_video(true)
        .unknown_statuses(true)
        .start()
        .await
        .unwrap();
    let client = heygen_api::Client::builder()
        .api_key(sim.api_key())
        .base_url(sim.base_url())
        .retry_policy(heygen_api::RetryPolicy::default().max_backoff(Duration::from_millis(50)))
        .build()
        .unwrap();
    let outcome = client
        .video_agents()
        .create_and_wait(CreateVideoAgentRequest::new("Resilient"), quick_wait())
        .await
        .unwrap();
    assert!(outcome.is_completed(), "{outcome}");
    // The 429s come before the handler acts, so this shows the wait survives them; that a
    // retried create is not made twice is shown in `tests/suite/faults.rs` (500s after effect).
    assert_eq!(sim.session_count(), 1, "one create, one session");

    let broken = fast().error_rate(1.0).start().await.unwrap();
    let client = heygen_api::Client::builder()
        .api_key(broken.api_key())
        .base_url(broken.base_url())
        .retry_policy(heygen_api::RetryPolicy::default().max_backoff(Duration::from_millis(5)))
        .build()
        .unwrap();
    let error = client.videos().list().send().await.unwrap_err();
    assert_eq!(error.api_error().unwrap().code, ErrorCode::InternalError);
    assert_eq!(broken.request_count(), 3, "one attempt and two retries");
}

#[tokio::test]
async fn the_same_seed_gives_the_same_run() {
    let mut ids = Vec::new();
    // The second run's session moves on further before the next request (as on a slower
    // machine): the secret is the same all the same.
    for minutes in [0, 30] {
        let sim = fast().seed(42).start().await.unwrap();
        let client = sim.client().unwrap();
        let s = client
            .video_agents()
            .create(CreateVideoAgentRequest::new("Seeded"))
            .await
            .unwrap();
        sim.advance(Duration::from_secs(minutes * 60));
        client.video_agents().get(&s.session_id).await.unwrap();
        let e = client
            .webhooks()
            .create_endpoint("http://127.0.0.1:9/h")
            .send()
            .await
            .unwrap();
        ids.push((s.session_id, e.secret));
        sim.shutdown().await;
    }
    assert_eq!(ids[0], ids[1]);
}

#[derive(Clone, Default)]
struct Inbox {
    received: Arc<Mutex<Vec<(HeaderMap, Bytes)>>>,
    refuse_first: Arc<Mutex<u32>>,
}

async fn inbox(State(inbox): State<Inbox>, headers: HeaderMap, body: Bytes) -> StatusCode {
    inbox.received.lock().unwrap().push((headers, body));
    let mut refuse = inbox.refuse_first.lock().unwrap();
    if *refuse > 0 {
        *refuse -= 1;
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    StatusCode::OK
}

async fn receiver(refuse_first: u32) -> (String, Inbox) {
    let state = Inbox {
        refuse_first: Arc::new(Mutex::new(refuse_first)),
        ..Inbox::default()
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let app = Router::new()
        .route("/hook", post(inbox))
        .with_state(state.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, state)
}

#[tokio::test]
async fn webhooks_are_delivered_signed_and_retried() {
    let sim = fast().start().await.unwrap();
    let client = sim.client().unwrap();
    let (endpoint_url, endpoint_inbox) = receiver(2).await;
    let (callback_url, callback_inbox) = receiver(0).await;
    let endpoint = client
        .webhooks()
        .create_endpoint(&endpoint_url)
        .events([EventType::VideoAgentSuccess])
        .send()
        .await
        .unwrap();
    let rotated = client
        .webhooks()
        .rotate_secret(&endpoint.endpoint_id)
        .await
        .unwrap();
    let request = CreateVideoAgentRequest::new("Hooked")
        .callback_url(&callback_url)
        .callback_id("cb-7");
    let outcome = client
        .video_agents()
        .create_and_wait(request, quick_wait())
        .await
        .unwrap();
    let video_id = outcome.video().unwrap().id.clone();

    common::eventually(Duration::from_secs(10), "three deliveries", || async {
        endpoint_inbox.received.lock().unwrap().len() >= 3
    })
    .await;
    let deliveries = endpoint_inbox.received.lock().unwrap().clone();
    assert_eq!(deliveries.len(), 3, "two refusals, then the accepted retry");
    // Each retry is the same signed body: remembering none, every one verifies.
    let verifier = Verifier::new(&rotated.secret).remember(0);
    let ids: BTreeSet<_> = deliveries
        .iter()
        .map(|(headers, body)| {
            let delivery = verifier
                .verify(headers, body)
                .expect("signed with the rotated secret");
            let WebhookEvent::VideoAgentSuccess(event) = &delivery.event else {
                panic!("{:?}", delivery.event)
            };
            assert_eq!(event.video_id(), Some(video_id.as_str()));
            assert_eq!(event.callback_id(), Some("cb-7"));
            delivery.event_id.unwrap()
        })
        .collect();
    assert_eq!(ids.len(), 1, "retries repeat the event id");
    assert!(Verifier::new(endpoint.secret.unwrap())
        .verify(&deliveries[0].0, &deliveries[0].1)
        .is_err());

    let callbacks = callback_inbox.received.lock().unwrap().clone();
    assert_eq!(callbacks.len(), 1);
    assert!(
        callbacks[0].0.get(webhook::SIGNATURE_HEADER).is_none(),
        "per-request callbacks are unsigned"
    );
    let event = webhook::parse_unsigned_callback(&callbacks[0].1).unwrap();
    assert_eq!(event.payload().unwrap().callback_id(), Some("cb-7"));
}

#[tokio::test]
async fn a_retried_create_with_a_key_is_one_logical_create() {
    let sim = fast().start().await.unwrap();
    let client = sim.client().unwrap();
    let options = || heygen_api::RequestOptions::new().idempotency_key("order-1");
    let a = client
        .video_agents()
        .create(CreateVideoAgentRequest::new("Once"))
        .options(options())
        .await
        .unwrap();
    let b = client
        .video_agents()
        .create(CreateVideoAgentRequest::new("Once"))
        .options(options())
        .await
        .unwrap();
    assert_eq!(a.session_id, b.session_id);
    assert_eq!(sim.session_count(), 1);
}

/// Every operation of the spec has a route: none falls through to "no such endpoint". Each
/// answer, success or error, validates against the spec; operations the simulator does not
/// model answer with their documented example, marked as such.
#[tokio::test]
async fn every_operation_of_the_spec_is_served() {
    let sim = fast().start().await.unwrap();
    let spec = Spec::get().unwrap();
    let http = reqwest::Client::new();
    let ops = heygen_api::operations::all();
    assert_eq!(ops.len(), spec.operations().len());
    let mut examples = Vec::new();
    // Refused for parameters this call leaves out (a required query parameter).
    let mut refused = Vec::new();
    for op in ops {
        let mut path = op.path.to_string();
        for name in op.path_params {
            path = path.replace(&format!("{{{name}}}"), "p_missing");
        }
        let mut request = http
            .request(
                op.method.to_uppercase().parse().unwrap(),
                format!("{}{path}", sim.base_url()),
            )
            .header("x-api-key", sim.api_key());
        let body = spec
            .operation(op.id)
            .and_then(|o| o.request_body.as_ref()?.as_item())
            .and_then(|b| b.content.get("application/json")?.example.clone());
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let example = response
            .headers()
            .get(heygen_api::simulator::EXAMPLE_HEADER)
            .is_some();
        let value: Value = response.json().await.unwrap();
        assert_ne!(
            value["error"]["message"], "No such endpoint.",
            "{} ({} {}) has no route",
            op.id, op.method, op.path
        );
        spec.validate_response(op.id, status, &value)
            .unwrap_or_else(|e| panic!("{} {status} {value}: {e}", op.id));
        if example {
            assert_eq!(
                Some((status, value)),
                spec.example_response(op.id),
                "{}: an example answer is the spec's example",
                op.id
            );
            examples.push(op.id);
        }
        if status == 400 {
            refused.push(op.id);
        }
    }
    // Only operations the simulator does not model answer by example (a list whose required
    // parameters this call leaves out is refused before, as it should be).
    let modelled = heygen_api::simulator::modelled_operations();
    for op in ops {
        assert!(
            !(examples.contains(&op.id) && modelled.contains(&op.id)),
            "{} is modelled but answered by example",
            op.id
        );
    }
    // An operation added to the spec alone answers by example: legitimate, and what makes a
    // spec edit enough. Which ones do is said, not guessed: none in this crate's spec, and
    // those named in `HEYGEN_ANSWERED_BY_EXAMPLE` (`tests/suite/spec_edit.rs` adds one).
    let expected: BTreeSet<String> = std::env::var("HEYGEN_ANSWERED_BY_EXAMPLE")
        .unwrap_or_default()
        .split(',')
        .filter(|id| !id.is_empty())
        .map(str::to_string)
        .collect();
    let answered: BTreeSet<String> = examples.iter().map(|id| id.to_string()).collect();
    assert_eq!(answered, expected, "the operations answered by example");
    for op in ops {
        assert!(
            modelled.contains(&op.id) || examples.contains(&op.id) || refused.contains(&op.id),
            "{} is neither modelled nor answered by example",
            op.id
        );
    }
    // A path outside the spec does fall through.
    let missing = http
        .get(format!("{}/v3/nothing-here", sim.base_url()))
        .header("x-api-key", sim.api_key())
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    sim.shutdown().await;
}

/// The simulator refuses what the spec forbids in parameters, as HeyGen does, before any
/// handler runs.
#[tokio::test]
async fn parameters_outside_the_spec_are_refused() {
    let sim = fast().start().await.unwrap();
    let http = reqwest::Client::new();
    let url = |path: &str| format!("{}{path}", sim.base_url());
    let bad_key = http
        .post(url("/v3/video-agents"))
        .header("x-api-key", sim.api_key())
        .header("idempotency-key", "has space")
        .json(&json!({"prompt": "p"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad_key.status(), 400);
    let body: Value = bad_key.json().await.unwrap();
    assert_eq!(body["error"]["param"], "Idempotency-Key");
    // Bytes that are not visible ASCII are not taken for a missing key.
    let not_ascii = http
        .post(url("/v3/video-agents"))
        .header("x-api-key", sim.api_key())
        .header(
            "idempotency-key",
            reqwest::header::HeaderValue::from_bytes("é".as_bytes()).unwrap(),
        )
        .json(&json!({"prompt": "p"}))
        .send()
        .await
        .unwrap();
    assert_eq!(not_ascii.status(), 400);
    let body: Value = not_ascii.json().await.unwrap();
    assert_eq!(body["error"]["param"], "Idempotency-Key");
    assert_eq!(sim.session_count(), 0, "nothing was created");
    for query in ["limit=0", "limit=101", "limit=ten"] {
        let refused = http
            .get(url(&format!("/v3/videos?{query}")))
            .header("x-api-key", sim.api_key())
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), 400, "{query}");
        let body: Value = refused.json().await.unwrap();
        assert_eq!(body["error"]["param"], "limit", "{query}");
    }
    let fine = http
        .post(url("/v3/video-agents"))
        .header("x-api-key", sim.api_key())
        .header("idempotency-key", "order-42:a.b_c")
        .json(&json!({"prompt": "p"}))
        .send()
        .await
        .unwrap();
    assert_eq!(fine.status(), 200);
    sim.shutdown().await;
}

#[tokio::test]
async fn videos_made_directly_render_fail_on_request_and_replay_their_key() {
    let sim = fast().start().await.unwrap();
    let client = sim.client().unwrap();
    let outcome = client
        .videos()
        .create_and_wait(
            heygen_api::CreateVideoRequest::avatar("look_1").script("Welcome aboard."),
            quick_wait(),
        )
        .await
        .unwrap();
    let video = outcome.record().unwrap().clone();
    assert!(outcome.is_completed(), "{outcome}");
    assert!(video.video_url.is_some());
    assert!(video.title.as_deref() == Some("Welcome aboard."));

    let failed = client
        .videos()
        .create_and_wait(
            heygen_api::CreateVideoRequest::image(FileInput::url("https://example.com/a.png"))
                .script("x [fail:render]"),
            quick_wait(),
        )
        .await
        .unwrap();
    assert!(matches!(failed, JobOutcome::Failed(_)), "{failed}");

    // The same key replays the first create instead of rendering twice.
    let options = || heygen_api::RequestOptions::new().idempotency_key("video-once");
    let request = || {
        heygen_api::CreateVideoRequest::cinematic_avatar("A chase", ["look_1", "look_2"])
            .duration(8)
    };
    let a = client
        .videos()
        .create(request())
        .options(options())
        .await
        .unwrap();
    let b = client
        .videos()
        .create(request())
        .options(options())
        .await
        .unwrap();
    assert_eq!(a.video_id, b.video_id);
    let listed = client.videos().list().limit(100).await.unwrap();
    assert_eq!(listed.items.len(), 3, "{:?}", listed.items);

    // What HeyGen refuses, the simulator refuses: a raw body that skips the client's checks.
    let raw = reqwest::Client::new()
        .post(format!("{}/v3/videos", sim.base_url()))
        .header("x-api-key", sim.api_key())
        .json(&json!({"type": "avatar", "avatar_id": "look_1", "script": "a", "audio_url": "https://e.com/a.mp3"}))
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 400);
    let body: Value = raw.json().await.unwrap();
    assert_eq!(body["error"]["param"], "script");
    sim.shutdown().await;
}

/// HeyGen replays an `Idempotency-Key`'s answer for 24 hours; after that the key is a new
/// request. The simulator forgets answers as their window passes (so a long campaign does not
/// hold every answer it ever gave), and not before.
#[tokio::test]
async fn an_idempotency_key_replays_for_24_hours_then_is_a_new_request() {
    let sim = fast().start().await.unwrap();
    let client = sim.client().unwrap();
    let create = |key: &'static str| {
        let client = client.clone();
        async move {
            client
                .videos()
                .create(heygen_api::CreateVideoRequest::cinematic_avatar(
                    "A chase",
                    ["look_1", "look_2"],
                ))
                .options(heygen_api::RequestOptions::new().idempotency_key(key))
                .await
                .unwrap()
                .video_id
        }
    };
    let first = create("campaign-1").await;
    sim.advance(Duration::from_secs(23 * 3600));
    let later = create("later").await;
    assert_eq!(
        create("campaign-1").await,
        first,
        "replayed within 24 hours"
    );
    sim.advance(Duration::from_secs(3600 + 1));
    let again = create("campaign-1").await;
    assert_ne!(again, first, "a new request after 24 hours");
    // The key stored an hour later still has its own window, and the new answer its own.
    assert_eq!(create("later").await, later);
    assert_eq!(create("campaign-1").await, again);
    assert_eq!(sim.video_count(), 3);
    sim.shutdown().await;
}

#[tokio::test]
async fn bulk_statuses_go_100_ids_a_request_and_report_unknown_ids() {
    let sim = fast().start().await.unwrap();
    let client = sim.client().unwrap();
    let mut ids = Vec::new();
    for script in ["One", "Two", "Three [fail:render]"] {
        let made = client
            .videos()
            .create(heygen_api::CreateVideoRequest::avatar("look_1").script(script))
            .await
            .unwrap();
        ids.push(made.video_id);
    }
    let known = ids.clone();
    ids.extend((0..247).map(|i| format!("vid_unknown_{i}")));
    let before = sim.request_count();
    let statuses = client.videos().statuses(ids).await.unwrap();
    assert_eq!(statuses.requests, 3);
    assert_eq!(sim.request_count() - before, 3, "250 ids in 3 requests");
    assert_eq!(statuses.not_found.len(), 247);
    assert_eq!(statuses.items.len(), 3);
    for (item, id) in statuses.items.iter().zip(&known) {
        assert_eq!(item.video_id.as_deref(), Some(id.as_str()));
        assert!(
            ["queued", "processing", "completed", "failed"].contains(&item.status.as_str()),
            "{item:?}"
        );
    }
    // Later, the failed one says so, with its reason.
    common::eventually(Duration::from_secs(10), "the third video fails", || async {
        let s = client.videos().statuses([known[2].clone()]).await.unwrap();
        s.items[0].status == "failed"
    })
    .await;
    let blank = client.videos().statuses(["v1", " "]).await.unwrap_err();
    assert_eq!(blank.invalid_request().unwrap().field, "video_ids");
    sim.shutdown().await;
}

#[tokio::test]
async fn the_concurrency_cap_answers_429_and_the_client_rides_it_out() {
    // Renders of 60 simulated seconds at 600×: each job holds its slot ~0.1 s.
    let sim = fast().concurrency_limit(3).start().await.unwrap();
    let http = reqwest::Client::new();
    let create = |n: usize| {
        http.post(format!("{}/v3/videos", sim.base_url()))
            .header("x-api-key", sim.api_key())
            .json(&json!({"type": "avatar", "avatar_id": "look_1", "script": format!("Job {n}")}))
            .send()
    };
    for n in 0..3 {
        assert_eq!(create(n).await.unwrap().status(), 200);
    }
    let refused = create(3).await.unwrap();
    assert_eq!(refused.status(), 429);
    assert_eq!(refused.headers()["retry-after"], "1");
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limit_exceeded");
    assert_eq!(sim.session_count(), 0);

    // Through the client, a create at the cap waits out the 429 and then succeeds.
    let client = heygen_api::Client::builder()
        .api_key(sim.api_key())
        .base_url(sim.base_url())
        .retry_policy(
            heygen_api::RetryPolicy::default()
                .max_retries(10)
                .max_backoff(Duration::from_millis(200)),
        )
        .build()
        .unwrap();
    let created = client
        .videos()
        .create(heygen_api::CreateVideoRequest::avatar("look_1").script("Patient"))
        .await
        .unwrap();
    assert!(created.video_id.starts_with("vid_"));
    sim.shutdown().await;
}

#[tokio::test]
async fn renders_are_paid_from_the_balance_and_a_create_it_cannot_pay_is_refused() {
    // A finished video costs its 2 rendered seconds × $0.05 = $0.10.
    let sim = fast()
        .balance_usd(0.25)
        .usd_per_second(0.05)
        .start()
        .await
        .unwrap();
    let client = sim.client().unwrap();
    let me = client.users().me().await.unwrap();
    assert_eq!(me.wallet.unwrap().remaining_balance, Some(0.25));
    let request = || heygen_api::CreateVideoRequest::avatar("look_1").script("Paid");
    let first = client.videos().create(request()).await.unwrap();
    let second = client.videos().create(request()).await.unwrap();
    // Two renders in flight hold $0.20 of $0.25: a third cannot be paid for.
    let refused = client.videos().create(request()).await.unwrap_err();
    assert_eq!(refused.status().map(|s| s.as_u16()), Some(402));
    assert_eq!(
        refused.api_error().unwrap().code,
        ErrorCode::InsufficientCredit
    );
    assert!(!refused.is_retryable());
    for id in [&first.video_id, &second.video_id] {
        let done = client.videos().wait(id, quick_wait()).await.unwrap();
        assert!(done.is_completed());
    }
    let me = client.users().me().await.unwrap();
    let left = me.wallet.unwrap().remaining_balance.unwrap();
    assert!((left - 0.05).abs() < 1e-9, "{left}");
    // A session is a job too: the last $0.05 pays for no render.
    let session = client
        .video_agents()
        .create(CreateVideoAgentRequest::new("One more"))
        .await
        .unwrap_err();
    assert_eq!(session.status().map(|s| s.as_u16()), Some(402));
    sim.shutdown().await;
}

#[tokio::test]
async fn a_chat_goes_through_two_rounds_of_feedback_then_renders() {
    use heygen_api::chat::Turn;
    let sim = fast().start().await.unwrap();
    let client = sim.client().unwrap();
    let mut chat = client
        .video_agents()
        .chat(CreateVideoAgentRequest::new("An office tour"))
        .await
        .unwrap();
    let mut seen = Vec::new();
    let outcome = loop {
        match chat.next_turn(quick_wait()).await.unwrap() {
            Turn::Paused {
                session,
                new_messages,
                resources,
            } => {
                assert_eq!(session.status, SessionStatus::Reviewing);
                assert_eq!(new_messages.len(), 1, "only what is new: {new_messages:?}");
                assert!(new_messages.iter().all(|m| m.role == "model"));
                assert_eq!(resources[0].resource_id, "res_storyboard");
                seen.push(new_messages[0].content.clone());
                match seen.len() {
                    1 => chat.reply("Shorter scenes, please").await.unwrap(),
                    2 => chat.reply("Warmer colors").await.unwrap(),
                    _ => chat.approve().await.unwrap(),
                }
            }
            Turn::Finished(outcome) => break outcome,
        }
    };
    assert!(outcome.is_completed(), "{outcome}");
    assert_eq!(seen.len(), 3, "{seen:?}");
    assert!(seen[0].contains("storyboard"));
    assert!(
        seen[1].contains("revision 1") && seen[2].contains("revision 2"),
        "{seen:?}"
    );
    // Another process can pick the conversation up by the session id.
    let resumed = client.video_agents().conversation(chat.session_id());
    assert_eq!(resumed.session_id(), chat.session_id());
    sim.shutdown().await;
}

#[tokio::test]
async fn a_batch_of_100_is_waited_for_item_by_item() {
    use futures_util::StreamExt as _;
    use heygen_api::BatchUpdate;
    let sim = fast().start().await.unwrap();
    let client = sim.client().unwrap();
    let videos = (0..100).map(|i| {
        let script = if i == 41 {
            format!("Item {i} [fail:render]")
        } else {
            format!("Item {i}")
        };
        heygen_api::CreateVideoRequest::avatar("look_1")
            .script(script)
            .title(format!("Video {i}"))
    });
    let batch = client
        .videos()
        .create_batch(videos)
        .title("Hundred")
        .await
        .unwrap();
    let mut updates = client.videos().wait_batch(&batch.batch_id, quick_wait());
    let mut ended = Vec::new();
    let mut finished = None;
    while let Some(update) = updates.next().await {
        match update.unwrap() {
            BatchUpdate::Item(item) => ended.push(item),
            BatchUpdate::Done(batch) => finished = Some(batch),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(ended.len(), 100);
    let indexes: BTreeSet<i64> = ended.iter().map(|i| i.item_index).collect();
    assert_eq!(indexes.len(), 100, "each item once");
    let failed: Vec<_> = ended
        .iter()
        .filter(|i| i.status.as_str() == "failed")
        .map(|i| i.item_index)
        .collect();
    assert_eq!(failed, [41]);
    let finished = finished.expect("the batch ends");
    assert_eq!(
        finished.items.len(),
        100,
        "the finished batch holds every item"
    );
    assert_eq!(finished.status.as_str(), "completed");
    // Titles are sent and kept: the batch's and each video's.
    assert_eq!(finished.title.as_deref(), Some("Hundred"));
    let seventh = finished.items.iter().find(|i| i.item_index == 7).unwrap();
    let video = client
        .videos()
        .get(seventh.video_id.clone().unwrap())
        .await
        .unwrap();
    assert_eq!(video.title.as_deref(), Some("Video 7"));

    // Bulk statuses by batch id answer for all its items.
    let page = client
        .videos()
        .statuses_page()
        .batch_ids(batch.batch_id.clone())
        .await
        .unwrap();
    assert_eq!(page.items.len(), 100);

    // 101 videos are refused before sending.
    let before = sim.request_count();
    let too_many = (0..101).map(|_| heygen_api::CreateVideoRequest::avatar("look_1").script("x"));
    let error = client.videos().create_batch(too_many).await.unwrap_err();
    assert_eq!(error.invalid_request().unwrap().field, "videos");
    assert_eq!(sim.request_count(), before);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_file_over_32_mb_goes_the_direct_upload_way_and_survives_a_cut_put() {
    use std::sync::atomic::{AtomicU64, Ordering};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.mp4");
    let size = 33 * 1024 * 1024 + 7;
    // An MP4's first bytes, then sparse: 33 MB that take almost no room on disk.
    std::fs::write(&path, b"\0\0\0\x18ftypisom\0\0\x02\0isomiso2").unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(size)
        .unwrap();

    let sim = fast().fail_first_upload(true).start().await.unwrap();
    let client = sim.client().unwrap();
    let furthest = Arc::new(AtomicU64::new(0));
    let seen = Arc::clone(&furthest);
    let asset = client
        .assets()
        .upload(&path)
        .on_progress(move |p| {
            assert_eq!(p.total, Some(size));
            seen.fetch_max(p.bytes, Ordering::SeqCst);
        })
        .await
        .unwrap();
    assert_eq!(asset.size_bytes as u64, size);
    assert_eq!(asset.mime_type, "video/mp4");
    assert_eq!(
        furthest.load(Ordering::SeqCst),
        size,
        "progress reached the end"
    );
    // The asset is usable as an input.
    client
        .video_agents()
        .create(
            CreateVideoAgentRequest::new("With a big file")
                .file(FileInput::asset_id(asset.asset_id.clone())),
        )
        .await
        .unwrap();
    sim.shutdown().await;

    // An upload URL that has expired is renewed once; expired again, the 403 is final.
    let sim = fast().upload_url_ttl(Duration::ZERO).start().await.unwrap();
    let error = sim
        .client()
        .unwrap()
        .assets()
        .upload(&path)
        .await
        .unwrap_err();
    assert_eq!(error.status().map(|s| s.as_u16()), Some(403), "{error}");
    sim.shutdown().await;
}

#[tokio::test]
async fn many_files_go_up_through_one_direct_upload_batch() {
    let dir = tempfile::tempdir().unwrap();
    let names = ["first-logo.png", "second-logo.png", "notes.pdf"];
    let paths: Vec<_> = names.iter().map(|name| dir.path().join(name)).collect();
    std::fs::write(&paths[0], PNG).unwrap();
    std::fs::write(&paths[1], [PNG, b"more"].concat()).unwrap();
    std::fs::write(&paths[2], [&b"%PDF-1.4\n"[..], &[7u8; 300_000]].concat()).unwrap();

    // The first PUT is cut half-way; the policy retries it.
    let sim = fast().fail_first_upload(true).start().await.unwrap();
    let client = sim.client().unwrap();
    let heard = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let progress = std::sync::Arc::clone(&heard);
    let uploaded = client
        .assets()
        .upload_many(&paths)
        .on_progress(move |p| progress.lock().unwrap().push(p))
        .await
        .unwrap();
    assert_eq!(uploaded.files.len(), 3);
    // Progress over all the files: the checksums, then the bytes sent; a retried PUT starts
    // its file over without counting it twice.
    let total: u64 = paths
        .iter()
        .map(|p| std::fs::metadata(p).unwrap().len())
        .sum();
    let heard = heard.lock().unwrap().clone();
    let first_sent = heard
        .iter()
        .position(|p| p.step == heygen_api::TransferStep::Transfer)
        .unwrap();
    let (hashing, sending) = heard.split_at(first_sent);
    assert!(
        !hashing.is_empty()
            && hashing
                .iter()
                .all(|p| p.step == heygen_api::TransferStep::Checksum)
    );
    assert!(sending
        .iter()
        .all(|p| p.step == heygen_api::TransferStep::Transfer));
    assert!(
        heard
            .iter()
            .all(|p| p.total == Some(total) && p.bytes <= total),
        "{heard:?}"
    );
    assert_eq!(hashing.last().unwrap().bytes, total);
    assert_eq!(sending.iter().map(|p| p.bytes).max(), Some(total));
    assert_eq!(uploaded.failed().count(), 0, "{uploaded:?}");
    for (file, path) in uploaded.files.iter().zip(&paths) {
        assert_eq!(&file.path, path);
        assert!(file.is_completed(), "{file:?}");
        assert_eq!(
            file.size_bytes,
            std::fs::metadata(path).unwrap().len(),
            "sizes"
        );
    }
    assert_eq!(uploaded.files[0].content_type, "image/png");
    assert_eq!(uploaded.files[2].content_type, "application/pdf");
    // Each asset is the account's, under its file name, and usable as an input.
    for (file, name) in uploaded.files.iter().zip(names) {
        assert_eq!(
            client.assets().get(&file.asset_id).await.unwrap().name,
            name
        );
    }
    client
        .video_agents()
        .create(CreateVideoAgentRequest::new("With my logos").file(uploaded.files[1].file_input()))
        .await
        .unwrap();

    // The batch and the bulk statuses agree.
    let batch = client.assets().batch(&uploaded.batch_id).await.unwrap();
    assert_eq!(batch.status.as_str(), "completed");
    assert_eq!(batch.total_items, 3);
    let statuses = client
        .assets()
        .statuses()
        .batch_ids(uploaded.batch_id.clone())
        .await
        .unwrap();
    assert_eq!(statuses.items.len(), 3);
    assert!(statuses.items.iter().all(|s| s.status == "completed"));
    let by_id = client
        .assets()
        .statuses()
        .asset_ids(format!("{},ast_missing", uploaded.files[2].asset_id))
        .await
        .unwrap();
    let found: Vec<_> = by_id.items.iter().map(|s| s.status.as_str()).collect();
    assert_eq!(found, ["completed", "not_found"]);

    // The account's images can be searched by name.
    let hits = client
        .assets()
        .search("logo", "image")
        .scope("personal")
        .await
        .unwrap();
    let mut ids: Vec<_> = hits.items.iter().map(|h| h.id.clone()).collect();
    ids.sort();
    let mut expected = vec![
        uploaded.files[0].asset_id.clone(),
        uploaded.files[1].asset_id.clone(),
    ];
    expected.sort();
    assert_eq!(ids, expected);
    // An uploaded file is a file input by its asset.
    assert_eq!(
        FileInput::from(&uploaded.files[0]),
        FileInput::asset_id(uploaded.files[0].asset_id.as_str())
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn a_batch_upload_refuses_bad_files_before_sending_and_reports_lost_ones() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.png");
    std::fs::write(&good, PNG).unwrap();
    let empty = dir.path().join("empty.png");
    std::fs::write(&empty, b"").unwrap();

    let sim = fast().start().await.unwrap();
    let client = sim.client().unwrap();
    let before = sim.request_count();
    let error = client
        .assets()
        .upload_many([&good, &dir.path().join("missing.png")])
        .await
        .unwrap_err();
    assert!(error.to_string().contains("missing.png"), "{error}");
    let error = client
        .assets()
        .upload_many([&good, &empty])
        .await
        .unwrap_err();
    assert_eq!(error.invalid_request().unwrap().field, "paths");
    let none: [&std::path::Path; 0] = [];
    assert!(client.assets().upload_many(none).await.is_err());
    assert_eq!(sim.request_count(), before, "nothing was sent");
    sim.shutdown().await;

    // A URL that expired before its bytes got in: that file starts over alone (a new asset
    // outside the batch), and the batch still completes the other.
    let sim = fast().expire_first_upload_url(true).start().await.unwrap();
    let client = sim.client().unwrap();
    let other = dir.path().join("other.png");
    std::fs::write(&other, [PNG, b"x"].concat()).unwrap();
    let uploaded = client.assets().upload_many([&good, &other]).await.unwrap();
    assert_eq!(uploaded.failed().count(), 0, "{uploaded:?}");
    let batch = client.assets().batch(&uploaded.batch_id).await.unwrap();
    // The PUTs run side by side: either one may be the refused one.
    let mut statuses: Vec<_> = batch.items.iter().map(|i| i.status.as_str()).collect();
    statuses.sort();
    assert_eq!(statuses, ["completed", "failed"], "the batch lost one file");
    for file in &uploaded.files {
        client.assets().get(&file.asset_id).await.unwrap();
    }
    sim.shutdown().await;

    // URLs that expire at once: each file starts over alone, is refused again, and comes back
    // failed with the reason; the call itself succeeds.
    let sim = fast().upload_url_ttl(Duration::ZERO).start().await.unwrap();
    let uploaded = sim
        .client()
        .unwrap()
        .assets()
        .upload_many([&good])
        .await
        .unwrap();
    let failed: Vec<_> = uploaded.failed().collect();
    assert_eq!(failed.len(), 1);
    assert!(
        failed[0].error.as_deref().unwrap_or("").contains("expired"),
        "{:?}",
        failed[0].error
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn the_public_library_is_searched_by_kind_and_words() {
    let sim = fast().start().await.unwrap();
    let client = sim.client().unwrap();
    let images = client.assets().search("coffee", "image").await.unwrap();
    let ids: Vec<_> = images.items.iter().map(|h| h.id.as_str()).collect();
    assert_eq!(ids, ["img_coffee_desk"]);
    let icons = client.assets().search("coffee", "icon").await.unwrap();
    let ids: Vec<_> = icons.items.iter().map(|h| h.id.as_str()).collect();
    assert_eq!(ids, ["icon_coffee"]);
    assert!(client
        .assets()
        .search("submarine", "image")
        .await
        .unwrap()
        .items
        .is_empty());
    sim.shutdown().await;
}

#[tokio::test]
async fn an_upload_batch_keeps_its_title() {
    let sim = fast().start().await.unwrap();
    let client = sim.client().unwrap();
    let file = heygen_api::raw::types::DirectUploadRequest {
        checksum_sha256: None,
        content_type: "image/png".into(),
        filename: "logo.png".into(),
        size_bytes: 10,
    };
    let batch = client
        .assets()
        .direct_upload_batch([file])
        .title("Spring campaign")
        .await
        .unwrap();
    let read = client.assets().batch(batch.batch_id).await.unwrap();
    assert_eq!(read.title.as_deref(), Some("Spring campaign"));
    sim.shutdown().await;
}

/// The simulator's clock can be moved on by a test: a video of a real-time simulator is
/// rendering, and rendered once its render time has been advanced past, with no sleep.
#[tokio::test]
async fn the_clock_moves_on_when_a_test_says() {
    let sim = heygen_api::simulator::Simulator::new()
        .render_seconds(60.0)
        .start()
        .await
        .unwrap();
    let client = sim.client().unwrap();
    let created = client
        .videos()
        .create(heygen_api::CreateVideoRequest::avatar("look_anna_studio").script("Hi"))
        .await
        .unwrap();
    let status = |v: &heygen_api::VideoDetail| v.status.as_str().to_string();
    let video = client.videos().get(&created.video_id).await.unwrap();
    assert_ne!(status(&video), "completed");
    sim.advance(Duration::from_secs(30));
    let video = client.videos().get(&created.video_id).await.unwrap();
    assert_ne!(status(&video), "completed", "half-way through its render");
    sim.advance(Duration::from_secs(31));
    let video = client.videos().get(&created.video_id).await.unwrap();
    assert_eq!(status(&video), "completed");
    sim.shutdown().await;
}

/// `wait_for_job` takes every kind, a session too: given the session's id, it follows it to
/// its video and ends with the video's record, as the server sent it; a session that fails
/// ends failed with its record.
#[tokio::test]
async fn a_session_waited_for_as_a_job_ends_with_its_video() {
    let sim = fast().start().await.unwrap();
    let client = sim.client().unwrap();
    let quick = quick_wait;
    let session = client
        .video_agents()
        .create(heygen_api::CreateVideoAgentRequest::new("A tour"))
        .await
        .unwrap();
    let outcome = client
        .wait_for_job(
            heygen_api::JobKind::VideoAgent,
            &session.session_id,
            quick(),
        )
        .await
        .unwrap();
    let heygen_api::JobOutcome::Completed(video) = outcome else {
        panic!("{outcome:?}");
    };
    let urls = heygen_api::JobKind::VideoAgent.result_urls(&video);
    assert_eq!(urls.len(), 1, "{video}");
    assert!(
        video["id"]
            .as_str()
            .is_some_and(|id| id.starts_with("vid_")),
        "{video}"
    );
    let failing = client
        .video_agents()
        .create(heygen_api::CreateVideoAgentRequest::new(
            "Doomed [fail:session]",
        ))
        .await
        .unwrap();
    let outcome = client
        .wait_for_job(
            heygen_api::JobKind::VideoAgent,
            &failing.session_id,
            quick(),
        )
        .await
        .unwrap();
    assert!(
        matches!(outcome, heygen_api::JobOutcome::Failed(_)),
        "{outcome:?}"
    );
    sim.shutdown().await;
}
