//! Error bodies exactly as the MIOSA API sends them (PROTOCOL §6).
//!
//! Most errors use the flat shape `{"error": msg, "code": CODE}`; validation
//! failures and a few conflicts use the nested shape
//! `{"error": {"code", "message", "details"?}}`. The request pipeline adds
//! `request_id` to every error body.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

/// An API error answer.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
    nested: bool,
    details: Option<Value>,
    extra: Map<String, Value>,
    retry_after: Option<String>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    /// A flat error `{"error": message, "code": code}`.
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.to_owned(),
            message: message.into(),
            nested: false,
            details: None,
            extra: Map::new(),
            retry_after: None,
        }
    }

    /// Switches to the nested shape `{"error": {"code", "message"}}`.
    pub fn nested(mut self) -> Self {
        self.nested = true;
        self
    }

    /// Adds a member next to the error (nested: inside it), e.g. `retryable`.
    pub fn with(mut self, key: &str, value: Value) -> Self {
        self.extra.insert(key.to_owned(), value);
        self
    }

    /// Sets the `Retry-After` header.
    pub fn retry_after(mut self, value: String) -> Self {
        self.retry_after = Some(value);
        self
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            format!("{what} not found"),
        )
    }

    pub fn unauthorized() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", "Unauthorized")
    }

    pub fn forbidden(code: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, code, message)
    }

    pub fn conflict(code: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }

    pub fn not_running(what: &str) -> Self {
        Self::conflict("NOT_RUNNING", format!("{what} is not running"))
    }

    pub fn insufficient_credits() -> Self {
        Self::new(
            StatusCode::PAYMENT_REQUIRED,
            "INSUFFICIENT_CREDITS",
            "Insufficient credits",
        )
    }

    /// 422 `VALIDATION_FAILED` naming one field.
    pub fn validation(field: &str, problem: &str) -> Self {
        let mut details = Map::new();
        details.insert(field.to_owned(), json!([problem]));
        Self {
            details: Some(Value::Object(details)),
            ..Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "VALIDATION_FAILED",
                format!("{field} {problem}"),
            )
            .nested()
        }
    }

    /// 422 `VALIDATION_FAILED` about the body as a whole.
    pub fn invalid_body(problem: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "VALIDATION_FAILED",
            problem,
        )
        .nested()
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL", message)
    }

    /// The JSON body of this error.
    pub fn body(&self) -> Value {
        let mut out = Map::new();
        if self.nested {
            let mut inner = Map::new();
            inner.insert("code".into(), json!(self.code));
            inner.insert("message".into(), json!(self.message));
            if let Some(d) = &self.details {
                inner.insert("details".into(), d.clone());
            }
            inner.extend(self.extra.clone());
            out.insert("error".into(), Value::Object(inner));
        } else {
            out.insert("error".into(), json!(self.message));
            out.insert("code".into(), json!(self.code));
            out.extend(self.extra.clone());
        }
        Value::Object(out)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut resp = (self.status, axum::Json(self.body())).into_response();
        if let Some(ra) = self.retry_after.and_then(|v| HeaderValue::from_str(&v).ok()) {
            resp.headers_mut().insert(header::RETRY_AFTER, ra);
        }
        resp
    }
}

impl From<std::io::Error> for ApiError {
    fn from(e: std::io::Error) -> Self {
        match e.kind() {
            std::io::ErrorKind::NotFound => Self::not_found("Path"),
            std::io::ErrorKind::AlreadyExists => {
                Self::conflict("ALREADY_EXISTS", format!("Path already exists: {e}"))
            }
            _ => Self::internal(format!("I/O error: {e}")),
        }
    }
}
