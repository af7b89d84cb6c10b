//! `miosa_download_to_path` / `miosa_upload_from_path`: a sandbox file to or
//! from a local path, streamed (never held whole in memory), with progress.

use std::ffi::{c_char, c_void};
use std::sync::Arc;

use crate::cancel::miosa_cancel_token;
use crate::client::{client_ref, miosa_client};
use crate::error::{miosa_error, miosa_status};
use crate::ffi::{self, Outcome};
use crate::log::UserData;

/// Receives a transfer's progress: `done` bytes so far of `total` (-1 when
/// the server announced no length), and the `user_data` given with it. It runs
/// on one of the library's I/O threads, about once per MiB and at the end.
pub type miosa_progress_cb =
    Option<unsafe extern "C" fn(done: u64, total: i64, user_data: *mut c_void)>;

fn progress(cb: miosa_progress_cb, user_data: *mut c_void) -> Option<miosa_core::Progress> {
    let cb = cb?;
    let user_data = UserData(user_data);
    Some(Arc::new(move |done: u64, total: Option<u64>| {
        let total = total.and_then(|t| i64::try_from(t).ok()).unwrap_or(-1);
        ffi::guard_void(|| {
            // SAFETY: the caller keeps `cb` and `user_data` valid for the call.
            unsafe { cb(done, total, user_data.get()) };
        });
    }))
}

/// The client the transfer runs on: `client`, watching `cancel` when given.
///
/// # Safety
/// `client` is NULL or live; `cancel` is NULL or a live token.
unsafe fn transfer_client(
    client: *const miosa_client,
    cancel: *const miosa_cancel_token,
) -> Result<miosa_core::Client, crate::error::Failure> {
    // SAFETY: forwarded contract.
    let client = unsafe { client_ref(client) }?;
    // SAFETY: forwarded contract.
    Ok(match unsafe { cancel.as_ref() } {
        Some(token) => client.with_cancel(token.inner.clone()),
        None => client.clone(),
    })
}

/// Downloads the sandbox file `remote_path` of `sandbox_id` into the local
/// file `local_path` as it arrives, without holding it in memory (so the
/// client's `max_download_bytes` does not apply). The file appears under its
/// name only once complete. `on_progress` (may be NULL) is called with
/// `user_data`; `cancel` (may be NULL) ends the transfer with
/// `MIOSA_ERR_CANCELLED` from any thread. Blocks until done.
///
/// `*out_bytes` (when not NULL) receives the number of bytes written; it is 0
/// on failure, when `*err` (when requested) holds an error to free with
/// `miosa_error_free`. A local file that cannot be created is
/// `MIOSA_ERR_INVALID_ARGUMENT` naming `local_path`.
///
/// # Safety
/// `client` is a live handle; strings are NUL-terminated; `on_progress` and
/// `user_data` stay usable from another thread until the call returns.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn miosa_download_to_path(
    client: *const miosa_client,
    sandbox_id: *const c_char,
    remote_path: *const c_char,
    local_path: *const c_char,
    on_progress: miosa_progress_cb,
    user_data: *mut c_void,
    cancel: *const miosa_cancel_token,
    out_bytes: *mut u64,
    err: *mut *mut miosa_error,
) -> miosa_status {
    // SAFETY: the pointer contract is the caller's, as documented above.
    unsafe {
        ffi::guard(err, || -> Outcome {
            if let Some(out) = out_bytes.as_mut() {
                *out = 0;
            }
            let client = transfer_client(client, cancel)?;
            let sandbox_id = ffi::required_str(sandbox_id, "sandbox_id")?.to_owned();
            let remote_path = ffi::required_str(remote_path, "remote_path")?.to_owned();
            let local_path = ffi::required_str(local_path, "local_path")?.to_owned();
            let progress = progress(on_progress, user_data);
            let runner = client.clone();
            let written = runner.block_on(async move {
                client
                    .download_to_path(&sandbox_id, &remote_path, local_path, progress)
                    .await
            })?;
            if let Some(out) = out_bytes.as_mut() {
                *out = written;
            }
            Ok(())
        })
    }
}

/// Uploads the local file `local_path` to the sandbox path `remote_path` of
/// `sandbox_id`, reading it as it is sent, without holding it in memory.
/// `on_progress`, `user_data` and `cancel` as `miosa_download_to_path`.
/// Blocks until done.
///
/// Ownership: on `MIOSA_OK`, `*out_json` (when not NULL) holds the server's
/// answer (`{"path": ..., "size": ...}`), a string the caller frees with
/// `miosa_string_free`; on failure it is NULL and `*err` (when requested)
/// holds an error to free with `miosa_error_free`. A local file that cannot
/// be read is `MIOSA_ERR_INVALID_ARGUMENT` naming `local_path`.
///
/// # Safety
/// As `miosa_download_to_path`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn miosa_upload_from_path(
    client: *const miosa_client,
    sandbox_id: *const c_char,
    remote_path: *const c_char,
    local_path: *const c_char,
    on_progress: miosa_progress_cb,
    user_data: *mut c_void,
    cancel: *const miosa_cancel_token,
    out_json: *mut *mut c_char,
    err: *mut *mut miosa_error,
) -> miosa_status {
    // SAFETY: the pointer contract is the caller's, as documented above.
    unsafe {
        ffi::guard(err, || -> Outcome {
            if let Some(out) = out_json.as_mut() {
                *out = std::ptr::null_mut();
            }
            let client = transfer_client(client, cancel)?;
            let sandbox_id = ffi::required_str(sandbox_id, "sandbox_id")?.to_owned();
            let remote_path = ffi::required_str(remote_path, "remote_path")?.to_owned();
            let local_path = ffi::required_str(local_path, "local_path")?.to_owned();
            let progress = progress(on_progress, user_data);
            let runner = client.clone();
            let answer = runner.block_on(async move {
                client
                    .upload_from_path(&sandbox_id, &remote_path, local_path, progress)
                    .await
            })?;
            if let Some(out) = out_json.as_mut() {
                *out = ffi::c_json(&answer);
            }
            Ok(())
        })
    }
}
