//! What each command does.

use std::future::IntoFuture as _;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use heygen_api::simulator::Simulator;
use heygen_api::webhook::{Verifier, WebhookEvent};
use heygen_api::{
    AgentMode, Client, CreateVideoAgentRequest, Error, FileInput, Orientation, VideoAsset,
    WaitOptions,
};
use heygen_api::{AgentRecord, JobKind, JobOutcome, VideoDetail};
use serde::Serialize;
use serde_json::{json, Value};

use crate::args::{
    AssetCommand, AuthCommand, BatchCommand, Cli, Command, CreateArgs, Deadline, Globals, ModeArg,
    OrientationArg, VideoAgentCommand, VideoCommand, WebhookCommand,
};
use crate::destination::Destination;
use crate::output::{self, Reporter};

type Outcome = Result<i32, Error>;

pub(crate) async fn run(cli: Cli) -> i32 {
    let Cli { globals, command } = cli;
    let out = Out { json: globals.json };
    match command {
        Command::Simulate {
            port,
            sim_api_key,
            time_scale,
            file_delay,
        } => {
            let simulator = Simulator::new()
                .port(port)
                .api_key(sim_api_key)
                .time_scale(time_scale)
                .file_delay(file_delay);
            return simulate(simulator).await;
        }
        Command::Mcp(options) => return crate::mcp::run(|| client(&globals), options).await,
        Command::Webhook(WebhookCommand::Verify {
            secret,
            headers,
            body_file,
        }) => return verify(&out, &secret, &headers, body_file.as_deref()),
        Command::Batch(BatchCommand::Status { journal, jobs }) => {
            return crate::batch::status(&journal, jobs.as_deref(), globals.json)
        }
        Command::Batch(BatchCommand::Compact { journal }) => {
            return crate::batch::compact(&journal, globals.json)
        }
        Command::Batch(BatchCommand::Salvage { journal }) => {
            return crate::batch::salvage(&journal, globals.json)
        }
        Command::Auth(AuthCommand::Login) => {
            use crate::auth::KeySource;
            let given = globals
                .api_key
                .as_deref()
                .filter(|_| globals.key_source == Some(KeySource::Flag));
            return crate::auth::login(
                globals.base_url.as_deref(),
                globals.json,
                globals.key_source,
                given,
            )
            .await;
        }
        Command::Auth(AuthCommand::Logout) => return crate::auth::logout(),
        Command::Auth(AuthCommand::Status) => {
            return crate::auth::status(globals.key_source, globals.json)
        }
        // Written by `main`, which holds the whole command tree.
        Command::Completions { .. } => return output::OK,
        _ => {}
    }
    let client = match client(&globals) {
        Ok(client) => client,
        Err(code) => return code,
    };
    if let Command::Asset(AssetCommand::Upload { paths }) = &command {
        if let Err(code) = readable_files("", paths) {
            return code;
        }
    }
    let result = match command {
        Command::Batch(BatchCommand::Run(args)) => {
            return crate::batch::run(client, &globals, args).await
        }
        Command::VideoAgent(command) => video_agent(&client, &out, command).await,
        Command::Video(command) => video(&client, &out, command).await,
        Command::Asset(AssetCommand::Upload { paths }) => upload(&client, &out, paths).await,
        Command::Webhook(WebhookCommand::Verify { .. })
        | Command::Auth(_)
        | Command::Completions { .. }
        | Command::Simulate { .. }
        | Command::Mcp(_)
        | Command::Batch(
            BatchCommand::Status { .. }
            | BatchCommand::Compact { .. }
            | BatchCommand::Salvage { .. },
        ) => Ok(output::OK),
    };
    result.unwrap_or_else(|error| output::error(&error))
}

