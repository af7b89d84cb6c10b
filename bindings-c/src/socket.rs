//! WebSockets: `miosa_socket_open` opens a terminal, an interactive exec or a
//! computer's event feed; `miosa_socket_next` waits (with a deadline) for
//! the next message; `miosa_socket_send`, `miosa_socket_resize` and
//! `miosa_socket_signal` write; `miosa_socket_close` from any thread wakes a
//! pending `miosa_socket_next`; `miosa_socket_free` releases the handle.

use std::ffi::{c_char, c_int, c_long};
use std::ptr;
use std::sync::Mutex;
use std::task::Poll;
use std::time::Duration;

use miosa_core::{Channel, Socket};

use crate::call::{Family, decode};
use crate::client::miosa_client;
use crate::error::{miosa_error, miosa_status};
use crate::ffi::{self, Outcome, invalid};

/// Where a message came from, or why `miosa_socket_next` returned none.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum miosa_socket_channel {
    /// No message: the socket has ended (closed by either side, or the exec exited).
    MIOSA_SOCKET_END = 0,
    /// No message yet: the wait given to `miosa_socket_next` passed; the socket stays open.
    MIOSA_SOCKET_WAITING = 1,
    /// A text frame (an event's JSON, terminal output sent as text).
    MIOSA_SOCKET_TEXT = 2,
    /// A binary frame (terminal output).
    MIOSA_SOCKET_BINARY = 3,
    /// An exec's standard output.
    MIOSA_SOCKET_STDOUT = 4,
    /// An exec's standard error.
    MIOSA_SOCKET_STDERR = 5,
}

/// An open WebSocket. Opaque; release with `miosa_socket_free`.
pub struct miosa_socket {
    socket: Socket,
    /// The bytes of the last message handed out, kept until the next call.
    current: Mutex<Vec<u8>>,
}

impl std::fmt::Debug for miosa_socket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("miosa_socket")
            .field("socket", &self.socket)
            .finish()
    }
}

fn live<'a>(socket: *const miosa_socket) -> Result<&'a miosa_socket, crate::error::Failure> {
    // SAFETY: a non-NULL socket is live by the caller's contract.
    unsafe { socket.as_ref() }.ok_or_else(|| invalid("`socket` is NULL"))
}

/// Opens a socket operation (`MIOSA_OP_SANDBOX_TERMINAL_STREAM`,
/// `MIOSA_OP_EXEC_SPAWN`, `MIOSA_OP_EVENTS_SUBSCRIBE`); a refused upgrade
/// (401, 404, ...) fails here with the usual status.
///
/// Ownership: on success `*out` is a socket to release with
/// `miosa_socket_free`; on failure it is NULL and `*err` (when requested) holds
/// an error to free with `miosa_error_free`.
///
/// # Safety
/// `client` is a live client; `op` a NUL-terminated string; `args_json` and
/// `params_json` NULL or NUL-terminated; `out` valid for writes; `err` NULL or valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn miosa_socket_open(
    client: *const miosa_client,
    op: *const c_char,
    args_json: *const c_char,
    params_json: *const c_char,
    out: *mut *mut miosa_socket,
    err: *mut *mut miosa_error,
) -> miosa_status {
    // SAFETY: the pointer contract is the caller's, as documented above.
    unsafe {
        ffi::guard(err, || -> Outcome {
            let out = ffi::out_slot(out, "out")?;
            let call = decode(client, op, args_json, params_json, None, Family::Socket)?;
            let socket = call
                .client
                .invoke_blocking(call.op, call.args, call.params)?
                .into_socket()?;
            *out = Box::into_raw(Box::new(miosa_socket {
                socket,
                current: Mutex::new(Vec::new()),
            }));
            Ok(())
        })
    }
}

/// Waits up to `timeout_ms` (a negative value: without limit) for the next
/// message. `*channel` says what came: a message (`*data`, `*len` borrowed from
/// the socket until the next call on it), `MIOSA_SOCKET_WAITING` when the wait
/// passed, or `MIOSA_SOCKET_END` once the socket has ended. An error (a frame
/// over `max_event_bytes`, a broken connection) ends the socket.
///
/// # Safety
/// `socket` is a live socket; `channel`, `data` and `len` are valid for writes;
/// `err` is NULL or valid. Only one thread calls this at a time.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn miosa_socket_next(
    socket: *const miosa_socket,
    timeout_ms: c_long,
    channel: *mut miosa_socket_channel,
    data: *mut *const u8,
    len: *mut usize,
    err: *mut *mut miosa_error,
) -> miosa_status {
    // SAFETY: the pointer contract is the caller's, as documented above.
    unsafe {
        ffi::guard(err, || -> Outcome {
            let channel = channel
                .as_mut()
                .ok_or_else(|| invalid("`channel` is NULL"))?;
            let data = data.as_mut().ok_or_else(|| invalid("`data` is NULL"))?;
            let len = len.as_mut().ok_or_else(|| invalid("`len` is NULL"))?;
            *channel = miosa_socket_channel::MIOSA_SOCKET_END;
            *data = ptr::null();
            *len = 0;
            let socket = live(socket)?;
            // No lock is held while waiting, so `miosa_socket_close` can wake this read.
            let next = match u64::try_from(timeout_ms) {
                Ok(ms) => socket.socket.next_timeout(Duration::from_millis(ms)),
                Err(_) => Poll::Ready(socket.socket.next_blocking()),
            };
            let message = match next {
                Poll::Pending => {
                    *channel = miosa_socket_channel::MIOSA_SOCKET_WAITING;
                    return Ok(());
                }
                Poll::Ready(None) => return Ok(()),
                Poll::Ready(Some(Err(e))) => {
                    socket.socket.close();
                    return Err(e.into());
                }
                Poll::Ready(Some(Ok(message))) => message,
            };
            *channel = match message.channel {
                Channel::Text => miosa_socket_channel::MIOSA_SOCKET_TEXT,
                Channel::Binary => miosa_socket_channel::MIOSA_SOCKET_BINARY,
                Channel::Stdout => miosa_socket_channel::MIOSA_SOCKET_STDOUT,
                Channel::Stderr => miosa_socket_channel::MIOSA_SOCKET_STDERR,
            };
            let mut current = socket
                .current
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            *current = message.data.to_vec();
            *data = current.as_ptr();
            *len = current.len();
            Ok(())
        })
    }
}

