//! Reliability against injected faults (issue #8): every fault the emulator
//! can produce, with retries on and off, the layered timeouts, resumable and
//! idle-limited streams, cancellation seen from the server, the retry budget,
//! and secrets kept out of every printable form.
//!
//! Each test owns its emulator, so faults and counters never leak between
//! tests. Delays are short (10 ms backoff, sub-second timeouts); the longest
//! wait is the one-second `Retry-After`.

mod common;

use std::time::{Duration, Instant};

use miosa::api::{
    ExecRunParams, SandboxExecRunParams, SandboxesCreateParams, WebhooksCreateParams,
};
use miosa::{Client, ErrorKind, Event, HttpMethod, RequestOptions, RetryPolicy};
use serde_json::{Map, Value, json};

use common::{Env, client_with, control, env, fault, log_for, stats, stats_until};

const SANDBOX: &str = "/sandboxes/sbx_fixture";

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Retries on: `max_attempts` attempts, 10 ms backoff base, 50 ms cap.
fn fast_policy(max_attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        base_delay: ms(10),
        max_delay: ms(50),
    }
}

fn retrying(env: &Env, max_attempts: u32) -> Client {
    client_with(&env.emulator, |b| b.retry_policy(fast_policy(max_attempts)))
}

fn statuses(log: &[Value]) -> Vec<Value> {
    log.iter().map(|e| e["status"].clone()).collect()
}

fn gets(log: &[Value], path: &str) -> usize {
    let full = format!("/api/v1{path}");
    log.iter()
        .filter(|e| e["method"] == "GET" && e["path"] == full.as_str())
        .count()
}

fn params(pairs: &[(&str, Value)]) -> Map<String, Value> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}

// ---------------------------------------------------------------- 429 and 5xx

#[tokio::test]
async fn rate_limited_then_success_waits_for_retry_after() {
    let env = env();
    fault(
        &env,
        json!({"path": SANDBOX, "method": "GET", "status": 429, "retry_after": "1",
               "body": {"error": "slow down", "code": "RATE_LIMITED"}}),
    )
    .await;
    let client = client_with(&env.emulator, |b| {
        b.retry_policy(RetryPolicy {
            max_delay: Duration::from_secs(5),
            ..fast_policy(3)
        })
    });
    let started = Instant::now();
    let sandbox = client
        .sandboxes()
        .get("sbx_fixture")
        .await
        .expect("retried");
    let waited = started.elapsed();
    assert_eq!(sandbox.id, "sbx_fixture");
    assert!(
        waited >= ms(950) && waited < Duration::from_secs(4),
        "waited {waited:?} for Retry-After: 1"
    );
    let log = log_for(&env, SANDBOX).await;
    assert_eq!(statuses(&log), [json!(429), json!(200)], "two attempts");

    // The body's `retry_after_ms` is honoured the same way.
    fault(
        &env,
        json!({"path": SANDBOX, "method": "GET", "status": 429,
               "body": {"error": "slow down", "retry_after_ms": 300}}),
    )
    .await;
    let started = Instant::now();
    client
        .sandboxes()
        .get("sbx_fixture")
        .await
        .expect("retried");
    assert!(started.elapsed() >= ms(290), "{:?}", started.elapsed());
}

#[tokio::test]
async fn rate_limited_without_retry_is_a_typed_error() {
    let env = env();
    fault(
        &env,
        json!({"path": SANDBOX, "method": "GET", "status": 429, "retry_after": "7"}),
    )
    .await;
    let err = env
        .client
        .sandboxes()
        .get("sbx_fixture")
        .await
        .expect_err("429");
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert_eq!(err.status(), Some(429));
    assert_eq!(err.retry_after(), Some(Duration::from_secs(7)));
    assert_eq!(err.attempts(), 1);
    assert_eq!(gets(&log_for(&env, SANDBOX).await, SANDBOX), 1);
}

#[tokio::test]
async fn server_errors_within_max_attempts_end_in_success() {
    let env = env();
    fault(
        &env,
        json!({"path": SANDBOX, "method": "GET", "status": 503, "times": 2}),
    )
    .await;
    let sandbox = retrying(&env, 3)
        .sandboxes()
        .get("sbx_fixture")
        .await
        .expect("third attempt succeeds");
    assert_eq!(sandbox.id, "sbx_fixture");
    let log = log_for(&env, SANDBOX).await;
    assert_eq!(statuses(&log), [json!(503), json!(503), json!(200)]);
}

