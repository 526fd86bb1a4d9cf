//! The client generated from `openapi.yaml` by progenitor at build time.
//!
//! Everything here is generated; the rest of the crate wraps it. Reach for it only for
//! something the handwritten layer does not offer: get a configured instance from
//! [`Client::raw`](crate::Client::raw), which shares the handwritten client's authentication,
//! timeouts, idempotency keys and retries. Its methods return progenitor's
//! `ResponseValue`/`Error` types, and its names follow the spec's `operationId`s, so they can
//! change whenever the spec does.
#![allow(
    missing_docs,
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
