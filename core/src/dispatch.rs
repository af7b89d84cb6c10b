//! Turns an operation of the table plus caller values into an HTTP request,
//! sends it (with the retry policy), and decodes the answer by transport.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Map, Value};

use crate::client::Client;
use crate::config::DEFAULT_BASE_URL;
use crate::error::{Error, ErrorKind, Result};
use crate::ops::{Host, HttpMethod, Idempotency, OpSpec, Param, ParamType, Returns, Upload};
use crate::pagination::Page;
use crate::retry;
use crate::stream::EventStream;

/// A positional argument: JSON, or bytes kept as bytes (file contents, uploads).
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    /// Any JSON value (ids are strings).
    Json(Value),
    /// Binary content.
    Bytes(Bytes),
}

impl From<&str> for Arg {
    fn from(s: &str) -> Self {
        Self::Json(Value::String(s.to_owned()))
    }
}
impl From<String> for Arg {
    fn from(s: String) -> Self {
        Self::Json(Value::String(s))
    }
}
impl From<Value> for Arg {
    fn from(v: Value) -> Self {
        Self::Json(v)
    }
}
impl From<Bytes> for Arg {
    fn from(b: Bytes) -> Self {
        Self::Bytes(b)
    }
}
impl From<Vec<u8>> for Arg {
    fn from(b: Vec<u8>) -> Self {
        Self::Bytes(Bytes::from(b))
    }
}
impl From<i64> for Arg {
    fn from(n: i64) -> Self {
        Self::Json(Value::from(n))
    }
}
impl From<f64> for Arg {
    fn from(n: f64) -> Self {
        Self::Json(Value::from(n))
    }
}
impl From<bool> for Arg {
    fn from(b: bool) -> Self {
        Self::Json(Value::from(b))
    }
}

/// The result of any operation, by transport.
#[derive(Debug)]
pub enum Output {
    /// Decoded JSON, envelope removed (lists are arrays).
    Json(Value),
    /// Binary body.
    Bytes(Bytes),
    /// One page of a cursor-paginated list.
    Page(Page),
    /// A live event stream.
    Events(EventStream),
    /// A computed yes/no.
    Bool(bool),
}

impl Output {
    /// The JSON form of any non-stream output (bytes become an error).
    pub fn into_json(self) -> Result<Value> {
        match self {
            Self::Json(v) => Ok(v),
            Self::Bool(b) => Ok(Value::Bool(b)),
            Self::Page(p) => Ok(p.to_json()),
            Self::Bytes(_) => Err(Error::new(
                ErrorKind::Usage,
                "the operation returns bytes, not JSON",
            )),
            Self::Events(_) => Err(Error::new(
                ErrorKind::Usage,
                "the operation returns an event stream, not JSON",
            )),
        }
    }
    /// The bytes of a binary download.
    pub fn into_bytes(self) -> Result<Bytes> {
        match self {
            Self::Bytes(b) => Ok(b),
            _ => Err(Error::new(
                ErrorKind::Usage,
                "the operation does not return bytes",
            )),
        }
    }
    /// The event stream of an SSE operation.
    pub fn into_events(self) -> Result<EventStream> {
        match self {
            Self::Events(s) => Ok(s),
            _ => Err(Error::new(
                ErrorKind::Usage,
                "the operation does not return an event stream",
            )),
        }
    }
    /// The page of a paginated operation.
    pub fn into_page(self) -> Result<Page> {
        match self {
            Self::Page(p) => Ok(p),
            _ => Err(Error::new(
                ErrorKind::Usage,
                "the operation is not paginated",
            )),
        }
    }
    /// The answer of a yes/no operation.
    pub fn into_bool(self) -> Result<bool> {
        match self {
            Self::Bool(b) => Ok(b),
            _ => Err(Error::new(
                ErrorKind::Usage,
                "the operation does not return a boolean",
            )),
        }
    }
}

