//! Request body and query extractors with the API's validation errors.
//!
//! Bodies are read leniently where the SDKs differ (no body, `{}`, `null`)
//! and strictly where they must be (malformed JSON, wrong field types): both
//! give a 422 `VALIDATION_FAILED` in the nested shape. Every key a route
//! reads is noted on the request's [`Tracker`], so strict mode can refuse
//! the keys no route reads; in strict mode the readers also refuse loose
//! types (`5.0` for an integer, a number in a string map, `1` for `true`)
//! and the non-canonical name of a field that has several spellings.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde_json::{Map, Value};

use crate::errors::{ApiError, ApiResult};
use crate::strict::Tracker;

/// Largest JSON body accepted (bodies are already buffered by the pipeline).
const MAX_JSON: usize = 128 * 1024 * 1024;

/// A JSON object body; an absent, empty or `null` body reads as `{}`.
#[derive(Debug, Default, Clone)]
pub struct Body {
    map: Map<String, Value>,
    strict: bool,
    /// Where top-level reads are noted (absent for nested objects).
    tracker: Option<Arc<Tracker>>,
}

impl<S: Send + Sync> FromRequest<S> for Body {
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, ApiError> {
        let tracker = req.extensions().get::<Arc<Tracker>>().cloned();
        let bytes = axum::body::to_bytes(req.into_body(), MAX_JSON)
            .await
            .map_err(|e| ApiError::invalid_body(format!("could not read body: {e}")))?;
        let map = Self::parse(&bytes)?;
        Ok(Self {
            map,
            strict: tracker.as_ref().is_some_and(|t| t.strict()),
            tracker,
        })
    }
}

impl Body {
    fn parse(bytes: &[u8]) -> ApiResult<Map<String, Value>> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Map::new());
        }
        match serde_json::from_slice::<Value>(bytes) {
            Ok(Value::Object(m)) => Ok(m),
            Ok(Value::Null) => Ok(Map::new()),
            Ok(_) => Err(ApiError::invalid_body("body must be a JSON object")),
            Err(e) => Err(ApiError::invalid_body(format!("malformed JSON body: {e}"))),
        }
    }

    /// A body of control data built by the emulator itself (never strict).
    pub fn from_map(map: Map<String, Value>) -> Self {
        Self {
            map,
            strict: false,
            tracker: None,
        }
    }

    /// A nested object of this body, read with the same strictness.
    pub fn child(&self, map: Map<String, Value>) -> Self {
        Self {
            map,
            strict: self.strict,
            tracker: None,
        }
    }

    /// Whether the request runs in strict mode.
    pub fn strict(&self) -> bool {
        self.strict
    }

    /// Every field, all counted as read (routes that store the body whole).
    pub fn all(&self) -> Map<String, Value> {
        if let Some(t) = &self.tracker {
            for k in self.map.keys() {
                t.read_body(k);
            }
        }
        self.map.clone()
    }

    /// Whether the client sent this field at all (null included).
    pub fn has(&self, key: &str) -> bool {
        self.map.contains_key(key)
    }

    /// The raw value of a field, treating null as absent.
    pub fn get(&self, key: &str) -> Option<&Value> {
        if let Some(t) = &self.tracker {
            t.read_body(key);
        }
        self.map.get(key).filter(|v| !v.is_null())
    }

    pub fn str_req(&self, key: &str) -> ApiResult<String> {
        let s = self
            .str_opt(key)?
            .ok_or_else(|| ApiError::validation(key, "is required"))?;
        if s.is_empty() {
            return Err(ApiError::validation(key, "can't be blank"));
        }
        Ok(s)
    }

    pub fn str_opt(&self, key: &str) -> ApiResult<Option<String>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(ApiError::validation(key, "must be a string")),
        }
    }

    /// The first of several spellings of one field that is present, as a
    /// string; `keys[0]` is the canonical one, the only one strict mode takes.
    pub fn str_any(&self, keys: &[&str]) -> ApiResult<Option<String>> {
        for (i, k) in keys.iter().enumerate() {
            if let Some(v) = self.str_opt(k)? {
                self.canonical(keys, i)?;
                return Ok(Some(v));
            }
        }
        Ok(None)
    }

    /// Refuses, in strict mode, a spelling other than the canonical `keys[0]`.
    fn canonical(&self, keys: &[&str], found: usize) -> ApiResult<()> {
        if self.strict && found > 0 {
            return Err(non_canonical(keys[found], keys[0]));
        }
        Ok(())
    }

    pub fn int_opt(&self, key: &str) -> ApiResult<Option<i64>> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => v
                .as_i64()
                .or_else(|| {
                    v.as_f64()
                        .filter(|f| !self.strict && f.fract() == 0.0)
                        .map(|f| f as i64)
                })
                .map(Some)
                .ok_or_else(|| ApiError::validation(key, "must be an integer")),
        }
    }

    pub fn int_req(&self, key: &str) -> ApiResult<i64> {
        self.int_opt(key)?
            .ok_or_else(|| ApiError::validation(key, "is required"))
    }

    /// Like [`Body::str_any`], as an integer.
    pub fn int_any(&self, keys: &[&str]) -> ApiResult<Option<i64>> {
        for (i, k) in keys.iter().enumerate() {
            if let Some(v) = self.int_opt(k)? {
                self.canonical(keys, i)?;
                return Ok(Some(v));
            }
        }
        Ok(None)
    }

    pub fn num_opt(&self, key: &str) -> ApiResult<Option<f64>> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => v
                .as_f64()
                .map(Some)
                .ok_or_else(|| ApiError::validation(key, "must be a number")),
        }
    }

    pub fn bool_opt(&self, key: &str) -> ApiResult<Option<bool>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(ApiError::validation(key, "must be a boolean")),
        }
    }

    pub fn obj_opt(&self, key: &str) -> ApiResult<Option<Map<String, Value>>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Object(m)) => Ok(Some(m.clone())),
            Some(_) => Err(ApiError::validation(key, "must be an object")),
        }
    }

    pub fn arr_opt(&self, key: &str) -> ApiResult<Option<Vec<Value>>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Array(a)) => Ok(Some(a.clone())),
            Some(_) => Err(ApiError::validation(key, "must be a list")),
        }
    }

    pub fn str_list_opt(&self, key: &str) -> ApiResult<Option<Vec<String>>> {
        let Some(items) = self.arr_opt(key)? else {
            return Ok(None);
        };
        items
            .into_iter()
            .map(|v| match v {
                Value::String(s) => Ok(s),
                _ => Err(ApiError::validation(key, "must be a list of strings")),
            })
            .collect::<ApiResult<Vec<_>>>()
            .map(Some)
    }

    /// A `{string: string}` map such as `env`.
    pub fn str_map_opt(&self, key: &str) -> ApiResult<Option<Vec<(String, String)>>> {
        let Some(m) = self.obj_opt(key)? else {
            return Ok(None);
        };
        m.into_iter()
            .map(|(k, v)| match v {
                Value::String(s) => Ok((k, s)),
                Value::Number(n) if !self.strict => Ok((k, n.to_string())),
                Value::Bool(b) if !self.strict => Ok((k, b.to_string())),
                _ => Err(ApiError::validation(key, "values must be strings")),
            })
            .collect::<ApiResult<Vec<_>>>()
            .map(Some)
    }
}

