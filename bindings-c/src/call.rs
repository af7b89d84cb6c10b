//! The dispatcher: every operation of the table by name, JSON in and out,
//! plus the byte-buffer forms for uploads and downloads.
//!
//! One `miosa_call` reaches all operations (the pattern of temporal's
//! `temporal_core_client_rpc_call`): the ABI stays a handful of functions,
//! an operation added to `core/operations.toml` is callable from C without a
//! new symbol, and `miosa_ops.h` (generated from the same table) gives each
//! operation a checked name and its documentation.

use std::ffi::c_char;

use bytes::Bytes;
use miosa_core::ops::{OpSpec, ParamType, Returns};
use miosa_core::{Arg, Client, HttpMethod};
use serde_json::{Map, Value};

use crate::client::{client_ref, miosa_client};
use crate::error::{Failure, miosa_error, miosa_status};
use crate::ffi::{self, Outcome, invalid, usage};

/// A buffer of bytes owned by the library: a binary download.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct miosa_bytes {
    /// The bytes; NULL when `len` is 0.
    pub data: *mut u8,
    /// Number of bytes.
    pub len: usize,
}

/// Which C function serves an operation, by what it returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Family {
    Json,
    Bytes,
    Events,
    Socket,
}

pub(crate) fn family(op: &OpSpec) -> Family {
    match op.returns {
        Returns::Bytes => Family::Bytes,
        Returns::Events => Family::Events,
        Returns::Socket(_) => Family::Socket,
        Returns::Model(_)
        | Returns::List(_)
        | Returns::Page { .. }
        | Returns::Json
        | Returns::Bool => Family::Json,
    }
}

/// Refuses, before any network use, a call made through the wrong function.
pub(crate) fn expect_family(op: &OpSpec, want: Family) -> Result<(), Failure> {
    let have = family(op);
    if have == want {
        return Ok(());
    }
    let hint = match have {
        Family::Json => "returns JSON: call miosa_call",
        Family::Bytes => "returns bytes: call miosa_call_bytes",
        Family::Events => "streams events: call miosa_stream",
        Family::Socket => "opens a WebSocket: call miosa_socket_open",
    };
    Err(usage(format!("`{}` {hint}", op.name)))
}

/// Looks an operation up by name.
pub(crate) fn find_op(name: &str) -> Result<&'static OpSpec, Failure> {
    miosa_core::ops::find(name).ok_or_else(|| invalid(format!("unknown operation `{name}`")))
}

/// The positional arguments of `op` from `args_json`: a JSON array in
/// positional order, or a JSON object keyed by argument name. `upload` fills
/// the operation's bytes argument, which `args_json` must then leave out.
pub(crate) fn positional(
    op: &OpSpec,
    args: Option<Value>,
    upload: Option<Bytes>,
) -> Result<Vec<Arg>, Failure> {
    let names: Vec<&str> = op.positional_names().collect();
    let upload_at = match &upload {
        None => None,
        Some(_) => Some(
            op.args
                .iter()
                .position(|p| p.ty == ParamType::Bytes)
                .map(|i| op.path_params.len() + i)
                .ok_or_else(|| {
                    usage(format!(
                        "`{}` takes no bytes argument: call miosa_call",
                        op.name
                    ))
                })?,
        ),
    };
    let mut upload = upload;
    let mut out = Vec::with_capacity(names.len());
    match args {
        None | Some(Value::Null) => {
            if let Some(bytes) = upload.take() {
                out.push(Arg::Bytes(bytes));
            }
        }
        Some(Value::Array(items)) => {
            let mut items = items.into_iter();
            for i in 0..names.len().max(items.len() + usize::from(upload.is_some())) {
                if Some(i) == upload_at
                    && let Some(bytes) = upload.take()
                {
                    out.push(Arg::Bytes(bytes));
                } else if let Some(v) = items.next() {
                    out.push(Arg::Json(v));
                }
            }
        }
        Some(Value::Object(mut map)) => {
            for (i, name) in names.iter().enumerate() {
                let given = map.remove(*name);
                if Some(i) == upload_at {
                    if given.is_some() {
                        return Err(invalid(format!(
                            "`{}`: `{name}` is given both in `args_json` and as the data buffer",
                            op.name
                        )));
                    }
                    if let Some(bytes) = upload.take() {
                        out.push(Arg::Bytes(bytes));
                    }
                    continue;
                }
                match given {
                    Some(v) => out.push(Arg::Json(v)),
                    None => {
                        return Err(invalid(format!(
                            "`{}`: missing argument `{name}` (it takes {})",
                            op.name,
                            names.join(", ")
                        )));
                    }
                }
            }
            if let Some(extra) = map.keys().next() {
                return Err(invalid(format!(
                    "`{}`: unknown argument `{extra}` (it takes {})",
                    op.name,
                    if names.is_empty() {
                        "none".to_owned()
                    } else {
                        names.join(", ")
                    }
                )));
            }
        }
        Some(_) => return Err(invalid("`args_json` must be a JSON array or object")),
    }
    Ok(out)
}