/// What `Accept` to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Accept {
    Json,
    /// Phoenix routes guarded by `accepts ["json"]` answer 406 to a bare
    /// `text/event-stream`, so JSON stays acceptable at a lower weight.
    EventStream,
}

impl Accept {
    fn header(self) -> &'static str {
        match self {
            Self::Json => "application/json",
            Self::EventStream => "text/event-stream, application/json;q=0.9",
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) enum Body {
    None,
    Json(Bytes),
    Raw { bytes: Bytes, content_type: String },
}

/// A request ready to send, cheap to clone for each attempt.
#[derive(Debug, Clone)]
pub(crate) struct Prepared {
    pub(crate) method: HttpMethod,
    pub(crate) url: reqwest::Url,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Body,
    pub(crate) accept: Accept,
    pub(crate) timeout: Duration,
    pub(crate) idempotency_key: Option<String>,
}

impl Prepared {
    /// A request to any path of the API (no table row), carrying the handle's
    /// per-call headers, query and timeout.
    pub(crate) fn plain(
        client: &Client,
        method: HttpMethod,
        path: &str,
        mut query: Map<String, Value>,
        body: Body,
        accept: Accept,
    ) -> Result<Self> {
        let config = client.config();
        let defaults = client.options();
        query.extend(defaults.query.clone());
        Ok(Self {
            method,
            url: build_url(config.base_url(), path, &query)?,
            headers: defaults.headers.clone(),
            body,
            accept,
            timeout: defaults.timeout.unwrap_or(config.receive_timeout()),
            idempotency_key: None,
        })
    }
}

/// Path segments keep unreserved characters only; everything else is escaped.
pub(crate) const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');
/// Object keys keep their `/` separators.
const OBJECT_KEY: &AsciiSet = &SEGMENT.remove(b'/');

pub(crate) async fn invoke(
    client: &Client,
    op: &'static OpSpec,
    args: Vec<Arg>,
    params: Map<String, Value>,
) -> Result<Output> {
    if op.custom {
        let output = crate::custom::invoke(client, op, args, params).await?;
        return match output {
            Output::Json(value) => shape(op.returns, value).map(Output::Json),
            other => Ok(other),
        };
    }
    let prepared = prepare(client, op, &args, params, None)?;
    execute(client, op.returns, prepared).await
}

/// Sends a prepared request and decodes it as `returns` says.
pub(crate) async fn execute(
    client: &Client,
    returns: Returns,
    prepared: Prepared,
) -> Result<Output> {
    match returns {
        Returns::Events => EventStream::open(client.clone(), prepared)
            .await
            .map(Output::Events),
        Returns::Bytes => {
            let (_, body) = send(client, &prepared).await?;
            Ok(Output::Bytes(body))
        }
        Returns::Page { item, .. } => {
            let (_, body) = send(client, &prepared).await?;
            let mut page = Page::from_body(&parse_json(&body)?)?;
            for value in &mut page.items {
                crate::models::conform(item, value)?;
            }
            Ok(Output::Page(page))
        }
        Returns::List(_) | Returns::Model(_) | Returns::Json | Returns::Bool => {
            let (_, body) = send(client, &prepared).await?;
            shape(returns, parse_json(&body)?).map(Output::Json)
        }
    }
}

/// Turns a JSON answer into what the table promises: the envelope unwrapped, a list
/// out of its wrapper object, and each model checked against the model table.
fn shape(returns: Returns, body: Value) -> Result<Value> {
    let mut value = unwrap_envelope(body);
    match returns {
        Returns::List(item) => {
            value = list_from(value);
            if let Value::Array(items) = &mut value {
                for v in items {
                    crate::models::conform(item, v)?;
                }
            }
        }
        Returns::Model(model) => crate::models::conform(model, &mut value)?,
        _ => {}
    }
    Ok(value)
}

/// Builds the request of a table operation from positional args and keyword params.
pub(crate) fn prepare(
    client: &Client,
    op: &OpSpec,
    args: &[Arg],
    mut params: Map<String, Value>,
    path_override: Option<&str>,
) -> Result<Prepared> {
    if args.len() != op.arity() {
        let names: Vec<_> = op.positional_names().collect();
        return Err(Error::invalid(format!(
            "{} takes {} positional argument(s) ({}), got {}",
            op.name,
            op.arity(),
            names.join(", "),
            args.len()
        )));
    }
    let (path_args, extra_args) = args.split_at(op.path_params.len());
    let mut path = path_override.unwrap_or(op.path).to_owned();
    for (name, arg) in op.path_params.iter().zip(path_args) {
        let text = path_arg_text(op, name, arg)?;
        let set = if *name == "key" { OBJECT_KEY } else { SEGMENT };
        let encoded = utf8_percent_encode(&text, set).to_string();
        path = path.replace(&format!("{{{name}}}"), &encoded);
    }

    let mut query = Map::new();
    let mut body = Map::new();
    let mut raw_upload: Option<Bytes> = None;
    for (param, arg) in op.args.iter().zip(extra_args) {
        if op.upload == Upload::Raw && param.ty == ParamType::Bytes {
            raw_upload = Some(match arg {
                Arg::Bytes(b) => b.clone(),
                Arg::Json(Value::String(s)) => Bytes::from(s.clone().into_bytes()),
                Arg::Json(_) => return Err(type_error(op, param, "bytes or text")),
            });
            continue;
        }
        let value = convert_arg(op, param, arg)?;
        if op.method.has_body() {
            body.insert(param.wire.to_owned(), value);
        } else {
            query.insert(param.wire.to_owned(), value);
        }
    }

    let defaults = client.options();
    let mut headers = defaults.headers.clone();
    let header_key = take_idempotency_header(&mut headers);
    let mut idempotency_key = match params.remove("idempotency_key") {
        Some(Value::String(k)) if !k.is_empty() => Some(k),
        Some(Value::Null) | None => header_key,
        Some(_) => return Err(Error::invalid("idempotency_key must be a non-empty string")),
    };
    let content_type = if op.upload == Upload::Raw {
        match params.remove("content_type") {
            Some(Value::String(t)) => t,
            Some(Value::Null) | None => "application/octet-stream".to_owned(),
            Some(_) => return Err(Error::invalid("content_type must be a string")),
        }
    } else {
        String::new()
    };
    if let Some(missing) = op
        .query
        .iter()
        .chain(op.body)
        .find(|p| p.required && params.get(p.name).is_none_or(Value::is_null))
    {
        return Err(Error::invalid(format!(
            "{}: `{}` is required",
            op.name, missing.name
        )));
    }
    for (name, value) in params {
        if value.is_null() {
            continue;
        }
        if let Some(param) = op.query.iter().find(|p| p.name == name) {
            query.insert(param.wire.to_owned(), check_type(op, param, value)?);
        } else if let Some(param) = op.body.iter().find(|p| p.name == name) {
            body.insert(param.wire.to_owned(), check_type(op, param, value)?);
        } else if op.method.has_body() && op.upload != Upload::Raw {
            // Fields the table lacks still reach the server: models tolerate the future.
            body.insert(name, value);
        } else {
            query.insert(name, value);
        }
    }

    query.extend(defaults.query.clone());
    body.extend(defaults.body.clone());
    for (name, json_text) in op.fixed {
        let value = serde_json::from_str(json_text).map_err(|e| {
            Error::new(
                ErrorKind::Usage,
                format!("{}: bad fixed field {name}: {e}", op.name),
            )
        })?;
        body.insert((*name).to_owned(), value);
    }

    let config = client.config();
    let retry_on = config.retry().enabled();
    if idempotency_key.is_none()
        && (op.idempotency == Idempotency::Auto || (retry_on && op.method != HttpMethod::Get))
    {
        // Generated once here and reused by every attempt, so a retried create cannot create twice.
        idempotency_key = Some(new_idempotency_key());
    }

    let body = if op.upload == Upload::Raw {
        Body::Raw {
            bytes: raw_upload.unwrap_or_default(),
            content_type,
        }
    } else if body.is_empty() {
        Body::None
    } else {
        Body::Json(Bytes::from(
            serde_json::to_vec(&body).map_err(|e| Error::invalid(e.to_string()))?,
        ))
    };
    let accept = if op.returns == Returns::Events {
        Accept::EventStream
    } else {
        Accept::Json
    };
    Ok(Prepared {
        method: op.method,
        url: build_url(&base_url_for(config.base_url(), op.host), &path, &query)?,
        headers,
        body,
        accept,
        timeout: defaults.timeout.unwrap_or(config.receive_timeout()),
        idempotency_key,
    })
}

fn path_arg_text(op: &OpSpec, name: &str, arg: &Arg) -> Result<String> {
    let text = match arg {
        Arg::Json(Value::String(s)) => s.clone(),
        Arg::Json(Value::Number(n)) => n.to_string(),
        _ => {
            return Err(Error::invalid(format!(
                "{}: `{name}` must be a string",
                op.name
            )));
        }
    };
    if text.trim().is_empty() {
        return Err(Error::invalid(format!(
            "{}: `{name}` must not be empty",
            op.name
        )));
    }
    Ok(text)
}

fn type_error(op: &OpSpec, param: &Param, expected: &str) -> Error {
    Error::invalid(format!("{}: `{}` must be {expected}", op.name, param.name))
}

fn convert_arg(op: &OpSpec, param: &Param, arg: &Arg) -> Result<Value> {
    match (param.ty, arg) {
        (ParamType::Bytes, Arg::Bytes(b)) => Ok(Value::String(
            base64::engine::general_purpose::STANDARD.encode(b),
        )),
        (ParamType::Bytes, Arg::Json(Value::String(s))) => Ok(Value::String(
            base64::engine::general_purpose::STANDARD.encode(s.as_bytes()),
        )),
        (ParamType::Bytes, Arg::Json(_)) => Err(type_error(op, param, "bytes or text")),
        (_, Arg::Bytes(_)) => Err(type_error(op, param, param.ty.as_str())),
        (_, Arg::Json(v)) => check_type(op, param, v.clone()),
    }
}

fn check_type(op: &OpSpec, param: &Param, value: Value) -> Result<Value> {
    let ok = match param.ty {
        ParamType::Str => value.is_string() || value.is_number(),
        ParamType::Int => value.is_i64() || value.is_u64(),
        ParamType::Float => value.is_number(),
        ParamType::Bool => value.is_boolean(),
        ParamType::Map => value.is_object(),
        ParamType::List => value.is_array(),
        ParamType::Json => true,
        ParamType::Bytes => value.is_string(),
    };
    if !ok {
        return Err(type_error(op, param, describe(param.ty)));
    }
    Ok(match (param.ty, value) {
        (ParamType::Str, Value::Number(n)) => Value::String(n.to_string()),
        (ParamType::Bytes, Value::String(s)) => {
            Value::String(base64::engine::general_purpose::STANDARD.encode(s.as_bytes()))
        }
        (_, v) => v,
    })
}

fn describe(ty: ParamType) -> &'static str {
    match ty {
        ParamType::Str => "a string",
        ParamType::Int => "an integer",
        ParamType::Float => "a number",
        ParamType::Bool => "a boolean",
        ParamType::Map => "an object",
        ParamType::List => "a list",
        ParamType::Json => "JSON",
        ParamType::Bytes => "bytes or text",
    }
}