/// The client for a command, or the exit code of why there is none.
pub(crate) fn client(globals: &Globals) -> Result<Client, i32> {
    let mut builder = Client::builder();
    // --api-key or HEYGEN_API_KEY, else the key `heygen auth login` stored.
    if let Some(key) = globals.api_key.clone().or_else(crate::auth::stored_key) {
        builder = builder.api_key(key);
    }
    if let Some(url) = &globals.base_url {
        builder = builder.base_url(url.clone());
    }
    builder
        .build()
        .map_err(|error| match error.invalid_request() {
            // None given, or only blanks.
            Some(invalid)
                if invalid.field == "api_key"
                    && (invalid.reason.starts_with("is missing")
                        || invalid.reason.contains("must not be empty")) =>
            {
                eprintln!(
                    "error: no API key: pass --api-key KEY, set {}, or run `heygen auth login`",
                    heygen_api::API_KEY_ENV
                );
                output::USAGE
            }
            // A key that cannot be sent as it is (a line break in it): said, never shown.
            Some(invalid) if invalid.field == "api_key" => {
                eprintln!("error: the API key {} (nothing was sent)", invalid.reason);
                output::USAGE
            }
            _ => output::error(&error),
        })
}

/// Chooses JSON or a summary.
struct Out {
    json: bool,
}

impl Out {
    fn show<T: Serialize>(&self, value: &T, summary: impl FnOnce() -> String) {
        if self.json {
            output::json(value);
        } else {
            output::line(&summary());
        }
    }
}

fn parse_file(spec: &str) -> Option<FileInput> {
    if spec.starts_with("http://") || spec.starts_with("https://") {
        Some(FileInput::url(spec))
    } else {
        spec.strip_prefix("asset:").map(FileInput::asset_id)
    }
}

/// The options of a wait that ends after `deadline`.
fn waiting(deadline: Deadline) -> WaitOptions {
    WaitOptions::new().deadline(deadline.timeout)
}

async fn video_agent(client: &Client, out: &Out, command: VideoAgentCommand) -> Outcome {
    let agents = client.video_agents();
    match command {
        VideoAgentCommand::Create(args) => {
            let wait = waiting(args.deadline);
            create(client, out, wait, *args).await
        }
        VideoAgentCommand::Chat {
            prompt,
            session,
            messages,
            download,
            deadline,
        } => {
            let wait = waiting(deadline);
            let download = match destination(download.as_deref()) {
                Ok(download) => download,
                Err(code) => return Ok(code),
            };
            let start = match (session, prompt) {
                (Some(session), _) => ChatStart::Resume(session),
                (None, prompt) => ChatStart::New(prompt.unwrap_or_default()),
            };
            chat(client, out, wait, start, messages, download.as_ref()).await
        }
        VideoAgentCommand::Wait {
            session_id,
            download,
            deadline,
        } => {
            wait_again(client, out, deadline, download.as_deref(), |options| {
                agents.wait(&session_id, options)
            })
            .await
        }
    }
}

/// How a chat begins: a new session from a prompt, or one started earlier.
enum ChatStart {
    New(String),
    Resume(String),
}

/// A chat-mode conversation: the agent's turns on stdout (stderr with --json), answers from
/// --message, the terminal, or standard input's lines. An empty line asks again; the end of
/// the input stops the chat (not a failure) and says how to go on with it.
async fn chat(
    client: &Client,
    out: &Out,
    wait: WaitOptions,
    start: ChatStart,
    messages: Vec<String>,
    download: Option<&Destination>,
) -> Outcome {
    use std::io::{BufRead as _, IsTerminal as _, Write as _};
    let say = |line: &str| {
        if out.json {
            eprintln!("{line}");
        } else {
            output::line(line);
        }
    };
    let mut conversation = match start {
        ChatStart::New(prompt) => {
            client
                .video_agents()
                .chat(CreateVideoAgentRequest::new(prompt))
                .await?
        }
        ChatStart::Resume(session_id) => client.video_agents().conversation(session_id),
    };
    say(&format!("session {}", conversation.session_id()));
    let mut scripted = messages.into_iter();
    let interactive = std::io::stdin().is_terminal();
    let mut stdin = std::io::stdin().lock().lines();
    loop {
        let turn = with_progress_turn(&mut conversation, wait.clone()).await?;
        match turn {
            heygen_api::chat::Turn::Paused {
                new_messages,
                resources,
                ..
            } => {
                for message in &new_messages {
                    say(&format!("agent: {}", message.content));
                }
                for resource in &resources {
                    say(&format!(
                        "  resource {} ({}){}",
                        resource.resource_id,
                        resource.resource_type,
                        resource
                            .url
                            .as_deref()
                            .map(|u| format!(" {u}"))
                            .unwrap_or_default()
                    ));
                }
                // The next answer that says something; an empty line asks again.
                let answer = loop {
                    let answer = match scripted.next() {
                        Some(answer) => Some(answer),
                        None => {
                            if interactive {
                                eprint!("you (`approve` to render)> ");
                                let _ = std::io::stderr().flush();
                            }
                            stdin.next().and_then(|line| line.ok())
                        }
                    };
                    match answer {
                        Some(answer) if answer.trim().is_empty() => continue,
                        other => break other,
                    }
                };
                let Some(answer) = answer else {
                    // The input ended (Ctrl-D): the chat stops here, nothing failed.
                    let id = conversation.session_id();
                    if interactive {
                        eprintln!();
                    }
                    eprintln!(
                        "chat stopped; session {id} waits for your answer. Go on with: heygen video-agent chat --session {id}"
                    );
                    if out.json {
                        output::json(&json!({"session_id": id, "status": "waiting_for_input"}));
                    }
                    return Ok(output::OK);
                };
                say(&format!("you: {answer}"));
                if answer.trim().eq_ignore_ascii_case("approve") {
                    conversation.approve().await?;
                } else {
                    conversation.reply(answer).await?;
                }
            }
            heygen_api::chat::Turn::Finished(outcome) => {
                return finish(client, out, outcome, download).await
            }
        }
    }
}

