//! Fault injection seen from the wire: resets before and during the body,
//! truncated bodies, SSE cuts and stalls, the bulk test stream, idempotent
//! creates that survive a lost answer, and the connection counters of
//! `GET /_emulator/stats`. Raw TCP where the exact bytes matter.

mod common;

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use common::{Harness, read_sse};

/// Sends one raw HTTP/1.1 request and returns every byte the server sent
/// before closing (a reset keeps what arrived first).
async fn raw(h: &Harness, method: &str, path: &str, body: Option<&str>) -> Vec<u8> {
    let mut s = TcpStream::connect(("127.0.0.1", h.emu.port()))
        .await
        .expect("connects");
    let body = body.unwrap_or("");
    let req = format!(
        "{method} /api/v1{path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        h.emu.api_key(),
        body.len()
    );
    s.write_all(req.as_bytes()).await.expect("sends");
    let mut out = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut out)).await;
    assert!(read.is_ok(), "the server closes the connection");
    out
}

/// Head (lowercased) and body of a raw answer.
fn split(raw: &[u8]) -> (String, Vec<u8>) {
    let pos = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete head");
    (
        String::from_utf8_lossy(&raw[..pos]).to_ascii_lowercase(),
        raw[pos + 4..].to_vec(),
    )
}

async fn fault(h: &Harness, spec: Value) {
    let (status, body) = h.post("/_emulator/faults", spec).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn reset_before_the_answer_sends_nothing() {
    let h = common::start().await;
    fault(&h, json!({"path": "/sandboxes/sbx_fixture", "reset": true})).await;
    let got = raw(&h, "GET", "/sandboxes/sbx_fixture", None).await;
    assert!(got.is_empty(), "{}", String::from_utf8_lossy(&got));
    let entry = h.last_request().await;
    assert_eq!(entry["fault"], "reset");
    assert_eq!(entry["status"], Value::Null, "no answer was given");
}

#[tokio::test]
async fn reset_during_the_body_sends_the_head_and_part_of_the_body() {
    let h = common::start().await;
    let (_, whole) = h.get("/sandboxes/sbx_fixture").await;
    let full = serde_json::to_vec(&whole).expect("json").len();
    fault(
        &h,
        json!({"path": "/sandboxes/sbx_fixture", "reset_body": true}),
    )
    .await;
    let got = raw(&h, "GET", "/sandboxes/sbx_fixture", None).await;
    let (head, body) = split(&got);
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(head.contains("transfer-encoding: chunked"), "{head}");
    let text = String::from_utf8_lossy(&body);
    assert!(!body.is_empty(), "part of the body arrives");
    assert!(
        !text.ends_with("0\r\n\r\n"),
        "the chunked body never ends: {text}"
    );
    assert!(body.len() < full, "{} < {full}", body.len());
    assert_eq!(h.last_request().await["fault"], "reset_body");
}

#[tokio::test]
async fn truncated_body_is_shorter_than_its_content_length() {
    let h = common::start().await;
    fault(
        &h,
        json!({"path": "/sandboxes/sbx_fixture", "method": "GET", "truncate": true}),
    )
    .await;
    let got = raw(&h, "GET", "/sandboxes/sbx_fixture", None).await;
    let (head, body) = split(&got);
    assert!(head.starts_with("http/1.1 200"), "{head}");
    let announced: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length: "))
        .and_then(|v| v.trim().parse().ok())
        .expect("a content-length");
    assert!(
        !body.is_empty() && body.len() < announced,
        "{} of {announced} bytes",
        body.len()
    );
    // The fault fired once: the next answer is whole.
    let (status, again) = h.get("/sandboxes/sbx_fixture").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again["data"]["id"], "sbx_fixture");
}

#[tokio::test]
async fn a_keyed_create_whose_answer_is_lost_replays_once() {
    let h = common::start().await;
    fault(
        &h,
        json!({"path": "/sandboxes", "method": "POST", "reset_body": true}),
    )
    .await;
    let body = json!({"name": "lost-answer"}).to_string();
    let send = || {
        h.req(Method::POST, "/sandboxes")
            .header("idempotency-key", "idem-lost-1")
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
    };
    let first = match send().await {
        Ok(resp) => resp.bytes().await.is_err(),
        Err(_) => true,
    };
    assert!(first, "the first answer is cut");
    let resp = send().await.expect("answered");
    assert_eq!(resp.status(), StatusCode::CREATED);
    assert_eq!(resp.headers()["idempotent-replayed"], "true");
    let replayed: Value = resp.json().await.expect("json");
    assert_eq!(replayed["data"]["name"], "lost-answer");
    let stats = h.stats().await;
    assert_eq!(stats["created"]["sandbox"], 1, "{stats}");
}

