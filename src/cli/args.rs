//! Command-line arguments.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// HeyGen Video Agent API: prompt in, finished video out.
#[derive(Debug, Parser)]
#[command(name = "heygen", version, about)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) globals: Globals,
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// The options every command takes.
#[derive(Debug, Args)]
pub(crate) struct Globals {
    /// API key (x-api-key).
    #[arg(
        long,
        env = "HEYGEN_API_KEY",
        hide_env_values = true,
        global = true,
        help_heading = "Global options"
    )]
    pub(crate) api_key: Option<String>,
    /// API base URL.
    #[arg(
        long,
        env = "HEYGEN_BASE_URL",
        global = true,
        help_heading = "Global options",
        default_value = heygen_api::DEFAULT_BASE_URL
    )]
    pub(crate) base_url: Option<String>,
    /// Print only JSON on stdout.
    #[arg(long, global = true, help_heading = "Global options")]
    pub(crate) json: bool,
    /// Log every request on stderr: method, path, status, request id, time, attempt (never
    /// the key). `RUST_LOG` sets other levels, as in any Rust program.
    #[arg(short, long, global = true, help_heading = "Global options")]
    pub(crate) verbose: bool,
    /// Where the API key came from (set after parsing; `None`: nowhere yet).
    #[arg(skip)]
    pub(crate) key_source: Option<crate::auth::KeySource>,
}

/// How long a command that waits goes on waiting.
#[derive(Debug, Clone, Copy, Args)]
pub(crate) struct Deadline {
    /// Stop waiting after this long (the job goes on at HeyGen): `90s`, `20m`, `2h`.
    #[arg(long, value_name = "DURATION", default_value = "20m", value_parser = parse_duration)]
    pub(crate) timeout: Duration,
}

fn parse_duration(value: &str) -> Result<Duration, String> {
    humantime::parse_duration(value)
        .map_err(|_| format!("{value:?} is not a duration like 90s, 20m or 2h"))
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Video Agent sessions.
    #[command(subcommand)]
    VideoAgent(VideoAgentCommand),
    /// Rendered videos.
    #[command(subcommand)]
    Video(VideoCommand),
    /// Uploaded assets.
    #[command(subcommand)]
    Asset(AssetCommand),
    /// Make many videos from a file of jobs, resumably
    #[command(subcommand)]
    Batch(BatchCommand),
    /// Webhook endpoints and verification.
    #[command(subcommand)]
    Webhook(WebhookCommand),
    /// Keep an API key for later commands, or say which key is used
    #[command(subcommand)]
    Auth(AuthCommand),
    /// Print a shell's completion script
    ///
    /// For example: `heygen completions bash > ~/.local/share/bash-completion/completions/heygen`.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Serve the API as tools for AI assistants, over MCP on stdin and stdout
    ///
    /// A Model Context Protocol server.
    /// An assistant starts it as a command (`heygen mcp`) and calls its tools: the API's
    /// operations, a wait that reports progress, downloads of a job's files and uploads of
    /// local ones. The key is the one every command uses (--api-key, HEYGEN_API_KEY, or
    /// `heygen auth login`). Nothing but protocol messages is written to standard output.
    Mcp(McpArgs),
    /// Serve a local HeyGen simulator until interrupted
    Simulate {
        /// Port on 127.0.0.1 (0: any free port).
        #[arg(long, default_value_t = 8080)]
        port: u16,
        /// The API key the simulator accepts.
        #[arg(long, default_value = heygen_api::simulator::DEFAULT_API_KEY)]
        sim_api_key: String,
        /// Simulated seconds per real second.
        #[arg(long, default_value_t = 1.0)]
        time_scale: f64,
        /// Wait this long before serving each file (video, image, audio), as a slow file
        /// host would.
        #[arg(long, value_name = "DURATION", default_value = "0s", value_parser = parse_duration)]
        file_delay: Duration,
    },
}

