//! `/v3/video-agents`: prompt-to-video sessions.

use crate::client::{call, CallOptions, Client};
use crate::error::{Error, Result};
use crate::requests::{CreateVideoAgentRequest, SendMessageRequest};
use crate::resources::{check_id, check_limit, RequestOptions};
use crate::types::{
    CreatedVideoAgentSession, Page, SentMessage, SessionResource, StoppedSession, Style,
    VideoAgentSession, VideoAgentSessionSummary, VideoDetail,
};
use crate::wait::{self, Phase, WaitOptions, WaitOutcome, WaitStream};

/// Video Agent sessions. Get one with [`Client::video_agents`].
#[derive(Debug, Clone, Copy)]
pub struct VideoAgents<'a> {
    client: &'a Client,
}

impl<'a> VideoAgents<'a> {
    pub(crate) fn new(client: &'a Client) -> Self {
        VideoAgents { client }
    }

    /// Starts a session from a prompt (`POST /v3/video-agents`).
    ///
    /// The request is validated first; an invalid one fails with
    /// [`Error::InvalidRequest`] and nothing is sent.
    pub async fn create(
        &self,
        request: CreateVideoAgentRequest,
    ) -> Result<CreatedVideoAgentSession> {
        self.create_with(request, RequestOptions::new()).await
    }

    /// [`create`](Self::create) with per-call options (idempotency key, timeout).
    pub async fn create_with(
        &self,
        request: CreateVideoAgentRequest,
        options: RequestOptions,
    ) -> Result<CreatedVideoAgentSession> {
        request.validate().map_err(Error::InvalidRequest)?;
        let options = options.into_call()?;
        let response = call!(self.client, "create_video_agent_session", options, |raw| {
            raw.create_video_agent_session().body(request).send()
        })?;
        Ok(response.data)
    }

    /// Creates a session and waits for its video: the session is polled until it has a
    /// `video_id`, then the video until it is done. See [`WaitOptions`] for the schedule and
    /// [`WaitOutcome`] for the endings.
    ///
    /// # Errors
    /// Validation and API errors from the create call; during the wait, only errors that are not
    /// retryable (e.g. 401, 404 for the video) end it early.
    pub async fn create_and_wait(
        &self,
        request: CreateVideoAgentRequest,
        options: WaitOptions,
    ) -> Result<WaitOutcome> {
        let created = self.create(request).await?;
        let start = match created.video_id.filter(|v| !v.is_empty()) {
            Some(video_id) => Phase::Video {
                session_id: Some(created.session_id),
                video_id,
            },
            None => Phase::Session(created.session_id),
        };
        wait::run(self.client.clone(), start, options).await
    }

    /// Waits on an existing session (resumable: any process can wait on a session id).
    pub async fn wait(&self, session_id: &str, options: WaitOptions) -> Result<WaitOutcome> {
        check_id("session_id", session_id)?;
        wait::run(
            self.client.clone(),
            Phase::Session(session_id.to_string()),
            options,
        )
        .await
    }

