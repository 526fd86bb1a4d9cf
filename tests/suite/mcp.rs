//! `heygen mcp --simulate`, driven by the MCP SDK's own client (`rmcp`) the way an assistant
//! drives it: the server is started as a child process and spoken to over its stdin/stdout.
//! (`tests/mcp_client.py`, run by CI, does the same with the Python SDK.)
#![cfg(feature = "cli")]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rmcp::model::{
    CallToolRequest, CallToolRequestParams, CallToolResult, ClientRequest,
    ProgressNotificationParam,
};
use rmcp::service::{NotificationContext, PeerRequestOptions, RoleClient, RunningService};
use rmcp::transport::TokioChildProcess;
use rmcp::{ClientHandler, ServiceExt as _};
use serde_json::{json, Value};

/// A client that keeps the progress messages it is sent.
#[derive(Clone, Default)]
struct Assistant {
    progress: Arc<Mutex<Vec<String>>>,
}

impl ClientHandler for Assistant {
    async fn on_progress(
        &self,
        params: ProgressNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        if let Ok(mut progress) = self.progress.lock() {
            progress.push(params.message.unwrap_or_default());
        }
    }
}

type Session = RunningService<RoleClient, Assistant>;

/// Starts `heygen mcp --simulate ARGS` with no key in its environment.
async fn start(args: &[&str]) -> (Session, Assistant) {
    let (session, assistant, _) = start_with_stderr(args).await;
    (session, assistant)
}

/// The same, with the lines the server writes to its standard error.
async fn start_with_stderr(
    args: &[&str],
) -> (
    Session,
    Assistant,
    tokio::sync::mpsc::UnboundedReceiver<String>,
) {
    use tokio::io::AsyncBufReadExt as _;
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_heygen"));
    command.arg("mcp").arg("--simulate").args(args);
    // Jobs end in a second or two, unless the test says otherwise.
    if !args.contains(&"--time-scale") {
        command.args(["--time-scale", "60"]);
    }
    command
        .env_remove("HEYGEN_API_KEY")
        .env("HOME", std::env::temp_dir());
    let (transport, stderr) = TokioChildProcess::builder(command)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let (lines, said) = tokio::sync::mpsc::unbounded_channel();
    if let Some(stderr) = stderr {
        tokio::spawn(async move {
            let mut reader = tokio::io::BufReader::new(stderr).lines();
            while let Ok(Some(line)) = reader.next_line().await {
                let _ = lines.send(line);
            }
        });
    }
    let assistant = Assistant::default();
    let session = assistant.clone().serve(transport).await.unwrap();
    (session, assistant, said)
}

async fn call(session: &Session, tool: &str, arguments: Value) -> CallToolResult {
    let Value::Object(arguments) = arguments else {
        panic!("arguments are an object")
    };
    session
        .call_tool(CallToolRequestParams::new(tool.to_string()).with_arguments(arguments))
        .await
        .unwrap()
}

fn text(result: &CallToolResult) -> String {
    result
        .content
        .iter()
        .filter_map(|block| block.as_text().map(|t| t.text.clone()))
        .collect()
}

fn answer(result: &CallToolResult) -> Value {
    assert_ne!(result.is_error, Some(true), "{}", text(result));
    serde_json::from_str(&text(result)).unwrap()
}

async fn tools(session: &Session) -> Vec<rmcp::model::Tool> {
    session.list_all_tools().await.unwrap()
}

#[tokio::test]
async fn every_operation_is_a_tool_with_hints_from_its_method() {
    let (session, _) = start(&["--all-operations"]).await;
    let tools = tools(&session).await;
    let operations = heygen_api::operations::all()
        .iter()
        .filter(|op| op.invocable())
        .count();
    assert_eq!(
        tools.len(),
        operations + 5,
        "every operation, and the job and batch tools"
    );
    let hint = |name: &str| {
        let tool = tools.iter().find(|t| t.name == name).unwrap();
        tool.annotations.clone().unwrap()
    };
    assert_eq!(hint("get_video").read_only_hint, Some(true));
    assert_eq!(hint("delete_video").destructive_hint, Some(true));
    assert_eq!(hint("create_video").read_only_hint, Some(false));
    // The input is one object: the path parameter, and the body's members beside it.
    let schema = &tools
        .iter()
        .find(|t| t.name == "create_video_translation")
        .unwrap()
        .input_schema;
    let members = schema["properties"].as_object().unwrap();
    assert!(members.contains_key("output_languages") && members.contains_key("wait"));
    session.cancel().await.unwrap();
}

