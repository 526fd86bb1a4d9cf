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
