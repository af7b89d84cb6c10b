//! `miosa_call_watching`: the waits of the table (`sandboxes.wait_until_ready`,
//! `computer.wait_until_running`, `computer.wait_until_stopped`) with a
//! callback told each new lifecycle state, through the core's `invoke_watching`.

use std::ffi::{CString, c_char, c_void};
use std::sync::Arc;

use serde_json::Value;

use crate::call::{Family, decode};
use crate::client::miosa_client;
use crate::error::{miosa_error, miosa_status};
use crate::ffi::{self, Outcome};
use crate::log::UserData;

/// Receives each new lifecycle state a wait sees (`"creating"`, then
/// `"running"`, ...), once per change, with the `user_data` given with it.
/// `state` is a NUL-terminated string valid only during the call. It runs on
/// one of the library's I/O threads while the calling thread waits.
pub type miosa_state_cb =
    Option<unsafe extern "C" fn(state: *const c_char, user_data: *mut c_void)>;

fn reporter(on_state: miosa_state_cb, user_data: *mut c_void) -> miosa_core::OnState {
    let user_data = UserData(user_data);
    Arc::new(move |state: &str| {
        let (Some(cb), Ok(state)) = (on_state, CString::new(state)) else {
            return;
        };
        ffi::guard_void(|| {
            // SAFETY: the caller keeps `cb` and `user_data` valid for the call.
            unsafe { cb(state.as_ptr(), user_data.get()) };
        });
    })
}

/// Like `miosa_call`, for a wait that reports its states: `op` is one of
/// `MIOSA_OP_SANDBOXES_WAIT_UNTIL_READY`, `MIOSA_OP_COMPUTER_WAIT_UNTIL_RUNNING`
/// or `MIOSA_OP_COMPUTER_WAIT_UNTIL_STOPPED` (any other is refused with
/// `MIOSA_ERR_USAGE`); `on_state` (may be NULL) is called with each new state
/// seen while the wait polls. `*out_json` receives `true`, or `false` at the deadline.
///
/// Ownership: as `miosa_call`.
///
/// # Safety
/// As `miosa_call`; `on_state` and `user_data` stay usable from another
/// thread until the call returns.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn miosa_call_watching(
    client: *const miosa_client,
    op: *const c_char,
    args_json: *const c_char,
    params_json: *const c_char,
    on_state: miosa_state_cb,
    user_data: *mut c_void,
    out_json: *mut *mut c_char,
    err: *mut *mut miosa_error,
) -> miosa_status {
    // SAFETY: the pointer contract is the caller's, as documented above.
    unsafe {
        ffi::guard(err, || -> Outcome {
            let out = ffi::out_slot(out_json, "out_json")?;
            let call = decode(client, op, args_json, params_json, None, Family::Json)?;
            let report = reporter(on_state, user_data);
            let ready =
                call.client
                    .invoke_watching_blocking(call.op, call.args, call.params, report)?;
            *out = ffi::c_json(&Value::Bool(ready));
            Ok(())
        })
    }
}