#[tokio::test]
async fn server_errors_beyond_max_attempts_fail_with_the_count() {
    let env = env();
    fault(
        &env,
        json!({"path": SANDBOX, "method": "GET", "status": 500, "times": 5}),
    )
    .await;
    let err = retrying(&env, 3)
        .sandboxes()
        .get("sbx_fixture")
        .await
        .expect_err("three 500s");
    assert_eq!(err.kind(), ErrorKind::Server);
    assert_eq!(err.status(), Some(500));
    assert_eq!(err.attempts(), 3);
    assert_eq!(gets(&log_for(&env, SANDBOX).await, SANDBOX), 3);

    // 501 says "never": not retried.
    control(&env, HttpMethod::Delete, "/_emulator/faults", None).await;
    fault(
        &env,
        json!({"path": SANDBOX, "method": "GET", "status": 501, "times": 5}),
    )
    .await;
    let err = retrying(&env, 3)
        .sandboxes()
        .get("sbx_fixture")
        .await
        .expect_err("501");
    assert_eq!((err.status(), err.attempts()), (Some(501), 1));
}

#[tokio::test]
async fn payment_and_quota_refusals_are_never_retried() {
    let env = env();
    let client = retrying(&env, 5);
    control(
        &env,
        HttpMethod::Put,
        "/_emulator/credits",
        Some(json!({"balance": 0})),
    )
    .await;
    let err = client
        .sandboxes()
        .create(SandboxesCreateParams::default().name("no-credits"))
        .await
        .expect_err("402");
    assert_eq!(err.kind(), ErrorKind::InsufficientCredits);
    assert_eq!(err.attempts(), 1);
    let posts = log_for(&env, "/sandboxes").await;
    assert_eq!(posts.len(), 1, "exactly one request: {posts:?}");
    assert_eq!(posts[0]["status"], 402);

    for (status, code) in [(429, "QUOTA_EXCEEDED"), (503, "no_ready_machine")] {
        fault(
            &env,
            json!({"path": SANDBOX, "method": "GET", "status": status, "times": 5,
                   "body": {"error": "refused", "code": code}}),
        )
        .await;
        let err = client.sandboxes().get("sbx_fixture").await.expect_err(code);
        assert_eq!((err.status(), err.attempts()), (Some(status), 1), "{code}");
        control(&env, HttpMethod::Delete, "/_emulator/faults", None).await;
    }
    assert_eq!(gets(&log_for(&env, SANDBOX).await, SANDBOX), 2);
}

// ------------------------------------------------------- mutations and keys

#[tokio::test]
async fn a_mutation_without_retry_is_sent_once_without_a_key() {
    let env = env();
    fault(
        &env,
        json!({"path": "/computers/sbx_fixture/exec", "status": 503, "times": 3}),
    )
    .await;
    let err = env
        .client
        .exec()
        .run("sbx_fixture", ExecRunParams::default().command("true"))
        .await
        .expect_err("503");
    assert_eq!((err.kind(), err.attempts()), (ErrorKind::Server, 1));
    let log = log_for(&env, "/computers/sbx_fixture/exec").await;
    assert_eq!(log.len(), 1, "not retried: {log:?}");
    assert!(
        log[0]["headers"].get("idempotency-key").is_none(),
        "no key was asked for: {}",
        log[0]["headers"]
    );
}

#[tokio::test]
async fn a_command_sent_while_the_sandbox_starts_waits_for_it() {
    let env = env();
    let client = retrying(&env, 30);
    let sb = client
        .sandboxes()
        .create(SandboxesCreateParams::default().name("fresh"))
        .await
        .expect("created");
    let out = client
        .sandbox()
        .exec()
        .run(
            &sb.id,
            SandboxExecRunParams::default().command("echo ready"),
        )
        .await
        .expect("the command runs once the sandbox is up");
    assert_eq!(out.stdout.trim(), "ready");
    let path = format!("/sandboxes/{}/exec", sb.id);
    let log = log_for(&env, &path).await;
    assert!(log.len() >= 2, "refused while starting, then run: {log:?}");
    assert_eq!(log[0]["status"], 409);
    assert_eq!(log.last().expect("one")["status"], 200);

    // With retries off the refusal reaches the caller, marked as one attempt.
    let sb = env
        .client
        .sandboxes()
        .create(SandboxesCreateParams::default().name("fresh-too"))
        .await
        .expect("created");
    let err = env
        .client
        .sandbox()
        .exec()
        .run(&sb.id, SandboxExecRunParams::default().command("true"))
        .await
        .expect_err("still starting");
    assert_eq!(
        (err.kind(), err.code(), err.attempts()),
        (ErrorKind::Conflict, Some("SANDBOX_STARTING"), 1)
    );
}

