//! `heygen mcp`: the API as tools for AI assistants, over the Model Context Protocol on
//! stdin and stdout (the `rmcp` SDK's stdio server).
//!
//! - Every operation of the spec can be a tool, named by its `operationId`, its input one
//!   object of its path and query parameters and its body's members (the spec's schemas),
//!   its annotations from its method. By default the core operations that read, and those
//!   that start a job, are served; `--families` adds families, `--all-operations` all.
//! - A create that starts jobs takes `wait` (and `timeout_seconds`): it then waits for them,
//!   with progress notifications, through the library's one poller.
//! - `wait_for_jobs`, `download_results` and `upload_file` are the job tools. Files are read
//!   and written only under the allowed folders.
//! - Arguments are checked as `--data` is (members, types through the typed request, enum
//!   values): a refusal is a tool error the model can act on, and nothing is sent.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt as _;
use heygen_api::contract::Spec;
use heygen_api::operations::{self, Invocation, OperationInfo};
use heygen_api::{Client, JobKind, JobOutcome, WaitOptions};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    JsonObject, ListToolsResult, PaginatedRequestParams, ProgressNotificationParam,
    ServerCapabilities, ServerConfig, Tool, ToolAnnotations,
};
use rmcp::service::{RequestContext, RoleServer};
use rmcp::{ErrorData as McpError, ServerHandler, ServiceExt as _};
use serde_json::{json, Map, Value};

use crate::args::McpArgs;
use crate::jobs::Waiting;
use crate::output;

/// The longest a wait may be asked to last.
const MOST_WAIT: Duration = Duration::from_secs(6 * 60 * 60);
/// A wait's deadline when the call names none.
const DEFAULT_WAIT: Duration = Duration::from_secs(20 * 60);

const WAIT_FOR_JOBS: &str = "wait_for_jobs";
const DOWNLOAD_RESULTS: &str = "download_results";
const UPLOAD_FILE: &str = "upload_file";
const BATCH_RUN: &str = "batch_run";
const BATCH_STATUS: &str = "batch_status";
/// The most jobs one `batch_run` call takes (a longer campaign belongs in `heygen batch run`).
const MOST_BATCH_JOBS: usize = 1_000;

/// Runs `heygen mcp` until its client closes standard input; `make_client` makes the client of
/// every command (its key and base URL), called unless the server runs against the simulator.
pub(crate) async fn run(make_client: impl FnOnce() -> Result<Client, i32>, args: McpArgs) -> i32 {
    let folders = match Folders::new(&args.allow_dirs) {
        Ok(folders) => folders,
        Err(problem) => {
            eprintln!("error: --allow-dir: {problem}");
            return output::USAGE;
        }
    };
    let families: BTreeSet<String> = args.families.iter().map(|f| f.trim().into()).collect();
    let known = known_families();
    if let Some(unknown) = families.iter().find(|f| !known.contains(f.as_str())) {
        let known: Vec<&str> = known.iter().copied().collect();
        eprintln!(
            "error: --families: no family `{unknown}`; the families are {}",
            known.join(", ")
        );
        return output::USAGE;
    }
    let scope = if args.all_operations {
        Scope::All
    } else {
        Scope::Core(families)
    };
    let tools = Tools::new(&scope, args.read_only);
    if args.list_tools {
        output::json(&json!({ "tools": tools.list }));
        return output::OK;
    }
    // The simulator, when asked for, lives as long as the server.
    let mut simulator = None;
    let client = if args.simulate {
        match heygen_api::simulator::Simulator::new()
            .port(0)
            .time_scale(args.time_scale)
            .start()
            .await
        {
            Ok(running) => {
                let client = running.client();
                simulator = Some(running);
                client
            }
            Err(error) => return output::error(&error),
        }
    } else {
        match make_client() {
            Ok(client) => Ok(client),
            Err(code) => return code,
        }
    };
    let client = match client {
        Ok(client) => client,
        Err(error) => return output::error(&error),
    };
    let server = Server {
        client,
        tools: Arc::new(tools),
        folders: Arc::new(folders),
    };
    if std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        // A person at a terminal, not an assistant: say what this is waiting for.
        eprintln!(
            "heygen mcp: serving the Model Context Protocol on standard input and output, for an \
             assistant to start as a command (see the README); Ctrl-D or Ctrl-C ends it"
        );
    }
    let (transport, pumps) = guarded_stdio();
    let code = match server.serve(transport).await {
        Ok(running) => match running.waiting().await {
            Ok(_) => output::OK,
            Err(error) => {
                eprintln!("error: the MCP session ended: {error}");
                output::API_ERROR
            }
        },
        // Standard input ended before any client spoke: nothing went wrong.
        Err(rmcp::service::ServerInitializeError::ConnectionClosed(_)) => {
            eprintln!(
                "heygen mcp: standard input closed before a client began; nothing was served"
            );
            output::OK
        }
        Err(error) => {
            eprintln!("error: the MCP session could not start: {error}");
            output::API_ERROR
        }
    };
    // What the server said last reaches standard output before the process ends.
    let _ = pumps.await;
    if let Some(simulator) = simulator {
        simulator.shutdown().await;
    }
    code
}

/// The longest message read from standard input: a longer line is dropped and answered with
/// a JSON-RPC parse error, and the server reads on. (It bounds the memory a client can make
/// the server hold; an inline file of a few MB fits well within it.)
const MOST_LINE_BYTES: usize = 16 * 1024 * 1024;

