//! The simulator's account and catalogue: the current user, avatar groups and looks, voices
//! and brand kits.

use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde_json::json;

use super::http::{data, filtered, not_found, one_of, page, Params, Sim};
use super::media;

/// The simulated account, with what is left of its balance.
pub(super) async fn current_user(State(shared): Sim) -> Response {
    let mut world = shared.world();
    world.advance();
    let balance = (world.balance_usd() * 100.0).round() / 100.0;
    data(json!({
        "username": "simulated",
        "email": "simulated@example.com",
        "first_name": "Sim",
        "last_name": "Ulator",
        "billing_type": "wallet",
        "wallet": {
            "currency": "usd",
            "remaining_balance": balance,
            "auto_reload": {"enabled": false, "amount_usd": null, "threshold_usd": null},
        },
        "subscription": null,
        "usage_based": null,
    }))
}

pub(super) async fn list_avatar_groups(Query(query): Params) -> Response {
    // The seeded groups are public: asking for the account's own finds none.
    let groups = if query.get("ownership").map(String::as_str) == Some("private") {
        Vec::new()
    } else {
        media::avatar_groups()
    };
    page(groups, &query, 20)
}

pub(super) async fn get_avatar_group(State(shared): Sim, Path(id): Path<String>) -> Response {
    let mut world = shared.world();
    world.advance();
    if let Some(group) = super::jobs::avatar_group_json(&world, &id) {
        return data(group);
    }
    one_of(media::avatar_groups(), "id", &id, "Avatar group")
}

pub(super) async fn list_avatar_looks(Query(query): Params) -> Response {
    let looks = filtered(media::avatar_looks(), &query, "group_id", "group_id");
    let looks = filtered(looks, &query, "avatar_type", "avatar_type");
    let looks = if query.get("ownership").map(String::as_str) == Some("private") {
        Vec::new()
    } else {
        looks
    };
    page(looks, &query, 20)
}

pub(super) async fn get_avatar_look(Path(id): Path<String>) -> Response {
    one_of(media::avatar_looks(), "id", &id, "Avatar look")
}

pub(super) async fn list_voices(Query(query): Params) -> Response {
    let kind = query
        .get("type")
        .cloned()
        .unwrap_or_else(|| "public".into());
    let voices = media::voices()
        .into_iter()
        .filter(|v| v["type"] == kind.as_str())
        .collect();
    let voices = filtered(voices, &query, "language", "language");
    let voices = filtered(voices, &query, "gender", "gender");
    page(voices, &query, 20)
}

pub(super) async fn get_voice(State(shared): Sim, Path(id): Path<String>) -> Response {
    {
        let mut world = shared.world();
        world.advance();
        if let Some(voice) = super::jobs::voice_json(&world, &id) {
            return data(voice);
        }
    }
    match media::voices()
        .into_iter()
        .find(|v| v["voice_id"] == id.as_str())
    {
        Some(voice) => data(json!({
            "voice_id": voice["voice_id"],
            "name": voice["name"],
            "language": voice["language"],
            "gender": voice["gender"],
            "preview_audio_url": voice["preview_audio_url"],
            "support_pause": voice["support_pause"],
            "support_interactive_avatar": false,
            "status": "complete",
            "created_at": 1_704_067_200,
            "failure_message": null,
        })),
        None => not_found("Voice"),
    }
}

pub(super) async fn list_brand_kits(Query(query): Params) -> Response {
    page(media::brand_kits(), &query, 20)
}
