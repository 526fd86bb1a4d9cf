//! A stateful stand-in for the HeyGen API, for tests and offline runs.
//!
//! The simulator serves every operation of `openapi.yaml` from memory over real HTTP on
//! `127.0.0.1`: sessions go `thinking → generating → completed`, videos
//! `pending → processing → completed` with progress, and a small real MP4 is served as the
//! finished video. Chat-mode sessions pause at `reviewing` until a message arrives. Uploads,
//! deletes, pagination and webhook endpoints behave like the real thing, and finished or failed
//! sessions are announced to the request's `callback_url` and to registered endpoints, signed
//! as HeyGen signs.
//!
//! ```no_run
//! # async fn demo() -> Result<(), heygen_api::Error> {
//! use heygen_api::simulator::Simulator;
//!
//! let sim = Simulator::new().time_scale(60.0).start().await?; // a 60 s render takes 1 s
//! let client = sim.client()?;
//! // ... use `client` exactly as against the real API ...
//! sim.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! Operations the simulator does not model answer with the spec's documented example, marked
//! by the [`EXAMPLE_HEADER`] response header; no operation of the spec is missing.
//!
//! Prompts can steer outcomes: a prompt containing `[fail:render]` produces a video that
//! fails with `rendering_failed`; `[fail:session]` makes the session fail before rendering.
//! Faults can be injected, reproducibly for a given [`Simulator::seed`]: 429s every Nth
//! request, a 5xx rate, answers lost after the request took effect, added latency (to the API,
//! and apart to the files it serves), sessions that answer 404 once their video exists, and
//! status values the spec does not list.
//!
//! A repeated `Idempotency-Key` replays its first answer for 24 hours of simulated time, then
//! makes a new request, as on HeyGen; older answers are forgotten, so a long run holds a
//! constant amount per job.

mod agents;
mod assets;
mod catalogue;
mod described;
mod endpoints;
mod http;
mod jobs;
mod media;
mod routes;

pub use routes::{described_kinds, modelled_operations, EXAMPLE_HEADER};
mod state;
mod videos;
mod webhooks;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::oneshot;

use crate::api::error::{Error, Result};
use state::World;

/// Jobs in flight at once, as on HeyGen's pay-as-you-go plan.
pub const DEFAULT_CONCURRENCY_LIMIT: usize = 10;

/// The key the simulator accepts unless told otherwise.
pub const DEFAULT_API_KEY: &str = "sim_test_key";

/// Configuration of a simulator.
#[derive(Debug, Clone)]
pub(crate) struct SimulatorConfig {
    pub(crate) api_key: String,
    pub(crate) time_scale: f64,
    pub(crate) render_seconds: f64,
    pub(crate) seed: u64,
    pub(crate) rate_limit_every: Option<u64>,
    pub(crate) lose_response_every: Option<u64>,
    pub(crate) concurrency_limit: Option<usize>,
    pub(crate) balance_usd: f64,
    pub(crate) upload_url_ttl: Duration,
    pub(crate) fail_first_upload: bool,
    pub(crate) files_gone: bool,
    pub(crate) expire_first_upload_url: bool,
    pub(crate) usd_per_second: f64,
    pub(crate) error_rate: f64,
    pub(crate) errors_after_effect: bool,
    pub(crate) latency: Duration,
    pub(crate) file_delay: Duration,
    pub(crate) session_404_after_video: bool,
    pub(crate) unknown_statuses: bool,
    pub(crate) webhook_attempts: u32,
    pub(crate) port: u16,
    pub(crate) base_url: String,
}

/// Builds and starts a simulator. Setters never fail.
#[derive(Debug, Clone)]
#[must_use]
pub struct Simulator {
    pub(crate) config: SimulatorConfig,
}

impl Default for Simulator {
    fn default() -> Self {
        Simulator {
            config: SimulatorConfig {
                api_key: DEFAULT_API_KEY.to_string(),
                time_scale: 1.0,
                render_seconds: 60.0,
                seed: 0,
                rate_limit_every: None,
                lose_response_every: None,
                concurrency_limit: Some(DEFAULT_CONCURRENCY_LIMIT),
                balance_usd: 100.0,
                upload_url_ttl: Duration::from_secs(900),
                fail_first_upload: false,
                files_gone: false,
                expire_first_upload_url: false,
                usd_per_second: 0.05,
                error_rate: 0.0,
                errors_after_effect: false,
                latency: Duration::ZERO,
                file_delay: Duration::ZERO,
                session_404_after_video: false,
                unknown_statuses: false,
                webhook_attempts: 4,
                port: 0,
                base_url: String::new(),
            },
        }
    }
}

impl Simulator {
    /// A simulator with real-time timing, key [`DEFAULT_API_KEY`], a free port, no faults.
    pub fn new() -> Self {
        Simulator::default()
    }

