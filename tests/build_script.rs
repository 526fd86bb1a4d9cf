//! `build.rs` turns a broken spec into one clear message naming the problem, never a panic.

#[path = "../build/families.rs"]
#[allow(dead_code)]
mod families;
#[path = "../build/generate.rs"]
#[allow(dead_code)]
mod generate;
#[path = "../build/kinds.rs"]
#[allow(dead_code)]
mod kinds;
#[path = "../build/open_enums.rs"]
#[allow(dead_code)]
mod open_enums;
#[path = "../build/polish.rs"]
#[allow(dead_code)]
mod polish;
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
    generate::run(&path, dir.path(), &|_| true).map(|()| dir)
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

/// Every setter of a request builder says what its member does: the spec describes every
/// body member and query parameter, so no setter's doc stops at "The body's `x`:" or is only
/// "Sets `x`.".
#[test]
fn every_setter_of_the_real_spec_is_described() {
    let dir = generate_from(SPEC).unwrap();
    let layer = std::fs::read_to_string(dir.path().join("typed_layer.rs")).unwrap();
    let bare: Vec<&str> = layer
        .lines()
        .map(str::trim)
        .filter(|l| {
            (l.starts_with("///The body's") && l.ends_with(':')) || l.starts_with("///Sets `")
        })
        .collect();
    assert!(
        bare.is_empty(),
        "{} setters say nothing of their member:\n{}",
        bare.len(),
        bare.join("\n")
    );
}

/// The public items of the generated `types` module that carry no doc: every struct, enum,
/// field, variant and method, builders included.
fn undocumented_types(code: &str) -> Vec<String> {
    fn documented(attrs: &[syn::Attribute]) -> bool {
        attrs.iter().any(|a| a.path().is_ident("doc"))
    }
    fn public(vis: &syn::Visibility) -> bool {
        matches!(vis, syn::Visibility::Public(_))
    }
    fn walk(items: &[syn::Item], place: &str, out: &mut Vec<String>) {
        for item in items {
            match item {
                syn::Item::Struct(s) if public(&s.vis) => {
                    if !documented(&s.attrs) {
                        out.push(format!("{place}{}", s.ident));
                    }
                    // Like the compiler's lint, the fields of a tuple struct need no doc.
                    let named = s.fields.iter().filter(|f| f.ident.is_some());
                    for field in named.filter(|f| public(&f.vis)) {
                        if !documented(&field.attrs) {
                            let name = field.ident.as_ref().map(ToString::to_string);
                            out.push(format!("{place}{}.{}", s.ident, name.unwrap_or_default()));
                        }
                    }
                }
                syn::Item::Enum(e) if public(&e.vis) => {
                    if !documented(&e.attrs) {
                        out.push(format!("{place}{}", e.ident));
                    }
                    for variant in e.variants.iter().filter(|v| !documented(&v.attrs)) {
                        out.push(format!("{place}{}::{}", e.ident, variant.ident));
                    }
                }
                syn::Item::Impl(block) if block.trait_.is_none() => {
                    for member in &block.items {
                        if let syn::ImplItem::Fn(f) = member {
                            if public(&f.vis) && !documented(&f.attrs) {
                                out.push(format!("{place}fn {}", f.sig.ident));
                            }
                        }
                    }
                }
                syn::Item::Mod(m) if public(&m.vis) => {
                    let inner = format!("{place}{}::", m.ident);
                    if let Some((_, items)) = &m.content {
                        walk(items, &inner, out);
                    }
                }
                _ => {}
            }
        }
    }
    let file = syn::parse_file(code).unwrap();
    let mut out = Vec::new();
    for item in &file.items {
        if let syn::Item::Mod(m) = item {
            if m.ident == "types" {
                walk(&m.content.as_ref().unwrap().1, "types::", &mut out);
            }
        }
    }
    out
}