#[tokio::test]
async fn a_retried_create_reuses_one_key_and_creates_one_sandbox() {
    let env = env();
    fault(
        &env,
        json!({"path": "/sandboxes", "method": "POST", "status": 503, "times": 2}),
    )
    .await;
    let created = retrying(&env, 3)
        .sandboxes()
        .create(SandboxesCreateParams::default().name("retried"))
        .await
        .expect("third attempt creates");
    assert_eq!(created.name.as_deref(), Some("retried"));
    let log = log_for(&env, "/sandboxes").await;
    let posts: Vec<&Value> = log.iter().filter(|e| e["method"] == "POST").collect();
    assert_eq!(posts.len(), 3);
    let keys: Vec<&str> = posts
        .iter()
        .map(|e| e["headers"]["idempotency-key"].as_str().expect("a key"))
        .collect();
    assert_eq!(keys[0].len(), 32, "generated: {keys:?}");
    assert!(keys.iter().all(|k| *k == keys[0]), "one key: {keys:?}");
    assert_eq!(stats(&env).await["created"]["sandbox"], 1);
}

#[tokio::test]
async fn a_create_whose_answer_is_lost_is_replayed_not_repeated() {
    for fault_kind in ["reset_body", "truncate"] {
        let env = env();
        fault(
            &env,
            json!({"path": "/sandboxes", "method": "POST", fault_kind: true}),
        )
        .await;
        let created = retrying(&env, 3)
            .sandboxes()
            .create(SandboxesCreateParams::default().name("lost"))
            .await
            .unwrap_or_else(|e| panic!("{fault_kind}: {e}"));
        let log = log_for(&env, "/sandboxes").await;
        assert_eq!(log.len(), 2, "{fault_kind}: {log:?}");
        assert_eq!(log[0]["fault"], fault_kind);
        assert_eq!(
            log[0]["headers"]["idempotency-key"],
            log[1]["headers"]["idempotency-key"]
        );
        let all = env
            .client
            .sandboxes()
            .list(Default::default())
            .await
            .expect("list");
        let lost: Vec<_> = all
            .iter()
            .filter(|s| s.name.as_deref() == Some("lost"))
            .collect();
        assert_eq!(lost.len(), 1, "{fault_kind}: one sandbox");
        assert_eq!(lost[0].id, created.id, "the replayed answer");
        assert_eq!(stats(&env).await["created"]["sandbox"], 1, "{fault_kind}");
    }

    // Without retries the answer is simply lost: a Connection error, and the
    // sandbox exists, which is why a retried create needs its key.
    let env = env();
    fault(
        &env,
        json!({"path": "/sandboxes", "method": "POST", "reset_body": true}),
    )
    .await;
    let err = env
        .client
        .sandboxes()
        .create(SandboxesCreateParams::default().name("lost"))
        .await
        .expect_err("cut");
    assert_eq!((err.kind(), err.attempts()), (ErrorKind::Connection, 1));
    assert_eq!(stats(&env).await["created"]["sandbox"], 1);
}

#[tokio::test]
async fn retry_on_gives_every_mutation_a_key_and_gets_none() {
    let env = env();
    let client = retrying(&env, 2);
    client.sandboxes().get("sbx_fixture").await.expect("get");
    client
        .exec()
        .run("sbx_fixture", ExecRunParams::default().command("true"))
        .await
        .expect("exec");
    client
        .request_json(
            HttpMethod::Post,
            "/sandboxes/sbx_fixture/extend",
            Some(json!({"timeout_sec": 60})),
        )
        .await
        .expect("raw post");
    let log = log_for(&env, "/").await;
    for entry in &log {
        let has_key = entry["headers"].get("idempotency-key").is_some();
        assert_eq!(
            has_key,
            entry["method"] != "GET",
            "{} {}",
            entry["method"],
            entry["path"]
        );
    }
    assert_eq!(log.len(), 3);
}

// ------------------------------------------------ resets and truncated bodies

