//! `build.rs` turns a broken spec into one clear message naming the problem, never a panic.

#[path = "../build/generate.rs"]
#[allow(dead_code)]
mod generate;
#[path = "../build/open_enums.rs"]
#[allow(dead_code)]
mod open_enums;
#[path = "../build/typed_layer.rs"]
#[allow(dead_code)]
mod typed_layer;
#[path = "../build/unknown_fields.rs"]
#[allow(dead_code)]
mod unknown_fields;

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

/// A plain operation added to the spec alone becomes a resource handle, a method, a request
/// builder and an entry of the operation table (which the CLI, the simulator and the contract
/// tests are built from); nothing else has to be written.
#[test]
fn a_plain_operation_added_to_the_spec_is_generated_whole() {
    let extra = "  /v3/widgets/{widget_id}:\n    get:\n      tags: [widgets]\n      operationId: get_widget\n      summary: Get Widget\n      parameters:\n        - name: widget_id\n          in: path\n          required: true\n          schema: {type: string}\n        - name: depth\n          in: query\n          schema: {type: integer, minimum: 1, maximum: 5}\n        - name: colour\n          in: query\n          required: true\n          schema: {type: string}\n      responses:\n        '200':\n          description: A widget.\n          content:\n            application/json:\n              schema:\n                type: object\n                required: [data]\n                properties:\n                  data:\n                    type: object\n                    properties:\n                      name: {type: string}\n                      shape: {type: string, nullable: true, enum: [round, square, '16:9']}\n              example: {data: {name: sprocket}}\n        4XX:\n          $ref: '#/components/responses/ClientError'\n\ncomponents:\n";
    let spec = SPEC.replacen("\ncomponents:\n", &format!("\n{extra}"), 1);
    let dir = generate_from(&spec).unwrap();
    let code = std::fs::read_to_string(dir.path().join("typed_layer.rs")).unwrap();
    for expected in [
        "pub struct Widgets<'a>",
        "pub fn widgets(&self) -> Widgets<'_>",
        // Required arguments are positional: the path parameter, then the required query
        // parameter; the optional one is a setter.
        "pub fn get_widget(\n            &self,\n            widget_id: impl Into<String>,\n            colour: impl Into<::std::string::String>,\n        ) -> GetWidget<'a>",
        "pub struct GetWidget<'a>",
        "pub fn depth(mut self, value: u64) -> Self",
        "crate::resources::check_range(\"depth\", v as i128, Some(1), Some(5))",
        "id: \"get_widget\"",
        "command: \"widgets\"",
        "invoke: Some(invoke_get_widget)",
    ] {
        assert!(code.contains(expected), "missing `{expected}` in:\n{code}");
    }
    // Its server-controlled enum is open: a generated type with an `Unknown` variant, used
    // (nullable) by the generated model.
    let enums = std::fs::read_to_string(dir.path().join("open_enums.rs")).unwrap();
    for expected in [
        "GetWidgetResponseDataShape {",
        "Round = \"round\"",
        "V16x9 = \"16:9\"",
    ] {
        assert!(
            enums.contains(expected),
            "missing `{expected}` in:\n{enums}"
        );
    }
    let client = std::fs::read_to_string(dir.path().join("codegen.rs")).unwrap();
    assert!(
        client.contains("::std::option::Option<crate::types::GetWidgetResponseDataShape>"),
        "{client}"
    );
    // Without the operation, none of it exists.
    let plain = std::fs::read_to_string(generate_from(SPEC).unwrap().path().join("typed_layer.rs"))
        .unwrap();
    assert!(!plain.contains("GetWidget"));
}

#[test]
fn two_operations_with_one_method_name_are_refused() {
    let spec = SPEC.replacen("x-heygen-method: delete\n", "x-heygen-method: get\n", 1);
    let e = generate_from(&spec).unwrap_err();
    assert!(e.contains("x-heygen-method"), "{e}");
}

/// The generated code of a small fixture spec (two resources, a list, a get, a delete and a
/// create with a body), checked in: a change of the generator, or of progenitor under it,
/// shows in review as a change of these files. `HEYGEN_BLESS=1` rewrites them.
#[test]
fn the_generated_code_of_the_fixture_spec_is_as_checked_in() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/generator");
    let out = tempfile::tempdir().unwrap();
    generate::run(&fixture.join("spec.yaml"), out.path()).unwrap();
    let bless = std::env::var_os("HEYGEN_BLESS").is_some();
    for file in ["typed_layer.rs", "codegen.rs", "open_enums.rs"] {
        let generated = std::fs::read_to_string(out.path().join(file)).unwrap();
        let expected_path = fixture.join(format!("{file}.expected"));
        if bless {
            std::fs::write(&expected_path, &generated).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if generated != expected {
            let line = generated
                .lines()
                .zip(expected.lines().chain(std::iter::repeat("")))
                .position(|(a, b)| a != b)
                .unwrap_or(0);
            panic!(
                "{file} differs from {} from line {}:\n  generated: {:?}\n  expected:  {:?}\n\
                 Review the change; HEYGEN_BLESS=1 cargo test --test build_script writes it.",
                expected_path.display(),
                line + 1,
                generated.lines().nth(line).unwrap_or(""),
                expected.lines().nth(line).unwrap_or(""),
            );
        }
    }
}
