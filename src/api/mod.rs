//! The core: the generated client (`raw`), the client that drives it (`client`, `hooks`,
//! `retry`), the one error type, and every type the generated code names: the typed values
//! (`types`), the request bodies checked by hand (`bodies`), the kinds of asynchronous job
//! (`kinds`), how a wait ends (`outcome`, and as a `Result`: `ended`) and
//! webhook events (`webhook`). Nothing here imports the layers above.

pub(crate) mod bodies;
pub(crate) mod client;
pub(crate) mod ended;
pub(crate) mod error;
pub(crate) mod hooks;
pub(crate) mod invalid;
pub(crate) mod kinds;
pub(crate) mod open_enum;
pub(crate) mod outcome;
pub mod raw;
pub(crate) mod retry;
pub mod types;
pub mod webhook;
