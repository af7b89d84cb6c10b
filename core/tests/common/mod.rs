//! Test helpers: an in-process emulator and clients pointed at it.
#![allow(dead_code)]

use miosa::Client;
use miosa_emulator::{Config, Emulator};

/// A fresh emulator on its own thread, plus a user client and an admin client.
pub struct Env {
    pub emulator: Emulator,
    pub client: Client,
    pub admin: Client,
}

pub fn env() -> Env {
    let emulator = Emulator::try_spawn(Config::default()).expect("emulator starts");
    let client = client_for(&emulator, emulator.api_key());
    let admin = client_for(&emulator, emulator.admin_key());
    Env {
        emulator,
        client,
        admin,
    }
}

/// Retries are off in these clients: a test that wants them sets a policy.
pub fn client_for(emulator: &Emulator, key: &str) -> Client {
    Client::builder(key)
        .base_url(emulator.base_url())
        .max_retries(0)
        .build()
        .expect("client builds")
}

/// The requests the emulator recorded, newest last.
pub fn recorded(env: &Env, limit: usize) -> Vec<serde_json::Value> {
    let client = env.client.clone();
    let path = format!("/_emulator/requests?limit={limit}");
    // The request runs on the client's own runtime, so any thread may wait for it.
    let value = futures_executor::block_on(async move {
        client
            .request_json(miosa::HttpMethod::Get, &path, None)
            .await
    })
    .expect("request log");
    serde_json::from_value(value).expect("the request log is a JSON array")
}

/// A client for the emulator's user key, shaped by `f` (retry policy, timeouts).
pub fn client_with(
    emulator: &Emulator,
    f: impl FnOnce(miosa::ClientBuilder) -> miosa::ClientBuilder,
) -> Client {
    f(Client::builder(emulator.api_key())
        .base_url(emulator.base_url())
        .max_retries(0))
    .build()
    .expect("client builds")
}

/// A control call (`/_emulator/...`) with the plain user client.
pub async fn control(
    env: &Env,
    method: miosa::HttpMethod,
    path: &str,
    body: Option<serde_json::Value>,
) -> serde_json::Value {
    env.client
        .request_json(method, path, body)
        .await
        .unwrap_or_else(|e| panic!("control call {path}: {e}"))
}

/// Adds one fault (`POST /_emulator/faults`).
pub async fn fault(env: &Env, spec: serde_json::Value) {
    control(
        env,
        miosa::HttpMethod::Post,
        "/_emulator/faults",
        Some(spec),
    )
    .await;
}

/// `GET /_emulator/stats`.
pub async fn stats(env: &Env) -> serde_json::Value {
    control(env, miosa::HttpMethod::Get, "/_emulator/stats", None).await
}

/// Recorded requests whose path starts with `/api/v1{prefix}`, oldest first.
pub async fn log_for(env: &Env, prefix: &str) -> Vec<serde_json::Value> {
    let path = format!("/_emulator/requests?path=/api/v1{prefix}");
    match control(env, miosa::HttpMethod::Get, &path, None).await {
        serde_json::Value::Array(items) => items,
        other => panic!("request log: {other}"),
    }
}

/// Polls `GET /_emulator/stats` until `check` holds (or ~3 s pass); returns the last stats.
pub async fn stats_until(
    env: &Env,
    check: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let mut last = serde_json::Value::Null;
    for _ in 0..150 {
        last = stats(env).await;
        if check(&last) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    last
}