#[tokio::test]
async fn read_only_serves_no_tool_that_writes() {
    let (session, _) = start(&["--read-only", "--all-operations"]).await;
    let tools = tools(&session).await;
    assert!(tools.iter().any(|t| t.name == "get_video"));
    for tool in &tools {
        let hints = tool.annotations.clone().unwrap();
        assert_eq!(hints.read_only_hint, Some(true), "{}", tool.name);
        assert!(!tool.name.starts_with("create_") && !tool.name.starts_with("delete_"));
    }
    assert!(!tools
        .iter()
        .any(|t| t.name == "upload_file" || t.name == "download_results"));
    // A writing tool asked for by name is not there.
    let refused = session
        .call_tool(CallToolRequestParams::new("create_video_agent_session"))
        .await;
    assert!(refused.is_err(), "{refused:?}");
    session.cancel().await.unwrap();
}

#[tokio::test]
async fn a_create_waits_with_progress_and_its_files_go_only_where_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let allowed = dir.path().join("allowed");
    std::fs::create_dir(&allowed).unwrap();
    let (session, assistant) = start(&["--allow-dir", allowed.to_str().unwrap()]).await;

    let made = answer(
        &call(
            &session,
            "create_video_agent_session",
            json!({"prompt": "A product tour", "wait": true, "timeout_seconds": 300}),
        )
        .await,
    );
    let job = &made["jobs"][0];
    assert_eq!(job["state"], "completed", "{made}");
    assert!(job["urls"][0].as_str().unwrap().ends_with(".mp4"));
    let session_id = made["created"]["session_id"].as_str().unwrap().to_string();
    let progress = assistant.progress.lock().unwrap().clone();
    assert!(
        progress.iter().any(|p| p.contains("completed")),
        "{progress:?}"
    );

    let saved = answer(
        &call(
            &session,
            "download_results",
            json!({"kind": "video_agent", "id": session_id, "folder": "videos"}),
        )
        .await,
    );
    let path = saved["files"][0]["path"].as_str().unwrap();
    assert!(path.starts_with(allowed.canonicalize().unwrap().to_str().unwrap()));
    assert!(std::fs::metadata(path).unwrap().len() > 0);
    // Not again over it, unless asked.
    let again = call(
        &session,
        "download_results",
        json!({"kind": "video_agent", "id": session_id, "folder": "videos"}),
    )
    .await;
    assert_eq!(again.is_error, Some(true));
    assert!(text(&again).contains("exists"), "{}", text(&again));
    // Outside the allowed folder: by an absolute path, by `..`, through a link.
    std::os::unix::fs::symlink(dir.path(), allowed.join("out")).unwrap();
    for folder in [dir.path().to_str().unwrap(), "../", "out/videos"] {
        let refused = call(
            &session,
            "download_results",
            json!({"kind": "video_agent", "id": session_id, "folder": folder}),
        )
        .await;
        assert_eq!(refused.is_error, Some(true), "{folder}");
        assert!(
            !dir.path().join("videos").exists(),
            "nothing written outside"
        );
    }
    std::fs::write(dir.path().join("secret.png"), b"x").unwrap();
    let refused = call(&session, "upload_file", json!({"path": "out/secret.png"})).await;
    assert!(
        text(&refused).contains("outside the folders"),
        "{}",
        text(&refused)
    );
    session.cancel().await.unwrap();
}

#[tokio::test]
async fn bad_arguments_are_tool_errors_and_nothing_is_sent() {
    let (session, _) = start(&[]).await;
    let typo = call(
        &session,
        "create_video_agent_session",
        json!({"prompt": "A tour", "orientaton": "portrait"}),
    )
    .await;
    assert_eq!(typo.is_error, Some(true));
    assert!(
        text(&typo).contains("no argument `orientaton`"),
        "{}",
        text(&typo)
    );
    assert!(text(&typo).contains("orientation"), "{}", text(&typo));
    let value = call(
        &session,
        "create_video_agent_session",
        json!({"prompt": "A tour", "orientation": "diagonal"}),
    )
    .await;
    assert_eq!(value.is_error, Some(true));
    assert!(text(&value).contains("diagonal"), "{}", text(&value));
    let typed = call(
        &session,
        "create_video_agent_session",
        json!({"prompt": 42}),
    )
    .await;
    assert_eq!(
        text(&typed),
        "argument `prompt`: expected a string, got integer `42` (nothing was sent)"
    );
    let missing = call(&session, "get_video", json!({})).await;
    assert!(
        text(&missing).contains("`video_id` is required"),
        "{}",
        text(&missing)
    );
    // Nothing was made by the refused calls.
    let sessions = answer(&call(&session, "list_video_agent_sessions", json!({})).await);
    assert_eq!(
        sessions["data"].as_array().map(Vec::len),
        Some(0),
        "{sessions}"
    );
    session.cancel().await.unwrap();
}