/// The protocol's standard input and output, between the process's and the server's: lines
/// from standard input pass through unless longer than [`MOST_LINE_BYTES`] or not JSON, each
/// answered with a parse error instead (the SDK would drop them without a word), and the
/// server's lines,
/// with those errors between them, go to standard output whole. Returns the server's side
/// of both and the task that carries them, done once both ends have closed.
fn guarded_stdio() -> (
    (tokio::io::DuplexStream, tokio::io::DuplexStream),
    tokio::task::JoinHandle<()>,
) {
    use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _};
    let (server_in, mut feeder) = tokio::io::duplex(64 * 1024);
    let (server_out, drain) = tokio::io::duplex(64 * 1024);
    let (errors, mut refused) = tokio::sync::mpsc::unbounded_channel::<String>();
    let reader = tokio::spawn(async move {
        let mut stdin = tokio::io::BufReader::new(tokio::io::stdin());
        let mut line = Vec::new();
        loop {
            line.clear();
            match read_line_bounded(&mut stdin, &mut line, MOST_LINE_BYTES).await {
                Ok(LineRead::Line) => {
                    let text = line.trim_ascii();
                    if text.is_empty() {
                        continue;
                    }
                    if let Err(problem) = serde_json::from_slice::<serde::de::IgnoredAny>(text) {
                        let _ = errors.send(parse_error(&format!("not JSON ({problem})")));
                        continue;
                    }
                    if feeder.write_all(&line).await.is_err() {
                        break;
                    }
                }
                Ok(LineRead::TooLong) => {
                    let _ = errors.send(parse_error(&format!(
                        "the message is longer than {} MiB; it was dropped",
                        MOST_LINE_BYTES / (1024 * 1024)
                    )));
                }
                Ok(LineRead::End) | Err(_) => break,
            }
        }
        let _ = feeder.shutdown().await;
    });
    let writer = tokio::spawn(async move {
        let mut stdout = tokio::io::stdout();
        let mut lines = tokio::io::BufReader::new(drain).lines();
        loop {
            let line = tokio::select! {
                line = lines.next_line() => match line {
                    Ok(Some(line)) => line,
                    _ => break,
                },
                Some(error) = refused.recv() => error,
            };
            let written = stdout.write_all(format!("{line}\n").as_bytes()).await;
            if written.is_err() || stdout.flush().await.is_err() {
                break;
            }
        }
    });
    let pumps = tokio::spawn(async move {
        let _ = writer.await;
        reader.abort();
    });
    ((server_in, server_out), pumps)
}

/// A JSON-RPC parse error (its request's id cannot be known), as a line of output.
fn parse_error(why: &str) -> String {
    json!({"jsonrpc": "2.0", "error": {"code": -32700, "message": format!("Parse error: {why}")}})
        .to_string()
}

/// How reading one line ended.
enum LineRead {
    /// A line, its newline included (the last line of the input may have none).
    Line,
    /// A line longer than the bound: read to its end and dropped.
    TooLong,
    /// The end of the input.
    End,
}

/// Reads one line into `line`, holding no more than `most` bytes of it.
async fn read_line_bounded<R: tokio::io::AsyncBufRead + Unpin>(
    reader: &mut R,
    line: &mut Vec<u8>,
    most: usize,
) -> std::io::Result<LineRead> {
    use tokio::io::AsyncBufReadExt as _;
    let mut too_long = false;
    loop {
        let buffer = reader.fill_buf().await?;
        if buffer.is_empty() {
            return Ok(match (too_long, line.is_empty()) {
                (true, _) => LineRead::TooLong,
                (false, true) => LineRead::End,
                (false, false) => LineRead::Line,
            });
        }
        let end = buffer.iter().position(|b| *b == b'\n');
        let taken = end.map_or(buffer.len(), |at| at + 1);
        if !too_long {
            if line.len() + taken > most {
                too_long = true;
                line.clear();
            } else {
                line.extend_from_slice(&buffer[..taken]);
            }
        }
        reader.consume(taken);
        if end.is_some() {
            return Ok(if too_long {
                LineRead::TooLong
            } else {
                LineRead::Line
            });
        }
    }
}

/// Which operations are served.
enum Scope {
    /// The core operations that read or start jobs, and every operation of these families.
    Core(BTreeSet<String>),
    /// Every operation.
    All,
}

/// The families the spec names (`x-heygen-family`).
fn known_families() -> BTreeSet<&'static str> {
    operations::all()
        .iter()
        .filter_map(|op| family(op.id))
        .collect()
}

/// The family of an operation, if it has one: its own `x-heygen-family`, else its first
/// tag's (as the build reads it).
fn family(operation_id: &str) -> Option<&'static str> {
    let spec = Spec::get().ok()?;
    let op = spec.operation(operation_id)?;
    if let Some(family) = op.extensions.get("x-heygen-family") {
        return family.as_str();
    }
    let tag = op.tags.first()?;
    spec.document()
        .tags
        .iter()
        .find(|t| &t.name == tag)?
        .extensions
        .get("x-heygen-family")?
        .as_str()
}

/// What a tool does.
enum Action {
    Operation(Box<OperationTool>),
    WaitForJobs,
    DownloadResults,
    UploadFile,
    BatchRun,
    BatchStatus,
}

/// An operation served as a tool.
struct OperationTool {
    op: &'static OperationInfo,
    /// Body members given at the top level of the arguments; `None` when the body is given
    /// whole, as `body` (it is not an object, or a member shares a parameter's name).
    members: Option<BTreeSet<String>>,
    /// The body's schema, for the enum check.
    body_schema: Option<Value>,
    /// The jobs the operation starts, when it starts some.
    waiting: Option<(JobKind, Waiting)>,
}

