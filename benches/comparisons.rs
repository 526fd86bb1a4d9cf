//! `cargo bench`: the crate against hand-rolled baselines, side by side, with ratios.
//!
//! 1. Per-call overhead: `client.videos().get(id)` (retries and tracing on, as shipped) vs raw
//!    reqwest + serde_json, same loopback server, same payload, decoded into a plain struct of
//!    the same members (which, unlike the crate's type, drops members it does not name); and
//!    vs the same raw call with the per-request timeout the crate sets (like for like).
//! 2. Waits at scale: 1,000 concurrent create-and-wait jobs against the simulator with time
//!    compressed 60×: requests per job with the default schedule vs a fixed 2 s interval, peak
//!    memory of the whole process, wall time.
//! 3. Webhooks: `Verifier::verify` (signature + timestamp + typed parse) of a 1 KB delivery vs
//!    bare `hmac` + `serde_json::Value`.
//! 4. Build cost: `scripts/build-cost.sh` (cold build, then rebuild after a one-line spec edit).
//!    Set `HEYGEN_BENCH_SKIP_BUILD=1` to skip it.
//! 5. Many videos: 1,000 video jobs through the batch runner (bulk polling, 100 ids a request)
//!    vs 1,000 concurrent `videos().create_and_wait` (a poll per job), simulator in-process at
//!    60×, the default client: polling requests per job, all requests per job, peak memory.
//! 6. Webhook-first: time from a verified delivery handed to the runner to the job's outcome
//!    on its stream (median, p99).
//! 7. Journal: time and bytes per job for the journal lines of a job.
//! 11. Receiver: `batch::WebhookReceiver` on loopback under 32 concurrent clients: 10,000 new
//!     events, 10,000 repeats of one event, 10,000 hostile deliveries (forged, unsigned,
//!     oversized, malformed); deliveries per second, nothing lost, every refusal counted.
//! 12. Campaign: 10,000 video jobs through the batch runner (journal on, 1,000 in flight, the
//!     default client) against the simulator in a process of its own at 120×, then 100,000
//!     against a stateless stand-in: requests per job, wall time, the runner's peak memory.
//! 13. Downloads against curl: `Client::download` of a 1 GiB file from a loopback server in a
//!     process of its own, `.durable(false)` against `curl -o` of the same URL, and durable
//!     (the default: synced before it is renamed into place) against curl followed by a sync of
//!     the file; then `assets().upload` of a 1 GiB file (the direct-upload flow),
//!     `.checksum(false)` against `curl -T`, and checked (the default) against
//!     `openssl dgst -sha256` followed by `curl -T`.
//! 10. Resume: a run over a generated journal of 1,000,000 finished jobs, given the same jobs
//!     again (each comes out already done): time and peak memory of the whole process. Then
//!     the same journal read for its status: `batch::journal_jobs` (as `heygen batch status`
//!     reads it) against `JournalSummary::read` (every job held whole).
//!
//! Timings are medians of interleaved batches; nothing here asserts a timing.

use std::hint::black_box;
use std::time::{Duration, Instant};

use axum::routing::get;
use axum::Router;
use heygen_api::batch::{BatchEvent, BatchRunner, Job};
use heygen_api::simulator::Simulator;
use heygen_api::webhook::{self, Verifier};
use heygen_api::{Client, CreateVideoAgentRequest, CreateVideoRequest, RetryPolicy, WaitOptions};
use hmac::{Hmac, Mac};
use sha2::Sha256;

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(|a, b| a.total_cmp(b));
    values[values.len() / 2]
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    format!(
        "{cpu}, {cores} cores, {} {}",
        std::env::consts::OS,
        std::env::consts::ARCH
    )
}

fn peak_rss_mib() -> Option<f64> {
    memory_mib("VmHWM:")
}

/// A line of this process's `/proc/self/status` (`VmHWM:`, `VmRSS:`), in MiB.
fn memory_mib(field: &str) -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// What a hand-written client would decode the video into: the same members as the crate's
/// type, plain, with nothing kept of members it does not name (the crate's keeps them).
#[derive(serde::Deserialize)]
#[allow(dead_code)]
struct PlainVideo {
    id: String,
    title: Option<String>,
    status: String,
    created_at: Option<i64>,
    completed_at: Option<i64>,
    video_url: Option<String>,
    thumbnail_url: Option<String>,
    gif_url: Option<String>,
    captioned_video_url: Option<String>,
    subtitle_url: Option<String>,
    duration: Option<f64>,
    folder_id: Option<String>,
    output_language: Option<String>,
    failure_code: Option<String>,
    failure_message: Option<String>,
    video_page_url: Option<String>,
}

#[derive(serde::Deserialize)]
struct VideoResponse {
    data: PlainVideo,
}

const VIDEO: &str = r#"{"data":{"id":"v_abc123def456","title":"My Generated Video","status":"completed","created_at":1711929600,"completed_at":1711929900,"video_url":"https://files.heygen.ai/video/abc123.mp4","thumbnail_url":"https://files.heygen.ai/thumb/abc123.jpg","gif_url":"https://files.heygen.ai/gif/abc123.gif","captioned_video_url":"https://files.heygen.ai/video/abc123_captioned.mp4","subtitle_url":"https://files.heygen.ai/video/abc123.srt","duration":30.5,"folder_id":"folder_abc123","output_language":null,"failure_code":null,"failure_message":null,"video_page_url":"https://app.heygen.com/video/abc123"}}"#;

/// The three sides of row 1, against one loopback server.
struct Sides {
    client: Client,
    raw: reqwest::Client,
    base: String,
}

impl Sides {
    async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let app = Router::new().route(
            "/v3/videos/{id}",
            get(|| async { ([("content-type", "application/json")], VIDEO) }),
        );
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move { axum::serve(listener, app).await.unwrap() });
        });
        let client = Client::builder()
            .api_key("bench-key")
            .base_url(&base)
            .build()
            .unwrap();
        Sides {
            client,
            raw: reqwest::Client::new(),
            base,
        }
    }

    /// One call of a side: 0 the crate, 1 raw reqwest, 2 raw reqwest with the crate's 30 s
    /// per-request timeout. The raw call does what a hand-written one does: build the URL
    /// from the id, send with the key, check the status, decode.
    async fn call(&self, side: usize) {
        let id = black_box("v_abc123def456");
        if side == 0 {
            black_box(self.client.videos().get(id).await.unwrap());
            return;
        }
        let mut request = self
            .raw
            .get(format!("{}/v3/videos/{id}", self.base))
            .header("x-api-key", "bench-key");
        if side == 2 {
            request = request.timeout(Duration::from_secs(30));
        }
        let response = request.send().await.unwrap();
        assert!(response.status().is_success());
        let bytes = response.bytes().await.unwrap();
        black_box(
            serde_json::from_slice::<VideoResponse>(&bytes)
                .unwrap()
                .data,
        );
    }
}

/// `comparisons --calls <0|1|2> N`: N calls of one side of row 1 and nothing else, for
/// `scripts/instructions.sh` to count instructions under callgrind.
fn calls_child(args: &[String]) {
    let side: usize = args[0].parse().unwrap();
    let n: u32 = args[1].parse().unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let sides = Sides::start().await;
        for _ in 0..n {
            sides.call(side).await;
        }
    });
}

async fn per_call_overhead() {
    let sides = Sides::start().await;
    for _ in 0..300 {
        for side in 0..3 {
            sides.call(side).await;
        }
    }
    let mut samples: [Vec<f64>; 3] = Default::default();
    const BATCH: u32 = 200;
    const ROUNDS: usize = 30;
    // Rotate which side goes first, so none always runs on a warmer machine.
    for round in 0..ROUNDS {
        for turn in 0..3 {
            let side = (round + turn) % 3;
            let start = Instant::now();
            for _ in 0..BATCH {
                sides.call(side).await;
            }
            samples[side].push(start.elapsed().as_secs_f64() * 1e6 / f64::from(BATCH));
        }
    }
    let [ours, bare, timed] = samples.map(|mut s| median(&mut s));
    println!("1. per-call overhead   GET /v3/videos/{{id}}, loopback, {ROUNDS}×{BATCH} calls per side, rotated");
    println!("   heygen-api {ours:>8.1} µs/call   raw reqwest+serde_json {bare:>8.1} µs/call   ratio {:.3}", ours / bare);
    println!("   like for like: raw reqwest with the same 30 s per-request timeout {timed:>8.1} µs/call   ratio {:.3} (goal ≤ 1.05)", ours / timed);
}

