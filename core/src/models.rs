//! Typed models of the API, generated from `core/models.toml`: required fields are
//! plain values, the others `Option`s, and every model keeps the fields it does not
//! know in `extra`, so a newer server never breaks an older client; states and
//! statuses are open strings for the same reason. `Debug` hides the fields the
//! table marks secret and the query of token-carrying URLs.

use std::borrow::Cow;
use std::fmt;

use serde::de::{DeserializeOwned, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

use crate::error::{Error, Result};
/// A URL without its query and user:password: how `Debug` shows the
/// token-carrying URLs of the models, in every binding (the core's one rule).
pub use crate::redact::url as without_query;
use crate::redact::{is_secret_name as is_sensitive, is_url_name as is_url};

pub use crate::generated::models::*;

/// A JSON object key, borrowed from the body when it has no escapes: what the
/// generated model visitors match on, so a known field costs no allocation.
pub(crate) struct FieldName<'de>(Cow<'de, str>);

impl FieldName<'_> {
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }

    pub(crate) fn into_string(self) -> String {
        self.0.into_owned()
    }
}

impl<'de> Deserialize<'de> for FieldName<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        struct Key;
        impl<'de> Visitor<'de> for Key {
            type Value = FieldName<'de>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a field name")
            }

            fn visit_borrowed_str<E>(self, v: &'de str) -> std::result::Result<Self::Value, E> {
                Ok(FieldName(Cow::Borrowed(v)))
            }

            fn visit_str<E>(self, v: &str) -> std::result::Result<Self::Value, E> {
                Ok(FieldName(Cow::Owned(v.to_owned())))
            }

            fn visit_string<E>(self, v: String) -> std::result::Result<Self::Value, E> {
                Ok(FieldName(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(Key)
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

/// `body` decoded as the model `T` straight from its bytes, when that is the
/// whole answer: `None` when it does not decode, or when its unknown fields hold a
/// `data` key (then it may be an envelope), so that the caller takes the
/// general path, which unwraps, fills and reports exactly as for any answer.
pub(crate) fn decode_exact<T>(
    body: &[u8],
    extra: impl Fn(&T) -> &Map<String, Value>,
) -> Option<Box<dyn std::any::Any + Send>>
where
    T: DeserializeOwned + Send + 'static,
{
    let model: T = serde_json::from_slice(body).ok()?;
    if extra(&model).contains_key("data") {
        return None;
    }
    Some(Box::new(model))
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
        let err =
            conform("Sandbox", &mut json!({"id": null, "state": "running"})).expect_err("null id");
        assert!(err.to_string().contains("Sandbox"), "{err}");
    }

    #[test]
    fn a_body_that_is_exactly_its_model_decodes_once_from_its_bytes() {
        let body = br#"{"id": "sbx_1", "state": "running", "cpu_count": 2, "new": {"x": [1]}}"#;
        let decoded = decode_body("Sandbox", body).expect("decodes straight from the bytes");
        let output = crate::Output::Model(crate::ModelBody::new(
            bytes::Bytes::from_static(body),
            decoded,
        ));
        let sandbox: Sandbox = output.into_typed().expect("typed");
        assert_eq!((sandbox.id.as_str(), sandbox.cpu_count), ("sbx_1", Some(2)));
        assert_eq!(sandbox.extra["new"], json!({"x": [1]}));
        // Its JSON is the body's, for the bindings.
        let again = crate::Output::Model(crate::ModelBody::new(
            bytes::Bytes::from_static(body),
            decode_body("Sandbox", body).expect("decodes"),
        ));
        let text = again.into_json_text().expect("text");
        assert_eq!(text.as_bytes(), body);
        let tree = crate::Output::Model(crate::ModelBody::new(
            bytes::Bytes::from_static(body),
            decode_body("Sandbox", body).expect("decodes"),
        ))
        .into_json()
        .expect("json");
        assert_eq!(tree, serde_json::from_slice::<Value>(body).expect("json"));
    }

    #[test]
    fn answers_needing_a_table_rule_take_the_general_path() {
        // An envelope, or a resource with its own `data` field: decided by the envelope rule.
        assert!(decode_body("Sandbox", br#"{"data": {"id": "a", "state": "x"}}"#).is_none());
        assert!(decode_body("Sandbox", br#"{"id": "a", "state": "x", "data": 1}"#).is_none());
        // Aliases to fill.
        assert!(
            decode_body(
                "ExecResult",
                br#"{"stdout": "", "output": "", "exit_code": 0}"#
            )
            .is_none()
        );
        // Anything that does not decode is reported by the general path.
        for bad in [
            &br#"{"state": "x"}"#[..],
            b"",
            b"  ",
            b"[1]",
            b"{\"id\": \"a\", \"state\": \"x\"} x",
        ] {
            assert!(decode_body("Sandbox", bad).is_none(), "{bad:?}");
        }
        assert!(decode_body("NotAModel", b"{}").is_none());
    }

    /// A value of `ty` for a required field; secrets and token URLs carry canaries.
    fn sample(model: &str, field: &str, ty: &str, secret: bool, token_url: bool) -> Value {
        if secret {
            return json!(format!("canary-{model}-{field}"));
        }
        if token_url {
            return json!(format!(
                "https://p.example.test/{field}?token=canary-{model}-{field}"
            ));
        }
        match ty {
            "int" => json!(1),
            "float" => json!(1.5),
            "bool" => json!(true),
            "map" => json!({}),
            t if t.starts_with('[') => json!([]),
            "str" | "timestamp" | "enum" | "json" => json!("x"),
            nested => filled(nested, false),
        }
    }

    /// An instance of `model` with its required fields set, and, when `canaries`,
    /// every secret and token URL set to a canary value, plus an unknown credential.
    fn filled(model: &str, canaries: bool) -> Value {
        let (_, fields) = TABLE
            .iter()
            .find(|(name, _)| *name == model)
            .expect("in the table");
        let mut map = Map::new();
        for (field, ty, required, secret, token_url) in fields.iter().copied() {
            if required || (canaries && (secret || token_url)) {
                map.insert(
                    field.to_owned(),
                    sample(model, field, ty, secret, token_url),
                );
            }
        }
        if canaries {
            map.insert("api_key".into(), json!(format!("canary-{model}-extra")));
        }
        Value::Object(map)
    }

    #[test]
    fn debug_hides_every_secret_and_url_token_of_the_table() {
        let mut checked = 0;
        for (model, fields) in TABLE {
            let shown = debug_of(model, filled(model, true)).expect("decodes");
            assert!(!shown.contains("canary-"), "{model}: {shown}");
            for (field, ..) in fields.iter().filter(|f| f.4) {
                assert!(
                    shown.contains(&format!("https://p.example.test/{field}?<redacted>")),
                    "{shown}"
                );
            }
            checked += usize::from(fields.iter().any(|f| f.3 || f.4));
        }
        assert!(
            checked >= 10,
            "models with secrets or token URLs: {checked}"
        );
    }

    #[test]
    fn every_model_decodes_with_only_its_required_fields() {
        for (model, _) in TABLE {
            let mut value = filled(model, false);
            conform(model, &mut value).unwrap_or_else(|e| panic!("{model}: {e}"));
        }
    }

    #[test]
    fn few_operations_answer_untyped_json() {
        let untyped: Vec<_> = crate::generated::table::OPERATIONS
            .iter()
            .filter(|op| op.returns == crate::ops::Returns::Json)
            .map(|op| op.name)
            .collect();
        println!(
            "rust: {} operation(s) answer untyped JSON: {untyped:?}",
            untyped.len()
        );
        assert!(untyped.len() <= 10, "{untyped:?}");
    }
}
