//! Webhook signature verification (`X-MIOSA-Signature`) for C servers that
//! receive MIOSA deliveries. Only conversion happens here: every rule is the
//! core's.

use std::ffi::c_char;
use std::time::Duration;

use miosa_core::webhooks::{self, VerifyOptions, WebhookError};

use crate::error::{Detail, Failure, miosa_error, miosa_status};
use crate::ffi::{self, Outcome, invalid};

/// A refused delivery is `MIOSA_ERR_WEBHOOK_VERIFICATION` with the refusal code; the
/// caller's unusable input (an empty secret, a negative clock) is an
/// argument error.
fn refused(e: WebhookError) -> Failure {
    if e.is_verification_failure() {
        Detail::failure(miosa_status::MIOSA_ERR_WEBHOOK_VERIFICATION, e.to_string())
            .with_code(e.code())
    } else {
        invalid(e.to_string())
    }
}

/// # Safety
/// `payload` points at `len` bytes or is NULL with `len == 0`.
unsafe fn payload_slice<'a>(payload: *const u8, len: usize) -> Result<&'a [u8], Failure> {
    match (payload.is_null(), len) {
        (_, 0) => Ok(&[]),
        (true, _) => Err(invalid("`payload` is NULL but `len` is not 0")),
        // SAFETY: `len` readable bytes by contract.
        (false, _) => Ok(unsafe { std::slice::from_raw_parts(payload, len) }),
    }
}

/// # Safety
/// As `miosa_webhook_verify`.
unsafe fn verify(
    payload: *const u8,
    len: usize,
    signature: *const c_char,
    secret: *const c_char,
    options: VerifyOptions,
) -> Outcome {
    // SAFETY: forwarded contract.
    unsafe {
        let body = payload_slice(payload, len)?;
        let signature = ffi::optional_str(signature, "signature")?;
        let secret = ffi::optional_str(secret, "secret")?;
        webhooks::verify_with(body, signature, secret, options).map_err(refused)
    }
}

/// Checks a webhook delivery: `payload`/`len` is the raw request body exactly
/// as received, `signature` the `X-MIOSA-Signature` header value
/// (`sha256=<hex>`, or the legacy `t=<unix>,v1=<hex>` checked against the
/// current time with a 300 s tolerance), `secret` the webhook's signing secret.
///
/// Returns `MIOSA_OK` when the signature matches, `MIOSA_ERR_WEBHOOK_VERIFICATION` when
/// it does not, with `miosa_error.code` set to `missing_signature` (NULL or
/// blank `signature`), `invalid_signature`, `malformed_header` or
/// `timestamp_too_old`; `MIOSA_ERR_INVALID_ARGUMENT` when `secret` is NULL or
/// blank. Comparison is constant-time.
///
/// Ownership: inputs are only read during the call. On failure `*err` (when
/// requested) holds an error to free with `miosa_error_free`.
///
/// # Safety
/// `payload` points at `len` readable bytes (or is NULL with `len == 0`);
/// strings are NULL or NUL-terminated; `err` is NULL or valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn miosa_webhook_verify(
    payload: *const u8,
    len: usize,
    signature: *const c_char,
    secret: *const c_char,
    err: *mut *mut miosa_error,
) -> miosa_status {
    // SAFETY: the pointer contract is the caller's, as documented above.
    unsafe {
        ffi::guard(err, || -> Outcome {
            verify(payload, len, signature, secret, VerifyOptions::default())
        })
    }
}

/// Like `miosa_webhook_verify`, with the legacy scheme's clock and tolerance
/// given: `now_unix` in seconds since the epoch (a negative one is
/// `MIOSA_ERR_INVALID_ARGUMENT`), `tolerance_s` in seconds.
///
/// Ownership: as `miosa_webhook_verify`.
///
/// # Safety
/// As `miosa_webhook_verify`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn miosa_webhook_verify_at(
    payload: *const u8,
    len: usize,
    signature: *const c_char,
    secret: *const c_char,
    now_unix: i64,
    tolerance_s: u64,
    err: *mut *mut miosa_error,
) -> miosa_status {
    // SAFETY: the pointer contract is the caller's, as documented above.
    unsafe {
        ffi::guard(err, || -> Outcome {
            let options = VerifyOptions::default()
                .with_tolerance(Duration::from_secs(tolerance_s))
                .at_unix(now_unix)
                .map_err(refused)?;
            verify(payload, len, signature, secret, options)
        })
    }
}

/// Verifies a delivery from its request headers and hands back the parsed
/// event: `header_names[i]`/`header_values[i]` for `i < header_count` are the
/// request's headers (names in any case; NULL arrays with a count of 0 are
/// no headers), checked against the current time with a 300 s tolerance.
///
/// Returns `MIOSA_OK` with `*event_json` set to the event as JSON text,
/// `MIOSA_ERR_WEBHOOK_VERIFICATION` as `miosa_webhook_verify` does (and with code
/// `invalid_payload` when the signed body is not a JSON object), or
/// `MIOSA_ERR_INVALID_ARGUMENT`.
///
/// Ownership: free `*event_json` with `miosa_string_free`; it is NULL on
/// failure. Inputs are only read during the call.
///
/// # Safety
/// `payload` as in `miosa_webhook_verify`; `header_names` and
/// `header_values` each point at `header_count` NUL-terminated strings (or
/// are NULL with `header_count == 0`); `event_json` is valid for writes;
/// `err` is NULL or valid.
// Parallel header arrays keep the C call free of a struct to fill in.
#[allow(clippy::too_many_arguments)]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn miosa_webhook_unwrap(
    payload: *const u8,
    len: usize,
    header_names: *const *const c_char,
    header_values: *const *const c_char,
    header_count: usize,
    secret: *const c_char,
    event_json: *mut *mut c_char,
    err: *mut *mut miosa_error,
) -> miosa_status {
    // SAFETY: the pointer contract is the caller's, as documented above.
    unsafe {
        ffi::guard(err, || -> Outcome {
            let out = ffi::out_slot(event_json, "event_json")?;
            let body = payload_slice(payload, len)?;
            let mut headers = Vec::with_capacity(header_count);
            if header_count > 0 {
                if header_names.is_null() || header_values.is_null() {
                    return Err(invalid(
                        "`header_names` or `header_values` is NULL but `header_count` is not 0",
                    ));
                }
                let names = std::slice::from_raw_parts(header_names, header_count);
                let values = std::slice::from_raw_parts(header_values, header_count);
                for (name, value) in names.iter().zip(values) {
                    headers.push((
                        ffi::required_str(*name, "header_names[i]")?,
                        ffi::required_str(*value, "header_values[i]")?,
                    ));
                }
            }
            let secret = ffi::optional_str(secret, "secret")?;
            let event = webhooks::unwrap(body, headers, secret, VerifyOptions::default())
                .map_err(refused)?;
            *out = ffi::c_json(&event);
            Ok(())
        })
    }
}