/// One turn of a conversation, with the wait's progress shown.
async fn with_progress_turn(
    conversation: &mut heygen_api::chat::Conversation,
    options: WaitOptions,
) -> Result<heygen_api::chat::Turn, Error> {
    let reporter = Arc::new(Reporter::new());
    let progress = Arc::clone(&reporter);
    let turn = conversation
        .next_turn(options.on_progress(move |event| progress.wait_event(event)))
        .await;
    reporter.finish();
    turn
}

async fn create(client: &Client, out: &Out, wait: WaitOptions, args: CreateArgs) -> Outcome {
    // Where the video goes is checked before anything is created.
    let download = match destination(args.download.as_deref()) {
        Ok(download) => download,
        Err(code) => return Ok(code),
    };
    let mut request = match &args.data {
        None => CreateVideoAgentRequest::new(args.prompt.clone().unwrap_or_default()),
        Some(data) => {
            let mut body = match crate::spec_commands::read_data(data) {
                Ok(body) => body,
                Err(problem) => {
                    eprintln!("error: --data: {problem} (nothing was sent)");
                    return Ok(output::USAGE);
                }
            };
            if let (Some(prompt), Some(object)) = (&args.prompt, body.as_object_mut()) {
                object.insert("prompt".into(), json!(prompt));
            }
            crate::spec_commands::note_unknown_fields("create_video_agent", &body);
            heygen_api::operations::decode::<CreateVideoAgentRequest>(body)?
        }
    };
    for (value, set) in [
        (
            args.avatar_id,
            CreateVideoAgentRequest::avatar_id as fn(_, String) -> _,
        ),
        (args.voice_id, CreateVideoAgentRequest::voice_id),
        (args.style_id, CreateVideoAgentRequest::style_id),
        (args.brand_kit_id, CreateVideoAgentRequest::brand_kit_id),
        (args.callback_url, CreateVideoAgentRequest::callback_url),
        (args.callback_id, CreateVideoAgentRequest::callback_id),
    ] {
        if let Some(value) = value {
            request = set(request, value);
        }
    }
    if let Some(orientation) = args.orientation {
        request = request.orientation(match orientation {
            OrientationArg::Landscape => Orientation::Landscape,
            OrientationArg::Portrait => Orientation::Portrait,
        });
    }
    if let Some(mode) = args.mode {
        request = request.mode(match mode {
            ModeArg::Generate => AgentMode::Generate,
            ModeArg::Chat => AgentMode::Chat,
        });
    }
    // Check everything that can be checked before uploading anything.
    request.validate().map_err(Error::InvalidRequest)?;
    let local = args.files.iter().filter(|spec| parse_file(spec).is_none());
    if let Err(code) = readable_files("--file", local) {
        return Ok(code);
    }
    for spec in &args.files {
        let input = match parse_file(spec) {
            Some(input) => input,
            None => client.assets().file_input(spec).await?,
        };
        request = request.file(input);
    }
    if args.wait || download.is_some() {
        let agents = client.video_agents();
        return wait_then_finish(
            client,
            out,
            |options| agents.create_and_wait(request, options),
            wait,
            download.as_ref(),
        )
        .await;
    }
    let session = client.video_agents().create(request).await?;
    out.show(&session, || {
        format!(
            "session {} created ({}); wait with: heygen video-agent wait {}",
            session.session_id, session.status, session.session_id
        )
    });
    Ok(output::OK)
}