/// Moves an `Idempotency-Key` given as an extra header into the request's
/// key, so it is sent once and lets the retry policy treat the call as keyed.
pub(crate) fn take_idempotency_header(headers: &mut Vec<(String, String)>) -> Option<String> {
    let mut key = None;
    headers.retain(|(name, value)| {
        let is_key = name.eq_ignore_ascii_case("idempotency-key");
        if is_key && !value.is_empty() {
            key = Some(value.clone());
        }
        !is_key
    });
    key
}

/// The default API host does not route a few sandbox paths; those go to the
/// sandboxes host. A custom base URL (proxy, emulator) is always used as given.
fn base_url_for(base: &str, host: Host) -> String {
    match host {
        Host::Sandboxes if base == DEFAULT_BASE_URL => SANDBOXES_BASE_URL.to_owned(),
        _ => base.to_owned(),
    }
}

const SANDBOXES_BASE_URL: &str = "https://sandboxes.miosa.ai/api/v1";

pub(crate) fn new_idempotency_key() -> String {
    let bytes: [u8; 16] = rand::random();
    hex::encode(bytes)
}

fn query_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(query_text).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

pub(crate) fn build_url(
    base: &str,
    path: &str,
    query: &Map<String, Value>,
) -> Result<reqwest::Url> {
    if !path.starts_with('/') {
        return Err(Error::invalid(format!("path `{path}` must start with `/`")));
    }
    let mut url = reqwest::Url::parse(&format!("{base}{path}"))
        .map_err(|e| Error::invalid(format!("invalid request URL for `{path}`: {e}")))?;
    if !query.is_empty() {
        let mut pairs = url.query_pairs_mut();
        for (k, v) in query {
            if !v.is_null() {
                pairs.append_pair(k, &query_text(v));
            }
        }
    }
    Ok(url)
}