async fn run_jobs(jobs: usize, options: WaitOptions, http2: bool) -> (f64, Duration, usize) {
    // Row 2 measures polling at scale: the simulator's cap of 10 jobs in flight is lifted so
    // that all 1,000 jobs run at once.
    let sim = Simulator::new()
        .time_scale(60.0)
        .concurrency_limit(0)
        .balance_usd(1e9)
        .start()
        .await
        .unwrap();
    // Over TLS, HeyGen's API negotiates HTTP/2 and multiplexes; on plain loopback that takes
    // prior knowledge. The default client speaks HTTP/1.1 here: 1,000 concurrent jobs then
    // need 1,000 connections.
    let mut client = Client::builder();
    if http2 {
        let http = reqwest::Client::builder()
            .http2_prior_knowledge()
            .build()
            .unwrap();
        client = client.http_client(http);
    }
    let client = client
        .api_key(sim.api_key())
        .base_url(sim.base_url())
        .retry_policy(RetryPolicy::default().max_backoff(Duration::from_millis(500)))
        .build()
        .unwrap();
    let started = Instant::now();
    let mut handles = Vec::with_capacity(jobs);
    for i in 0..jobs {
        let client = client.clone();
        let options = options.clone();
        handles.push(tokio::spawn(async move {
            client
                .video_agents()
                .create_and_wait(CreateVideoAgentRequest::new(format!("Job {i}")), options)
                .await
                .map(|o| o.is_completed())
        }));
    }
    let mut completed = 0;
    for handle in handles {
        if matches!(handle.await, Ok(Ok(true))) {
            completed += 1;
        }
    }
    let wall = started.elapsed();
    let per_job = sim.request_count() as f64 / jobs as f64;
    sim.shutdown().await;
    (per_job, wall, completed)
}

const JOBS: usize = 1000;

/// The wait schedules of row 2, compressed 60× like the simulated time: the default one
/// (2 s growing ×1.5 to 30 s, 20 min deadline) and a fixed 2 s interval.
fn schedule(fixed: bool) -> WaitOptions {
    let ours = WaitOptions::new()
        .initial_interval(Duration::from_secs(2) / 60)
        .max_interval(Duration::from_secs(30) / 60)
        .deadline(Duration::from_secs(20 * 60) / 60);
    if fixed {
        ours.max_interval(Duration::from_secs(2) / 60)
            .backoff_factor(1.0)
    } else {
        ours
    }
}

/// One run of row 2 in a process of its own, so that its peak memory is its own:
/// `comparisons --waits-child <default|fixed> <http2|http1>`.
fn waits_child(args: &[String]) {
    let fixed = args.first().map(String::as_str) == Some("fixed");
    let http2 = args.get(1).map(String::as_str) == Some("http2");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let (per_job, wall, done) = rt.block_on(run_jobs(JOBS, schedule(fixed), http2));
    println!(
        "{per_job} {} {done} {}",
        wall.as_secs_f64(),
        peak_rss_mib().unwrap_or(f64::NAN)
    );
}

fn waits_at_scale() {
    let run = |schedule: &str, protocol: &str| -> (f64, f64, usize, f64) {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--waits-child", schedule, protocol])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let f: Vec<&str> = text.split_whitespace().collect();
        (
            f[0].parse().unwrap(),
            f[1].parse().unwrap(),
            f[2].parse().unwrap(),
            f[3].parse().unwrap(),
        )
    };
    println!("2. waits at scale      {JOBS} concurrent create-and-wait jobs, simulator in-process at 60× (a 65 s job takes ~1.1 s); each run in its own process");
    let (per_job, wall, done, peak) = run("default", "http2");
    println!("   default 2 s→30 s schedule, HTTP/2:        {done}/{JOBS} completed, {per_job:.1} requests/job, wall {wall:.2} s, peak RSS {peak:.1} MiB (goal ≤ 64 MiB)");
    let (_, h1_wall, h1_done, h1_peak) = run("default", "http1");
    println!("   default schedule, default client (HTTP/1.1): {h1_done}/{JOBS} completed, wall {h1_wall:.2} s, peak RSS {h1_peak:.1} MiB");
    let (fixed_per_job, fixed_wall, fixed_done, _) = run("fixed", "http2");
    println!("   baseline, the same waiter at a fixed 2 s interval, run after it: {fixed_done}/{JOBS} completed, {fixed_per_job:.1} requests/job, wall {fixed_wall:.2} s   ratio {:.2} requests", per_job / fixed_per_job);
}

/// The delivery of row 3: a 1 KB body, its signed headers, its raw signature.
fn delivery() -> (Vec<u8>, http::HeaderMap, Vec<u8>) {
    let secret = "whsec_bench_secret";
    let padding = "x".repeat(1024 - 200);
    let body = format!(
        r#"{{"event_type":"video_agent.success","event_data":{{"session_id":"sess_1","video_id":"vid_1","url":"https://files.heygen.ai/video/vid_1.mp4","callback_id":"order-42","note":"{padding}"}}}}"#
    )
    .into_bytes();
    let headers = webhook::sign(secret, &body, webhook::now_unix(), "evt_1");
    let signature = hex::decode(webhook::signature(secret, &body)).unwrap();
    (body, headers, signature)
}

/// `comparisons --deliveries <0|1> N`: N verifications by the crate (0) or the bare baseline
/// (1) and nothing else, for counting instructions under callgrind.
fn deliveries_child(args: &[String]) {
    let side: usize = args[0].parse().unwrap();
    let n: u32 = args[1].parse().unwrap();
    let (body, headers, signature) = delivery();
    // One delivery verified again and again: the replay memory would refuse the repeats.
    let verifier = Verifier::new("whsec_bench_secret").remember(0);
    let keyed = Hmac::<Sha256>::new_from_slice(b"whsec_bench_secret").unwrap();
    for _ in 0..n {
        if side == 0 {
            black_box(
                verifier
                    .verify(black_box(&headers), black_box(&body))
                    .unwrap(),
            );
        } else {
            let mut mac = black_box(&keyed).clone();
            mac.update(black_box(&body));
            mac.verify_slice(black_box(&signature)).unwrap();
            black_box(serde_json::from_slice::<serde_json::Value>(&body).unwrap());
        }
    }
}

