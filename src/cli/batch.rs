//! `heygen batch run` and `heygen batch status`.

use std::collections::HashMap;
use std::io::IsTerminal as _;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt as _;
use heygen_api::batch::{BatchEvent, BatchRunner, Job, JobPhase, JobReport, JobResult};
use heygen_api::{Client, Error, WaitOptions};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use serde_json::{json, Value};
use tokio::io::AsyncBufReadExt as _;

use crate::args::{BatchRunArgs, Globals};
use crate::output;

/// Job lines shown at once in the live view; the rest are counted.
const SHOWN_JOBS: usize = 10;

pub(crate) async fn run(client: Client, globals: &Globals, args: BatchRunArgs) -> i32 {
    // A file is checked whole before the first create: a mistake on line 9 is found before
    // lines 1 to 8 are paid for. Standard input is read once, as it comes.
    if args.jobs != Path::new("-") {
        if let Err(code) = check_file(&args.jobs, globals.json) {
            return code;
        }
    }
    let lines = match open_lines(&args.jobs).await {
        Ok(lines) => lines,
        // The file named on the command line: bad input, nothing was sent.
        Err(error) => {
            eprintln!("error: {} (nothing was sent)", output::error_text(&error));
            return output::USAGE;
        }
    };
    let mut interrupt = output::Interrupt::listen();
    let view = Arc::new(View::new(globals.json, count_jobs(&args.jobs)));
    let bad_lines = Arc::new(Mutex::new(0u64));
    let jobs = jobs(lines, Arc::clone(&bad_lines), Arc::clone(&view));

    let mut runner = BatchRunner::new(client)
        .concurrency(args.concurrency)
        .journal(&args.journal)
        .safety_net(args.safety_net)
        .retry_failed(args.retry_failed)
        .poll(
            WaitOptions::new()
                .initial_interval(args.poll_interval)
                .max_interval(args.max_poll_interval),
        );
    if let Some(deadline) = args.timeout {
        runner = runner.deadline(deadline);
    }
    if let Some(dir) = &args.download_dir {
        runner = runner.download_dir(dir);
    }
    let _receiver = match (&args.webhook_listen, &args.webhook_secret) {
        (Some(address), Some(secret)) => {
            let verifier = heygen_api::webhook::Verifier::new(secret.clone());
            match heygen_api::batch::WebhookReceiver::start(*address, verifier).await {
                Ok((receiver, deliveries)) => {
                    eprintln!("receiving webhook deliveries on {}", receiver.local_addr());
                    runner = runner.webhooks(deliveries);
                    Some(receiver)
                }
                // Nothing was sent: the run has not started.
                Err(error) => {
                    output::error(&error);
                    return output::USAGE;
                }
            }
        }
        _ => None,
    };
    let events = Arc::clone(&view);
    runner = runner.on_event(move |event| events.event(event));
    let mut run = match runner.run(jobs) {
        Ok(run) => run,
        // A journal that cannot be read, or that another run holds: nothing was sent.
        Err(error) => {
            output::error(&error);
            return output::USAGE;
        }
    };
    if let Some(bytes) = run.summary().journal_cut_tail {
        eprintln!(
            "note: the journal ended in a torn line ({bytes} bytes: a run was cut off while writing it); it was cut away, and no job is lost by it"
        );
    }
    let every = args.heartbeat.max(Duration::from_millis(100));
    let mut heartbeat = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    let interrupted = loop {
        tokio::select! {
            outcome = run.next() => match outcome {
                Some(outcome) => view.outcome(&outcome),
                None => break false,
            },
            _ = heartbeat.tick() => view.heartbeat(),
            // One listener for the whole run: a Ctrl-C typed while an outcome is shown is
            // heard at the next turn.
            _ = interrupt.heard() => break true,
        }
    };
    let summary = run.summary();
    // Stops the run: jobs in flight stay in the journal.
    drop(run);
    if interrupted && view.live.is_some() {
        output::after_ctrl_c();
    }
    view.finish();
    let bad = *bad_lines.lock().unwrap_or_else(|p| p.into_inner());
    let mut text = summary.to_string();
    match bad {
        0 => {}
        1 => text.push_str("; 1 bad line"),
        n => text.push_str(&format!("; {n} bad lines")),
    }
    eprintln!("{text}");
    // Jobs of the file the run never took: the deadline passed (or the run stopped taking
    // jobs) before their turn.
    let not_started = {
        let tally = view.tally();
        tally
            .total
            .map(|total| total.saturating_sub(tally.bad_lines + tally.finished))
            .unwrap_or(0)
    };
    if not_started > 0 && !interrupted {
        let why = match &summary.stopped_early {
            Some(reason) => format!("the run stopped taking jobs: {reason}"),
            None => "the deadline passed first".to_string(),
        };
        eprintln!(
            "{not_started} job{} of the file not started ({why}); run the same command again to go on",
            if not_started == 1 { "" } else { "s" }
        );
    }
    let failed_before = view.tally().failed_before;
    if failed_before > 0 {
        eprintln!(
            "{failed_before} of the jobs already done had failed; --retry-failed runs them again"
        );
    }
    if globals.json {
        output::line(
            &json!({"state": "summary", "summary": summary, "bad_lines": bad}).to_string(),
        );
    }
    if interrupted {
        eprintln!(
            "interrupted: jobs in flight stay in the journal; run the same command again to resume"
        );
        return 130;
    }
    if !summary.failures.is_empty() || bad > 0 || summary.stopped_early.is_some() {
        output::FAILED
    } else if summary.timed_out() || not_started > 0 {
        output::TIMED_OUT
    } else {
        output::OK
    }
}

