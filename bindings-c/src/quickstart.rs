//! Typed functions for the seed's quickstart path (create a sandbox, start
//! it, run a command, destroy it), so a first program needs no JSON. They
//! are thin: each one calls the same table operation `miosa_call` would.

use std::ffi::c_char;
use std::ptr;

use miosa_core::models::ExecResult;
use miosa_core::{Arg, Client, Error, ErrorKind};
use serde_json::{Map, Value};

use crate::call::{find_op, keyword_params};
use crate::client::{client_ref, miosa_client};
use crate::error::{Failure, miosa_error, miosa_status};
use crate::ffi::{self, Outcome, invalid};

/// Runs table operation `name` and returns its JSON.
fn run(
    client: &Client,
    name: &str,
    args: Vec<Arg>,
    params: Map<String, Value>,
) -> Result<Value, Failure> {
    let op = find_op(name)?;
    let params = keyword_params(op, params)?;
    Ok(client.invoke_blocking(op, args, params)?.into_json()?)
}

/// Stores JSON in an optional out-parameter.
///
/// # Safety
/// `out` is NULL or writable.
unsafe fn optional_out(out: *mut *mut c_char, value: &Value) {
    if !out.is_null() {
        // SAFETY: writable by contract.
        unsafe { *out = ffi::c_json(value) };
    }
}

/// Clears an optional out-parameter so it reads NULL on failure.
///
/// # Safety
/// `out` is NULL or writable.
unsafe fn clear(out: *mut *mut c_char) {
    if !out.is_null() {
        // SAFETY: writable by contract.
        unsafe { *out = ptr::null_mut() };
    }
}

/// Creates a sandbox (operation `sandboxes.create`) and returns its id.
///
/// `params_json`: optional JSON object of the create fields (`name`,
/// `template_id`, `size`, `env`, `metadata`, ..., `idempotency_key`); NULL for defaults.
///
/// Ownership: on `MIOSA_OK`, `*out_id` is the new sandbox's id and, when
/// `out_json` is not NULL, `*out_json` is the whole sandbox record as JSON;
/// the caller frees each with `miosa_string_free`. On failure both are NULL
/// and `*err` (when requested) holds an error to free with `miosa_error_free`.
///
/// # Safety
/// `client` is a live handle; `out_id` is valid; `out_json` and `err` are NULL or valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn miosa_sandboxes_create(
    client: *const miosa_client,
    params_json: *const c_char,
    out_id: *mut *mut c_char,
    out_json: *mut *mut c_char,
    err: *mut *mut miosa_error,
) -> miosa_status {
    // SAFETY: the pointer contract is the caller's, as documented above.
    unsafe {
        ffi::guard(err, || -> Outcome {
            clear(out_json);
            let out_id = ffi::out_slot(out_id, "out_id")?;
            let client = client_ref(client)?;
            let params = ffi::optional_object(params_json, "params_json")?;
            let sandbox = run(client, "sandboxes.create", Vec::new(), params)?;
            let id = sandbox
                .get("id")
                .and_then(Value::as_str)
                .filter(|id| !id.is_empty())
                .ok_or_else(|| {
                    Failure::from(Error::new(
                        ErrorKind::Decode,
                        "the created sandbox has no id",
                    ))
                })?;
            *out_id = ffi::c_string(id.to_owned());
            optional_out(out_json, &sandbox);
            Ok(())
        })
    }
}

/// Runs `name` with one id argument: the shape of `computer.start` and `computer.destroy`.
///
/// # Safety
/// As the exports that call it.
unsafe fn with_id(
    name: &str,
    client: *const miosa_client,
    id: *const c_char,
    params_json: *const c_char,
    out_json: *mut *mut c_char,
) -> Outcome {
    // SAFETY: forwarded contract.
    unsafe {
        clear(out_json);
        let client = client_ref(client)?;
        let id = ffi::required_str(id, "id")?;
        let params = ffi::optional_object(params_json, "params_json")?;
        let value = run(client, name, vec![Arg::from(id)], params)?;
        optional_out(out_json, &value);
    }
    Ok(())
}

/// Boots the computer of a sandbox or computer id (operation `computer.start`).
///
/// `params_json`: optional JSON object (`environment`, `env`, `fail_fast`, ...), or NULL.
///
/// Ownership: on `MIOSA_OK` and when `out_json` is not NULL, `*out_json` is
/// the server's answer as JSON, freed with `miosa_string_free`. On failure it
/// is NULL and `*err` (when requested) holds an error to free with `miosa_error_free`.
///
/// # Safety
/// `client` is a live handle; `id` is a NUL-terminated string; `out_json` and `err` are NULL or valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn miosa_computer_start(
    client: *const miosa_client,
    id: *const c_char,
    params_json: *const c_char,
    out_json: *mut *mut c_char,
    err: *mut *mut miosa_error,
) -> miosa_status {
    // SAFETY: the pointer contract is the caller's, as documented above.
    unsafe {
        ffi::guard(err, || {
            with_id("computer.start", client, id, params_json, out_json)
        })
    }
}

