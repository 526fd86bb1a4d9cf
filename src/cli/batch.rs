//! `heygen batch run` and `heygen batch status`.

use std::collections::HashMap;
use std::io::IsTerminal as _;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt as _;
use heygen_api::batch::{BatchEvent, BatchRunner, Job, JobOutcome, JobResult, JournalSummary};
use heygen_api::{Client, Error, WaitOptions};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use serde_json::{json, Value};
use tokio::io::AsyncBufReadExt as _;

use crate::args::{BatchRunArgs, Globals};
use crate::output;

/// Job lines shown at once in the live view; the rest are counted.
const SHOWN_JOBS: usize = 10;

pub(crate) async fn run(client: Client, globals: &Globals, args: BatchRunArgs) -> i32 {
    let lines = match open_lines(&args.jobs).await {
        Ok(lines) => lines,
        Err(error) => return output::error(&error),
    };
    let view = Arc::new(View::new(globals.json));
    let bad_lines = Arc::new(Mutex::new(0u64));
    let jobs = jobs(lines, Arc::clone(&bad_lines), Arc::clone(&view));

    let mut runner = BatchRunner::new(client)
        .concurrency(args.concurrency)
        .journal(&args.journal)
        .safety_net(args.safety_net)
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
                Err(error) => return output::error(&error),
            }
        }
        _ => None,
    };
    let events = Arc::clone(&view);
    runner = runner.on_event(move |event| events.event(event));
    let mut run = match runner.run(jobs) {
        Ok(run) => run,
        Err(error) => return output::error(&error),
    };
    let interrupted = loop {
        tokio::select! {
            outcome = run.next() => match outcome {
                Some(outcome) => view.outcome(&outcome),
                None => break false,
            },
            _ = tokio::signal::ctrl_c() => break true,
        }
    };
    let summary = run.summary();
    // Stops the run: jobs in flight stay in the journal.
    drop(run);
    view.finish();
    let bad = *bad_lines.lock().unwrap_or_else(|p| p.into_inner());
    let mut text = summary.to_string();
    match bad {
        0 => {}
        1 => text.push_str("; 1 bad line"),
        n => text.push_str(&format!("; {n} bad lines")),
    }
    eprintln!("{text}");
    if interrupted {
        eprintln!(
            "interrupted: jobs in flight stay in the journal; run the same command again to resume"
        );
        return 130;
    }
    if !summary.failures.is_empty() || bad > 0 {
        output::FAILED
    } else if summary.timed_out() {
        output::TIMED_OUT
    } else {
        output::OK
    }
}

/// The lines of the jobs file (or standard input).
async fn open_lines(
    path: &Path,
) -> Result<tokio::io::Lines<Box<dyn tokio::io::AsyncBufRead + Send + Unpin>>, Error> {
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
    Ok(reader.lines())
}

