//! One error type for every failure, carrying the seed's contract
//! (`message`, `status`, `code`, `body`) plus the request id and retry facts.

use std::fmt;
use std::time::Duration;

use serde_json::Value;

mod kinds;

pub use kinds::ErrorKind;

impl ErrorKind {
    /// The kind for an HTTP status outside 2xx.
    pub fn from_status(status: u16) -> Self {
        match status {
            400 | 422 => Self::Validation,
            401 => Self::Authentication,
            402 => Self::InsufficientCredits,
            403 => Self::PermissionDenied,
            404 => Self::NotFound,
            409 => Self::Conflict,
            429 => Self::RateLimited,
            500..=599 => Self::Server,
            _ => Self::Api,
        }
    }
}

/// A failed call. `status` is `None` for failures that never got an HTTP answer.
#[derive(Clone)]
pub struct Error {
    // Boxed so `Result<T, Error>` stays one pointer wide on the happy path.
    inner: Box<Inner>,
}

#[derive(Clone)]
struct Inner {
    kind: ErrorKind,
    message: String,
    status: Option<u16>,
    code: Option<String>,
    body: Option<Value>,
    request_id: Option<String>,
    retry_after: Option<Duration>,
    attempts: u32,
}

/// Shorthand used across the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An error with no HTTP status.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self::from_inner(Inner {
            kind,
            message: message.into(),
            status: None,
            code: None,
            body: None,
            request_id: None,
            retry_after: None,
            attempts: 1,
        })
    }

    fn from_inner(mut inner: Inner) -> Self {
        // Messages quote URLs (reqwest's errors do): never with their tokens or passwords.
        inner.message = crate::redact::text(&inner.message);
        Self {
            inner: Box::new(inner),
        }
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidArgument, message)
    }

    /// The same error with a machine-readable code of the client's own.
    pub(crate) fn with_code(mut self, code: &str) -> Self {
        self.inner.code = Some(code.to_owned());
        self
    }

    pub(crate) fn cancelled() -> Self {
        Self::new(ErrorKind::Cancelled, "the request was cancelled")
    }

    /// The error for data over a size limit; `setting` is the limit's name.
    pub(crate) fn limit_exceeded(what: &str, setting: &str, limit: u64) -> Self {
        Self::new(
            ErrorKind::LimitExceeded,
            format!("{what} exceeds {setting} ({limit} bytes)"),
        )
    }

    pub(crate) fn decode(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Decode, message)
    }

    /// Builds the error for a non-success response from its status, headers and raw body.
    pub fn from_response(
        status: u16,
        request_id_header: Option<&str>,
        retry_after_header: Option<Duration>,
        body: &[u8],
    ) -> Self {
        let text = String::from_utf8_lossy(body);
        let parsed: Option<Value> = serde_json::from_slice(body).ok();
        let json = parsed.as_ref().filter(|v| v.is_object());
        let message = json
            .and_then(extract_message)
            .or_else(|| {
                let trimmed = text.trim();
                (!trimmed.is_empty()).then(|| truncate(trimmed, 500))
            })
            .unwrap_or_else(|| format!("request failed with status {status}"));
        let code = json.and_then(extract_code);
        let request_id = request_id_header
            .map(str::to_owned)
            .or_else(|| json.and_then(|v| str_field(v, "request_id")))
            .or_else(|| {
                json.and_then(|v| v.get("error"))
                    .and_then(|e| str_field(e, "request_id"))
            });
        let retry_after = retry_after_header.or_else(|| json.and_then(body_retry_after));
        let body = match parsed {
            Some(v) => Some(v),
            None if text.is_empty() => None,
            None => Some(Value::String(truncate(&text, 64 * 1024))),
        };
        Self::from_inner(Inner {
            kind: ErrorKind::from_status(status),
            message,
            status: Some(status),
            code,
            body,
            request_id,
            retry_after,
            attempts: 1,
        })
    }

    /// The coarse class of the failure.
    pub fn kind(&self) -> ErrorKind {
        self.inner.kind
    }
    /// Human-readable message, taken from the server's body when there is one.
    pub fn message(&self) -> &str {
        &self.inner.message
    }
    /// HTTP status, `None` for transport failures, timeouts and local errors.
    pub fn status(&self) -> Option<u16> {
        self.inner.status
    }
    /// Machine-readable code such as `NOT_FOUND`.
    pub fn code(&self) -> Option<&str> {
        self.inner.code.as_deref()
    }
    /// The decoded error body (JSON, or the raw text as a JSON string).
    pub fn body(&self) -> Option<&Value> {
        self.inner.body.as_ref()
    }
    /// The server's request id, from `X-Request-ID` or the body.
    pub fn request_id(&self) -> Option<&str> {
        self.inner.request_id.as_deref()
    }
    /// How long the server asked to wait (429, 503).
    pub fn retry_after(&self) -> Option<Duration> {
        self.inner.retry_after
    }
    /// How many attempts were made before giving up.
    pub fn attempts(&self) -> u32 {
        self.inner.attempts
    }

    pub(crate) fn with_attempts(mut self, attempts: u32) -> Self {
        self.inner.attempts = attempts;
        self
    }

    /// Whether a retry policy may try again after this failure.
    pub(crate) fn is_transient(&self) -> bool {
        match self.inner.kind {
            ErrorKind::Timeout | ErrorKind::Connection | ErrorKind::RateLimited => true,
            ErrorKind::Server => self.inner.status.is_none_or(|s| s != 501),
            ErrorKind::Api => self.inner.status == Some(408),
            _ => false,
        }
    }

    pub(crate) fn from_reqwest(err: &reqwest::Error) -> Self {
        // reqwest's Display includes the URL, never headers, so the key cannot leak here.
        let detail = error_chain(err);
        if err.is_timeout() {
            Self::new(ErrorKind::Timeout, format!("request timed out: {detail}"))
        } else if err.is_connect() {
            Self::new(
                ErrorKind::Connection,
                format!("could not connect: {detail}"),
            )
        } else if err.is_decode() && broke_mid_body(err) {
            // reqwest files a body that stopped short (a reset, a truncated
            // Content-Length) under "decode"; it is a transport failure that a
            // retry can cure, not a malformed answer.
            Self::new(
                ErrorKind::Connection,
                format!("the connection broke while reading the response: {detail}"),
            )
        } else if err.is_decode() {
            Self::decode(format!("could not decode the response: {detail}"))
        } else if err.is_builder() {
            Self::invalid(format!("invalid request: {detail}"))
        } else {
            Self::new(
                ErrorKind::Connection,
                format!("connection failed: {detail}"),
            )
        }
    }
}

