//! A webhook receiver for batch runs, fit to face the internet: it verifies each delivery
//! against the endpoint's secret and hands the events to the runner
//! ([`BatchRunner::webhooks`](super::BatchRunner::webhooks)).
//!
//! What it costs an attacker is kept small on purpose. Connections in flight are capped; a
//! client gets a fixed time to send its headers and then its body, and a connection a fixed
//! time in all. A refused request ends its connection, so each refusal costs the sender a new
//! one. A slot is kept only by a connection that has delivered a new, verified event: when
//! every slot is taken, the oldest connection that has not is closed for the newcomer, so
//! peers that send nothing valid cannot hold the receiver shut. A delivery is refused, and
//! counted, as early as what it lacks shows: a body
//! announced too large before it is read, one without a signature before it is read, a repeat
//! of an event already taken (by `Heygen-Event-Id`) before it is read, a body that grows past
//! the limit as it arrives, then a bad signature before any JSON is parsed.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::sync::{mpsc, Notify, Semaphore, TryAcquireError};

use crate::api::error::{Error, Result};
use crate::api::webhook::{Verifier, WebhookError, WebhookEvent, EVENT_ID_HEADER};

/// Deliveries accepted before the runner has taken them; more wait for room (HeyGen retries
/// an unanswered delivery).
const QUEUE: usize = 1024;

/// Configures a [`WebhookReceiver`] ([`WebhookReceiver::builder`]). Setters never fail.
#[derive(Debug, Clone)]
#[must_use]
pub struct ReceiverBuilder {
    verifier: Verifier,
    max_connections: usize,
    header_timeout: Duration,
    body_timeout: Duration,
    connection_lifetime: Duration,
    max_body_bytes: usize,
    remembered_events: usize,
}

impl ReceiverBuilder {
    /// Most connections open at once (default 256). When all are taken, the oldest that has
    /// not delivered a new, verified event is closed for the next; when every one has, the
    /// next waits to be accepted.
    pub fn max_connections(mut self, connections: usize) -> Self {
        self.max_connections = connections;
        self
    }

    /// How long a client has to send a request's headers (default 10 s); then the connection
    /// is closed.
    pub fn header_timeout(mut self, timeout: Duration) -> Self {
        self.header_timeout = timeout;
        self
    }

    /// How long a client has to send a request's body once its headers are in (default
    /// 10 s); then it is answered 408.
    pub fn body_timeout(mut self, timeout: Duration) -> Self {
        self.body_timeout = timeout;
        self
    }

    /// How long one connection may stay open in all, however busy (default 60 s).
    pub fn connection_lifetime(mut self, lifetime: Duration) -> Self {
        self.connection_lifetime = lifetime;
        self
    }

    /// Largest body accepted (default 64 KiB: a delivery is a few hundred bytes).
    pub fn max_body_bytes(mut self, limit: usize) -> Self {
        self.max_body_bytes = limit;
        self
    }

    /// How many event ids are remembered to answer repeats without reading them (default
    /// 100,000; the oldest is forgotten first).
    pub fn remembered_events(mut self, events: usize) -> Self {
        self.remembered_events = events;
        self
    }

    /// Listens on `address` (any path, `POST`) and returns the receiver and the channel of
    /// verified events for [`BatchRunner::webhooks`](super::BatchRunner::webhooks).
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] for a cap of 0 connections or a body limit of 0 bytes;
    /// [`Error::Io`] when the address cannot be bound.
    pub async fn start(
        self,
        address: SocketAddr,
    ) -> Result<(WebhookReceiver, mpsc::Receiver<WebhookEvent>)> {
        if self.max_connections == 0 {
            return Err(Error::invalid("max_connections", "must be at least 1"));
        }
        if self.max_body_bytes == 0 {
            return Err(Error::invalid("max_body_bytes", "must be at least 1"));
        }
        let listener = tokio::net::TcpListener::bind(address)
            .await
            .map_err(|source| Error::Io {
                context: format!("listening on {address}"),
                source,
            })?;
        let address = listener.local_addr().map_err(|source| Error::Io {
            context: "reading the receiver's address".into(),
            source,
        })?;
        let (events, receiver) = mpsc::channel(QUEUE);
        let counts = Arc::new(Counters::default());
        let inbox = Arc::new(Inbox {
            verifier: self.verifier.clone().max_body_bytes(self.max_body_bytes),
            events,
            max_body: self.max_body_bytes,
            body_timeout: self.body_timeout,
            recent: Mutex::new(Recent::new(self.remembered_events)),
            counts: Arc::clone(&counts),
        });
        let task = tokio::spawn(accept(listener, inbox, self));
        Ok((
            WebhookReceiver {
                address,
                counts,
                task,
            },
            receiver,
        ))
    }
}

