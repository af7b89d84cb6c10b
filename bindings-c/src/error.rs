//! Status codes and the `miosa_error` struct: the one place where core errors
//! become C values.
//!
//! `miosa_status` is returned by value only. Functions that take a status
//! from C (`miosa_status_name`) take a plain `int`, because an out-of-range
//! value in a Rust enum would be undefined behaviour.

use std::ffi::{c_char, c_int};
use std::ptr;

use miosa_core::Error;

use crate::ffi;

pub use crate::status::miosa_status;

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
            kind: status.kind_name().to_string_lossy().into_owned(),
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
            status: miosa_status::of(e.kind()),
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
            .map_or(c"unknown", |s| s.kind_name())
            .as_ptr()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_has_a_distinct_name_and_value() {
        let mut names: Vec<_> = miosa_status::ALL.iter().map(|s| s.kind_name()).collect();
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
        assert_eq!(f.status, miosa_status::MIOSA_ERR_NOT_FOUND);
        assert_eq!(f.http_status, 404);
        assert_eq!(f.kind, "not_found");
        assert_eq!(f.request_id.as_deref(), Some("req_1"));
        assert_eq!(f.retry_after_ms, -1);
    }
}
