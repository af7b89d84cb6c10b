//! The emulator's contract, checked with raw HTTP: auth, errors,
//! idempotency, real exec, path confinement, SSE, faults, paging, webhooks.

mod common;

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

use common::{b64, enc, has_event, read_sse};

#[tokio::test]
async fn requires_the_api_key_with_the_real_error_shape() {
    let h = common::start().await;
    for auth in [None, Some("msk_wrong_key")] {
        let mut rb = h.http.get(h.url("/sandboxes/sbx_fixture"));
        if let Some(k) = auth {
            rb = rb.bearer_auth(k);
        }
        let resp = rb.send().await.expect("answered");
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
        let rid = resp.headers()["x-request-id"]
            .to_str()
            .expect("ascii")
            .to_owned();
        assert!(rid.starts_with("req_"), "{rid}");
        let body: Value = resp.json().await.expect("json");
        assert_eq!(body["error"], "Unauthorized");
        assert_eq!(body["code"], "UNAUTHORIZED");
        assert_eq!(body["request_id"], json!(rid));
    }
    // Public routes need no key.
    let resp = h
        .http
        .get(h.url("/invites/otok_fixture"))
        .send()
        .await
        .expect("answered");
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = h
        .http
        .get(h.url("/workspace-invites/wtok_fixture"))
        .send()
        .await
        .expect("answered");
    assert_eq!(resp.status(), StatusCode::OK);
    // Admin routes need the admin key.
    let (status, body) = h.get("/audit-log").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["code"], "FORBIDDEN");
    let (status, _) = h.get("/admin/tenants").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let resp = h
        .http
        .get(h.url("/admin/tenants"))
        .bearer_auth(h.emu.admin_key())
        .send()
        .await
        .expect("answered");
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test]
async fn unknown_ids_are_404_and_bad_bodies_422() {
    let h = common::start().await;
    for path in [
        "/sandboxes/sbx_nope",
        "/computers/cmp_nope",
        "/webhooks/wh_nope",
        "/nope/route",
    ] {
        let (status, body) = h.get(path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(body["code"], "NOT_FOUND", "{path}");
        assert!(
            body["error"].is_string() && body["request_id"].is_string(),
            "{body}"
        );
    }
    let bad = [
        ("/sandboxes", "{not json"),
        ("/sandboxes", r#"{"size": 5}"#),
        ("/sandboxes", r#"{"size": "huge"}"#),
        ("/sandboxes", "[1, 2]"),
        ("/sandboxes/sbx_fixture/exec", "{}"),
        (
            "/sandboxes/sbx_fixture/fs/write",
            r#"{"path": "/workspace/x"}"#,
        ),
        ("/webhooks", r#"{"url": "https://example.com/h"}"#),
    ];
    for (path, body) in bad {
        let resp = h
            .req(Method::POST, path)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("answered");
        assert_eq!(
            resp.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{path} {body}"
        );
        let v: Value = resp.json().await.expect("json");
        assert_eq!(v["error"]["code"], "VALIDATION_FAILED", "{v}");
        assert!(
            v["error"]["message"].is_string() && v["error"]["details"].is_object(),
            "{v}"
        );
    }
    // Body-less and `{}` POSTs are both accepted.
    let resp = h
        .req(Method::POST, "/computers/cmp_fixture/stop")
        .send()
        .await
        .expect("answered");
    assert_eq!(resp.status(), StatusCode::OK);
    let (status, _) = h.post("/computers/cmp_fixture/start", json!({})).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn idempotent_create_returns_the_same_sandbox() {
    let h = common::start().await;
    let mut ids = Vec::new();
    let mut handles = Vec::new();
    for _ in 0..3 {
        let rb = h
            .req(Method::POST, "/sandboxes")
            .header("Idempotency-Key", "idem-123")
            .json(&json!({"name": "once"}));
        handles.push(tokio::spawn(
            async move { rb.send().await.expect("answered") },
        ));
    }
    for hd in handles {
        let resp = hd.await.expect("task");
        assert_eq!(resp.status(), StatusCode::CREATED);
        let v: Value = resp.json().await.expect("json");
        ids.push(v["data"]["id"].as_str().expect("id").to_owned());
    }
    assert!(ids.iter().all(|i| *i == ids[0]), "{ids:?}");
    assert_eq!(h.stats().await["created"]["sandbox"], json!(1));
    // The same key with another body is refused.
    let resp = h
        .req(Method::POST, "/sandboxes")
        .header("Idempotency-Key", "idem-123")
        .json(&json!({"name": "other"}))
        .send()
        .await
        .expect("answered");
    assert_eq!(resp.status(), StatusCode::CONFLICT);
    let rec = h.last_request().await;
    assert_eq!(rec["headers"]["idempotency-key"], "idem-123");
}

#[tokio::test]
async fn exec_runs_commands_for_real() {
    let h = common::start().await;
    let (status, v) = h
        .post(
            "/sandboxes/sbx_fixture/exec",
            json!({"command": "python3 -c 'print(1 + 1)'"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["data"]["stdout"], "2\n");
    assert_eq!(v["data"]["exit_code"], 0);
    let (_, v) = h
        .post(
            "/computers/cmp_fixture/exec",
            json!({"command": "python3 -c 'print(1 + 1)'"}),
        )
        .await;
    assert_eq!(v["output"], "2\n");
    assert_eq!(v["success"], true);
    // A sandbox is also a computer.
    let (_, v) = h
        .post(
            "/computers/sbx_fixture/exec",
            json!({"command": "cat /workspace/hello.txt"}),
        )
        .await;
    assert_eq!(v["output"], "hello\n");
    // Env, cwd, per-call env, stderr and exit codes.
    let (_, v) = h
        .post(
            "/sandboxes/sbx_fixture/exec",
            json!({"command": "mkdir -p sub && cd sub && pwd | sed 's#.*/##'; echo $GREETING $EXTRA; echo oops >&2; exit 3", "env": {"EXTRA": "x"}}),
        )
        .await;
    assert_eq!(v["data"]["stdout"], "sub\nhello x\n");
    assert_eq!(v["data"]["stderr"], "oops\n");
    assert_eq!(v["data"]["exit_code"], 3);
    let (_, v) = h
        .post(
            "/sandboxes/sbx_fixture/exec",
            json!({"command": "pwd", "working_dir": "/workspace/src"}),
        )
        .await;
    assert!(
        v["data"]["stdout"]
            .as_str()
            .expect("stdout")
            .trim_end()
            .ends_with("/src"),
        "{v}"
    );
    // Timeouts kill the command and report 124.
    let started = std::time::Instant::now();
    let (_, v) = h
        .post(
            "/sandboxes/sbx_fixture/exec",
            json!({"command": "sleep 30", "timeout": 1}),
        )
        .await;
    assert_eq!(v["data"]["exit_code"], 124, "{v}");
    assert!(started.elapsed() < Duration::from_secs(10));
    // Python code runs through code/run.
    let (_, v) = h
        .post(
            "/sandboxes/sbx_fixture/code/run",
            json!({"code": "import os; print(os.environ['GREETING'])"}),
        )
        .await;
    assert_eq!(v["data"]["stdout"], "hello\n");
    assert_eq!(v["data"]["ok"], true);
    // Stopped computers refuse exec and screenshots with 409 NOT_RUNNING.
    h.post("/computers/cmp_fixture/stop", json!({})).await;
    let (status, v) = h
        .post("/computers/cmp_fixture/exec", json!({"command": "true"}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(v["code"], "NOT_RUNNING");
    let (status, v) = h.get("/computers/cmp_fixture/desktop/screenshot").await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(v["code"], "NOT_RUNNING");
    h.post("/computers/cmp_fixture/start", json!({})).await;
    let resp = h
        .req(Method::GET, "/computers/cmp_fixture/desktop/screenshot")
        .send()
        .await
        .expect("answered");
    assert_eq!(resp.headers()["content-type"], "image/png");
    let png = resp.bytes().await.expect("png");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
}

#[tokio::test]
async fn file_routes_never_leave_the_sandbox() {
    let h = common::start().await;
    // A symlink inside the workspace that points outside of it.
    for m in ["sandboxes/sbx_fixture", "computers/cmp_fixture"] {
        h.post(
            &format!("/{m}/exec"),
            json!({"command": "ln -s /etc /workspace/etc_link"}),
        )
        .await;
    }
    let evil = [
        "../outside.txt",
        "/etc/passwd",
        "/workspace/../../x",
        "/workspace/a/../../b",
        "etc_link/passwd",
        "/workspace/etc_link/hostname",
        "/tmp/x",
    ];
    for p in evil {
        let q = enc(p);
        let mut attempts: Vec<(Method, String, Option<Value>)> = vec![
            (
                Method::POST,
                "/sandboxes/sbx_fixture/fs/write".into(),
                Some(json!({"path": p, "content_base64": b64(b"x")})),
            ),
            (
                Method::POST,
                "/sandboxes/sbx_fixture/files".into(),
                Some(json!({"path": p, "content": b64(b"x")})),
            ),
            (
                Method::GET,
                format!("/sandboxes/sbx_fixture/fs/download?path={q}"),
                None,
            ),
            (
                Method::DELETE,
                format!("/sandboxes/sbx_fixture/fs?path={q}"),
                None,
            ),
            (
                Method::DELETE,
                "/sandboxes/sbx_fixture/fs".into(),
                Some(json!({"path": p})),
            ),
            (
                Method::POST,
                "/sandboxes/sbx_fixture/fs/mkdir".into(),
                Some(json!({"path": p})),
            ),
            (
                Method::POST,
                "/sandboxes/sbx_fixture/fs/rename".into(),
                Some(json!({"from": p, "to": "/workspace/y"})),
            ),
            (
                Method::POST,
                "/sandboxes/sbx_fixture/fs/rename".into(),
                Some(json!({"from": "/workspace/hello.txt", "to": p})),
            ),
            (
                Method::POST,
                "/sandboxes/sbx_fixture/fs/stat".into(),
                Some(json!({"path": p})),
            ),
            (
                Method::GET,
                format!("/sandboxes/sbx_fixture/files?path={q}"),
                None,
            ),
            (
                Method::GET,
                format!("/sandboxes/sbx_fixture/files/tree?path={q}"),
                None,
            ),
            (
                Method::GET,
                format!("/sandboxes/sbx_fixture/files/watch?path={q}"),
                None,
            ),
            (
                Method::POST,
                "/sandboxes/sbx_fixture/files/write-many".into(),
                Some(json!({"files": [{"path": p, "content_base64": b64(b"x")}]})),
            ),
            (
                Method::POST,
                "/sandboxes/sbx_fixture/exec".into(),
                Some(json!({"command": "true", "cwd": p})),
            ),
            (
                Method::GET,
                format!("/computers/cmp_fixture/files/download?path={q}"),
                None,
            ),
            (
                Method::GET,
                format!("/computers/cmp_fixture/files?path={q}"),
                None,
            ),
            (
                Method::POST,
                "/computers/cmp_fixture/files/write".into(),
                Some(json!({"path": p, "content_base64": b64(b"x")})),
            ),
            (
                Method::DELETE,
                "/computers/cmp_fixture/files".into(),
                Some(json!({"path": p})),
            ),
        ];
        if !p.starts_with('/') {
            // Slashes percent-encoded, or the client would normalise `..` away.
            attempts.push((
                Method::GET,
                format!("/sandboxes/sbx_fixture/files/{}", enc(p)),
                None,
            ));
        }
        for (method, path, body) in attempts {
            let (status, v) = h.call(method.clone(), &path, body).await;
            if path.contains("write-many") {
                // Per-file failures are reported, not thrown.
                assert_eq!(v["data"]["written"], json!([]), "{path} {p}: {v}");
                assert_eq!(
                    v["data"]["failed"][0]["code"]
                        .as_str()
                        .map(|c| c.starts_with("PATH_")),
                    Some(true),
                    "{v}"
                );
                continue;
            }
            assert!(
                status == StatusCode::FORBIDDEN || status == StatusCode::UNPROCESSABLE_ENTITY,
                "{method} {path} with {p}: {status} {v}"
            );
            let code = v["code"]
                .as_str()
                .or(v["error"]["code"].as_str())
                .unwrap_or_default();
            assert!(
                code.starts_with("PATH_") || code == "VALIDATION_FAILED",
                "{code}"
            );
        }
    }
    // Nothing was written outside, and the confined paths still work.
    assert!(
        !std::path::Path::new("/tmp/x").exists()
            || std::fs::read("/tmp/x").map(|b| b != b"x").unwrap_or(true)
    );
    let (status, v) = h
        .post(
            "/sandboxes/sbx_fixture/fs/write",
            json!({"path": "/workspace/a/b.txt", "content": "plain"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let resp = h
        .req(
            Method::GET,
            "/sandboxes/sbx_fixture/fs/download?path=a/b.txt",
        )
        .send()
        .await
        .expect("answered");
    assert_eq!(resp.headers()["content-type"], "application/octet-stream");
    assert_eq!(resp.bytes().await.expect("bytes").as_ref(), b"plain");
    let (_, tree) = h.get("/sandboxes/sbx_fixture/files/tree").await;
    assert_eq!(tree["data"]["path"], "/workspace");
    assert_eq!(tree["data"]["type"], "dir");
}

#[tokio::test]
async fn readiness_stream_sends_ready_once_the_sandbox_boots() {
    let h = common::start().await;
    let (status, v) = h.post("/sandboxes", json!({"name": "booting"})).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(v["data"]["state"], "creating");
    let id = v["data"]["id"].as_str().expect("id").to_owned();
    let (_, r) = h.get(&format!("/sandboxes/{id}/readiness")).await;
    assert_eq!(r["data"]["ready"], false);
    let resp = h
        .req(Method::GET, &format!("/sandboxes/{id}/readiness/stream"))
        .header("accept", "text/event-stream, application/json;q=0.9")
        .send()
        .await
        .expect("answered");
    assert_eq!(resp.headers()["content-type"], "text/event-stream");
    let text = read_sse(resp, Duration::from_secs(10), |t| {
        t.contains("event: ready")
    })
    .await;
    assert!(text.starts_with(": keepalive"), "{text}");
    assert!(text.contains("event: ready\ndata: {\"ready_at\""), "{text}");
    let (_, r) = h.get(&format!("/sandboxes/{id}/readiness")).await;
    assert_eq!(r["data"]["ready"], true);
    // A stopped sandbox never becomes ready: the stream times out.
    h.post(&format!("/sandboxes/{id}/stop"), json!({})).await;
    let resp = h
        .req(
            Method::GET,
            &format!("/sandboxes/{id}/readiness/stream?timeout=0.3"),
        )
        .send()
        .await
        .expect("answered");
    let text = read_sse(resp, Duration::from_secs(5), |_| false).await;
    assert!(text.contains("event: timeout"), "{text}");
}

#[tokio::test]
async fn events_stream_resumes_after_a_cut_with_last_event_id() {
    let h = common::start().await;
    h.post("/sandboxes/sbx_fixture/exec", json!({"command": "true"}))
        .await;
    let (status, _) = h
        .post("/_emulator/faults", json!({"path": "/sandboxes/sbx_fixture/events", "method": "GET", "cut_after_events": 1}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let resp = h
        .req(Method::GET, "/sandboxes/sbx_fixture/events")
        .send()
        .await
        .expect("answered");
    let first = read_sse(resp, Duration::from_secs(5), |_| false).await;
    assert_eq!(
        first.matches("\nevent: ").count(),
        1,
        "cut after one event: {first}"
    );
    assert!(first.contains("id: 1\n"), "{first}");
    let resp = h
        .req(Method::GET, "/sandboxes/sbx_fixture/events")
        .header("last-event-id", "1")
        .send()
        .await
        .expect("answered");
    let rest = read_sse(resp, Duration::from_secs(5), |t| {
        t.contains("exec.completed")
    })
    .await;
    assert!(
        !rest.contains("id: 1\n") && rest.contains("id: 2\n"),
        "{rest}"
    );
    assert!(rest.contains("event: sandbox.exec.completed"), "{rest}");
}

#[tokio::test]
async fn files_watch_streams_real_changes() {
    let h = common::start().await;
    let resp = h
        .req(
            Method::GET,
            "/sandboxes/sbx_fixture/files/watch?path=/workspace",
        )
        .send()
        .await
        .expect("answered");
    let mut resp = resp;
    let mut text = String::new();
    while !text.contains(": watching") {
        let chunk = resp.chunk().await.expect("chunk").expect("open");
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    h.post(
        "/sandboxes/sbx_fixture/fs/write",
        json!({"path": "/workspace/new.txt", "content": "n"}),
    )
    .await;
    let more = read_sse(resp, Duration::from_secs(5), |t| t.contains("created")).await;
    assert!(
        more.contains(
            r#""event":"created","type":"created","path":"/workspace/new.txt","is_dir":false"#
        ),
        "{more}"
    );
}

#[tokio::test]
async fn faults_are_injected_then_cleared() {
    let h = common::start().await;
    h.post(
        "/_emulator/faults",
        json!({"path": "/sandboxes/sbx_fixture", "method": "GET", "status": 429, "retry_after": 2, "body": {"message": "rate limited", "retry_after": 2.0}}),
    )
    .await;
    let resp = h
        .req(Method::GET, "/sandboxes/sbx_fixture")
        .send()
        .await
        .expect("answered");
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(resp.headers()["retry-after"], "2");
    let (status, _) = h.get("/sandboxes/sbx_fixture").await;
    assert_eq!(
        status,
        StatusCode::OK,
        "a fault fires `times` times (default once)"
    );
    h.post(
        "/_emulator/faults",
        json!({"path": "/sandboxes/*", "status": 503, "times": 2}),
    )
    .await;
    assert_eq!(
        h.get("/sandboxes").await.0,
        StatusCode::OK,
        "prefix needs the slash"
    );
    assert_eq!(
        h.get("/sandboxes/sbx_fixture").await.0,
        StatusCode::SERVICE_UNAVAILABLE
    );
    let (_, faults) = h.get("/_emulator/faults").await;
    assert_eq!(faults["data"][0]["times"], 1);
    h.call(Method::DELETE, "/_emulator/faults", None).await;
    assert_eq!(h.get("/sandboxes/sbx_fixture").await.0, StatusCode::OK);
    h.post(
        "/_emulator/faults",
        json!({"path": "/sandboxes/sbx_fixture", "reset": true}),
    )
    .await;
    let err = h
        .req(Method::GET, "/sandboxes/sbx_fixture")
        .send()
        .await
        .and_then(|r| r.error_for_status());
    let failed = match err {
        Err(_) => true,
        Ok(r) => r.bytes().await.is_err(),
    };
    assert!(failed, "a reset answers no complete response");
}

#[tokio::test]
async fn credits_quota_and_reset() {
    let h = common::start().await;
    let (status, _) = h
        .call(
            Method::PUT,
            "/_emulator/credits",
            Some(json!({"balance": 0})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, v) = h.post("/sandboxes", json!({})).await;
    assert_eq!(status, StatusCode::PAYMENT_REQUIRED);
    assert_eq!(v["error"], "Insufficient credits");
    assert_eq!(v["code"], "INSUFFICIENT_CREDITS");
    assert_eq!(h.get("/credits/balance").await.1["balance"], 0);
    h.call(
        Method::PUT,
        "/_emulator/credits",
        Some(json!({"balance": 100})),
    )
    .await;
    h.call(
        Method::PUT,
        "/quotas/external/usr_q",
        Some(json!({"max_sandboxes": 1})),
    )
    .await;
    assert_eq!(
        h.post("/sandboxes", json!({"external_user_id": "usr_q"}))
            .await
            .0,
        StatusCode::CREATED
    );
    let (status, v) = h
        .post("/sandboxes", json!({"external_user_id": "usr_q"}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(v["code"], "QUOTA_EXCEEDED");
    assert_eq!(
        h.get("/quotas/external/usr_q").await.1["data"]["current_sandboxes"],
        1
    );
    // Reset brings the fixtures back and forgets the rest.
    h.call(Method::DELETE, "/sandboxes/sbx_fixture_del", None)
        .await;
    assert_eq!(
        h.post("/_emulator/reset", json!({})).await.0,
        StatusCode::OK
    );
    assert_eq!(h.get("/sandboxes/sbx_fixture_del").await.0, StatusCode::OK);
    assert_eq!(h.get("/credits/balance").await.1["balance"], 10_000);
    assert_eq!(h.stats().await["created"], json!({}));
    let (_, log) = h.get("/_emulator/requests").await;
    assert_eq!(
        log.as_array().map(Vec::len),
        Some(2),
        "the log restarts at reset: {log}"
    );
}

#[tokio::test]
async fn audit_log_pages_with_after_and_next_cursor() {
    let h = common::start().await;
    h.post(
        "/webhooks",
        json!({"url": "https://example.com/a", "events": ["sandbox.created"]}),
    )
    .await;
    let mut after: Option<String> = None;
    let mut pages = 0;
    let mut ids = Vec::new();
    loop {
        let path = match &after {
            Some(a) => format!("/audit-log?limit=2&after={a}"),
            None => "/audit-log?limit=2".into(),
        };
        let resp = h
            .http
            .get(h.url(&path))
            .bearer_auth(h.emu.admin_key())
            .send()
            .await
            .expect("answered");
        let v: Value = resp.json().await.expect("json");
        pages += 1;
        for item in v["items"].as_array().expect("items") {
            ids.push(item["id"].as_str().expect("id").to_owned());
        }
        match v["next_cursor"].as_str() {
            Some(c) => after = Some(c.to_owned()),
            None => break,
        }
    }
    assert!(pages >= 3, "{pages} pages");
    assert_eq!(
        ids.len(),
        7,
        "6 seeded entries and the webhook create: {ids:?}"
    );
    assert_eq!(ids[0], "evt_000007", "newest first");
}

#[tokio::test]
async fn webhook_test_delivers_a_signed_post() {
    let h = common::start().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let server = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.expect("accept");
        let mut reader = BufReader::new(stream);
        let mut head = Vec::new();
        let mut len = 0;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).await.expect("line");
            if line == "\r\n" || line.is_empty() {
                break;
            }
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                len = v.trim().parse().expect("length");
            }
            head.push(line);
        }
        let mut body = vec![0; len];
        reader.read_exact(&mut body).await.expect("body");
        reader
            .get_mut()
            .write_all(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n")
            .await
            .expect("answer");
        (head, body)
    });
    let (status, created) = h
        .post(
            "/webhooks",
            json!({"url": format!("http://127.0.0.1:{port}/hook"), "events": ["sandbox.created"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let secret = created["secret"].as_str().expect("secret once").to_owned();
    let id = created["data"]["id"].as_str().expect("id").to_owned();
    let (status, delivery) = h.post(&format!("/webhooks/{id}/test"), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{delivery}");
    assert_eq!(delivery["data"]["status_code"], 204);
    assert_eq!(delivery["data"]["success"], true);
    assert_eq!(delivery["data"]["webhook_id"], json!(id));
    let (head, body) = server.await.expect("server");
    let sig = head
        .iter()
        .find_map(|l| l.strip_prefix("X-MIOSA-Signature: "))
        .expect("signature header")
        .trim()
        .to_owned();
    use hmac::Mac;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("key");
    mac.update(&body);
    assert_eq!(
        sig,
        format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
    );
    let (_, got) = h.get(&format!("/webhooks/{id}")).await;
    assert!(
        got["data"].get("secret").is_none(),
        "the secret is shown once"
    );
}

#[tokio::test]
async fn processes_storage_and_completions_behave() {
    let h = common::start().await;
    let (status, p) = h
        .post(
            "/sandboxes/sbx_fixture/processes",
            json!({"command": "echo out; echo err >&2; sleep 30"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{p}");
    let pid = p["data"]["pid"].as_str().expect("pid").to_owned();
    let mut logs = Value::Null;
    for _ in 0..200 {
        logs = h
            .get(&format!("/sandboxes/sbx_fixture/processes/{pid}/logs"))
            .await
            .1;
        if logs["stderr"] == "err\n" && logs["stdout"] == "out\n" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(logs["stdout"], "out\n", "{logs}");
    let (_, stopped) = h
        .call(
            Method::DELETE,
            &format!("/sandboxes/sbx_fixture/processes/{pid}"),
            None,
        )
        .await;
    assert_eq!(stopped["data"]["status"], "killed", "{stopped}");

    let resp = h
        .req(
            Method::PUT,
            "/storage/buckets/bkt_fixture/objects/dir/a%20b.json",
        )
        .header("content-type", "application/json")
        .body("{\"a\":1}")
        .send()
        .await
        .expect("answered");
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = h
        .req(
            Method::GET,
            "/storage/buckets/fixture-bucket/objects/dir/a%20b.json",
        )
        .send()
        .await
        .expect("answered");
    assert_eq!(resp.headers()["content-type"], "application/json");
    assert_eq!(resp.text().await.expect("text"), "{\"a\":1}");

    let body = json!({"model": "m", "messages": [{"role": "user", "content": "hi there"}]});
    let (_, v) = h.post("/intelligence/chat/completions", body.clone()).await;
    assert_eq!(v["choices"][0]["message"]["content"], "Echo: hi there");
    let mut streaming = body;
    streaming["stream"] = json!(true);
    let resp = h
        .req(Method::POST, "/intelligence/chat/completions")
        .json(&streaming)
        .send()
        .await
        .expect("answered");
    let text = read_sse(resp, Duration::from_secs(5), |t| t.contains("[DONE]")).await;
    assert!(
        has_event(&text) && text.ends_with("data: [DONE]\n\n"),
        "{text}"
    );
    let (_, e1) = h
        .post(
            "/intelligence/embeddings",
            json!({"model": "e", "input": ["a", "b"]}),
        )
        .await;
    let (_, e2) = h
        .post(
            "/intelligence/embeddings",
            json!({"model": "e", "input": ["a", "b"]}),
        )
        .await;
    assert_eq!(e1["data"], e2["data"], "deterministic");
    assert_eq!(e1["data"][1]["index"], 1);
}

#[tokio::test]
async fn snapshots_restore_files_and_fork_copies_them() {
    let h = common::start().await;
    let (_, snap) = h
        .post(
            "/sandboxes/sbx_fixture/snapshots",
            json!({"comment": "before"}),
        )
        .await;
    let sid = snap["data"]["id"].as_str().expect("id").to_owned();
    h.post(
        "/sandboxes/sbx_fixture/fs/write",
        json!({"path": "hello.txt", "content": "changed"}),
    )
    .await;
    let (status, _) = h
        .post(&format!("/sandboxes/sbx_fixture/restore/{sid}"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let resp = h
        .req(
            Method::GET,
            "/sandboxes/sbx_fixture/fs/download?path=hello.txt",
        )
        .send()
        .await
        .expect("answered");
    assert_eq!(resp.text().await.expect("text"), "hello\n");
    let (status, fork) = h
        .post("/sandboxes/sbx_fixture/fork", json!({"name": "copy"}))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let fid = fork["data"]["id"].as_str().expect("id").to_owned();
    h.until(&format!("/sandboxes/{fid}"), |v| {
        v["data"]["state"] == "running"
    })
    .await;
    let (_, v) = h
        .post(
            &format!("/sandboxes/{fid}/exec"),
            json!({"command": "cat hello.txt; echo $GREETING"}),
        )
        .await;
    assert_eq!(v["data"]["stdout"], "hello\nhello\n", "{v}");
    assert_eq!(
        h.call(Method::DELETE, &format!("/sandboxes/{fid}"), None)
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(
        h.get(&format!("/sandboxes/{fid}")).await.0,
        StatusCode::NOT_FOUND
    );
}

#[test]
fn the_binary_announces_itself_on_its_first_line() {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_miosa-emulator"))
        .args(["--port", "0", "--api-key", "msk_test_custom_key"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("binary starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line).expect("a line");
    let _ = child.kill();
    let _ = child.wait();
    let rest = line
        .trim_end()
        .strip_prefix("miosa-emulator listening base_url=http://127.0.0.1:")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
    let (port, keys) = rest.split_once("/api/v1 ").expect("base url");
    assert!(port.parse::<u16>().is_ok_and(|p| p > 0), "{line}");
    assert_eq!(
        keys,
        "api_key=msk_test_custom_key admin_key=msk_a_emulator_admin_000000000000"
    );
}

#[test]
fn spawn_serves_synchronous_callers() {
    let emu = miosa_emulator::Emulator::spawn(miosa_emulator::Config::default());
    let addr = format!("127.0.0.1:{}", emu.port());
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    use std::io::{Read, Write};
    write!(
        s,
        "GET /api/v1/sandboxes/sbx_fixture HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nConnection: close\r\n\r\n",
        emu.api_key()
    )
    .expect("write");
    let mut out = String::new();
    s.read_to_string(&mut out).expect("read");
    assert!(out.starts_with("HTTP/1.1 200"), "{out}");
    assert!(out.contains("\"id\":\"sbx_fixture\""), "{out}");
    drop(emu);
}
