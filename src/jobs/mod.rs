//! Asynchronous jobs at HeyGen: the one lifecycle every wait drives (`lifecycle`), the
//! single wait (`wait`) and the chat-mode conversation (`chat`). The batch runner
//! (`crate::batch`) drives the same lifecycle.

pub mod chat;
/// Waiting for the jobs of the other families (each kind behind its family's Cargo feature;
/// without any, `JobKind` has no values).
pub(crate) mod job;
pub(crate) mod lifecycle;
pub(crate) mod wait;
