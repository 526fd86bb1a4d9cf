//! `/v3/webhooks`: endpoint management and delivered events.
//!
//! Verifying and parsing deliveries is the job of the `webhook` module; this handle manages
//! the endpoints HeyGen delivers to.

use crate::client::{call, CallOptions, Client};
use crate::error::{Error, Result};
use crate::files::check_http_url;
use crate::raw::types::{CreateWebhookEndpointRequest, UpdateWebhookEndpointRequest};
use crate::resources::{check_id, check_limit, RequestOptions};
use crate::types::{
    EventType, EventTypeInfo, Page, RotatedSecret, WebhookEndpoint, WebhookEventRecord,
};

/// Webhook endpoints and events. Get one with [`Client::webhooks`].
#[derive(Debug, Clone, Copy)]
pub struct Webhooks<'a> {
    client: &'a Client,
}

impl<'a> Webhooks<'a> {
    pub(crate) fn new(client: &'a Client) -> Self {
        Webhooks { client }
    }

    /// Registers an endpoint. The returned endpoint carries the signing `secret`; it is not
    /// shown again (list responses have `secret: null`).
    pub fn create_endpoint(&self, url: impl Into<String>) -> CreateEndpoint<'a> {
        CreateEndpoint {
            client: self.client,
            url: url.into(),
            events: None,
            entity_id: None,
            options: RequestOptions::new(),
        }
    }

    /// Lists registered endpoints.
    pub fn list_endpoints(&self) -> ListEndpoints<'a> {
        ListEndpoints {
            client: self.client,
            limit: None,
            token: None,
        }
    }

    /// Changes an endpoint's URL or events (the events list is replaced, not merged).
    pub fn update_endpoint(&self, endpoint_id: impl Into<String>) -> UpdateEndpoint<'a> {
        UpdateEndpoint {
            client: self.client,
            endpoint_id: endpoint_id.into(),
            url: None,
            events: None,
        }
    }

    /// Removes an endpoint; deliveries to it stop.
    pub async fn delete_endpoint(&self, endpoint_id: &str) -> Result<()> {
        check_id("endpoint_id", endpoint_id)?;
        call!(
            self.client,
            "delete_webhook_endpoint",
            CallOptions::default(),
            |raw| raw
                .delete_webhook_endpoint()
                .endpoint_id(endpoint_id)
                .send()
        )?;
        Ok(())
    }

    /// Issues a new signing secret; the old one stops working immediately.
    pub async fn rotate_secret(&self, endpoint_id: &str) -> Result<RotatedSecret> {
        check_id("endpoint_id", endpoint_id)?;
        let response = call!(
            self.client,
            "rotate_webhook_secret",
            CallOptions::default(),
            |raw| raw.rotate_webhook_secret().endpoint_id(endpoint_id).send()
        )?;
        Ok(response.data)
    }

    /// Lists the event types an endpoint can subscribe to.
    pub async fn event_types(&self) -> Result<Page<EventTypeInfo>> {
        let list = call!(
            self.client,
            "list_webhook_event_types",
            CallOptions::default(),
            |raw| raw.list_webhook_event_types().send()
        )?;
        Ok(Page::new(list.data, list.has_more, list.next_token))
    }

    /// Lists delivered events, newest first.
    pub fn events(&self) -> ListEvents<'a> {
        ListEvents {
            client: self.client,
            event_type: None,
            entity_id: None,
            limit: None,
            token: None,
        }
    }
}

/// A request built by [`Webhooks::create_endpoint`].
#[derive(Debug, Clone)]
#[must_use]
pub struct CreateEndpoint<'a> {
    client: &'a Client,
    url: String,
    events: Option<Vec<EventType>>,
    entity_id: Option<String>,
    options: RequestOptions,
}

impl CreateEndpoint<'_> {
    /// Subscribes to these event types only (default: all events).
    pub fn events(mut self, events: impl IntoIterator<Item = EventType>) -> Self {
        self.events = Some(events.into_iter().collect());
        self
    }

    /// Scopes the endpoint to one resource.
    pub fn entity_id(mut self, entity_id: impl Into<String>) -> Self {
        self.entity_id = Some(entity_id.into());
        self
    }

    /// Per-call options (idempotency key, timeout).
    pub fn options(mut self, options: RequestOptions) -> Self {
        self.options = options;
        self
    }

    /// Registers the endpoint.
    pub async fn send(self) -> Result<WebhookEndpoint> {
        check_http_url("url", &self.url).map_err(Error::InvalidRequest)?;
        let options = self.options.into_call()?;
        let body = CreateWebhookEndpointRequest {
            url: self.url,
            events: self.events,
            entity_id: self.entity_id,
        };
        let response = call!(self.client, "create_webhook_endpoint", options, |raw| raw
            .create_webhook_endpoint()
            .body(body)
            .send())?;
        Ok(response.data)
    }
}