/// Room for a job's key on its live line: a longer key keeps its start and its end (where
/// keys of a series differ), so that the phase beside it always shows.
const KEY_ROOM: usize = 24;

fn short_key(key: &str) -> String {
    let count = key.chars().count();
    if count <= KEY_ROOM {
        return key.to_string();
    }
    let tail = KEY_ROOM / 2;
    let head = KEY_ROOM - tail - 1;
    let start: String = key.chars().take(head).collect();
    let end: String = key.chars().skip(count - tail).collect();
    format!("{start}…{end}")
}

/// Why a line of a jobs file is not a job, if it is not: not UTF-8, not JSON, not a job, or
/// a job that the runner would refuse as invalid.
pub(crate) fn line_problem(bytes: Vec<u8>) -> Result<Option<Job>, String> {
    let mut line = String::from_utf8(bytes).map_err(|error| {
        let at = error.utf8_error().valid_up_to() + 1;
        format!("is not UTF-8 text (byte {at})")
    })?;
    if line.ends_with('\r') {
        line.pop();
    }
    if line.trim().is_empty() {
        return Ok(None);
    }
    let value = serde_json::from_str::<Value>(&line).map_err(|e| {
        // serde counts lines within this line: give the column alone.
        let text = e.to_string();
        let text = text.split(" at line ").next().unwrap_or(&text);
        format!("is not JSON: {text} (column {})", e.column())
    })?;
    Job::from_json(value).map(Some).map_err(|e| e.to_string())
}

