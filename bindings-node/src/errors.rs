//! The one place core errors become JavaScript errors.
//!
//! N-API errors carry only a code string and a message, so the structured
//! error travels as JSON in the message, tagged with a marker key; `lib/errors.js`
//! recognises it and builds the matching `MiosaError` subclass with its fields
//! (`status`, `code`, `body`, `requestId`, `retryAfter`, `attempts`, `kind`).
//! Any other native error (a caught panic, a failed conversion) becomes a plain
//! `MiosaError` there too.

use miosa::{Error, ErrorKind};
use serde_json::{Map, Value, json};

/// Marker key the JS layer looks for.
const MARKER: &str = "$miosa";

/// Encodes a core error for JavaScript.
pub(crate) fn to_napi(err: &Error) -> napi::Error {
    let mut payload = Map::new();
    payload.insert(MARKER.into(), Value::Bool(true));
    payload.insert("kind".into(), json!(err.kind().as_str()));
    payload.insert("message".into(), json!(err.message()));
    payload.insert("status".into(), json!(err.status()));
    payload.insert("code".into(), json!(err.code()));
    payload.insert("body".into(), err.body().cloned().unwrap_or(Value::Null));
    payload.insert("request_id".into(), json!(err.request_id()));
    payload.insert(
        "retry_after".into(),
        json!(err.retry_after().map(|d| d.as_secs_f64())),
    );
    payload.insert("attempts".into(), json!(err.attempts()));
    napi::Error::from_reason(Value::Object(payload).to_string())
}

/// A refused webhook delivery (`webhook_verification`, with the refusal
/// code), or the caller's unusable input (`invalid_argument`).
pub(crate) fn webhook(err: miosa::webhooks::WebhookError) -> napi::Error {
    if !err.is_verification_failure() {
        return to_napi(&invalid(err.to_string()));
    }
    let payload = json!({
        MARKER: true,
        "kind": "webhook_verification",
        "message": format!("webhook signature refused: {err}"),
        "code": err.code(),
        "attempts": 1,
    });
    napi::Error::from_reason(payload.to_string())
}

/// A caller mistake caught before any network use.
pub(crate) fn invalid(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidArgument, message)
}

/// The error of a call cancelled by its `AbortSignal`.
pub(crate) fn cancelled() -> Error {
    Error::new(ErrorKind::Cancelled, "the request was aborted")
}

/// The error of a call whose work vanished without an answer: its task was
/// dropped (a panic in it, or the runtime shutting down). Kind `internal`,
/// which the core does not have, so it is encoded here directly.
pub(crate) fn lost() -> napi::Error {
    let payload = json!({
        MARKER: true,
        "kind": "internal",
        "message": "the call ended without an answer (its native task stopped)",
        "attempts": 1,
    });
    napi::Error::from_reason(payload.to_string())
}
