//! What the CLI prints: JSON or a readable summary on stdout, progress on stderr.

use std::io::IsTerminal as _;
use std::time::Duration;

use heygen_api::{Error, Progress, WaitEvent, WaitPhase};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

/// Exit codes.
pub(crate) const OK: i32 = 0;
pub(crate) const API_ERROR: i32 = 1;
pub(crate) const USAGE: i32 = 2;
pub(crate) const FAILED: i32 = 3;
pub(crate) const TIMED_OUT: i32 = 4;
pub(crate) const UNVERIFIED: i32 = 5;

/// Prints a value as JSON.
pub(crate) fn json<T: Serialize>(value: &T) {
    match serde_json::to_string_pretty(value) {
        Ok(text) => line(&text),
        Err(error) => eprintln!("error: cannot print JSON: {error}"),
    }
}

/// Prints a line on stdout; a closed pipe (`heygen ... | head`) is not an error.
pub(crate) fn line(text: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stdout().lock(), "{text}");
}

/// Reports an error on stderr and picks the exit code.
pub(crate) fn error(error: &Error) -> i32 {
    eprintln!("error: {error}");
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        eprintln!("  caused by: {cause}");
        source = cause.source();
    }
    if let Some(api) = error.api_error() {
        eprintln!("  code: {}", api.code);
        if let Some(doc) = &api.doc_url {
            eprintln!("  docs: {doc}");
        }
    }
    if let Some(id) = error.request_id() {
        eprintln!("  request id: {id}");
    }
    match error {
        Error::InvalidRequest(_) => USAGE,
        Error::Wait(_) => FAILED,
        _ => API_ERROR,
    }
}

/// Progress display: a live bar on a terminal, plain lines otherwise.
pub(crate) struct Reporter {
    bar: Option<ProgressBar>,
}

impl Reporter {
    pub(crate) fn new() -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(100);
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} [{elapsed_precise}] {bar:30} {pos:>3}% {msg}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        Reporter { bar }
    }

    /// One poll of a wait. The session phase reports a percentage, shown on the bar; the
    /// video phase reports none, so the bar turns into a spinner with the elapsed time.
    pub(crate) fn wait_event(&self, event: &WaitEvent) {
        let status = event.status.as_ref().map_or("retrying", |s| s.as_str());
        let video = event.phase == WaitPhase::Video;
        match &self.bar {
            Some(bar) if video => {
                if bar.length().is_some() {
                    bar.set_style(
                        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {msg}")
                            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                    );
                    bar.unset_length();
                }
                bar.set_message(format!("video {status}"));
            }
            Some(bar) => {
                if let Some(progress) = event.progress {
                    bar.set_position(progress.clamp(0, 100) as u64);
                }
                bar.set_message(format!("session {status}"));
            }
            None => {
                let progress = event
                    .progress
                    .filter(|_| !video)
                    .map(|p| format!(" {p}%"))
                    .unwrap_or_default();
                let phase = if video { "video" } else { "session" };
                eprintln!(
                    "{:>7.1}s poll {:>3} {phase} {status}{progress}",
                    event.elapsed.as_secs_f64(),
                    event.polls,
                );
            }
        }
    }

    pub(crate) fn transfer(&self, progress: Progress) {
        match &self.bar {
            Some(bar) => {
                if let Some(total) = progress.total {
                    bar.set_length(total);
                }
                bar.set_position(progress.bytes);
                bar.set_message("bytes");
            }
            None => {
                if progress.total == Some(progress.bytes) || progress.bytes % (1 << 20) < 65_536 {
                    eprintln!(
                        "{} / {} bytes",
                        progress.bytes,
                        progress.total.map_or("?".into(), |t| t.to_string())
                    );
                }
            }
        }
    }

    pub(crate) fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