/// Builds one attempt's request.
pub(crate) fn request(
    client: &Client,
    http: &reqwest::Client,
    prepared: &Prepared,
    with_timeout: bool,
) -> reqwest::RequestBuilder {
    let config = client.config();
    let mut req = http
        .request(prepared.method.to_reqwest(), prepared.url.clone())
        .bearer_auth(config.api_key.expose())
        .header(reqwest::header::ACCEPT, prepared.accept.header());
    for (name, value) in config.headers().iter().chain(&prepared.headers) {
        req = req.header(name.as_str(), value.as_str());
    }
    if let Some(key) = &prepared.idempotency_key {
        req = req.header("Idempotency-Key", key.as_str());
    }
    if with_timeout {
        req = req.timeout(prepared.timeout);
    }
    match &prepared.body {
        Body::None => req,
        Body::Json(bytes) => req
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(bytes.clone()),
        Body::Raw {
            bytes,
            content_type,
        } => req
            .header(reqwest::header::CONTENT_TYPE, content_type.as_str())
            .body(bytes.clone()),
    }
}

/// Whether a failed attempt of this request may be sent again.
fn method_allows_retry(prepared: &Prepared) -> bool {
    match prepared.method {
        HttpMethod::Get | HttpMethod::Put | HttpMethod::Delete => true,
        HttpMethod::Post | HttpMethod::Patch => prepared.idempotency_key.is_some(),
    }
}

