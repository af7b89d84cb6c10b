//! The C ABI (`bindings-c`, libmiosa) fed arbitrary bytes as C callers would
//! pass them: NUL-terminated copies (so invalid UTF-8 and broken JSON reach
//! the library), NULL where an input is missing, and a NULL or real error
//! slot. The client's base URL is a closed loopback port, so every call that
//! gets past validation fails fast with a connection error.
//!
//! Input: one selector byte, then up to three NUL-separated fields (a C
//! string cannot hold a NUL, so the separator costs nothing): the op name (or
//! HTTP method), the args JSON (or path, or options JSON), the params JSON (or
//! body); bytes after a third NUL are ignored. A missing field is passed as
//! NULL, and so is field i when selector bit 3+i is set (an empty field is
//! the empty string). Selector bits 0..2 pick the entry point; bit 7 passes
//! NULL as the error slot. Selector 7 builds a client from the first field as
//! settings JSON (`miosa_client_new_json`).
//!
//! Checked: no panic (a panic caught at the boundary comes back as
//! `MIOSA_ERR_INTERNAL`, and libfuzzer-sys aborts on any panic anyway); the
//! out-parameter contract (a result on success and no error; no result and a
//! consistent error on failure); every string, buffer, error, pager, stream
//! and derived client the library hands out is freed with its own free
//! function, so LeakSanitizer sees any leak.
#![no_main]
// The handles are opaque to C (only pointers to them cross), as in miosa.h.
#![allow(improper_ctypes)]

use std::ffi::{CStr, CString, c_char};
use std::ptr;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use miosa_c::{
    miosa_bytes, miosa_call, miosa_call_bytes, miosa_call_upload, miosa_client, miosa_error,
    miosa_event, miosa_event_stream, miosa_options, miosa_pager, miosa_request, miosa_status,
};

// The exports the crate does not re-export by path, linked by their C
// symbols exactly as a C program links them (signatures as in miosa.h).
unsafe extern "C" {
    fn miosa_string_free(s: *mut c_char);
    fn miosa_bytes_free(bytes: *mut miosa_bytes);
    fn miosa_client_new(
        api_key: *const c_char,
        options: *const miosa_options,
        out: *mut *mut miosa_client,
        err: *mut *mut miosa_error,
    ) -> miosa_status;
    fn miosa_client_new_json(
        settings_json: *const c_char,
        out: *mut *mut miosa_client,
        err: *mut *mut miosa_error,
    ) -> miosa_status;
    fn miosa_client_settings_json(
        client: *const miosa_client,
        out_json: *mut *mut c_char,
        err: *mut *mut miosa_error,
    ) -> miosa_status;
    fn miosa_client_with_options(
        client: *const miosa_client,
        options_json: *const c_char,
        out: *mut *mut miosa_client,
        err: *mut *mut miosa_error,
    ) -> miosa_status;
    fn miosa_client_free(client: *mut miosa_client);
    fn miosa_error_free(error: *mut miosa_error);
    fn miosa_status_name(status: std::ffi::c_int) -> *const c_char;
    fn miosa_pager_new(
        client: *const miosa_client,
        op: *const c_char,
        args_json: *const c_char,
        params_json: *const c_char,
        out: *mut *mut miosa_pager,
        err: *mut *mut miosa_error,
    ) -> miosa_status;
    fn miosa_pager_next(
        pager: *mut miosa_pager,
        item_json: *mut *mut c_char,
        err: *mut *mut miosa_error,
    ) -> miosa_status;
    fn miosa_pager_free(pager: *mut miosa_pager);
    fn miosa_stream_open(
        client: *const miosa_client,
        op: *const c_char,
        args_json: *const c_char,
        params_json: *const c_char,
        out: *mut *mut miosa_event_stream,
        err: *mut *mut miosa_error,
    ) -> miosa_status;
    fn miosa_stream_next(
        stream: *mut miosa_event_stream,
        event: *mut *const miosa_event,
        err: *mut *mut miosa_error,
    ) -> miosa_status;
    fn miosa_stream_free(stream: *mut miosa_event_stream);
}

/// The one client every input uses (creating one per input would start a
/// runtime each time). Never freed: it stays reachable, so no leak report.
struct Shared(*mut miosa_client);
// SAFETY: a `miosa_client` is thread-safe by contract (see miosa.h).
unsafe impl Send for Shared {}
// SAFETY: as above.
unsafe impl Sync for Shared {}

