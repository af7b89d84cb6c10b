//! Hostile servers: small misbehaving HTTP servers on loopback, each bounded
//! in bytes and seconds, and the typed error every case must end with.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use miosa::api::{CompletionsStreamParams, SandboxExecRunParams, WebhooksListParams};
use miosa::{CancelToken, Client, ErrorKind, RetryPolicy};

/// Upper bound on what any hostile server writes, whatever the client does.
const MAX_SERVED: usize = 256 << 20;

/// A loopback server answering every connection with `handler(connection
/// index, request head, socket)`, and keeping every request head it saw.
struct Server {
    base_url: String,
    heads: Arc<Mutex<Vec<String>>>,
}

impl Server {
    fn start<F>(handler: F) -> Self
    where
        F: Fn(usize, &str, &mut TcpStream) + Send + Sync + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let heads = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&heads);
        let handler = Arc::new(handler);
        std::thread::spawn(move || {
            for (index, conn) in listener.incoming().enumerate() {
                let Ok(mut conn) = conn else { return };
                let handler = Arc::clone(&handler);
                let seen = Arc::clone(&seen);
                std::thread::spawn(move || {
                    let _ = conn.set_read_timeout(Some(Duration::from_secs(10)));
                    let Some(head) = read_request(&mut conn) else {
                        return;
                    };
                    seen.lock().expect("heads").push(head.clone());
                    handler(index, &head, &mut conn);
                });
            }
        });
        Self {
            base_url: format!("http://127.0.0.1:{port}/api/v1"),
            heads,
        }
    }

    fn client(&self, f: impl FnOnce(miosa::ClientBuilder) -> miosa::ClientBuilder) -> Client {
        // Retries off unless a test turns them on: each case counts its requests.
        f(Client::builder("msk_test_hostile")
            .base_url(&self.base_url)
            .max_retries(0))
        .build()
        .expect("client builds")
    }

    fn heads(&self) -> Vec<String> {
        self.heads.lock().expect("heads").clone()
    }
}

/// Reads the request head and any `Content-Length` body; returns the head.
fn read_request(conn: &mut TcpStream) -> Option<String> {
    let mut reader = BufReader::new(conn.try_clone().ok()?);
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        if line == "\r\n" {
            break;
        }
        head.push_str(&line);
    }
    let length = header(&head, "content-length").and_then(|v| v.parse::<usize>().ok());
    if let Some(length) = length {
        let mut body = vec![0; length.min(1 << 20)];
        reader.read_exact(&mut body).ok()?;
    }
    Some(head)
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.trim().eq_ignore_ascii_case(name).then(|| value.trim())
    })
}

/// Writes `chunk` again and again until `MAX_SERVED` bytes or the client leaves.
fn write_endlessly(conn: &mut TcpStream, chunk: &[u8]) {
    let mut served = 0;
    while served < MAX_SERVED && conn.write_all(chunk).is_ok() {
        served += chunk.len();
    }
}

const SSE_HEAD: &[u8] =
    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n";

fn sse_events(range: std::ops::RangeInclusive<u32>) -> String {
    range.map(|n| format!("id: {n}\ndata: {n}\n\n")).collect()
}

async fn drain(stream: &miosa::EventStream) -> (Vec<String>, Option<miosa::Error>) {
    let mut data = Vec::new();
    while let Some(item) = stream.next().await {
        match item {
            Ok(event) => data.push(event.data),
            Err(err) => return (data, Some(err)),
        }
    }
    (data, None)
}

fn numbers(range: std::ops::RangeInclusive<u32>) -> Vec<String> {
    range.map(|n| n.to_string()).collect()
}

// ------------------------------------------------------------ bounded bodies