#[test]
fn every_public_type_field_and_setter_of_the_real_spec_is_documented() {
    let dir = generate_from(SPEC).unwrap();
    let code = std::fs::read_to_string(dir.path().join("codegen.rs")).unwrap();
    let bare = undocumented_types(&code);
    assert!(
        bare.is_empty(),
        "{} public items have no doc (describe them in openapi.yaml):\n{}",
        bare.len(),
        bare.join("\n")
    );
    // One name for one thing: a type's builder is named as a builder.
    assert!(code.contains("pub fn builder() -> builder::LipsyncBuilder"));
}

#[test]
fn an_undescribed_member_is_found() {
    let spec = SPEC.replacen(
        "          description: 'A time-limited link to the SRT captions; set once the lip-sync is done.'\n",
        "",
        1,
    );
    assert_ne!(spec, SPEC);
    let dir = generate_from(&spec).unwrap();
    let code = std::fs::read_to_string(dir.path().join("codegen.rs")).unwrap();
    let bare = undocumented_types(&code);
    assert_eq!(
        bare,
        [
            "types::Lipsync.caption_url",
            "types::builder::fn caption_url"
        ]
    );
}

#[test]
fn a_missing_spec_is_reported() {
    let e = generate::run(
        Path::new("/nonexistent/openapi.yaml"),
        Path::new("/tmp"),
        &|_| true,
    )
    .unwrap_err();
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
    generate::run(&fixture.join("spec.yaml"), out.path(), &|_| true).unwrap();
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

/// The real spec built with some families only: the others leave no method, no operation in
/// the embedded spec and no schema that only they used; the core stays whole.
#[test]
fn a_family_turned_off_leaves_nothing_behind() {
    let build = |families: &[&str]| {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("openapi.yaml");
        std::fs::write(&path, SPEC).unwrap();
        generate::run(&path, dir.path(), &|f| families.contains(&f)).unwrap();
        let layer = std::fs::read_to_string(dir.path().join("typed_layer.rs")).unwrap();
        let spec: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.path().join("openapi.json")).unwrap(),
        )
        .unwrap();
        (dir, layer, spec)
    };
    let ids = |spec: &serde_json::Value| -> Vec<String> {
        spec["paths"]
            .as_object()
            .unwrap()
            .values()
            .flat_map(|item| item.as_object().unwrap().values())
            .filter_map(|op| op.get("operationId")?.as_str().map(str::to_string))
            .collect()
    };
    let schema = |spec: &serde_json::Value, name: &str| {
        spec.pointer(&format!("/components/schemas/{name}"))
            .is_some()
    };

    // What each build must keep is read from the spec itself, so that an operation added
    // to it changes no number here.
    let source: serde_json::Value = serde_norway::from_str(SPEC).unwrap();
    let sorted = |mut ids: Vec<String>| {
        ids.sort();
        ids
    };
    let mut without_family = Vec::new();
    for item in source["paths"].as_object().unwrap().values() {
        for op in item.as_object().unwrap().values() {
            if let Some(id) = op.get("operationId").and_then(|v| v.as_str()) {
                if families::of(&source, op).is_none() {
                    without_family.push(id.to_string());
                }
            }
        }
    }
    let every_family: Vec<String> = families::named(&source).into_iter().collect();
    let every_family: Vec<&str> = every_family.iter().map(String::as_str).collect();
    let (_all, all_layer, all) = build(&every_family);
    assert_eq!(sorted(ids(&all)), sorted(ids(&source)));
    assert!(all_layer.contains("fn lipsyncs(&self)"));

    let (core_dir, layer, core) = build(&[]);
    let core_ids = ids(&core);
    assert_eq!(sorted(core_ids.clone()), sorted(without_family));
    // The core's kinds are videos and sessions; the others are remembered with their feature.
    let kinds = std::fs::read_to_string(core_dir.path().join("kinds.rs")).unwrap();
    assert!(kinds.contains("    VideoAgent,") && kinds.contains("    Video,"));
    assert!(!kinds.contains("    Lipsync,"), "{kinds}");
    assert!(kinds.contains("(\"lipsync\", \"lipsync\")"), "{kinds}");
    assert!(core.get("x-heygen-jobs").unwrap().get("lipsync").is_none());
    for gone in [
        "create_lipsync",
        "create_video_translation",
        "create_speech",
        "create_avatar",
    ] {
        assert!(
            !core_ids.iter().any(|id| id == gone),
            "{gone} is still in the spec"
        );
        assert!(
            !layer.contains(&format!("\"{gone}\"")),
            "{gone} is still in the typed layer"
        );
    }
    assert!(!layer.contains("fn lipsyncs(&self)"));
    assert!(!layer.contains("fn video_translations(&self)"));
    // Lookups of the families' tags stay in the core; their additions do not.
    assert!(layer.contains("\"list_voices\"") && !layer.contains("\"design_voice\""));
    assert!(!schema(&core, "Lipsync") && !schema(&core, "CreateSpeechRequest"));
    assert!(schema(&core, "VideoDetail") && schema(&core, "FileInput"));
    assert!(!core["tags"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["name"] == "lipsyncs"));

    let (_one, layer, one) = build(&["lipsync"]);
    let one_ids = ids(&one);
    assert!(one_ids.iter().any(|id| id == "create_lipsync"));
    assert!(!one_ids.iter().any(|id| id == "create_video_translation"));
    assert!(layer.contains("fn lipsyncs(&self)"));
    assert!(schema(&one, "Lipsync") && !schema(&one, "VideoTranslation"));
}

