//! Webhook signature verification (`X-MIOSA-Signature`) for C servers that
//! receive MIOSA deliveries.

use std::ffi::c_char;
use std::time::Duration;

use miosa_core::webhooks::{self, WebhookError};

use crate::error::{Detail, Failure, miosa_error, miosa_status};
use crate::ffi::{self, Outcome, invalid};

fn refused(e: WebhookError) -> Failure {
    Detail::failure(miosa_status::MIOSA_ERR_WEBHOOK_VERIFICATION, e.to_string()).with_code(e.code())
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

/// Checks a webhook delivery: `payload`/`len` is the raw request body exactly
/// as received, `signature` the `X-MIOSA-Signature` header value
/// (`sha256=<hex>`, or the legacy `t=<unix>,v1=<hex>` checked against the
/// current time with a 300 s tolerance), `secret` the webhook's signing secret.
///
/// Returns `MIOSA_OK` when the signature matches, `MIOSA_ERR_WEBHOOK_VERIFICATION` when
/// it does not, with `miosa_error.code` set to `invalid_signature`,
/// `malformed_header` or `timestamp_too_old`. Comparison is constant-time.
///
/// Ownership: inputs are only read during the call. On failure `*err` (when
/// requested) holds an error to free with `miosa_error_free`.
///
/// # Safety
/// `payload` points at `len` readable bytes (or is NULL with `len == 0`);
/// strings are NUL-terminated; `err` is NULL or valid.
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
            let body = payload_slice(payload, len)?;
            let signature = ffi::required_str(signature, "signature")?;
            let secret = ffi::required_str(secret, "secret")?;
            webhooks::verify(body, signature, secret).map_err(refused)
        })
    }
}

/// Like `miosa_webhook_verify`, with the legacy scheme's clock and tolerance
/// given: `now_unix` in seconds since the epoch, `tolerance_s` in seconds.
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
            let body = payload_slice(payload, len)?;
            let signature = ffi::required_str(signature, "signature")?;
            let secret = ffi::required_str(secret, "secret")?;
            webhooks::verify_at(
                body,
                signature,
                secret,
                now_unix,
                Duration::from_secs(tolerance_s),
            )
            .map_err(refused)
        })
    }
}
