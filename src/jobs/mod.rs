//! Asynchronous jobs at HeyGen: the one lifecycle every wait drives (`lifecycle`), the one
//! poller (`job`), the options, clock and events of every wait (`wait`), a session's or a
//! video's wait typed (`video_wait`) and the chat-mode conversation (`chat`). The batch runner
//! (`crate::batch`) drives the same lifecycle.

pub mod chat;
/// Waiting for jobs of any kind the spec describes, one at a time or many at once.
pub(crate) mod job;
pub(crate) mod lifecycle;
pub(crate) mod video_wait;
pub(crate) mod wait;
