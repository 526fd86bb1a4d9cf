//! A chat-mode conversation with the Video Agent: the agent works, pauses to show its
//! storyboard or ask something, you answer, and when you approve it renders the video.
//!
//! ```no_run
//! # async fn demo(client: heygen_api::Client) -> Result<(), heygen_api::Error> {
//! use heygen_api::chat::Turn;
//! use heygen_api::{CreateVideoAgentRequest, WaitOptions};
//!
//! let mut chat = client
//!     .video_agents()
//!     .chat(CreateVideoAgentRequest::new("A 30-second tour of our new office"))
//!     .await?;
//! let mut rounds = 0;
//! let outcome = loop {
//!     match chat.next_turn(WaitOptions::new()).await? {
//!         Turn::Paused { new_messages, resources, .. } => {
//!             for message in &new_messages {
//!                 println!("agent: {}", message.content);
//!             }
//!             println!("({} resources)", resources.len());
//!             rounds += 1;
//!             if rounds < 2 {
//!                 chat.reply("Shorter scenes, please").await?;
//!             } else {
//!                 chat.approve().await?;
//!             }
//!         }
//!         Turn::Finished(outcome) => break outcome,
//!     }
//! };
//! println!("{outcome}");
//! # Ok(()) }
//! ```

use std::collections::HashSet;

use crate::api::bodies::{CreateVideoAgentRequest, SendMessageRequest};
use crate::api::client::Client;
use crate::api::error::Result;
use crate::api::outcome::{AgentRecord, JobOutcome};
use crate::api::types::AgentMode;
use crate::api::types::{SessionMessage, SessionResource, VideoAgentSession};
use crate::jobs::video_wait::{self, Phase};
use crate::jobs::wait::WaitOptions;
use crate::resources::generated::handles::VideoAgents;

/// What the message [`Conversation::approve`] sends.
pub const APPROVAL: &str = "Approved. Please render the video.";

/// One turn of a [`Conversation`]: the agent waits for you, or it is over.
#[derive(Debug, Clone)]
pub enum Turn {
    /// The agent paused (`reviewing` or `waiting_for_input`) and waits for your answer.
    Paused {
        /// The session as it paused.
        session: Box<VideoAgentSession>,
        /// The agent's messages that arrived since the last turn, oldest first.
        new_messages: Vec<SessionMessage>,
        /// The resources those messages point to (the storyboard, drafts, images…).
        resources: Vec<SessionResource>,
    },
    /// The conversation is over: the video is done or failed, the session failed, or the
    /// wait's deadline passed.
    Finished(JobOutcome<AgentRecord>),
}

/// A chat-mode session, turn by turn. Start one with [`VideoAgents::chat`], or resume one
/// with [`VideoAgents::conversation`].
#[derive(Debug, Clone)]
pub struct Conversation {
    client: Client,
    session_id: String,
    /// Messages already handed out, so that each turn shows only the new ones.
    seen: HashSet<(String, String, Option<i64>)>,
}

impl Conversation {
    /// The session's ID: another process can resume the conversation with it.
    pub fn session_id(&self) -> &str {
        &self.session_id
    }

    /// Waits until the agent pauses for you, or the conversation ends.
    ///
    /// # Errors
    /// As [`VideoAgents::wait`]: errors that are not retryable end the wait early.
    pub async fn next_turn(&mut self, options: WaitOptions) -> Result<Turn> {
        let outcome = video_wait::run(
            self.client.clone(),
            Phase::Session(self.session_id.clone()),
            options,
        )
        .await?;
        let JobOutcome::NeedsInput(AgentRecord::Session(session)) = outcome else {
            return Ok(Turn::Finished(outcome));
        };
        // Messages come newest first; hand the unseen ones out oldest first.
        // Your own messages are in the history too; they are not news.
        let mut new_messages: Vec<SessionMessage> = session
            .messages
            .iter()
            .filter(|m| self.seen.insert(key(m)) && m.role != "user")
            .cloned()
            .collect();
        new_messages.reverse();
        let mut resources = Vec::new();
        let mut fetched = HashSet::new();
        for id in new_messages
            .iter()
            .flat_map(|m| m.resource_ids.iter().flatten())
        {
            if fetched.insert(id.clone()) {
                resources.push(
                    self.client
                        .video_agents()
                        .resource(&self.session_id, id)
                        .await?,
                );
            }
        }
        Ok(Turn::Paused {
            session,
            new_messages,
            resources,
        })
    }

    /// Answers the agent: feedback on its storyboard, or the answer to its question.
    ///
    /// # Errors
    /// [`Error::InvalidRequest`](crate::Error::InvalidRequest) for a blank message (nothing is
    /// sent); any error of the call.
    pub async fn reply(&mut self, message: impl Into<SendMessageRequest>) -> Result<()> {
        let message = message.into();
        self.client
            .video_agents()
            .send_message(&self.session_id, message)
            .await?;
        Ok(())
    }

    /// Approves the storyboard, so that the agent renders the video ([`APPROVAL`]).
    ///
    /// # Errors
    /// As [`reply`](Self::reply).
    pub async fn approve(&mut self) -> Result<()> {
        self.reply(APPROVAL).await
    }
}

fn key(message: &SessionMessage) -> (String, String, Option<i64>) {
    (
        message.role.clone(),
        message.content.clone(),
        message.created_at,
    )
}

impl VideoAgents<'_> {
    /// Starts a chat-mode session (the request's mode is set to `chat`) and returns the
    /// conversation.
    ///
    /// # Errors
    /// As [`create`](Self::create).
    pub async fn chat(&self, request: CreateVideoAgentRequest) -> Result<Conversation> {
        let created = self.create(request.mode(AgentMode::Chat)).await?;
        Ok(self.conversation(created.session_id))
    }

    /// Resumes the conversation of an existing chat-mode session. Its first turn shows the
    /// session's whole recent history.
    pub fn conversation(&self, session_id: impl Into<String>) -> Conversation {
        Conversation {
            client: self.client.clone(),
            session_id: session_id.into(),
            seen: HashSet::new(),
        }
    }
}