    /// The API key requests must carry (`x-api-key` or `Authorization: Bearer`).
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.config.api_key = key.into();
        self
    }

    /// How much faster than real time the simulation runs (60.0: a 60 s render takes 1 s).
    /// Values that are not positive and finite count as 1.
    pub fn time_scale(mut self, scale: f64) -> Self {
        self.config.time_scale = scale;
        self
    }

    /// Simulated seconds from the start of rendering to a finished video (default 60).
    pub fn render_seconds(mut self, seconds: f64) -> Self {
        self.config.render_seconds = seconds;
        self
    }

    /// Seed for ids, secrets and random faults: the same seed gives the same run.
    pub fn seed(mut self, seed: u64) -> Self {
        self.config.seed = seed;
        self
    }

    /// Answers every Nth API request with 429 and `Retry-After: 1`.
    pub fn rate_limit_every(mut self, n: u64) -> Self {
        self.config.rate_limit_every = (n > 0).then_some(n);
        self
    }

    /// Lets every Nth API request take effect, then loses its answer: the status line and
    /// headers go out, and the connection breaks before the body. The client cannot tell
    /// whether the request was applied, which is what idempotency keys are for.
    pub fn lose_response_every(mut self, n: u64) -> Self {
        self.config.lose_response_every = (n > 0).then_some(n);
        self
    }

    /// How many jobs (sessions thinking or rendering, videos rendering) may be in flight at
    /// once (default [`DEFAULT_CONCURRENCY_LIMIT`]; 0: no limit). A create beyond it is
    /// answered 429 `rate_limit_exceeded` with `Retry-After`, as HeyGen does.
    pub fn concurrency_limit(mut self, jobs: usize) -> Self {
        self.config.concurrency_limit = (jobs > 0).then_some(jobs);
        self
    }

    /// The account's prepaid balance in US dollars (default 100). Every finished video takes
    /// its rendered seconds from it, at [`usd_per_second`](Self::usd_per_second); a create the
    /// balance cannot pay for (counting the renders in flight) is answered 402
    /// `insufficient_credit`. `GET /v3/users/me` shows what is left.
    pub fn balance_usd(mut self, dollars: f64) -> Self {
        self.config.balance_usd = dollars;
        self
    }

    /// How long a direct upload's presigned URL stays valid, in real time (default 15 min).
    pub fn upload_url_ttl(mut self, ttl: Duration) -> Self {
        self.config.upload_url_ttl = ttl;
        self
    }

    /// Answers the first presigned `PUT` 503 after reading part of its body: an upload cut
    /// short, to be retried.
    pub fn fail_first_upload(mut self, fail: bool) -> Self {
        self.config.fail_first_upload = fail;
        self
    }

    /// Answers 404 for every video file, as a file host does for a link that has expired: a
    /// finished render that cannot be downloaded.
    pub fn files_gone(mut self, gone: bool) -> Self {
        self.config.files_gone = gone;
        self
    }

    /// Refuses the first presigned `PUT` with 403, as for a URL that expired before the
    /// bytes arrived; later URLs work.
    pub fn expire_first_upload_url(mut self, expire: bool) -> Self {
        self.config.expire_first_upload_url = expire;
        self
    }

    /// The price of a rendered second in US dollars (default 0.05).
    pub fn usd_per_second(mut self, dollars: f64) -> Self {
        self.config.usd_per_second = dollars;
        self
    }

    /// Answers this fraction of API requests (0.0–1.0) with a 500 `internal_error`.
    pub fn error_rate(mut self, rate: f64) -> Self {
        self.config.error_rate = rate;
        self
    }

    /// Makes the injected 500s of [`error_rate`](Self::error_rate) come after the request took
    /// effect (default: before, so nothing happens): a create that fails this way has made
    /// its session, and only its idempotency key keeps a retry from making another.
    pub fn errors_after_effect(mut self, after: bool) -> Self {
        self.config.errors_after_effect = after;
        self
    }

    /// Delays every API response by this much.
    pub fn latency(mut self, latency: Duration) -> Self {
        self.config.latency = latency;
        self
    }

    /// Delays every file served (videos, images, subtitles, audio, uploaded assets) by this
    /// much before its first byte, as a slow file host would: time to watch a download wait, or
    /// to stop one.
    pub fn file_delay(mut self, delay: Duration) -> Self {
        self.config.file_delay = delay;
        self
    }

    /// Makes sessions answer 404 once their video exists (as HeyGen has been seen doing).
    pub fn session_404_after_video(mut self, enabled: bool) -> Self {
        self.config.session_404_after_video = enabled;
        self
    }

    /// Reports statuses the spec does not list (`pondering` sessions, `queued` videos).
    pub fn unknown_statuses(mut self, enabled: bool) -> Self {
        self.config.unknown_statuses = enabled;
        self
    }

    /// How many times a webhook delivery is attempted before giving up (default 4).
    pub fn webhook_attempts(mut self, attempts: u32) -> Self {
        self.config.webhook_attempts = attempts.max(1);
        self
    }

    /// Listens on this port of 127.0.0.1 (default 0: any free port).
    pub fn port(mut self, port: u16) -> Self {
        self.config.port = port;
        self
    }

    /// Binds the port and starts serving in the background.
    ///
    /// # Errors
    /// [`Error::Io`] when the port cannot be bound; [`Error::InvalidRequest`] for an empty key.
    pub async fn start(self) -> Result<RunningSimulator> {
        let mut config = self.config;
        if config.api_key.trim().is_empty() {
            return Err(Error::invalid("api_key", "must not be empty"));
        }
        if !(config.time_scale.is_finite() && config.time_scale > 0.0) {
            config.time_scale = 1.0;
        }
        if !config.error_rate.is_finite() {
            config.error_rate = 0.0;
        }
        config.error_rate = config.error_rate.clamp(0.0, 1.0);
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", config.port))
            .await
            .map_err(|source| Error::Io {
                context: format!("binding 127.0.0.1:{}", config.port),
                source,
            })?;
        let address = listener.local_addr().map_err(|source| Error::Io {
            context: "reading the bound address".into(),
            source,
        })?;
        config.base_url = format!("http://{address}");
        let api_key = config.api_key.clone();
        let shared = Arc::new(Shared {
            world: Mutex::new(World::new(config)),
            http: webhooks::delivery_client()?,
        });
        let (stop, stopped) = oneshot::channel::<()>();
        let app = routes::router(Arc::clone(&shared));
        let ticker = tokio::spawn(webhooks::ticker(Arc::clone(&shared)));
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
        Ok(RunningSimulator {
            address,
            api_key,
            shared,
            stop: Some(stop),
            server,
            ticker,
        })
    }
}