/// The keyword parameters of a call from C: every name must be one the
/// operation takes (the core's check over the table, so a misspelt `pth` is
/// refused before any request), except inside the object under `extra`,
/// whose fields are sent as given for what the table lacks.
pub(crate) fn keyword_params(
    op: &OpSpec,
    mut params: Map<String, Value>,
) -> Result<Map<String, Value>, Failure> {
    let extra = match params.remove(EXTRA) {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(extra)) => extra,
        Some(_) => {
            return Err(invalid(format!(
                "`{}`: `params_json.{EXTRA}` must be a JSON object",
                op.name
            )));
        }
    };
    op.check_keywords(params.keys().map(String::as_str))?;
    for (name, value) in extra {
        if params.contains_key(&name) {
            return Err(invalid(format!(
                "`{}`: `{name}` is given both as a parameter and in `{EXTRA}`",
                op.name
            )));
        }
        params.insert(name, value);
    }
    Ok(params)
}

/// The key of `params_json` whose object carries fields the table does not list.
const EXTRA: &str = "extra";

/// A call decoded from C: the client, the operation and its arguments.
pub(crate) struct Call<'a> {
    pub(crate) client: &'a Client,
    pub(crate) op: &'static OpSpec,
    pub(crate) args: Vec<Arg>,
    pub(crate) params: Map<String, Value>,
}

/// Decodes the common arguments of the dispatch functions.
///
/// # Safety
/// Pointers are NULL or valid; strings NUL-terminated.
pub(crate) unsafe fn decode<'a>(
    client: *const miosa_client,
    op: *const c_char,
    args_json: *const c_char,
    params_json: *const c_char,
    upload: Option<Bytes>,
    want: Family,
) -> Result<Call<'a>, Failure> {
    // SAFETY: forwarded contract.
    unsafe {
        let client = client_ref(client)?;
        let op = find_op(ffi::required_str(op, "op")?)?;
        expect_family(op, want)?;
        let args = positional(op, ffi::optional_json(args_json, "args_json")?, upload)?;
        let params = keyword_params(op, ffi::optional_object(params_json, "params_json")?)?;
        Ok(Call {
            client,
            op,
            args,
            params,
        })
    }
}

/// Calls any operation that answers with JSON, by its table name
/// (`"sandbox.files.write_many"`; `miosa_ops.h` defines a macro for each).
///
/// - `args_json`: the positional arguments (the path ids, then the
///   operation's own), as a JSON array in positional order or a JSON object
///   keyed by argument name, e.g. `["sbx_1"]` or `{"id": "sbx_1"}`; NULL when
///   the operation takes none. A bytes argument may be given as a JSON string
///   (its UTF-8 bytes); for arbitrary binary use `miosa_call_upload`.
/// - `params_json`: the keyword parameters (query and body fields,
///   `idempotency_key`, the cursor of a page) as a JSON object, or NULL. A
///   name the operation does not take is refused with
///   `MIOSA_ERR_INVALID_ARGUMENT` naming it (and the nearest known name);
///   fields the table lacks go, deliberately, in an `"extra"` object, whose
///   fields are sent as given.
///
/// `*out_json` receives the decoded result, envelope removed: an object or a
/// list; for paginated operations one page as `{"items": [...],
/// "next_cursor": "..." | null}`; for yes/no operations `true` or `false`.
/// Operations that return bytes or events are refused with
/// `MIOSA_ERR_USAGE` before any request (use `miosa_call_bytes` / `miosa_stream`).
/// The call blocks the calling thread until the answer arrives.
///
/// Ownership: on `MIOSA_OK`, `*out_json` is a NUL-terminated UTF-8 string the
/// caller frees with `miosa_string_free`. On failure `*out_json` is NULL and
/// `*err` (when `err` is not NULL) holds an error to free with
/// `miosa_error_free`. Input strings are only read during the call.
///
/// # Safety
/// `client` is a live handle; other pointers are NULL or valid; strings are NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn miosa_call(
    client: *const miosa_client,
    op: *const c_char,
    args_json: *const c_char,
    params_json: *const c_char,
    out_json: *mut *mut c_char,
    err: *mut *mut miosa_error,
) -> miosa_status {
    // SAFETY: the pointer contract is the caller's, as documented above.
    unsafe {
        ffi::guard(err, || -> Outcome {
            let out = ffi::out_slot(out_json, "out_json")?;
            let call = decode(client, op, args_json, params_json, None, Family::Json)?;
            let text = call
                .client
                .invoke_blocking(call.op, call.args, call.params)?
                .into_json_text()?;
            *out = ffi::c_string(text);
            Ok(())
        })
    }
}

