//! The request pipeline every route runs through: request id, recording for
//! `GET /_emulator/requests`, injected faults, authentication, idempotency
//! keys, the audit log, and `request_id` in error bodies.

use std::collections::VecDeque;
use std::time::Duration;

use axum::body::Body as AxumBody;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::{Map, Value, json};

use crate::errors::ApiError;
use crate::state::{App, TENANT_ID, lock};
use crate::util;

/// Largest request body accepted.
const MAX_BODY: usize = 64 * 1024 * 1024;
/// How many requests the log keeps.
const LOG_CAP: usize = 10_000;
/// Non-JSON bodies up to this size are kept as text in the log.
const TEXT_CAP: usize = 64 * 1024;

/// Recorded requests, oldest first.
#[derive(Debug, Default)]
pub struct RequestLog {
    pub entries: VecDeque<Value>,
    pub seq: u64,
}

/// A fault to inject into matching requests (`POST /_emulator/faults`).
#[derive(Debug, Clone)]
pub struct Fault {
    pub method: Option<String>,
    /// Full path (`/api/v1/...`); a trailing `*` matches a prefix.
    pub path: String,
    pub times: u64,
    pub status: Option<u16>,
    pub body: Option<Value>,
    pub retry_after: Option<String>,
    pub delay: Duration,
    pub reset: bool,
    pub cut_after_events: Option<usize>,
}

impl Fault {
    fn matches(&self, method: &Method, path: &str) -> bool {
        if self
            .method
            .as_deref()
            .is_some_and(|m| !m.eq_ignore_ascii_case(method.as_str()))
        {
            return false;
        }
        match self.path.strip_suffix('*') {
            Some(prefix) => path.starts_with(prefix),
            None => path == self.path,
        }
    }

    pub fn view(&self) -> Value {
        json!({
            "method": self.method, "path": self.path, "times": self.times,
            "status": self.status, "body": self.body, "retry_after": self.retry_after,
            "delay_ms": self.delay.as_millis() as u64, "reset": self.reset,
            "cut_after_events": self.cut_after_events,
        })
    }
}

/// State of one idempotency key.
#[derive(Debug, Clone)]
pub enum Idem {
    InFlight,
    Done {
        fingerprint: Value,
        status: StatusCode,
        content_type: Option<HeaderValue>,
        body: Bytes,
    },
}

/// Who is calling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Public,
    User,
    Admin,
}

/// Per-request facts handlers may need.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// An injected fault cuts SSE streams after this many events.
    pub cut_after_events: Option<usize>,
}

/// Routes that need no key (PROTOCOL §2).
fn is_public(method: &Method, rel: &str) -> bool {
    let segs: Vec<&str> = rel.trim_matches('/').split('/').collect();
    method == Method::GET
        && segs.len() == 2
        && (segs[0] == "invites" || segs[0] == "workspace-invites")
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

fn authenticate(app: &App, headers: &HeaderMap) -> Option<Role> {
    let token = bearer(headers)?;
    if token == app.config.admin_key {
        return Some(Role::Admin);
    }
    if token == app.config.api_key {
        return Some(Role::User);
    }
    let store = app.store();
    let id = store.api_key_tokens.get(token)?;
    let key = store.api_keys.get(id)?;
    (key.get("revoked_at").is_none_or(Value::is_null)).then_some(Role::User)
}

fn record(
    app: &App,
    method: &Method,
    uri: &axum::http::Uri,
    headers: &HeaderMap,
    body: &[u8],
    rid: &str,
) -> u64 {
    let query: Map<String, Value> = uri
        .query()
        .map(|q| {
            axum::extract::Query::<Vec<(String, String)>>::try_from_uri(uri)
                .map(|v| v.0.into_iter().map(|(k, v)| (k, json!(v))).collect())
                .unwrap_or_else(|_| {
                    let mut m = Map::new();
                    m.insert("_raw".into(), json!(q));
                    m
                })
        })
        .unwrap_or_default();
    let mut hdrs = Map::new();
    for (name, value) in headers {
        if matches!(name.as_str(), "host" | "content-length" | "connection") {
            continue;
        }
        hdrs.insert(
            name.as_str().to_owned(),
            json!(String::from_utf8_lossy(value.as_bytes())),
        );
    }
    let json_body = if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice::<Value>(body).unwrap_or(Value::Null)
    };
    let mut entry = json!({
        "method": method.as_str(),
        "path": uri.path(),
        "query": query,
        "headers": hdrs,
        "body": json_body,
        "body_len": body.len(),
        "request_id": rid,
        "status": null,
        "at": util::now(),
    });
    if json_body_is_absent(&entry)
        && !body.is_empty()
        && body.len() <= TEXT_CAP
        && let Ok(text) = std::str::from_utf8(body)
    {
        entry["body_text"] = json!(text);
    }
    let mut log = lock(&app.requests);
    log.seq += 1;
    let seq = log.seq;
    entry["seq"] = json!(seq);
    log.entries.push_back(entry);
    while log.entries.len() > LOG_CAP {
        log.entries.pop_front();
    }
    seq
}