/// A running receiver. Dropping it stops it.
#[derive(Debug)]
pub struct WebhookReceiver {
    address: SocketAddr,
    counts: Arc<Counters>,
    task: tokio::task::JoinHandle<()>,
}

impl WebhookReceiver {
    /// Listens on `address` with the default limits ([`builder`](Self::builder) to change
    /// them).
    ///
    /// # Errors
    /// [`Error::Io`] when the address cannot be bound.
    pub async fn start(
        address: SocketAddr,
        verifier: Verifier,
    ) -> Result<(WebhookReceiver, mpsc::Receiver<WebhookEvent>)> {
        Self::builder(verifier).start(address).await
    }

    /// A receiver for deliveries `verifier` accepts, with the default limits.
    pub fn builder(verifier: Verifier) -> ReceiverBuilder {
        ReceiverBuilder {
            verifier,
            max_connections: 256,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(10),
            connection_lifetime: Duration::from_secs(60),
            max_body_bytes: 64 * 1024,
            remembered_events: 100_000,
        }
    }

    /// The address it listens on (with the port chosen, when 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.address
    }

    /// What it has received so far.
    pub fn stats(&self) -> ReceiverStats {
        self.counts.read()
    }
}

impl Drop for WebhookReceiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// What a receiver has received, by outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReceiverStats {
    /// Verified deliveries of new events, handed to the run.
    pub accepted: u64,
    /// Repeats of an event already handed over (by its id, or by its signed body under a
    /// new id): answered 200, not handed over again.
    pub duplicates: u64,
    /// Without a signature header (401).
    pub unsigned: u64,
    /// With a signature that does not match the body (401).
    pub forged: u64,
    /// Signed, with a timestamp too far from now, not a time, or none (401).
    pub stale: u64,
    /// Larger than the limit, announced or as it arrived (413).
    pub too_large: u64,
    /// Signed, but not a webhook payload (400).
    pub malformed: u64,
    /// Not a `POST` (405).
    pub wrong_method: u64,
    /// Bodies that did not arrive in time (408), and connections closed for sending their
    /// headers too slowly or living too long.
    pub timed_out: u64,
    /// Connections open now.
    pub open: u64,
    /// The most connections open at once (never more than the cap).
    pub peak_open: u64,
    /// Times every slot was taken by a connection that had delivered an event, so that the
    /// next connection waited to be accepted.
    pub full: u64,
    /// Connections closed to make room for a new one, every slot being taken: each the oldest
    /// of those that had delivered no new, verified event.
    pub evicted: u64,
}

impl ReceiverStats {
    /// Every delivery refused.
    pub fn refused(&self) -> u64 {
        self.unsigned
            + self.forged
            + self.stale
            + self.too_large
            + self.malformed
            + self.wrong_method
    }
}

#[derive(Debug, Default)]
struct Counters {
    accepted: AtomicU64,
    duplicates: AtomicU64,
    unsigned: AtomicU64,
    forged: AtomicU64,
    stale: AtomicU64,
    too_large: AtomicU64,
    malformed: AtomicU64,
    wrong_method: AtomicU64,
    timed_out: AtomicU64,
    open: AtomicU64,
    peak_open: AtomicU64,
    full: AtomicU64,
    evicted: AtomicU64,
}

impl Counters {
    fn read(&self) -> ReceiverStats {
        let get = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        ReceiverStats {
            accepted: get(&self.accepted),
            duplicates: get(&self.duplicates),
            unsigned: get(&self.unsigned),
            forged: get(&self.forged),
            stale: get(&self.stale),
            too_large: get(&self.too_large),
            malformed: get(&self.malformed),
            wrong_method: get(&self.wrong_method),
            timed_out: get(&self.timed_out),
            open: get(&self.open),
            peak_open: get(&self.peak_open),
            full: get(&self.full),
            evicted: get(&self.evicted),
        }
    }
}

fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

/// The event ids handed over lately, the oldest forgotten first.
struct Recent {
    ids: HashSet<String>,
    order: VecDeque<String>,
    capacity: usize,
}

impl Recent {
    fn new(capacity: usize) -> Self {
        Recent {
            ids: HashSet::new(),
            order: VecDeque::new(),
            capacity,
        }
    }

    fn contains(&self, id: &str) -> bool {
        self.ids.contains(id)
    }

    /// Remembers `id`; false when it was remembered already.
    fn insert(&mut self, id: &str) -> bool {
        if self.capacity == 0 || self.ids.contains(id) {
            return self.capacity == 0;
        }
        if self.order.len() == self.capacity {
            if let Some(oldest) = self.order.pop_front() {
                self.ids.remove(&oldest);
            }
        }
        self.ids.insert(id.to_string());
        self.order.push_back(id.to_string());
        true
    }
}

