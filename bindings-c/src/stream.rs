//! Server-sent events, two ways. Push: `miosa_stream` calls a callback for
//! each event on the thread that called it, one event at a time, so
//! `user_data` needs no locking and the callback may itself call the library;
//! returning `MIOSA_STOP` closes the connection. Pull: `miosa_stream_open`
//! returns a handle whose `miosa_stream_next` yields one event per call, for
//! programs that own their loop or must close a quiet stream without waiting
//! for an event. Either way the connection is read on the client's I/O threads.

use std::ffi::{c_char, c_int, c_void};
use std::ptr;
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::Duration;

use miosa_core::{Client, Event, EventStream};

use crate::call::{Family, decode};
use crate::cancel::miosa_cancel_token;
use crate::client::{check_struct_size, miosa_client};
use crate::error::{miosa_error, miosa_status};
use crate::ffi::{self, Outcome, invalid};

/// Returned by a `miosa_event_cb` to receive the next event.
pub const MIOSA_CONTINUE: c_int = 0;
/// Returned by a `miosa_event_cb` to close the stream; `miosa_stream` then returns `MIOSA_OK`.
/// Any value other than `MIOSA_CONTINUE` stops too.
pub const MIOSA_STOP: c_int = 1;

/// One server-sent event. Every pointer is borrowed: valid only during the
/// callback that receives it; copy what you keep.
#[repr(C)]
#[derive(Debug)]
pub struct miosa_event {
    /// The event type; `"message"` when the server named none. Never NULL.
    pub event: *const c_char,
    /// The data lines joined with `\n`, NUL-terminated. Never NULL.
    pub data: *const c_char,
    /// Length of `data` in bytes (the data may itself contain NUL bytes).
    pub data_len: usize,
    /// The last event id seen on the stream, or NULL.
    pub id: *const c_char,
    /// The reconnection delay the server sent with this event in
    /// milliseconds, or -1.
    pub retry_ms: i64,
}

/// Receives one event. Return `MIOSA_CONTINUE` for the next one or
/// `MIOSA_STOP` to close the stream. Must not free `event` or its strings,
/// and must not `longjmp` out.
pub type miosa_event_cb =
    Option<unsafe extern "C" fn(event: *const miosa_event, user_data: *mut c_void) -> c_int>;

/// The owned text behind one `miosa_event`.
#[derive(Debug)]
struct EventText {
    event: Vec<u8>,
    data: Vec<u8>,
    id: Option<Vec<u8>>,
}

fn nul_terminated(text: String) -> Vec<u8> {
    let mut bytes = text.into_bytes();
    bytes.push(0);
    bytes
}

impl EventText {
    fn new(e: Event) -> Self {
        // An event name or id cannot hold NUL on the wire (it ends a field), but
        // data can: `data_len` carries its true length.
        Self {
            event: nul_terminated(e.event),
            data: nul_terminated(e.data),
            id: e.id.map(nul_terminated),
        }
    }

    fn view(&self, retry: Option<u64>) -> miosa_event {
        miosa_event {
            event: self.event.as_ptr().cast(),
            data: self.data.as_ptr().cast(),
            data_len: self.data.len() - 1,
            id: self
                .id
                .as_ref()
                .map_or(ptr::null(), |id| id.as_ptr().cast()),
            retry_ms: retry.map_or(-1, |ms| i64::try_from(ms).unwrap_or(i64::MAX)),
        }
    }
}

/// Opens an operation that streams events (`sandbox.events.stream`,
/// `sandbox.files.watch`, `completions.stream`, `stream_sse` with a path, ...)
/// and calls `cb` for each event, on the calling thread, until the stream
/// ends, `cb` returns `MIOSA_STOP`, or an error occurs. Arguments as `miosa_call`.
///
/// A dropped connection is resumed with `Last-Event-ID` when the events carry
/// ids, so nothing is lost or repeated. Errors that happen when opening (401,
/// 404, ...) or later (a broken, unresumable connection; an idle timeout of
/// `timeout_ms`) are returned; events already delivered stay delivered.
/// Returns `MIOSA_OK` when the stream ended cleanly (end of body or `[DONE]`)
/// or `cb` stopped it; either way the connection is closed on return.
///
/// Ownership: `user_data` is passed through untouched and stays the caller's.
/// The `miosa_event` given to `cb` and its strings are borrowed for the
/// duration of that callback only. On failure `*err` (when requested) holds an
/// error to free with `miosa_error_free`.
///
/// # Safety
/// `cb` is a valid function; the rest as `miosa_call`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn miosa_stream(
    client: *const miosa_client,
    op: *const c_char,
    args_json: *const c_char,
    params_json: *const c_char,
    cb: miosa_event_cb,
    user_data: *mut c_void,
    err: *mut *mut miosa_error,
) -> miosa_status {
    // SAFETY: the pointer contract is the caller's, as documented above.
    unsafe {
        ffi::guard(err, || -> Outcome {
            let cb = cb.ok_or_else(|| invalid("`cb` is NULL"))?;
            let call = decode(client, op, args_json, params_json, None, Family::Events)?;
            let stream = call
                .client
                .invoke_blocking(call.op, call.args, call.params)?
                .into_events()?;
            while let Some(next) = stream.next_blocking() {
                let event = next?;
                let retry = event.retry;
                let text = EventText::new(event);
                let view = text.view(retry);
                if cb(&view, user_data) != MIOSA_CONTINUE {
                    break;
                }
            }
            // Closing here, not at drop, makes "the connection is closed on return" hold before C runs on.
            stream.close();
            Ok(())
        })
    }
}

