//! Conversions between foreign values and the core's generic dispatch: the
//! generated methods build `Arg`s and a keyword map with these helpers, call
//! [`call`], and turn the `Output` back into foreign types. No protocol logic
//! lives here: names, wires, paths and transports all come from the core.

use std::sync::Arc;

use mcore::{Arg, Output};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::client::Handle;
use crate::errors::{MiosaError, decode, invalid, usage};
use crate::stream::{EventStream, PagerCell};

/// Runs one operation of the table through the core's dispatch.
pub(crate) async fn call(
    handle: &Handle,
    name: &str,
    args: Vec<Arg>,
    params: Map<String, Value>,
) -> Result<Output, MiosaError> {
    let op = find(name)?;
    // A client made with a cancellation token cancels its own calls in the core.
    let client = handle.client()?;
    recorded(handle, &client, client.invoke(op, args, params)).await
}

/// Awaits `work`, a call of `client`; inside `withResponse`, notes its response.
pub(crate) async fn recorded<T>(
    handle: &Handle,
    client: &mcore::Client,
    work: impl std::future::Future<Output = mcore::Result<T>>,
) -> Result<T, MiosaError> {
    let Some(recorder) = handle.recorder() else {
        return Ok(work.await?);
    };
    let (value, response) = client.with_response(work).await?;
    recorder.note(response);
    Ok(value)
}

/// A lazy pager over every item of a paginated operation.
pub(crate) fn pager(
    handle: &Handle,
    name: &str,
    args: Vec<Arg>,
    params: Map<String, Value>,
) -> Result<PagerCell, MiosaError> {
    let op = find(name)?;
    Ok(PagerCell::new(handle.client()?.pager(op, args, params)?))
}

pub(crate) fn find(name: &str) -> Result<&'static mcore::OpSpec, MiosaError> {
    mcore::ops::find(name)
        .ok_or_else(|| usage(format!("the core does not know the operation `{name}`")))
}

/// Parses JSON text given for the parameter `name`.
pub(crate) fn json_value(name: &str, text: &str) -> Result<Value, MiosaError> {
    serde_json::from_str(text).map_err(|e| invalid(format!("`{name}` is not valid JSON: {e}")))
}

/// Parses JSON text that must be an object.
pub(crate) fn json_object(name: &str, text: &str) -> Result<Map<String, Value>, MiosaError> {
    match json_value(name, text)? {
        Value::Object(map) => Ok(map),
        _ => Err(invalid(format!("`{name}` must be a JSON object"))),
    }
}

/// A positional argument given as JSON text (maps, lists, free JSON).
pub(crate) fn json_arg(name: &str, text: &str) -> Result<Arg, MiosaError> {
    json_value(name, text).map(Arg::Json)
}

/// One file of `writeMany`: where it goes and the bytes it holds (Kotlin
/// `ByteArray`, Swift `Data`); the core sends them base64-encoded.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
pub struct FileWrite {
    /// Path in the sandbox.
    pub path: String,
    /// The bytes to store.
    pub content: Vec<u8>,
}

impl std::fmt::Debug for FileWrite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileWrite")
            .field("path", &self.path)
            .field("content_len", &self.content.len())
            .finish()
    }
}

/// The `files` of a `writeMany`, for the core.
pub(crate) fn files_arg(files: Vec<FileWrite>) -> Arg {
    Arg::from(
        files
            .into_iter()
            .map(|f| mcore::FileWrite::new(f.path, f.content))
            .collect::<Vec<_>>(),
    )
}

/// Keyword parameters, collected from a params record. Absent fields are not sent.
#[derive(Debug, Default)]
pub(crate) struct Params(Map<String, Value>);

impl Params {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    pub(crate) fn put<T: Into<Value>>(&mut self, name: &str, value: Option<T>) {
        if let Some(value) = value {
            self.0.insert(name.to_owned(), value.into());
        }
    }

    /// A map, list or free-JSON parameter given as JSON text.
    pub(crate) fn put_json(&mut self, name: &str, text: Option<String>) -> Result<(), MiosaError> {
        if let Some(text) = text {
            self.0.insert(name.to_owned(), json_value(name, &text)?);
        }
        Ok(())
    }

    /// Fields the table does not list, given as a JSON object; the table's own fields win.
    pub(crate) fn put_extra(&mut self, text: Option<String>) -> Result<(), MiosaError> {
        if let Some(text) = text {
            for (key, value) in json_object("extra", &text)? {
                self.0.entry(key).or_insert(value);
            }
        }
        Ok(())
    }

    pub(crate) fn into_map(self) -> Map<String, Value> {
        self.0
    }
}

/// JSON results are handed over as JSON text.
pub(crate) fn json_text(output: Output) -> Result<String, MiosaError> {
    Ok(output.into_json_text()?)
}

pub(crate) fn bytes(output: Output) -> Result<Vec<u8>, MiosaError> {
    Ok(output.into_bytes()?.to_vec())
}

pub(crate) fn boolean(output: Output) -> Result<bool, MiosaError> {
    Ok(output.into_bool()?)
}

pub(crate) fn events(output: Output) -> Result<Arc<EventStream>, MiosaError> {
    Ok(Arc::new(EventStream::new(output.into_events()?)))
}

/// Decodes one JSON value as the core model `M`, then converts it to the record `R`.
pub(crate) fn model<M, R>(value: Value) -> Result<R, MiosaError>
where
    M: DeserializeOwned,
    R: From<M>,
{
    serde_json::from_value::<M>(value)
        .map(R::from)
        .map_err(|e| decode_error(&e))
}