fn client() -> *const miosa_client {
    static CLIENT: OnceLock<Shared> = OnceLock::new();
    CLIENT
        .get_or_init(|| {
            let key = c"msk_fuzz_0000000000000000";
            let options = miosa_options {
                struct_size: std::mem::size_of::<miosa_options>(),
                base_url: c"http://127.0.0.1:9/api/v1".as_ptr(),
                connect_timeout_ms: 500,
                timeout_ms: 500,
                operation_timeout_ms: 0,
                disable_retries: true,
                max_retries: 0,
                retry_base_delay_ms: 0,
                retry_max_delay_ms: 0,
                max_response_bytes: 0,
                max_download_bytes: 0,
                max_event_bytes: 0,
                allow_insecure_http: false,
                headers: ptr::null(),
                headers_len: 0,
            };
            let mut out = ptr::null_mut();
            let mut err = ptr::null_mut();
            // SAFETY: valid NUL-terminated strings and out-pointers.
            let status = unsafe { miosa_client_new(key.as_ptr(), &options, &mut out, &mut err) };
            assert_eq!(status, miosa_status::MIOSA_OK, "client");
            assert!(!out.is_null() && err.is_null());
            Shared(out)
        })
        .0
}

/// Operations that wait client-side by design (`wait_until_ready` polls a
/// dead server until its timeout, 30 s by default): not a finding, skipped.
fn waits_by_design(op: Option<&CString>) -> bool {
    op.is_some_and(|op| op.as_bytes() == b"sandboxes.wait_until_ready")
}

fn ptr_of(s: Option<&CString>) -> *const c_char {
    s.map_or(ptr::null(), |s| s.as_ptr())
}

/// Reads a NUL-terminated string the library handed out (it must be one).
///
/// # Safety
/// `p` is NULL or a live string from the library.
unsafe fn check_text(p: *const c_char) -> usize {
    if p.is_null() {
        return 0;
    }
    // SAFETY: forwarded contract.
    unsafe { CStr::from_ptr(p) }.to_bytes().len()
}

/// Checks the error contract of a call's outcome and frees the error.
///
/// # Safety
/// `err` is NULL or an error from the library, not yet freed.
unsafe fn settle(status: miosa_status, err: *mut miosa_error, had_slot: bool) {
    assert_ne!(
        status,
        miosa_status::MIOSA_ERR_INTERNAL,
        "a panic was caught at the boundary"
    );
    if status == miosa_status::MIOSA_OK || !had_slot {
        assert!(err.is_null(), "an error without a failure or a slot");
        return;
    }
    assert!(!err.is_null(), "a failure without its error");
    // SAFETY: a live error from the library.
    let e = unsafe { &*err };
    assert_eq!(e.status, status);
    // SAFETY: the error's strings are live until it is freed.
    unsafe {
        assert!(check_text(e.kind) > 0 && check_text(e.message) > 0);
        let name = CStr::from_ptr(miosa_status_name(status as i32));
        assert_eq!(CStr::from_ptr(e.kind), name);
        check_text(e.code);
        check_text(e.body);
        check_text(e.request_id);
        miosa_error_free(err);
    }
}