/// An operation the spec gives no verb is named by its own words, less its command's noun.
#[test]
fn an_operation_without_a_named_verb_takes_its_own_words() {
    for (id, command, verb) in [
        ("get_brand_glossary", "brand-glossary", Some("get")),
        ("list_brand_glossaries", "brand-glossary", Some("list")),
        ("create_gizmo", "gizmo", Some("create")),
        ("rotate_gizmo_key", "gizmo", Some("rotate-key")),
        ("gizmo", "gizmo", None),
        ("ping_all", "gizmo", None),
    ] {
        assert_eq!(typed_layer::verb_of(id, command).as_deref(), verb, "{id}");
    }
    // In the table, beside a verb another operation of the command names already.
    let extra = "  /v3/widgets/{widget_id}:\n    get:\n      tags: [widgets]\n      operationId: get_widget\n      summary: Get a widget\n      parameters:\n        - name: widget_id\n          in: path\n          required: true\n          schema: {type: string}\n      responses:\n        '200':\n          description: A widget.\n          content:\n            application/json:\n              schema: {type: object, properties: {data: {type: object, properties: {name: {type: string}}}}}\n  /v3/widgets:\n    get:\n      tags: [widgets]\n      operationId: get_widgets\n      x-heygen-verb: get\n      summary: Every widget\n      responses:\n        '200':\n          description: Widgets.\n          content:\n            application/json:\n              schema: {type: object, properties: {data: {type: object, properties: {name: {type: string}}}}}\n    post:\n      tags: [widgets]\n      operationId: create_widget\n      summary: Make a widget\n      responses:\n        '200':\n          description: A widget.\n          content:\n            application/json:\n              schema: {type: object, properties: {data: {type: object, properties: {name: {type: string}}}}}\n\ncomponents:\n";
    let spec = SPEC.replacen("\ncomponents:\n", &format!("\n{extra}"), 1);
    let dir = generate_from(&spec).unwrap();
    let code = std::fs::read_to_string(dir.path().join("typed_layer.rs")).unwrap();
    let verb = |id: &str| {
        let at = code.find(&format!("id: \"{id}\"")).unwrap();
        let rest = &code[at..];
        let start = rest.find("verb: \"").unwrap() + 7;
        rest[start..start + rest[start..].find('"').unwrap()].to_string()
    };
    assert_eq!(verb("create_widget"), "create");
    assert_eq!(verb("get_widgets"), "get");
    // `get` is taken: the operation keeps its whole id.
    assert_eq!(verb("get_widget"), "get-widget");
}

