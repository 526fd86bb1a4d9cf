//! `batch::WebhookReceiver` facing hostile clients: bad deliveries are refused and counted at
//! the first check they fail, slow clients are cut off, connections are capped, and a flood of
//! repeats hands one event over.
#![cfg(feature = "receiver")]

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use heygen_api::batch::{ReceiverStats, WebhookReceiver};
use heygen_api::webhook::{self, Verifier};
use tokio::sync::mpsc;

const SECRET: &str = "whsec_receiver_test";

fn body(video: &str) -> Vec<u8> {
    format!(r#"{{"event_type":"avatar_video.success","event_data":{{"video_id":"{video}"}}}}"#)
        .into_bytes()
}

/// A raw HTTP/1.1 request with `headers`, over a new connection; the status it is answered.
fn send(address: SocketAddr, method: &str, headers: &[(String, String)], body: &[u8]) -> u16 {
    let mut stream = TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut head = format!(
        "{method} /webhooks HTTP/1.1\r\nhost: test\r\nconnection: close\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    // A refusal may come before the body is read; the server may then close early.
    let _ = stream.write_all(body);
    status_of(&mut stream)
}

fn status_of(stream: &mut TcpStream) -> u16 {
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let text = String::from_utf8_lossy(&answer);
    text.split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text:?}"))
}

fn signed(secret: &str, body: &[u8], timestamp: u64, event: &str) -> Vec<(String, String)> {
    webhook::sign(secret, body, timestamp, event)
        .iter()
        .map(|(name, value)| (name.to_string(), value.to_str().unwrap().to_string()))
        .collect()
}

async fn start(
    configure: impl FnOnce(heygen_api::batch::ReceiverBuilder) -> heygen_api::batch::ReceiverBuilder,
) -> (WebhookReceiver, mpsc::Receiver<webhook::WebhookEvent>) {
    configure(WebhookReceiver::builder(Verifier::new(SECRET)))
        .start("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

/// Runs blocking client code off the runtime that serves the receiver.
async fn client<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(work).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_bad_delivery_is_refused_and_counted_and_nothing_reaches_the_run() {
    let (receiver, mut events) = start(|b| b.max_body_bytes(4096)).await;
    let address = receiver.local_addr();
    let now = webhook::now_unix();
    let statuses = client(move || {
        let good = body("vid_1");
        let huge = vec![b'x'; 10_000];
        let garbage = b"not json at all".to_vec();
        let header = |name: &str, value: &str| vec![(name.to_string(), value.to_string())];
        vec![
            // Announced too large: refused before a byte of it is read.
            send(address, "POST", &signed(SECRET, &huge, now, "e1"), &huge),
            send(
                address,
                "POST",
                &header("content-type", "application/json"),
                &good,
            ),
            send(
                address,
                "POST",
                &signed("whsec_other", &good, now, "e2"),
                &good,
            ),
            send(
                address,
                "POST",
                &header("heygen-signature", "zz-not-hex"),
                &good,
            ),
            send(
                address,
                "POST",
                &signed(SECRET, &good, now - 3600, "e3"),
                &good,
            ),
            send(
                address,
                "POST",
                &signed(SECRET, &garbage, now, "e4"),
                &garbage,
            ),
            send(address, "GET", &[], b""),
        ]
    })
    .await;
    assert_eq!(statuses, [413, 401, 401, 401, 401, 400, 405]);
    let stats = receiver.stats();
    let counted = |s: ReceiverStats| {
        [
            s.too_large,
            s.unsigned,
            s.forged,
            s.stale,
            s.malformed,
            s.wrong_method,
            s.accepted,
            s.duplicates,
            s.timed_out,
        ]
    };
    assert_eq!(counted(stats), [1, 1, 2, 1, 1, 1, 0, 0, 0], "{stats:?}");
    assert_eq!(stats.refused(), 7);

    // A body announced too large is refused on its headers alone: none of it is sent here,
    // and the answer does not wait for it.
    let announced = client(move || {
        let mut stream = TcpStream::connect(address).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let head =
            "POST / HTTP/1.1\r\nhost: t\r\nheygen-signature: 00\r\ncontent-length: 100000\r\n\r\n";
        stream.write_all(head.as_bytes()).unwrap();
        status_of(&mut stream)
    })
    .await;
    assert_eq!(announced, 413);
    assert!(events.try_recv().is_err(), "nothing was handed over");

    // A good one still gets through.
    let good = body("vid_2");
    let status = client(move || {
        send(
            address,
            "POST",
            &signed(SECRET, &good, webhook::now_unix(), "e5"),
            &good,
        )
    })
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        events.recv().await.unwrap().payload().unwrap().video_id(),
        Some("vid_2")
    );
    assert_eq!(receiver.stats().accepted, 1);

    // The same signed body again, under a new event id and a fresh timestamp: a replay,
    // answered 200 (HeyGen may stop) and not handed over. Without a timestamp: refused.
    let again = body("vid_2");
    let statuses = client(move || {
        let unstamped = vec![(
            "heygen-signature".to_string(),
            webhook::signature(SECRET, &again),
        )];
        [
            send(
                address,
                "POST",
                &signed(SECRET, &again, webhook::now_unix(), "e6"),
                &again,
            ),
            send(address, "POST", &unstamped, &again),
        ]
    })
    .await;
    assert_eq!(statuses, [200, 401]);
    let stats = receiver.stats();
    assert_eq!((stats.accepted, stats.duplicates, stats.stale), (1, 1, 2));
    assert!(events.try_recv().is_err(), "the replay was not handed over");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_grows_past_the_limit_without_announcing_it_is_refused() {
    let (receiver, _events) = start(|b| b.max_body_bytes(1024)).await;
    let address = receiver.local_addr();
    let status = client(move || {
        let mut stream = TcpStream::connect(address).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let head = "POST / HTTP/1.1\r\nhost: t\r\nheygen-signature: 00\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n";
        stream.write_all(head.as_bytes()).unwrap();
        for _ in 0..4 {
            let _ = stream.write_all(format!("{:x}\r\n{}\r\n", 512, "y".repeat(512)).as_bytes());
        }
        let _ = stream.write_all(b"0\r\n\r\n");
        status_of(&mut stream)
    })
    .await;
    assert_eq!(status, 413);
    assert_eq!(receiver.stats().too_large, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_are_cut_off() {
    let (receiver, _events) = start(|b| {
        b.header_timeout(Duration::from_millis(200))
            .body_timeout(Duration::from_millis(200))
    })
    .await;
    let address = receiver.local_addr();
    let (headers_cut, body_status) = client(move || {
        // Headers that never end: the connection is closed, unanswered.
        let mut slow = TcpStream::connect(address).unwrap();
        slow.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        slow.write_all(b"POST / HTTP/1.1\r\nhost: t\r\n").unwrap();
        let started = std::time::Instant::now();
        let mut answer = Vec::new();
        let _ = slow.read_to_end(&mut answer);
        let headers_cut = started.elapsed() < Duration::from_secs(5);
        // A body that stops half-way: answered 408.
        let mut stalled = TcpStream::connect(address).unwrap();
        stalled
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        stalled
            .write_all(b"POST / HTTP/1.1\r\nhost: t\r\nheygen-signature: 00\r\ncontent-length: 100\r\n\r\nhalf")
            .unwrap();
        (headers_cut, status_of(&mut stalled))
    })
    .await;
    assert!(headers_cut, "the slow headers' connection was closed");
    assert_eq!(body_status, 408);
    assert_eq!(receiver.stats().timed_out, 2);
}

/// One delivery over `stream`, kept open (HTTP/1.1 keep-alive): the answer's status, and
/// whether the server said it closes the connection.
fn deliver_on(stream: &mut TcpStream, headers: &[(String, String)], body: &[u8]) -> (u16, bool) {
    let mut head = format!(
        "POST /webhooks HTTP/1.1\r\nhost: test\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    // The answers here are short: read until the head and its small body are in.
    let mut answer = Vec::new();
    let mut chunk = [0u8; 1024];
    while !String::from_utf8_lossy(&answer).contains("\r\n\r\n") {
        let n = stream.read(&mut chunk).unwrap();
        assert!(n > 0, "closed without an answer");
        answer.extend_from_slice(&chunk[..n]);
    }
    let text = String::from_utf8_lossy(&answer).to_lowercase();
    let status = text.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap();
    (status, text.contains("connection: close"))
}

/// Whether the server closed `stream` (reads end) within a few seconds.
fn closed(stream: &mut TcpStream) -> bool {
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut rest = Vec::new();
    stream.read_to_end(&mut rest).is_ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_request_costs_its_connection_and_a_delivery_keeps_it() {
    let (receiver, mut events) = start(|b| b).await;
    let address = receiver.local_addr();
    client(move || {
        let good = body("vid_keep");
        let forged = body("vid_forged");
        let now = webhook::now_unix();
        // A good delivery keeps the connection: the next request goes over it.
        let mut stream = TcpStream::connect(address).unwrap();
        let first = deliver_on(&mut stream, &signed(SECRET, &good, now, "k-1"), &good);
        assert_eq!(first, (200, false));
        // Refused on it, unsigned or forged: answered, then closed.
        let refused = deliver_on(&mut stream, &[], &forged);
        assert_eq!(refused, (401, true));
        assert!(closed(&mut stream));
        let mut stream = TcpStream::connect(address).unwrap();
        let refused = deliver_on(
            &mut stream,
            &signed("whsec_other", &forged, now, "k-2"),
            &forged,
        );
        assert_eq!(refused, (401, true));
        assert!(closed(&mut stream));
    })
    .await;
    assert!(events.recv().await.is_some());
    let stats = receiver.stats();
    assert_eq!(
        (stats.accepted, stats.unsigned, stats.forged),
        (1, 1, 1),
        "{stats:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_that_delivered_nothing_give_way_to_a_new_one() {
    // Slow headers would hold a slot for a minute: only giving way lets the delivery in.
    let (receiver, mut events) =
        start(|b| b.max_connections(2).header_timeout(Duration::from_secs(60))).await;
    let address = receiver.local_addr();
    let mut first = tokio::net::TcpStream::connect(address).await.unwrap();
    let second = tokio::net::TcpStream::connect(address).await.unwrap();
    until(
        || receiver.stats().open == 2,
        "both connections to be served",
    )
    .await;
    let good = body("vid_cap");
    let headers = signed(SECRET, &good, webhook::now_unix(), "cap-1");
    let status = client(move || {
        let mut stream = TcpStream::connect(address).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        deliver_on(&mut stream, &headers, &good).0
    })
    .await;
    assert_eq!(status, 200);
    assert!(events.recv().await.is_some());
    // The oldest gave way: the server closed it.
    let mut rest = Vec::new();
    let read = tokio::time::timeout(
        Duration::from_secs(5),
        tokio::io::AsyncReadExt::read_to_end(&mut first, &mut rest),
    )
    .await;
    assert!(matches!(read, Ok(Ok(0))), "{read:?}");
    let stats = receiver.stats();
    assert_eq!(
        (stats.evicted, stats.full, stats.peak_open),
        (1, 0, 2),
        "{stats:?}"
    );
    drop(second);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_beyond_the_cap_wait_while_every_slot_has_delivered() {
    let (receiver, mut events) = start(|b| b.max_connections(2)).await;
    let address = receiver.local_addr();
    // Two connections deliver an event each and stay open: they keep their slots.
    let mut kept = Vec::new();
    for n in 0..2 {
        let good = body(&format!("vid_kept_{n}"));
        let headers = signed(SECRET, &good, webhook::now_unix(), &format!("kept-{n}"));
        let (stream, answer) = client(move || {
            let mut stream = TcpStream::connect(address).unwrap();
            let answer = deliver_on(&mut stream, &headers, &good);
            (stream, answer)
        })
        .await;
        assert_eq!(answer, (200, false));
        kept.push(stream);
    }
    // A third waits for a free slot: the receiver says so.
    let good = body("vid_third");
    let headers = signed(SECRET, &good, webhook::now_unix(), "third");
    let third = tokio::task::spawn_blocking(move || send(address, "POST", &headers, &good));
    until(
        || receiver.stats().full > 0,
        "the receiver to wait for a free slot",
    )
    .await;
    assert_eq!(receiver.stats().evicted, 0);
    // It is served once one closes, never beside them.
    drop(kept.remove(0));
    assert_eq!(third.await.unwrap(), 200);
    for _ in 0..3 {
        assert!(events.recv().await.is_some());
    }
    let stats = receiver.stats();
    assert_eq!(stats.peak_open, 2, "{stats:?}");
}

/// Waits for `condition`, checking often; a condition that never holds fails the test.
async fn until(condition: impl Fn() -> bool, what: &str) {
    let patience = std::time::Instant::now() + Duration::from_secs(20);
    while !condition() {
        assert!(
            std::time::Instant::now() < patience,
            "waited in vain for {what}"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_one_event_hands_it_over_once() {
    let (receiver, mut events) = start(|b| b).await;
    let address = receiver.local_addr();
    let statuses = client(move || {
        let good = body("vid_flood");
        let headers = signed(SECRET, &good, webhook::now_unix(), "evt_flood");
        (0..200)
            .map(|_| send(address, "POST", &headers, &good))
            .collect::<Vec<u16>>()
    })
    .await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    let stats = receiver.stats();
    assert_eq!((stats.accepted, stats.duplicates), (1, 199), "{stats:?}");
    // Repeats are answered from their event id alone, before their body is checked:
    // even a forged one changes nothing.
    let status = client(move || {
        let forged = body("vid_other");
        let headers = signed("whsec_other", &forged, webhook::now_unix(), "evt_flood");
        send(address, "POST", &headers, &forged)
    })
    .await;
    assert_eq!(status, 200);
    let stats = receiver.stats();
    assert_eq!((stats.duplicates, stats.forged), (200, 0), "{stats:?}");
    assert!(events.recv().await.is_some());
    assert!(events.try_recv().is_err(), "one event handed over");
}
