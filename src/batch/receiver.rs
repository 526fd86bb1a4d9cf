//! A small webhook receiver for batch runs: it verifies each delivery against the endpoint's
//! secret and hands the events to the runner ([`BatchRunner::webhooks`](super::BatchRunner)).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use tokio::sync::mpsc;

use crate::api::error::{Error, Result};
use crate::webhook::{Verifier, WebhookError, WebhookEvent};

/// Deliveries accepted before the runner has taken them; more wait for room (HeyGen retries
/// an unanswered delivery).
const QUEUE: usize = 1024;

struct Inbox {
    verifier: Verifier,
    events: mpsc::Sender<WebhookEvent>,
}

/// A running receiver. Dropping it stops it.
#[derive(Debug)]
pub struct WebhookReceiver {
    address: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl WebhookReceiver {
    /// Listens on `address` (any path, `POST`) and returns the receiver and the channel of
    /// verified events for [`BatchRunner::webhooks`](super::BatchRunner::webhooks). A
    /// delivery that fails verification is answered 401 and dropped.
    ///
    /// # Errors
    /// [`Error::Io`] when the address cannot be bound.
    pub async fn start(
        address: SocketAddr,
        verifier: Verifier,
    ) -> Result<(WebhookReceiver, mpsc::Receiver<WebhookEvent>)> {
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
        let inbox = Arc::new(Inbox { verifier, events });
        let app = axum::Router::new()
            .fallback(axum::routing::post(receive))
            .with_state(inbox);
        let task = tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, app).await {
                tracing::error!(%error, "the webhook receiver stopped");
            }
        });
        Ok((WebhookReceiver { address, task }, receiver))
    }

    /// The address it listens on (with the port chosen, when 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.address
    }
}

impl Drop for WebhookReceiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn receive(State(inbox): State<Arc<Inbox>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    match inbox.verifier.verify(&headers, &body) {
        Ok(delivery) => {
            // A runner that is gone takes nothing more: answer so that HeyGen stops trying.
            let _ = inbox.events.send(delivery.event).await;
            StatusCode::OK
        }
        Err(WebhookError::BodyTooLarge { .. }) => StatusCode::PAYLOAD_TOO_LARGE,
        Err(WebhookError::MalformedPayload(_)) => StatusCode::BAD_REQUEST,
        Err(error) => {
            tracing::warn!(%error, "refused a webhook delivery");
            StatusCode::UNAUTHORIZED
        }
    }
}