fn json_body_is_absent(entry: &Value) -> bool {
    entry["body"].is_null()
}

fn set_logged_status(app: &App, seq: u64, status: StatusCode) {
    let mut log = lock(&app.requests);
    if let Some(e) = log
        .entries
        .iter_mut()
        .rev()
        .find(|e| e["seq"] == json!(seq))
    {
        e["status"] = json!(status.as_u16());
    }
}

fn take_fault(app: &App, method: &Method, path: &str) -> Option<Fault> {
    let mut faults = lock(&app.faults);
    let pos = faults.iter().position(|f| f.matches(method, path))?;
    let fault = faults[pos].clone();
    faults[pos].times = faults[pos].times.saturating_sub(1);
    if faults[pos].times == 0 {
        faults.remove(pos);
    }
    Some(fault)
}

/// A response whose body fails at once, so the connection is dropped
/// without a complete answer (an injected "reset").
fn reset_response() -> Response {
    let stream = futures_util::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "injected reset",
        ))
    });
    Response::new(AxumBody::from_stream(stream))
}

fn is_mutation(method: &Method) -> bool {
    matches!(
        *method,
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    )
}

/// Audit entry for a successful mutation: `resource.action` from the path.
fn audit(app: &App, method: &Method, rel: &str, resp_body: Option<&Value>, role: Role) {
    let segs: Vec<&str> = rel
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    let Some(first) = segs.first() else { return };
    let resource = singular(first);
    let mut parts: Vec<String> = segs
        .iter()
        .skip(2)
        .step_by(2)
        .map(|s| s.replace('-', "_"))
        .collect();
    let verb = match *method {
        Method::DELETE => Some("delete"),
        Method::PATCH | Method::PUT => Some("update"),
        _ if segs.len() == 1 => Some("create"),
        _ => None,
    };
    parts.extend(verb.map(str::to_owned));
    let action = if parts.is_empty() {
        resource.clone()
    } else {
        format!("{resource}.{}", parts.join("."))
    };
    let resource_id = segs.get(1).map(|s| (*s).to_owned()).or_else(|| {
        let b = resp_body?;
        let d = b.get("data").unwrap_or(b);
        d.get("id").and_then(Value::as_str).map(str::to_owned)
    });
    let mut store = app.store();
    store.audit_seq += 1;
    let id = format!("evt_{:06}", store.audit_seq);
    let entry = json!({
        "id": id, "tenant_id": TENANT_ID,
        "actor_id": if role == Role::Admin { "key_admin" } else { "key_emulator" },
        "actor_type": "api_key", "action": action, "resource": resource,
        "resource_id": resource_id, "metadata": {"method": method.as_str(), "path": rel},
        "ip_address": "127.0.0.1", "created_at": util::now(),
    });
    store.audit.push(entry);
}