/// Sends `len` bytes: terminal input, or an exec's stdin. `as_text` non-zero
/// sends a text frame (the bytes must be UTF-8), zero a binary one.
///
/// # Safety
/// `socket` is a live socket; `bytes` is valid for `len` bytes (NULL only when
/// `len` is 0); `err` is NULL or valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn miosa_socket_send(
    socket: *const miosa_socket,
    bytes: *const u8,
    len: usize,
    as_text: c_int,
    err: *mut *mut miosa_error,
) -> miosa_status {
    // SAFETY: the pointer contract is the caller's, as documented above.
    unsafe {
        ffi::guard(err, || -> Outcome {
            let socket = live(socket)?;
            let bytes: &[u8] = if len == 0 {
                &[]
            } else if bytes.is_null() {
                return Err(invalid("`bytes` is NULL"));
            } else {
                std::slice::from_raw_parts(bytes, len)
            };
            if as_text != 0 {
                let text = std::str::from_utf8(bytes)
                    .map_err(|_| invalid("`bytes` is not UTF-8 text; send it with as_text = 0"))?;
                socket.socket.send_text_blocking(text)?;
            } else {
                socket.socket.send_bytes_blocking(bytes)?;
            }
            Ok(())
        })
    }
}

/// Resizes the terminal to `cols` × `rows`.
///
/// # Safety
/// `socket` is a live socket; `err` is NULL or valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn miosa_socket_resize(
    socket: *const miosa_socket,
    cols: u32,
    rows: u32,
    err: *mut *mut miosa_error,
) -> miosa_status {
    // SAFETY: the pointer contract is the caller's, as documented above.
    unsafe {
        ffi::guard(err, || -> Outcome {
            live(socket)?.socket.resize_blocking(cols, rows)?;
            Ok(())
        })
    }
}

/// Sends a signal such as `"SIGINT"` to an exec's process.
///
/// # Safety
/// `socket` is a live socket; `signal` NUL-terminated; `err` is NULL or valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn miosa_socket_signal(
    socket: *const miosa_socket,
    signal: *const c_char,
    err: *mut *mut miosa_error,
) -> miosa_status {
    // SAFETY: the pointer contract is the caller's, as documented above.
    unsafe {
        ffi::guard(err, || -> Outcome {
            let name = ffi::required_str(signal, "signal")?;
            live(socket)?.socket.signal_blocking(name)?;
            Ok(())
        })
    }
}

/// The exit code of an exec once its `exit` frame has arrived: writes it to
/// `*code` and returns 1; returns 0 (and leaves `*code`) before that.
///
/// # Safety
/// `socket` is NULL or a live socket; `code` is valid for writes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn miosa_socket_exit_code(
    socket: *const miosa_socket,
    code: *mut i64,
) -> c_int {
    ffi::guard_value(0, || {
        // SAFETY: the pointers are live by contract.
        let (socket, slot) = unsafe { (socket.as_ref(), code.as_mut()) };
        match (socket.and_then(|s| s.socket.exit_code()), slot) {
            (Some(exit), Some(slot)) => {
                *slot = exit;
                1
            }
            _ => 0,
        }
    })
}

/// Closes the socket now, from any thread: a `miosa_socket_next` blocked on
/// another thread returns `MIOSA_SOCKET_END` at once. The socket still has to
/// be released with `miosa_socket_free`. NULL is ignored.
///
/// # Safety
/// `socket` is NULL or a live socket.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn miosa_socket_close(socket: *const miosa_socket) {
    ffi::guard_void(|| {
        // SAFETY: a non-NULL socket is live by contract.
        if let Some(socket) = unsafe { socket.as_ref() } {
            socket.socket.close();
        }
    });
}

/// Closes the socket and releases it. NULL is ignored.
///
/// # Safety
/// `socket` is NULL or a live socket freed only once, with no call on it running.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn miosa_socket_free(socket: *mut miosa_socket) {
    ffi::guard_void(|| {
        if !socket.is_null() {
            // SAFETY: from `Box::into_raw` in `miosa_socket_open`, freed once by contract.
            let socket = unsafe { Box::from_raw(socket) };
            socket.socket.close();
        }
    });
}