#[tokio::test]
async fn connection_reset_before_the_answer() {
    let env = env();
    fault(
        &env,
        json!({"path": SANDBOX, "method": "GET", "reset": true}),
    )
    .await;
    let sandbox = retrying(&env, 3)
        .sandboxes()
        .get("sbx_fixture")
        .await
        .expect("retried");
    assert_eq!(sandbox.id, "sbx_fixture");
    let log = log_for(&env, SANDBOX).await;
    assert_eq!(statuses(&log), [Value::Null, json!(200)]);

    fault(
        &env,
        json!({"path": SANDBOX, "method": "GET", "reset": true}),
    )
    .await;
    let err = env
        .client
        .sandboxes()
        .get("sbx_fixture")
        .await
        .expect_err("reset");
    assert_eq!(err.kind(), ErrorKind::Connection, "{err}");
    assert_eq!((err.status(), err.attempts()), (None, 1));
}

#[tokio::test]
async fn connection_reset_during_the_body() {
    let env = env();
    fault(
        &env,
        json!({"path": SANDBOX, "method": "GET", "reset_body": true}),
    )
    .await;
    let sandbox = retrying(&env, 3)
        .sandboxes()
        .get("sbx_fixture")
        .await
        .expect("retried");
    assert_eq!(sandbox.id, "sbx_fixture");
    assert_eq!(gets(&log_for(&env, SANDBOX).await, SANDBOX), 2);

    fault(
        &env,
        json!({"path": SANDBOX, "method": "GET", "reset_body": true}),
    )
    .await;
    let err = env
        .client
        .sandboxes()
        .get("sbx_fixture")
        .await
        .expect_err("cut body");
    assert_eq!(err.kind(), ErrorKind::Connection, "{err}");
    assert_eq!(err.attempts(), 1);
}

/// Every decoder (model, list, raw JSON, bytes) meets a truncated body with an
/// error, never a panic or a partial value.
#[tokio::test]
async fn truncated_bodies_are_errors_never_values() {
    let env = env();
    let ok_kinds = [ErrorKind::Connection, ErrorKind::Decode];
    let client = &env.client;

    fault(
        &env,
        json!({"path": SANDBOX, "method": "GET", "truncate": true}),
    )
    .await;
    let err = client
        .sandboxes()
        .get("sbx_fixture")
        .await
        .expect_err("model");
    assert!(ok_kinds.contains(&err.kind()), "{err:?}");

    fault(
        &env,
        json!({"path": "/sandboxes", "method": "GET", "truncate": true}),
    )
    .await;
    let err = client
        .sandboxes()
        .list(Default::default())
        .await
        .expect_err("list");
    assert!(ok_kinds.contains(&err.kind()), "{err:?}");

    fault(
        &env,
        json!({"path": SANDBOX, "method": "GET", "truncate": true}),
    )
    .await;
    let err = client
        .request_json(HttpMethod::Get, SANDBOX, None)
        .await
        .expect_err("raw json");
    assert!(ok_kinds.contains(&err.kind()), "{err:?}");

    let path = "/sandboxes/sbx_fixture/fs/download";
    fault(
        &env,
        json!({"path": path, "method": "GET", "truncate": true}),
    )
    .await;
    let err = client
        .sandbox()
        .files()
        .read("sbx_fixture", "/workspace/hello.txt")
        .await
        .expect_err("bytes");
    assert!(ok_kinds.contains(&err.kind()), "{err:?}");

    // With retries on, the next attempt gets the whole body.
    fault(
        &env,
        json!({"path": path, "method": "GET", "truncate": true}),
    )
    .await;
    let bytes = retrying(&env, 2)
        .sandbox()
        .files()
        .read("sbx_fixture", "/workspace/hello.txt")
        .await
        .expect("retried");
    assert_eq!(&bytes[..], b"hello\n");
}

// ------------------------------------------------------------------ timeouts