/// Destroys a computer (and the sandbox behind it) for good (operation `computer.destroy`).
///
/// `params_json`: optional JSON object (`{"force": true}`), or NULL.
///
/// Ownership: as `miosa_computer_start`.
///
/// # Safety
/// As `miosa_computer_start`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn miosa_computer_destroy(
    client: *const miosa_client,
    id: *const c_char,
    params_json: *const c_char,
    out_json: *mut *mut c_char,
    err: *mut *mut miosa_error,
) -> miosa_status {
    // SAFETY: the pointer contract is the caller's, as documented above.
    unsafe {
        ffi::guard(err, || {
            with_id("computer.destroy", client, id, params_json, out_json)
        })
    }
}

/// The outcome of a command. Read the fields; never modify them. Every
/// pointer is owned by the struct and released by `miosa_exec_result_free`.
#[repr(C)]
#[derive(Debug)]
pub struct miosa_exec_result {
    /// The command's exit code; -1 when the server reported none.
    pub exit_code: i64,
    /// Whether the command succeeded (the server's `success`, else `exit_code == 0`).
    pub success: bool,
    /// Standard output (UTF-8). Never NULL; "" when empty.
    pub stdout_text: *const c_char,
    /// Standard error (UTF-8). Never NULL; "" when empty.
    pub stderr_text: *const c_char,
    /// Wall time in milliseconds; 0 when not reported.
    pub duration_ms: u64,
    /// The whole response as JSON text. Never NULL.
    pub json: *const c_char,
}

/// Runs a shell command on a computer and waits for it (operation `exec.run`).
///
/// `params_json`: optional JSON object of the other fields (`timeout`,
/// `working_dir`, `env`), or NULL; `command` must not be repeated there.
///
/// Ownership: on `MIOSA_OK`, `*out` holds a result the caller frees with
/// `miosa_exec_result_free`. A command that ran and failed is still
/// `MIOSA_OK` (read `exit_code`). On failure `*out` is NULL and `*err` (when
/// requested) holds an error to free with `miosa_error_free`.
///
/// # Safety
/// `client` is a live handle; `id` and `command` are NUL-terminated strings;
/// `out` is valid; `err` is NULL or valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn miosa_exec_run(
    client: *const miosa_client,
    id: *const c_char,
    command: *const c_char,
    params_json: *const c_char,
    out: *mut *mut miosa_exec_result,
    err: *mut *mut miosa_error,
) -> miosa_status {
    // SAFETY: the pointer contract is the caller's, as documented above.
    unsafe {
        ffi::guard(err, || -> Outcome {
            let out = ffi::out_slot(out, "out")?;
            let client = client_ref(client)?;
            let id = ffi::required_str(id, "id")?;
            let command = ffi::required_str(command, "command")?;
            let mut params = ffi::optional_object(params_json, "params_json")?;
            if params.contains_key("command") {
                return Err(invalid(
                    "`command` is given both as an argument and in `params_json`",
                ));
            }
            params.insert("command".into(), Value::from(command));
            let value = run(client, "exec.run", vec![Arg::from(id)], params)?;
            let result: ExecResult = serde_json::from_value(value.clone()).map_err(|e| {
                Error::new(
                    ErrorKind::Decode,
                    format!("the exec result does not decode: {e}"),
                )
            })?;
            let exit_code = result.exit_code;
            *out = Box::into_raw(Box::new(miosa_exec_result {
                exit_code,
                success: result.success.unwrap_or(exit_code == 0),
                stdout_text: ffi::c_string(result.text().to_owned()),
                stderr_text: ffi::c_string(result.stderr.clone().unwrap_or_default()),
                duration_ms: result
                    .duration_ms
                    .map_or(0, |ms| u64::try_from(ms).unwrap_or(0)),
                json: ffi::c_json(&value),
            }));
            Ok(())
        })
    }
}

/// Frees an exec result and its strings. NULL is ignored.
///
/// Ownership: takes back a result from `miosa_exec_run`; do not use it afterwards.
///
/// # Safety
/// `result` is NULL or a result from `miosa_exec_run` that was not freed yet.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn miosa_exec_result_free(result: *mut miosa_exec_result) {
    ffi::guard_void(|| {
        if result.is_null() {
            return;
        }
        // SAFETY: from `Box::into_raw` in `miosa_exec_run`, freed once by contract.
        let result = unsafe { Box::from_raw(result) };
        for field in [result.stdout_text, result.stderr_text, result.json] {
            // SAFETY: each field came from `ffi::c_string`.
            unsafe { ffi::free_c_string(field.cast_mut()) };
        }
    });
}