#[tokio::test]
async fn a_cancelled_wait_stops_and_the_server_keeps_serving() {
    // At the real pace: the session is still going when the wait is cancelled.
    let (session, assistant, mut stderr) = start_with_stderr(&["--time-scale", "1"]).await;
    let created = answer(
        &call(
            &session,
            "create_video_agent_session",
            json!({"prompt": "Slow"}),
        )
        .await,
    );
    let id = created["session_id"].as_str().unwrap().to_string();
    let Value::Object(arguments) =
        json!({"kind": "video_agent", "ids": [id], "timeout_seconds": 3600})
    else {
        unreachable!()
    };
    let request = ClientRequest::CallToolRequest(CallToolRequest::new(
        CallToolRequestParams::new("wait_for_jobs").with_arguments(arguments),
    ));
    let handle = session
        .peer()
        .send_cancellable_request(request, PeerRequestOptions::no_options())
        .await
        .unwrap();
    // Cancelled once the wait has polled (its first progress note), not after a guess.
    crate::common::eventually(Duration::from_secs(10), "the wait's first poll", || {
        let polled = assistant.progress.lock().is_ok_and(|p| !p.is_empty());
        async move { polled }
    })
    .await;
    handle
        .cancel(Some("the user moved on".into()))
        .await
        .unwrap();
    // The server stops the wait, and says so on its standard error.
    let said = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(line) = stderr.recv().await {
            if line.contains("stopped waiting") {
                return line;
            }
        }
        String::new()
    })
    .await
    .unwrap();
    assert!(said.contains(&id), "{said}");
    // The server answers the next call at once.
    let user = tokio::time::timeout(
        Duration::from_secs(10),
        call(&session, "get_current_user", json!({})),
    )
    .await
    .unwrap();
    assert_eq!(answer(&user)["username"], "simulated");
    session.cancel().await.unwrap();
}

/// The key never shows: not in a tool's error, not on standard error.
#[tokio::test]
async fn the_key_shows_nowhere() {
    use tokio::io::AsyncReadExt as _;
    let key = "hg_secret_4242_do_not_print";
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_heygen"));
    command
        .args(["mcp", "--api-key", key, "--base-url", "http://127.0.0.1:9"])
        .env_remove("HEYGEN_API_KEY")
        .env("HOME", std::env::temp_dir());
    let (transport, stderr) = TokioChildProcess::builder(command)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let session = Assistant::default().serve(transport).await.unwrap();
    let failed = call(&session, "get_current_user", json!({})).await;
    assert_eq!(failed.is_error, Some(true));
    let said = text(&failed);
    assert!(!said.is_empty() && !said.contains(key), "{said}");
    let waited = call(
        &session,
        "wait_for_jobs",
        json!({"kind": "video", "ids": ["vid_1"], "timeout_seconds": 1}),
    )
    .await;
    assert!(!text(&waited).contains(key), "{}", text(&waited));
    session.cancel().await.unwrap();
    let mut logged = String::new();
    if let Some(mut stderr) = stderr {
        let _ = stderr.read_to_string(&mut logged).await;
    }
    assert!(!logged.contains(key), "{logged}");
}

