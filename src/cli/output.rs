//! What the CLI prints: JSON or a readable summary on stdout, progress on stderr.

use std::io::IsTerminal as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use heygen_api::{Error, Progress, TransferStep, WaitEvent, WaitPhase};
use indicatif::{DecimalBytes, ProgressBar, ProgressStyle};
use serde::Serialize;

/// Exit codes.
pub(crate) const OK: i32 = 0;
pub(crate) const API_ERROR: i32 = 1;
pub(crate) const USAGE: i32 = 2;
pub(crate) const FAILED: i32 = 3;
pub(crate) const TIMED_OUT: i32 = 4;
pub(crate) const UNVERIFIED: i32 = 5;
/// Stopped by Ctrl-C (128 + SIGINT, as shells report it).
pub(crate) const INTERRUPTED: i32 = 130;

/// Prints a value as JSON.
/// Whether stderr is a terminal (live displays go there).
pub(crate) fn is_terminal() -> bool {
    std::io::stderr().is_terminal()
}

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
    eprintln!("error: {}", error_line(error));
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        eprintln!("  caused by: {cause}");
        source = cause.source();
    }
    if let Some(doc) = error.api_error().and_then(|api| api.doc_url.as_ref()) {
        eprintln!("  docs: {doc}");
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

/// The command that waits again on a session (or, without one, a video), downloading to
/// `download` when the first command did.
pub(crate) fn resume_command(
    session: Option<&str>,
    video: Option<&str>,
    download: Option<&std::path::Path>,
) -> Option<String> {
    let mut command = match (session, video) {
        (Some(session), _) => format!("heygen video-agent wait {session}"),
        (None, Some(video)) => format!("heygen video wait {video}"),
        (None, None) => return None,
    };
    if let Some(path) = download {
        command.push_str(&format!(" --download {}", shell_path(path)));
    }
    Some(command)
}

/// A path as a word of a shell command: quoted when it holds a space or a quote.
pub(crate) fn shell_path(path: &std::path::Path) -> String {
    let path = path.display().to_string();
    if path.contains(char::is_whitespace) || path.contains('\'') {
        format!("'{}'", path.replace('\'', r"'\''"))
    } else {
        path
    }
}

/// Ctrl-C, listened for from the moment this is made: made before a display shows that a
/// transfer has begun, a Ctrl-C typed as soon as it shows is not missed (nor does it end the
/// process before the transfer is undone).
pub(crate) struct Interrupt(
    std::pin::Pin<Box<dyn std::future::Future<Output = std::io::Result<()>> + Send>>,
);

impl Interrupt {
    pub(crate) fn listen() -> Self {
        let mut ctrl_c: std::pin::Pin<Box<dyn std::future::Future<Output = _> + Send>> =
            Box::pin(tokio::signal::ctrl_c());
        // Its first poll installs the handler and starts listening; nothing has been typed yet.
        let _ = futures_util::FutureExt::now_or_never(ctrl_c.as_mut());
        Interrupt(ctrl_c)
    }

    /// Waits for Ctrl-C. Dropped before it is heard (a `select!` that ended otherwise), it
    /// goes on listening: a loop can wait on it again and miss nothing typed in between.
    pub(crate) async fn heard(&mut self) {
        let _ = self.0.as_mut().await;
    }
}

/// Runs a transfer shown by `reporter`. Ctrl-C (heard by `interrupt`) stops it: the transfer
/// is dropped first (a download's temporary file is deleted with it, an upload's file is no
/// longer read), then the display is cleared, `stopped` says what happened and how to go on,
/// and the process ends with [`INTERRUPTED`].
pub(crate) async fn interruptible<T>(
    mut interrupt: Interrupt,
    reporter: &Reporter,
    transfer: impl std::future::Future<Output = T>,
    stopped: impl FnOnce() -> String,
) -> T {
    let ended = tokio::select! {
        ended = transfer => Some(ended),
        _ = interrupt.heard() => None,
    };
    // Here the transfer, if it was stopped, is gone: nothing of it is left behind.
    match ended {
        Some(ended) => ended,
        None => exit_interrupted(reporter.is_live(), || reporter.finish(), &stopped()),
    }
}

/// Ends the process after Ctrl-C: the live display (if `live`) readied and cleared by
/// `clear`, then `said` (what stopped, and how to go on), and [`INTERRUPTED`].
pub(crate) fn exit_interrupted(live: bool, clear: impl FnOnce(), said: &str) -> ! {
    if live {
        after_ctrl_c();
    }
    clear();
    eprintln!("{said}");
    std::process::exit(INTERRUPTED);
}

/// A duration as a person reads it, as the library writes it: `1.9s`, `3m 12s`, `2h 5m`.
pub(crate) fn duration(duration: Duration) -> String {
    heygen_api::readable_duration(duration)
}

/// A size as a person reads it: `12.30 MB`.
pub(crate) fn size(bytes: u64) -> String {
    DecimalBytes(bytes).to_string()
}

/// An error's first line: what failed for the user (the operation's summary, not its
/// operationId), then why; the request id is left to a line of its own.
/// An error and its causes on one line, for a problem of the command line's own input.
pub(crate) fn error_text(error: &Error) -> String {
    let causes = std::iter::successors(std::error::Error::source(error), |e| e.source());
    std::iter::once(error_line(error))
        .chain(causes.map(ToString::to_string))
        .collect::<Vec<_>>()
        .join(": ")
}

fn error_line(error: &Error) -> String {
    let mut text = error.to_string();
    if let Some(id) = error.request_id() {
        text = text.replace(&format!(" [request id {id}]"), "");
    }
    // In the CLI a request body is always `--data`.
    if let Some(invalid) = error.invalid_request().filter(|i| i.field == "body") {
        if invalid.reason == "is required" {
            return "--data is required: the request body as JSON text, @FILE, or - for standard input (nothing was sent)".into();
        }
        let at = if invalid.reason.starts_with("at ") {
            " "
        } else {
            ": "
        };
        return format!("--data{at}{} (nothing was sent)", invalid.reason);
    }
    let operation = match error {
        Error::Api(failure) => Some(failure.operation),
        Error::Decode(failure) => Some(failure.operation),
        Error::Transport { operation, .. }
        | Error::Timeout { operation, .. }
        | Error::RepeatedPageToken { operation, .. } => Some(*operation),
        _ => None,
    };
    if let Some(operation) = operation {
        if let Some(why) = text.strip_prefix(&format!("{operation}: ")) {
            text = format!("could not {}: {why}", what_failed(operation));
        }
    }
    text
}

/// `get_video` → `show a video`: the spec's summary up to its first comma, in lower case
/// but for names (`Video Agent`, `MP4`).
fn what_failed(operation: &str) -> String {
    let summary = heygen_api::operations::find(operation)
        .map_or_else(|| operation.replace('_', " "), |op| op.summary.to_string());
    let phrase = summary.split(',').next().unwrap_or_default().trim();
    let mut chars = phrase.chars();
    match chars.next() {
        Some(first) if !phrase.starts_with("Video Agent") => {
            first.to_lowercase().chain(chars).collect()
        }
        _ => phrase.to_string(),
    }
}

/// Progress display: a live bar on a terminal, plain lines otherwise.
pub(crate) struct Reporter {
    bar: Option<ProgressBar>,
    /// Off a terminal: the next step of a transfer that gets a line (0: its start). On a
    /// terminal: whether a transfer has begun.
    transfer_lines: AtomicU64,
    /// The session and video a wait is on, once seen (announced once each).
    ids: std::sync::Mutex<(Option<String>, Option<String>)>,
    /// The step of a transfer shown now (a new one starts its display over).
    step: std::sync::Mutex<Option<TransferStep>>,
    /// Where a wait's video is to be downloaded, for the command that takes it up again.
    download: Option<std::path::PathBuf>,
    /// The file a transfer moves, named on its lines.
    file: String,
}

/// Readies the terminal for clearing a live display after Ctrl-C.
///
/// A live line is padded to the terminal's width, which leaves the cursor past the last
/// column; a terminal that echoes control keys (`ECHOCTL`, on by default) writes `^C` there,
/// which wraps to the next row. Clearing the display from that row would leave its last frame
/// on the screen: the echo's row is erased, and the cursor goes back up to the display.
pub(crate) fn after_ctrl_c() {
    #[cfg(unix)]
    {
        use rustix::termios::LocalModes;
        use std::io::Write as _;
        let stderr = std::io::stderr();
        let echoed = stderr.is_terminal()
            && rustix::termios::tcgetattr(&stderr).is_ok_and(|modes| {
                modes
                    .local_modes
                    .contains(LocalModes::ECHO | LocalModes::ECHOCTL)
            });
        if echoed {
            let mut stderr = stderr.lock();
            let _ = stderr.write_all(b"\r\x1b[2K\x1b[1A");
            let _ = stderr.flush();
        }
    }
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
        Reporter {
            bar,
            transfer_lines: AtomicU64::new(0),
            ids: std::sync::Mutex::new((None, None)),
            step: std::sync::Mutex::new(None),
            download: None,
            file: String::new(),
        }
    }

    /// A wait's display whose video goes to `download`: the command that takes it up again
    /// downloads there too.
    pub(crate) fn downloading_to(mut self, download: Option<&std::path::Path>) -> Self {
        self.download = download.map(std::path::Path::to_path_buf);
        self
    }

    /// Writes a line on stderr above the live display.
    fn note(&self, text: &str) {
        match &self.bar {
            Some(bar) => bar.println(text),
            None => eprintln!("{text}"),
        }
    }

    /// Announces the session and the video a wait is on, the first time each is seen, so
    /// that an interrupted wait can be taken up again.
    fn announce(&self, event: &WaitEvent) {
        let Ok(mut ids) = self.ids.lock() else { return };
        if let (Some(session), None) = (&event.session_id, &ids.0) {
            let resume =
                resume_command(Some(session), None, self.download.as_deref()).unwrap_or_default();
            self.note(&format!(
                "session {session} (Ctrl-C stops waiting; go on with: {resume})"
            ));
            ids.0 = Some(session.clone());
        }
        if let (Some(video), None) = (&event.video_id, &ids.1) {
            self.note(&format!("video {video}"));
            ids.1 = Some(video.clone());
        }
    }

    /// The command that takes up the wait again, when an id has been seen.
    pub(crate) fn resume_command(&self) -> Option<String> {
        let ids = self.ids.lock().ok()?;
        resume_command(ids.0.as_deref(), ids.1.as_deref(), self.download.as_deref())
    }

    /// A display for an upload or a download: a spinner saying what happens until the first
    /// bytes move (a large file is read and hashed first), then sizes.
    /// `file` names what moves (a file's name), on every line of it.
    pub(crate) fn for_transfer(what: &str, file: &str) -> Self {
        let mut reporter = Self::new();
        reporter.file = file.to_string();
        if let Some(bar) = &reporter.bar {
            bar.set_style(
                ProgressStyle::with_template("{spinner} [{elapsed_precise}] {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.set_message(reporter.named(what));
        }
        reporter
    }

    /// `file: text`, for a transfer's lines.
    fn named(&self, text: &str) -> String {
        if self.file.is_empty() {
            text.to_string()
        } else {
            format!("{}: {text}", self.file)
        }
    }

    /// One poll of a wait. The session phase reports a percentage, shown on the bar; the
    /// video phase reports none, so the bar turns into a spinner with the elapsed time.
    pub(crate) fn wait_event(&self, event: &WaitEvent) {
        self.announce(event);
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

    /// One step of an upload or a download. On a terminal the bar shows sizes, the rate and
    /// the time left; off a terminal a line is written at the start, at every tenth of the
    /// way (every 10 MB when the size is unknown) and at the end.
    pub(crate) fn transfer(&self, progress: Progress) {
        let what = match progress.step {
            TransferStep::Checksum => "checksum ",
            _ => "",
        };
        if let Ok(mut step) = self.step.lock() {
            if *step != Some(progress.step) {
                // A new step: its own start, bar and rate.
                *step = Some(progress.step);
                self.transfer_lines.store(0, Ordering::Relaxed);
            }
        }
        match &self.bar {
            Some(bar) => {
                let started = self.transfer_lines.swap(1, Ordering::Relaxed) == 0;
                if started {
                    let template = if progress.total.is_some() {
                        "{spinner} [{elapsed_precise}] {msg}{bar:30} {decimal_bytes} / {decimal_total_bytes} {decimal_bytes_per_sec} ETA {eta}"
                    } else {
                        "{spinner} [{elapsed_precise}] {msg}{decimal_bytes} {decimal_bytes_per_sec}"
                    };
                    bar.set_style(
                        ProgressStyle::with_template(template)
                            .unwrap_or_else(|_| ProgressStyle::default_bar()),
                    );
                    bar.set_message(self.named(what));
                    bar.reset_eta();
                }
                match progress.total {
                    Some(total) => bar.set_length(total),
                    None => bar.unset_length(),
                }
                bar.set_position(progress.bytes);
            }
            None => {
                if let Some(line) =
                    transfer_line(progress.bytes, progress.total, &self.transfer_lines)
                {
                    eprintln!("{}", self.named(&format!("{what}{line}")));
                }
            }
        }
    }

    /// Whether a live display is on the terminal.
    pub(crate) fn is_live(&self) -> bool {
        self.bar.is_some()
    }

    pub(crate) fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// The line a transfer writes off a terminal at `bytes` of `total`, if this step gets one. `next`
/// holds the next step that does: a tenth of the total (or 10 MB when the total is unknown).
fn transfer_line(bytes: u64, total: Option<u64>, next: &AtomicU64) -> Option<String> {
    const UNKNOWN_STEP: u64 = 10_000_000;
    let step = match total {
        Some(total) if total > 0 => bytes.saturating_mul(10) / total,
        _ => bytes / UNKNOWN_STEP,
    };
    let done = total.is_some_and(|t| bytes >= t);
    let due = next.load(Ordering::Relaxed);
    // The start, each new step, and the end (once).
    let print = (bytes == 0 && due == 0) || step >= due || done;
    if !print || due == u64::MAX {
        return None;
    }
    next.store(if done { u64::MAX } else { step + 1 }, Ordering::Relaxed);
    Some(match total {
        Some(total) => format!(
            "{} / {} ({}%)",
            DecimalBytes(bytes),
            DecimalBytes(total),
            bytes.saturating_mul(100) / total.max(1)
        ),
        None => format!("{}", DecimalBytes(bytes)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(total: Option<u64>, chunk: u64, size: u64) -> Vec<String> {
        let next = AtomicU64::new(0);
        let mut printed = Vec::new();
        let mut bytes = 0;
        loop {
            if let Some(line) = transfer_line(bytes, total, &next) {
                printed.push(line);
            }
            if bytes >= size {
                break;
            }
            bytes = (bytes + chunk).min(size);
        }
        printed
    }

    #[test]
    fn a_transfer_off_a_terminal_writes_a_line_per_tenth_in_sizes() {
        // 12 MB read 4 KB at a time: the start, nine tenths, the end.
        let printed = lines(Some(12_000_000), 4096, 12_000_000);
        assert_eq!(printed.len(), 11, "{printed:#?}");
        assert_eq!(printed[0], "0 B / 12.00 MB (0%)");
        assert!(printed[5].starts_with("6.0") && printed[5].ends_with("(50%)"));
        assert_eq!(printed[10], "12.00 MB / 12.00 MB (100%)");
    }

    #[test]
    fn a_transfer_of_unknown_size_writes_a_line_every_ten_megabytes() {
        let printed = lines(None, 65_536, 25_000_000);
        assert_eq!(printed.len(), 3, "{printed:#?}");
        assert_eq!(printed[0], "0 B");
        assert!(printed[1].starts_with("10.0"), "{printed:#?}");
    }

    #[test]
    fn a_tiny_transfer_writes_its_start_and_end_once() {
        assert_eq!(
            lines(Some(10), 10, 10),
            ["0 B / 10 B (0%)", "10 B / 10 B (100%)"]
        );
    }
}
