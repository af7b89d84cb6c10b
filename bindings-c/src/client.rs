//! The client handle: creation from an API key and options, derived handles
//! with per-call options, and release.

use std::ffi::c_char;
use std::time::Duration;

use miosa_core::{Client, RequestOptions, RetryPolicy};
use serde_json::Value;

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

/// Client options. A zero-initialised struct (`miosa_options o = {0};`) means
/// "all defaults"; set only what you need. Passing NULL instead of a struct
/// also selects every default. The library copies what it needs during
/// `miosa_client_new`; the struct and its strings may be freed afterwards.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct miosa_options {
    /// API root, e.g. `http://127.0.0.1:8080/api/v1`; NULL for `https://api.miosa.ai/api/v1`.
    pub base_url: *const c_char,
    /// Connect timeout in milliseconds; 0 for the default (30 s).
    pub connect_timeout_ms: u64,
    /// Time to wait for a response, and the idle limit of event streams, in
    /// milliseconds; 0 for the default (60 s).
    pub receive_timeout_ms: u64,
    /// Retry transient failures (429, 5xx, timeouts, connection errors) with
    /// exponential backoff. Off by default, as in the official SDKs. Unsafe
    /// methods are retried only with an idempotency key, which the library
    /// then generates.
    pub retry: bool,
    /// Total attempts including the first when `retry` is set; 0 for the default (3).
    pub max_attempts: u32,
    /// First backoff ceiling in milliseconds when `retry` is set; 0 for the default (500).
    pub retry_base_delay_ms: u64,
    /// Longest single wait in milliseconds when `retry` is set; 0 for the default (30000).
    pub retry_max_delay_ms: u64,
    /// Extra headers sent on every request (e.g. `x-tenant-id`), or NULL.
    pub headers: *const miosa_header,
    /// Number of entries in `headers`.
    pub headers_len: usize,
    /// Limit on a whole call in milliseconds: every attempt and every backoff
    /// wait together; when it expires the call fails with `MIOSA_ERR_TIMEOUT`.
    /// 0 for none (the default).
    pub operation_timeout_ms: u64,
}

/// The client behind a handle pointer.
///
/// # Safety
/// `client` is NULL or a live handle from `miosa_client_new`/`miosa_client_with_options`.
pub(crate) unsafe fn client_ref<'a>(
    client: *const miosa_client,
) -> Result<&'a Client, crate::error::Failure> {
    // SAFETY: a non-NULL handle is live by contract.
    unsafe { client.as_ref() }
        .map(|c| &c.inner)
        .ok_or_else(|| invalid("`client` is NULL"))
}

/// # Safety
/// The pointers inside `options` follow the `miosa_options` contract.
unsafe fn apply(
    mut builder: miosa_core::ClientBuilder,
    o: &miosa_options,
) -> Result<miosa_core::ClientBuilder, crate::error::Failure> {
    // SAFETY: forwarded contract.
    if let Some(url) = unsafe { ffi::optional_str(o.base_url, "options.base_url") }? {
        builder = builder.base_url(url);
    }
    if o.connect_timeout_ms > 0 {
        builder = builder.timeout(Duration::from_millis(o.connect_timeout_ms));
    }
    if o.receive_timeout_ms > 0 {
        builder = builder.receive_timeout(Duration::from_millis(o.receive_timeout_ms));
    }
    if o.operation_timeout_ms > 0 {
        builder = builder.operation_timeout(Duration::from_millis(o.operation_timeout_ms));
    }
    if o.retry {
        let mut policy = RetryPolicy::default();
        if o.max_attempts > 0 {
            policy.max_attempts = o.max_attempts;
        }
        if o.retry_base_delay_ms > 0 {
            policy.base_delay = Duration::from_millis(o.retry_base_delay_ms);
        }
        if o.retry_max_delay_ms > 0 {
            policy.max_delay = Duration::from_millis(o.retry_max_delay_ms);
        }
        builder = builder.retry_policy(policy);
    }
    if o.headers_len > 0 {
        if o.headers.is_null() {
            return Err(invalid(
                "`options.headers` is NULL but `options.headers_len` is not 0",
            ));
        }
        // SAFETY: `headers` points at `headers_len` entries by contract.
        let headers = unsafe { std::slice::from_raw_parts(o.headers, o.headers_len) };
        for (i, h) in headers.iter().enumerate() {
            // SAFETY: forwarded contract.
            let name = unsafe { ffi::required_str(h.name, &format!("options.headers[{i}].name")) }?;
            // SAFETY: forwarded contract.
            let value =
                unsafe { ffi::required_str(h.value, &format!("options.headers[{i}].value")) }?;
            builder = builder.header(name, value);
        }
    }
    Ok(builder)
}

/// Creates a client.
///
/// `api_key` must start with `msk_`; it never appears in any error message.
/// `options` may be NULL for every default (see `miosa_options`).
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
            let key = ffi::required_str(api_key, "api_key")?;
            let mut builder = Client::builder(key);
            if let Some(options) = options.as_ref() {
                builder = apply(builder, options)?;
            }
            let inner = builder.build()?;
            *out = Box::into_raw(Box::new(miosa_client { inner }));
            Ok(())
        })
    }
}

fn request_options(value: Value) -> Result<RequestOptions, crate::error::Failure> {
    let Value::Object(map) = value else {
        return Err(invalid("`options_json` must be a JSON object"));
    };
    let mut options = RequestOptions::new();
    for (key, value) in map {
        match (key.as_str(), value) {
            ("headers", Value::Object(headers)) => {
                for (name, v) in headers {
                    let Value::String(v) = v else {
                        return Err(invalid(format!("header `{name}` must be a string")));
                    };
                    options = options.header(name, v);
                }
            }
            ("query", Value::Object(query)) => options.query = query,
            ("body", Value::Object(body)) => options.body = body,
            ("timeout_ms", Value::Number(n)) => match n.as_u64() {
                Some(ms) if ms > 0 => options = options.timeout(Duration::from_millis(ms)),
                _ => return Err(invalid("`timeout_ms` must be a positive integer")),
            },
            ("headers" | "query" | "body", _) => {
                return Err(invalid(format!("`{key}` must be a JSON object")));
            }
            ("timeout_ms", _) => return Err(invalid("`timeout_ms` must be a positive integer")),
            (other, _) => {
                return Err(invalid(format!(
                    "unknown request option `{other}` (expected headers, query, body, timeout_ms)"
                )));
            }
        }
    }
    Ok(options)
}

/// Derives a handle whose every call also carries extra headers, query
/// parameters, body fields or a per-attempt timeout. It shares the
/// original's connection pool.
///
/// `options_json` is a JSON object with any of: `"headers"` (object of
/// strings), `"query"` (object), `"body"` (object, merged into JSON bodies),
/// `"timeout_ms"` (positive integer).
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
            let inner = client.with_options(request_options(value)?)?;
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