fn webhook_verify() {
    let secret = "whsec_bench_secret";
    let padding = "x".repeat(1024 - 200);
    let body = format!(
        r#"{{"event_type":"video_agent.success","event_data":{{"session_id":"sess_1","video_id":"vid_1","url":"https://files.heygen.ai/video/vid_1.mp4","callback_id":"order-42","note":"{padding}"}}}}"#
    );
    let body = body.as_bytes();
    let headers = webhook::sign(secret, body, webhook::now_unix(), "evt_1");
    let signature = hex::decode(webhook::signature(secret, body)).unwrap();
    // One delivery verified again and again: the replay memory would refuse the repeats.
    let verifier = Verifier::new(secret).remember(0);
    // The baseline keys its MAC once, as the verifier does, and clones it per delivery.
    let keyed = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    // Inputs go through `black_box` on both sides: otherwise the compiler may hoist the
    // baseline's loop-invariant HMAC out of the timing loop.
    let bare = || {
        let body = black_box(body);
        let mut mac = black_box(&keyed).clone();
        mac.update(body);
        mac.verify_slice(black_box(&signature)).unwrap();
        serde_json::from_slice::<serde_json::Value>(body).unwrap()
    };
    for _ in 0..2000 {
        black_box(verifier.verify(&headers, body).unwrap());
        black_box(bare());
    }
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    const BATCH: u32 = 2000;
    // Alternate which side goes first, so neither always runs on a warmer machine.
    for round in 0..25 {
        for side in [round % 2, 1 - round % 2] {
            let start = Instant::now();
            for _ in 0..BATCH {
                if side == 0 {
                    black_box(
                        verifier
                            .verify(black_box(&headers), black_box(body))
                            .unwrap(),
                    );
                } else {
                    black_box(bare());
                }
            }
            let rate = f64::from(BATCH) / start.elapsed().as_secs_f64();
            if side == 0 {
                ours.push(rate);
            } else {
                theirs.push(rate);
            }
        }
    }
    let (ours, theirs) = (median(&mut ours), median(&mut theirs));
    println!(
        "3. webhook             verify + parse a {} B delivery, 25×{BATCH} interleaved",
        body.len()
    );
    println!("   heygen-api {ours:>9.0} /s   bare hmac+serde_json {theirs:>9.0} /s   ratio {:.2}× (guard ≥ 0.8×)", ours / theirs);
}

fn build_cost() {
    if std::env::var_os("HEYGEN_BENCH_SKIP_BUILD").is_some() {
        println!(
            "4. build cost          skipped (HEYGEN_BENCH_SKIP_BUILD); run scripts/build-cost.sh"
        );
        return;
    }
    println!("4. build cost          scripts/build-cost.sh (cold build, then after a one-line spec edit)");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/build-cost.sh");
    match std::process::Command::new("bash").arg(script).output() {
        Ok(out) => {
            for line in String::from_utf8_lossy(&out.stdout).lines() {
                println!("   {line}");
            }
            if !out.status.success() {
                println!(
                    "   (the script failed: {})",
                    String::from_utf8_lossy(&out.stderr)
                        .lines()
                        .last()
                        .unwrap_or("")
                );
            }
        }
        Err(e) => println!("   could not run the script: {e}"),
    }
}

/// The simulator of rows 5 and 6: 60× time, no cap on jobs in flight, money enough.
async fn open_simulator() -> heygen_api::simulator::RunningSimulator {
    Simulator::new()
        .time_scale(60.0)
        .concurrency_limit(0)
        .balance_usd(1e9)
        .start()
        .await
        .unwrap()
}

fn video_job(i: usize) -> CreateVideoRequest {
    CreateVideoRequest::avatar("look_anna_studio").script(format!("Line {i}"))
}

/// One side of row 5 in a process of its own: `comparisons --batch-child <bulk|per-job>`.
/// Prints: completed, requests, polling requests, wall seconds, peak RSS MiB.
fn batch_child(args: &[String]) {
    let bulk = args.first().map(String::as_str) == Some("bulk");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let (completed, requests, polls, wall) = rt.block_on(async {
        use futures_util::StreamExt as _;
        let sim = open_simulator().await;
        // The default client: HTTP/1.1 on loopback.
        let client = Client::builder()
            .api_key(sim.api_key())
            .base_url(sim.base_url())
            .build()
            .unwrap();
        let started = Instant::now();
        let (completed, polls) = if bulk {
            let journal = tempfile::NamedTempFile::new().unwrap();
            let jobs = (0..JOBS).map(|i| Job::video(video_job(i)));
            let mut run = BatchRunner::new(client)
                .concurrency(JOBS)
                .journal(journal.path())
                .measure_credits(false)
                .poll(schedule(false))
                .run(futures_util::stream::iter(jobs.collect::<Vec<_>>()))
                .unwrap();
            let mut completed = 0;
            while let Some(outcome) = run.next().await {
                completed += usize::from(outcome.result.is_success());
            }
            (completed, run.summary().requests.polls())
        } else {
            let mut handles = Vec::with_capacity(JOBS);
            for i in 0..JOBS {
                let client = client.clone();
                handles.push(tokio::spawn(async move {
                    client
                        .videos()
                        .create_and_wait(video_job(i), schedule(false))
                        .await
                        .map(|o| o.is_completed())
                }));
            }
            let mut completed = 0;
            for handle in handles {
                completed += usize::from(matches!(handle.await, Ok(Ok(true))));
            }
            // Every request but the creates asked how a job was doing.
            (completed, sim.request_count() - JOBS as u64)
        };
        let wall = started.elapsed();
        let requests = sim.request_count();
        sim.shutdown().await;
        (completed, requests, polls, wall)
    });
    println!(
        "{completed} {requests} {polls} {} {}",
        wall.as_secs_f64(),
        peak_rss_mib().unwrap_or(f64::NAN)
    );
}

fn many_videos() {
    let run = |side: &str| -> Vec<f64> {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--batch-child", side])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .map(|f| f.parse().unwrap())
            .collect()
    };
    println!("5. many videos         {JOBS} video jobs at once, simulator in-process at 60× (a 65 s render takes ~1.1 s), default client (HTTP/1.1); each side in its own process");
    let bulk = run("bulk");
    let single = run("per-job");
    let per_job = |v: &[f64], i: usize| v[i] / JOBS as f64;
    println!(
        "   batch runner (bulk polls, journal on): {:.0}/{JOBS} completed, {:.3} polling requests/job, {:.2} requests/job in all, wall {:.2} s, peak RSS {:.1} MiB (goal ≤ 64 MiB)",
        bulk[0], per_job(&bulk, 2), per_job(&bulk, 1), bulk[3], bulk[4]
    );
    println!(
        "   baseline, create_and_wait per job:      {:.0}/{JOBS} completed, {:.3} polling requests/job, {:.2} requests/job in all, wall {:.2} s, peak RSS {:.1} MiB",
        single[0], per_job(&single, 2), per_job(&single, 1), single[3], single[4]
    );
    println!(
        "   polling requests: {:.1}× fewer with the runner (goal ≥ 20×)",
        single[2] / bulk[2]
    );
}