fuzz_target!(|input: &[u8]| {
    let Some((&selector, rest)) = input.split_first() else {
        return;
    };
    // Anything after a third NUL is ignored, as a C string would end there.
    let mut fields = rest
        .split(|&b| b == 0)
        .map(|field| CString::new(field).expect("split at NUL: no interior NUL"));
    let mut field = |i: u8| fields.next().filter(|_| selector & (0x08 << i) == 0);
    let (a, b, c) = (field(0), field(1), field(2));
    let (a, b, c) = (a.as_ref(), b.as_ref(), c.as_ref());
    if waits_by_design(a) {
        return;
    }
    let client = client();
    let with_slot = selector & 0x80 == 0;
    let mut err: *mut miosa_error = ptr::null_mut();
    let err_slot: *mut *mut miosa_error = if with_slot { &mut err } else { ptr::null_mut() };

    // SAFETY: every pointer is NULL or a live, NUL-terminated copy; every
    // out-pointer is valid; results are freed once with their own function.
    unsafe {
        match selector & 0x07 {
            // miosa_call(op, args, params)
            0 => {
                let mut out: *mut c_char = ptr::null_mut();
                let status =
                    miosa_call(client, ptr_of(a), ptr_of(b), ptr_of(c), &mut out, err_slot);
                assert_eq!(status == miosa_status::MIOSA_OK, !out.is_null());
                check_text(out);
                miosa_string_free(out);
                settle(status, err, with_slot);
            }
            // miosa_call_bytes(op, args, params)
            1 => {
                let mut out = miosa_bytes {
                    data: ptr::null_mut(),
                    len: 0,
                };
                let status =
                    miosa_call_bytes(client, ptr_of(a), ptr_of(b), ptr_of(c), &mut out, err_slot);
                if status != miosa_status::MIOSA_OK {
                    assert!(out.data.is_null() && out.len == 0);
                }
                miosa_bytes_free_checked(&mut out);
                settle(status, err, with_slot);
            }
            // miosa_call_upload(op, args, NULL params, data = the third field's bytes)
            2 => {
                let data = c.map_or(&[][..], |c| c.as_bytes());
                let mut out: *mut c_char = ptr::null_mut();
                let status = miosa_call_upload(
                    client,
                    ptr_of(a),
                    ptr_of(b),
                    ptr::null(),
                    if data.is_empty() {
                        ptr::null()
                    } else {
                        data.as_ptr()
                    },
                    data.len(),
                    &mut out,
                    err_slot,
                );
                assert_eq!(status == miosa_status::MIOSA_OK, !out.is_null());
                miosa_string_free(out);
                settle(status, err, with_slot);
            }
            // miosa_pager_new, then a few miosa_pager_next
            3 => {
                let mut pager: *mut miosa_pager = ptr::null_mut();
                let status = miosa_pager_new(
                    client,
                    ptr_of(a),
                    ptr_of(b),
                    ptr_of(c),
                    &mut pager,
                    err_slot,
                );
                assert_eq!(status == miosa_status::MIOSA_OK, !pager.is_null());
                settle(status, err, with_slot);
                for _ in 0..2 {
                    if pager.is_null() {
                        break;
                    }
                    let mut item: *mut c_char = ptr::null_mut();
                    let mut next_err: *mut miosa_error = ptr::null_mut();
                    let status = miosa_pager_next(pager, &mut item, &mut next_err);
                    check_text(item);
                    miosa_string_free(item);
                    settle(status, next_err, true);
                }
                miosa_pager_free(pager);
            }
            // miosa_stream_open, then one miosa_stream_next
            4 => {
                let mut stream: *mut miosa_event_stream = ptr::null_mut();
                let status = miosa_stream_open(
                    client,
                    ptr_of(a),
                    ptr_of(b),
                    ptr_of(c),
                    &mut stream,
                    err_slot,
                );
                assert_eq!(status == miosa_status::MIOSA_OK, !stream.is_null());
                settle(status, err, with_slot);
                if !stream.is_null() {
                    let mut event: *const miosa_event = ptr::null();
                    let mut next_err: *mut miosa_error = ptr::null_mut();
                    let status = miosa_stream_next(stream, &mut event, &mut next_err);
                    if !event.is_null() {
                        check_text((*event).data);
                    }
                    settle(status, next_err, true);
                    miosa_stream_free(stream);
                }
            }
            // miosa_request(method, path, body)
            5 => {
                let mut out: *mut c_char = ptr::null_mut();
                let status =
                    miosa_request(client, ptr_of(a), ptr_of(b), ptr_of(c), &mut out, err_slot);
                assert_eq!(status == miosa_status::MIOSA_OK, !out.is_null());
                miosa_string_free(out);
                settle(status, err, with_slot);
            }
            // miosa_client_new_json(settings = first field): any bytes as settings,
            // refused with a typed error or accepted; the settings then read back.
            7 => {
                let mut made: *mut miosa_client = ptr::null_mut();
                let status = miosa_client_new_json(ptr_of(a), &mut made, err_slot);
                assert_eq!(status == miosa_status::MIOSA_OK, !made.is_null());
                settle(status, err, with_slot);
                if !made.is_null() {
                    let mut out: *mut c_char = ptr::null_mut();
                    let mut read_err: *mut miosa_error = ptr::null_mut();
                    let status = miosa_client_settings_json(made, &mut out, &mut read_err);
                    assert_eq!(status, miosa_status::MIOSA_OK);
                    check_text(out);
                    miosa_string_free(out);
                    settle(status, read_err, true);
                }
                miosa_client_free(made);
            }
            // miosa_client_with_options(options = first field), then miosa_call(op = second, args = third)
            _ => {
                let mut derived: *mut miosa_client = ptr::null_mut();
                let status = miosa_client_with_options(client, ptr_of(a), &mut derived, err_slot);
                assert_eq!(status == miosa_status::MIOSA_OK, !derived.is_null());
                settle(status, err, with_slot);
                if !derived.is_null() && !waits_by_design(b) {
                    let mut out: *mut c_char = ptr::null_mut();
                    let mut call_err: *mut miosa_error = ptr::null_mut();
                    let status = miosa_call(
                        derived,
                        ptr_of(b),
                        ptr_of(c),
                        ptr::null(),
                        &mut out,
                        &mut call_err,
                    );
                    miosa_string_free(out);
                    settle(status, call_err, true);
                }
                miosa_client_free(derived);
            }
        }
    }
});

/// Frees a byte buffer with `miosa_bytes_free` and checks it was reset.
///
/// # Safety
/// `out` was filled by the library (or is `{NULL, 0}`).
unsafe fn miosa_bytes_free_checked(out: &mut miosa_bytes) {
    // SAFETY: forwarded contract.
    unsafe { miosa_bytes_free(out) };
    assert!(out.data.is_null() && out.len == 0);
}
