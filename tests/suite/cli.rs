//! The `heygen` binary, end to end against the simulator.
#![cfg(feature = "cli")]

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::Path;
use std::process::{Command, Output, Stdio};

use heygen_api::simulator::Simulator;
use heygen_api::webhook;
use serde_json::Value;

use crate::common::Served as Sim;
use crate::common::PNG;

impl Sim {
    fn heygen(&self, args: &[&str]) -> Output {
        self.heygen_with_key(self.sim().api_key(), args)
    }

    /// `heygen` with `input` on its standard input.
    fn heygen_with_stdin(&self, args: &[&str], input: &[u8]) -> Output {
        let mut child = Command::new(env!("CARGO_BIN_EXE_heygen"))
            .args(args)
            .env("HEYGEN_BASE_URL", self.sim().base_url())
            .env("HEYGEN_API_KEY", self.sim().api_key())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Written beside the wait: a command that stops reading early (a bounded read) ends
        // the pipe, and what it printed is read meanwhile.
        let mut stdin = child.stdin.take().unwrap();
        let input = input.to_vec();
        let writer = std::thread::spawn(move || {
            let _ = stdin.write_all(&input);
        });
        let output = child.wait_with_output().unwrap();
        let _ = writer.join();
        output
    }

    fn heygen_with_key(&self, key: &str, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_heygen"))
            .args(args)
            .env("HEYGEN_BASE_URL", self.sim().base_url())
            .env("HEYGEN_API_KEY", key)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }
}

fn json(output: &Output) -> Value {
    assert!(
        output.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not only JSON ({e}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

fn code(output: &Output) -> i32 {
    output.status.code().unwrap_or(-1)
}

use crate::common::fast_simulator as fast;

#[test]
fn create_wait_download_and_inspect() {
    let sim = Sim::start(fast());
    let dir = tempfile::tempdir().unwrap();
    let logo = dir.path().join("logo.png");
    std::fs::write(&logo, PNG).unwrap();
    let target = dir.path().join("out.mp4");
    let out = sim.heygen(&[
        "--json",
        "video-agent",
        "create",
        "--prompt",
        "A CLI demo",
        "--orientation",
        "portrait",
        "--file",
        logo.to_str().unwrap(),
        "--file",
        "https://example.com/a.png",
        "--download",
        target.to_str().unwrap(),
    ]);
    let video = json(&out);
    assert_eq!(video["status"], "completed");
    let mp4 = std::fs::read(&target).unwrap();
    assert_eq!(&mp4[4..8], b"ftyp", "a real MP4 was downloaded");
    // `--json --download` says where the file went.
    assert_eq!(
        video["download"]["path"],
        target.to_str().unwrap(),
        "{video}"
    );
    assert_eq!(video["download"]["bytes"].as_u64(), Some(mp4.len() as u64));
    let video_id = video["id"].as_str().unwrap().to_string();

    let got = json(&sim.heygen(&["--json", "video", "get", &video_id]));
    assert_eq!(got["id"], video["id"]);
    let listed = json(&sim.heygen(&["--json", "video", "list", "--all", "--limit", "1"]));
    assert_eq!(listed["data"].as_array().unwrap().len(), 1);
    assert_eq!(listed["has_more"], false);
    let sessions = json(&sim.heygen(&["--json", "video-agent", "list", "--all"]));
    let session_id = sessions["data"][0]["session_id"]
        .as_str()
        .unwrap()
        .to_string();
    let session = json(&sim.heygen(&["--json", "video-agent", "get", &session_id]));
    assert_eq!(session["status"], "completed");
    let waited = json(&sim.heygen(&["--json", "video", "wait", &video_id]));
    assert_eq!(waited["status"], "completed");
    let again = dir.path().join("again.mp4");
    let saved = json(&sim.heygen(&[
        "--json",
        "video",
        "download",
        &video_id,
        again.to_str().unwrap(),
    ]));
    assert_eq!(saved["bytes"].as_u64(), Some(mp4.len() as u64));
    let styles = json(&sim.heygen(&["--json", "video-agent", "styles", "--tag", "cinematic"]));
    assert_eq!(styles["data"].as_array().unwrap().len(), 1);

    // Without --json: `key: value` lines for one object, a table for a list, local dates.
    let text = sim.heygen(&["video", "get", &video_id]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.starts_with(&format!("id: {video_id}\n")), "{text}");
    assert!(text.contains("status: completed\n"), "{text}");
    assert!(!text.contains('{'), "{text}");
    let created = text
        .lines()
        .find_map(|l| l.strip_prefix("created_at: "))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        created.len() == 16 && created.as_bytes()[4] == b'-',
        "a date: {created}"
    );
    let table = sim.heygen(&["video", "list"]);
    let table = String::from_utf8_lossy(&table.stdout);
    assert!(table.starts_with("ID "), "{table}");
    assert!(
        table.lines().any(|l| l.starts_with(video_id.as_str())),
        "{table}"
    );

    let deleted = json(&sim.heygen(&["--json", "video", "delete", &video_id]));
    assert_eq!(deleted["deleted"], true);
    let gone = sim.heygen(&["video", "delete", &video_id]);
    assert_eq!(code(&gone), 1);
    let stderr = String::from_utf8_lossy(&gone.stderr);
    assert!(
        stderr.contains("not_found") && stderr.contains("request id"),
        "{stderr}"
    );
    // It starts with what failed for the user, not the operationId, and names the request
    // id once.
    assert!(
        stderr.starts_with("error: could not delete a video: HeyGen answered 404"),
        "{stderr}"
    );
    assert!(!stderr.contains("delete_video"), "{stderr}");
    assert_eq!(stderr.matches("req_").count(), 1, "{stderr}");
}

#[test]
fn chat_sessions_messages_and_stop() {
    let sim = Sim::start(fast());
    let created = json(&sim.heygen(&[
        "--json",
        "video-agent",
        "create",
        "--prompt",
        "Chat",
        "--mode",
        "chat",
    ]));
    let id = created["session_id"].as_str().unwrap().to_string();
    let paused = sim.heygen(&["video-agent", "wait", &id]);
    assert_eq!(
        code(&paused),
        3,
        "a session waiting for input is not a finished video"
    );
    assert!(String::from_utf8_lossy(&paused.stderr).contains("needs a message"));
    let sent = json(&sim.heygen(&[
        "--json",
        "video-agent",
        "send-message",
        &id,
        "--data",
        r#"{"message": "Approved"}"#,
    ]));
    assert_eq!(sent["session_id"], id.as_str());
    assert_eq!(code(&sim.heygen(&["video-agent", "wait", &id])), 0);
    let other = json(&sim.heygen(&[
        "--json",
        "video-agent",
        "create",
        "--prompt",
        "Stop",
        "--mode",
        "chat",
    ]));
    let stopped = json(&sim.heygen(&[
        "--json",
        "video-agent",
        "stop",
        other["session_id"].as_str().unwrap(),
    ]));
    assert_eq!(stopped["session_id"], other["session_id"]);
}

#[test]
fn exit_codes_say_what_happened() {
    let sim = Sim::start(fast());
    let before = sim.sim().request_count();
    let empty = sim.heygen(&["video-agent", "create", "--prompt", ""]);
    assert_eq!(code(&empty), 2);
    assert!(String::from_utf8_lossy(&empty.stderr).contains("nothing was sent"));
    let many: Vec<String> = (0..21)
        .flat_map(|i| ["--file".to_string(), format!("asset:a{i}")])
        .collect();
    let mut args = vec!["video-agent", "create", "--prompt", "p"];
    args.extend(many.iter().map(String::as_str));
    assert_eq!(code(&sim.heygen(&args)), 2);
    assert_eq!(
        code(&sim.heygen(&[
            "video-agent",
            "create",
            "--prompt",
            "p",
            "--orientation",
            "square"
        ])),
        2
    );
    assert_eq!(
        sim.sim().request_count(),
        before,
        "invalid input sent nothing"
    );

    assert_eq!(
        code(&sim.heygen(&[
            "video-agent",
            "create",
            "--prompt",
            "x [fail:render]",
            "--wait"
        ])),
        3
    );
    assert_eq!(
        code(&sim.heygen(&[
            "video-agent",
            "create",
            "--prompt",
            "x [fail:session]",
            "--wait"
        ])),
        3
    );

    let slow = Sim::start(Simulator::new());
    let timed_out = slow.heygen(&[
        "--json",
        "video-agent",
        "create",
        "--prompt",
        "slow",
        "--wait",
        "--timeout",
        "1s",
    ]);
    assert_eq!(code(&timed_out), 4);
    let report: Value = serde_json::from_slice(&timed_out.stdout).unwrap();
    assert_eq!(report["status"], "timed_out");
    // The session is named when the wait starts, and again with how to go on.
    let session = report["session_id"].as_str().unwrap();
    let stderr = String::from_utf8_lossy(&timed_out.stderr);
    assert!(stderr.contains(&format!("session {session} (")), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "go on waiting with: heygen video-agent wait {session}"
        )),
        "{stderr}"
    );

    let secret_key = "sk_live_do_not_print";
    let unauthorized = sim.heygen_with_key(secret_key, &["video", "list"]);
    assert_eq!(code(&unauthorized), 1);
    let stderr = String::from_utf8_lossy(&unauthorized.stderr);
    assert!(
        stderr.contains("unauthorized") && stderr.contains("request id"),
        "{stderr}"
    );
    assert!(
        !stderr.contains(secret_key)
            && !String::from_utf8_lossy(&unauthorized.stdout).contains(secret_key)
    );
}

