//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::time::Duration;

use heygen_api::{Client, RetryPolicy};
use serde_json::Value;

/// The API key every test client sends.
pub const KEY: &str = "test-key-0123456789";

/// A client for a mock server, with near-instant retries.
pub fn client(base_url: &str) -> Client {
    builder(base_url).build().expect("test client builds")
}

/// The builder behind [`client`].
pub fn builder(base_url: &str) -> heygen_api::ClientBuilder {
    Client::builder()
        .api_key(KEY)
        .base_url(base_url)
        .retry_policy(
            RetryPolicy::default()
                .initial_backoff(Duration::from_millis(1))
                .max_backoff(Duration::from_millis(20)),
        )
}

/// Drops `null` members recursively, so that "absent" and "null" compare equal.
pub fn without_nulls(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), without_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_nulls).collect()),
        other => other.clone(),
    }
}

/// The JSON example the spec gives for an operation's response with this status.
pub fn response_example(operation_id: &str, status: &str) -> Value {
    let spec = heygen_api::contract::Spec::get().expect("spec parses");
    let op = spec.operation(operation_id).expect("operation exists");
    let response = op
        .responses
        .responses
        .get(&openapiv3::StatusCode::Code(
            status.parse().expect("numeric status"),
        ))
        .and_then(|r| r.as_item())
        .expect("inline response");
    response.content["application/json"]
        .example
        .clone()
        .expect("the spec gives an example")
}

/// An error envelope body.
pub fn error_body(code: &str, message: &str) -> Value {
    serde_json::json!({"error": {"code": code, "message": message, "param": null, "doc_url": null}})
}

/// Polls `ready` every 10 ms until it holds, failing the test with `what` after `within`.
/// Use it instead of a fixed sleep to wait for something that happens in the background.
pub async fn eventually<F, Fut>(within: Duration, what: &str, mut ready: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + within;
    while !ready().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "not within {within:?}: {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A PNG's first bytes: enough for type detection.
pub const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01";

/// A simulator whose minute passes in a tenth of a second.
pub fn fast_simulator() -> heygen_api::simulator::Simulator {
    heygen_api::simulator::Simulator::new().time_scale(600.0)
}

/// A wait that polls every few milliseconds, for simulators and mocks that answer at once.
pub fn quick_wait() -> heygen_api::WaitOptions {
    heygen_api::WaitOptions::new()
        .initial_interval(Duration::from_millis(10))
        .max_interval(Duration::from_millis(40))
        .deadline(Duration::from_secs(20))
}

/// A whole HTTP/1.1 response that closes its connection.
pub fn whole_response(content_type: &str, body: &[u8]) -> Vec<u8> {
    let mut response = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    response.extend_from_slice(body);
    response
}

/// A response that announces `announced` body bytes, sends `sent`, and hangs up: a body cut
/// short.
pub fn cut_response(content_type: &str, announced: usize, sent: &[u8]) -> Vec<u8> {
    assert!(sent.len() < announced);
    let mut response = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: {content_type}\r\ncontent-length: {announced}\r\nconnection: close\r\n\r\n"
    )
    .into_bytes();
    response.extend_from_slice(sent);
    response
}

/// A TCP server that answers its n-th connection with `script[n]` (the last entry for every
/// later one) and closes it, recording each request's head.
pub struct ScriptedServer {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    requests: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl ScriptedServer {
    /// Starts the server on a thread of its own.
    pub fn start(script: Vec<Vec<u8>>) -> Self {
        use std::io::{Read as _, Write as _};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let requests = std::sync::Arc::<std::sync::Mutex<Vec<String>>>::default();
        let log = std::sync::Arc::clone(&requests);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut buf = [0u8; 8192];
                let read = stream.read(&mut buf).unwrap_or(0);
                let n = {
                    let mut log = log.lock().unwrap();
                    log.push(String::from_utf8_lossy(&buf[..read]).to_ascii_lowercase());
                    log.len() - 1
                };
                let _ = stream.write_all(&script[n.min(script.len() - 1)]);
                let _ = stream.flush();
            }
        });
        ScriptedServer { base, requests }
    }

    /// How many requests (one per connection) arrived.
    pub fn requests(&self) -> usize {
        self.requests.lock().unwrap().len()
    }

    /// A header of every request, in order (`None` where it was absent).
    pub fn header(&self, name: &str) -> Vec<Option<String>> {
        let prefix = format!("{}:", name.to_ascii_lowercase());
        self.requests
            .lock()
            .unwrap()
            .iter()
            .map(|head| {
                head.lines()
                    .find_map(|l| l.strip_prefix(prefix.as_str()))
                    .map(|v| v.trim().to_string())
            })
            .collect()
    }
}

/// A simulator served by a runtime of its own, for tests that are not async themselves (they
/// run the `heygen` binary against it); it stops when the value is dropped.
pub struct Served {
    sim: Option<heygen_api::simulator::RunningSimulator>,
    runtime: tokio::runtime::Runtime,
}

impl Served {
    /// Starts `builder`'s simulator.
    pub fn start(builder: heygen_api::simulator::Simulator) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime for the simulator");
        let sim = runtime
            .block_on(builder.start())
            .expect("the simulator starts");
        Served {
            sim: Some(sim),
            runtime,
        }
    }

    /// The running simulator.
    pub fn sim(&self) -> &heygen_api::simulator::RunningSimulator {
        self.sim.as_ref().expect("running until dropped")
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(sim) = self.sim.take() {
            self.runtime.block_on(sim.shutdown());
        }
    }
}

/// A webhook receiver on a free local port, and an endpoint of `client`'s account that
/// delivers to it (created first, for its secret, then pointed at the receiver).
#[cfg(feature = "receiver")]
pub async fn delivering_receiver(
    client: &Client,
) -> (
    heygen_api::batch::WebhookReceiver,
    tokio::sync::mpsc::Receiver<heygen_api::webhook::WebhookEvent>,
) {
    let endpoint = client
        .webhooks()
        .create_endpoint("http://127.0.0.1:9/hooks")
        .await
        .expect("endpoint created");
    let (receiver, deliveries) = heygen_api::batch::WebhookReceiver::start(
        "127.0.0.1:0".parse().expect("an address"),
        heygen_api::webhook::Verifier::new(endpoint.secret.clone().expect("a secret on create")),
    )
    .await
    .expect("receiver started");
    client
        .webhooks()
        .update_endpoint(&endpoint.endpoint_id)
        .url(format!("http://{}/hooks", receiver.local_addr()))
        .await
        .expect("endpoint pointed at the receiver");
    (receiver, deliveries)
}
