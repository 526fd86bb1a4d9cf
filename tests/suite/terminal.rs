//! The `heygen` live displays as a person sees them: each command runs in a pseudo-terminal,
//! its output is read back as a screen (a terminal emulator), and every screen it showed is
//! checked: the ids and how to go on are there, and no value is stale or absurd.
#![cfg(all(feature = "cli", unix))]

use std::io::{Read as _, Write as _};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use heygen_api::simulator::Simulator;
use portable_pty::{CommandBuilder, PtySize};
use regex::Regex;

use crate::common::{Served, PNG};

const ROWS: u16 = 40;
const COLS: u16 = 160;

/// `heygen` in a pseudo-terminal: every screen it drew, and its keyboard.
struct Terminal {
    screens: Arc<Mutex<Vec<String>>>,
    keyboard: Box<dyn std::io::Write + Send>,
    child: Box<dyn portable_pty::Child + Send + Sync>,
    reader: Option<std::thread::JoinHandle<()>>,
    _master: Box<dyn portable_pty::MasterPty + Send>,
}

impl Terminal {
    fn run(sim: &Served, args: &[&str], dir: &std::path::Path) -> Self {
        let pair = portable_pty::native_pty_system()
            .openpty(PtySize {
                rows: ROWS,
                cols: COLS,
                pixel_width: 0,
                pixel_height: 0,
            })
            .unwrap();
        let mut command = CommandBuilder::new(env!("CARGO_BIN_EXE_heygen"));
        command.args(args);
        command.cwd(dir);
        command.env("TERM", "xterm-256color");
        command.env("HEYGEN_BASE_URL", sim.sim().base_url());
        command.env("HEYGEN_API_KEY", sim.sim().api_key());
        command.env("XDG_CONFIG_HOME", dir);
        command.env_remove("RUST_LOG");
        let child = pair.slave.spawn_command(command).unwrap();
        drop(pair.slave);
        let mut output = pair.master.try_clone_reader().unwrap();
        let keyboard = pair.master.take_writer().unwrap();
        let screens = Arc::new(Mutex::new(Vec::new()));
        let shown = Arc::clone(&screens);
        let reader = std::thread::spawn(move || {
            let mut parser = vt100::Parser::new(ROWS, COLS, 0);
            let mut buffer = [0u8; 4096];
            // Ends when the program has exited and the terminal closes (EOF or EIO).
            while let Ok(read) = output.read(&mut buffer) {
                if read == 0 {
                    break;
                }
                parser.process(&buffer[..read]);
                // Row by row: a line drawn to the last column is still its own line.
                let rows: Vec<String> = parser.screen().rows(0, COLS).collect();
                shown.lock().unwrap().push(rows.join("\n"));
            }
        });
        Terminal {
            screens,
            keyboard,
            child,
            reader: Some(reader),
            _master: pair.master,
        }
    }

    /// The screen now.
    fn screen(&self) -> String {
        self.screens
            .lock()
            .unwrap()
            .last()
            .cloned()
            .unwrap_or_default()
    }