#[tokio::test]
async fn a_stall_beyond_the_attempt_timeout_fails_fast() {
    let env = env();
    fault(
        &env,
        json!({"path": SANDBOX, "method": "GET", "delay_ms": 5000, "times": 3}),
    )
    .await;
    let client = client_with(&env.emulator, |b| b.timeout(ms(200)));
    let started = Instant::now();
    let err = client
        .sandboxes()
        .get("sbx_fixture")
        .await
        .expect_err("stalled");
    assert_eq!(
        (err.kind(), err.status()),
        (ErrorKind::Timeout, None),
        "{err}"
    );
    assert!(started.elapsed() < ms(1500), "{:?}", started.elapsed());

    // A per-call timeout replaces the client's.
    let quick = env
        .client
        .with_options(RequestOptions::new().timeout(ms(150)))
        .expect("options");
    let started = Instant::now();
    let err = quick
        .sandboxes()
        .get("sbx_fixture")
        .await
        .expect_err("stalled");
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert!(started.elapsed() < ms(1500), "{:?}", started.elapsed());

    // Retries on: the stalled attempt is abandoned, the next one answers.
    let client = client_with(&env.emulator, |b| {
        b.timeout(ms(200)).retry_policy(fast_policy(3))
    });
    client
        .sandboxes()
        .get("sbx_fixture")
        .await
        .expect("second attempt");
    let stats = stats_until(&env, |s| s["abandoned"] == 3).await;
    assert_eq!(
        stats["abandoned"], 3,
        "the server saw each stalled call go: {stats}"
    );
}

#[tokio::test]
async fn the_operation_timeout_bounds_all_retries() {
    let env = env();
    fault(
        &env,
        json!({"path": SANDBOX, "method": "GET", "status": 503, "times": 1000}),
    )
    .await;
    let client = client_with(&env.emulator, |b| {
        b.retry_policy(RetryPolicy {
            max_attempts: 101,
            base_delay: ms(20),
            max_delay: ms(40),
        })
        .operation_timeout(ms(400))
    });
    let started = Instant::now();
    let err = client
        .sandboxes()
        .get("sbx_fixture")
        .await
        .expect_err("bounded");
    let took = started.elapsed();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(took >= ms(380) && took < ms(1500), "{took:?}");
    assert!(err.attempts() > 1, "attempts are counted: {err:?}");
    // The attempt cut short by the limit may not have reached the server yet.
    let sent = u32::try_from(gets(&log_for(&env, SANDBOX).await, SANDBOX)).expect("count");
    assert!(
        (sent..=sent + 1).contains(&err.attempts()),
        "{sent} requests seen for {err}"
    );
}

#[tokio::test]
async fn connection_refused_is_a_connection_error_retried_to_the_limit() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    };
    let client = Client::builder("msk_test_refused")
        .base_url(format!("http://127.0.0.1:{port}/api/v1"))
        .retry_policy(fast_policy(3))
        .build()
        .expect("client");
    let err = client.sandboxes().get("sbx_x").await.expect_err("refused");
    assert_eq!(err.kind(), ErrorKind::Connection, "{err}");
    assert_eq!((err.status(), err.attempts()), (None, 3));
}

// ------------------------------------------------------------------- streams

async fn collect(stream: &miosa::EventStream) -> (Vec<Event>, Option<miosa::Error>) {
    let mut events = Vec::new();
    while let Some(item) = stream.next().await {
        match item {
            Ok(e) => events.push(e),
            Err(e) => return (events, Some(e)),
        }
    }
    (events, None)
}

#[tokio::test]
async fn a_stream_cut_five_times_delivers_every_event_once_in_order() {
    let env = env();
    fault(
        &env,
        json!({"path": "/_emulator/stream", "cut_after_events": 7, "times": 5}),
    )
    .await;
    let stream = env
        .client
        .stream_sse(
            "/_emulator/stream",
            params(&[("count", json!(50)), ("retry_ms", json!(10))]),
        )
        .await
        .expect("opens");
    let (events, err) = collect(&stream).await;
    assert!(err.is_none(), "{err:?}");
    let ids: Vec<u64> = events
        .iter()
        .map(|e| {
            e.id.as_deref()
                .and_then(|i| i.parse().ok())
                .expect("numeric id")
        })
        .collect();
    assert_eq!(ids, (1..=50).collect::<Vec<u64>>());
    assert!(
        events
            .iter()
            .all(|e| Some(e.data.as_str()) == e.id.as_deref())
    );
    let log = log_for(&env, "/_emulator/stream").await;
    let resumed: Vec<Value> = log
        .iter()
        .map(|e| {
            e["headers"]
                .get("last-event-id")
                .cloned()
                .unwrap_or(Value::Null)
        })
        .collect();
    assert_eq!(
        resumed,
        [
            Value::Null,
            json!("7"),
            json!("14"),
            json!("21"),
            json!("28"),
            json!("35")
        ]
    );
}