/// Reads the jobs file once, a line at a time (a campaign's file is not held in memory), and
/// refuses it, with every bad line's number, when any line would not make a job: exit 2,
/// nothing sent.
fn check_file(path: &Path, json_output: bool) -> Result<(), i32> {
    use std::io::BufRead as _;
    let refuse = |problem: String| {
        eprintln!("error: {problem} (nothing was sent)");
        output::USAGE
    };
    let meta = std::fs::metadata(path)
        .map_err(|e| refuse(format!("cannot read {}: {e}", path.display())))?;
    if !meta.is_file() {
        return Err(refuse(format!(
            "{} is not a file of jobs (one JSON object per line)",
            path.display()
        )));
    }
    let file = std::fs::File::open(path)
        .map_err(|e| refuse(format!("cannot read {}: {e}", path.display())))?;
    let mut bad = 0u64;
    for (n, bytes) in std::io::BufReader::new(file).split(b'\n').enumerate() {
        let number = n as u64 + 1;
        let bytes = bytes.map_err(|e| {
            refuse(format!(
                "cannot read {} at line {number}: {e}",
                path.display()
            ))
        })?;
        let problem = match line_problem(bytes) {
            Ok(Some(job)) => job
                .check()
                .err()
                .map(|invalid| format!("invalid: `{}` {}", invalid.field, invalid.reason)),
            Ok(None) => None,
            Err(problem) => Some(problem),
        };
        if let Some(problem) = problem {
            bad += 1;
            eprintln!("line {number}: {problem}");
            if json_output {
                output::line(
                    &json!({"line": number, "state": "bad_line", "reason": problem}).to_string(),
                );
            }
        }
    }
    match bad {
        0 => Ok(()),
        1 => Err(refuse(format!(
            "1 bad line in {}; fix it and run again",
            path.display()
        ))),
        n => Err(refuse(format!(
            "{n} bad lines in {}; fix them and run again",
            path.display()
        ))),
    }
}

/// The jobs in the file (its lines that are not blank), for `N of M`; none for standard input
/// or a file that cannot be read (which the run reports itself).
fn count_jobs(path: &Path) -> Option<u64> {
    if path == Path::new("-") {
        return None;
    }
    use std::io::BufRead as _;
    // Read a line at a time: a campaign's file is not held in memory for a count.
    let file = std::io::BufReader::new(std::fs::File::open(path).ok()?);
    let mut jobs = 0;
    for line in file.split(b'\n') {
        if line.ok()?.iter().any(|b| !b.is_ascii_whitespace()) {
            jobs += 1;
        }
    }
    Some(jobs)
}

/// The lines of the jobs file (or standard input), as bytes: a line that is not UTF-8 is a bad
/// line of its own, not the end of the file.
type Lines = tokio::io::Split<Box<dyn tokio::io::AsyncBufRead + Send + Unpin>>;

/// The lines of the jobs file (or standard input).
async fn open_lines(path: &Path) -> Result<Lines, Error> {
    let reader: Box<dyn tokio::io::AsyncBufRead + Send + Unpin> = if path == Path::new("-") {
        Box::new(tokio::io::BufReader::new(tokio::io::stdin()))
    } else {
        let file = tokio::fs::File::open(path)
            .await
            .map_err(|source| Error::Io {
                context: format!("reading {}", path.display()),
                source,
            })?;
        Box::new(tokio::io::BufReader::new(file))
    };
    Ok(reader.split(b'\n'))
}

/// The jobs of the file, read as the runner asks for them: a bad line is reported with its
/// number and skipped.
fn jobs(
    lines: Lines,
    bad_lines: Arc<Mutex<u64>>,
    view: Arc<View>,
) -> impl futures_core::Stream<Item = Job> + Send + 'static {
    futures_util::stream::unfold((lines, 0u64), move |(mut lines, mut number)| {
        let bad_lines = Arc::clone(&bad_lines);
        let view = Arc::clone(&view);
        async move {
            loop {
                number += 1;
                let bytes = match lines.next_segment().await {
                    Ok(Some(bytes)) => bytes,
                    Ok(None) => return None,
                    Err(error) => {
                        view.bad_line(number, &format!("cannot be read: {error}"));
                        *bad_lines.lock().unwrap_or_else(|p| p.into_inner()) += 1;
                        return None;
                    }
                };
                match line_problem(bytes) {
                    Ok(Some(job)) => return Some((job, (lines, number))),
                    Ok(None) => {}
                    Err(reason) => {
                        view.bad_line(number, &reason);
                        *bad_lines.lock().unwrap_or_else(|p| p.into_inner()) += 1;
                    }
                }
            }
        }
    })
}

/// What a run prints: one JSON object per outcome on stdout (`--json`), a live view on a
/// terminal, or plain lines on stderr with a heartbeat.
struct View {
    json: bool,
    live: Option<Live>,
    state: Mutex<Tally>,
    started: std::time::Instant,
}