/// The tools served, and what each does.
struct Tools {
    list: Vec<Tool>,
    actions: BTreeMap<String, Action>,
}

impl Tools {
    fn new(scope: &Scope, read_only: bool) -> Self {
        let mut tools = Tools {
            list: Vec::new(),
            actions: BTreeMap::new(),
        };
        let spec = Spec::get().ok();
        for op in operations::all().iter().filter(|op| op.invocable()) {
            let reads = op.method == "get";
            if read_only && !reads {
                continue;
            }
            let waiting = Waiting::of(op.id)
                .filter(Waiting::waits)
                .and_then(|w| Some((w.kind()?, w)));
            let served = match scope {
                Scope::All => true,
                Scope::Core(families) => match family(op.id) {
                    Some(family) => families.contains(family),
                    None => reads || waiting.is_some(),
                },
            };
            if !served {
                continue;
            }
            let (schema, members, body_schema) = input_schema(op, spec, waiting.is_some());
            let tool = Tool::new(
                op.id,
                describe(op, spec, waiting.as_ref()),
                Arc::new(schema),
            )
            .with_annotations(annotations(op));
            tools.list.push(tool);
            tools.actions.insert(
                op.id.to_string(),
                Action::Operation(Box::new(OperationTool {
                    op,
                    members,
                    body_schema,
                    waiting,
                })),
            );
        }
        let kinds: Vec<&str> = JobKind::ALL.iter().map(|k| k.as_str()).collect();
        tools.add(
            WAIT_FOR_JOBS,
            "Waits for jobs HeyGen is making (videos, sessions, translations, ...) until each \
             ends or the timeout passes, reporting progress, and returns each job's record \
             (with its result URLs) or its last status. Stopping the call leaves the jobs \
             running at HeyGen; call it again to go on waiting.",
            json!({
                "type": "object",
                "properties": {
                    "kind": {"type": "string", "enum": kinds, "description": "The kind of job."},
                    "ids": {"type": "array", "items": {"type": "string"}, "minItems": 1,
                            "description": "The jobs' ids, as their create answered."},
                    "timeout_seconds": timeout_schema(),
                },
                "required": ["kind", "ids"],
            }),
            ToolAnnotations::new()
                .read_only(true)
                .idempotent(true)
                .open_world(true),
            Action::WaitForJobs,
        );
        tools.add(
            BATCH_STATUS,
            "Reads a batch run's journal (a file under a folder this server may read) and \
             says how many jobs are in each state and why each failed one failed.",
            json!({
                "type": "object",
                "properties": {
                    "journal": {"type": "string", "description": "The journal file."},
                },
                "required": ["journal"],
            }),
            ToolAnnotations::new()
                .read_only(true)
                .idempotent(true)
                .open_world(false),
            Action::BatchStatus,
        );
        if !read_only {
            tools.add(
                BATCH_RUN,
                "Makes many jobs at once (videos, sessions, translations, ...) and waits for \
                 them, reporting each one's end, with a journal that makes the run safe to \
                 repeat: a job the journal knows is never made twice, so calling this again \
                 with the same journal after a stop or a crash takes up where it left off. \
                 Each job is one object as a line of a jobs file: `{\"prompt\": ...}` for a \
                 Video Agent session, `{\"type\": \"avatar\", ...}` for a video, or \
                 `{\"kind\": \"video_translation\", ...}` with its create's members; an optional \
                 `key` names it.",
                json!({
                    "type": "object",
                    "properties": {
                        "jobs": {"type": "array", "items": {"type": "object"}, "maxItems": MOST_BATCH_JOBS,
                                 "description": "The jobs, each as a line of a jobs file (not with `file`)."},
                        "file": {"type": "string", "description": "A jobs file, one JSON object a line, under a folder this server may read (not with `jobs`)."},
                        "journal": {"type": "string", "description": "The journal file, under a folder this server may write to; the same journal resumes the run."},
                        "download_folder": {"type": "string", "description": "Save each finished job's files here, under a folder this server may write to."},
                        "retry_failed": {"type": "boolean", "description": "Make again the jobs the journal says failed."},
                        "timeout_seconds": timeout_schema(),
                    },
                    "required": ["journal"],
                }),
                ToolAnnotations::new()
                    .read_only(false)
                    .destructive(false)
                    .idempotent(true)
                    .open_world(true),
                Action::BatchRun,
            );
            tools.add(
                DOWNLOAD_RESULTS,
                "Saves the files a finished job made (a video, every clip, every layer) into \
                 a folder this server may write to, and returns their paths. An existing \
                 file is left alone unless `overwrite` is true.",
                json!({
                    "type": "object",
                    "properties": {
                        "kind": {"type": "string", "enum": kinds, "description": "The kind of job."},
                        "id": {"type": "string", "description": "The job's id."},
                        "folder": {"type": "string", "description": "Where to save the files: a folder under one this server may write to (relative paths start at the first). The first allowed folder when left out."},
                        "overwrite": {"type": "boolean", "description": "Replace files that are already there."},
                    },
                    "required": ["kind", "id"],
                }),
                ToolAnnotations::new()
                    .read_only(false)
                    .destructive(false)
                    .idempotent(true)
                    .open_world(true),
                Action::DownloadResults,
            );
            tools.add(
                UPLOAD_FILE,
                "Uploads a local file (an image, a video, an audio file) from a folder this \
                 server may read, as a HeyGen asset, and returns its id and the way to name \
                 it in a request: {\"type\": \"asset_id\", \"asset_id\": ...}.",
                json!({
                    "type": "object",
                    "properties": {
                        "path": {"type": "string", "description": "The file, under a folder this server may read (relative paths start at the first)."},
                    },
                    "required": ["path"],
                }),
                ToolAnnotations::new()
                    .read_only(false)
                    .destructive(false)
                    .idempotent(false)
                    .open_world(true),
                Action::UploadFile,
            );
        }
        tools
    }