struct Inbox {
    verifier: Verifier,
    events: mpsc::Sender<WebhookEvent>,
    max_body: usize,
    body_timeout: Duration,
    recent: Mutex<Recent>,
    counts: Arc<Counters>,
}

impl Inbox {
    fn seen(&self, id: &str) -> bool {
        match self.recent.lock() {
            Ok(recent) => recent.contains(id),
            Err(poisoned) => poisoned.into_inner().contains(id),
        }
    }

    fn remember(&self, id: &str) -> bool {
        match self.recent.lock() {
            Ok(mut recent) => recent.insert(id),
            Err(poisoned) => poisoned.into_inner().insert(id),
        }
    }
}

/// One open connection, as the slots see it.
#[derive(Default)]
struct Peer {
    /// It delivered a new, verified event: it keeps its slot.
    proven: AtomicBool,
    /// Told to close, to make room.
    evict: Notify,
}

/// The open connections, oldest first.
#[derive(Default)]
struct Peers {
    next: u64,
    open: BTreeMap<u64, Arc<Peer>>,
}

impl Peers {
    fn join(peers: &Mutex<Peers>) -> (u64, Arc<Peer>) {
        let mut peers = peers
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let (number, peer) = (peers.next, Arc::new(Peer::default()));
        peers.next += 1;
        peers.open.insert(number, Arc::clone(&peer));
        (number, peer)
    }

    fn leave(peers: &Mutex<Peers>, number: u64) {
        let mut peers = peers
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        peers.open.remove(&number);
    }

    /// Tells the oldest connection that has delivered nothing to close; false when every
    /// open one has.
    fn evict_one(peers: &Mutex<Peers>) -> bool {
        let mut peers = peers
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let oldest = peers
            .open
            .iter()
            .find(|(_, peer)| !peer.proven.load(Ordering::Relaxed))
            .map(|(number, _)| *number);
        let Some(number) = oldest else {
            return false;
        };
        if let Some(peer) = peers.open.remove(&number) {
            // Stored if the connection is not waiting yet: it closes as soon as it looks.
            peer.evict.notify_one();
        }
        true
    }
}

/// Accepts connections, at most the cap served at once, each with the limits; when every
/// slot is taken, the oldest connection that has delivered nothing gives way.
async fn accept(listener: tokio::net::TcpListener, inbox: Arc<Inbox>, limits: ReceiverBuilder) {
    let open = Arc::new(Semaphore::new(limits.max_connections));
    let peers = Arc::new(Mutex::new(Peers::default()));
    let counts = Arc::clone(&inbox.counts);
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(error) => {
                // Out of file descriptors, say: wait a moment rather than spin.
                tracing::warn!(%error, "the webhook receiver could not accept a connection");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let permit = match Arc::clone(&open).try_acquire_owned() {
            Ok(permit) => permit,
            Err(TryAcquireError::Closed) => return,
            Err(TryAcquireError::NoPermits) => {
                if Peers::evict_one(&peers) {
                    bump(&counts.evicted);
                } else {
                    bump(&counts.full);
                }
                let Ok(permit) = Arc::clone(&open).acquire_owned().await else {
                    return;
                };
                permit
            }
        };
        let now_open = counts.open.fetch_add(1, Ordering::Relaxed) + 1;
        counts.peak_open.fetch_max(now_open, Ordering::Relaxed);
        let inbox = Arc::clone(&inbox);
        let counts = Arc::clone(&inbox.counts);
        let header_timeout = limits.header_timeout;
        let lifetime = limits.connection_lifetime;
        let (number, peer) = Peers::join(&peers);
        let peers = Arc::clone(&peers);
        tokio::spawn(async move {
            let served = Arc::clone(&peer);
            let service = hyper::service::service_fn(move |request| {
                let inbox = Arc::clone(&inbox);
                let peer = Arc::clone(&served);
                async move { Ok::<_, Infallible>(receive(&inbox, &peer, request).await) }
            });
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout)
                .serve_connection(TokioIo::new(stream), service);
            tokio::select! {
                ended = tokio::time::timeout(lifetime, connection) => match ended {
                    Ok(Err(error)) if error.is_timeout() => bump(&counts.timed_out),
                    Err(_) => bump(&counts.timed_out),
                    // Served, or the client went away.
                    Ok(_) => {}
                },
                // Counted where it was decided; dropping the connection closes it.
                () = peer.evict.notified() => {}
            }
            Peers::leave(&peers, number);
            counts.open.fetch_sub(1, Ordering::Relaxed);
            drop(permit);
        });
    }
}

/// Every answer of the receiver. Only a 200 to a request whose body was read keeps the
/// connection for the next delivery. Anything else ends it, said in the answer
/// (`Connection: close`) rather than found out: a refusal costs the sender its connection,
/// and a body left unread would be in the way of the next request.
fn reply(status: StatusCode, text: &'static str, body_read: bool) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from_static(text.as_bytes())));
    *response.status_mut() = status;
    if status != StatusCode::OK || !body_read {
        response.headers_mut().insert(
            http::header::CONNECTION,
            http::HeaderValue::from_static("close"),
        );
    }
    response
}

