//! Typed models of the API, generated from `core/models.toml`: required fields are
//! plain values, the others `Option`s, and every model keeps the fields it does not
//! know in `extra`, so a newer server never breaks an older client; states and
//! statuses are open strings for the same reason. `Debug` hides the fields the
//! table marks secret and the query of token-carrying URLs.

use std::fmt;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::error::{Error, Result};

pub use crate::generated::models::*;

/// Names of unknown (`extra`) fields whose values are credentials and never printed.
const SENSITIVE: &[&str] = &[
    "token",
    "secret",
    "key",
    "api_key",
    "password",
    "plaintext",
    "credentials",
    "connection_string",
    "url_with_token",
];

fn is_sensitive(name: &str) -> bool {
    SENSITIVE.contains(&name)
        || name.ends_with("_token")
        || name.ends_with("_secret")
        || name.ends_with("password")
}

/// Unknown fields named like URLs may carry a token in their query, as share links do.
fn is_url(name: &str) -> bool {
    name == "url" || name.ends_with("_url")
}

/// A URL with its query (where tokens travel) replaced by `<redacted>`: how `Debug`
/// shows the token-carrying URLs of the models, in every binding.
pub fn without_query(url: &str) -> String {
    match url.split_once('?') {
        Some((base, _)) => format!("{base}?<redacted>"),
        None => url.to_owned(),
    }
}

pub(crate) struct Redacted;
impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

pub(crate) struct RedactedMap<'a>(pub(crate) &'a Map<String, Value>);
impl fmt::Debug for RedactedMap<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_map();
        for (k, v) in self.0 {
            if is_sensitive(k) {
                map.entry(k, &Redacted);
            } else if let (true, Value::String(url)) = (is_url(k), v) {
                map.entry(k, &without_query(url));
            } else {
                map.entry(k, v);
            }
        }
        map.finish()
    }
}

/// Fails with a decode error naming the model when `value` does not decode as `T`.
pub(crate) fn check<T: DeserializeOwned>(value: &Value, model: &str) -> Result<()> {
    T::deserialize(value)
        .map(drop)
        .map_err(|e| Error::decode(format!("unexpected {model} in the response: {e}")))
}

/// Copies `from` into `field` when the server sent only `from` (routes disagree on names).
pub(crate) fn fill_alias(value: &mut Value, field: &str, from: &str) {
    let Value::Object(map) = value else {
        return;
    };
    if map.get(field).is_none_or(Value::is_null)
        && let Some(v) = map.get(from).filter(|v| !v.is_null()).cloned()
    {
        map.insert(field.to_owned(), v);
    }
}

impl ExecResult {
    /// Standard output (`stdout` and `output` always agree).
    pub fn text(&self) -> &str {
        &self.stdout
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unknown_fields_and_states_survive() {
        let sandbox: Sandbox = serde_json::from_value(json!({
            "id": "sbx_1", "state": "hibernating", "brand_new_field": {"x": 1}
        }))
        .expect("decodes");
        assert_eq!(sandbox.state, "hibernating");
        assert_eq!(sandbox.extra["brand_new_field"], json!({"x": 1}));
        let back = serde_json::to_value(&sandbox).expect("encodes");
        assert_eq!(back["brand_new_field"], json!({"x": 1}));
    }

    #[test]
    fn debug_hides_tokens() {
        let token: PreviewToken = serde_json::from_value(
            json!({"token": "mp_secret_value", "url": "https://p.miosa.app/?mt=mp_secret_value", "scope": "read", "api_key": "msk_zzz"}),
        )
        .expect("decodes");
        let shown = format!("{token:?}");
        assert!(
            !shown.contains("mp_secret_value") && !shown.contains("msk_zzz"),
            "{shown}"
        );
        assert!(shown.contains("read"));
        let share: Share = serde_json::from_value(
            json!({"share_id": "sh_1", "share_url": "https://x.miosa.app/?ms=tok_secret"}),
        )
        .expect("decodes");
        let shown = format!("{share:?}");
        assert!(
            !shown.contains("tok_secret") && shown.contains("https://x.miosa.app/"),
            "{shown}"
        );
    }

    #[test]
    fn conform_fills_aliases_and_rejects_missing_required_fields() {
        let mut computer_exec = json!({"output": "hi\n", "exit_code": 0});
        conform("ExecResult", &mut computer_exec).expect("conforms");
        assert_eq!(computer_exec["stdout"], "hi\n");
        let mut sandbox_exec = json!({"stdout": "2\n", "stderr": "", "exit_code": 0});
        conform("ExecResult", &mut sandbox_exec).expect("conforms");
        assert_eq!(sandbox_exec["output"], "2\n");
        let err = conform("Sandbox", &mut json!({"state": "running"})).expect_err("no id");
        assert!(err.to_string().contains("missing field `id`"), "{err}");
        let err = conform("Sandbox", &mut json!({"id": null, "state": "running"})).expect_err("null id");
        assert!(err.to_string().contains("Sandbox"), "{err}");
    }
}