/// `wait` on a job created earlier: the destination checked, then [`wait_then_finish`].
async fn wait_again<F, Fut>(
    client: &Client,
    out: &Out,
    deadline: Deadline,
    download: Option<&Path>,
    start: F,
) -> Outcome
where
    F: FnOnce(WaitOptions) -> Fut,
    Fut: std::future::Future<Output = Result<JobOutcome<AgentRecord>, Error>>,
{
    let download = match destination(download) {
        Ok(download) => download,
        Err(code) => return Ok(code),
    };
    wait_then_finish(client, out, start, waiting(deadline), download.as_ref()).await
}

/// Waits with progress shown, then prints the outcome and downloads the video when asked.
async fn wait_then_finish<F, Fut>(
    client: &Client,
    out: &Out,
    start: F,
    options: WaitOptions,
    download: Option<&Destination>,
) -> Outcome
where
    F: FnOnce(WaitOptions) -> Fut,
    Fut: std::future::Future<Output = Result<JobOutcome<AgentRecord>, Error>>,
{
    let outcome = with_progress(start, options, download).await?;
    finish(client, out, outcome, download).await
}

async fn with_progress<F, Fut>(
    start: F,
    options: WaitOptions,
    download: Option<&Destination>,
) -> Result<JobOutcome<AgentRecord>, Error>
where
    F: FnOnce(WaitOptions) -> Fut,
    Fut: std::future::Future<Output = Result<JobOutcome<AgentRecord>, Error>>,
{
    let mut interrupt = output::Interrupt::listen();
    let reporter = Arc::new(Reporter::new().downloading_to(download.map(Destination::given)));
    let progress = Arc::clone(&reporter);
    let wait = start(options.on_progress(move |event| progress.wait_event(event)));
    let outcome = tokio::select! {
        outcome = wait => outcome,
        _ = interrupt.heard() => {
            // Stopping the wait stops nothing on HeyGen: say how to take it up again.
            let said = match reporter.resume_command() {
                Some(command) => format!("stopped waiting; go on with: {command}"),
                None => "stopped before the job was created".to_string(),
            };
            output::exit_interrupted(reporter.is_live(), || reporter.finish(), &said)
        }
    };
    reporter.finish();
    outcome
}

/// Downloads a completed video's MP4 to `path`, with progress shown.
async fn save(
    client: &Client,
    video: &heygen_api::VideoDetail,
    path: &Path,
) -> Result<heygen_api::Download, Error> {
    let interrupt = output::Interrupt::listen();
    let shown = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let reporter = Arc::new(Reporter::for_transfer("starting the download", &shown));
    let progress = Arc::clone(&reporter);
    let download = client
        .videos()
        .download(video, VideoAsset::Video, path)
        .on_progress(move |p| progress.transfer(p));
    let file = output::interruptible(interrupt, &reporter, download.into_future(), || {
        format!(
            "stopped the download; nothing was saved to {}; download it with: heygen video download {} {}",
            path.display(),
            video.id,
            output::shell_path(path)
        )
    })
    .await;
    reporter.finish();
    file
}

