//! The batch journal's promise where money is at stake: no create leaves the process before
//! the journal record that holds its idempotency key is on the disk. And a download's: a file
//! gets its name only once its bytes are on the disk, so a run that finds the file after a
//! power cut finds it whole.
//!
//! Observed from outside, at the level of system calls: `heygen batch run` runs under
//! `strace`, which logs every write to the journal, every `fdatasync` and every request written
//! to a socket, in the order they happened. A create counts as sent when its request's write
//! begins, and a record as durable when an `fdatasync` that began after the record was written
//! has returned.
#![cfg(feature = "cli")]

use crate::common;
use std::collections::{HashMap, HashSet};
use std::process::Command;

use crate::common::Served as Sim;

/// The idempotency key of a journal write of a `creating` record, as strace prints it.
fn recorded_key(line: &str) -> Option<&str> {
    let start = line.find(r#"\"event\":\"creating\""#)?;
    let rest = &line[start..];
    let key = rest.split(r#"\"idempotency_key\":\""#).nth(1)?;
    key.split('\\').next()
}

/// The idempotency key of a Video Agent create written to a socket.
fn sent_key(line: &str) -> Option<&str> {
    if !line.contains("POST /v3/video-agents ") {
        return None;
    }
    let lower = line.to_ascii_lowercase();
    let at = lower.find("idempotency-key: ")? + "idempotency-key: ".len();
    line[at..].split('\\').next()
}

/// What the trace shows: the creates sent before their record was durable, the creates, the
/// records and the syncs.
#[derive(Debug, Default)]
struct Order {
    early: Vec<String>,
    creates: usize,
    records: usize,
    syncs: usize,
}

/// A system call's first argument as strace prints it: for the calls traced here, the file
/// descriptor.
fn first_arg(call: &str) -> String {
    let args = call.split_once('(').map(|(_, a)| a).unwrap_or("");
    args.split([',', ')', ' ']).next().unwrap_or("").to_string()
}

/// What a traced call says of a sync: whether one begins here, and whether one returns here
/// (begun here, or earlier on the same thread) and if so whether it succeeded.
fn sync_steps(call: &str) -> (bool, Option<bool>) {
    let begins = call.starts_with("fdatasync(") || call.starts_with("fsync(");
    let returns = (begins && !call.contains("<unfinished"))
        || call.starts_with("<... fdatasync resumed>")
        || call.starts_with("<... fsync resumed>");
    (begins, returns.then(|| call.trim_end().ends_with("= 0")))
}

fn check_order(trace: &str) -> Order {
    let mut order = Order::default();
    let mut written: Vec<String> = Vec::new();
    let mut durable: HashSet<String> = HashSet::new();
    // The journal's file descriptors: those records are written to. A sync of another file
    // (a downloaded video's) covers no record.
    let mut journal: HashSet<String> = HashSet::new();
    // A sync of the journal begun and not yet returned, by thread: how many records it covers.
    let mut syncing: HashMap<&str, usize> = HashMap::new();
    for line in trace.lines() {
        let Some((pid, call)) = line.split_once(' ') else {
            continue;
        };
        let call = call.trim_start();
        let (sync_begins, sync_returns) = sync_steps(call);
        if sync_begins && journal.contains(&first_arg(call)) {
            syncing.insert(pid, written.len());
        }
        if let Some(succeeded) = sync_returns {
            if let Some(covered) = syncing.remove(pid) {
                if succeeded {
                    order.syncs += 1;
                    durable.extend(written[..covered].iter().cloned());
                }
            }
        }
        if let Some(key) = recorded_key(call) {
            order.records += 1;
            written.push(key.to_string());
            journal.insert(first_arg(call));
        }
        if let Some(key) = sent_key(call) {
            order.creates += 1;
            if !durable.contains(key) {
                order.early.push(key.to_string());
            }
        }
    }
    order
}

/// Runs `heygen` with `args` against `sim` under `strace`, which logs the system calls that
/// write, sync or rename files and send requests, with the path of each file descriptor
/// (`-y`), and makes the calls `faults` name fail (`-e inject=..`). Answers the run's output
/// and the trace.
fn traced(sim: &Sim, faults: &[&str], args: &[&std::ffi::OsStr]) -> (std::process::Output, String) {
    let strace = Command::new("strace").arg("-V").output();
    assert!(
        strace.is_ok_and(|o| o.status.success()),
        "this test needs strace (Debian's package `strace`)"
    );
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("trace");
    let mut strace = Command::new("strace");
    strace
        .args(["-f", "-qq", "-y", "-s", "4096", "-o"])
        .arg(&trace)
        .args([
            "-e",
            "trace=write,writev,pwrite64,sendto,sendmsg,fdatasync,fsync,rename,renameat,renameat2",
        ]);
    for fault in faults {
        strace.args(["-e", &format!("inject={fault}")]);
    }
    let out = strace
        .arg(env!("CARGO_BIN_EXE_heygen"))
        .args(args)
        .env("HEYGEN_BASE_URL", sim.sim().base_url())
        .env("HEYGEN_API_KEY", sim.sim().api_key())
        .output()
        .unwrap();
    let trace = std::fs::read_to_string(&trace).unwrap();
    (out, trace)
}

/// The run's own exit, asserted successful.
fn succeeded(out: &std::process::Output) {
    assert!(
        out.status.success(),
        "the run failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A jobs file of 25 Video Agent jobs in `dir`, and the arguments of `heygen --json batch run`
/// over it with a journal beside it, 10 in flight.
fn twenty_five_jobs(dir: &std::path::Path) -> Vec<std::ffi::OsString> {
    let jobs = dir.join("jobs.jsonl");
    let lines: String = (0..25)
        .map(|i| format!("{{\"key\":\"job-{i}\",\"prompt\":\"Clip {i}\"}}\n"))
        .collect();
    std::fs::write(&jobs, lines).unwrap();
    let mut args: Vec<std::ffi::OsString> = ["--json", "batch", "run"].map(Into::into).into();
    args.push(jobs.into());
    args.push("--journal".into());
    args.push(dir.join("run.journal").into());
    args.extend(["--concurrency", "10", "--poll-interval", "20ms"].map(Into::into));
    args
}

#[test]
fn no_create_leaves_before_its_record_is_on_the_disk_nor_a_video_unsynced() {
    let sim = Sim::start(common::fast_simulator());
    let dir = tempfile::tempdir().unwrap();
    let mut args = twenty_five_jobs(dir.path());
    args.push("--download-dir".into());
    args.push(dir.path().join("videos").into());
    let args: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
    let (out, trace) = traced(&sim, &[], &args);
    succeeded(&out);
    let order = check_order(&trace);
    // The trace was read: every job's record and create were seen in it.
    assert_eq!((order.records, order.creates), (25, 25), "{order:?}");
    assert!(
        order.early.is_empty(),
        "creates sent before their record was synced: {order:?}"
    );
    // Creates taken together share a sync: the first ten, at least.
    assert!(order.syncs < 25, "{order:?}");
    assert_eq!(sim.sim().session_count(), 25);
    // Every video was on the disk before it got its name: a resume that finds it finds it whole.
    let renames = check_renames(&trace);
    assert_eq!(renames.renamed, 25, "{renames:?}");
    assert!(
        renames.unsynced.is_empty(),
        "videos renamed before their bytes were synced: {renames:?}"
    );
}

/// A journal the disk stops taking: the syncs after the first group of creates fail (EIO,
/// injected by strace). No create whose record was not synced is sent; the run stops taking
/// jobs and says why; a later run sends the rest under their recorded keys, and no job is
/// created twice.
#[test]
fn a_failed_sync_sends_nothing_it_did_not_cover_and_a_later_run_finishes_the_rest() {
    let sim = Sim::start(common::fast_simulator());
    let dir = tempfile::tempdir().unwrap();
    let args = twenty_five_jobs(dir.path());
    let args: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
    // From each thread's second sync on, every sync fails: the sync on opening (the main
    // thread's first) and the first sync for creates (the syncing thread's first) succeed.
    let (out, trace) = traced(&sim, &["fdatasync:error=EIO:when=2+"], &args);
    let order = check_order(&trace);
    assert!(order.early.is_empty(), "{order:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let state = |wanted: &str| lines.iter().filter(|l| l["state"] == wanted).count();
    let (completed, rejected) = (state("completed"), state("rejected"));
    assert!(
        (1..25).contains(&completed),
        "some jobs, not all, went out before the syncs failed: {stdout}"
    );
    // The creates the failed sync was for were not sent (there is always one: a sync is only
    // made for creates waiting on it).
    assert!(rejected >= 1, "{stdout}");
    // Only the creates the good sync covered reached HeyGen.
    assert_eq!(sim.sim().session_count(), completed, "{stdout}");
    assert_eq!(order.creates, completed, "{order:?}");
    let summary = lines.iter().find(|l| l["state"] == "summary").unwrap();
    // And the summary counts only those as sent.
    assert_eq!(
        summary["summary"]["requests"]["creates"].as_u64(),
        Some(completed as u64),
        "{summary}"
    );
    let stopped = summary["summary"]["stopped_early"]
        .as_str()
        .unwrap_or_default();
    assert!(stopped.contains("syncing the journal"), "{summary}");
    for rejected in lines.iter().filter(|l| l["state"] == "rejected") {
        let reason = rejected["reason"].as_str().unwrap_or_default();
        assert!(reason.contains("syncing the journal"), "{rejected}");
    }

    // The disk is back: the same run finishes the rest, each job created once.
    let out = Command::new(env!("CARGO_BIN_EXE_heygen"))
        .args(&args)
        .env("HEYGEN_BASE_URL", sim.sim().base_url())
        .env("HEYGEN_API_KEY", sim.sim().api_key())
        .output()
        .unwrap();
    succeeded(&out);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let again = |wanted: &str| stdout.matches(&format!("\"state\":\"{wanted}\"")).count();
    assert_eq!(
        (again("already_finished"), again("completed")),
        (completed, 25 - completed),
        "{stdout}"
    );
    assert_eq!(sim.sim().session_count(), 25);
}

#[test]
fn the_checker_finds_a_create_sent_before_its_sync_returned() {
    // A record, its create sent while the sync is still out, then the sync returning: early.
    let record = r#"7 write(9, "{\"event\":\"creating\",\"key\":\"a\",\"kind\":\"video_agent\",\"idempotency_key\":\"k-1\",\"at\":1}\n", 90) = 90"#;
    let send = r#"8 writev(12, [{iov_base="POST /v3/video-agents HTTP/1.1\r\nidempotency-key: k-1\r\n\r\n", iov_len=60}], 1) = 60"#;
    let early = [
        record,
        "9 fdatasync(9 <unfinished ...>",
        send,
        "9 <... fdatasync resumed>) = 0",
    ]
    .join("\n");
    let order = check_order(&early);
    assert_eq!((order.records, order.creates), (1, 1));
    assert_eq!(order.early, ["k-1"]);
    // The same with the sync returned first: in order.
    let in_order = [record, "9 fdatasync(9) = 0", send].join("\n");
    assert!(check_order(&in_order).early.is_empty());
    // A sync begun before the record was written does not cover it.
    let stale = ["9 fdatasync(9) = 0", record, send].join("\n");
    assert_eq!(check_order(&stale).early, ["k-1"]);
    // Nor does a sync of another file (a downloaded video).
    let other = [record, "9 fsync(14) = 0", send].join("\n");
    assert_eq!(check_order(&other).early, ["k-1"]);
}

/// What a trace shows of downloads: files renamed into place, and those among them renamed
/// before a sync begun after their last write had returned.
#[derive(Debug, Default)]
struct Renames {
    renamed: usize,
    unsynced: Vec<String>,
}

/// The path strace shows (with `-y`) beside a call's first argument, its file descriptor.
fn fd_path(call: &str) -> Option<&str> {
    let args = call.split_once('(')?.1;
    let path = args.strip_prefix(|c: char| c.is_ascii_digit())?;
    let path = path.trim_start_matches(|c: char| c.is_ascii_digit());
    path.strip_prefix('<')?.split('>').next()
}

/// A download's temporary file.
fn is_download(path: &str) -> bool {
    path.contains("/.heygen-download-")
}

fn check_renames(trace: &str) -> Renames {
    let mut renames = Renames::default();
    // Each temporary file written: whether a sync has covered its last write.
    let mut synced: HashMap<String, bool> = HashMap::new();
    // A sync of a temporary file begun and not yet returned, by thread: the file, and
    // whether it was written to since the sync began.
    let mut syncing: HashMap<&str, (String, bool)> = HashMap::new();
    for line in trace.lines() {
        let Some((pid, call)) = line.split_once(' ') else {
            continue;
        };
        let call = call.trim_start();
        let path = fd_path(call).filter(|p| is_download(p));
        let (is_sync, sync_returns) = sync_steps(call);
        if call.starts_with("write(")
            || call.starts_with("pwrite64(")
            || call.starts_with("writev(")
        {
            if let Some(path) = path {
                synced.insert(path.to_string(), false);
                for (file, written) in syncing.values_mut() {
                    if file == path {
                        *written = true;
                    }
                }
            }
        } else if is_sync {
            if let Some(path) = path {
                syncing.insert(pid, (path.to_string(), false));
            }
        }
        if let Some(succeeded) = sync_returns {
            if let Some((file, written)) = syncing.remove(pid) {
                if succeeded && !written {
                    synced.insert(file, true);
                }
            }
        }
        if call.starts_with("rename") {
            let from = call.split('"').nth(1).unwrap_or("");
            if is_download(from) {
                renames.renamed += 1;
                if synced.get(from) != Some(&true) {
                    renames.unsynced.push(from.to_string());
                }
            }
        }
    }
    renames
}

#[test]
fn a_download_is_on_the_disk_before_it_gets_its_name() {
    let sim = Sim::start(common::fast_simulator());
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("clip.mp4");
    let (out, trace) = traced(
        &sim,
        &[],
        &[
            "--json".as_ref(),
            "video-agent".as_ref(),
            "create".as_ref(),
            "--prompt".as_ref(),
            "A clip".as_ref(),
            "--download".as_ref(),
            target.as_ref(),
        ],
    );
    succeeded(&out);
    assert_eq!(&std::fs::read(&target).unwrap()[4..8], b"ftyp");
    let renames = check_renames(&trace);
    // The trace was read: the one download was seen renamed into place.
    assert_eq!(renames.renamed, 1, "{renames:?}");
    assert!(
        renames.unsynced.is_empty(),
        "renamed before its bytes were synced: {renames:?}"
    );
}

#[test]
fn the_checker_finds_a_download_renamed_before_its_sync() {
    let write = r#"6 write(11</d/.heygen-download-X>, "\0\0\0\30ftyp"..., 4096) = 4096"#;
    let sync = "6 fsync(11</d/.heygen-download-X>) = 0";
    let rename =
        r#"5 renameat2(AT_FDCWD, "/d/.heygen-download-X", AT_FDCWD, "/d/clip.mp4", 0) = 0"#;
    let renamed = |lines: &[&str]| check_renames(&lines.join("\n"));
    // Synced after the last write, then renamed: in order.
    let good = renamed(&[write, sync, rename]);
    assert_eq!((good.renamed, good.unsynced.len()), (1, 0), "{good:?}");
    // No sync at all.
    assert_eq!(renamed(&[write, rename]).unsynced.len(), 1);
    // A sync before the last write does not cover it.
    assert_eq!(renamed(&[write, sync, write, rename]).unsynced.len(), 1);
    // Nor one still out when the file is renamed.
    let early = renamed(&[
        write,
        "6 fsync(11</d/.heygen-download-X> <unfinished ...>",
        rename,
        "6 <... fsync resumed>) = 0",
    ]);
    assert_eq!(early.unsynced.len(), 1);
    // Nor one of another file, nor one that failed.
    let other = "6 fsync(12</d/.heygen-download-Y>) = 0";
    assert_eq!(renamed(&[write, other, rename]).unsynced.len(), 1);
    let failed = "6 fsync(11</d/.heygen-download-X>) = -1 EIO (Input/output error)";
    assert_eq!(renamed(&[write, failed, rename]).unsynced.len(), 1);
}