/// Row 6: deliveries handed to a runner one at a time, each for a finished video of a job in
/// flight; the time until that job's outcome comes out of the stream.
async fn webhook_first_latency() {
    use futures_util::StreamExt as _;
    const DELIVERED: usize = 200;
    let sim = open_simulator().await;
    let client = sim.client().unwrap();
    let (deliveries, inbox) = tokio::sync::mpsc::channel(16);
    let videos = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = std::sync::Arc::clone(&videos);
    let jobs = (0..DELIVERED).map(|i| Job::video(video_job(i)).key(format!("job-{i}")));
    let mut run = BatchRunner::new(client)
        .concurrency(DELIVERED)
        .measure_credits(false)
        .webhooks(inbox)
        .safety_net(Duration::from_secs(3600))
        .on_event(move |event| {
            if let BatchEvent::InFlight {
                video_id: Some(video_id),
                ..
            } = event
            {
                seen.lock().unwrap().push(video_id.clone());
            }
        })
        .run(futures_util::stream::iter(jobs.collect::<Vec<_>>()))
        .unwrap();
    // Let every render finish (65 simulated seconds), so a delivery can end its job.
    while videos.lock().unwrap().len() < DELIVERED {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let ids = videos.lock().unwrap().clone();
    let mut latencies = Vec::with_capacity(DELIVERED);
    for video_id in ids {
        let body = format!(
            r#"{{"event_type":"avatar_video.success","event_data":{{"video_id":"{video_id}"}}}}"#
        );
        let event = webhook::parse_unsigned_callback(body.as_bytes()).unwrap();
        let sent = Instant::now();
        deliveries.send(event).await.unwrap();
        let outcome = run.next().await.unwrap();
        assert!(outcome.result.is_success(), "{}", outcome.result);
        latencies.push(sent.elapsed().as_secs_f64() * 1000.0);
    }
    latencies.sort_by(f64::total_cmp);
    let p99 = latencies[(latencies.len() * 99).div_ceil(100) - 1];
    let median = median(&mut latencies);
    println!("6. webhook-first       {DELIVERED} deliveries, one at a time, each for a finished video of a job in flight (the runner fetches the video, then the outcome comes out)");
    println!("   delivery → outcome: median {median:.2} ms, p99 {p99:.2} ms (goal < 50 ms); polls during the run: {}", run.summary().requests.polls());
    sim.shutdown().await;
}

/// Row 7: the journal lines of 10,000 jobs (sent, created, video known, completed), appended
/// as a run appends them; then 1,000 jobs with the `creating` records synced to the disk, one
/// sync per job and one per ten (creates sent together share a sync).
fn journal_overhead() {
    const JOURNALED: usize = 10_000;
    const SYNCED: usize = 1_000;
    let mut per_job = Vec::new();
    let mut bytes = 0;
    for _ in 0..5 {
        let dir = tempfile::tempdir().unwrap();
        let started = Instant::now();
        bytes =
            heygen_api::batch::journal_sample_jobs(&dir.path().join("j"), JOURNALED, None).unwrap();
        per_job.push(started.elapsed().as_secs_f64() * 1e6 / JOURNALED as f64);
    }
    println!("7. journal             the 4 lines of a job (sent, created, video known, completed), {JOURNALED} jobs × 5 runs; then {SYNCED} jobs × 3 runs with a sync per job and per 10 jobs (temporary directory: {})", std::env::temp_dir().display());
    println!(
        "   unsynced {:.2} µs/job (median), {} bytes/job",
        median(&mut per_job),
        bytes / JOURNALED as u64
    );
    for group in [1, 10] {
        let mut per_job = Vec::new();
        for _ in 0..3 {
            let dir = tempfile::tempdir().unwrap();
            let started = Instant::now();
            heygen_api::batch::journal_sample_jobs(&dir.path().join("j"), SYNCED, Some(group))
                .unwrap();
            per_job.push(started.elapsed().as_secs_f64() * 1e6 / SYNCED as f64);
        }
        println!(
            "   synced every {group:>2} creates: {:.1} µs/job (median)",
            median(&mut per_job)
        );
    }
}

/// Row 10 in a process of its own, so that its peak memory is its own:
/// `comparisons --resume-child <journal> <jobs>`. The client points at a closed port: a
/// resume of finished jobs sends nothing.
fn resume_child(args: &[String]) {
    let journal = std::path::PathBuf::from(&args[0]);
    let jobs: usize = args[1].parse().unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let started = Instant::now();
    let (done, summary) = rt.block_on(async {
        use futures_util::StreamExt as _;
        let client = heygen_api::Client::builder()
            .api_key("unused")
            .base_url("http://127.0.0.1:9")
            .build()
            .unwrap();
        let input = futures_util::stream::iter((0..jobs).map(|i| {
            Job::video_agent(heygen_api::CreateVideoAgentRequest::new(format!(
                "Clip {i}"
            )))
            .key(format!("job-{i}"))
        }));
        let mut run = BatchRunner::new(client)
            .measure_credits(false)
            .journal(&journal)
            .run(input)
            .unwrap();
        let mut done = 0usize;
        while let Some(outcome) = run.next().await {
            done += usize::from(outcome.result.name() == "already_finished");
        }
        (done, run.summary())
    });
    println!(
        "{done} {} {} {}",
        started.elapsed().as_secs_f64(),
        peak_rss_mib().unwrap_or(f64::NAN),
        summary.requests.total()
    );
}

/// Row 10: the resume of a generated 1,000,000-job journal.
/// Row 10's status reading, in a process of its own: `comparisons --status-child <journal>
/// [whole]`, the counts `heygen batch status` prints, through `journal_jobs` (or, with
/// `whole`, `JournalSummary::read`). Prints jobs, seconds and peak RSS MiB.
fn status_child(args: &[String]) {
    let started = Instant::now();
    let jobs = if args.get(1).map(String::as_str) == Some("whole") {
        let summary = heygen_api::batch::JournalSummary::read(&args[0]).unwrap();
        black_box(summary.counts());
        summary.jobs.len() as u64
    } else {
        let read = heygen_api::batch::journal_jobs(&args[0], |_, _| {}).unwrap();
        black_box(&read.counts);
        read.jobs
    };
    println!(
        "{jobs} {} {}",
        started.elapsed().as_secs_f64(),
        peak_rss_mib().unwrap_or(f64::NAN)
    );
}

fn resume_at_scale() {
    const RESUMED: usize = 1_000_000;
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("campaign.journal");
    let bytes = heygen_api::batch::journal_sample_jobs(&journal, RESUMED, None).unwrap();
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .arg("--resume-child")
        .arg(&journal)
        .arg(RESUMED.to_string())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let f: Vec<&str> = text.split_whitespace().collect();
    println!("10. resume             {RESUMED} finished jobs in a generated journal ({:.0} MiB, 4 lines a job), the same jobs given again; a process of its own", bytes as f64 / 1048576.0);
    println!(
        "   {}/{RESUMED} already done in {} s, peak RSS {} MiB (goal < 64 MiB), {} requests; stderr: {}",
        f.first().unwrap_or(&"?"),
        f.get(1).unwrap_or(&"?"),
        f.get(2).unwrap_or(&"?"),
        f.get(3).unwrap_or(&"?"),
        String::from_utf8_lossy(&out.stderr).trim()
    );
    let status = |extra: &[&str]| {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .arg("--status-child")
            .arg(&journal)
            .args(extra)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let f: Vec<String> = text.split_whitespace().map(str::to_string).collect();
        let at = |i: usize| f.get(i).cloned().unwrap_or_else(|| "?".into());
        (at(0), at(1), at(2))
    };
    let (jobs, seconds, peak) = status(&[]);
    let (whole_jobs, whole_seconds, whole_peak) = status(&["whole"]);
    println!(
        "   status of the same journal: journal_jobs (as heygen batch status reads it) {jobs} jobs in {seconds} s, peak RSS {peak} MiB; JournalSummary::read (every job whole) {whole_jobs} jobs in {whole_seconds} s, peak RSS {whole_peak} MiB"
    );
}

/// Builds delivery `i` of a phase of row 11: its headers and body.
#[cfg(feature = "receiver")]
type Make = std::sync::Arc<dyn Fn(usize) -> (reqwest::header::HeaderMap, Vec<u8>) + Send + Sync>;

/// Row 11: the webhook receiver under load on loopback, in phases of `PER_PHASE` deliveries
/// sent by 32 concurrent clients (keep-alive HTTP/1.1), each phase bounded to two minutes.
#[cfg(feature = "receiver")]
async fn receiver_load() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use heygen_api::batch::WebhookReceiver;

    const SECRET: &str = "whsec_load";
    const WORKERS: usize = 32;
    const PER_PHASE: usize = 10_000;
    // The crate's client installs the TLS provider a bare reqwest client needs.
    let _ = Client::builder().api_key("k").build();
    let (receiver, mut events) = WebhookReceiver::builder(Verifier::new(SECRET))
        .start("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let handed = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&handed);
    let drain = tokio::spawn(async move {
        while events.recv().await.is_some() {
            counter.fetch_add(1, Ordering::Relaxed);
        }
    });
    let url = format!("http://{}/webhooks", receiver.local_addr());
    let http = reqwest::Client::new();
    let body = |i: usize| {
        format!(r#"{{"event_type":"avatar_video.success","event_data":{{"video_id":"vid_{i}"}}}}"#)
            .into_bytes()
    };
    // A phase: the deliveries `make` builds, sent by WORKERS clients; wall time and statuses.
    let phase =
        |make: Arc<dyn Fn(usize) -> (reqwest::header::HeaderMap, Vec<u8>) + Send + Sync>| {
            let http = http.clone();
            let url = url.clone();
            async move {
                let next = Arc::new(AtomicUsize::new(0));
                let started = Instant::now();
                let mut workers = Vec::new();
                for _ in 0..WORKERS {
                    let (http, url, next, make) = (
                        http.clone(),
                        url.clone(),
                        Arc::clone(&next),
                        Arc::clone(&make),
                    );
                    workers.push(tokio::spawn(async move {
                        let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
                        loop {
                            let i = next.fetch_add(1, Ordering::Relaxed);
                            if i >= PER_PHASE {
                                return statuses;
                            }
                            let (headers, body) = make(i);
                            let status =
                                match http.post(&url).headers(headers).body(body).send().await {
                                    Ok(answer) => answer.status().as_u16(),
                                    Err(_) => 0,
                                };
                            *statuses.entry(status).or_default() += 1;
                        }
                    }));
                }
                let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
                let all = futures_util::future::join_all(workers);
                if let Ok(done) = tokio::time::timeout(Duration::from_secs(120), all).await {
                    for worker in done.into_iter().flatten() {
                        for (status, n) in worker {
                            *statuses.entry(status).or_default() += n;
                        }
                    }
                }
                (started.elapsed(), statuses)
            }
        };
    println!("11. receiver           batch::WebhookReceiver on loopback, {WORKERS} concurrent clients (reqwest, keep-alive HTTP/1.1), {PER_PHASE} deliveries a phase, bounded to 2 min each; default limits");
    let phases: Vec<(&str, Make)> = vec![
        (
            "new events",
            Arc::new(move |i| {
                let body = body(i);
                (
                    webhook::sign(SECRET, &body, webhook::now_unix(), &format!("evt_{i}")),
                    body,
                )
            }),
        ),
        (
            "one event repeated",
            Arc::new(move |_| {
                let body = body(0);
                (
                    webhook::sign(SECRET, &body, webhook::now_unix(), "evt_0"),
                    body,
                )
            }),
        ),
        (
            "hostile",
            Arc::new(move |i| {
                let now = webhook::now_unix();
                let event = format!("evt_h{i}");
                match i % 4 {
                    0 => {
                        let body = body(i);
                        (webhook::sign("whsec_forged", &body, now, &event), body)
                    }
                    1 => (reqwest::header::HeaderMap::new(), body(i)),
                    2 => {
                        let body = vec![b' '; 100 * 1024];
                        (webhook::sign(SECRET, &body, now, &event), body)
                    }
                    _ => {
                        let body = b"{not json".to_vec();
                        (webhook::sign(SECRET, &body, now, &event), body)
                    }
                }
            }),
        ),
    ];
    for (name, make) in phases {
        let before = receiver.stats();
        let (wall, statuses) = phase(make).await;
        tokio::time::sleep(Duration::from_millis(50)).await;
        let after = receiver.stats();
        let answered: usize = statuses.values().sum();
        println!(
            "   {name:<19} {:>8.0} deliveries/s ({answered} answered in {:.2} s); statuses {statuses:?}; counted: accepted {}, duplicates {}, forged {}, unsigned {}, too large {}, malformed {}",
            answered as f64 / wall.as_secs_f64(),
            wall.as_secs_f64(),
            after.accepted - before.accepted,
            after.duplicates - before.duplicates,
            after.forged - before.forged,
            after.unsigned - before.unsigned,
            after.too_large - before.too_large,
            after.malformed - before.malformed,
        );
    }
    println!(
        "   handed to the run: {} events (of {PER_PHASE} new); peak RSS of the process {:.1} MiB",
        handed.load(Ordering::Relaxed),
        peak_rss_mib().unwrap_or(f64::NAN)
    );
    drop(receiver);
    drain.abort();
    keep_alive_attack().await;
}

/// Row 11, the keep-alive attack: `ATTACKERS` connections (more than the receiver's 256
/// slots) each wait 2 s, then send a 2-byte unsigned `POST`, over and over on one keep-alive
/// connection, connecting again (and waiting again) whenever the receiver closes it, while `GENUINE` signed deliveries, one after another and
/// each on a new connection as a webhook sender makes them, are timed from connect to answer.
/// The same deliveries are timed with no attack first. A delivery not answered within 20 s
/// counts as lost (HeyGen would retry it later).
#[cfg(feature = "receiver")]
async fn keep_alive_attack() {
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    use std::sync::Arc;

    use heygen_api::batch::WebhookReceiver;
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    const SECRET: &str = "whsec_attack";
    const ATTACKERS: usize = 400;
    const GENUINE: usize = 50;
    let (receiver, mut events) = WebhookReceiver::builder(Verifier::new(SECRET))
        .start("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let address = receiver.local_addr();
    let drain = tokio::spawn(async move { while events.recv().await.is_some() {} });

    // One request over `stream`, its answer read; false when the connection is done.
    async fn exchange(stream: &mut tokio::net::TcpStream, request: &[u8]) -> bool {
        if stream.write_all(request).await.is_err() {
            return false;
        }
        let mut answer = Vec::new();
        let mut chunk = [0u8; 1024];
        loop {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return false,
                Ok(n) => answer.extend_from_slice(&chunk[..n]),
            }
            let text = String::from_utf8_lossy(&answer).to_ascii_lowercase();
            if let Some(end) = text.find("\r\n\r\n") {
                let length: usize = text
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length: "))
                    .and_then(|n| n.trim().parse().ok())
                    .unwrap_or(0);
                if answer.len() >= end + 4 + length {
                    return !text.contains("connection: close");
                }
            }
        }
    }
    // The genuine deliveries, timed; `label` names the phase.
    let genuine = |label: &'static str, first: usize| async move {
        let mut waits = Vec::new();
        let mut lost = 0;
        for i in first..first + GENUINE {
            let body = format!(
                r#"{{"event_type":"avatar_video.success","event_data":{{"video_id":"vid_{i}"}}}}"#
            );
            let mut request = format!(
                "POST /webhooks HTTP/1.1\r\nhost: r\r\ncontent-length: {}\r\n",
                body.len()
            );
            for (name, value) in &webhook::sign(
                SECRET,
                body.as_bytes(),
                webhook::now_unix(),
                &format!("evt_g{i}"),
            ) {
                request.push_str(&format!("{name}: {}\r\n", value.to_str().unwrap()));
            }
            request.push_str("\r\n");
            request.push_str(&body);
            let started = Instant::now();
            let answered = tokio::time::timeout(Duration::from_secs(20), async {
                let mut stream = tokio::net::TcpStream::connect(address).await.ok()?;
                exchange(&mut stream, request.as_bytes())
                    .await
                    .then_some(())
            })
            .await;
            match answered {
                Ok(Some(())) => waits.push(started.elapsed()),
                _ => lost += 1,
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        waits.sort();
        let at = |q: f64| {
            waits
                .get(((waits.len() as f64 - 1.0) * q).round() as usize)
                .map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0)
        };
        println!(
            "   {label:<19} genuine deliveries answered {}/{GENUINE}: median {:.2} ms, p90 {:.2} ms, max {:.2} ms; lost (no answer in 20 s) {lost}",
            waits.len(),
            at(0.5),
            at(0.9),
            at(1.0),
        );
    };
    println!("   keep-alive attack: {ATTACKERS} connections, each idle 2 s then an unsigned 2-byte POST, over and over on one keep-alive connection (connecting again when closed); {GENUINE} signed deliveries one after another, each on a new connection");
    genuine("no attack", 0).await;

    let stop = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicU64::new(0));
    let mut attackers = Vec::new();
    for _ in 0..ATTACKERS {
        let (stop, sent) = (Arc::clone(&stop), Arc::clone(&sent));
        attackers.push(tokio::spawn(async move {
            let request = b"POST /webhooks HTTP/1.1\r\nhost: r\r\ncontent-length: 2\r\n\r\n{}";
            while !stop.load(Ordering::Relaxed) {
                let Ok(mut stream) = tokio::net::TcpStream::connect(address).await else {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                };
                // Idle on its connection (holding a slot), then a request, as long as the
                // connection lasts; then the same on a new one.
                while !stop.load(Ordering::Relaxed) {
                    tokio::time::sleep(Duration::from_secs(2)).await;
                    sent.fetch_add(1, Ordering::Relaxed);
                    if !exchange(&mut stream, request).await {
                        break;
                    }
                }
            }
        }));
    }
    // Time for the attack to take the slots it can.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let before = receiver.stats();
    genuine("under attack", GENUINE).await;
    let after = receiver.stats();
    stop.store(true, Ordering::Relaxed);
    for attacker in attackers {
        attacker.abort();
    }
    println!(
        "   during the timed deliveries: attack requests {} in all, refused unsigned {}, connections closed to make room {}, times every slot had delivered {}; peak open {}",
        sent.load(Ordering::Relaxed),
        after.unsigned - before.unsigned,
        after.evicted - before.evicted,
        after.full - before.full,
        after.peak_open,
    );
    drop(receiver);
    drain.abort();
}

/// Waits until the parent closes this child's standard input.
async fn until_stdin_closes() {
    let _ = tokio::task::spawn_blocking(|| {
        let mut rest = String::new();
        let _ = std::io::Read::read_to_string(&mut std::io::stdin(), &mut rest);
    })
    .await;
}

/// This process's resident memory now (`VmRSS`), in MiB.
fn rss_mib() -> Option<f64> {
    memory_mib("VmRSS:")
}

/// The simulator for row 12 in a process of its own: `comparisons --sim-child <scale>`. Prints
/// its base URL and key, and serves until its standard input closes; then prints its resident
/// memory when it started serving and now (MiB), and how many videos it holds.
fn sim_child(args: &[String]) {
    let scale: f64 = args[0].parse().unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let sim = Simulator::new()
            .time_scale(scale)
            .concurrency_limit(0)
            .balance_usd(1e12)
            .start()
            .await
            .unwrap();
        println!("{} {}", sim.base_url(), sim.api_key());
        let before = rss_mib().unwrap_or(f64::NAN);
        until_stdin_closes().await;
        println!(
            "{before} {} {}",
            rss_mib().unwrap_or(f64::NAN),
            sim.video_count()
        );
        sim.shutdown().await;
    });
}

