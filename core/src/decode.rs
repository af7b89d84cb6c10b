//! Decoding: success bodies into JSON, envelopes removed, lists found under
//! the keys the API uses, and the [`Output`] every operation yields.

use std::any::Any;
use std::fmt;

use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{Error, ErrorKind, Result};
use crate::pagination::Page;
use crate::stream::EventStream;

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
    /// An open WebSocket.
    Socket(crate::ws::Socket),
    /// A model answer that needed no reshaping: the body as sent, already
    /// checked against its model by decoding it once.
    Model(ModelBody),
}

/// A body that is exactly its model's JSON (no envelope, no aliases to fill),
/// with the model it decoded into. Bindings take the text and build their own
/// objects from it; the typed API takes the model; nothing parses it twice.
pub struct ModelBody {
    body: Bytes,
    decoded: Box<dyn Any + Send>,
}

impl fmt::Debug for ModelBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The body may carry secrets; its size is all `Debug` shows.
        f.debug_struct("ModelBody")
            .field("bytes", &self.body.len())
            .finish_non_exhaustive()
    }
}

impl ModelBody {
    pub(crate) fn new(body: Bytes, decoded: Box<dyn Any + Send>) -> Self {
        Self { body, decoded }
    }
    /// The JSON text of the answer.
    pub fn bytes(&self) -> &Bytes {
        &self.body
    }
    /// The answer as a JSON tree (built on demand).
    pub fn to_json(&self) -> Result<Value> {
        parse_json(&self.body)
    }
}

fn typed<T: DeserializeOwned>(value: Value) -> Result<T> {
    serde_json::from_value(value)
        .map_err(|e| Error::decode(format!("unexpected response shape: {e}")))
}

impl Output {
    /// The JSON form of any non-stream output (bytes become an error).
    pub fn into_json(self) -> Result<Value> {
        match self {
            Self::Json(v) => Ok(v),
            Self::Bool(b) => Ok(Value::Bool(b)),
            Self::Page(p) => Ok(p.to_json()),
            Self::Model(m) => m.to_json(),
            Self::Bytes(_) => Err(Error::new(
                ErrorKind::Usage,
                "the operation returns bytes, not JSON",
            )),
            Self::Events(_) => Err(Error::new(
                ErrorKind::Usage,
                "the operation returns an event stream, not JSON",
            )),
            Self::Socket(_) => Err(Error::new(
                ErrorKind::Usage,
                "the operation returns a WebSocket, not JSON",
            )),
        }
    }
    /// The JSON text of any non-stream output; a model answer's body is passed on as sent.
    pub fn into_json_text(self) -> Result<String> {
        match self {
            Self::Model(m) => match std::str::from_utf8(&m.body) {
                Ok(text) => Ok(text.to_owned()),
                Err(_) => Ok(m.to_json()?.to_string()),
            },
            other => Ok(other.into_json()?.to_string()),
        }
    }
    /// The typed value of a JSON output: a model answer is handed over as
    /// decoded, any other JSON is decoded into `T`.
    pub fn into_typed<T: DeserializeOwned + 'static>(self) -> Result<T> {
        match self {
            Self::Model(ModelBody { body, decoded }) => match decoded.downcast::<T>() {
                Ok(model) => Ok(*model),
                Err(_) => typed(parse_json(&body)?),
            },
            other => typed(other.into_json()?),
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
    /// The socket of a WebSocket operation.
    pub fn into_socket(self) -> Result<crate::ws::Socket> {
        match self {
            Self::Socket(s) => Ok(s),
            _ => Err(Error::new(
                ErrorKind::Usage,
                "the operation does not open a WebSocket",
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

/// The text of `data` when `body` is written `{"data": VALUE}`, nothing else;
/// otherwise the body itself. Only a cut, not a parse: whoever uses the cut
/// must decode it as one whole JSON value (trailing text fails), which proves
/// `data` was the only key, so the envelope rule would have unwrapped it just so.
pub(crate) fn sole_data(body: &Bytes) -> Bytes {
    let text = body.as_ref();
    let skip = |mut at: usize| {
        while text.get(at).is_some_and(u8::is_ascii_whitespace) {
            at += 1;
        }
        at
    };
    let open = skip(0);
    let key = skip(open + 1);
    let colon = skip(key + 6);
    let close = text.iter().rposition(|b| !b.is_ascii_whitespace());
    match close {
        Some(close)
            if text.get(open) == Some(&b'{')
                && text.get(key..key + 6) == Some(&b"\"data\""[..])
                && text.get(colon) == Some(&b':')
                && text[close] == b'}'
                && colon < close =>
        {
            body.slice(colon + 1..close)
        }
        _ => body.clone(),
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

pub(crate) fn list_from(value: Value) -> Value {
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
    fn sole_data_cuts_only_a_one_key_data_envelope() {
        let cut = |body: &'static str| sole_data(&Bytes::from_static(body.as_bytes()));
        assert_eq!(cut(" { \"data\" :{\"id\": 1} } \n"), &b"{\"id\": 1} "[..]);
        assert_eq!(cut("{\"id\": 1}"), &b"{\"id\": 1}"[..]);
        assert_eq!(cut("{\"datum\": 1}"), &b"{\"datum\": 1}"[..]);
        assert_eq!(cut("{\"data\"}"), &b"{\"data\"}"[..]);
        assert_eq!(cut(""), &b""[..]);
        // Another key after `data` leaves trailing text, which no decode accepts.
        let two = cut("{\"data\": {\"id\": 1}, \"request_id\": \"r\"}");
        assert!(serde_json::from_slice::<Value>(&two).is_err());
    }

    #[test]
    fn list_keys() {
        assert_eq!(list_from(json!({"computers": [1], "total": 1})), json!([1]));
        assert_eq!(list_from(json!([1])), json!([1]));
    }
}
