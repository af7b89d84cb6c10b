//! Node.js binding of the MIOSA client: a small, generic native surface that
//! the JavaScript layer (`lib/`) turns into the namespaced API.
//!
//! Every operation goes through the core's table-driven dispatch
//! (`NativeClient.call`), so this crate holds no protocol logic: it converts
//! arguments, runs the core's futures on the client's own runtime, settles a
//! Promise from there, and maps errors. No napi tokio runtime is started: the
//! only threads are the core's, and nothing keeps the event loop alive once no
//! call is in flight (a pending Promise is the only reference it holds).
//!
//! Values cross the boundary as JSON text (parsed with `JSON.parse` on the JS
//! side, which is faster than building objects property by property through
//! N-API, and keeps integers integers) or as `Buffer`s for bytes.

mod cancel;
mod client;
mod errors;
mod pager;
mod reply;
mod stream;

use napi::bindgen_prelude::{Buffer, Either};
use napi_derive::napi;

pub use cancel::CancelToken;
pub use client::NativeClient;
pub use pager::NativePager;
pub use stream::{NativeStream, SseEvent};

/// Parses raw `text/event-stream` chunks with the core's SSE engine (for the
/// shared test vectors and for callers that read SSE from elsewhere).
#[napi(catch_unwind)]
pub fn parse_sse(chunks: Vec<Either<Buffer, String>>) -> Vec<SseEvent> {
    let owned: Vec<Vec<u8>> = chunks
        .into_iter()
        .map(|chunk| match chunk {
            Either::A(buf) => buf.to_vec(),
            Either::B(text) => text.into_bytes(),
        })
        .collect();
    miosa::sse::parse_chunks(owned.iter().map(Vec::as_slice))
        .into_iter()
        .map(SseEvent::from)
        .collect()
}

/// Verifies a webhook delivery (`X-MIOSA-Signature`, both schemes). Returns
/// `null` when the signature is valid, otherwise the refusal code
/// (`malformed_header`, `invalid_signature`, `timestamp_too_old`).
/// `now` (unix seconds) and `tolerance_seconds` default to the clock and 300 s.
#[napi(catch_unwind)]
pub fn verify_webhook(
    payload: Either<Buffer, String>,
    signature: String,
    secret: String,
    now: Option<i64>,
    tolerance_seconds: Option<u32>,
) -> Option<String> {
    let bytes: Vec<u8> = match payload {
        Either::A(buf) => buf.to_vec(),
        Either::B(text) => text.into_bytes(),
    };
    let result = match (now, tolerance_seconds) {
        (None, None) => miosa::webhooks::verify(&bytes, &signature, &secret),
        (now, tolerance) => {
            let now = now.unwrap_or_else(unix_now);
            let tolerance = tolerance.map_or(miosa::webhooks::DEFAULT_TOLERANCE, |s| {
                std::time::Duration::from_secs(u64::from(s))
            });
            miosa::webhooks::verify_at(&bytes, &signature, &secret, now, tolerance)
        }
    };
    result.err().map(|e| e.code().to_owned())
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Panics on purpose. The test suite calls it to prove that a Rust panic
/// reaches JavaScript as an ordinary error instead of killing the process:
/// at once, or (`in_background`) on another thread while it owns a pending
/// Promise, which must then reject instead of hanging.
#[napi(
    catch_unwind,
    js_name = "__panicForTests",
    ts_return_type = "Promise<void> | undefined"
)]
pub fn panic_for_tests<'env>(
    env: &'env napi::Env,
    message: String,
    in_background: Option<bool>,
) -> napi::Result<Option<napi::bindgen_prelude::Object<'env>>> {
    if in_background != Some(true) {
        panic!("{message}");
    }
    let (reply, promise) = reply::Reply::<()>::new(env)?;
    std::thread::spawn(move || {
        let _owned = reply;
        panic!("{message}");
    });
    Ok(Some(promise))
}