/// How `miosa_stream_with` runs a stream. Start from
/// `MIOSA_STREAM_OPTIONS_INIT`, which sets `struct_size` and leaves the rest
/// zero (no ticks, no token).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct miosa_stream_options {
    /// `sizeof(miosa_stream_options)` as the caller compiled it; a size this
    /// library does not know is refused with `MIOSA_ERR_INVALID_ARGUMENT`.
    pub struct_size: usize,
    /// When no event has come for this many milliseconds, the callback is
    /// called with `event` NULL (a tick), and again every `tick_ms` while the
    /// stream stays quiet; returning `MIOSA_STOP` from a tick closes the
    /// stream and `miosa_stream_with` returns `MIOSA_OK`. 0: no ticks.
    pub tick_ms: u64,
    /// A token that ends the stream from any thread: once it is cancelled the
    /// call returns `MIOSA_ERR_CANCELLED` at once, whether it is waiting for
    /// the connection or for an event. NULL for none.
    pub cancel: *const miosa_cancel_token,
}

/// The sizes of every `miosa_stream_options` layout this library reads.
const STREAM_OPTIONS_SIZES: [usize; 1] = [std::mem::size_of::<miosa_stream_options>()];

/// Waits for the next event, or for `tick` to pass without one (`Ready(None)`
/// of the outer poll means a tick). The stream's own wait is cancel safe, so
/// an event arriving as the tick fires is kept for the next call.
fn next_or_tick(
    client: &Client,
    stream: &Arc<EventStream>,
    tick: Option<Duration>,
) -> Result<Option<Option<miosa_core::Result<Event>>>, miosa_core::Error> {
    if let Poll::Ready(item) = stream.try_next() {
        return Ok(Some(item));
    }
    let Some(tick) = tick else {
        return Ok(Some(stream.next_blocking()));
    };
    let stream = Arc::clone(stream);
    client.block_on(async move { Ok(tokio::time::timeout(tick, stream.next()).await.ok()) })
}

/// Like `miosa_stream`, with options: periodic ticks so a quiet stream can be
/// stopped from the callback, and a cancel token. `options` may be NULL for
/// the behaviour of `miosa_stream`.
///
/// The callback receives `event` NULL for a tick (only when
/// `options->tick_ms` is set); it runs on the calling thread like every event.
///
/// Ownership: as `miosa_stream`; the library keeps no pointer to `options`.
///
/// # Safety
/// `options` is NULL or points at a struct whose `struct_size` is set; the
/// rest as `miosa_stream`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn miosa_stream_with(
    client: *const miosa_client,
    op: *const c_char,
    args_json: *const c_char,
    params_json: *const c_char,
    options: *const miosa_stream_options,
    cb: miosa_event_cb,
    user_data: *mut c_void,
    err: *mut *mut miosa_error,
) -> miosa_status {
    // SAFETY: the pointer contract is the caller's, as documented above.
    unsafe {
        ffi::guard(err, || -> Outcome {
            let cb = cb.ok_or_else(|| invalid("`cb` is NULL"))?;
            let (tick_ms, token) = if options.is_null() {
                (0, None)
            } else {
                // Only the leading size is read before the layout is known to match.
                check_struct_size(
                    "miosa_stream_options",
                    options.cast::<usize>().read(),
                    &STREAM_OPTIONS_SIZES,
                )?;
                let options = &*options;
                (options.tick_ms, options.cancel.as_ref())
            };
            let tick = (tick_ms > 0).then(|| Duration::from_millis(tick_ms));
            let call = decode(client, op, args_json, params_json, None, Family::Events)?;
            let client = match token {
                Some(token) => call.client.with_cancel(token.inner.clone()),
                None => call.client.clone(),
            };
            let stream = Arc::new(
                client
                    .invoke_blocking(call.op, call.args, call.params)?
                    .into_events()?,
            );
            let result = loop {
                let next = match next_or_tick(&client, &stream, tick) {
                    Ok(next) => next,
                    Err(e) => break Err(e.into()),
                };
                let Some(next) = next else {
                    if cb(ptr::null(), user_data) != MIOSA_CONTINUE {
                        break Ok(());
                    }
                    continue;
                };
                let event = match next {
                    None => break Ok(()),
                    Some(Err(e)) => break Err(e.into()),
                    Some(Ok(event)) => event,
                };
                let retry = event.retry;
                let text = EventText::new(event);
                let view = text.view(retry);
                if cb(&view, user_data) != MIOSA_CONTINUE {
                    break Ok(());
                }
            };
            stream.close();
            result
        })
    }
}