/// What the run has done so far, in counts a person reads.
#[derive(Default)]
struct Tally {
    /// Jobs in the file, when it is a file (standard input is not counted ahead).
    total: Option<u64>,
    bad_lines: u64,
    finished: u64,
    /// Jobs the journal says failed in an earlier run.
    failed_before: u64,
    failed: u64,
    /// Each job in flight: its phase and when it started.
    in_flight: HashMap<String, (JobPhase, std::time::Instant)>,
}

impl Tally {
    /// `3 of 16 done (1 failed), 10 in flight, 3 queued`; with the phases when asked.
    fn line(&self, phases: bool) -> String {
        let mut text = match self.total {
            Some(total) => format!(
                "{} of {} done",
                self.finished,
                total.saturating_sub(self.bad_lines)
            ),
            None => format!("{} done", self.finished),
        };
        if self.failed > 0 {
            text.push_str(&format!(" ({} failed)", self.failed));
        }
        text.push_str(&format!(", {} in flight", self.in_flight.len()));
        if phases && !self.in_flight.is_empty() {
            let mut by_phase: std::collections::BTreeMap<String, usize> = Default::default();
            for (phase, _) in self.in_flight.values() {
                *by_phase.entry(phase.to_string()).or_default() += 1;
            }
            let parts: Vec<String> = by_phase.iter().map(|(p, n)| format!("{n} {p}")).collect();
            text.push_str(&format!(" ({})", parts.join(", ")));
        }
        if let Some(total) = self.total {
            let queued = total
                .saturating_sub(self.bad_lines)
                .saturating_sub(self.finished)
                .saturating_sub(self.in_flight.len() as u64);
            text.push_str(&format!(", {queued} queued"));
        }
        text
    }
}

struct Live {
    bars: MultiProgress,
    overall: ProgressBar,
    /// The lines shown, one per job (at most [`SHOWN_JOBS`]).
    jobs: Mutex<HashMap<String, ProgressBar>>,
    /// The display is gone: the run's last events (it may still be stopping) draw nothing.
    closed: std::sync::atomic::AtomicBool,
}