/// `asset upload`: one file through the single upload, several through one upload batch;
/// either way one shape, `{"batch_id": .., "files": [..]}`, and one line per file.
async fn upload(client: &Client, out: &Out, paths: Vec<PathBuf>) -> Outcome {
    let interrupt = output::Interrupt::listen();
    let shown = match paths.as_slice() {
        [path] => path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        _ => format!("{} files", paths.len()),
    };
    let reporter = Arc::new(Reporter::for_transfer("reading the file", &shown));
    let progress = Arc::clone(&reporter);
    // An upload stopped before HeyGen confirmed it gives no asset to use: it starts over.
    let stopped = || {
        let files = match paths.as_slice() {
            [path] => path.display().to_string(),
            _ => format!("{} files", paths.len()),
        };
        format!("stopped the upload of {files} before it was completed; run the same command again to upload it")
    };
    let uploaded = match paths.as_slice() {
        [path] => {
            let upload = client
                .assets()
                .upload(path)
                .on_progress(move |p| progress.transfer(p));
            let asset =
                output::interruptible(interrupt, &reporter, upload.into_future(), stopped).await;
            reporter.finish();
            let asset = asset?;
            json!({
                "batch_id": null,
                "files": [{
                    "path": path,
                    "asset_id": asset.asset_id,
                    "content_type": asset.mime_type,
                    "size_bytes": asset.size_bytes,
                    "status": "completed",
                    "error": null,
                }],
            })
        }
        _ => {
            let upload = client
                .assets()
                .upload_many(&paths)
                .on_progress(move |p| progress.transfer(p));
            let batch =
                output::interruptible(interrupt, &reporter, upload.into_future(), stopped).await;
            reporter.finish();
            serde_json::to_value(batch?).unwrap_or_default()
        }
    };
    let files = uploaded["files"].as_array().cloned().unwrap_or_default();
    out.show(&uploaded, || {
        let lines: Vec<String> = files
            .iter()
            .map(|file| {
                let text = |key: &str| file[key].as_str().unwrap_or_default().to_string();
                let reason = file["error"]
                    .as_str()
                    .map(|e| format!(": {e}"))
                    .unwrap_or_default();
                format!(
                    "{} asset {} {} ({}, {}){reason}",
                    text("path"),
                    text("asset_id"),
                    text("status"),
                    text("content_type"),
                    output::size(file["size_bytes"].as_u64().unwrap_or(0))
                )
            })
            .collect();
        lines.join("\n")
    });
    let failed = files.iter().any(|file| file["status"] == "failed");
    Ok(if failed { output::FAILED } else { output::OK })
}

/// Local files named on the command line are there to read; one that is not is bad input,
/// refused before anything is sent.
fn readable_files<P: AsRef<Path>>(
    flag: &str,
    paths: impl IntoIterator<Item = P>,
) -> Result<(), i32> {
    for path in paths {
        let path = path.as_ref();
        let problem = match std::fs::metadata(path) {
            Ok(meta) if meta.is_dir() => "is a folder, not a file".to_string(),
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => "no such file".to_string(),
            Err(e) => format!("cannot be read: {e}"),
        };
        let flag = if flag.is_empty() {
            String::new()
        } else {
            format!("{flag} ")
        };
        eprintln!(
            "error: {flag}{}: {problem} (nothing was sent)",
            path.display()
        );
        return Err(output::USAGE);
    }
    Ok(())
}

/// Checks a `--download` destination before anything is created; a problem is bad input.
fn destination(path: Option<&Path>) -> Result<Option<Destination>, i32> {
    let Some(path) = path else { return Ok(None) };
    Destination::prepare(path).map(Some).map_err(|problem| {
        eprintln!(
            "error: --download {}: {problem} (nothing was sent)",
            path.display()
        );
        output::USAGE
    })
}

/// A video's outcome, as a session's would be once it has its video (the CLI prints both
/// alike).
fn as_agent(outcome: JobOutcome<VideoDetail>) -> JobOutcome<AgentRecord> {
    outcome.map(|video| AgentRecord::Video {
        session_id: None,
        video: Box::new(video),
    })
}