    fn add(
        &mut self,
        name: &'static str,
        description: &'static str,
        schema: Value,
        annotations: ToolAnnotations,
        action: Action,
    ) {
        let schema = match schema {
            Value::Object(members) => members,
            _ => JsonObject::new(),
        };
        self.list
            .push(Tool::new(name, description, Arc::new(schema)).with_annotations(annotations));
        self.actions.insert(name.to_string(), action);
    }
}

fn timeout_schema() -> Value {
    json!({
        "type": "integer", "minimum": 0, "maximum": MOST_WAIT.as_secs(),
        "description": format!("How long to wait, in seconds ({} when left out); the jobs go on at HeyGen after it.", DEFAULT_WAIT.as_secs()),
    })
}

/// The tool's description: the operation's summary and description from the spec (our
/// words), its method and path.
fn describe(
    op: &OperationInfo,
    spec: Option<&Spec>,
    waiting: Option<&(JobKind, Waiting)>,
) -> String {
    let mut text = op.summary.trim_end_matches('.').to_string();
    text.push('.');
    if let Some(description) = spec
        .and_then(|s| s.operation(op.id))
        .and_then(|o| o.description.as_deref())
    {
        // The first paragraph: enough to choose the tool, short enough for every turn.
        if let Some(first) = description.split("\n\n").next() {
            text.push(' ');
            text.push_str(first.trim());
        }
    }
    if let Some((kind, _)) = waiting {
        text.push_str(&format!(
            " Starts {} jobs; `wait: true` waits for them and returns their records.",
            kind.name()
        ));
    }
    text.push_str(&format!(" ({} {})", op.method.to_uppercase(), op.path));
    text
}

fn annotations(op: &OperationInfo) -> ToolAnnotations {
    let (read_only, destructive, idempotent) = match op.method {
        "get" => (true, false, true),
        "delete" => (false, true, true),
        "put" | "patch" => (false, false, true),
        _ => (false, false, false),
    };
    ToolAnnotations::new()
        .read_only(read_only)
        .destructive(destructive)
        .idempotent(idempotent)
        .open_world(true)
}

/// The tool's input schema: path and query parameters and the body's members in one object
/// (the body whole, as `body`, when that cannot be), and `wait`/`timeout_seconds` for a
/// create that starts jobs. Also returns the members given at the top level and the body's
/// schema.
fn input_schema(
    op: &OperationInfo,
    spec: Option<&Spec>,
    waits: bool,
) -> (JsonObject, Option<BTreeSet<String>>, Option<Value>) {
    let mut properties = Map::new();
    let mut required = Vec::new();
    let parameter = |name: &str| {
        spec.and_then(|s| s.parameter_schema(op.id, name))
            .unwrap_or_else(|| json!({"type": "string"}))
    };
    for name in op.path_params {
        properties.insert(name.to_string(), parameter(name));
        required.push(Value::String(name.to_string()));
    }
    for name in op.query_params {
        properties.insert(name.to_string(), parameter(name));
        let needed = spec
            .map(|s| s.parameters(op.id))
            .into_iter()
            .flatten()
            .any(|(_, data)| data.name == *name && data.required);
        if needed {
            required.push(Value::String(name.to_string()));
        }
    }
    let body_schema = spec
        .and_then(|s| s.request_schema(op.id))
        .filter(|_| op.has_body);
    let mut members = None;
    if let Some(body) = &body_schema {
        let named = body.get("properties").and_then(Value::as_object);
        let clash = named.is_some_and(|n| n.keys().any(|k| properties.contains_key(k)));
        match named {
            Some(named) if !clash && body.get("oneOf").is_none() => {
                for (name, schema) in named {
                    properties.insert(name.clone(), schema.clone());
                }
                for name in body
                    .get("required")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    required.push(name.clone());
                }
                members = Some(named.keys().cloned().collect());
            }
            _ => {
                properties.insert("body".into(), body.clone());
                required.push(Value::String("body".into()));
            }
        }
    }
    if waits {
        properties.insert(
            "wait".into(),
            json!({"type": "boolean", "description": "Wait for the jobs it starts to end (progress is reported) and return their records."}),
        );
        properties.insert("timeout_seconds".into(), timeout_schema());
    }
    let mut schema = JsonObject::new();
    schema.insert("type".into(), json!("object"));
    schema.insert("properties".into(), Value::Object(properties));
    if !required.is_empty() {
        schema.insert("required".into(), Value::Array(required));
    }
    (schema, members, body_schema)
}

/// The folders files may be read from and written to, as the system names them (links
/// followed).
struct Folders(Vec<PathBuf>);

impl Folders {
    fn new(given: &[PathBuf]) -> Result<Self, String> {
        let given = if given.is_empty() {
            vec![PathBuf::from(".")]
        } else {
            given.to_vec()
        };
        let mut folders = Vec::new();
        for folder in given {
            let real =
                std::fs::canonicalize(&folder).map_err(|e| format!("{}: {e}", folder.display()))?;
            if !real.is_dir() {
                return Err(format!("{} is not a folder", folder.display()));
            }
            folders.push(real);
        }
        Ok(Folders(folders))
    }

