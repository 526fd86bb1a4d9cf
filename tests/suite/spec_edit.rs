//! "A plain operation is a spec edit", and so is a new kind of job, proven the way a user
//! meets them: a copy of this crate with operations and a kind added to `openapi.yaml` and
//! nothing else builds; the plain operation's method is callable and answers from the
//! simulator (with the spec's example), its CLI command answers too; the new kind's jobs are
//! waited for, batched and downloaded, from Rust and from the CLI, against the simulator's
//! model of the kind made from its description; and the tests that walk every operation of the
//! spec (the simulator's and the contract's) pass.
//!
//! The copy builds in this crate's own target directory, so only the crate itself is
//! compiled again, not its dependencies. It lives there too (`target/spec-edit/`) and is
//! brought up to date file by file, each file written only when its content changed: the
//! copy's next build, after an edit of this crate, recompiles what the edit touched, as a
//! build of this crate would, instead of the whole crate again.
#![cfg(feature = "cli")]

use std::path::{Path, PathBuf};
use std::process::Command;

/// Two test-only operations with a new tag: a get with a path parameter, an optional query
/// parameter and an inline response with a string enum; a create with an inline body (a
/// required and an optional member) and a bounded 64-bit query parameter.
const ADDED: &str = "  /v3/pings:
    post:
      tags: [pings]
      operationId: create_ping
      x-heygen-method: create
      summary: Create a ping
      description: A test-only operation with an inline body, added to the spec alone.
      parameters:
        - $ref: '#/components/parameters/IdempotencyKey'
        - name: repeat
          in: query
          required: false
          description: How many times.
          schema: {type: integer, format: int64, minimum: 1, maximum: 3}
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [message]
              properties:
                message: {type: string, minLength: 1, description: What to say.}
                loud: {type: boolean, description: Whether to shout.}
            example: {message: hello, loud: true}
      responses:
        '200':
          description: The new ping.
          content:
            application/json:
              schema:
                type: object
                properties:
                  data:
                    type: object
                    required: [ping_id]
                    properties:
                      ping_id: {type: string, description: The ping.}
              example: {data: {ping_id: ping_2}}
        '429':
          $ref: '#/components/responses/RateLimited'
        4XX:
          $ref: '#/components/responses/ClientError'
        5XX:
          $ref: '#/components/responses/ServerError'
  /v3/pings/{ping_id}:
    get:
      tags: [pings]
      operationId: get_ping
      x-heygen-method: get
      summary: Get a ping
      description: A test-only operation, added to the spec alone.
      parameters:
        - name: ping_id
          in: path
          required: true
          description: The ping.
          schema: {type: string}
        - name: echo
          in: query
          required: false
          description: Words to echo.
          schema: {type: string}
      responses:
        '200':
          description: The ping.
          content:
            application/json:
              schema:
                type: object
                properties:
                  data:
                    type: object
                    required: [ping_id, mood]
                    properties:
                      ping_id: {type: string, description: The ping.}
                      mood: {type: string, enum: [calm, eager], description: How it feels.}
              example: {data: {ping_id: ping_1, mood: calm}}
        '429':
          $ref: '#/components/responses/RateLimited'
        4XX:
          $ref: '#/components/responses/ClientError'
        5XX:
          $ref: '#/components/responses/ServerError'
";