/// Prints a wait's outcome, downloads on success, and picks the exit code.
async fn finish(
    client: &Client,
    out: &Out,
    outcome: JobOutcome<AgentRecord>,
    download: Option<&Destination>,
) -> Outcome {
    match outcome {
        JobOutcome::Completed(AgentRecord::Video { video, .. }) => {
            // With --json the video as sent, plus where it was saved under `download`.
            let show = |saved: Option<(&Path, u64)>| {
                let mut value = serde_json::to_value(&*video).unwrap_or_default();
                if let (Some((path, bytes)), Some(object)) = (saved, value.as_object_mut()) {
                    object.insert("download".into(), json!({"path": path, "bytes": bytes}));
                }
                out.show(&value, || {
                    format!(
                        "video {} completed: {}",
                        video.id,
                        video.video_url.as_deref().unwrap_or("")
                    )
                })
            };
            if let Some(destination) = download {
                let path = destination.file(&video.id);
                match save(client, &video, &path).await {
                    Ok(file) => {
                        if !out.json {
                            eprintln!("saved {} ({})", path.display(), output::size(file.bytes));
                        }
                        show(Some((&path, file.bytes)));
                        return Ok(output::OK);
                    }
                    Err(error) => {
                        // The video is made and paid for: say how to fetch it again.
                        show(None);
                        let code = output::error(&error);
                        eprintln!(
                            "  the video {id} is ready; fetch it again with: heygen video download {id} {}",
                            destination.given().display(),
                            id = video.id
                        );
                        return Ok(code);
                    }
                }
            }
            show(None);
            Ok(output::OK)
        }
        JobOutcome::TimedOut(timed_out) => {
            // A session's wait is known by the session, then by its video once it has one.
            let (session_id, video_id) = match timed_out.kind {
                JobKind::VideoAgent => (Some(timed_out.id.clone()), timed_out.reached.clone()),
                _ => (None, Some(timed_out.id.clone())),
            };
            if out.json {
                output::json(&json!({
                    "status": "timed_out",
                    "session_id": session_id,
                    "video_id": video_id,
                    "last_status": timed_out.last_status,
                    "elapsed_seconds": timed_out.elapsed.as_secs_f64(),
                    "polls": timed_out.polls,
                }));
            }
            let resume = output::resume_command(
                session_id.as_deref(),
                video_id.as_deref(),
                download.map(Destination::given),
            );
            eprintln!("error: {}", JobOutcome::<AgentRecord>::TimedOut(timed_out));
            if let Some(command) = resume {
                eprintln!("  the job goes on at HeyGen; go on waiting with: {command}");
            }
            Ok(output::TIMED_OUT)
        }
        other => {
            if out.json {
                match other.video() {
                    Some(video) => output::json(video),
                    None => output::json(&json!({
                        "status": "failed",
                        "reason": other.to_string(),
                        "messages": other.messages(),
                    })),
                }
            }
            eprintln!("error: {other}");
            Ok(output::FAILED)
        }
    }
}

async fn video(client: &Client, out: &Out, command: VideoCommand) -> Outcome {
    let videos = client.videos();
    match command {
        VideoCommand::Create {
            data,
            request_schema,
            wait: wait_for_it,
            download,
            deadline,
        } => {
            let wait = waiting(deadline);
            if request_schema {
                let schema = heygen_api::contract::Spec::get()
                    .ok()
                    .and_then(|s| s.request_schema("create_video"));
                output::json(&schema);
                return Ok(output::OK);
            }
            let download = match destination(download.as_deref()) {
                Ok(download) => download,
                Err(code) => return Ok(code),
            };
            let text = data.unwrap_or_default();
            let body = match crate::spec_commands::read_data(&text) {
                Ok(body) => body,
                Err(problem) => {
                    eprintln!("error: --data: {problem} (nothing was sent)");
                    return Ok(output::USAGE);
                }
            };
            crate::spec_commands::note_unknown_fields("create_video", &body);
            let request: heygen_api::CreateVideoRequest = heygen_api::operations::decode(body)?;
            if wait_for_it || download.is_some() {
                return wait_then_finish(
                    client,
                    out,
                    |options| async move {
                        Ok(as_agent(videos.create_and_wait(request, options).await?))
                    },
                    wait,
                    download.as_ref(),
                )
                .await;
            }
            let created = videos.create(request).await?;
            out.show(&created, || {
                format!(
                    "video {} created ({}); wait with: heygen video wait {}",
                    created.video_id, created.status, created.video_id
                )
            });
            Ok(output::OK)
        }
        VideoCommand::Statuses { video_ids } => {
            let statuses = videos.statuses(video_ids).await?;
            let value = serde_json::to_value(&statuses).unwrap_or_default();
            if out.json {
                output::json(&value);
            } else {
                // A table of the videos found, then the ids HeyGen does not know.
                output::line(crate::human::render(&value["items"]).trim_end());
                if let Some(missing) = value["not_found"].as_array().filter(|m| !m.is_empty()) {
                    let ids: Vec<&str> = missing.iter().filter_map(Value::as_str).collect();
                    output::line(&format!("not found: {}", ids.join(", ")));
                }
            }
            Ok(output::OK)
        }
        VideoCommand::Wait {
            video_id,
            download,
            deadline,
        } => {
            wait_again(
                client,
                out,
                deadline,
                download.as_deref(),
                |options| async move { Ok(as_agent(videos.wait(&video_id, options).await?)) },
            )
            .await
        }
        VideoCommand::Download { video_id, path } => {
            let destination = match destination(Some(&path)) {
                Ok(Some(destination)) => destination,
                Ok(None) | Err(_) => return Ok(output::USAGE),
            };
            let path = destination.file(&video_id);
            let video = videos.get(&video_id).await?;
            // Only a completed video has a file: say what it is instead, and how to go on.
            match video.status.as_str() {
                "completed" => {}
                "failed" => {
                    eprintln!(
                        "error: video {video_id} failed; it has no file to download{}",
                        video
                            .failure_message
                            .as_deref()
                            .map(|m| format!(" ({m})"))
                            .unwrap_or_default()
                    );
                    return Ok(output::FAILED);
                }
                status => {
                    eprintln!(
                        "error: video {video_id} is not ready ({status}); wait and download with: {}",
                        output::resume_command(None, Some(&video_id), Some(destination.given()))
                            .unwrap_or_default()
                    );
                    return Ok(output::USAGE);
                }
            }
            let file = save(client, &video, &path).await?;
            out.show(
                &json!({"video_id": video.id, "path": path, "bytes": file.bytes}),
                || format!("saved {} ({})", path.display(), output::size(file.bytes)),
            );
            Ok(output::OK)
        }
    }
}