    /// `path` as the system names it, if it is under an allowed folder: relative paths start
    /// at the first. A path that does not exist yet is resolved through its nearest existing
    /// parent; `..` is refused outright.
    fn resolve(&self, path: &str) -> Result<PathBuf, String> {
        let given = Path::new(path);
        if given.components().any(|c| c == Component::ParentDir) {
            return Err(format!(
                "{path}: `..` is not allowed; name the path from an allowed folder"
            ));
        }
        let full = if given.is_absolute() {
            given.to_path_buf()
        } else {
            self.0[0].join(given)
        };
        // The nearest part that exists, with links followed; the rest is appended as named.
        let mut existing = full.as_path();
        let mut rest = Vec::new();
        let real = loop {
            match std::fs::canonicalize(existing) {
                Ok(real) => break real,
                Err(_) => match (existing.parent(), existing.file_name()) {
                    (Some(parent), Some(name)) => {
                        rest.push(name.to_os_string());
                        existing = parent;
                    }
                    _ => return Err(format!("{path}: cannot be resolved")),
                },
            }
        };
        let mut resolved = real;
        for name in rest.into_iter().rev() {
            resolved.push(name);
        }
        if self.0.iter().any(|folder| resolved.starts_with(folder)) {
            Ok(resolved)
        } else {
            let allowed: Vec<String> = self.0.iter().map(|f| f.display().to_string()).collect();
            Err(format!(
                "{path} is outside the folders this server may use ({}); start it with --allow-dir to allow another",
                allowed.join(", ")
            ))
        }
    }
}

#[derive(Clone)]
struct Server {
    client: Client,
    tools: Arc<Tools>,
    folders: Arc<Folders>,
}

impl ServerHandler for Server {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("heygen", env!("CARGO_PKG_VERSION")))
            .with_instructions(
                "HeyGen's API: make videos from a prompt (create_video_agent_session) or an \
                 avatar (create_video), and more. Creates that start jobs take `wait: true`; \
                 wait_for_jobs waits again; download_results saves a finished job's files.",
            )
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        Ok(ListToolsResult::with_all_items(self.tools.list.clone()))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let Some(action) = self.tools.actions.get(request.name.as_ref()) else {
            return Err(McpError::invalid_params(
                format!("no tool `{}`", request.name),
                None,
            ));
        };
        let arguments = request.arguments.unwrap_or_default();
        let answer = match action {
            Action::Operation(tool) => self.operation(tool, arguments, &context).await,
            Action::WaitForJobs => self.wait_for_jobs(arguments, &context).await,
            Action::DownloadResults => self.download_results(arguments).await,
            Action::UploadFile => self.upload_file(arguments).await,
            Action::BatchRun => self.batch_run(arguments, &context).await,
            Action::BatchStatus => self.batch_status(arguments),
        };
        Ok(match answer {
            Ok(value) => CallToolResult::success(vec![ContentBlock::text(value.to_string())]),
            Err(problem) => CallToolResult::error(vec![ContentBlock::text(problem)]),
        }
        .into())
    }
}

/// A tool's answer, or what the model should be told instead.
type Answer = Result<Value, String>;

impl Server {
    async fn operation(
        &self,
        tool: &OperationTool,
        mut arguments: JsonObject,
        context: &RequestContext<RoleServer>,
    ) -> Answer {
        let op = tool.op;
        let (wait, timeout) = if tool.waiting.is_some() {
            let wait = match arguments.remove("wait") {
                None | Some(Value::Null) => false,
                Some(Value::Bool(wait)) => wait,
                Some(other) => return Err(format!("`wait` must be true or false, not {other}")),
            };
            (wait, timeout(arguments.remove("timeout_seconds"))?)
        } else {
            (false, DEFAULT_WAIT)
        };
        let mut invocation = Invocation::new().raw_response(true);
        for name in op.path_params {
            match arguments.remove(*name) {
                Some(value) => invocation = invocation.path_param(text(name, value)?),
                None => return Err(format!("`{name}` is required (nothing was sent)")),
            }
        }
        for name in op.query_params {
            if let Some(value) = arguments.remove(*name).filter(|v| !v.is_null()) {
                invocation = invocation.query(*name, text(name, value)?);
            }
        }
        let body = match &tool.members {
            Some(members) => {
                if let Some(unknown) = arguments.keys().find(|k| !members.contains(*k)) {
                    return Err(unknown_argument(unknown, op, members));
                }
                (!arguments.is_empty() || tool.body_schema.is_some())
                    .then(|| Value::Object(std::mem::take(&mut arguments)))
            }
            None => arguments.remove("body"),
        };
        if let Some(unknown) = arguments.keys().next() {
            return Err(unknown_argument(unknown, op, &BTreeSet::new()));
        }
        if let Some(body) = body {
            if let Some(problem) = tool
                .body_schema
                .as_ref()
                .and_then(|schema| crate::spec_commands::unlisted_value(schema, &body, ""))
            {
                return Err(format!("{problem} (nothing was sent)"));
            }
            invocation = invocation.body(body);
        }
        let answer = self
            .client
            .invoke(op.id, invocation)
            .await
            .map_err(|error| tool_error(&error))?;
        match (&tool.waiting, wait) {
            (Some((kind, waiting)), true) => {
                let ids = waiting.created(&answer);
                if ids.is_empty() {
                    return Err(format!(
                        "the answer names no {} to wait for: {answer}",
                        kind.name()
                    ));
                }
                let jobs = self.wait(*kind, ids, timeout, context).await?;
                Ok(json!({"created": answer, "jobs": jobs}))
            }
            _ => Ok(answer),
        }
    }

