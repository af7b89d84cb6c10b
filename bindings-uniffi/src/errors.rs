//! The one error type of the binding and the one function that maps the
//! core's errors onto it; its variants come from the core's list of kinds.
//! Kotlin sees a sealed `MiosaException` with one subclass per variant, Swift
//! an `enum MiosaError: Error`.

use mcore::ErrorKind;

/// Declares the error enum with the same fields on every variant, and the
/// mapping from the core's error kind of the same name.
macro_rules! miosa_error {
    ($($(#[doc = $doc:literal])* $variant:ident,)*) => {
        /// Every failure of a MIOSA call. HTTP variants carry the status; transport,
        /// timeout and local failures have none. `body` is the decoded error body as
        /// JSON text, `request_id` the server's `X-Request-ID` when it sent one, and
        /// `retry_after_ms` how long the server asked to wait (429, 503, some 409s), and
        /// `attempts` how many attempts the call made before it gave up.
        #[derive(Debug, Clone, PartialEq, thiserror::Error, uniffi::Error)]
        pub enum MiosaError {
            $(
                $(#[doc = $doc])*
                #[error("{message}")]
                $variant {
                    /// Human-readable message, from the server's body when there is one.
                    message: String,
                    /// HTTP status; none for failures that never got an HTTP answer.
                    status: Option<i32>,
                    /// Machine-readable code such as `NOT_FOUND`.
                    code: Option<String>,
                    /// The error body as JSON text.
                    body: Option<String>,
                    /// The server's request id.
                    request_id: Option<String>,
                    /// How long the server asked to wait before retrying, in milliseconds.
                    retry_after_ms: Option<i64>,
                    /// How many attempts were made before giving up (1 when not retried).
                    attempts: i32,
                },
            )*
        }

        impl From<mcore::Error> for MiosaError {
            fn from(err: mcore::Error) -> Self {
                let message = err.message().to_owned();
                let status = err.status().map(i32::from);
                let code = err.code().map(str::to_owned);
                let body = err.body().map(ToString::to_string);
                let request_id = err.request_id().map(str::to_owned);
                let retry_after_ms = err
                    .retry_after()
                    .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
                let attempts = i32::try_from(err.attempts()).unwrap_or(i32::MAX);
                match err.kind() {
                    $(ErrorKind::$variant => Self::$variant { message, status, code, body, request_id, retry_after_ms, attempts },)*
                }
            }
        }
    };
}

// One variant per kind of the core's list (`core/errors.toml`).
include!("error_kinds.rs");

/// A caller-side mistake found by the binding itself (e.g. malformed JSON text).
pub(crate) fn invalid(message: impl Into<String>) -> MiosaError {
    MiosaError::InvalidArgument {
        message: message.into(),
        status: None,
        code: None,
        body: None,
        request_id: None,
        retry_after_ms: None,
        attempts: 1,
    }
}

/// A failure of the binding's own plumbing (an operation the core does not know).
pub(crate) fn usage(message: impl Into<String>) -> MiosaError {
    MiosaError::Usage {
        message: message.into(),
        status: None,
        code: None,
        body: None,
        request_id: None,
        retry_after_ms: None,
        attempts: 1,
    }
}

/// A success response the binding could not turn into its record.
pub(crate) fn decode(message: impl Into<String>) -> MiosaError {
    MiosaError::Decode {
        message: message.into(),
        status: None,
        code: None,
        body: None,
        request_id: None,
        retry_after_ms: None,
        attempts: 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_errors_keep_the_whole_contract() {
        let body =
            br#"{"error": {"code": "NOT_READY", "message": "not ready", "retry_after_ms": 500}}"#;
        let core = mcore::Error::from_response(409, Some("req_1"), None, body);
        let MiosaError::Conflict {
            message,
            status,
            code,
            body,
            request_id,
            retry_after_ms,
            attempts,
        } = MiosaError::from(core)
        else {
            panic!("a 409 is a Conflict");
        };
        assert_eq!(message, "not ready");
        assert_eq!(status, Some(409));
        assert_eq!(code.as_deref(), Some("NOT_READY"));
        assert!(body.is_some_and(|b| b.contains("NOT_READY")));
        assert_eq!(request_id.as_deref(), Some("req_1"));
        assert_eq!(retry_after_ms, Some(500));
        assert_eq!(attempts, 1);
    }

    #[test]
    fn every_status_class_has_its_variant() {
        let kind = |status| {
            let err = MiosaError::from(mcore::Error::from_response(status, None, None, b"{}"));
            match err {
                MiosaError::Authentication { .. } => "authentication",
                MiosaError::InsufficientCredits { .. } => "insufficient_credits",
                MiosaError::PermissionDenied { .. } => "permission_denied",
                MiosaError::NotFound { .. } => "not_found",
                MiosaError::Conflict { .. } => "conflict",
                MiosaError::Validation { .. } => "validation",
                MiosaError::RateLimited { .. } => "rate_limited",
                MiosaError::Server { .. } => "server",
                MiosaError::Api { .. } => "api",
                _ => "other",
            }
        };
        let seen: Vec<_> = [401, 402, 403, 404, 409, 400, 422, 429, 500, 503, 418]
            .into_iter()
            .map(kind)
            .collect();
        assert_eq!(
            seen,
            [
                "authentication",
                "insufficient_credits",
                "permission_denied",
                "not_found",
                "conflict",
                "validation",
                "validation",
                "rate_limited",
                "server",
                "server",
                "api"
            ]
        );
    }
}
