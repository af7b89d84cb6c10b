//! Any error body, with any status, yields an error with a message, and
//! formatting it never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    let Some((status_bytes, body)) = input.split_first_chunk::<2>() else {
        return;
    };
    let status = 400 + u16::from_le_bytes(*status_bytes) % 200;
    let err = miosa::Error::from_response(status, None, None, body);
    assert!(!err.message().is_empty());
    assert_eq!(err.status(), Some(status));
    let _ = format!("{err} {err:?}");
});
