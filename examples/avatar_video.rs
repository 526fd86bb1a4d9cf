//! A video made directly: pick an avatar look and a voice, have the look speak a script, wait,
//! download. Offline, against the simulator.
//!
//! ```sh
//! cargo run --example avatar_video
//! ```
//!
//! Against the real API only the client differs: set `HEYGEN_API_KEY` and build it with
//! `Client::from_env()`.

use std::time::{Duration, Instant};

use heygen_api::simulator::Simulator;
use heygen_api::{AspectRatio, CreateVideoRequest, VideoAsset, WaitOptions};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let started = Instant::now();
    // A 60-second render takes one second.
    let sim = Simulator::new().time_scale(60.0).start().await?;
    let client = sim.client()?;

    // Pick a look and a voice from the catalogue.
    let looks = client.avatars().looks().limit(10).await?;
    let look = looks.items.first().ok_or("no avatar look to pick")?;
    let voices = client.voices().list().limit(10).await?;
    let voice = voices.items.first().ok_or("no voice to pick")?;
    println!("look  {} ({}, {})", look.id, look.name, look.avatar_type);
    println!(
        "voice {} ({}, {})",
        voice.voice_id, voice.name, voice.language
    );

    // Make the video and wait for it.
    let request = CreateVideoRequest::avatar(look.id.clone())
        .script("Hello! This video was made from Rust, with a look and a voice picked by code.")
        .voice_id(voice.voice_id.clone())
        .aspect_ratio(AspectRatio::Landscape16x9);
    let options = WaitOptions::new()
        .initial_interval(Duration::from_millis(200))
        .on_progress(|event| {
            let status = event.status.as_ref().map_or("(retrying)", |s| s.as_str());
            eprintln!("  [{:>4.1}s] video {status}", event.elapsed.as_secs_f64());
        });
    let video = client
        .videos()
        .create_and_wait(request, options)
        .await?
        .into_video()?;

    let path = std::env::temp_dir().join(format!("heygen-{}.mp4", video.id));
    let file = client
        .videos()
        .download(&video, VideoAsset::Video, &path)
        .await?;
    println!(
        "video {} completed; {} bytes saved to {} in {:.1}s",
        video.id,
        file.bytes,
        path.display(),
        started.elapsed().as_secs_f64()
    );
    let _ = std::fs::remove_file(&path);
    sim.shutdown().await;
    Ok(())
}
