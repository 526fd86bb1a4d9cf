//! A campaign of several kinds in one batch run: a product tour made from an avatar, its
//! translations into Spanish and French, and a lip-sync to a new voice-over, with a journal and
//! downloads. The run is stopped as soon as the first job ends, as a crash would stop it, then
//! started again with the same journal: nothing is made twice, the job that ended before comes
//! back with its result, and every result is typed by its kind. Offline, against the simulator.
//!
//! ```sh
//! cargo run --example batch_kinds
//! ```
//!
//! Against the real API only the client differs: set `HEYGEN_API_KEY` and build it with
//! `Client::from_env()`.

use std::time::Duration;

use futures_util::StreamExt as _;
use heygen_api::batch::{BatchRunner, Job, JobResult};
use heygen_api::simulator::Simulator;
use heygen_api::{Client, CreateVideoRequest, FileInput, TypedRecord, WaitOptions};

/// Every job from its typed request: a batch job of another kind than videos is made from the
/// body its create's builder checks (`to_body`), so a mistake is found here, before a run.
fn jobs(client: &Client) -> heygen_api::Result<Vec<Job>> {
    let tour = FileInput::url("https://example.com/product-tour.mp4");
    let mut jobs = vec![Job::video(
        CreateVideoRequest::avatar("look_anna_studio").script("Welcome to the tour."),
    )
    .key("intro")];
    // One language per job, so that one job is one result.
    for language in ["Spanish", "French"] {
        let body = client
            .video_translations()
            .create(tour.clone(), [language])
            .to_body()?;
        jobs.push(Job::new(body).key(format!("tour-{}", language.to_lowercase())));
    }
    let dub = client
        .lipsyncs()
        .create(tour, FileInput::url("https://example.com/voice-over.mp3"))
        .title("Product tour, new voice-over")
        .to_body()?;
    jobs.push(Job::new(dub).key("tour-dub"));
    Ok(jobs)
}

/// What a result is, read from its typed record.
fn what(result: &JobResult) -> String {
    match result.record() {
        Some(TypedRecord::VideoTranslation(translation)) => format!(
            "translation into {}",
            translation.output_language.as_deref().unwrap_or("?")
        ),
        Some(TypedRecord::Lipsync(lipsync)) => {
            format!("lip-sync \"{}\"", lipsync.title.as_deref().unwrap_or(""))
        }
        Some(record) => match record.video() {
            Some(video) => format!("video of {:.0} s", video.duration.unwrap_or_default()),
            None => format!("{:?}", record.kind()),
        },
        None => result.to_string(),
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // A minute of work takes a second.
    let sim = Simulator::new().time_scale(60.0).start().await?;
    let client = sim.client()?;
    let work = tempfile::tempdir()?;
    let journal = work.path().join("campaign.journal");
    let files = work.path().join("out");
    let runner = || {
        BatchRunner::new(client.clone())
            .journal(&journal)
            .download_dir(&files)
            .poll(WaitOptions::new().initial_interval(Duration::from_millis(200)))
    };

    println!("== first run, stopped after one job");
    let mut run = runner().run(futures_util::stream::iter(jobs(&client)?))?;
    if let Some(first) = run.next().await {
        println!("  {:<12} {}", first.key, first.result);
    }
    let created = run.summary().requests.creates;
    // As a crash would: the jobs in flight stay in the journal.
    drop(run);

    println!("== same run again");
    let mut run = runner().run(futures_util::stream::iter(jobs(&client)?))?;
    while let Some(report) = run.next().await {
        let result = &report.result;
        println!("  {:<12} {}: {}", report.key, result.name(), what(result));
        for (url, file) in result.urls().iter().zip(result.files()) {
            println!("  {:<12}   {url} → {}", "", file.display());
        }
        if !result.is_success() {
            return Err(format!("{}: {result}", report.key).into());
        }
    }
    let summary = run.summary();
    println!("  {summary}");
    let made = created + summary.requests.creates;
    println!("{made} jobs created in all, for 4 jobs");
    if made != 4 {
        return Err("a job was made twice".into());
    }
    sim.shutdown().await;
    Ok(())
}
