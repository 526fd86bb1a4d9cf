//! The client generated from `openapi.yaml` by progenitor at build time.
//!
//! Everything here is generated; the rest of the crate wraps it. Reach for it only for
//! something the handwritten layer does not offer: get a configured instance from
//! [`Client::raw`](crate::Client::raw), which shares the handwritten client's authentication,
//! timeouts, idempotency keys and retries. Its methods return progenitor's
//! `ResponseValue`/`Error` types, and its names follow the spec's `operationId`s, so they can
//! change whenever the spec does.
//!
//! Its request builders (what `raw().get_video()` returns) share their names with the
//! crate's own in [`operations`](crate::operations), so they are left out of these docs;
//! each method's doc says what it sends. Every public item here has a doc, taken from the
//! spec: a member the spec leaves undescribed is a warning, and an error in CI.
#![warn(missing_docs)]
#![allow(
    missing_debug_implementations,
    unreachable_pub,
    unused_imports,
    unreachable_patterns,
    dead_code,
    clippy::all,
    clippy::pedantic,
    rustdoc::all
)]

include!(concat!(env!("OUT_DIR"), "/codegen.rs"));
