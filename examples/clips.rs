//! A long video cut into short clips: start a clipping job, wait for it, download every clip
//! it made. Offline, against the simulator.
//!
//! ```sh
//! cargo run --example clips
//! ```

use std::time::{Duration, Instant};

use heygen_api::simulator::Simulator;
use heygen_api::types::{
    CreateClippingJobRequestOutputSettings, CreateClippingJobRequestOutputSettingsAspectRatio,
};
use heygen_api::{FileInput, JobOutcome, WaitOptions};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let started = Instant::now();
    let sim = Simulator::new().time_scale(60.0).start().await?;
    let client = sim.client()?;

    let settings = CreateClippingJobRequestOutputSettings {
        aspect_ratio: Some(CreateClippingJobRequestOutputSettingsAspectRatio::Portrait),
        captions: Some(true),
        ..Default::default()
    };
    let outcome = client
        .ai_clipping()
        .create(FileInput::url("https://example.com/keynote.mp4"))
        .title("Keynote highlights")
        .output_settings(settings)
        .send_and_wait(WaitOptions::new().initial_interval(Duration::from_millis(200)))
        .await?;
    let JobOutcome::Completed(job) = outcome else {
        return Err(format!("the clipping job did not complete: {}", outcome.as_str()).into());
    };
    let dir = std::env::temp_dir().join(format!("heygen-clips-{}", job.id));
    std::fs::create_dir_all(&dir)?;
    for clip in &job.clips {
        let Some(url) = clip.video_url.as_deref() else {
            println!("{}: {} (no file)", clip.id, clip.status);
            continue;
        };
        let path = dir.join(format!("{}.mp4", clip.id));
        let file = client.download(url, &path).await?;
        println!(
            "{} ({}s, score {}): {} bytes saved to {}",
            clip.id,
            clip.duration_seconds.unwrap_or_default(),
            clip.virality_score.map_or("-".into(), |s| s.to_string()),
            file.bytes,
            path.display()
        );
    }
    println!(
        "{} clips in {:.1}s",
        job.clips.len(),
        started.elapsed().as_secs_f64()
    );
    sim.shutdown().await;
    Ok(())
}