/// For row 12's large run, a stand-in for the API in a process of its own: `comparisons
/// --stub-child`. It keeps no state (a video is finished as soon as it is asked about), so that
/// a run of any size measures the runner and not a simulator that remembers every video.
/// Prints its base URL, serves until its standard input closes.
fn stub_child() {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Arc;

    use axum::extract::{Path, Query};
    use axum::routing::post;
    use axum::Json;

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let next = Arc::new(AtomicU64::new(0));
        let app = Router::new()
            .route(
                "/v3/videos",
                post(move || {
                    let id = next.fetch_add(1, Ordering::Relaxed);
                    async move {
                        Json(serde_json::json!({"data": {"output_format": "mp4", "status": "pending", "video_id": format!("vid_{id:012}")}}))
                    }
                }),
            )
            .route(
                "/v3/videos/statuses",
                get(|Query(query): Query<std::collections::HashMap<String, String>>| async move {
                    let ids = query.get("video_ids").cloned().unwrap_or_default();
                    let data: Vec<serde_json::Value> = ids
                        .split(',')
                        .filter(|id| !id.is_empty())
                        .map(|id| serde_json::json!({"batch_id": null, "error": null, "item_index": null, "status": "completed", "video_id": id}))
                        .collect();
                    Json(serde_json::json!({"data": data, "has_more": false, "next_token": null}))
                }),
            )
            .route(
                "/v3/videos/{id}",
                get(|Path(id): Path<String>| async move {
                    Json(serde_json::json!({"data": {
                        "id": id, "status": "completed", "title": "stub", "duration": 2.0,
                        "created_at": 1_796_201_456u64, "completed_at": 1_796_201_457u64,
                        "video_url": format!("http://127.0.0.1:9/files/{id}.mp4"),
                        "failure_code": null, "failure_message": null
                    }}))
                }),
            );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        println!("http://{} stub_key", listener.local_addr().unwrap());
        let server = tokio::spawn(std::future::IntoFuture::into_future(axum::serve(listener, app)));
        until_stdin_closes().await;
        server.abort();
    });
}

