//! Cancellation from another thread: a token, and client handles whose calls,
//! streams and pagers all end with `MIOSA_ERR_CANCELLED` once it fires.

use miosa_core::CancelToken;

use crate::client::{client_ref, miosa_client};
use crate::error::{miosa_error, miosa_status};
use crate::ffi::{self, Outcome, invalid};

/// A one-way cancel switch shared between threads.
///
/// Thread safety: `miosa_cancel_token_cancel` may be called from any thread
/// (including while another thread is blocked in a call made through a
/// handle from `miosa_client_with_cancel`). Free it with
/// `miosa_cancel_token_free` once no thread uses it.
#[derive(Debug)]
pub struct miosa_cancel_token {
    pub(crate) inner: CancelToken,
}

/// A new token, not cancelled. Never NULL.
///
/// Ownership: release it with `miosa_cancel_token_free`.
#[unsafe(no_mangle)]
pub extern "C" fn miosa_cancel_token_new() -> *mut miosa_cancel_token {
    ffi::guard_value(std::ptr::null_mut(), || {
        Box::into_raw(Box::new(miosa_cancel_token {
            inner: CancelToken::new(),
        }))
    })
}

/// Cancels every call, stream read and pager read watching the token, now and
/// later: a thread blocked in one returns `MIOSA_ERR_CANCELLED` at once. NULL is ignored.
///
/// # Safety
/// `token` is NULL or a live token.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn miosa_cancel_token_cancel(token: *const miosa_cancel_token) {
    ffi::guard_void(|| {
        // SAFETY: a non-NULL token is live by contract.
        if let Some(token) = unsafe { token.as_ref() } {
            token.inner.cancel();
        }
    });
}

/// Whether `miosa_cancel_token_cancel` was called; false for NULL.
///
/// # Safety
/// `token` is NULL or a live token.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn miosa_cancel_token_is_cancelled(token: *const miosa_cancel_token) -> bool {
    ffi::guard_value(false, || {
        // SAFETY: a non-NULL token is live by contract.
        unsafe { token.as_ref() }.is_some_and(|token| token.inner.is_cancelled())
    })
}

/// Releases a token. Handles made with it keep working (and stay cancelled
/// if it was). NULL is ignored.
///
/// # Safety
/// `token` is NULL or a live token that is freed only once.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn miosa_cancel_token_free(token: *mut miosa_cancel_token) {
    ffi::guard_void(|| {
        if !token.is_null() {
            // SAFETY: from `Box::into_raw` in `miosa_cancel_token_new`, freed once by contract.
            drop(unsafe { Box::from_raw(token) });
        }
    });
}

/// Derives a handle whose every blocking call, stream and pager ends with
/// `MIOSA_ERR_CANCELLED` once `token` is cancelled (from any thread). It
/// shares the original's connection pool and options.
///
/// Ownership: on `MIOSA_OK`, `*out` holds a new handle the caller releases
/// with `miosa_client_free`. On failure `*out` is NULL and `*err` (when
/// requested) holds an error to release with `miosa_error_free`.
///
/// # Safety
/// `client` is a live handle, `token` a live token; the other pointers are NULL or valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn miosa_client_with_cancel(
    client: *const miosa_client,
    token: *const miosa_cancel_token,
    out: *mut *mut miosa_client,
    err: *mut *mut miosa_error,
) -> miosa_status {
    // SAFETY: the pointer contract is the caller's, as documented above.
    unsafe {
        ffi::guard(err, || -> Outcome {
            let out = ffi::out_slot(out, "out")?;
            let client = client_ref(client)?;
            let token = token.as_ref().ok_or_else(|| invalid("`token` is NULL"))?;
            let inner = client.with_cancel(token.inner.clone());
            *out = Box::into_raw(Box::new(miosa_client { inner }));
            Ok(())
        })
    }
}
