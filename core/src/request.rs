//! Request building: an operation of the table plus caller values become a
//! [`Prepared`] request (URL, headers, body, limits), with no network use.

use std::borrow::Cow;
use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Map, Value};

use crate::client::RequestOptions;
use crate::config::{Config, DEFAULT_BASE_URL};
use crate::error::{Error, ErrorKind, Result};
use crate::multipart::{FilePart, Multipart, base_name};
use crate::ops::{Host, HttpMethod, Idempotency, OpSpec, Param, ParamType, Returns, Upload};
use crate::settings::Input;

/// A positional argument: JSON, or bytes kept as bytes (file contents, uploads).
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    /// Any JSON value (ids are strings).
    Json(Value),
    /// Binary content.
    Bytes(Bytes),
    /// A list or object with binary content inside (`write_many` items), as the
    /// caller's language gave it; the table says how each part is sent.
    Input(Input),
}

/// One file of `sandbox.files.write_many`: where it goes and what it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileWrite {
    /// Path in the sandbox.
    pub path: String,
    /// The bytes to store (text as UTF-8); the client sends them base64-encoded.
    pub content: Bytes,
}

impl FileWrite {
    /// A file to write at `path` holding `content`.
    pub fn new(path: impl Into<String>, content: impl Into<Bytes>) -> Self {
        Self {
            path: path.into(),
            content: content.into(),
        }
    }
}

impl From<FileWrite> for Input {
    fn from(file: FileWrite) -> Self {
        Self::Map(vec![
            ("path".to_owned(), Self::Str(file.path)),
            ("content".to_owned(), Self::Bytes(file.content)),
        ])
    }
}

impl From<Vec<FileWrite>> for Arg {
    fn from(files: Vec<FileWrite>) -> Self {
        Self::Input(Input::List(files.into_iter().map(Input::from).collect()))
    }
}

impl From<Input> for Arg {
    fn from(input: Input) -> Self {
        Self::Input(input)
    }
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

/// What `Accept` to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Accept {
    Json,
    /// Phoenix routes guarded by `accepts ["json"]` answer 406 to a bare
    /// `text/event-stream`, so JSON stays acceptable at a lower weight.
    EventStream,
}

impl Accept {
    pub(crate) fn header(self) -> &'static str {
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
    Multipart(Multipart),
}

/// A request ready to send, cheap to clone for each attempt.
#[derive(Debug, Clone)]
pub(crate) struct Prepared {
    pub(crate) method: HttpMethod,
    pub(crate) url: reqwest::Url,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Body,
    pub(crate) accept: Accept,
    /// Limit on one whole attempt; for a stream, the idle limit between events.
    pub(crate) timeout: Duration,
    pub(crate) idempotency_key: Option<String>,
    /// Cap on the buffered success body (or on one event of a stream).
    pub(crate) body_limit: BodyLimit,
    /// For a stream: the event types that end it.
    pub(crate) stream_end: &'static [&'static str],
    /// What logs name the request by: the path template, never ids' values or a query.
    pub(crate) route: String,
}

/// A size cap and the setting it comes from, which the error names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BodyLimit {
    pub(crate) bytes: u64,
    pub(crate) setting: &'static str,
}

impl BodyLimit {
    /// The cap on a buffered JSON body, a download, or one SSE event.
    pub(crate) fn for_returns(
        config: &Config,
        defaults: &RequestOptions,
        returns: Returns,
    ) -> Self {
        match returns {
            Returns::Bytes => Self {
                bytes: config.max_download_bytes(),
                setting: "max_download_bytes",
            },
            Returns::Events => Self {
                bytes: config.max_event_bytes(),
                setting: "max_event_bytes",
            },
            _ => Self {
                bytes: defaults
                    .max_response_bytes
                    .unwrap_or(config.max_response_bytes()),
                setting: "max_response_bytes",
            },
        }
    }
}

/// Added to a caller-given server-side run time: the answer still has to travel back.
const SERVER_TIME_MARGIN: Duration = Duration::from_secs(15);
/// Server-side run times beyond a day are taken as a day.
const MAX_SERVER_TIME: f64 = 86_400.0;

/// The attempt limit of an operation whose work runs on the server for
/// `server_seconds` (a command's own `timeout`): never shorter than that plus a margin.
pub(crate) fn attempt_timeout(base: Duration, server_seconds: Option<f64>) -> Duration {
    match server_seconds.filter(|s| s.is_finite() && *s > 0.0) {
        Some(seconds) => {
            base.max(Duration::from_secs_f64(seconds.min(MAX_SERVER_TIME)) + SERVER_TIME_MARGIN)
        }
        None => base,
    }
}

