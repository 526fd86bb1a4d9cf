//! Waiting and downloading for the commands derived from the spec, as its extensions say:
//! `x-heygen-wait` (the create starts jobs: `--wait`, and a `wait` verb that takes them up
//! again) and `x-heygen-download` (the file a job or an answer makes: `--download PATH`).
//!
//! A wait shows one line per job on stderr (a spinner on a terminal), ends with each job's
//! record on stdout, and says on Ctrl-C or a timeout which command goes on waiting.

use std::future::IntoFuture as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clap::{Arg, ArgAction, ArgMatches, Command};
use futures_util::StreamExt as _;
use heygen_api::contract::Spec;
use heygen_api::operations::OperationInfo;
use heygen_api::{Client, Error, JobKind, JobOutcome, WaitOptions};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{json, Value};

use crate::output::{self, Reporter};

const WAIT: &str = "wait";
const TIMEOUT: &str = "timeout";
const DOWNLOAD: &str = "download";
const IDS: &str = "ids";

/// What the spec says an operation's jobs and files are.
#[derive(Debug, Clone)]
pub(crate) struct Waiting {
    /// The kind of job the create starts, as its `x-heygen-wait` names it.
    kind: String,
    /// Where the created jobs' ids are in the answer (tried in order); empty when the
    /// operation starts no job.
    ids: Vec<String>,
    /// The verb that waits again (`wait`, `wait-proofread`).
    verb: Option<String>,
    /// Where the files' URLs are: in a finished job's record (its kind's results), or in
    /// the answer (`x-heygen-download`) for an operation that starts no job.
    download: Option<Vec<String>>,
}

impl Waiting {
    /// The kind of job the create starts, if it is one this build knows.
    pub(crate) fn kind(&self) -> Option<JobKind> {
        self.kind.parse().ok()
    }