/// A made-up asynchronous kind of job, added to the spec alone: a create that names its job's
/// id, a get with its status and its files, and the kind's description. Neither operation
/// names its CLI verb.
const ADDED_KIND_OPERATIONS: &str = "  /v3/gizmos:
    post:
      tags: [gizmos]
      operationId: create_gizmo
      x-heygen-wait:
        kind: gizmo
        ids: /gizmo_id
        verb: wait
      summary: Start a gizmo
      description: A test-only job, added to the spec alone.
      parameters:
        - $ref: '#/components/parameters/IdempotencyKey'
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [name]
              properties:
                name: {type: string, minLength: 1, description: What to call it.}
            example: {name: sprocket}
      responses:
        '200':
          description: The new gizmo.
          content:
            application/json:
              schema:
                type: object
                properties:
                  data:
                    type: object
                    required: [gizmo_id]
                    properties:
                      gizmo_id: {type: string, description: The gizmo.}
              example: {data: {gizmo_id: gz_1}}
        '429':
          $ref: '#/components/responses/RateLimited'
        4XX:
          $ref: '#/components/responses/ClientError'
        5XX:
          $ref: '#/components/responses/ServerError'
  /v3/gizmos/{gizmo_id}:
    get:
      tags: [gizmos]
      operationId: get_gizmo
      summary: Show a gizmo
      description: A test-only job's record, added to the spec alone.
      parameters:
        - name: gizmo_id
          in: path
          required: true
          description: The gizmo.
          schema: {type: string}
      responses:
        '200':
          description: The gizmo.
          content:
            application/json:
              schema:
                type: object
                properties:
                  data:
                    type: object
                    required: [status]
                    properties:
                      status: {type: string, description: Where it stands.}
                      parts:
                        type: array
                        items:
                          type: object
                          properties:
                            file_url: {type: string, nullable: true}
              example: {data: {status: assembling, parts: [{file_url: 'https://example.com/part.mp4'}]}}
        '429':
          $ref: '#/components/responses/RateLimited'
        4XX:
          $ref: '#/components/responses/ClientError'
        5XX:
          $ref: '#/components/responses/ServerError'
";

