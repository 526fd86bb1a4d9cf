//! Generates the typed client from `openapi.yaml` at build time.
//!
//! Outputs, all in `OUT_DIR`:
//! - `codegen.rs`: the progenitor client (Builder interface), included by `src/api/raw.rs`;
//! - `typed_layer.rs`: the typed layer of every operation (resource handles, request builders,
//!   the operation table), included by `src/resources/mod.rs`;
//! - `httpmock.rs`: progenitor's typed httpmock helpers, included by the tests;
//! - `openapi.json`: the spec as JSON, embedded by `src/contract.rs`;
//! - `open_enums.rs`: an open enum for every other string enum of the spec, included by
//!   `src/api/types.rs`;
//! - `kinds.rs`: every kind of asynchronous job the spec describes (`x-heygen-jobs`), included
//!   by `src/api/kinds.rs`.
//!
//! Operations of a family (`x-heygen-family`) whose Cargo feature is off are removed first
//! (`build/families.rs`).
//!
//! Operations marked `x-heygen-handwritten: true` (multipart uploads) are removed before
//! generation; the crate implements them by hand. A broken spec stops the build with a message
//! that names the spec and the problem.

#[path = "build/families.rs"]
mod families;
#[path = "build/generate.rs"]
mod generate;
#[path = "build/kinds.rs"]
mod kinds;
#[path = "build/open_enums.rs"]
mod open_enums;
#[path = "build/polish.rs"]
mod polish;
#[path = "build/typed_layer.rs"]
mod typed_layer;
#[path = "build/unknown_fields.rs"]
mod unknown_fields;

use std::path::PathBuf;

const SPEC: &str = "openapi.yaml";

fn main() {
    println!("cargo:rerun-if-changed={SPEC}");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=build/generate.rs");
    println!("cargo:rerun-if-changed=build/typed_layer.rs");
    println!("cargo:rerun-if-changed=build/open_enums.rs");
    println!("cargo:rerun-if-changed=build/unknown_fields.rs");
    println!("cargo:rerun-if-changed=build/families.rs");
    println!("cargo:rerun-if-changed=build/kinds.rs");
    println!("cargo:rerun-if-changed=build/polish.rs");
    let (Ok(manifest_dir), Ok(out_dir)) = (
        std::env::var("CARGO_MANIFEST_DIR"),
        std::env::var("OUT_DIR"),
    ) else {
        eprintln!("error: build.rs must run under cargo (CARGO_MANIFEST_DIR and OUT_DIR unset)");
        std::process::exit(1);
    };
    let spec = PathBuf::from(manifest_dir).join(SPEC);
    // A family of operations is built when the Cargo feature of its name is enabled.
    let enabled = |family: &str| std::env::var_os(families::feature_variable(family)).is_some();
    // `heygen_jobs`: some kind of job of a family is built in (beside videos and sessions).
    println!("cargo:rustc-check-cfg=cfg(heygen_jobs)");
    let family_kinds = std::fs::read_to_string(&spec)
        .ok()
        .and_then(|text| serde_norway::from_str::<serde_json::Value>(&text).ok())
        .and_then(|value| kinds::families(&value).ok())
        .unwrap_or_default();
    if family_kinds
        .iter()
        .any(|(_, family)| family.as_deref().is_some_and(enabled))
    {
        println!("cargo:rustc-cfg=heygen_jobs");
    }
    if let Err(problem) = generate::run(&spec, &PathBuf::from(out_dir), &enabled) {
        // One clear line instead of a panic backtrace.
        println!("cargo:warning={SPEC}: {problem}");
        eprintln!("error: {SPEC}: {problem}");
        std::process::exit(1);
    }
}
