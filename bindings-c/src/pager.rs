//! Lazy pagination: a pager fetches one page when its items run out and
//! follows `next_cursor` until the last page.

use std::ffi::c_char;

use miosa_core::Pager;

use crate::call::{Family, decode};
use crate::client::miosa_client;
use crate::error::{miosa_error, miosa_status};
use crate::ffi::{self, Outcome, invalid};

/// An opaque iterator over every item of a paginated operation. It keeps the
/// client's connection pool alive on its own. Calls on one pager from several
/// threads are serialised.
#[derive(Debug)]
pub struct miosa_pager {
    inner: Pager,
}

/// Starts walking a paginated operation (`audit_log.list`, `webhooks.list`,
/// `volumes.list`, ...; their result is `page<...>` in `miosa_ops.h`).
/// Arguments as `miosa_call`; a cursor in `params_json` starts the walk there,
/// and a `limit` sets the page size. No request is made until the first
/// `miosa_pager_next`.
///
/// Ownership: on `MIOSA_OK`, `*out` holds a pager the caller releases with
/// `miosa_pager_free` (it may outlive `client`). On failure `*out` is NULL and
/// `*err` (when requested) holds an error to free with `miosa_error_free`.
///
/// # Safety
/// As `miosa_call`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn miosa_pager_new(
    client: *const miosa_client,
    op: *const c_char,
    args_json: *const c_char,
    params_json: *const c_char,
    out: *mut *mut miosa_pager,
    err: *mut *mut miosa_error,
) -> miosa_status {
    // SAFETY: the pointer contract is the caller's, as documented above.
    unsafe {
        ffi::guard(err, || -> Outcome {
            let out = ffi::out_slot(out, "out")?;
            let call = decode(client, op, args_json, params_json, None, Family::Json)?;
            let pager = call.client.pager(call.op, call.args, call.params)?;
            *out = Box::into_raw(Box::new(miosa_pager { inner: pager }));
            Ok(())
        })
    }
}

/// Yields the next item as JSON text, fetching the next page when needed.
/// At the end, returns `MIOSA_OK` with `*item_json` set to NULL. After an
/// error the walk is over: further calls return the end.
///
/// Ownership: on `MIOSA_OK` with an item, `*item_json` is a string the caller
/// frees with `miosa_string_free`. On failure `*item_json` is NULL and `*err`
/// (when requested) holds an error to free with `miosa_error_free`.
///
/// # Safety
/// `pager` is a live pager; the other pointers are NULL or valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn miosa_pager_next(
    pager: *mut miosa_pager,
    item_json: *mut *mut c_char,
    err: *mut *mut miosa_error,
) -> miosa_status {
    // SAFETY: the pointer contract is the caller's, as documented above.
    unsafe {
        ffi::guard(err, || -> Outcome {
            let out = ffi::out_slot(item_json, "item_json")?;
            let pager = pager.as_ref().ok_or_else(|| invalid("`pager` is NULL"))?;
            if let Some(item) = pager.inner.next_blocking() {
                *out = ffi::c_json(&item?);
            }
            Ok(())
        })
    }
}

/// Yields the next whole page as JSON text (`{"items": [...], "next_cursor":
/// ...}`), the walk page by page instead of item by item (do not mix the two on
/// one pager). At the end, returns `MIOSA_OK` with `*page_json` set to NULL.
/// After an error the walk is over: further calls return the end.
///
/// Ownership: on `MIOSA_OK` with a page, `*page_json` is a string the caller
/// frees with `miosa_string_free`. On failure `*page_json` is NULL and `*err`
/// (when requested) holds an error to free with `miosa_error_free`.
///
/// # Safety
/// `pager` is a live pager; the other pointers are NULL or valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn miosa_pager_next_page(
    pager: *mut miosa_pager,
    page_json: *mut *mut c_char,
    err: *mut *mut miosa_error,
) -> miosa_status {
    // SAFETY: the pointer contract is the caller's, as documented above.
    unsafe {
        ffi::guard(err, || -> Outcome {
            let out = ffi::out_slot(page_json, "page_json")?;
            let pager = pager.as_ref().ok_or_else(|| invalid("`pager` is NULL"))?;
            // A failed fetch ends the core's walk, as for `miosa_pager_next`.
            if let Some(page) = pager.inner.next_page_blocking()? {
                *out = ffi::c_json(&page.to_json());
            }
            Ok(())
        })
    }
}

/// Ends the walk now, from any thread: a `miosa_pager_next` blocked on
/// another thread returns the end (`MIOSA_OK`, `*item_json` NULL) at once,
/// and so does every later one. The pager still has to be released with
/// `miosa_pager_free`. NULL is ignored.
///
/// # Safety
/// `pager` is NULL or a live pager.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn miosa_pager_close(pager: *const miosa_pager) {
    ffi::guard_void(|| {
        // SAFETY: a non-NULL pager is live by contract.
        if let Some(pager) = unsafe { pager.as_ref() } {
            pager.inner.close();
        }
    });
}

/// Releases a pager. NULL is ignored.
///
/// Ownership: takes back a pager from `miosa_pager_new`; do not use it afterwards.
///
/// # Safety
/// `pager` is NULL or a live pager that is freed only once, with no call on it running.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn miosa_pager_free(pager: *mut miosa_pager) {
    ffi::guard_void(|| {
        if !pager.is_null() {
            // SAFETY: from `Box::into_raw` in `miosa_pager_new`, freed once by contract.
            drop(unsafe { Box::from_raw(pager) });
        }
    });
}