    async fn wait_for_jobs(
        &self,
        mut arguments: JsonObject,
        context: &RequestContext<RoleServer>,
    ) -> Answer {
        let kind = job_kind(arguments.remove("kind"))?;
        let ids: Vec<String> = match arguments.remove("ids") {
            Some(Value::Array(ids)) if !ids.is_empty() => ids
                .into_iter()
                .map(|id| text("ids", id))
                .collect::<Result<_, _>>()?,
            Some(Value::String(id)) => vec![id],
            _ => return Err("`ids` must be a list of one or more job ids".into()),
        };
        let timeout = timeout(arguments.remove("timeout_seconds"))?;
        if let Some(unknown) = arguments.keys().next() {
            return Err(format!(
                "no argument `{unknown}`; this tool takes kind, ids and timeout_seconds"
            ));
        }
        let jobs = self.wait(kind, ids, timeout, context).await?;
        Ok(Value::Array(jobs))
    }

    /// Waits for jobs through the library's poller, each poll a progress notification when
    /// the client asked for them; stops when the client cancels.
    async fn wait(
        &self,
        kind: JobKind,
        ids: Vec<String>,
        timeout: Duration,
        context: &RequestContext<RoleServer>,
    ) -> Result<Vec<Value>, String> {
        let (sender, mut events) = tokio::sync::mpsc::unbounded_channel::<String>();
        let options = WaitOptions::new()
            .deadline(timeout)
            .on_progress(move |event| {
                let id = event
                    .job_id
                    .as_deref()
                    .or(event.video_id.as_deref())
                    .or(event.session_id.as_deref())
                    .unwrap_or("");
                let mut said = format!(
                    "{id}: {}",
                    event.status.as_ref().map_or("polled", |s| s.as_str())
                );
                if let Some(progress) = event.progress {
                    said.push_str(&format!(" ({progress}%)"));
                }
                let _ = sender.send(said);
            });
        let token = context.meta.get_progress_token();
        let peer = context.peer.clone();
        let reporter = tokio::spawn(async move {
            let mut count = 0.0;
            while let Some(message) = events.recv().await {
                count += 1.0;
                if let Some(token) = &token {
                    let note =
                        ProgressNotificationParam::new(token.clone(), count).with_message(message);
                    let _ = peer.notify_progress(note).await;
                }
            }
        });
        let order = ids.clone();
        let wait = self
            .client
            .wait_for_jobs(kind, ids, options)
            .collect::<Vec<_>>();
        let ended = tokio::select! {
            ended = wait => ended,
            () = context.ct.cancelled() => {
                reporter.abort();
                eprintln!(
                    "heygen mcp: stopped waiting for {} {}: the client cancelled; the jobs go on at HeyGen",
                    kind.name(),
                    order.join(", ")
                );
                return Err(format!(
                    "stopped waiting; the {} jobs go on at HeyGen: call {WAIT_FOR_JOBS} with kind `{}` and ids {} to wait again",
                    kind.name(),
                    kind.as_str(),
                    Value::from(order)
                ));
            }
        };
        let _ = reporter.await;
        let mut jobs = Vec::new();
        for end in ended {
            let mut job = json!({"id": end.id});
            if let Some(label) = &end.label {
                job["label"] = json!(label);
            }
            match end.outcome {
                Ok(outcome) => {
                    job["state"] = json!(outcome.as_str());
                    match &outcome {
                        JobOutcome::TimedOut(timed_out) => {
                            job["last_status"] = json!(timed_out.last_status);
                            job["note"] = json!(format!(
                                "still running at HeyGen; call {WAIT_FOR_JOBS} again to go on waiting"
                            ));
                        }
                        _ => {
                            if let Some(record) = outcome.record() {
                                if let Some(reason) = kind.failure_in(record) {
                                    job["reason"] = json!(reason);
                                }
                                let urls: Vec<&str> = kind.result_urls(record);
                                if !urls.is_empty() {
                                    job["urls"] = json!(urls);
                                }
                                job["record"] = record.clone();
                            }
                        }
                    }
                }
                Err(error) => {
                    job["state"] = json!("error");
                    job["reason"] = json!(output::error_text(&error));
                }
            }
            jobs.push(job);
        }
        Ok(jobs)
    }