#[tokio::test]
async fn a_stream_reconnect_rides_out_a_transient_server_error() {
    let env = env();
    fault(
        &env,
        json!({"faults": [
            {"path": "/_emulator/stream", "cut_after_events": 3},
            {"path": "/_emulator/stream", "status": 503, "times": 2},
        ]}),
    )
    .await;
    let stream = env
        .client
        .stream_sse(
            "/_emulator/stream",
            params(&[("count", json!(6)), ("retry_ms", json!(10))]),
        )
        .await
        .expect("opens");
    let (events, err) = collect(&stream).await;
    assert!(err.is_none(), "{err:?}");
    let ids: Vec<&str> = events.iter().filter_map(|e| e.id.as_deref()).collect();
    assert_eq!(ids, ["1", "2", "3", "4", "5", "6"]);
    let log = log_for(&env, "/_emulator/stream").await;
    assert_eq!(
        statuses(&log),
        [json!(200), json!(503), json!(503), json!(200)]
    );
}

#[tokio::test]
async fn a_stalled_stream_times_out_and_a_heartbeat_keeps_one_alive() {
    let env = env();
    let client = client_with(&env.emulator, |b| b.timeout(ms(500)));

    fault(
        &env,
        json!({"path": "/_emulator/stream", "stall_after_events": 3, "delay_ms": 5000}),
    )
    .await;
    let stream = client
        .stream_sse("/_emulator/stream", params(&[("count", json!(10))]))
        .await
        .expect("opens");
    let started = Instant::now();
    let (events, err) = collect(&stream).await;
    let err = err.expect("the idle limit ends the stream");
    assert_eq!(events.len(), 3);
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(
        started.elapsed() >= ms(480) && started.elapsed() < ms(2500),
        "{:?}",
        started.elapsed()
    );
    assert!(stream.next().await.is_none(), "ended after the error");
    assert_eq!(
        log_for(&env, "/_emulator/stream").await.len(),
        1,
        "a dead stream is not resumed"
    );

    // Quiet for 900 ms between events, longer than the 500 ms idle limit,
    // with a heartbeat every 100 ms: alive.
    let started = Instant::now();
    let stream = client
        .stream_sse(
            "/_emulator/stream",
            params(&[
                ("count", json!(3)),
                ("interval_ms", json!(900)),
                ("heartbeat_ms", json!(100)),
            ]),
        )
        .await
        .expect("opens");
    let (events, err) = collect(&stream).await;
    assert!(err.is_none(), "{err:?}");
    assert_eq!(events.len(), 3);
    assert!(started.elapsed() >= ms(1800), "{:?}", started.elapsed());

    // The same pace without heartbeats dies at the idle limit.
    let stream = client
        .stream_sse(
            "/_emulator/stream",
            params(&[("count", json!(3)), ("interval_ms", json!(900))]),
        )
        .await
        .expect("opens");
    let (events, err) = collect(&stream).await;
    assert_eq!(events.len(), 1);
    assert_eq!(err.map(|e| e.kind()), Some(ErrorKind::Timeout));
}

// -------------------------------------------------------------- cancellation

#[tokio::test]
async fn dropping_a_stream_closes_it_on_the_server() {
    let env = env();
    let stream = env
        .client
        .stream_sse(
            "/_emulator/stream",
            params(&[("count", json!(100_000_000))]),
        )
        .await
        .expect("opens");
    for want in 1..=10u64 {
        let event = stream.next().await.expect("open").expect("event");
        assert_eq!(event.id, Some(want.to_string()));
    }
    assert_eq!(stats(&env).await["streams"]["open"], 1);
    drop(stream);
    let after = stats_until(&env, |s| s["streams"]["open"] == 0).await;
    assert_eq!(after["streams"]["open"], 0, "{after}");

    // `close()` does the same, and so does leaving a callback loop.
    let stream = env
        .client
        .stream_sse(
            "/_emulator/stream",
            params(&[("count", json!(100_000_000))]),
        )
        .await
        .expect("opens");
    stream.next().await.expect("open").expect("event");
    stream.close();
    assert!(stream.next().await.is_none());
    let after = stats_until(&env, |s| s["streams"]["open"] == 0).await;
    assert_eq!(after["streams"]["open"], 0, "{after}");
    let stream = env
        .client
        .stream_sse(
            "/_emulator/stream",
            params(&[("count", json!(100_000_000))]),
        )
        .await
        .expect("opens");
    let mut seen = 0;
    stream
        .for_each(|_| {
            seen += 1;
            if seen == 5 {
                miosa::Control::Stop
            } else {
                miosa::Control::Continue
            }
        })
        .await
        .expect("stopped");
    let after = stats_until(&env, |s| s["streams"]["open"] == 0).await;
    assert_eq!(after["streams"]["open"], 0, "{after}");
    assert_eq!(after["streams"]["opened"], 3);
}

