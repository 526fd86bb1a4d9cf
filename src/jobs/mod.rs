//! Asynchronous jobs at HeyGen: the one lifecycle every wait drives (`lifecycle`), the typed
//! wait of a session or a video and the clock every wait polls by (`wait`), the wait for jobs
//! of any kind as JSON (`job`) and the chat-mode conversation (`chat`). The batch runner
//! (`crate::batch`) drives the same lifecycle.

pub mod chat;
/// Waiting for jobs of any kind the spec describes, one at a time or many at once.
pub(crate) mod job;
pub(crate) mod lifecycle;
pub(crate) mod wait;