/// The made-up kind's description, at the end of the spec's `x-heygen-jobs`.
const ADDED_KIND: &str = "  gizmo:
    name: gizmo
    description: A test-only job that assembles parts.
    create: create_gizmo
    stages:
    - get: get_gizmo
      succeeded: [assembled]
      failed: [jammed]
    results: [/parts/*/file_url]
";

/// What a user of the edited crate writes for the made-up kind: a wait, a batch of two and
/// their downloads from Rust, then the same from the CLI, against the simulator.
const USE_THE_KIND: &str = r##"
use heygen_api::batch::{BatchRunner, Job, JobResult};
use heygen_api::operations::Invocation;
use heygen_api::simulator::Simulator;
use heygen_api::{JobKind, JobOutcome, WaitOptions};

#[tokio::test(flavor = "multi_thread")]
async fn the_added_kind_waits_batches_and_downloads() {
    let sim = Simulator::new().time_scale(600.0).start().await.unwrap();
    let client = sim.client().unwrap();
    assert_eq!(JobKind::Gizmo.as_str(), "gizmo");
    assert!(heygen_api::simulator::described_kinds().contains(&JobKind::Gizmo));
    let quick = || {
        WaitOptions::new()
            .initial_interval(std::time::Duration::from_millis(20))
            .max_interval(std::time::Duration::from_millis(80))
            .deadline(std::time::Duration::from_secs(20))
    };

    // Wait for one, from Rust.
    let created = client
        .invoke("create_gizmo", Invocation::new().body(serde_json::json!({"name": "one"})))
        .await
        .unwrap();
    let ids = JobKind::Gizmo.created_ids(&created);
    assert_eq!(ids.len(), 1, "{created}");
    let outcome = client.wait_for_job(JobKind::Gizmo, &ids[0], quick()).await.unwrap();
    let JobOutcome::Completed(record) = outcome else {
        panic!("{outcome:?}");
    };
    assert_eq!(record["status"], "assembled");
    let urls = JobKind::Gizmo.result_urls(&record);
    assert_eq!(urls.len(), 2, "{record}");
    let dir = tempfile::tempdir().unwrap();
    let one = client.download(urls[0], dir.path().join("one.mp4")).await.unwrap();
    assert!(one.bytes > 1000);

    // A batch of two, with every file saved; a failure ends its job alone.
    let jobs = vec![
        // From its typed request, as from any kind's: the spec alone made `to_body`.
        Job::new(client.gizmos().create_gizmo("a").to_body().unwrap()).key("g-a"),
        Job::family(JobKind::Gizmo, serde_json::json!({"name": "b [fail:render]"})).key("g-b"),
    ];
    let mut run = BatchRunner::new(client.clone())
        .poll(quick())
        .download_dir(dir.path().join("batch"))
        .run(futures_util::stream::iter(jobs))
        .unwrap();
    let mut ended = Vec::new();
    while let Some(outcome) = futures_util::StreamExt::next(&mut run).await {
        ended.push(outcome);
    }
    let by_key = |key: &str| &ended.iter().find(|o| o.key == key).unwrap().result;
    match by_key("g-a") {
        // Its record comes back typed, as the spec's `get_gizmo` answers.
        JobResult::Completed { kind: JobKind::Gizmo, files, record: heygen_api::TypedRecord::Gizmo(gizmo), .. } => {
            assert_eq!(gizmo.status, "assembled");
            assert_eq!(files.len(), 2);
            for file in files {
                assert!(std::fs::metadata(file).unwrap().len() > 1000, "{file:?}");
            }
        }
        other => panic!("{other}"),
    }
    assert!(
        matches!(by_key("g-b"), JobResult::Failed { kind: JobKind::Gizmo, .. }),
        "{}",
        by_key("g-b")
    );

    // The CLI: a command per operation, with a verb of its own words, that waits and
    // downloads as the kind says.
    let out = dir.path().join("cli");
    let printed = std::process::Command::new(env!("CARGO_BIN_EXE_heygen-edited"))
        .args(["--json", "gizmo", "create", "--data", r#"{"name": "c"}"#, "--download"])
        .arg(&out)
        .env("HEYGEN_BASE_URL", sim.base_url())
        .env("HEYGEN_API_KEY", sim.api_key())
        .output()
        .unwrap();
    assert!(printed.status.success(), "{printed:?}");
    let record: serde_json::Value = serde_json::from_slice(&printed.stdout).unwrap();
    assert_eq!(record["status"], "assembled", "{record}");
    let saved = std::fs::read_dir(&out).unwrap().count();
    assert_eq!(saved, 2, "both parts saved");
    let shown = std::process::Command::new(env!("CARGO_BIN_EXE_heygen-edited"))
        .args(["--json", "gizmo", "get"])
        .arg(&ids[0])
        .env("HEYGEN_BASE_URL", sim.base_url())
        .env("HEYGEN_API_KEY", sim.api_key())
        .output()
        .unwrap();
    assert!(shown.status.success(), "{shown:?}");
    sim.shutdown().await;
}
"##;

/// What a user of the edited crate writes: the new method, against the simulator.
const USE_IT: &str = r#"
use heygen_api::simulator::Simulator;

#[tokio::test(flavor = "multi_thread")]
async fn the_added_operation_is_a_method_and_a_command_that_answer() {
    let sim = Simulator::new().start().await.unwrap();
    let client = sim.client().unwrap();
    let ping = client.pings().get("ping_1").echo("hello").await.unwrap();
    assert_eq!(ping.ping_id, "ping_1");
    assert_eq!(ping.mood.as_str(), "calm");
    assert!(heygen_api::operations::find("get_ping").is_some());

    // The inline body: its required member positional, the optional one a setter.
    let created = client.pings().create("hello").loud(true).repeat(2).await.unwrap();
    assert_eq!(created.ping_id, "ping_2");
    // The query parameter's bounds, from the spec, are checked before sending.
    let refused = client.pings().create("hello").repeat(9).await.unwrap_err();
    assert!(
        matches!(refused, heygen_api::Error::InvalidRequest(_)),
        "{refused}"
    );
    // So is the member's `minLength`: the setter takes a plain string, the check names it.
    let empty = client.pings().create("").await.unwrap_err();
    assert!(empty.to_string().contains("message"), "{empty}");

    let printed = std::process::Command::new(env!("CARGO_BIN_EXE_heygen-edited"))
        .args(["--json", "ping", "get", "ping_7"])
        .env("HEYGEN_BASE_URL", sim.base_url())
        .env("HEYGEN_API_KEY", sim.api_key())
        .output()
        .unwrap();
    assert!(printed.status.success(), "{printed:?}");
    let printed: serde_json::Value = serde_json::from_slice(&printed.stdout).unwrap();
    assert_eq!(printed, serde_json::json!({"ping_id": "ping_1", "mood": "calm"}));
    sim.shutdown().await;
}
"#;

/// Writes `bytes` to `path` unless it holds them already: a file left alone keeps its time,
/// and the copy's next build finds it unchanged.
fn write_if_changed(path: &Path, bytes: &[u8]) {
    if std::fs::read(path).is_ok_and(|old| old == bytes) {
        return;
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(path, bytes).unwrap();
}

/// Makes `to` hold what `from` holds: changed files written, files and folders `from` no
/// longer has removed.
fn sync_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    let mut names = std::collections::BTreeSet::new();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        names.insert(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            sync_dir(&entry.path(), &target);
        } else {
            write_if_changed(&target, &std::fs::read(entry.path()).unwrap());
        }
    }
    for entry in std::fs::read_dir(to).unwrap() {
        let entry = entry.unwrap();
        if !names.contains(&entry.file_name()) {
            if entry.file_type().unwrap().is_dir() {
                std::fs::remove_dir_all(entry.path()).unwrap();
            } else {
                std::fs::remove_file(entry.path()).unwrap();
            }
        }
    }
}

/// This crate's target directory, from where this test binary runs (`target/debug/deps`).
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.ancestors()
        .find(|dir| dir.file_name().is_some_and(|n| n == "target"))
        .map(Path::to_path_buf)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"))
}

/// The test, run from the suite's root (`main.rs`).
pub(crate) fn a_crate_with_one_operation_added_to_its_spec_builds_answers_and_passes() {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let target = target_dir();
    // Two test runs at once in one target directory take turns with the copy: neither
    // rewrites it under the other's build.
    std::fs::create_dir_all(target.join("spec-edit")).unwrap();
    let turn = std::fs::File::create(target.join("spec-edit/.lock")).unwrap();
    turn.lock().unwrap();
    let root = target.join("spec-edit/heygen-api");
    let read = |file: &str| std::fs::read_to_string(here.join(file)).unwrap();
    for file in ["Cargo.lock", "build.rs", "README.md"] {
        write_if_changed(&root.join(file), read(file).as_bytes());
    }
    for dir in ["src", "build", "benches", "tests/fixtures"] {
        sync_dir(&here.join(dir), &root.join(dir));
    }
    // One test binary: the suite's tests that walk every operation, and the added ones.
    let edited = root.join("tests/edited");
    let files = [
        ("common.rs", read("tests/suite/common.rs")),
        ("simulator.rs", read("tests/suite/simulator.rs")),
        ("contract.rs", read("tests/suite/contract.rs")),
        ("added_operation.rs", USE_IT.to_string()),
        ("added_kind.rs", USE_THE_KIND.to_string()),
        (
            "main.rs",
            "mod common;\nmod contract;\nmod simulator;\nmod added_kind;\nmod added_operation;\n"
                .to_string(),
        ),
    ];
    std::fs::create_dir_all(&edited).unwrap();
    for entry in std::fs::read_dir(&edited).unwrap() {
        let entry = entry.unwrap();
        if !files.iter().any(|(name, _)| entry.file_name() == *name) {
            std::fs::remove_file(entry.path()).unwrap();
        }
    }
    for (name, text) in &files {
        write_if_changed(&edited.join(name), text.as_bytes());
    }

    // The one edit, to the spec alone: two tags with their operations, and a kind of job.
    let spec = read("openapi.yaml");
    assert!(
        spec.ends_with("    results: [/preview_audio_url]\n"),
        "x-heygen-jobs ends the spec"
    );
    let spec = spec
        .replacen(
            "\npaths:\n",
            "  - name: pings\n    x-heygen-command: ping\n    description: Test-only pings.\n  - name: gizmos\n    x-heygen-command: gizmo\n    description: Test-only gizmos.\n\npaths:\n",
            1,
        )
        .replacen(
            "\ncomponents:\n",
            &format!("\n{ADDED}{ADDED_KIND_OPERATIONS}\ncomponents:\n"),
            1,
        )
        + ADDED_KIND;
    assert!(spec.contains("operationId: create_ping") && spec.contains("name: pings"));
    write_if_changed(&root.join("openapi.yaml"), spec.as_bytes());

    // The copy is a package of its own name, and so is its binary, so that building it in the
    // shared target directory replaces nothing of this crate's (`target/debug/heygen` stays
    // this crate's). Its library keeps the name `heygen_api`.
    let manifest = read("Cargo.toml")
        .replacen("name = \"heygen-api\"", "name = \"heygen-api-edited\"", 1)
        .replacen(
            "heygen-api = { path = \".\",",
            "heygen-api = { package = \"heygen-api-edited\", path = \".\",",
            1,
        )
        .replacen("name = \"heygen\"\n", "name = \"heygen-edited\"\n", 1)
        .replacen(
            "\n[features]",
            "\n[lib]\nname = \"heygen_api\"\n\n[features]",
            1,
        );
    assert!(manifest.contains("heygen-api-edited") && manifest.contains("heygen-edited\""));
    write_if_changed(&root.join("Cargo.toml"), manifest.as_bytes());
    // The examples' package of the workspace depends on the renamed one.
    sync_dir(&here.join("examples"), &root.join("examples"));
    let examples = read("examples/Cargo.toml").replacen(
        "heygen-api = { path = \"..\",",
        "heygen-api = { package = \"heygen-api-edited\", path = \"..\",",
        1,
    );
    assert!(examples.contains("heygen-api-edited"));
    write_if_changed(&root.join("examples/Cargo.toml"), examples.as_bytes());
    let lock = read("Cargo.lock");

    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut command = Command::new(&cargo);
    // What cargo set for this test process describes this crate, and build scripts of shared
    // dependencies (ring's, through `cc`) rerun when it changes: left in, the copy would
    // rebuild them and this crate's next build would rebuild them back.
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        let set_by_cargo = [
            "CARGO_PKG_",
            "CARGO_MANIFEST_",
            "CARGO_CRATE_",
            "CARGO_BIN_",
        ]
        .iter()
        .any(|prefix| name.starts_with(prefix))
            || [
                "OUT_DIR",
                "CARGO_PRIMARY_PACKAGE",
                "CARGO_TARGET_TMPDIR",
                "CARGO_RUSTC_CURRENT_DIR",
            ]
            .contains(&&*name);
        if set_by_cargo {
            command.env_remove(&*name);
        }
    }
    let tests = command
        .current_dir(&root)
        .env("CARGO_TARGET_DIR", &target)
        .env("HEYGEN_ANSWERED_BY_EXAMPLE", "create_ping,get_ping")
        .args([
            "test",
            "--features",
            "cli",
            // The copy's lock names the renamed package; nothing else in it may change.
            "--offline",
            "--test",
            "edited",
        ])
        .output()
        .unwrap();
    assert!(
        tests.status.success(),
        "the edited crate's tests failed:\n{}\n{}",
        String::from_utf8_lossy(&tests.stdout),
        String::from_utf8_lossy(&tests.stderr)
    );
    // Only the renamed package changed in the lock: every dependency is the one locked here.
    let relocked = std::fs::read_to_string(root.join("Cargo.lock")).unwrap();
    assert_eq!(
        relocked.replace("heygen-api-edited", "heygen-api"),
        lock,
        "the copy resolved other dependencies"
    );
    let stdout = String::from_utf8_lossy(&tests.stdout);
    for test in [
        "the_added_operation_is_a_method_and_a_command_that_answer ... ok",
        "the_added_kind_waits_batches_and_downloads ... ok",
    ] {
        assert!(stdout.contains(test), "{stdout}");
    }
}