#[test]
fn assets_and_webhook_endpoints() {
    let sim = Sim::start(fast());
    let dir = tempfile::tempdir().unwrap();
    let logo = dir.path().join("logo.png");
    std::fs::write(&logo, PNG).unwrap();
    // One file or several: one shape.
    let one = json(&sim.heygen(&["--json", "asset", "upload", logo.to_str().unwrap()]));
    assert!(one["batch_id"].is_null(), "{one}");
    let asset = &one["files"][0];
    assert_eq!(asset["content_type"], "image/png");
    assert_eq!(asset["status"], "completed");
    assert_eq!(asset["path"], logo.to_str().unwrap());
    // Several files go through one upload batch, each reported in order.
    let second = dir.path().join("second.png");
    std::fs::write(&second, [PNG, b"2"].concat()).unwrap();
    let batch = json(&sim.heygen(&[
        "--json",
        "asset",
        "upload",
        logo.to_str().unwrap(),
        second.to_str().unwrap(),
    ]));
    assert!(batch["batch_id"].is_string(), "{batch}");
    let statuses: Vec<_> = batch["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["status"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(statuses, ["completed", "completed"]);
    assert_eq!(batch["files"][1]["path"], second.to_str().unwrap());
    let keys = |file: &Value| {
        file.as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(keys(asset), keys(&batch["files"][0]));
    assert_eq!(
        one.as_object().unwrap().keys().collect::<Vec<_>>(),
        batch.as_object().unwrap().keys().collect::<Vec<_>>()
    );
    let with_asset = format!("asset:{}", asset["asset_id"].as_str().unwrap());
    let created = json(&sim.heygen(&[
        "--json",
        "video-agent",
        "create",
        "--prompt",
        "p",
        "--file",
        &with_asset,
    ]));
    assert!(created["session_id"].is_string());

    let endpoint = json(&sim.heygen(&[
        "--json",
        "webhook",
        "create-endpoint",
        "--data",
        r#"{"url": "https://example.com/hook", "events": ["video_agent.success", "video_agent.fail"]}"#,
    ]));
    let id = endpoint["endpoint_id"].as_str().unwrap().to_string();
    assert!(endpoint["secret"].as_str().unwrap().starts_with("whsec_"));
    assert_eq!(endpoint["events"][1], "video_agent.fail");
    let listed = json(&sim.heygen(&["--json", "webhook", "list-endpoints"]));
    assert_eq!(listed["data"][0]["endpoint_id"], id.as_str());
    let rotated = json(&sim.heygen(&["--json", "webhook", "rotate-secret", &id]));
    assert_ne!(rotated["secret"], endpoint["secret"]);
    assert_eq!(code(&sim.heygen(&["webhook", "delete-endpoint", &id])), 0);
    assert_eq!(
        json(&sim.heygen(&["--json", "webhook", "list-endpoints", "--all"]))["data"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
}

fn verify(secret: &str, headers: &[String], body: &[u8], body_file: Option<&Path>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_heygen"));
    command.args(["--json", "webhook", "verify", "--secret", secret]);
    for header in headers {
        command.args(["--header", header]);
    }
    if let Some(file) = body_file {
        command.arg(file);
    }
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(body).unwrap();
    drop(stdin);
    child.wait_with_output().unwrap()
}

#[test]
fn webhook_verify_checks_signatures() {
    let body = br#"{"event_type":"video_agent.success","event_data":{"video_id":"v1","callback_id":"c1"}}"#;
    let signed = webhook::sign("whsec_cli", body, webhook::now_unix(), "evt_cli");
    let headers: Vec<String> = signed
        .iter()
        .map(|(name, value)| format!("{}: {}", name, value.to_str().unwrap()))
        .collect();
    let ok = verify("whsec_cli", &headers, body, None);
    let event = json(&ok);
    assert_eq!(event["event_id"], "evt_cli");
    assert_eq!(event["event"]["event_type"], "video_agent.success");
    assert_eq!(event["event"]["callback_id"], "c1");

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("body.json");
    std::fs::write(&file, body).unwrap();
    assert_eq!(code(&verify("whsec_cli", &headers, b"", Some(&file))), 0);

    let wrong = verify("whsec_other", &headers, body, None);
    assert_eq!(code(&wrong), 5);
    assert!(wrong.stdout.is_empty());
    assert_eq!(code(&verify("whsec_cli", &[], body, None)), 5);
    assert_eq!(
        code(&verify("whsec_cli", &["no colon".into()], body, None)),
        2
    );
}

#[test]
fn simulate_prints_how_to_connect_and_serves() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_heygen"))
        .args([
            "simulate",
            "--port",
            "0",
            "--sim-api-key",
            "cli-sim-key",
            "--time-scale",
            "600",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let base = lines.next().unwrap().unwrap();
    let key = lines.next().unwrap().unwrap();
    let base = base.strip_prefix("HEYGEN_BASE_URL=").unwrap().to_string();
    assert_eq!(key, "HEYGEN_API_KEY=cli-sim-key");
    let output = Command::new(env!("CARGO_BIN_EXE_heygen"))
        .args([
            "--json",
            "--base-url",
            &base,
            "--api-key",
            "cli-sim-key",
            "video-agent",
            "create",
            "--prompt",
            "hi",
            "--wait",
        ])
        .output()
        .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(json(&output)["status"], "completed");
}

#[test]
fn a_missing_key_names_the_flag_and_the_variable() {
    let config = tempfile::tempdir().unwrap();
    for args in [&["video", "get", "v1"][..], &["video", "wait", "v1"][..]] {
        let output = Command::new(env!("CARGO_BIN_EXE_heygen"))
            .args(args)
            .env_remove("HEYGEN_API_KEY")
            .env("XDG_CONFIG_HOME", config.path())
            .output()
            .unwrap();
        assert_eq!(code(&output), 2);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("--api-key")
                && stderr.contains("HEYGEN_API_KEY")
                && stderr.contains("heygen auth login"),
            "{stderr}"
        );
        assert!(!stderr.contains("ClientBuilder"), "{stderr}");
    }
}

/// `auth login` checks a key with HeyGen and keeps it where only its owner can read it;
/// commands use it when neither `--api-key` nor `HEYGEN_API_KEY` is given; `auth status`
/// says which key is used and never shows one.
#[test]
#[cfg(unix)]
fn a_stored_key_is_private_used_last_and_never_shown() {
    use std::os::unix::fs::PermissionsExt as _;
    let sim = Sim::start(fast());
    let config = tempfile::tempdir().unwrap();
    let heygen = |args: &[&str], key: Option<&str>, input: &[u8]| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_heygen"));
        command
            .args(args)
            .env("XDG_CONFIG_HOME", config.path())
            .env("HEYGEN_BASE_URL", sim.sim().base_url())
            .env_remove("HEYGEN_API_KEY")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(key) = key {
            command.env("HEYGEN_API_KEY", key);
        }
        let mut child = command.spawn().unwrap();
        child.stdin.take().unwrap().write_all(input).unwrap();
        child.wait_with_output().unwrap()
    };
    let key = sim.sim().api_key().to_string();
    let stored = config.path().join("heygen").join("credentials.json");

    let none = heygen(&["auth", "status"], None, b"");
    assert_eq!(code(&none), 2);
    assert!(String::from_utf8_lossy(&none.stdout).contains("no key"));
    // A key HeyGen refuses is not kept.
    let refused = heygen(&["auth", "login"], None, b"sk_wrong\n");
    assert_eq!(code(&refused), 1, "{refused:?}");
    assert!(!stored.exists());
    let empty = heygen(&["auth", "login"], None, b"\n");
    assert_eq!(code(&empty), 2, "{empty:?}");

    // A folder that is there already, open to everyone, is closed before the key goes in.
    std::fs::create_dir_all(stored.parent().unwrap()).unwrap();
    std::fs::set_permissions(
        stored.parent().unwrap(),
        std::fs::Permissions::from_mode(0o777),
    )
    .unwrap();
    let login = heygen(&["auth", "login"], None, format!("{key}\n").as_bytes());
    assert_eq!(code(&login), 0, "{login:?}");
    assert!(!String::from_utf8_lossy(&login.stderr).contains("instead"));
    // Stored while the environment holds another key: said at once.
    let shadowed = heygen(
        &["auth", "login"],
        Some("sk_from_env"),
        format!("{key}\n").as_bytes(),
    );
    assert_eq!(code(&shadowed), 0, "{shadowed:?}");
    assert!(
        String::from_utf8_lossy(&shadowed.stderr)
            .contains("HEYGEN_API_KEY is set, and commands use it instead of the stored key"),
        "{shadowed:?}"
    );
    let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&stored), 0o600);
    assert_eq!(mode(stored.parent().unwrap()), 0o700);
    // Used when nothing else is given.
    let listed = heygen(&["video", "list"], None, b"");
    assert_eq!(code(&listed), 0, "{listed:?}");
    let status = heygen(&["auth", "status"], None, b"");
    let text = String::from_utf8_lossy(&status.stdout);
    assert!(text.contains("the stored key"), "{text}");
    // The environment and the flag win, and no key is ever printed.
    let status = heygen(&["auth", "status"], Some("sk_from_env"), b"");
    let text = format!("{status:?}");
    assert!(
        text.contains("HEYGEN_API_KEY") && text.contains("the one above wins"),
        "{text}"
    );
    let env_wins = heygen(&["video", "list"], Some("sk_from_env"), b"");
    assert_eq!(code(&env_wins), 1, "the environment's (wrong) key was used");
    let flag = heygen(
        &["auth", "status", "--api-key", "sk_from_flag"],
        Some("sk_from_env"),
        b"",
    );
    let text = format!("{flag:?}");
    assert!(text.contains("--api-key"), "{text}");
    for output in [&status, &flag, &login, &listed] {
        let all = format!("{output:?}");
        for secret in [key.as_str(), "sk_from_env", "sk_from_flag"] {
            assert!(!all.contains(secret), "{secret} shown: {all}");
        }
    }
    let logout = heygen(&["auth", "logout"], None, b"");
    assert_eq!(code(&logout), 0);
    assert!(!stored.exists());

    // `--api-key KEY` is the key to keep, with nothing asked.
    let from_flag = heygen(&["auth", "login", "--api-key", &key], None, b"");
    assert_eq!(code(&from_flag), 0, "{from_flag:?}");
    assert!(!format!("{from_flag:?}").contains(&key));
    let status = heygen(&["auth", "status"], None, b"");
    assert!(String::from_utf8_lossy(&status.stdout).contains("the stored key"));
    let refused = heygen(&["auth", "login", "--api-key", "sk_wrong"], None, b"");
    assert_eq!(code(&refused), 1);
    assert_eq!(
        std::fs::read_to_string(&stored).unwrap(),
        format!(r#"{{"api_key":"{key}"}}"#),
        "a refused key replaces nothing"
    );
}

/// `heygen completions SHELL` prints a script that knows every command, the ones derived
/// from the spec included.
#[test]
fn completions_know_every_command() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let output = Command::new(env!("CARGO_BIN_EXE_heygen"))
            .args(["completions", shell])
            .output()
            .unwrap();
        assert_eq!(code(&output), 0, "{shell}");
        let script = String::from_utf8_lossy(&output.stdout);
        for word in [
            "video-agent",
            "create-endpoint",
            "request-schema",
            "retry-failed",
        ] {
            assert!(script.contains(word), "{shell}: no {word}");
        }
    }
}