fn in_flight(stats: &Value) -> bool {
    stats["in_flight"] == 1
}

#[tokio::test]
async fn dropping_a_call_abandons_it_on_the_server() {
    let env = env();
    let before = stats(&env).await;
    {
        // The call is dropped once the server is answering it (a 5 s command).
        let exec = env.client.exec();
        let call = exec.run("sbx_fixture", ExecRunParams::default().command("sleep 5"));
        tokio::pin!(call);
        tokio::select! {
            done = &mut call => panic!("the call finished: {done:?}"),
            seen = stats_until(&env, in_flight) => assert!(in_flight(&seen), "{seen}"),
        }
    }
    let started = Instant::now();
    let after = stats_until(&env, |s| s["abandoned"] == 1 && s["in_flight"] == 0).await;
    assert_eq!(after["abandoned"], 1, "{after}");
    assert_eq!(after["in_flight"], 0, "{after}");
    assert_eq!(
        after["exec_count"], before["exec_count"],
        "the exec never finished"
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );

    // A spawned task dropped before it finishes is cancelled the same way.
    let client = env.client.clone();
    let task = env.client.spawn(async move {
        client
            .exec()
            .run("sbx_fixture", ExecRunParams::default().command("sleep 5"))
            .await
    });
    let seen = stats_until(&env, in_flight).await;
    assert!(in_flight(&seen), "{seen}");
    drop(task);
    let after = stats_until(&env, |s| s["abandoned"] == 2).await;
    assert_eq!(
        (after["abandoned"].clone(), after["in_flight"].clone()),
        (json!(2), json!(0))
    );
}

/// The blocking form the bindings use (Python's Ctrl-C check): an interrupt
/// cancels the request, and the server sees its client go.
#[test]
fn an_interrupted_blocking_call_is_abandoned_on_the_server() {
    let env = env();
    let stats_now = |client: &Client| {
        let client = client.clone();
        client.clone().block_on(async move {
            client
                .request_json(HttpMethod::Get, "/_emulator/stats", None)
                .await
        })
    };
    let client = env.client.clone();
    let started = Instant::now();
    // The interrupt comes once the server is answering (or after 3 s, failing below).
    let outcome = env.client.block_on_interruptible(
        async move {
            client
                .exec()
                .run("sbx_fixture", ExecRunParams::default().command("sleep 5"))
                .await
        },
        ms(20),
        || {
            let answering = stats_now(&env.client).is_ok_and(|s| in_flight(&s));
            if answering || started.elapsed() > Duration::from_secs(3) {
                Err(answering)
            } else {
                Ok(())
            }
        },
    );
    assert_eq!(outcome.err(), Some(true), "interrupted while answered");
    let mut seen = Value::Null;
    for _ in 0..150 {
        seen = stats_now(&env.client).expect("stats");
        if seen["abandoned"] == 1 {
            break;
        }
        std::thread::sleep(ms(20));
    }
    assert_eq!(seen["abandoned"], 1, "{seen}");
    assert_eq!(seen["in_flight"], 0, "{seen}");
}

// -------------------------------------------------------------- retry budget

#[tokio::test]
async fn the_retry_budget_stops_a_storm() {
    let env = env();
    fault(
        &env,
        json!({"path": SANDBOX, "method": "GET", "status": 503, "times": 100_000}),
    )
    .await;
    let client = client_with(&env.emulator, |b| {
        b.retry_policy(RetryPolicy {
            max_attempts: 3,
            base_delay: ms(1),
            max_delay: ms(2),
        })
    });
    let before = stats(&env).await["requests"].as_u64().expect("count");
    let calls = 200u64;
    let mut last = None;
    for _ in 0..calls {
        let err = client
            .sandboxes()
            .get("sbx_fixture")
            .await
            .expect_err("503");
        assert_eq!(err.kind(), ErrorKind::Server);
        last = Some(err);
    }
    let sent = stats(&env).await["requests"].as_u64().expect("count") - before;
    assert!(sent < calls * 3, "{sent} requests for {calls} calls");
    assert!(
        sent <= calls + 100,
        "the bucket allows about 100 retries: {sent}"
    );
    assert_eq!(
        last.map(|e| e.attempts()),
        Some(1),
        "budget spent: no more retries"
    );

    // Another client has its own budget.
    let fresh = client_with(&env.emulator, |b| b.retry_policy(fast_policy(3)));
    let err = fresh.sandboxes().get("sbx_fixture").await.expect_err("503");
    assert_eq!(err.attempts(), 3);
}