/// A request built by [`Webhooks::update_endpoint`].
#[derive(Debug, Clone)]
#[must_use]
pub struct UpdateEndpoint<'a> {
    client: &'a Client,
    endpoint_id: String,
    url: Option<String>,
    events: Option<Vec<EventType>>,
}

impl UpdateEndpoint<'_> {
    /// Moves the endpoint to a new URL.
    pub fn url(mut self, url: impl Into<String>) -> Self {
        self.url = Some(url.into());
        self
    }

    /// Replaces the subscribed event types.
    pub fn events(mut self, events: impl IntoIterator<Item = EventType>) -> Self {
        self.events = Some(events.into_iter().collect());
        self
    }

    /// Applies the change.
    pub async fn send(self) -> Result<WebhookEndpoint> {
        check_id("endpoint_id", &self.endpoint_id)?;
        if let Some(url) = &self.url {
            check_http_url("url", url).map_err(Error::InvalidRequest)?;
        }
        if self.url.is_none() && self.events.is_none() {
            return Err(Error::invalid(
                "url",
                "or events must be set: nothing to update",
            ));
        }
        let body = UpdateWebhookEndpointRequest {
            url: self.url,
            events: self.events,
        };
        let endpoint_id = self.endpoint_id;
        let response = call!(
            self.client,
            "update_webhook_endpoint",
            CallOptions::default(),
            |raw| raw
                .update_webhook_endpoint()
                .endpoint_id(endpoint_id)
                .body(body)
                .send()
        )?;
        Ok(response.data)
    }
}

/// A page request for [`Webhooks::list_endpoints`].
#[derive(Debug, Clone)]
#[must_use]
pub struct ListEndpoints<'a> {
    client: &'a Client,
    limit: Option<u32>,
    token: Option<String>,
}

paged!(
    ListEndpoints,
    WebhookEndpoint,
    "list_webhook_endpoints",
    "10"
);

impl ListEndpoints<'_> {
    /// Fetches the page.
    pub async fn send(self) -> Result<Page<WebhookEndpoint>> {
        let limit = check_limit(self.limit)?;
        let list = call!(
            self.client,
            "list_webhook_endpoints",
            CallOptions::default(),
            |raw| {
                let mut builder = raw.list_webhook_endpoints();
                if let Some(limit) = limit {
                    builder = builder.limit(limit);
                }
                if let Some(token) = &self.token {
                    builder = builder.token(token.clone());
                }
                builder.send()
            }
        )?;
        Ok(Page::new(list.data, list.has_more, list.next_token))
    }
}

/// A page request for [`Webhooks::events`].
#[derive(Debug, Clone)]
#[must_use]
pub struct ListEvents<'a> {
    client: &'a Client,
    event_type: Option<String>,
    entity_id: Option<String>,
    limit: Option<u32>,
    token: Option<String>,
}

paged!(ListEvents, WebhookEventRecord, "list_webhook_events", "10");

impl ListEvents<'_> {
    /// Only events of this type.
    pub fn event_type(mut self, event_type: impl Into<EventType>) -> Self {
        self.event_type = Some(event_type.into().as_str().to_string());
        self
    }

    /// Only events for this entity.
    pub fn entity_id(mut self, entity_id: impl Into<String>) -> Self {
        self.entity_id = Some(entity_id.into());
        self
    }

    /// Fetches the page.
    pub async fn send(self) -> Result<Page<WebhookEventRecord>> {
        let limit = check_limit(self.limit)?;
        let list = call!(
            self.client,
            "list_webhook_events",
            CallOptions::default(),
            |raw| {
                let mut builder = raw.list_webhook_events();
                if let Some(limit) = limit {
                    builder = builder.limit(limit);
                }
                if let Some(event_type) = &self.event_type {
                    builder = builder.event_type(event_type.clone());
                }
                if let Some(entity_id) = &self.entity_id {
                    builder = builder.entity_id(entity_id.clone());
                }
                if let Some(token) = &self.token {
                    builder = builder.token(token.clone());
                }
                builder.send()
            }
        )?;
        Ok(Page::new(list.data, list.has_more, list.next_token))
    }
}