    /// The operation's extensions, if it has either.
    pub(crate) fn of(operation_id: &str) -> Option<Self> {
        let op = Spec::get().ok()?.operation(operation_id)?;
        let wait = op.extensions.get("x-heygen-wait");
        let answer_download = op
            .extensions
            .get("x-heygen-download")
            .and_then(Value::as_str)
            .map(|pointer| vec![pointer.to_string()]);
        if wait.is_none() && answer_download.is_none() {
            return None;
        }
        let kind = wait
            .and_then(|w| w.get("kind"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let ids = match wait.and_then(|w| w.get("ids")) {
            Some(Value::String(one)) => vec![one.clone()],
            Some(Value::Array(many)) => many
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect(),
            _ => Vec::new(),
        };
        let download = match kind.parse::<JobKind>() {
            Ok(kind) if !ids.is_empty() => Some(kind.results())
                .filter(|results| !results.is_empty())
                .map(|results| results.iter().map(|r| r.to_string()).collect()),
            _ => answer_download,
        };
        Some(Waiting {
            verb: wait
                .and_then(|w| w.get("verb"))
                .and_then(Value::as_str)
                .map(str::to_string),
            kind,
            ids,
            download,
        })
    }

    pub(crate) fn waits(&self) -> bool {
        !self.ids.is_empty()
    }

    /// Whether one call can make several files (several jobs, or a job with several).
    fn several_files(&self) -> bool {
        self.ids
            .iter()
            .any(|ids| ids.contains('*') || ids.ends_with("_ids"))
            || self
                .download
                .iter()
                .flatten()
                .any(|pointer| pointer.contains('*'))
    }

    /// The job's name in messages.
    fn noun(&self) -> String {
        match self.kind.parse::<JobKind>() {
            Ok(kind) => kind.to_string(),
            Err(_) => self.kind.replace('_', " "),
        }
    }

    /// The URLs of the files in `value` (a finished job's record, or the answer), each with
    /// its place there (a clip's number, a layer's name; empty for a single result).
    pub(crate) fn urls(&self, value: &Value) -> Vec<(String, String)> {
        self.download
            .iter()
            .flatten()
            .flat_map(|pointer| heygen_api::operations::pointed_in_place(value, pointer))
            .map(|(place, url)| (place, url.to_string()))
            .collect()
    }

    /// The ids of the jobs the answer names.
    pub(crate) fn created(&self, answer: &Value) -> Vec<String> {
        heygen_api::operations::first_pointed(answer, self.ids.iter().map(String::as_str))
            .into_iter()
            .map(str::to_string)
            .collect()
    }
}

/// `--wait`, `--timeout` and `--download` for a command whose operation has jobs or files.
pub(crate) fn arguments(mut command: Command, waiting: &Waiting) -> Command {
    if waiting.waits() {
        command = command
            .arg(
                Arg::new(WAIT)
                    .long(WAIT)
                    .action(ArgAction::SetTrue)
                    .help(format!(
                    "Wait until each {} ends, then print it (implied by --download and --timeout)",
                    waiting.noun()
                )),
            )
            .arg(timeout_arg());
    }
    if waiting.download.is_some() {
        command = command.arg(download_arg(waiting.waits()));
    }
    command
}

fn timeout_arg() -> Arg {
    Arg::new(TIMEOUT)
        .long(TIMEOUT)
        .value_name("DURATION")
        .default_value("20m")
        .help("Stop waiting after this long (the job goes on at HeyGen): `90s`, `20m`, `2h`")
}

fn download_arg(waits: bool) -> Arg {
    Arg::new(DOWNLOAD)
        .long(DOWNLOAD)
        .value_name("PATH")
        .value_parser(clap::value_parser!(PathBuf))
        .help(if waits {
            "Save the result there once done (implies --wait): a file, or a folder (one that exists, ends with /, or has no extension when several files may come); several results for one file name (clips.mp4) are saved beside it, named by language, clip or layer"
        } else {
            "Save the file the answer names there: a file, or a folder (one that exists, ends with /, or has no extension when it names several)"
        })
}

/// The `wait` verbs, one per resource and verb the spec names (`translation wait`).
pub(crate) fn wait_commands(mut root: Command) -> Command {
    let mut added: Vec<(&str, String)> = Vec::new();
    for op in heygen_api::operations::all() {
        let Some(waiting) = Waiting::of(op.id) else {
            continue;
        };
        let Some(verb) = waiting.verb.clone() else {
            continue;
        };
        if added
            .iter()
            .any(|(noun, v)| *noun == op.command && *v == verb)
        {
            continue;
        }
        added.push((op.command, verb.clone()));
        let noun = waiting.noun();
        let mut command = Command::new(verb.clone())
            .about(format!("Wait for {noun}s created earlier, then print them"))
            .arg(
                Arg::new(IDS)
                    .required(true)
                    .num_args(1..)
                    .value_name("ID")
                    .help(format!("The {noun}s to wait for")),
            )
            .arg(timeout_arg());
        if waiting.download.is_some() {
            command = command.arg(download_arg(true));
        }
        root = root.mut_subcommand(op.command, |resource| resource.subcommand(command));
    }
    root
}

/// The `wait` verb a parse landed on: its operation's extensions and its arguments.
pub(crate) fn matched_wait(
    matches: &ArgMatches,
) -> Option<(&'static OperationInfo, Waiting, &ArgMatches)> {
    let (noun, resource) = matches.subcommand()?;
    let (verb, leaf) = resource.subcommand()?;
    heygen_api::operations::all().iter().find_map(|op| {
        let waiting = Waiting::of(op.id)?;
        (op.command == noun && waiting.verb.as_deref() == Some(verb)).then_some((op, waiting, leaf))
    })
}

/// Where the files go, checked before anything is created; `None` without `--download`.
/// A command that can make several files needs a folder there, not a file.
pub(crate) fn destination(leaf: &ArgMatches, waiting: &Waiting) -> Result<Option<PathBuf>, i32> {
    let Some(path) = leaf.try_get_one::<PathBuf>(DOWNLOAD).ok().flatten() else {
        return Ok(None);
    };
    if waiting.several_files() && path.is_file() && path.extension().is_none() {
        eprintln!(
            "error: --download {}: is a file without an extension, and this command can make several files; give a folder, or a file name such as out.mp4 to save them beside it (nothing was sent)",
            path.display()
        );
        return Err(output::USAGE);
    }
    match crate::destination::Destination::prepare(path) {
        Ok(_) => Ok(Some(path.clone())),
        Err(problem) => {
            eprintln!(
                "error: --download {}: {problem} (nothing was sent)",
                path.display()
            );
            Err(output::USAGE)
        }
    }
}

/// Whether the command line asks to wait.
pub(crate) fn asks_to_wait(leaf: &ArgMatches, waiting: &Waiting) -> bool {
    // `--download` and a `--timeout` given on the command line both mean waiting.
    let timeout_given = leaf.try_contains_id(TIMEOUT).unwrap_or(false)
        && leaf.value_source(TIMEOUT) == Some(clap::parser::ValueSource::CommandLine);
    let download = leaf
        .try_get_one::<PathBuf>(DOWNLOAD)
        .ok()
        .flatten()
        .is_some();
    waiting.waits()
        && (leaf.try_get_one::<bool>(WAIT).ok().flatten() == Some(&true)
            || download
            || timeout_given)
}

fn timeout(leaf: &ArgMatches) -> Result<Duration, i32> {
    let text = leaf
        .try_get_one::<String>(TIMEOUT)
        .ok()
        .flatten()
        .map_or("20m", String::as_str);
    humantime::parse_duration(text).map_err(|_| {
        eprintln!("error: --timeout: {text:?} is not a duration like 90s, 20m or 2h");
        output::USAGE
    })
}

/// After a create that answered `created`: prints it, or waits for its jobs and prints how
/// each ended; downloads what `--download` asks for.
pub(crate) async fn after_create(
    client: &Client,
    op: &OperationInfo,
    waiting: &Waiting,
    leaf: &ArgMatches,
    created: Value,
    download: Option<PathBuf>,
    json: bool,
) -> i32 {
    if !asks_to_wait(leaf, waiting) {
        let mut created = created;
        let mut code = output::OK;
        if let Some(dir) = &download {
            let urls = waiting.urls(&created);
            // Named after the file HeyGen made (`tts_1.wav`), when it goes in a folder.
            let name = urls
                .first()
                .and_then(|(_, u)| u.split(['?', '#']).next())
                .and_then(|u| u.rsplit('/').next())
                .and_then(|file| file.split('.').next())
                .filter(|stem| !stem.is_empty())
                .unwrap_or("file")
                .to_string();
            match save_all(client, &urls, dir, &name, None, false, None).await {
                Ok(saved) => created["download"] = saved,
                Err(problem) => {
                    eprintln!("error: could not save the file: {problem}");
                    code = output::API_ERROR;
                }
            }
        }
        print_value(&created, json);
        return code;
    }
    let ids = waiting.created(&created);
    if ids.is_empty() {
        print_value(&created, json);
        eprintln!("error: the answer names no {} to wait for", waiting.noun());
        return output::API_ERROR;
    }
    wait_for(client, op, waiting, ids, leaf, download, json).await
}

/// `<resource> wait ID...`.
pub(crate) async fn wait_again(
    client: &Client,
    op: &OperationInfo,
    waiting: &Waiting,
    leaf: &ArgMatches,
    json: bool,
) -> i32 {
    let download = match destination(leaf, waiting) {
        Ok(download) => download,
        Err(code) => return code,
    };
    let ids: Vec<String> = leaf
        .get_many::<String>(IDS)
        .into_iter()
        .flatten()
        .cloned()
        .collect();
    wait_for(client, op, waiting, ids, leaf, download, json).await
}

/// How one job ended, for printing.
struct Ended {
    id: String,
    /// How its wait ended, or the error that ended it.
    outcome: Result<JobOutcome<Value>, Error>,
}

async fn wait_for(
    client: &Client,
    op: &OperationInfo,
    waiting: &Waiting,
    ids: Vec<String>,
    leaf: &ArgMatches,
    download: Option<PathBuf>,
    json: bool,
) -> i32 {
    let deadline = match timeout(leaf) {
        Ok(deadline) => deadline,
        Err(code) => return code,
    };
    let noun = waiting.noun();
    let mut interrupt = output::Interrupt::listen();
    let display = Arc::new(Display::new(&noun, &ids));
    let shown = Arc::clone(&display);
    let options = WaitOptions::new()
        .deadline(deadline)
        .on_progress(move |event| shown.event(event));
    let several = ids.len() > 1;
    let resume = resume_command(op, waiting, &ids, download.as_deref());
    let kind = match waiting.kind.parse::<JobKind>() {
        Ok(kind) => kind,
        Err(problem) => {
            eprintln!("error: {problem}");
            return output::USAGE;
        }
    };
    let wait = wait_all(client, kind, ids, options);
    let ended = tokio::select! {
        ended = wait => ended,
        _ = interrupt.heard() => output::exit_interrupted(
            display.is_live(),
            || display.finish(),
            &format!("stopped waiting; go on with: {resume}"),
        ),
    };
    display.finish();
    let ended = match ended {
        Ok(ended) => ended,
        Err(error) => return output::error(&error),
    };
    let mut code = output::OK;
    let mut printed = Vec::new();
    let mut still_running = Vec::new();
    for end in ended {
        let outcome = match end.outcome {
            Ok(outcome) => outcome,
            Err(error) => {
                eprintln!("error: {noun} {}: {}", end.id, output::error_text(&error));
                code = code.max(output::API_ERROR);
                continue;
            }
        };
        let mut record = outcome.record().cloned().unwrap_or(Value::Null);
        match &outcome {
            JobOutcome::Completed(_) => {
                if let Some(dir) = &download {
                    let urls = waiting.urls(&record);
                    let label = kind.label_in(&record);
                    match save_all(
                        client,
                        &urls,
                        dir,
                        &end.id,
                        label.as_deref(),
                        several,
                        Some(&resume),
                    )
                    .await
                    {
                        Ok(saved) => {
                            if !json {
                                let named = match &label {
                                    Some(label) => format!("{} ({label})", end.id),
                                    None => end.id.clone(),
                                };
                                for file in saved_files(&saved) {
                                    eprintln!("saved {noun} {named} to {file}");
                                }
                            }
                            record["download"] = saved;
                        }
                        Err(problem) => {
                            eprintln!(
                                "error: could not save {noun} {}: {problem}; fetch it again with: {resume}",
                                end.id
                            );
                            code = code.max(output::API_ERROR);
                        }
                    }
                }
            }
            JobOutcome::TimedOut(_) => {
                code = code.max(output::TIMED_OUT);
                still_running.push(end.id.clone());
            }
            // Failed, or waiting for the user (an avatar's consent): no success a script may
            // go on from.
            _ => code = code.max(output::FAILED),
        }
        if !json {
            let named = match kind.label_in(&record) {
                Some(label) => format!("{} ({label})", end.id),
                None => end.id.clone(),
            };
            match (&outcome, kind.failure_in(&record)) {
                (JobOutcome::Failed(_), Some(reason)) => {
                    eprintln!("{noun} {named}: failed: {reason}")
                }
                _ => eprintln!("{noun} {named}: {}", outcome.as_str()),
            }
            if matches!(outcome, JobOutcome::NeedsInput(_)) && kind.as_str() == "avatar" {
                eprintln!(
                    "the avatar waits for consent: heygen avatar consent {} --file consent_video=CONSENT.mp4, then: heygen avatar wait {}",
                    end.id, end.id
                );
            }
        }
        match &outcome {
            // What a script can read of a job still running: its id and last status.
            JobOutcome::TimedOut(t) => printed
                .push(json!({"id": end.id, "state": "timed_out", "last_status": t.last_status})),
            _ => printed.push(record),
        }
    }
    if !still_running.is_empty() {
        let resume = resume_command(op, waiting, &still_running, download.as_deref());
        eprintln!("still running at HeyGen; go on with: {resume}");
    }
    match printed.as_slice() {
        [] => {}
        [one] if !several => print_value(one, json),
        many => print_value(&Value::Array(many.to_vec()), json),
    }
    code
}

/// The wait itself, for every kind: the jobs polled together, in bulk where HeyGen can.
async fn wait_all(
    client: &Client,
    kind: JobKind,
    ids: Vec<String>,
    options: WaitOptions,
) -> Result<Vec<Ended>, Error> {
    let order = ids.clone();
    let mut ended: Vec<Ended> = client
        .wait_for_jobs(kind, ids, options)
        .map(|end| Ended {
            id: end.id,
            outcome: end.outcome,
        })
        .collect()
        .await;
    ended.sort_by_key(|e| order.iter().position(|id| *id == e.id));
    Ok(ended)
}

/// The command that takes up the wait again.
fn resume_command(
    op: &OperationInfo,
    waiting: &Waiting,
    ids: &[String],
    download: Option<&Path>,
) -> String {
    let (noun, verb) = match &waiting.verb {
        Some(verb) => (op.command, verb.as_str()),
        None => ("video", "wait"),
    };
    let mut command = format!("heygen {noun} {verb} {}", ids.join(" "));
    if let Some(path) = download {
        command.push_str(&format!(" --download {}", path.display()));
    }
    command
}

/// `path (size)` of each file a save reports.
fn saved_files(saved: &Value) -> Vec<String> {
    let one = |v: &Value| {
        format!(
            "{} ({})",
            v["path"].as_str().unwrap_or_default(),
            output::size(v["bytes"].as_u64().unwrap_or(0))
        )
    };
    match saved {
        Value::Array(files) => files.iter().map(one).collect(),
        file => vec![one(file)],
    }
}

/// Whether `--download PATH` is a folder: one that exists or ends with a separator, or,
/// when the files are `many`, a name without an extension (`out`, not `out.mp4`).
fn is_folder(path: &Path, many: bool) -> bool {
    let text = path.to_string_lossy();
    path.is_dir()
        || text.ends_with('/')
        || text.ends_with(std::path::MAIN_SEPARATOR)
        || (many && path.extension().is_none())
}

/// `Chinese (Simplified)` → `chinese-simplified`: a label as part of a file name.
fn slug(text: &str) -> String {
    let lower = text.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    words.join("-")
}

/// The file one result goes to. In a folder: `<name>.<ext>`, with `-<label>` (a
/// translation's language) and `-<place>` (a clip's number, a layer's name, when the job
/// makes several files) added. A file name for a single result: the path itself. A file
/// name for several results (`clips.mp4`): beside it, `<stem>-<what tells them apart>.<ext>`.
pub(crate) fn result_path(
    path: &Path,
    folder: bool,
    many: bool,
    name: &str,
    label: Option<&str>,
    place: Option<&str>,
    extension: &str,
) -> PathBuf {
    let tag: Vec<String> = [label, place]
        .into_iter()
        .flatten()
        .map(slug)
        .filter(|t| !t.is_empty())
        .collect();
    if folder {
        let mut stem = name.to_string();
        for part in &tag {
            stem.push('-');
            stem.push_str(part);
        }
        return path.join(format!("{stem}.{extension}"));
    }
    if !many {
        return path.to_path_buf();
    }
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "download".into());
    let extension = path
        .extension()
        .map(|e| e.to_string_lossy().into_owned())
        .unwrap_or_else(|| extension.to_string());
    // Without a label or a place, several jobs' files are told apart by their ids.
    let apart = if tag.is_empty() {
        name.to_string()
    } else {
        tag.join("-")
    };
    path.with_file_name(format!("{stem}-{apart}.{extension}"))
}

/// The extension of the file at `url` (`bin` when it names none), and what tells the `n`th
/// of `count` results of a job apart: its place in the record, else its number (none for a
/// single result).
pub(crate) fn extension_and_place<'u>(
    url: &'u str,
    place: &str,
    n: usize,
    count: usize,
) -> (&'u str, Option<String>) {
    let extension = url
        .split(['?', '#'])
        .next()
        .and_then(|u| u.rsplit('/').next())
        .and_then(|file| file.rsplit_once('.'))
        .map_or("bin", |(_, ext)| ext);
    let place = (count > 1).then(|| {
        if place.is_empty() {
            (n + 1).to_string()
        } else {
            place.to_string()
        }
    });
    (extension, place)
}

