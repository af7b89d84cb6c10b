//! The client handle: creation from an API key and options, derived handles
//! with per-call options, and release.

use std::ffi::c_char;

use miosa_core::{Client, Dialect, Input, RequestOptions};

use crate::error::miosa_error;
use crate::ffi::{self, Outcome, invalid};

/// An opaque MIOSA API client. It owns a connection pool and the I/O threads
/// that drive it.
///
/// Thread safety: a client may be used from any number of threads at once;
/// every call blocks only the thread that makes it. Free it with
/// `miosa_client_free` once no call on it is running.
#[derive(Debug)]
pub struct miosa_client {
    pub(crate) inner: Client,
}

/// One extra header sent on every request.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct miosa_header {
    /// Header name (UTF-8, NUL-terminated).
    pub name: *const c_char,
    /// Header value (UTF-8, NUL-terminated).
    pub value: *const c_char,
}

/// Client options. Start from `MIOSA_OPTIONS_INIT` (`miosa_options o =
/// MIOSA_OPTIONS_INIT;`): it sets `struct_size` and leaves every other field
/// zero, which means "the default"; set only what you need. Passing NULL
/// instead of a struct also selects every default. Every value is checked by the core, as in every
/// other language; a bad one fails with `MIOSA_ERR_INVALID_ARGUMENT` naming it.
/// The library copies what it needs during `miosa_client_new`; the struct and
/// its strings may be freed afterwards.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct miosa_options {
    /// `sizeof(miosa_options)` as the caller compiled it (`MIOSA_OPTIONS_INIT`
    /// sets it). The library refuses a size it does not know with
    /// `MIOSA_ERR_INVALID_ARGUMENT`, so a struct from another version of
    /// `miosa.h` is never misread.
    pub struct_size: usize,
    /// API root, e.g. `http://127.0.0.1:8080/api/v1`; NULL for `MIOSA_BASE_URL`
    /// or else `https://api.miosa.ai/api/v1`. Plain http only to this machine
    /// unless `allow_insecure_http` is set.
    pub base_url: *const c_char,
    /// Connect timeout in milliseconds; 0 for the default (30 s).
    pub connect_timeout_ms: u64,
    /// Limit on one whole attempt (connect, headers and body), and the idle
    /// limit of event streams, in milliseconds; 0 for the default (60 s).
    pub timeout_ms: u64,
    /// Limit on a whole call in milliseconds: every attempt and every backoff
    /// wait together; when it expires the call fails with `MIOSA_ERR_TIMEOUT`.
    /// 0 for none (the default).
    pub operation_timeout_ms: u64,
    /// Set to turn retries off (they are on by default: 2 retries of transient
    /// failures, and of mutations only with an idempotency key).
    pub disable_retries: bool,
    /// Retries after the first attempt; 0 for the default (2).
    pub max_retries: u32,
    /// First backoff ceiling in milliseconds; 0 for the default (500).
    pub retry_base_delay_ms: u64,
    /// Longest single backoff wait in milliseconds; 0 for the default (30000).
    pub retry_max_delay_ms: u64,
    /// Largest buffered JSON response body in bytes; 0 for the default (64 MiB).
    pub max_response_bytes: u64,
    /// Largest buffered download in bytes; 0 for the default (1 GiB).
    pub max_download_bytes: u64,
    /// Largest SSE line or event in bytes; 0 for the default (16 MiB).
    pub max_event_bytes: u64,
    /// Allows a plain `http://` base URL to a host other than this machine.
    pub allow_insecure_http: bool,
    /// Extra headers sent on every request (e.g. `x-tenant-id`), or NULL.
    pub headers: *const miosa_header,
    /// Number of entries in `headers`.
    pub headers_len: usize,
}

/// Checks the `struct_size` a caller-allocated struct starts with: only sizes
/// of layouts this library was built with are read.
pub(crate) fn check_struct_size(
    name: &str,
    given: usize,
    known: &[usize],
) -> Result<(), crate::error::Failure> {
    if known.contains(&given) {
        return Ok(());
    }
    let expected = known
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" or ");
    let why = if given == 0 {
        format!("initialise it with {}_INIT", name.to_ascii_uppercase())
    } else {
        "the program was built with a miosa.h of another version than this library".to_owned()
    };
    Err(invalid(format!(
        "`{name}.struct_size` is {given}, this library reads {expected}: {why}"
    )))
}

/// The sizes of every `miosa_options` layout this library reads (one so far;
/// a grown struct appends its new size and keeps reading the older prefix).
const OPTIONS_SIZES: [usize; 1] = [std::mem::size_of::<miosa_options>()];

