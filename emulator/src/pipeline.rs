//! The request pipeline every route runs through: request id, recording for
//! `GET /_emulator/requests` (credentials redacted), authentication, then
//! injected faults, idempotency keys, the audit log, and `request_id` in
//! error bodies.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body as AxumBody;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::{Map, Value, json};

use crate::errors::ApiError;
use crate::state::{App, Counters, InFlight, TENANT_ID, lock};
use crate::strict::{self, Tracker};
use crate::util;
use crate::verbose;

/// Largest request body accepted.
/// Large enough for a 64 MiB file sent base64 in a JSON body (about 86 MiB).
const MAX_BODY: usize = 128 * 1024 * 1024;
/// How many requests the log keeps.
const LOG_CAP: usize = 10_000;
/// Non-JSON bodies up to this size are kept as text in the log.
const TEXT_CAP: usize = 64 * 1024;
/// Bodies above this are logged by length only, so uploads are not kept in the log.
const LOGGED_BODY_CAP: usize = 1024 * 1024;

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
    /// Answer normally, but drop the connection after the headers and half
    /// of the body.
    pub reset_body: bool,
    /// Answer normally with the full `Content-Length`, but send only half of
    /// the body, then close the connection.
    pub truncate: bool,
    pub cut_after_events: Option<usize>,
    /// SSE: after this many events the stream goes silent for `delay`.
    pub stall_after_events: Option<usize>,
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
            "reset_body": self.reset_body, "truncate": self.truncate,
            "cut_after_events": self.cut_after_events,
            "stall_after_events": self.stall_after_events,
        })
    }

    /// The name the request log gives this fault.
    fn label(&self) -> &'static str {
        if self.reset {
            "reset"
        } else if self.status.is_some() {
            "status"
        } else if self.reset_body {
            "reset_body"
        } else if self.truncate {
            "truncate"
        } else if self.cut_after_events.is_some() {
            "cut_after_events"
        } else if self.stall_after_events.is_some() {
            "stall_after_events"
        } else {
            "delay"
        }
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
    /// An injected fault silences SSE streams after this many events, for
    /// this long.
    pub stall: Option<(usize, Duration)>,
    /// Where SSE streams count themselves open.
    pub counters: Arc<Counters>,
}

/// What an injected fault does to an answer produced normally.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BodyFault {
    Reset,
    Truncate,
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

/// What the request log keeps of an `Authorization` header: the scheme and
/// the key's public prefix, never the credential (the log is readable with
/// any key).
fn redacted_authorization(value: &str) -> String {
    let value = value.trim();
    let (scheme, token) = match value.split_once(' ') {
        Some((scheme, token)) => (format!("{scheme} "), token.trim()),
        None => (String::new(), value),
    };
    let prefix = if token.starts_with("msk_") {
        "msk_"
    } else {
        ""
    };
    format!("{scheme}{prefix}…(redacted)")
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
        let text = String::from_utf8_lossy(value.as_bytes());
        let shown = if name == header::AUTHORIZATION {
            redacted_authorization(&text)
        } else {
            text.into_owned()
        };
        hdrs.insert(name.as_str().to_owned(), json!(shown));
    }
    let json_body = if body.is_empty() || body.len() > LOGGED_BODY_CAP {
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
    if entry["body"].is_null()
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

/// Completes a log entry: the status answered (none for a reset) and the
/// fault injected, if any.
fn set_logged_status(app: &App, seq: u64, status: Option<StatusCode>, fault: Option<&str>) {
    let mut log = lock(&app.requests);
    if let Some(e) = log
        .entries
        .iter_mut()
        .rev()
        .find(|e| e["seq"] == json!(seq))
    {
        e["status"] = json!(status.map(|s| s.as_u16()));
        if let Some(f) = fault {
            e["fault"] = json!(f);
        }
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

/// Sends the head and half of `resp`'s body, then drops the connection
/// (`Reset`), or announces the whole `Content-Length` and closes after half
/// (`Truncate`). SSE bodies never end, so they pass through untouched: their
/// faults are `cut_after_events` and `stall_after_events`.
async fn apply_body_fault(resp: Response, fault: BodyFault) -> Response {
    let is_sse = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"));
    if is_sse {
        return resp;
    }
    let (mut parts, body) = resp.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_BODY)
        .await
        .unwrap_or_default();
    match fault {
        BodyFault::Truncate => {
            parts
                .headers
                .insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
        }
        BodyFault::Reset => {
            parts.headers.remove(header::CONTENT_LENGTH);
        }
    }
    let first = bytes.slice(..bytes.len() / 2);
    let stream = futures_util::stream::unfold(0u8, move |step| {
        let first = first.clone();
        async move {
            match step {
                0 if !first.is_empty() => Some((Ok(first), 1)),
                0 | 1 => {
                    // Let the first half reach the client before the end.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    match fault {
                        BodyFault::Reset => Some((
                            Err(std::io::Error::new(
                                std::io::ErrorKind::ConnectionReset,
                                "injected reset during the body",
                            )),
                            2,
                        )),
                        // Ending short of Content-Length makes hyper close the connection.
                        BodyFault::Truncate => None,
                    }
                }
                _ => None,
            }
        }
    });
    Response::from_parts(parts, AxumBody::from_stream(stream))
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
    let started = std::time::Instant::now();
    let (method, path) = (req.method().clone(), req.uri().path().to_owned());
    let (resp, body_fault) = handle(&app, req, next, &rid).await;
    if app.config.verbose {
        let took = started.elapsed();
        eprintln!(
            "{}",
            verbose::line(&method, &path, resp.status(), took, &rid)
        );
    }
    let resp = if resp.status().is_client_error() || resp.status().is_server_error() {
        finish_error(resp, &rid).await
    } else {
        resp
    };
    let resp = with_request_id(resp, &rid);
    match body_fault {
        Some(fault) => apply_body_fault(resp, fault).await,
        None => resp,
    }
}

/// `/_emulator/*` routes are control routes (not recorded, no faults), except
/// the bulk test stream, which behaves like an API route.
fn is_control(rel: &str) -> bool {
    rel.starts_with("/_emulator") && rel != "/_emulator/stream"
}

async fn handle(app: &App, req: Request, next: Next, rid: &str) -> (Response, Option<BodyFault>) {
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY).await else {
        let resp = ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "TOO_LARGE",
            "Request body too large",
        )
        .into_response();
        return (resp, None);
    };
    let path = parts.uri.path().to_owned();
    let rel = path.strip_prefix("/api/v1").unwrap_or(&path).to_owned();
    let control = is_control(&rel);
    let method = parts.method.clone();
    let seq = (!control).then(|| record(app, &method, &parts.uri, &parts.headers, &bytes, rid));
    // Dropped unfinished when the client closes the connection first.
    let in_flight = (!control).then(|| InFlight::start(&app.counters));

    let (resp, body_fault, fault) = run(app, parts, bytes, next, &rel, control).await;
    if let Some(seq) = seq {
        let reset = fault.as_ref().is_some_and(|f| f.reset);
        let status = (!reset).then_some(resp.status());
        set_logged_status(app, seq, status, fault.as_ref().map(Fault::label));
    }
    if let Some(guard) = in_flight {
        guard.finish();
    }
    (resp, body_fault)
}