/// One delivery, refused at the first check it fails, cheapest first. A refusal ends the
/// connection; a new event, verified, lets `peer` keep its slot.
async fn receive(inbox: &Inbox, peer: &Peer, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let counts = &inbox.counts;
    if request.method() != http::Method::POST {
        bump(&counts.wrong_method);
        return reply(StatusCode::METHOD_NOT_ALLOWED, "POST only", false);
    }
    let headers = request.headers();
    let announced = headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if announced.is_some_and(|length| length > inbox.max_body as u64) {
        bump(&counts.too_large);
        return reply(StatusCode::PAYLOAD_TOO_LARGE, "too large", false);
    }
    let signed = [
        crate::api::webhook::SIGNATURE_HEADER,
        crate::api::webhook::FALLBACK_SIGNATURE_HEADER,
    ]
    .iter()
    .any(|name| headers.contains_key(*name));
    // A repeat of an event handed over already changes nothing, signed or not: answered
    // without checking it, so that HeyGen stops sending it.
    let event_id = headers
        .get(EVENT_ID_HEADER)
        .and_then(|value| value.to_str().ok())
        .map(str::to_string);
    let early = if !signed {
        Some((&counts.unsigned, StatusCode::UNAUTHORIZED, "unsigned"))
    } else if event_id.as_deref().is_some_and(|id| inbox.seen(id)) {
        Some((&counts.duplicates, StatusCode::OK, "duplicate"))
    } else {
        None
    };
    if let Some((counter, status, text)) = early {
        bump(counter);
        // A repeat's body of announced, allowed size is read past, unparsed, so that the
        // connection can carry the next request; a refusal's is not read at all.
        let read = status == StatusCode::OK
            && announced.is_some()
            && tokio::time::timeout(
                inbox.body_timeout,
                Limited::new(request.into_body(), inbox.max_body).collect(),
            )
            .await
            .is_ok_and(|read| read.is_ok());
        return reply(status, text, read);
    }
    let (parts, body) = request.into_parts();
    let body = match tokio::time::timeout(
        inbox.body_timeout,
        Limited::new(body, inbox.max_body).collect(),
    )
    .await
    {
        Ok(Ok(collected)) => collected.to_bytes(),
        Ok(Err(error)) => {
            if error.is::<http_body_util::LengthLimitError>() {
                bump(&counts.too_large);
                return reply(StatusCode::PAYLOAD_TOO_LARGE, "too large", false);
            }
            // The client went away mid-body: nobody reads the answer.
            bump(&counts.malformed);
            return reply(StatusCode::BAD_REQUEST, "incomplete body", false);
        }
        Err(_) => {
            bump(&counts.timed_out);
            return reply(StatusCode::REQUEST_TIMEOUT, "body too slow", false);
        }
    };
    let delivery = match inbox.verifier.verify(&parts.headers, &body) {
        Ok(delivery) => delivery,
        Err(error) => {
            let (counter, status, text) = match error {
                WebhookError::BodyTooLarge { .. } => (
                    &counts.too_large,
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "too large",
                ),
                WebhookError::MalformedPayload(_) => {
                    (&counts.malformed, StatusCode::BAD_REQUEST, "malformed")
                }
                WebhookError::StaleTimestamp { .. }
                | WebhookError::InvalidTimestamp(_)
                | WebhookError::MissingTimestamp => {
                    (&counts.stale, StatusCode::UNAUTHORIZED, "stale")
                }
                // A body taken before, under whatever event id: HeyGen may stop.
                WebhookError::Replayed { .. } => (&counts.duplicates, StatusCode::OK, "duplicate"),
                WebhookError::MissingSignature => {
                    (&counts.unsigned, StatusCode::UNAUTHORIZED, "unsigned")
                }
                _ => (&counts.forged, StatusCode::UNAUTHORIZED, "unverified"),
            };
            tracing::debug!(%error, "refused a webhook delivery");
            bump(counter);
            return reply(status, text, true);
        }
    };
    let fresh = delivery
        .event_id
        .as_deref()
        .or(event_id.as_deref())
        .is_none_or(|id| inbox.remember(id));
    if !fresh {
        bump(&counts.duplicates);
        return reply(StatusCode::OK, "duplicate", true);
    }
    bump(&counts.accepted);
    peer.proven.store(true, Ordering::Relaxed);
    // A runner that is gone takes nothing more: answer so that HeyGen stops trying.
    let _ = inbox.events.send(delivery.event).await;
    reply(StatusCode::OK, "ok", true)
}