    /// Waits until the screen shows `text` (60 s at most), and answers the screen.
    fn wait_for(&self, text: &str) -> String {
        let started = Instant::now();
        loop {
            let screen = self.screen();
            if screen.contains(text) {
                return screen;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "the screen never showed {text:?}:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Types `keys`, as a person would.
    fn type_keys(&mut self, keys: &str) {
        self.keyboard.write_all(keys.as_bytes()).unwrap();
        self.keyboard.flush().unwrap();
    }

    /// Waits for the program to end: its exit code, and every screen it showed.
    fn end(mut self) -> (u32, Vec<String>) {
        let started = Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(
                started.elapsed() < Duration::from_secs(90),
                "still running:\n{}",
                self.screen()
            );
            std::thread::sleep(Duration::from_millis(10));
        };
        drop(self.keyboard);
        if let Some(reader) = self.reader.take() {
            reader.join().unwrap();
        }
        let screens = self.screens.lock().unwrap().clone();
        (status.exit_code(), screens)
    }
}

/// What every screen of every display must respect: no percentage above 100, no transfer
/// that shows more bytes done than its total, no byte count shown as a percentage.
fn nothing_absurd(screens: &[String]) {
    let percent = Regex::new(r"(\d+)%").unwrap();
    let sizes = Regex::new(r"([\d.]+) (B|kB|MB|GB) / ([\d.]+) (B|kB|MB|GB)").unwrap();
    let scale = |unit: &str| match unit {
        "kB" => 1e3,
        "MB" => 1e6,
        "GB" => 1e9,
        _ => 1.0,
    };
    for screen in screens {
        for found in percent.captures_iter(screen) {
            let value: u64 = found[1].parse().unwrap();
            assert!(value <= 100, "{value}% on:\n{screen}");
        }
        for found in sizes.captures_iter(screen) {
            let done = found[1].parse::<f64>().unwrap() * scale(&found[2]);
            let total = found[3].parse::<f64>().unwrap() * scale(&found[4]);
            assert!(done <= total * 1.0001, "{} on:\n{screen}", &found[0]);
        }
        assert!(!screen.contains("% bytes"), "{screen}");
    }
}

/// The last screen's lines that are not blank.
fn last_lines(screens: &[String]) -> Vec<String> {
    screens
        .last()
        .map(|s| {
            s.lines()
                .map(str::trim_end)
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// Types Ctrl-C once `shown` is on the screen. The program must end with 130, its last line
/// `said`, and nothing of a live display left. Answers the last screen's lines.
fn stopped_with_ctrl_c(mut terminal: Terminal, shown: &str, said: &str) -> Vec<String> {
    terminal.wait_for(shown);
    terminal.type_keys("\x03");
    let (code, screens) = terminal.end();
    let last = last_lines(&screens);
    assert_eq!(code, 130, "{last:#?}");
    assert_eq!(last.last().map(String::as_str), Some(said), "{last:#?}");
    assert!(!last.iter().any(|l| l.contains("[00:")), "{last:#?}");
    last
}

/// A wait names its session at once and shows the session's progress, then the video's
/// status without a stale percentage; Ctrl-C stops it with the command that takes it up
/// again, and the live display leaves nothing behind.
#[test]
fn a_wait_shows_its_ids_and_progress_and_ctrl_c_says_how_to_go_on() {
    let sim = Served::start(Simulator::new().time_scale(30.0).render_seconds(600.0));
    let dir = tempfile::tempdir().unwrap();
    let mut terminal = Terminal::run(
        &sim,
        &["video-agent", "create", "--prompt", "A demo", "--wait"],
        dir.path(),
    );
    let screen = terminal.wait_for("Ctrl-C stops waiting");
    let session = Regex::new(r"session (sess_\w+) \(")
        .unwrap()
        .captures(&screen)
        .map(|c| c[1].to_string())
        .unwrap_or_else(|| panic!("no session id:\n{screen}"));
    // The render: the video is named, and its phase shows without a percentage.
    let screen = terminal.wait_for("video processing");
    assert!(
        Regex::new(r"video vid_\w+").unwrap().is_match(&screen),
        "{screen}"
    );
    terminal.type_keys("\x03");
    let (code, screens) = terminal.end();
    assert_eq!(code, 130, "{:?}", last_lines(&screens));
    nothing_absurd(&screens);
    for screen in &screens {
        if let Some(line) = screen.lines().find(|l| l.contains("video processing")) {
            assert!(!line.contains('%'), "a stale percentage: {line}");
        }
    }
    let last = last_lines(&screens);
    assert_eq!(
        last.last().map(String::as_str),
        Some(format!("stopped waiting; go on with: heygen video-agent wait {session}").as_str()),
        "{last:#?}"
    );
    // The live bar was cleared, not left half-drawn above the message.
    assert!(
        !last.iter().any(|l| l.contains("video processing")),
        "{last:#?}"
    );
}

/// A wait to the end, with a download: the bar turns into sizes and a rate, and what stays
/// on the screen is the outcome and where the file went.
#[test]
fn a_wait_and_download_end_with_the_video_and_its_file() {
    let sim = Served::start(Simulator::new().time_scale(120.0));
    let dir = tempfile::tempdir().unwrap();
    let terminal = Terminal::run(
        &sim,
        &[
            "video-agent",
            "create",
            "--prompt",
            "A demo",
            "--download",
            "out/",
        ],
        dir.path(),
    );
    let (code, screens) = terminal.end();
    let last = last_lines(&screens);
    assert_eq!(code, 0, "{last:#?}");
    nothing_absurd(&screens);
    let saved = Regex::new(r"^saved out/(vid_\w+)\.mp4 \([\d.]+ (kB|MB)\)$").unwrap();
    let video = last
        .iter()
        .find_map(|l| saved.captures(l).map(|c| c[1].to_string()))
        .unwrap_or_else(|| panic!("{last:#?}"));
    assert!(dir.path().join("out").join(format!("{video}.mp4")).exists());
    assert!(
        last.iter()
            .any(|l| l.starts_with(&format!("video {video} completed: "))),
        "{last:#?}"
    );
    assert!(
        !last.iter().any(|l| l.contains("[00:")),
        "a live line left behind: {last:#?}"
    );
}

/// An upload shows sizes, a rate and the time left; a file over 32 MiB is hashed as it is sent
/// (no checksum step); several files show their checksums being computed first, then one bar
/// over all of them.
#[test]
fn uploads_show_sizes_and_the_checksum_step() {
    let sim = Served::start(Simulator::new().time_scale(600.0));
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.png");
    let mut bytes = PNG.to_vec();
    bytes.resize(40_000_000, 7);
    std::fs::write(&big, &bytes).unwrap();
    let small = dir.path().join("small.png");
    std::fs::write(&small, PNG).unwrap();

    let terminal = Terminal::run(&sim, &["asset", "upload", "big.png"], dir.path());
    let (code, screens) = terminal.end();
    let last = last_lines(&screens);
    assert_eq!(code, 0, "{last:#?}");
    nothing_absurd(&screens);
    assert!(
        !screens.iter().any(|s| s.contains("checksum ")),
        "one file is hashed as it is sent"
    );
    assert!(
        screens.iter().any(|s| s.contains(" / 40.00 MB")),
        "the bytes sent, in sizes"
    );
    assert!(
        last.iter()
            .any(|l| l.starts_with("big.png asset ")
                && l.contains("completed (image/png, 40.00 MB)")),
        "{last:#?}"
    );

    let terminal = Terminal::run(
        &sim,
        &["asset", "upload", "big.png", "small.png"],
        dir.path(),
    );
    let (code, screens) = terminal.end();
    let last = last_lines(&screens);
    assert_eq!(code, 0, "{last:#?}");
    nothing_absurd(&screens);
    let total = format!("{:.2} MB", (bytes.len() + PNG.len()) as f64 / 1e6);
    let hashing = screens
        .iter()
        .position(|s| s.contains("checksum ") && s.contains(&format!(" / {total}")));
    let sending = screens
        .iter()
        .rposition(|s| !s.contains("checksum ") && s.contains(&format!(" / {total}")));
    assert!(
        matches!((hashing, sending), (Some(h), Some(s)) if h < s),
        "checksums, then one bar over both files ({total}): {hashing:?} {sending:?}"
    );
    assert_eq!(
        last.iter().filter(|l| l.contains(" asset ast_")).count(),
        2,
        "{last:#?}"
    );
}

/// A batch run's live view: `N of M done`, a line per job with its phase and time, and the
/// summary in plain words at the end, with nothing of the live view left.
#[test]
fn a_batch_run_shows_each_job_and_the_counts() {
    let sim = Served::start(Simulator::new().time_scale(60.0));
    let dir = tempfile::tempdir().unwrap();
    // A key longer than its room on the line is cut in the middle: the phase still shows.
    let jobs: Vec<String> = [
        "lesson-1",
        "lesson-2",
        "lesson-with-a-very-long-key-for-the-live-view-3",
    ]
    .iter()
    .map(|key| format!(r#"{{"key": "{key}", "prompt": "Lesson {key}"}}"#))
    .collect();
    std::fs::write(dir.path().join("jobs.jsonl"), jobs.join("\n")).unwrap();
    let terminal = Terminal::run(
        &sim,
        &[
            "batch",
            "run",
            "jobs.jsonl",
            "--journal",
            "run.journal",
            "--poll-interval",
            "1s",
        ],
        dir.path(),
    );
    terminal.wait_for("0 of 3 done, 3 in flight, 0 queued");
    let screen = terminal.wait_for("rendering");
    let job_line = Regex::new(
        r"(?m)^  \S lesson-(\d|with…-live-view-3)\s+\d+s\s+(creating|agent working|rendering)( \(\w+\))?\s*$",
    )
    .unwrap();
    assert!(job_line.is_match(&screen), "{screen}");
    let long = terminal.wait_for("lesson-with…-live-view-3");
    assert!(
        long.lines()
            .any(|row| row.contains("lesson-with…-live-view-3") && job_line.is_match(row)),
        "{long}"
    );
    let (code, screens) = terminal.end();
    let last = last_lines(&screens);
    assert_eq!(code, 0, "{last:#?}");
    nothing_absurd(&screens);
    // Every row that names a job is one job's line or one outcome, never two run together.
    let outcome = Regex::new(
        r"^lesson-(\d|with-a-very-long-key-for-the-live-view-3): completed: video vid_\w+\s*$",
    )
    .unwrap();
    for screen in &screens {
        for row in screen.lines().filter(|row| row.contains("lesson-")) {
            assert!(
                job_line.is_match(row) || outcome.is_match(row),
                "a malformed row {row:?} in:\n{screen}"
            );
            // A job in flight never reads as ended.
            assert!(
                outcome.is_match(row) || !(row.contains("(completed)") || row.contains("(failed)")),
                "{row:?} in:\n{screen}"
            );
        }
    }
    assert!(
        last.last().is_some_and(|l| l.starts_with("3 completed; ")),
        "{last:#?}"
    );
    assert!(!last.iter().any(|l| l.contains(" of 3 done")), "{last:#?}");
}

/// Ctrl-C stops a batch run: the live view goes, and what stays says how to resume.
#[test]
fn ctrl_c_stops_a_batch_run_and_leaves_no_live_line() {
    let sim = Served::start(Simulator::new().time_scale(10.0));
    let dir = tempfile::tempdir().unwrap();
    let jobs: Vec<String> = (1..=12)
        .map(|i| format!(r#"{{"key": "lesson-{i}", "prompt": "Lesson {i}"}}"#))
        .collect();
    std::fs::write(dir.path().join("jobs.jsonl"), jobs.join("\n")).unwrap();
    let terminal = Terminal::run(
        &sim,
        &["batch", "run", "jobs.jsonl", "--journal", "run.journal"],
        dir.path(),
    );
    terminal.wait_for("0 of 12 done, 10 in flight, 2 queued");
    let last = stopped_with_ctrl_c(
        terminal,
        "  rendering",
        "interrupted: jobs in flight stay in the journal; run the same command again to resume",
    );
    assert!(
        !last
            .iter()
            .any(|l| l.contains("lesson-") || l.contains(" in flight,")),
        "{last:#?}"
    );
}

/// A chat on a terminal: the agent's turn, a prompt; an empty line asks again, `approve`
/// renders. Ctrl-D at the prompt stops the chat (not a failure) and says how to go on.
#[test]
fn a_chat_asks_again_on_an_empty_line_and_ctrl_d_says_how_to_go_on() {
    let sim = Served::start(Simulator::new().time_scale(120.0));
    let dir = tempfile::tempdir().unwrap();
    let prompt = "you (`approve` to render)> ";

    let mut terminal = Terminal::run(
        &sim,
        &["video-agent", "chat", "--prompt", "A demo"],
        dir.path(),
    );
    terminal.wait_for(prompt);
    terminal.type_keys("\r");
    let started = Instant::now();
    while terminal.screen().matches(prompt).count() < 2 {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{}",
            terminal.screen()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    terminal.type_keys("approve\r");
    let (code, screens) = terminal.end();
    let last = last_lines(&screens);
    assert_eq!(code, 0, "{last:#?}");
    nothing_absurd(&screens);
    assert!(
        last.iter()
            .any(|l| l.starts_with("video ") && l.contains(" completed: ")),
        "{last:#?}"
    );

    let mut terminal = Terminal::run(
        &sim,
        &["video-agent", "chat", "--prompt", "Another demo"],
        dir.path(),
    );
    let screen = terminal.wait_for(prompt);
    let session = Regex::new(r"session (sess_\w+)")
        .unwrap()
        .captures(&screen)
        .map(|c| c[1].to_string())
        .unwrap_or_else(|| panic!("{screen}"));
    terminal.type_keys("\x04");
    let (code, screens) = terminal.end();
    let last = last_lines(&screens);
    assert_eq!(code, 0, "{last:#?}");
    assert!(
        last.iter().any(|l| l.ends_with(&format!(
            "Go on with: heygen video-agent chat --session {session}"
        ))),
        "{last:#?}"
    );
}

/// `heygen --json ARGS` against `sim`, off a terminal: its answer.
fn answer(sim: &Served, args: &[&str], dir: &std::path::Path) -> serde_json::Value {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_heygen"))
        .arg("--json")
        .args(args)
        .current_dir(dir)
        .env("HEYGEN_BASE_URL", sim.sim().base_url())
        .env("HEYGEN_API_KEY", sim.sim().api_key())
        .env("XDG_CONFIG_HOME", dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Ctrl-C during a download stops it: nothing at the destination, no temporary file beside
/// it, no live line left, and the command that fetches it again.
#[test]
fn ctrl_c_stops_a_download_and_leaves_nothing_behind() {
    let sim = Served::start(
        Simulator::new()
            .time_scale(600.0)
            .file_delay(Duration::from_secs(60)),
    );
    let dir = tempfile::tempdir().unwrap();
    let video = answer(
        &sim,
        &["video-agent", "create", "--prompt", "A demo", "--wait"],
        dir.path(),
    );
    let id = video["video"]["id"]
        .as_str()
        .or(video["id"].as_str())
        .unwrap_or_else(|| panic!("no video id: {video}"))
        .to_string();
    let terminal = Terminal::run(&sim, &["video", "download", &id, "clip.mp4"], dir.path());
    stopped_with_ctrl_c(
        terminal,
        "starting the download",
        &format!(
            "stopped the download; nothing was saved to clip.mp4; download it with: heygen video download {id} clip.mp4"
        ),
    );
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.contains("clip") || name.starts_with(".heygen-download-"))
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

/// Ctrl-C during an upload stops it and says to run the command again.
#[test]
fn ctrl_c_stops_an_upload_and_says_how_to_go_on() {
    let sim = Served::start(Simulator::new().latency(Duration::from_secs(60)));
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = PNG.to_vec();
    bytes.resize(40_000_000, 7);
    std::fs::write(dir.path().join("big.png"), &bytes).unwrap();
    let terminal = Terminal::run(&sim, &["asset", "upload", "big.png"], dir.path());
    stopped_with_ctrl_c(
        terminal,
        "reading the file",
        "stopped the upload of big.png before it was completed; run the same command again to upload it",
    );
}

/// Ctrl-C during a family job's download says what was not saved and the command that
/// fetches it again, as a video's download does.
#[test]
fn ctrl_c_stops_a_family_download_and_says_how_to_fetch_it_again() {
    let sim = Served::start(
        Simulator::new()
            .time_scale(600.0)
            .file_delay(Duration::from_secs(60)),
    );
    let dir = tempfile::tempdir().unwrap();
    let created = answer(
        &sim,
        &[
            "lipsync",
            "create",
            "--data",
            r#"{"video": {"type": "url", "url": "https://example.com/a.mp4"}, "audio": {"type": "url", "url": "https://example.com/a.mp3"}}"#,
        ],
        dir.path(),
    );
    let id = created["lipsync_id"].as_str().unwrap().to_string();
    let terminal = Terminal::run(
        &sim,
        &["lipsync", "wait", &id, "--download", "dub.mp4"],
        dir.path(),
    );
    stopped_with_ctrl_c(
        terminal,
        "dub.mp4: starting the download",
        &format!(
            "stopped the download; nothing was saved to dub.mp4; fetch it again with: heygen lipsync wait {id} --download dub.mp4"
        ),
    );
    assert!(!dir.path().join("dub.mp4").exists());
}
