//! Many videos at once: a lesson per chapter, through the batch runner, with a journal and
//! downloads; then the same run again, which finds everything done. Offline, against the
//! simulator (its cap: 10 jobs in flight, as on HeyGen's pay-as-you-go plan).
//!
//! ```sh
//! cargo run --example batch
//! ```
//!
//! Against the real API only the client differs: set `HEYGEN_API_KEY` and build it with
//! `Client::from_env()`. Interrupt a run and start it again: the journal resumes it.

use std::time::{Duration, Instant};

use futures_util::StreamExt as _;
use heygen_api::batch::{BatchRunner, Job};
use heygen_api::simulator::Simulator;
use heygen_api::{CreateVideoAgentRequest, CreateVideoRequest, WaitOptions};

const CHAPTERS: [&str; 12] = [
    "Ownership",
    "Borrowing",
    "Lifetimes",
    "Traits",
    "Generics",
    "Closures",
    "Iterators",
    "Error handling",
    "Modules",
    "Testing",
    "Async",
    "Macros",
];

/// A Video Agent lesson per chapter, and a short avatar teaser for every third one.
fn jobs() -> Vec<Job> {
    let mut jobs = Vec::new();
    for (i, chapter) in CHAPTERS.iter().enumerate() {
        let lesson = CreateVideoAgentRequest::new(format!(
            "A 30-second lesson on Rust {chapter}, with one code example."
        ));
        jobs.push(Job::video_agent(lesson).key(format!("lesson-{:02}", i + 1)));
        if i % 3 == 0 {
            let teaser = CreateVideoRequest::avatar("look_anna_studio")
                .script(format!("Next up: {chapter}. Stay tuned!"));
            jobs.push(Job::video(teaser).key(format!("teaser-{:02}", i + 1)));
        }
    }
    jobs
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let started = Instant::now();
    // A 60-second render takes a second.
    let sim = Simulator::new().time_scale(60.0).start().await?;
    let work = tempfile::tempdir()?;
    let journal = work.path().join("lessons.journal");
    let videos = work.path().join("videos");

    for pass in ["first run", "same run again"] {
        println!("== {pass}");
        let mut run = BatchRunner::new(sim.client()?)
            .concurrency(10)
            .journal(&journal)
            .download_dir(&videos)
            .poll(WaitOptions::new().initial_interval(Duration::from_millis(200)))
            .run(futures_util::stream::iter(jobs()))?;
        while let Some(outcome) = run.next().await {
            println!("  {:<10} {}", outcome.key, outcome.result);
        }
        let summary = run.summary();
        println!("  {summary}");
        if !summary.all_completed() {
            return Err(format!("some jobs did not complete: {:?}", summary.failures).into());
        }
    }
    let files = std::fs::read_dir(&videos)?.count();
    println!(
        "{files} videos in {} after {:.1}s",
        videos.display(),
        started.elapsed().as_secs_f64()
    );
    sim.shutdown().await;
    Ok(())
}