    async fn download_results(&self, mut arguments: JsonObject) -> Answer {
        let kind = job_kind(arguments.remove("kind"))?;
        let id = match arguments.remove("id") {
            Some(id) => text("id", id)?,
            None => return Err("`id` is required".into()),
        };
        let folder = match arguments.remove("folder") {
            None | Some(Value::Null) => self.folders.resolve(".")?,
            Some(folder) => self.folders.resolve(&text("folder", folder)?)?,
        };
        let overwrite = match arguments.remove("overwrite") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(overwrite)) => overwrite,
            Some(other) => return Err(format!("`overwrite` must be true or false, not {other}")),
        };
        if let Some(unknown) = arguments.keys().next() {
            return Err(format!(
                "no argument `{unknown}`; this tool takes kind, id, folder and overwrite"
            ));
        }
        if !kind.makes_files() {
            return Err(format!("a {} makes no files to download", kind.name()));
        }
        // One look at the job: it must have finished.
        let options = WaitOptions::new().deadline(Duration::from_secs(10));
        let mut ended = self.client.wait_for_jobs(kind, [id.clone()], options);
        let end = ended
            .next()
            .await
            .ok_or_else(|| format!("no answer for {} {id}", kind.name()))?;
        let outcome = end.outcome.map_err(|error| output::error_text(&error))?;
        let record = match &outcome {
            JobOutcome::Completed(record) => record,
            other => {
                return Err(format!(
                    "{} {id} has not completed ({}); wait for it with {WAIT_FOR_JOBS} first",
                    kind.name(),
                    other.as_str()
                ))
            }
        };
        let urls = kind.results_in_place(record);
        if urls.is_empty() {
            return Err(format!("{} {id} names no file", kind.name()));
        }
        let label = kind.label_in(record);
        let files: Vec<(PathBuf, &str)> = urls
            .iter()
            .enumerate()
            .map(|(n, (place, url))| {
                let (extension, place) =
                    crate::jobs::extension_and_place(url, place, n, urls.len());
                let file = crate::jobs::result_path(
                    &folder,
                    true,
                    urls.len() > 1,
                    &id,
                    label.as_deref(),
                    place.as_deref(),
                    extension,
                );
                (file, *url)
            })
            .collect();
        // Every file checked before any is written.
        for (file, _) in &files {
            if !overwrite && std::fs::symlink_metadata(file).is_ok() {
                return Err(format!(
                    "{} exists; nothing was downloaded (pass overwrite: true to replace it)",
                    file.display()
                ));
            }
        }
        std::fs::create_dir_all(&folder)
            .map_err(|e| format!("cannot create {}: {e}", folder.display()))?;
        let mut saved = Vec::new();
        for (file, url) in files {
            let download = self
                .client
                .download(url, &file)
                .await
                .map_err(|error| output::error_text(&error))?;
            saved.push(json!({"path": file.display().to_string(), "bytes": download.bytes}));
        }
        Ok(json!({"id": id, "files": saved}))
    }

    async fn batch_run(
        &self,
        mut arguments: JsonObject,
        context: &RequestContext<RoleServer>,
    ) -> Answer {
        use heygen_api::batch::{BatchRunner, Job};
        let journal = match arguments.remove("journal") {
            Some(journal) => self.folders.resolve(&text("journal", journal)?)?,
            None => {
                return Err(
                    "`journal` is required: the file that makes the run safe to repeat".into(),
                )
            }
        };
        let jobs: Vec<Job> = match (arguments.remove("jobs"), arguments.remove("file")) {
            (Some(Value::Array(items)), None) => {
                if items.len() > MOST_BATCH_JOBS {
                    return Err(format!(
                        "{} jobs is more than one call takes ({MOST_BATCH_JOBS}); use `heygen batch run` for a campaign",
                        items.len()
                    ));
                }
                let mut jobs = Vec::new();
                let mut problems = Vec::new();
                for (n, item) in items.into_iter().enumerate() {
                    match Job::from_json(item) {
                        Ok(job) => jobs.push(job),
                        Err(error) => {
                            problems.push(format!("jobs[{n}]: {}", output::error_text(&error)))
                        }
                    }
                }
                if !problems.is_empty() {
                    return Err(format!("{} (nothing was sent)", problems.join("; ")));
                }
                jobs
            }
            (None, Some(file)) => {
                let path = self.folders.resolve(&text("file", file)?)?;
                let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
                let mut jobs = Vec::new();
                let mut problems = Vec::new();
                for (n, line) in bytes.split(|b| *b == b'\n').enumerate() {
                    match crate::batch::line_problem(line.to_vec()) {
                        Ok(Some(job)) => jobs.push(job),
                        Ok(None) => {}
                        Err(problem) => problems.push(format!("line {}: {problem}", n + 1)),
                    }
                }
                if !problems.is_empty() {
                    return Err(format!("{} (nothing was sent)", problems.join("; ")));
                }
                if jobs.len() > MOST_BATCH_JOBS {
                    return Err(format!(
                        "{} jobs is more than one call takes ({MOST_BATCH_JOBS}); use `heygen batch run` for a campaign",
                        jobs.len()
                    ));
                }
                jobs
            }
            _ => {
                return Err(
                    "give `jobs` (a list of jobs) or `file` (a jobs file), one of the two".into(),
                )
            }
        };
        let download = match arguments.remove("download_folder") {
            None | Some(Value::Null) => None,
            Some(folder) => Some(self.folders.resolve(&text("download_folder", folder)?)?),
        };
        let retry_failed = match arguments.remove("retry_failed") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(retry)) => retry,
            Some(other) => {
                return Err(format!("`retry_failed` must be true or false, not {other}"))
            }
        };
        let timeout = timeout(arguments.remove("timeout_seconds"))?;
        if let Some(unknown) = arguments.keys().next() {
            return Err(format!(
                "no argument `{unknown}`; this tool takes jobs or file, journal, download_folder, retry_failed and timeout_seconds"
            ));
        }
        if let Some(parent) = journal.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        let total = jobs.len();
        let mut runner = BatchRunner::new(self.client.clone())
            .journal(&journal)
            .retry_failed(retry_failed)
            .deadline(timeout);
        if let Some(folder) = &download {
            std::fs::create_dir_all(folder).map_err(|e| format!("{}: {e}", folder.display()))?;
            runner = runner.download_dir(folder);
        }
        let mut run = runner
            .run(futures_util::stream::iter(jobs))
            .map_err(|error| format!("{} (nothing was sent)", output::error_text(&error)))?;
        let token = context.meta.get_progress_token();
        let mut results = Vec::new();
        loop {
            tokio::select! {
                outcome = run.next() => match outcome {
                    Some(outcome) => {
                        let result = crate::batch::outcome_json(&outcome);
                        if let Some(token) = &token {
                            let note = ProgressNotificationParam::new(token.clone(), (results.len() + 1) as f64)
                                .with_total(total as f64)
                                .with_message(format!("{}: {}", outcome.key, outcome.result.name()));
                            let _ = context.peer.notify_progress(note).await;
                        }
                        results.push(result);
                    }
                    None => break,
                },
                () = context.ct.cancelled() => {
                    drop(run);
                    eprintln!(
                        "heygen mcp: stopped the batch run: the client cancelled; jobs in flight stay in {}",
                        journal.display()
                    );
                    return Err(format!(
                        "stopped; the jobs in flight go on at HeyGen and stay in {}: call {BATCH_RUN} again with the same journal to take them up",
                        journal.display()
                    ));
                }
            }
        }
        let summary = run.summary();
        Ok(json!({"summary": summary, "results": results}))
    }

    fn batch_status(&self, mut arguments: JsonObject) -> Answer {
        let journal = match arguments.remove("journal") {
            Some(journal) => self.folders.resolve(&text("journal", journal)?)?,
            None => return Err("`journal` is required".into()),
        };
        if let Some(unknown) = arguments.keys().next() {
            return Err(format!("no argument `{unknown}`; this tool takes journal"));
        }
        let (read, failed) =
            crate::batch::journal_status(&journal).map_err(|error| output::error_text(&error))?;
        let failed: Vec<Value> = failed
            .iter()
            .map(|(key, state, reason)| json!({"key": key, "state": state, "reason": reason}))
            .collect();
        let mut answer = json!({"jobs": read.jobs, "counts": read.counts, "failed": failed});
        if read.torn_tail {
            answer["note"] =
                json!("the journal ends in a torn line (a run was cut off); it is ignored");
        }
        Ok(answer)
    }

    async fn upload_file(&self, mut arguments: JsonObject) -> Answer {
        let path = match arguments.remove("path") {
            Some(path) => text("path", path)?,
            None => return Err("`path` is required".into()),
        };
        if let Some(unknown) = arguments.keys().next() {
            return Err(format!("no argument `{unknown}`; this tool takes path"));
        }
        let file = self.folders.resolve(&path)?;
        let metadata = std::fs::metadata(&file).map_err(|e| format!("{path}: {e}"))?;
        if !metadata.is_file() {
            return Err(format!("{path} is not a regular file"));
        }
        let asset = self
            .client
            .assets()
            .upload(&file)
            .await
            .map_err(|error| output::error_text(&error))?;
        let mut answer = serde_json::to_value(&asset).unwrap_or(Value::Null);
        if let Some(id) = answer
            .get("id")
            .cloned()
            .or_else(|| answer.get("asset_id").cloned())
        {
            answer["use_as"] = json!({"type": "asset_id", "asset_id": id});
        }
        Ok(answer)
    }
}

