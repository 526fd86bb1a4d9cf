//! Video Agent sessions: create-and-wait and waits, beside the generated operations.

use crate::api::bodies::CreateVideoAgentRequest;
use crate::api::error::Result;
use crate::api::outcome::{AgentRecord, JobOutcome};
use crate::jobs::video_wait::{self, Phase};
use crate::jobs::wait::{WaitOptions, WaitStream};
use crate::resources::check_path_param;
use crate::resources::generated::handles::VideoAgents;

impl crate::resources::generated::builders::CreateVideoAgentSession<'_> {
    /// Sends the request, then waits for the session's video, as
    /// [`VideoAgents::create_and_wait`] does (the shape every kind's create has).
    ///
    /// # Errors
    /// The create's own errors; during the wait, only errors that are not retryable end it.
    pub async fn send_and_wait(self, options: WaitOptions) -> Result<JobOutcome<AgentRecord>> {
        let client = self.client().clone();
        let created = self.send().await?;
        let start = match created.video_id.filter(|v| !v.is_empty()) {
            Some(video_id) => Phase::Video {
                session_id: Some(created.session_id),
                video_id,
            },
            None => Phase::Session(created.session_id),
        };
        video_wait::run(client, start, options).await
    }
}

impl VideoAgents<'_> {
    /// Creates a session and waits for its video: the session is polled until it has a
    /// `video_id`, then the video until it is done. See [`WaitOptions`] for the schedule and
    /// [`JobOutcome`] for the endings: its record is the video once the session has one
    /// ([`AgentRecord::Video`]), else the session ([`AgentRecord::Session`]);
    /// [`into_video`](JobOutcome::into_video) gives the rendered video or the error saying why
    /// there is none.
    ///
    /// # Errors
    /// Validation and API errors from the create call; during the wait, only errors that are not
    /// retryable (e.g. 401, 404 for the video) end it early.
    pub async fn create_and_wait(
        &self,
        request: CreateVideoAgentRequest,
        options: WaitOptions,
    ) -> Result<JobOutcome<AgentRecord>> {
        self.create(request).send_and_wait(options).await
    }

    /// Waits on an existing session (resumable: any process can wait on a session id).
    pub async fn wait(
        &self,
        session_id: &str,
        options: WaitOptions,
    ) -> Result<JobOutcome<AgentRecord>> {
        check_path_param("session_id", session_id)?;
        video_wait::run(
            self.client.clone(),
            Phase::Session(session_id.to_string()),
            options,
        )
        .await
    }

    /// [`wait`](Self::wait) as a stream: one [`WaitUpdate::Progress`](crate::WaitUpdate::Progress) per poll, then
    /// one [`WaitUpdate::Done`](crate::WaitUpdate::Done). Dropping the stream stops polling.
    pub fn wait_stream(
        &self,
        session_id: &str,
        options: WaitOptions,
    ) -> WaitStream<'static, AgentRecord> {
        video_wait::stream(
            self.client.clone(),
            Phase::Session(session_id.to_string()),
            options,
        )
    }
}