fn verify(out: &Out, secret: &str, header_args: &[String], body_file: Option<&Path>) -> i32 {
    let mut headers = Vec::new();
    for arg in header_args {
        let Some((name, value)) = arg.split_once(':') else {
            eprintln!("error: --header {arg:?} is not `Name: value`");
            return output::USAGE;
        };
        headers.push((name.trim().to_string(), value.trim().to_string()));
    }
    let mut body = Vec::new();
    let read = match body_file {
        Some(path) => std::fs::read(path).map(|bytes| body = bytes),
        None => std::io::stdin().read_to_end(&mut body).map(drop),
    };
    if let Err(error) = read {
        eprintln!("error: cannot read the body: {error}");
        return output::USAGE;
    }
    match Verifier::new(secret).verify(&headers, &body) {
        Ok(delivery) => {
            let event = event_json(&delivery.event);
            let value = json!({
                "event_id": delivery.event_id,
                "timestamp": delivery.timestamp,
                "event": event,
            });
            out.show(&value, || {
                format!(
                    "verified {} (event id {})",
                    delivery.event.event_type(),
                    delivery.event_id.as_deref().unwrap_or("-")
                )
            });
            output::OK
        }
        Err(error) => {
            eprintln!("error: {error}");
            output::UNVERIFIED
        }
    }
}

fn event_json(event: &WebhookEvent) -> Value {
    match event.payload() {
        Some(p) => json!({
            "event_type": p.event_type,
            "session_id": p.session_id(),
            "video_id": p.video_id(),
            "url": p.url(),
            "callback_id": p.callback_id(),
            "failure_code": p.failure_code(),
            "failure_message": p.failure_message(),
            "event_data": p.data,
        }),
        None => match event {
            WebhookEvent::Unknown { event_type, raw } => {
                json!({"event_type": event_type, "raw": raw})
            }
            _ => json!({"event_type": event.event_type()}),
        },
    }
}

async fn simulate(simulator: Simulator) -> i32 {
    let started = simulator.start().await;
    let simulator = match started {
        Ok(simulator) => simulator,
        Err(error) => return output::error(&error),
    };
    output::line(&format!("HEYGEN_BASE_URL={}", simulator.base_url()));
    output::line(&format!("HEYGEN_API_KEY={}", simulator.api_key()));
    eprintln!("HeyGen simulator running; press Ctrl-C to stop.");
    let _ = tokio::signal::ctrl_c().await;
    simulator.shutdown().await;
    output::OK
}