#[tokio::test]
async fn an_endless_json_body_stops_at_max_response_bytes() {
    let server = Server::start(|_, _, conn| {
        let _ = conn.write_all(
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n[",
        );
        write_endlessly(conn, &[b'1', b','].repeat(32 * 1024));
    });
    let client = server.client(|b| b.max_response_bytes(1 << 20));
    let err = client.sandboxes().get("sbx_1").await.expect_err("too big");
    assert_eq!(err.kind(), ErrorKind::LimitExceeded, "{err}");
    assert!(err.message().contains("max_response_bytes"), "{err}");
    assert!(err.message().contains("1048576"), "{err}");
}

#[tokio::test]
async fn an_absurd_content_length_is_refused_before_reading() {
    let server = Server::start(|_, _, conn| {
        let _ = conn.write_all(
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 5000000000\r\n\r\n{",
        );
        std::thread::sleep(Duration::from_secs(5));
    });
    let client = server.client(|b| b);
    let started = Instant::now();
    let err = client.sandboxes().get("sbx_1").await.expect_err("too big");
    assert_eq!(err.kind(), ErrorKind::LimitExceeded, "{err}");
    assert!(err.message().contains("max_response_bytes"), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "refused at once"
    );
    // A per-call limit overrides the client's.
    let small = client
        .with_options(miosa::RequestOptions {
            max_response_bytes: Some(10),
            ..Default::default()
        })
        .expect("options");
    let err = small.sandboxes().get("sbx_1").await.expect_err("too big");
    assert!(err.message().contains("(10 bytes)"), "{err}");
}

#[tokio::test]
async fn a_download_stops_at_max_download_bytes() {
    let server = Server::start(|_, _, conn| {
        let _ = conn.write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\nconnection: close\r\n\r\n");
        write_endlessly(conn, &[7u8; 64 * 1024]);
    });
    let client = server.client(|b| b.max_download_bytes(2 << 20));
    let err = client
        .request_bytes("/sandboxes/sbx_1/files/download")
        .await
        .expect_err("too big");
    assert_eq!(err.kind(), ErrorKind::LimitExceeded, "{err}");
    assert!(err.message().contains("max_download_bytes"), "{err}");
}

// ------------------------------------------------------------------ timeouts

#[tokio::test]
async fn timeout_bounds_the_whole_attempt() {
    // Headers after 3 s.
    let slow_headers = Server::start(|_, _, conn| {
        std::thread::sleep(Duration::from_secs(3));
        let _ = conn.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}");
    });
    let client = slow_headers.client(|b| b.timeout(Duration::from_secs(1)));
    let started = Instant::now();
    let err = client.sandboxes().get("sbx_1").await.expect_err("slow");
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(
        started.elapsed() < Duration::from_millis(2500),
        "{:?}",
        started.elapsed()
    );

    // Headers at once, the body after 3 s: still one attempt, still 1 s.
    let slow_body = Server::start(|_, _, conn| {
        let _ = conn.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n");
        std::thread::sleep(Duration::from_secs(3));
        let _ = conn.write_all(b"{}");
    });
    let client = slow_body.client(|b| b.timeout(Duration::from_secs(1)));
    let started = Instant::now();
    let err = client.sandboxes().get("sbx_1").await.expect_err("slow");
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(
        started.elapsed() < Duration::from_millis(2500),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_command_longer_than_the_client_timeout_runs_under_its_own_timeout() {
    let env = common::env();
    let client = common::client_with(&env.emulator, |b| b.timeout(Duration::from_secs(2)));
    let out = client
        .blocking()
        .sandbox()
        .exec()
        .run(
            "sbx_fixture",
            SandboxExecRunParams::default()
                .command("sleep 4; echo done")
                .timeout(20),
        )
        .expect("the command's own timeout lifts the attempt limit");
    assert_eq!(out.text(), "done\n");
}

// -------------------------------------------------------------------- streams

#[tokio::test]
async fn a_never_ending_sse_line_stops_at_max_event_bytes() {
    let server = Server::start(|_, _, conn| {
        let _ = conn.write_all(SSE_HEAD);
        let _ = conn.write_all(b"data: ");
        write_endlessly(conn, &[b'x'; 64 * 1024]);
    });
    let client = server.client(|b| b.max_event_bytes(1 << 20));
    let stream = client
        .stream_sse("/stream", Default::default())
        .await
        .expect("open");
    let (events, err) = drain(&stream).await;
    assert!(events.is_empty());
    let err = err.expect("an error, not silence");
    assert_eq!(err.kind(), ErrorKind::LimitExceeded, "{err}");
    assert!(err.message().contains("max_event_bytes"), "{err}");
}

#[tokio::test]
async fn one_huge_event_stops_at_max_event_bytes() {
    let server = Server::start(|_, _, conn| {
        let _ = conn.write_all(SSE_HEAD);
        let _ = conn.write_all(b"data: small\n\n");
        let line = format!("data: {}\n", "y".repeat(16 * 1024));
        write_endlessly(conn, line.as_bytes());
    });
    let client = server.client(|b| b.max_event_bytes(1 << 20));
    let stream = client
        .stream_sse("/stream", Default::default())
        .await
        .expect("open");
    let (events, err) = drain(&stream).await;
    assert_eq!(events, ["small"]);
    assert_eq!(err.expect("an error").kind(), ErrorKind::LimitExceeded);
}

#[tokio::test]
async fn a_byte_trickle_does_not_keep_a_stream_alive_but_heartbeats_do() {
    // One byte every 100 ms, never a whole line.
    let trickle = Server::start(|_, _, conn| {
        let _ = conn.write_all(SSE_HEAD);
        for _ in 0..100 {
            if conn.write_all(b"x").is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    });
    let client = trickle.client(|b| b.timeout(Duration::from_secs(1)));
    let started = Instant::now();
    let stream = client
        .stream_sse("/stream", Default::default())
        .await
        .expect("open");
    let (_, err) = drain(&stream).await;
    assert_eq!(err.expect("idle").kind(), ErrorKind::Timeout);
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );

    // Heartbeat comments every 300 ms for 2 s (twice the idle limit), then one event.
    let heartbeats = Server::start(|_, _, conn| {
        let _ = conn.write_all(SSE_HEAD);
        for _ in 0..7 {
            let _ = conn.write_all(b": keepalive\n\n");
            std::thread::sleep(Duration::from_millis(300));
        }
        let _ = conn.write_all(b"data: alive\n\ndata: [DONE]\n\n");
    });
    let client = heartbeats.client(|b| b.timeout(Duration::from_secs(1)));
    let stream = client
        .stream_sse("/stream", Default::default())
        .await
        .expect("open");
    let (events, err) = drain(&stream).await;
    assert!(err.is_none(), "{err:?}");
    assert_eq!(events, ["alive"]);
}

#[tokio::test]
async fn a_clean_close_mid_stream_with_ids_resumes_from_the_last_id() {
    let server = Server::start(|index, head, conn| {
        let _ = conn.write_all(SSE_HEAD);
        let body = match (index, header(head, "last-event-id")) {
            // The first connection ends normally after event 7 of 30.
            (0, None) => sse_events(1..=7),
            (_, Some("7")) => sse_events(8..=30) + "data: [DONE]\n\n",
            _ => "data: unexpected\n\n".to_owned(),
        };
        let _ = conn.write_all(format!("retry: 10\n\n{body}").as_bytes());
    });
    let client = server.client(|b| b);
    let stream = client
        .stream_sse("/stream", Default::default())
        .await
        .expect("open");
    let (events, err) = drain(&stream).await;
    assert!(err.is_none(), "{err:?}");
    assert_eq!(events, numbers(1..=30));
    let heads = server.heads();
    assert_eq!(heads.len(), 2, "{heads:?}");
    assert_eq!(header(&heads[1], "last-event-id"), Some("7"));
}

#[tokio::test]
async fn a_204_on_reconnect_ends_the_stream() {
    let server = Server::start(|index, _, conn| {
        if index == 0 {
            let _ = conn.write_all(SSE_HEAD);
            let _ = conn.write_all(format!("retry: 10\n\n{}", sse_events(1..=3)).as_bytes());
        } else {
            let _ = conn.write_all(b"HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n");
        }
    });
    let client = server.client(|b| b);
    let stream = client
        .stream_sse("/stream", Default::default())
        .await
        .expect("open");
    let (events, err) = drain(&stream).await;
    assert!(err.is_none(), "{err:?}");
    assert_eq!(events, numbers(1..=3));
    assert_eq!(server.heads().len(), 2);
}

#[tokio::test]
async fn a_stream_without_ids_closed_before_its_end_is_a_connection_error() {
    // `sandbox.events.stream` ends with `sandbox.destroyed`; this one stops short.
    let server = Server::start(|_, _, conn| {
        let _ = conn.write_all(SSE_HEAD);
        let _ = conn.write_all(b"event: sandbox.ready\ndata: {}\n\n");
    });
    let client = server.client(|b| b);
    let stream = client
        .sandbox()
        .events()
        .stream("sbx_1")
        .await
        .expect("open");
    let (events, err) = drain(&stream).await;
    assert_eq!(events.len(), 1);
    assert_eq!(err.expect("not silence").kind(), ErrorKind::Connection);
    assert_eq!(server.heads().len(), 1, "nothing to resume from");
}

fn completion_server() -> Server {
    Server::start(|index, head, conn| {
        let _ = conn.write_all(SSE_HEAD);
        let from = header(head, "last-event-id").map_or(0, |id| id.parse::<u32>().unwrap_or(0));
        // Each connection carries three more chunks, then is cut; the fourth ends it.
        let body = if index < 3 {
            sse_events(from + 1..=from + 3)
        } else {
            sse_events(from + 1..=from + 3) + "data: [DONE]\n\n"
        };
        let _ = conn.write_all(format!("retry: 10\n\n{body}").as_bytes());
    })
}

#[tokio::test]
async fn a_post_stream_is_not_replayed_with_retries_off() {
    let server = completion_server();
    let client = server.client(|b| b.max_retries(0));
    let stream = client
        .completions()
        .stream(
            CompletionsStreamParams::default()
                .model("m")
                .messages(Vec::new()),
        )
        .await
        .expect("open");
    let (events, err) = drain(&stream).await;
    assert_eq!(events, numbers(1..=3));
    assert_eq!(err.expect("cut").kind(), ErrorKind::Connection);
    let heads = server.heads();
    assert_eq!(heads.len(), 1, "one POST only: {heads:?}");
}

#[tokio::test]
async fn a_post_stream_resumes_under_one_idempotency_key_with_retries_on() {
    let server = completion_server();
    let client = server.client(|b| b.retry_policy(RetryPolicy::default()));
    let stream = client
        .completions()
        .stream(
            CompletionsStreamParams::default()
                .model("m")
                .messages(Vec::new()),
        )
        .await
        .expect("open");
    let (events, err) = drain(&stream).await;
    assert!(err.is_none(), "{err:?}");
    assert_eq!(events, numbers(1..=12));
    let heads = server.heads();
    assert_eq!(heads.len(), 4);
    let keys: Vec<_> = heads.iter().map(|h| header(h, "idempotency-key")).collect();
    assert!(keys[0].is_some_and(|k| !k.is_empty()), "{heads:?}");
    assert!(
        keys.iter().all(|k| *k == keys[0]),
        "one key for every POST: {keys:?}"
    );
    assert_eq!(header(&heads[3], "last-event-id"), Some("9"));
}

// ---------------------------------------------------------------------- pager

#[tokio::test]
async fn a_cursor_cycle_is_refused() {
    let server = Server::start(|_, head, conn| {
        let path = head.split_whitespace().nth(1).unwrap_or("");
        // A -> B -> A -> ...
        let body = if path.contains("cursor=B") {
            r#"{"data":[{"id":"w2","url":"https://h.example/2"}],"next_cursor":"A"}"#
        } else {
            r#"{"data":[{"id":"w1","url":"https://h.example/1"}],"next_cursor":"B"}"#
        };
        let _ = conn.write_all(
            format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            )
            .as_bytes(),
        );
    });
    let client = server.client(|b| b);
    let pager = client
        .webhooks()
        .iter(WebhooksListParams::default())
        .expect("pager");
    let mut ids = Vec::new();
    let mut failure = None;
    for _ in 0..10 {
        match pager.next().await {
            Some(Ok(hook)) => ids.push(hook.id),
            Some(Err(err)) => {
                failure = Some(err);
                break;
            }
            None => break,
        }
    }
    let err = failure.expect("a typed error, not a loop");
    assert_eq!(err.kind(), ErrorKind::Decode, "{err}");
    assert!(err.message().contains("cursor"), "{err}");
    assert_eq!(ids, ["w1", "w2"]);
    assert!(pager.next().await.is_none(), "the walk is over");
}

// ------------------------------------------------ concurrency and cancellation

/// A stream that sends `count` events then stays open, silent.
fn held_open_stream(count: u32) -> Server {
    Server::start(move |_, _, conn| {
        let _ = conn.write_all(SSE_HEAD);
        let _ = conn.write_all(sse_events(1..=count).as_bytes());
        let _ = conn.write_all(b"data: [DONE]\n\n");
        std::thread::sleep(Duration::from_secs(10));
    })
}

#[tokio::test]
async fn overlapping_next_calls_lose_nothing() {
    let server = held_open_stream(5);
    let client = server.client(|b| b);
    let stream = Arc::new(
        client
            .stream_sse("/stream", Default::default())
            .await
            .expect("open"),
    );
    let calls: Vec<_> = (0..7)
        .map(|_| {
            let stream = Arc::clone(&stream);
            tokio::spawn(async move { stream.next().await })
        })
        .collect();
    let mut got = Vec::new();
    let mut ends = 0;
    for call in calls {
        match call.await.expect("joined") {
            Some(Ok(event)) => got.push(event.data),
            Some(Err(err)) => panic!("{err}"),
            None => ends += 1,
        }
    }
    got.sort();
    assert_eq!(got, numbers(1..=5));
    assert_eq!(ends, 2);
}

#[test]
fn close_wakes_a_blocked_next_at_once() {
    let server = Server::start(|_, _, conn| {
        let _ = conn.write_all(SSE_HEAD);
        std::thread::sleep(Duration::from_secs(10));
    });
    let client = server.client(|b| b);
    let stream = Arc::new(
        futures_executor::block_on(client.stream_sse("/stream", Default::default())).expect("open"),
    );
    let reader = {
        let stream = Arc::clone(&stream);
        std::thread::spawn(move || {
            let item = stream.next_blocking();
            (item.is_none(), Instant::now())
        })
    };
    std::thread::sleep(Duration::from_millis(300));
    let closed_at = Instant::now();
    stream.close();
    let (ended, woke_at) = reader.join().expect("reader");
    assert!(ended, "a closed stream ends");
    assert!(woke_at.duration_since(closed_at) < Duration::from_millis(500));
    assert!(stream.next_blocking().is_none());
}

#[test]
fn a_cancel_token_ends_a_blocking_call_from_another_thread() {
    let server = Server::start(|_, _, conn| {
        std::thread::sleep(Duration::from_secs(10));
        let _ = conn.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}");
    });
    let token = CancelToken::new();
    let client = server.client(|b| b).with_cancel(token.clone());
    let canceller = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        token.cancel();
    });
    let started = Instant::now();
    let err = client
        .blocking()
        .sandboxes()
        .get("sbx_1")
        .expect_err("cancelled");
    canceller.join().expect("canceller");
    assert_eq!(err.kind(), ErrorKind::Cancelled, "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_cancel_token_ends_a_stream_and_a_pager() {
    let server = Server::start(|_, _, conn| {
        let _ = conn.write_all(SSE_HEAD);
        std::thread::sleep(Duration::from_secs(10));
    });
    let token = CancelToken::new();
    let client = server.client(|b| b).with_cancel(token.clone());
    let stream =
        futures_executor::block_on(client.stream_sse("/stream", Default::default())).expect("open");
    let reader = std::thread::spawn(move || stream.next_blocking());
    std::thread::sleep(Duration::from_millis(200));
    token.cancel();
    let item = reader.join().expect("reader").expect("an item");
    assert_eq!(item.expect_err("cancelled").kind(), ErrorKind::Cancelled);
    let err = client
        .blocking()
        .sandboxes()
        .get("sbx_1")
        .expect_err("cancelled");
    assert_eq!(err.kind(), ErrorKind::Cancelled);
    let pager = client
        .webhooks()
        .iter(WebhooksListParams::default())
        .expect("pager");
    let err = pager
        .next_blocking()
        .expect("an item")
        .expect_err("cancelled");
    assert_eq!(err.kind(), ErrorKind::Cancelled);
}