/// Runs attempts until one succeeds or the policy, the method or the budget says stop.
pub(crate) async fn with_retries<T, F, Fut>(
    client: &Client,
    prepared: &Prepared,
    mut attempt_fn: F,
) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    let policy = client.config().retry().clone();
    // Read back when the operation timeout cuts the loop short.
    let started = AtomicU32::new(0);
    let last_failure: Mutex<Option<String>> = Mutex::new(None);
    let attempts = async {
        let mut attempt = 1;
        loop {
            started.store(attempt, Ordering::Relaxed);
            match attempt_fn().await {
                Ok(value) => {
                    client.shared.budget.refund();
                    return Ok(value);
                }
                Err(err) => {
                    let may_retry = attempt < policy.max_attempts
                        && retry::is_retryable(&err)
                        && method_allows_retry(prepared)
                        && client.shared.budget.try_acquire(&err);
                    if !may_retry {
                        return Err(err.with_attempts(attempt));
                    }
                    *last_failure
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(err.to_string());
                    tokio::time::sleep(retry::backoff(&policy, attempt, err.retry_after())).await;
                    attempt += 1;
                }
            }
        }
    };
    match client.config().operation_timeout() {
        None => attempts.await,
        Some(limit) => match tokio::time::timeout(limit, attempts).await {
            Ok(result) => result,
            Err(_) => {
                let attempts = started.load(Ordering::Relaxed).max(1);
                let last = last_failure
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .take()
                    .map(|e| format!("; last failure: {e}"))
                    .unwrap_or_default();
                Err(Error::new(
                    ErrorKind::Timeout,
                    format!(
                        "the call did not finish within {} s ({attempts} attempt(s){last})",
                        limit.as_secs_f64()
                    ),
                )
                .with_attempts(attempts))
            }
        },
    }
}

