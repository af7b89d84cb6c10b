//! Status codes and the `miosa_error` struct: the one place where core errors
//! become C values.
//!
//! `miosa_status` is returned by value only. Functions that take a status
//! from C (`miosa_status_name`) take a plain `int`, because an out-of-range
//! value in a Rust enum would be undefined behaviour.

use std::ffi::{CStr, c_char, c_int};
use std::ptr;

use miosa_core::{Error, ErrorKind};

use crate::ffi;

/// The outcome of every fallible call. `MIOSA_OK` is 0; every other value is
/// a failure class, and the call's `miosa_error` (when requested) says more.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum miosa_status {
    /// Success.
    MIOSA_OK = 0,
    /// An argument was refused before any network use: NULL where a value is
    /// required, invalid UTF-8, malformed JSON, an unknown operation, a wrong
    /// argument count, an API key that does not start with `msk_`.
    MIOSA_ERR_INVALID_ARGUMENT = 1,
    /// The call does not fit the operation, e.g. `miosa_call` on an operation
    /// that streams events (use `miosa_stream`) or returns bytes (use `miosa_call_bytes`).
    MIOSA_ERR_USAGE = 2,
    /// HTTP 401: the API key was refused.
    MIOSA_ERR_AUTHENTICATION = 3,
    /// HTTP 402: the account has no credits left.
    MIOSA_ERR_INSUFFICIENT_CREDITS = 4,
    /// HTTP 403: the key may not do this.
    MIOSA_ERR_PERMISSION_DENIED = 5,
    /// HTTP 404: no such resource.
    MIOSA_ERR_NOT_FOUND = 6,
    /// HTTP 409: the resource is in the wrong state.
    MIOSA_ERR_CONFLICT = 7,
    /// HTTP 400 or 422: the server rejected the request's content.
    MIOSA_ERR_VALIDATION = 8,
    /// HTTP 429: slow down; `miosa_error.retry_after_ms` says for how long when known.
    MIOSA_ERR_RATE_LIMITED = 9,
    /// HTTP 5xx.
    MIOSA_ERR_SERVER = 10,
    /// Any other non-success HTTP status, or a failure class newer than this
    /// header (its `miosa_error.kind` names it).
    MIOSA_ERR_API = 11,
    /// A connect, response or stream-idle timeout expired (no HTTP status).
    MIOSA_ERR_TIMEOUT = 12,
    /// The connection could not be made or broke (no HTTP status).
    MIOSA_ERR_CONNECTION = 13,
    /// A success response could not be decoded.
    MIOSA_ERR_DECODE = 14,
    /// The call was cancelled.
    MIOSA_ERR_CANCELLED = 15,
    /// A webhook signature was refused (`miosa_error.code` says why).
    MIOSA_ERR_SIGNATURE = 16,
    /// A bug in this library was caught at the boundary (a Rust panic); the
    /// process is intact and the call had no effect beyond what it had sent.
    MIOSA_ERR_INTERNAL = 17,
    /// A response body, download or SSE line/event went over its limit; the
    /// message names the setting (`max_response_bytes`, `max_download_bytes`,
    /// `max_event_bytes`).
    MIOSA_ERR_LIMIT_EXCEEDED = 18,
}

use miosa_status::*;

impl miosa_status {
    /// The stable snake_case name, as `miosa_error.kind` spells it.
    pub(crate) fn name(self) -> &'static CStr {
        match self {
            MIOSA_OK => c"ok",
            MIOSA_ERR_INVALID_ARGUMENT => c"invalid_argument",
            MIOSA_ERR_USAGE => c"usage",
            MIOSA_ERR_AUTHENTICATION => c"authentication",
            MIOSA_ERR_INSUFFICIENT_CREDITS => c"insufficient_credits",
            MIOSA_ERR_PERMISSION_DENIED => c"permission_denied",
            MIOSA_ERR_NOT_FOUND => c"not_found",
            MIOSA_ERR_CONFLICT => c"conflict",
            MIOSA_ERR_VALIDATION => c"validation",
            MIOSA_ERR_RATE_LIMITED => c"rate_limited",
            MIOSA_ERR_SERVER => c"server",
            MIOSA_ERR_API => c"api",
            MIOSA_ERR_TIMEOUT => c"timeout",
            MIOSA_ERR_CONNECTION => c"connection",
            MIOSA_ERR_DECODE => c"decode",
            MIOSA_ERR_CANCELLED => c"cancelled",
            MIOSA_ERR_SIGNATURE => c"signature",
            MIOSA_ERR_INTERNAL => c"internal",
            MIOSA_ERR_LIMIT_EXCEEDED => c"limit_exceeded",
        }
    }

    const ALL: [miosa_status; 19] = [
        MIOSA_OK,
        MIOSA_ERR_INVALID_ARGUMENT,
        MIOSA_ERR_USAGE,
        MIOSA_ERR_AUTHENTICATION,
        MIOSA_ERR_INSUFFICIENT_CREDITS,
        MIOSA_ERR_PERMISSION_DENIED,
        MIOSA_ERR_NOT_FOUND,
        MIOSA_ERR_CONFLICT,
        MIOSA_ERR_VALIDATION,
        MIOSA_ERR_RATE_LIMITED,
        MIOSA_ERR_SERVER,
        MIOSA_ERR_API,
        MIOSA_ERR_TIMEOUT,
        MIOSA_ERR_CONNECTION,
        MIOSA_ERR_DECODE,
        MIOSA_ERR_CANCELLED,
        MIOSA_ERR_SIGNATURE,
        MIOSA_ERR_INTERNAL,
        MIOSA_ERR_LIMIT_EXCEEDED,
    ];
}