/// State shared by the routes and the webhook ticker.
pub(crate) struct Shared {
    pub(crate) world: Mutex<World>,
    pub(crate) http: reqwest::Client,
}

impl Shared {
    pub(crate) fn world(&self) -> std::sync::MutexGuard<'_, World> {
        match self.world.lock() {
            Ok(world) => world,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Waits as long as files are to be delayed ([`Simulator::file_delay`]).
    pub(crate) async fn file_delay(&self) {
        let delay = self.world().config.file_delay;
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
    }
}

/// A running simulator; stops when [`shutdown`](Self::shutdown) is awaited or it is dropped.
pub struct RunningSimulator {
    address: SocketAddr,
    api_key: String,
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
    server: tokio::task::JoinHandle<()>,
    ticker: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for RunningSimulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningSimulator")
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

impl RunningSimulator {
    /// The base URL to point a client at, e.g. `http://127.0.0.1:41234`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// The API key the simulator accepts.
    pub fn api_key(&self) -> &str {
        &self.api_key
    }

    /// A client configured for this simulator.
    ///
    /// # Errors
    /// As [`ClientBuilder::build`](crate::ClientBuilder::build).
    pub fn client(&self) -> Result<crate::api::client::Client> {
        crate::api::client::Client::builder()
            .api_key(self.api_key.clone())
            .base_url(self.base_url())
            .build()
    }

    /// How many API requests the simulator has received.
    pub fn request_count(&self) -> u64 {
        self.shared.world().requests
    }

    /// The most jobs (sessions thinking or generating, videos made directly and rendering)
    /// that were ever in flight at once, counted while a concurrency limit is set.
    pub fn peak_jobs_in_flight(&self) -> usize {
        self.shared.world().peak_jobs
    }

    /// How many creates were refused with 429 because the concurrency limit was reached.
    pub fn refused_at_capacity(&self) -> u64 {
        self.shared.world().refused_at_capacity
    }

    /// How many videos exist (made directly, in batches, or by sessions).
    pub fn video_count(&self) -> usize {
        self.shared.world().videos.len()
    }

    /// Moves the simulator's clock on by `simulated` (in simulated time, as
    /// [`Simulator::time_scale`] counts it), at once: what would have happened meanwhile
    /// (sessions thinking, renders, jobs, upload URLs expiring) has happened, without a test
    /// having to sleep for it.
    pub fn advance(&self, simulated: Duration) {
        let mut world = self.shared.world();
        let scale = world.config.time_scale;
        let real = if scale.is_finite() && scale > 0.0 {
            Duration::try_from_secs_f64(simulated.as_secs_f64() / scale).unwrap_or(simulated)
        } else {
            simulated
        };
        // A century at most, so that the clock stays a moment the system can name.
        let real = real.min(Duration::from_secs(100 * 365 * 24 * 3600));
        world.skew = world.skew.saturating_add(real);
    }

    /// How many sessions have been created.
    pub fn session_count(&self) -> usize {
        self.shared.world().sessions.len()
    }

    /// Stops serving and waits until the server has closed.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.ticker.abort();
        let _ = (&mut self.server).await;
    }

    /// Serves until the server stops (use it with a shutdown signal in a `select!`).
    pub async fn wait(mut self) {
        let _ = (&mut self.server).await;
    }
}

impl Drop for RunningSimulator {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.ticker.abort();
    }
}

pub(crate) fn unix_now() -> u64 {
    crate::api::webhook::now_unix()
}

pub(crate) fn iso_now() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}
