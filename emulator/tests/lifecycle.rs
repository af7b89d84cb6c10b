//! The machine lifecycle as MIOSA runs it: boot after the boot delay, `wait`
//! and `fail_fast` on create, 409 while booting or stopped, and the state
//! moves of stop, pause, resume and start. Raw HTTP only.

mod common;

use std::time::{Duration, Instant};

use miosa_emulator::Config;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use common::{Harness, read_sse};

/// A tolerant emulator whose machines boot for `boot_ms`.
async fn booting(boot_ms: u64, warm_pool: u64) -> Harness {
    common::start_with(Config {
        strict: false,
        boot_delay: Duration::from_millis(boot_ms),
        warm_pool,
        ..Config::default()
    })
    .await
}

fn id_of(v: &Value) -> String {
    v["data"]["id"]
        .as_str()
        .or_else(|| v["id"].as_str())
        .expect("an id")
        .to_owned()
}

/// Asserts a 409 with `code` in the nested or flat error shape.
fn assert_conflict(status: StatusCode, v: &Value, code: &str) {
    assert_eq!(status, StatusCode::CONFLICT, "{v}");
    let got = v["error"]["code"].as_str().or_else(|| v["code"].as_str());
    assert_eq!(got, Some(code), "{v}");
}

#[tokio::test]
async fn a_new_sandbox_boots_by_itself_and_refuses_work_until_then() {
    let h = booting(600, 10).await;
    let (status, v) = h.post("/sandboxes", json!({"name": "boots"})).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(v["data"]["state"], "creating");
    let id = id_of(&v);

    let (status, e) = h
        .post(
            &format!("/sandboxes/{id}/exec"),
            json!({"command": "echo hi"}),
        )
        .await;
    assert_conflict(status, &e, "SANDBOX_STARTING");
    assert_eq!(e["error"]["retryable"], true, "{e}");
    assert!(e["error"]["retry_after_ms"].as_u64().is_some(), "{e}");
    for (path, body) in [
        (
            format!("/sandboxes/{id}/fs/write"),
            json!({"path": "/workspace/a.txt", "content": "a"}),
        ),
        (
            format!("/sandboxes/{id}/processes"),
            json!({"command": "sleep 1"}),
        ),
        (format!("/sandboxes/{id}/terminal"), json!({})),
    ] {
        let (status, e) = h.post(&path, body).await;
        assert_conflict(status, &e, "SANDBOX_STARTING");
    }
    let (status, e) = h
        .get(&format!("/sandboxes/{id}/fs/download?path=/workspace/x"))
        .await;
    assert_conflict(status, &e, "SANDBOX_STARTING");

    let v = h
        .until(&format!("/sandboxes/{id}"), |v| {
            v["data"]["state"] == "running"
        })
        .await;
    assert_eq!(v["data"]["state"], "running", "{v}");
    assert_eq!(v["data"]["ready"], true);
    let (status, out) = h
        .post(
            &format!("/sandboxes/{id}/exec"),
            json!({"command": "echo hi"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{out}");
}

#[tokio::test]
async fn wait_holds_the_create_as_a_bool_or_in_seconds() {
    let h = booting(300, 10).await;
    for wait in ["true", "30", "2.5"] {
        let (status, v) = h.post(&format!("/sandboxes?wait={wait}"), json!({})).await;
        assert_eq!(status, StatusCode::CREATED, "{v}");
        assert_eq!(v["data"]["state"], "running", "wait={wait}");
    }
    let (_, v) = h.post("/sandboxes?wait=false", json!({})).await;
    assert_eq!(v["data"]["state"], "creating");

    // A deadline shorter than the boot answers with the state reached.
    let slow = booting(5_000, 10).await;
    let t0 = Instant::now();
    let (status, v) = slow.post("/sandboxes?wait=0.1", json!({})).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(v["data"]["state"], "creating");
    assert!(t0.elapsed() < Duration::from_secs(3));

    let (status, e) = h.post("/sandboxes?wait=soon", json!({})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(e["error"]["details"]["wait"].is_array(), "{e}");
}

#[tokio::test]
async fn fail_fast_takes_the_warm_pool_or_answers_503() {
    let h = booting(5_000, 1).await;
    let credits = h.stats().await["credits"].clone();
    let (status, v) = h.post("/sandboxes", json!({"fail_fast": true})).await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    assert_eq!(v["data"]["state"], "running", "a warm machine runs at once");
    assert_eq!(v["data"]["boot_path"], "warm_pool");

    let (status, e) = h.post("/sandboxes", json!({"fail_fast": true})).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{e}");
    assert_eq!(e["code"], "no_ready_machine");
    assert_eq!(e["retryable"], false);
    let (status, e) = h
        .post("/computers", json!({"name": "c", "fail_fast": true}))
        .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{e}");
    assert_eq!(
        h.stats().await["credits"],
        json!(credits.as_i64().expect("credits") - 1),
        "a refused fail_fast create costs nothing"
    );

    // Without fail_fast the create waits for a cold boot instead.
    let (status, v) = h.post("/sandboxes", json!({})).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(v["data"]["state"], "creating");

    // A reset refills the pool.
    h.post("/_emulator/reset", json!({})).await;
    let (status, _) = h.post("/sandboxes", json!({"fail_fast": true})).await;
    assert_eq!(status, StatusCode::CREATED);
}

#[tokio::test]
async fn stop_pause_and_resume_move_the_state_as_miosa_does() {
    let h = booting(300, 10).await;
    let (_, v) = h.post("/sandboxes?wait=true", json!({})).await;
    let id = id_of(&v);
    let exec = format!("/sandboxes/{id}/exec");

    let (status, v) = h.post(&format!("/sandboxes/{id}/stop"), json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(v["data"]["state"], "stopped");
    let (status, e) = h.post(&exec, json!({"command": "true"})).await;
    assert_conflict(status, &e, "NOT_RUNNING");

    let (_, v) = h.post(&format!("/sandboxes/{id}/resume"), json!({})).await;
    assert_eq!(v["data"]["state"], "resuming");
    let (status, e) = h.post(&exec, json!({"command": "true"})).await;
    assert_conflict(status, &e, "SANDBOX_STARTING");
    h.until(&format!("/sandboxes/{id}"), |v| {
        v["data"]["state"] == "running"
    })
    .await;

    let (_, v) = h.post(&format!("/sandboxes/{id}/pause"), json!({})).await;
    assert_eq!(v["data"]["state"], "paused");
    let (status, e) = h.post(&exec, json!({"command": "true"})).await;
    assert_conflict(status, &e, "NOT_RUNNING");
    let (status, e) = h
        .post(
            &format!("/sandboxes/{id}/fs/write"),
            json!({"path": "a.txt", "content": "a"}),
        )
        .await;
    assert_conflict(status, &e, "NOT_RUNNING");

    let (_, before) = h.get(&format!("/sandboxes/{id}")).await;
    let (status, v) = h
        .post(
            &format!("/sandboxes/{id}/extend"),
            json!({"timeout_sec": 600}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        v["data"]["timeout_sec"].as_i64(),
        before["data"]["timeout_sec"].as_i64().map(|t| t + 600)
    );
}

#[tokio::test]
async fn auto_start_false_leaves_the_sandbox_stopped() {
    let h = booting(200, 10).await;
    let (status, v) = h
        .post("/sandboxes?wait=true", json!({"auto_start": false}))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(v["data"]["state"], "stopped");
    let id = id_of(&v);
    let (status, e) = h
        .post(&format!("/sandboxes/{id}/exec"), json!({"command": "true"}))
        .await;
    assert_conflict(status, &e, "NOT_RUNNING");
    h.post(&format!("/sandboxes/{id}/resume"), json!({})).await;
    let v = h
        .until(&format!("/sandboxes/{id}"), |v| {
            v["data"]["state"] == "running"
        })
        .await;
    assert_eq!(v["data"]["state"], "running");
}

#[tokio::test]
async fn computers_boot_and_start_answers_once_running() {
    let h = booting(400, 10).await;
    let (status, v) = h.post("/computers", json!({"name": "desk"})).await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    assert_eq!(v["status"], "creating");
    let id = id_of(&v);
    let (status, e) = h
        .post(&format!("/computers/{id}/exec"), json!({"command": "true"}))
        .await;
    assert_conflict(status, &e, "COMPUTER_STARTING");
    let (status, e) = h.get(&format!("/computers/{id}/desktop/screenshot")).await;
    assert_conflict(status, &e, "COMPUTER_STARTING");

    // `start` on a booting computer answers once it runs.
    let (status, v) = h.post(&format!("/computers/{id}/start"), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["status"], "running");

    let (_, v) = h.post(&format!("/computers/{id}/stop"), json!({})).await;
    assert_eq!(v["status"], "stopped");
    let (status, e) = h
        .post(&format!("/computers/{id}/exec"), json!({"command": "true"}))
        .await;
    assert_conflict(status, &e, "NOT_RUNNING");
    let (_, v) = h.get(&format!("/computers/{id}")).await;
    assert_eq!(v["status"], "stopped");
    let (_, v) = h.post(&format!("/computers/{id}/start"), json!({})).await;
    assert_eq!(v["status"], "running");
}

#[tokio::test]
async fn desktop_routes_refuse_sandbox_ids() {
    let h = common::start().await;
    let (status, e) = h.get("/computers/sbx_fixture/desktop/screenshot").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{e}");
    let (status, e) = h
        .post(
            "/computers/sbx_fixture/desktop/click",
            json!({"x": 1, "y": 1}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{e}");
    // The seed's flow still runs commands through `/computers/{id}/exec`.
    let (status, _) = h
        .post("/computers/sbx_fixture/exec", json!({"command": "true"}))
        .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn a_sandbox_is_found_by_name() {
    let h = common::start().await;
    let (_, v) = h.post("/sandboxes", json!({"name": "named-one"})).await;
    let id = id_of(&v);
    let (status, v) = h.get("/sandboxes/by-name/named-one").await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["data"]["id"], json!(id));
    let (status, e) = h.get("/sandboxes/by-name/nobody").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{e}");
    assert_eq!(e["code"], "NOT_FOUND");
}

#[tokio::test]
async fn a_wrong_method_is_an_unknown_route() {
    let h = common::start().await;
    let (status, e) = h.call(Method::PUT, "/sandboxes", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{e}");
    assert_eq!(e["code"], "NOT_FOUND");
}

#[tokio::test]
async fn the_readiness_stream_sends_only_ready_and_timeout() {
    let h = booting(60_000, 10).await;
    let (_, v) = h.post("/sandboxes", json!({})).await;
    let id = id_of(&v);
    let resp = h
        .req(
            Method::GET,
            &format!("/sandboxes/{id}/readiness/stream?timeout=30"),
        )
        .send()
        .await
        .expect("answered");
    let deleting = async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        h.call(Method::DELETE, &format!("/sandboxes/{id}"), None)
            .await
    };
    let (text, (status, _)) =
        tokio::join!(read_sse(resp, Duration::from_secs(10), |_| false), deleting);
    assert_eq!(status, StatusCode::OK);
    assert!(
        !text.contains("event:"),
        "no invented event when the sandbox goes away: {text}"
    );
}
