//! Request body and query extractors with the API's validation errors.
//!
//! Bodies are read leniently where the SDKs differ (no body, `{}`, `null`)
//! and strictly where they must be (malformed JSON, wrong field types): both
//! give a 422 `VALIDATION_FAILED` in the nested shape.

use std::collections::HashMap;

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde_json::{Map, Value};

use crate::errors::{ApiError, ApiResult};

/// Largest JSON body accepted (bodies are already buffered by the pipeline).
const MAX_JSON: usize = 64 * 1024 * 1024;

/// A JSON object body; an absent, empty or `null` body reads as `{}`.
#[derive(Debug, Default, Clone)]
pub struct Body(pub Map<String, Value>);

impl<S: Send + Sync> FromRequest<S> for Body {
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, ApiError> {
        let bytes = axum::body::to_bytes(req.into_body(), MAX_JSON)
            .await
            .map_err(|e| ApiError::invalid_body(format!("could not read body: {e}")))?;
        Self::parse(&bytes)
    }
}

impl Body {
    pub fn parse(bytes: &[u8]) -> ApiResult<Self> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self::default());
        }
        match serde_json::from_slice::<Value>(bytes) {
            Ok(Value::Object(m)) => Ok(Self(m)),
            Ok(Value::Null) => Ok(Self::default()),
            Ok(_) => Err(ApiError::invalid_body("body must be a JSON object")),
            Err(e) => Err(ApiError::invalid_body(format!("malformed JSON body: {e}"))),
        }
    }

    /// The raw value of a field, treating null as absent.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key).filter(|v| !v.is_null())
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

    /// The first of several alias names that is present, as a string.
    pub fn str_any(&self, keys: &[&str]) -> ApiResult<Option<String>> {
        for k in keys {
            if let Some(v) = self.str_opt(k)? {
                return Ok(Some(v));
            }
        }
        Ok(None)
    }

    pub fn int_opt(&self, key: &str) -> ApiResult<Option<i64>> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => v
                .as_i64()
                .or_else(|| v.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64))
                .map(Some)
                .ok_or_else(|| ApiError::validation(key, "must be an integer")),
        }
    }

    pub fn int_req(&self, key: &str) -> ApiResult<i64> {
        self.int_opt(key)?
            .ok_or_else(|| ApiError::validation(key, "is required"))
    }

    /// The first of several alias names that is present, as an integer.
    pub fn int_any(&self, keys: &[&str]) -> ApiResult<Option<i64>> {
        for k in keys {
            if let Some(v) = self.int_opt(k)? {
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
                Value::Number(n) => Ok((k, n.to_string())),
                Value::Bool(b) => Ok((k, b.to_string())),
                _ => Err(ApiError::validation(key, "values must be strings")),
            })
            .collect::<ApiResult<Vec<_>>>()
            .map(Some)
    }
}

/// Query parameters; a malformed query gives 422.
#[derive(Debug, Default, Clone)]
pub struct Q(pub HashMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for Q {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
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
        Ok(Self(map))
    }
}

impl Q {
    pub fn str(&self, key: &str) -> Option<&str> {
        self.0
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
            Some("true" | "1") => Ok(Some(true)),
            Some("false" | "0") => Ok(Some(false)),
            Some(_) => Err(ApiError::validation(key, "must be true or false")),
        }
    }
}