/// The status for a core error kind. `ErrorKind` is non-exhaustive: a kind
/// added to the core later maps to `MIOSA_ERR_API`, and `kind` still names it.
pub(crate) fn status_of(kind: ErrorKind) -> miosa_status {
    match kind {
        ErrorKind::InvalidArgument => MIOSA_ERR_INVALID_ARGUMENT,
        ErrorKind::Usage => MIOSA_ERR_USAGE,
        ErrorKind::Authentication => MIOSA_ERR_AUTHENTICATION,
        ErrorKind::InsufficientCredits => MIOSA_ERR_INSUFFICIENT_CREDITS,
        ErrorKind::PermissionDenied => MIOSA_ERR_PERMISSION_DENIED,
        ErrorKind::NotFound => MIOSA_ERR_NOT_FOUND,
        ErrorKind::Conflict => MIOSA_ERR_CONFLICT,
        ErrorKind::Validation => MIOSA_ERR_VALIDATION,
        ErrorKind::RateLimited => MIOSA_ERR_RATE_LIMITED,
        ErrorKind::Server => MIOSA_ERR_SERVER,
        ErrorKind::Api => MIOSA_ERR_API,
        ErrorKind::Timeout => MIOSA_ERR_TIMEOUT,
        ErrorKind::Connection => MIOSA_ERR_CONNECTION,
        ErrorKind::Decode => MIOSA_ERR_DECODE,
        ErrorKind::Cancelled => MIOSA_ERR_CANCELLED,
        ErrorKind::LimitExceeded => MIOSA_ERR_LIMIT_EXCEEDED,
        _ => MIOSA_ERR_API,
    }
}

/// A failed call, as the seed's error contract describes it. Read the fields;
/// never modify them. Every pointer field is owned by the struct and released
/// by `miosa_error_free`, which is the only way to free it.
#[repr(C)]
#[derive(Debug)]
pub struct miosa_error {
    /// The same status the call returned.
    pub status: miosa_status,
    /// Stable snake_case class name (`not_found`, `rate_limited`, ...). Never NULL.
    pub kind: *const c_char,
    /// Human-readable message, from the server's body when there is one. Never NULL.
    /// It never contains the API key.
    pub message: *const c_char,
    /// HTTP status, 0 when the failure never got an HTTP answer.
    pub http_status: u16,
    /// Machine-readable code such as `NOT_FOUND`, or NULL.
    pub code: *const c_char,
    /// The error response body as JSON text (a JSON string when the body was not JSON), or NULL.
    pub body: *const c_char,
    /// The server's request id (`X-Request-ID` or the body), or NULL.
    pub request_id: *const c_char,
    /// How long the server asked to wait before retrying, in milliseconds; -1 when it did not say.
    pub retry_after_ms: i64,
    /// How many attempts were made (more than 1 only with retries enabled).
    pub attempts: u32,
}

/// A failed call, boxed so results stay small on the success path.
pub(crate) type Failure = Box<Detail>;

/// What a failed call carries before it is laid out for C.
#[derive(Debug)]
pub(crate) struct Detail {
    pub(crate) status: miosa_status,
    pub(crate) kind: String,
    pub(crate) message: String,
    pub(crate) http_status: u16,
    pub(crate) code: Option<String>,
    pub(crate) body: Option<String>,
    pub(crate) request_id: Option<String>,
    pub(crate) retry_after_ms: i64,
    pub(crate) attempts: u32,
}

