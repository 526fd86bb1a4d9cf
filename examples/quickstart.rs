//! Prompt in, finished video out — offline, against the simulator.
//!
//! ```sh
//! cargo run --example quickstart
//! ```
//!
//! Starts the HeyGen simulator in-process (a 60-second render takes one second), registers a
//! webhook endpoint served by a small local receiver, creates a Video Agent session from a
//! prompt with a file attached, waits for the video with visible progress, downloads the MP4,
//! verifies the signed webhook the simulator delivered, and prints a summary.
//!
//! Against the real API only the client differs: set `HEYGEN_API_KEY` and build it with
//! `Client::from_env()` (the webhook endpoint must then be a public HTTPS URL).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use heygen_api::simulator::Simulator;
use heygen_api::webhook::{Delivery, Verifier};
use heygen_api::{
    AgentRecord, Client, CreateVideoAgentRequest, EventType, FileInput, JobOutcome, Orientation,
    VideoAsset, WaitOptions,
};
use tokio::sync::mpsc;

/// A 1×1 PNG, standing in for your logo.
const LOGO_PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
    0x89, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0xF8, 0xCF, 0xC0, 0xF0,
    0x1F, 0x00, 0x05, 0x00, 0x01, 0xFF, 0x89, 0x99, 0x3D, 0x1D, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
];

/// The receiver's state: the endpoint secret (known once registered) and where to hand
/// verified deliveries.
#[derive(Clone)]
struct Receiver {
    secret: Arc<Mutex<Option<String>>>,
    deliveries: mpsc::UnboundedSender<Delivery>,
}

async fn receive(State(receiver): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let secret = receiver.secret.lock().ok().and_then(|s| s.clone());
    let Some(secret) = secret else {
        return StatusCode::SERVICE_UNAVAILABLE;
    };
    match Verifier::new(secret).verify(&headers, &body) {
        Ok(delivery) => {
            let _ = receiver.deliveries.send(delivery);
            StatusCode::OK
        }
        Err(error) => {
            eprintln!("webhook refused: {error}");
            StatusCode::UNAUTHORIZED
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let started = Instant::now();

    // 1. The simulator, in-process. Against the real API: `let client = Client::from_env()?;`
    let simulator = Simulator::new().time_scale(60.0).start().await?;
    let client = Client::builder()
        .api_key(simulator.api_key())
        .base_url(simulator.base_url())
        .build()?;
    eprintln!("simulator at {}", simulator.base_url());

    // 2. A local webhook receiver, registered as an endpoint.
    let (deliveries, mut delivered) = mpsc::unbounded_channel();
    let receiver = Receiver {
        secret: Arc::default(),
        deliveries,
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let hook_url = format!("http://{}/hooks/heygen", listener.local_addr()?);
    let app = Router::new()
        .route("/hooks/heygen", post(receive))
        .with_state(receiver.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let endpoint = client
        .webhooks()
        .create_endpoint(&hook_url)
        .events([EventType::VideoAgentSuccess, EventType::VideoAgentFail])
        .send()
        .await?;
    if let Ok(mut secret) = receiver.secret.lock() {
        *secret = endpoint.secret.clone().map(String::from);
    }
    eprintln!("webhook endpoint {} -> {hook_url}", endpoint.endpoint_id);

    // 3. Prompt in, with a file attached (type detected from its bytes).
    let request = CreateVideoAgentRequest::new(
        "A 30-second product demo for our note-taking app, upbeat, with our logo at the end",
    )
    .orientation(Orientation::Landscape)
    .file(FileInput::from_bytes(LOGO_PNG)?)
    .callback_id("quickstart-1");

    // 4. Wait, with visible progress.
    let options = WaitOptions::new()
        .initial_interval(Duration::from_millis(100))
        .max_interval(Duration::from_millis(500))
        .deadline(Duration::from_secs(60))
        .on_progress(|event| {
            let progress = event
                .progress
                .map(|p| format!(" {p:>3}%"))
                .unwrap_or_default();
            eprintln!(
                "  [{:>5.1}s] {:?} {}{progress}",
                event.elapsed.as_secs_f64(),
                event.phase,
                event.status.as_ref().map_or("(retrying)", |s| s.as_str())
            );
        });
    let outcome = client
        .video_agents()
        .create_and_wait(request, options)
        .await?;
    let (session_id, video) = match outcome {
        JobOutcome::Completed(AgentRecord::Video { session_id, video }) => (session_id, video),
        other => return Err(format!("no video: {other}").into()),
    };

    // 5. Download the MP4.
    let dir = std::env::temp_dir().join("heygen-quickstart");
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(format!("{}.mp4", video.id));
    let file = client
        .videos()
        .download(&video, VideoAsset::Video, &path)
        .await?;

    // 6. The signed webhook the simulator delivered, verified by the receiver.
    let delivery = tokio::time::timeout(Duration::from_secs(10), delivered.recv())
        .await
        .map_err(|_| "no webhook arrived within 10 s")?
        .ok_or("the receiver stopped")?;
    let event_callback = delivery
        .event
        .payload()
        .and_then(|p| p.callback_id().map(str::to_string))
        .unwrap_or_default();

    println!();
    println!("session   {}", session_id.unwrap_or_default());
    println!(
        "video     {} ({:?} s)",
        video.id,
        video.duration.unwrap_or_default()
    );
    println!("file      {} ({} bytes)", path.display(), file.bytes);
    println!(
        "webhook   {} {} (verified; callback id {event_callback})",
        delivery.event.event_type(),
        delivery.event_id.unwrap_or_default()
    );
    println!("done in   {:.1} s", started.elapsed().as_secs_f64());
    simulator.shutdown().await;
    Ok(())
}
