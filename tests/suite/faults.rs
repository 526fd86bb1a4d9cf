//! The fault suite: each fault ends in the right typed outcome, with no panic and no hang.
//!
//! Covered here: 429 storms, 5xx on create (one logical create), a create that takes effect
//! but whose answer is lost (one session with a key; never retried without one), a connection
//! reset mid-body (retried on a GET and a keyed create, never on a keyless create), and a
//! webhook delivery processed, unacknowledged and delivered again (de-duplicated by event id). Covered elsewhere:
//! 5xx bursts on GET, truncated JSON, an HTML 502, an empty 500, a server slower than the
//! timeout and keyless-POST behaviour (`tests/suite/resilience.rs`); session 404 after `video_id` and
//! unknown statuses (`tests/suite/simulator.rs`, `src/jobs/wait/tests.rs`); a list that repeats its token
//! (`tests/suite/transfers_and_waits.rs`).

use crate::common;
use std::collections::HashSet;

use crate::common::{cut_response, whole_response, ScriptedServer};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use heygen_api::simulator::Simulator;
use heygen_api::webhook::Verifier;
use heygen_api::{Client, CreateVideoAgentRequest, Error, RetryPolicy};

const NO_HANG: Duration = Duration::from_secs(30);

use crate::common::quick_wait as wait;

fn client(base: &str, key: &str, retries: u32) -> Client {
    Client::builder()
        .api_key(key)
        .base_url(base)
        .retry_policy(
            RetryPolicy::default()
                .max_retries(retries)
                .max_backoff(Duration::from_millis(20)),
        )
        .build()
        .unwrap()
}

/// A 429 comes before anything happens, so this proves the storm is ridden out, not that
/// keys prevent duplicates (the 500s after effect below prove that).
#[tokio::test]
async fn a_429_storm_is_ridden_out_and_every_create_gets_through() {
    let sim = Simulator::new()
        .time_scale(600.0)
        .rate_limit_every(2)
        .start()
        .await
        .unwrap();
    let client = client(&sim.base_url(), sim.api_key(), 4);
    for i in 0..5 {
        let outcome = tokio::time::timeout(
            NO_HANG,
            client
                .video_agents()
                .create_and_wait(CreateVideoAgentRequest::new(format!("Storm {i}")), wait()),
        )
        .await
        .expect("no hang")
        .unwrap();
        assert!(outcome.is_completed(), "{outcome}");
    }
    assert_eq!(sim.session_count(), 5, "each create got through once");
}

#[tokio::test]
async fn server_errors_on_create_are_retried_with_the_key_as_one_logical_create() {
    // Each 500 comes after the create took effect: without the key, every retry would make
    // another session.
    let sim = Simulator::new()
        .time_scale(600.0)
        .error_rate(0.5)
        .errors_after_effect(true)
        // Eleven sessions stay in flight: no cap to refuse the last ones (the refusal would
        // be hidden behind the injected 500), whatever the speed of the machine.
        .render_seconds(1e9)
        .concurrency_limit(0)
        .seed(3)
        .start()
        .await
        .unwrap();
    let client = client(&sim.base_url(), sim.api_key(), 10);
    for i in 0..5 {
        let created = tokio::time::timeout(
            NO_HANG,
            client
                .video_agents()
                .create(CreateVideoAgentRequest::new(format!("Once {i}"))),
        )
        .await
        .expect("no hang")
        .unwrap();
        assert!(created.session_id.starts_with("sess_"));
    }
    assert!(
        sim.request_count() > 5,
        "the seeded error rate failed no attempt, so nothing was retried"
    );
    assert_eq!(sim.session_count(), 5, "zero duplicate creates");
    let sessions_before_keyless = sim.session_count();

    // Without a key, a 500 on create is final: it is not repeated.
    let keyless = Client::builder()
        .api_key(sim.api_key())
        .base_url(sim.base_url())
        .auto_idempotency_key(false)
        .build()
        .unwrap();
    let mut failures = 0;
    for _ in 0..6 {
        let before = sim.request_count();
        if let Err(error) = keyless
            .video_agents()
            .create(CreateVideoAgentRequest::new("Keyless"))
            .await
        {
            assert_eq!(error.status().map(|s| s.as_u16()), Some(500));
            assert_eq!(
                sim.request_count() - before,
                1,
                "a keyless create is not retried on 500"
            );
            failures += 1;
        }
    }
    assert!(
        failures > 0,
        "the seeded 50 % error rate produced no failure"
    );
    assert_eq!(
        sim.session_count(),
        sessions_before_keyless + 6,
        "each keyless create, answered or not, took effect once and was sent once"
    );
}

