//! Test helpers: an in-process emulator and a raw HTTP client (no MIOSA
//! client code: these tests prove the emulator on its own).
#![allow(dead_code)]

use std::time::Duration;

use base64::Engine;
use miosa_emulator::{Config, Emulator};
use reqwest::{Method, StatusCode};
use serde_json::Value;

pub struct Harness {
    pub emu: Emulator,
    pub http: reqwest::Client,
}

/// The default, tolerant emulator, whatever `MIOSA_EMULATOR_STRICT` says.
pub async fn start() -> Harness {
    start_with(Config {
        strict: false,
        ..Config::default()
    })
    .await
}

/// An emulator in strict mode.
pub async fn start_strict() -> Harness {
    start_with(Config {
        strict: true,
        ..Config::default()
    })
    .await
}

pub async fn start_with(config: Config) -> Harness {
    // reqwest is built without a default TLS provider; plain http still
    // needs one installed to build the client.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let emu = Emulator::start(config).await.expect("emulator starts");
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .expect("client builds");
    Harness { emu, http }
}

/// Percent-encodes one query component.
pub fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

pub fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

impl Harness {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.emu.base_url())
    }

    /// A request with the API key.
    pub fn req(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, self.url(path))
            .bearer_auth(self.emu.api_key())
    }

    /// Sends JSON (or nothing) with the API key; status and decoded body.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut rb = self.req(method, path);
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let resp = rb.send().await.expect("request is answered");
        let status = resp.status();
        let bytes = resp.bytes().await.expect("body");
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, Some(body)).await
    }

    /// Polls `GET path` until `done(body)` holds or 10 s pass.
    pub async fn until(&self, path: &str, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let (_, v) = self.get(path).await;
            if done(&v) || tokio::time::Instant::now() >= deadline {
                return v;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The newest request the emulator recorded (control routes excluded).
    pub async fn last_request(&self) -> Value {
        let (status, log) = self.get("/_emulator/requests?limit=1").await;
        assert_eq!(status, StatusCode::OK, "request log: {log}");
        log.as_array()
            .and_then(|a| a.last())
            .cloned()
            .expect("a recorded request")
    }

    pub async fn stats(&self) -> Value {
        self.get("/_emulator/stats").await.1
    }
}

/// Reads an SSE body until `done(text so far)` holds, the stream ends, or
/// `limit` passes; returns the text read.
pub async fn read_sse(
    resp: reqwest::Response,
    limit: Duration,
    done: impl Fn(&str) -> bool,
) -> String {
    let mut resp = resp;
    let mut text = String::new();
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(deadline, resp.chunk()).await {
            Ok(Ok(Some(chunk))) => {
                text.push_str(&String::from_utf8_lossy(&chunk));
                if done(&text) {
                    return text;
                }
            }
            _ => return text,
        }
    }
}

/// True once an event with a `data:` line has been completed.
pub fn has_event(text: &str) -> bool {
    text.split("\n\n")
        .filter(|block| text.contains(&format!("{block}\n\n")))
        .any(|block| block.lines().any(|l| l.starts_with("data:")))
}
