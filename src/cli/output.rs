//! What the CLI prints: JSON or a readable summary on stdout, progress on stderr.

use std::io::IsTerminal as _;
use std::time::Duration;

use heygen_api::{Error, Progress, WaitEvent};
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

    pub(crate) fn wait_event(&self, event: &WaitEvent) {
        let status = if event.status.is_empty() {
            "retrying"
        } else {
            event.status.as_str()
        };
        let progress = match (event.progress, status) {
            (Some(p), _) => p.clamp(0, 100) as u64,
            (None, "completed") => 100,
            (None, _) => self.bar.as_ref().map_or(0, |b| b.position()),
        };
        match &self.bar {
            Some(bar) => {
                bar.set_position(progress);
                bar.set_message(format!("{:?} {status}", event.phase).to_lowercase());
            }
            None => eprintln!(
                "{:>7.1}s poll {:>3} {:?} {status} {progress}%",
                event.elapsed.as_secs_f64(),
                event.polls,
                event.phase
            ),
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