async fn run(
    app: &App,
    parts: axum::http::request::Parts,
    bytes: Bytes,
    next: Next,
    rel: &str,
    control: bool,
) -> (Response, Option<BodyFault>, Option<Fault>) {
    let method = parts.method.clone();
    let role = if is_public(&method, rel) {
        authenticate(app, &parts.headers).unwrap_or(Role::Public)
    } else {
        match authenticate(app, &parts.headers) {
            Some(r) => r,
            None => return (ApiError::unauthorized().into_response(), None, None),
        }
    };
    // Faults apply only to authenticated requests, so a keyless probe gets
    // its 401 and leaves an injected fault for the request it was meant for.
    let fault = if control {
        None
    } else {
        take_fault(app, &method, parts.uri.path())
    };
    let mut ctx = Ctx {
        cut_after_events: None,
        stall: None,
        counters: Arc::clone(&app.counters),
    };
    let mut body_fault = None;
    if let Some(f) = &fault {
        // For a stall the delay is the silence inside the stream, not a wait before it.
        if f.stall_after_events.is_none() && !f.delay.is_zero() {
            app.sleep(f.delay).await;
        }
        if f.reset {
            return (reset_response(), None, fault);
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
            return (resp, None, fault);
        }
        ctx.cut_after_events = f.cut_after_events;
        ctx.stall = f.stall_after_events.map(|n| (n, f.delay));
        body_fault = if f.reset_body {
            Some(BodyFault::Reset)
        } else if f.truncate {
            Some(BodyFault::Truncate)
        } else {
            None
        };
    }

    if (rel.starts_with("/admin/") || rel == "/admin" || rel.starts_with("/audit-log"))
        && role != Role::Admin
    {
        let resp = ApiError::forbidden("FORBIDDEN", "An admin API key is required for this route")
            .into_response();
        return (resp, body_fault, fault);
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
            Claim::Replay(resp) => return (resp, body_fault, fault),
        }
    }

    let keyed_body = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        // curl's `-d` labels JSON as a form: read it too. Raw uploads and
        // multipart forms carry no keys to check.
        .is_none_or(|v| v.contains("json") || v.contains("x-www-form-urlencoded"));
    let tracker = Tracker::new(
        app.config.strict && !control,
        &parts.uri,
        keyed_body.then_some(&bytes[..]),
    );
    let mut req = Request::from_parts(parts, AxumBody::from(bytes));
    req.extensions_mut().insert(ctx);
    req.extensions_mut().insert(tracker);
    let has_key = idem_key.is_some();
    let work = answer(
        app.clone(),
        req,
        next,
        rel.to_owned(),
        role,
        idem_key.map(|key| (key, fingerprint)),
        control,
    );
    let resp = if has_key {
        // A keyed mutation finishes even when its client leaves, as a server
        // would, so the retry finds the stored answer instead of doing it twice.
        match tokio::spawn(work).await {
            Ok(resp) => resp,
            Err(_) => ApiError::internal("the request handler failed").into_response(),
        }
    } else {
        work.await
    };
    (resp, body_fault, fault)
}

/// Runs the route, audits a successful mutation and stores the answer of a
/// keyed one for replay.
async fn answer(
    app: App,
    req: Request,
    next: Next,
    rel: String,
    role: Role,
    idem: Option<(String, Value)>,
    control: bool,
) -> Response {
    let method = req.method().clone();
    let tracker = req.extensions().get::<Arc<Tracker>>().cloned();
    let resp = strict::verdict(tracker.as_ref(), next.run(req).await);
    let status = resp.status();
    let is_json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let mutation = is_mutation(&method) && !control;
    if !(mutation && is_json && status.is_success()) {
        if let Some((key, _)) = &idem {
            lock(&app.idem).remove(key);
        }
        if mutation && status.is_success() {
            audit(&app, &method, &rel, None, role);
        }
        return resp;
    }
    let (parts, body) = resp.into_parts();
    let body = axum::body::to_bytes(body, MAX_BODY)
        .await
        .unwrap_or_default();
    let value = serde_json::from_slice::<Value>(&body).ok();
    audit(&app, &method, &rel, value.as_ref(), role);
    if let Some((key, fingerprint)) = idem {
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