fn singular(seg: &str) -> String {
    let s = seg.replace('-', "_");
    match s.as_str() {
        "audit_log" | "usage" | "credits" | "storage" | "tenant" | "intelligence"
        | "command_center" | "admin" => s,
        _ => s.strip_suffix('s').map_or(s.clone(), str::to_owned),
    }
}

/// Adds `request_id` to a JSON error body, and wraps non-JSON error bodies
/// (framework rejections) into the flat error shape.
async fn finish_error(resp: Response, rid: &str) -> Response {
    let (mut parts, body) = resp.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_BODY)
        .await
        .unwrap_or_default();
    let mut value = match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(m)) => Value::Object(m),
        _ => {
            let text = String::from_utf8_lossy(&bytes).trim().to_owned();
            let status = parts.status;
            let code = match status {
                StatusCode::NOT_FOUND => "NOT_FOUND",
                StatusCode::METHOD_NOT_ALLOWED => "METHOD_NOT_ALLOWED",
                StatusCode::PAYLOAD_TOO_LARGE => "TOO_LARGE",
                s if s.is_server_error() => "INTERNAL",
                _ => "BAD_REQUEST",
            };
            let msg = if text.is_empty() {
                status.canonical_reason().unwrap_or("Error").to_owned()
            } else {
                text
            };
            json!({"error": msg, "code": code})
        }
    };
    if let Some(m) = value.as_object_mut() {
        m.entry("request_id").or_insert(json!(rid));
    }
    let out = serde_json::to_vec(&value).unwrap_or_default();
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, AxumBody::from(out))
}

fn with_request_id(mut resp: Response, rid: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(rid) {
        resp.headers_mut().insert("x-request-id", v);
    }
    resp
}

/// Runs one request through the pipeline.
pub async fn pipeline(State(app): State<App>, req: Request, next: Next) -> Response {
    let rid = format!("req_{}", util::random_hex(8));
    let resp = handle(&app, req, next, &rid).await;
    let resp = if resp.status().is_client_error() || resp.status().is_server_error() {
        finish_error(resp, &rid).await
    } else {
        resp
    };
    with_request_id(resp, &rid)
}

async fn handle(app: &App, req: Request, next: Next, rid: &str) -> Response {
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY).await else {
        return ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "TOO_LARGE",
            "Request body too large",
        )
        .into_response();
    };
    let path = parts.uri.path().to_owned();
    let rel = path.strip_prefix("/api/v1").unwrap_or(&path).to_owned();
    let control = rel.starts_with("/_emulator");
    let method = parts.method.clone();
    let seq = (!control).then(|| record(app, &method, &parts.uri, &parts.headers, &bytes, rid));

    let resp = run(app, parts, bytes, next, &rel, control).await;
    if let Some(seq) = seq {
        set_logged_status(app, seq, resp.status());
    }
    resp
}

