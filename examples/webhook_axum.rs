//! A webhook receiver: verifies each delivery, drops duplicates, answers 2xx at once and does
//! the work in the background.
//!
//! ```sh
//! HEYGEN_WEBHOOK_SECRET=whsec_... cargo run --example webhook_axum            # serve on :3000
//! cargo run --example webhook_axum -- --demo                                  # self-contained demo
//! ```
//!
//! With `--demo` it listens on a free local port, posts a signed delivery to itself twice (as
//! HeyGen does when it retries) plus a forged one, and prints what the receiver did.
//!
//! Facing the internet, refuse what is cheap to refuse first: a body over a small limit (a
//! delivery is a few hundred bytes), a repeat of an event already handled (by its
//! `Heygen-Event-Id`, before verifying it again), then a bad signature before any JSON is
//! parsed. Header and body timeouts and a cap on open connections need the server underneath:
//! `axum::serve` has no setting for them, so put the receiver behind a proxy that sets them,
//! or use `heygen_api::batch::WebhookReceiver` (feature `receiver`), which does all of this
//! and counts what it refuses.

use std::collections::{HashSet, VecDeque};
use std::future::IntoFuture as _;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use heygen_api::webhook::{self, Verifier, WebhookError, WebhookEvent};

/// Event ids already handled, oldest first, bounded.
#[derive(Default)]
struct Seen {
    ids: HashSet<String>,
    order: VecDeque<String>,
}

impl Seen {
    const CAPACITY: usize = 10_000;

    fn contains(&self, id: &str) -> bool {
        self.ids.contains(id)
    }

    /// Records `id`; false if it was already there.
    fn first_time(&mut self, id: &str) -> bool {
        if !self.ids.insert(id.to_string()) {
            return false;
        }
        self.order.push_back(id.to_string());
        if self.order.len() > Self::CAPACITY {
            if let Some(old) = self.order.pop_front() {
                self.ids.remove(&old);
            }
        }
        true
    }
}

#[derive(Clone)]
struct App {
    verifier: Verifier,
    seen: Arc<Mutex<Seen>>,
}

async fn receive(
    State(app): State<App>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, &'static str) {
    // A repeat of an event already handled changes nothing: answer it without verifying it
    // again (only verified ids are recorded, so a forged repeat gains nothing either).
    let repeated = headers
        .get(webhook::EVENT_ID_HEADER)
        .and_then(|id| id.to_str().ok())
        .is_some_and(|id| app.seen.lock().is_ok_and(|seen| seen.contains(id)));
    if repeated {
        println!("duplicate delivery: acknowledged, not processed again");
        return (StatusCode::OK, "duplicate");
    }
    // Verify against the raw bytes, before any JSON parsing.
    let delivery = match app.verifier.verify(&headers, &body) {
        Ok(delivery) => delivery,
        Err(WebhookError::BodyTooLarge { .. }) => {
            return (StatusCode::PAYLOAD_TOO_LARGE, "too large")
        }
        Err(WebhookError::MalformedPayload(_)) => return (StatusCode::BAD_REQUEST, "malformed"),
        // A body taken before under another event id (a replay, or HeyGen's retry): 2xx.
        Err(WebhookError::Replayed { .. }) => return (StatusCode::OK, "duplicate"),
        Err(error) => {
            eprintln!("refused a delivery: {error}");
            return (StatusCode::UNAUTHORIZED, "unverified");
        }
    };
    if let Some(id) = &delivery.event_id {
        let first = app
            .seen
            .lock()
            .map(|mut seen| seen.first_time(id))
            .unwrap_or(true);
        if !first {
            println!("duplicate delivery {id}: acknowledged, not processed again");
            return (StatusCode::OK, "duplicate");
        }
    }
    // Answer within HeyGen's 10 s; do the slow part elsewhere.
    tokio::spawn(async move {
        match &delivery.event {
            WebhookEvent::VideoAgentSuccess(event) => println!(
                "video ready: session {:?}, video {:?}, callback {:?}",
                event.session_id(),
                event.video_id(),
                event.callback_id()
            ),
            WebhookEvent::VideoAgentFail(event) => {
                println!("video failed: {:?}", event.failure_message())
            }
            other => println!("event {}", other.event_type()),
        }
    });
    (StatusCode::OK, "ok")
}

fn router(secret: &str) -> Router {
    let app = App {
        verifier: Verifier::new(secret),
        seen: Arc::default(),
    };
    Router::new()
        .route("/webhooks/heygen", post(receive))
        // Bodies over 64 KiB are refused with 413 as they arrive (axum's default is 2 MiB).
        .layer(DefaultBodyLimit::max(64 * 1024))
        .with_state(app)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let demo = std::env::args().any(|a| a == "--demo");
    let secret =
        std::env::var("HEYGEN_WEBHOOK_SECRET").unwrap_or_else(|_| "whsec_demo_secret".into());
    let address = if demo {
        "127.0.0.1:0"
    } else {
        "127.0.0.1:3000"
    };
    let listener = tokio::net::TcpListener::bind(address).await?;
    let url = format!("http://{}/webhooks/heygen", listener.local_addr()?);
    println!("listening on {url}");
    let server = tokio::spawn(axum::serve(listener, router(&secret)).into_future());
    if !demo {
        server.await??;
        return Ok(());
    }

    // reqwest is built here without a bundled TLS provider (see heygen-api's `rustls` feature);
    // a heygen client installs `ring` when it is built, a bare reqwest client needs it first.
    #[allow(deprecated)] // rustls 0.23.48: ring has no post-quantum key exchange
    let _ = rustls::crypto::ring::default_provider().install_default();
    let body = br#"{"event_type":"video_agent.success","event_data":{"session_id":"sess_1","video_id":"vid_1","callback_id":"order-42"}}"#;
    let http = reqwest::Client::new();
    let signed = webhook::sign(&secret, body, webhook::now_unix(), "evt_demo_1");
    for attempt in ["first delivery", "retried delivery"] {
        let answer = http
            .post(&url)
            .headers(signed.clone())
            .body(body.to_vec())
            .send()
            .await?;
        println!("{attempt}: {} {}", answer.status(), answer.text().await?);
    }
    let forged = webhook::sign("whsec_wrong", body, webhook::now_unix(), "evt_demo_2");
    let answer = http
        .post(&url)
        .headers(forged)
        .body(body.to_vec())
        .send()
        .await?;
    println!(
        "forged delivery: {} {}",
        answer.status(),
        answer.text().await?
    );
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    server.abort();
    Ok(())
}