/// A batch through the tool: each job's end a progress note, a journal that makes the same
/// call safe to repeat (nothing made twice), and its status read back.
#[tokio::test]
async fn a_batch_runs_with_a_journal_and_is_not_made_twice() {
    let dir = tempfile::tempdir().unwrap();
    let (session, assistant) = start(&["--allow-dir", dir.path().to_str().unwrap()]).await;
    let jobs = json!([
        {"key": "tour", "prompt": "A product tour"},
        {"key": "hello", "prompt": "Say hello"},
    ]);
    let first = answer(
        &call(
            &session,
            "batch_run",
            json!({"jobs": jobs, "journal": "runs/first.journal", "timeout_seconds": 300}),
        )
        .await,
    );
    let states: Vec<&str> = first["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["completed", "completed"], "{first}");
    assert_eq!(first["summary"]["requests"]["creates"], 2, "{first}");
    let progress = assistant.progress.lock().unwrap().clone();
    assert!(
        progress
            .iter()
            .filter(|p| p.ends_with(": completed"))
            .count()
            >= 2,
        "{progress:?}"
    );
    let again = answer(
        &call(
            &session,
            "batch_run",
            json!({"jobs": jobs, "journal": "runs/first.journal"}),
        )
        .await,
    );
    assert_eq!(again["summary"]["requests"]["creates"], 0, "{again}");
    assert_eq!(again["results"][0]["state"], "already_finished", "{again}");
    let status = answer(
        &call(
            &session,
            "batch_status",
            json!({"journal": "runs/first.journal"}),
        )
        .await,
    );
    assert_eq!(status["jobs"], 2, "{status}");
    assert_eq!(status["counts"]["completed"], 2, "{status}");
    // A bad job is named, and nothing is sent; a journal outside the folders is refused.
    let bad = call(
        &session,
        "batch_run",
        json!({"jobs": [{"prompt": "fine"}, {"kind": "nonsense"}], "journal": "runs/bad.journal"}),
    )
    .await;
    assert!(text(&bad).contains("jobs[1]"), "{}", text(&bad));
    let outside = call(
        &session,
        "batch_run",
        json!({"jobs": jobs, "journal": "/tmp/elsewhere.journal"}),
    )
    .await;
    assert!(
        text(&outside).contains("outside the folders"),
        "{}",
        text(&outside)
    );
    session.cancel().await.unwrap();
}

/// Hostile input on standard input: not JSON, a line of 17 MiB, an unknown method. Each gets
/// a JSON-RPC error and the server goes on serving.
#[tokio::test]
async fn a_hostile_client_gets_errors_and_the_server_goes_on() {
    use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _};
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_heygen"))
        .args(["mcp", "--simulate"])
        .env_remove("HEYGEN_API_KEY")
        .env("HOME", std::env::temp_dir())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let mut exchange = async |message: String| -> Value {
        stdin.write_all(message.as_bytes()).await.unwrap();
        stdin.write_all(b"\n").await.unwrap();
        stdin.flush().await.unwrap();
        let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        serde_json::from_str(&line).unwrap()
    };
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "hostile", "version": "0"}}});
    assert!(exchange(init.to_string()).await["result"].is_object());
    // The notification that ends the handshake, then a line that is not JSON.
    let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    let garbage = exchange(format!("{initialized}\nthis is not JSON")).await;
    assert_eq!(garbage["error"]["code"], -32700, "{garbage}");
    let huge = format!(
        "{{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{{\"name\":\"get_current_user\",\"arguments\":{{\"x\":\"{}\"}}}}}}",
        "a".repeat(17 * 1024 * 1024)
    );
    let dropped = exchange(huge).await;
    assert_eq!(dropped["error"]["code"], -32700, "{dropped}");
    let unknown =
        exchange(json!({"jsonrpc": "2.0", "id": 3, "method": "no/such"}).to_string()).await;
    assert_eq!(unknown["id"], 3);
    assert!(unknown["error"].is_object(), "{unknown}");
    let served = exchange(
        json!({"jsonrpc": "2.0", "id": 4, "method": "tools/call",
               "params": {"name": "get_current_user", "arguments": {}}})
        .to_string(),
    )
    .await;
    assert_eq!(served["id"], 4);
    assert_eq!(served["result"]["isError"], false, "{served}");
}

/// The families the same way as videos: served when asked for, made and waited for in one
/// call, their files (every clip) saved.
#[tokio::test]
async fn family_jobs_are_made_waited_for_and_downloaded() {
    let dir = tempfile::tempdir().unwrap();
    let (session, _) = start(&[
        "--families",
        "translations,clipping",
        "--allow-dir",
        dir.path().to_str().unwrap(),
    ])
    .await;
    let avatars = answer(&call(&session, "list_avatar_groups", json!({})).await);
    assert!(!avatars["data"].as_array().unwrap().is_empty(), "{avatars}");
    let source = json!({"type": "url", "url": "https://example.com/tour.mp4"});
    let translated = answer(
        &call(
            &session,
            "create_video_translation",
            json!({"video": source, "output_languages": ["Spanish", "French"], "wait": true}),
        )
        .await,
    );
    let jobs = translated["jobs"].as_array().unwrap();
    let labels: Vec<&str> = jobs.iter().map(|j| j["label"].as_str().unwrap()).collect();
    assert_eq!(labels, ["Spanish", "French"], "{translated}");
    assert!(
        jobs.iter().all(|j| j["state"] == "completed"),
        "{translated}"
    );
    let saved = answer(
        &call(
            &session,
            "download_results",
            json!({"kind": "video_translation", "id": jobs[0]["id"], "folder": "out"}),
        )
        .await,
    );
    let file = saved["files"][0]["path"].as_str().unwrap();
    assert!(file.ends_with("-spanish.mp4"), "{file}");

    let clipped = answer(
        &call(
            &session,
            "create_clipping_job",
            json!({"video": source, "wait": true}),
        )
        .await,
    );
    let job = &clipped["jobs"][0];
    assert_eq!(job["state"], "completed", "{clipped}");
    let clips = job["urls"].as_array().unwrap().len();
    let saved = answer(
        &call(
            &session,
            "download_results",
            json!({"kind": "clipping_job", "id": job["id"], "folder": "clips"}),
        )
        .await,
    );
    assert_eq!(
        saved["files"].as_array().unwrap().len(),
        clips,
        "every clip"
    );
    assert!(clips > 1, "{clipped}");
    session.cancel().await.unwrap();
}
