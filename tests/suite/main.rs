//! The integration tests, one binary: built and linked once, run in parallel.
//!
//! Two tests stay binaries of their own: `tracing.rs` installs a global subscriber, and
//! `build_script.rs` compiles the build script's modules as its own crate.

mod common;

mod bad_input;
mod batch;
mod cli;
mod contract;
mod durability;
mod faithful;
mod families;
mod faults;
mod layers;
mod mcp;
mod receiver;
mod request_bodies;
mod resilience;
mod simulator;
mod spec_edit;
mod terminal;
mod transfers_and_waits;
mod typed_mocks;
mod unknown_fields;
mod webhook;

/// The longest test builds an edited copy of the crate. At the root, its name sorts first, so
/// the harness starts it first and runs the others beside it.
#[cfg(feature = "cli")]
#[test]
fn a_crate_with_one_operation_added_to_its_spec_builds_answers_and_passes() {
    spec_edit::a_crate_with_one_operation_added_to_its_spec_builds_answers_and_passes();
}