async fn run(
    app: &App,
    parts: axum::http::request::Parts,
    bytes: Bytes,
    next: Next,
    rel: &str,
    control: bool,
) -> Response {
    let method = parts.method.clone();
    let mut cut_after_events = None;
    if !control && let Some(f) = take_fault(app, &method, parts.uri.path()) {
        if !f.delay.is_zero() {
            app.sleep(f.delay).await;
        }
        if f.reset {
            return reset_response();
        }
        if let Some(code) = f.status {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let body = f.body.clone().unwrap_or_else(|| {
                json!({"error": status.canonical_reason().unwrap_or("Error"), "code": "INJECTED_FAULT"})
            });
            let mut resp = (status, axum::Json(body)).into_response();
            if let Some(ra) = f
                .retry_after
                .as_deref()
                .and_then(|v| HeaderValue::from_str(v).ok())
            {
                resp.headers_mut().insert(header::RETRY_AFTER, ra);
            }
            return resp;
        }
        cut_after_events = f.cut_after_events;
    }

    let role = if is_public(&method, rel) {
        authenticate(app, &parts.headers).unwrap_or(Role::Public)
    } else {
        match authenticate(app, &parts.headers) {
            Some(r) => r,
            None => return ApiError::unauthorized().into_response(),
        }
    };
    if (rel.starts_with("/admin/") || rel == "/admin" || rel.starts_with("/audit-log"))
        && role != Role::Admin
    {
        return ApiError::forbidden("FORBIDDEN", "An admin API key is required for this route")
            .into_response();
    }

    // Idempotency-Key: replay a finished request, wait for one in flight.
    let idem_key = parts
        .headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .filter(|k| !k.is_empty() && is_mutation(&method) && !control)
        .map(|k| format!("{}|{k}", bearer(&parts.headers).unwrap_or("")));
    let fingerprint = json!({
        "method": method.as_str(), "path": parts.uri.path(),
        "body": serde_json::from_slice::<Value>(&bytes).unwrap_or(Value::Null),
    });
    if let Some(key) = &idem_key {
        match claim_idempotency(app, key, &fingerprint).await {
            Claim::Proceed => {}
            Claim::Replay(resp) => return resp,
        }
    }

    let mut req = Request::from_parts(parts, AxumBody::from(bytes));
    req.extensions_mut().insert(Ctx { cut_after_events });
    let resp = next.run(req).await;
    let status = resp.status();
    let is_json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let mutation = is_mutation(&method) && !control;
    if !(mutation && is_json && status.is_success()) {
        if let Some(key) = &idem_key {
            lock(&app.idem).remove(key);
        }
        if mutation && status.is_success() {
            audit(app, &method, rel, None, role);
        }
        return resp;
    }
    let (parts, body) = resp.into_parts();
    let body = axum::body::to_bytes(body, MAX_BODY)
        .await
        .unwrap_or_default();
    let value = serde_json::from_slice::<Value>(&body).ok();
    audit(app, &method, rel, value.as_ref(), role);
    if let Some(key) = idem_key {
        lock(&app.idem).insert(
            key,
            Idem::Done {
                fingerprint,
                status,
                content_type: parts.headers.get(header::CONTENT_TYPE).cloned(),
                body: body.clone(),
            },
        );
    }
    Response::from_parts(parts, AxumBody::from(body))
}

enum Claim {
    Proceed,
    Replay(Response),
}

async fn claim_idempotency(app: &App, key: &str, fingerprint: &Value) -> Claim {
    for _ in 0..3000 {
        let entry = {
            let mut idem = lock(&app.idem);
            match idem.get(key) {
                None => {
                    idem.insert(key.to_owned(), Idem::InFlight);
                    return Claim::Proceed;
                }
                Some(e) => e.clone(),
            }
        };
        match entry {
            Idem::InFlight => {
                if !app.sleep(Duration::from_millis(10)).await {
                    break;
                }
            }
            Idem::Done {
                fingerprint: fp,
                status,
                content_type,
                body,
            } => {
                if &fp != fingerprint {
                    return Claim::Replay(
                        ApiError::conflict(
                            "IDEMPOTENCY_KEY_REUSED",
                            "Idempotency-Key was already used for a different request",
                        )
                        .into_response(),
                    );
                }
                let mut resp = Response::new(AxumBody::from(body));
                *resp.status_mut() = status;
                if let Some(ct) = content_type {
                    resp.headers_mut().insert(header::CONTENT_TYPE, ct);
                }
                resp.headers_mut()
                    .insert("idempotent-replayed", HeaderValue::from_static("true"));
                return Claim::Replay(resp);
            }
        }
    }
    Claim::Replay(
        ApiError::conflict(
            "IDEMPOTENCY_IN_PROGRESS",
            "A request with this key is in progress",
        )
        .into_response(),
    )
}