#[test]
fn bodies_come_from_data_text_files_or_stdin_and_bad_ones_send_nothing() {
    let sim = Sim::start(fast());
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("endpoint.json");
    std::fs::write(&file, r#"{"url": "https://example.com/from-file"}"#).unwrap();
    let from_file = json(&sim.heygen(&[
        "--json",
        "webhook",
        "create-endpoint",
        "--data",
        &format!("@{}", file.display()),
    ]));
    assert_eq!(from_file["url"], "https://example.com/from-file");

    let from_stdin = json(&sim.heygen_with_stdin(
        &["--json", "webhook", "create-endpoint", "--data", "-"],
        br#"{"url": "https://example.com/from-stdin"}"#,
    ));
    assert_eq!(from_stdin["url"], "https://example.com/from-stdin");

    let before = sim.sim().request_count();
    for data in [
        "{not json",
        r#"{"events": []}"#,
        r#"{"url": "ftp://example.com"}"#,
        "@/nonexistent/body.json",
    ] {
        let refused = sim.heygen(&["webhook", "create-endpoint", "--data", data]);
        assert_eq!(code(&refused), 2, "{data}");
        assert!(
            String::from_utf8_lossy(&refused.stderr).contains("nothing was sent"),
            "{data}: {}",
            String::from_utf8_lossy(&refused.stderr)
        );
    }
    // What is not a file, or more than any request, is not read to its end: a device that
    // never ends, a pipe, a file or standard input of 33 MiB.
    let fifo = dir.path().join("body.fifo");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let huge = dir.path().join("huge.json");
    std::fs::File::create(&huge)
        .unwrap()
        .set_len(33 * 1024 * 1024)
        .unwrap();
    for (data, said) in [
        ("@/dev/zero".to_string(), "not a regular file"),
        (format!("@{}", fifo.display()), "not a regular file"),
        (format!("@{}", huge.display()), "more than 32 MiB"),
    ] {
        let refused = sim.heygen(&["webhook", "create-endpoint", "--data", &data]);
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert_eq!(code(&refused), 2, "{data}: {stderr}");
        assert!(
            stderr.contains(said) && stderr.contains("nothing was sent"),
            "{data}: {stderr}"
        );
    }
    let flood = vec![b' '; 33 * 1024 * 1024];
    let refused = sim.heygen_with_stdin(&["webhook", "create-endpoint", "--data", "-"], &flood);
    assert_eq!(code(&refused), 2);
    assert!(String::from_utf8_lossy(&refused.stderr).contains("more than 32 MiB"));
    // Standard input that never ends is read no further than the bound.
    let mut endless = Command::new(env!("CARGO_BIN_EXE_heygen"))
        .args(["webhook", "create-endpoint", "--data", "-"])
        .env("HEYGEN_BASE_URL", sim.sim().base_url())
        .env("HEYGEN_API_KEY", sim.sim().api_key())
        .stdin(std::fs::File::open("/dev/zero").unwrap())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = endless.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > std::time::Duration::from_secs(60) {
            let _ = endless.kill();
            panic!("--data - still reading an endless input after a minute");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let mut said = String::new();
    std::io::Read::read_to_string(&mut endless.stderr.take().unwrap(), &mut said).unwrap();
    assert_eq!(status.code(), Some(2), "{said}");
    // Stopped at the bound, not by memory running out.
    assert!(said.contains("more than 32 MiB"), "{said}");
    assert_eq!(sim.sim().request_count(), before, "nothing was sent");
    let refused = sim.heygen(&["video", "list", "--limit", "500"]);
    assert_eq!(code(&refused), 2);
    assert!(String::from_utf8_lossy(&refused.stderr).contains("between 1 and 100"));
    let without = sim.heygen(&["webhook", "create-endpoint"]);
    assert_eq!(code(&without), 2);
    assert!(
        String::from_utf8_lossy(&without.stderr).starts_with("error: --data is required: "),
        "{without:?}"
    );

    // A member of the wrong type names itself and what it should be; a missing local file is
    // bad input too.
    let dir_arg = dir.path().display().to_string();
    for (args, says) in [
        (
            &["webhook", "create-endpoint", "--data", r#"{"url": 42}"#][..],
            "--data at `url`: expected a string, got integer `42`",
        ),
        (
            &["video-agent", "create", "--data", r#"{"prompt": ["a"]}"#],
            "--data at `prompt`: expected a string, got an array",
        ),
        (
            &[
                "video",
                "create",
                "--data",
                r#"{"type": "avatar", "avatar_id": 42, "script": "Hi"}"#,
            ],
            "`avatar_id` expected a string, got 42",
        ),
        (
            &[
                "video-agent",
                "create",
                "--prompt",
                "Hi",
                "--file",
                "/nonexistent/logo.png",
            ],
            "--file /nonexistent/logo.png: no such file",
        ),
        (
            &["asset", "upload", "/nonexistent/logo.png"],
            "/nonexistent/logo.png: no such file",
        ),
        (&["asset", "upload", &dir_arg], "is a folder, not a file"),
    ] {
        let refused = sim.heygen(args);
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert_eq!(code(&refused), 2, "{args:?}: {stderr}");
        assert!(
            stderr.contains(says) && stderr.contains("nothing was sent"),
            "{args:?}: {stderr}"
        );
    }
    assert_eq!(sim.sim().request_count(), before, "nothing was sent");

    let schema = json(&sim.heygen(&["webhook", "create-endpoint", "--request-schema"]));
    assert_eq!(schema["required"][0], "url");
    assert!(
        schema["properties"]["events"]["items"]["enum"].is_array(),
        "references are inlined: {schema}"
    );
}

#[test]
fn the_video_phase_is_shown_without_a_stale_percentage() {
    // A render long enough for the wait to poll the video while it is processing.
    let sim = Sim::start(Simulator::new().time_scale(100.0).render_seconds(400.0));
    let out = sim.heygen(&["video-agent", "create", "--prompt", "Progress", "--wait"]);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    // Off a terminal, progress is plain lines on stderr: the session phase with its
    // percentage, the video phase without one (it reports none).
    let progress = String::from_utf8_lossy(&out.stderr);
    let polls: Vec<&str> = progress.lines().filter(|l| l.contains(" poll ")).collect();
    assert!(
        polls
            .iter()
            .any(|l| l.contains(" session ") && l.ends_with('%')),
        "{progress}"
    );
    let video_polls: Vec<&&str> = polls.iter().filter(|l| l.contains(" video ")).collect();
    assert!(
        video_polls.iter().any(|l| l.contains("processing")),
        "{progress}"
    );
    assert!(video_polls.iter().all(|l| !l.contains('%')), "{progress}");
}

#[test]
fn videos_are_created_waited_for_and_downloaded_and_their_statuses_read() {
    let sim = Sim::start(fast());
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("made.mp4");
    let video = json(&sim.heygen(&[
        "--json",
        "video",
        "create",
        "--data",
        r#"{"type": "avatar", "avatar_id": "look_1", "script": "From the command line"}"#,
        "--download",
        target.to_str().unwrap(),
    ]));
    assert_eq!(video["status"], "completed");
    assert_eq!(&std::fs::read(&target).unwrap()[4..8], b"ftyp");
    let id = video["id"].as_str().unwrap();
    let statuses = json(&sim.heygen(&["--json", "video", "statuses", id, "vid_nope"]));
    assert_eq!(statuses["items"][0]["status"], "completed");
    assert_eq!(statuses["not_found"][0], "vid_nope");
    // For a person: a table, and the ids not found.
    let text = sim.heygen(&["video", "statuses", id, "vid_nope"]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.starts_with("VIDEO ID ") && text.contains(id), "{text}");
    assert!(
        text.ends_with("not found: vid_nope\n") && !text.contains('{'),
        "{text}"
    );
    let before = sim.sim().request_count();
    let refused = sim.heygen(&[
        "video",
        "create",
        "--data",
        r#"{"type": "avatar", "avatar_id": "look_1"}"#,
    ]);
    assert_eq!(code(&refused), 2);
    assert!(String::from_utf8_lossy(&refused.stderr).contains("script"));
    assert_eq!(sim.sim().request_count(), before, "nothing was sent");
    let schema = json(&sim.heygen(&["video", "create", "--request-schema"]));
    assert_eq!(schema["discriminator"]["propertyName"], "type");
}

#[test]
fn video_agent_create_takes_data_with_fields_the_spec_lacks() {
    let sim = Sim::start(fast());
    let created = json(&sim.heygen(&[
        "--json",
        "video-agent",
        "create",
        "--data",
        r#"{"prompt": "From data", "mode": "chat", "brand_new_knob": true}"#,
        "--orientation",
        "portrait",
    ]));
    assert!(created["session_id"].is_string());
    let before = sim.sim().request_count();
    let refused = sim.heygen(&["video-agent", "create", "--data", r#"{"mode": "chat"}"#]);
    assert_eq!(code(&refused), 2);
    assert!(String::from_utf8_lossy(&refused.stderr).contains("prompt"));
    assert_eq!(sim.sim().request_count(), before, "nothing was sent");
}

#[test]
fn a_chat_from_the_command_line_takes_answers_from_flags_and_stdin() {
    let sim = Sim::start(fast());
    let scripted = sim.heygen(&[
        "--json",
        "video-agent",
        "chat",
        "--prompt",
        "A tour",
        "--message",
        "Shorter scenes",
        "--message",
        "approve",
    ]);
    let video = json(&scripted);
    assert_eq!(video["status"], "completed");
    let talk = String::from_utf8_lossy(&scripted.stderr);
    assert!(talk.contains("agent: Here is the storyboard"), "{talk}");
    assert!(talk.contains("agent: Storyboard revision 1"), "{talk}");
    assert!(talk.contains("resource res_storyboard (draft)"), "{talk}");

    let out = sim.heygen_with_stdin(
        &["video-agent", "chat", "--prompt", "From stdin"],
        b"More music\nWarmer\napprove\n",
    );
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("you: Warmer") && text.contains("revision 2"),
        "{text}"
    );
    assert!(text.contains("completed"), "{text}");

    // Empty lines ask again instead of ending the chat.
    let out = sim.heygen_with_stdin(
        &["video-agent", "chat", "--prompt", "Patient"],
        b"\n   \napprove\n",
    );
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("you: approve"));

    // The end of the input stops the chat (not a failure) and says how to go on; going on
    // that way finishes the video.
    let stuck = sim.heygen_with_stdin(&["video-agent", "chat", "--prompt", "Silent"], b"");
    assert_eq!(code(&stuck), 0, "{stuck:?}");
    let stderr = String::from_utf8_lossy(&stuck.stderr);
    let resume = stderr
        .split("Go on with: ")
        .nth(1)
        .and_then(|rest| rest.lines().next())
        .unwrap_or_else(|| panic!("no way to go on in: {stderr}"));
    let args: Vec<&str> = resume.split_whitespace().skip(1).collect();
    assert_eq!(args[..3], ["video-agent", "chat", "--session"], "{resume}");
    let resumed = sim.heygen(&[&args[..], &["--json", "--message", "approve"]].concat());
    assert_eq!(code(&resumed), 0, "{resumed:?}");
    assert_eq!(json(&resumed)["status"], "completed");
    // What the agent said before is shown again, for context.
    let talk = String::from_utf8_lossy(&resumed.stderr);
    assert!(talk.contains("agent: Here is the storyboard"), "{talk}");
}

/// `heygen simulate` in its own process: its base URL, and the process.
fn simulate_process(time_scale: &str) -> (String, std::process::Child) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_heygen"))
        .args(["simulate", "--port", "0", "--time-scale", time_scale])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let base = lines.next().unwrap().unwrap();
    let base = base.strip_prefix("HEYGEN_BASE_URL=").unwrap().to_string();
    (base, child)
}

fn heygen_at(base: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_heygen"))
        .args(args)
        .env("HEYGEN_BASE_URL", base)
        .env("HEYGEN_API_KEY", heygen_api::simulator::DEFAULT_API_KEY)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// Lines of `count` jobs: two Video Agent prompts for each video made directly.
fn job_lines(count: usize) -> String {
    (0..count)
        .map(|i| {
            if i % 3 == 2 {
                format!(
                    r#"{{"key": "job-{i}", "type": "avatar", "avatar_id": "look_anna_studio", "script": "Line {i}"}}"#
                )
            } else {
                format!(r#"{{"key": "job-{i}", "prompt": "Clip {i}"}}"#)
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A jobs file and the journal beside it, in a folder of their own.
struct BatchFiles {
    _dir: tempfile::TempDir,
    jobs: std::path::PathBuf,
    journal: std::path::PathBuf,
}

impl BatchFiles {
    fn new(lines: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let jobs = dir.path().join("jobs.jsonl");
        std::fs::write(&jobs, lines).unwrap();
        let journal = dir.path().join("run.journal");
        BatchFiles {
            _dir: dir,
            jobs,
            journal,
        }
    }

    /// `batch run JOBS --journal JOURNAL`, then `extra`.
    fn run_args<'a>(&'a self, extra: &[&'a str]) -> Vec<&'a str> {
        let mut args = vec![
            "batch",
            "run",
            self.jobs.to_str().unwrap(),
            "--journal",
            self.journal.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        args
    }

    /// Waits until the journal holds `count` records of `event`.
    fn wait_for(&self, event: &str, count: usize) {
        let started = std::time::Instant::now();
        let needle = format!("\"{event}\"");
        loop {
            let text = std::fs::read_to_string(&self.journal).unwrap_or_default();
            if text.matches(&needle).count() >= count {
                return;
            }
            assert!(
                started.elapsed().as_secs() < 60,
                "no {event} record: {text}"
            );
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }
}

/// `heygen` in the background against `base`, its stdout dropped.
fn spawn_heygen(base: &str, key: &str, args: &[&str], stderr: Stdio) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_heygen"))
        .args(args)
        .env("HEYGEN_BASE_URL", base)
        .env("HEYGEN_API_KEY", key)
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .unwrap()
}

#[test]
fn a_killed_batch_run_resumes_and_creates_nothing_twice() {
    let (base, mut simulator) = simulate_process("60");
    let files = BatchFiles::new(&job_lines(30));
    let journal = &files.journal;
    let args = files.run_args(&[
        "--poll-interval",
        "20ms",
        "--max-poll-interval",
        "100ms",
        "--json",
    ]);
    let key = heygen_api::simulator::DEFAULT_API_KEY;
    let mut first = spawn_heygen(&base, key, &args, Stdio::null());
    // Kill it (SIGKILL) once the first job has ended: 10 at a time, 30 in all, so most are
    // in flight or not started.
    files.wait_for("finished", 1);
    first.kill().unwrap();
    first.wait().unwrap();
    let killed = std::fs::read_to_string(journal).unwrap();
    assert!(
        killed.matches("\"finished\"").count() < 30,
        "the run was not cut short"
    );

    let second = heygen_at(&base, &args);
    assert_eq!(
        second.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    let mut outcomes: Vec<Value> = String::from_utf8_lossy(&second.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    // The last line is the run's summary, in JSON too.
    let summary = outcomes.pop().unwrap();
    assert_eq!(summary["state"], "summary", "{summary}");
    assert_eq!(
        summary["summary"]["counts"]["already_finished"]
            .as_u64()
            .unwrap_or(0)
            + summary["summary"]["counts"]["completed"]
                .as_u64()
                .unwrap_or(0),
        30,
        "{summary}"
    );
    assert_eq!(outcomes.len(), 30);
    assert!(outcomes
        .iter()
        .all(|o| o["state"] == "completed" || o["state"] == "already_finished"));

    // The simulator made exactly 30 jobs: 20 sessions; 10 direct videos and the sessions' 20.
    let sessions = json(&heygen_at(
        &base,
        &["--json", "video-agent", "list", "--all"],
    ));
    assert_eq!(sessions["data"].as_array().unwrap().len(), 20);
    let videos = json(&heygen_at(&base, &["--json", "video", "list", "--all"]));
    assert_eq!(videos["data"].as_array().unwrap().len(), 30);
    // And the journal agrees, before and after it is compacted to one line per job.
    let offline = |verb: &str| {
        json(&heygen_at(
            &base,
            &[
                "--json",
                "batch",
                verb,
                "--journal",
                journal.to_str().unwrap(),
            ],
        ))
    };
    let status = offline("status");
    assert_eq!(status["counts"], serde_json::json!({"completed": 30}));
    assert_eq!(status["jobs"], 30);
    let compacted = offline("compact");
    assert_eq!(compacted["jobs"], 30, "{compacted}");
    let text = std::fs::read_to_string(journal).unwrap();
    assert_eq!(text.lines().count(), 30);
    let again = offline("status");
    assert_eq!(again, status);
    let _ = simulator.kill();
    let _ = simulator.wait();
}

/// A journal damaged in the middle stops `batch status` and `batch run` with the line and the
/// way on, nothing sent; `batch salvage` keeps every readable job, lists each line it set
/// aside, keeps the file as it was, and the run then goes on without making anything twice.
#[test]
fn a_damaged_journal_is_salvaged_and_the_run_goes_on() {
    let sim = Sim::start(fast());
    let files = BatchFiles::new(
        "{\"key\": \"a\", \"prompt\": \"First\"}\n{\"key\": \"b\", \"prompt\": \"Second\"}\n{\"key\": \"c\", \"prompt\": \"Third\"}\n",
    );
    let quick = ["--poll-interval", "10ms", "--max-poll-interval", "50ms"];
    assert_eq!(code(&sim.heygen(&files.run_args(&quick))), 0);
    assert_eq!(sim.sim().session_count(), 3);

    // Job b's last line torn in the middle of the file, and a line of noise after it.
    let text = std::fs::read_to_string(&files.journal).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let b_ended = lines
        .iter()
        .rposition(|l| l.contains("\"key\":\"b\"") && l.contains("finished"))
        .unwrap_or_else(|| panic!("no end of b in {text}"));
    let half = lines[b_ended].len() / 2;
    lines[b_ended].truncate(half);
    lines.insert(b_ended + 1, "\u{1}\u{2} noise".to_string());
    let damaged = lines.join("\n") + "\n";
    std::fs::write(&files.journal, &damaged).unwrap();
    let journal = files.journal.to_str().unwrap();

    let requests = sim.sim().request_count();
    for args in [
        &["batch", "status", "--journal", journal][..],
        &files.run_args(&quick)[..],
    ] {
        let out = sim.heygen(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(code(&out), 2, "{args:?}: {stderr}");
        assert!(
            stderr.contains(&format!("line {} is damaged", b_ended + 1))
                && stderr.contains("heygen batch salvage"),
            "{stderr}"
        );
    }
    assert_eq!(sim.sim().request_count(), requests, "nothing was sent");

    let out = sim.heygen(&["batch", "salvage", "--journal", journal]);
    let said = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        code(&out),
        0,
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        said.contains("3 jobs kept; 2 damaged lines set aside"),
        "{said}"
    );
    assert!(
        said.contains(&format!(
            "line {} (job b, kept from its other lines)",
            b_ended + 1
        )),
        "{said}"
    );
    assert!(
        said.contains(&format!("line {} (no job key readable)", b_ended + 2)),
        "{said}"
    );
    let kept = format!("{journal}.damaged");
    assert_eq!(
        std::fs::read_to_string(&kept).unwrap(),
        damaged,
        "the file as it was"
    );

    // The run goes on: b, whose end was lost, is looked up again, not made again.
    let run = sim.heygen(&files.run_args(&quick));
    assert_eq!(code(&run), 0, "{}", String::from_utf8_lossy(&run.stderr));
    assert_eq!(sim.sim().session_count(), 3, "nothing made twice");
    let status = json(&sim.heygen(&["--json", "batch", "status", "--journal", journal]));
    assert_eq!(
        status["counts"],
        serde_json::json!({"completed": 3}),
        "{status}"
    );
    // Salvaged once is enough: nothing more to set aside, and the file is left alone.
    let again = sim.heygen(&["batch", "salvage", "--journal", journal]);
    assert!(String::from_utf8_lossy(&again.stdout).contains("no damaged line"));
}

/// A journal another run holds is refused before anything is sent, as bad input is (exit 2),
/// by `batch run` and by `batch compact` alike; so is a webhook address already taken.
#[test]
fn a_journal_another_run_holds_is_refused_before_anything_is_sent() {
    let sim = Sim::start(fast());
    let files = BatchFiles::new(r#"{"key": "a", "prompt": "First"}"#);
    std::fs::write(&files.journal, "").unwrap();
    // The other run: a lock on the journal, held as a run holds it.
    let held = std::fs::File::open(&files.journal).unwrap();
    held.try_lock().unwrap();
    let run = sim.heygen(&files.run_args(&[]));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(code(&run), 2, "{stderr}");
    assert!(stderr.contains("another run has it open"), "{stderr}");
    assert_eq!(sim.sim().session_count(), 0);
    let compact = sim.heygen(&[
        "batch",
        "compact",
        "--journal",
        files.journal.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&compact.stderr);
    assert_eq!(code(&compact), 2, "{stderr}");
    assert!(stderr.contains("another run has it open"), "{stderr}");
    drop(held);
    // A webhook address that cannot be listened on is refused the same way.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let run = sim.heygen(&files.run_args(&[
        "--webhook-listen",
        &address,
        "--webhook-secret",
        "whsec_test",
    ]));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(code(&run), 2, "{stderr}");
    assert!(stderr.contains(&address), "{stderr}");
    assert_eq!(sim.sim().session_count(), 0);
    // Let go, the same run goes ahead.
    let run = sim.heygen(&files.run_args(&["--poll-interval", "10ms"]));
    assert_eq!(code(&run), 0, "{}", String::from_utf8_lossy(&run.stderr));
    assert_eq!(sim.sim().session_count(), 1);
}

#[test]
fn bad_job_lines_fail_alone_with_their_line_numbers() {
    let sim = Sim::start(fast());
    let files = BatchFiles::new(
        &[
            r#"{"key": "a", "prompt": "First"}"#,
            r#"{"key": "b", "prompt": "#,
            "",
            r#"{"key": "c", "type": "avatar", "avatar_id": "look_anna_studio"}"#,
            "NOT UTF-8",
            r#"{"key": "d", "prompt": "Last"}"#,
        ]
        .join("\n"),
    );
    // Line 5 holds a byte that is not UTF-8: a bad line of its own, not the end of the file.
    let text = std::fs::read(&files.jobs).unwrap();
    let at = text.windows(9).position(|w| w == b"NOT UTF-8").unwrap();
    let mut bytes = text[..at].to_vec();
    bytes.extend_from_slice(b"{\"key\": \"e\", \"prompt\": \"caf\xe9\"}");
    bytes.extend_from_slice(&text[at + 9..]);
    std::fs::write(&files.jobs, bytes).unwrap();
    let journal = &files.journal;
    // A file is checked whole first: every bad line named, nothing sent, exit 2.
    let before = sim.sim().request_count();
    let refused =
        sim.heygen(&files.run_args(&["--poll-interval", "10ms", "--max-poll-interval", "50ms"]));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{stderr}");
    for line in [
        "line 2: is not JSON",
        "line 4: invalid: `script`",
        "line 5: is not UTF-8 text (byte 28)",
        "3 bad lines in ",
        "(nothing was sent)",
    ] {
        assert!(stderr.contains(line), "{line}: {stderr}");
    }
    assert_eq!(sim.sim().request_count(), before, "nothing was sent");
    assert!(!journal.exists(), "no journal begun");

    // From standard input, read once as it comes, a bad line fails alone and the rest run.
    let input = std::fs::read(&files.jobs).unwrap();
    let output = sim.heygen_with_stdin(
        &[
            "batch",
            "run",
            "-",
            "--journal",
            journal.to_str().unwrap(),
            "--poll-interval",
            "10ms",
            "--max-poll-interval",
            "50ms",
        ],
        &input,
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("line 2: is not JSON"), "{stderr}");
    assert!(stderr.contains("c: invalid: `script`"), "{stderr}");
    assert!(!stderr.contains("invalid: invalid request"), "{stderr}");
    assert!(stderr.contains("`script`"), "{stderr}");
    assert!(
        stderr.contains("a: completed") && stderr.contains("d: completed"),
        "{stderr}"
    );
    assert!(
        stderr.contains("line 5: is not UTF-8 text (byte 28)"),
        "{stderr}"
    );
    assert!(stderr.contains("2 bad lines"), "{stderr}");
    assert!(stderr.contains("(column "), "{stderr}");

    let status = sim.heygen(&["batch", "status", "--journal", journal.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&status.stdout);
    assert!(text.contains("completed: 2"), "{text}");
    assert!(text.contains("c: invalid: "), "{text}");

    // A run cut off while writing a line leaves it torn: status and run both say so.
    let mut torn = std::fs::OpenOptions::new()
        .append(true)
        .open(journal)
        .unwrap();
    torn.write_all(b"{\"event\":\"crea").unwrap();
    drop(torn);
    let status = sim.heygen(&["batch", "status", "--journal", journal.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&status.stderr).contains("torn line"));
    let rerun = sim.heygen_with_stdin(
        &["batch", "run", "-", "--journal", journal.to_str().unwrap()],
        b"",
    );
    let stderr = String::from_utf8_lossy(&rerun.stderr);
    assert!(
        stderr.contains("torn line (14 bytes") && stderr.contains("no job is lost"),
        "{stderr}"
    );
}

/// A run that never reached some of its jobs says so, and does not exit 0: a deadline that
/// passes before any job starts is exit 4 with the count; a folder for the jobs file is bad
/// input (exit 2), and a kind may be named as the CLI names its command.
#[test]
fn jobs_a_run_never_reached_are_counted_and_kinds_take_cli_names() {
    let sim = Sim::start(fast());
    let lines: Vec<String> = (0..6)
        .map(|i| format!(r#"{{"key": "j{i}", "prompt": "Video {i}"}}"#))
        .collect();
    let files = BatchFiles::new(&lines.join("\n"));
    let output = sim.heygen(&files.run_args(&["--timeout", "0s"]));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(code(&output), 4, "{stderr}");
    assert!(
        stderr.contains("6 jobs of the file not started (the deadline passed first)"),
        "{stderr}"
    );
    // The journal alone cannot say how many jobs the file holds; given the file, status does.
    let status = sim.heygen(&[
        "batch",
        "status",
        "--journal",
        files.journal.to_str().unwrap(),
        files.jobs.to_str().unwrap(),
    ]);
    let text = String::from_utf8_lossy(&status.stdout);
    assert_eq!(code(&status), 0, "{text}");
    assert!(text.contains("of the 6 in "), "{text}");
    assert!(text.contains("; 6 never started"), "{text}");

    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("run.journal");
    let before = sim.sim().request_count();
    let output = sim.heygen(&[
        "batch",
        "run",
        dir.path().to_str().unwrap(),
        "--journal",
        journal.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(code(&output), 2, "{stderr}");
    assert!(stderr.contains("is not a file of jobs"), "{stderr}");
    assert_eq!(sim.sim().request_count(), before);

    let files = BatchFiles::new(
        r#"{"key": "k", "kind": "clipping", "video": {"type": "url", "url": "https://example.com/a.mp4"}}"#,
    );
    let output = sim.heygen(&files.run_args(&["--poll-interval", "10ms"]));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(code(&output), 0, "{stderr}");
    assert!(stderr.contains("k: completed: clipping job"), "{stderr}");
}

/// Off a terminal a run says every so often that it is alive and how far it is, its summary
/// speaks plainly, and `--retry-failed` runs a failed job again on resume.
#[test]
fn a_batch_run_beats_off_a_terminal_speaks_plainly_and_retries_failed_jobs() {
    // Renders of 300 ms at this speed: long enough for a few heartbeats.
    let sim = Sim::start(fast().render_seconds(180.0));
    let lines = |render: &str| {
        [
            r#"{"key": "fine", "prompt": "A fine clip"}"#.to_string(),
            format!(r#"{{"key": "render", "prompt": "{render}"}}"#),
        ]
        .join("\n")
    };
    let files = BatchFiles::new(&lines("[fail:render] please"));
    let quick = ["--poll-interval", "10ms", "--max-poll-interval", "50ms"];
    let mut args = quick.to_vec();
    args.extend(["--heartbeat", "100ms"]);
    let first = sim.heygen(&files.run_args(&args));
    let stderr = String::from_utf8_lossy(&first.stderr);
    assert_eq!(code(&first), 3, "{stderr}");
    let beats: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with('[') && l.contains(" of 2 done"))
        .collect();
    assert!(!beats.is_empty(), "{stderr}");
    assert!(
        beats
            .iter()
            .any(|l| l.contains("2 in flight (") && l.contains(", 0 queued")),
        "{stderr}"
    );
    assert!(
        stderr.contains("render: failed: video vid_")
            && stderr.contains("rendering_failed")
            && stderr.contains("1 completed, 1 failed;"),
        "{stderr}"
    );
    assert!(!stderr.contains("video_failed"), "{stderr}");

    // Resumed: the failed job stays failed unless asked.
    std::fs::write(&files.jobs, lines("Rendered this time")).unwrap();
    let again = sim.heygen(&files.run_args(&quick));
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(stderr.contains("2 already done;"), "{stderr}");
    assert!(
        stderr.contains("1 of the jobs already done had failed; --retry-failed runs them again"),
        "{stderr}"
    );
    let mut retry = quick.to_vec();
    retry.push("--retry-failed");
    let retried = sim.heygen(&files.run_args(&retry));
    let stderr = String::from_utf8_lossy(&retried.stderr);
    assert_eq!(code(&retried), 0, "{stderr}");
    assert!(
        stderr.contains("render: completed") && stderr.contains("1 completed, 1 already done;"),
        "{stderr}"
    );
}

#[test]
fn a_batch_deadline_exits_4_and_webhook_deliveries_end_jobs() {
    // Renders that never end within the deadline.
    let sim = Sim::start(fast().render_seconds(1e9));
    let files = BatchFiles::new(&job_lines(2));
    let output = sim.heygen(&files.run_args(&["--timeout", "300ms", "--poll-interval", "10ms"]));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(4), "{stderr}");
    assert!(stderr.contains("timed out"), "{stderr}");
}

#[test]
fn batch_runs_take_webhook_deliveries() {
    let sim = Sim::start(fast());
    // A free port for the receiver, and an endpoint that delivers there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let endpoint = json(&sim.heygen(&[
        "--json",
        "webhook",
        "create-endpoint",
        "--data",
        &format!(r#"{{"url": "http://127.0.0.1:{port}/hooks"}}"#),
    ]));
    let secret = endpoint["secret"].as_str().unwrap();
    let files = BatchFiles::new(&job_lines(3));
    let listen = format!("127.0.0.1:{port}");
    let output = sim.heygen(&files.run_args(&[
        "--json",
        "--webhook-listen",
        &listen,
        "--webhook-secret",
        secret,
        "--safety-net",
        "1h",
    ]));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    // No polls: the summary line counts them.
    assert!(stderr.contains("(0 polls)"), "{stderr}");
    // Three outcomes, then the summary.
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(stdout.lines().count(), 4, "{stdout}");
    assert!(
        stdout
            .lines()
            .last()
            .unwrap()
            .contains(r#""state":"summary""#),
        "{stdout}"
    );
}

#[test]
fn an_interrupted_batch_run_says_how_to_resume() {
    let sim = Sim::start(fast().render_seconds(1e9));
    let files = BatchFiles::new(&job_lines(3));
    let child = spawn_heygen(
        &sim.sim().base_url(),
        sim.sim().api_key(),
        &files.run_args(&[]),
        Stdio::piped(),
    );
    files.wait_for("created", 3);
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains("run the same command again to resume"),
        "{stderr}"
    );
}

/// Off a terminal (stderr to a pipe), a 12 MB upload writes a line per tenth, in sizes, not
/// one per 4 KB read; every line is a size, never a byte count shown as a percentage.
#[test]
fn an_upload_off_a_terminal_writes_a_few_lines_in_sizes() {
    let sim = Sim::start(fast());
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.png");
    let mut bytes = PNG.to_vec();
    bytes.resize(12_000_000, 7);
    std::fs::write(&big, bytes).unwrap();
    let out = sim.heygen(&["--json", "asset", "upload", big.to_str().unwrap()]);
    assert_eq!(code(&out), 0, "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let progress: Vec<&str> = stderr.lines().filter(|l| l.contains(" / ")).collect();
    assert!(
        (2..=12).contains(&progress.len()),
        "{} progress lines:\n{stderr}",
        progress.len()
    );
    assert_eq!(
        progress.last(),
        Some(&"big.png: 12.00 MB / 12.00 MB (100%)"),
        "{stderr}"
    );
    assert!(!stderr.contains("bytes"), "{stderr}");

    // Above 32 MiB the file goes the direct-upload way, hashed as it is sent: one pass, and
    // only the bytes sent show.
    let huge = dir.path().join("huge.png");
    let mut bytes = PNG.to_vec();
    bytes.resize(34_000_000, 7);
    std::fs::write(&huge, bytes).unwrap();
    let out = sim.heygen(&["--json", "asset", "upload", huge.to_str().unwrap()]);
    assert_eq!(code(&out), 0, "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert!(
        lines.contains(&"huge.png: 34.00 MB / 34.00 MB (100%)"),
        "{stderr}"
    );
    assert!(!stderr.contains("checksum"), "{stderr}");
    assert!(lines.len() <= 30, "{stderr}");
}

/// `--download` takes a folder (the video goes in as `<video_id>.mp4`) or a file whose missing
/// folders are created; a destination that cannot take the file is refused before anything is
/// created on HeyGen, not after the render.
/// `video download` of a video that has no file says why: failed (exit 3), or not ready yet
/// with the command that waits and downloads (exit 2).
#[test]
fn a_video_without_a_file_is_not_downloaded_and_says_why() {
    let sim = Sim::start(fast());
    let failed = sim.heygen(&[
        "--json",
        "video-agent",
        "create",
        "--prompt",
        "x [fail:render]",
        "--wait",
    ]);
    assert_eq!(code(&failed), 3);
    let failed: Value = serde_json::from_slice(&failed.stdout).unwrap();
    let id = failed["id"].as_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("out.mp4");
    let refused = sim.heygen(&["video", "download", id, target.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(code(&refused), 3, "{stderr}");
    assert!(
        stderr.contains(&format!("video {id} failed; it has no file")),
        "{stderr}"
    );
    assert!(!stderr.contains("nothing was sent"), "{stderr}");

    let slow = Sim::start(fast().render_seconds(1e9));
    let created = json(&slow.heygen(&[
        "--json",
        "video",
        "create",
        "--data",
        r#"{"type": "avatar", "avatar_id": "look_anna_studio", "script": "Hi"}"#,
    ]));
    let id = created["video_id"].as_str().unwrap();
    let early = slow.heygen(&["video", "download", id, target.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&early.stderr);
    assert_eq!(code(&early), 2, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "wait and download with: heygen video wait {id} --download {}",
            target.display()
        )),
        "{stderr}"
    );
    assert!(!target.exists());
}

#[test]
fn download_destinations_are_checked_before_the_render() {
    let sim = Sim::start(fast());
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("out1");
    std::fs::create_dir(&folder).unwrap();
    let video = json(&sim.heygen(&[
        "--json",
        "video-agent",
        "create",
        "--prompt",
        "Into a folder",
        "--download",
        folder.to_str().unwrap(),
    ]));
    let id = video["id"].as_str().unwrap();
    let saved = std::fs::read(folder.join(format!("{id}.mp4"))).unwrap();
    assert_eq!(&saved[4..8], b"ftyp");

    // `video download` into a folder named with a trailing slash, which does not exist yet.
    let fresh = format!("{}/", dir.path().join("new/deeper").display());
    let out = sim.heygen(&["video", "download", id, &fresh]);
    assert_eq!(code(&out), 0, "{out:?}");
    assert!(dir.path().join(format!("new/deeper/{id}.mp4")).is_file());

    // A file in the way of a folder: refused, and no session was created.
    let blocker = dir.path().join("blocker");
    std::fs::write(&blocker, b"x").unwrap();
    let inside = blocker.join("demo.mp4");
    let refused = sim.heygen(&[
        "video-agent",
        "create",
        "--prompt",
        "Never made",
        "--download",
        inside.to_str().unwrap(),
    ]);
    assert_eq!(code(&refused), 2, "{refused:?}");
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("is a file, not a folder") && stderr.contains("nothing was sent"),
        "{stderr}"
    );
    let sessions = json(&sim.heygen(&["--json", "video-agent", "list", "--all"]));
    let prompts: Vec<_> = sessions["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["prompt"] == "Never made")
        .collect();
    assert!(prompts.is_empty(), "{sessions}");
    assert_eq!(sessions["data"].as_array().unwrap().len(), 1, "{sessions}");
}

/// A render that cannot be saved still names the video and the command that fetches it again.
#[test]
fn a_failed_download_after_the_render_says_how_to_fetch_the_video_again() {
    let sim = Sim::start(fast().files_gone(true));
    let dir = tempfile::tempdir().unwrap();
    let out = sim.heygen(&[
        "--json",
        "video-agent",
        "create",
        "--prompt",
        "Made, then lost",
        "--download",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(code(&out), 1, "{out:?}");
    // The video is still printed, so that a script has its id.
    let video: Value = serde_json::from_slice(&out.stdout).unwrap();
    let id = video["id"].as_str().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let again = format!("heygen video download {id} {}", dir.path().display());
    assert!(stderr.contains(&again), "{stderr}");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no partial file is left"
    );
}

/// Ctrl-C during `create --wait` stops the wait, not the job, and says how to take it up.
#[cfg(unix)]
#[test]
fn ctrl_c_during_a_wait_says_how_to_go_on() {
    use std::io::{BufRead as _, BufReader};
    let slow = Sim::start(Simulator::new());
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_heygen"))
        .args([
            "video-agent",
            "create",
            "--prompt",
            "slow",
            "--download",
            "my videos/",
        ])
        .current_dir(dir.path())
        .env("HEYGEN_BASE_URL", slow.sim().base_url())
        .env("HEYGEN_API_KEY", slow.sim().api_key())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    // Once the session is named, interrupt.
    let mut seen = String::new();
    let session = loop {
        let mut line = String::new();
        assert!(
            stderr.read_line(&mut line).unwrap() > 0,
            "ended early: {seen}"
        );
        seen.push_str(&line);
        if let Some(rest) = line.strip_prefix("session ") {
            break rest.split_whitespace().next().unwrap().to_string();
        }
    };
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    assert_eq!(status.code(), Some(130), "{seen}{rest}");
    // The command that goes on downloads where the first one would have.
    let resume = format!("go on with: heygen video-agent wait {session} --download 'my videos/'");
    assert!(seen.contains(&resume), "{seen}");
    assert!(rest.contains(&resume), "{seen}{rest}");
}

/// `-v` logs one line per request (method, path, status, request id, attempt, time) and never
/// the key; `RUST_LOG` works as in any Rust program; without either, nothing is logged.
#[test]
fn verbose_logs_each_request_and_rust_log_is_honoured() {
    let sim = Sim::start(fast());
    let run = |args: &[&str], rust_log: Option<&str>| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_heygen"));
        command
            .args(args)
            .env("HEYGEN_BASE_URL", sim.sim().base_url())
            .env("HEYGEN_API_KEY", sim.sim().api_key())
            .env_remove("RUST_LOG");
        if let Some(directives) = rust_log {
            command.env("RUST_LOG", directives);
        }
        let out = command.output().unwrap();
        assert_eq!(code(&out), 0, "{out:?}");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let verbose = run(&["-v", "video", "list", "--limit", "2"], None);
    let line = verbose
        .lines()
        .find(|l| l.contains("path=\"/v3/videos\""))
        .unwrap_or_else(|| panic!("no request line in: {verbose}"));
    for field in [
        "method=GET",
        "status=200",
        "request_id=\"req_",
        "attempt=1",
        "elapsed_ms=",
    ] {
        assert!(line.contains(field), "{field} missing from {line}");
    }
    assert!(!verbose.contains(sim.sim().api_key()), "{verbose}");
    assert!(
        !verbose.contains('\u{1b}'),
        "no colours off a terminal: {verbose}"
    );
    assert!(!verbose.contains("response body"), "{verbose}");

    let traced = run(&["video", "list"], Some("heygen_api=trace"));
    assert!(traced.contains("response body"), "{traced}");
    assert_eq!(run(&["video", "list"], None), "");
}

/// Help teaches: the command's own options first, global ones in their own section, each
/// once; required query flags marked required, the values a flag takes listed; a negative
/// number reaches the validator and gets its message.
#[test]
fn help_shows_required_flags_values_and_global_options_apart() {
    let help = Command::new(env!("CARGO_BIN_EXE_heygen"))
        .args(["asset", "search", "--help"])
        .output()
        .unwrap();
    assert_eq!(code(&help), 0);
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(
        help.contains("Usage: heygen asset search [OPTIONS] --query <QUERY> --type <TYPE>\n"),
        "{help}"
    );
    assert!(help.contains("[possible values: image, icon]"), "{help}");
    let own = help.find("--query <QUERY>").unwrap();
    let global = help
        .find("Global options:")
        .unwrap_or_else(|| panic!("{help}"));
    assert!(
        own < global && help.find("--api-key").unwrap() > global,
        "{help}"
    );
    for flag in ["--api-key", "--base-url", "--json", "--verbose", "--query"] {
        let listed = help
            .lines()
            .map(|line| line.trim_start().trim_start_matches("-v, "))
            .filter(|line| line.starts_with(&format!("{flag} ")) || *line == flag)
            .count();
        assert_eq!(listed, 1, "{flag} listed {listed} times:\n{help}");
    }

    let heygen = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_heygen"))
            .args(args)
            .env_remove("HEYGEN_API_KEY")
            .env_remove("HEYGEN_BASE_URL")
            .output()
            .unwrap()
    };
    let help_of = |args: &[&str]| {
        let mut args = args.to_vec();
        args.push("--help");
        let output = heygen(&args);
        assert_eq!(code(&output), 0, "{output:?}");
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    // The default base URL is shown; a key from the environment does not make `--api-key`
    // look required in a usage line.
    assert!(help.contains("[default: https://api.heygen.com]"), "{help}");
    let missing = Command::new(env!("CARGO_BIN_EXE_heygen"))
        .args(["video", "get"])
        .env("HEYGEN_API_KEY", "sk_env")
        .env("HEYGEN_BASE_URL", "http://127.0.0.1:9")
        .output()
        .unwrap();
    assert_eq!(code(&missing), 2);
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(
        stderr.contains("\nUsage: heygen video get <VIDEO_ID>\n"),
        "{stderr}"
    );

    // `--timeout` only where something waits.
    assert!(!help.contains("--timeout"), "{help}");
    for waits in [
        &["video-agent", "create"][..],
        &["video-agent", "wait"],
        &["video-agent", "chat"],
        &["video", "create"],
        &["video", "wait"],
        &["batch", "run"],
    ] {
        assert!(help_of(waits).contains("--timeout <DURATION>"), "{waits:?}");
    }
    for waits_not in [
        &["video", "get"][..],
        &["video", "download"],
        &["asset", "upload"],
    ] {
        assert!(!help_of(waits_not).contains("--timeout"), "{waits_not:?}");
    }
    // `simulate` serves: none of the options of the commands that call HeyGen, and each one
    // given anyway says what to use instead.
    let simulate = help_of(&["simulate"]);
    for flag in ["--json", "--base-url", "--api-key"] {
        assert!(!simulate.contains(flag), "{flag}:\n{simulate}");
        let refused =
            heygen(&["simulate", "--port", "0", flag, "x"][..if flag == "--json" { 4 } else { 5 }]);
        assert_eq!(code(&refused), 2, "{flag}: {refused:?}");
        assert!(
            String::from_utf8_lossy(&refused.stderr)
                .contains("is for the commands that call HeyGen"),
            "{flag}: {refused:?}"
        );
    }

    // `--request-schema` needs none of the command's required arguments, and shows none of
    // the crate's own keys (`x-heygen-*`).
    let without_path = heygen(&["webhook", "update-endpoint", "--request-schema"]);
    assert_eq!(code(&without_path), 0, "{without_path:?}");
    assert!(String::from_utf8_lossy(&without_path.stdout).contains("\"events\""));
    assert!(help_of(&["webhook", "update-endpoint"])
        .contains("Usage: heygen webhook update-endpoint [OPTIONS] <ENDPOINT_ID>"));
    let schema = heygen(&["webhook", "create-endpoint", "--request-schema"]);
    assert_eq!(code(&schema), 0, "{schema:?}");
    let schema = String::from_utf8_lossy(&schema.stdout);
    assert!(
        schema.contains("\"properties\"") && !schema.contains("x-heygen"),
        "{schema}"
    );
    let verify = heygen(&["webhook", "verify", "--help"]);
    assert!(String::from_utf8_lossy(&verify.stdout).contains("Heygen-Signature"));

    let sim = Sim::start(fast());
    let negative = sim.heygen(&["asset", "list", "--username", "me", "--limit", "-5"]);
    assert_eq!(code(&negative), 2, "{negative:?}");
    let stderr = String::from_utf8_lossy(&negative.stderr);
    assert!(
        stderr.contains("`limit` must be between 1 and 100, got -5"),
        "{stderr}"
    );
    let missing = sim.heygen(&["asset", "list"]);
    assert_eq!(code(&missing), 2);
    assert!(String::from_utf8_lossy(&missing.stderr).contains("--username"));
}

/// A translation into two languages with `--download tour.mp4`: the files go beside it, named
/// by language (never a folder `tour.mp4/`), every line says which language, and the
/// download's progress off a terminal names its file.
#[test]
fn several_results_for_one_file_name_are_named_by_language_beside_it() {
    let sim = Sim::start(fast());
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("tour.mp4");
    let output = sim.heygen(&[
        "translation",
        "create",
        "--data",
        r#"{"video": {"type": "url", "url": "https://example.com/a.mp4"}, "output_languages": ["Spanish", "French"]}"#,
        "--download",
        target.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(code(&output), 0, "{stderr}");
    assert!(!target.exists(), "no folder named like a file");
    for language in ["spanish", "french"] {
        let file = dir.path().join(format!("tour-{language}.mp4"));
        assert!(std::fs::metadata(&file).unwrap().len() > 1000, "{stderr}");
        assert!(
            stderr.contains(&format!("tour-{language}.mp4: ")),
            "progress names the file: {stderr}"
        );
    }
    assert!(stderr.contains("(Spanish) to "), "{stderr}");
    assert!(stderr.contains("(French): completed"), "{stderr}");
    // The rows say which is which.
    assert!(stdout.contains("LANGUAGE"), "{stdout}");
    assert!(
        stdout.contains("Spanish") && stdout.contains("French"),
        "{stdout}"
    );
}

/// Commands of the families wait as the spec's `x-heygen-wait` says: `--wait` ends with each
/// job's record, `--download` saves what they made (a folder for several jobs), and the exit
/// code says how they ended.
#[test]
fn family_commands_wait_download_and_say_how_jobs_ended() {
    let sim = Sim::start(fast());
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("translated");
    let output = sim.heygen(&[
        "--json",
        "translation",
        "create",
        "--data",
        r#"{"video": {"type": "url", "url": "https://example.com/a.mp4"}, "output_languages": ["Spanish", "French"]}"#,
        "--download",
        folder.to_str().unwrap(),
    ]);
    let ended = json(&output);
    let ended = ended.as_array().expect("two jobs, two records");
    assert_eq!(ended.len(), 2);
    for record in ended {
        assert_eq!(record["status"], "completed");
        let path = record["download"]["path"].as_str().unwrap();
        // Each job's file in the folder, named after its job.
        assert_eq!(Path::new(path).parent(), Some(folder.as_path()), "{path}");
        assert!(path.contains(record["id"].as_str().unwrap()), "{path}");
        assert_eq!(
            std::fs::metadata(path).unwrap().len(),
            record["download"]["bytes"].as_u64().unwrap()
        );
    }

    // A failed job is exit 3 and says why.
    let output = sim.heygen(&[
        "lipsync",
        "create",
        "--data",
        r#"{"video": {"type": "url", "url": "https://example.com/a.mp4"}, "audio": {"type": "url", "url": "https://example.com/a.mp3"}, "title": "dub [fail:render]"}"#,
        "--wait",
    ]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(3), "{stdout}");
    assert!(stdout.contains("failure_message"), "{stdout}");

    // An avatar of a real person waits for consent: said, with the commands that go on.
    let output = sim.heygen(&[
        "avatar",
        "create",
        "--data",
        r#"{"type": "digital_twin", "name": "Me", "file": {"type": "url", "url": "https://example.com/me.mp4"}}"#,
        "--wait",
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    // Waiting for consent is no success a script may go on from: exit 3, with what to do.
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("needs input") && stderr.contains("heygen avatar consent"),
        "{stderr}"
    );

    // A wait on several ids answers with an array, one entry each, even when one is unknown;
    // the failed one says why on stderr.
    let created: Value = serde_json::from_slice(
        &sim.heygen(&[
            "--json",
            "lipsync",
            "create",
            "--data",
            r#"{"video": {"type": "url", "url": "https://example.com/a.mp4"}, "audio": {"type": "url", "url": "https://example.com/a.mp3"}, "title": "x [fail:render]"}"#,
        ])
        .stdout,
    )
    .unwrap();
    let failed_id = created["lipsync_id"].as_str().unwrap().to_string();
    let output = sim.heygen(&["--json", "lipsync", "wait", &failed_id, "ls_unknown"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let answer: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(answer.is_array(), "{answer}");
    assert!(
        !stderr.contains("still running"),
        "nothing timed out: {stderr}"
    );
    let output = sim.heygen(&["lipsync", "wait", &failed_id]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(": failed: "),
        "the reason is said: {stderr}"
    );

    // Speech is saved where --download says, as a playable WAV.
    let speech = dir.path().join("hello.wav");
    let output = sim.heygen(&[
        "voice",
        "speech",
        "--data",
        r#"{"text": "Hello there", "voice_id": "voice_paige"}"#,
        "--download",
        speech.to_str().unwrap(),
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(std::fs::read(&speech).unwrap().starts_with(b"RIFF"));
}

/// A wait that runs out says which command goes on (exit 4); `--file` uploads a local file
/// into the body, and a bad one is refused before anything is sent.
#[test]
fn family_waits_resume_and_files_upload() {
    let sim = Sim::start(fast().render_seconds(1e9));
    let output = sim.heygen(&[
        "--json",
        "lipsync",
        "create",
        "--data",
        r#"{"video": {"type": "url", "url": "https://example.com/a.mp4"}, "audio": {"type": "url", "url": "https://example.com/a.mp3"}}"#,
        "--wait",
        "--timeout",
        "300ms",
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(4), "{stderr}");
    let resume = stderr
        .lines()
        .find_map(|l| l.split("go on with: ").nth(1))
        .unwrap_or_else(|| panic!("no resume command: {stderr}"));
    let args: Vec<&str> = resume.split_whitespace().skip(1).collect();
    assert_eq!(&args[..2], ["lipsync", "wait"], "{resume}");
    // A script reads the job still running from stdout.
    let answer: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(answer["state"], "timed_out", "{answer}");
    let mut again = vec!["--json"];
    again.extend(&args);
    again.extend(["--timeout", "200ms"]);
    let output = sim.heygen(&again);
    assert_eq!(
        output.status.code(),
        Some(4),
        "the resumed wait runs: {}",
        String::from_utf8_lossy(&output.stderr)
    );

    let before = sim.sim().request_count();
    for (file, expected) in [
        ("nowhere=/tmp/x.mp4", "takes no file"),
        ("video=/definitely/missing.mp4", "cannot read"),
        ("video", "MEMBER=FILE"),
        ("video=asset:", "needs an asset id"),
    ] {
        let output = sim.heygen(&[
            "lipsync",
            "create",
            "--data",
            r#"{"audio": {"type": "url", "url": "https://example.com/a.mp3"}}"#,
            "--file",
            file,
        ]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{file}: {stderr}");
        assert!(
            stderr.contains(expected) && stderr.contains("nothing was sent"),
            "{stderr}"
        );
    }
    assert_eq!(sim.sim().request_count(), before, "nothing was sent");

    let dir = tempfile::tempdir().unwrap();
    let video = dir.path().join("talk.mp4");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("src/simulator/sample.mp4"),
        &video,
    )
    .unwrap();
    let created = json(&sim.heygen(&[
        "--json",
        "lipsync",
        "create",
        "--data",
        r#"{"audio": {"type": "url", "url": "https://example.com/a.mp3"}}"#,
        "--file",
        &format!("video={}", video.display()),
    ]));
    assert!(created["lipsync_id"].is_string(), "{created}");

    // Bad input found before anything goes up: a folder as a file, a pipe, and a request
    // whose other members do not hold (a proofread needs its title) are exit 2, with no
    // upload and no request.
    let fifo = dir.path().join("pipe");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let before = sim.sim().request_count();
    for (args, expected) in [
        (
            vec![
                "lipsync".to_string(),
                "create".into(),
                "--file".into(),
                format!("video={}", video.display()),
                "--file".into(),
                format!("audio={}", dir.path().display()),
            ],
            "is a folder, not a file",
        ),
        (
            vec![
                "lipsync".to_string(),
                "create".into(),
                "--file".into(),
                format!("video={}", video.display()),
                "--file".into(),
                format!("audio={}", fifo.display()),
            ],
            "is not a regular file",
        ),
        (
            vec![
                "translation".to_string(),
                "create-proofread".into(),
                "--data".into(),
                r#"{"output_languages": ["Spanish"]}"#.into(),
                "--file".into(),
                format!("video={}", video.display()),
            ],
            "`title` is required (nothing was uploaded or sent)",
        ),
    ] {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let output = sim.heygen(&args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{stderr}");
        assert!(!stderr.contains(" as asset "), "{stderr}");
    }
    assert_eq!(
        sim.sim().request_count(),
        before,
        "nothing uploaded, nothing sent"
    );

    // A URL and an asset take the same `--file` as a local path, on every command.
    let asset = json(&sim.heygen(&["--json", "asset", "upload", video.to_str().unwrap()]));
    let asset = asset["files"][0]["asset_id"].as_str().unwrap().to_string();
    let output = sim.heygen(&[
        "--json",
        "lipsync",
        "create",
        "--file",
        &format!("video=asset:{asset}"),
        "--file",
        "audio=https://example.com/a.mp3",
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(code(&output), 0, "{stderr}");
    assert!(json(&output)["lipsync_id"].is_string());
    assert!(!stderr.contains(" as asset "), "{stderr}");
}

/// Values the spec lists (`mode`) and limits it states (100 ids in all) are refused before
/// anything is sent, as other bad input is: exit 2, the member named.
#[test]
fn values_and_limits_the_spec_states_are_checked_before_sending() {
    let sim = Sim::start(fast());
    let before = sim.sim().request_count();
    let output = sim.heygen(&[
        "lipsync",
        "create",
        "--data",
        r#"{"video": {"type": "url", "url": "https://example.com/a.mp4"}, "audio": {"type": "url", "url": "https://example.com/a.mp3"}, "mode": "turbo"}"#,
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(code(&output), 2, "{stderr}");
    assert!(
        stderr.contains("`mode` is one of speed, precision, not \"turbo\""),
        "{stderr}"
    );
    let ids: Vec<String> = (0..101).map(|i| format!("vt_{i}")).collect();
    let output = sim.heygen(&[
        "translation",
        "statuses",
        "--video-translation-ids",
        &ids.join(","),
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(code(&output), 2, "{stderr}");
    assert!(
        stderr.contains("at most 100 ids in all, got 101"),
        "{stderr}"
    );
    // Ids one after another, as `video statuses` takes them, count the same.
    let mut args = vec!["translation", "statuses"];
    args.extend(ids.iter().map(String::as_str));
    let output = sim.heygen(&args);
    assert_eq!(code(&output), 2);
    assert_eq!(sim.sim().request_count(), before, "nothing was sent");

    let created = json(&sim.heygen(&[
        "--json",
        "translation",
        "create",
        "--data",
        r#"{"video": {"type": "url", "url": "https://example.com/a.mp4"}, "output_languages": ["Spanish", "French"]}"#,
    ]));
    let made: Vec<&str> = created["video_translation_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|id| id.as_str().unwrap())
        .collect();
    let listed = json(&sim.heygen(&["--json", "translation", "statuses", made[0], made[1]]));
    let flagged = json(&sim.heygen(&[
        "--json",
        "translation",
        "statuses",
        "--video-translation-ids",
        &made.join(","),
    ]));
    assert_eq!(listed["data"].as_array().unwrap().len(), 2, "{listed}");
    // The same jobs both ways (their statuses may move on between the two calls).
    let ids = |answer: &Value| -> Vec<String> {
        let items = answer["data"].as_array().unwrap();
        items
            .iter()
            .map(|item| item["video_id"].to_string())
            .collect()
    };
    assert_eq!(ids(&listed), ids(&flagged));
    assert_eq!(
        ids(&listed),
        made.iter().map(|id| format!("{id:?}")).collect::<Vec<_>>()
    );
    let shown = sim.heygen(&["translation", "statuses", made[0]]);
    let text = String::from_utf8_lossy(&shown.stdout);
    assert!(
        text.starts_with("VIDEO ID"),
        "the id that names something: {text}"
    );
}

/// `wait --json` prints a job's record as `get --json` does: what the server sent, its
/// `null` members included.
#[test]
fn a_waited_record_is_the_record_the_server_sent() {
    let sim = Sim::start(fast());
    let created = json(&sim.heygen(&[
        "--json",
        "lipsync",
        "create",
        "--data",
        r#"{"video": {"type": "url", "url": "https://example.com/a.mp4"}, "audio": {"type": "url", "url": "https://example.com/a.mp3"}}"#,
    ]));
    let id = created["lipsync_id"].as_str().unwrap();
    let waited = json(&sim.heygen(&["--json", "lipsync", "wait", id]));
    let got = json(&sim.heygen(&["--json", "lipsync", "get", id]));
    let nulls: Vec<&String> = got
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, v)| v.is_null())
        .map(|(k, _)| k)
        .collect();
    assert!(!nulls.is_empty(), "the record has null members: {got}");
    for key in nulls {
        assert!(
            waited.get(key).is_some_and(Value::is_null),
            "{key}: {waited}"
        );
    }
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&waited), keys(&got));
}

/// Messages that say what is wrong: a key that cannot be sent is not "no key", and an id of
/// 120,000 characters is refused as such, briefly, with nothing sent.
#[test]
fn a_bad_key_or_an_absurd_id_is_named_for_what_it_is() {
    let sim = Sim::start(fast());
    let key = "sim_key\r\nX-Injected: yes";
    let refused = sim.heygen_with_key(key, &["video", "list"]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(code(&refused), 2, "{stderr}");
    assert!(
        stderr.contains("not allowed in a header") && !stderr.contains("no API key"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("X-Injected"),
        "the key is not shown: {stderr}"
    );

    let before = sim.sim().request_count();
    let id = "a".repeat(120_000);
    let refused = sim.heygen(&["video", "get", &id]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(code(&refused), 2, "{}", &stderr[..stderr.len().min(300)]);
    assert!(
        stderr.contains("120000 bytes long"),
        "{}",
        &stderr[..stderr.len().min(300)]
    );
    assert!(
        stderr.len() < 300,
        "a short message, not the URL: {} bytes",
        stderr.len()
    );
    assert_eq!(sim.sim().request_count(), before, "nothing was sent");
}
