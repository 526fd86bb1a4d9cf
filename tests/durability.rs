//! The batch journal's promise where money is at stake: no create leaves the process before
//! the journal record that holds its idempotency key is on the disk.
//!
//! Observed from outside, at the level of system calls: `heygen batch run` runs under
//! `strace`, which logs every write to the journal, every `fdatasync` and every request written
//! to a socket, in the order they happened. A create counts as sent when its request's write
//! begins, and a record as durable when an `fdatasync` that began after the record was written
//! has returned.
#![cfg(feature = "cli")]

mod common;

use std::collections::{HashMap, HashSet};
use std::process::Command;

use common::Served as Sim;

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

fn check_order(trace: &str) -> Order {
    let mut order = Order::default();
    let mut written: Vec<String> = Vec::new();
    let mut durable: HashSet<String> = HashSet::new();
    // A sync begun and not yet returned, by thread: how many records it covers.
    let mut syncing: HashMap<&str, usize> = HashMap::new();
    for line in trace.lines() {
        let Some((pid, call)) = line.split_once(' ') else {
            continue;
        };
        let call = call.trim_start();
        let sync_begins = call.starts_with("fdatasync(") || call.starts_with("fsync(");
        if sync_begins {
            syncing.insert(pid, written.len());
        }
        let sync_returns = (sync_begins && !call.contains("<unfinished"))
            || call.starts_with("<... fdatasync resumed>")
            || call.starts_with("<... fsync resumed>");
        if sync_returns {
            if let Some(covered) = syncing.remove(pid) {
                if call.trim_end().ends_with("= 0") {
                    order.syncs += 1;
                    durable.extend(written[..covered].iter().cloned());
                }
            }
        }
        if let Some(key) = recorded_key(call) {
            order.records += 1;
            written.push(key.to_string());
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

#[test]
fn no_create_leaves_before_its_record_is_on_the_disk() {
    let strace = Command::new("strace").arg("-V").output();
    assert!(
        strace.is_ok_and(|o| o.status.success()),
        "this test needs strace (Debian's package `strace`)"
    );
    let sim = Sim::start(common::fast_simulator());
    let dir = tempfile::tempdir().unwrap();
    let jobs = dir.path().join("jobs.jsonl");
    let lines: String = (0..25)
        .map(|i| format!("{{\"key\":\"job-{i}\",\"prompt\":\"Clip {i}\"}}\n"))
        .collect();
    std::fs::write(&jobs, lines).unwrap();
    let journal = dir.path().join("run.journal");
    let trace = dir.path().join("trace");
    let out = Command::new("strace")
        .args(["-f", "-qq", "-s", "4096", "-o"])
        .arg(&trace)
        .args([
            "-e",
            "trace=write,writev,pwrite64,sendto,sendmsg,fdatasync,fsync",
        ])
        .arg(env!("CARGO_BIN_EXE_heygen"))
        .args(["--json", "batch", "run"])
        .arg(&jobs)
        .arg("--journal")
        .arg(&journal)
        .args(["--concurrency", "10", "--poll-interval", "20ms"])
        .env("HEYGEN_BASE_URL", sim.sim().base_url())
        .env("HEYGEN_API_KEY", sim.sim().api_key())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the run failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let order = check_order(&std::fs::read_to_string(&trace).unwrap());
    // The trace was read: every job's record and create were seen in it.
    assert_eq!((order.records, order.creates), (25, 25), "{order:?}");
    assert!(
        order.early.is_empty(),
        "creates sent before their record was synced: {order:?}"
    );
    // Creates taken together share a sync: the first ten, at least.
    assert!(order.syncs < 25, "{order:?}");
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
}