/// An open event stream read one event at a time (see `miosa_stream_open`).
/// Read it from one thread at a time; `miosa_stream_close` may come from any
/// thread and wakes a blocked `miosa_stream_next`.
#[derive(Debug)]
pub struct miosa_event_stream {
    stream: EventStream,
    /// The event last handed out; `view` points into `text`.
    current: Mutex<Option<(EventText, miosa_event)>>,
}

/// Opens an operation that streams events, like `miosa_stream`, and returns
/// the open stream instead of calling back. Errors of the opening request
/// (401, 404, ...) are returned here.
///
/// Ownership: on `MIOSA_OK`, `*out` holds a stream the caller releases with
/// `miosa_stream_free`, which closes the connection (it may outlive
/// `client`). On failure `*out` is NULL and `*err` (when requested) holds an
/// error to free with `miosa_error_free`.
///
/// # Safety
/// As `miosa_call`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn miosa_stream_open(
    client: *const miosa_client,
    op: *const c_char,
    args_json: *const c_char,
    params_json: *const c_char,
    out: *mut *mut miosa_event_stream,
    err: *mut *mut miosa_error,
) -> miosa_status {
    // SAFETY: the pointer contract is the caller's, as documented above.
    unsafe {
        ffi::guard(err, || -> Outcome {
            let out = ffi::out_slot(out, "out")?;
            let call = decode(client, op, args_json, params_json, None, Family::Events)?;
            let stream = call
                .client
                .invoke_blocking(call.op, call.args, call.params)?
                .into_events()?;
            *out = Box::into_raw(Box::new(miosa_event_stream {
                stream,
                current: Mutex::new(None),
            }));
            Ok(())
        })
    }
}

/// Waits for the next event. At the end of the stream (clean end or
/// `[DONE]`), returns `MIOSA_OK` with `*event` set to NULL. Errors (a broken,
/// unresumable connection; an idle timeout of `timeout_ms`) end the
/// stream: later calls return the end.
///
/// Ownership: `*event` is borrowed from the stream: valid until the next
/// `miosa_stream_next` or `miosa_stream_free` on it; never free it. On
/// failure `*event` is NULL and `*err` (when requested) holds an error to free
/// with `miosa_error_free`.
///
/// # Safety
/// `stream` is a live stream; `event` is valid for writes; `err` is NULL or valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn miosa_stream_next(
    stream: *mut miosa_event_stream,
    event: *mut *const miosa_event,
    err: *mut *mut miosa_error,
) -> miosa_status {
    // SAFETY: the pointer contract is the caller's, as documented above.
    unsafe {
        ffi::guard(err, || -> Outcome {
            let slot = event.as_mut().ok_or_else(|| invalid("`event` is NULL"))?;
            *slot = ptr::null();
            let stream = stream.as_ref().ok_or_else(|| invalid("`stream` is NULL"))?;
            let current = || {
                stream
                    .current
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
            };
            *current() = None;
            // No lock is held while waiting, so `miosa_stream_close` can wake this read.
            let Some(next) = stream.stream.next_blocking() else {
                return Ok(());
            };
            let next = next?;
            let retry = next.retry;
            let text = EventText::new(next);
            let view = text.view(retry);
            let mut current = current();
            // The strings live in `text`'s heap buffers, which do not move with the tuple.
            let (_, view) = current.insert((text, view));
            *slot = view;
            Ok(())
        })
    }
}

/// Closes the connection now, from any thread: a `miosa_stream_next`
/// blocked on another thread returns the end (`MIOSA_OK`, `*event` NULL) at
/// once, and so does every later one. The stream still has to be released
/// with `miosa_stream_free`. NULL is ignored.
///
/// # Safety
/// `stream` is NULL or a live stream.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn miosa_stream_close(stream: *const miosa_event_stream) {
    ffi::guard_void(|| {
        // SAFETY: a non-NULL stream is live by contract.
        if let Some(stream) = unsafe { stream.as_ref() } {
            stream.stream.close();
        }
    });
}

/// Closes the connection and releases the stream. NULL is ignored.
///
/// Ownership: takes back a stream from `miosa_stream_open`, and with it the
/// last event handed out; do not use either afterwards.
///
/// # Safety
/// `stream` is NULL or a live stream that is freed only once, with no call on it running.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn miosa_stream_free(stream: *mut miosa_event_stream) {
    ffi::guard_void(|| {
        if !stream.is_null() {
            // SAFETY: from `Box::into_raw` in `miosa_stream_open`, freed once by contract.
            let stream = unsafe { Box::from_raw(stream) };
            stream.stream.close();
        }
    });
}