/// Whether a reqwest error was caused by reading the body off the connection
/// (its source chain holds a body or I/O error), as opposed to decoding it.
fn broke_mid_body(err: &reqwest::Error) -> bool {
    let mut source = std::error::Error::source(err);
    while let Some(inner) = source {
        let body = inner
            .downcast_ref::<reqwest::Error>()
            .is_some_and(reqwest::Error::is_body);
        if body || inner.is::<std::io::Error>() {
            return true;
        }
        source = inner.source();
    }
    false
}

pub(crate) fn error_chain(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(inner) = source {
        let text = inner.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = inner.source();
    }
    out
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.inner.message)?;
        match (self.inner.status, &self.inner.code) {
            (Some(s), Some(c)) => write!(f, " (status {s}, code {c})"),
            (Some(s), None) => write!(f, " (status {s})"),
            (None, Some(c)) => write!(f, " (code {c})"),
            (None, None) => Ok(()),
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.inner.kind)
            .field("message", &self.inner.message)
            .field("status", &self.inner.status)
            .field("code", &self.inner.code)
            .field("request_id", &self.inner.request_id)
            .field("attempts", &self.inner.attempts)
            .finish_non_exhaustive()
    }
}

impl std::error::Error for Error {}

fn str_field(v: &Value, key: &str) -> Option<String> {
    v.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn is_upper_snake(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        && s.chars().next().is_some_and(|c| c.is_ascii_uppercase())
}

/// PROTOCOL §6 order: nested `error.message`, `detail` when `error` is a code,
/// `message`, `error`, `detail`, `reason`, first of `errors`.
fn extract_message(v: &Value) -> Option<String> {
    if let Some(m) = v.get("error").and_then(|e| str_field(e, "message")) {
        return Some(m);
    }
    let error_str = v.get("error").and_then(Value::as_str);
    if let (Some(e), Some(detail)) = (error_str, str_field(v, "detail"))
        && is_upper_snake(e)
    {
        return Some(detail);
    }
    str_field(v, "message")
        .or_else(|| error_str.filter(|s| !s.is_empty()).map(str::to_owned))
        .or_else(|| str_field(v, "detail"))
        .or_else(|| str_field(v, "reason"))
        .or_else(|| {
            v.get("errors")
                .and_then(Value::as_array)
                .and_then(|a| a.first())
                .map(|first| match first {
                    Value::String(s) => s.clone(),
                    other => str_field(other, "message").unwrap_or_else(|| other.to_string()),
                })
        })
}

/// Nested `error.code`, then top-level `code`, then `error` when it is UPPER_SNAKE.
fn extract_code(v: &Value) -> Option<String> {
    v.get("error")
        .and_then(|e| str_field(e, "code"))
        .or_else(|| str_field(v, "code"))
        .or_else(|| {
            v.get("error")
                .and_then(Value::as_str)
                .filter(|s| is_upper_snake(s))
                .map(str::to_owned)
        })
}

fn body_retry_after(v: &Value) -> Option<Duration> {
    let scopes = [Some(v), v.get("error")];
    for scope in scopes.into_iter().flatten() {
        if let Some(ms) = scope.get("retry_after_ms").and_then(Value::as_f64) {
            return positive_duration(ms / 1000.0);
        }
        if let Some(s) = scope.get("retry_after").and_then(Value::as_f64) {
            return positive_duration(s);
        }
    }
    None
}

pub(crate) fn positive_duration(seconds: f64) -> Option<Duration> {
    (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds.min(86_400.0)))
}

fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}
