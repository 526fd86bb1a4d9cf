//! `build.rs` turns a broken spec into one clear message naming the problem, never a panic.

#[path = "../build/generate.rs"]
#[allow(dead_code)]
mod generate;
#[path = "../build/operations.rs"]
#[allow(dead_code)]
mod operations;

use std::path::Path;

const SPEC: &str = include_str!("../openapi.yaml");

fn generate_from(spec: &str) -> Result<tempfile::TempDir, String> {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("openapi.yaml");
    std::fs::write(&path, spec).expect("write spec");
    generate::run(&path, dir.path()).map(|()| dir)
}

#[test]
fn the_real_spec_generates_client_mocks_and_json() {
    let dir = generate_from(SPEC).unwrap();
    for file in ["codegen.rs", "httpmock.rs", "openapi.json"] {
        let len = std::fs::metadata(dir.path().join(file)).unwrap().len();
        assert!(len > 1000, "{file} is {len} bytes");
    }
    let code = std::fs::read_to_string(dir.path().join("codegen.rs")).unwrap();
    // The multipart upload is left to handwritten code; open enums replace closed ones.
    assert!(!code.contains("fn upload_asset"));
    assert!(code.contains("crate::types::SessionStatus"));
    assert!(!code.contains("pub enum SessionStatus"));
    let mocks = std::fs::read_to_string(dir.path().join("httpmock.rs")).unwrap();
    assert!(
        !mocks.contains("crate::"),
        "mocks must name the crate explicitly"
    );
}

#[test]
fn a_missing_spec_is_reported() {
    let e = generate::run(Path::new("/nonexistent/openapi.yaml"), Path::new("/tmp")).unwrap_err();
    assert!(e.contains("cannot read the spec"), "{e}");
}

#[test]
fn invalid_yaml_is_reported() {
    let e = generate_from("openapi: 3.0.3\npaths: [unclosed").unwrap_err();
    assert!(e.contains("not valid YAML"), "{e}");
}

#[test]
fn openapi_3_1_is_refused_with_the_reason() {
    let e = generate_from(&SPEC.replacen("openapi: 3.0.3", "openapi: 3.1.0", 1)).unwrap_err();
    assert!(e.contains("3.1.0 is not supported"), "{e}");
}

#[test]
fn duplicate_operation_ids_name_both_operations() {
    let broken = SPEC.replacen("operationId: list_videos", "operationId: get_video", 1);
    let e = generate_from(&broken).unwrap_err();
    assert!(e.contains("`get_video` is used twice"), "{e}");
    assert!(e.contains("GET /v3/videos"), "{e}");
}

#[test]
fn missing_operation_ids_are_reported() {
    let broken = SPEC.replacen("      operationId: list_videos\n", "", 1);
    let e = generate_from(&broken).unwrap_err();
    assert!(e.contains("GET /v3/videos has no operationId"), "{e}");
}

#[test]
fn a_generator_panic_becomes_a_message() {
    // A `default` response with another schema beside the 200 panics progenitor.
    let broken = SPEC.replacen(
        "      responses:\n        '200':\n          description: A page of videos.",
        "      responses:\n        default:\n          description: Odd.\n          content:\n            application/json:\n              schema:\n                type: string\n        '200':\n          description: A page of videos.",
        1,
    );
    assert_ne!(broken, SPEC);
    let e = generate_from(&broken).unwrap_err();
    assert!(e.contains("the generator"), "{e}");
}

#[test]
fn a_structurally_wrong_document_is_reported() {
    let e = generate_from("openapi: 3.0.3\ninfo: 7\npaths: {}\n").unwrap_err();
    assert!(e.contains("not a valid OpenAPI 3.0 document"), "{e}");
}