/// Saves every URL (each with its place in the record) as [`result_path`] names it;
/// `several` says that other jobs' files share `path`.
async fn save_all(
    client: &Client,
    urls: &[(String, String)],
    path: &Path,
    name: &str,
    label: Option<&str>,
    several: bool,
    resume: Option<&str>,
) -> Result<Value, String> {
    if urls.is_empty() {
        return Err("the answer names no file".into());
    }
    let many = several || urls.len() > 1;
    let folder = is_folder(path, many);
    let mut saved = Vec::new();
    for (n, (place, url)) in urls.iter().enumerate() {
        let (extension, place) = extension_and_place(url, place, n, urls.len());
        let file = result_path(path, folder, many, name, label, place.as_deref(), extension);
        if let Some(parent) = file.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
        let interrupt = output::Interrupt::listen();
        let shown = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let reporter = Arc::new(Reporter::for_transfer("starting the download", &shown));
        let progress = Arc::clone(&reporter);
        let download = client
            .download(url, &file)
            .on_progress(move |p| progress.transfer(p));
        let result = output::interruptible(interrupt, &reporter, download.into_future(), || {
            let mut said = format!(
                "stopped the download; nothing was saved to {}",
                file.display()
            );
            if let Some(resume) = resume {
                said.push_str(&format!("; fetch it again with: {resume}"));
            }
            said
        })
        .await;
        reporter.finish();
        let download = result.map_err(|e| output::error_text(&e))?;
        saved.push(json!({"path": file.display().to_string(), "bytes": download.bytes}));
    }
    Ok(if saved.len() == 1 {
        saved.remove(0)
    } else {
        Value::Array(saved)
    })
}