#[tokio::test]
async fn a_keyed_create_finishes_when_its_client_leaves() {
    // The create waits for the boot (500 ms); its client leaves meanwhile.
    let h = common::start_with(miosa_emulator::Config {
        boot_delay: Duration::from_millis(500),
        ..miosa_emulator::Config::default()
    })
    .await;
    let body = json!({"name": "left-early"}).to_string();
    let send = || {
        h.req(Method::POST, "/sandboxes?wait=true")
            .header("idempotency-key", "idem-left-1")
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
    };
    let first = tokio::spawn(send());
    let mut stats = Value::Null;
    for _ in 0..200 {
        stats = h.stats().await;
        if stats["in_flight"] == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(
        stats["in_flight"], 1,
        "the create is being answered: {stats}"
    );
    first.abort();
    let resp = send().await.expect("answered");
    assert_eq!(resp.status(), StatusCode::CREATED);
    assert_eq!(resp.headers()["idempotent-replayed"], "true");
    for _ in 0..200 {
        stats = h.stats().await;
        if stats["abandoned"] == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(stats["created"]["sandbox"], 1, "{stats}");
    assert_eq!(stats["abandoned"], 1, "the first client left: {stats}");
}

#[tokio::test]
async fn bulk_stream_counts_pads_and_resumes() {
    let h = common::start().await;
    let resp = h
        .req(Method::GET, "/_emulator/stream?count=3&size=4&retry_ms=25")
        .send()
        .await
        .expect("answered");
    assert_eq!(resp.headers()["content-type"], "text/event-stream");
    let text = resp.text().await.expect("ends");
    assert_eq!(
        text,
        "retry: 25\n\nid: 1\ndata: 1xxx\n\nid: 2\ndata: 2xxx\n\nid: 3\ndata: 3xxx\n\ndata: [DONE]\n\n"
    );
    let resp = h
        .req(Method::GET, "/_emulator/stream?count=5")
        .header("last-event-id", "3")
        .send()
        .await
        .expect("answered");
    assert_eq!(
        resp.text().await.expect("ends"),
        "id: 4\ndata: 4\n\nid: 5\ndata: 5\n\ndata: [DONE]\n\n"
    );
    // Resumed past its last event, the stream says it is over.
    let resp = h
        .req(Method::GET, "/_emulator/stream?count=5")
        .header("last-event-id", "5")
        .send()
        .await
        .expect("answered");
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let resp = h
        .req(Method::GET, "/_emulator/stream?count=5")
        .header("last-event-id", "4")
        .send()
        .await
        .expect("answered");
    assert_eq!(
        resp.text().await.expect("ends"),
        "id: 5\ndata: 5\n\ndata: [DONE]\n\n"
    );
    let entry = h.last_request().await;
    assert_eq!(entry["path"], "/api/v1/_emulator/stream");
    assert_eq!(entry["headers"]["last-event-id"], "4");
    assert_eq!(
        h.get("/_emulator/stream?count=-1").await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
}

#[tokio::test]
async fn bulk_stream_is_cheap() {
    let h = common::start().await;
    let started = Instant::now();
    let resp = h
        .req(Method::GET, "/_emulator/stream?count=200000")
        .send()
        .await
        .expect("answered");
    let body = resp.bytes().await.expect("whole");
    assert!(body.ends_with(b"id: 200000\ndata: 200000\n\ndata: [DONE]\n\n"));
    assert_eq!(
        body.iter().filter(|&&b| b == b'\n').count(),
        3 * 200_000 + 2,
        "three line ends per event, two for the end marker"
    );
    eprintln!("200000 events in {:?}", started.elapsed());
}

#[tokio::test]
async fn bulk_stream_is_cut_and_resumed() {
    let h = common::start().await;
    fault(
        &h,
        json!({"path": "/_emulator/stream", "cut_after_events": 3, "times": 2}),
    )
    .await;
    let get = |last: Option<&str>| {
        let mut rb = h.req(Method::GET, "/_emulator/stream?count=8");
        if let Some(id) = last {
            rb = rb.header("last-event-id", id);
        }
        rb.send()
    };
    let first = read_sse(
        get(None).await.expect("answered"),
        Duration::from_secs(5),
        |_| false,
    )
    .await;
    assert_eq!(
        first,
        "id: 1\ndata: 1\n\nid: 2\ndata: 2\n\nid: 3\ndata: 3\n\n"
    );
    let second = read_sse(
        get(Some("3")).await.expect("answered"),
        Duration::from_secs(5),
        |_| false,
    )
    .await;
    assert_eq!(
        second,
        "id: 4\ndata: 4\n\nid: 5\ndata: 5\n\nid: 6\ndata: 6\n\n"
    );
    let third = get(Some("6")).await.expect("answered");
    assert_eq!(
        third.text().await.expect("a clean end"),
        "id: 7\ndata: 7\n\nid: 8\ndata: 8\n\ndata: [DONE]\n\n"
    );
    let log = h
        .get("/_emulator/requests?path=/api/v1/_emulator/stream")
        .await
        .1;
    let faults: Vec<&Value> = log
        .as_array()
        .expect("log")
        .iter()
        .map(|e| &e["fault"])
        .collect();
    assert_eq!(
        faults,
        [
            &json!("cut_after_events"),
            &json!("cut_after_events"),
            &Value::Null
        ]
    );
}

#[tokio::test]
async fn stalled_stream_goes_silent_then_continues() {
    let h = common::start().await;
    let (status, _) = h
        .post(
            "/_emulator/faults",
            json!({"path": "/_emulator/stream", "stall_after_events": 2}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a stall needs its length"
    );
    fault(
        &h,
        json!({"path": "/_emulator/stream", "stall_after_events": 2, "delay_ms": 400}),
    )
    .await;
    let started = Instant::now();
    let mut resp = h
        .req(Method::GET, "/_emulator/stream?count=3")
        .send()
        .await
        .expect("answered promptly: the stall is inside the stream");
    assert!(started.elapsed() < Duration::from_millis(300));
    let mut text = String::new();
    let mut arrivals = Vec::new();
    while let Some(chunk) = resp.chunk().await.expect("no error") {
        text.push_str(&String::from_utf8_lossy(&chunk));
        arrivals.push((text.matches("id: ").count(), started.elapsed()));
    }
    assert_eq!(text.matches("id: ").count(), 3, "{text}");
    let before = arrivals
        .iter()
        .find(|(n, _)| *n >= 2)
        .map(|a| a.1)
        .expect("two events");
    let after = arrivals.last().map(|a| a.1).expect("three events");
    assert!(
        after - before >= Duration::from_millis(350),
        "silent for the stall: {arrivals:?}"
    );
}

#[tokio::test]
async fn paced_stream_sends_heartbeats_between_events() {
    let h = common::start().await;
    let resp = h
        .req(
            Method::GET,
            "/_emulator/stream?count=2&interval_ms=300&heartbeat_ms=100",
        )
        .send()
        .await
        .expect("answered");
    let text = resp.text().await.expect("ends");
    assert!(text.starts_with("id: 1\ndata: 1\n\n"), "{text}");
    assert!(
        text.ends_with("id: 2\ndata: 2\n\ndata: [DONE]\n\n"),
        "{text}"
    );
    assert!(text.matches(": heartbeat\n\n").count() >= 2, "{text}");
}

#[tokio::test]
async fn stats_show_open_streams_and_abandoned_requests() {
    let h = common::start().await;
    let mut resp = h
        .req(Method::GET, "/_emulator/stream?count=100000000")
        .send()
        .await
        .expect("answered");
    resp.chunk().await.expect("chunk").expect("open");
    let stats = h.stats().await;
    assert_eq!(stats["streams"]["open"], 1, "{stats}");
    assert_eq!(stats["streams"]["opened"], 1, "{stats}");
    drop(resp);
    let mut open = Value::Null;
    for _ in 0..100 {
        open = h.stats().await["streams"]["open"].clone();
        if open == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(open, 0, "the stream closed with its connection");

    // A request abandoned while the emulator stalls before answering.
    fault(
        &h,
        json!({"path": "/sandboxes/sbx_fixture", "delay_ms": 5000}),
    )
    .await;
    let left = h
        .req(Method::GET, "/sandboxes/sbx_fixture")
        .timeout(Duration::from_millis(100))
        .send()
        .await;
    assert!(left.is_err());
    let mut stats = Value::Null;
    for _ in 0..100 {
        stats = h.stats().await;
        if stats["abandoned"] == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(stats["abandoned"], 1, "{stats}");
    assert_eq!(stats["in_flight"], 0, "{stats}");
    h.post("/_emulator/reset", json!({})).await;
    let stats = h.stats().await;
    assert_eq!(stats["abandoned"], 0, "{stats}");
    assert_eq!(stats["streams"]["opened"], 0, "{stats}");
}
