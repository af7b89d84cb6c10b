//! Argument builders: a small JSON value a C program fills field by field, so
//! no caller formats JSON with `snprintf` (where a `"` in a path breaks the
//! call or injects fields). `miosa_args_json` hands the text to any call.

use std::ffi::{CString, c_char};
use std::ptr;
use std::sync::Mutex;

use serde_json::{Map, Value};

use crate::error::{miosa_error, miosa_status};
use crate::ffi::{self, Outcome, invalid};

/// A JSON object or array under construction. Build it from one thread at a
/// time; free it with `miosa_args_free`.
#[derive(Debug)]
pub struct miosa_args {
    value: Value,
    /// The JSON text last handed out by `miosa_args_json`; cleared by every change.
    text: Mutex<Option<CString>>,
}

fn new_args(value: Value) -> *mut miosa_args {
    Box::into_raw(Box::new(miosa_args {
        value,
        text: Mutex::new(None),
    }))
}

/// A new, empty JSON object (`{}`): arguments by name, `params_json`, or a
/// nested object. Never NULL.
///
/// Ownership: release it with `miosa_args_free`.
#[unsafe(no_mangle)]
pub extern "C" fn miosa_args_new() -> *mut miosa_args {
    ffi::guard_value(ptr::null_mut(), || new_args(Value::Object(Map::new())))
}

/// A new, empty JSON array (`[]`): positional arguments or a list value.
/// Never NULL.
///
/// Ownership: release it with `miosa_args_free`.
#[unsafe(no_mangle)]
pub extern "C" fn miosa_args_new_array() -> *mut miosa_args {
    ffi::guard_value(ptr::null_mut(), || new_args(Value::Array(Vec::new())))
}

/// Stores `value` under `key` in an object (replacing what was there) or, with
/// `key` NULL, appends it to an array.
///
/// # Safety
/// `args` is NULL or a live builder; `key` is NULL or NUL-terminated.
unsafe fn put(args: *mut miosa_args, key: *const c_char, value: Value) -> Outcome {
    // SAFETY: a non-NULL builder is live and not shared during the call, by contract.
    let args = unsafe { args.as_mut() }.ok_or_else(|| invalid("`args` is NULL"))?;
    // SAFETY: forwarded contract.
    let key = unsafe { ffi::optional_str(key, "key") }?;
    match (&mut args.value, key) {
        (Value::Object(map), Some(key)) => {
            map.insert(key.to_owned(), value);
        }
        (Value::Object(_), None) => {
            return Err(invalid("`key` is NULL: an object's values need a name"));
        }
        (Value::Array(items), None) => items.push(value),
        (_, Some(key)) => {
            return Err(invalid(format!(
                "`key` is `{key}` but `args` is an array: pass NULL to append"
            )));
        }
        // Builders are only ever made as an object or an array.
        (_, None) => return Err(invalid("`args` is neither an object nor an array")),
    }
    *args
        .text
        .get_mut()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = None;
    Ok(())
}

/// Sets a string (UTF-8, NUL-terminated; quotes, backslashes and control
/// characters need no escaping). On an array, `key` is NULL and the value is
/// appended; on an object, an existing `key` is replaced.
///
/// Ownership: `key` and `value` are copied; they stay the caller's.
///
/// # Safety
/// `args` is a live builder; `key` and `value` are NULL or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn miosa_args_set_str(
    args: *mut miosa_args,
    key: *const c_char,
    value: *const c_char,
    err: *mut *mut miosa_error,
) -> miosa_status {
    // SAFETY: the pointer contract is the caller's, as documented above.
    unsafe {
        ffi::guard(err, || -> Outcome {
            let value = ffi::required_str(value, "value")?;
            put(args, key, Value::String(value.to_owned()))
        })
    }
}

/// Sets an integer. `key` as `miosa_args_set_str`.
///
/// # Safety
/// `args` is a live builder; `key` is NULL or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn miosa_args_set_int(
    args: *mut miosa_args,
    key: *const c_char,
    value: i64,
    err: *mut *mut miosa_error,
) -> miosa_status {
    // SAFETY: the pointer contract is the caller's, as documented above.
    unsafe { ffi::guard(err, || -> Outcome { put(args, key, Value::from(value)) }) }
}

/// Sets a boolean. `key` as `miosa_args_set_str`.
///
/// # Safety
/// `args` is a live builder; `key` is NULL or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn miosa_args_set_bool(
    args: *mut miosa_args,
    key: *const c_char,
    value: bool,
    err: *mut *mut miosa_error,
) -> miosa_status {
    // SAFETY: the pointer contract is the caller's, as documented above.
    unsafe { ffi::guard(err, || -> Outcome { put(args, key, Value::from(value)) }) }
}

/// Sets a number with a fraction. NaN and the infinities have no JSON form
/// and are refused with `MIOSA_ERR_INVALID_ARGUMENT`. `key` as `miosa_args_set_str`.
///
/// # Safety
/// `args` is a live builder; `key` is NULL or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn miosa_args_set_double(
    args: *mut miosa_args,
    key: *const c_char,
    value: f64,
    err: *mut *mut miosa_error,
) -> miosa_status {
    // SAFETY: the pointer contract is the caller's, as documented above.
    unsafe {
        ffi::guard(err, || -> Outcome {
            let number = serde_json::Number::from_f64(value)
                .ok_or_else(|| invalid(format!("`value` is {value}, which JSON cannot carry")))?;
            put(args, key, Value::Number(number))
        })
    }
}