fn print_value(value: &Value, json: bool) {
    if json {
        output::json(value);
    } else {
        output::line(crate::human::render(value).trim_end());
    }
}

/// The wait's display: a spinner with the jobs' counts on a terminal; off one, a line each
/// time a job's status changes.
struct Display {
    noun: String,
    bar: Option<ProgressBar>,
    started: std::time::Instant,
    statuses: Mutex<Vec<(String, Option<String>)>>,
}

impl Display {
    fn new(noun: &str, ids: &[String]) -> Self {
        let bar = output::is_terminal().then(|| {
            let bar = ProgressBar::new_spinner();
            bar.set_style(
                ProgressStyle::with_template("{spinner} [{elapsed_precise}] {wide_msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        let display = Display {
            noun: noun.to_string(),
            bar,
            started: std::time::Instant::now(),
            statuses: Mutex::new(ids.iter().map(|id| (id.clone(), None)).collect()),
        };
        let what = match ids {
            [one] => format!("{noun} {one}"),
            many => format!("{} {noun}s: {}", many.len(), many.join(" ")),
        };
        match &display.bar {
            Some(bar) => bar.set_message(format!("waiting for {what}")),
            None => eprintln!("waiting for {what}"),
        }
        display
    }

    /// `3 video translations: 1 running, 2 completed`, or `lip-sync job ls_1 running`.
    fn summary(&self) -> String {
        let Ok(statuses) = self.statuses.lock() else {
            return self.noun.clone();
        };
        if let [(id, status)] = statuses.as_slice() {
            return format!(
                "{} {id} {}",
                self.noun,
                status.as_deref().unwrap_or("starting")
            );
        }
        let mut counts: Vec<(String, usize)> = Vec::new();
        for (_, status) in statuses.iter() {
            let status = status.clone().unwrap_or_else(|| "starting".into());
            match counts.iter_mut().find(|(s, _)| *s == status) {
                Some((_, n)) => *n += 1,
                None => counts.push((status, 1)),
            }
        }
        let counts: Vec<String> = counts.iter().map(|(s, n)| format!("{n} {s}")).collect();
        format!("{} {}s: {}", statuses.len(), self.noun, counts.join(", "))
    }

    fn event(&self, event: &heygen_api::WaitEvent) {
        let id = event
            .job_id
            .clone()
            .or_else(|| event.video_id.clone())
            .unwrap_or_default();
        let Some(status) = event.status.as_ref().map(|s| s.as_str().to_string()) else {
            return;
        };
        let changed = match self.statuses.lock() {
            Ok(mut statuses) => match statuses.iter_mut().find(|(i, _)| *i == id) {
                Some((_, seen)) if seen.as_deref() != Some(status.as_str()) => {
                    *seen = Some(status.clone());
                    true
                }
                Some(_) => false,
                // A video's wait knows its id only once it polls.
                None => {
                    statuses.push((id.clone(), Some(status.clone())));
                    true
                }
            },
            Err(_) => false,
        };
        match &self.bar {
            Some(bar) => bar.set_message(self.summary()),
            None if changed => eprintln!(
                "{:>7.1}s {} {id} {status}",
                self.started.elapsed().as_secs_f64(),
                self.noun
            ),
            None => {}
        }
    }

    fn is_live(&self) -> bool {
        self.bar.is_some()
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Where each result goes: a folder keeps ids and adds what tells results apart; one
    /// file name for several results puts them beside it, never a folder named `x.mp4`.
    #[test]
    fn results_are_named_by_what_tells_them_apart() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("out/");
        let named = |path: &Path, many, name, label, place| {
            result_path(path, is_folder(path, many), many, name, label, place, "mp4")
        };
        // A folder: `<id>-<language>.mp4`, `<id>-<clip>.mp4`, `<id>-<layer>.webm`.
        assert_eq!(
            named(&folder, true, "vt_1", Some("Chinese (Simplified)"), None),
            folder.join("vt_1-chinese-simplified.mp4")
        );
        assert_eq!(
            named(&folder, true, "clip_1", None, Some("2")),
            folder.join("clip_1-2.mp4")
        );
        // A name without an extension, for several files, is a folder, as before.
        let bare = dir.path().join("clips");
        assert!(is_folder(&bare, true));
        assert!(!is_folder(&bare, false), "one result: the file itself");
        // A file name for several results: beside it, suffixed.
        let file = dir.path().join("tour.mp4");
        assert!(!is_folder(&file, true));
        assert_eq!(
            named(&file, true, "vt_1", Some("Spanish"), None),
            dir.path().join("tour-spanish.mp4")
        );
        assert_eq!(
            named(&file, true, "clip_1", None, Some("2")),
            dir.path().join("tour-2.mp4")
        );
        // Several jobs without a label: told apart by their ids.
        assert_eq!(
            named(&file, true, "ls_9", None, None),
            dir.path().join("tour-ls_9.mp4")
        );
        // One result for a file name: the file itself.
        assert_eq!(named(&file, false, "vt_1", Some("Spanish"), None), file);
    }
}