/// An error as a tool's answer: a body member is an argument here (the CLI says `--data`).
fn tool_error(error: &heygen_api::Error) -> String {
    match error.invalid_request().filter(|i| i.field == "body") {
        Some(invalid) if invalid.reason == "is required" => {
            "the request's members are required (nothing was sent)".into()
        }
        Some(invalid) => {
            let reason = match invalid.reason.strip_prefix("at ") {
                Some(at) => format!("argument {at}"),
                None => invalid.reason.clone(),
            };
            format!("{reason} (nothing was sent)")
        }
        None => output::error_text(error),
    }
}

/// An argument as the text a path or query parameter takes: lists joined by commas.
fn text(name: &str, value: Value) -> Result<String, String> {
    match value {
        Value::String(text) => Ok(text),
        Value::Number(number) => Ok(number.to_string()),
        Value::Bool(flag) => Ok(flag.to_string()),
        Value::Array(items) => items
            .into_iter()
            .map(|item| text(name, item))
            .collect::<Result<Vec<_>, _>>()
            .map(|items| items.join(",")),
        other => Err(format!("`{name}` must be text, not {other}")),
    }
}

fn timeout(value: Option<Value>) -> Result<Duration, String> {
    match value {
        None | Some(Value::Null) => Ok(DEFAULT_WAIT),
        Some(Value::Number(seconds)) => match seconds.as_f64() {
            Some(s) if (0.0..=MOST_WAIT.as_secs_f64()).contains(&s) => {
                Ok(Duration::from_secs_f64(s))
            }
            _ => Err(format!(
                "`timeout_seconds` must be between 0 and {}, not {seconds}",
                MOST_WAIT.as_secs()
            )),
        },
        Some(other) => Err(format!("`timeout_seconds` must be a number, not {other}")),
    }
}

fn job_kind(value: Option<Value>) -> Result<JobKind, String> {
    let kinds: Vec<&str> = JobKind::ALL.iter().map(|k| k.as_str()).collect();
    match value {
        Some(Value::String(kind)) => kind
            .parse()
            .map_err(|_| format!("no kind `{kind}`; the kinds are {}", kinds.join(", "))),
        _ => Err(format!("`kind` is required: one of {}", kinds.join(", "))),
    }
}

fn unknown_argument(name: &str, op: &OperationInfo, members: &BTreeSet<String>) -> String {
    let mut known: Vec<&str> = op
        .path_params
        .iter()
        .chain(op.query_params)
        .copied()
        .chain(members.iter().map(String::as_str))
        .collect();
    if members.is_empty() && op.has_body {
        known.push("body");
    }
    let takes = if known.is_empty() {
        "it takes no arguments".to_string()
    } else {
        format!("it takes: {}", known.join(", "))
    };
    format!(
        "no argument `{name}` for {} (nothing was sent); {takes}",
        op.id
    )
}
