//! Files the simulator serves: a small, real, playable MP4 (2 s, 160×90, H.264 + AAC), its
//! thumbnail, subtitles, and the style catalogue.

use serde_json::{json, Value};

/// The finished video of every simulated render.
pub(crate) static SAMPLE_MP4: &[u8] = include_bytes!("sample.mp4");
/// Its thumbnail.
pub(crate) static SAMPLE_JPG: &[u8] = include_bytes!("sample.jpg");
/// Its subtitles.
pub(crate) const SAMPLE_SRT: &str =
    "1\n00:00:00,000 --> 00:00:02,000\nHello from the HeyGen simulator.\n";
/// Length of [`SAMPLE_MP4`] in seconds.
pub(crate) const DURATION_SECONDS: f64 = 2.0;

pub(crate) fn styles() -> Vec<Value> {
    [
        (
            "style_noir_detective",
            "Noir Detective",
            "cinematic",
            "16:9",
        ),
        ("style_retro_crt", "Retro CRT", "retro-tech", "16:9"),
        ("style_paper_cut", "Paper Cut", "handmade", "9:16"),
        ("style_pop_poster", "Pop Poster", "pop-culture", "1:1"),
    ]
    .into_iter()
    .map(|(id, name, tag, ratio)| {
        json!({
            "style_id": id,
            "name": name,
            "thumbnail_url": format!("https://cdn.heygen.com/styles/{id}.jpg"),
            "preview_video_url": format!("https://cdn.heygen.com/styles/{id}.mp4"),
            "tags": [tag],
            "aspect_ratio": ratio,
        })
    })
    .collect()
}

/// A seeded look: (id, name, avatar type, preferred orientation).
type Look = (&'static str, &'static str, &'static str, &'static str);
/// A seeded avatar group: (id, name, gender, default voice, looks).
type Group = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static [Look],
);

/// The seeded avatar groups.
const GROUPS: [Group; 3] = [
    (
        "avg_anna",
        "Anna",
        "female",
        "voice_paige",
        &[
            (
                "look_anna_studio",
                "Anna in the studio",
                "studio_avatar",
                "landscape",
            ),
            (
                "look_anna_office",
                "Anna at the office",
                "studio_avatar",
                "portrait",
            ),
        ],
    ),
    (
        "avg_marcus",
        "Marcus",
        "male",
        "voice_theo",
        &[
            (
                "look_marcus_casual",
                "Marcus, casual",
                "studio_avatar",
                "landscape",
            ),
            (
                "look_marcus_stage",
                "Marcus on stage",
                "digital_twin",
                "landscape",
            ),
        ],
    ),
    (
        "avg_lena",
        "Lena",
        "female",
        "voice_ines",
        &[("look_lena_photo", "Lena, photo", "photo_avatar", "square")],
    ),
];

/// The seeded avatar groups, as `GET /v3/avatars` items.
pub(crate) fn avatar_groups() -> Vec<Value> {
    GROUPS
        .iter()
        .map(|(id, name, gender, voice, looks)| {
            json!({
                "id": id,
                "name": name,
                "created_at": 1_704_067_200,
                "looks_count": looks.len(),
                "default_voice_id": voice,
                "gender": gender,
                "preview_image_url": format!("https://cdn.heygen.com/avatars/{id}.jpg"),
                "preview_video_url": format!("https://cdn.heygen.com/avatars/{id}.mp4"),
                "status": "completed",
                "consent_status": null,
                "error": null,
            })
        })
        .collect()
}

/// The seeded looks, as `GET /v3/avatars/looks` items.
pub(crate) fn avatar_looks() -> Vec<Value> {
    GROUPS
        .iter()
        .flat_map(|(group, _, gender, voice, looks)| {
            looks.iter().map(move |(id, name, kind, orientation)| {
                json!({
                    "id": id,
                    "name": name,
                    "avatar_type": kind,
                    "group_id": group,
                    "gender": gender,
                    "default_voice_id": voice,
                    "preferred_orientation": orientation,
                    "preview_image_url": format!("https://cdn.heygen.com/looks/{id}.jpg"),
                    "preview_video_url": format!("https://cdn.heygen.com/looks/{id}.mp4"),
                    "image_width": 1920,
                    "image_height": 1080,
                    "status": "completed",
                    "supported_api_engines": ["avatar_iv", "avatar_v"],
                    "tags": ["professional"],
                    "error": null,
                })
            })
        })
        .collect()
}

/// The seeded voices, as `GET /v3/voices` items.
pub(crate) fn voices() -> Vec<Value> {
    [
        ("voice_paige", "Paige", "English", "female", "public"),
        ("voice_theo", "Theo", "English", "male", "public"),
        ("voice_ines", "Inès", "French", "female", "public"),
        (
            "voice_custom",
            "My cloned voice",
            "English",
            "male",
            "private",
        ),
    ]
    .into_iter()
    .map(|(id, name, language, gender, kind)| {
        json!({
            "voice_id": id,
            "name": name,
            "language": language,
            "gender": gender,
            "type": kind,
            "preview_audio_url": format!("https://cdn.heygen.com/voices/{id}.mp3"),
            "support_pause": true,
            "support_locale": kind == "public",
        })
    })
    .collect()
}

/// The seeded brand kits, as `GET /v3/brand-kits` items.
pub(crate) fn brand_kits() -> Vec<Value> {
    vec![
        json!({"brand_kit_id": "bk_acme", "name": "Acme", "colors": ["#1A73E8", "#FFFFFF"], "logo_url": "https://cdn.heygen.com/brand/acme.png"}),
        json!({"brand_kit_id": "bk_globex", "name": "Globex", "colors": ["#0B8043"], "logo_url": null}),
    ]
}

/// The public image and icon library that `GET /v3/assets/search` looks through: entries of
/// `kind` whose name or tags contain `needle` (lower case).
pub(crate) fn library(kind: &str, needle: &str) -> Vec<Value> {
    [
        (
            "img_city_night",
            "image",
            "city skyline at night",
            1920,
            1080,
            false,
        ),
        (
            "img_coffee_desk",
            "image",
            "coffee cup on a desk office",
            1600,
            1067,
            false,
        ),
        (
            "img_mountain_lake",
            "image",
            "mountain lake landscape nature",
            2400,
            1600,
            false,
        ),
        (
            "img_team_meeting",
            "image",
            "team meeting office people",
            1080,
            1350,
            false,
        ),
        (
            "img_product_box",
            "image",
            "product box cutout",
            1200,
            1200,
            true,
        ),
        (
            "icon_rocket",
            "icon",
            "rocket launch startup",
            512,
            512,
            true,
        ),
        (
            "icon_chart_up",
            "icon",
            "chart growth up arrow",
            512,
            512,
            true,
        ),
        ("icon_coffee", "icon", "coffee cup drink", 512, 512, true),
    ]
    .into_iter()
    .filter(|(_, k, words, ..)| *k == kind && words.contains(needle))
    .map(|(id, k, _, width, height, transparent)| {
        let orientation = match width.cmp(&height) {
            std::cmp::Ordering::Greater => "landscape",
            std::cmp::Ordering::Less => "portrait",
            std::cmp::Ordering::Equal => "square",
        };
        json!({
            "id": id,
            "type": k,
            "url": format!("https://cdn.heygen.com/library/{id}.png"),
            "width": width,
            "height": height,
            "orientation": orientation,
            "is_transparent": transparent,
        })
    })
    .collect()
}