/// A kind of job described wrongly stops the build with a message naming the kind and what
/// is wrong, before any code is generated.
#[test]
fn a_wrong_kind_description_names_the_kind_and_the_problem() {
    let cases = [
        (
            SPEC.replacen("    - get: get_lipsync\n", "    - get: get_lipsyncs\n", 1),
            "x-heygen-jobs.lipsync.stages[0]: `get: get_lipsyncs` is no operation",
        ),
        (
            SPEC.replacen(
                "    results: [/preview_audio_url]\n",
                "    results: [/preview_audio_url]\n    input:\n      waits_for: a cup of tea\n",
                1,
            ),
            "x-heygen-jobs.voice.input: no stage has `needs_input` statuses to wait at",
        ),
        (
            SPEC.replacen("      waits_for: consent\n      resume: true\n", "      waits_for: consent\n      resume: later\n", 1),
            "x-heygen-jobs.avatar.input.resume: must be true or false",
        ),
        (
            SPEC.replacen("        kind: lipsync\n", "        kind: lipsynk\n", 1),
            "x-heygen-jobs.lipsync.create: `create_lipsync` says its jobs are of the kind `lipsynk`",
        ),
        (
            SPEC.replacen(
                "        kind: voice\n        ids: /voices/*/voice_id\n",
                "        kind: voize\n        ids: /voices/*/voice_id\n",
                1,
            ),
            "design_voice: x-heygen-wait names the kind `voize`, which `x-heygen-jobs` does not describe",
        ),
        (
            SPEC.replacen(
                "        ids: lipsync_ids\n        member: video_id\n",
                "        ids: lipsync_idz\n        member: video_id\n",
                1,
            ),
            "`get_lipsync_statuses` takes no query parameter `lipsync_idz`",
        ),
        (
            SPEC.replacen("    create: create_lipsync\n", "    create: create_lipsyncs\n", 1),
            "x-heygen-jobs.lipsync: its create `create_lipsyncs` is no operation",
        ),
        (
            SPEC.replacen("    results: [/clips/*/video_url]\n", "    results: [clips]\n", 1),
            "`clips` is not a JSON pointer",
        ),
        (
            SPEC.replacen(
                "      failed: [failed, cancelled]\n",
                "      failed: [failed, completed]\n",
                1,
            ),
            "x-heygen-jobs.clipping_job.stages[0]: the status `completed` is listed twice",
        ),
    ];
    for (broken, expected) in cases {
        assert_ne!(broken, SPEC, "the edit for {expected:?} changed nothing");
        let e = generate_from(&broken).unwrap_err();
        assert!(e.contains(expected), "expected {expected:?} in: {e}");
    }
}

/// Every family the spec names is a Cargo feature, and `full` enables each.
#[test]
fn every_family_is_a_feature_and_full_has_them_all() {
    let spec: serde_json::Value = serde_norway::from_str(SPEC).unwrap();
    let manifest = include_str!("../Cargo.toml");
    let features = manifest
        .split("[features]")
        .nth(1)
        .and_then(|rest| rest.split("\n[").next())
        .unwrap();
    let line = |name: &str| {
        features
            .lines()
            .find(|l| l.starts_with(&format!("{name} = ")))
            .unwrap_or_else(|| panic!("no feature `{name}` in Cargo.toml"))
            .to_string()
    };
    let named = families::named(&spec);
    assert!(named.len() >= 7, "{named:?}");
    let full = line("full");
    for family in &named {
        line(family);
        assert!(
            full.contains(&format!("\"{family}\"")),
            "`full` lacks `{family}`"
        );
    }
}