impl Detail {
    /// A failure the core did not produce (a refused signature, a caught panic).
    pub(crate) fn failure(status: miosa_status, message: impl Into<String>) -> Failure {
        Box::new(Self {
            status,
            kind: status.name().to_string_lossy().into_owned(),
            message: message.into(),
            http_status: 0,
            code: None,
            body: None,
            request_id: None,
            retry_after_ms: -1,
            attempts: 1,
        })
    }

    pub(crate) fn with_code(mut self: Box<Self>, code: &str) -> Failure {
        self.code = Some(code.to_owned());
        self
    }

    fn into_raw(self) -> *mut miosa_error {
        let opt = |s: Option<String>| s.map_or(ptr::null(), |s| ffi::c_string(s).cast_const());
        Box::into_raw(Box::new(miosa_error {
            status: self.status,
            kind: ffi::c_string(self.kind).cast_const(),
            message: ffi::c_string(self.message).cast_const(),
            http_status: self.http_status,
            code: opt(self.code),
            body: opt(self.body),
            request_id: opt(self.request_id),
            retry_after_ms: self.retry_after_ms,
            attempts: self.attempts,
        }))
    }

    /// Hands the failure to C through `err` (when the caller asked for it) and returns its status.
    ///
    /// # Safety
    /// `err` is NULL or valid for one write.
    pub(crate) unsafe fn report(self, err: *mut *mut miosa_error) -> miosa_status {
        let status = self.status;
        if !err.is_null() {
            // SAFETY: the caller guarantees `err` is writable when non-NULL.
            unsafe { *err = self.into_raw() };
        }
        status
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Box::new(Detail {
            status: status_of(e.kind()),
            kind: e.kind().as_str().to_owned(),
            message: e.message().to_owned(),
            http_status: e.status().unwrap_or(0),
            code: e.code().map(str::to_owned),
            body: e.body().map(ToString::to_string),
            request_id: e.request_id().map(str::to_owned),
            retry_after_ms: e
                .retry_after()
                .map_or(-1, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX)),
            attempts: e.attempts(),
        })
    }
}

/// Frees an error and every string it holds. NULL is ignored.
///
/// Ownership: takes back an error this library produced; do not use `error` afterwards.
///
/// # Safety
/// `error` is NULL or a pointer from this library that was not freed yet.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn miosa_error_free(error: *mut miosa_error) {
    ffi::guard_void(|| {
        if error.is_null() {
            return;
        }
        // SAFETY: the pointer came from `Detail::into_raw` and is freed once, by contract.
        let error = unsafe { Box::from_raw(error) };
        for field in [
            error.kind,
            error.message,
            error.code,
            error.body,
            error.request_id,
        ] {
            // SAFETY: every field is NULL or from `CString::into_raw`.
            unsafe { ffi::free_c_string(field.cast_mut()) };
        }
    });
}

/// The stable snake_case name of a status code (`"ok"`, `"not_found"`, ...;
/// `"unknown"` for a value that is not a `miosa_status`).
///
/// Ownership: the returned string is static; never free it.
#[unsafe(no_mangle)]
pub extern "C" fn miosa_status_name(status: c_int) -> *const c_char {
    ffi::guard_value(c"unknown".as_ptr(), || {
        miosa_status::ALL
            .iter()
            .find(|s| **s as c_int == status)
            .map_or(c"unknown", |s| s.name())
            .as_ptr()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_has_a_distinct_name_and_value() {
        let mut names: Vec<_> = miosa_status::ALL.iter().map(|s| s.name()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), miosa_status::ALL.len());
        for (i, s) in miosa_status::ALL.iter().enumerate() {
            assert_eq!(*s as usize, i, "statuses are numbered densely");
        }
    }

    #[test]
    fn http_kinds_map_to_their_status() {
        let e = Error::from_response(
            404,
            Some("req_1"),
            None,
            br#"{"error":"NOT_FOUND","detail":"gone"}"#,
        );
        let f = Failure::from(e);
        assert_eq!(f.status, MIOSA_ERR_NOT_FOUND);
        assert_eq!(f.http_status, 404);
        assert_eq!(f.kind, "not_found");
        assert_eq!(f.request_id.as_deref(), Some("req_1"));
        assert_eq!(f.retry_after_ms, -1);
    }
}