impl Prepared {
    /// A request to any path of the API (no table row), carrying the handle's
    /// per-call headers, query and timeout.
    pub(crate) fn plain(
        config: &Config,
        defaults: &RequestOptions,
        method: HttpMethod,
        path: &str,
        mut query: Map<String, Value>,
        body: Body,
        accept: Accept,
    ) -> Result<Self> {
        query.extend(defaults.query.clone());
        let returns = if accept == Accept::EventStream {
            Returns::Events
        } else {
            Returns::Json
        };
        Ok(Self {
            method,
            url: build_url(&config.base, path, &query)?,
            headers: defaults.headers.clone(),
            body,
            accept,
            timeout: defaults.timeout.unwrap_or(config.timeout()),
            idempotency_key: None,
            body_limit: BodyLimit::for_returns(config, defaults, returns),
            stream_end: &[],
            route: path.split('?').next().unwrap_or_default().to_owned(),
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

/// Builds the request of a table operation from positional args and keyword params.
pub(crate) fn prepare(
    config: &Config,
    defaults: &RequestOptions,
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
    if let crate::ops::Returns::Page { cursor_param, .. } = op.returns {
        crate::pagination::cursor_to_wire(cursor_param, &mut params);
    }
    let (path_args, extra_args) = args.split_at(op.path_params.len());
    let mut path = path_override.unwrap_or(op.path).to_owned();
    for (name, arg) in op.path_params.iter().zip(path_args) {
        let text = path_arg_text(op, name, arg)?;
        let set = if *name == "key" { OBJECT_KEY } else { SEGMENT };
        let encoded = utf8_percent_encode(&text, set).to_string();
        path = path.replace(&format!("{{{name}}}"), &encoded);
    }

    let server_seconds = op
        .server_time
        .and_then(|name| params.get(name))
        .and_then(Value::as_f64);
    let mut query = Map::new();
    let mut body = Map::new();
    let mut raw_upload: Option<Bytes> = None;
    let mut file_part: Option<FilePart> = None;
    for (param, arg) in op.args.iter().zip(extra_args) {
        if op.upload == Upload::Multipart && param.wire == "file" {
            file_part = Some(file_part_of(op, param, arg)?);
            continue;
        }
        if op.upload == Upload::Raw && param.ty == ParamType::Bytes {
            raw_upload = Some(match arg {
                Arg::Bytes(b) => b.clone(),
                Arg::Json(Value::String(s)) | Arg::Input(Input::Str(s)) => {
                    Bytes::from(s.clone().into_bytes())
                }
                Arg::Input(Input::Bytes(b)) => b.clone(),
                _ => return Err(type_error(op, param, "bytes or text")),
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
        if let Some(param) = op.query.iter().find(|p| p.name == name) {
            // A query string has no null: an explicit null there means "not given".
            if !value.is_null() {
                query.insert(param.wire.to_owned(), check_type(op, param, value)?);
            }
        } else if value.is_null() {
            // An explicit null in a body field is sent as JSON `null` (it clears the field).
            let wire = op
                .body
                .iter()
                .find(|p| p.name == name)
                .map_or(name.as_str(), |p| p.wire);
            if op.method.has_body() && op.upload == Upload::Json {
                body.insert(wire.to_owned(), Value::Null);
            }
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
    } else if op.upload == Upload::Multipart {
        multipart_body(op, file_part, body)?
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
        url: build_url(&*base_for(config, op.host)?, &path, &query)?,
        headers,
        body,
        accept,
        // A per-call timeout is the caller's explicit word; the client-wide one
        // is raised to cover the server-side work.
        timeout: defaults
            .timeout
            .unwrap_or_else(|| attempt_timeout(config.timeout(), server_seconds)),
        idempotency_key,
        body_limit: BodyLimit::for_returns(config, defaults, op.returns),
        stream_end: op.stream_end,
        route: op.path.to_owned(),
    })
}

/// The file part of a multipart upload: bytes from memory, or text naming a
/// local file, checked here so that a wrong path fails before the network.
fn file_part_of(op: &OpSpec, param: &Param, arg: &Arg) -> Result<FilePart> {
    match (param.ty, arg) {
        (ParamType::Bytes, Arg::Bytes(b)) => Ok(FilePart::Memory(b.clone())),
        (ParamType::Bytes, Arg::Json(Value::String(s))) => {
            Ok(FilePart::Memory(Bytes::from(s.clone().into_bytes())))
        }
        (ParamType::Bytes, _) => Err(type_error(op, param, "bytes or text")),
        (_, Arg::Json(Value::String(local))) => {
            let path = std::path::PathBuf::from(local);
            match std::fs::metadata(&path) {
                Ok(meta) if meta.is_file() => Ok(FilePart::Disk(path)),
                Ok(_) => Err(Error::invalid(format!(
                    "{}: `{}` is not a regular file: {local}",
                    op.name, param.name
                ))),
                Err(e) => Err(Error::invalid(format!(
                    "{}: `{}` cannot be read ({e}): {local}",
                    op.name, param.name
                ))),
            }
        }
        _ => Err(type_error(op, param, "a local file path")),
    }
}

/// Text fields from the other arguments and parameters; the part is named
/// after the destination `path`, else after the local file.
fn multipart_body(op: &OpSpec, file: Option<FilePart>, fields: Map<String, Value>) -> Result<Body> {
    let file = file.ok_or_else(|| Error::invalid(format!("{}: no file to upload", op.name)))?;
    let text = |v: Value| match v {
        Value::String(s) => s,
        other => other.to_string(),
    };
    let fields: Vec<(String, String)> = fields
        .into_iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| (k, text(v)))
        .collect();
    let local = match &file {
        FilePart::Disk(p) => p.to_str().and_then(base_name),
        FilePart::Memory(_) => None,
    };
    let filename = fields
        .iter()
        .find(|(k, _)| k == "path")
        .and_then(|(_, v)| base_name(v))
        .or(local)
        .unwrap_or_else(|| "upload".to_owned());
    Ok(Body::Multipart(Multipart {
        file_field: "file".to_owned(),
        file,
        filename,
        fields,
    }))
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
        (ParamType::Files, _) => file_items(op, param, arg),
        (ParamType::Bytes, Arg::Bytes(b) | Arg::Input(Input::Bytes(b))) => Ok(Value::String(
            base64::engine::general_purpose::STANDARD.encode(b),
        )),
        (_, Arg::Input(input)) => {
            let value = input.to_json(param.name)?;
            check_type(op, param, value)
        }
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
        ParamType::Files => value.is_array(),
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
        ParamType::Files => "a list of {path, content} items",
    }
}

/// The items of a `write_many`: `{path, content}` with bytes or text content, sent
/// as `{path, content_base64}` (PROTOCOL: the API decodes only `content_base64`, a
/// plain `content` would be stored verbatim). A `content_base64` given as text is
/// taken as already encoded and checked; other fields pass through.
fn file_items(op: &OpSpec, param: &Param, arg: &Arg) -> Result<Value> {
    let items = match arg {
        Arg::Json(Value::Array(items)) => items.iter().cloned().map(Input::from).collect(),
        Arg::Input(Input::List(items)) => items.clone(),
        _ => return Err(type_error(op, param, describe(param.ty))),
    };
    items
        .into_iter()
        .enumerate()
        .map(|(index, item)| file_item(op, &format!("{}[{index}]", param.name), item))
        .collect::<Result<_>>()
        .map(Value::Array)
}

fn file_item(op: &OpSpec, at: &str, item: Input) -> Result<Value> {
    let refuse = |problem: String| Error::invalid(format!("{}: `{problem}", op.name));
    let Input::Map(entries) = item else {
        return Err(refuse(format!("{at}` must be an object {{path, content}}")));
    };
    let mut out = Map::new();
    let mut content: Option<String> = None;
    for (key, value) in entries {
        match key.as_str() {
            "content" | "content_base64" => {
                if content.is_some() {
                    return Err(refuse(format!(
                        "{at}` gives both `content` and `content_base64`; give one"
                    )));
                }
                let engine = &base64::engine::general_purpose::STANDARD;
                content = Some(match (key.as_str(), value) {
                    (_, Input::Bytes(b)) => engine.encode(b),
                    ("content", Input::Str(text)) => engine.encode(text),
                    (_, Input::Str(text)) if engine.decode(&text).is_ok() => text,
                    (_, Input::Str(_)) => {
                        return Err(refuse(format!(
                            "{at}.content_base64` is not base64 (give the raw bytes or text as `content`)"
                        )));
                    }
                    (_, other) => {
                        return Err(refuse(format!(
                            "{at}.{key}` must be bytes or text, got {}",
                            other.describe()
                        )));
                    }
                });
            }
            "path" => match value {
                Input::Str(path) if !path.trim().is_empty() => {
                    out.insert(key, Value::String(path));
                }
                other => {
                    return Err(refuse(format!(
                        "{at}.path` must be a non-empty string, got {}",
                        other.describe()
                    )));
                }
            },
            _ => {
                let value = value.to_json(&format!("{at}.{key}"))?;
                out.insert(key, value);
            }
        }
    }
    if !out.contains_key("path") {
        return Err(refuse(format!("{at}.path` is required")));
    }
    let Some(content) = content else {
        return Err(refuse(format!("{at}.content` is required (bytes or text)")));
    };
    out.insert("content_base64".to_owned(), Value::String(content));
    Ok(Value::Object(out))
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
fn base_for(config: &Config, host: Host) -> Result<Cow<'_, reqwest::Url>> {
    if host == Host::Sandboxes && config.base_url() == DEFAULT_BASE_URL {
        return reqwest::Url::parse(SANDBOXES_BASE_URL)
            .map(Cow::Owned)
            .map_err(|e| Error::invalid(format!("invalid sandboxes host: {e}")));
    }
    Ok(Cow::Borrowed(&config.base))
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

/// `base` with `path` appended to its path, and `query` added.
pub(crate) fn build_url(
    base: &reqwest::Url,
    path: &str,
    query: &Map<String, Value>,
) -> Result<reqwest::Url> {
    if !path.starts_with('/') {
        return Err(Error::invalid(format!("path `{path}` must start with `/`")));
    }
    let joined = format!("{}{path}", base.path().trim_end_matches('/'));
    let mut url = if path.contains(['?', '#']) {
        // A path carrying its own query or fragment is parsed whole, as written.
        base.join(&joined)
            .map_err(|e| Error::invalid(format!("invalid request URL for `{path}`: {e}")))?
    } else {
        let mut url = base.clone();
        url.set_path(&joined);
        url
    };
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_join_the_base_path_as_one_parse_would() {
        let emulator = config("http://127.0.0.1:9/api/v1/");
        let root = config("https://proxy.example");
        type Case<'a> = (&'a Config, &'a str, &'a [(&'a str, Value)], &'a str);
        let cases: [Case; 6] = [
            (
                &emulator,
                "/sandboxes/sbx_1",
                &[],
                "http://127.0.0.1:9/api/v1/sandboxes/sbx_1",
            ),
            (&root, "/sandboxes", &[], "https://proxy.example/sandboxes"),
            (
                &emulator,
                "/files/a b/%2F",
                &[("path", Value::from("/x y")), ("skip", Value::Null)],
                "http://127.0.0.1:9/api/v1/files/a%20b/%2F?path=%2Fx+y",
            ),
            (
                &emulator,
                "/list?limit=2",
                &[("cursor", Value::from("c"))],
                "http://127.0.0.1:9/api/v1/list?limit=2&cursor=c",
            ),
            (&emulator, "/a/../b", &[], "http://127.0.0.1:9/api/v1/b"),
            (
                &emulator,
                "/tags",
                &[("tag", serde_json::json!(["a", "b"]))],
                "http://127.0.0.1:9/api/v1/tags?tag=a%2Cb",
            ),
        ];
        for (config, path, query, expected) in cases {
            assert_eq!(url_of(config, Host::Api, path, query), expected, "{path}");
            let whole =
                reqwest::Url::parse(&format!("{}{path}", config.base_url())).expect("parse");
            if query.is_empty() {
                assert_eq!(whole.as_str(), expected, "one parse of {path}");
            }
        }
    }

    fn config(base_url: &str) -> Config {
        crate::ClientBuilder::new("msk_u_x")
            .base_url(base_url)
            .into_config()
            .expect("valid")
    }

    fn url_of(config: &Config, host: Host, path: &str, query: &[(&str, Value)]) -> String {
        let query = query
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect();
        build_url(&base_for(config, host).expect("base"), path, &query)
            .expect("url")
            .to_string()
    }

    #[test]
    fn file_tree_and_watch_use_the_sandboxes_host_only_by_default() {
        let default = config(DEFAULT_BASE_URL);
        assert_eq!(
            url_of(&default, Host::Sandboxes, "/t", &[]),
            "https://sandboxes.miosa.ai/api/v1/t"
        );
        assert_eq!(
            url_of(&default, Host::Api, "/t", &[]),
            "https://api.miosa.ai/api/v1/t"
        );
        assert_eq!(
            url_of(
                &config("http://127.0.0.1:9/api/v1"),
                Host::Sandboxes,
                "/t",
                &[]
            ),
            "http://127.0.0.1:9/api/v1/t"
        );
        for name in ["sandbox.files.tree", "sandbox.files.watch"] {
            assert_eq!(
                crate::ops::find(name).map(|op| op.host),
                Some(Host::Sandboxes)
            );
        }
    }
}
