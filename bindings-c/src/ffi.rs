//! The boundary guard and the argument conversions every export uses.
//!
//! hyper's C API wraps each export in an `ffi_fn!` macro that runs the body
//! under `catch_unwind`. cbindgen cannot see functions a macro generates
//! (expansion needs nightly), so here each export is written out and its
//! whole body is a call to one of the guards below: `guard` for calls that
//! return a status, `guard_void` for the free functions, `guard_value` for
//! the few infallible getters. A unit test checks that no export skips them.
//!
//! Inputs from C are checked before use: NULL where a value is required,
//! invalid UTF-8 and malformed JSON all become `MIOSA_ERR_INVALID_ARGUMENT`.

use std::any::Any;
use std::ffi::{CStr, CString, c_char};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::ptr;

use miosa_core::{Error, ErrorKind};
use serde_json::{Map, Value};

use crate::error::{Detail, Failure, miosa_error, miosa_status};

/// What an export body yields: `Ok(())`, or the failure to report.
pub(crate) type Outcome = Result<(), Failure>;

/// Runs an export's body: success is `MIOSA_OK`; a failure or a panic becomes
/// its status, and a `miosa_error` in `*err` when `err` is not NULL.
///
/// # Safety
/// `err` is NULL or valid for writes (it is set to NULL first, so a caller
/// can rely on `*err == NULL` after a success).
pub(crate) unsafe fn guard(
    err: *mut *mut miosa_error,
    body: impl FnOnce() -> Outcome,
) -> miosa_status {
    if !err.is_null() {
        // SAFETY: the caller guarantees `err` is writable when non-NULL.
        unsafe { *err = ptr::null_mut() };
    }
    let caught = catch_unwind(AssertUnwindSafe(|| match body() {
        Ok(()) => miosa_status::MIOSA_OK,
        // SAFETY: as above.
        Err(failure) => unsafe { failure.report(err) },
    }));
    match caught {
        Ok(status) => status,
        Err(payload) => {
            let message = format!(
                "internal error in libmiosa: {}",
                panic_text(payload.as_ref())
            );
            // Reporting allocates; should even that panic, the status still goes back.
            let reported = catch_unwind(AssertUnwindSafe(|| {
                // SAFETY: as above.
                unsafe { Detail::failure(miosa_status::MIOSA_ERR_INTERNAL, message).report(err) }
            }));
            reported.unwrap_or(miosa_status::MIOSA_ERR_INTERNAL)
        }
    }
}

/// Runs a body that returns nothing (the free functions); a panic is swallowed.
pub(crate) fn guard_void(body: impl FnOnce()) {
    let _ = catch_unwind(AssertUnwindSafe(body));
}

/// Runs an infallible getter; a panic yields `fallback`.
pub(crate) fn guard_value<T>(fallback: T, body: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(fallback)
}

fn panic_text(payload: &(dyn Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a panic was caught")
}

/// A refusal of the caller's input.
pub(crate) fn invalid(message: impl Into<String>) -> Failure {
    Failure::from(Error::new(ErrorKind::InvalidArgument, message))
}

/// A call that does not fit the operation.
pub(crate) fn usage(message: impl Into<String>) -> Failure {
    Failure::from(Error::new(ErrorKind::Usage, message))
}

/// A required C string argument.
///
/// # Safety
/// `ptr` is NULL or a NUL-terminated string that outlives the call.
pub(crate) unsafe fn required_str<'a>(ptr: *const c_char, name: &str) -> Result<&'a str, Failure> {
    // SAFETY: forwarded contract.
    unsafe { optional_str(ptr, name) }?.ok_or_else(|| invalid(format!("`{name}` is NULL")))
}

/// An optional C string argument: NULL is `None`.
///
/// # Safety
/// `ptr` is NULL or a NUL-terminated string that outlives the call.
pub(crate) unsafe fn optional_str<'a>(
    ptr: *const c_char,
    name: &str,
) -> Result<Option<&'a str>, Failure> {
    if ptr.is_null() {
        return Ok(None);
    }
    // SAFETY: non-NULL, NUL-terminated by contract.
    let text = unsafe { CStr::from_ptr(ptr) };
    text.to_str().map(Some).map_err(|e| {
        invalid(format!(
            "`{name}` is not valid UTF-8 (at byte {})",
            e.valid_up_to()
        ))
    })
}

/// An optional JSON text argument: NULL is `None`.
///
/// # Safety
/// `ptr` is NULL or a NUL-terminated string that outlives the call.
pub(crate) unsafe fn optional_json(
    ptr: *const c_char,
    name: &str,
) -> Result<Option<Value>, Failure> {
    // SAFETY: forwarded contract.
    let Some(text) = (unsafe { optional_str(ptr, name) })? else {
        return Ok(None);
    };
    serde_json::from_str(text)
        .map(Some)
        .map_err(|e| invalid(format!("`{name}` is not valid JSON: {e}")))
}