/// One run of row 12: `comparisons --campaign-child <base url> <key> <jobs> <scale>`. Prints:
/// completed, requests, polling requests, journal syncs, wall seconds, peak RSS MiB.
fn campaign_child(args: &[String]) {
    let (base, key) = (args[0].clone(), args[1].clone());
    let jobs: usize = args[2].parse().unwrap();
    let scale: f64 = args[3].parse().unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let (completed, summary) = rt.block_on(async {
        use futures_util::StreamExt as _;
        // The default client.
        let client = Client::builder()
            .api_key(key)
            .base_url(base)
            .build()
            .unwrap();
        let schedule = WaitOptions::new()
            .initial_interval(Duration::from_secs(2).div_f64(scale))
            .max_interval(Duration::from_secs(30).div_f64(scale));
        // Jobs made as the runner takes them: the input is never all in memory.
        let input = futures_util::stream::iter((0..jobs).map(|i| Job::video(video_job(i))));
        let mut run = BatchRunner::new(client)
            .concurrency(1000)
            .journal(dir.path().join("campaign.journal"))
            .measure_credits(false)
            .poll(schedule)
            .run(input)
            .unwrap();
        let mut completed = 0usize;
        while let Some(outcome) = run.next().await {
            completed += usize::from(outcome.result.is_success());
        }
        (completed, run.summary())
    });
    println!(
        "{completed} {} {} {} {} {}",
        summary.requests.total(),
        summary.requests.polls(),
        summary.journal_syncs,
        started.elapsed().as_secs_f64(),
        peak_rss_mib().unwrap_or(f64::NAN)
    );
}

/// A server for rows 12 and 13 in a process of its own: the child, and the URL and key (if
/// any) it prints first.
fn serve_child(args: &[&str]) -> (std::process::Child, String, String, ChildLines) {
    use std::io::BufRead as _;
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let (base, key) = first.split_once(' ').unwrap_or((first.as_str(), ""));
    (child, base.to_string(), key.to_string(), lines)
}

/// What a server child prints after its first line.
type ChildLines = std::io::Lines<std::io::BufReader<std::process::ChildStdout>>;

/// Row 12: a campaign of 10,000 jobs against the simulator, then 100,000 against a stateless
/// stand-in and against the simulator with renders near-instant (what each request costs the
/// simulator follows the jobs in flight, not all it remembers).
fn campaign() {
    const SCALE: f64 = 120.0;
    println!("12. campaign           video jobs through the batch runner (journal on, 1,000 in flight, default client, polls 2 s growing to 30 s, compressed), the server in a process of its own, the runner in another");
    let runs: [(&[&str], usize, f64, &str); 3] = [
        (
            &["--sim-child", "120"],
            10_000,
            SCALE,
            "the simulator at 120× (a 65 s render takes ~0.55 s)",
        ),
        (
            &["--stub-child"],
            100_000,
            200.0,
            "a stateless stand-in that finishes each video at once (polls compressed 200×)",
        ),
        // Like for like with the stand-in: renders near-instant (65 s in 11 ms), the same
        // polls; what differs is the simulator's own cost per request.
        (
            &["--sim-child", "6000"],
            100_000,
            200.0,
            "the simulator at 6000× (a 65 s render takes ~11 ms; polls compressed 200×)",
        ),
    ];
    for (server, jobs, scale, against) in runs {
        let (mut child, base, key, mut lines) = serve_child(server);
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--campaign-child",
                &base,
                &key,
                &jobs.to_string(),
                &scale.to_string(),
            ])
            .output()
            .unwrap();
        drop(child.stdin.take());
        // The simulator's memory: what it holds after the run, over what it held before.
        let memory: Vec<f64> = lines
            .next()
            .and_then(Result::ok)
            .unwrap_or_default()
            .split_whitespace()
            .filter_map(|f| f.parse().ok())
            .collect();
        let _ = child.wait();
        let f: Vec<f64> = String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .filter_map(|f| f.parse().ok())
            .collect();
        if f.len() < 6 {
            println!(
                "   {jobs} jobs: the run failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            continue;
        }
        println!(
            "   {jobs:>7} jobs against {against}: {:.0} completed, {:.3} requests/job ({:.3} polling), {:.0} journal syncs, wall {:.1} s, peak RSS of the runner {:.1} MiB (goal < 64 MiB)",
            f[0],
            f[1] / jobs as f64,
            f[2] / jobs as f64,
            f[3],
            f[4],
            f[5]
        );
        if let [before, after, videos] = memory[..] {
            println!(
                "      the simulator's resident memory: {before:.1} MiB serving, {after:.1} MiB holding {videos:.0} videos after the run: {:.2} KiB a job",
                (after - before) * 1024.0 / jobs as f64
            );
        }
    }
}