impl View {
    fn new(json: bool, total: Option<u64>) -> Self {
        let live = std::io::stderr().is_terminal().then(|| {
            let bars = MultiProgress::new();
            let overall = bars.add(ProgressBar::new_spinner());
            overall.set_style(
                ProgressStyle::with_template("{spinner} [{elapsed_precise}] {wide_msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            overall.enable_steady_tick(Duration::from_millis(120));
            Live {
                bars,
                overall,
                jobs: Mutex::new(HashMap::new()),
                closed: std::sync::atomic::AtomicBool::new(false),
            }
        });
        View {
            json,
            live,
            state: Mutex::new(Tally {
                total,
                ..Tally::default()
            }),
            started: std::time::Instant::now(),
        }
    }

    fn tally(&self) -> std::sync::MutexGuard<'_, Tally> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn event(&self, event: &BatchEvent) {
        let mut tally = self.tally();
        let key = match event {
            BatchEvent::Creating { key }
            | BatchEvent::InFlight { key, .. }
            | BatchEvent::Status { key, .. }
            | BatchEvent::Downloading { key }
            | BatchEvent::Finished { key } => Some(key.as_str()),
            _ => None,
        };
        if let (Some(key), Some(phase)) = (key, event.phase()) {
            let now = std::time::Instant::now();
            let entry = tally
                .in_flight
                .entry(key.to_string())
                .or_insert((phase, now));
            entry.0 = phase;
        }
        if let BatchEvent::Finished { key } = event {
            tally.in_flight.remove(key);
        }
        let Some(live) = &self.live else {
            return;
        };
        let mut jobs = live.jobs.lock().unwrap_or_else(|p| p.into_inner());
        if live.closed.load(std::sync::atomic::Ordering::Relaxed) {
            return;
        }
        match event {
            BatchEvent::Finished { key } => {
                if let Some(bar) = jobs.remove(key) {
                    bar.finish_and_clear();
                    live.bars.remove(&bar);
                }
            }
            BatchEvent::Throttled { cap } => {
                live.overall
                    .println(format!("HeyGen is at capacity; {cap} in flight"));
            }
            BatchEvent::Status { key, status } => {
                if let (Some(bar), Some((phase, _))) = (jobs.get(key), tally.in_flight.get(key)) {
                    // A job in flight has not ended: a session's `completed` or `failed` only
                    // hands it on to its video, so it is not shown as the job's.
                    if matches!(status.as_str(), "completed" | "failed") {
                        bar.set_message(phase.to_string());
                    } else {
                        bar.set_message(format!("{phase} ({status})"));
                    }
                }
            }
            _ => {
                if let (Some(key), Some(phase)) = (key, event.phase()) {
                    if let Some(bar) = jobs.get(key) {
                        bar.set_message(phase.to_string());
                    }
                }
            }
        }
        // Free lines go to jobs in flight without one, longest running first.
        if jobs.len() < SHOWN_JOBS {
            let mut waiting: Vec<(&String, &(JobPhase, std::time::Instant))> = tally
                .in_flight
                .iter()
                .filter(|(key, _)| !jobs.contains_key(*key))
                .collect();
            waiting.sort_by_key(|(_, (_, since))| *since);
            for (key, (phase, since)) in waiting.into_iter().take(SHOWN_JOBS - jobs.len()) {
                // Whole before it is shown: never a line without its phase.
                let bar = ProgressBar::new_spinner()
                    .with_elapsed(since.elapsed())
                    .with_style(
                        ProgressStyle::with_template(
                            "  {spinner} {prefix:24} {elapsed:>4}  {wide_msg}",
                        )
                        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                    )
                    .with_prefix(short_key(key))
                    .with_message(phase.to_string());
                let bar = live.bars.add(bar);
                bar.enable_steady_tick(Duration::from_millis(200));
                jobs.insert(key.clone(), bar);
            }
        }
        let hidden = tally.in_flight.len().saturating_sub(jobs.len());
        let more = if hidden > 0 {
            format!("; {hidden} more in flight not shown")
        } else {
            String::new()
        };
        live.overall
            .set_message(format!("{}{more}", tally.line(false)));
    }

    fn outcome(&self, outcome: &JobReport) {
        if self.json {
            output::line(&outcome_json(outcome).to_string());
        }
        {
            let mut tally = self.tally();
            tally.finished += 1;
            if outcome.result.is_failure() {
                tally.failed += 1;
            }
            if let JobResult::AlreadyFinished { state, .. } = &outcome.result {
                if *state == heygen_api::batch::FinalState::Failed {
                    tally.failed_before += 1;
                }
            }
        }
        let text = format!("{}: {}", outcome.key, outcome.result);
        match &self.live {
            Some(live) => {
                if outcome.result.is_failure() || !self.json {
                    live.overall.println(text);
                }
                live.overall.set_message(self.tally().line(false));
            }
            None if !self.json => eprintln!("{text}"),
            None => {}
        }
    }

    /// Off a terminal: one line that says the run is alive and how far it is.
    fn heartbeat(&self) {
        if self.live.is_none() {
            eprintln!(
                "[{}] {}",
                output::duration(self.started.elapsed()),
                self.tally().line(true)
            );
        }
    }

    fn bad_line(&self, number: u64, reason: &str) {
        self.tally().bad_lines += 1;
        let text = format!("line {number}: {reason}");
        match &self.live {
            Some(live) => live.overall.println(&text),
            None => eprintln!("{text}"),
        }
        if self.json {
            output::line(
                &json!({"line": number, "state": "bad_line", "reason": reason}).to_string(),
            );
        }
    }

    fn finish(&self) {
        if let Some(live) = &self.live {
            // Under the lock every event draws under: none draws after this.
            let mut jobs = live.jobs.lock().unwrap_or_else(|p| p.into_inner());
            live.closed
                .store(true, std::sync::atomic::Ordering::Relaxed);
            // The lines of jobs still in flight (after Ctrl-C, or a deadline) tick on their
            // own until finished: stopped here, or they would be drawn again after the clear.
            for (_, bar) in jobs.drain() {
                bar.finish_and_clear();
                live.bars.remove(&bar);
            }
            live.overall.finish_and_clear();
            let _ = live.bars.clear();
        }
    }
}

/// One outcome as a JSON object: for every kind, what ended (`id`), its session, its result
/// URLs and the files written; a video's also by the names of a video (`video_id`,
/// `video_url`, `duration`, `file`).
pub(crate) fn outcome_json(outcome: &JobReport) -> Value {
    let result = &outcome.result;
    let mut value = json!({"key": outcome.key, "state": result.name()});
    if let Some(kind) = result.kind() {
        value["kind"] = json!(kind.as_str());
    }
    if let Some(id) = result.id() {
        value["id"] = json!(id);
    }
    if let Some(session_id) = result.session_id() {
        value["session_id"] = json!(session_id);
    }
    if result.record().is_some() {
        value["urls"] = json!(result.urls());
    }
    let files: Vec<String> = result
        .files()
        .iter()
        .map(|f| f.display().to_string())
        .collect();
    if !files.is_empty() {
        value["files"] = json!(files);
    }
    if let Some(video) = result.record().and_then(|record| record.video()) {
        value["video_id"] = json!(video.id);
        value["video_url"] = json!(video.video_url);
        value["duration"] = json!(video.duration);
        value["file"] = json!(files.first());
    }
    match result {
        JobResult::AlreadyFinished {
            state,
            request_changed,
            ..
        } => {
            value["finished_as"] = json!(state.as_str());
            value["request_changed"] = json!(request_changed);
        }
        JobResult::TimedOut { last_status, .. } => {
            value["last_status"] = json!(last_status);
        }
        _ => {}
    }
    if let Some(reason) = result.reason() {
        value["reason"] = json!(reason);
    }
    value
}

/// The result of a call on a journal, or the exit code after its error is said (a journal
/// that cannot be used is the user's to mend: 2, nothing sent).
fn journal_call<T>(result: heygen_api::Result<T>) -> Result<T, i32> {
    result.map_err(|error| {
        eprintln!("error: {}", output::error_text(&error));
        output::USAGE
    })
}

/// `heygen batch compact`: one line per job.
pub(crate) fn compact(journal: &Path, json_output: bool) -> i32 {
    let compacted = match journal_call(heygen_api::batch::compact_journal(journal)) {
        Ok(compacted) => compacted,
        Err(code) => return code,
    };
    if json_output {
        output::json(&json!({
            "jobs": compacted.jobs,
            "bytes_before": compacted.bytes_before,
            "bytes_after": compacted.bytes_after,
        }));
    } else {
        output::line(&format!(
            "{}: {} job{}, {} bytes (was {})",
            journal.display(),
            compacted.jobs,
            if compacted.jobs == 1 { "" } else { "s" },
            compacted.bytes_after,
            compacted.bytes_before
        ));
    }
    output::OK
}

/// `heygen batch salvage`: every readable job kept, each damaged line listed.
pub(crate) fn salvage(journal: &Path, json_output: bool) -> i32 {
    let salvaged = match journal_call(heygen_api::batch::salvage_journal(journal)) {
        Ok(salvaged) => salvaged,
        Err(code) => return code,
    };
    if json_output {
        let dropped: Vec<Value> = salvaged
            .dropped
            .iter()
            .map(|line| {
                json!({
                    "line": line.number,
                    "offset": line.offset,
                    "key": line.key,
                    "job_lost": line.job_lost,
                    "reason": line.reason,
                    "text": line.text,
                })
            })
            .collect();
        output::json(&json!({
            "jobs": salvaged.jobs,
            "dropped": dropped,
            "original": salvaged.original,
            "torn_tail": salvaged.torn_tail,
        }));
        return output::OK;
    }
    let jobs = |n: u64| format!("{n} job{}", if n == 1 { "" } else { "s" });
    let Some(original) = &salvaged.original else {
        output::line(&format!(
            "{}: no damaged line, left as it is ({})",
            journal.display(),
            jobs(salvaged.jobs)
        ));
        return output::OK;
    };
    let count = salvaged.dropped.len();
    output::line(&format!(
        "{}: {} kept; {count} damaged line{} set aside; the file as it was is kept as {}",
        journal.display(),
        jobs(salvaged.jobs),
        if count == 1 { "" } else { "s" },
        original.display()
    ));
    for line in &salvaged.dropped {
        let job = match (&line.key, line.job_lost) {
            (Some(key), true) => format!("job {key}, known nowhere else now"),
            (Some(key), false) => format!("job {key}, kept from its other lines"),
            (None, _) => "no job key readable".to_string(),
        };
        output::line(&format!(
            "  line {} ({job}): {}; starts {:?}",
            line.number, line.reason, line.text
        ));
    }
    if salvaged.dropped.iter().any(|line| line.job_lost) {
        output::line(
            "A job known nowhere else now would be created again by the next run, under a new \
             idempotency key: look it up at HeyGen first (or take its line out of the jobs file).",
        );
    }
    output::OK
}

/// The jobs of a journal that did not complete: key, state and why.
pub(crate) type NotCompleted = Vec<(String, &'static str, String)>;

/// A journal's jobs counted by state, and the ones that did not complete, sorted by key:
/// what `batch status` and the MCP server's `batch_status` report.
pub(crate) fn journal_status(
    journal: &Path,
) -> Result<(heygen_api::batch::JournalJobs, NotCompleted), heygen_api::Error> {
    // One job at a time: a campaign's journal of millions of jobs is read in tens of MiB.
    let mut failed = Vec::new();
    let read = heygen_api::batch::journal_jobs(journal, |key, job| {
        if let Some((state, reason)) = &job.finished {
            if *state != heygen_api::batch::FinalState::Completed {
                let reason = reason.clone().unwrap_or_default();
                failed.push((key.to_string(), state.as_str(), reason));
            }
        }
    })?;
    failed.sort();
    Ok((read, failed))
}

pub(crate) fn status(journal: &Path, jobs_file: Option<&Path>, json_output: bool) -> i32 {
    // The jobs the file holds, counted as a run counts them (its lines that are not blank).
    let in_file = match jobs_file {
        Some(path) => match count_jobs(path) {
            Some(count) => Some(count),
            None => {
                eprintln!("error: cannot read {}", path.display());
                return output::USAGE;
            }
        },
        None => None,
    };
    let (read, failed) = match journal_call(journal_status(journal)) {
        Ok(status) => status,
        Err(code) => return code,
    };
    if json_output {
        let failed: Vec<Value> = failed
            .iter()
            .map(|(key, state, reason)| json!({"key": key, "state": state, "reason": reason}))
            .collect();
        let mut value = json!({"jobs": read.jobs, "counts": read.counts, "failed": failed});
        if let Some(in_file) = in_file {
            value["jobs_in_file"] = json!(in_file);
            value["never_started"] = json!(in_file.saturating_sub(read.jobs));
        }
        output::json(&value);
    } else {
        let jobs = match read.jobs {
            1 => "1 job".to_string(),
            n => format!("{n} jobs"),
        };
        output::line(&match (in_file, jobs_file) {
            (Some(in_file), Some(path)) => format!(
                "{jobs} of the {in_file} in {}; {} never started",
                path.display(),
                in_file.saturating_sub(read.jobs)
            ),
            _ => jobs,
        });
        for (state, count) in &read.counts {
            output::line(&format!(
                "  {}: {count}",
                heygen_api::batch::in_words(state)
            ));
        }
        for (key, state, reason) in &failed {
            output::line(&format!(
                "{key}: {}: {reason}",
                heygen_api::batch::in_words(state)
            ));
        }
    }
    if read.torn_tail {
        eprintln!("note: the journal ends in a torn line (a run was cut off); it is ignored");
    }
    output::OK
}