    /// [`wait`](Self::wait) as a stream: one [`WaitUpdate::Progress`](crate::WaitUpdate::Progress) per poll, then
    /// one [`WaitUpdate::Done`](crate::WaitUpdate::Done). Dropping the stream stops polling.
    pub fn wait_stream(&self, session_id: &str, options: WaitOptions) -> WaitStream<'static> {
        wait::stream(
            self.client.clone(),
            Phase::Session(session_id.to_string()),
            options,
        )
    }

    /// Lists sessions, newest first (`GET /v3/video-agents`).
    pub fn list(&self) -> ListSessions<'a> {
        ListSessions {
            client: self.client,
            limit: None,
            token: None,
        }
    }

    /// Gets a session's status, progress, `video_id` and recent messages.
    pub async fn get(&self, session_id: &str) -> Result<VideoAgentSession> {
        check_id("session_id", session_id)?;
        let response = call!(
            self.client,
            "get_video_agent_session",
            CallOptions::default(),
            |raw| raw.get_video_agent_session().session_id(session_id).send()
        )?;
        Ok(response.data)
    }

    /// Sends a follow-up message to a chat-mode session (answer a question, approve, revise).
    pub async fn send_message(
        &self,
        session_id: &str,
        message: impl Into<SendMessageRequest>,
    ) -> Result<SentMessage> {
        self.send_message_with(session_id, message, RequestOptions::new())
            .await
    }

    /// [`send_message`](Self::send_message) with per-call options.
    pub async fn send_message_with(
        &self,
        session_id: &str,
        message: impl Into<SendMessageRequest>,
        options: RequestOptions,
    ) -> Result<SentMessage> {
        check_id("session_id", session_id)?;
        let message = message.into();
        message.validate().map_err(Error::InvalidRequest)?;
        let options = options.into_call()?;
        let response = call!(self.client, "send_video_agent_message", options, |raw| raw
            .send_video_agent_message()
            .session_id(session_id)
            .body(message)
            .send())?;
        Ok(response.data)
    }

    /// Stops a session at its next checkpoint; partial results are kept.
    pub async fn stop(&self, session_id: &str) -> Result<StoppedSession> {
        check_id("session_id", session_id)?;
        let response = call!(
            self.client,
            "stop_video_agent_session",
            CallOptions::default(),
            |raw| raw
                .stop_video_agent_session()
                .session_id(session_id)
                .body(crate::raw::types::StopSessionRequest(serde_json::Map::new()))
                .send()
        )?;
        Ok(response.data)
    }

    /// Lists the videos a session produced, newest first.
    pub async fn videos(&self, session_id: &str) -> Result<Page<VideoDetail>> {
        check_id("session_id", session_id)?;
        let list = call!(
            self.client,
            "list_session_videos",
            CallOptions::default(),
            |raw| raw.list_session_videos().session_id(session_id).send()
        )?;
        Ok(Page::new(list.data, list.has_more, list.next_token))
    }

    /// Gets one resource (image, video, draft, …) referenced by a session message.
    pub async fn resource(&self, session_id: &str, resource_id: &str) -> Result<SessionResource> {
        check_id("session_id", session_id)?;
        check_id("resource_id", resource_id)?;
        let response = call!(
            self.client,
            "get_session_resource",
            CallOptions::default(),
            |raw| raw
                .get_session_resource()
                .session_id(session_id)
                .resource_id(resource_id)
                .send()
        )?;
        Ok(response.data)
    }

    /// Lists the visual styles a session can use (`GET /v3/video-agents/styles`).
    pub fn styles(&self) -> ListStyles<'a> {
        ListStyles {
            client: self.client,
            tag: None,
            limit: None,
            token: None,
        }
    }
}

/// A page request for [`VideoAgents::list`].
#[derive(Debug, Clone)]
#[must_use]
pub struct ListSessions<'a> {
    client: &'a Client,
    limit: Option<u32>,
    token: Option<String>,
}

paged!(
    ListSessions,
    VideoAgentSessionSummary,
    "list_video_agent_sessions",
    "20"
);

impl ListSessions<'_> {
    /// Fetches the page.
    pub async fn send(self) -> Result<Page<VideoAgentSessionSummary>> {
        let limit = check_limit(self.limit)?;
        let list = call!(
            self.client,
            "list_video_agent_sessions",
            CallOptions::default(),
            |raw| {
                let mut builder = raw.list_video_agent_sessions();
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

/// A page request for [`VideoAgents::styles`].
#[derive(Debug, Clone)]
#[must_use]
pub struct ListStyles<'a> {
    client: &'a Client,
    tag: Option<String>,
    limit: Option<u32>,
    token: Option<String>,
}

paged!(ListStyles, Style, "list_video_agent_styles", "20");

impl ListStyles<'_> {
    /// Only styles with this tag (e.g. `cinematic`, `retro-tech`).
    pub fn tag(mut self, tag: impl Into<String>) -> Self {
        self.tag = Some(tag.into());
        self
    }

    /// Fetches the page.
    pub async fn send(self) -> Result<Page<Style>> {
        let limit = check_limit(self.limit)?;
        let list = call!(
            self.client,
            "list_video_agent_styles",
            CallOptions::default(),
            |raw| {
                let mut builder = raw.list_video_agent_styles();
                if let Some(limit) = limit {
                    builder = builder.limit(limit);
                }
                if let Some(tag) = &self.tag {
                    builder = builder.tag(tag.clone());
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
