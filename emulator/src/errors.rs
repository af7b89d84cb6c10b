//! Error bodies exactly as the MIOSA API sends them (PROTOCOL §6).
//!
//! Most errors use the flat shape `{"error": msg, "code": CODE}`; validation
//! failures and a few conflicts use the nested shape
//! `{"error": {"code", "message", "details"?}}`. The request pipeline adds
//! `request_id` to every error body.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

/// An API error answer (boxed: it travels in every `Result`).
#[derive(Debug, Clone)]
pub struct ApiError(Box<Inner>);

#[derive(Debug, Clone)]
struct Inner {
    status: StatusCode,
    code: String,
    message: String,
    nested: bool,
    details: Option<Value>,
    extra: Map<String, Value>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    /// A flat error `{"error": message, "code": code}`.
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self(Box::new(Inner {
            status,
            code: code.to_owned(),
            message: message.into(),
            nested: false,
            details: None,
            extra: Map::new(),
        }))
    }

    pub fn status(&self) -> StatusCode {
        self.0.status
    }

    pub fn code(&self) -> &str {
        &self.0.code
    }

    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// Switches to the nested shape `{"error": {"code", "message"}}`.
    pub fn nested(mut self) -> Self {
        self.0.nested = true;
        self
    }

    /// Adds a member next to the error (nested: inside it), e.g. `retryable`.
    pub fn with(mut self, key: &str, value: Value) -> Self {
        self.0.extra.insert(key.to_owned(), value);
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
        let mut e = Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "VALIDATION_FAILED",
            format!("{field} {problem}"),
        )
        .nested();
        e.0.details = Some(Value::Object(details));
        e
    }

    /// 422 `VALIDATION_FAILED` about the body as a whole.
    pub fn invalid_body(problem: impl Into<String>) -> Self {
        let problem = problem.into();
        let mut e = Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "VALIDATION_FAILED",
            problem.clone(),
        )
        .nested();
        e.0.details = Some(json!({"body": [problem]}));
        e
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL", message)
    }

    /// The JSON body of this error.
    pub fn body(&self) -> Value {
        let e = &self.0;
        let mut out = Map::new();
        if e.nested {
            let mut inner = Map::new();
            inner.insert("code".into(), json!(e.code));
            inner.insert("message".into(), json!(e.message));
            if let Some(d) = &e.details {
                inner.insert("details".into(), d.clone());
            }
            inner.extend(e.extra.clone());
            out.insert("error".into(), Value::Object(inner));
        } else {
            out.insert("error".into(), json!(e.message));
            out.insert("code".into(), json!(e.code));
            out.extend(e.extra.clone());
        }
        Value::Object(out)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0.status, axum::Json(self.body())).into_response()
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