/// The simulator applies the create, then loses its answer (`lose_response_every`): only the
/// idempotency key stands between a retry and a second session.
#[tokio::test]
async fn a_create_applied_but_unanswered_is_retried_into_exactly_one_session() {
    // Every answer is lost: four attempts with one key, one session.
    let sim = Simulator::new()
        .time_scale(600.0)
        .lose_response_every(1)
        .start()
        .await
        .unwrap();
    let error = tokio::time::timeout(
        NO_HANG,
        client(&sim.base_url(), sim.api_key(), 3)
            .video_agents()
            .create(CreateVideoAgentRequest::new("Once")),
    )
    .await
    .expect("no hang")
    .unwrap_err();
    assert!(matches!(error, Error::Transport { .. }), "{error:?}");
    assert_eq!(sim.request_count(), 4, "the create was retried");
    assert_eq!(sim.session_count(), 1, "one key, one session");

    // Every second answer is lost: the retry of the lost create gets the first one's answer.
    let sim = Simulator::new()
        .time_scale(600.0)
        .lose_response_every(2)
        .start()
        .await
        .unwrap();
    let client = client(&sim.base_url(), sim.api_key(), 3);
    client.videos().list().await.unwrap(); // request 1, answered
    let created = tokio::time::timeout(
        NO_HANG,
        client
            .video_agents()
            .create(CreateVideoAgentRequest::new("Once")),
    )
    .await
    .expect("no hang")
    .unwrap();
    assert_eq!(sim.request_count(), 3, "request 2 lost, request 3 replayed");
    assert_eq!(sim.session_count(), 1);
    let listed = client.video_agents().list().await.unwrap();
    assert_eq!(listed.items.len(), 1);
    assert_eq!(listed.items[0].session_id, created.session_id);
}

#[tokio::test]
async fn a_keyless_create_whose_answer_is_lost_is_not_retried() {
    let sim = Simulator::new()
        .time_scale(600.0)
        .lose_response_every(1)
        .start()
        .await
        .unwrap();
    let keyless = Client::builder()
        .api_key(sim.api_key())
        .base_url(sim.base_url())
        .auto_idempotency_key(false)
        .retry_policy(RetryPolicy::default().max_backoff(Duration::from_millis(20)))
        .build()
        .unwrap();
    let error = tokio::time::timeout(
        NO_HANG,
        keyless
            .video_agents()
            .create(CreateVideoAgentRequest::new("Keyless")),
    )
    .await
    .expect("no hang")
    .unwrap_err();
    assert!(matches!(error, Error::Transport { .. }), "{error:?}");
    assert!(!error.is_retryable(), "what the loop did: no retry");
    assert_eq!(sim.request_count(), 1, "a keyless create is sent once");
    assert_eq!(sim.session_count(), 1, "and it did take effect");
}

/// Answers its first `cut` connections (all of them for `None`) with a 200 that announces a
/// 2,000-byte body, sends a few bytes and hangs up; later ones with the whole `body`.
fn resetting_server(cut: Option<usize>, body: &str) -> ScriptedServer {
    let short = cut_response(
        "application/json",
        2000,
        br#"{"data": {"id": "v1", "status": "comp"#,
    );
    let mut script = vec![short; cut.unwrap_or(1)];
    if cut.is_some() {
        script.push(whole_response("application/json", body.as_bytes()));
    }
    ScriptedServer::start(script)
}

const VIDEO: &str = r#"{"data":{"id":"v1","status":"completed"}}"#;
const SESSION: &str =
    r#"{"data":{"session_id":"sess_1","status":"thinking","created_at":1711929600}}"#;

#[tokio::test]
async fn a_connection_reset_mid_body_is_a_transport_error() {
    let server = resetting_server(None, VIDEO);
    let base = server.base.clone();
    let client = client(&base, "k", 0);
    let error = tokio::time::timeout(NO_HANG, client.videos().get("v1"))
        .await
        .expect("no hang")
        .unwrap_err();
    assert!(matches!(error, Error::Transport { .. }), "{error:?}");
    assert!(error.is_retryable());
    assert_eq!(server.requests(), 1);
}