/// Decodes a JSON array of models.
pub(crate) fn models<M, R>(value: Value) -> Result<Vec<R>, MiosaError>
where
    M: DeserializeOwned,
    R: From<M>,
{
    match value {
        Value::Array(items) => items.into_iter().map(model::<M, R>).collect(),
        Value::Null => Ok(Vec::new()),
        _ => Err(decode("unexpected response shape: expected a list")),
    }
}

fn decode_error(err: &serde_json::Error) -> MiosaError {
    decode(format!("unexpected response shape: {err}"))
}

/// `Value` fields of models (such as a process id that is a number on some
/// routes and a string on others) become text: strings as they are, anything else as JSON.
pub(crate) fn value_text(value: Value) -> String {
    match value {
        Value::String(s) => s,
        other => other.to_string(),
    }
}

/// Unknown fields of a model, as a JSON object text (`{}` when there are none).
pub(crate) fn extra_text(extra: Map<String, Value>) -> String {
    Value::Object(extra).to_string()
}

/// Integers the core keeps unsigned are exposed signed: Kotlin's unsigned types are awkward to use.
pub(crate) fn signed<T: TryInto<i64>>(n: T) -> i64 {
    n.try_into().unwrap_or(i64::MAX)
}

/// A JSON object field of a model, as JSON text.
pub(crate) fn object_text(map: Map<String, Value>) -> String {
    Value::Object(map).to_string()
}

/// A JSON array field of a model, as JSON text.
pub(crate) fn array_text(items: Vec<Value>) -> String {
    Value::Array(items).to_string()
}

/// Models nested in a model, as records.
pub(crate) fn records<M, R: From<M>>(models: Vec<M>) -> Vec<R> {
    models.into_iter().map(R::from).collect()
}

/// A JSON array of strings (such as a sandbox's tags).
pub(crate) fn strings(value: Value) -> Result<Vec<String>, MiosaError> {
    serde_json::from_value(value).map_err(|e| decode_error(&e))
}

/// The JSON of a non-stream output.
pub(crate) fn json(output: Output) -> Result<Value, MiosaError> {
    Ok(output.into_json()?)
}

/// Stands in for a credential in `Debug` output.
pub(crate) struct Redacted;

impl std::fmt::Debug for Redacted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Adds one parameter to a `Debug` output; a credential (by the core's rule on
/// its name) shows as `<redacted>`.
pub(crate) fn debug_param(
    s: &mut std::fmt::DebugStruct<'_, '_>,
    name: &str,
    label: &str,
    value: &dyn std::fmt::Debug,
) {
    if miosa::redact::is_secret_name(name) {
        s.field(label, &Redacted);
    } else {
        s.field(label, value);
    }
}

/// Shows only the keys of an `extra` JSON object: its values may be credentials.
pub(crate) struct ExtraKeys<'a>(pub(crate) &'a str);

impl std::fmt::Debug for ExtraKeys<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match serde_json::from_str::<Map<String, Value>>(self.0) {
            Ok(map) => f.debug_set().entries(map.keys()).finish(),
            Err(_) => f.write_str("<not a JSON object>"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn params_skip_absent_fields_and_parse_json_text() {
        let mut p = Params::new();
        p.put("name", Some("box"));
        p.put::<i64>("cpu_count", None);
        p.put_json("metadata", Some(r#"{"a": 1}"#.to_owned()))
            .expect("valid JSON");
        p.put_extra(Some(r#"{"name": "other", "beta": true}"#.to_owned()))
            .expect("an object");
        let map = p.into_map();
        assert_eq!(
            Value::Object(map),
            json!({"name": "box", "metadata": {"a": 1}, "beta": true}),
            "extra fields never override the table's own"
        );
    }

    #[test]
    fn malformed_json_text_is_an_invalid_argument() {
        let err = Params::new()
            .put_json("metadata", Some("{oops".to_owned()))
            .expect_err("refused");
        assert!(
            matches!(&err, MiosaError::InvalidArgument { message, status: None, .. } if message.contains("metadata"))
        );
        let err = Params::new()
            .put_extra(Some("[1]".to_owned()))
            .expect_err("not an object");
        assert!(matches!(err, MiosaError::InvalidArgument { .. }));
    }

    #[test]
    fn extra_keys_never_show_values() {
        let shown = format!("{:?}", ExtraKeys(r#"{"token": "tok_secret", "x": 1}"#));
        assert!(
            shown.contains("token") && !shown.contains("tok_secret"),
            "{shown}"
        );
    }

    #[test]
    fn models_decode_into_records_and_hide_secrets() {
        let record: crate::Webhook = model::<mcore::models::Webhook, crate::Webhook>(json!({
            "id": "wh_1", "url": "https://h.example/x", "secret": "whsec_value", "events": ["a"], "brand_new": {"k": "v"}
        }))
        .expect("decodes");
        assert_eq!(record.id, "wh_1");
        assert_eq!(record.events, Some(vec!["a".to_owned()]));
        assert_eq!(record.extra, r#"{"brand_new":{"k":"v"}}"#);
        let shown = format!("{record:?}");
        assert!(
            !shown.contains("whsec_value") && shown.contains("wh_1"),
            "{shown}"
        );
        let err =
            model::<mcore::models::Webhook, crate::Webhook>(json!([1])).expect_err("not an object");
        assert!(matches!(err, MiosaError::Decode { .. }));
    }
}
