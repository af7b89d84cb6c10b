//! `miosa_set_log_callback`: the core's per-request log records, as one line
//! of text each, to a C function.

use std::ffi::{CString, c_char, c_int, c_void};
use std::sync::Arc;

use crate::error::{miosa_error, miosa_status};
use crate::ffi::{self, Outcome, invalid};

/// Level of a record passed to `miosa_log_cb`: retry waits and other detail.
pub const MIOSA_LOG_DEBUG: c_int = 0;
/// Level of a record passed to `miosa_log_cb`: one per completed HTTP attempt.
pub const MIOSA_LOG_INFO: c_int = 1;
/// Level of a record passed to `miosa_log_cb`: a failed attempt.
pub const MIOSA_LOG_WARN: c_int = 2;

/// Receives a log record: its level (`MIOSA_LOG_*`), one line of text
/// (method, route template, status, attempt, duration, request id; never the
/// key, a token or a body), and the `user_data` given with it. It may run on
/// any thread; `line` is valid only during the call.
pub type miosa_log_cb =
    Option<unsafe extern "C" fn(level: c_int, line: *const c_char, user_data: *mut c_void)>;

/// The caller's pointer, handed back untouched on the I/O threads.
pub(crate) struct UserData(pub(crate) *mut c_void);
// SAFETY: the library never dereferences it; the caller promised it may be used from any thread.
unsafe impl Send for UserData {}
// SAFETY: as above.
unsafe impl Sync for UserData {}

impl UserData {
    pub(crate) fn get(&self) -> *mut c_void {
        self.0
    }
}

fn level_code(level: miosa_core::LogLevel) -> c_int {
    match level {
        miosa_core::LogLevel::Debug => MIOSA_LOG_DEBUG,
        miosa_core::LogLevel::Info => MIOSA_LOG_INFO,
        miosa_core::LogLevel::Warn => MIOSA_LOG_WARN,
    }
}

/// Sends every record at or above `min_level` (`MIOSA_LOG_*`) to `cb`, for
/// the whole process; `cb` NULL stops it (the `MIOSA_LOG` environment
/// variable, which prints to stderr, then applies again).
///
/// # Safety
/// `cb` stays callable and `user_data` usable from any thread until the
/// callback is replaced or removed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn miosa_set_log_callback(
    min_level: c_int,
    cb: miosa_log_cb,
    user_data: *mut c_void,
    err: *mut *mut miosa_error,
) -> miosa_status {
    // SAFETY: the pointer contract is the caller's, as documented above.
    unsafe {
        ffi::guard(err, || -> Outcome {
            let Some(cb) = cb else {
                miosa_core::clear_log_sink();
                return Ok(());
            };
            let level = match min_level {
                MIOSA_LOG_DEBUG => miosa_core::LogLevel::Debug,
                MIOSA_LOG_INFO => miosa_core::LogLevel::Info,
                MIOSA_LOG_WARN => miosa_core::LogLevel::Warn,
                other => {
                    return Err(invalid(format!(
                        "invalid `min_level`: expected MIOSA_LOG_DEBUG, MIOSA_LOG_INFO or MIOSA_LOG_WARN, got {other}"
                    )));
                }
            };
            let user_data = UserData(user_data);
            miosa_core::set_log_sink(
                level,
                Arc::new(move |record: &miosa_core::LogRecord| {
                    let Ok(line) = CString::new(record.to_string()) else {
                        return;
                    };
                    ffi::guard_void(|| {
                        // SAFETY: the caller keeps `cb` valid while it is installed.
                        cb(level_code(record.level), line.as_ptr(), user_data.get());
                    });
                }),
            );
            Ok(())
        })
    }
}