// ------------------------------------------------------------------- secrets

#[tokio::test]
async fn secrets_never_appear_in_debug_display_or_errors() {
    const CANARY: &str = "CANARY7f3a9c2e";
    let key = format!("msk_live_{CANARY}_0123456789");
    let wrong = format!("msk_live_{CANARY}_wrong_key");
    let emulator = miosa_emulator::Emulator::try_spawn(miosa_emulator::Config {
        api_key: key.clone(),
        ..miosa_emulator::Config::default()
    })
    .expect("emulator");
    let builder = Client::builder(&key)
        .base_url(emulator.base_url())
        .header("x-tenant-token", format!("tok_{CANARY}"));
    let mut shown = vec![format!("{builder:?}")];
    let client = builder
        .retry_policy(fast_policy(2))
        .timeout(ms(300))
        .build()
        .expect("client");
    shown.push(format!("{client:?}"));
    shown.push(format!("{:?}", client.config()));
    let options = RequestOptions::new().header("authorization", format!("Bearer {key}"));
    shown.push(format!("{options:?}"));
    shown.push(format!(
        "{:?}",
        client.with_options(options).expect("options").options()
    ));

    let mut errors = Vec::new();
    errors.push(
        client
            .sandboxes()
            .get("sbx_missing")
            .await
            .expect_err("404"),
    );
    let intruder = Client::builder(&wrong)
        .base_url(emulator.base_url())
        .build()
        .expect("client");
    shown.push(format!("{intruder:?}"));
    errors.push(
        intruder
            .sandboxes()
            .get("sbx_fixture")
            .await
            .expect_err("401"),
    );
    client
        .request_json(
            HttpMethod::Post,
            "/_emulator/faults",
            Some(json!({"path": SANDBOX, "delay_ms": 3000, "times": 2})),
        )
        .await
        .expect("fault");
    errors.push(
        client
            .sandboxes()
            .get("sbx_fixture")
            .await
            .expect_err("timeout"),
    );
    let refused = Client::builder(&key)
        .base_url("http://127.0.0.1:9/api/v1")
        .build()
        .expect("client");
    errors.push(
        refused
            .sandboxes()
            .get("sbx_fixture")
            .await
            .expect_err("refused"),
    );
    errors.push(
        client
            .stream_sse("/sandboxes/sbx_missing/events", Map::new())
            .await
            .expect_err("404 stream"),
    );
    errors.push(miosa::ApiKey::new(format!("sk_{CANARY}")).expect_err("bad key"));
    assert_eq!(errors[1].kind(), ErrorKind::Authentication);
    assert_eq!(errors[2].kind(), ErrorKind::Timeout);
    for err in &errors {
        shown.push(format!("{err:?}"));
        shown.push(format!("{err}"));
        shown.push(err.message().to_owned());
        shown.push(err.body().map(Value::to_string).unwrap_or_default());
    }

    // Models: a sandbox, a stream, and a webhook whose secret is a credential.
    let sandbox = client
        .sandboxes()
        .get("sbx_fixture")
        .await
        .expect("sandbox");
    shown.push(format!("{sandbox:?}"));
    let stream = client
        .stream_sse("/_emulator/stream", params(&[("count", json!(1))]))
        .await
        .expect("stream");
    shown.push(format!("{stream:?}"));
    let webhook = client
        .webhooks()
        .create(
            WebhooksCreateParams::default()
                .url("https://example.test/hook")
                .events(vec!["sandbox.created".to_owned()]),
        )
        .await
        .expect("webhook");
    let secret = webhook.secret.clone().expect("a webhook secret");
    let webhook_debug = format!("{webhook:?}");
    assert!(!webhook_debug.contains(&secret), "{webhook_debug}");

    for text in &shown {
        assert!(!text.contains(CANARY), "the key leaked: {text}");
    }
    drop(emulator);
}