/// 422 for a field sent under a name other than its canonical one.
pub fn non_canonical(sent: &str, canonical: &str) -> ApiError {
    ApiError::validation(
        sent,
        &format!("is not the canonical spelling; send {canonical}"),
    )
}

/// Query parameters; a malformed query gives 422.
#[derive(Debug, Default, Clone)]
pub struct Q {
    map: HashMap<String, String>,
    strict: bool,
    tracker: Option<Arc<Tracker>>,
}

impl<S: Send + Sync> FromRequestParts<S> for Q {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let tracker = parts.extensions.get::<Arc<Tracker>>().cloned();
        let pairs = axum::extract::Query::<Vec<(String, String)>>::try_from_uri(&parts.uri)
            .map_err(|e| ApiError::invalid_body(format!("malformed query string: {e}")))?;
        // Repeated keys (`tags=a&tags=b`, `tags[]=a`) join into `a,b`.
        let mut map: HashMap<String, String> = HashMap::new();
        for (k, v) in pairs.0 {
            let k = k.strip_suffix("[]").map_or(k.clone(), str::to_owned);
            map.entry(k)
                .and_modify(|old| {
                    old.push(',');
                    old.push_str(&v);
                })
                .or_insert(v);
        }
        Ok(Self {
            map,
            strict: tracker.as_ref().is_some_and(|t| t.strict()),
            tracker,
        })
    }
}

impl Q {
    pub fn str(&self, key: &str) -> Option<&str> {
        if let Some(t) = &self.tracker {
            t.read_query(key);
        }
        self.map
            .get(key)
            .map(String::as_str)
            .filter(|s| !s.is_empty())
    }

    pub fn int(&self, key: &str) -> ApiResult<Option<i64>> {
        match self.str(key) {
            None => Ok(None),
            Some(s) => s
                .parse::<i64>()
                .map(Some)
                .map_err(|_| ApiError::validation(key, "must be an integer")),
        }
    }

    pub fn num(&self, key: &str) -> ApiResult<Option<f64>> {
        match self.str(key) {
            None => Ok(None),
            Some(s) => s
                .parse::<f64>()
                .map(Some)
                .map_err(|_| ApiError::validation(key, "must be a number")),
        }
    }

    pub fn bool(&self, key: &str) -> ApiResult<Option<bool>> {
        match self.str(key) {
            None => Ok(None),
            Some("true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
            Some("1") if !self.strict => Ok(Some(true)),
            Some("0") if !self.strict => Ok(Some(false)),
            Some(_) => Err(ApiError::validation(key, "must be true or false")),
        }
    }

    /// `wait` of a create: `true`/`false` or a number of seconds to hold the
    /// answer (MIOSA takes both; the official Python SDK sends seconds).
    pub fn wait_secs(&self, key: &str, when_true: f64) -> ApiResult<Option<f64>> {
        match self.str(key) {
            None | Some("false") => Ok(None),
            Some("true") => Ok(Some(when_true)),
            Some(s) => match s.parse::<f64>() {
                Ok(secs) if secs.is_finite() && secs >= 0.0 => Ok((secs > 0.0).then_some(secs)),
                _ => Err(ApiError::validation(
                    key,
                    "must be true, false or a number of seconds",
                )),
            },
        }
    }
}