/// Row 13's server, in a process of its own: `comparisons --bytes-server-child <bytes>`. Every
/// `GET` answers `<bytes>` bytes (one 1 MiB buffer, sent again and again, with its length
/// announced). Prints its URL, serves until its standard input closes.
fn bytes_server_child(args: &[String]) {
    let size: u64 = args[0].parse().unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let chunk = bytes::Bytes::from(vec![0x5a_u8; 1 << 20]);
        use axum::extract::{Path, State};
        use axum::routing::{post, put};
        use axum::Json;
        let app = Router::new()
            // The direct-upload flow, answered at once; the PUT's bytes are read and dropped.
            .route(
                "/v3/assets/direct-uploads",
                post(
                    |State(base): State<String>, Json(request): Json<serde_json::Value>| async move {
                        Json(serde_json::json!({"data": {
                            "asset_id": "asset_1", "upload_url": format!("{base}/put/asset_1"),
                            "upload_headers": {}, "expires_in_seconds": 3600,
                            "max_bytes": request["size_bytes"], "status": "pending_upload"
                        }}))
                    },
                ),
            )
            .route(
                "/put/{id}",
                put(|body: axum::body::Body| async move {
                    use futures_util::StreamExt as _;
                    let mut stream = body.into_data_stream();
                    while let Some(Ok(_)) = stream.next().await {}
                    ""
                }),
            )
            .route(
                "/v3/assets/{id}/complete",
                post(|Path(id): Path<String>| async move {
                    Json(serde_json::json!({"data": {
                        "asset_id": id, "url": "http://127.0.0.1:9/a.mp4",
                        "mime_type": "video/mp4", "size_bytes": 1, "status": "processing"
                    }}))
                }),
            )
            .route(
            "/file.mp4",
            get(move || {
                let chunk = chunk.clone();
                async move {
                    let chunks = size.div_ceil(chunk.len() as u64);
                    let stream = futures_util::stream::iter((0..chunks).map(move |i| {
                        let left = size - i * chunk.len() as u64;
                        let piece = chunk.slice(..(left.min(chunk.len() as u64) as usize));
                        Ok::<_, std::convert::Infallible>(piece)
                    }));
                    axum::response::Response::builder()
                        .header("content-length", size)
                        .header("content-type", "video/mp4")
                        .body(axum::body::Body::from_stream(stream))
                        .unwrap()
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let app = app.with_state(base.clone());
        println!("{base}/file.mp4");
        let server = tokio::spawn(std::future::IntoFuture::into_future(axum::serve(
            listener, app,
        )));
        until_stdin_closes().await;
        server.abort();
    });
}

/// Row 13's crate side, in a process of its own: `comparisons --download-child <url> <path>
/// [unsynced | upload [unchecked] | sha256 | discard | reqwest]`. Prints bytes, seconds and peak RSS MiB.
fn download_child(args: &[String]) {
    // `scripts/wire-profile.sh` compares the runtimes: `COMPARISONS_RUNTIME=current`.
    let rt = if std::env::var("COMPARISONS_RUNTIME").as_deref() == Ok("current") {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap()
    };
    let started = Instant::now();
    let bytes = rt.block_on(async {
        if args.get(2).map(String::as_str) == Some("sha256") {
            // The ceiling of a checked upload: SHA-256 over the file, read as the upload reads it.
            use sha2::Digest as _;
            use std::io::Read as _;
            let mut file = std::fs::File::open(&args[1]).unwrap();
            let mut hasher = sha2::Sha256::new();
            let mut chunk = vec![0u8; 1 << 20];
            let mut total = 0u64;
            loop {
                let read = file.read(&mut chunk).unwrap();
                if read == 0 {
                    break;
                }
                hasher.update(&chunk[..read]);
                total += read as u64;
            }
            std::hint::black_box(hasher.finalize());
            return total;
        }
        if args.get(2).map(String::as_str) == Some("upload") {
            let base = args[0].trim_end_matches("/file.mp4");
            let client = Client::builder()
                .api_key("unused")
                .base_url(base)
                .build()
                .unwrap();
            let checksum = args.get(3).map(String::as_str) != Some("unchecked");
            let asset = client
                .assets()
                .upload(&args[1])
                .checksum(checksum)
                .await
                .unwrap();
            assert_eq!(asset.asset_id, "asset_1");
            return std::fs::metadata(&args[1]).unwrap().len();
        }
        let client = Client::builder().api_key("unused").build().unwrap();
        if args.get(2).map(String::as_str) == Some("reqwest") {
            // The control for the wire alone: reqwest as it comes, none of the crate.
            let http = reqwest::Client::new();
            let mut response = http.get(&args[0]).send().await.unwrap();
            let mut received = 0u64;
            while let Some(chunk) = response.chunk().await.unwrap() {
                received += chunk.len() as u64;
            }
            return received;
        }
        if args.get(2).map(String::as_str) == Some("discard") {
            // The wire alone: the body streamed into a writer that drops it.
            let video: heygen_api::VideoDetail = serde_json::from_value(serde_json::json!({
                "id": "v1", "status": "completed", "video_url": args[0]
            }))
            .unwrap();
            return client
                .videos()
                .download_to_writer(
                    &video,
                    heygen_api::VideoAsset::Video,
                    &mut tokio::io::sink(),
                )
                .await
                .unwrap()
                .bytes;
        }
        let durable = args.get(2).map(String::as_str) != Some("unsynced");
        client
            .download(&args[0], &args[1])
            .durable(durable)
            .await
            .unwrap()
            .bytes
    });
    println!(
        "{} {} {}",
        bytes,
        started.elapsed().as_secs_f64(),
        peak_rss_mib().unwrap_or(f64::NAN)
    );
}

/// Row 13: a 1 GiB download, the crate against curl, 3 rounds, sides alternating.
fn download_vs_curl() {
    const SIZE: u64 = 1 << 30;
    let missing = ["curl", "openssl"].into_iter().find(|tool| {
        std::process::Command::new(tool)
            .arg("version")
            .output()
            .is_err()
    });
    if let Some(tool) = missing {
        println!("13. download vs curl   skipped: no {tool}");
        return;
    }
    let (mut server, url, _, _) = serve_child(&["--bytes-server-child", &SIZE.to_string()]);
    // On the project's disk, as a real download would be (not a memory file system).
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let target = dir.path().join("file.mp4");
    // Each side starts with nothing of the last one's left to write: a file left in the
    // system's cache would be written to disk while the next side runs.
    let settle = || {
        let _ = std::process::Command::new("sync").status();
    };
    let timed = |command: &mut std::process::Command| {
        settle();
        let started = Instant::now();
        let status = command.status().unwrap();
        assert!(status.success());
        started.elapsed().as_secs_f64()
    };
    // The crate's side in a process of its own: seconds and peak RSS.
    let crate_side = |extra: &[&str]| {
        settle();
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .arg("--download-child")
            .arg(&url)
            .arg(&target)
            .args(extra)
            .output()
            .unwrap();
        let f: Vec<f64> = String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .filter_map(|f| f.parse().ok())
            .collect();
        assert_eq!(
            f.first().copied(),
            Some(SIZE as f64),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        (f[1], f[2])
    };
    let (mut ours, mut curl, mut curl_synced, mut rss) = (Vec::new(), Vec::new(), Vec::new(), 0f64);
    let (mut discarded, mut curl_discarded, mut unsynced) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..3 {
        curl_discarded.push(timed(
            std::process::Command::new("curl")
                .args(["-s", "-o", "/dev/null"])
                .arg(&url),
        ));
        discarded.push(crate_side(&["discard"]).0);
        let _ = std::fs::remove_file(&target);
        curl.push(timed(
            std::process::Command::new("curl")
                .args(["-s", "-o"])
                .arg(&target)
                .arg(&url),
        ));
        let _ = std::fs::remove_file(&target);
        curl_synced.push(timed(std::process::Command::new("sh").arg("-c").arg(
            format!(
                "curl -s -o '{}' '{url}' && sync -d '{}'",
                target.display(),
                target.display()
            ),
        )));
        let _ = std::fs::remove_file(&target);
        let (seconds, peak) = crate_side(&[]);
        ours.push(seconds);
        rss = rss.max(peak);
        let _ = std::fs::remove_file(&target);
        let (seconds, peak) = crate_side(&["unsynced"]);
        unsynced.push(seconds);
        rss = rss.max(peak);
    }
    // Uploads of a 1 GiB file (an MP4's first box, then zeros): the crate's whole direct-upload
    // flow against curl's PUT of the same file.
    {
        use std::io::{Seek as _, Write as _};
        let mut file = std::fs::File::create(&target).unwrap();
        file.set_len(SIZE).unwrap();
        file.seek(std::io::SeekFrom::Start(0)).unwrap();
        file.write_all(b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom")
            .unwrap();
    }
    let base = url.trim_end_matches("/file.mp4").to_string();
    let (mut up_ours, mut up_unchecked, mut up_curl, mut hashing, mut up_rss) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), 0f64);
    let mut up_curl_checked = Vec::new();
    for _ in 0..3 {
        up_curl.push(timed(
            std::process::Command::new("curl")
                .args(["-s", "-o", "/dev/null", "-T"])
                .arg(&target)
                .arg(format!("{base}/put/curl")),
        ));
        // What the crate's checked upload does, done with curl: the file's SHA-256 (OpenSSL's,
        // which uses the CPU's SHA instructions as sha2 does), then the PUT.
        up_curl_checked.push(timed(std::process::Command::new("sh").arg("-c").arg(
            format!(
                "openssl dgst -sha256 '{}' >/dev/null && curl -s -o /dev/null -T '{}' '{base}/put/curl'",
                target.display(),
                target.display()
            ),
        )));
        let (seconds, peak) = crate_side(&["upload"]);
        up_ours.push(seconds);
        up_rss = up_rss.max(peak);
        let (seconds, peak) = crate_side(&["upload", "unchecked"]);
        up_unchecked.push(seconds);
        up_rss = up_rss.max(peak);
        hashing.push(crate_side(&["sha256"]).0);
    }
    let (up_ours, up_unchecked, up_curl, up_curl_checked, hashing) = (
        median(&mut up_ours),
        median(&mut up_unchecked),
        median(&mut up_curl),
        median(&mut up_curl_checked),
        median(&mut hashing),
    );
    drop(server.stdin.take());
    let _ = server.wait();
    let (ours, unsynced, curl, curl_synced, discarded, curl_discarded) = (
        median(&mut ours),
        median(&mut unsynced),
        median(&mut curl),
        median(&mut curl_synced),
        median(&mut discarded),
        median(&mut curl_discarded),
    );
    let mib_s = |seconds: f64| SIZE as f64 / 1048576.0 / seconds;
    println!("13. download vs curl   1 GiB from a loopback server in its own process, to a file on the build disk; each side a process of its own, 3 rounds alternating, medians");
    println!(
        "   Client::download .durable(false) {:.0} MiB/s (renamed, left to the system's cache), curl -o {:.0} MiB/s → {:.2}× (goal ≥ 0.95×); peak RSS {rss:.1} MiB (either download)",
        mib_s(unsynced),
        mib_s(curl),
        curl / unsynced,
    );
    println!(
        "   Client::download {:.0} MiB/s (durable: synced, then renamed), curl -o + sync -d {:.0} MiB/s → {:.2}× (goal ≥ 0.95×); against curl -o alone {:.2}×",
        mib_s(ours),
        mib_s(curl_synced),
        curl_synced / ours,
        curl / ours
    );
    println!(
        "   the wire alone: download_to_writer into a sink {:.0} MiB/s; curl -o /dev/null {:.0} MiB/s → {:.2}×",
        mib_s(discarded),
        mib_s(curl_discarded),
        curl_discarded / discarded
    );
    println!(
        "   assets().upload .checksum(false) {:.0} MiB/s (create, PUT, complete), curl -T (the PUT alone) {:.0} MiB/s → {:.2}× (goal ≥ 0.95×); peak RSS {up_rss:.1} MiB (either upload)",
        mib_s(up_unchecked),
        mib_s(up_curl),
        up_curl / up_unchecked,
    );
    println!(
        "   assets().upload {:.0} MiB/s (checked, the default: create, PUT hashed as it is read, complete with the SHA-256), openssl dgst -sha256 + curl -T {:.0} MiB/s → {:.2}× (goal ≥ 0.95×); against curl -T alone {:.2}×; SHA-256 of the file alone, one thread: {:.0} MiB/s",
        mib_s(up_ours),
        mib_s(up_curl_checked),
        up_curl_checked / up_ours,
        up_curl / up_ours,
        mib_s(hashing)
    );
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo test --benches` asks for a listing.
    }
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "--batch-child") {
        return batch_child(&args[at + 1..]);
    }
    if let Some(at) = args.iter().position(|a| a == "--sim-child") {
        return sim_child(&args[at + 1..]);
    }
    if let Some(at) = args.iter().position(|a| a == "--bytes-server-child") {
        return bytes_server_child(&args[at + 1..]);
    }
    if let Some(at) = args.iter().position(|a| a == "--download-child") {
        return download_child(&args[at + 1..]);
    }
    if args.iter().any(|a| a == "--stub-child") {
        return stub_child();
    }
    if let Some(at) = args.iter().position(|a| a == "--campaign-child") {
        return campaign_child(&args[at + 1..]);
    }
    if let Some(at) = args.iter().position(|a| a == "--resume-child") {
        return resume_child(&args[at + 1..]);
    }
    if let Some(at) = args.iter().position(|a| a == "--status-child") {
        return status_child(&args[at + 1..]);
    }
    if let Some(at) = args.iter().position(|a| a == "--waits-child") {
        return waits_child(&args[at + 1..]);
    }
    if let Some(at) = args.iter().position(|a| a == "--calls") {
        return calls_child(&args[at + 1..]);
    }
    if let Some(at) = args.iter().position(|a| a == "--deliveries") {
        return deliveries_child(&args[at + 1..]);
    }
    // `cargo bench -- overhead webhook` runs only those comparisons.
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let wanted = |name: &str| only.is_empty() || only.iter().any(|o| name.contains(o.as_str()));
    println!("heygen-api benchmarks on {}", machine());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    if wanted("overhead") {
        rt.block_on(per_call_overhead());
    }
    if wanted("waits") {
        waits_at_scale();
    }
    if wanted("webhook") {
        webhook_verify();
    }
    if wanted("many") {
        many_videos();
    }
    if wanted("webhook-first") {
        rt.block_on(webhook_first_latency());
    }
    if wanted("journal") {
        journal_overhead();
    }
    #[cfg(feature = "receiver")]
    if wanted("receiver") {
        rt.block_on(receiver_load());
    }
    if wanted("campaign") {
        campaign();
    }
    if wanted("download") {
        download_vs_curl();
    }
    if wanted("resume") {
        resume_at_scale();
    }
    if wanted("build") {
        build_cost();
    }
}