/// Like `miosa_call`, for the operations that upload content
/// (`sandbox.files.write`, `storage.upload_object`): `data`/`len` is the
/// content argument, sent as is, and `args_json` lists the other positional
/// arguments (in an array, skip the content's position; in an object, leave
/// its name out). `data` may be NULL when `len` is 0.
///
/// Ownership: as `miosa_call`. The library copies `data` before returning.
///
/// # Safety
/// `data` points at `len` readable bytes (or is NULL with `len == 0`); the
/// rest as `miosa_call`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn miosa_call_upload(
    client: *const miosa_client,
    op: *const c_char,
    args_json: *const c_char,
    params_json: *const c_char,
    data: *const u8,
    len: usize,
    out_json: *mut *mut c_char,
    err: *mut *mut miosa_error,
) -> miosa_status {
    // SAFETY: the pointer contract is the caller's, as documented above.
    unsafe {
        ffi::guard(err, || -> Outcome {
            let out = ffi::out_slot(out_json, "out_json")?;
            let content = if len == 0 {
                Bytes::new()
            } else if data.is_null() {
                return Err(invalid("`data` is NULL but `len` is not 0"));
            } else {
                Bytes::copy_from_slice(std::slice::from_raw_parts(data, len))
            };
            let call = decode(
                client,
                op,
                args_json,
                params_json,
                Some(content),
                Family::Json,
            )?;
            let text = call
                .client
                .invoke_blocking(call.op, call.args, call.params)?
                .into_json_text()?;
            *out = ffi::c_string(text);
            Ok(())
        })
    }
}

/// Calls an operation that returns binary content (`sandbox.files.read`,
/// `desktop.screenshot`, `storage.download_object`, ...). Arguments as
/// `miosa_call`.
///
/// Ownership: `out` is a caller-provided struct. On `MIOSA_OK` it holds a
/// buffer the caller frees with `miosa_bytes_free(out)`; on failure it is
/// `{NULL, 0}` and `*err` (when requested) holds an error to free with
/// `miosa_error_free`.
///
/// # Safety
/// `out` is valid for writes; the rest as `miosa_call`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn miosa_call_bytes(
    client: *const miosa_client,
    op: *const c_char,
    args_json: *const c_char,
    params_json: *const c_char,
    out: *mut miosa_bytes,
    err: *mut *mut miosa_error,
) -> miosa_status {
    // SAFETY: the pointer contract is the caller's, as documented above.
    unsafe {
        ffi::guard(err, || -> Outcome {
            let out = out.as_mut().ok_or_else(|| invalid("`out` is NULL"))?;
            *out = miosa_bytes {
                data: std::ptr::null_mut(),
                len: 0,
            };
            let call = decode(client, op, args_json, params_json, None, Family::Bytes)?;
            let body = call
                .client
                .invoke_blocking(call.op, call.args, call.params)?
                .into_bytes()?;
            *out = bytes_out(&body);
            Ok(())
        })
    }
}

fn bytes_out(body: &[u8]) -> miosa_bytes {
    if body.is_empty() {
        return miosa_bytes {
            data: std::ptr::null_mut(),
            len: 0,
        };
    }
    let boxed: Box<[u8]> = body.into();
    let len = boxed.len();
    miosa_bytes {
        data: Box::into_raw(boxed).cast::<u8>(),
        len,
    }
}

fn method(name: &str) -> Result<HttpMethod, Failure> {
    Ok(match name.to_ascii_uppercase().as_str() {
        "GET" => HttpMethod::Get,
        "POST" => HttpMethod::Post,
        "PUT" => HttpMethod::Put,
        "PATCH" => HttpMethod::Patch,
        "DELETE" => HttpMethod::Delete,
        _ => {
            return Err(invalid(format!(
                "`method` must be GET, POST, PUT, PATCH or DELETE, not `{name}`"
            )));
        }
    })
}

/// Sends one JSON request to any path under the base URL: the escape hatch
/// for endpoints the operation table lacks. `path` starts with `/` and may
/// carry a query string (`"/sandboxes?state=running"`); `body_json` is the
/// JSON body or NULL. The answer is decoded like `miosa_call`'s.
///
/// Ownership: as `miosa_call`.
///
/// # Safety
/// As `miosa_call`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn miosa_request(
    client: *const miosa_client,
    method_name: *const c_char,
    path: *const c_char,
    body_json: *const c_char,
    out_json: *mut *mut c_char,
    err: *mut *mut miosa_error,
) -> miosa_status {
    // SAFETY: the pointer contract is the caller's, as documented above.
    unsafe {
        ffi::guard(err, || -> Outcome {
            let out = ffi::out_slot(out_json, "out_json")?;
            let client = client_ref(client)?;
            let method = method(ffi::required_str(method_name, "method")?)?;
            let path = ffi::required_str(path, "path")?.to_owned();
            let body = ffi::optional_json(body_json, "body_json")?;
            let worker = client.clone();
            let value =
                client.block_on(async move { worker.request_json(method, &path, body).await })?;
            *out = ffi::c_json(&value);
            Ok(())
        })
    }
}