/// Sets JSON `null` (in a body field: clear it on the server). `key` as
/// `miosa_args_set_str`.
///
/// # Safety
/// `args` is a live builder; `key` is NULL or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn miosa_args_set_null(
    args: *mut miosa_args,
    key: *const c_char,
    err: *mut *mut miosa_error,
) -> miosa_status {
    // SAFETY: the pointer contract is the caller's, as documented above.
    unsafe { ffi::guard(err, || -> Outcome { put(args, key, Value::Null) }) }
}

/// Sets a nested object or array: a copy of `value` as it is now (later
/// changes to `value` do not show). `key` as `miosa_args_set_str`.
///
/// Ownership: `value` stays the caller's; free it as usual.
///
/// # Safety
/// `args` and `value` are live builders (they may not be the same one); `key`
/// is NULL or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn miosa_args_set_args(
    args: *mut miosa_args,
    key: *const c_char,
    value: *const miosa_args,
    err: *mut *mut miosa_error,
) -> miosa_status {
    // SAFETY: the pointer contract is the caller's, as documented above.
    unsafe {
        ffi::guard(err, || -> Outcome {
            if ptr::eq(args, value) {
                return Err(invalid("`value` is `args` itself"));
            }
            let nested = value
                .as_ref()
                .ok_or_else(|| invalid("`value` is NULL"))?
                .value
                .clone();
            put(args, key, nested)
        })
    }
}

/// The builder's JSON text, ready for `args_json` or `params_json` of any
/// call (`miosa_call`, `miosa_call_bytes`, `miosa_stream`, ...). NULL for a
/// NULL builder, which those calls read as "none".
///
/// Ownership: the text belongs to the builder: valid until its next change or
/// `miosa_args_free`; never free it.
///
/// # Safety
/// `args` is NULL or a live builder not being changed on another thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn miosa_args_json(args: *const miosa_args) -> *const c_char {
    ffi::guard_value(ptr::null(), || {
        // SAFETY: a non-NULL builder is live by contract.
        let Some(args) = (unsafe { args.as_ref() }) else {
            return ptr::null();
        };
        let mut text = args
            .text
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        text.get_or_insert_with(|| {
            // serde_json escapes U+0000 as `\u0000`, so the text holds no NUL byte.
            CString::new(args.value.to_string()).unwrap_or_default()
        })
        .as_ptr()
    })
}

/// Releases a builder and its text. NULL is ignored.
///
/// # Safety
/// `args` is NULL or a live builder that is freed only once.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn miosa_args_free(args: *mut miosa_args) {
    ffi::guard_void(|| {
        if !args.is_null() {
            // SAFETY: from `Box::into_raw` in `new_args`, freed once by contract.
            drop(unsafe { Box::from_raw(args) });
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    fn text(args: *const miosa_args) -> String {
        // SAFETY: a live builder; the text is read before any change.
        unsafe { CStr::from_ptr(miosa_args_json(args)) }
            .to_string_lossy()
            .into_owned()
    }

    #[test]
    fn quotes_backslashes_and_nesting_survive() {
        let args = miosa_args_new();
        let list = miosa_args_new_array();
        // SAFETY: live builders and NUL-terminated literals.
        unsafe {
            let s = miosa_args_set_str(
                args,
                c"path".as_ptr(),
                c"/a\"b\\c".as_ptr(),
                ptr::null_mut(),
            );
            assert_eq!(s, miosa_status::MIOSA_OK);
            miosa_args_set_int(list, ptr::null(), 1, ptr::null_mut());
            miosa_args_set_null(list, ptr::null(), ptr::null_mut());
            miosa_args_set_args(args, c"list".as_ptr(), list, ptr::null_mut());
            miosa_args_set_bool(args, c"ok".as_ptr(), true, ptr::null_mut());
        }
        let parsed: Value = serde_json::from_str(&text(args)).unwrap_or_default();
        assert_eq!(
            parsed,
            serde_json::json!({"path": "/a\"b\\c", "list": [1, null], "ok": true})
        );
        // SAFETY: freed once each.
        unsafe {
            miosa_args_free(args);
            miosa_args_free(list);
        }
    }

    #[test]
    fn misuse_is_refused() {
        let args = miosa_args_new();
        let list = miosa_args_new_array();
        // SAFETY: live builders; NULL where the contract allows it.
        unsafe {
            let no_key = miosa_args_set_int(args, ptr::null(), 1, ptr::null_mut());
            assert_eq!(no_key, miosa_status::MIOSA_ERR_INVALID_ARGUMENT);
            let keyed = miosa_args_set_int(list, c"k".as_ptr(), 1, ptr::null_mut());
            assert_eq!(keyed, miosa_status::MIOSA_ERR_INVALID_ARGUMENT);
            let nan = miosa_args_set_double(args, c"x".as_ptr(), f64::NAN, ptr::null_mut());
            assert_eq!(nan, miosa_status::MIOSA_ERR_INVALID_ARGUMENT);
            let itself = miosa_args_set_args(args, c"x".as_ptr(), args, ptr::null_mut());
            assert_eq!(itself, miosa_status::MIOSA_ERR_INVALID_ARGUMENT);
            assert!(miosa_args_json(ptr::null()).is_null());
            miosa_args_free(args);
            miosa_args_free(list);
        }
    }
}