/// The jobs of the file, read as the runner asks for them: a bad line is reported with its
/// number and skipped.
fn jobs(
    lines: tokio::io::Lines<Box<dyn tokio::io::AsyncBufRead + Send + Unpin>>,
    bad_lines: Arc<Mutex<u64>>,
    view: Arc<View>,
) -> impl futures_core::Stream<Item = Job> + Send + 'static {
    futures_util::stream::unfold((lines, 0u64), move |(mut lines, mut number)| {
        let bad_lines = Arc::clone(&bad_lines);
        let view = Arc::clone(&view);
        async move {
            loop {
                number += 1;
                let line = match lines.next_line().await {
                    Ok(Some(line)) => line,
                    Ok(None) => return None,
                    Err(error) => {
                        view.bad_line(number, &format!("cannot be read: {error}"));
                        *bad_lines.lock().unwrap_or_else(|p| p.into_inner()) += 1;
                        return None;
                    }
                };
                if line.trim().is_empty() {
                    continue;
                }
                let parsed = serde_json::from_str::<Value>(&line)
                    .map_err(|e| {
                        // serde counts lines within this line: give the column alone.
                        let text = e.to_string();
                        let text = text.split(" at line ").next().unwrap_or(&text);
                        format!("is not JSON: {text} (column {})", e.column())
                    })
                    .and_then(|value| Job::from_json(value).map_err(|e| e.to_string()));
                match parsed {
                    Ok(job) => return Some((job, (lines, number))),
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
/// terminal, or plain lines on stderr.
struct View {
    json: bool,
    live: Option<Live>,
}

struct Live {
    bars: MultiProgress,
    overall: ProgressBar,
    /// The lines shown, one per job (at most [`SHOWN_JOBS`]).
    jobs: Mutex<HashMap<String, ProgressBar>>,
    /// Every job in flight.
    in_flight: Mutex<std::collections::HashSet<String>>,
    counts: Mutex<(u64, u64)>,
}

impl View {
    fn new(json: bool) -> Self {
        let live = std::io::stderr().is_terminal().then(|| {
            let bars = MultiProgress::new();
            let overall = bars.add(ProgressBar::new_spinner());
            overall.set_style(
                ProgressStyle::with_template("{spinner} [{elapsed_precise}] {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            overall.enable_steady_tick(Duration::from_millis(120));
            Live {
                bars,
                overall,
                jobs: Mutex::new(HashMap::new()),
                in_flight: Mutex::new(std::collections::HashSet::new()),
                counts: Mutex::new((0, 0)),
            }
        });
        View { json, live }
    }

    fn event(&self, event: &BatchEvent) {
        let Some(live) = &self.live else {
            return;
        };
        {
            let mut in_flight = live.in_flight.lock().unwrap_or_else(|p| p.into_inner());
            match event {
                BatchEvent::Creating { key } | BatchEvent::InFlight { key, .. } => {
                    in_flight.insert(key.clone());
                }
                BatchEvent::Finished { key } => {
                    in_flight.remove(key);
                }
                _ => {}
            }
        }
        let mut jobs = live.jobs.lock().unwrap_or_else(|p| p.into_inner());
        match event {
            BatchEvent::InFlight { key, .. } | BatchEvent::Creating { key } => {
                if !jobs.contains_key(key) && jobs.len() < SHOWN_JOBS {
                    let bar = live.bars.add(ProgressBar::new_spinner());
                    bar.set_style(
                        ProgressStyle::with_template("  {spinner} {prefix} {msg}")
                            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                    );
                    bar.set_prefix(key.clone());
                    bar.enable_steady_tick(Duration::from_millis(200));
                    jobs.insert(key.clone(), bar);
                }
                if let Some(bar) = jobs.get(key) {
                    bar.set_message(match event {
                        BatchEvent::Creating { .. } => "creating".to_string(),
                        _ => "in flight".to_string(),
                    });
                }
            }
            BatchEvent::Status { key, status } => {
                if let Some(bar) = jobs.get(key) {
                    bar.set_message(status.clone());
                }
            }
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
            _ => {}
        }
        drop(jobs);
        let in_flight = live
            .in_flight
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .len();
        let (done, failed) = *live.counts.lock().unwrap_or_else(|p| p.into_inner());
        live.overall.set_message(format!(
            "{done} done, {failed} failed, {in_flight} in flight"
        ));
    }

    fn outcome(&self, outcome: &JobOutcome) {
        if self.json {
            output::line(&outcome_json(outcome).to_string());
        }
        match &self.live {
            Some(live) => {
                let mut counts = live.counts.lock().unwrap_or_else(|p| p.into_inner());
                counts.0 += 1;
                if outcome.result.is_failure() {
                    counts.1 += 1;
                }
                if outcome.result.is_failure() || !self.json {
                    live.overall
                        .println(format!("{}: {}", outcome.key, outcome.result));
                }
            }
            None if !self.json => eprintln!("{}: {}", outcome.key, outcome.result),
            None => {}
        }
    }

    fn bad_line(&self, number: u64, reason: &str) {
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
            live.overall.finish_and_clear();
            let _ = live.bars.clear();
        }
    }
}

/// One outcome as a JSON object.
fn outcome_json(outcome: &JobOutcome) -> Value {
    let mut value = json!({"key": outcome.key, "state": outcome.result.name()});
    match &outcome.result {
        JobResult::Completed {
            session_id,
            video,
            file,
            ..
        } => {
            value["session_id"] = json!(session_id);
            value["video_id"] = json!(video.id);
            value["video_url"] = json!(video.video_url);
            value["duration"] = json!(video.duration);
            value["file"] = json!(file.as_ref().map(|f| f.display().to_string()));
        }
        JobResult::VideoFailed {
            session_id,
            video_id,
            ..
        } => {
            value["session_id"] = json!(session_id);
            value["video_id"] = json!(video_id);
        }
        JobResult::SessionFailed { session_id, .. } | JobResult::NeedsInput { session_id } => {
            value["session_id"] = json!(session_id);
        }
        JobResult::AlreadyFinished {
            state,
            request_changed,
            ..
        } => {
            value["finished_as"] = json!(state.as_str());
            value["request_changed"] = json!(request_changed);
        }
        JobResult::TimedOut {
            session_id,
            video_id,
            last_status,
        } => {
            value["session_id"] = json!(session_id);
            value["video_id"] = json!(video_id);
            value["last_status"] = json!(last_status);
        }
        _ => {}
    }
    if let Some(reason) = outcome.result.reason() {
        value["reason"] = json!(reason);
    }
    value
}

/// `heygen batch status`: counts per state and the failed jobs, from the journal alone.
pub(crate) fn status(journal: &Path, json_output: bool) -> i32 {
    let summary = match JournalSummary::read(journal) {
        Ok(summary) => summary,
        Err(error) => return output::error(&error),
    };
    let mut failed: Vec<(String, &'static str, String)> = summary
        .jobs
        .iter()
        .filter_map(|(key, job)| {
            let (state, reason) = job.finished.as_ref()?;
            (*state != heygen_api::batch::FinalState::Completed).then(|| {
                (
                    key.clone(),
                    state.as_str(),
                    reason.clone().unwrap_or_default(),
                )
            })
        })
        .collect();
    failed.sort();
    let counts = summary.counts();
    if json_output {
        let failed: Vec<Value> = failed
            .iter()
            .map(|(key, state, reason)| json!({"key": key, "state": state, "reason": reason}))
            .collect();
        output::json(&json!({"jobs": summary.jobs.len(), "counts": counts, "failed": failed}));
    } else {
        output::line(&format!("{} jobs", summary.jobs.len()));
        for (state, count) in &counts {
            output::line(&format!("  {state}: {count}"));
        }
        for (key, state, reason) in &failed {
            output::line(&format!("{key} {state}: {reason}"));
        }
    }
    if summary.torn_tail {
        eprintln!("note: the journal ends in a torn line (a run was cut off); it is ignored");
    }
    output::OK
}