/// An optional JSON object argument (`params_json`, ...): NULL and `null` are empty.
///
/// # Safety
/// `ptr` is NULL or a NUL-terminated string that outlives the call.
pub(crate) unsafe fn optional_object(
    ptr: *const c_char,
    name: &str,
) -> Result<Map<String, Value>, Failure> {
    // SAFETY: forwarded contract.
    match unsafe { optional_json(ptr, name) }? {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(map)) => Ok(map),
        Some(_) => Err(invalid(format!("`{name}` must be a JSON object"))),
    }
}

/// Checks an out-parameter and clears it, so it reads NULL on failure.
///
/// # Safety
/// `out` is NULL or valid for writes for the rest of the call.
pub(crate) unsafe fn out_slot<'a, T>(
    out: *mut *mut T,
    name: &str,
) -> Result<&'a mut *mut T, Failure> {
    // SAFETY: non-NULL pointers are writable by contract.
    match unsafe { out.as_mut() } {
        Some(slot) => {
            *slot = ptr::null_mut();
            Ok(slot)
        }
        None => Err(invalid(format!("`{name}` is NULL"))),
    }
}

/// Hands a string to C. An interior NUL (possible only in server text) becomes
/// U+FFFD so the string is never cut short silently.
pub(crate) fn c_string(text: String) -> *mut c_char {
    let owned = CString::new(text).unwrap_or_else(|e| {
        let cleaned = String::from_utf8_lossy(&e.into_vec()).replace('\0', "\u{FFFD}");
        CString::new(cleaned).unwrap_or_default()
    });
    owned.into_raw()
}

/// Hands JSON text to C.
pub(crate) fn c_json(value: &Value) -> *mut c_char {
    c_string(value.to_string())
}

/// Frees a string made by `c_string`. NULL is ignored.
///
/// # Safety
/// `ptr` is NULL or came from `c_string` and was not freed yet.
pub(crate) unsafe fn free_c_string(ptr: *mut c_char) {
    if !ptr.is_null() {
        // SAFETY: by contract the pointer came from `CString::into_raw`.
        drop(unsafe { CString::from_raw(ptr) });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_an_internal_error() {
        let mut err: *mut miosa_error = ptr::null_mut();
        // SAFETY: `err` is a valid local.
        let status = unsafe { guard(&mut err, || panic!("boom")) };
        assert_eq!(status, miosa_status::MIOSA_ERR_INTERNAL);
        assert!(!err.is_null());
        // SAFETY: `err` was just produced by the guard.
        let message = unsafe { CStr::from_ptr((*err).message) }
            .to_string_lossy()
            .into_owned();
        assert!(message.contains("boom"), "{message}");
        // SAFETY: freed once.
        unsafe { crate::error::miosa_error_free(err) };
    }

    #[test]
    fn failures_without_an_error_slot_still_return_their_status() {
        // SAFETY: a NULL `err` is allowed.
        let status = unsafe { guard(ptr::null_mut(), || Err(invalid("nope"))) };
        assert_eq!(status, miosa_status::MIOSA_ERR_INVALID_ARGUMENT);
        assert_eq!(guard_value(7, || panic!("x")), 7);
    }

    #[test]
    fn interior_nul_is_replaced_not_truncated() {
        let raw = c_string("a\0b".to_owned());
        // SAFETY: just made.
        let back = unsafe { CStr::from_ptr(raw) }
            .to_string_lossy()
            .into_owned();
        assert_eq!(back, "a\u{FFFD}b");
        // SAFETY: freed once.
        unsafe { free_c_string(raw) };
    }

    #[test]
    fn inputs_are_checked() {
        let bad = [0xffu8, 0xfe, 0];
        // SAFETY: NUL-terminated local buffers.
        unsafe {
            assert!(required_str(ptr::null(), "x").is_err());
            assert!(optional_str(bad.as_ptr().cast(), "x").is_err());
            assert!(optional_json(c"{".as_ptr(), "x").is_err());
            assert!(optional_object(c"[1]".as_ptr(), "x").is_err());
            assert!(optional_object(ptr::null(), "x").is_ok_and(|m| m.is_empty()));
            assert!(out_slot::<c_char>(ptr::null_mut(), "out").is_err());
        }
    }

    /// Every export must run inside a guard: a panic escaping into C would abort the process.
    #[test]
    fn every_export_goes_through_a_guard() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut checked = 0;
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
            for (at, _) in text.match_indices("extern \"C\" fn miosa_") {
                let body_start = text[at..].find('{').map_or(text.len(), |i| at + i + 1);
                let first: String = text[body_start..]
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty() && !l.starts_with("//"))
                    .take(2)
                    .collect::<Vec<_>>()
                    .join(" ");
                assert!(
                    first.starts_with("ffi::guard") || first.starts_with("unsafe { ffi::guard"),
                    "{}: an export does not start with a guard: {}",
                    entry.path().display(),
                    &text[at..body_start]
                );
                checked += 1;
            }
        }
        assert!(checked >= 20, "found only {checked} exports");
    }
}