/// Frees a string this library returned (`*out_json` of any call, pager
/// items). NULL is ignored.
///
/// Ownership: takes back the string; do not use it afterwards. Strings inside
/// `miosa_error` and `miosa_exec_result` are not freed with this function.
///
/// # Safety
/// `s` is NULL or a string from this library that was not freed yet.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn miosa_string_free(s: *mut c_char) {
    ffi::guard_void(|| {
        // SAFETY: by contract `s` came from this library's `c_string`.
        unsafe { ffi::free_c_string(s) }
    });
}

/// Frees the buffer of a `miosa_bytes` filled by `miosa_call_bytes` and
/// resets it to `{NULL, 0}`. NULL and empty buffers are ignored.
///
/// Ownership: takes back the buffer (not the struct, which is the caller's).
///
/// # Safety
/// `bytes` is NULL or points at a struct this library filled and that was not freed yet.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn miosa_bytes_free(bytes: *mut miosa_bytes) {
    ffi::guard_void(|| {
        // SAFETY: a non-NULL struct is valid by contract.
        let Some(b) = (unsafe { bytes.as_mut() }) else {
            return;
        };
        if !b.data.is_null() {
            let slice = std::ptr::slice_from_raw_parts_mut(b.data, b.len);
            // SAFETY: `data`/`len` came from `Box<[u8]>` in `bytes_out`, freed once by contract.
            drop(unsafe { Box::from_raw(slice) });
        }
        *b = miosa_bytes {
            data: std::ptr::null_mut(),
            len: 0,
        };
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn op(name: &str) -> &'static OpSpec {
        miosa_core::ops::find(name).unwrap_or_else(|| panic!("{name} is in the table"))
    }

    #[test]
    fn args_by_position_or_by_name() {
        let write = op("sandbox.files.write");
        let by_pos =
            positional(write, Some(json!(["sbx", "/a", "hi"])), None).map_err(|f| f.message);
        assert_eq!(by_pos.map(|a| a.len()), Ok(3));
        let by_name = positional(
            write,
            Some(json!({"content": "hi", "id": "sbx", "path": "/a"})),
            None,
        )
        .map_err(|f| f.message);
        assert_eq!(
            by_name,
            Ok(vec![Arg::from("sbx"), Arg::from("/a"), Arg::from("hi")])
        );
        let upload = positional(
            write,
            Some(json!(["sbx", "/a"])),
            Some(Bytes::from_static(b"\0\x01")),
        )
        .map_err(|f| f.message);
        assert_eq!(
            upload,
            Ok(vec![
                Arg::from("sbx"),
                Arg::from("/a"),
                Arg::Bytes(Bytes::from_static(b"\0\x01"))
            ])
        );
    }

    #[test]
    fn bad_args_are_named() {
        let write = op("sandbox.files.write");
        let missing = positional(write, Some(json!({"id": "sbx"})), None)
            .err()
            .map(|f| f.message);
        assert!(missing.is_some_and(|m| m.contains("missing argument `path`")));
        let extra = positional(
            write,
            Some(json!({"id": "s", "path": "p", "content": "c", "x": 1})),
            None,
        )
        .err()
        .map(|f| f.message);
        assert!(extra.is_some_and(|m| m.contains("unknown argument `x`")));
        let twice = positional(
            write,
            Some(json!({"id": "s", "path": "p", "content": "c"})),
            Some(Bytes::new()),
        )
        .err()
        .map(|f| f.message);
        assert!(twice.is_some_and(|m| m.contains("given both")));
        let no_bytes = positional(op("sandboxes.get"), None, Some(Bytes::new()))
            .err()
            .map(|f| f.status);
        assert_eq!(no_bytes, Some(miosa_status::MIOSA_ERR_USAGE));
        assert!(positional(write, Some(json!("x")), None).is_err());
    }

    #[test]
    fn families_route_to_their_function() {
        assert!(expect_family(op("desktop.screenshot"), Family::Json).is_err());
        assert!(expect_family(op("sandbox.events.stream"), Family::Json).is_err());
        assert!(expect_family(op("webhooks.list"), Family::Json).is_ok());
        assert!(expect_family(op("sandboxes.wait_until_ready"), Family::Json).is_ok());
    }
}