/// What `heygen mcp` serves, and where it may read and write files.
#[derive(Debug, Args)]
pub(crate) struct McpArgs {
    /// Serve against an in-process simulator instead of HeyGen: no key, nothing spent.
    #[arg(long)]
    pub(crate) simulate: bool,
    /// With --simulate: simulated seconds per real second.
    #[arg(long, default_value_t = 1.0, requires = "simulate")]
    pub(crate) time_scale: f64,
    /// Serve no tool that creates, changes, deletes or spends anything, at HeyGen or on disk.
    #[arg(long)]
    pub(crate) read_only: bool,
    /// A folder uploads may read from and downloads write into (repeatable; the working
    /// folder when none is given). Paths outside, through `..` or a symbolic link, are
    /// refused.
    #[arg(long = "allow-dir", value_name = "DIR")]
    pub(crate) allow_dirs: Vec<PathBuf>,
    /// Families whose operations are served too, beside the core ones (`translations`,
    /// `lipsync`, ...; comma-separated or repeated).
    #[arg(long, value_delimiter = ',', value_name = "FAMILY")]
    pub(crate) families: Vec<String>,
    /// Serve every operation as a tool (a long list for a model to read each turn).
    #[arg(long)]
    pub(crate) all_operations: bool,
    /// Print the tools as `tools/list` would answer (JSON) and exit.
    #[arg(long)]
    pub(crate) list_tools: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum AuthCommand {
    /// Check a key with HeyGen and keep it in your config folder, readable only by you
    ///
    /// The key is read without echo on a terminal, else from standard input
    /// (`heygen auth login < key.txt`); `--api-key KEY` gives it on the command line instead.
    /// Later, `--api-key` and `HEYGEN_API_KEY` still win over the stored key.
    Login,
    /// Forget the stored key
    Logout,
    /// Say which key commands use, never showing it
    ///
    /// The key given with --api-key, else the one in HEYGEN_API_KEY, else the stored one.
    Status,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum OrientationArg {
    Landscape,
    Portrait,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum ModeArg {
    Generate,
    Chat,
}

#[derive(Debug, Subcommand)]
pub(crate) enum VideoAgentCommand {
    /// Start a session from a prompt, optionally wait for its video and download it
    #[command(arg_required_else_help = true)]
    Create(Box<CreateArgs>),
    /// Talk a chat-mode session through to its video
    ///
    /// The agent's messages and resources are printed and you answer; `approve` renders the
    /// video. Answers come from --message in order, else from the terminal, else from the
    /// lines of standard input. An empty line asks again; the end of the input stops the chat
    /// and says how to take it up again (`--session`).
    Chat {
        /// What the video is about (1-10,000 characters).
        #[arg(long, required_unless_present = "session", conflicts_with = "session")]
        prompt: Option<String>,
        /// Go on with a chat-mode session started earlier, instead of starting one.
        #[arg(long, value_name = "SESSION_ID")]
        session: Option<String>,
        /// An answer to the agent, in order (repeatable); `approve` approves.
        #[arg(long = "message")]
        messages: Vec<String>,
        /// Download the finished MP4 here.
        #[arg(long)]
        download: Option<PathBuf>,
        #[command(flatten)]
        deadline: Deadline,
    },
    /// Wait for a session's video
    Wait {
        /// The session to wait on.
        session_id: String,
        /// Download the finished MP4 here.
        #[arg(long)]
        download: Option<PathBuf>,
        #[command(flatten)]
        deadline: Deadline,
    },
}

#[derive(Debug, Args)]
pub(crate) struct CreateArgs {
    /// What the video is about (1-10,000 characters).
    #[arg(long, required_unless_present = "data")]
    pub(crate) prompt: Option<String>,
    /// The request as JSON (text, @FILE, or - for standard input); the other flags are
    /// applied over it, and fields this version has no flag for are sent unchanged.
    #[arg(long, value_name = "JSON|@FILE|-")]
    pub(crate) data: Option<String>,
    /// The avatar to present the video (default: the agent picks one).
    #[arg(long)]
    pub(crate) avatar_id: Option<String>,
    /// The narration voice (default: the agent picks one).
    #[arg(long)]
    pub(crate) voice_id: Option<String>,
    /// A visual style, from `heygen video-agent styles`.
    #[arg(long)]
    pub(crate) style_id: Option<String>,
    /// A brand kit whose colours, fonts and logo to use.
    #[arg(long)]
    pub(crate) brand_kit_id: Option<String>,
    /// Landscape (16:9) or portrait (9:16); detected from the prompt when absent.
    #[arg(long, value_enum)]
    pub(crate) orientation: Option<OrientationArg>,
    /// `generate` runs to a video on its own; `chat` may pause for your input.
    #[arg(long, value_enum)]
    pub(crate) mode: Option<ModeArg>,
    /// A file: an http(s) URL, `asset:ID`, or a local path (repeatable).
    #[arg(long = "file")]
    pub(crate) files: Vec<String>,
    /// A URL HeyGen calls when the session ends.
    #[arg(long)]
    pub(crate) callback_url: Option<String>,
    /// Your own identifier, echoed back in the callback.
    #[arg(long)]
    pub(crate) callback_id: Option<String>,
    /// Wait for the video.
    #[arg(long)]
    pub(crate) wait: bool,
    /// Wait, then download the MP4 here.
    #[arg(long)]
    pub(crate) download: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) deadline: Deadline,
}

#[derive(Debug, Subcommand)]
pub(crate) enum VideoCommand {
    /// Create a video, optionally wait for it and download it
    ///
    /// `--data` is one of four kinds: avatar, image, cinematic_avatar or studio; `heygen video
    /// create --request-schema` prints them all.
    Create {
        /// The request: JSON text, @FILE to read a file, - for standard input.
        #[arg(
            long,
            value_name = "JSON|@FILE|-",
            required_unless_present = "request_schema"
        )]
        data: Option<String>,
        /// Print the request's JSON schema and exit.
        #[arg(long)]
        request_schema: bool,
        /// Wait until the video is done.
        #[arg(long)]
        wait: bool,
        /// Wait, then download the MP4 here.
        #[arg(long)]
        download: Option<PathBuf>,
        #[command(flatten)]
        deadline: Deadline,
    },
    /// Show the statuses of any number of videos (100 a request)
    Statuses {
        /// The videos.
        #[arg(required = true)]
        video_ids: Vec<String>,
    },
    /// Wait until a video is done
    Wait {
        /// The video to wait on.
        video_id: String,
        /// Download the finished MP4 here.
        #[arg(long)]
        download: Option<PathBuf>,
        #[command(flatten)]
        deadline: Deadline,
    },
    /// Download a completed video
    Download {
        /// The video to download.
        video_id: String,
        /// Where to write the MP4.
        path: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum AssetCommand {
    /// Upload files of any size (several go through one upload batch)
    Upload {
        /// The files to upload.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum WebhookCommand {
    /// Verify a webhook delivery: exit 0 and print the event if authentic, 5 if not
    Verify {
        /// The endpoint secret.
        #[arg(long, env = "HEYGEN_WEBHOOK_SECRET", hide_env_values = true)]
        secret: String,
        /// A header of the delivery, `Name: value` (repeatable). HeyGen sends
        /// `Heygen-Signature` (the hex HMAC-SHA256 of the body) and `Heygen-Timestamp`, which
        /// must be there and within 5 minutes of now.
        #[arg(long = "header")]
        headers: Vec<String>,
        /// The raw body (stdin when absent).
        body_file: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum BatchCommand {
    /// Run the jobs of a file of JSON lines, resumably
    ///
    /// At most `--concurrency` jobs are in flight. Each line is a Video Agent request (it has
    /// `prompt`), a create-video request (it has `type`) or a job of another family (it has
    /// `"kind"`, e.g. `"lipsync"` or `"video_translation"`, beside its create's body), with an
    /// optional `"key"`. Run the
    /// same command again to resume. Exit 0 when every job completed, 3 when some failed, 4
    /// when the deadline (`--timeout`) left jobs unfinished.
    Run(BatchRunArgs),
    /// Count a journal's jobs per state and list the failed ones, offline
    Status {
        /// The journal of a run.
        #[arg(long)]
        journal: PathBuf,
        /// The run's jobs file: also say how many jobs it holds and how many the journal has
        /// never seen started.
        jobs: Option<PathBuf>,
    },
    /// Rewrite a journal with one line per job, offline
    ///
    /// Keeps all that a later run needs of each job. The new journal replaces the old one in
    /// one rename; refused while a run has the journal open.
    Compact {
        /// The journal of a run.
        #[arg(long)]
        journal: PathBuf,
    },
    /// Make a journal with damaged lines usable again, offline
    ///
    /// Keeps every job whose lines read (one line per job, as `compact` writes them), lists
    /// each line that does not with the job it names, and keeps the file as it was beside it
    /// (`<journal>.damaged`). A job named only in dropped lines is unknown to the next run,
    /// which would create it again: look it up first. A journal without damage is left as it
    /// is; refused while a run has the journal open.
    Salvage {
        /// The journal of a run.
        #[arg(long)]
        journal: PathBuf,
    },
}

#[derive(Debug, Args)]
pub(crate) struct BatchRunArgs {
    /// The jobs: one JSON object per line (`-` for standard input).
    pub(crate) jobs: PathBuf,
    /// Records every step; the same journal resumes the run.
    #[arg(long)]
    pub(crate) journal: PathBuf,
    /// Most jobs in flight at once (10 on pay-as-you-go).
    #[arg(long, default_value_t = heygen_api::batch::DEFAULT_CONCURRENCY)]
    pub(crate) concurrency: usize,
    /// Download each video to `DIR/<key>.mp4`.
    #[arg(long, value_name = "DIR")]
    pub(crate) download_dir: Option<PathBuf>,
    /// Receive webhook deliveries on this address.
    #[arg(long, value_name = "ADDR", requires = "webhook_secret")]
    pub(crate) webhook_listen: Option<std::net::SocketAddr>,
    /// The endpoint's secret, to verify deliveries.
    #[arg(
        long,
        value_name = "SECRET",
        env = "HEYGEN_WEBHOOK_SECRET",
        hide_env_values = true
    )]
    pub(crate) webhook_secret: Option<String>,
    /// First poll interval (then growing).
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_duration)]
    pub(crate) poll_interval: Duration,
    /// Stop the run after this long (jobs in flight go on at HeyGen; the same command takes
    /// them up again): `90s`, `6h`. No deadline by default.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub(crate) timeout: Option<Duration>,
    /// Run again the jobs the journal says failed, as new jobs (completed ones never are).
    #[arg(long)]
    pub(crate) retry_failed: bool,
    /// Off a terminal, how often a line says how far the run is.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    pub(crate) heartbeat: Duration,
    /// Longest poll interval.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    pub(crate) max_poll_interval: Duration,
    /// Poll interval when deliveries are expected.
    #[arg(long, value_name = "DURATION", default_value = "2m", value_parser = parse_duration)]
    pub(crate) safety_net: Duration,
}
