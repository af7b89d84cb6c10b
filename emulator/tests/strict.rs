//! Strict mode refuses, naming the key, what the tolerant default accepts:
//! unknown keys, non-canonical spellings, loose types, missing names.

mod common;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use common::Harness;

/// One request that strict mode refuses and the default mode takes.
struct Case {
    method: Method,
    path: &'static str,
    body: Option<Value>,
    /// The key the 422 names.
    key: &'static str,
}

fn cases() -> Vec<Case> {
    let post = |path, body, key| Case {
        method: Method::POST,
        path,
        body: Some(body),
        key,
    };
    vec![
        post("/sandboxes", json!({"name": "x", "nmae": "typo"}), "nmae"),
        Case {
            method: Method::GET,
            path: "/sandboxes?state=running&colour=red",
            body: None,
            key: "colour",
        },
        post(
            "/sandboxes",
            json!({"name": "x", "timeout_sec": 60.0}),
            "timeout_sec",
        ),
        post(
            "/sandboxes",
            json!({"name": "x", "env": {"PORT": 8080}}),
            "env",
        ),
        post(
            "/sandboxes/sbx_fixture/exec",
            json!({"command": "true", "working_dir": "/workspace"}),
            "working_dir",
        ),
        post(
            "/computers/cmp_fixture/exec",
            json!({"command": "true", "cwd": "/workspace"}),
            "cwd",
        ),
        post(
            "/sandboxes/sbx_fixture/previews/prv_fixture/share",
            json!({"expires_in_sec": 60}),
            "expires_in_sec",
        ),
        post(
            "/storage/buckets/bkt_fixture/presign",
            json!({"key": "hello.txt", "operation": "get"}),
            "operation",
        ),
        post(
            "/computers/cmp_fixture/desktop/scroll",
            json!({"x": 1, "y": 1, "direction": "down", "amount": 2}),
            "amount",
        ),
        post("/computers", json!({"size": "small"}), "name"),
        Case {
            method: Method::PUT,
            path: "/tenant/preview-domain",
            body: Some(json!({"domain": "preview.acme.dev"})),
            key: "domain",
        },
        Case {
            method: Method::PUT,
            path: "/tenant/branding",
            body: Some(json!({"product_name": "Acme"})),
            key: "product_name",
        },
        Case {
            method: Method::GET,
            path: "/sandboxes?state=running&tags=demo&x=1",
            body: None,
            key: "x",
        },
    ]
}

async fn send(h: &Harness, c: &Case) -> (StatusCode, Value) {
    h.call(c.method.clone(), c.path, c.body.clone()).await
}

#[tokio::test]
async fn strict_mode_names_the_offending_key() {
    let h = common::start_strict().await;
    for c in cases() {
        let (status, e) = send(&h, &c).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{} {}: {e}",
            c.method,
            c.path
        );
        assert_eq!(e["error"]["code"], "VALIDATION_FAILED", "{e}");
        assert!(
            e["error"]["details"][c.key].is_array(),
            "{} {} names {}: {e}",
            c.method,
            c.path,
            c.key
        );
        assert!(e["request_id"].is_string(), "{e}");
    }
}

#[tokio::test]
async fn the_default_mode_stays_tolerant() {
    let h = common::start().await;
    for c in cases() {
        let (status, v) = send(&h, &c).await;
        assert!(status.is_success(), "{} {}: {status} {v}", c.method, c.path);
    }
}

#[tokio::test]
async fn strict_mode_takes_canonical_calls_and_routes_only_by_their_method() {
    let h = common::start_strict().await;
    let (status, v) = h
        .call(
            Method::PUT,
            "/tenant/branding",
            Some(json!({"branding": {"product_name": "Acme"}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["product_name"], "Acme");
    let (status, v) = h
        .post(
            "/sandboxes/sbx_fixture/exec",
            json!({"command": "pwd", "cwd": "/workspace", "env": {"A": "1"}, "timeout": 10}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");

    // Env is set with PUT; resize with POST.
    let env = json!({"vars": [{"key": "A", "value": "1"}]});
    let (status, _) = h
        .call(Method::PUT, "/sandboxes/sbx_fixture/env", Some(env.clone()))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, e) = h.post("/sandboxes/sbx_fixture/env", env.clone()).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{e}");
    let (status, e) = h
        .call(
            Method::PATCH,
            "/computers/cmp_fixture/resize",
            Some(json!({"size": "medium"})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{e}");

    let tolerant = common::start().await;
    let (status, _) = tolerant.post("/sandboxes/sbx_fixture/env", env).await;
    assert_eq!(status, StatusCode::OK);
}