/// Sends a request and reads its whole body; non-2xx statuses become errors.
pub(crate) async fn send(
    client: &Client,
    prepared: &Prepared,
) -> Result<(reqwest::StatusCode, Bytes)> {
    let engine = client.engine()?;
    with_retries(client, prepared, || async {
        let response = request(client, &engine.http, prepared, true)
            .send()
            .await
            .map_err(|e| Error::from_reqwest(&e))?;
        let response = check_status(response).await?;
        let status = response.status();
        let body = response
            .bytes()
            .await
            .map_err(|e| Error::from_reqwest(&e))?;
        Ok((status, body))
    })
    .await
}

const MAX_ERROR_BODY: usize = 1 << 20;

/// Passes 2xx responses through; reads any other into an [`Error`].
pub(crate) async fn check_status(response: reqwest::Response) -> Result<reqwest::Response> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let headers = response.headers().clone();
    let request_id = headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let retry_after = retry::parse_retry_after(&headers);
    let mut body = Vec::new();
    let mut response = response;
    while let Ok(Some(chunk)) = response.chunk().await {
        let room = MAX_ERROR_BODY.saturating_sub(body.len());
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if room <= chunk.len() {
            break;
        }
    }
    Err(Error::from_response(
        status.as_u16(),
        request_id.as_deref(),
        retry_after,
        &body,
    ))
}

pub(crate) fn parse_json(body: &[u8]) -> Result<Value> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Null);
    }
    serde_json::from_slice(body).map_err(|e| {
        let preview = String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned();
        Error::decode(format!("the response is not valid JSON ({e}): {preview}"))
    })
}

/// Keys that may sit beside `data` in an envelope; anything else means `data`
/// is an ordinary field of the resource and must not be unwrapped.
const ENVELOPE_SIBLINGS: &[&str] = &[
    "secret",
    "type",
    "total",
    "meta",
    "next_cursor",
    "cursor",
    "has_more",
    "request_id",
    "message",
    "success",
    "ok",
    "status",
];

/// PROTOCOL §4: unwrap `{"data": ...}` only when it is the envelope; siblings such
/// as `secret` are kept on an unwrapped object.
pub fn unwrap_envelope(value: Value) -> Value {
    let Value::Object(mut map) = value else {
        return value;
    };
    let is_envelope = map.contains_key("data")
        && map
            .keys()
            .all(|k| k == "data" || ENVELOPE_SIBLINGS.contains(&k.as_str()));
    if !is_envelope {
        return Value::Object(map);
    }
    let data = map.remove("data").unwrap_or(Value::Null);
    match data {
        Value::Object(mut inner) => {
            for (k, v) in map {
                inner.entry(k).or_insert(v);
            }
            Value::Object(inner)
        }
        other => other,
    }
}

