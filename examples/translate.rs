//! One video into three languages: upload the source, start the translations, wait for all
//! three at once (their statuses polled in bulk), download each. Offline, against the
//! simulator.
//!
//! ```sh
//! cargo run --example translate
//! ```
//!
//! Against the real API only the client differs: set `HEYGEN_API_KEY` and build it with
//! `Client::from_env()`.

use std::time::{Duration, Instant};

use heygen_api::simulator::Simulator;
use heygen_api::{FileInput, JobOutcome, WaitOptions};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let started = Instant::now();
    // A minute of work takes a second.
    let sim = Simulator::new().time_scale(60.0).start().await?;
    let client = sim.client()?;

    // The languages HeyGen translates into; ask for three of them.
    let offered = client.video_translations().languages().await?.languages;
    let wanted: Vec<String> = ["Spanish", "French", "Japanese"]
        .into_iter()
        .filter(|l| offered.iter().any(|o| o == l))
        .map(String::from)
        .collect();
    println!("offered: {}", offered.join(", "));

    // The source video: a URL here; a local file would be uploaded first
    // (`client.assets().upload(path)`) and given as `FileInput::asset_id(..)`.
    let source = FileInput::url("https://example.com/product-tour.mp4");
    let options = WaitOptions::new()
        .initial_interval(Duration::from_millis(200))
        .on_progress(|event| {
            if let (Some(id), Some(status), true) = (&event.job_id, &event.status, event.changed) {
                eprintln!("  [{:>4.1}s] {id} {status}", event.elapsed.as_secs_f64());
            }
        });
    let ended = client
        .video_translations()
        .create(source, wanted.clone())
        .title("Product tour")
        .send_and_wait(options)
        .await?;

    let dir = std::env::temp_dir().join("heygen-translations");
    std::fs::create_dir_all(&dir)?;
    for end in ended {
        match end.outcome? {
            JobOutcome::Completed(translation) => {
                let language = translation.output_language.clone().unwrap_or_default();
                let url = translation.video_url.as_deref().ok_or("no video URL")?;
                let path = dir.join(format!("{}-{language}.mp4", end.id));
                let file = client.download(url, &path).await?;
                println!(
                    "{language:<9} {} bytes saved to {}",
                    file.bytes,
                    path.display()
                );
            }
            JobOutcome::Failed(translation) => {
                println!("{} failed: {:?}", end.id, translation.failure_message);
            }
            other => println!("{}: {}", end.id, other.as_str()),
        }
    }
    println!("done in {:.1}s", started.elapsed().as_secs_f64());
    sim.shutdown().await;
    Ok(())
}