/// The client behind a handle pointer.
///
/// # Safety
/// `client` is NULL or a live handle from `miosa_client_new`/`miosa_client_with_options`.
/// Names the C ABI in the `User-Agent` (`miosa-native/0.1.0 c linux x86_64`), once per process.
fn name_c_runtime() {
    static NAMED: std::sync::Once = std::sync::Once::new();
    NAMED.call_once(|| {
        // "c" is valid header text, so this cannot fail.
        let _ = miosa_core::set_runtime("c");
    });
}

pub(crate) unsafe fn client_ref<'a>(
    client: *const miosa_client,
) -> Result<&'a Client, crate::error::Failure> {
    // SAFETY: a non-NULL handle is live by contract.
    unsafe { client.as_ref() }
        .map(|c| &c.inner)
        .ok_or_else(|| invalid("`client` is NULL"))
}

/// The struct's set fields as the core's plain settings (names as in every
/// language, durations in milliseconds).
///
/// # Safety
/// The pointers inside `options` follow the `miosa_options` contract.
unsafe fn settings_of(o: &miosa_options) -> Result<Vec<(String, Input)>, crate::error::Failure> {
    let mut settings = Vec::new();
    let mut put = |name: &str, value: Input| settings.push((name.to_owned(), value));
    // SAFETY: forwarded contract.
    if let Some(url) = unsafe { ffi::optional_str(o.base_url, "options.base_url") }? {
        put("base_url", Input::Str(url.to_owned()));
    }
    let counts = [
        ("connect_timeout", o.connect_timeout_ms),
        ("timeout", o.timeout_ms),
        ("operation_timeout", o.operation_timeout_ms),
        ("max_retries", u64::from(o.max_retries)),
        ("retry_base_delay", o.retry_base_delay_ms),
        ("retry_max_delay", o.retry_max_delay_ms),
        ("max_response_bytes", o.max_response_bytes),
        ("max_download_bytes", o.max_download_bytes),
        ("max_event_bytes", o.max_event_bytes),
    ];
    for (name, value) in counts.into_iter().filter(|(_, v)| *v > 0) {
        put(name, Input::Int(value.into()));
    }
    if o.disable_retries {
        put("max_retries", Input::Int(0));
    }
    put("allow_insecure_http", Input::Bool(o.allow_insecure_http));
    if o.headers_len > 0 {
        if o.headers.is_null() {
            return Err(invalid(
                "`options.headers` is NULL but `options.headers_len` is not 0",
            ));
        }
        // SAFETY: `headers` points at `headers_len` entries by contract.
        let headers = unsafe { std::slice::from_raw_parts(o.headers, o.headers_len) };
        let mut entries = Vec::with_capacity(headers.len());
        for (i, h) in headers.iter().enumerate() {
            // SAFETY: forwarded contract.
            let name = unsafe { ffi::required_str(h.name, &format!("options.headers[{i}].name")) }?;
            // SAFETY: forwarded contract.
            let value =
                unsafe { ffi::required_str(h.value, &format!("options.headers[{i}].value")) }?;
            entries.push((name.to_owned(), Input::Str(value.to_owned())));
        }
        put("headers", Input::Map(entries));
    }
    Ok(settings)
}

/// Creates a client.
///
/// `api_key` must start with `msk_`; it never appears in any error message.
/// NULL reads the environment variable `MIOSA_API_KEY`. `options` may be NULL
/// for every default (see `miosa_options`).
///
/// Ownership: on `MIOSA_OK`, `*out` holds a new client the caller owns and
/// releases with `miosa_client_free`; on failure `*out` is NULL and, when
/// `err` is not NULL, `*err` holds an error to release with `miosa_error_free`.
/// The library keeps no pointer to `api_key` or `options`.
///
/// # Safety
/// Every pointer is NULL or valid as described; strings are NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn miosa_client_new(
    api_key: *const c_char,
    options: *const miosa_options,
    out: *mut *mut miosa_client,
    err: *mut *mut miosa_error,
) -> crate::error::miosa_status {
    // SAFETY: the pointer contract is the caller's, as documented above.
    unsafe {
        ffi::guard(err, || -> Outcome {
            let out = ffi::out_slot(out, "out")?;
            let mut settings = if options.is_null() {
                Vec::new()
            } else {
                // Only the leading size is read before it is known to match the
                // caller's layout; the rest may be shorter than this library's.
                check_struct_size(
                    "miosa_options",
                    options.cast::<usize>().read(),
                    &OPTIONS_SIZES,
                )?;
                settings_of(&*options)?
            };
            if let Some(key) = ffi::optional_str(api_key, "api_key")? {
                settings.push(("api_key".to_owned(), Input::Str(key.to_owned())));
            }
            name_c_runtime();
            let inner = Client::from_input(&Input::Map(settings), Dialect::SNAKE_MILLIS)?;
            *out = Box::into_raw(Box::new(miosa_client { inner }));
            Ok(())
        })
    }
}