/// Keys under which list endpoints put their items.
pub(crate) const LIST_KEYS: &[&str] = &[
    "items",
    "data",
    "results",
    "records",
    "sandboxes",
    "computers",
    "previews",
    "env",
    "ports",
    "attachments",
    "volumes",
    "apps",
    "urls",
    "windows",
    "files",
    "entries",
    "checkpoints",
    "snapshots",
    "transactions",
    "agents",
    "running",
    "presets",
    "shares",
    "processes",
    "webhooks",
    "members",
    "invites",
    "workspaces",
    "templates",
    "deployments",
    "databases",
    "buckets",
    "keys",
    "api_keys",
    "tenants",
    "sessions",
    "objects",
    "tags",
];

fn list_from(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            for key in LIST_KEYS {
                if let Some(Value::Array(items)) = map.get(*key) {
                    return Value::Array(items.clone());
                }
            }
            Value::Object(map)
        }
        other => other,
    }
}

/// A GET/POST/... on any path, JSON in and out.
pub(crate) async fn raw_json(
    client: &Client,
    method: HttpMethod,
    path: &str,
    body: Option<Value>,
) -> Result<Value> {
    let body = match body {
        Some(v) => Body::Json(Bytes::from(
            serde_json::to_vec(&v).map_err(|e| Error::invalid(e.to_string()))?,
        )),
        None => Body::None,
    };
    let mut prepared = Prepared::plain(client, method, path, Map::new(), body, Accept::Json)?;
    // As for table operations: with retries on, a mutation carries a key
    // (generated once, sent on every attempt) so that it may be retried.
    prepared.idempotency_key = take_idempotency_header(&mut prepared.headers).or_else(|| {
        (client.config().retry().enabled() && method != HttpMethod::Get).then(new_idempotency_key)
    });
    let (_, bytes) = send(client, &prepared).await?;
    Ok(unwrap_envelope(parse_json(&bytes)?))
}

pub(crate) async fn raw_bytes(client: &Client, path: &str) -> Result<Bytes> {
    let prepared = Prepared::plain(
        client,
        HttpMethod::Get,
        path,
        Map::new(),
        Body::None,
        Accept::Json,
    )?;
    Ok(send(client, &prepared).await?.1)
}

pub(crate) fn stream_sse_op() -> &'static OpSpec {
    crate::ops::find("stream_sse").unwrap_or_else(|| unreachable!("stream_sse is in the table"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn envelope_rule() {
        assert_eq!(
            unwrap_envelope(json!({"data": {"id": "a"}})),
            json!({"id": "a"})
        );
        assert_eq!(
            unwrap_envelope(json!({"data": {"id": "w"}, "secret": "s"})),
            json!({"id": "w", "secret": "s"})
        );
        // A resource with its own `data` field stays whole.
        let event = json!({"id": "e", "event": "x", "data": {"k": 1}});
        assert_eq!(unwrap_envelope(event.clone()), event);
        assert_eq!(
            unwrap_envelope(json!({"data": [1, 2], "meta": {}})),
            json!([1, 2])
        );
        assert_eq!(
            unwrap_envelope(json!({"output": "2\n"})),
            json!({"output": "2\n"})
        );
    }

    #[test]
    fn file_tree_and_watch_use_the_sandboxes_host_only_by_default() {
        assert_eq!(
            base_url_for(DEFAULT_BASE_URL, Host::Sandboxes),
            "https://sandboxes.miosa.ai/api/v1"
        );
        assert_eq!(base_url_for(DEFAULT_BASE_URL, Host::Api), DEFAULT_BASE_URL);
        assert_eq!(
            base_url_for("http://127.0.0.1:9/api/v1", Host::Sandboxes),
            "http://127.0.0.1:9/api/v1"
        );
        for name in ["sandbox.files.tree", "sandbox.files.watch"] {
            assert_eq!(
                crate::ops::find(name).map(|op| op.host),
                Some(Host::Sandboxes)
            );
        }
    }

    #[test]
    fn list_keys() {
        assert_eq!(list_from(json!({"computers": [1], "total": 1})), json!([1]));
        assert_eq!(list_from(json!([1])), json!([1]));
    }
}