#[tokio::test]
async fn a_get_whose_body_is_cut_short_is_retried() {
    let server = resetting_server(Some(1), VIDEO);
    let base = server.base.clone();
    let video = tokio::time::timeout(NO_HANG, client(&base, "k", 2).videos().get("v1"))
        .await
        .expect("no hang")
        .unwrap();
    assert_eq!(video.id, "v1");
    assert_eq!(server.requests(), 2);
}

#[tokio::test]
async fn a_create_whose_response_is_cut_short_is_repeated_only_with_its_key() {
    // Without a key the create may have been accepted: it is never sent twice.
    let server = resetting_server(None, SESSION);
    let base = server.base.clone();
    let keyless = Client::builder()
        .api_key("k")
        .base_url(&base)
        .auto_idempotency_key(false)
        .retry_policy(RetryPolicy::default().max_backoff(Duration::from_millis(20)))
        .build()
        .unwrap();
    let request = || CreateVideoAgentRequest::new("Once");
    let error = tokio::time::timeout(NO_HANG, keyless.video_agents().create(request()))
        .await
        .expect("no hang")
        .unwrap_err();
    assert!(matches!(error, Error::Transport { .. }), "{error:?}");
    assert_eq!(server.header("idempotency-key"), vec![None]);

    // With its (automatic) key it is repeated, and every attempt carries the same key.
    let server = resetting_server(Some(1), SESSION);
    let base = server.base.clone();
    let created = tokio::time::timeout(
        NO_HANG,
        client(&base, "k", 2).video_agents().create(request()),
    )
    .await
    .expect("no hang")
    .unwrap();
    assert_eq!(created.session_id, "sess_1");
    let keys = server.header("idempotency-key");
    assert_eq!(keys.len(), 2);
    assert!(keys[0].is_some() && keys[0] == keys[1], "{keys:?}");
}

#[derive(Clone, Default)]
struct Receiver {
    deliveries: Arc<Mutex<Vec<(HeaderMap, Bytes)>>>,
    processed: Arc<Mutex<HashSet<String>>>,
    effects: Arc<Mutex<u32>>,
    secret: Arc<Mutex<String>>,
}

/// Verifies and de-duplicates on the event id, then acknowledges; the first two
/// acknowledgements fail (a receiver whose answer is lost after it did its work), so the same
/// event arrives again.
async fn receive(State(r): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let secret = r.secret.lock().unwrap().clone();
    let Ok(delivery) = Verifier::new(secret).verify(&headers, &body) else {
        return StatusCode::UNAUTHORIZED;
    };
    let count = {
        let mut deliveries = r.deliveries.lock().unwrap();
        deliveries.push((headers.clone(), body.clone()));
        deliveries.len()
    };
    let id = delivery.event_id.expect("deliveries carry an event id");
    if r.processed.lock().unwrap().insert(id) {
        // First sight of this event: the work happens here, once.
        *r.effects.lock().unwrap() += 1;
    }
    if count <= 2 {
        StatusCode::BAD_GATEWAY
    } else {
        StatusCode::OK
    }
}

#[tokio::test]
async fn a_webhook_retried_three_times_is_processed_once() {
    let sim = Simulator::new().time_scale(600.0).start().await.unwrap();
    let client = sim.client().unwrap();
    let receiver = Receiver::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let app = Router::new()
        .route("/hook", post(receive))
        .with_state(receiver.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let endpoint = client
        .webhooks()
        .create_endpoint(&url)
        .send()
        .await
        .unwrap();
    *receiver.secret.lock().unwrap() = endpoint.secret.unwrap().into();

    let outcome = client
        .video_agents()
        .create_and_wait(CreateVideoAgentRequest::new("Hook"), wait())
        .await
        .unwrap();
    assert!(outcome.is_completed());
    common::eventually(NO_HANG, "a third delivery", || async {
        receiver.deliveries.lock().unwrap().len() >= 3
    })
    .await;
    let deliveries = receiver.deliveries.lock().unwrap().len();
    assert_eq!(deliveries, 3, "two unacknowledged attempts, then success");
    assert_eq!(
        *receiver.effects.lock().unwrap(),
        1,
        "three verified deliveries of one event, processed once"
    );
}