/// Creates a client from settings as JSON text: an object with any of the
/// names every language shares (`api_key`, `base_url`, `connect_timeout`,
/// `timeout`, `operation_timeout`, `max_retries`, `retry_base_delay`,
/// `retry_max_delay`, `max_response_bytes`, `max_download_bytes`,
/// `max_event_bytes`, `allow_insecure_http`, `headers`), durations in
/// milliseconds. Absent or `null` means the default; `max_retries: 0` turns
/// retries off; unknown names are refused. The key and base URL default to
/// `MIOSA_API_KEY` and `MIOSA_BASE_URL`. `settings_json` NULL means `{}`.
///
/// Ownership: as `miosa_client_new`.
///
/// # Safety
/// Every pointer is NULL or valid as described; strings are NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn miosa_client_new_json(
    settings_json: *const c_char,
    out: *mut *mut miosa_client,
    err: *mut *mut miosa_error,
) -> crate::error::miosa_status {
    // SAFETY: the pointer contract is the caller's, as documented above.
    unsafe {
        ffi::guard(err, || -> Outcome {
            let out = ffi::out_slot(out, "out")?;
            let settings = ffi::optional_json(settings_json, "settings_json")?
                .map_or(Input::Null, |v| Input::from_tagged_json(&v));
            name_c_runtime();
            let inner = Client::from_input(&settings, Dialect::SNAKE_MILLIS)?;
            *out = Box::into_raw(Box::new(miosa_client { inner }));
            Ok(())
        })
    }
}

/// The settings and per-call options a handle uses, as JSON text (names as
/// in every language, durations in seconds, secrets redacted):
/// `{"settings": {...}, "options": {...}}`.
///
/// Ownership: on `MIOSA_OK`, `*out_json` holds a string the caller releases
/// with `miosa_string_free`.
///
/// # Safety
/// `client` is a live handle; the other pointers are NULL or valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn miosa_client_settings_json(
    client: *const miosa_client,
    out_json: *mut *mut c_char,
    err: *mut *mut miosa_error,
) -> crate::error::miosa_status {
    // SAFETY: the pointer contract is the caller's, as documented above.
    unsafe {
        ffi::guard(err, || -> Outcome {
            let out = ffi::out_slot(out_json, "out_json")?;
            let client = client_ref(client)?;
            let summary = serde_json::json!({
                "settings": client.config().summary(),
                "options": client.options().summary(),
            });
            *out = ffi::c_json(&summary);
            Ok(())
        })
    }
}

/// Derives a handle whose every call also carries extra headers, query
/// parameters, body fields or a per-attempt timeout. It shares the
/// original's connection pool.
///
/// `options_json` is a JSON object with any of: `"extra_headers"` (object of
/// strings), `"extra_query"` (object), `"extra_body"` (object, merged into
/// JSON bodies; a `null` there is sent as JSON `null`), `"timeout"`
/// (milliseconds per attempt), `"max_response_bytes"`. Unknown names are refused.
///
/// Ownership: on `MIOSA_OK`, `*out` holds a new handle the caller releases
/// with `miosa_client_free`, independently of `client` (either may be freed
/// first). On failure `*out` is NULL and `*err` (when requested) holds an
/// error to release with `miosa_error_free`.
///
/// # Safety
/// `client` is a live handle; the other pointers are NULL or valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn miosa_client_with_options(
    client: *const miosa_client,
    options_json: *const c_char,
    out: *mut *mut miosa_client,
    err: *mut *mut miosa_error,
) -> crate::error::miosa_status {
    // SAFETY: the pointer contract is the caller's, as documented above.
    unsafe {
        ffi::guard(err, || -> Outcome {
            let out = ffi::out_slot(out, "out")?;
            let client = client_ref(client)?;
            let value = ffi::optional_json(options_json, "options_json")?
                .ok_or_else(|| invalid("`options_json` is NULL"))?;
            let options = RequestOptions::from_input(
                &Input::from_tagged_json(&value),
                Dialect::SNAKE_MILLIS,
            )?;
            let inner = client.with_options(options)?;
            *out = Box::into_raw(Box::new(miosa_client { inner }));
            Ok(())
        })
    }
}

/// Releases a client. Calls still running on other threads must have
/// returned first. Pagers made from the client stay usable. NULL is ignored.
///
/// Ownership: takes back a handle from `miosa_client_new` or
/// `miosa_client_with_options`; do not use it afterwards.
///
/// # Safety
/// `client` is NULL or a live handle that is freed only once.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn miosa_client_free(client: *mut miosa_client) {
    ffi::guard_void(|| {
        if !client.is_null() {
            // SAFETY: the handle came from `Box::into_raw` and is freed once, by contract.
            drop(unsafe { Box::from_raw(client) });
        }
    });
}
